/* edivisive: change points in a series by E-divisive means (Matteson and
 * James, "A Nonparametric Approach for Multiple Change Point Analysis of
 * Multivariate Data", JASA 109(505), 2014), univariate, with the paper's
 * permutation test for significance and recursive bisection.
 *
 * For a segment x_1..x_n and a split tau (left x_1..x_tau, right the rest)
 * the scaled energy statistic, with alpha in (0, 2) (1 here by default), is
 *   Q(tau) = (m (n-m) / n) * ( 2/(m (n-m)) sum_{i<=tau<j} |x_i-x_j|^alpha
 *                             - 1/C(m,2)   sum_{i<j<=tau} |x_i-x_j|^alpha
 *                             - 1/C(n-m,2) sum_{tau<i<j} |x_i-x_j|^alpha ),  m = tau,
 * computed for every tau of a segment in O(n^2) from row sums.  Each step
 * takes the segment (between the change points found so far) whose best
 * split has the largest Q; that Q is tested against R permutations of the
 * data, each segment shuffled within itself (the paper's scheme), the
 * statistic of a permutation being the largest best-split Q over all its
 * segments: p = (1 + #{perm >= observed}) / (1 + R).  The search stops at
 * the first split with p > sig_level.  A permutation run stops early once
 * the exceedances alone already make p > sig_level (the split is then not
 * significant whatever the remaining permutations give; p is reported as
 * computed so far, a lower bound).  The random numbers come from a fixed
 * seed: the same series gives the same change points and p-values. */
#ifndef FL_HISTORY_EDIVISIVE_H
#define FL_HISTORY_EDIVISIVE_H

#include <stddef.h>
#include <stdint.h>

struct edivisive_opts {
	size_t min_size;     /* points per segment, >= 2 (default 5) */
	unsigned permutations; /* R (default 199) */
	double sig_level;    /* a split is kept when p <= sig_level (default 0.01) */
	double alpha;        /* exponent of the distance, (0, 2) (default 1) */
	uint64_t seed;       /* of the permutations */
	size_t max_points;   /* at most this many change points (0: no limit) */
};

struct edivisive_point {
	size_t index;        /* first point of the new segment (1..n-1) */
	double q;            /* the observed statistic */
	double p_value;
	unsigned permutations; /* permutations run (fewer than R: stopped early) */
};

/* The defaults above. */
void edivisive_defaults(struct edivisive_opts *o);

/* Q(tau) of x[0..n), tau = size of the left part; NAN when a side has
 * fewer than 2 points. */
double edivisive_stat(const double *x, size_t n, size_t tau, double alpha);

/* The split of x[0..n) with the largest Q among sides of at least
 * min_size points: its tau (0 when none fits) and Q in *q. */
size_t edivisive_best(const double *x, size_t n, size_t min_size, double alpha, double *q);

/* Change points of x[0..n), sorted by index, into out (room for max);
 * their number, or -1 (out of memory, errno set). */
int edivisive_detect(const double *x, size_t n, const struct edivisive_opts *o, struct edivisive_point *out,
		     size_t max);

#endif
