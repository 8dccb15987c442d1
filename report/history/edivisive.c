/* edivisive: E-divisive means with a permutation test (edivisive.h). */
#include "report/history/edivisive.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void edivisive_defaults(struct edivisive_opts *o)
{
	*o = (struct edivisive_opts){ .min_size = 5, .permutations = 199, .sig_level = 0.01, .alpha = 1.0,
				      .seed = 0x66617574ull, .max_points = 0 };
}

static inline double edivisive_dist(double a, double b, double alpha)
{
	double d = fabs(a - b);

	return alpha == 1.0 ? d : pow(d, alpha);
}

/* Scratch of one detection: the row sums and the permuted copy. */
struct edivisive_work {
	double *before; /* before[t] = sum_{i<t} d(x_i, x_t) within the segment */
	double *after;  /* after[t]  = sum_{j>t} d(x_t, x_j) */
	double *perm;
	uint64_t rng;
};

/* The best split of x[0..n): tau (0 when none) and Q. */
static size_t edivisive_scan(const double *x, size_t n, size_t min_size, double alpha, double *before,
			     double *after, double *q_out)
{
	double wl = 0, wr = 0, cross = 0, best = -INFINITY;
	size_t tau = 0;

	*q_out = NAN;
	if (min_size < 2)
		min_size = 2;
	if (n < 2 * min_size)
		return 0;
	memset(before, 0, n * sizeof(*before));
	memset(after, 0, n * sizeof(*after));
	for (size_t i = 0; i < n; i++) {
		double xi = x[i], row = 0;

		for (size_t j = i + 1; j < n; j++) {
			double d = edivisive_dist(xi, x[j], alpha);

			row += d;
			before[j] += d;
		}
		after[i] = row;
		wr += row;
	}
	/* left = [0, t), right = [t, n); move x_t from right to left */
	for (size_t t = 0; t + min_size <= n; t++) {
		if (t >= min_size) {
			double m = (double)t, k = (double)(n - t);
			double q = (m * k / (double)n) *
				   (2.0 * cross / (m * k) - wl / (m * (m - 1) / 2) - wr / (k * (k - 1) / 2));

			if (q > best) {
				best = q;
				tau = t;
			}
		}
		wl += before[t];
		wr -= after[t];
		cross += after[t] - before[t];
	}
	*q_out = best;
	return tau;
}

double edivisive_stat(const double *x, size_t n, size_t tau, double alpha)
{
	double wl = 0, wr = 0, cross = 0, m = (double)tau, k = (double)(n - tau);

	if (tau < 2 || n < tau + 2)
		return NAN;
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			double d = edivisive_dist(x[i], x[j], alpha);

			if (j < tau)
				wl += d;
			else if (i >= tau)
				wr += d;
			else
				cross += d;
		}
	return (m * k / (double)n) * (2.0 * cross / (m * k) - wl / (m * (m - 1) / 2) - wr / (k * (k - 1) / 2));
}

size_t edivisive_best(const double *x, size_t n, size_t min_size, double alpha, double *q)
{
	double *w = malloc(2 * (n ? n : 1) * sizeof(*w));
	size_t tau;

	if (!w) {
		*q = NAN;
		return 0;
	}
	tau = edivisive_scan(x, n, min_size, alpha, w, w + n, q);
	free(w);
	return tau;
}

static uint64_t edivisive_rand(uint64_t *s) /* splitmix64 */
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The largest best-split Q over the segments bounded by b[0..nb) (b[0] = 0,
 * b[nb-1] = n) of y; with where, the segment and tau of it. */
static double edivisive_max(const double *y, const size_t *b, size_t nb, const struct edivisive_opts *o,
			    struct edivisive_work *w, size_t *seg, size_t *tau)
{
	double best = -INFINITY;

	for (size_t s = 0; s + 1 < nb; s++) {
		double q;
		size_t t = edivisive_scan(y + b[s], b[s + 1] - b[s], o->min_size, o->alpha, w->before, w->after, &q);

		if (t && q > best) {
			best = q;
			if (seg) {
				*seg = s;
				*tau = b[s] + t;
			}
		}
	}
	return best;
}

/* Permutation test of the observed q over the segments b; p-value. */
static double edivisive_ptest(const double *x, size_t n, const size_t *b, size_t nb, double q,
			      const struct edivisive_opts *o, struct edivisive_work *w, unsigned *ran)
{
	unsigned over = 0, r;

	memcpy(w->perm, x, n * sizeof(*x));
	for (r = 0; r < o->permutations; r++) {
		for (size_t s = 0; s + 1 < nb; s++) /* shuffle each segment within itself */
			for (size_t i = b[s + 1] - 1; i > b[s]; i--) {
				size_t j = b[s] + (size_t)(((unsigned __int128)edivisive_rand(&w->rng) *
							    (i - b[s] + 1)) >> 64);
				double t = w->perm[i];

				w->perm[i] = w->perm[j];
				w->perm[j] = t;
			}
		if (edivisive_max(w->perm, b, nb, o, w, NULL, NULL) >= q)
			over++;
		if ((double)(over + 1) / (double)(o->permutations + 1) > o->sig_level) {
			r++;
			break;
		}
	}
	*ran = r;
	return (double)(over + 1) / (double)(r + 1);
}

int edivisive_detect(const double *x, size_t n, const struct edivisive_opts *o, struct edivisive_point *out,
		     size_t max)
{
	struct edivisive_work w = { .rng = o->seed };
	size_t *b = NULL, nb = 2, limit = o->max_points ? o->max_points : n;
	int found = 0;

	if (n < 2 * (o->min_size < 2 ? 2 : o->min_size))
		return 0;
	w.before = malloc(n * sizeof(double));
	w.after = malloc(n * sizeof(double));
	w.perm = malloc(n * sizeof(double));
	b = malloc((n + 1) * sizeof(*b));
	if (!w.before || !w.after || !w.perm || !b) {
		found = -1;
		errno = ENOMEM;
		goto exit;
	}
	b[0] = 0;
	b[1] = n;
	while ((size_t)found < max && (size_t)found < limit) {
		size_t seg = 0, tau = 0;
		unsigned ran;
		double q = edivisive_max(x, b, nb, o, &w, &seg, &tau), p;

		if (!tau || !(q > 0))
			break;
		p = edivisive_ptest(x, n, b, nb, q, o, &w, &ran);
		if (p > o->sig_level)
			break;
		memmove(b + seg + 2, b + seg + 1, (nb - seg - 1) * sizeof(*b));
		b[seg + 1] = tau;
		nb++;
		out[found++] = (struct edivisive_point){ .index = tau, .q = q, .p_value = p, .permutations = ran };
	}
	/* sort by index (insertion: few points) */
	for (int i = 1; i < found; i++)
		for (int j = i; j > 0 && out[j - 1].index > out[j].index; j--) {
			struct edivisive_point t = out[j];

			out[j] = out[j - 1];
			out[j - 1] = t;
		}
exit:
	free(w.before);
	free(w.after);
	free(w.perm);
	free(b);
	return found;
}
