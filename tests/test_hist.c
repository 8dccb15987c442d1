/* test_hist: the log-linear histogram (lib/hist.h): error bound against exact
 * nearest-rank percentiles, merging, bucket geometry, JSON round trip. */
#include "tests/check.h"
#include "lib/hist.h"

#include <math.h>
#include <stdint.h>

/* ---- a local deterministic generator (independent of lib/pattern) ---- */

struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* uniform in (0, 1] (never 0, so log() is safe) */
static double rng_unit(struct rng *r)
{
	return ((double)(rng_next(r) >> 11) + 1.0) * 0x1.0p-53;
}

static double rng_normal(struct rng *r)
{
	return sqrt(-2.0 * log(rng_unit(r))) * cos(2.0 * M_PI * rng_unit(r));
}

static uint64_t clamp_ns(double v)
{
	if (!(v >= 0))
		return 0;
	if (v >= 0x1.0p41)
		return (1ULL << 41) - 1;
	return (uint64_t)v;
}

enum dist { D_UNIFORM, D_LOGUNIFORM, D_EXP, D_LOGNORMAL, D_BIMODAL, D_SMALL, D_COUNT };
static const char *dist_names[] = { "uniform", "loguniform", "exponential", "lognormal", "bimodal", "small" };

static uint64_t draw(struct rng *r, enum dist d)
{
	switch (d) {
	case D_UNIFORM: /* uniform over [0, 2^40) */
		return rng_next(r) >> 24;
	case D_LOGUNIFORM: /* every octave equally: [1, 2^41) */
		return clamp_ns(exp2(rng_unit(r) * 41.0));
	case D_EXP: /* mean 50 us */
		return clamp_ns(-50000.0 * log(rng_unit(r)));
	case D_LOGNORMAL: /* median 20 us, sigma 2.5: a heavy tail up to seconds */
		return clamp_ns(exp(log(20000.0) + 2.5 * rng_normal(r)));
	case D_BIMODAL: /* 95% near 1 us, 5% near 10 ms, 5% jitter each */
		if (rng_next(r) % 100 < 95)
			return clamp_ns(1000.0 * (1.0 + 0.05 * rng_normal(r)));
		return clamp_ns(1e7 * (1.0 + 0.05 * rng_normal(r)));
	case D_SMALL: /* < 128 ns: exact buckets */
		return rng_next(r) % 128;
	default:
		return 0;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* p in hundredths of a percent, so the rank is computed in exact integer
 * arithmetic: rank = ceil(pp / 10000 * n). */
static const unsigned pct_pp[] = { 5000, 9000, 9900, 9990, 9999, 10000 };

static uint64_t exact_percentile(const uint64_t *sorted, size_t n, unsigned pp)
{
	uint64_t rank = ((uint64_t)pp * n + 9999) / 10000;

	if (rank < 1)
		rank = 1;
	return sorted[rank - 1];
}

static struct hist *hist_new(void)
{
	struct hist *h = malloc(sizeof(*h));

	CHECK(h, "malloc");
	hist_init(h);
	return h;
}

static struct hist_sum *sum_new(void)
{
	struct hist_sum *s = malloc(sizeof(*s));

	CHECK(s, "malloc");
	hist_sum_init(s);
	return s;
}

static void check_same_sum(const struct hist_sum *a, const struct hist_sum *b, const char *what)
{
	CHECK_EQ(a->count, b->count, "%s", what);
	CHECK_EQ(a->sum_ns, b->sum_ns, "%s", what);
	CHECK_EQ(a->min_ns, b->min_ns, "%s", what);
	CHECK_EQ(a->max_ns, b->max_ns, "%s", what);
	CHECK_EQ(a->saturated, b->saturated, "%s", what);
	for (unsigned i = 0; i <= HIST_BUCKETS; i++)
		CHECK_EQ(a->bins[i], b->bins[i], "%s: bin %u", what, i);
}

/* ---- error bound ---- */

TEST(error_bound_random_distributions)
{
	static const size_t sizes[] = { 1, 2, 3, 7, 10, 99, 100, 101, 999, 1000, 1001, 4096, 9999, 10000, 65537, 100000 };
	size_t maxn = 100000;
	uint64_t *v = malloc(maxn * sizeof(*v));
	struct hist *h = hist_new();
	struct hist_sum *s = sum_new();
	struct rng r = { 42 };
	int bad = 0, bad_p[6] = { 0 };
	char first[300] = "";

	CHECK(v, "malloc");
	for (int d = 0; d < D_COUNT; d++) {
		for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
			size_t n = sizes[si];
			uint64_t sum = 0;

			hist_init(h);
			hist_sum_init(s);
			for (size_t i = 0; i < n; i++) {
				v[i] = draw(&r, (enum dist)d);
				sum += v[i];
				hist_record(h, v[i]);
			}
			hist_sum_add(s, h);
			qsort(v, n, sizeof(*v), cmp_u64);
			CHECK_EQ(s->count, n, "%s n=%zu", dist_names[d], n);
			CHECK_EQ(s->sum_ns, sum, "%s n=%zu", dist_names[d], n);
			CHECK_EQ(s->min_ns, v[0], "%s n=%zu", dist_names[d], n);
			CHECK_EQ(s->max_ns, v[n - 1], "%s n=%zu", dist_names[d], n);
			for (size_t k = 0; k < sizeof(pct_pp) / sizeof(pct_pp[0]); k++) {
				double p = pct_pp[k] / 100.0;
				uint64_t e = exact_percentile(v, n, pct_pp[k]);
				double got = hist_sum_percentile(s, p);
				double bound = e < HIST_LINEAR ? 0.0 : (double)e / 128.0;

				if (fabs(got - (double)e) <= bound)
					continue;
				if (!bad++)
					snprintf(first, sizeof(first),
						 "%s n=%zu p%g: histogram %.1f, exact %llu, |error| %.1f > bound %.3f",
						 dist_names[d], n, p, got, (unsigned long long)e, fabs(got - (double)e),
						 bound);
				bad_p[k]++;
			}
			/* p100 is the exact maximum (clamped) */
			CHECK(hist_sum_percentile(s, 100) <= (double)v[n - 1], "%s n=%zu: p100 above max", dist_names[d],
			      n);
		}
	}
	CHECK(bad == 0, "%d of %d (distribution, size, p) cases exceed the bound (p50 %d, p90 %d, p99 %d, p99.9 %d, "
	      "p99.99 %d, p100 %d); first: %s",
	      bad, (int)(D_COUNT * (sizeof(sizes) / sizeof(sizes[0])) * (sizeof(pct_pp) / sizeof(pct_pp[0]))),
	      bad_p[0], bad_p[1], bad_p[2], bad_p[3], bad_p[4], bad_p[5], first);
	free(v);
	free(h);
	free(s);
}

/* The nearest rank of p99.9 over 1000 samples is the 999th value.  With 999
 * samples of 1 us and one of 1 ms the exact p99.9 is 1 us. */
TEST(percentile_rank_exact_for_p99_9)
{
	static const size_t sizes[] = { 1000, 2000, 10000, 100000 };
	struct hist *h = hist_new();
	struct hist_sum *s = sum_new();

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k], rank = n * 999 / 1000; /* exact: 999/1000 * n is an integer */
		double got;

		hist_init(h);
		hist_sum_init(s);
		for (size_t i = 0; i < n; i++)
			hist_record(h, i < rank ? 1000 : 1000000);
		hist_sum_add(s, h);
		got = hist_sum_percentile(s, 99.9);
		CHECK_NEAR(got, 1000.0, 1000.0 / 128,
			   "n=%zu: p99.9 is the %zu-th of %zu samples; ceil(99.9/100*n) rounds up to rank %zu in "
			   "floating point",
			   n, rank, n, (size_t)ceil(99.9 / 100.0 * (double)n));
	}
	free(h);
	free(s);
}

