/* fl-slowfs: a FUSE file system serving synthetic read-only files whose bytes
 * are pattern_fill(file_index, offset) (lib/pattern.h), with a configurable
 * per-request latency, jitter, bandwidth cap and in-flight limit, and an exact
 * count of bytes served.  See docs/slowfs.md.
 *
 * Layout of the mount's root:
 *   data-000000 .. data-NNNNNN   N files of --size-bytes each, mode 0444
 *   .stats                       JSON counters, regenerated on every open
 *   .control                     write "key=value" lines to change settings
 *
 * Inode numbers: 1 root, 2 .stats, 3 .control, 4 + i data file i.
 *
 * Accounting (exact): a page is a 4096-byte aligned unit (file, offset/4096).
 * Every data READ reply of n bytes at offset o adds n to bytes_served; its
 * bytes are split by page, and the b bytes that fall on one page count as
 * distinct_bytes_served when this reply is the first since mount (or the last
 * reset) to serve any byte of that page, else as bytes_served_again.  So
 * bytes_served == distinct_bytes_served + bytes_served_again always.  For
 * page-cache traffic (whole, aligned pages) this is exactly the number of
 * distinct bytes served.  "Served at least once" is one bit per page in a
 * sparse two-level bitmap: chunks of 32768 pages (a 4 KiB bitmap covering
 * 128 MiB of a file) are allocated on first touch with a CAS.
 *
 * Build:
 *   gcc -std=gnu11 -O2 -Wall -Wextra -Werror -Ilib $(pkg-config --cflags fuse3) \
 *       workloads/slowfs/slowfs.c lib/pattern.c -o workloads/fl-slowfs \
 *       $(pkg-config --libs fuse3) -ljansson -lpthread -lm
 */
#define _GNU_SOURCE
#define FUSE_USE_VERSION 312

#include <fuse_lowlevel.h>

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/pattern.h"

#define SLOWFS_NAME "fl-slowfs"
#define SLOWFS_STATS_SCHEMA "faultline-slowfs-stats/1"

#define SLOWFS_PAGE_SIZE 4096u
#define SLOWFS_CHUNK_PAGES 32768u /* pages per lazily allocated bitmap chunk */
#define SLOWFS_CHUNK_WORDS (SLOWFS_CHUNK_PAGES / 64u)

#define SLOWFS_INO_ROOT 1u
#define SLOWFS_INO_STATS 2u
#define SLOWFS_INO_CONTROL 3u
#define SLOWFS_INO_DATA0 4u

#define SLOWFS_MAX_FILES 1000000u	   /* names stay data-%06u */
#define SLOWFS_MAX_TOTAL_BYTES (1ULL << 50) /* files * size, 1 PiB */
#define SLOWFS_MAX_NS 3600000000000ULL	   /* one hour */
#define SLOWFS_MAX_BANDWIDTH (1ULL << 50)
#define SLOWFS_MAX_INFLIGHT 4096u
#define SLOWFS_MIN_WORKERS 256u	     /* in-flight capacity reachable by .control */
#define SLOWFS_SPARE_WORKERS 16u     /* threads for lookups, .stats, .control */
#define SLOWFS_MAX_REQUEST 1048576u /* FUSE_MAX_MAX_PAGES (256) * 4096 */
#define SLOWFS_CONTROL_MAX 4096u
#define SLOWFS_SLEEP_SLICE_NS 10000000ULL /* re-check for shutdown, interrupts every 10 ms */
#define SLOWFS_WAKE_MARGIN_MAX_NS 200000ULL /* never poll the clock for longer */
#define SLOWFS_WAKE_LATE_INIT_NS 20000ULL
#define SLOWFS_TIMEOUT_S 86400.0	   /* nothing ever changes: cache attrs for a day */

/* z such that P(Z <= z) = 0.99 for a standard normal Z */
#define SLOWFS_Z99 2.3263478740408408

enum slowfs_jitter {
	SLOWFS_JITTER_NONE,
	SLOWFS_JITTER_UNIFORM,
	SLOWFS_JITTER_EXPONENTIAL,
	SLOWFS_JITTER_LOGNORMAL,
};

static const char *const slowfs_jitter_names[] = {
	[SLOWFS_JITTER_NONE] = "none",
	[SLOWFS_JITTER_UNIFORM] = "uniform",
	[SLOWFS_JITTER_EXPONENTIAL] = "exponential",
	[SLOWFS_JITTER_LOGNORMAL] = "lognormal",
};

/* Everything .control may change.  Protected by slowfs.lock. */
struct slowfs_settings {
	uint64_t latency_ns;
	uint64_t jitter; /* enum slowfs_jitter */
	uint64_t jitter_ns;
	uint64_t p99_ns;
	uint64_t bandwidth_bytes_per_s;
	uint64_t max_inflight;
};

/* Command line; fixed for the life of the mount except the settings. */
struct slowfs_config {
	uint64_t files;
	uint64_t size_bytes;
	struct slowfs_settings set;
	uint64_t max_request_bytes;
	uint64_t ready_fd; /* UINT64_MAX: none */
	int debug;
	int help;
	const char *mountpoint;
};

struct slowfs_chunk {
	_Atomic uint64_t words[SLOWFS_CHUNK_WORDS];
};

struct slowfs {
	struct slowfs_config cfg;
	struct fuse_session *se;
	uint64_t pages_per_file;
	uint64_t nchunks;
	uint64_t inflight_capacity; /* upper bound for max_inflight */
	uint64_t mtime_s;

	/* accounting; updates hold reset_lock for reading, a reset or a
	 * consistent snapshot holds it for writing */
	pthread_rwlock_t reset_lock;
	_Atomic(struct slowfs_chunk *) *chunks;
	_Atomic uint64_t requests;
	_Atomic uint64_t bytes_served;
	_Atomic uint64_t distinct_bytes;
	_Atomic uint64_t again_bytes;
	_Atomic uint64_t distinct_pages;
	_Atomic uint64_t service_ns_total;
	_Atomic uint64_t queue_ns_total;
	_Atomic uint64_t late_ns_total; /* replies sent after their deadline, by how much */
	_Atomic uint64_t wake_late_ns;	/* EWMA of how late a timed sleep wakes up */
	_Atomic uint64_t request_errors;
	_Atomic uint64_t cut_short; /* answered early: interrupted or shutting down */
	_Atomic uint64_t control_writes;
	_Atomic uint64_t control_errors;
	_Atomic uint64_t resets;
	_Atomic uint64_t rng_streams;
	_Atomic int ready_sent;

	/* settings, in-flight gate (a FIFO of waiters) and token bucket */
	pthread_mutex_t lock;
	pthread_condattr_t cond_attr; /* CLOCK_MONOTONIC, for the waiters */
	struct slowfs_waiter *wait_head, *wait_tail;
	struct slowfs_settings set;
	double lognormal_mu, lognormal_sigma;
	uint64_t inflight, inflight_peak;
	uint64_t bucket_next_ns; /* virtual time the bucket is drained at */

	pthread_key_t buf_key;
	bool buf_key_ok;
};

/* A request waiting for an in-flight slot, on its handler's stack. */
struct slowfs_waiter {
	struct slowfs_waiter *prev, *next;
	pthread_cond_t cond;
};

struct slowfs_thread_buf {
	size_t len;
	char *data;
};

/* The text an open .stats or .control reads back, fixed at open. */
struct slowfs_text {
	size_t len;
	char data[];
};

static __thread struct pattern_rng slowfs_rng;
static __thread bool slowfs_rng_ready;

static uint64_t slowfs_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------- parsing */

/* Plain decimal integer, or with allow_suffix one of K M G T P (binary,
 * optionally followed by "iB" or "B", any case). */
static int slowfs_parse_u64(const char *text, bool allow_suffix, uint64_t *out)
{
	const char *p = text;
	unsigned __int128 v = 0;
	unsigned shift = 0;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > UINT64_MAX)
			return -1;
	}
	if (*p && allow_suffix) {
		switch (*p) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		case 't': case 'T': shift = 40; break;
		case 'p': case 'P': shift = 50; break;
		default: return -1;
		}
		p++;
		if (!strcasecmp(p, "ib"))
			p += 2;
		else if (!strcasecmp(p, "b"))
			p += 1;
	}
	if (*p)
		return -1;
	v <<= shift;
	if (v > UINT64_MAX)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

