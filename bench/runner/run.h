/* run: the state of one `faultline run` shared by the runner's files
 * (runner.c orchestrates; child.c, series.c and collect.c work on it):
 * the options, the resolved scenario, storage and groups, the status (the
 * first cause wins) and the run's watchdog.  Private to bench/runner/. */
#ifndef FL_RUN_H
#define FL_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "cgroups/cgv2.h"
#include "bench/antagonists/antagonists.h"
#include "bench/storage/storage.h"
#include "lib/config.h"

struct hist_sum;

struct run {
	struct config cfg;
	const char *scenario_path;
	const char *out_dir;
	double timeout_s;
	bool quiet;
	uint64_t test_sample_stall_ns; /* FAULTLINE_TEST_SAMPLE_STALL_MS, test-only */
	char run_id[64];
	char label[128];
	char started_at[64];
	struct cgv2 cg;
	struct storage st;
	struct antagonists ants; /* fio, stress-ng beside the workloads (bench/antagonists/) */
	bool storage_ready;
	uint64_t started_ns, deadline_ns;
	const char *status;     /* ok, interrupted, timeout, oom, error */
	char status_reason[1024];
	/* summary over iterations */
	struct hist_sum **sums; /* [role * ROLE_MAX_HIST + hist] */
	json_t *summary_counters;
	json_t *summary_probes;
	uint64_t victim_cpu_ns, observer_cpu_ns;
	uint64_t arena_bytes;
	char sched[160];
	json_t *pressure;
	json_t *swap;
};

/* Set the run's status and reason unless an earlier cause set them. */
void run_set_status(struct run *r, const char *status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Has the run to stop (signal or watchdog)?  Sets the status once. */
bool run_must_stop(struct run *r);

/* memory.events oom_kill of the victim's group (0 without groups). */
uint64_t run_oom_kills(struct run *r);

/* An iteration's unexpected end of the victim (what) that the memory
 * controller caused: the victim's group's oom_kill went up since before.
 * Then *status "oom" and reason with the count and memory.max; false when
 * it did not go up. */
bool run_judge_oom(struct run *r, uint64_t before, const char *what, const char **status, char *reason,
		   size_t len);

/* slowfs: the daemon ending during an iteration is the cause of what the
 * victim did next (SIGBUS on a read of the dead mount), so its death comes
 * first in reason, and *status is "error".  After an unexpected end
 * (*status not ok) the daemon gets a second to be reaped: its death aborts
 * the FUSE connection a moment before it is a zombie.  Nothing when the
 * run already failed or the daemon lives. */
void run_judge_storage(struct run *r, const char **status, char *reason, size_t len);

#endif
