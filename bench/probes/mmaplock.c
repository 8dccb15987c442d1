/* mmaplock: mmap_lock tracepoints (mmap_lock_start_locking,
 * mmap_lock_acquire_returned, mmap_lock_released) for the victim process
 * only, through a private tracefs instance.  The events carry no duration:
 * wait = start_locking -> acquire_returned and hold = acquire_returned ->
 * released, per task (the pairing: mmaplock_parse.c).  Read as binary
 * ring-buffer pages from per_cpu/cpuN/trace_pipe_raw (decoded by
 * mmaplock_raw.c) by a reader thread every 100 ms and at every sample, or,
 * as the fallback, as text lines from trace_pipe at every sample.  Method
 * and limits: docs/probes.md. */
#define _GNU_SOURCE
#include "bench/probes/mmaplock_parse.h"
#include "bench/probes/mmaplock_raw.h"
#include "bench/probes/probe.h"
#include "lib/config.h"
#include "lib/hist.h"
#include "lib/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MMAPLOCK_BUF (1u << 20)
#define MMAPLOCK_BUFFER_KB 8192
#define MMAPLOCK_BUFFER_KB_STR "8192"
/* the binary reader's CPU budget (see mmaplock_raw_drain_locked) */
#define MMAPLOCK_RAW_SHARE_PCT 15
#define MMAPLOCK_RAW_CREDIT_MAX_NS (50 * 1000000ull)

static struct {
	bool started;
	char mount_dir[64];  /* our own tracefs mount, "" when the system one is used */
	char tracefs[128];   /* the tracefs root we use */
	char inst[256];      /* our instance */
	char reason[256];
	char off_reason[300]; /* why resolve turned the probe off */
	int pipe_fd;
	int root_fd;         /* our detached tracefs mount, -1 when the system one is used */
	char *buf;
	size_t buf_fill;
	struct mmaplock_parse parse; /* measuring: histograms cover events parsed after the first sample */
	uint64_t bytes, parse_cpu_ns, reads, budget_stops;
	/* the binary path */
	bool raw;                 /* in use (else the text path) */
	int format_requested;     /* probes.mmap_lock_format as the scenario gave it */
	char format_reason[300];  /* why the text path, when raw was not used */
	int *cpu_fd, ncpu;        /* per_cpu/cpuN/trace_pipe_raw */
	struct mmaplock_raw_reader rd;
	struct timespec drain_t0; /* thread CPU time at the drain's start (the budget) */
	uint64_t drains;
	uint64_t credit_ns;       /* CPU the drains may still spend (token bucket) */
	uint64_t last_drain_ns;   /* CLOCK_MONOTONIC at the last drain's start, 0 before the first */
	uint64_t drain_budget_ns; /* this drain's budget: the credit at its start */
	pthread_mutex_t lock;     /* the parser and reader: the reader thread and the sampler */
	pthread_cond_t wake;
	pthread_t thread;
	bool thread_running, thread_quit;
} mmaplock = { .pipe_fd = -1, .root_fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER };

/* The histograms and decades as of the latest sample: the result reports
 * these, so they cover the same events as the deltas (first to last
 * sample), not also the workloads' teardown that the reader thread drains
 * after the last sample. */
static struct {
	struct hist h[MMAPLOCK_PARSE_NHIST];
	uint64_t decades[MMAPLOCK_PARSE_NHIST][MMAPLOCK_PARSE_DECADES];
} mmaplock_at_sample;

static int mmaplock_write(const char *dir, const char *file, const char *val, char *reason, size_t len)
{
	char path[512];
	int fd, rc = -1;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0) {
		snprintf(reason, len, "open %s: %s", path, strerror(errno));
		return -1;
	}
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val)) {
		snprintf(reason, len, "write \"%s\" to %s: %s", val, path, strerror(errno));
		goto exit;
	}
	rc = 0;
exit:
	close(fd);
	return rc;
}

/* Remove instances and mount directories left by runners that are gone
 * (a SIGKILLed runner cannot clean up). */