static int slowfs_parse_jitter(const char *text, uint64_t *out)
{
	for (size_t i = 0; i < sizeof(slowfs_jitter_names) / sizeof(slowfs_jitter_names[0]); i++) {
		if (!strcmp(text, slowfs_jitter_names[i])) {
			*out = i;
			return 0;
		}
	}
	return -1;
}

/* The checks between settings (each value on its own is range-checked where
 * it is parsed).  Writes a message to err and returns -1 when s is not
 * usable. */
static int slowfs_settings_check(const struct slowfs_settings *s, char *err, size_t errlen)
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

/* -------------------------------------------------------- command line */

enum slowfs_opt_kind {
	SLOWFS_OPT_U64,	  /* plain integer */
	SLOWFS_OPT_BYTES, /* integer with K/M/G/T/P binary suffixes */
	SLOWFS_OPT_JITTER,
	SLOWFS_OPT_FD,
	SLOWFS_OPT_FLAG,
};

struct slowfs_option {
	const char *name;
	const char *arg;
	enum slowfs_opt_kind kind;
	size_t offset; /* into struct slowfs_config */
	uint64_t min, max;
	const char *defval;
	const char *help;
};

#define SLOWFS_CFG(field) offsetof(struct slowfs_config, field)
#define SLOWFS_NO_FIELD SIZE_MAX

static const struct slowfs_option slowfs_options[] = {
	{ "files", "N", SLOWFS_OPT_U64, SLOWFS_CFG(files), 1, SLOWFS_MAX_FILES, "1",
	  "number of files data-000000 .. data-(N-1)" },
	{ "size-bytes", "S", SLOWFS_OPT_BYTES, SLOWFS_CFG(size_bytes), 0, SLOWFS_MAX_TOTAL_BYTES,
	  "1G", "size of every file; K/M/G/T/P binary suffixes (1T = 2^40)" },
	{ "latency-ns", "N", SLOWFS_OPT_U64, SLOWFS_CFG(set.latency_ns), 0, SLOWFS_MAX_NS, "0",
	  "fixed service latency per read request (median with lognormal)" },
	{ "jitter", "KIND", SLOWFS_OPT_JITTER, SLOWFS_CFG(set.jitter), 0, 0, "none",
	  "none | uniform | exponential | lognormal" },
	{ "jitter-ns", "N", SLOWFS_OPT_U64, SLOWFS_CFG(set.jitter_ns), 0, SLOWFS_MAX_NS, "0",
	  "uniform: extra latency uniform in [0, N]; exponential: mean extra N" },
	{ "p99-ns", "N", SLOWFS_OPT_U64, SLOWFS_CFG(set.p99_ns), 0, SLOWFS_MAX_NS, "0",
	  "lognormal: p99 of the total latency (median = latency-ns)" },
	{ "bandwidth-bytes-per-s", "N", SLOWFS_OPT_BYTES, SLOWFS_CFG(set.bandwidth_bytes_per_s), 0,
	  SLOWFS_MAX_BANDWIDTH, "0", "cap on bytes served per second, all requests; 0 = unlimited" },
	{ "max-inflight", "N", SLOWFS_OPT_U64, SLOWFS_CFG(set.max_inflight), 1, SLOWFS_MAX_INFLIGHT,
	  "64", "requests in service at once; the rest queue in arrival order" },
	{ "max-request-bytes", "N", SLOWFS_OPT_BYTES, SLOWFS_CFG(max_request_bytes),
	  SLOWFS_PAGE_SIZE, SLOWFS_MAX_REQUEST, "128K",
	  "largest read request (FUSE max_read), a multiple of 4096" },
	{ "ready-fd", "FD", SLOWFS_OPT_FD, SLOWFS_CFG(ready_fd), 0, INT_MAX, "none",
	  "write \"1\" to FD and close it once the mount is live" },
	{ "foreground", NULL, SLOWFS_OPT_FLAG, SLOWFS_NO_FIELD, 0, 0, "on",
	  "stay in the foreground (always; accepted for clarity)" },
	{ "debug", NULL, SLOWFS_OPT_FLAG, SLOWFS_CFG(debug), 0, 0, "off",
	  "FUSE debug output on stderr (also -d)" },
	{ "help", NULL, SLOWFS_OPT_FLAG, SLOWFS_CFG(help), 0, 0, NULL, "this text (also -h)" },
};

#define SLOWFS_NOPTIONS (sizeof(slowfs_options) / sizeof(slowfs_options[0]))

static void slowfs_usage(FILE *out)
{
	fprintf(out,
		"usage: " SLOWFS_NAME " MOUNTPOINT [options]\n"
		"Serve synthetic read-only files (bytes = pattern_fill(file, offset)) over FUSE\n"
		"with a configurable per-request latency, jitter, bandwidth cap and in-flight\n"
		"limit.  The root also holds .stats (JSON counters) and .control (write\n"
		"key=value lines).  Options take \"--name VALUE\" or \"--name=VALUE\".\n\n");
	for (size_t i = 0; i < SLOWFS_NOPTIONS; i++) {
		const struct slowfs_option *o = &slowfs_options[i];
		char head[64];

		snprintf(head, sizeof(head), "--%s%s%s", o->name, o->arg ? " " : "",
			 o->arg ? o->arg : "");
		fprintf(out, "  %-29s %s", head, o->help);
		if (o->defval)
			fprintf(out, " (default %s)", o->defval);
		fputc('\n', out);
	}
	fprintf(out,
		"\nMount options are fixed: fsname=faultline-slowfs, subtype=slowfs,\n"
		"auto_unmount, default_permissions.  SIGTERM/SIGINT unmount and exit 0; the\n"
		"daemon also gets SIGTERM when its parent dies.  Exit status: 0 clean,\n"
		"1 runtime error, 2 bad command line (nothing mounted).\n");
}

static int slowfs_set_option(struct slowfs_config *cfg, const struct slowfs_option *o,
			     const char *value)
{
	uint64_t *field = (uint64_t *)((char *)cfg + o->offset);
	uint64_t v;

	switch (o->kind) {
	case SLOWFS_OPT_JITTER:
		if (slowfs_parse_jitter(value, &v) < 0) {
			fprintf(stderr,
				SLOWFS_NAME ": --%s '%s': expected none, uniform, exponential or lognormal\n",
				o->name, value);
			return -1;
		}
		*field = v;
		return 0;
	case SLOWFS_OPT_U64:
	case SLOWFS_OPT_BYTES:
	case SLOWFS_OPT_FD:
		if (slowfs_parse_u64(value, o->kind == SLOWFS_OPT_BYTES, &v) < 0) {
			fprintf(stderr, SLOWFS_NAME ": --%s '%s': not a non-negative integer%s\n",
				o->name, value,
				o->kind == SLOWFS_OPT_BYTES ? " (optional K/M/G/T/P suffix)" : "");
			return -1;
		}
		if (v < o->min || v > o->max) {
			fprintf(stderr,
				SLOWFS_NAME ": --%s '%s': out of range [%" PRIu64 ", %" PRIu64 "]\n",
				o->name, value, o->min, o->max);
			return -1;
		}
		if (o->kind == SLOWFS_OPT_FD && fcntl((int)v, F_GETFD) < 0) {
			fprintf(stderr, SLOWFS_NAME ": --%s '%s': not an open file descriptor: %s\n",
				o->name, value, strerror(errno));
			return -1;
		}
		*field = v;
		return 0;
	case SLOWFS_OPT_FLAG:
		break;
	}
	return -1;
}

