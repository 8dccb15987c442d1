/* slowfs: what crosses the files of fl-slowfs, the FUSE daemon serving
 * synthetic read-only files with a configurable per-request service model
 * (docs/slowfs.md).  Its units:
 *   slowfs.c   main: supervision, the FUSE session, mount and teardown
 *   cli.c      the command line, and the resolved scenario from --config-fd
 *   account.c  exact accounting of bytes served, and the .stats text
 *   service.c  the service model: in-flight gate, bandwidth, latency, replies
 *   control.c  the .control file, driven by one key table
 *   ops.c      the FUSE low-level operations
 *
 * Layout of the mount's root:
 *   data-000000 .. data-NNNNNN   N files of --size-bytes each, mode 0444
 *   .stats                       JSON counters, regenerated on every open
 *   .control                     write "key=value" lines to change settings
 * Inode numbers: 1 root, 2 .stats, 3 .control, 4 + i data file i. */
#ifndef FL_SLOWFS_H
#define FL_SLOWFS_H

#define FUSE_USE_VERSION 312

#include <fuse_lowlevel.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SLOWFS_NAME "fl-slowfs"
#define SLOWFS_STATS_SCHEMA "faultline-slowfs-stats/1"

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
#define SLOWFS_MAX_REQUEST 1048576u /* 1 MiB, as the scenario's max_request_bytes */
#define SLOWFS_CONTROL_MAX 4096u    /* bytes in one write(2) to .control */
#define SLOWFS_SLEEP_SLICE_NS 10000000ULL /* re-check for shutdown, interrupts every 10 ms */
#define SLOWFS_WAKE_MARGIN_MAX_NS 200000ULL /* never poll the clock for longer */
#define SLOWFS_WAKE_LATE_INIT_NS 20000ULL
#define SLOWFS_TIMEOUT_S 86400.0	   /* nothing ever changes: cache attrs for a day */

enum slowfs_jitter {
	SLOWFS_JITTER_NONE,
	SLOWFS_JITTER_UNIFORM,
	SLOWFS_JITTER_EXPONENTIAL,
	SLOWFS_JITTER_LOGNORMAL,
};

/* Everything .control may change.  Protected by slowfs.lock.  Every field
 * is a uint64_t: the key tables address them by offset. */
struct slowfs_settings {
	uint64_t latency_ns;
	uint64_t jitter; /* enum slowfs_jitter */
	uint64_t jitter_ns;
	uint64_t p99_ns;
	uint64_t bandwidth_bytes_per_s;
	uint64_t max_inflight;
};

/* Command line (or resolved scenario); fixed for the life of the mount
 * except the settings. */
struct slowfs_config {
	uint64_t files;
	uint64_t size_bytes;
	struct slowfs_settings set;
	uint64_t max_request_bytes;
	uint64_t ready_fd;  /* UINT64_MAX: none */
	uint64_t config_fd; /* UINT64_MAX: none; closed once read */
	int debug;
	int help;
	const char *mountpoint;
};

struct slowfs_chunk {
	_Atomic uint64_t words[SLOWFS_CHUNK_WORDS];
};

/* A request waiting for an in-flight slot, on its handler's stack. */
struct slowfs_waiter {
	struct slowfs_waiter *prev, *next;
	pthread_cond_t cond;
};

struct slowfs {
	struct slowfs_config cfg;
	struct fuse_session *se;
	uint64_t page_bytes; /* sysconf(_SC_PAGESIZE): the unit of accounting */
	unsigned page_shift; /* log2(page_bytes) */
	uint64_t pages_per_file;
	uint64_t nchunks;
	uint64_t inflight_capacity; /* upper bound for max_inflight */
	uint64_t mtime_s;

	/* accounting (account.c); updates hold reset_lock for reading, a
	 * reset or a consistent snapshot holds it for writing */
	pthread_rwlock_t reset_lock;
	bool reset_lock_ok;
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

	/* settings, in-flight gate (a FIFO of waiters) and token bucket
	 * (service.c) */
	pthread_mutex_t lock;
	bool lock_ok;
	pthread_condattr_t cond_attr; /* CLOCK_MONOTONIC, for the waiters */
	bool cond_attr_ok;
	struct slowfs_waiter *wait_head, *wait_tail;
	struct slowfs_settings set;
	double lognormal_mu, lognormal_sigma;
	uint64_t inflight, inflight_peak;
	uint64_t bucket_next_ns; /* virtual time the bucket is drained at */

	pthread_key_t buf_key; /* per-thread reply buffer */
	bool buf_key_ok;
};

/* Settings named in .control writes on one open file that are not applied
 * yet: bit i of mask is key i of control.c's key table. */
struct slowfs_pending {
	unsigned mask;
	struct slowfs_settings set;
};

/* An open .stats or .control (FUSE file handle). */
struct slowfs_handle {
	char *text; /* what reads return, fixed at open; NULL if write-only */
	size_t len;
	struct slowfs_pending pending; /* .control: protected by slowfs.lock */
};

/* cli.c */
/* Plain decimal integer, or with allow_suffix one of K M G T P (binary,
 * optionally followed by "iB" or "B", any case).  -1 when it is not. */
int cli_parse_u64(const char *text, bool allow_suffix, uint64_t *out);
/* The command line into cfg (with --config-fd, the resolved scenario too).
 * Returns 0 when usable (or cfg->help), -1 after printing what is wrong. */
int cli_parse(int argc, char **argv, uint64_t page_bytes, struct slowfs_config *cfg);
void cli_usage(FILE *out);

/* account.c */
int account_init(struct slowfs *fs);
void account_destroy(struct slowfs *fs);
/* Count one READ reply of n bytes at offset off of file.  Returns 0, or
 * -ENOMEM (nothing counted) when a bitmap chunk cannot be allocated. */
int account_reply(struct slowfs *fs, uint64_t file, uint64_t off, uint64_t n);
void account_reset(struct slowfs *fs);
/* The .stats JSON text (malloc'd), NULL when out of memory. */
char *account_stats_text(struct slowfs *fs);

/* service.c */
const char *service_jitter_name(uint64_t jitter);
int service_jitter_parse(const char *text, uint64_t *out);
/* The checks between settings (each value on its own is range-checked
 * where it is parsed): -1 with a message in err when s is not usable. */
int service_check(const struct slowfs_settings *s, char *err, size_t errlen);
/* Put s in force; fs->lock held, s passed service_check. */
void service_commit(struct slowfs *fs, const struct slowfs_settings *s);
int service_init(struct slowfs *fs);
void service_destroy(struct slowfs *fs);
/* Serve one READ of a data file: queue, pace, sleep, count, reply. */
void service_read(fuse_req_t req, struct slowfs *fs, uint64_t file, size_t size, off_t offset);

/* control.c */
/* The settings in force as "key=value" lines (malloc'd), NULL when out of
 * memory. */
char *control_text(struct slowfs *fs);
/* One write(2) to .control; 0 or -EINVAL. */
int control_write(struct slowfs *fs, struct slowfs_handle *h, const char *data, size_t len);
/* close(2) of .control; 0 or -EINVAL when settings were dropped. */
int control_flush(struct slowfs *fs, struct slowfs_handle *h);
/* The keys with their help, for --help. */
void control_usage(FILE *out);

/* ops.c */
extern const struct fuse_lowlevel_ops ops_lowlevel;

#endif
