/* probes: the table of probes (probe.h) and the simple ones. */
#define _GNU_SOURCE
#include "bench/probes/probe.h"
#include "lib/arena.h"
#include "cgroups/cgv2.h"
#include "workloads/role.h"
#include "bench/storage/storage.h"
#include "lib/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* /proc/vmstat: fault, reclaim, refault and swap counters (zswpin and
 * zswpout: pages zswap kept compressed in memory, which pswpin and pswpout
 * do not count), plus the vma_lock_* counters of kernels built with
 * CONFIG_PER_VMA_LOCK_STATS. */
static const char *const vmstat_prefixes[] = {
	"pgfault", "pgmajfault", "workingset_", "pgscan_", "pgsteal_", "pswpin", "pswpout", "zswpin", "zswpout",
	"vma_lock_", "pgpgin", "pgpgout", "allocstall", "oom_kill", "pgactivate", "pgdeactivate", "thp_fault_",
};

static bool vmstat_available(const struct probe_ctx *ctx, char *reason, size_t len)
{
	(void)ctx;
	if (access("/proc/vmstat", R_OK) == 0)
		return true;
	snprintf(reason, len, "/proc/vmstat is not readable");
	return false;
}

static json_t *vmstat_sample(const struct probe_ctx *ctx)
{
	char *text = util_read_file("/proc/vmstat", NULL), *line, *save = NULL;
	json_t *o = json_object();

	(void)ctx;
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		char key[64];
		unsigned long long v;

		if (sscanf(line, "%63s %llu", key, &v) != 2)
			continue;
		for (size_t i = 0; i < FL_ARRAY_SIZE(vmstat_prefixes); i++)
			if (strncmp(key, vmstat_prefixes[i], strlen(vmstat_prefixes[i])) == 0) {
				json_object_set_new(o, key, json_integer((json_int_t)v));
				break;
			}
	}
	free(text);
	return o;
}

static const struct probe vmstat_probe = { .name = "vmstat", .available = vmstat_available, .sample = vmstat_sample };

/* /proc/pressure/{memory,io,cpu}: system-wide PSI stall time, microseconds. */
static bool psi_available(const struct probe_ctx *ctx, char *reason, size_t len)
{
	(void)ctx;
	if (access("/proc/pressure/memory", R_OK) == 0)
		return true;
	snprintf(reason, len, "/proc/pressure is missing (kernel without CONFIG_PSI or psi=0)");
	return false;
}

static json_t *psi_sample(const struct probe_ctx *ctx)
{
	static const char *const kinds[] = { "memory", "io", "cpu" };
	json_t *o = json_object();

	(void)ctx;
	for (size_t k = 0; k < FL_ARRAY_SIZE(kinds); k++) {
		char path[64], *text, *p;

		snprintf(path, sizeof(path), "/proc/pressure/%s", kinds[k]);
		text = util_read_file(path, NULL);
		for (p = text; p && *p;) {
			char which[8], key[48];
			unsigned long long total;

			if (sscanf(p, "%7s %*s %*s %*s total=%llu", which, &total) == 2) {
				snprintf(key, sizeof(key), "%s_%s_total_us", kinds[k], which);
				json_object_set_new(o, key, json_integer((json_int_t)total));
			}
			p = strchr(p, '\n');
			if (p)
				p++;
		}
		free(text);
	}
	return o;
}

static const struct probe psi_probe = { .name = "psi", .available = psi_available, .sample = psi_sample };

/* The run's cgroups: memory.stat, memory.events, io.stat, cpu.stat and
 * pressure totals of the victim and protected groups, and the antagonist
 * group when the run has one (averages left out:
 * they are not counters). */
static bool cgroup_available(const struct probe_ctx *ctx, char *reason, size_t len)
{
	if (ctx->cg && ctx->cg->created)
		return true;
	snprintf(reason, len, "the run has no cgroups of its own");
	return false;
}