static void mmaplock_reap_stale(const char *tracefs)
{
	char path[512];
	DIR *d;
	struct dirent *e;

	snprintf(path, sizeof(path), "%s/instances", tracefs);
	d = opendir(path);
	while (d && (e = readdir(d))) {
		int pid;

		if (sscanf(e->d_name, "faultline-%d", &pid) == 1 && pid > 0 && kill(pid, 0) < 0 && errno == ESRCH) {
			char inst[600];

			snprintf(inst, sizeof(inst), "%s/%s", path, e->d_name);
			rmdir(inst);
		}
	}
	if (d)
		closedir(d);
	d = opendir("/tmp");
	while (d && (e = readdir(d))) {
		int pid;

		if (sscanf(e->d_name, "faultline-tracefs-%d-", &pid) == 1 && pid > 0 && kill(pid, 0) < 0 &&
		    errno == ESRCH) {
			char dir[300];
			struct stat sb;

			/* /tmp is anyone's: only a real directory of a trusted
			 * owner, and never through a link (docs/security.md) */
			if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(sb.st_mode) ||
			    !util_uid_trusted(sb.st_uid))
				continue;
			snprintf(dir, sizeof(dir), "/tmp/%s", e->d_name);
			umount2(dir, MNT_DETACH | UMOUNT_NOFOLLOW);
			unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
		}
	}
	if (d)
		closedir(d);
}

static void mmaplock_raw_close(void);
static int mmaplock_raw_open(char *reason, size_t len);
static int mmaplock_raw_thread_start(char *reason, size_t len);
static void mmaplock_raw_thread_stop(void);

static void mmaplock_teardown(void)
{
	mmaplock_raw_close();
	if (mmaplock.pipe_fd >= 0)
		close(mmaplock.pipe_fd);
	mmaplock.pipe_fd = -1;
	if (mmaplock.inst[0]) {
		char dummy[256];

		mmaplock_write(mmaplock.inst, "tracing_on", "0", dummy, sizeof(dummy));
		if (rmdir(mmaplock.inst) < 0)
			fprintf(stderr, "faultline: rmdir %s: %s\n", mmaplock.inst, strerror(errno));
		mmaplock.inst[0] = 0;
	}
	if (mmaplock.mount_dir[0]) {
		if (umount2(mmaplock.mount_dir, 0) < 0 && umount2(mmaplock.mount_dir, MNT_DETACH) < 0)
			fprintf(stderr, "faultline: umount %s: %s\n", mmaplock.mount_dir, strerror(errno));
		if (rmdir(mmaplock.mount_dir) < 0)
			fprintf(stderr, "faultline: rmdir %s: %s\n", mmaplock.mount_dir, strerror(errno));
		mmaplock.mount_dir[0] = 0;
	}
	if (mmaplock.root_fd >= 0)
		close(mmaplock.root_fd);
	mmaplock.root_fd = -1;
	mmaplock.started = false;
}

bool mmaplock_no_trace(const char *env)
{
	return env && *env && strcmp(env, "0") != 0;
}

int mmaplock_mode_decide(int requested, const char *no_trace_env, bool usable)
{
	if (mmaplock_no_trace(no_trace_env) || requested == PROBE_OFF)
		return PROBE_OFF;
	if (usable)
		return PROBE_ON;
	return requested == PROBE_ON ? -1 : PROBE_OFF;
}

static int mmaplock_start(const struct probe_ctx *ctx, pid_t victim, char *reason, size_t len);

/* probes.mmap_lock: off and FAULTLINE_NO_TRACE need no trial; auto and on
 * start the probe once on the runner itself and stop it (nothing is left),
 * so "auto" resolves to what the iterations will get and "on" fails before
 * the run creates anything. */
