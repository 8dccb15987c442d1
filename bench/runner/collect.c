/* collect: an iteration's measurements and the run's summary (collect.h). */
#define _GNU_SOURCE
#include "bench/runner/collect.h"
#include "bench/runner/calibration.h"
#include "bench/runner/run.h"
#include "bench/runner/child.h"
#include "bench/runner/series.h"
#include "bench/probes/probe.h"
#include "lib/arena.h"
#include "lib/hist.h"
#include "lib/results.h"
#include "lib/metrics.h"
#include "lib/sysinfo.h"
#include "lib/util.h"
#include "workloads/role.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static void collect_add_counters(json_t *into, const json_t *from)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)from, k, v) {
		json_t *old = json_object_get(into, k);

		json_object_set_new(into, k, json_integer(json_integer_value(v) + (old ? json_integer_value(old) : 0)));
	}
}

/* A probe's histograms (exact bins, merged) and decade buckets (added) into the run's summary. */
static void collect_merge_probe_extra(json_t *sum, const json_t *it_probe)
{
	json_t *hs = json_object_get(it_probe, "histograms"), *dec = json_object_get(it_probe, "decades"), *v;
	const char *k;

	if (json_is_object(hs)) {
		json_t *into = json_object_get(sum, "histograms");
		struct hist_sum *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));

		if (!into) {
			into = json_object();
			json_object_set_new(sum, "histograms", into);
		}
		json_object_foreach(hs, k, v) {
			char e[256];
			json_t *old = json_object_get(into, k);

			if (!a || !b || hist_sum_from_json(a, v, e, sizeof(e)) < 0)
				continue;
			if (old && hist_sum_from_json(b, old, e, sizeof(e)) == 0)
				hist_sum_merge(a, b);
			json_object_set_new(into, k, hist_sum_to_json(a));
		}
		free(a);
		free(b);
	}
	if (json_is_object(dec)) {
		json_t *into = json_object_get(sum, "decades");

		if (!into) {
			into = json_object();
			json_object_set_new(sum, "decades", into);
		}
		json_object_foreach(dec, k, v) {
			json_t *d = json_object_get(into, k);

			if (!d) {
				d = json_object();
				json_object_set_new(into, k, d);
			}
			collect_add_counters(d, v);
		}
	}
}

/* One role's histograms from every slot of it; each also merged into the summary. */
static json_t *collect_role_hists(struct run *r, const struct arena *a, unsigned ri)
{
	const struct role *role = roles[ri];
	json_t *hists = json_object();

	for (unsigned h = 0; h < role->nhist; h++) {
		struct hist_sum *hs = malloc(sizeof(*hs)), **sum = &r->sums[ri * ROLE_MAX_HIST + h];

		if (!hs)
			continue;
		hist_sum_init(hs);
		for (uint32_t i = 0; i < a->nslots; i++) {
			struct arena_slot *s = arena_slot(a, i);

			if (s->role == ri)
				hist_sum_add(hs, &s->hist[h]);
		}
		if (hs->count > 0) {
			json_object_set_new(hists, role->hist_names[h], hist_sum_to_json(hs));
			if (!*sum) {
				*sum = malloc(sizeof(struct hist_sum));
				hist_sum_init(*sum);
			}
			hist_sum_merge(*sum, hs);
		}
		free(hs);
	}
	return hists;
}

/* One role's counters: counts summed over its threads, an errno as text. */
static json_t *collect_role_counters(const struct arena *a, unsigned ri, unsigned *started)
{
	const struct role *role = roles[ri];
	json_t *counters = json_object();
	uint64_t sums[ARENA_COUNTERS] = { 0 };

	*started = 0;
	for (uint32_t i = 0; i < a->nslots; i++) {
		struct arena_slot *s = arena_slot(a, i);

		if (s->role != ri)
			continue;
		*started += s->state != SLOT_IDLE;
		for (unsigned c = 0; c < ARENA_COUNTERS; c++)
			if (c < role->ncounters && role->counters[c].kind == ROLE_KIND_ERRNO)
				sums[c] = s->counters[c] ? s->counters[c] : sums[c]; /* an errno: one thread's, not a sum */
			else
				sums[c] += s->counters[c];
	}
	for (unsigned c = 0; c < role->ncounters; c++)
		if (role->counters[c].kind != ROLE_KIND_ERRNO)
			json_object_set_new(counters, role->counters[c].name, json_integer((json_int_t)sums[c]));
		else if (sums[c])
			json_object_set_new(counters, role->counters[c].name, json_string(strerror((int)sums[c])));
	return counters;
}

