/* mmaplock: mmap_lock tracepoints (mmap_lock_start_locking,
 * mmap_lock_acquire_returned, mmap_lock_released) for the victim process
 * only, through a private tracefs instance.  The events carry no duration:
 * wait = start_locking -> acquire_returned and hold = acquire_returned ->
 * released, per task (the parsing and pairing: mmaplock_parse.c).  Method
 * and limits: docs/probes.md. */
#define _GNU_SOURCE
#include "bench/probes/mmaplock_parse.h"
#include "bench/probes/probe.h"
#include "lib/config.h"
#include "lib/hist.h"
#include "lib/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
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
} mmaplock = { .pipe_fd = -1, .root_fd = -1 };

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

			snprintf(dir, sizeof(dir), "/tmp/%s", e->d_name);
			umount2(dir, MNT_DETACH);
			rmdir(dir);
		}
	}
	if (d)
		closedir(d);
}

static void mmaplock_teardown(void)
{
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
	if (!mmaplock_no_trace(env) && requested != PROBE_OFF) {
		usable = mmaplock_start(NULL, getpid(), why, sizeof(why)) == 0;
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
	{
		char path[300];

		snprintf(path, sizeof(path), "%s/trace_pipe", mmaplock.inst);
		mmaplock.pipe_fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (mmaplock.pipe_fd < 0) {
			snprintf(reason, len, "open %s: %s", path, strerror(errno));
			goto fail;
		}
	}
	if (mmaplock_write(mmaplock.inst, "tracing_on", "1", reason, len) < 0)
		goto fail;
	mmaplock_parse_reset(&mmaplock.parse);
	mmaplock.bytes = mmaplock.parse_cpu_ns = mmaplock.reads = mmaplock.budget_stops = 0;
	mmaplock.buf_fill = 0;
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
	(void)ctx;
	mmaplock_drain();
	if (!mmaplock.parse.measuring) { /* the first sample opens the measured phase */
		mmaplock_parse_reset_hists(&mmaplock.parse);
		mmaplock.parse.measuring = true;
	}
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			 "read_acquisitions", (json_int_t)mmaplock.parse.acq[0],
			 "write_acquisitions", (json_int_t)mmaplock.parse.acq[1],
			 "read_failed", (json_int_t)mmaplock.parse.failed[0],
			 "write_failed", (json_int_t)mmaplock.parse.failed[1],
			 "read_start_locking", (json_int_t)mmaplock.parse.starts[0],
			 "write_start_locking", (json_int_t)mmaplock.parse.starts[1],
			 "read_releases", (json_int_t)mmaplock.parse.releases[0],
			 "write_releases", (json_int_t)mmaplock.parse.releases[1]);
}

static json_t *mmaplock_result(const struct probe_ctx *ctx)
{
	json_t *o = json_object(), *h = json_object(), *dec = json_object();
	uint64_t overrun = 0, dropped = 0;

	(void)ctx;
	if (!mmaplock.started)
		return o;
	for (int i = 0; i < MMAPLOCK_PARSE_NHIST; i++) {
		struct hist_sum *sum = malloc(sizeof(*sum));
		json_t *d = json_object();

		if (sum) {
			hist_sum_init(sum);
			hist_sum_add(sum, &mmaplock.parse.h[i]);
			json_object_set_new(h, mmaplock_parse_hist_names[i], hist_sum_to_json(sum));
			free(sum);
		}
		for (int k = 0; k < MMAPLOCK_PARSE_DECADES; k++)
			json_object_set_new(d, mmaplock_parse_decade_names[k],
					    json_integer((json_int_t)mmaplock.parse.decades[i][k]));
		json_object_set_new(dec, mmaplock_parse_hist_names[i], d);
	}
	mmaplock_buffer_stats(&overrun, &dropped);
	json_object_set_new(o, "histograms", h);
	json_object_set_new(o, "decades", dec);
	json_object_set_new(o, "overhead", json_pack("{s:I, s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:s}",
		"events", (json_int_t)mmaplock.parse.events, "bytes_read", (json_int_t)mmaplock.bytes,
		"reads", (json_int_t)mmaplock.reads, "parse_cpu_s", (double)mmaplock.parse_cpu_ns / 1e9,
		"budget_stops", (json_int_t)mmaplock.budget_stops,
		"overrun", (json_int_t)overrun, "dropped_events", (json_int_t)dropped,
		"lines_unparsed", (json_int_t)mmaplock.parse.lines_unparsed,
		"tids_untracked", (json_int_t)mmaplock.parse.untracked,
		"buffer_size_kb_per_cpu", (json_int_t)MMAPLOCK_BUFFER_KB,
		"timestamp_resolution", "1us (tracefs text output, trace_clock mono)"));
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