static int mmaplock_resolve(struct config *cfg, char *reason, size_t len)
{
	const char *env = getenv("FAULTLINE_NO_TRACE");
	int requested = cfg->probes.mmap_lock, decided;
	char why[256] = "";
	bool usable = false;

	mmaplock.off_reason[0] = 0;
	mmaplock.format_reason[0] = 0;
	mmaplock.format_requested = cfg->probes.mmap_lock_format;
	if (!mmaplock_no_trace(env) && requested != PROBE_OFF) {
		usable = mmaplock_start(NULL, getpid(), why, sizeof(why)) == 0;
		/* "auto": what the trial got, raw or text (the reason kept) */
		if (usable && cfg->probes.mmap_lock_format == PROBE_FORMAT_AUTO)
			cfg->probes.mmap_lock_format = mmaplock.raw ? PROBE_FORMAT_RAW : PROBE_FORMAT_TEXT;
		if (usable && !mmaplock.raw && mmaplock.format_requested == PROBE_FORMAT_AUTO)
			fprintf(stderr, "faultline: note: the mmap_lock probe reads text: %s\n", mmaplock.format_reason);
		if (mmaplock.started || mmaplock.inst[0] || mmaplock.mount_dir[0] || mmaplock.root_fd >= 0)
			mmaplock_teardown();
	}
	decided = mmaplock_mode_decide(requested, env, usable);
	if (decided < 0) {
		snprintf(reason, len, "probes.mmap_lock is \"on\" but the mmap_lock tracepoint probe cannot start: %s",
			 why);
		return -1;
	}
	if (decided == PROBE_OFF && mmaplock_no_trace(env)) {
		snprintf(mmaplock.off_reason, sizeof(mmaplock.off_reason),
			 "disabled by FAULTLINE_NO_TRACE (overrides probes.mmap_lock \"%s\")",
			 config_enum_name("probes.mmap_lock", requested));
		if (requested == PROBE_ON)
			fprintf(stderr, "faultline: note: FAULTLINE_NO_TRACE overrides probes.mmap_lock \"on\": the "
					"mmap_lock probe is off\n");
	} else if (decided == PROBE_OFF && requested == PROBE_AUTO) {
		snprintf(mmaplock.off_reason, sizeof(mmaplock.off_reason), "unavailable (probes.mmap_lock \"auto\"): %s",
			 why);
		fprintf(stderr, "faultline: note: the mmap_lock probe is off: %s\n", why);
	}
	cfg->probes.mmap_lock = decided;
	return 0;
}

/* The binary reader when the format allows it and it opens, else
 * trace_pipe (probes.mmap_lock_format "text", or "auto" with raw failing:
 * the reason is kept for the result); -1 with reason when neither. */