json_t *collect_roles(struct run *r, const struct arena *a)
{
	json_t *out = json_object();

	for (unsigned ri = 0; ri < role_count; ri++) {
		const struct role *role = roles[ri];
		int64_t n = role->threads(&r->cfg);
		json_t *o, *counters, *prefixed, *v;
		unsigned started;
		const char *k;

		if (n <= 0)
			continue;
		o = json_object();
		json_object_set_new(o, "threads", json_integer(n));
		json_object_set_new(o, "histograms", collect_role_hists(r, a, ri));
		counters = collect_role_counters(a, ri, &started);
		json_object_set_new(o, "threads_started", json_integer(started));
		json_object_set_new(o, "counters", counters);
		json_object_set_new(out, role->name, o);
		prefixed = json_object();
		json_object_foreach(counters, k, v) {
			char key[128];

			if (!json_is_integer(v))
				continue;
			snprintf(key, sizeof(key), "%s.%s", role->name, k);
			json_object_set_new(prefixed, key, json_incref(v));
		}
		collect_add_counters(r->summary_counters, prefixed);
		json_decref(prefixed);
	}
	return out;
}

json_t *collect_probes(struct run *r, struct series *s)
{
	json_t *deltas = series_probe_deltas(s);

	for (unsigned p = 0; p < probe_count; p++) {
		json_t *d = json_object_get(json_object_get(deltas, probes[p]->name), "delta");
		json_t *sum = json_object_get(r->summary_probes, probes[p]->name);

		if (strcmp(probes[p]->name, "workload") == 0)
			continue; /* the roles' counters are in roles and summary.counters */
		if (!sum) {
			sum = json_object();
			json_object_set_new(r->summary_probes, probes[p]->name, sum);
		}
		collect_add_counters(sum, d);
		collect_merge_probe_extra(sum, json_object_get(deltas, probes[p]->name));
	}
	json_object_del(deltas, "workload");
	return deltas;
}

json_t *collect_slowfs(struct run *r)
{
	json_t *fs = storage_slowfs_stats(&r->st), *out;
	double served, distinct;

	if (!fs)
		return NULL;
	served = (double)json_integer_value(json_object_get(fs, "bytes_served"));
	distinct = (double)json_integer_value(json_object_get(fs, "distinct_bytes_served"));
	out = json_pack("{s:O, s:O, s:O, s:O, s:f}", "requests", json_object_get(fs, "requests"), "bytes_served",
			json_object_get(fs, "bytes_served"), "distinct_bytes_served",
			json_object_get(fs, "distinct_bytes_served"), "bytes_served_again",
			json_object_get(fs, "bytes_served_again"), "read_amplification",
			distinct > 0 ? served / distinct : 0.0);
	json_decref(fs);
	return out;
}

json_t *collect_summary(struct run *r)
{
	json_t *sum = json_object(), *rolesj = json_object();

	for (unsigned ri = 0; ri < role_count; ri++) {
		json_t *h = json_object();

		for (unsigned k = 0; k < roles[ri]->nhist; k++)
			if (r->sums[ri * ROLE_MAX_HIST + k])
				json_object_set_new(h, roles[ri]->hist_names[k], hist_sum_to_json(r->sums[ri * ROLE_MAX_HIST + k]));
		if (json_object_size(h))
			json_object_set_new(rolesj, roles[ri]->name, json_pack("{s:o}", "histograms", h));
		else
			json_decref(h);
	}
	json_object_set_new(sum, "roles", rolesj);
	json_object_set_new(sum, "counters", json_incref(r->summary_counters));
	json_object_set_new(sum, "probes", json_incref(r->summary_probes));
	return sum;
}

/* environment: the machine's, with the run's isolation, I/O control, seed and label. */
static json_t *collect_environment(struct run *r)
{
	json_t *env = sysinfo_environment();
	const char *io = cgv2_io_control(&r->cg);

	json_object_set_new(env, "isolation", json_string(r->cg.isolation));
	json_object_set_new(env, "isolation_reason", json_string(r->cg.reason));
	/* the I/O limit actually in force, in the design's order of
	 * preference: io.latency, io.max, slow storage */
	json_object_set_new(env, "io_control", json_string(strcmp(io, "none") ? io
							   : r->cfg.storage.type == STORAGE_SLOWFS ? "slowfs latency"
												   : "none"));
	json_object_set_new(env, "seed", json_integer(r->cfg.seed));
	json_object_set_new(env, "label", json_string(r->label));
	/* the newest ./run.sh calibrate of this machine and storage, or null */
	json_object_set_new(env, "calibration", calibration_find(r->out_dir, env, r->st.info));
	return env;
}

