/* stats: descriptive statistics and two-sample tests (stats.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "report/stats.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int stats_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y ? 1 : 0;
}

/* Sum in ascending order, so the mean does not depend on the order of the
 * iterations: two permutations of one sample have bit-identical means. */
double stats_mean(const double *x, size_t n)
{
	double *s, sum = 0;

	if (n == 0)
		return NAN;
	s = malloc(n * sizeof(*s));
	if (!s) {
		for (size_t i = 0; i < n; i++)
			sum += x[i];
		return sum / (double)n;
	}
	memcpy(s, x, n * sizeof(*s));
	qsort(s, n, sizeof(*s), stats_cmp_double);
	for (size_t i = 0; i < n; i++)
		sum += s[i];
	free(s);
	return sum / (double)n;
}

static double stats_var(const double *x, size_t n, double mean)
{
	double *d, ss = 0;

	if (n < 2)
		return 0;
	d = malloc(n * sizeof(*d));
	for (size_t i = 0; i < n; i++) {
		double v = (x[i] - mean) * (x[i] - mean);

		if (d)
			d[i] = v;
		else
			ss += v;
	}
	if (d) {
		qsort(d, n, sizeof(*d), stats_cmp_double);
		for (size_t i = 0; i < n; i++)
			ss += d[i];
		free(d);
	}
	return ss / (double)(n - 1);
}

double stats_stddev(const double *x, size_t n)
{
	return n < 2 ? 0 : sqrt(stats_var(x, n, stats_mean(x, n)));
}

double stats_cv(const double *x, size_t n)
{
	double m;

	if (n < 2)
		return NAN;
	m = stats_mean(x, n);
	return m == 0 ? NAN : stats_stddev(x, n) / fabs(m);
}

double stats_pct_change(double base, double cand)
{
	if (isnan(base) || isnan(cand))
		return NAN;
	if (base == 0)
		return cand == 0 ? 0 : copysign(INFINITY, cand);
	return 100.0 * (cand - base) / fabs(base);
}

/* One step of the modified Lentz recurrence with coefficient aa; returns
 * the factor the continued fraction is multiplied by. */
static double stats_lentz_step(double aa, double *c, double *d)
{
	const double tiny = 1e-300;

	*d = 1 + aa * *d;
	if (fabs(*d) < tiny)
		*d = tiny;
	*c = 1 + aa / *c;
	if (fabs(*c) < tiny)
		*c = tiny;
	*d = 1 / *d;
	return *d * *c;
}

/* Continued fraction of I_x(a, b) (modified Lentz), valid for
 * x < (a + 1) / (a + b + 2). */
static double stats_betacf(double a, double b, double x)
{
	const double tiny = 1e-300, eps = 1e-15;
	double qab = a + b, qap = a + 1, qam = a - 1, c = 1, d = 1 - qab * x / qap, h;

	if (fabs(d) < tiny)
		d = tiny;
	d = 1 / d;
	h = d;
	for (int m = 1; m <= 10000; m++) {
		int m2 = 2 * m;
		double aa = m * (b - m) * x / ((qam + m2) * (a + m2)), del;

		h *= stats_lentz_step(aa, &c, &d);
		aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
		del = stats_lentz_step(aa, &c, &d);
		h *= del;
		if (fabs(del - 1) < eps)
			break;
	}
	return h;
}

double stats_incbeta(double a, double b, double x)
{
	double bt;

	if (!(a > 0) || !(b > 0) || !(x >= 0) || !(x <= 1))
		return NAN;
	if (x == 0 || x == 1)
		return x;
	bt = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
	if (x < (a + 1) / (a + b + 2))
		return bt * stats_betacf(a, b, x) / a;
	return 1 - bt * stats_betacf(b, a, 1 - x) / b;
}

double stats_t_p2(double t, double df)
{
	double x;

	if (isnan(t) || !(df > 0))
		return NAN;
	if (isinf(t))
		return 0;
	x = df / (df + t * t);
	return stats_incbeta(df / 2, 0.5, x);
}

double stats_normal_p2(double z)
{
	return isnan(z) ? NAN : erfc(fabs(z) / M_SQRT2);
}

static void stats_test_init(struct stats_test *out, int need, const char *method)
{
	*out = (struct stats_test){ .ok = 0, .need = need, .stat = NAN, .df = NAN, .z = NAN, .p = NAN, .method = method };
}

