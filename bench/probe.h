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

struct cgv2;
struct arena;
struct storage;

struct probe_ctx {
	const struct cgv2 *cg;
	const struct arena *arena;
	const struct storage *st;
};

struct probe {
	const char *name;
	bool (*available)(const struct probe_ctx *ctx, char *reason, size_t len);
	json_t *(*sample)(const struct probe_ctx *ctx);
};

extern const struct probe *const probes[];
extern const unsigned probe_count;

#endif
