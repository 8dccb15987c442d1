/* hist: log-linear latency histograms (the maths is in hist.h). */
#define _GNU_SOURCE
#include "lib/hist.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min_ns = UINT64_MAX;
}

void hist_sum_init(struct hist_sum *s)
{
	memset(s, 0, sizeof(*s));
	s->min_ns = UINT64_MAX;
}

void hist_sum_add(struct hist_sum *s, const struct hist *h)
{
	uint64_t count = h->saturated;

	if (h->count == 0)
		return;
	/* The count is taken from the bins: a thread killed inside hist_record
	 * (a victim that did not stop in time) may have bumped one but not the
	 * other, and the bins are what percentiles are computed from. */
	for (unsigned i = 0; i <= HIST_BUCKETS; i++) {
		s->bins[i] += h->bins[i];
		count += h->bins[i];
	}
	s->count += count;
	s->sum_ns += h->sum_ns;
	s->saturated += h->saturated;
	if (h->min_ns < s->min_ns)
		s->min_ns = h->min_ns;
	if (h->max_ns > s->max_ns)
		s->max_ns = h->max_ns;
}

void hist_sum_merge(struct hist_sum *s, const struct hist_sum *o)
{
	if (o->count == 0)
		return;
	for (unsigned i = 0; i <= HIST_BUCKETS; i++)
		s->bins[i] += o->bins[i];
	s->count += o->count;
	s->sum_ns += o->sum_ns;
	s->saturated += o->saturated;
	if (o->min_ns < s->min_ns)
		s->min_ns = o->min_ns;
	if (o->max_ns > s->max_ns)
		s->max_ns = o->max_ns;
}

uint64_t hist_bucket_low(unsigned i)
{
	unsigned k, m;

	if (i < HIST_LINEAR)
		return i;
	if (i >= HIST_BUCKETS)
		return 1ULL << (HIST_MAX_LOG2 + 1);
	k = i - HIST_LINEAR;
	m = 7u + k / HIST_SUBS;
	return (uint64_t)(HIST_SUBS + k % HIST_SUBS) << (m - HIST_SUB_BITS);
}

uint64_t hist_bucket_width(unsigned i)
{
	if (i < HIST_LINEAR)
		return 1;
	if (i >= HIST_BUCKETS)
		return UINT64_MAX - hist_bucket_low(i);
	return 1ULL << (7u + (i - HIST_LINEAR) / HIST_SUBS - HIST_SUB_BITS);
}

double hist_sum_percentile(const struct hist_sum *s, double p)
{
	uint64_t rank, seen = 0;

	if (s->count == 0)
		return 0;
	if (p <= 0)
		return (double)s->min_ns;
	{
		/* integer arithmetic: ceil(99.9 / 100 * 1000) in doubles is 1000, not 999 */
		uint64_t ppm = (uint64_t)llround(p * 1e4); /* parts per million */

		rank = (uint64_t)(((unsigned __int128)ppm * s->count + 999999) / 1000000);
	}
	if (rank < 1)
		rank = 1;
	if (rank > s->count)
		rank = s->count;
	for (unsigned i = 0; i <= HIST_BUCKETS; i++) {
		double v;

		seen += s->bins[i];
		if (seen < rank)
			continue;
		if (i == HIST_OVERFLOW)
			return (double)s->max_ns;
		v = (double)hist_bucket_low(i) + (double)(hist_bucket_width(i) - 1) / 2.0;
		if (v < (double)s->min_ns)
			v = (double)s->min_ns;
		if (v > (double)s->max_ns)
			v = (double)s->max_ns;
		return v;
	}
	return (double)s->max_ns; /* saturated bins lost counts: the tail is the max */
}

double hist_sum_mean(const struct hist_sum *s)
{
	return s->count ? (double)s->sum_ns / (double)s->count : 0;
}