/* The result document (docs/results.md). */
json_t *collect_document(struct run *r, json_t *iterations)
{
	json_t *doc = json_object();
	struct rusage self;

	getrusage(RUSAGE_SELF, &self);
	json_object_set_new(doc, "schema", json_string(RESULTS_SCHEMA));
	json_object_set_new(doc, "run_id", json_string(r->run_id));
	json_object_set_new(doc, "scenario", json_string(r->cfg.name));
	json_object_set_new(doc, "scenario_file", json_string(r->scenario_path));
	json_object_set_new(doc, "label", json_string(r->label));
	json_object_set_new(doc, "status", json_string(r->status));
	json_object_set_new(doc, "status_reason", json_string(r->status_reason));
	json_object_set_new(doc, "started_at", json_string(r->started_at));
	json_object_set_new(doc, "wall_s", json_real((double)(util_now_ns() - r->started_ns) / 1e9));
	json_object_set_new(doc, "config", config_to_json(&r->cfg));
	json_object_set_new(doc, "environment", collect_environment(r));
	json_object_set_new(doc, "cgroup", cgv2_to_json(&r->cg));
	json_object_set_new(doc, "storage", r->st.info ? json_incref(r->st.info) : json_object());
	json_object_set_new(doc, "pressure", r->pressure ? json_incref(r->pressure) : json_pack("{s:s}", "mode", "none"));
	json_object_set_new(doc, "swap", r->swap ? json_incref(r->swap) : sysinfo_swap());
	json_object_set_new(doc, "harness",
			    json_pack("{s:I, s:I, s:I, s:I, s:s, s:s}", "runner_cpu_ns",
				      (json_int_t)(child_timeval_ns(self.ru_utime) + child_timeval_ns(self.ru_stime)),
				      "victim_cpu_ns", (json_int_t)r->victim_cpu_ns, "observer_cpu_ns",
				      (json_int_t)r->observer_cpu_ns, "arena_bytes", (json_int_t)r->arena_bytes,
				      "histogram_scheme", HIST_SCHEME, "runner_scheduling", r->sched));
	json_object_set_new(doc, "iterations", json_incref(iterations));
	json_object_set_new(doc, "summary", collect_summary(r));
	return doc;
}

/* Means over the result's ok iterations of every catalogue metric. */
struct collect_means {
	struct metric m[256];
	double sum[256];
	size_t n[256], count;
};

static void collect_mean_add(void *ctx, const struct metric *m, double v)
{
	struct collect_means *s = ctx;
	size_t i;

	for (i = 0; i < s->count; i++)
		if (!strcmp(s->m[i].name, m->name))
			break;
	if (i == s->count) {
		if (s->count == FL_ARRAY_SIZE(s->m))
			return;
		s->m[s->count++] = *m;
	}
	s->sum[i] += v;
	s->n[i]++;
}

static double collect_mean(const struct collect_means *s, const char *name, const struct metric **m)
{
	for (size_t i = 0; i < s->count; i++)
		if (!strcmp(s->m[i].name, name)) {
			if (m)
				*m = &s->m[i];
			return s->sum[i] / (double)s->n[i];
		}
	return NAN;
}

/* A value in at most 10 columns without an exponent below 1e10. */
static const char *collect_fmt(char *buf, size_t len, double v)
{
	double a = fabs(v);

	snprintf(buf, len, a >= 1e10 ? "%.3g" : a >= 100 || a == 0 ? "%.0f" : a >= 1 ? "%.2f" : "%.4f", v);
	return buf;
}

