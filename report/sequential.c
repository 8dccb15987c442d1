/* sequential: group-sequential boundaries and decisions (sequential.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "report/sequential.h"
#include "report/stats.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const char *const sequential_spending_names[] = { "pocock", "obf" };
const char *const sequential_verdict_names[] = { "n/a", "undecided", "significant", "equivalent" };

/* The density grid stops this many standard deviations out: beyond, the
 * density is below 1e-22 of its peak. */
#define SEQUENTIAL_SD_SPAN 10.0
#define SEQUENTIAL_GRID_MAX 20001

static double sequential_upper(double x) /* P(Z >= x) */
{
	return 0.5 * erfc(x / M_SQRT2);
}

/* The z with P(|Z| >= z) = p2, by bisection on erfc (exact in the far
 * tail, where 1 - p2/2 would round to 1). */
static double sequential_z2(double p2)
{
	double lo = 0, hi = 40;

	if (!(p2 > 0))
		return INFINITY;
	if (p2 >= 1)
		return 0;
	for (int i = 0; i < 200 && hi - lo > 1e-13; i++) {
		double mid = (lo + hi) / 2;

		if (2 * sequential_upper(mid) > p2)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

double sequential_spent(enum sequential_spending s, double alpha, double t)
{
	if (!(t > 0))
		return 0;
	if (t > 1)
		t = 1;
	if (s == SEQUENTIAL_POCOCK)
		return alpha * log1p((M_E - 1) * t);
	/* each side alpha/2 by the one-sided O'Brien-Fleming type function */
	return 4 * sequential_upper(sequential_z2(alpha / 2) / sqrt(t));
}

/* The density of the score S_k = Z_k sqrt(t_k) on the paths that have not
 * crossed yet, on a uniform grid with Simpson weights. */
struct sequential_grid {
	double *x, *f, *w;
	size_t g;
};

static void sequential_grid_free(struct sequential_grid *gr)
{
	free(gr->x);
	free(gr->f);
	free(gr->w);
	*gr = (struct sequential_grid){ 0 };
}

/* A grid over [-b, b] with step at most h (odd count, Simpson weights). */
static int sequential_grid_make(struct sequential_grid *gr, double b, double h)
{
	size_t half = (size_t)ceil(b / h);
	double step;

	if (half < 16)
		half = 16;
	if (half > SEQUENTIAL_GRID_MAX / 2)
		half = SEQUENTIAL_GRID_MAX / 2;
	gr->g = 2 * half + 1;
	gr->x = malloc(gr->g * sizeof(double));
	gr->f = calloc(gr->g, sizeof(double));
	gr->w = malloc(gr->g * sizeof(double));
	if (!gr->x || !gr->f || !gr->w)
		return -1;
	step = b / (double)half;
	for (size_t i = 0; i < gr->g; i++) {
		gr->x[i] = -b + step * (double)i;
		gr->w[i] = step / 3 * (i == 0 || i == gr->g - 1 ? 1 : i % 2 ? 4 : 2);
	}
	return 0;
}

/* P(not crossed before, |S| >= b now) after an increment of sd sigma. */
static double sequential_cross_at(const struct sequential_grid *gr, double b, double sigma)
{
	double sum = 0;

	for (size_t i = 0; i < gr->g; i++)
		sum += gr->w[i] * gr->f[i] *
		       (sequential_upper((b - gr->x[i]) / sigma) + sequential_upper((b + gr->x[i]) / sigma));
	return sum;
}

/* The grid step for look k: fine against the density's own spread and
 * against the next increment's kernel. */
static double sequential_step(const double *t, size_t n, size_t k)
{
	double h = sqrt(t[k]) / 16;

	if (k + 1 < n)
		h = fmin(h, sqrt(t[k + 1] - t[k]) / 6);
	return h;
}

/* Move the density to look k (sd sigma of the increment) on [-b, b]. */
static int sequential_propagate(struct sequential_grid *gr, const double *t, size_t n, size_t k, double b)
{
	struct sequential_grid nw = { 0 };
	double sigma = sqrt(t[k] - t[k - 1]), norm = 1 / (sigma * sqrt(2 * M_PI));

	b = fmin(b, SEQUENTIAL_SD_SPAN * sqrt(t[k]));
	if (sequential_grid_make(&nw, b, sequential_step(t, n, k)) < 0) {
		sequential_grid_free(&nw);
		return -1;
	}
	for (size_t i = 0; i < nw.g; i++) {
		double sum = 0;

		for (size_t j = 0; j < gr->g; j++) {
			double u = (nw.x[i] - gr->x[j]) / sigma;

			sum += gr->w[j] * gr->f[j] * exp(-0.5 * u * u);
		}
		nw.f[i] = sum * norm;
	}
	sequential_grid_free(gr);
	*gr = nw;
	return 0;
}

static int sequential_args_ok(const double *t, size_t n)
{
	if (!t || n == 0 || n > 10 * SEQUENTIAL_MAX_N)
		return 0;
	for (size_t k = 0; k < n; k++)
		if (!(t[k] > (k ? t[k - 1] : 0)) || !(t[k] <= 1))
			return 0;
	return 1;
}

/* The walk shared by sequential_bounds (z computed, spend given) and
 * sequential_crossing (z given): returns the total crossing probability,
 * or NAN. */
static double sequential_walk(enum sequential_spending s, double alpha, const double *t, size_t n, double *z,
			      int solve)
{
	struct sequential_grid gr = { 0 };
	double total = 0, spent = 0;

	for (size_t k = 0; k < n; k++) {
		double inc = solve ? sequential_spent(s, alpha, t[k]) - spent : 0, b, cross;

		if (k == 0) {
			if (solve)
				z[0] = sequential_z2(inc);
			cross = 2 * sequential_upper(z[0]);
		} else if (solve) {
			double lo = 0, hi = SEQUENTIAL_SD_SPAN * 4 * sqrt(t[k]), sigma = sqrt(t[k] - t[k - 1]);

			/* the crossing probability falls as the bound rises */
			for (int i = 0; inc > 0 && i < 200 && hi - lo > 1e-12; i++) {
				double mid = (lo + hi) / 2;

				if (sequential_cross_at(&gr, mid, sigma) > inc)
					lo = mid;
				else
					hi = mid;
			}
			z[k] = inc > 0 ? (lo + hi) / 2 / sqrt(t[k]) : INFINITY;
			cross = isinf(z[k]) ? 0 : sequential_cross_at(&gr, z[k] * sqrt(t[k]), sigma);
		} else {
			cross = isinf(z[k]) ? 0 : sequential_cross_at(&gr, z[k] * sqrt(t[k]), sqrt(t[k] - t[k - 1]));
		}
		total += cross;
		spent += inc;
		if (k + 1 == n)
			break;
		b = z[k] * sqrt(t[k]);
		if (k == 0) {
			double sd = sqrt(t[0]);

			if (sequential_grid_make(&gr, fmin(b, SEQUENTIAL_SD_SPAN * sd), sequential_step(t, n, 0)) < 0)
				goto fail;
			for (size_t i = 0; i < gr.g; i++)
				gr.f[i] = exp(-0.5 * gr.x[i] * gr.x[i] / t[0]) / (sd * sqrt(2 * M_PI));
		} else if (sequential_propagate(&gr, t, n, k, b) < 0) {
			goto fail;
		}
	}
	sequential_grid_free(&gr);
	return total;
fail:
	sequential_grid_free(&gr);
	return NAN;
}

int sequential_bounds(enum sequential_spending s, double alpha, const double *t, size_t n, double *z)
{
	if (!(alpha > 0 && alpha < 1) || !z || !sequential_args_ok(t, n))
		return -1;
	return isnan(sequential_walk(s, alpha, t, n, z, 1)) ? -1 : 0;
}

double sequential_crossing(const double *t, const double *z, size_t n)
{
	double *zz;
	double p;

	if (!z || !sequential_args_ok(t, n))
		return NAN;
	zz = malloc(n * sizeof(*zz));
	if (!zz)
		return NAN;
	memcpy(zz, z, n * sizeof(*zz));
	p = sequential_walk(SEQUENTIAL_POCOCK, 0, t, n, zz, 0);
	free(zz);
	return p;
}

/* ---- t-scale boundaries by simulation ---------------------------------- */

struct sequential_rng {
	uint64_t state;
};

static double sequential_normal(struct sequential_rng *r) /* splitmix64, Box-Muller */
{
	double u[2];

	for (int i = 0; i < 2; i++) {
		uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		u[i] = ((double)((z ^ (z >> 31)) >> 11) + 0.5) / 9007199254740992.0;
	}
	return sqrt(-2.0 * log(u[0])) * cos(2.0 * M_PI * u[1]);
}

/* The k-th largest (k >= 1) of v[0..n-1] (reorders v; quickselect). */
static double sequential_kth_largest(double *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1, want = k - 1;

	while (lo < hi) {
		double pivot = v[lo + (hi - lo) / 2];
		size_t i = lo, j = hi;

		while (i <= j) {
			while (v[i] > pivot)
				i++;
			while (v[j] < pivot)
				j--;
			if (i <= j) {
				double tmp = v[i];

				v[i] = v[j];
				v[j] = tmp;
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (want <= j)
			hi = j;
		else if (want >= i)
			lo = i;
		else
			return v[want];
	}
	return v[want];
}

int sequential_mc_bounds(enum sequential_spending s, double alpha, size_t n_min, size_t n_max, int known_variance,
			 size_t paths, uint64_t seed, double *c)
{
	struct sequential_rng rng = { seed };
	double *mean = calloc(paths ? paths : 1, sizeof(double)), *m2 = calloc(paths ? paths : 1, sizeof(double));
	double *stat = malloc((paths ? paths : 1) * sizeof(double));
	unsigned char *alive = malloc(paths ? paths : 1);
	size_t crossed = 0;
	int ret = -1;

	if (!mean || !m2 || !stat || !alive || !(alpha > 0 && alpha < 1) || n_min < 2 || n_max < n_min ||
	    n_max > SEQUENTIAL_MAX_N || paths < 1000)
		goto exit;
	memset(alive, 1, paths);
	for (size_t n = 1; n <= n_max; n++) {
		size_t m = 0, target, need;

		/* one more value on every path (Welford), then |T| of those alive */
		for (size_t p = 0; p < paths; p++) {
			double x = sequential_normal(&rng), d = x - mean[p];

			mean[p] += d / (double)n;
			m2[p] += d * (x - mean[p]);
			if (n >= n_min && alive[p])
				stat[m++] = fabs(mean[p]) * sqrt((double)n) /
					    (known_variance ? 1 : sqrt(m2[p] / (double)(n - 1)));
		}
		if (n < n_min)
			continue;
		target = (size_t)llround(sequential_spent(s, alpha, (double)n / (double)n_max) * (double)paths);
		need = target > crossed ? target - crossed : 0;
		if (need == 0) {
			c[n - n_min] = INFINITY;
			continue;
		}
		if (need >= m) {
			c[n - n_min] = 0;
		} else {
			double above = sequential_kth_largest(stat, m, need);
			double below = sequential_kth_largest(stat, m, need + 1);

			c[n - n_min] = (above + below) / 2;
		}
		for (size_t p = 0; p < paths; p++)
			if (alive[p] && fabs(mean[p]) * sqrt((double)n) /
						     (known_variance ? 1 : sqrt(m2[p] / (double)(n - 1))) >=
					     c[n - n_min]) {
				alive[p] = 0;
				crossed++;
			}
	}
	ret = 0;
exit:
	free(mean);
	free(m2);
	free(stat);
	free(alive);
	return ret;
}

/* ---- the design and the looks ------------------------------------------ */

int sequential_design_init(struct sequential_design *d, enum sequential_spending s, double alpha, size_t n_min,
			   size_t n_max, double margin_pct)
{
	size_t looks;
	double *t = NULL;
	int ret = -1;

	*d = (struct sequential_design){ .spending = s, .alpha = alpha, .n_min = n_min, .n_max = n_max,
					 .margin_pct = margin_pct };
	if (!(alpha > 0 && alpha < 0.5) || n_min < STATS_WELCH_MIN_N || n_max < n_min || n_max > SEQUENTIAL_MAX_N ||
	    !(margin_pct >= 0) || (s != SEQUENTIAL_POCOCK && s != SEQUENTIAL_OBF))
		return -1;
	looks = n_max - n_min + 1;
	t = malloc(looks * sizeof(*t));
	d->z = malloc(looks * sizeof(*d->z));
	d->c = malloc(looks * sizeof(*d->c));
	d->p_nominal = malloc(looks * sizeof(*d->p_nominal));
	if (!t || !d->z || !d->c || !d->p_nominal)
		goto exit;
	for (size_t i = 0; i < looks; i++)
		t[i] = (double)(n_min + i) / (double)n_max;
	if (sequential_bounds(s, alpha, t, looks, d->z) < 0 ||
	    sequential_mc_bounds(s, alpha, n_min, n_max, 0, SEQUENTIAL_PATHS, SEQUENTIAL_SEED, d->c) < 0)
		goto exit;
	for (size_t i = 0; i < looks; i++)
		d->p_nominal[i] = isinf(d->c[i]) ? 0 : stats_t_p2(d->c[i], (double)(n_min + i - 1));
	ret = 0;
exit:
	free(t);
	if (ret < 0)
		sequential_design_free(d);
	return ret;
}

void sequential_design_free(struct sequential_design *d)
{
	free(d->z);
	free(d->c);
	free(d->p_nominal);
	d->z = d->c = d->p_nominal = NULL;
}

/* One look at the first k values of each side: Welch's statistic against
 * the t-scale bound c_k (df k - 1, Hsu's conservative choice). */
static enum sequential_verdict sequential_look(const struct sequential_design *d, const double *a, const double *b,
					       size_t k, struct sequential_result *r)
{
	struct stats_test w;
	double ma = stats_mean(a, k), mb = stats_mean(b, k), sa = stats_stddev(a, k), sb = stats_stddev(b, k);
	double se = sqrt(sa * sa / (double)k + sb * sb / (double)k), diff = mb - ma, base = fabs(ma), lo, hi;
	double margin = d->margin_pct / 100 * base, c = d->c[k - d->n_min];
	/* no spread at all (Welch's degenerate case): the difference is exact */
	int exact = se == 0 || se <= 1e-12 * fmax(fabs(ma), fabs(mb));

	stats_welch(a, k, b, k, &w);
	r->n = k;
	r->df = (double)(k - 1);
	r->t = w.stat;
	r->t_crit = c;
	r->p = exact ? w.p : stats_t_p2(w.stat, r->df);
	r->p_nominal = d->p_nominal[k - d->n_min];
	lo = exact ? diff : diff - c * se;
	hi = exact ? diff : diff + c * se;
	r->change_pct = stats_pct_change(ma, mb);
	r->lo_pct = base > 0 ? 100 * lo / base : NAN;
	r->hi_pct = base > 0 ? 100 * hi / base : NAN;
	if (!isinf(c) && fabs(w.stat) >= c && diff != 0)
		return SEQUENTIAL_SIGNIFICANT;
	if (!isinf(c) && d->margin_pct > 0 && ((lo > -margin && hi < margin) || (lo == 0 && hi == 0)))
		return SEQUENTIAL_EQUIVALENT;
	return SEQUENTIAL_UNDECIDED;
}

void sequential_decide(const struct sequential_design *d, const double *a, size_t na, const double *b, size_t nb,
		       struct sequential_result *out)
{
	size_t last = na < nb ? na : nb;

	*out = (struct sequential_result){ .verdict = SEQUENTIAL_UNDECIDED, .change_pct = NAN, .lo_pct = NAN,
					   .hi_pct = NAN, .t = NAN, .t_crit = NAN, .p = NAN, .p_nominal = NAN,
					   .df = NAN };
	if (na == 0 || nb == 0) {
		out->verdict = SEQUENTIAL_NA;
		return;
	}
	if (last > d->n_max)
		last = d->n_max;
	for (size_t k = d->n_min; k <= last; k++) {
		out->looks++;
		out->verdict = sequential_look(d, a, b, k, out);
		if (out->verdict != SEQUENTIAL_UNDECIDED)
			return;
	}
}