static int mmaplock_open_reader(int format, char *reason, size_t len)
{
	char path[300], why[256] = "";

	mmaplock.raw = false;
	if (format != PROBE_FORMAT_TEXT) {
		if (mmaplock_raw_open(why, sizeof(why)) == 0) {
			mmaplock.raw = true;
			mmaplock.format_reason[0] = 0;
			return 0;
		}
		if (format == PROBE_FORMAT_RAW && mmaplock.format_requested != PROBE_FORMAT_AUTO) {
			snprintf(reason, len, "binary ring-buffer reader (probes.mmap_lock_format \"raw\"): %s", why);
			return -1;
		}
		snprintf(mmaplock.format_reason, sizeof(mmaplock.format_reason),
			 "the binary reader failed, text fallback: %s", why);
	} else if (mmaplock.format_requested == PROBE_FORMAT_TEXT) {
		snprintf(mmaplock.format_reason, sizeof(mmaplock.format_reason), "probes.mmap_lock_format \"text\"");
	} /* else: "auto" that resolve settled on text; its reason is kept */
	snprintf(path, sizeof(path), "%s/trace_pipe", mmaplock.inst);
	mmaplock.pipe_fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (mmaplock.pipe_fd < 0) {
		snprintf(reason, len, "open %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int mmaplock_start(const struct probe_ctx *ctx, pid_t victim, char *reason, size_t len)
{
	char pid[32];

	mmaplock.reason[0] = 0;
	if (mmaplock.started)
		mmaplock_teardown();
	if (ctx && ctx->cfg && ctx->cfg->probes.mmap_lock == PROBE_OFF) {
		snprintf(reason, len, "%s", mmaplock.off_reason[0] ? mmaplock.off_reason
								   : "off in the scenario (probes.mmap_lock \"off\")");
		goto fail;
	}
	if (mmaplock_no_trace(getenv("FAULTLINE_NO_TRACE"))) {
		snprintf(reason, len, "disabled by FAULTLINE_NO_TRACE (overrides probes.mmap_lock)");
		goto fail;
	}
	if (!mmaplock.buf)
		mmaplock.buf = malloc(MMAPLOCK_BUF);
	if (!mmaplock.buf || mmaplock_parse_alloc(&mmaplock.parse) < 0) {
		snprintf(reason, len, "allocating the probe's buffers: %s", strerror(errno));
		goto fail;
	}
	if (access("/sys/kernel/tracing/events/mmap_lock", F_OK) == 0) {
		snprintf(mmaplock.tracefs, sizeof(mmaplock.tracefs), "/sys/kernel/tracing");
	} else {
		snprintf(mmaplock.mount_dir, sizeof(mmaplock.mount_dir), "/tmp/faultline-tracefs-%d-XXXXXX",
			 (int)getpid());
		mmaplock_reap_stale("/sys/kernel/tracing");
		if (!mkdtemp(mmaplock.mount_dir)) {
			snprintf(reason, len, "mkdtemp %s: %s", mmaplock.mount_dir, strerror(errno));
			mmaplock.mount_dir[0] = 0;
			goto fail;
		}
		if (mount("nodev", mmaplock.mount_dir, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
			snprintf(reason, len, "mount tracefs on %s: %s", mmaplock.mount_dir, strerror(errno));
			rmdir(mmaplock.mount_dir);
			mmaplock.mount_dir[0] = 0;
			goto fail;
		}
		/* keep the mount only through a directory fd and detach it at once:
		 * a SIGKILLed runner then leaves no mount and no directory */
		mmaplock.root_fd = open(mmaplock.mount_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (mmaplock.root_fd < 0) {
			snprintf(reason, len, "open %s: %s", mmaplock.mount_dir, strerror(errno));
			goto fail;
		}
		if (umount2(mmaplock.mount_dir, MNT_DETACH) < 0) {
			snprintf(reason, len, "umount %s: %s", mmaplock.mount_dir, strerror(errno));
			goto fail;
		}
		if (rmdir(mmaplock.mount_dir) < 0)
			fprintf(stderr, "faultline: rmdir %s: %s\n", mmaplock.mount_dir, strerror(errno));
		mmaplock.mount_dir[0] = 0;
		snprintf(mmaplock.tracefs, sizeof(mmaplock.tracefs), "/proc/self/fd/%d", mmaplock.root_fd);
	}
	mmaplock_reap_stale(mmaplock.tracefs);
	{
		char ev[300];

		snprintf(ev, sizeof(ev), "%s/events/mmap_lock/mmap_lock_acquire_returned", mmaplock.tracefs);
		if (access(ev, F_OK) < 0) {
			snprintf(reason, len, "the kernel has no mmap_lock tracepoints (%s: %s)", ev, strerror(errno));
			goto fail;
		}
	}
	snprintf(mmaplock.inst, sizeof(mmaplock.inst), "%s/instances/faultline-%d", mmaplock.tracefs, (int)getpid());
	if (mkdir(mmaplock.inst, 0700) < 0 && errno != EEXIST) {
		snprintf(reason, len, "mkdir %s: %s", mmaplock.inst, strerror(errno));
		mmaplock.inst[0] = 0;
		goto fail;
	}
	snprintf(pid, sizeof(pid), "%d", (int)victim);
	if (mmaplock_write(mmaplock.inst, "tracing_on", "0", reason, len) < 0 ||
	    mmaplock_write(mmaplock.inst, "buffer_size_kb", MMAPLOCK_BUFFER_KB_STR, reason, len) < 0 ||
	    mmaplock_write(mmaplock.inst, "trace_clock", "mono", reason, len) < 0 ||
	    mmaplock_write(mmaplock.inst, "options/event-fork", "1", reason, len) < 0 ||
	    mmaplock_write(mmaplock.inst, "set_event_pid", pid, reason, len) < 0 ||
	    mmaplock_write(mmaplock.inst, "events/mmap_lock/enable", "1", reason, len) < 0)
		goto fail;
	if (mmaplock_open_reader(ctx ? ctx->cfg->probes.mmap_lock_format : mmaplock.format_requested, reason, len) < 0)
		goto fail;
	mmaplock_parse_reset(&mmaplock.parse);
	memset(&mmaplock_at_sample, 0, sizeof(mmaplock_at_sample));
	mmaplock.bytes = mmaplock.parse_cpu_ns = mmaplock.reads = mmaplock.budget_stops = mmaplock.drains = 0;
	mmaplock.last_drain_ns = 0;
	mmaplock.credit_ns = MMAPLOCK_RAW_CREDIT_MAX_NS; /* the first drains read what the set-up queued */
	memset(&mmaplock.rd.st, 0, sizeof(mmaplock.rd.st));
	mmaplock.buf_fill = 0;
	if (mmaplock_write(mmaplock.inst, "tracing_on", "1", reason, len) < 0)
		goto fail;
	if (mmaplock.raw && ctx && mmaplock_raw_thread_start(reason, len) < 0)
		goto fail;
	mmaplock.started = true;
	return 0;
fail:
	snprintf(mmaplock.reason, sizeof(mmaplock.reason), "%s", reason);
	mmaplock_teardown();
	return -1;
}

/* CPU time the runner may spend parsing per sample (once a second): the
 * runner runs at SCHED_FIFO, and a victim that takes the lock in a tight loop
 * (mmap-writer's writer) makes events faster than text can be parsed, so an
 * unbounded drain would take a CPU from the workload, and under QEMU TCG
 * starve the softirq that completes the victim's I/O.  What is left stays
 * in the ring buffer; when it fills, the kernel counts overruns, which the
 * result reports with budget_stops. */
#define MMAPLOCK_DRAIN_BUDGET_NS (50 * 1000000ll)

static long long mmaplock_ns_since(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	return (b.tv_sec - a->tv_sec) * 1000000000ll + (b.tv_nsec - a->tv_nsec);
}

static void mmaplock_drain(void)
{
	struct timespec a;

	if (mmaplock.pipe_fd < 0)
		return;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	for (;;) {
		ssize_t n;
		size_t used;

		if (mmaplock_ns_since(&a) > MMAPLOCK_DRAIN_BUDGET_NS) {
			mmaplock.budget_stops++;
			break;
		}
		n = read(mmaplock.pipe_fd, mmaplock.buf + mmaplock.buf_fill, MMAPLOCK_BUF - 1 - mmaplock.buf_fill);
		if (n <= 0)
			break;
		mmaplock.reads++;
		mmaplock.bytes += (uint64_t)n;
		mmaplock.buf_fill += (size_t)n;
		mmaplock.buf[mmaplock.buf_fill] = 0;
		used = mmaplock_parse_text(&mmaplock.parse, mmaplock.buf);
		mmaplock.buf_fill -= used;
		memmove(mmaplock.buf, mmaplock.buf + used, mmaplock.buf_fill);
		if (mmaplock.buf_fill >= MMAPLOCK_BUF - 2)
			mmaplock.buf_fill = 0; /* a line longer than the buffer: drop it */
	}
	mmaplock.parse_cpu_ns += (uint64_t)mmaplock_ns_since(&a);
}

/* The binary path.  A reader thread drains every CPU's ring buffer every
 * MMAPLOCK_RAW_PERIOD_NS (and the sampler at every sample): at
 * mmap-writer's few hundred thousand events per second one CPU's 8 MiB
 * would fill between two once-a-second samples.  The drains together may
 * spend MMAPLOCK_RAW_SHARE_PCT of one CPU: a token bucket earns that share
 * of the time since the last drain, holds at most MMAPLOCK_RAW_CREDIT_MAX_NS,
 * and a drain stops (a budget stop, nothing lost while the ring buffer
 * holds) when it has spent the credit.  A fixed 5 ms per drain stopped 83
 * of 103 drains of mmap-writer under QEMU TCG (about 17,000 events/s at
 * 4 us each, 8% of a CPU) with no event lost; natively the probe needs
 * about 2% at 440,000 events/s.  Each drain
 * feeds the events older than MMAPLOCK_RAW_HOLD_NS (trace_clock mono is
 * CLOCK_MONOTONIC): a task that moves to a CPU already read in this drain
 * has its later events there read in the next one, so none passes an
 * earlier event of its task still unread on another CPU. */
#define MMAPLOCK_RAW_PERIOD_NS (100 * 1000000ll)
#define MMAPLOCK_RAW_HOLD_NS 1000000ull

static const char *const mmaplock_raw_events[] = {
	"mmap_lock_start_locking", "mmap_lock_acquire_returned", "mmap_lock_released",
};

static ssize_t mmaplock_raw_read(void *ctx, int cpu, void *buf, size_t len)
{
	(void)ctx;
	if (mmaplock.cpu_fd[cpu] < 0) {
		errno = EAGAIN;
		return -1;
	}
	return read(mmaplock.cpu_fd[cpu], buf, len);
}

static bool mmaplock_raw_over_budget(void *ctx)
{
	(void)ctx;
	return (uint64_t)mmaplock_ns_since(&mmaplock.drain_t0) > mmaplock.drain_budget_ns;
}

/* One drain, mmaplock.lock held. */
static void mmaplock_raw_drain_locked(void)
{
	struct timespec now;
	uint64_t now_ns, since, used;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mmaplock.drain_t0);
	clock_gettime(CLOCK_MONOTONIC, &now);
	now_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	since = mmaplock.last_drain_ns ? now_ns - mmaplock.last_drain_ns : (uint64_t)MMAPLOCK_RAW_PERIOD_NS;
	mmaplock.last_drain_ns = now_ns;
	mmaplock.credit_ns += since / 100 * MMAPLOCK_RAW_SHARE_PCT;
	if (mmaplock.credit_ns > MMAPLOCK_RAW_CREDIT_MAX_NS)
		mmaplock.credit_ns = MMAPLOCK_RAW_CREDIT_MAX_NS;
	mmaplock.drain_budget_ns = mmaplock.credit_ns;
	if (mmaplock_raw_drain(&mmaplock.rd, &mmaplock.parse, now_ns - MMAPLOCK_RAW_HOLD_NS) == 1)
		mmaplock.budget_stops++;
	mmaplock.drains++;
	used = (uint64_t)mmaplock_ns_since(&mmaplock.drain_t0);
	mmaplock.parse_cpu_ns += used;
	mmaplock.credit_ns = mmaplock.credit_ns > used ? mmaplock.credit_ns - used : 0;
}

static void *mmaplock_raw_thread(void *realtime)
{
	struct sched_param sp = { .sched_priority = 1 };

	/* SCHED_RESET_ON_FORK gave this thread the ordinary policy; among
	 * thousands of runnable workload threads it would drain late: real
	 * time again, at the sampler's priority, one below the runner's */
	if (realtime)
		sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp);
	pthread_mutex_lock(&mmaplock.lock);
	while (!mmaplock.thread_quit) {
		struct timespec until;

		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += MMAPLOCK_RAW_PERIOD_NS;
		until.tv_sec += until.tv_nsec / 1000000000l;
		until.tv_nsec %= 1000000000l;
		pthread_cond_timedwait(&mmaplock.wake, &mmaplock.lock, &until);
		if (!mmaplock.thread_quit)
			mmaplock_raw_drain_locked();
	}
	pthread_mutex_unlock(&mmaplock.lock);
	return NULL;
}

/* Text of tracefs file NAME under the instance into the format; -1 with reason. */
static int mmaplock_raw_load(struct mmaplock_raw_format *f, const char *name,
			     int (*parse)(struct mmaplock_raw_format *, const char *, char *, size_t), char *reason,
			     size_t len)
{
	char path[600], *text;
	int rc;

	snprintf(path, sizeof(path), "%s/events/%s", mmaplock.inst, name);
	text = util_read_file(path, NULL);
	if (!text) {
		snprintf(reason, len, "read %s: %s", path, strerror(errno));
		return -1;
	}
	rc = parse(f, text, reason, len);
	free(text);
	return rc;
}

/* The format files and one trace_pipe_raw per CPU of the instance; 0, or
 * -1 with the reason and nothing left open. */
static int mmaplock_raw_open(char *reason, size_t len)
{
	struct mmaplock_raw_format f;
	char path[600];
	DIR *d;
	struct dirent *e;
	int max = -1;

	mmaplock_raw_format_init(&f);
	if (mmaplock_raw_load(&f, "header_page", mmaplock_raw_header_page, reason, len) < 0 ||
	    mmaplock_raw_load(&f, "header_event", mmaplock_raw_header_event, reason, len) < 0)
		return -1;
	for (int k = 0; k < MMAPLOCK_PARSE_NKIND; k++) {
		snprintf(path, sizeof(path), "mmap_lock/%s/format", mmaplock_raw_events[k]);
		if (mmaplock_raw_load(&f, path, mmaplock_raw_event_format, reason, len) < 0)
			return -1;
	}
	if (mmaplock_raw_format_check(&f, reason, len) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/per_cpu", mmaplock.inst);
	d = opendir(path);
	if (!d) {
		snprintf(reason, len, "open %s: %s", path, strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		int c;

		if (sscanf(e->d_name, "cpu%d", &c) == 1 && c > max && c < 65536)
			max = c;
	}
	closedir(d);
	mmaplock.ncpu = max + 1;
	mmaplock.cpu_fd = malloc((size_t)(max + 1) * sizeof(int));
	if (max < 0 || !mmaplock.cpu_fd) {
		snprintf(reason, len, "%s: no CPUs (%s)", path, strerror(errno));
		mmaplock_raw_close();
		return -1;
	}
	for (int c = 0; c <= max; c++) {
		snprintf(path, sizeof(path), "%s/per_cpu/cpu%d/trace_pipe_raw", mmaplock.inst, c);
		mmaplock.cpu_fd[c] = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (mmaplock.cpu_fd[c] < 0 && errno != ENOENT) {
			snprintf(reason, len, "open %s: %s", path, strerror(errno));
			mmaplock.ncpu = c;
			mmaplock_raw_close();
			return -1;
		}
	}
	if (mmaplock_raw_reader_alloc(&mmaplock.rd, &f, mmaplock.ncpu, mmaplock_raw_read, mmaplock_raw_over_budget,
				      NULL) < 0) {
		snprintf(reason, len, "allocating %d CPUs' pages of %u bytes: %s", mmaplock.ncpu, f.page_size,
			 strerror(errno));
		mmaplock_raw_close();
		return -1;
	}
	return 0;
}

/* Start the reader thread (signals for the runner's thread blocked in it, as in the sampler). */
static int mmaplock_raw_thread_start(char *reason, size_t len)
{
	static bool cond_ready;
	sigset_t stop, old;
	bool realtime = (sched_getscheduler(0) & ~SCHED_RESET_ON_FORK) == SCHED_FIFO;
	int e;

	if (!cond_ready) {
		pthread_condattr_t a;

		pthread_condattr_init(&a);
		pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
		pthread_cond_init(&mmaplock.wake, &a);
		pthread_condattr_destroy(&a);
		cond_ready = true;
	}
	mmaplock.thread_quit = false;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop, &old);
	e = pthread_create(&mmaplock.thread, NULL, mmaplock_raw_thread, realtime ? &mmaplock : NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e) {
		snprintf(reason, len, "starting the reader thread: %s", strerror(e));
		return -1;
	}
	mmaplock.thread_running = true;
	return 0;
}

static void mmaplock_raw_thread_stop(void)
{
	if (!mmaplock.thread_running)
		return;
	pthread_mutex_lock(&mmaplock.lock);
	mmaplock.thread_quit = true;
	pthread_cond_signal(&mmaplock.wake);
	pthread_mutex_unlock(&mmaplock.lock);
	pthread_join(mmaplock.thread, NULL);
	mmaplock.thread_running = false;
}

static void mmaplock_raw_close(void)
{
	mmaplock_raw_thread_stop();
	for (int c = 0; mmaplock.cpu_fd && c < mmaplock.ncpu; c++)
		if (mmaplock.cpu_fd[c] >= 0)
			close(mmaplock.cpu_fd[c]);
	free(mmaplock.cpu_fd);
	mmaplock.cpu_fd = NULL;
	mmaplock.ncpu = 0;
	mmaplock_raw_reader_free(&mmaplock.rd);
}

/* Sum of "overrun" and "dropped events" over the instance's CPUs. */
static void mmaplock_buffer_stats(uint64_t *overrun, uint64_t *dropped)
{
	*overrun = *dropped = 0;
	for (int cpu = 0; cpu < 4096; cpu++) {
		char path[400], *text, *p;

		snprintf(path, sizeof(path), "%s/per_cpu/cpu%d/stats", mmaplock.inst, cpu);
		text = util_read_file(path, NULL);
		if (!text)
			break;
		if ((p = strstr(text, "\noverrun: ")) || (p = strstr(text, "overrun: ")))
			*overrun += strtoull(strchr(p, ':') + 1, NULL, 10);
		if ((p = strstr(text, "dropped events: ")))
			*dropped += strtoull(p + 16, NULL, 10);
		free(text);
	}
}

static bool mmaplock_available(const struct probe_ctx *ctx, char *reason, size_t len)
{
	(void)ctx;
	if (mmaplock.started)
		return true;
	snprintf(reason, len, "%s", mmaplock.reason[0] ? mmaplock.reason : "not started");
	return false;
}

static json_t *mmaplock_sample(const struct probe_ctx *ctx)
{
	json_t *o;

	(void)ctx;
	pthread_mutex_lock(&mmaplock.lock);
	if (mmaplock.raw)
		mmaplock_raw_drain_locked();
	else
		mmaplock_drain();
	if (!mmaplock.parse.measuring) { /* the first sample opens the measured phase */
		mmaplock_parse_reset_hists(&mmaplock.parse);
		mmaplock.parse.measuring = true;
	}
	memcpy(mmaplock_at_sample.h, mmaplock.parse.h, sizeof(mmaplock_at_sample.h));
	memcpy(mmaplock_at_sample.decades, mmaplock.parse.decades, sizeof(mmaplock_at_sample.decades));
	o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			 "read_acquisitions", (json_int_t)mmaplock.parse.acq[0],
			 "write_acquisitions", (json_int_t)mmaplock.parse.acq[1],
			 "read_failed", (json_int_t)mmaplock.parse.failed[0],
			 "write_failed", (json_int_t)mmaplock.parse.failed[1],
			 "read_start_locking", (json_int_t)mmaplock.parse.starts[0],
			 "write_start_locking", (json_int_t)mmaplock.parse.starts[1],
			 "read_releases", (json_int_t)mmaplock.parse.releases[0],
			 "write_releases", (json_int_t)mmaplock.parse.releases[1]);
	pthread_mutex_unlock(&mmaplock.lock);
	return o;
}

/* The overhead block: what reading and parsing cost, what was lost, and
 * which path (format "raw" or "text", with the reason for text). */
static json_t *mmaplock_overhead(void)
{
	const struct mmaplock_raw_stats *st = &mmaplock.rd.st;
	uint64_t overrun = 0, dropped = 0, events = mmaplock.parse.events;
	json_t *o;

	mmaplock_buffer_stats(&overrun, &dropped);
	o = json_pack("{s:s, s:I, s:I, s:I, s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:s}",
		"format", mmaplock.raw ? "raw" : "text",
		"events", (json_int_t)events,
		"bytes_read", (json_int_t)(mmaplock.raw ? st->bytes : mmaplock.bytes),
		"reads", (json_int_t)(mmaplock.raw ? st->reads : mmaplock.reads),
		"parse_cpu_s", (double)mmaplock.parse_cpu_ns / 1e9,
		"parse_ns_per_event", events ? (double)mmaplock.parse_cpu_ns / (double)events : 0.0,
		"budget_stops", (json_int_t)mmaplock.budget_stops,
		"overrun", (json_int_t)overrun, "dropped_events", (json_int_t)dropped,
		"lines_unparsed", (json_int_t)mmaplock.parse.lines_unparsed,
		"tids_untracked", (json_int_t)mmaplock.parse.untracked,
		"buffer_size_kb_per_cpu", (json_int_t)MMAPLOCK_BUFFER_KB,
		"timestamp_resolution", mmaplock.raw ? "1ns (trace_pipe_raw, trace_clock mono)"
						     : "1us (tracefs text output, trace_clock mono)");
	if (mmaplock.format_reason[0])
		json_object_set_new(o, "format_reason", json_string(mmaplock.format_reason));
	if (mmaplock.raw)
		json_object_update_new(o, json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s}",
			"drains", (json_int_t)mmaplock.drains, "cpus", (json_int_t)mmaplock.ncpu,
			"budget_cpu_share_pct", (json_int_t)MMAPLOCK_RAW_SHARE_PCT,
			"pages_bad", (json_int_t)st->bad_pages, "events_bad", (json_int_t)st->bad_events,
			"events_unknown", (json_int_t)st->unknown_ids,
			"pages_after_lost_events", (json_int_t)st->missed_pages,
			"lost_events", (json_int_t)st->missed_events, "read_errors", (json_int_t)st->read_errors,
			"memcg_field", mmaplock.rd.fmt.ev[0].memcg_kind[0] ? mmaplock.rd.fmt.ev[0].memcg_kind : "none"));
	return o;
}

static json_t *mmaplock_result(const struct probe_ctx *ctx)
{
	json_t *o = json_object(), *h = json_object(), *dec = json_object();

	(void)ctx;
	if (!mmaplock.started)
		return o;
	mmaplock_raw_thread_stop();
	for (int i = 0; i < MMAPLOCK_PARSE_NHIST; i++) {
		struct hist_sum *sum = malloc(sizeof(*sum));
		json_t *d = json_object();

		if (sum) {
			hist_sum_init(sum);
			hist_sum_add(sum, &mmaplock_at_sample.h[i]);
			json_object_set_new(h, mmaplock_parse_hist_names[i], hist_sum_to_json(sum));
			free(sum);
		}
		for (int k = 0; k < MMAPLOCK_PARSE_DECADES; k++)
			json_object_set_new(d, mmaplock_parse_decade_names[k],
					    json_integer((json_int_t)mmaplock_at_sample.decades[i][k]));
		json_object_set_new(dec, mmaplock_parse_hist_names[i], d);
	}
	json_object_set_new(o, "histograms", h);
	json_object_set_new(o, "decades", dec);
	json_object_set_new(o, "overhead", mmaplock_overhead());
	return o;
}

static void mmaplock_stop(const struct probe_ctx *ctx)
{
	(void)ctx;
	if (mmaplock.started || mmaplock.inst[0] || mmaplock.mount_dir[0] || mmaplock.root_fd >= 0)
		mmaplock_teardown();
}

const struct probe mmaplock_probe = {
	.name = "mmap_lock",
	.resolve = mmaplock_resolve,
	.available = mmaplock_available,
	.sample = mmaplock_sample,
	.start = mmaplock_start,
	.stop = mmaplock_stop,
	.result = mmaplock_result,
};
