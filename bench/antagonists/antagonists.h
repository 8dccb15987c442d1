/* antagonists: programs the runner starts beside the workloads to load the
 * machine the way real load does, and whose own figures join the result:
 * fio (fio.c: an I/O storm on a file of its own) and stress-ng (stressng.c:
 * anonymous memory, so reclaim is the kernel's own, not the evictor's
 * MADV_PAGEOUT).  One unit per kind, each a descriptor in antagonist_kinds[]
 * (antagonists.c), indexed by enum config_antagonist_kind; a new kind is a
 * unit, its entry there, its name in lib/config_antagonists.c's choices and
 * its options in that table.
 *
 * Life of an antagonist in a run (the runner calls, in this order):
 *   antagonists_check      before anything is created: its program is on
 *                          PATH (else exit 3, naming the Debian package)
 *   antagonists_prepare    after the storage: its directory
 *                          storage.path/antagonists-RUNNERPID-RUNID/ with
 *                          its files (fio's data file, laid out by fio);
 *                          leftovers of SIGKILLed runners removed first
 *   per iteration:
 *   antagonists_spawn      forked, held at a gate, in its cgroup
 *                          (cgroup.antagonist or the victim's), with
 *                          PR_SET_PDEATHSIG, oom_score_adj 1000 and its
 *                          kind's limits
 *   antagonists_release    the gate opens as the workloads' phase starts
 *   antagonists_died       polled with the workloads: an early end (or an
 *                          OOM kill while stress-ng runs) ends the phase
 *   antagonists_stop       SIGTERM as the workloads get ARENA_STOP
 *   antagonists_collect    reaped (SIGKILL to its process group and
 *                          cgroup.kill of its group after the grace
 *                          period), judged, its output parsed into
 *                          iterations[i].antagonists.NAME
 *   antagonists_end_iteration  on every path: nothing of it left running
 *   antagonists_teardown   its directory and files removed
 * It is only ever signalled by pid, by its own process group or through its
 * group's cgroup.kill, never by name. */
#ifndef FL_ANTAGONISTS_H
#define FL_ANTAGONISTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <jansson.h>

#include "lib/config.h"

struct cgv2;
struct antagonist;

#define ANTAGONIST_MAX_ARGS 48

struct antagonist_kind {
	const char *name; /* = its config choice, its program and its Debian package */
	/* Once per run, before anything exists: kind-specific checks of what
	 * the program and the machine offer (a->program and a->version are
	 * set); may settle a->setting.  0, or -1 with err (the run exits 3). */
	int (*check)(struct antagonist *a, const struct config *cfg, char *err, size_t errlen);
	/* Once per run, its directory dir made: the files it needs there.  0,
	 * or -1 with err.  May be NULL. */
	int (*prepare)(struct antagonist *a, const struct config *cfg, const char *dir, char *err, size_t errlen);
	/* Each iteration: its command line (antagonist_arg), the settings
	 * resolved now (into a->resolved) and a->rlimit_data_bytes.  0, or -1
	 * with err. */
	int (*command)(struct antagonist *a, const struct config *cfg, const char *dir, char *err, size_t errlen);
	/* After it ended: its figures (from a->output) into out. */
	void (*collect)(struct antagonist *a, json_t *out);
	/* Did the OOM killer end it (oom_kills: the system's count during the
	 * iteration)?  May be NULL (never). */
	bool (*oom)(const struct antagonist *a, uint64_t oom_kills);
};

struct antagonist {
	const struct config_antagonist *cfg;
	const struct antagonist_kind *kind;
	char program[4096];  /* resolved on PATH */
	char version[128];   /* its --version, first line */
	char setting[64];    /* what the kind's check settled for the run (fio: the ioengine) */
	uint64_t rlimit_data_bytes; /* RLIMIT_DATA of each of its processes; 0 = unlimited */
	char file[4200];     /* fio: its data file */
	char output[4200];   /* its machine-readable output (fio JSON, stress-ng YAML) */
	char log[4200];      /* its stdout and stderr */
	char args[ANTAGONIST_MAX_ARGS][320];
	char *argv[ANTAGONIST_MAX_ARGS + 1];
	int argc;
	json_t *resolved;    /* settings resolved this iteration (bytes, ioengine, ...) */
	pid_t pid;           /* -1 when not running */
	int gate;            /* write end of its gate until released, else -1 */
	bool reaped, stop_sent, killed, early;
	int status;          /* wait status once reaped */
	uint64_t cpu_ns, released_ns, ended_ns;
};

struct antagonists {
	int n;
	struct antagonist a[CONFIG_ANTAGONISTS_MAX];
	const struct config *cfg;
	struct cgv2 *cg;
	bool quiet;
	char dir[4096];      /* storage.path/antagonists-PID-RUNID, "" when none */
	uint64_t oom_before; /* /proc/vmstat oom_kill when the iteration's antagonists started */
	uint64_t oom_checked_ns;
	bool oom_seen;
};

extern const struct antagonist_kind *const antagonist_kinds[ANTAGONIST_KINDS];

/* Each antagonist's program on PATH and its kind's checks; prints why not
 * and returns -1 (the run exits 3) before anything is made. */
int antagonists_check(const struct config *cfg);
/* Remove leftovers of runners that are gone (always), then, when the
 * scenario has antagonists, make their directory and files.  0, or -1 with err. */
int antagonists_prepare(struct antagonists *as, const struct config *cfg, struct cgv2 *cg, const char *run_id,
			bool quiet, char *err, size_t errlen);
int antagonists_spawn(struct antagonists *as, char *err, size_t errlen);
void antagonists_release(struct antagonists *as);
bool antagonists_died(struct antagonists *as);
void antagonists_stop(struct antagonists *as);
/* Into it: "antagonists" {NAME: {...}}; an antagonist's unexpected end sets
 * *status ("antagonist-oom" or "error") and reason when *status is "ok". */
void antagonists_collect(struct antagonists *as, json_t *it, const char **status, char *reason, size_t len);
void antagonists_end_iteration(struct antagonists *as);
void antagonists_teardown(struct antagonists *as);

/* For the kinds: append one argument (printf format) to a's command line. */
void antagonist_arg(struct antagonist *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Run program with args (NULL-terminated, args[0] the name), its stdout
 * and stderr (up to len - 1 bytes) into out; timeout_s at most, and no
 * longer than until a stop signal (util_stop_signal).  Its exit status, or
 * -1 (killed then, by pid). */
int antagonist_capture(const char *program, char *const args[], char *out, size_t len, unsigned timeout_s);
/* /proc/meminfo's KEY in bytes (0 when absent). */
uint64_t antagonist_meminfo(const char *key);

/* Pure parts (unit-tested). */
/* fio's JSON output (text may start with fio's own messages) into out:
 * read_ and write_ bw_bytes_per_s, iops, io_bytes, clat_{p50,p99,p999,mean}_ns,
 * runtime_ms, error.  0, or -1 with err. */
int fio_parse_output(const char *text, json_t *out, char *err, size_t errlen);
/* stress-ng's bytes: requested (0 = the bound) capped at the bound,
 * MemAvailable - max(10% of MemTotal, min(2 GiB, 25% of MemTotal)); 0 when
 * there is no room at all.  *bound_out gets the bound. */
uint64_t stressng_bytes(uint64_t requested, uint64_t mem_total, uint64_t mem_available, uint64_t *bound_out);
/* The numbers stress-ng's --yaml file has for its stressor (bogo-ops,
 * wall-clock-time, max-rss, ...) into out as bogo_ops, ... */
void stressng_parse_yaml(const char *text, json_t *out);

#endif
