/* service: fl-slowfs's service model (slowfs.h, docs/slowfs.md "The service
 * model").  A data READ waits for an in-flight slot (first come, first
 * served), reserves its bytes in a token bucket (the bandwidth cap), draws
 * its latency (fixed, plus uniform or exponential jitter, or lognormal),
 * computes its bytes, sleeps until its deadline, is counted and answered. */
#define _GNU_SOURCE
#include "workloads/slowfs/slowfs.h"

#include "lib/pattern.h"
#include "lib/util.h"

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* z such that P(Z <= z) = 0.99 for a standard normal Z */
#define SERVICE_Z99 2.3263478740408408

static const char *const service_jitter_names[] = {
	[SLOWFS_JITTER_NONE] = "none",
	[SLOWFS_JITTER_UNIFORM] = "uniform",
	[SLOWFS_JITTER_EXPONENTIAL] = "exponential",
	[SLOWFS_JITTER_LOGNORMAL] = "lognormal",
};

/* The per-thread reply buffer (fs->buf_key). */
struct service_buf {
	size_t len;
	char *data;
};

/* What a request learned when it was admitted. */
struct service_admission {
	uint64_t start_ns;    /* got its in-flight slot */
	uint64_t transfer_ns; /* its bytes are through the bucket */
	struct slowfs_settings set;
	double mu, sigma;
};

static __thread struct pattern_rng service_rng;
static __thread bool service_rng_ready;

const char *service_jitter_name(uint64_t jitter)
{
	return jitter < FL_ARRAY_SIZE(service_jitter_names) ? service_jitter_names[jitter] : "?";
}

int service_jitter_parse(const char *text, uint64_t *out)
{
	for (size_t i = 0; i < FL_ARRAY_SIZE(service_jitter_names); i++) {
		if (!strcmp(text, service_jitter_names[i])) {
			*out = i;
			return 0;
		}
	}
	return -1;
}

int service_check(const struct slowfs_settings *s, char *err, size_t errlen)
{
	if (s->jitter == SLOWFS_JITTER_LOGNORMAL) {
		if (s->latency_ns == 0) {
			snprintf(err, errlen, "jitter lognormal needs latency_ns > 0 (the median)");
			return -1;
		}
		if (s->p99_ns < s->latency_ns) {
			snprintf(err, errlen,
				 "jitter lognormal needs p99_ns >= latency_ns (p99_ns %" PRIu64
				 ", latency_ns %" PRIu64 ")",
				 s->p99_ns, s->latency_ns);
			return -1;
		}
	}
	return 0;
}

void service_commit(struct slowfs *fs, const struct slowfs_settings *s)
{
	bool rate_changed = s->bandwidth_bytes_per_s != fs->set.bandwidth_bytes_per_s;

	fs->set = *s;
	if (s->jitter == SLOWFS_JITTER_LOGNORMAL) {
		fs->lognormal_mu = log((double)s->latency_ns);
		fs->lognormal_sigma = log((double)s->p99_ns / (double)s->latency_ns) / SERVICE_Z99;
	}
	if (rate_changed)
		fs->bucket_next_ns = util_now_ns();
	if (fs->wait_head) /* max_inflight may have grown */
		pthread_cond_signal(&fs->wait_head->cond);
}

static void service_buf_free(void *p)
{
	struct service_buf *b = p;

	if (b) {
		free(b->data);
		free(b);
	}
}

int service_init(struct slowfs *fs)
{
	fs->inflight_capacity = fs->cfg.set.max_inflight > SLOWFS_MIN_WORKERS ? fs->cfg.set.max_inflight
									      : SLOWFS_MIN_WORKERS;
	atomic_store(&fs->wake_late_ns, SLOWFS_WAKE_LATE_INIT_NS);
	errno = pthread_mutex_init(&fs->lock, NULL);
	if (errno) {
		fprintf(stderr, SLOWFS_NAME ": service: pthread_mutex_init: %s\n", strerror(errno));
		return -1;
	}
	fs->lock_ok = true;
	errno = pthread_condattr_init(&fs->cond_attr);
	if (!errno) {
		fs->cond_attr_ok = true;
		errno = pthread_condattr_setclock(&fs->cond_attr, CLOCK_MONOTONIC);
	}
	if (errno) {
		fprintf(stderr, SLOWFS_NAME ": service: pthread_condattr_setclock(CLOCK_MONOTONIC): %s\n",
			strerror(errno));
		return -1;
	}
	errno = pthread_key_create(&fs->buf_key, service_buf_free);
	if (errno) {
		fprintf(stderr, SLOWFS_NAME ": service: pthread_key_create: %s\n", strerror(errno));
		return -1;
	}
	fs->buf_key_ok = true;
	service_commit(fs, &fs->cfg.set);
	return 0;
}