/* "name value unit" pairs of one section, wrapped at 72 columns. */
static void collect_print_section(const struct collect_means *s, enum metric_section sec, const char *title,
				  bool nonzero_only)
{
	size_t col = 0;

	for (size_t i = 0; i < s->count; i++) {
		double v = s->sum[i] / (double)s->n[i];
		char item[160], num[32];
		int len;

		if (s->m[i].section != sec || (nonzero_only && v == 0))
			continue;
		len = snprintf(item, sizeof(item), "%s %s%s%s", s->m[i].name, collect_fmt(num, sizeof(num), v),
			       strcmp(s->m[i].unit, "/s") && strcmp(s->m[i].unit, "%") ? " " : "", s->m[i].unit);
		if (col == 0)
			col = (size_t)printf("  %s:", title);
		else if (col + 2 + (size_t)len > 72)
			col = (size_t)printf(",\n   ") - 1;
		else
			col += (size_t)printf(",");
		col += (size_t)printf(" %s", item);
	}
	if (col)
		printf("\n");
}

/* The closing lines: the scenario and the kernel it ran on, the latency
 * table, the headline metrics and the other catalogue metrics as means
 * over the iterations (rates per second, ratios with their units), then
 * isolation, pressure and swap. */
void collect_print_summary(struct run *r, const json_t *doc, const char *result_path)
{
	const json_t *env = json_object_get(doc, "environment"), *it;
	struct collect_means *s = calloc(1, sizeof(*s));
	char err[256];
	size_t i, ok = 0;

	printf("faultline: %s on %s (%s), label %s: status %s%s%s\n", r->cfg.name,
	       json_string_value(json_object_get(env, "kernel_release")) ?: "unknown kernel",
	       json_string_value(json_object_get(env, "arch")) ?: "?", r->label, r->status,
	       *r->status_reason ? ": " : "", r->status_reason);
	printf("  %-22s %10s %10s %10s %10s %10s\n", "latency (us)", "count", "p50", "p99", "p99.9", "max");
	for (unsigned ri = 0; ri < role_count; ri++)
		for (unsigned k = 0; k < roles[ri]->nhist; k++) {
			struct hist_sum *h = r->sums[ri * ROLE_MAX_HIST + k];
			char name[64];

			if (!h || !h->count)
				continue;
			snprintf(name, sizeof(name), "%s.%s", roles[ri]->name, roles[ri]->hist_names[k]);
			printf("  %-22s %10llu %10.1f %10.1f %10.1f %10.1f\n", name, (unsigned long long)h->count,
			       hist_sum_percentile(h, 50) / 1e3, hist_sum_percentile(h, 99) / 1e3,
			       hist_sum_percentile(h, 99.9) / 1e3, (double)h->max_ns / 1e3);
		}
	json_array_foreach(json_object_get(doc, "iterations"), i, it)
		if (s && !strcmp(json_string_value(json_object_get(it, "status")) ?: "", "ok") &&
		    metrics_eval(it, collect_mean_add, s, err, sizeof(err)) == 0)
			ok++;
	if (s && ok && r->cfg.report.headline && *r->cfg.report.headline) {
		char *names = strdup(r->cfg.report.headline), *save = NULL, *tok;

		printf("  headline (mean of %zu iteration%s):\n", ok, ok == 1 ? "" : "s");
		for (tok = names ? strtok_r(names, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save)) {
			const struct metric *m = NULL;
			double v = collect_mean(s, tok, &m);
			char num[32];

			if (m)
				printf("    %-34s %12s %s\n", tok, collect_fmt(num, sizeof(num), v), m->unit);
			else
				printf("    %-34s %12s (not measured here)\n", tok, "-");
		}
		free(names);
	}
	if (s && ok) {
		collect_print_section(s, METRIC_SECTION_RATE, "per second", true);
		collect_print_section(s, METRIC_SECTION_LOCK, "lock", false);
		collect_print_section(s, METRIC_SECTION_MEMORY, "memory", false);
		collect_print_section(s, METRIC_SECTION_PRESSURE, "pressure (% of time)", false);
		collect_print_section(s, METRIC_SECTION_ANTAGONIST, "antagonists", false);
	}
	free(s);
	printf("  isolation: %s (%s)\n", r->cg.isolation, r->cg.reason);
	if (r->pressure)
		printf("  memory pressure: %s\n", json_string_value(json_object_get(r->pressure, "mode")));
	if (r->cfg.victim.memory == MEMORY_ANON && r->swap)
		printf("  swap: %s (%lld bytes)\n", json_string_value(json_object_get(r->swap, "status")),
		       (long long)json_integer_value(json_object_get(r->swap, "total_bytes")));
	if (result_path)
		printf("result: %s\n", result_path);
}