static const struct {
	const char *key;
	double p;
} hist_percentiles[] = {
	{ "p50_ns", 50 }, { "p90_ns", 90 }, { "p99_ns", 99 }, { "p99_9_ns", 99.9 }, { "p99_99_ns", 99.99 },
};

json_t *hist_sum_to_json(const struct hist_sum *s)
{
	json_t *o = json_object(), *bins = json_array();

	json_object_set_new(o, "count", json_integer((json_int_t)s->count));
	json_object_set_new(o, "sum_ns", json_integer((json_int_t)s->sum_ns));
	json_object_set_new(o, "mean_ns", json_real(hist_sum_mean(s)));
	json_object_set_new(o, "min_ns", json_integer(s->count ? (json_int_t)s->min_ns : 0));
	json_object_set_new(o, "max_ns", json_integer((json_int_t)s->max_ns));
	for (size_t i = 0; i < sizeof(hist_percentiles) / sizeof(hist_percentiles[0]); i++)
		json_object_set_new(o, hist_percentiles[i].key, json_real(hist_sum_percentile(s, hist_percentiles[i].p)));
	json_object_set_new(o, "saturated", json_integer((json_int_t)s->saturated));
	for (unsigned i = 0; i <= HIST_BUCKETS; i++) {
		if (s->bins[i] == 0)
			continue;
		json_array_append_new(bins, json_pack("[II]", (json_int_t)hist_bucket_low(i), (json_int_t)s->bins[i]));
	}
	json_object_set_new(o, "bins", bins);
	return o;
}

int hist_sum_from_json(struct hist_sum *s, const json_t *obj, char *err, size_t errlen)
{
	const json_t *bins = json_object_get(obj, "bins"), *pair;
	json_int_t count, sum, min, max, saturated = 0;
	size_t idx;

	hist_sum_init(s);
	uint64_t binned = 0;

	if (json_unpack((json_t *)obj, "{s:I, s:I, s:I, s:I}", "count", &count, "sum_ns", &sum, "min_ns", &min,
			"max_ns", &max) != 0 || !json_is_array(bins)) {
		snprintf(err, errlen, "histogram needs integer count, sum_ns, min_ns, max_ns and an array bins");
		return -1;
	}
	json_unpack((json_t *)obj, "{s?I}", "saturated", &saturated);
	if (count < 0 || sum < 0 || min < 0 || max < 0 || saturated < 0 || (count > 0 && min > max)) {
		snprintf(err, errlen, "count %lld, sum_ns %lld, min_ns %lld, max_ns %lld, saturated %lld: negative, or min > max",
			 (long long)count, (long long)sum, (long long)min, (long long)max, (long long)saturated);
		return -1;
	}
	json_array_foreach(bins, idx, pair) {
		json_int_t low, n;
		unsigned i;

		if (json_unpack((json_t *)pair, "[II!]", &low, &n) != 0 || low < 0 || n < 0) {
			snprintf(err, errlen, "bins[%zu] is not a pair [low_ns, count] of non-negative integers", idx);
			return -1;
		}
		i = hist_index((uint64_t)low);
		if (hist_bucket_low(i) != (uint64_t)low) {
			snprintf(err, errlen, "bins[%zu]: %lld ns is not a bucket boundary of %s", idx, (long long)low,
				 HIST_SCHEME);
			return -1;
		}
		s->bins[i] += (uint64_t)n;
		binned += (uint64_t)n;
	}
	if (binned + (uint64_t)saturated != (uint64_t)count) {
		snprintf(err, errlen, "count %lld is not the sum of the bins (%llu) plus saturated (%lld)", (long long)count,
			 (unsigned long long)binned, (long long)saturated);
		return -1;
	}
	s->count = (uint64_t)count;
	s->sum_ns = (uint64_t)sum;
	s->min_ns = count ? (uint64_t)min : UINT64_MAX;
	s->max_ns = (uint64_t)max;
	s->saturated = (uint64_t)saturated;
	return 0;
}
