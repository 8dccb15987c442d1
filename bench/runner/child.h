/* child: the runner's workload processes (`faultline workload --process
 * NAME`): start one held at a gate, release it, reap it, wait until its
 * threads are ready, stop them all.  Private to bench/runner/. */
#ifndef FL_CHILD_H
#define FL_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>
#include <sys/types.h>

struct run;
struct arena;

struct child {
	const char *name; /* "victim", "observer" */
	pid_t pid;        /* -1 until spawned */
	int gate;         /* write end of the gate pipe until released, else -1 */
	bool reaped;
	int status;       /* wait status once reaped */
	uint64_t cpu_ns;  /* user + system time once reaped */
};

#define CHILD_INIT(name) { (name), -1, -1, false, 0, 0 }

/* Fork `faultline workload --process c->name` and move it into cgroup
 * group (when the run has groups).  It waits at its gate: nothing of the
 * workload runs before child_release.  0, or -1 with err (nothing left). */
int child_spawn(struct run *r, struct child *c, int group, int config_fd, int arena_fd, pid_t victim_pid,
		char *err, size_t errlen);

/* Open the gate: the child execs the workload.  0, or -1 with err (the child is killed and reaped). */
int child_release(struct child *c, char *err, size_t errlen);

/* Reap c if it has exited (block: wait for it).  True once reaped. */
bool child_reap(struct child *c, bool block);

/* Has any started child exited? */
bool child_died(struct child *kids, int nkids);

/* Wait until every child has exited, up to timeout_ms; then kill what is
 * left (their samples are safe in the arena).  True when it had to kill. */
bool child_stop_all(struct run *r, struct child *kids, int nkids, int timeout_ms);

/* Wait for the workload process `process` to report that all its threads
 * wait at the barrier.  0 ready; -1 with err. */
int child_wait_ready(struct run *r, struct arena *a, unsigned process, struct child *c, char *err, size_t errlen);

/* "exited with status N", "killed by signal N (NAME)". */
void child_describe_exit(int status, char *out, size_t len);

uint64_t child_timeval_ns(struct timeval tv);

#endif