TEST(small_values_exact)
{
	struct hist *h = hist_new();
	struct hist_sum *s = sum_new();

	for (uint64_t v = 0; v < HIST_LINEAR; v++)
		CHECK_EQ(hist_index(v), v);
	/* single-valued histograms report that value exactly */
	for (uint64_t v = 0; v < HIST_LINEAR; v++) {
		hist_init(h);
		hist_sum_init(s);
		hist_record(h, v);
		hist_record(h, v);
		hist_sum_add(s, h);
		for (size_t k = 0; k < sizeof(pct_pp) / sizeof(pct_pp[0]); k++)
			CHECK_NEAR(hist_sum_percentile(s, pct_pp[k] / 100.0), (double)v, 0, "v=%llu p%g",
				   (unsigned long long)v, pct_pp[k] / 100.0);
	}
	free(h);
	free(s);
}

TEST(overflow_bucket_keeps_exact_max)
{
	struct hist *h = hist_new();
	struct hist_sum *s = sum_new();
	const uint64_t top = (1ULL << 41) - 1;
	const uint64_t big[] = { 1ULL << 41, (1ULL << 41) + 12345, 1ULL << 50, (1ULL << 62) + 7 };

	CHECK_EQ(hist_index(top), HIST_BUCKETS - 1, "2^41-1 in the last regular bucket");
	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++)
		CHECK_EQ(hist_index(big[i]), HIST_OVERFLOW, "%llu", (unsigned long long)big[i]);
	CHECK_EQ(hist_index(UINT64_MAX), HIST_OVERFLOW);

	hist_record(h, 1000);
	hist_record(h, top);
	hist_record(h, 1ULL << 41);
	hist_record(h, (1ULL << 41) + 12345);
	hist_sum_add(s, h);
	CHECK_EQ(s->bins[HIST_OVERFLOW], 2);
	CHECK_EQ(s->bins[HIST_BUCKETS - 1], 1);
	CHECK_EQ(s->max_ns, (1ULL << 41) + 12345);
	CHECK_NEAR(hist_sum_percentile(s, 100), (double)((1ULL << 41) + 12345), 0, "p100 is the exact max");
	CHECK_NEAR(hist_sum_percentile(s, 75), (double)((1ULL << 41) + 12345), 0, "p75, in overflow, is the max");
	{
		double p50 = hist_sum_percentile(s, 50);

		CHECK_NEAR(p50, (double)top, (double)top / 128);
	}

	/* the maximum survives even a huge outlier alone */
	hist_init(h);
	hist_sum_init(s);
	hist_record(h, (1ULL << 62) + 7);
	hist_sum_add(s, h);
	CHECK_EQ(s->max_ns, (1ULL << 62) + 7, "single outlier");
	CHECK_EQ(s->min_ns, (1ULL << 62) + 7, "single outlier");
	CHECK_NEAR(hist_sum_percentile(s, 50), (double)((1ULL << 62) + 7), 0, "single outlier");
	free(h);
	free(s);
}