void service_destroy(struct slowfs *fs)
{
	if (fs->buf_key_ok) {
		service_buf_free(pthread_getspecific(fs->buf_key));
		pthread_key_delete(fs->buf_key);
		fs->buf_key_ok = false;
	}
	if (fs->cond_attr_ok)
		pthread_condattr_destroy(&fs->cond_attr);
	fs->cond_attr_ok = false;
	if (fs->lock_ok)
		pthread_mutex_destroy(&fs->lock);
	fs->lock_ok = false;
}

static double service_rng_double(struct slowfs *fs)
{
	if (!service_rng_ready) {
		pattern_rng_seed(&service_rng, 0x510f5eedULL, atomic_fetch_add(&fs->rng_streams, 1));
		service_rng_ready = true;
	}
	return pattern_rng_double(&service_rng);
}

static uint64_t service_sample_latency(struct slowfs *fs, const struct slowfs_settings *s,
				       double mu, double sigma)
{
	double u, v, z;

	switch ((enum slowfs_jitter)s->jitter) {
	case SLOWFS_JITTER_NONE:
		break;
	case SLOWFS_JITTER_UNIFORM:
		/* uniform integer in [0, jitter_ns] */
		return s->latency_ns + (uint64_t)(service_rng_double(fs) * ((double)s->jitter_ns + 1.0));
	case SLOWFS_JITTER_EXPONENTIAL:
		u = service_rng_double(fs);
		return s->latency_ns + (uint64_t)(-(double)s->jitter_ns * log1p(-u));
	case SLOWFS_JITTER_LOGNORMAL:
		/* Box-Muller; 1 - u is in (0, 1] */
		u = 1.0 - service_rng_double(fs);
		v = service_rng_double(fs);
		z = sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
		v = exp(mu + sigma * z);
		return v >= (double)SLOWFS_MAX_NS ? SLOWFS_MAX_NS : (uint64_t)v;
	}
	return s->latency_ns;
}

/* A request stops waiting, and is answered at once, when the session shuts
 * down or the kernel interrupts it (its reader got a signal: typically it is
 * being killed, and a killed task still waits for the answer). */
static bool service_abandoned(struct slowfs *fs, fuse_req_t req)
{
	return fuse_session_exited(fs->se) || fuse_req_interrupted(req);
}

/* Sleep until deadline_ns (CLOCK_MONOTONIC).  A timed sleep wakes up late
 * by some microseconds (around 100 in a VM without a cpuidle driver), so the
 * last sleep aims early by 1.25 times an EWMA (1/16) of the lateness seen so
 * far, capped at SLOWFS_WAKE_MARGIN_MAX_NS, and the rest of the time is spent
 * polling the clock with sched_yield.  Sleeps are sliced so that a shutdown
 * or an interrupt is never held up by a long latency.  Returns -1 when the
 * request was abandoned (cut short). */