int stats_welch(const double *a, size_t na, const double *b, size_t nb, struct stats_test *out)
{
	double ma, mb, sa, sb, se2;

	stats_test_init(out, STATS_WELCH_MIN_N, "welch");
	if (na < STATS_WELCH_MIN_N || nb < STATS_WELCH_MIN_N)
		return 0;
	ma = stats_mean(a, na);
	mb = stats_mean(b, nb);
	sa = stats_var(a, na, ma) / (double)na;
	sb = stats_var(b, nb, mb) / (double)nb;
	se2 = sa + sb;
	out->ok = 1;
	/* No spread on either side (to rounding): the difference, if any, is
	 * certain. */
	if (sqrt(se2) <= 1e-12 * fmax(fabs(ma), fabs(mb)) || se2 == 0) {
		out->df = (double)(na + nb - 2);
		if (ma == mb) {
			out->stat = 0;
			out->p = 1;
		} else {
			out->stat = copysign(INFINITY, mb - ma);
			out->p = 0;
		}
		return 1;
	}
	out->stat = (mb - ma) / sqrt(se2);
	out->df = se2 * se2 / (sa * sa / (double)(na - 1) + sb * sb / (double)(nb - 1));
	out->p = stats_t_p2(out->stat, out->df);
	return 1;
}

struct stats_ranked {
	double v;
	int side; /* 0: a, 1: b */
};

static int stats_cmp_ranked(const void *x, const void *y)
{
	const struct stats_ranked *p = x, *q = y;

	if (p->v != q->v)
		return p->v < q->v ? -1 : 1;
	return p->side - q->side;
}

/* Exact two-sided p of a rank sum r of m values out of N = 1..N without ties:
 * count the subsets of size m of {1..N} by their sums. */
static int stats_mwu_exact(size_t m, size_t N, double r, double *p)
{
	size_t maxs = m * N - m * (m - 1) / 2, cols = maxs + 1;
	double *c = calloc((m + 1) * cols, sizeof(*c)), total = 0, le = 0, ge = 0;

	if (!c)
		return -1;
	c[0] = 1;
	for (size_t i = 1; i <= N; i++)
		for (size_t j = (i < m ? i : m); j >= 1; j--)
			for (size_t s = maxs; s >= i; s--)
				c[j * cols + s] += c[(j - 1) * cols + s - i];
	for (size_t s = 0; s <= maxs; s++) {
		double k = c[m * cols + s];

		total += k;
		if ((double)s <= r + 1e-9)
			le += k;
		if ((double)s >= r - 1e-9)
			ge += k;
	}
	free(c);
	*p = fmin(1.0, 2.0 * fmin(le, ge) / total);
	return 0;
}

int stats_mwu(const double *a, size_t na, const double *b, size_t nb, struct stats_test *out)
{
	size_t n = na + nb;
	struct stats_ranked *r;
	double rank_b = 0, ties = 0, u, mu, var;

	stats_test_init(out, STATS_MWU_MIN_N, "normal");
	if (na < STATS_MWU_MIN_N || nb < STATS_MWU_MIN_N)
		return 0;
	r = malloc(n * sizeof(*r));
	if (!r)
		return -1;
	for (size_t i = 0; i < na; i++)
		r[i] = (struct stats_ranked){ a[i], 0 };
	for (size_t i = 0; i < nb; i++)
		r[na + i] = (struct stats_ranked){ b[i], 1 };
	qsort(r, n, sizeof(*r), stats_cmp_ranked);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		double mid, t;

		while (j < n && r[j].v == r[i].v)
			j++;
		mid = (double)(i + 1 + j) / 2.0; /* ranks i+1 .. j */
		t = (double)(j - i);
		ties += t * t * t - t;
		for (size_t k = i; k < j; k++)
			if (r[k].side)
				rank_b += mid;
		i = j;
	}
	free(r);
	u = rank_b - (double)nb * (double)(nb + 1) / 2.0;
	out->stat = u;
	out->ok = 1;
	if (ties == 0 && na <= STATS_MWU_EXACT_MAX_N && nb <= STATS_MWU_EXACT_MAX_N) {
		out->method = "exact";
		return stats_mwu_exact(nb, n, rank_b, &out->p) < 0 ? -1 : 1;
	}
	mu = (double)na * (double)nb / 2.0;
	var = (double)na * (double)nb / 12.0 * ((double)(n + 1) - ties / ((double)n * (double)(n - 1)));
	if (!(var > 0)) {
		out->z = 0;
		out->p = 1;
		return 1;
	}
	out->z = copysign(fmax(fabs(u - mu) - 0.5, 0), u - mu) / sqrt(var);
	out->p = stats_normal_p2(out->z);
	return 1;
}

