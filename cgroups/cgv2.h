/* cgv2: the run's cgroup v2 groups, through libcgroup.
 *
 * Detects the cgroup v2 mount (/sys/fs/cgroup or /sys/fs/cgroup/unified) and
 * which controllers it offers, creates faultline-<pid>-<run>/{victim,protected}
 * under its root, applies the scenario's limits where a controller allows,
 * attaches processes, reads the groups' statistics, and tears everything
 * down with cgroup.kill and rmdir.  It never writes to a cgroup v1 hierarchy:
 * only controllers whose libcgroup mount point is the v2 mount are ever
 * named to libcgroup. */
#ifndef FL_CGV2_H
#define FL_CGV2_H

#include <stdbool.h>
#include <sys/types.h>
#include <jansson.h>

#include "lib/config.h"

/* antagonist: made only when an antagonist runs in it (bench/antagonists/) */
enum { CGV2_VICTIM = 0, CGV2_PROTECTED = 1, CGV2_ANTAGONIST = 2, CGV2_GROUPS = 3 };

struct cgroup; /* libcgroup */

struct cgv2 {
	char mount[512];          /* the v2 mount, "" when there is none */
	char controllers[256];    /* cgroup.controllers of its root */
	char subtree_before[256]; /* the root's subtree_control before we touched it */
	char libcgroup_ctrl[5][32]; /* v2 controllers libcgroup addresses, to name in our groups */
	int nlibcgroup_ctrl;
	bool has_memory, has_io, has_cpu, has_kill;
	bool used_mkdir;          /* libcgroup knew no v2 controller: groups made with mkdir */
	char name[128];           /* faultline-<pid>-<run> */
	char path[CGV2_GROUPS][700]; /* "" for a group the run does not make */
	struct cgroup *group[CGV2_GROUPS + 1]; /* [2] = the run's parent group */
	bool created;
	const char *isolation;    /* full, partial, none */
	char reason[512];
	json_t *settings;         /* what was applied and what was skipped, with why */
};

/* Find the mount and the controllers (no changes made). */
void cgv2_detect(struct cgv2 *cg);
/* Remove groups left by runs whose runner is gone (prints what it removed). */
void cgv2_reap_stale(const struct cgv2 *cg);
/* Create the run's groups and apply limits; 0, or -1 with err. storage_dev is
 * the block device of the storage (0 when none). */
int cgv2_create(struct cgv2 *cg, const char *run_id, const struct config *cfg, dev_t storage_dev, char *err,
		size_t errlen);
int cgv2_attach(struct cgv2 *cg, int group, pid_t pid, char *err, size_t errlen);
/* Statistics of a group: memory.stat, memory.events, io.stat, cpu.stat and
 * the pressure files that exist, as {"file": {"key": number}} */
json_t *cgv2_stats(const struct cgv2 *cg, int group);
/* Kill every process in the run's groups (cgroup.kill) and wait until they are empty. */
void cgv2_kill(struct cgv2 *cg, int timeout_ms);
/* The same for one of them. */
void cgv2_kill_group(struct cgv2 *cg, int group, int timeout_ms);
/* Kill, remove the groups, restore the root's subtree_control. */
void cgv2_teardown(struct cgv2 *cg);
/* Release what cgv2_detect allocated (after teardown and to_json). */
void cgv2_free(struct cgv2 *cg);
/* {"mount","controllers","isolation","reason","settings"} */
/* Which cgroup I/O control the run's limits use: "io.latency", "io.max",
 * both ("io.latency+io.max") or "none" (then slow storage, if any, is the
 * only I/O limit). */
const char *cgv2_io_control(const struct cgv2 *cg);
json_t *cgv2_to_json(const struct cgv2 *cg);

#endif
