/* test_pattern: file content function and generators (lib/pattern.h). */
#include "tests/check.h"
#include "lib/pattern.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>

#define TiB (1ULL << 40)

/* The documented definition, byte by byte: byte o of file f is byte o % 8
 * (little-endian) of pattern_word(f, o / 8). */
static unsigned char ref_byte(uint64_t f, uint64_t o)
{
	return (unsigned char)(pattern_word(f, o / 8) >> (8 * (o % 8)));
}

static const uint64_t offsets[] = {
	0, 1, 3, 7, 8, 9, 511, 512, 513, 4093, 4096, 4099, 65535, 1048577,
	TiB - 4099, TiB - 1, TiB, TiB + 5, 3 * TiB + 4095, 1024 * TiB - 13,
};
static const size_t lengths[] = { 0, 1, 2, 5, 7, 8, 9, 15, 16, 17, 511, 512, 513, 1023, 4096, 4097, 9000 };

TEST(fill_matches_definition)
{
	unsigned char *buf = malloc(9000);

	CHECK(buf, "malloc");
	for (uint64_t f = 0; f < 3; f++)
		for (size_t oi = 0; oi < sizeof(offsets) / sizeof(offsets[0]); oi++)
			for (size_t li = 0; li < sizeof(lengths) / sizeof(lengths[0]); li++) {
				uint64_t off = offsets[oi];
				size_t len = lengths[li];

				pattern_fill(f, off, buf, len);
				for (size_t i = 0; i < len; i++)
					CHECK_EQ(buf[i], ref_byte(f, off + i), "file %llu offset %llu len %zu: byte %zu",
						 (unsigned long long)f, (unsigned long long)off, len, i);
			}
	/* the word at an aligned offset is pattern_word, little-endian */
	{
		uint64_t w = 0;

		pattern_fill(7, 8 * 12345, &w, 8);
		if (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
			CHECK_EQ(w, pattern_word(7, 12345));
	}
	free(buf);
}

TEST(fill_and_check_agree_at_unaligned_offsets)
{
	unsigned char *big = malloc(20000), *buf = malloc(9000);

	CHECK(big && buf, "malloc");
	for (size_t oi = 0; oi < sizeof(offsets) / sizeof(offsets[0]); oi++) {
		uint64_t base = offsets[oi];

		/* one big fill; every sub-range filled on its own is the same */
		pattern_fill(2, base, big, 20000);
		CHECK_EQ(pattern_check(2, base, big, 20000), 20000, "a full fill at %llu", (unsigned long long)base);
		for (size_t li = 0; li < sizeof(lengths) / sizeof(lengths[0]); li++) {
			static const size_t starts[] = { 0, 1, 3, 7, 8, 13, 500, 511, 512, 4095, 10001 };

			for (size_t si = 0; si < sizeof(starts) / sizeof(starts[0]); si++) {
				size_t st = starts[si], len = lengths[li];

				if (st + len > 20000)
					continue;
				pattern_fill(2, base + st, buf, len);
				CHECK(memcmp(buf, big + st, len) == 0, "fill at %llu+%zu len %zu differs from the big fill",
				      (unsigned long long)base, st, len);
				CHECK_EQ(pattern_check(2, base + st, big + st, len), len, "at %llu+%zu len %zu",
					 (unsigned long long)base, st, len);
			}
		}
		/* the same bytes are not the content of another file or offset */
		CHECK(pattern_check(3, base, big, 64) < 64, "file 3 matches file 2 at %llu", (unsigned long long)base);
		CHECK(pattern_check(2, base + 8, big, 64) < 64, "offset+8 matches at %llu", (unsigned long long)base);
	}
	/* a range straddling the 1 TiB boundary */
	pattern_fill(0, TiB - 4097, big, 8194);
	CHECK_EQ(pattern_check(0, TiB - 4097, big, 8194), 8194, "straddling 1 TiB");
	for (size_t i = 0; i < 8194; i++)
		CHECK_EQ(big[i], ref_byte(0, TiB - 4097 + i), "straddling 1 TiB: byte %zu", i);
	free(big);
	free(buf);
}

TEST(flipped_byte_located_exactly)
{
	enum { LEN = 10000 };
	unsigned char *buf = malloc(LEN);
	static const uint64_t bases[] = { 0, 5, 4096 + 3, TiB - 3, 5 * TiB + 1 };
	static const size_t at[] = { 0, 1, 7, 8, 255, 511, 512, 513, 1023, 1024, 4095, 4096, 9998, LEN - 1 };

	CHECK(buf, "malloc");
	for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
		pattern_fill(9, bases[b], buf, LEN);
		for (size_t a = 0; a < sizeof(at) / sizeof(at[0]); a++) {
			for (unsigned bit = 0; bit < 8; bit += 7) {
				size_t got;

				buf[at[a]] ^= (unsigned char)(1u << bit);
				got = pattern_check(9, bases[b], buf, LEN);
				buf[at[a]] ^= (unsigned char)(1u << bit);
				CHECK_EQ(got, at[a], "base %llu: flipped bit %u", (unsigned long long)bases[b], bit);
			}
		}
		/* two flips: the first is reported; a check starting past it finds the second */
		buf[700] ^= 0xff;
		buf[6000] ^= 0x10;
		CHECK_EQ(pattern_check(9, bases[b], buf, LEN), 700, "two flips, base %llu", (unsigned long long)bases[b]);
		CHECK_EQ(pattern_check(9, bases[b] + 701, buf + 701, LEN - 701), 6000 - 701, "the second flip");
		buf[700] ^= 0xff;
		buf[6000] ^= 0x10;
		CHECK_EQ(pattern_check(9, bases[b], buf, LEN), LEN, "the restored buffer");
	}
	free(buf);
}

