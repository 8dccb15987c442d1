/* procread: observer threads in the protected group reading the victim's
 * /proc files the way monitors do (open, read to EOF, close), each file
 * kind timed into its own histogram so readers that take mmap_lock
 * (cmdline, environ, smaps, smaps_rollup, numa_maps) are not mixed with
 * those that need not (maps on recent kernels; status, statm). */
#define _GNU_SOURCE
#include "workloads/role.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* same order as PROCFILE_* in config.h and observer.files' choices */
static const char *const procread_hist_names[PROCFILE_COUNT] = {
	"cmdline", "environ", "maps", "smaps", "smaps_rollup", "numa_maps", "status", "statm",
};
#define PROCREAD_COUNTERS(X) \
	X(PROCREAD_CYCLES, "cycles", COUNT, "cycles", HIGHER) \
	X(PROCREAD_READS, "reads", COUNT, "reads", HIGHER) \
	X(PROCREAD_BYTES, "bytes", COUNT, "bytes", HIGHER) \
	X(PROCREAD_ERRORS, "errors", COUNT, "errors", LOWER) \
	X(PROCREAD_LAST_ERRNO, "last_errno", ERRNO, "errno", NONE)
enum { PROCREAD_COUNTERS(ROLE_COUNTER_ENUM) PROCREAD_NCOUNTERS };
static const struct role_counter procread_counters[] = { PROCREAD_COUNTERS(ROLE_COUNTER_DESC) };

#define PROCREAD_BUF (256 * 1024)

static int64_t procread_threads(const struct config *cfg)
{
	return cfg->observer.files ? cfg->observer.threads : 0;
}

/* Read a whole file into buf (overwriting); bytes read or -1. */
static ssize_t procread_slurp(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t total = 0, n;

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, len)) > 0)
		total += n;
	if (n < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	close(fd);
	return total;
}

static void *procread_run(void *arg)
{
	struct role_thread *t = arg;
	struct workload *w = t->w;
	const struct config *cfg = w->cfg;
	struct arena_slot *slot = t->slot;
	uint64_t period = cfg->observer.rate_per_s > 0 ? (uint64_t)(1e9 / cfg->observer.rate_per_s) : 0, next;
	char paths[PROCFILE_COUNT][64];
	char *buf = malloc(PROCREAD_BUF);

	if (!buf) {
		fprintf(stderr, "faultline: procread thread %u: allocating %d bytes: %s\n", t->index, PROCREAD_BUF,
			strerror(errno));
		role_done(t);
		return NULL;
	}
	for (int f = 0; f < PROCFILE_COUNT; f++)
		snprintf(paths[f], sizeof(paths[f]), "/proc/%d/%s", (int)w->victim_pid, procread_hist_names[f]);
	role_ready(t);
	next = util_now_ns();
	while (arena_phase(w->arena) != ARENA_STOP) {
		bool measuring;

		role_pace(&next, period);
		measuring = arena_phase(w->arena) == ARENA_MEASURE;
		for (int f = 0; f < PROCFILE_COUNT; f++) {
			uint64_t t0, t1;
			ssize_t n;

			if (!(cfg->observer.files & (1u << f)))
				continue;
			t0 = util_now_ns();
			n = procread_slurp(paths[f], buf, PROCREAD_BUF);
			t1 = util_now_ns();
			if (!measuring)
				continue;
			if (n < 0) {
				role_error(slot, PROCREAD_ERRORS, PROCREAD_LAST_ERRNO, errno);
				continue;
			}
			hist_record(&slot->hist[f], t1 - t0);
			arena_count(slot, PROCREAD_READS, 1);
			arena_count(slot, PROCREAD_BYTES, (uint64_t)n);
		}
		if (measuring)
			arena_count(slot, PROCREAD_CYCLES, 1);
	}
	free(buf);
	role_done(t);
	return NULL;
}

const struct role procread_role = {
	.name = "observer",
	.process = PROCESS_OBSERVER,
	.threads = procread_threads,
	.nhist = PROCFILE_COUNT,
	.hist_names = procread_hist_names,
	.ncounters = PROCREAD_NCOUNTERS,
	.counters = procread_counters,
	.setup = NULL,
	.run = procread_run,
};
