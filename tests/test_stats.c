/* Unit tests of report/stats.c: reference values of the t distribution and
 * of Welch's and Mann-Whitney's tests, the false-positive rate of A/A
 * comparisons and the power against a 2-sigma shift (simulated with a fixed
 * seed, so deterministic), and exact pooling of histograms across
 * iterations.  And of report/sequential.c: the boundaries of known designs,
 * and the sequential A/B's error rates by simulation.  stats.c and
 * sequential.c are included directly so that the generic rule for
 * tests/test_*.c (core objects only) builds this test too. */
#include "tests/check.h"

#include "report/stats.c"
#include "report/sequential.c"

#include <math.h>
#include <stdint.h>

#include "lib/util.h"

#define NEAR(x, want, tol) (fabs((x) - (want)) <= (tol))

static uint64_t rng_state;

static uint64_t rng_next(void) /* splitmix64 */
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double rng_uniform(void) /* (0, 1) */
{
	return ((double)(rng_next() >> 11) + 0.5) / 9007199254740992.0;
}

static double rng_normal(void) /* Box-Muller; two statements fix the draw order */
{
	double u1 = rng_uniform(), u2 = rng_uniform();

	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

TEST(descriptive)
{
	double x[] = { 2, 4, 4, 4, 5, 5, 7, 9 };

	CHECK(stats_mean(x, 8) == 5.0, "mean %g", stats_mean(x, 8));
	/* sum of squares 32, n - 1 = 7 */
	CHECK(NEAR(stats_stddev(x, 8), sqrt(32.0 / 7.0), 1e-12), "stddev %g", stats_stddev(x, 8));
	CHECK(NEAR(stats_cv(x, 8), sqrt(32.0 / 7.0) / 5.0, 1e-12), "cv %g", stats_cv(x, 8));
	CHECK(stats_stddev(x, 1) == 0 && isnan(stats_cv(x, 1)), "n=1: stddev 0, cv undefined");
	CHECK(NEAR(stats_pct_change(200, 250), 25.0, 1e-12), "change %g", stats_pct_change(200, 250));
	CHECK(NEAR(stats_pct_change(200, 150), -25.0, 1e-12), "change %g", stats_pct_change(200, 150));
	CHECK(stats_pct_change(0, 0) == 0, "0 -> 0 is no change");
	CHECK(isinf(stats_pct_change(0, 3)) && stats_pct_change(0, 3) > 0, "0 -> 3 is +inf");
}

TEST(mean_is_order_independent)
{
	double a[] = { 0.1, 0.7, 1e10, 0.3, -1e10, 0.2 }, b[] = { -1e10, 0.3, 0.2, 0.1, 1e10, 0.7 };

	CHECK(stats_mean(a, 6) == stats_mean(b, 6), "%.17g vs %.17g", stats_mean(a, 6), stats_mean(b, 6));
	CHECK(stats_stddev(a, 6) == stats_stddev(b, 6), "stddev differs with the order");
}

TEST(incomplete_beta)
{
	/* I_x(1, 1) = x; I_x(a, 1) = x^a; I_x(1, b) = 1 - (1 - x)^b; symmetry. */
	CHECK(NEAR(stats_incbeta(1, 1, 0.3), 0.3, 1e-14), "I_0.3(1,1) = %.17g", stats_incbeta(1, 1, 0.3));
	CHECK(NEAR(stats_incbeta(3, 1, 0.5), 0.125, 1e-14), "I_0.5(3,1) = %.17g", stats_incbeta(3, 1, 0.5));
	CHECK(NEAR(stats_incbeta(1, 4, 0.2), 1 - pow(0.8, 4), 1e-14), "I_0.2(1,4) = %.17g",
	      stats_incbeta(1, 4, 0.2));
	CHECK(NEAR(stats_incbeta(2.5, 4.5, 0.3) + stats_incbeta(4.5, 2.5, 0.7), 1.0, 1e-13), "symmetry");
	CHECK(isnan(stats_incbeta(1, 1, 1.5)) && isnan(stats_incbeta(0, 1, 0.5)), "domain");
}

TEST(student_t_reference)
{
	/* Tables: t = 2.0, df = 10 -> 0.073388; critical values at 0.05 and 0.10. */
	CHECK(NEAR(stats_t_p2(2.0, 10), 0.0733880348, 1e-8), "t=2 df=10: p=%.10f", stats_t_p2(2.0, 10));
	CHECK(NEAR(stats_t_p2(-2.0, 10), 0.0733880348, 1e-8), "sign must not matter");
	CHECK(NEAR(stats_t_p2(2.228138852, 10), 0.05, 1e-8), "t crit 0.05 df=10: p=%.10f",
	      stats_t_p2(2.228138852, 10));
	CHECK(NEAR(stats_t_p2(1.812461123, 10), 0.10, 1e-8), "t crit 0.10 df=10: p=%.10f",
	      stats_t_p2(1.812461123, 10));
	CHECK(NEAR(stats_t_p2(12.70620474, 1), 0.05, 1e-8), "t crit 0.05 df=1: p=%.10f",
	      stats_t_p2(12.70620474, 1));
	/* Closed forms: df=1 is Cauchy, p = 1 - 2 atan(t) / pi; df=2: p = 1 - t / sqrt(2 + t^2). */
	CHECK(NEAR(stats_t_p2(1.0, 1), 0.5, 1e-12), "df=1 t=1: %.12f", stats_t_p2(1.0, 1));
	CHECK(NEAR(stats_t_p2(3.0, 1), 1 - 2 * atan(3.0) / M_PI, 1e-12), "df=1 t=3");
	CHECK(NEAR(stats_t_p2(2.0, 2), 1 - 2 / sqrt(6.0), 1e-12), "df=2 t=2: %.12f", stats_t_p2(2.0, 2));
	CHECK(stats_t_p2(0, 7) == 1.0, "t=0: p=1");
	CHECK(stats_t_p2(INFINITY, 7) == 0.0, "t=inf: p=0");
	/* Large df approaches the normal: t=1.959964, df=1e6 -> 0.05. */
	CHECK(NEAR(stats_t_p2(1.959963985, 1e6), 0.05, 1e-5), "df=1e6: %.8f", stats_t_p2(1.959963985, 1e6));
	CHECK(NEAR(stats_normal_p2(1.959963985), 0.05, 1e-9), "normal: %.10f", stats_normal_p2(1.959963985));
}

TEST(welch_reference)
{
	/* a: mean 3, var 2.5; b: mean 6, var 10 -> t = 3 / sqrt(2.5) = 1.897367,
	 * df = 6.25 / (0.0625 + 1) = 5.882353, p = 0.107531 (numerical
	 * integration of the t density). */
	double a[] = { 1, 2, 3, 4, 5 }, b[] = { 2, 4, 6, 8, 10 };
	double c[] = { 19.0, 20.5, 18.7, 21.1, 20.0 }, d[] = { 22.1, 21.4, 23.0, 22.8, 21.9, 22.5 };
	struct stats_test w;

	CHECK(stats_welch(a, 5, b, 5, &w) == 1, "welch refused 5 vs 5");
	CHECK(NEAR(w.stat, 1.8973665961, 1e-9), "t = %.10f", w.stat);
	CHECK(NEAR(w.df, 5.8823529412, 1e-9), "df = %.10f", w.df);
	CHECK(NEAR(w.p, 0.1075311949, 1e-7), "p = %.10f", w.p);
	/* Unequal sizes: t = 4.732467, df = 6.266154, p = 0.0028649. */
	CHECK(stats_welch(c, 5, d, 6, &w) == 1, "welch refused 5 vs 6");
	CHECK(NEAR(w.stat, 4.7324671794, 1e-8) && NEAR(w.df, 6.2661540585, 1e-8), "t %.10f df %.10f", w.stat, w.df);
	CHECK(NEAR(w.p, 0.0028648987, 1e-8), "p = %.10f", w.p);
	/* Too few, and the zero-variance cases. */
	CHECK(stats_welch(a, 1, b, 5, &w) == 0 && isnan(w.p) && w.need == 2, "n=1 must be refused");
	{
		double k1[] = { 7, 7, 7 }, k2[] = { 7, 7, 7 }, k3[] = { 8, 8, 8 };

		stats_welch(k1, 3, k2, 3, &w);
		CHECK(w.ok && w.p == 1.0, "constant equal samples: p=%g", w.p);
		stats_welch(k1, 3, k3, 3, &w);
		CHECK(w.ok && w.p == 0.0 && w.stat > 0, "constant different samples: p=%g t=%g", w.p, w.stat);
	}
}

TEST(mann_whitney_reference)
{
	double a[] = { 1, 2, 3 }, b[] = { 4, 5, 6 }, a4[] = { 1, 2, 3, 4 }, b4[] = { 5, 6, 7, 8 };
	double t1[] = { 1, 2, 2, 3 }, t2[] = { 2, 3, 4, 5 };
	double m1[] = { 1.1, 3.3, 5.5, 7.7 }, m2[] = { 2.2, 4.4, 6.6, 8.8, 9.9 };
	struct stats_test u;

	/* Complete separation: U_b = 9, exact p = 2 / C(6,3) = 0.1. */
	CHECK(stats_mwu(a, 3, b, 3, &u) == 1 && !strcmp(u.method, "exact"), "mwu refused 3 vs 3");
	CHECK(u.stat == 9 && NEAR(u.p, 0.1, 1e-12), "U=%g p=%g", u.stat, u.p);
	stats_mwu(b, 3, a, 3, &u);
	CHECK(u.stat == 0 && NEAR(u.p, 0.1, 1e-12), "reversed: U=%g p=%g", u.stat, u.p);
	/* 4 vs 4: 2 / 70. */
	stats_mwu(a4, 4, b4, 4, &u);
	CHECK(NEAR(u.p, 2.0 / 70.0, 1e-12), "4v4 p=%g", u.p);
	/* Interleaved 4 vs 5: ranks of b 2,4,6,8,9 -> R=29, U_b = 14 of 20;
	 * U_a = 6, and P(U <= 6) over the C(9,4) = 126 arrangements counts the
	 * partitions of 0..6 into at most 4 parts of at most 5: 1, 1, 2, 3, 5,
	 * 6, 8 -> 26/126; two-sided 52/126. */
	stats_mwu(m1, 4, m2, 5, &u);
	CHECK(u.stat == 14 && NEAR(u.p, 52.0 / 126.0, 1e-12), "U=%g p=%.12f want %.12f", u.stat, u.p, 52.0 / 126.0);
	/* Ties: normal approximation with tie correction.  Ranks 1, 3 3 3,
	 * 5.5 5.5, 7, 8: U_b = 13.5, mu 8, var = 16/12 (9 - 30/56), z = (5.5 -
	 * 0.5) / sqrt(var) = 1.488351, p = 0.136660. */
	stats_mwu(t1, 4, t2, 4, &u);
	CHECK(!strcmp(u.method, "normal"), "ties must use the normal approximation, used %s", u.method);
	CHECK(u.stat == 13.5, "U=%g", u.stat);
	CHECK(NEAR(u.z, 5.0 / sqrt(16.0 / 12.0 * (9.0 - 30.0 / 56.0)), 1e-12), "z=%.12f", u.z);
	CHECK(NEAR(u.p, erfc(u.z / M_SQRT2), 1e-15) && NEAR(u.p, 0.13666, 1e-4), "p=%.6f", u.p);
	CHECK(stats_mwu(a, 2, b, 3, &u) == 0 && u.need == 3 && isnan(u.p), "n=2 must be refused");
	{
		double k[] = { 5, 5, 5, 5 };

		stats_mwu(k, 4, k, 4, &u);
		CHECK(u.ok && u.p == 1.0, "all tied: p=%g", u.p);
	}
}

/* 2000 A/A trials of 10 vs 10 from one normal distribution must mark about
 * alpha of them significant; against a 2-sigma shift nearly all. */
TEST(false_positives_and_power)
{
	const int trials = 2000, n = 10;
	const double alpha = 0.05;
	int fp_w = 0, fp_u = 0, tp_w = 0, tp_u = 0;
	double a[10], b[10];

	rng_state = 42;
	for (int t = 0; t < trials; t++) {
		struct stats_test w, u;

		for (int i = 0; i < n; i++) {
			a[i] = 100 + 5 * rng_normal();
			b[i] = 100 + 5 * rng_normal();
		}
		stats_welch(a, n, b, n, &w);
		stats_mwu(a, n, b, n, &u);
		fp_w += w.p < alpha;
		fp_u += u.p < alpha;
		for (int i = 0; i < n; i++)
			b[i] = 110 + 5 * rng_normal(); /* +2 sigma */
		stats_welch(a, n, b, n, &w);
		stats_mwu(a, n, b, n, &u);
		tp_w += w.p < alpha;
		tp_u += u.p < alpha;
	}
	CHECK(fp_w <= 0.07 * trials, "Welch A/A: %d of %d significant", fp_w, trials);
	CHECK(fp_u <= 0.07 * trials, "MWU A/A: %d of %d significant", fp_u, trials);
	CHECK(fp_w >= 0.03 * trials, "Welch A/A: only %d of %d significant: p-values too large", fp_w, trials);
	CHECK(tp_w >= 0.90 * trials, "Welch 2-sigma shift: %d of %d significant", tp_w, trials);
	CHECK(tp_u >= 0.90 * trials, "MWU 2-sigma shift: %d of %d significant", tp_u, trials);
	printf("  A/A significant: Welch %.3f, MWU %.3f; 2-sigma shift: Welch %.3f, MWU %.3f\n",
	       (double)fp_w / trials, (double)fp_u / trials, (double)tp_w / trials, (double)tp_u / trials);
	fflush(stdout);
}

static int cmp_dbl(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

/* Percentiles of histograms pooled from several iterations' JSON bins equal
 * the percentiles of the pooled raw samples within the histogram's error. */
TEST(pooled_percentiles)
{
	enum { ITERS = 5, PER = 4000 };
	static const double ps[] = { 1, 50, 90, 99, 99.9, 99.99, 100 };
	struct hist *h = malloc(sizeof(*h));
	struct hist_sum *s = malloc(sizeof(*s)), *pooled = malloc(sizeof(*pooled));
	double *raw = malloc(sizeof(double) * ITERS * PER);
	json_t *objs[ITERS];
	char err[256];

	CHECK(h && s && pooled && raw, "out of memory");
	rng_state = 7;
	for (int it = 0; it < ITERS; it++) {
		hist_init(h);
		for (int i = 0; i < PER; i++) {
			/* log-normal around 20 us with a heavier tail in later
			 * iterations, plus some exact small values */
			double v = i % 97 == 0 ? (double)(i % 128) : exp(log(20000.0) + (1.0 + 0.3 * it) * rng_normal());
			uint64_t ns = (uint64_t)v;

			hist_record(h, ns);
			raw[it * PER + i] = (double)ns;
		}
		hist_sum_init(s);
		hist_sum_add(s, h);
		objs[it] = hist_sum_to_json(s);
		/* through text and back, as a result file would */
		{
			char *text = json_dumps(objs[it], 0);

			json_decref(objs[it]);
			objs[it] = json_loads(text, 0, NULL);
			free(text);
		}
		CHECK(objs[it], "histogram JSON did not round-trip");
	}
	CHECK(stats_pool_hists((const json_t *const *)objs, ITERS, pooled, err, sizeof(err)) == 0, "%s", err);
	CHECK(pooled->count == ITERS * PER, "pooled count %llu", (unsigned long long)pooled->count);
	qsort(raw, ITERS * PER, sizeof(double), cmp_dbl);
	CHECK((double)pooled->max_ns == raw[ITERS * PER - 1], "max must be exact");
	CHECK((double)pooled->min_ns == raw[0], "min must be exact");
	for (size_t i = 0; i < FL_ARRAY_SIZE(ps); i++) {
		double want = stats_percentile_sorted(raw, ITERS * PER, ps[i]);
		double got = hist_sum_percentile(pooled, ps[i]);

		CHECK(fabs(got - want) <= want / 128.0, "p%g: pooled histogram %.1f, raw %.1f (error %.4f%% > 1/128)",
		      ps[i], got, want, 100 * fabs(got - want) / want);
	}
	/* a broken histogram is named by its index */
	json_object_set_new(objs[3], "bins", json_string("nope"));
	CHECK(stats_pool_hists((const json_t *const *)objs, ITERS, pooled, err, sizeof(err)) < 0 &&
		      strstr(err, "histogram 3"),
	      "a bad histogram must fail and be named: %s", err);
	for (int it = 0; it < ITERS; it++)
		json_decref(objs[it]);
	free(h);
	free(s);
	free(pooled);
	free(raw);
}

TEST(percentile_sorted)
{
	double x[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };

	CHECK(stats_percentile_sorted(x, 10, 50) == 5, "p50 %g", stats_percentile_sorted(x, 10, 50));
	CHECK(stats_percentile_sorted(x, 10, 51) == 6, "p51 %g", stats_percentile_sorted(x, 10, 51));
	CHECK(stats_percentile_sorted(x, 10, 100) == 10, "p100");
	CHECK(stats_percentile_sorted(x, 10, 0.1) == 1, "p0.1");
	{
		/* rank ceil(0.999 * 1000) = 999 exactly (in doubles it is 1000) */
		double *y = malloc(1000 * sizeof(*y));

		for (int i = 0; i < 1000; i++)
			y[i] = i + 1;
		CHECK(stats_percentile_sorted(y, 1000, 99.9) == 999, "p99.9 of 1..1000: %g",
		      stats_percentile_sorted(y, 1000, 99.9));
		CHECK(stats_percentile_sorted(y, 1000, 99.99) == 1000, "p99.99 of 1..1000");
		free(y);
	}
}

/* Quantiles of Student's t against published tables (e.g. R qt()). */
TEST(t_quantile_reference)
{
	static const struct {
		double q, df, want;
	} ref[] = {
		{ 0.975, 10, 2.228139 }, { 0.975, 2, 4.302653 }, { 0.8, 10, 0.879058 },
		{ 0.975, 18, 2.100922 }, { 0.8, 18, 0.862049 }, { 0.995, 3, 5.840909 },
		{ 0.025, 10, -2.228139 },
	};

	for (size_t i = 0; i < sizeof(ref) / sizeof(ref[0]); i++) {
		double got = stats_t_quantile(ref[i].q, ref[i].df);

		CHECK(NEAR(got, ref[i].want, 2e-6), "qt(%g, %g) = %.7f, want %.6f", ref[i].q, ref[i].df, got,
		      ref[i].want);
	}
	CHECK(stats_t_quantile(0.5, 7) == 0, "median of t is not 0");
	CHECK(isnan(stats_t_quantile(1, 7)) && isnan(stats_t_quantile(0.9, 0)), "out of domain is not NAN");
}

/* Benjamini-Hochberg against R's p.adjust(p, "BH"). */
TEST(benjamini_hochberg_reference)
{
	const double p[] = { 0.01, 0.04, 0.03, 0.005, NAN, 0.5 };
	const double want[] = { 0.025, 0.05, 0.05, 0.025, NAN, 0.5 };
	double q[6];

	CHECK(stats_bh_adjust(p, 6, q) == 0, "bh failed");
	for (int i = 0; i < 6; i++)
		CHECK(isnan(want[i]) ? isnan(q[i]) : NEAR(q[i], want[i], 1e-12), "q[%d] = %g, want %g", i, q[i],
		      want[i]);
}

/* The minimum detectable effect: the textbook value for sd 1, n 10 a side,
 * and, simulated, a true shift of one MDE is detected about 80% of the time
 * (the Welch test at 0.05); n_needed is the smallest n whose MDE fits. */
TEST(minimum_detectable_effect)
{
	const int trials = 4000, n = 6;
	double mde = stats_mde(1, 10, 1, 10, 0.05, 0.8), a[6], b[6];
	int hits = 0;
	size_t need;

	CHECK(NEAR(mde, (2.100922 + 0.862049) * sqrt(0.2), 1e-5), "mde(1, 10) = %.6f", mde);
	CHECK(isnan(stats_mde(1, 1, 1, 10, 0.05, 0.8)), "mde with n = 1 is a number");
	CHECK(stats_mde(0, 5, 0, 5, 0.05, 0.8) == 0, "mde without spread is not 0");
	mde = stats_mde(5, n, 5, n, 0.05, 0.8);
	rng_state = 7;
	for (int t = 0; t < trials; t++) {
		struct stats_test w;

		for (int i = 0; i < n; i++) {
			a[i] = 100 + 5 * rng_normal();
			b[i] = 100 + mde + 5 * rng_normal();
		}
		stats_welch(a, n, b, n, &w);
		hits += w.p < 0.05;
	}
	printf("  shift of one MDE (%.2f, sd 5, n %d): detected %.3f of %d\n", mde, n, (double)hits / trials, trials);
	CHECK(hits >= 0.74 * trials && hits <= 0.86 * trials, "shift of one MDE detected %d of %d", hits, trials);
	need = stats_n_needed(0.10, 10, 0.05, 0.8, 1000);
	CHECK(need > 2 && stats_mde(0.10, need, 0.10, need, 0.05, 0.8) * 100 <= 10 &&
		      stats_mde(0.10, need - 1, 0.10, need - 1, 0.05, 0.8) * 100 > 10,
	      "n_needed(cv 10%%, 10%%) = %zu is not the smallest", need);
	CHECK(stats_n_needed(0.5, 1, 0.05, 0.8, 100) == 0, "an impossible target did not give 0");
}

/* The Welch interval holds the true difference about 95% of the time. */
TEST(welch_interval_coverage)
{
	const int trials = 4000, n = 5;
	double a[5], b[5], lo, hi;
	int covered = 0;

	rng_state = 11;
	for (int t = 0; t < trials; t++) {
		for (int i = 0; i < n; i++) {
			a[i] = 50 + 2 * rng_normal();
			b[i] = 53 + 6 * rng_normal();
		}
		CHECK(stats_welch_ci(a, n, b, n, 0.95, &lo, &hi) == 1, "no interval");
		covered += lo <= 3 && 3 <= hi;
	}
	CHECK(covered >= 0.93 * trials && covered <= 0.97 * trials, "95%% interval covered %d of %d", covered, trials);
	CHECK(stats_welch_ci(a, 1, b, n, 0.95, &lo, &hi) == 0, "interval from one value");
}

/* ---- the sequential A/B (report/sequential.c) --------------------------- */

/* The spending functions: all of alpha by t = 1, none at 0, increasing; the
 * O'Brien-Fleming type spends almost nothing early. */
TEST(sequential_spending)
{
	for (int s = SEQUENTIAL_POCOCK; s <= SEQUENTIAL_OBF; s++) {
		double prev = 0;

		CHECK(NEAR(sequential_spent(s, 0.05, 1), 0.05, 1e-12), "%s spends %g by t = 1",
		      sequential_spending_names[s], sequential_spent(s, 0.05, 1));
		CHECK(sequential_spent(s, 0.05, 0) == 0, "%s spends at t = 0", sequential_spending_names[s]);
		for (int i = 1; i <= 20; i++) {
			double a = sequential_spent(s, 0.05, i / 20.0);

			CHECK(a > prev, "%s not increasing at t = %g", sequential_spending_names[s], i / 20.0);
			prev = a;
		}
	}
	/* Pocock type at t = 0.5: alpha ln(1 + (e - 1) / 2) */
	CHECK(NEAR(sequential_spent(SEQUENTIAL_POCOCK, 0.05, 0.5), 0.05 * log(1 + (M_E - 1) / 2), 1e-15), "pocock");
	/* O'Brien-Fleming type at t = 0.2: 4 (1 - Phi(2.241403 / sqrt 0.2)) = 1.07774e-6 */
	CHECK(NEAR(sequential_spent(SEQUENTIAL_OBF, 0.05, 0.2), 1.07774e-6, 0.00002e-6), "obf(0.2) = %.5g",
	      sequential_spent(SEQUENTIAL_OBF, 0.05, 0.2));
}

/* Boundaries of known designs, 5 equally spaced looks, two-sided 0.05:
 * Lan-DeMets O'Brien-Fleming type 4.877, 3.357, 2.680, 2.290, 2.031 (as
 * ldbounds and gsDesign give them), Pocock type starting 2.438, 2.427; one
 * look: 1.960.  And the other way round: the classical constant designs
 * (Pocock 1977: 2.413 for 5 looks, 2.178 for 2; O'Brien and Fleming 1979:
 * 2.040 sqrt(5 / k), 1.977 sqrt(2 / k)) cross with probability 0.05. */
TEST(sequential_known_boundaries)
{
	const double t5[5] = { 0.2, 0.4, 0.6, 0.8, 1 }, t2[2] = { 0.5, 1 }, t1[1] = { 1 };
	const double obf[5] = { 4.877, 3.357, 2.680, 2.290, 2.031 };
	double z[5], p2[2] = { 2.178, 2.178 }, p5[5], o2[2] = { 1.977 * M_SQRT2, 1.977 }, o5[5];

	CHECK(sequential_bounds(SEQUENTIAL_OBF, 0.05, t5, 5, z) == 0, "obf bounds failed");
	for (int k = 0; k < 5; k++)
		CHECK(NEAR(z[k], obf[k], 0.0006), "obf look %d: %.4f, want %.3f", k + 1, z[k], obf[k]);
	CHECK(NEAR(sequential_crossing(t5, z, 5), 0.05, 1e-6), "obf crossing %.7f", sequential_crossing(t5, z, 5));
	CHECK(sequential_bounds(SEQUENTIAL_POCOCK, 0.05, t5, 5, z) == 0, "pocock bounds failed");
	CHECK(NEAR(z[0], 2.438, 0.0006) && NEAR(z[1], 2.427, 0.0006), "pocock %.4f %.4f", z[0], z[1]);
	CHECK(z[4] < z[0] && NEAR(sequential_crossing(t5, z, 5), 0.05, 1e-6), "pocock crossing %.7f",
	      sequential_crossing(t5, z, 5));
	CHECK(sequential_bounds(SEQUENTIAL_OBF, 0.05, t1, 1, z) == 0 && NEAR(z[0], 1.959964, 1e-5), "one look %.6f",
	      z[0]);
	for (int k = 0; k < 5; k++) {
		p5[k] = 2.413;
		o5[k] = 2.040 * sqrt(5.0 / (k + 1));
	}
	CHECK(NEAR(sequential_crossing(t5, p5, 5), 0.05, 0.0003), "pocock 2.413: %.5f", sequential_crossing(t5, p5, 5));
	CHECK(NEAR(sequential_crossing(t2, p2, 2), 0.05, 0.0003), "pocock 2.178: %.5f", sequential_crossing(t2, p2, 2));
	CHECK(NEAR(sequential_crossing(t5, o5, 5), 0.05, 0.0003), "obf 2.040: %.5f", sequential_crossing(t5, o5, 5));
	CHECK(NEAR(sequential_crossing(t2, o2, 2), 0.05, 0.0003), "obf 1.977: %.5f", sequential_crossing(t2, o2, 2));
	CHECK(sequential_bounds(SEQUENTIAL_OBF, 0.05, (double[]){ 0.5, 0.4 }, 2, z) < 0, "decreasing times accepted");
	CHECK(isnan(sequential_crossing(t2, NULL, 2)), "no bounds gave a number");
}

/* The simulation that makes the t-scale bounds, run for known variance,
 * lands on the numerically integrated normal bounds (within its noise); for
 * the t statistic the bounds are wider, the more so the fewer iterations,
 * and the design is the same every time (fixed seed). */
TEST(sequential_simulated_boundaries)
{
	double c[19], z[19], t[19];
	struct sequential_design d, d2;

	for (int i = 0; i < 19; i++)
		t[i] = (i + 2) / 20.0;
	CHECK(sequential_mc_bounds(SEQUENTIAL_POCOCK, 0.05, 2, 20, 1, 1u << 18, 3, c) == 0, "mc failed");
	CHECK(sequential_bounds(SEQUENTIAL_POCOCK, 0.05, t, 19, z) == 0, "bounds failed");
	for (int i = 0; i < 19; i++)
		CHECK(NEAR(c[i], z[i], 0.05), "look %d: simulated %.3f, integrated %.3f", i + 2, c[i], z[i]);
	CHECK(sequential_design_init(&d, SEQUENTIAL_POCOCK, 0.05, 2, 20, 10) == 0, "design failed");
	CHECK(sequential_design_init(&d2, SEQUENTIAL_POCOCK, 0.05, 2, 20, 10) == 0, "design failed");
	for (int i = 0; i < 19; i++) {
		CHECK(d.c[i] > d.z[i], "look %d: t bound %.3f not above z %.3f", i + 2, d.c[i], d.z[i]);
		CHECK(d.c[i] == d2.c[i], "look %d differs between two designs", i + 2);
	}
	printf("  t-scale bounds (pocock, 0.05, 2..20): %.1f %.2f %.2f %.2f ... %.3f (normal: %.3f)\n", d.c[0], d.c[1],
	       d.c[2], d.c[3], d.c[18], d.z[18]);
	fflush(stdout);
	CHECK(d.c[0] > 10 * d.c[2] && d.c[18] < 1.2 * d.z[18], "df 1 at n 2: %.1f; last %.3f", d.c[0], d.c[18]);
	sequential_design_free(&d);
	sequential_design_free(&d2);
	CHECK(sequential_design_init(&d, SEQUENTIAL_POCOCK, 0.05, 1, 20, 10) < 0 &&
		      sequential_design_init(&d, SEQUENTIAL_POCOCK, 0.05, 2, 101, 10) < 0 &&
		      sequential_design_init(&d, SEQUENTIAL_POCOCK, 0.5, 2, 20, 10) < 0 &&
		      sequential_design_init(&d, SEQUENTIAL_POCOCK, 0.05, 5, 4, 10) < 0,
	      "a bad design was accepted");
}

/* A/A runs of at most 20 iterations a side (looks from 2 on): how often
 * does the sequential A/B call a change significant?  At most alpha, also
 * in the least favourable case (one side nearly constant) and with
 * O'Brien-Fleming spending; an equal spread is conservative. */
TEST(sequential_aa_type1)
{
	const int trials = 3000, n = 20;
	const double ratios[3] = { 1, 10, 100 };
	double a[20], b[20];

	for (int s = SEQUENTIAL_POCOCK; s <= SEQUENTIAL_OBF; s++) {
		struct sequential_design d;

		CHECK(sequential_design_init(&d, s, 0.05, 2, n, 10) == 0, "design failed");
		for (int r = 0; r < 3; r++) {
			int sig = 0;

			rng_state = 100 + (uint64_t)r;
			for (int t = 0; t < trials; t++) {
				struct sequential_result res;

				for (int i = 0; i < n; i++) {
					a[i] = 100 + 10 / ratios[r] * rng_normal();
					b[i] = 100 + 10 * rng_normal();
				}
				sequential_decide(&d, a, n, b, n, &res);
				sig += res.verdict == SEQUENTIAL_SIGNIFICANT;
			}
			printf("  A/A, %s, sd ratio %g: significant in %.4f of %d\n", sequential_spending_names[s],
			       ratios[r], (double)sig / trials, trials);
			fflush(stdout);
			/* alpha plus two standard errors of the simulation */
			CHECK(sig <= (0.05 + 2 * sqrt(0.05 * 0.95 / trials)) * trials, "%s, ratio %g: %d of %d",
			      sequential_spending_names[s], ratios[r], sig, trials);
			if (ratios[r] == 100)
				CHECK(sig >= 0.025 * trials, "%s: least favourable case only %d of %d: bounds too wide",
				      sequential_spending_names[s], sig, trials);
		}
		sequential_design_free(&d);
	}
}

/* Equivalence: a true change of exactly the margin (10%) is called
 * equivalent at most alpha of the time; no change at low noise is called
 * equivalent early; a large change is significant early. */
TEST(sequential_equivalence_and_power)
{
	const int trials = 2000, n = 20;
	struct sequential_design d;
	double a[20], b[20], nsum = 0;
	int eq = 0, eq_null = 0, sig = 0;

	CHECK(sequential_design_init(&d, SEQUENTIAL_POCOCK, 0.05, 2, n, 10) == 0, "design failed");
	rng_state = 21;
	for (int t = 0; t < trials; t++) {
		struct sequential_result res;

		for (int i = 0; i < n; i++) {
			a[i] = 100 + 5 * rng_normal();
			b[i] = (t % 2 ? 110 : 90) + 5 * rng_normal();
		}
		sequential_decide(&d, a, n, b, n, &res);
		eq += res.verdict == SEQUENTIAL_EQUIVALENT;
		for (int i = 0; i < n; i++)
			b[i] = 100 + 2 * rng_normal(), a[i] = 100 + 2 * rng_normal();
		sequential_decide(&d, a, n, b, n, &res);
		eq_null += res.verdict == SEQUENTIAL_EQUIVALENT;
		for (int i = 0; i < n; i++)
			b[i] = 150 + 10 * rng_normal(), a[i] = 100 + 10 * rng_normal();
		sequential_decide(&d, a, n, b, n, &res);
		sig += res.verdict == SEQUENTIAL_SIGNIFICANT;
		nsum += (double)res.n;
	}
	printf("  change = margin: equivalent %.4f; no change, cv 2%%: equivalent %.3f; 5-sigma change: "
	       "significant %.3f at %.2f iterations on average\n",
	       (double)eq / trials, (double)eq_null / trials, (double)sig / trials, nsum / trials);
	fflush(stdout);
	CHECK(eq <= 0.05 * trials, "change of the margin called equivalent %d of %d", eq, trials);
	CHECK(eq_null >= 0.95 * trials, "no change at cv 2%% equivalent only %d of %d", eq_null, trials);
	CHECK(sig == trials && nsum / trials < 7, "5-sigma: %d of %d at %.2f", sig, trials, nsum / trials);
	sequential_design_free(&d);
}

/* Edge cases: a side without values (n/a), too few values (no look yet),
 * data without spread, and the first crossing is kept. */
TEST(sequential_decide_cases)
{
	struct sequential_design d;
	struct sequential_result r;
	double same[4] = { 5, 5, 5, 5 }, other[4] = { 6, 6, 6, 6 };
	double a[6] = { 100, 102, 98, 100, 102, 98 }, b[6] = { 200, 198, 202, 100, 102, 98 };

	CHECK(sequential_design_init(&d, SEQUENTIAL_POCOCK, 0.05, 2, 20, 10) == 0, "design failed");
	sequential_decide(&d, same, 0, other, 4, &r);
	CHECK(r.verdict == SEQUENTIAL_NA, "empty side: %s", sequential_verdict_names[r.verdict]);
	sequential_decide(&d, same, 1, other, 4, &r);
	CHECK(r.verdict == SEQUENTIAL_UNDECIDED && r.looks == 0, "one value: %s", sequential_verdict_names[r.verdict]);
	sequential_decide(&d, same, 4, other, 4, &r);
	CHECK(r.verdict == SEQUENTIAL_SIGNIFICANT && r.n == 2, "constant sides that differ: %s at %zu",
	      sequential_verdict_names[r.verdict], r.n);
	sequential_decide(&d, same, 4, same, 4, &r);
	CHECK(r.verdict == SEQUENTIAL_EQUIVALENT && r.n == 2 && r.change_pct == 0, "equal constants: %s at %zu",
	      sequential_verdict_names[r.verdict], r.n);
	/* b doubles for three iterations, then matches a: decided at 3, and
	 * kept although the later looks alone would not say so */
	sequential_decide(&d, a, 6, b, 6, &r);
	CHECK(r.verdict == SEQUENTIAL_SIGNIFICANT && r.n == 3 && r.looks == 2 && r.lo_pct > 0 &&
		      NEAR(r.change_pct, 100, 1e-9),
	      "%s at %zu (looks %zu), change %g, interval [%g, %g]", sequential_verdict_names[r.verdict], r.n, r.looks,
	      r.change_pct, r.lo_pct, r.hi_pct);
	sequential_decide(&d, a + 3, 3, b + 3, 3, &r);
	CHECK(r.verdict != SEQUENTIAL_SIGNIFICANT, "the later values alone: %s", sequential_verdict_names[r.verdict]);
	sequential_design_free(&d);
}
