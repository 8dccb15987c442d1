/* hist: log-linear latency histograms in nanoseconds.
 *
 * Bucketing.  Values 0..127 ns each have a bucket of their own (exact).  A
 * value v >= 128 with m = floor(log2 v) (7 <= m <= 40) falls into one of 64
 * equal sub-buckets of the octave [2^m, 2^(m+1)), each 2^(m-6) ns wide:
 *     index = 128 + (m - 7) * 64 + (v >> (m - 6)) - 64.
 * Values >= 2^41 ns (about 36.6 minutes) land in one overflow bucket; the
 * exact maximum is kept separately, so a max is never lost.
 *
 * Error bound.  A bucket [lo, lo + w) with w = 2^(m-6) has lo >= 64 w.  A
 * percentile is reported as the bucket's midpoint lo + (w - 1) / 2 (clamped to
 * the exact recorded min and max), so for any value v in the bucket
 *     |midpoint - v| <= (w - 1) / 2 < w / 2 <= lo / 128 <= v / 128,
 * i.e. the worst-case relative error is 1/128 = 0.78% (< 1%).  Below 128 ns
 * the error is 0.  Were the upper edge reported instead the bound would be
 * 1/64 = 1.56%, which is why faultline reports midpoints.
 *
 * Percentiles are nearest-rank: the p-th percentile is the smallest recorded
 * value v with at least ceil(p/100 * count) samples <= v (exact on raw
 * samples); the histogram answers with the midpoint of the bucket that holds
 * that sample, so it is within the bound above of the exact answer.
 *
 * Memory.  HIST_BUCKETS = 128 + 34 * 64 = 2304 buckets plus the overflow
 * bucket.  A per-thread struct hist has 32-bit counts: 9,224 bytes of bins +
 * 40 bytes of header = 9,264 bytes, preallocated (the runner's shared arena),
 * never resized.  A bin saturates at 2^32 - 1 (counted in `saturated`)
 * rather than wrapping.  Merged totals (struct hist_sum) use 64-bit counts:
 * 18.5 KiB.
 *
 * Recording is a clz, a shift, two compares and four stores into memory
 * owned by the recording thread alone: no locks, no atomics, no allocation.
 */
#ifndef FL_HIST_H
#define FL_HIST_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define HIST_LINEAR 128u
#define HIST_SUB_BITS 6u
#define HIST_SUBS (1u << HIST_SUB_BITS)
#define HIST_MAX_LOG2 40u
#define HIST_BUCKETS (HIST_LINEAR + (HIST_MAX_LOG2 - 7u + 1u) * HIST_SUBS)
#define HIST_OVERFLOW HIST_BUCKETS /* index of the overflow bucket */
#define HIST_RELATIVE_ERROR (1.0 / 128.0)
#define HIST_SCHEME "loglinear-ns/linear128/sub64/max2^41/midpoint"

struct hist {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t min_ns;
	uint64_t max_ns;
	uint32_t saturated;
	uint32_t bins[HIST_BUCKETS + 1];
};

struct hist_sum {
	uint64_t count;
	uint64_t sum_ns; /* wraps only after 584 years of summed latency */
	uint64_t min_ns;
	uint64_t max_ns;
	uint64_t saturated;
	uint64_t bins[HIST_BUCKETS + 1];
};

static inline unsigned hist_index(uint64_t v)
{
	unsigned m;

	if (v < HIST_LINEAR)
		return (unsigned)v;
	m = 63u - (unsigned)__builtin_clzll(v);
	if (m > HIST_MAX_LOG2)
		return HIST_OVERFLOW;
	return HIST_LINEAR + (m - 7u) * HIST_SUBS + (unsigned)(v >> (m - HIST_SUB_BITS)) - HIST_SUBS;
}

static inline void hist_record(struct hist *h, uint64_t v)
{
	unsigned i = hist_index(v);

	if (__builtin_expect(h->bins[i] == UINT32_MAX, 0))
		h->saturated++;
	else
		h->bins[i]++;
	h->count++;
	h->sum_ns += v;
	if (v < h->min_ns)
		h->min_ns = v;
	if (v > h->max_ns)
		h->max_ns = v;
}

void hist_init(struct hist *h);
void hist_sum_init(struct hist_sum *s);
void hist_sum_add(struct hist_sum *s, const struct hist *h);
void hist_sum_merge(struct hist_sum *s, const struct hist_sum *other);
/* Lowest value and width of bucket i (i < HIST_BUCKETS). */
uint64_t hist_bucket_low(unsigned i);
uint64_t hist_bucket_width(unsigned i);
/* Nearest-rank percentile (0 < p <= 100) as a bucket midpoint clamped to
 * [min, max]; 0 when the histogram is empty. */
double hist_sum_percentile(const struct hist_sum *s, double p);
double hist_sum_mean(const struct hist_sum *s);

/* JSON: {"count","mean_ns","min_ns","max_ns","p50_ns",...,"bins":[[low_ns,count],...]}
 * with only the non-zero bins; hist_sum_from_json reads it back exactly. */
json_t *hist_sum_to_json(const struct hist_sum *s);
int hist_sum_from_json(struct hist_sum *s, const json_t *obj, char *err, size_t errlen);

#endif
