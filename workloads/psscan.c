/* psscan: an observer thread that does what `ps` does: list /proc and read
 * every process's cmdline, timing each read and each whole scan. */
#define _GNU_SOURCE
#include "workloads/role.h"
#include "lib/util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PSSCAN_HISTS(X) \
	X(PSSCAN_HIST_CMDLINE, "cmdline") \
	X(PSSCAN_HIST_SCAN, "scan")
enum { PSSCAN_HISTS(ROLE_HIST_ENUM) PSSCAN_NHIST };
#define PSSCAN_COUNTERS(X) \
	X(PSSCAN_SCANS, "scans", COUNT, "scans", HIGHER) \
	X(PSSCAN_READS, "reads", COUNT, "reads", HIGHER) \
	X(PSSCAN_ERRORS, "errors", COUNT, "errors", LOWER)
enum { PSSCAN_COUNTERS(ROLE_COUNTER_ENUM) PSSCAN_NCOUNTERS };
static const char *const psscan_hist_names[PSSCAN_NHIST] = { PSSCAN_HISTS(ROLE_HIST_NAME) };
static const struct role_counter psscan_counters[] = { PSSCAN_COUNTERS(ROLE_COUNTER_DESC) };

static int64_t psscan_threads(const struct config *cfg)
{
	return cfg->observer.ps_scan ? 1 : 0;
}

static void *psscan_run(void *arg)
{
	struct role_thread *t = arg;
	struct workload *w = t->w;
	const struct config *cfg = w->cfg;
	struct arena_slot *slot = t->slot;
	uint64_t period = cfg->observer.ps_rate_per_s > 0 ? (uint64_t)(1e9 / cfg->observer.ps_rate_per_s) : 0, next;
	static __thread char buf[8192];

	role_ready(t);
	next = util_now_ns();
	while (arena_phase(w->arena) != ARENA_STOP) {
		bool measuring;
		uint64_t s0 = util_now_ns();
		DIR *d;
		struct dirent *de;

		role_pace(&next, period);
		measuring = arena_phase(w->arena) == ARENA_MEASURE;
		s0 = util_now_ns();
		d = opendir("/proc");
		if (!d) {
			if (measuring)
				arena_count(slot, PSSCAN_ERRORS, 1);
			continue;
		}
		while ((de = readdir(d)) && arena_phase(w->arena) != ARENA_STOP) {
			char path[64];
			uint64_t t0, t1;
			int fd;

			if (!isdigit((unsigned char)de->d_name[0]))
				continue;
			snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
			t0 = util_now_ns();
			fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd >= 0) {
				while (read(fd, buf, sizeof(buf)) > 0)
					;
				close(fd);
			}
			t1 = util_now_ns();
			if (!measuring)
				continue;
			if (fd < 0) {
				if (errno != ENOENT) /* a process that exited mid-scan is normal */
					arena_count(slot, PSSCAN_ERRORS, 1);
				continue;
			}
			hist_record(&slot->hist[PSSCAN_HIST_CMDLINE], t1 - t0);
			arena_count(slot, PSSCAN_READS, 1);
		}
		closedir(d);
		if (measuring) {
			hist_record(&slot->hist[PSSCAN_HIST_SCAN], util_now_ns() - s0);
			arena_count(slot, PSSCAN_SCANS, 1);
		}
	}
	role_done(t);
	return NULL;
}

const struct role psscan_role = {
	.name = "ps",
	.process = PROCESS_OBSERVER,
	.threads = psscan_threads,
	.nhist = PSSCAN_NHIST,
	.hist_names = psscan_hist_names,
	.ncounters = PSSCAN_NCOUNTERS,
	.counters = psscan_counters,
	.setup = NULL,
	.run = psscan_run,
};
