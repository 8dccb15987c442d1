/* series: probe samples, their deltas and the progress line (series.h). */
#define _GNU_SOURCE
#include "bench/runner/series.h"
#include "bench/runner/run.h"
#include "lib/util.h"
#include "workloads/role.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct series *series_new(char *err, size_t errlen)
{
	struct series *s = calloc(1, sizeof(*s));

	if (!s)
		goto fail;
	s->t_s = json_array();
	s->keys = json_object();
	s->prev = calloc(probe_count, sizeof(json_t *));
	s->first = calloc(probe_count, sizeof(json_t *));
	s->present = calloc(probe_count, sizeof(bool));
	s->reasons = calloc(probe_count, 256);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	if (s->t_s && s->keys && s->prev && s->first && s->present && s->reasons)
		return s;
fail:
	snprintf(err, errlen, "runner: allocating the sample series of %u probes: %s", probe_count, strerror(ENOMEM));
	series_free(s);
	return NULL;
}

void series_free(struct series *s)
{
	if (!s || s->abandoned)
		return; /* a stuck sampler thread may still use it: leave it */
	if (s->running)
		series_sampler_stop(s, UINT64_MAX);
	for (unsigned p = 0; s->prev && s->first && p < probe_count; p++) {
		json_decref(s->prev[p]);
		json_decref(s->first[p]);
	}
	json_decref(s->t_s);
	json_decref(s->keys);
	free(s->prev);
	free(s->first);
	free(s->present);
	free(s->reasons);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->wake);
	free(s);
}

void series_available(struct series *s, const struct probe_ctx *ctx)
{
	s->ctx = *ctx;
	for (unsigned p = 0; p < probe_count; p++)
		s->present[p] = probes[p]->available(&s->ctx, s->reasons[p], 256);
}

/* One sample, begun at begin_ns (the stall first: test-only, a sample
 * stuck behind its storage); its time counts in longest_ns.  Only one
 * thread samples at a time: the runner's before and after the sampler's. */
static void series_take(struct series *s, uint64_t begin_ns, uint64_t stall_ns)
{
	double t = (double)(begin_ns - s->t0_ns) / 1e9;
	uint64_t took;

	if (stall_ns)
		util_sleep_until(begin_ns + stall_ns);
	json_array_append_new(s->t_s, json_real(t));
	for (unsigned p = 0; p < probe_count; p++) {
		json_t *now, *v;
		const char *k;

		if (!s->present[p])
			continue;
		now = probes[p]->sample(&s->ctx);
		json_object_foreach(now, k, v) {
			char key[256];
			json_t *arr, *old = s->prev[p] ? json_object_get(s->prev[p], k) : NULL;

			snprintf(key, sizeof(key), "%s.%s", probes[p]->name, k);
			arr = json_object_get(s->keys, key);
			if (!arr) {
				arr = json_array();
				for (size_t i = 1; i < json_array_size(s->t_s); i++)
					json_array_append_new(arr, json_integer(0));
				json_object_set_new(s->keys, key, arr);
			}
			json_array_append_new(arr, json_integer(json_integer_value(v) -
								(old ? json_integer_value(old) : json_integer_value(v))));
		}
		json_decref(s->prev[p]);
		s->prev[p] = now;
		if (!s->first[p])
			s->first[p] = json_incref(now);
	}
	took = util_now_ns() - begin_ns;
	if (took > s->longest_ns)
		s->longest_ns = took;
}

void series_sample(struct series *s, uint64_t t0_ns, uint64_t at_ns)
{
	s->t0_ns = t0_ns;
	series_take(s, at_ns, 0);
}

/* The progress line: per running role, the rate of its first counter where
 * higher is better (from the role table: touches, ops, cycles, scans, reads), so a
 * role added to the table shows up here without another line. */
static void series_progress(struct series *s, double t)
{
	const struct run *r = s->r;
	const json_t *counts = s->prev[0];
	char line[512];
	size_t len = 0;

	if (r->quiet)
		return;
	if (!isatty(STDERR_FILENO) && (int64_t)t % 10 != 0)
		return; /* a log gets a line every 10 s, a terminal one updated line */
	for (unsigned ri = 0; ri < role_count && len < sizeof(line) - 64; ri++) {
		if (roles[ri]->threads(&r->cfg) <= 0)
			continue;
		for (unsigned c = 0; c < roles[ri]->ncounters; c++) {
			char key[96];

			if (roles[ri]->counters[c].kind != ROLE_KIND_COUNT ||
			    roles[ri]->counters[c].better != ROLE_BETTER_HIGHER)
				continue;
			snprintf(key, sizeof(key), "%s.%s", roles[ri]->name, roles[ri]->counters[c].name);
			/* a rate over the iteration so far, named as in the summary */
			len += (size_t)snprintf(line + len, sizeof(line) - len, "  %s_per_s %.0f", key,
						t > 0 ? (double)json_integer_value(json_object_get(counts, key)) / t : 0.0);
			break;
		}
	}
	fprintf(stderr, "%s[%s] iteration %lld/%lld  %5.1f/%.0f s%s%s", isatty(STDERR_FILENO) ? "\r" : "", r->cfg.name,
		(long long)s->iter + 1, (long long)r->cfg.iterations, t, r->cfg.duration_s, line,
		isatty(STDERR_FILENO) ? "   " : "\n");
	fflush(stderr);
}

