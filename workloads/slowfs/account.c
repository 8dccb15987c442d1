/* account: exact accounting of the bytes fl-slowfs serves, and the .stats
 * text (slowfs.h, docs/slowfs.md "Accounting").
 *
 * A page is a page-size aligned unit (file, offset / page size), the page
 * size being the machine's (sysconf(_SC_PAGESIZE)).  Every data READ reply
 * of n bytes at offset o adds n to bytes_served; its bytes are split by page,
 * and the b bytes that fall on one page count as distinct_bytes_served when
 * this reply is the first since mount (or the last reset) to serve any byte
 * of that page, else as bytes_served_again.  So bytes_served ==
 * distinct_bytes_served + bytes_served_again always.  For page-cache traffic
 * (whole, aligned pages) this is exactly the number of distinct bytes
 * served.  "Served at least once" is one bit per page in a sparse two-level
 * bitmap: chunks of SLOWFS_CHUNK_PAGES pages (a 4 KiB bitmap covering
 * 128 MiB of a file with 4 KiB pages) are allocated on first touch with a
 * CAS. */
#define _GNU_SOURCE
#include "workloads/slowfs/slowfs.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int account_init(struct slowfs *fs)
{
	pthread_rwlockattr_t ra;

	fs->pages_per_file = (fs->cfg.size_bytes + fs->page_bytes - 1) >> fs->page_shift;
	fs->nchunks = (fs->cfg.files * fs->pages_per_file + SLOWFS_CHUNK_PAGES - 1) / SLOWFS_CHUNK_PAGES;
	fs->chunks = calloc(fs->nchunks ? fs->nchunks : 1, sizeof(*fs->chunks));
	if (!fs->chunks) {
		fprintf(stderr, SLOWFS_NAME ": account: allocating %" PRIu64 " bitmap chunk pointers: %s\n",
			fs->nchunks, strerror(errno));
		return -1;
	}
	pthread_rwlockattr_init(&ra);
	/* a reset or .stats snapshot must not starve behind readers */
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	errno = pthread_rwlock_init(&fs->reset_lock, &ra);
	pthread_rwlockattr_destroy(&ra);
	if (errno) {
		fprintf(stderr, SLOWFS_NAME ": account: pthread_rwlock_init: %s\n", strerror(errno));
		return -1;
	}
	fs->reset_lock_ok = true;
	return 0;
}

void account_destroy(struct slowfs *fs)
{
	if (fs->reset_lock_ok)
		pthread_rwlock_destroy(&fs->reset_lock);
	fs->reset_lock_ok = false;
	if (fs->chunks) {
		for (uint64_t i = 0; i < fs->nchunks; i++)
			free(atomic_load(&fs->chunks[i]));
		free(fs->chunks);
		fs->chunks = NULL;
	}
}

static struct slowfs_chunk *account_chunk_get(struct slowfs *fs, uint64_t index)
{
	struct slowfs_chunk *cur = atomic_load_explicit(&fs->chunks[index], memory_order_acquire);
	struct slowfs_chunk *fresh;

	if (cur)
		return cur;
	fresh = calloc(1, sizeof(*fresh));
	if (!fresh)
		return NULL;
	if (atomic_compare_exchange_strong_explicit(&fs->chunks[index], &cur, fresh,
						    memory_order_acq_rel, memory_order_acquire))
		return fresh;
	free(fresh);
	return cur;
}

int account_reply(struct slowfs *fs, uint64_t file, uint64_t off, uint64_t n)
{
	uint64_t distinct = 0, again = 0, new_pages = 0;
	uint64_t base = file * fs->pages_per_file, in_page = fs->page_bytes - 1;
	int ret = 0;

	pthread_rwlock_rdlock(&fs->reset_lock);
	if (n > 0) {
		uint64_t first = base + (off >> fs->page_shift);
		uint64_t last = base + ((off + n - 1) >> fs->page_shift);

		/* allocate first so that a failure leaves the counters untouched */
		for (uint64_t c = first / SLOWFS_CHUNK_PAGES; c <= last / SLOWFS_CHUNK_PAGES; c++) {
			if (!account_chunk_get(fs, c)) {
				ret = -ENOMEM;
				goto exit;
			}
		}
	}
	while (n > 0) {
		uint64_t page = base + (off >> fs->page_shift);
		uint64_t b = fs->page_bytes - (off & in_page);
		struct slowfs_chunk *chunk = atomic_load_explicit(
			&fs->chunks[page / SLOWFS_CHUNK_PAGES], memory_order_acquire);
		uint64_t bit = page % SLOWFS_CHUNK_PAGES;
		uint64_t mask = 1ULL << (bit % 64);
		uint64_t old;

		if (b > n)
			b = n;
		old = atomic_fetch_or_explicit(&chunk->words[bit / 64], mask, memory_order_relaxed);
		if (old & mask) {
			again += b;
		} else {
			distinct += b;
			new_pages++;
		}
		off += b;
		n -= b;
	}
	atomic_fetch_add_explicit(&fs->requests, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&fs->bytes_served, distinct + again, memory_order_relaxed);
	atomic_fetch_add_explicit(&fs->distinct_bytes, distinct, memory_order_relaxed);
	atomic_fetch_add_explicit(&fs->again_bytes, again, memory_order_relaxed);
	atomic_fetch_add_explicit(&fs->distinct_pages, new_pages, memory_order_relaxed);
exit:
	pthread_rwlock_unlock(&fs->reset_lock);
	return ret;
}

