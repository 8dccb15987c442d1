/* Unit tests of report/history/edivisive.c: the statistic against a hand
 * computation and against the direct O(n^2)-per-split formula, planted
 * steps found where they were planted, flat and constant series left
 * alone, two steps, determinism, and the permutation test's early stop.
 * edivisive.c is included directly (report/history/history.mk has the
 * rule), so the static helpers are reachable too. */
#include "tests/check.h"

#include "report/history/edivisive.c"

#include <math.h>
#include <stdint.h>

static uint64_t rng_state;

static double rng_uniform(void) /* (0, 1), splitmix64 */
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

static double rng_normal(void)
{
	double u1 = rng_uniform(), u2 = rng_uniform();

	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* n points of mean 100 and noise cv; from index at on, mean 100 * (1 + step). */
static void planted(double *x, size_t n, size_t at, double step, double cv)
{
	for (size_t i = 0; i < n; i++)
		x[i] = (i >= at ? 100.0 * (1 + step) : 100.0) * (1 + cv * rng_normal());
}

TEST(statistic_by_hand)
{
	/* {0,0,0,1,1,1} at tau 3: cross 9 pairs at distance 1, no distance
	 * within: Q = (3*3/6) * (2*9/9 - 0 - 0) = 3. */
	double x[] = { 0, 0, 0, 1, 1, 1 }, q;

	CHECK_NEAR(edivisive_stat(x, 6, 3, 1.0), 3.0, 1e-12);
	CHECK_EQ(edivisive_best(x, 6, 2, 1.0, &q), 3);
	CHECK_NEAR(q, 3.0, 1e-12);
	/* {0,2,1,3} at tau 2: cross |0-1|+|0-3|+|2-1|+|2-3| = 6, left 2, right 2:
	 * (2*2/4) * (2*6/4 - 2/1 - 2/1) = -1 */
	double y[] = { 0, 2, 1, 3 };

	CHECK_NEAR(edivisive_stat(y, 4, 2, 1.0), -1.0, 1e-12);
	CHECK(isnan(edivisive_stat(y, 4, 1, 1.0)), "a side of one point has no within term");
}

TEST(scan_matches_direct_formula)
{
	double x[40];

	rng_state = 7;
	for (size_t i = 0; i < 40; i++)
		x[i] = rng_normal() * (i % 7 + 1);
	for (size_t min = 2; min <= 8; min += 3)
		for (double alpha = 0.5; alpha <= 1.5; alpha += 0.5) {
			double q, best = -INFINITY;
			size_t tau = edivisive_best(x, 40, min, alpha, &q), want = 0;

			for (size_t t = min; t + min <= 40; t++) {
				double s = edivisive_stat(x, 40, t, alpha);

				if (s > best) {
					best = s;
					want = t;
				}
			}
			CHECK_EQ(tau, want, "min %zu alpha %g", min, alpha);
			CHECK_NEAR(q, best, 1e-9 * fabs(best), "min %zu alpha %g", min, alpha);
		}
}

TEST(planted_steps_found_where_planted)
{
	struct edivisive_opts o;
	struct edivisive_point cp[16];
	double x[100];
	int hits = 0, series = 50;

	edivisive_defaults(&o);
	rng_state = 11;
	for (int s = 0; s < series; s++) {
		size_t at = 20 + (size_t)(rng_uniform() * 60);
		int n;

		planted(x, 100, at, s % 2 ? 0.10 : -0.10, 0.05);
		n = edivisive_detect(x, 100, &o, cp, 16);
		CHECK(n >= 0, "detect failed");
		for (int i = 0; i < n; i++)
			if (cp[i].index + 3 >= at && cp[i].index <= at + 3 && cp[i].p_value <= o.sig_level) {
				hits++;
				break;
			}
	}
	/* a 10% step at CV 5% is 2 sigma: the aim is >= 95% found within 3 points */
	CHECK(hits >= 48, "found %d of %d planted 10%% steps within 3 points", hits, series);
}

TEST(big_step_exact_and_significant)
{
	struct edivisive_opts o;
	struct edivisive_point cp[4];
	double x[60];
	int n;

	edivisive_defaults(&o);
	rng_state = 3;
	planted(x, 60, 31, 0.5, 0.05);
	n = edivisive_detect(x, 60, &o, cp, 4);
	CHECK_EQ(n, 1);
	CHECK_EQ(cp[0].index, 31);
	CHECK_NEAR(cp[0].p_value, 1.0 / 200, 1e-12, "no permutation beats a 10-sigma step");
	CHECK_EQ(cp[0].permutations, 199);
}

TEST(flat_series_rarely_flagged)
{
	struct edivisive_opts o;
	struct edivisive_point cp[16];
	double x[100];
	int flagged = 0, series = 200;

	edivisive_defaults(&o);
	rng_state = 5;
	for (int s = 0; s < series; s++) {
		planted(x, 100, 100, 0, 0.15);
		if (edivisive_detect(x, 100, &o, cp, 16) > 0)
			flagged++;
	}
	/* sig_level 0.01: about 2 in 200 expected; 10 (5%) is the aim's limit */
	CHECK(flagged <= 10, "%d of %d flat series flagged", flagged, series);
}

TEST(constant_and_short_series)
{
	struct edivisive_opts o;
	struct edivisive_point cp[4];
	double c[30], s[9];

	edivisive_defaults(&o);
	for (size_t i = 0; i < 30; i++)
		c[i] = 42;
	CHECK_EQ(edivisive_detect(c, 30, &o, cp, 4), 0, "a constant series has no change");
	for (size_t i = 0; i < 9; i++)
		s[i] = i < 5 ? 1 : 100;
	CHECK_EQ(edivisive_detect(s, 9, &o, cp, 4), 0, "9 points cannot hold two segments of 5");
	o.min_size = 3;
	o.sig_level = 0.05;
	CHECK_EQ(edivisive_detect(s, 9, &o, cp, 4), 1, "9 points, segments of 3: the step is found");
	CHECK_EQ(cp[0].index, 5);
}

TEST(two_steps)
{
	struct edivisive_opts o;
	struct edivisive_point cp[8];
	double x[120];
	int n;

	edivisive_defaults(&o);
	rng_state = 21;
	for (size_t i = 0; i < 120; i++)
		x[i] = (i < 40 ? 100 : i < 85 ? 120 : 95) * (1 + 0.05 * rng_normal());
	n = edivisive_detect(x, 120, &o, cp, 8);
	CHECK_EQ(n, 2);
	CHECK(n == 2 && cp[0].index + 3 >= 40 && cp[0].index <= 43, "first at %zu, planted at 40", cp[0].index);
	CHECK(n == 2 && cp[1].index + 3 >= 85 && cp[1].index <= 88, "second at %zu, planted at 85", cp[1].index);
}

TEST(deterministic_and_early_stop)
{
	struct edivisive_opts o;
	struct edivisive_point a[8], b[8];
	double x[80];
	size_t bounds[2] = { 0, 80 };
	struct edivisive_work w;
	unsigned ran;
	double q, p;
	int na, nb;

	edivisive_defaults(&o);
	rng_state = 99;
	planted(x, 80, 50, 0.08, 0.05);
	na = edivisive_detect(x, 80, &o, a, 8);
	nb = edivisive_detect(x, 80, &o, b, 8);
	CHECK_EQ(na, nb);
	for (int i = 0; i < na && i < nb; i++) {
		CHECK_EQ(a[i].index, b[i].index);
		CHECK(a[i].p_value == b[i].p_value, "p %.17g vs %.17g", a[i].p_value, b[i].p_value);
	}
	/* a flat series: most permutations beat the observed split, the test
	 * stops after a few instead of 199 and says p > sig_level */
	rng_state = 100;
	planted(x, 80, 80, 0, 0.05);
	w = (struct edivisive_work){ .before = malloc(80 * sizeof(double)), .after = malloc(80 * sizeof(double)),
				     .perm = malloc(80 * sizeof(double)), .rng = 1 };
	CHECK(w.before && w.after && w.perm, "out of memory");
	edivisive_best(x, 80, o.min_size, 1.0, &q);
	p = edivisive_ptest(x, 80, bounds, 2, q * 0.5, &o, &w, &ran);
	CHECK(p > o.sig_level && ran < 10, "p %g after %u permutations", p, ran);
	free(w.before);
	free(w.after);
	free(w.perm);
}