/* The sampler thread: one sample per request, until told to quit. */
static void *series_sampler(void *arg)
{
	struct series *s = arg;
	struct sched_param sp = { .sched_priority = 1 };

	/* SCHED_RESET_ON_FORK gave this thread the ordinary policy: among
	 * thousands of runnable workload threads it would sample late.  Real
	 * time again, one step below the runner's thread, which keeps the clock. */
	if (s->realtime)
		sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp); /* this thread (Linux) */
	pthread_mutex_lock(&s->lock);
	for (;;) {
		uint64_t begin;

		while (!s->request && !s->quit)
			pthread_cond_wait(&s->wake, &s->lock);
		if (!s->request)
			break;
		s->request = false;
		s->busy = true;
		pthread_mutex_unlock(&s->lock);
		begin = util_now_ns();
		series_take(s, begin, s->stall_ns);
		series_progress(s, (double)(begin - s->t0_ns) / 1e9);
		pthread_mutex_lock(&s->lock);
		s->busy = false;
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int series_sampler_start(struct series *s, struct run *r, int64_t iter, uint64_t t0_ns, char *err, size_t errlen)
{
	sigset_t stop, old;
	int e;

	s->r = r;
	s->iter = iter;
	s->t0_ns = t0_ns;
	s->stall_ns = r->test_sample_stall_ns;
	s->realtime = (sched_getscheduler(0) & ~SCHED_RESET_ON_FORK) == SCHED_FIFO;
	/* stop signals go to the runner's thread, whose sleeps they cut short */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop, &old);
	e = pthread_create(&s->thread, NULL, series_sampler, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e) {
		snprintf(err, errlen, "runner: starting the sampler thread: %s", strerror(e));
		return -1;
	}
	s->running = true;
	return 0;
}

void series_sampler_tick(struct series *s, uint64_t lost)
{
	pthread_mutex_lock(&s->lock);
	s->skipped += lost;
	if (s->busy || s->request) {
		s->skipped++;
	} else {
		s->request = true;
		pthread_cond_signal(&s->wake);
	}
	pthread_mutex_unlock(&s->lock);
}

int series_sampler_stop(struct series *s, uint64_t deadline_ns)
{
	struct timespec ts;
	int e;

	if (!s->running)
		return 0;
	pthread_mutex_lock(&s->lock);
	s->quit = true;
	s->request = false; /* a sample not yet begun is not taken */
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	if (deadline_ns == UINT64_MAX) {
		e = pthread_join(s->thread, NULL);
	} else {
		/* pthread_timedjoin_np takes a CLOCK_REALTIME time */
		uint64_t now = util_now_ns(), left = deadline_ns > now ? deadline_ns - now : 0;
		uint64_t abs = util_realtime_ns() + left;

		ts.tv_sec = (time_t)(abs / 1000000000ull);
		ts.tv_nsec = (long)(abs % 1000000000ull);
		e = pthread_timedjoin_np(s->thread, NULL, &ts);
	}
	if (e == ETIMEDOUT) {
		pthread_detach(s->thread);
		s->abandoned = true;
		s->running = false;
		return -1;
	}
	s->running = false;
	return 0;
}

json_t *series_sampling_json(struct series *s)
{
	/* samples: every point of the series (the two the runner takes itself included) */
	return json_pack("{s:I, s:I, s:f}", "samples", (json_int_t)json_array_size(s->t_s), "skipped",
			 (json_int_t)s->skipped, "longest_sample_s", (double)s->longest_ns / 1e9);
}

json_t *series_probe_deltas(struct series *s)
{
	json_t *out = json_object();

	for (unsigned p = 0; p < probe_count; p++) {
		json_t *o = json_object(), *delta = json_object(), *v;
		const char *k;

		json_object_set_new(o, "present", json_boolean(s->present[p]));
		if (!s->present[p])
			json_object_set_new(o, "reason", json_string(s->reasons[p]));
		if (s->present[p] && s->first[p] && s->prev[p])
			json_object_foreach(s->prev[p], k, v) {
				json_t *f = json_object_get(s->first[p], k);

				json_object_set_new(delta, k, json_integer(json_integer_value(v) -
									   (f ? json_integer_value(f) : 0)));
			}
		json_object_set_new(o, "delta", delta);
		if (s->present[p] && probes[p]->result) {
			json_t *extra = probes[p]->result(&s->ctx);

			json_object_update(o, extra);
			json_decref(extra);
		}
		json_object_set_new(out, probes[p]->name, o);
	}
	return out;
}

json_t *series_to_json(struct series *s)
{
	json_object_set_new(s->keys, "t_s", json_incref(s->t_s));
	return json_incref(s->keys);
}
