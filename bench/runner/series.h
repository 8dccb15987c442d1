/* series: the once-a-second samples of the probes during the measured
 * phase, their per-interval deltas, the per-iteration probe deltas and the
 * progress line.  Samples of the measured phase are taken by a sampler
 * thread, so a probe whose read stalls (the slowfs stats file behind queued
 * FUSE requests) can delay the next sample but never the runner's clock:
 * the phase still ends on time.  Private to bench/runner/. */
#ifndef FL_SERIES_H
#define FL_SERIES_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "bench/probes/probe.h"

struct run;

struct series {
	json_t *t_s;
	json_t *keys;   /* "probe.key" -> array of per-interval deltas */
	json_t **prev;  /* per probe: last sample */
	json_t **first; /* per probe: first sample */
	bool *present;  /* per probe: available this iteration */
	char (*reasons)[256];
	struct probe_ctx ctx;
	/* the sampler thread; the fields below `lock` are shared with it */
	struct run *r;
	int64_t iter;
	uint64_t t0_ns;    /* start of the measured phase */
	uint64_t stall_ns; /* test-only stall of every sample it takes */
	pthread_t thread;
	bool running, abandoned, realtime;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool request, busy, quit;
	uint64_t skipped, longest_ns;
};

/* A new series (NULL with err when out of memory). */
struct series *series_new(char *err, size_t errlen);

/* Free it, unless its sampler thread had to be abandoned (then it stays). */
void series_free(struct series *s);

/* Which probes are available this iteration (ctx is copied). */
void series_available(struct series *s, const struct probe_ctx *ctx);

/* Take one sample in the runner's thread (before the sampler starts and
 * after it stopped), at at_ns (about now), recorded as at_ns - t0_ns
 * seconds into the measured phase. */
void series_sample(struct series *s, uint64_t t0_ns, uint64_t at_ns);

/* Start the sampler thread for the measured phase that began at t0_ns.
 * 0, or -1 with err. */
int series_sampler_start(struct series *s, struct run *r, int64_t iter, uint64_t t0_ns, char *err, size_t errlen);

/* Ask for a sample now; when the sampler is still busy with an earlier one,
 * or the caller missed `lost` ticks, they are counted as skipped. */
void series_sampler_tick(struct series *s, uint64_t lost);

/* Let the sample in progress finish (waiting at most until deadline_ns)
 * and end the thread.  0; -1 when it did not finish in time: the thread is
 * left behind (s->abandoned) and s must not be read any more. */
int series_sampler_stop(struct series *s, uint64_t deadline_ns);

/* {"samples": N, "skipped": N, "longest_sample_s": X} */
json_t *series_sampling_json(struct series *s);

/* Per-iteration probe summary: {"name": {"present": b, "reason"?, "delta": {...}, ...}} */
json_t *series_probe_deltas(struct series *s);

/* The series as stored in iterations[i].series: the keys and t_s. */
json_t *series_to_json(struct series *s);

#endif
