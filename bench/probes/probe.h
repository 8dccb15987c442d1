/* probe: a source of kernel-side or workload-side numbers sampled once a
 * second.  Each probe is a name, an availability check that says why it is
 * absent, and a sampler returning a flat object of cumulative numbers; the
 * runner turns successive samples into per-second series and a delta over
 * the measured phase.  Every probe is listed in probes.c. */
#ifndef FL_PROBE_H
#define FL_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <sys/types.h>

struct cgv2;
struct arena;
struct storage;
struct config;

struct probe_ctx {
	const struct cgv2 *cg;
	const struct arena *arena;
	const struct storage *st;
	const struct config *cfg; /* the resolved scenario */
};

/* resolve, start, stop and result are optional (NULL for the simple probes).
 * resolve: called once per run, after the scenario is loaded and before
 *   anything is created; settles the probe's scenario keys (e.g. "auto" to
 *   "on" or "off", environment overrides) in cfg.  Returns -1 with reason
 *   when the scenario requires the probe and it cannot work: the run then
 *   exits 3 (missing resource).
 * start: called once per iteration after the victim is forked and before it
 *   is released (so it can follow the victim from its first instruction);
 *   on failure it leaves nothing behind and available() then says why.
 * stop: called on every exit path of the iteration; removes what start made.
 * result: called after the last sample; an object merged into the probe's
 *   iterations[i].probes.NAME (e.g. histograms). */
struct probe {
	const char *name;
	int (*resolve)(struct config *cfg, char *reason, size_t len);
	bool (*available)(const struct probe_ctx *ctx, char *reason, size_t len);
	json_t *(*sample)(const struct probe_ctx *ctx);
	int (*start)(const struct probe_ctx *ctx, pid_t victim_pid, char *reason, size_t len);
	void (*stop)(const struct probe_ctx *ctx);
	json_t *(*result)(const struct probe_ctx *ctx);
};

extern const struct probe *const probes[];

/* probes/mmaplock.c, pure parts (unit-tested): is FAULTLINE_NO_TRACE set to
 * something other than "" or "0"; and the resolved probes.mmap_lock
 * (PROBE_ON or PROBE_OFF) from the requested one, the environment and
 * whether a trial start worked, or -1 when "on" cannot be had. */
bool mmaplock_no_trace(const char *env);
int mmaplock_mode_decide(int requested, const char *no_trace_env, bool usable);
extern const unsigned probe_count;

#endif