TEST(empty_histogram)
{
	struct hist_sum *s = sum_new();

	CHECK_NEAR(hist_sum_percentile(s, 50), 0, 0);
	CHECK_NEAR(hist_sum_percentile(s, 100), 0, 0);
	CHECK_NEAR(hist_sum_mean(s), 0, 0);
	free(s);
}

TEST(bin_saturates_instead_of_wrapping)
{
	struct hist *h = hist_new();

	h->bins[hist_index(5000)] = UINT32_MAX - 1;
	hist_record(h, 5000);
	hist_record(h, 5000);
	hist_record(h, 5000);
	CHECK_EQ(h->bins[hist_index(5000)], UINT32_MAX);
	CHECK_EQ(h->saturated, 2);
	CHECK_EQ(h->count, 3);
	free(h);
}

/* ---- merging ---- */

TEST(merge_equals_recording_into_one)
{
	enum { K = 7, N = 200000 };
	struct hist *all = hist_new(), *th[K];
	struct hist_sum *ref = sum_new(), *via_add = sum_new(), *via_merge = sum_new(), *part = sum_new();
	struct rng r = { 7 };

	for (int k = 0; k < K; k++)
		th[k] = hist_new();
	for (size_t i = 0; i < N; i++) {
		uint64_t v = draw(&r, (enum dist)(i % D_COUNT));
		/* thread 3 records nothing: empty histograms must merge as no-ops */
		unsigned k = (unsigned)(rng_next(&r) % K);

		if (k == 3)
			k = 4;
		if (i % 1000 == 0)
			v = (1ULL << 41) + i; /* some overflow */
		hist_record(all, v);
		hist_record(th[k], v);
	}
	hist_sum_add(ref, all);
	for (int k = 0; k < K; k++) {
		hist_sum_add(via_add, th[k]);
		hist_sum_init(part);
		hist_sum_add(part, th[k]);
		hist_sum_merge(via_merge, part);
	}
	check_same_sum(via_add, ref, "hist_sum_add of per-thread");
	check_same_sum(via_merge, ref, "hist_sum_merge of per-thread sums");
	for (size_t k = 0; k < sizeof(pct_pp) / sizeof(pct_pp[0]); k++)
		CHECK_NEAR(hist_sum_percentile(via_merge, pct_pp[k] / 100.0), hist_sum_percentile(ref, pct_pp[k] / 100.0),
			   0, "p%g", pct_pp[k] / 100.0);

	/* merging into an empty sum, and an empty sum into a full one */
	hist_sum_init(part);
	hist_sum_merge(part, ref);
	check_same_sum(part, ref, "merge into empty");
	hist_sum_init(via_add);
	hist_sum_merge(part, via_add);
	check_same_sum(part, ref, "merge of empty");

	for (int k = 0; k < K; k++)
		free(th[k]);
	free(all);
	free(ref);
	free(via_add);
	free(via_merge);
	free(part);
}