void account_reset(struct slowfs *fs)
{
	pthread_rwlock_wrlock(&fs->reset_lock);
	for (uint64_t i = 0; i < fs->nchunks; i++) {
		struct slowfs_chunk *c = atomic_load_explicit(&fs->chunks[i], memory_order_relaxed);

		if (c) {
			atomic_store_explicit(&fs->chunks[i], NULL, memory_order_relaxed);
			free(c);
		}
	}
	atomic_store(&fs->requests, 0);
	atomic_store(&fs->bytes_served, 0);
	atomic_store(&fs->distinct_bytes, 0);
	atomic_store(&fs->again_bytes, 0);
	atomic_store(&fs->distinct_pages, 0);
	atomic_store(&fs->service_ns_total, 0);
	atomic_store(&fs->queue_ns_total, 0);
	atomic_store(&fs->late_ns_total, 0);
	atomic_store(&fs->request_errors, 0);
	atomic_store(&fs->cut_short, 0);
	atomic_fetch_add(&fs->resets, 1);
	pthread_mutex_lock(&fs->lock);
	fs->inflight_peak = fs->inflight;
	pthread_mutex_unlock(&fs->lock);
	pthread_rwlock_unlock(&fs->reset_lock);
}

/* One consistent snapshot of the counters and the settings in force. */
struct account_snapshot {
	struct slowfs_settings set;
	uint64_t requests, bytes, distinct, again, pages, service, queue, late, errors;
	uint64_t peak, inflight;
};

static void account_snapshot(struct slowfs *fs, struct account_snapshot *s)
{
	pthread_rwlock_wrlock(&fs->reset_lock);
	s->requests = atomic_load(&fs->requests);
	s->bytes = atomic_load(&fs->bytes_served);
	s->distinct = atomic_load(&fs->distinct_bytes);
	s->again = atomic_load(&fs->again_bytes);
	s->pages = atomic_load(&fs->distinct_pages);
	s->service = atomic_load(&fs->service_ns_total);
	s->queue = atomic_load(&fs->queue_ns_total);
	s->late = atomic_load(&fs->late_ns_total);
	s->errors = atomic_load(&fs->request_errors);
	pthread_mutex_lock(&fs->lock);
	s->set = fs->set;
	s->peak = fs->inflight_peak;
	s->inflight = fs->inflight;
	pthread_mutex_unlock(&fs->lock);
	pthread_rwlock_unlock(&fs->reset_lock);
}

char *account_stats_text(struct slowfs *fs)
{
	struct account_snapshot s;
	json_t *o = NULL;
	char *text = NULL, *ret = NULL;

	account_snapshot(fs, &s);
	o = json_object();
	if (!o)
		goto exit;
#define ACCOUNT_SET(key, value) \
	do { \
		if (json_object_set_new(o, key, value) < 0) \
			goto exit; \
	} while (0)
#define ACCOUNT_U64(key, value) ACCOUNT_SET(key, json_integer((json_int_t)(value)))
	ACCOUNT_SET("schema", json_string(SLOWFS_STATS_SCHEMA));
	ACCOUNT_U64("files", fs->cfg.files);
	ACCOUNT_U64("size_bytes", fs->cfg.size_bytes);
	ACCOUNT_U64("page_bytes", fs->page_bytes);
	ACCOUNT_U64("requests", s.requests);
	ACCOUNT_U64("bytes_served", s.bytes);
	ACCOUNT_U64("distinct_bytes_served", s.distinct);
	ACCOUNT_U64("bytes_served_again", s.again);
	ACCOUNT_U64("distinct_pages_served", s.pages);
	ACCOUNT_SET("read_amplification",
		    s.distinct ? json_real((double)s.bytes / (double)s.distinct) : json_null());
	ACCOUNT_U64("latency_ns", s.set.latency_ns);
	ACCOUNT_SET("jitter", json_string(service_jitter_name(s.set.jitter)));
	ACCOUNT_U64("jitter_ns", s.set.jitter_ns);
	ACCOUNT_U64("p99_ns", s.set.p99_ns);
	ACCOUNT_U64("bandwidth_bytes_per_s", s.set.bandwidth_bytes_per_s);
	ACCOUNT_U64("max_inflight", s.set.max_inflight);
	ACCOUNT_U64("max_request_bytes", fs->cfg.max_request_bytes);
	ACCOUNT_U64("inflight", s.inflight);
	ACCOUNT_U64("inflight_peak", s.peak);
	ACCOUNT_U64("service_ns_total", s.service);
	ACCOUNT_U64("queue_ns_total", s.queue);
	ACCOUNT_U64("late_ns_total", s.late);
	ACCOUNT_U64("wake_late_ewma_ns", atomic_load(&fs->wake_late_ns));
	ACCOUNT_U64("requests_cut_short", atomic_load(&fs->cut_short));
	ACCOUNT_U64("request_errors", s.errors);
	ACCOUNT_U64("control_writes", atomic_load(&fs->control_writes));
	ACCOUNT_U64("control_errors", atomic_load(&fs->control_errors));
	ACCOUNT_U64("counter_resets", atomic_load(&fs->resets));
#undef ACCOUNT_U64
#undef ACCOUNT_SET
	text = json_dumps(o, JSON_PRESERVE_ORDER | JSON_INDENT(1));
	if (!text)
		goto exit;
	if (asprintf(&ret, "%s\n", text) < 0)
		ret = NULL;
exit:
	free(text);
	json_decref(o);
	return ret;
}
