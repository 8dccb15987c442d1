/* stats: descriptive statistics and two-sample tests over iterations, for
 * fl-report (report/compare.c).  Pure functions of their inputs: no global
 * state, no randomness, so every report is reproducible.
 *
 * Descriptive: mean, sample standard deviation (n - 1 in the denominator),
 * coefficient of variation (stddev / |mean|), percent change of a candidate
 * mean against a baseline mean.
 *
 * Tests (both two-sided; "a" is the baseline, "b" the candidate):
 *  - Welch's unequal-variance t-test.  t = (mean_b - mean_a) / se with
 *    se^2 = s_a^2/n_a + s_b^2/n_b, Welch-Satterthwaite degrees of freedom,
 *    p = I_{df/(df+t^2)}(df/2, 1/2) (the Student t tail through the
 *    regularized incomplete beta function, evaluated by its continued
 *    fraction with the modified Lentz method, as in Numerical Recipes).
 *    Needs n >= 2 on each side (STATS_WELCH_MIN_N).  When both sides have
 *    zero variance the test degenerates: equal means give p = 1, different
 *    means p = 0 (the difference is certain).
 *  - Mann-Whitney U (Wilcoxon rank-sum).  U of the candidate = rank sum of
 *    b - n_b (n_b + 1) / 2, ties get mid-ranks.  Without ties and with
 *    n_a, n_b <= STATS_MWU_EXACT_MAX_N the p-value is exact (the rank-sum
 *    distribution counted over all C(n_a + n_b, n_a) arrangements); else the
 *    normal approximation with the tie-corrected variance and a continuity
 *    correction of 1/2.  Needs n >= 3 on each side (STATS_MWU_MIN_N); note
 *    that with 3 vs 3 the smallest attainable exact p is 0.10, with 4 vs 4
 *    0.029, so at alpha 0.05 the test can only fire from 4 vs 4 on.
 */
#ifndef FL_STATS_H
#define FL_STATS_H

#include <stddef.h>
#include <jansson.h>

#include "lib/hist.h"

#define STATS_WELCH_MIN_N 2
#define STATS_MWU_MIN_N 3
#define STATS_MWU_EXACT_MAX_N 25

double stats_mean(const double *x, size_t n);
/* Sample standard deviation; 0 when n < 2. */
double stats_stddev(const double *x, size_t n);
/* stddev / |mean|; NAN when n < 2 or the mean is 0. */
double stats_cv(const double *x, size_t n);
/* 100 (cand - base) / |base|; 0 when both are 0, +-INFINITY when only the
 * baseline is 0. */
double stats_pct_change(double base, double cand);

/* Regularized incomplete beta function I_x(a, b), a, b > 0, 0 <= x <= 1;
 * NAN outside that domain. */
double stats_incbeta(double a, double b, double x);
/* Two-sided tail of Student's t with df degrees of freedom: P(|T| >= |t|). */
double stats_t_p2(double t, double df);
/* Two-sided tail of the standard normal: P(|Z| >= |z|). */
double stats_normal_p2(double z);

struct stats_test {
	int ok;             /* 0: too few values (p is NAN), see need */
	int need;           /* minimum n per side for this test */
	double stat;        /* Welch: t; Mann-Whitney: U of the candidate */
	double df;          /* Welch: degrees of freedom; MWU: NAN */
	double z;           /* MWU normal approximation: z; else NAN */
	double p;           /* two-sided p-value */
	const char *method; /* "welch", "exact", "normal" */
};

/* Welch's t-test of a (baseline) against b (candidate).  Returns out->ok. */
int stats_welch(const double *a, size_t na, const double *b, size_t nb, struct stats_test *out);
/* Mann-Whitney U of a against b.  Returns out->ok (-1 on allocation failure). */
int stats_mwu(const double *a, size_t na, const double *b, size_t nb, struct stats_test *out);

/* Quantile of Student's t: the t with P(T <= t) = q, 0 < q < 1, df > 0
 * (bisection on the tail above; to 1e-10 relative). */
double stats_t_quantile(double q, double df);

/* Welch's confidence interval at level conf (e.g. 0.95) for the difference
 * of means b - a.  1 with *lo and *hi set, 0 when a side has n < 2. */
int stats_welch_ci(const double *a, size_t na, const double *b, size_t nb, double conf, double *lo, double *hi);

/* Benjamini-Hochberg adjusted p-values (the step-up procedure as q-values:
 * q_(i) = min over j >= i of p_(j) m / j, capped at 1).  NAN entries are left
 * NAN and not counted in m.  0, or -1 on allocation failure. */
int stats_bh_adjust(const double *p, size_t n, double *q);

/* Minimum detectable effect of a two-sided Welch test at level alpha with
 * the given power (e.g. 0.8), for standard deviations sa, sb and iteration
 * counts na, nb: (t_{1-alpha/2,df} + t_{power,df}) se, with se and df as in
 * the test (Welch-Satterthwaite).  In the units of the data; NAN when a
 * side has n < 2.  With no spread at all, 0. */
double stats_mde(double sa, size_t na, double sb, size_t nb, double alpha, double power);
/* Iterations per side (equal on both sides) needed to detect a change of
 * pct percent of |mean| at noise cv (stddev / |mean|, the larger side's),
 * level alpha and the given power; 0 when more than max_n would be needed. */
size_t stats_n_needed(double cv, double pct, double alpha, double power, size_t max_n);

/* Nearest-rank percentile (0 < p <= 100) of n raw values sorted ascending:
 * the value of rank ceil(p/100 n), computed exactly (p in steps of 1e-4),
 * the definition lib/hist.h approximates. */
double stats_percentile_sorted(const double *sorted, size_t n, double p);

/* Pool n histograms given as result-file JSON objects (hist.h format) into
 * out, exactly (bin counts add).  0, or -1 with err naming the index. */
int stats_pool_hists(const json_t *const *objs, size_t n, struct hist_sum *out, char *err, size_t errlen);

#endif