/* ---- bucket geometry ---- */

TEST(bucket_geometry)
{
	CHECK_EQ(HIST_BUCKETS, 2304);
	CHECK_EQ(hist_bucket_low(0), 0);
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		uint64_t lo = hist_bucket_low(i), w = hist_bucket_width(i);

		CHECK(w >= 1, "bucket %u: width 0", i);
		CHECK_EQ(hist_index(lo), i, "bucket %u: low %llu", i, (unsigned long long)lo);
		CHECK_EQ(hist_index(lo + w - 1), i, "bucket %u: low %llu + width %llu - 1", i, (unsigned long long)lo,
			 (unsigned long long)w);
		if (i + 1 < HIST_BUCKETS) {
			CHECK_EQ(hist_bucket_low(i + 1), lo + w, "bucket %u contiguous with %u", i, i + 1);
			CHECK_EQ(hist_index(lo + w), i + 1, "bucket %u: low + width", i);
		} else {
			CHECK_EQ(lo + w, 1ULL << 41, "the last bucket ends at 2^41");
			CHECK_EQ(hist_index(lo + w), HIST_OVERFLOW, "2^41 in overflow");
		}
		if (lo > 0)
			CHECK_EQ(hist_index(lo - 1), i - 1, "bucket %u: low - 1", i);
		if (i < HIST_LINEAR) {
			CHECK_EQ(w, 1, "linear bucket %u", i);
			CHECK_EQ(lo, i, "linear bucket %u", i);
		} else
			CHECK(w * 64 <= lo, "bucket %u: width/low = %llu/%llu > 1/64", i, (unsigned long long)w,
			      (unsigned long long)lo);
		/* the midpoint error bound of hist.h: (w - 1) / 2 <= lo / 128 */
		CHECK((double)(w - 1) / 2.0 <= (double)lo / 128.0 || i < HIST_LINEAR, "bucket %u: midpoint bound", i);
	}
	CHECK_EQ(hist_bucket_low(HIST_OVERFLOW), 1ULL << 41);

	/* random values land in the bucket that contains them */
	{
		struct rng r = { 99 };

		for (int i = 0; i < 1000000; i++) {
			uint64_t v = rng_next(&r) >> (rng_next(&r) % 64);
			unsigned b = hist_index(v);

			if (b == HIST_OVERFLOW) {
				CHECK(v >= 1ULL << 41, "%llu in overflow", (unsigned long long)v);
				continue;
			}
			CHECK(v >= hist_bucket_low(b) && v - hist_bucket_low(b) < hist_bucket_width(b),
			      "%llu not in its bucket %u", (unsigned long long)v, b);
		}
	}
}