/* Returns 0 when usable, -1 after printing what is wrong. */
static int slowfs_parse_args(int argc, char **argv, struct slowfs_config *cfg)
{
	bool seen[SLOWFS_NOPTIONS] = { false };

	memset(cfg, 0, sizeof(*cfg));
	cfg->files = 1;
	cfg->size_bytes = 1ULL << 30;
	cfg->set.jitter = SLOWFS_JITTER_NONE;
	cfg->set.max_inflight = 64;
	cfg->max_request_bytes = 128u * 1024u;
	cfg->ready_fd = UINT64_MAX;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const struct slowfs_option *o = NULL;
		const char *value = NULL;
		size_t namelen;
		size_t k;

		if (!strcmp(arg, "-d")) {
			cfg->debug = 1;
			continue;
		}
		if (!strcmp(arg, "-h")) {
			cfg->help = 1;
			continue;
		}
		if (!strcmp(arg, "-f"))
			continue;
		if (arg[0] != '-' || !strcmp(arg, "-")) {
			if (cfg->mountpoint) {
				fprintf(stderr, SLOWFS_NAME ": unexpected argument '%s' (mount point already '%s')\n",
					arg, cfg->mountpoint);
				return -1;
			}
			cfg->mountpoint = arg;
			continue;
		}
		if (strncmp(arg, "--", 2) != 0) {
			fprintf(stderr, SLOWFS_NAME ": unknown option '%s' (see --help)\n", arg);
			return -1;
		}
		namelen = strcspn(arg + 2, "=");
		for (k = 0; k < SLOWFS_NOPTIONS; k++) {
			if (strlen(slowfs_options[k].name) == namelen &&
			    !strncmp(slowfs_options[k].name, arg + 2, namelen)) {
				o = &slowfs_options[k];
				break;
			}
		}
		if (!o) {
			fprintf(stderr, SLOWFS_NAME ": unknown option '%s' (see --help)\n", arg);
			return -1;
		}
		if (arg[2 + namelen] == '=')
			value = arg + 2 + namelen + 1;
		if (o->kind == SLOWFS_OPT_FLAG) {
			if (value) {
				fprintf(stderr, SLOWFS_NAME ": option --%s takes no value (got '%s')\n",
					o->name, value);
				return -1;
			}
			if (o->offset != SLOWFS_NO_FIELD)
				*(int *)((char *)cfg + o->offset) = 1;
			continue;
		}
		if (!value) {
			if (i + 1 >= argc) {
				fprintf(stderr, SLOWFS_NAME ": option --%s needs a value\n", o->name);
				return -1;
			}
			value = argv[++i];
		}
		if (slowfs_set_option(cfg, o, value) < 0)
			return -1;
		seen[k] = true;
	}
	if (cfg->help)
		return 0;
	if (!cfg->mountpoint) {
		fprintf(stderr, SLOWFS_NAME ": missing MOUNTPOINT (see --help)\n");
		return -1;
	}
	if (cfg->max_request_bytes % SLOWFS_PAGE_SIZE) {
		fprintf(stderr, SLOWFS_NAME ": --max-request-bytes '%" PRIu64 "': not a multiple of %u\n",
			cfg->max_request_bytes, SLOWFS_PAGE_SIZE);
		return -1;
	}
	if ((unsigned __int128)cfg->files * cfg->size_bytes > SLOWFS_MAX_TOTAL_BYTES) {
		fprintf(stderr,
			SLOWFS_NAME ": --files %" PRIu64 " --size-bytes %" PRIu64
			": total exceeds %llu bytes\n",
			cfg->files, cfg->size_bytes, SLOWFS_MAX_TOTAL_BYTES);
		return -1;
	}
	for (size_t k = 0; k < SLOWFS_NOPTIONS; k++) {
		const char *name = slowfs_options[k].name;

		if (!seen[k])
			continue;
		if (!strcmp(name, "jitter-ns") && cfg->set.jitter != SLOWFS_JITTER_UNIFORM &&
		    cfg->set.jitter != SLOWFS_JITTER_EXPONENTIAL) {
			fprintf(stderr, SLOWFS_NAME ": --jitter-ns %" PRIu64
				": needs --jitter uniform or exponential (jitter is %s)\n",
				cfg->set.jitter_ns, slowfs_jitter_names[cfg->set.jitter]);
			return -1;
		}
		if (!strcmp(name, "p99-ns") && cfg->set.jitter != SLOWFS_JITTER_LOGNORMAL) {
			fprintf(stderr, SLOWFS_NAME ": --p99-ns %" PRIu64
				": needs --jitter lognormal (jitter is %s)\n",
				cfg->set.p99_ns, slowfs_jitter_names[cfg->set.jitter]);
			return -1;
		}
	}
	{
		char err[160];

		if (slowfs_settings_check(&cfg->set, err, sizeof(err)) < 0) {
			fprintf(stderr, SLOWFS_NAME ": --jitter %s --latency-ns %" PRIu64
				" --p99-ns %" PRIu64 ": %s\n",
				slowfs_jitter_names[cfg->set.jitter], cfg->set.latency_ns,
				cfg->set.p99_ns, err);
			return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ settings */

/* Called with fs->lock held, after slowfs_settings_check passed. */
static void slowfs_settings_commit(struct slowfs *fs, const struct slowfs_settings *s)
{
	bool rate_changed = s->bandwidth_bytes_per_s != fs->set.bandwidth_bytes_per_s;

	fs->set = *s;
	if (s->jitter == SLOWFS_JITTER_LOGNORMAL) {
		fs->lognormal_mu = log((double)s->latency_ns);
		fs->lognormal_sigma = log((double)s->p99_ns / (double)s->latency_ns) / SLOWFS_Z99;
	}
	if (rate_changed)
		fs->bucket_next_ns = slowfs_now_ns();
	if (fs->wait_head) /* max_inflight may have grown */
		pthread_cond_signal(&fs->wait_head->cond);
}

/* ---------------------------------------------------------- accounting */

static struct slowfs_chunk *slowfs_chunk_get(struct slowfs *fs, uint64_t index)
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

/* Account one READ reply of n bytes at offset off of file.  Returns 0, or
 * -ENOMEM (nothing counted) when a bitmap chunk cannot be allocated. */
static int slowfs_account(struct slowfs *fs, uint64_t file, uint64_t off, uint64_t n)
{
	uint64_t distinct = 0, again = 0, new_pages = 0;
	int ret = 0;

	pthread_rwlock_rdlock(&fs->reset_lock);
	if (n > 0) {
		uint64_t first = file * fs->pages_per_file + off / SLOWFS_PAGE_SIZE;
		uint64_t last = file * fs->pages_per_file + (off + n - 1) / SLOWFS_PAGE_SIZE;

		/* allocate first so that a failure leaves the counters untouched */
		for (uint64_t c = first / SLOWFS_CHUNK_PAGES; c <= last / SLOWFS_CHUNK_PAGES; c++) {
			if (!slowfs_chunk_get(fs, c)) {
				ret = -ENOMEM;
				goto exit;
			}
		}
	}
	while (n > 0) {
		uint64_t page = file * fs->pages_per_file + off / SLOWFS_PAGE_SIZE;
		uint64_t b = SLOWFS_PAGE_SIZE - off % SLOWFS_PAGE_SIZE;
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

static void slowfs_counters_reset(struct slowfs *fs)
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

/* ------------------------------------------------------------- service */

static double slowfs_rng_double(struct slowfs *fs)
{
	if (!slowfs_rng_ready) {
		pattern_rng_seed(&slowfs_rng, 0x510f5eedULL, atomic_fetch_add(&fs->rng_streams, 1));
		slowfs_rng_ready = true;
	}
	return pattern_rng_double(&slowfs_rng);
}

static uint64_t slowfs_sample_latency(struct slowfs *fs, const struct slowfs_settings *s,
				      double mu, double sigma)
{
	double u, v, z;

	switch ((enum slowfs_jitter)s->jitter) {
	case SLOWFS_JITTER_NONE:
		break;
	case SLOWFS_JITTER_UNIFORM:
		/* uniform integer in [0, jitter_ns] */
		return s->latency_ns + (uint64_t)(slowfs_rng_double(fs) * ((double)s->jitter_ns + 1.0));
	case SLOWFS_JITTER_EXPONENTIAL:
		u = slowfs_rng_double(fs);
		return s->latency_ns + (uint64_t)(-(double)s->jitter_ns * log1p(-u));
	case SLOWFS_JITTER_LOGNORMAL:
		/* Box-Muller; 1 - u is in (0, 1] */
		u = 1.0 - slowfs_rng_double(fs);
		v = slowfs_rng_double(fs);
		z = sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
		v = exp(mu + sigma * z);
		return v >= (double)SLOWFS_MAX_NS ? SLOWFS_MAX_NS : (uint64_t)v;
	}
	return s->latency_ns;
}

/* A request stops waiting, and is answered at once, when the session shuts
 * down or the kernel interrupts it (its reader got a signal: typically it is
 * being killed, and a killed task still waits for the answer). */
static bool slowfs_abandoned(struct slowfs *fs, fuse_req_t req)
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
static int slowfs_sleep_until(struct slowfs *fs, fuse_req_t req, uint64_t deadline_ns)
{
	uint64_t ewma = atomic_load_explicit(&fs->wake_late_ns, memory_order_relaxed);
	uint64_t margin = ewma + ewma / 4;

	if (margin > SLOWFS_WAKE_MARGIN_MAX_NS)
		margin = SLOWFS_WAKE_MARGIN_MAX_NS;
	for (;;) {
		uint64_t now = slowfs_now_ns(), target, woke;
		struct timespec ts;
		bool last;

		if (slowfs_abandoned(fs, req))
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
		woke = slowfs_now_ns();
		if (last) {
			uint64_t late = woke > target ? woke - target : 0;

			if (late > SLOWFS_WAKE_MARGIN_MAX_NS)
				late = SLOWFS_WAKE_MARGIN_MAX_NS; /* a preemption, not the timer */
			ewma = (uint64_t)((int64_t)ewma + ((int64_t)late - (int64_t)ewma) / 16);
			atomic_store_explicit(&fs->wake_late_ns, ewma, memory_order_relaxed);
		}
	}
	while (slowfs_now_ns() < deadline_ns)
		sched_yield(); /* at most SLOWFS_WAKE_MARGIN_MAX_NS */
	return 0;
}

/* What a request learned when it was admitted. */
struct slowfs_admission {
	uint64_t start_ns;    /* got its in-flight slot */
	uint64_t transfer_ns; /* its bytes are through the bucket */
	struct slowfs_settings set;
	double mu, sigma;
};

static void slowfs_waiter_unlink(struct slowfs *fs, struct slowfs_waiter *w)
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

/* Wait for an in-flight slot (first come, first served; each waiter sleeps
 * on its own condition variable so a freed slot wakes one thread), then
 * reserve bytes in the token bucket.  Returns -1 when the request is
 * abandoned while waiting. */
static int slowfs_admit(struct slowfs *fs, fuse_req_t req, uint64_t bytes,
			struct slowfs_admission *adm)
{
	struct slowfs_waiter w = { NULL, NULL, PTHREAD_COND_INITIALIZER };
	int ret = 0;

	pthread_mutex_lock(&fs->lock);
	if (fs->wait_head || fs->inflight >= fs->set.max_inflight) {
		pthread_cond_init(&w.cond, &fs->cond_attr);
		w.prev = fs->wait_tail;
		if (fs->wait_tail)
			fs->wait_tail->next = &w;
		else
			fs->wait_head = &w;
		fs->wait_tail = &w;
		while (fs->wait_head != &w || fs->inflight >= fs->set.max_inflight) {
			struct timespec ts;

			if (slowfs_abandoned(fs, req)) {
				slowfs_waiter_unlink(fs, &w);
				if (fs->wait_head)
					pthread_cond_signal(&fs->wait_head->cond);
				pthread_cond_destroy(&w.cond);
				ret = -1;
				goto exit;
			}
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_nsec += (long)SLOWFS_SLEEP_SLICE_NS;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&w.cond, &fs->lock, &ts);
		}
		slowfs_waiter_unlink(fs, &w);
		pthread_cond_destroy(&w.cond);
	}
	fs->inflight++;
	if (fs->inflight > fs->inflight_peak)
		fs->inflight_peak = fs->inflight;
	if (fs->wait_head && fs->inflight < fs->set.max_inflight)
		pthread_cond_signal(&fs->wait_head->cond); /* the next one fits too */
	adm->start_ns = slowfs_now_ns();
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

static void slowfs_release_slot(struct slowfs *fs)
{
	pthread_mutex_lock(&fs->lock);
	fs->inflight--;
	if (fs->wait_head)
		pthread_cond_signal(&fs->wait_head->cond);
	pthread_mutex_unlock(&fs->lock);
}

static void slowfs_buf_free(void *p)
{
	struct slowfs_thread_buf *b = p;

	if (b) {
		free(b->data);
		free(b);
	}
}

static char *slowfs_thread_buf(struct slowfs *fs, size_t len)
{
	struct slowfs_thread_buf *b = pthread_getspecific(fs->buf_key);

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
static void slowfs_fill(uint64_t file, uint64_t off, char *buf, size_t len)
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

static void slowfs_read_data(fuse_req_t req, struct slowfs *fs, uint64_t file, size_t size,
			     off_t offset)
{
	uint64_t off = (uint64_t)offset, n = 0, arrive_ns, deadline_ns, done_ns;
	struct slowfs_admission adm;
	bool admitted = false, cut_short;
	char *buf;
	int err;

	if (off < fs->cfg.size_bytes)
		n = fs->cfg.size_bytes - off < size ? fs->cfg.size_bytes - off : size;
	buf = slowfs_thread_buf(fs, n);
	if (!buf) {
		fprintf(stderr, SLOWFS_NAME ": read: allocating %" PRIu64 " bytes: %s\n", n,
			strerror(ENOMEM));
		atomic_fetch_add(&fs->request_errors, 1);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	arrive_ns = slowfs_now_ns();
	if (slowfs_admit(fs, req, n, &adm) == 0) {
		admitted = true;
		deadline_ns = adm.transfer_ns +
			      slowfs_sample_latency(fs, &adm.set, adm.mu, adm.sigma);
		slowfs_fill(file, off, buf, n);
		cut_short = slowfs_sleep_until(fs, req, deadline_ns) < 0;
	} else {
		/* abandoned in the queue: answer now, without a slot */
		adm.start_ns = deadline_ns = slowfs_now_ns();
		slowfs_fill(file, off, buf, n);
		cut_short = true;
	}
	err = slowfs_account(fs, file, off, n);
	done_ns = slowfs_now_ns();
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
		slowfs_release_slot(fs);
}

/* --------------------------------------------------------- stats, control */

static struct slowfs_text *slowfs_text_new(const char *s)
{
	size_t len = strlen(s);
	struct slowfs_text *t = malloc(sizeof(*t) + len + 1);

	if (!t)
		return NULL;
	t->len = len;
	memcpy(t->data, s, len + 1);
	return t;
}

static struct slowfs_text *slowfs_stats_text(struct slowfs *fs)
{
	struct slowfs_settings s;
	uint64_t requests, bytes, distinct, again, pages, service, queue, late, errors, peak, inflight;
	struct slowfs_text *t = NULL;
	json_t *o = NULL;
	char *text = NULL;

	pthread_rwlock_wrlock(&fs->reset_lock); /* consistent snapshot */
	requests = atomic_load(&fs->requests);
	bytes = atomic_load(&fs->bytes_served);
	distinct = atomic_load(&fs->distinct_bytes);
	again = atomic_load(&fs->again_bytes);
	pages = atomic_load(&fs->distinct_pages);
	service = atomic_load(&fs->service_ns_total);
	queue = atomic_load(&fs->queue_ns_total);
	late = atomic_load(&fs->late_ns_total);
	errors = atomic_load(&fs->request_errors);
	pthread_mutex_lock(&fs->lock);
	s = fs->set;
	peak = fs->inflight_peak;
	inflight = fs->inflight;
	pthread_mutex_unlock(&fs->lock);
	pthread_rwlock_unlock(&fs->reset_lock);

	o = json_object();
	if (!o)
		goto exit;
#define SLOWFS_SET(key, value) \
	do { \
		if (json_object_set_new(o, key, value) < 0) \
			goto exit; \
	} while (0)
	SLOWFS_SET("schema", json_string(SLOWFS_STATS_SCHEMA));
	SLOWFS_SET("files", json_integer((json_int_t)fs->cfg.files));
	SLOWFS_SET("size_bytes", json_integer((json_int_t)fs->cfg.size_bytes));
	SLOWFS_SET("page_bytes", json_integer(SLOWFS_PAGE_SIZE));
	SLOWFS_SET("requests", json_integer((json_int_t)requests));
	SLOWFS_SET("bytes_served", json_integer((json_int_t)bytes));
	SLOWFS_SET("distinct_bytes_served", json_integer((json_int_t)distinct));
	SLOWFS_SET("bytes_served_again", json_integer((json_int_t)again));
	SLOWFS_SET("distinct_pages_served", json_integer((json_int_t)pages));
	SLOWFS_SET("read_amplification",
		   distinct ? json_real((double)bytes / (double)distinct) : json_null());
	SLOWFS_SET("latency_ns", json_integer((json_int_t)s.latency_ns));
	SLOWFS_SET("jitter", json_string(slowfs_jitter_names[s.jitter]));
	SLOWFS_SET("jitter_ns", json_integer((json_int_t)s.jitter_ns));
	SLOWFS_SET("p99_ns", json_integer((json_int_t)s.p99_ns));
	SLOWFS_SET("bandwidth_bytes_per_s", json_integer((json_int_t)s.bandwidth_bytes_per_s));
	SLOWFS_SET("max_inflight", json_integer((json_int_t)s.max_inflight));
	SLOWFS_SET("max_request_bytes", json_integer((json_int_t)fs->cfg.max_request_bytes));
	SLOWFS_SET("inflight", json_integer((json_int_t)inflight));
	SLOWFS_SET("inflight_peak", json_integer((json_int_t)peak));
	SLOWFS_SET("service_ns_total", json_integer((json_int_t)service));
	SLOWFS_SET("queue_ns_total", json_integer((json_int_t)queue));
	SLOWFS_SET("late_ns_total", json_integer((json_int_t)late));
	SLOWFS_SET("wake_late_ewma_ns", json_integer((json_int_t)atomic_load(&fs->wake_late_ns)));
	SLOWFS_SET("requests_cut_short", json_integer((json_int_t)atomic_load(&fs->cut_short)));
	SLOWFS_SET("request_errors", json_integer((json_int_t)errors));
	SLOWFS_SET("control_writes", json_integer((json_int_t)atomic_load(&fs->control_writes)));
	SLOWFS_SET("control_errors", json_integer((json_int_t)atomic_load(&fs->control_errors)));
	SLOWFS_SET("counter_resets", json_integer((json_int_t)atomic_load(&fs->resets)));
#undef SLOWFS_SET
	text = json_dumps(o, JSON_PRESERVE_ORDER | JSON_INDENT(1));
	if (!text)
		goto exit;
	{
		size_t len = strlen(text);
		char *nl = realloc(text, len + 2);

		if (!nl)
			goto exit;
		text = nl;
		memcpy(text + len, "\n", 2);
	}
	t = slowfs_text_new(text);
exit:
	free(text);
	json_decref(o);
	return t;
}

static struct slowfs_text *slowfs_control_text(struct slowfs *fs)
{
	struct slowfs_settings s;
	char text[512];

	pthread_mutex_lock(&fs->lock);
	s = fs->set;
	pthread_mutex_unlock(&fs->lock);
	snprintf(text, sizeof(text),
		 "latency_ns=%" PRIu64 "\njitter=%s\njitter_ns=%" PRIu64 "\np99_ns=%" PRIu64
		 "\nbandwidth_bytes_per_s=%" PRIu64 "\nmax_inflight=%" PRIu64 "\n",
		 s.latency_ns, slowfs_jitter_names[s.jitter], s.jitter_ns, s.p99_ns,
		 s.bandwidth_bytes_per_s, s.max_inflight);
	return slowfs_text_new(text);
}

static char *slowfs_trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* Settings named in .control writes on one open file that are not applied
 * yet (SLOWFS_KEY_* bits in mask). */
enum {
	SLOWFS_KEY_LATENCY = 1u << 0,
	SLOWFS_KEY_JITTER = 1u << 1,
	SLOWFS_KEY_JITTER_NS = 1u << 2,
	SLOWFS_KEY_P99 = 1u << 3,
	SLOWFS_KEY_BANDWIDTH = 1u << 4,
	SLOWFS_KEY_MAX_INFLIGHT = 1u << 5,
};

struct slowfs_pending {
	unsigned mask;
	struct slowfs_settings set;
};

static void slowfs_pending_overlay(struct slowfs_settings *s, const struct slowfs_pending *p)
{
	if (p->mask & SLOWFS_KEY_LATENCY)
		s->latency_ns = p->set.latency_ns;
	if (p->mask & SLOWFS_KEY_JITTER)
		s->jitter = p->set.jitter;
	if (p->mask & SLOWFS_KEY_JITTER_NS)
		s->jitter_ns = p->set.jitter_ns;
	if (p->mask & SLOWFS_KEY_P99)
		s->p99_ns = p->set.p99_ns;
	if (p->mask & SLOWFS_KEY_BANDWIDTH)
		s->bandwidth_bytes_per_s = p->set.bandwidth_bytes_per_s;
	if (p->mask & SLOWFS_KEY_MAX_INFLIGHT)
		s->max_inflight = p->set.max_inflight;
}

/* An open .stats or .control. */
struct slowfs_handle {
	struct slowfs_text *text; /* what reads return, fixed at open; NULL if write-only */
	struct slowfs_pending pending; /* .control: protected by slowfs.lock */
};

static void slowfs_handle_free(struct slowfs_handle *h)
{
	if (h) {
		free(h->text);
		free(h);
	}
}

/* Parse one write to .control into p (merged on success) and *reset.
 * Returns 0, or -EINVAL after logging the first bad line (p untouched). */
static int slowfs_control_parse(struct slowfs *fs, const char *data, size_t len,
				struct slowfs_pending *p, bool *reset)
{
	struct slowfs_pending got = *p;
	char text[SLOWFS_CONTROL_MAX + 1];
	char *line, *save = NULL;

	if (len > SLOWFS_CONTROL_MAX) {
		fprintf(stderr, SLOWFS_NAME ": .control: write of %zu bytes exceeds %u\n", len,
			SLOWFS_CONTROL_MAX);
		return -EINVAL;
	}
	memcpy(text, data, len);
	text[len] = '\0';
	if (strlen(text) != len) {
		fprintf(stderr, SLOWFS_NAME ": .control: NUL byte in write\n");
		return -EINVAL;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *key = slowfs_trim(line), *value, *eq;
		uint64_t v;

		if (!*key || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (!eq) {
			fprintf(stderr, SLOWFS_NAME ": .control: line '%s' is not key=value\n", key);
			return -EINVAL;
		}
		*eq = '\0';
		key = slowfs_trim(key);
		value = slowfs_trim(eq + 1);
		if (!strcmp(key, "jitter")) {
			if (slowfs_parse_jitter(value, &got.set.jitter) < 0) {
				fprintf(stderr, SLOWFS_NAME ": .control: jitter '%s': expected none, "
					"uniform, exponential or lognormal\n", value);
				return -EINVAL;
			}
			got.mask |= SLOWFS_KEY_JITTER;
			continue;
		}
		if (strcmp(key, "latency_ns") && strcmp(key, "jitter_ns") && strcmp(key, "p99_ns") &&
		    strcmp(key, "bandwidth_bytes_per_s") && strcmp(key, "max_inflight") &&
		    strcmp(key, "reset_counters")) {
			fprintf(stderr, SLOWFS_NAME ": .control: unknown key '%s'\n", key);
			return -EINVAL;
		}
		if (slowfs_parse_u64(value, !strcmp(key, "bandwidth_bytes_per_s"), &v) < 0) {
			fprintf(stderr, SLOWFS_NAME ": .control: %s '%s': not a non-negative integer\n",
				key, value);
			return -EINVAL;
		}
		if (!strcmp(key, "reset_counters")) {
			if (v != 1) {
				fprintf(stderr, SLOWFS_NAME ": .control: reset_counters '%s': only 1 "
					"is accepted\n", value);
				return -EINVAL;
			}
			*reset = true;
		} else if (!strcmp(key, "max_inflight")) {
			if (v < 1 || v > fs->inflight_capacity) {
				fprintf(stderr, SLOWFS_NAME ": .control: max_inflight '%s': outside [1, %"
					PRIu64 "] (worker threads are fixed at mount)\n", value,
					fs->inflight_capacity);
				return -EINVAL;
			}
			got.set.max_inflight = v;
			got.mask |= SLOWFS_KEY_MAX_INFLIGHT;
		} else if (!strcmp(key, "bandwidth_bytes_per_s")) {
			if (v > SLOWFS_MAX_BANDWIDTH) {
				fprintf(stderr, SLOWFS_NAME ": .control: %s '%s': over %llu\n", key, value,
					SLOWFS_MAX_BANDWIDTH);
				return -EINVAL;
			}
			got.set.bandwidth_bytes_per_s = v;
			got.mask |= SLOWFS_KEY_BANDWIDTH;
		} else {
			if (v > SLOWFS_MAX_NS) {
				fprintf(stderr, SLOWFS_NAME ": .control: %s '%s': over %llu\n", key, value,
					SLOWFS_MAX_NS);
				return -EINVAL;
			}
			if (!strcmp(key, "latency_ns")) {
				got.set.latency_ns = v;
				got.mask |= SLOWFS_KEY_LATENCY;
			} else if (!strcmp(key, "jitter_ns")) {
				got.set.jitter_ns = v;
				got.mask |= SLOWFS_KEY_JITTER_NS;
			} else {
				got.set.p99_ns = v;
				got.mask |= SLOWFS_KEY_P99;
			}
		}
	}
	*p = got;
	return 0;
}

/* Apply what h holds pending if the result is consistent.  Returns 1 when
 * applied (or nothing was pending), 0 when it is still held back (reason in
 * err), with *now the settings in force afterwards. */
static int slowfs_control_try_apply(struct slowfs *fs, struct slowfs_handle *h,
				    struct slowfs_settings *now, char *err, size_t errlen)
{
	struct slowfs_settings cand;
	int applied = 1;

	pthread_mutex_lock(&fs->lock);
	if (h->pending.mask) {
		cand = fs->set;
		slowfs_pending_overlay(&cand, &h->pending);
		if (slowfs_settings_check(&cand, err, errlen) == 0) {
			slowfs_settings_commit(fs, &cand);
			h->pending.mask = 0;
		} else {
			applied = 0;
		}
	}
	*now = fs->set;
	pthread_mutex_unlock(&fs->lock);
	return applied;
}

static void slowfs_log_settings(const char *what, const struct slowfs_settings *s)
{
	fprintf(stderr,
		SLOWFS_NAME ": .control: %s: latency_ns=%" PRIu64 " jitter=%s jitter_ns=%" PRIu64
		" p99_ns=%" PRIu64 " bandwidth_bytes_per_s=%" PRIu64 " max_inflight=%" PRIu64 "\n",
		what, s->latency_ns, slowfs_jitter_names[s->jitter], s->jitter_ns, s->p99_ns,
		s->bandwidth_bytes_per_s, s->max_inflight);
}

/* One write(2) to .control: whole lines "key=value"; blank lines and lines
 * starting with '#' are ignored.  A malformed line, an unknown key or a bad
 * value fails the whole write with -EINVAL (nothing of it is kept).  Values
 * are applied as soon as the settings they make are consistent; a lognormal
 * jitter named before its p99_ns (shells write one line per write(2)) is held
 * back on this open file until a later write completes it, and dropped with
 * an error from close(2) (FLUSH) if none does. */
static int slowfs_control_write(struct slowfs *fs, struct slowfs_handle *h, const char *data,
				size_t len)
{
	struct slowfs_pending p;
	struct slowfs_settings now;
	char err[160];
	bool reset = false;
	int ret;

	atomic_fetch_add(&fs->control_writes, 1);
	pthread_mutex_lock(&fs->lock);
	p = h->pending;
	pthread_mutex_unlock(&fs->lock);
	ret = slowfs_control_parse(fs, data, len, &p, &reset);
	if (ret) {
		atomic_fetch_add(&fs->control_errors, 1);
		return ret;
	}
	pthread_mutex_lock(&fs->lock);
	h->pending = p;
	pthread_mutex_unlock(&fs->lock);
	if (p.mask) {
		if (slowfs_control_try_apply(fs, h, &now, err, sizeof(err)))
			slowfs_log_settings("applied", &now);
		else
			fprintf(stderr, SLOWFS_NAME ": .control: held back until a later write "
				"completes it: %s\n", err);
	}
	if (reset) {
		slowfs_counters_reset(fs);
		fprintf(stderr, SLOWFS_NAME ": .control: counters reset\n");
	}
	return 0;
}

/* close(2) of .control: anything still held back is dropped, with EINVAL. */
static int slowfs_control_flush(struct slowfs *fs, struct slowfs_handle *h)
{
	struct slowfs_settings now;
	char err[160];

	if (slowfs_control_try_apply(fs, h, &now, err, sizeof(err)))
		return 0;
	pthread_mutex_lock(&fs->lock);
	h->pending.mask = 0;
	pthread_mutex_unlock(&fs->lock);
	atomic_fetch_add(&fs->control_errors, 1);
	fprintf(stderr, SLOWFS_NAME ": .control: closed with settings that were never consistent, "
		"not applied: %s\n", err);
	return -EINVAL;
}

/* ---------------------------------------------------------- FUSE ops */

static void slowfs_stat(struct slowfs *fs, fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_uid = 0;
	st->st_gid = 0;
	st->st_blksize = SLOWFS_PAGE_SIZE;
	st->st_atim.tv_sec = st->st_mtim.tv_sec = st->st_ctim.tv_sec = (time_t)fs->mtime_s;
	if (ino == SLOWFS_INO_ROOT) {
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
	} else if (ino == SLOWFS_INO_STATS) {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
	} else if (ino == SLOWFS_INO_CONTROL) {
		st->st_mode = S_IFREG | 0644;
		st->st_nlink = 1;
	} else {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = (off_t)fs->cfg.size_bytes;
		st->st_blocks = (blkcnt_t)((fs->cfg.size_bytes + 511) / 512);
	}
}

static bool slowfs_ino_valid(struct slowfs *fs, fuse_ino_t ino)
{
	return ino >= SLOWFS_INO_ROOT && ino < SLOWFS_INO_DATA0 + fs->cfg.files;
}

/* "data-" followed by exactly six digits naming an existing file. */
static fuse_ino_t slowfs_lookup_name(struct slowfs *fs, const char *name)
{
	uint64_t index = 0;

	if (!strcmp(name, ".stats"))
		return SLOWFS_INO_STATS;
	if (!strcmp(name, ".control"))
		return SLOWFS_INO_CONTROL;
	if (strncmp(name, "data-", 5) != 0 || strlen(name) != 11)
		return 0;
	for (int i = 5; i < 11; i++) {
		if (name[i] < '0' || name[i] > '9')
			return 0;
		index = index * 10 + (uint64_t)(name[i] - '0');
	}
	return index < fs->cfg.files ? SLOWFS_INO_DATA0 + index : 0;
}

static void slowfs_op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct slowfs *fs = userdata;
	uint64_t bg = fs->inflight_capacity > 65535 ? 65535 : fs->inflight_capacity;

	conn->max_read = (unsigned)fs->cfg.max_request_bytes;
	/* let readahead (background requests) reach the daemon's own queue */
	conn->max_background = (unsigned)bg;
	conn->congestion_threshold = (unsigned)(bg * 3 / 4);
	/* the files never change: never drop their page cache on our behalf */
	conn->want &= ~(unsigned)FUSE_CAP_AUTO_INVAL_DATA;
	/* O_DIRECT reads as plain synchronous requests: with async DIO the
	 * reader waits uninterruptibly, and a killed reader would sit out its
	 * whole queueing and latency; without it the kernel sends INTERRUPT and
	 * the daemon answers at once (slowfs_abandoned) */
	conn->want &= ~(unsigned)FUSE_CAP_ASYNC_DIO;

	if (fs->cfg.ready_fd != UINT64_MAX && !atomic_exchange(&fs->ready_sent, 1)) {
		int fd = (int)fs->cfg.ready_fd;

		if (write(fd, "1", 1) != 1)
			fprintf(stderr, SLOWFS_NAME ": writing ready byte to fd %d: %s\n", fd,
				strerror(errno));
		close(fd);
	}
	fprintf(stderr,
		SLOWFS_NAME ": mounted %s: %" PRIu64 " files of %" PRIu64 " bytes, max_read %" PRIu64
		", max_background %" PRIu64 "\n",
		fs->cfg.mountpoint, fs->cfg.files, fs->cfg.size_bytes, fs->cfg.max_request_bytes, bg);
}

static void slowfs_op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct slowfs *fs = fuse_req_userdata(req);
	struct fuse_entry_param e;
	fuse_ino_t ino;

	if (parent != SLOWFS_INO_ROOT) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	ino = slowfs_lookup_name(fs, name);
	if (!ino) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.ino = ino;
	e.generation = 1;
	e.attr_timeout = SLOWFS_TIMEOUT_S;
	e.entry_timeout = SLOWFS_TIMEOUT_S;
	slowfs_stat(fs, ino, &e.attr);
	fuse_reply_entry(req, &e);
}

static void slowfs_op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct slowfs *fs = fuse_req_userdata(req);
	struct stat st;

	(void)fi;
	if (!slowfs_ino_valid(fs, ino)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	slowfs_stat(fs, ino, &st);
	fuse_reply_attr(req, &st, SLOWFS_TIMEOUT_S);
}

static void slowfs_op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
			      struct fuse_file_info *fi)
{
	struct slowfs *fs = fuse_req_userdata(req);
	struct stat st;

	(void)attr;
	(void)fi;
	/* only "truncating" .control (echo x > .control without atomic
	 * O_TRUNC) and touching its times are accepted, and ignored */
	if (ino != SLOWFS_INO_CONTROL ||
	    (to_set & ~(FUSE_SET_ATTR_SIZE | FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
			FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW | FUSE_SET_ATTR_CTIME))) {
		fuse_reply_err(req, EPERM);
		return;
	}
	slowfs_stat(fs, ino, &st);
	fuse_reply_attr(req, &st, SLOWFS_TIMEOUT_S);
}

static void slowfs_op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			      struct fuse_file_info *fi)
{
	struct slowfs *fs = fuse_req_userdata(req);
	uint64_t total = SLOWFS_INO_DATA0 + fs->cfg.files; /* ".", "..", 2 specials, files */
	char *buf = NULL;
	size_t pos = 0;

	(void)fi;
	if (ino != SLOWFS_INO_ROOT) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	if (size > 65536)
		size = 65536;
	buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (uint64_t i = off < 0 ? 0 : (uint64_t)off; i < total; i++) {
		struct stat st;
		char name[32];
		size_t need;

		memset(&st, 0, sizeof(st));
		switch (i) {
		case 0:
			strcpy(name, ".");
			st.st_ino = SLOWFS_INO_ROOT;
			st.st_mode = S_IFDIR;
			break;
		case 1:
			strcpy(name, "..");
			st.st_ino = SLOWFS_INO_ROOT;
			st.st_mode = S_IFDIR;
			break;
		case 2:
			strcpy(name, ".stats");
			st.st_ino = SLOWFS_INO_STATS;
			st.st_mode = S_IFREG;
			break;
		case 3:
			strcpy(name, ".control");
			st.st_ino = SLOWFS_INO_CONTROL;
			st.st_mode = S_IFREG;
			break;
		default:
			snprintf(name, sizeof(name), "data-%06" PRIu64, i - SLOWFS_INO_DATA0);
			st.st_ino = (ino_t)i; /* entry i >= 4 is data file i - 4, inode i */
			st.st_mode = S_IFREG;
			break;
		}
		need = fuse_add_direntry(req, buf + pos, size - pos, name, &st, (off_t)(i + 1));
		if (need > size - pos)
			break;
		pos += need;
	}
	fuse_reply_buf(req, buf, pos);
	free(buf);
}

static void slowfs_op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct slowfs *fs = fuse_req_userdata(req);
	int acc = fi->flags & O_ACCMODE;
	struct slowfs_handle *h = NULL;

	if (!slowfs_ino_valid(fs, ino) || ino == SLOWFS_INO_ROOT) {
		fuse_reply_err(req, ino == SLOWFS_INO_ROOT ? EISDIR : ENOENT);
		return;
	}
	if (ino != SLOWFS_INO_CONTROL && acc != O_RDONLY) {
		fuse_reply_err(req, EACCES);
		return;
	}
	if (ino == SLOWFS_INO_STATS || ino == SLOWFS_INO_CONTROL) {
		/* served as fixed text from open; never cached */
		fi->direct_io = 1;
		h = calloc(1, sizeof(*h));
		if (h && acc != O_WRONLY)
			h->text = ino == SLOWFS_INO_STATS ? slowfs_stats_text(fs)
							  : slowfs_control_text(fs);
		if (!h || (acc != O_WRONLY && !h->text)) {
			fprintf(stderr, SLOWFS_NAME ": open: building %s text: %s\n",
				ino == SLOWFS_INO_STATS ? ".stats" : ".control", strerror(ENOMEM));
			free(h);
			fuse_reply_err(req, ENOMEM);
			return;
		}
		fi->fh = (uint64_t)(uintptr_t)h;
	} else {
		fi->keep_cache = 1;
		fi->noflush = 1; /* no FLUSH round trip on close */
	}
	if (fuse_reply_open(req, fi) != 0)
		slowfs_handle_free(h); /* the opener is gone; release will not come */
}

static void slowfs_op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	struct slowfs *fs = fuse_req_userdata(req);

	if (ino >= SLOWFS_INO_DATA0) {
		slowfs_read_data(req, fs, ino - SLOWFS_INO_DATA0, size, off);
		return;
	}
	if (ino == SLOWFS_INO_STATS || ino == SLOWFS_INO_CONTROL) {
		struct slowfs_handle *h = (struct slowfs_handle *)(uintptr_t)fi->fh;
		struct slowfs_text *t = h ? h->text : NULL;
		size_t n = 0;

		if (!t) {
			fuse_reply_err(req, EBADF);
			return;
		}
		if (off >= 0 && (uint64_t)off < t->len)
			n = t->len - (size_t)off < size ? t->len - (size_t)off : size;
		fuse_reply_buf(req, n ? t->data + off : NULL, n);
		return;
	}
	fuse_reply_err(req, EISDIR);
}

static void slowfs_op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size,
			    off_t off, struct fuse_file_info *fi)
{
	struct slowfs *fs = fuse_req_userdata(req);
	int err;

	(void)off;
	if (ino != SLOWFS_INO_CONTROL || !fi->fh) {
		fuse_reply_err(req, EBADF);
		return;
	}
	err = slowfs_control_write(fs, (struct slowfs_handle *)(uintptr_t)fi->fh, buf, size);
	if (err)
		fuse_reply_err(req, -err);
	else
		fuse_reply_write(req, size);
}