double stats_percentile_sorted(const double *sorted, size_t n, double p)
{
	size_t rank;

	if (n == 0)
		return NAN;
	/* ceil(p / 100 * n) exactly, in parts per million as lib/hist.c does:
	 * in doubles 99.9 / 100 * 20000 is 19980.000000000004 */
	rank = (size_t)(((unsigned __int128)(uint64_t)llround(p * 1e4) * n + 999999) / 1000000);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

int stats_pool_hists(const json_t *const *objs, size_t n, struct hist_sum *out, char *err, size_t errlen)
{
	struct hist_sum *one = malloc(sizeof(*one));
	char herr[256];
	int ret = -1;

	hist_sum_init(out);
	if (!one) {
		snprintf(err, errlen, "out of memory pooling histograms");
		goto exit;
	}
	for (size_t i = 0; i < n; i++) {
		if (hist_sum_from_json(one, objs[i], herr, sizeof(herr)) < 0) {
			snprintf(err, errlen, "histogram %zu: %s", i, herr);
			goto exit;
		}
		hist_sum_merge(out, one);
	}
	ret = 0;
exit:
	free(one);
	return ret;
}

double stats_t_quantile(double q, double df)
{
	double lo = 0, hi = 1, mid;

	if (!(q > 0 && q < 1) || !(df > 0))
		return NAN;
	if (q == 0.5)
		return 0;
	if (q < 0.5)
		return -stats_t_quantile(1 - q, df);
	/* P(T > t) = p2 / 2 falls from 0.5 at 0: find hi with a tail below 1 - q */
	while (stats_t_p2(hi, df) / 2 > 1 - q && hi < 1e12)
		hi *= 2;
	for (int i = 0; i < 200 && hi - lo > 1e-10 * hi; i++) {
		mid = (lo + hi) / 2;
		if (stats_t_p2(mid, df) / 2 > 1 - q)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

/* se and Welch-Satterthwaite df of the difference of two means. */
static void stats_welch_se(double sa, size_t na, double sb, size_t nb, double *se, double *df)
{
	double va = sa * sa / (double)na, vb = sb * sb / (double)nb;

	*se = sqrt(va + vb);
	*df = (va + vb) > 0 ? (va + vb) * (va + vb) / (va * va / (double)(na - 1) + vb * vb / (double)(nb - 1))
			    : (double)(na + nb - 2);
}

int stats_welch_ci(const double *a, size_t na, const double *b, size_t nb, double conf, double *lo, double *hi)
{
	double ma, mb, se, df, t;

	if (na < STATS_WELCH_MIN_N || nb < STATS_WELCH_MIN_N)
		return 0;
	ma = stats_mean(a, na);
	mb = stats_mean(b, nb);
	stats_welch_se(stats_stddev(a, na), na, stats_stddev(b, nb), nb, &se, &df);
	t = se > 0 ? stats_t_quantile(1 - (1 - conf) / 2, df) : 0;
	*lo = mb - ma - t * se;
	*hi = mb - ma + t * se;
	return 1;
}

struct stats_indexed {
	double p;
	size_t i;
};

static int stats_cmp_indexed(const void *x, const void *y)
{
	const struct stats_indexed *a = x, *b = y;

	return (a->p > b->p) - (a->p < b->p);
}

int stats_bh_adjust(const double *p, size_t n, double *q)
{
	struct stats_indexed *s = malloc((n ? n : 1) * sizeof(*s));
	size_t m = 0;
	double run = 1;

	if (!s)
		return -1;
	for (size_t i = 0; i < n; i++) {
		q[i] = NAN;
		if (!isnan(p[i]))
			s[m++] = (struct stats_indexed){ p[i], i };
	}
	qsort(s, m, sizeof(*s), stats_cmp_indexed);
	for (size_t k = m; k-- > 0;) {
		double v = s[k].p * (double)m / (double)(k + 1);

		run = fmin(run, v);
		q[s[k].i] = fmin(run, 1);
	}
	free(s);
	return 0;
}

double stats_mde(double sa, size_t na, double sb, size_t nb, double alpha, double power)
{
	double se, df;

	if (na < STATS_WELCH_MIN_N || nb < STATS_WELCH_MIN_N)
		return NAN;
	stats_welch_se(sa, na, sb, nb, &se, &df);
	if (se == 0)
		return 0;
	return (stats_t_quantile(1 - alpha / 2, df) + stats_t_quantile(power, df)) * se;
}

size_t stats_n_needed(double cv, double pct, double alpha, double power, size_t max_n)
{
	if (!(pct > 0) || isnan(cv))
		return 0;
	for (size_t n = STATS_WELCH_MIN_N; n <= max_n; n++)
		if (stats_mde(cv, n, cv, n, alpha, power) * 100 <= pct)
			return n;
	return 0;
}