static int service_sleep_until(struct slowfs *fs, fuse_req_t req, uint64_t deadline_ns)
{
	uint64_t ewma = atomic_load_explicit(&fs->wake_late_ns, memory_order_relaxed);
	uint64_t margin = ewma + ewma / 4;

	if (margin > SLOWFS_WAKE_MARGIN_MAX_NS)
		margin = SLOWFS_WAKE_MARGIN_MAX_NS;
	for (;;) {
		uint64_t now = util_now_ns(), target, woke;
		struct timespec ts;
		bool last;

		if (service_abandoned(fs, req))
			return -1;
		if (now >= deadline_ns)
			return 0;
		if (deadline_ns - now <= margin)
			break;
		target = deadline_ns - margin;
		last = target - now <= SLOWFS_SLEEP_SLICE_NS;
		if (!last)
			target = now + SLOWFS_SLEEP_SLICE_NS;
		ts.tv_sec = (time_t)(target / 1000000000ULL);
		ts.tv_nsec = (long)(target % 1000000000ULL);
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		woke = util_now_ns();
		if (last) {
			uint64_t late = woke > target ? woke - target : 0;

			if (late > SLOWFS_WAKE_MARGIN_MAX_NS)
				late = SLOWFS_WAKE_MARGIN_MAX_NS; /* a preemption, not the timer */
			ewma = (uint64_t)((int64_t)ewma + ((int64_t)late - (int64_t)ewma) / 16);
			atomic_store_explicit(&fs->wake_late_ns, ewma, memory_order_relaxed);
		}
	}
	while (util_now_ns() < deadline_ns)
		sched_yield(); /* at most SLOWFS_WAKE_MARGIN_MAX_NS */
	return 0;
}

static void service_waiter_unlink(struct slowfs *fs, struct slowfs_waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		fs->wait_head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		fs->wait_tail = w->prev;
}

/* Wait in the FIFO until w is first and a slot is free; fs->lock held.
 * Returns -1 (w unlinked) when the request is abandoned while waiting. */
static int service_queue(struct slowfs *fs, fuse_req_t req, struct slowfs_waiter *w)
{
	pthread_cond_init(&w->cond, &fs->cond_attr);
	w->prev = fs->wait_tail;
	if (fs->wait_tail)
		fs->wait_tail->next = w;
	else
		fs->wait_head = w;
	fs->wait_tail = w;
	while (fs->wait_head != w || fs->inflight >= fs->set.max_inflight) {
		struct timespec ts;

		if (service_abandoned(fs, req)) {
			service_waiter_unlink(fs, w);
			if (fs->wait_head)
				pthread_cond_signal(&fs->wait_head->cond);
			pthread_cond_destroy(&w->cond);
			return -1;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += (long)SLOWFS_SLEEP_SLICE_NS;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&w->cond, &fs->lock, &ts);
	}
	service_waiter_unlink(fs, w);
	pthread_cond_destroy(&w->cond);
	return 0;
}

/* Wait for an in-flight slot (first come, first served; each waiter sleeps
 * on its own condition variable so a freed slot wakes one thread), then
 * reserve bytes in the token bucket.  Returns -1 when the request is
 * abandoned while waiting. */
static int service_admit(struct slowfs *fs, fuse_req_t req, uint64_t bytes,
			 struct service_admission *adm)
{
	struct slowfs_waiter w = { NULL, NULL, PTHREAD_COND_INITIALIZER };
	int ret = 0;

	pthread_mutex_lock(&fs->lock);
	if ((fs->wait_head || fs->inflight >= fs->set.max_inflight) && service_queue(fs, req, &w) < 0) {
		ret = -1;
		goto exit;
	}
	fs->inflight++;
	if (fs->inflight > fs->inflight_peak)
		fs->inflight_peak = fs->inflight;
	if (fs->wait_head && fs->inflight < fs->set.max_inflight)
		pthread_cond_signal(&fs->wait_head->cond); /* the next one fits too */
	adm->start_ns = util_now_ns();
	adm->set = fs->set;
	adm->mu = fs->lognormal_mu;
	adm->sigma = fs->lognormal_sigma;
	adm->transfer_ns = adm->start_ns;
	if (fs->set.bandwidth_bytes_per_s > 0) {
		/* Token bucket as virtual time: the bucket holds up to one
		 * maximum-sized request's worth of credit. */
		double rate = (double)fs->set.bandwidth_bytes_per_s;
		uint64_t burst_ns = (uint64_t)((double)fs->cfg.max_request_bytes * 1e9 / rate);
		uint64_t cost_ns = (uint64_t)((double)bytes * 1e9 / rate);

		if (fs->bucket_next_ns + burst_ns < adm->start_ns)
			fs->bucket_next_ns = adm->start_ns - burst_ns;
		fs->bucket_next_ns += cost_ns;
		if (fs->bucket_next_ns > adm->transfer_ns)
			adm->transfer_ns = fs->bucket_next_ns;
	}
exit:
	pthread_mutex_unlock(&fs->lock);
	return ret;
}