static json_t *cgroup_sample(const struct probe_ctx *ctx)
{
	static const char *const groups[CGV2_GROUPS] = { "victim", "protected", "antagonist" };
	json_t *o = json_object();

	for (int g = 0; g < CGV2_GROUPS; g++) {
		json_t *stats = cgv2_stats(ctx->cg, g), *file;
		const char *fname;

		json_object_foreach(stats, fname, file) {
			const char *k;
			json_t *v;

			json_object_foreach(file, k, v) {
				char key[160];

				if (strstr(k, "avg"))
					continue;
				snprintf(key, sizeof(key), "%s.%s.%s%s", groups[g], fname, k,
					 strstr(fname, "pressure") ? "_us" : "");
				json_object_set_new(o, key, json_integer((json_int_t)json_number_value(v)));
			}
		}
		json_decref(stats);
	}
	return o;
}

static const struct probe cgroup_probe = { .name = "cgroup", .available = cgroup_available, .sample = cgroup_sample };

/* The workloads' own counters, summed over each role's threads. */
static bool workload_available(const struct probe_ctx *ctx, char *reason, size_t len)
{
	if (ctx->arena && ctx->arena->hdr)
		return true;
	snprintf(reason, len, "no arena");
	return false;
}

static json_t *workload_sample(const struct probe_ctx *ctx)
{
	json_t *o = json_object();
	uint64_t sums[ROLE_MAX][ARENA_COUNTERS] = { { 0 } };

	for (uint32_t i = 0; i < ctx->arena->nslots; i++) {
		struct arena_slot *s = arena_slot(ctx->arena, i);

		for (unsigned c = 0; c < ARENA_COUNTERS && s->role < ROLE_MAX; c++)
			sums[s->role][c] += __atomic_load_n(&s->counters[c], __ATOMIC_RELAXED);
	}
	for (unsigned r = 0; r < role_count; r++) {
		if (roles[r]->threads == NULL)
			continue;
		for (unsigned c = 0; c < roles[r]->ncounters; c++) {
			char key[96];

			if (roles[r]->counters[c].kind == ROLE_KIND_ERRNO)
				continue; /* not a counter */
			snprintf(key, sizeof(key), "%s.%s", roles[r]->name, roles[r]->counters[c].name);
			json_object_set_new(o, key, json_integer((json_int_t)sums[r][c]));
		}
	}
	return o;
}

static const struct probe workload_probe = { .name = "workload", .available = workload_available, .sample = workload_sample };

/* slowfs: requests and bytes served, distinct and again (exact, from the
 * daemon's .stats). */
static bool slowfs_available(const struct probe_ctx *ctx, char *reason, size_t len)
{
	if (ctx->st && ctx->st->daemon_pid > 0)
		return true;
	snprintf(reason, len, "storage is not slowfs");
	return false;
}

static json_t *slowfs_sample(const struct probe_ctx *ctx)
{
	static const char *const keys[] = { "requests", "bytes_served", "distinct_bytes_served", "bytes_served_again" };
	json_t *stats = storage_slowfs_stats(ctx->st), *o = json_object();

	for (size_t i = 0; stats && i < FL_ARRAY_SIZE(keys); i++) {
		json_t *v = json_object_get(stats, keys[i]);

		if (json_is_integer(v))
			json_object_set_new(o, keys[i], json_incref(v));
	}
	json_decref(stats);
	return o;
}

static const struct probe slowfs_probe = { .name = "slowfs", .available = slowfs_available, .sample = slowfs_sample };

extern const struct probe mmaplock_probe; /* mmaplock.c */

const struct probe *const probes[] = {
	&workload_probe, /* the roles' counters: touches, faults, writer ops, reads */
	&vmstat_probe,   /* /proc/vmstat: faults, refaults, reclaim, swap, vma_lock_* */
	&psi_probe,      /* /proc/pressure: system-wide stall time */
	&cgroup_probe,   /* the run's groups: memory.stat, memory.events, io.stat, cpu.stat, PSI */
	&slowfs_probe,   /* slowfs: requests, bytes served, distinct and again */
	&mmaplock_probe, /* mmap_lock tracepoints of the victim: acquisitions, waits, holds */
};

const unsigned probe_count = FL_ARRAY_SIZE(probes);
