/* sequential: the statistics of a sequential A/B, one that adds iterations
 * (A, B, A, B, ...) only until each headline metric is decided: changed
 * ("significant") or shown to be within a margin ("equivalent").  Used by
 * `fl-report --sequential` (report/decide.c) and bench/vm/ab.sh --until
 * decided; docs/report.md, "Sequential A/B", says why this procedure.
 *
 * A group-sequential design with Lan-DeMets alpha spending.  Looks come
 * after each pair, at n = n_min .. n_max iterations per side, information
 * fraction t = n / n_max.  The spending function alpha(t) says how much of
 * the (two-sided) level is used by time t:
 *   Pocock type        alpha ln(1 + (e - 1) t)
 *   O'Brien-Fleming    2 * 2 (1 - Phi(z_{1-alpha/4} / sqrt t)), i.e. each
 *   type               side spends alpha/2 by the one-sided Lan-DeMets
 *                      O'Brien-Fleming function (as ldbounds and gsDesign
 *                      do: 4.877, 3.357, 2.680, 2.290, 2.031 for 5 looks)
 * The symmetric two-sided boundaries z_k on the normal scale follow from
 * the joint law of the look statistics (Brownian motion with independent
 * increments), by recursive numerical integration (Armitage, McPherson and
 * Rowe 1969; Jennison and Turnbull 2000, ch. 19): z_k is the bound that
 * makes P(no earlier crossing, |Z_k| >= z_k) = alpha(t_k) - alpha(t_{k-1}).
 *
 * Those are the textbook boundaries for a known variance.  Here the
 * variance is estimated from a handful of iterations (df 1 at the first
 * look), and the t statistics of successive looks are less correlated than
 * the z's: mapping z_k through the t distribution (the "significance level
 * approach", Jennison and Turnbull 2000, 3.8) overshot alpha in simulation
 * (0.05 -> 0.058 with Hsu's df, 0.065 with Welch's, when one side barely
 * varies).  So the boundaries c_k used are on the t scale and calibrated by
 * simulation (fixed seed, SEQUENTIAL_PATHS paths) of the case that was
 * least favourable: one side constant, where Welch's statistic is a
 * one-sample t with k - 1 df.  Each look compares Welch's statistic with
 * c_k using Hsu's conservative df = k - 1 (Welch's df is liberal far in the
 * tail at 2..5 iterations).
 *
 * At each look the interval  diff +- c_k se  is a repeated confidence
 * interval: all of them hold the true difference at once with probability
 * 1 - alpha or more.  A metric is
 *   significant  when |t| >= c_k (the interval excludes 0), and
 *   equivalent   when the interval lies inside +-margin percent of the
 *                baseline mean (a confidence-sequence form of the two
 *                one-sided tests);
 * the first look that decides wins and the verdict is kept.  So over all
 * looks P(significant | no change) <= alpha and P(equivalent | the change
 * is margin or more) <= alpha, both measured by simulation in
 * tests/test_stats.c.  Deterministic: the simulation has a fixed seed. */
#ifndef FL_SEQUENTIAL_H
#define FL_SEQUENTIAL_H

#include <stddef.h>
#include <stdint.h>

/* The longest design; more is refused. */
#define SEQUENTIAL_MAX_N 100
/* The simulation behind the t-scale boundaries: paths and seed. */
#define SEQUENTIAL_PATHS (1u << 18)
#define SEQUENTIAL_SEED 20250601u

enum sequential_spending { SEQUENTIAL_POCOCK, SEQUENTIAL_OBF };
extern const char *const sequential_spending_names[]; /* "pocock", "obf" */

enum sequential_verdict { SEQUENTIAL_NA, SEQUENTIAL_UNDECIDED, SEQUENTIAL_SIGNIFICANT, SEQUENTIAL_EQUIVALENT };
extern const char *const sequential_verdict_names[]; /* "n/a", "undecided", "significant", "equivalent" */

/* Two-sided level spent by information fraction t (0 <= t <= 1). */
double sequential_spent(enum sequential_spending s, double alpha, double t);

/* Symmetric two-sided boundaries z[0..n-1] on the normal scale for looks at
 * information fractions t[0..n-1] (increasing, in (0, 1]); INFINITY where
 * a look spends nothing.  0, or -1 on bad arguments or allocation failure. */
int sequential_bounds(enum sequential_spending s, double alpha, const double *t, size_t n, double *z);
/* P(|Z_k| >= z_k at some look) under no change, for given boundaries
 * (checks sequential_bounds, and classical designs, in the tests).  NAN on
 * bad arguments or allocation failure. */
double sequential_crossing(const double *t, const double *z, size_t n);
/* Boundaries c[n - n_min] for looks after n = n_min .. n_max values of one
 * path, by simulating `paths` paths of N(0, 1) values (seed): each look's
 * bound is set so that the paths that cross first there are the share the
 * spending function gives it.  The statistic is the one-sample t,
 * |mean| sqrt(n) / sd (df n - 1), or with known_variance the z,
 * |mean| sqrt(n).  INFINITY where a look spends nothing.  0, or -1 on bad
 * arguments (paths < 1000) or allocation failure. */
int sequential_mc_bounds(enum sequential_spending s, double alpha, size_t n_min, size_t n_max, int known_variance,
			 size_t paths, uint64_t seed, double *c);

struct sequential_design {
	enum sequential_spending spending;
	double alpha;        /* per metric (after any multiplicity correction) */
	size_t n_min, n_max; /* looks after n_min .. n_max iterations per side */
	double margin_pct;   /* equivalence margin, % of the baseline mean; 0: no equivalence */
	double *c;           /* c[n - n_min]: the t-scale bound of the look after n iterations */
	double *z;           /* the same look's normal-theory bound (known variance), for reference */
	double *p_nominal;   /* the two-sided t tail (df n - 1) at c: the p the look needs */
};
/* 0, or -1 on bad arguments (alpha outside (0, 0.5), n_min < 2, n_max <
 * n_min or above SEQUENTIAL_MAX_N, margin < 0) or allocation failure. */
int sequential_design_init(struct sequential_design *d, enum sequential_spending s, double alpha, size_t n_min,
			   size_t n_max, double margin_pct);
void sequential_design_free(struct sequential_design *d);

struct sequential_result {
	enum sequential_verdict verdict;
	size_t n;           /* iterations per side of the deciding look, else of the last look (0: none yet) */
	size_t looks;       /* looks made */
	double change_pct;  /* at that look: (mean b - mean a) / |mean a| */
	double lo_pct, hi_pct; /* the repeated confidence interval of the change, % of |mean a| */
	double t, t_crit;   /* Welch's statistic and the look's bound c */
	double p, p_nominal, df; /* p of t at df (n - 1), and the p the look needs */
};
/* Look after k = n_min .. min(na, nb, n_max) iterations at the first k
 * values of a (baseline) and b (candidate), in order; the first look that
 * decides gives the verdict.  NA when a side has no value at all. */
void sequential_decide(const struct sequential_design *d, const double *a, size_t na, const double *b, size_t nb,
		       struct sequential_result *out);

#endif