static void slowfs_op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct slowfs *fs = fuse_req_userdata(req);

	if (ino == SLOWFS_INO_CONTROL && fi->fh)
		fuse_reply_err(req, -slowfs_control_flush(fs, (struct slowfs_handle *)(uintptr_t)fi->fh));
	else
		fuse_reply_err(req, 0);
}

static void slowfs_op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	slowfs_handle_free((struct slowfs_handle *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

static void slowfs_op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct slowfs *fs = fuse_req_userdata(req);
	struct statvfs sv;

	(void)ino;
	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = SLOWFS_PAGE_SIZE;
	sv.f_frsize = SLOWFS_PAGE_SIZE;
	sv.f_blocks = (fsblkcnt_t)(fs->cfg.files * fs->pages_per_file);
	sv.f_files = (fsfilcnt_t)(fs->cfg.files + 3);
	sv.f_namemax = 255;
	fuse_reply_statfs(req, &sv);
}

static const struct fuse_lowlevel_ops slowfs_ops = {
	.init = slowfs_op_init,
	.lookup = slowfs_op_lookup,
	.getattr = slowfs_op_getattr,
	.setattr = slowfs_op_setattr,
	.readdir = slowfs_op_readdir,
	.open = slowfs_op_open,
	.read = slowfs_op_read,
	.write = slowfs_op_write,
	.flush = slowfs_op_flush,
	.release = slowfs_op_release,
	.statfs = slowfs_op_statfs,
};

/* ---------------------------------------------------------------- main */

/* Is fusermount3 on PATH (what libfuse runs for auto_unmount)? */
static bool slowfs_have_fusermount(void)
{
	const char *path = getenv("PATH");
	char buf[4096], *save = NULL, *dir;

	snprintf(buf, sizeof(buf), "%s", path && *path ? path : "/usr/bin:/bin");
	for (dir = strtok_r(buf, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char p[4200];

		snprintf(p, sizeof(p), "%s/fusermount3", dir);
		if (access(p, X_OK) == 0)
			return true;
	}
	return false;
}

int main(int argc, char **argv)
{
	static struct slowfs fs; /* zeroed, and shared with the FUSE threads */
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_loop_config *loop = NULL;
	char mount_opts[256];
	bool lock_ok = false, rw_ok = false, cond_ok = false, handlers = false, mounted = false;
	pid_t parent = getppid();
	int ret = 1;

	if (slowfs_parse_args(argc, argv, &fs.cfg) < 0)
		return 2;
	if (fs.cfg.help) {
		slowfs_usage(stdout);
		return 0;
	}

	/* The runner supervises us: die (cleanly, unmounting) with our parent. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0) {
		fprintf(stderr, SLOWFS_NAME ": prctl(PR_SET_PDEATHSIG, SIGTERM): %s\n",
			strerror(errno));
		goto exit;
	}
	if (getppid() != parent) {
		fprintf(stderr, SLOWFS_NAME ": parent %d exited before the mount\n", (int)parent);
		goto exit;
	}
	/* precise sleeps: worker threads inherit a 1 ns timer slack */
	if (prctl(PR_SET_TIMERSLACK, 1UL) < 0)
		fprintf(stderr, SLOWFS_NAME ": prctl(PR_SET_TIMERSLACK, 1): %s (continuing)\n",
			strerror(errno));
	if (fs.cfg.ready_fd != UINT64_MAX &&
	    fcntl((int)fs.cfg.ready_fd, F_SETFD, FD_CLOEXEC) < 0) {
		fprintf(stderr, SLOWFS_NAME ": fcntl(%d, F_SETFD, FD_CLOEXEC): %s\n",
			(int)fs.cfg.ready_fd, strerror(errno));
		goto exit;
	}

	fs.pages_per_file = (fs.cfg.size_bytes + SLOWFS_PAGE_SIZE - 1) / SLOWFS_PAGE_SIZE;
	fs.nchunks = (fs.cfg.files * fs.pages_per_file + SLOWFS_CHUNK_PAGES - 1) / SLOWFS_CHUNK_PAGES;
	fs.chunks = calloc(fs.nchunks ? fs.nchunks : 1, sizeof(*fs.chunks));
	if (!fs.chunks) {
		fprintf(stderr, SLOWFS_NAME ": allocating %" PRIu64 " bitmap chunk pointers: %s\n",
			fs.nchunks, strerror(errno));
		goto exit;
	}
	fs.inflight_capacity = fs.cfg.set.max_inflight > SLOWFS_MIN_WORKERS ? fs.cfg.set.max_inflight
									     : SLOWFS_MIN_WORKERS;
	fs.mtime_s = (uint64_t)time(NULL);
	atomic_store(&fs.wake_late_ns, SLOWFS_WAKE_LATE_INIT_NS);
	{
		pthread_rwlockattr_t ra;

		pthread_rwlockattr_init(&ra);
		/* a reset or .stats snapshot must not starve behind readers */
		pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		errno = pthread_rwlock_init(&fs.reset_lock, &ra);
		pthread_rwlockattr_destroy(&ra);
		if (errno) {
			fprintf(stderr, SLOWFS_NAME ": pthread_rwlock_init: %s\n", strerror(errno));
			goto exit;
		}
		rw_ok = true;
	}
	errno = pthread_mutex_init(&fs.lock, NULL);
	if (errno) {
		fprintf(stderr, SLOWFS_NAME ": pthread_mutex_init: %s\n", strerror(errno));
		goto exit;
	}
	lock_ok = true;
	errno = pthread_condattr_init(&fs.cond_attr);
	if (!errno)
		errno = pthread_condattr_setclock(&fs.cond_attr, CLOCK_MONOTONIC);
	if (errno) {
		fprintf(stderr, SLOWFS_NAME ": pthread_condattr_setclock(CLOCK_MONOTONIC): %s\n",
			strerror(errno));
		goto exit;
	}
	cond_ok = true;
	errno = pthread_key_create(&fs.buf_key, slowfs_buf_free);
	if (errno) {
		fprintf(stderr, SLOWFS_NAME ": pthread_key_create: %s\n", strerror(errno));
		goto exit;
	}
	fs.buf_key_ok = true;
	slowfs_settings_commit(&fs, &fs.cfg.set);

	/* auto_unmount needs the fusermount3 helper; a VM guest's initramfs has
	 * none, and there root mounts directly (the runner still unmounts, and
	 * reaps a stale mount of a killed daemon) */
	snprintf(mount_opts, sizeof(mount_opts),
		 "fsname=faultline-slowfs,subtype=slowfs,%sdefault_permissions,"
		 "max_read=%" PRIu64,
		 slowfs_have_fusermount() ? "auto_unmount," : "", fs.cfg.max_request_bytes);
	if (fuse_opt_add_arg(&args, argv[0]) < 0 || fuse_opt_add_arg(&args, "-o") < 0 ||
	    fuse_opt_add_arg(&args, mount_opts) < 0 ||
	    (fs.cfg.debug && fuse_opt_add_arg(&args, "-d") < 0)) {
		fprintf(stderr, SLOWFS_NAME ": building FUSE arguments: %s\n", strerror(ENOMEM));
		goto exit;
	}
	fs.se = fuse_session_new(&args, &slowfs_ops, sizeof(slowfs_ops), &fs);
	if (!fs.se) {
		fprintf(stderr, SLOWFS_NAME ": fuse_session_new(-o %s) failed\n", mount_opts);
		goto exit;
	}
	/* libfuse only takes over signals left at SIG_DFL, and a background
	 * job of a non-interactive shell starts with SIGINT ignored */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	if (fuse_set_signal_handlers(fs.se) != 0) {
		fprintf(stderr, SLOWFS_NAME ": fuse_set_signal_handlers failed\n");
		goto exit;
	}
	handlers = true;
	if (fuse_session_mount(fs.se, fs.cfg.mountpoint) != 0) {
		fprintf(stderr, SLOWFS_NAME ": mounting on '%s' failed (see the message above)\n",
			fs.cfg.mountpoint);
		goto exit;
	}
	mounted = true;
	loop = fuse_loop_cfg_create();
	if (!loop) {
		fprintf(stderr, SLOWFS_NAME ": fuse_loop_cfg_create: %s\n", strerror(ENOMEM));
		goto exit;
	}
	/* a thread per request in service or queued, up to the in-flight
	 * capacity plus a few, so that lookups and .stats/.control usually find
	 * a free thread; beyond that, requests wait in the kernel's queue */
	fuse_loop_cfg_set_max_threads(loop, (unsigned)(fs.inflight_capacity + SLOWFS_SPARE_WORKERS));
	ret = fuse_session_loop_mt(fs.se, loop);
	if (ret < 0) {
		fprintf(stderr, SLOWFS_NAME ": fuse_session_loop_mt on '%s': %s\n",
			fs.cfg.mountpoint, strerror(-ret));
		ret = 1;
	} else {
		ret = 0;
	}
exit:
	if (loop)
		fuse_loop_cfg_destroy(loop);
	if (mounted)
		fuse_session_unmount(fs.se);
	if (handlers)
		fuse_remove_signal_handlers(fs.se);
	if (fs.se)
		fuse_session_destroy(fs.se);
	fuse_opt_free_args(&args);
	if (fs.buf_key_ok) {
		slowfs_buf_free(pthread_getspecific(fs.buf_key));
		pthread_key_delete(fs.buf_key);
	}
	if (cond_ok)
		pthread_condattr_destroy(&fs.cond_attr);
	if (lock_ok)
		pthread_mutex_destroy(&fs.lock);
	if (rw_ok)
		pthread_rwlock_destroy(&fs.reset_lock);
	if (fs.chunks) {
		for (uint64_t i = 0; i < fs.nchunks; i++)
			free(atomic_load(&fs.chunks[i]));
		free(fs.chunks);
	}
	return ret;
}
