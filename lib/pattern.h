/* pattern: the synthetic content of faultline's files, and the random
 * generators the workloads draw page indices from.
 *
 * Every byte of every file the suite creates (plain files on a directory,
 * or files served by slowfs) is a pure function of (file index, offset), so
 * any reader can verify what it got without a reference copy:
 * the 8-byte little-endian word at offset o (o a multiple of 8) of file f is
 * pattern_word(f, o / 8).  Files whose size is not a multiple of 8 end with
 * the leading bytes of the next word.
 */
#ifndef FL_PATTERN_H
#define FL_PATTERN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t pattern_mix64(uint64_t x)
{
	/* splitmix64 finaliser: a bijection with good avalanche */
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static inline uint64_t pattern_word(uint64_t file_index, uint64_t word_index)
{
	return pattern_mix64(word_index ^ pattern_mix64(file_index + 0x51ed270b7f1ULL));
}

/* Fill buf with the content of file file_index at [offset, offset+len). */
void pattern_fill(uint64_t file_index, uint64_t offset, void *buf, size_t len);

/* Compare buf with the expected content; returns the offset (relative to
 * buf) of the first differing byte, or len when all bytes match. */
size_t pattern_check(uint64_t file_index, uint64_t offset, const void *buf, size_t len);

/* xoshiro256** generator: per thread, seeded from (seed, thread index). */
struct pattern_rng {
	uint64_t s[4];
};

void pattern_rng_seed(struct pattern_rng *rng, uint64_t seed, uint64_t stream);

static inline uint64_t pattern_rng_next(struct pattern_rng *rng)
{
	uint64_t *s = rng->s;
	uint64_t result = ((s[1] * 5) << 7 | (s[1] * 5) >> 57) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = (s[3] << 45) | (s[3] >> 19);
	return result;
}

/* Uniform double in [0, 1). */
static inline double pattern_rng_double(struct pattern_rng *rng)
{
	return (double)(pattern_rng_next(rng) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [0, n), n > 0 (Lemire's multiply-shift, negligible bias
 * for n far below 2^64). */
static inline uint64_t pattern_rng_below(struct pattern_rng *rng, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)pattern_rng_next(rng) * n) >> 64);
}

/* Zipf(theta) over [0, n): Gray et al., "Quickly generating billion-record
 * synthetic databases" (SIGMOD 1994), the generator YCSB uses.  Setup costs
 * O(n) once; each draw is O(1).  theta in (0, 1) U (1, 10]. */
struct pattern_zipf {
	uint64_t n;
	double theta, alpha, zetan, eta, half_pow_theta;
};

int pattern_zipf_init(struct pattern_zipf *z, uint64_t n, double theta);
uint64_t pattern_zipf_next(const struct pattern_zipf *z, struct pattern_rng *rng);

/* A pseudo-random permutation of [0, n): visits every index exactly once in
 * a scrambled order without any memory (cycle-walking a 2-round-per-bit
 * Feistel network over the next power of four). */
struct pattern_perm {
	uint64_t n, half_mask;
	unsigned half_bits;
	uint64_t key[4];
};

void pattern_perm_init(struct pattern_perm *p, uint64_t n, uint64_t seed);
uint64_t pattern_perm_at(const struct pattern_perm *p, uint64_t i);

#endif