/* ---- JSON ---- */

static void fill_sum(struct hist_sum *s, uint64_t seed, size_t n)
{
	struct hist *h = hist_new();
	struct rng r = { seed };

	for (size_t i = 0; i < n; i++)
		hist_record(h, draw(&r, (enum dist)(i % D_COUNT)));
	hist_record(h, (1ULL << 41) + 5); /* one in overflow */
	hist_sum_add(s, h);
	free(h);
}

TEST(json_round_trip)
{
	struct hist_sum *a = sum_new(), *b = sum_new();
	char err[256] = "";
	json_t *j, *j2;
	char *text;

	fill_sum(a, 5, 50000);
	a->saturated = 3; /* saturated samples count but sit in no bin */
	a->count += 3;
	j = hist_sum_to_json(a);
	CHECK(j, "to_json NULL");
	CHECK_EQ(hist_sum_from_json(b, j, err, sizeof(err)), 0, "%s", err);
	check_same_sum(b, a, "round trip");

	/* through text too */
	text = json_dumps(j, 0);
	CHECK(text, "dumps");
	j2 = json_loads(text, 0, NULL);
	CHECK(j2, "loads");
	CHECK_EQ(hist_sum_from_json(b, j2, err, sizeof(err)), 0, "from text: %s", err);
	check_same_sum(b, a, "round trip through text");

	/* the summary fields agree with the histogram */
	CHECK_EQ(json_integer_value(json_object_get(j, "count")), a->count);
	CHECK_EQ(json_integer_value(json_object_get(j, "max_ns")), a->max_ns);
	CHECK_NEAR(json_real_value(json_object_get(j, "p99_ns")), hist_sum_percentile(a, 99), 0);
	CHECK_NEAR(json_real_value(json_object_get(j, "p50_ns")), hist_sum_percentile(a, 50), 0);
	/* bins: only the non-zero ones, in increasing order of low */
	{
		json_t *bins = json_object_get(j, "bins"), *pair;
		size_t idx, nz = 0;
		json_int_t prev = -1;

		for (unsigned i = 0; i <= HIST_BUCKETS; i++)
			nz += a->bins[i] != 0;
		CHECK_EQ(json_array_size(bins), nz, "bins emitted vs non-zero bins");
		json_array_foreach(bins, idx, pair) {
			json_int_t low = json_integer_value(json_array_get(pair, 0));

			CHECK(low > prev, "bins not increasing at %zu", idx);
			CHECK(json_integer_value(json_array_get(pair, 1)) > 0, "zero bin emitted at %zu", idx);
			prev = low;
		}
	}
	free(text);
	json_decref(j);
	json_decref(j2);

	/* an empty histogram */
	hist_sum_init(a);
	j = hist_sum_to_json(a);
	CHECK_EQ(hist_sum_from_json(b, j, err, sizeof(err)), 0, "empty: %s", err);
	check_same_sum(b, a, "empty round trip");
	json_decref(j);
	free(a);
	free(b);
}

/* Replace the bins of a valid histogram JSON by bins_text and expect
 * hist_sum_from_json to refuse it with a message containing want. */
static void expect_bad_bins(const char *bins_text, const char *want)
{
	struct hist_sum *a = sum_new(), *b = sum_new();
	char err[512] = "";
	json_t *j, *bins;
	json_error_t jerr;
	int ret;

	fill_sum(a, 11, 1000);
	j = hist_sum_to_json(a);
	bins = json_loads(bins_text, JSON_DECODE_ANY, &jerr);
	CHECK(bins, "test bug: bad JSON %s: %s", bins_text, jerr.text);
	json_object_set_new(j, "bins", bins);
	ret = hist_sum_from_json(b, j, err, sizeof(err));
	CHECK_EQ(ret, -1, "bins %s", bins_text);
	CHECK(strstr(err, want), "bins %s: message '%s' lacks '%s'", bins_text, err, want);
	json_decref(j);
	free(a);
	free(b);
}