TEST(perm_is_a_bijection)
{
	static const uint64_t ns[] = { 1, 2, 3, 4, 5, 7, 16, 17, 64, 1000, 4096, 4097, 65536, 100003 };
	static const uint64_t seeds[] = { 0, 1, 42, 0xdeadbeefcafeULL };
	unsigned char *seen = malloc(100003);

	CHECK(seen, "malloc");
	for (size_t ni = 0; ni < sizeof(ns) / sizeof(ns[0]); ni++)
		for (size_t si = 0; si < sizeof(seeds) / sizeof(seeds[0]); si++) {
			uint64_t n = ns[ni], fixed = 0;
			struct pattern_perm p;

			pattern_perm_init(&p, n, seeds[si]);
			memset(seen, 0, n);
			for (uint64_t i = 0; i < n; i++) {
				uint64_t x = pattern_perm_at(&p, i);

				CHECK(x < n, "n=%llu seed %llu: perm(%llu) = %llu out of range", (unsigned long long)n,
				      (unsigned long long)seeds[si], (unsigned long long)i, (unsigned long long)x);
				CHECK(!seen[x], "n=%llu seed %llu: %llu visited twice", (unsigned long long)n,
				      (unsigned long long)seeds[si], (unsigned long long)x);
				seen[x] = 1;
				fixed += x == i;
				CHECK_EQ(pattern_perm_at(&p, i), x, "deterministic");
			}
			/* scrambled, not the identity */
			CHECK(n < 64 || fixed < n / 8, "n=%llu: %llu fixed points", (unsigned long long)n,
			      (unsigned long long)fixed);
		}
	/* different seeds give different orders */
	{
		struct pattern_perm a, b;
		int same = 0;

		pattern_perm_init(&a, 1000, 1);
		pattern_perm_init(&b, 1000, 2);
		for (uint64_t i = 0; i < 1000; i++)
			same += pattern_perm_at(&a, i) == pattern_perm_at(&b, i);
		CHECK(same < 50, "seeds 1 and 2 agree on %d of 1000", same);
	}
	/* a huge n: values stay in range */
	{
		struct pattern_perm p;
		uint64_t n = (1ULL << 40) + 3;

		pattern_perm_init(&p, n, 5);
		for (uint64_t i = 0; i < 10000; i++)
			CHECK(pattern_perm_at(&p, i * 109951162ULL) < n, "huge n out of range");
	}
	free(seen);
}

static double zeta(uint64_t n, double theta)
{
	double s = 0;

	/* summed smallest first */
	for (uint64_t i = n; i >= 1; i--)
		s += 1.0 / pow((double)i, theta);
	return s;
}

TEST(zipf_distribution)
{
	enum { N = 1000, DRAWS = 1000000 };
	static const double thetas[] = { 0.2, 0.5, 0.99, 1.01, 1.5, 3.0 };
	uint64_t *count = calloc(N, sizeof(*count));
	struct pattern_rng rng;

	CHECK(count, "calloc");
	for (size_t t = 0; t < sizeof(thetas) / sizeof(thetas[0]); t++) {
		struct pattern_zipf z;
		double theta = thetas[t], p0;
		unsigned draws = theta == 0.99 ? DRAWS : DRAWS / 5;

		CHECK_EQ(pattern_zipf_init(&z, N, theta), 0, "theta %g", theta);
		pattern_rng_seed(&rng, 1234, t);
		memset(count, 0, N * sizeof(*count));
		for (unsigned i = 0; i < draws; i++) {
			uint64_t v = pattern_zipf_next(&z, &rng);

			CHECK(v < N, "theta %g: draw %llu out of [0, %d)", theta, (unsigned long long)v, N);
			count[v]++;
		}
		for (unsigned i = 1; i < N; i++)
			CHECK(count[0] >= count[i], "theta %g: rank %u drawn %llu times, rank 0 only %llu", theta, i,
			      (unsigned long long)count[i], (unsigned long long)count[0]);
		p0 = 1.0 / zeta(N, theta);
		CHECK_NEAR((double)count[0] / draws, p0, 0.1 * p0, "theta %g: rank 0 frequency, +- 10%%", theta);
		/* rank 1 has probability 2^-theta / zeta(n) */
		CHECK_NEAR((double)count[1] / draws, p0 * pow(2, -theta), 0.1 * p0 * pow(2, -theta),
			   "theta %g: rank 1 frequency, +- 10%%", theta);
		/* the tail is reached */
		{
			uint64_t upper = 0;

			for (unsigned i = N / 2; i < N; i++)
				upper += count[i];
			CHECK(theta > 1.2 || upper > 0, "theta %g: no draw in the upper half", theta);
		}
	}
	free(count);
}