static void service_release_slot(struct slowfs *fs)
{
	pthread_mutex_lock(&fs->lock);
	fs->inflight--;
	if (fs->wait_head)
		pthread_cond_signal(&fs->wait_head->cond);
	pthread_mutex_unlock(&fs->lock);
}

static char *service_thread_buf(struct slowfs *fs, size_t len)
{
	struct service_buf *b = pthread_getspecific(fs->buf_key);

	if (!b) {
		b = calloc(1, sizeof(*b));
		if (!b)
			return NULL;
		if (pthread_setspecific(fs->buf_key, b) != 0) {
			free(b);
			return NULL;
		}
	}
	if (b->len < len) {
		char *p = realloc(b->data, len);

		if (!p)
			return NULL;
		b->data = p;
		b->len = len;
	}
	return b->data ? b->data : (char *)b; /* len 0: any non-NULL pointer */
}

/* pattern_fill with a word-at-a-time middle: the little-endian word at
 * offset 8w of file f is pattern_word(f, w) (lib/pattern.h). */
static void service_fill(uint64_t file, uint64_t off, char *buf, size_t len)
{
	size_t head = (8 - (off & 7)) & 7;
	uint64_t word;
	size_t nwords;

	if (head > len)
		head = len;
	if (head) {
		pattern_fill(file, off, buf, head);
		buf += head;
		off += head;
		len -= head;
	}
	word = off >> 3;
	nwords = len / 8;
	for (size_t i = 0; i < nwords; i++) {
		uint64_t w = htole64(pattern_word(file, word + i));

		memcpy(buf + 8 * i, &w, 8);
	}
	buf += 8 * nwords;
	off += 8 * nwords;
	len -= 8 * nwords;
	if (len)
		pattern_fill(file, off, buf, len);
}

void service_read(fuse_req_t req, struct slowfs *fs, uint64_t file, size_t size, off_t offset)
{
	uint64_t off = (uint64_t)offset, n = 0, arrive_ns, deadline_ns, done_ns;
	struct service_admission adm;
	bool admitted = false, cut_short;
	char *buf;
	int err;

	if (off < fs->cfg.size_bytes)
		n = fs->cfg.size_bytes - off < size ? fs->cfg.size_bytes - off : size;
	buf = service_thread_buf(fs, n);
	if (!buf) {
		fprintf(stderr, SLOWFS_NAME ": read: allocating %" PRIu64 " bytes: %s\n", n,
			strerror(ENOMEM));
		atomic_fetch_add(&fs->request_errors, 1);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	arrive_ns = util_now_ns();
	if (service_admit(fs, req, n, &adm) == 0) {
		admitted = true;
		deadline_ns = adm.transfer_ns +
			      service_sample_latency(fs, &adm.set, adm.mu, adm.sigma);
		service_fill(file, off, buf, n);
		cut_short = service_sleep_until(fs, req, deadline_ns) < 0;
	} else {
		/* abandoned in the queue: answer now, without a slot */
		adm.start_ns = deadline_ns = util_now_ns();
		service_fill(file, off, buf, n);
		cut_short = true;
	}
	err = account_reply(fs, file, off, n);
	done_ns = util_now_ns();
	if (!cut_short && done_ns > deadline_ns)
		atomic_fetch_add_explicit(&fs->late_ns_total, done_ns - deadline_ns,
					  memory_order_relaxed);
	if (cut_short)
		atomic_fetch_add_explicit(&fs->cut_short, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&fs->queue_ns_total, adm.start_ns - arrive_ns,
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&fs->service_ns_total, done_ns - adm.start_ns,
				  memory_order_relaxed);
	if (err) {
		fprintf(stderr, SLOWFS_NAME ": read: accounting page bitmap for data-%06" PRIu64
			" offset %" PRIu64 ": %s\n", file, off, strerror(-err));
		atomic_fetch_add(&fs->request_errors, 1);
		fuse_reply_err(req, -err);
	} else {
		fuse_reply_buf(req, buf, n);
	}
	if (admitted)
		service_release_slot(fs);
}