TEST(json_rejects_malformed_bins)
{
	expect_bad_bins("[[129, 1]]", "not a bucket boundary");       /* 128 + 2k are the lows of [128,256) */
	expect_bad_bins("[[128, 1], [1001, 2]]", "bins[1]: 1001 ns is not a bucket boundary");
	expect_bad_bins("[[1099511627777, 1]]", "not a bucket boundary"); /* 2^40 + 1 */
	expect_bad_bins("[[128, -1]]", "bins[0] is not a pair");      /* negative count */
	expect_bad_bins("[[-128, 1]]", "bins[0] is not a pair");      /* negative low */
	expect_bad_bins("[[128]]", "bins[0] is not a pair");          /* too short */
	expect_bad_bins("[[]]", "bins[0] is not a pair");
	expect_bad_bins("[128, 1]", "bins[0] is not a pair");         /* flat, not pairs */
	expect_bad_bins("[[\"128\", 1]]", "bins[0] is not a pair");   /* string low */
	expect_bad_bins("[[128, 1.5]]", "bins[0] is not a pair");     /* real count */
	expect_bad_bins("[{\"low\": 128, \"count\": 1}]", "bins[0] is not a pair");
	expect_bad_bins("{\"128\": 1}", "an array bins");             /* bins an object */
	expect_bad_bins("null", "an array bins");
}

TEST(json_rejects_bin_with_extra_elements)
{
	/* [low, count, junk] is not a pair */
	expect_bad_bins("[[128, 1, 2]]", "bins[0] is not a pair");
}

TEST(json_rejects_non_boundary_low_in_overflow)
{
	/* the overflow bucket's low is 2^41 (hist_bucket_low, and what
	 * hist_sum_to_json writes); 2^41 + 1 is no boundary */
	expect_bad_bins("[[2199023255553, 1]]", "not a bucket boundary");
}

TEST(json_rejects_missing_fields)
{
	static const char *const drop[] = { "count", "sum_ns", "min_ns", "max_ns", "bins" };
	struct hist_sum *a = sum_new(), *b = sum_new();
	char err[512];

	fill_sum(a, 3, 100);
	for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++) {
		json_t *j = hist_sum_to_json(a);

		json_object_del(j, drop[i]);
		err[0] = '\0';
		CHECK_EQ(hist_sum_from_json(b, j, err, sizeof(err)), -1, "without %s", drop[i]);
		CHECK(strstr(err, "histogram needs"), "without %s: message '%s'", drop[i], err);
		json_decref(j);
	}
	{
		json_t *j = hist_sum_to_json(a);

		json_object_set_new(j, "count", json_string("12"));
		CHECK_EQ(hist_sum_from_json(b, j, err, sizeof(err)), -1, "a string count");
		json_decref(j);
	}
	{
		json_t *j = json_array();

		CHECK_EQ(hist_sum_from_json(b, j, err, sizeof(err)), -1, "an array");
		json_decref(j);
	}
	free(a);
	free(b);
}

/* count, sum_ns, min_ns, max_ns are unsigned quantities */
TEST(json_rejects_negative_totals)
{
	static const char *const keys[] = { "count", "sum_ns", "min_ns", "max_ns" };
	struct hist_sum *a = sum_new(), *b = sum_new();
	char err[512];

	fill_sum(a, 3, 100);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *j = hist_sum_to_json(a);

		json_object_set_new(j, keys[i], json_integer(-5));
		err[0] = '\0';
		CHECK_EQ(hist_sum_from_json(b, j, err, sizeof(err)), -1, "%s = -5 (read back as %llu)", keys[i],
			 (unsigned long long)(i == 0 ? b->count : i == 1 ? b->sum_ns : i == 2 ? b->min_ns : b->max_ns));
		json_decref(j);
	}
	free(a);
	free(b);
}