TEST(zipf_edge_cases)
{
	struct pattern_zipf z;
	struct pattern_rng rng;

	pattern_rng_seed(&rng, 1, 0);
	errno = 0;
	CHECK_EQ(pattern_zipf_init(&z, 100, 1.0), -1, "theta 1.0");
	CHECK_EQ(errno, EINVAL, "theta 1.0");
	CHECK_EQ(pattern_zipf_init(&z, 100, 0), -1, "theta 0");
	CHECK_EQ(pattern_zipf_init(&z, 100, -0.5), -1, "negative theta");
	CHECK_EQ(pattern_zipf_init(&z, 100, 10.5), -1, "theta 10.5");
	CHECK_EQ(pattern_zipf_init(&z, 0, 0.99), -1, "n = 0");
	CHECK_EQ(pattern_zipf_init(&z, 100, NAN), -1, "theta NaN");

	CHECK_EQ(pattern_zipf_init(&z, 1, 0.99), 0, "n = 1");
	for (int i = 0; i < 10000; i++)
		CHECK_EQ(pattern_zipf_next(&z, &rng), 0, "n = 1");
	{
		static const double thetas[] = { 0.5, 0.99, 2.0 };

		for (size_t t = 0; t < 3; t++) {
			unsigned c[2] = { 0, 0 };

			CHECK_EQ(pattern_zipf_init(&z, 2, thetas[t]), 0, "n = 2");
			for (int i = 0; i < 100000; i++) {
				uint64_t v = pattern_zipf_next(&z, &rng);

				CHECK(v < 2, "n = 2 drew %llu", (unsigned long long)v);
				c[v]++;
			}
			CHECK(c[0] > c[1] && c[1] > 0, "n = 2 theta %g: %u/%u", thetas[t], c[0], c[1]);
		}
	}
	CHECK_EQ(pattern_zipf_init(&z, 3, 10.0), 0, "theta 10");
	for (int i = 0; i < 10000; i++)
		CHECK(pattern_zipf_next(&z, &rng) < 3, "theta 10 out of range");
}

TEST(rng_below_stays_below)
{
	static const uint64_t ns[] = { 1, 2, 3, 7, 10, 1000, 4097, (1ULL << 32) - 1, (1ULL << 32) + 1, 1ULL << 63,
				       UINT64_MAX };
	struct pattern_rng rng;

	pattern_rng_seed(&rng, 77, 3);
	for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
		uint64_t maxv = 0;

		for (int i = 0; i < 200000; i++) {
			uint64_t v = pattern_rng_below(&rng, ns[k]);

			CHECK(v < ns[k], "rng_below(%llu) = %llu", (unsigned long long)ns[k], (unsigned long long)v);
			if (v > maxv)
				maxv = v;
		}
		CHECK(ns[k] == 1 || maxv >= ns[k] / 2, "rng_below(%llu) never above %llu", (unsigned long long)ns[k],
		      (unsigned long long)maxv);
	}
	/* roughly uniform */
	{
		unsigned c[10] = { 0 };

		for (int i = 0; i < 1000000; i++)
			c[pattern_rng_below(&rng, 10)]++;
		for (int i = 0; i < 10; i++)
			CHECK(c[i] > 97000 && c[i] < 103000, "rng_below(10): %d drawn %u times of 1e6", i, c[i]);
	}
	/* doubles in [0, 1) */
	for (int i = 0; i < 100000; i++) {
		double d = pattern_rng_double(&rng);

		CHECK(d >= 0 && d < 1, "rng_double %g", d);
	}
}

TEST(rng_streams_reproducible_and_distinct)
{
	struct pattern_rng a, b, c;
	int same_bc = 0;

	pattern_rng_seed(&a, 5, 0);
	pattern_rng_seed(&b, 5, 0);
	pattern_rng_seed(&c, 5, 1);
	for (int i = 0; i < 1000; i++) {
		uint64_t x = pattern_rng_next(&a), y = pattern_rng_next(&b), z = pattern_rng_next(&c);

		CHECK_EQ(x, y, "same seed and stream, draw %d", i);
		same_bc += y == z;
	}
	CHECK_EQ(same_bc, 0, "draws on which streams 0 and 1 agree");
	pattern_rng_seed(&c, 6, 0);
	pattern_rng_seed(&a, 5, 0);
	CHECK(pattern_rng_next(&a) != pattern_rng_next(&c), "seeds 5 and 6 start alike");
}
