/* pattern: synthetic file content and random generators (see pattern.h). */
#define _GNU_SOURCE
#include "lib/pattern.h"

#include <errno.h>
#include <math.h>

void pattern_fill(uint64_t file_index, uint64_t offset, void *buf, size_t len)
{
	unsigned char *out = buf;
	uint64_t file_key = pattern_mix64(file_index + 0x51ed270b7f1ULL);

	while (len > 0) {
		uint64_t word_index = offset >> 3;
		unsigned skip = (unsigned)(offset & 7);
		uint64_t w = pattern_mix64(word_index ^ file_key);
		unsigned char bytes[8];
		size_t n = 8 - skip;

		for (int i = 0; i < 8; i++)
			bytes[i] = (unsigned char)(w >> (8 * i));
		if (n > len)
			n = len;
		memcpy(out, bytes + skip, n);
		out += n;
		offset += n;
		len -= n;
	}
}

size_t pattern_check(uint64_t file_index, uint64_t offset, const void *buf, size_t len)
{
	const unsigned char *in = buf;
	unsigned char expect[512];
	size_t done = 0;

	while (done < len) {
		size_t n = len - done < sizeof(expect) ? len - done : sizeof(expect);

		pattern_fill(file_index, offset + done, expect, n);
		if (memcmp(expect, in + done, n) != 0) {
			for (size_t i = 0; i < n; i++)
				if (expect[i] != in[done + i])
					return done + i;
		}
		done += n;
	}
	return len;
}

void pattern_rng_seed(struct pattern_rng *rng, uint64_t seed, uint64_t stream)
{
	uint64_t x = pattern_mix64(seed) ^ pattern_mix64(stream + 0x632be59bd9b4e019ULL);

	for (int i = 0; i < 4; i++) {
		x = pattern_mix64(x + (uint64_t)i);
		rng->s[i] = x ? x : 0x9e3779b97f4a7c15ULL;
	}
}

static double pattern_zeta(uint64_t n, double theta)
{
	double sum = 0;

	for (uint64_t i = 1; i <= n; i++)
		sum += pow((double)i, -theta);
	return sum;
}

int pattern_zipf_init(struct pattern_zipf *z, uint64_t n, double theta)
{
	if (n == 0 || !(theta > 0) || theta == 1.0 || theta > 10) {
		errno = EINVAL;
		return -1;
	}
	z->n = n;
	z->theta = theta;
	z->zetan = pattern_zeta(n, theta);
	z->alpha = 1.0 / (1.0 - theta);
	z->half_pow_theta = 1.0 + pow(0.5, theta);
	{
		double zeta2 = 1.0 + pow(2.0, -theta);

		z->eta = (1.0 - pow(2.0 / (double)n, 1.0 - theta)) / (1.0 - zeta2 / z->zetan);
	}
	return 0;
}

uint64_t pattern_zipf_next(const struct pattern_zipf *z, struct pattern_rng *rng)
{
	double u = pattern_rng_double(rng);
	double uz = u * z->zetan;
	uint64_t v;

	if (uz < 1.0)
		return 0;
	if (uz < z->half_pow_theta)
		return z->n > 1 ? 1 : 0;
	v = (uint64_t)((double)z->n * pow(z->eta * u - z->eta + 1.0, z->alpha));
	return v < z->n ? v : z->n - 1;
}

void pattern_perm_init(struct pattern_perm *p, uint64_t n, uint64_t seed)
{
	unsigned bits = 2;

	while (bits < 64 && (1ULL << bits) < n)
		bits += 2;
	p->n = n;
	p->half_bits = bits / 2;
	p->half_mask = (1ULL << p->half_bits) - 1;
	for (int i = 0; i < 4; i++)
		p->key[i] = pattern_mix64(seed * 4 + (uint64_t)i + 1);
}

static uint64_t pattern_feistel(const struct pattern_perm *p, uint64_t x)
{
	uint64_t l = x >> p->half_bits, r = x & p->half_mask;

	for (int round = 0; round < 4; round++) {
		uint64_t f = pattern_mix64(r ^ p->key[round]) & p->half_mask;
		uint64_t nl = r;

		r = l ^ f;
		l = nl;
	}
	return (l << p->half_bits) | r;
}

uint64_t pattern_perm_at(const struct pattern_perm *p, uint64_t i)
{
	/* The Feistel network permutes [0, 4^k); walking the cycle until it
	 * lands inside [0, n) keeps it a permutation of [0, n).  4^k < 4n, so
	 * the expected walk is under 4 steps. */
	uint64_t x = i;

	do
		x = pattern_feistel(p, x);
	while (x >= p->n);
	return x;
}
