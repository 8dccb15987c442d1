/* metrics: the catalogue (metrics.h).  Role metrics come from the role
 * table; the rest from metrics_probes below, one entry per metric. */
#define _GNU_SOURCE
#include "lib/metrics.h"
#include "lib/hist.h"
#include "lib/util.h"
#include "workloads/role.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const metric_kind_names[METRIC_NKINDS] = { "latency", "rate", "ratio", "count" };
const char *const metric_section_titles[METRIC_NSECTIONS] = {
	[METRIC_SECTION_LATENCY] = "Latency, us",
	[METRIC_SECTION_RATE] = "Throughput, per second",
	[METRIC_SECTION_LOCK] = "mmap_lock and per-VMA lock",
	[METRIC_SECTION_MEMORY] = "Faults, refaults, swap, storage",
	[METRIC_SECTION_PRESSURE] = "Pressure stall (PSI), % of time",
	[METRIC_SECTION_ANTAGONIST] = "Antagonists (fio, stress-ng)",
};
const char *const metric_better_names[3] = { "none", "higher", "lower" };

/* Latency statistics of every histogram, in this order. */
static const struct {
	const char *suffix;
	double p; /* 0: the exact maximum */
} metrics_lat_stats[] = { { "p50", 50 }, { "p99", 99 }, { "p99.9", 99.9 }, { "max", 0 } };

/* What one iteration offers the formulas. */
struct metrics_in {
	const json_t *it;
	double measured_s;    /* NAN when absent */
	double victim_faults; /* fault threads' major + minor faults; NAN when not classified */
};

typedef double (*metrics_formula)(const struct metrics_in *in, const char *arg);

struct metrics_probe {
	const char *name;
	enum metric_kind kind;
	enum metric_section section;
	enum metric_better better;
	const char *unit;
	metrics_formula formula;
	const char *arg;
	const char *help;
	bool headline; /* a default headline metric */
};

/* The number at a dotted path under the iteration, or NAN. */
static double metrics_num(const json_t *it, const char *path)
{
	char buf[160], *save = NULL, *tok;
	const json_t *v = it;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && v; tok = strtok_r(NULL, ".", &save))
		v = json_object_get(v, tok);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

static bool metrics_present(const json_t *it, const char *probe)
{
	return json_is_true(json_object_get(json_object_get(json_object_get(it, "probes"), probe), "present"));
}

static double metrics_ratio(double num, double den, double scale)
{
	return den > 0 && !isnan(num) ? scale * num / den : NAN;
}

/* arg: a mmap_lock delta key; per 1000 of the victim's faults */
static double metrics_lock_per_kfault(const struct metrics_in *in, const char *arg)
{
	char path[96];

	if (!metrics_present(in->it, "mmap_lock"))
		return NAN;
	snprintf(path, sizeof(path), "probes.mmap_lock.delta.%s", arg);
	return metrics_ratio(metrics_num(in->it, path), in->victim_faults, 1000);
}

/* arg: "HIST:P" (P 0: total time in ms) of the mmap_lock probe's histograms */
static double metrics_lock_hist(const struct metrics_in *in, const char *arg)
{
	const json_t *hists = json_object_get(json_object_get(json_object_get(in->it, "probes"), "mmap_lock"),
					      "histograms");
	char name[32];
	const char *colon = strchr(arg, ':');
	double p = atof(colon + 1), v = NAN;
	struct hist_sum *hs;
	const json_t *h;

	snprintf(name, sizeof(name), "%.*s", (int)(colon - arg), arg);
	h = json_object_get(hists, name);
	if (!h || !metrics_present(in->it, "mmap_lock"))
		return NAN;
	if (p == 0)
		return metrics_num(h, "sum_ns") / 1e6;
	hs = malloc(sizeof(*hs));
	if (hs && hist_sum_from_json(hs, h, name, sizeof(name)) == 0 && hs->count > 0)
		v = hist_sum_percentile(hs, p) / 1e3;
	free(hs);
	return v;
}

/* arg: a vmstat delta key; per 1000 page faults (vmstat pgfault) */
static double metrics_vmstat_per_kfault(const struct metrics_in *in, const char *arg)
{
	char path[96];

	if (!metrics_present(in->it, "vmstat"))
		return NAN;
	snprintf(path, sizeof(path), "probes.vmstat.delta.%s", arg);
	return metrics_ratio(metrics_num(in->it, path), metrics_num(in->it, "probes.vmstat.delta.pgfault"), 1000);
}

/* faults completed under the per-VMA lock, % of all page faults */
static double metrics_vma_share(const struct metrics_in *in, const char *arg)
{
	(void)arg;
	if (!metrics_present(in->it, "vmstat"))
		return NAN;
	return metrics_ratio(metrics_num(in->it, "probes.vmstat.delta.vma_lock_success"),
			     metrics_num(in->it, "probes.vmstat.delta.pgfault"), 100);
}

/* arg: "NUM/DEN*SCALE" over vmstat delta keys, or DEN "touches" (fault role) */
static double metrics_vmstat_ratio(const struct metrics_in *in, const char *arg)
{
	char num[64], den[64], path[96];
	double scale = 1, n, d;

	if (!metrics_present(in->it, "vmstat") || sscanf(arg, "%63[^/]/%63[^*]*%lf", num, den, &scale) < 2)
		return NAN;
	snprintf(path, sizeof(path), "probes.vmstat.delta.%s", num);
	n = metrics_num(in->it, path);
	if (!strcmp(den, "touches"))
		d = metrics_num(in->it, "roles.fault.counters.touches");
	else {
		snprintf(path, sizeof(path), "probes.vmstat.delta.%s", den);
		d = metrics_num(in->it, path);
	}
	return metrics_ratio(n, d, scale);
}

/* arg: a vmstat delta key; per second of measured time */
static double metrics_vmstat_rate(const struct metrics_in *in, const char *arg)
{
	char path[96];

	if (!metrics_present(in->it, "vmstat"))
		return NAN;
	snprintf(path, sizeof(path), "probes.vmstat.delta.%s", arg);
	return metrics_ratio(metrics_num(in->it, path), in->measured_s, 1);
}

/* arg: a /proc/pressure delta key (us); % of measured time */
static double metrics_psi(const struct metrics_in *in, const char *arg)
{
	char path[96];

	if (!metrics_present(in->it, "psi"))
		return NAN;
	snprintf(path, sizeof(path), "probes.psi.delta.%s", arg);
	return metrics_ratio(metrics_num(in->it, path), in->measured_s * 1e6, 100);
}

/* The slowfs byte counts, wherever the runner records them:
 * iterations[i].slowfs, .probes.slowfs(.delta) or .storage.slowfs. */
static const json_t *metrics_slowfs(const json_t *it)
{
	const json_t *probe = json_object_get(json_object_get(it, "probes"), "slowfs");
	const json_t *cands[] = {
		json_object_get(it, "slowfs"),
		json_object_get(probe, "delta"),
		probe,
		json_object_get(json_object_get(it, "storage"), "slowfs"),
	};

	for (size_t i = 0; i < FL_ARRAY_SIZE(cands); i++)
		if (json_is_number(json_object_get(cands[i], "bytes_served")))
			return cands[i];
	return NULL;
}

static double metrics_read_amplification(const struct metrics_in *in, const char *arg)
{
	const json_t *s = metrics_slowfs(in->it);

	(void)arg;
	return s ? metrics_ratio(metrics_num(s, "bytes_served"), metrics_num(s, "distinct_bytes_served"), 1) : NAN;
}

/* arg: "KIND:KEY:sum" or "KIND:KEY:max": KEY of every antagonist of KIND
 * in iterations[i].antagonists, added up (rates, bytes) or the largest
 * (latency percentiles, which do not add) */
static double metrics_antagonist(const struct metrics_in *in, const char *arg)
{
	char kind[32], key[64], how[8];
	const char *name;
	const json_t *a;
	double v = NAN;

	if (sscanf(arg, "%31[^:]:%63[^:]:%7s", kind, key, how) != 3)
		return NAN;
	json_object_foreach((json_t *)json_object_get(in->it, "antagonists"), name, a) {
		const json_t *x = json_object_get(a, key);

		if (strcmp(json_string_value(json_object_get(a, "kind")) ?: "", kind) || !json_is_number(x))
			continue;
		if (isnan(v))
			v = json_number_value(x);
		else
			v = !strcmp(how, "max") ? fmax(v, json_number_value(x)) : v + json_number_value(x);
	}
	return v;
}

#define LOCK METRIC_SECTION_LOCK
#define MEM METRIC_SECTION_MEMORY
#define PSI METRIC_SECTION_PRESSURE
#define ANT METRIC_SECTION_ANTAGONIST
#define LOWER METRIC_BETTER_LOWER
#define HIGHER METRIC_BETTER_HIGHER
#define NEITHER METRIC_BETTER_NONE

static const struct metrics_probe metrics_probes[] = {
	{ "mmap_lock.read_acq_per_kfault", METRIC_RATIO, LOCK, LOWER, "per 1000 faults", metrics_lock_per_kfault,
	  "read_acquisitions", "mmap_lock read acquisitions in the victim per 1000 of its fault threads' faults", true },
	{ "mmap_lock.write_acq_per_kfault", METRIC_RATIO, LOCK, NEITHER, "per 1000 faults", metrics_lock_per_kfault,
	  "write_acquisitions", "mmap_lock write acquisitions in the victim per 1000 of its fault threads' faults", false },
	{ "mmap_lock.read_wait.p50", METRIC_LATENCY, LOCK, LOWER, "us", metrics_lock_hist, "read_wait:50",
	  "wait for mmap_lock for reading (start_locking to acquire_returned), median", false },
	{ "mmap_lock.read_wait.p99", METRIC_LATENCY, LOCK, LOWER, "us", metrics_lock_hist, "read_wait:99",
	  "wait for mmap_lock for reading, 99th percentile", false },
	{ "mmap_lock.read_wait_total_ms", METRIC_RATIO, LOCK, LOWER, "ms", metrics_lock_hist, "read_wait:0",
	  "total time the victim's threads waited for mmap_lock for reading", false },
	{ "mmap_lock.write_wait.p50", METRIC_LATENCY, LOCK, LOWER, "us", metrics_lock_hist, "write_wait:50",
	  "wait for mmap_lock for writing, median", false },
	{ "mmap_lock.write_wait.p99", METRIC_LATENCY, LOCK, LOWER, "us", metrics_lock_hist, "write_wait:99",
	  "wait for mmap_lock for writing, 99th percentile", false },
	{ "mmap_lock.write_wait_total_ms", METRIC_RATIO, LOCK, LOWER, "ms", metrics_lock_hist, "write_wait:0",
	  "total time the victim's threads waited for mmap_lock for writing", false },
	{ "mmap_lock.read_hold.p50", METRIC_LATENCY, LOCK, LOWER, "us", metrics_lock_hist, "read_hold:50",
	  "mmap_lock held for reading (acquired to released), median", false },
	{ "mmap_lock.read_hold.p99", METRIC_LATENCY, LOCK, LOWER, "us", metrics_lock_hist, "read_hold:99",
	  "mmap_lock held for reading, 99th percentile", false },
	{ "mmap_lock.read_hold_total_ms", METRIC_RATIO, LOCK, LOWER, "ms", metrics_lock_hist, "read_hold:0",
	  "total time mmap_lock was held for reading", false },
	{ "mmap_lock.write_hold.p50", METRIC_LATENCY, LOCK, LOWER, "us", metrics_lock_hist, "write_hold:50",
	  "mmap_lock held for writing, median", false },
	{ "mmap_lock.write_hold.p99", METRIC_LATENCY, LOCK, LOWER, "us", metrics_lock_hist, "write_hold:99",
	  "mmap_lock held for writing, 99th percentile", false },
	{ "mmap_lock.write_hold_total_ms", METRIC_RATIO, LOCK, LOWER, "ms", metrics_lock_hist, "write_hold:0",
	  "total time mmap_lock was held for writing", false },
	{ "vma_lock.share_pct", METRIC_RATIO, LOCK, HIGHER, "%", metrics_vma_share, NULL,
	  "faults completed under the per-VMA lock (vma_lock_success) per 100 page faults (vmstat pgfault)", true },
	{ "vma_lock.success_per_kfault", METRIC_RATIO, LOCK, HIGHER, "per 1000 faults", metrics_vmstat_per_kfault,
	  "vma_lock_success", "faults completed under the per-VMA lock per 1000 page faults", false },
	{ "vma_lock.retry_per_kfault", METRIC_RATIO, LOCK, LOWER, "per 1000 faults", metrics_vmstat_per_kfault,
	  "vma_lock_retry", "VMA-locked faults that returned RETRY and fell back to mmap_lock, per 1000 faults", false },
	{ "vma_lock.abort_per_kfault", METRIC_RATIO, LOCK, LOWER, "per 1000 faults", metrics_vmstat_per_kfault,
	  "vma_lock_abort", "faults where no VMA could be read-locked, per 1000 faults", false },
	{ "vma_lock.miss_per_kfault", METRIC_RATIO, LOCK, LOWER, "per 1000 faults", metrics_vmstat_per_kfault,
	  "vma_lock_miss", "faults whose VMA changed under the lookup, per 1000 faults", false },
	{ "vmstat.pgmajfault_per_ktouch", METRIC_RATIO, MEM, LOWER, "per 1000 touches", metrics_vmstat_ratio,
	  "pgmajfault/touches*1000", "major faults (vmstat) per 1000 page touches of the fault threads", false },
	{ "vmstat.refault_file_per_kmajflt", METRIC_RATIO, MEM, LOWER, "per 1000 major faults", metrics_vmstat_ratio,
	  "workingset_refault_file/pgmajfault*1000", "file refaults per 1000 major faults: pages read again "
						     "after reclaim", false },
	{ "vmstat.pswpin_per_s", METRIC_RATE, MEM, NEITHER, "/s", metrics_vmstat_rate, "pswpin",
	  "pages swapped in per second", false },
	{ "slowfs.read_amplification", METRIC_RATIO, MEM, LOWER, "bytes served per distinct byte",
	  metrics_read_amplification, NULL, "bytes slowfs served per distinct byte: 1 = nothing read twice", false },
	{ "psi.memory_some_pct", METRIC_RATIO, PSI, LOWER, "%", metrics_psi, "memory_some_total_us",
	  "time some task stalled on memory (/proc/pressure/memory some), % of measured time", false },
	{ "psi.memory_full_pct", METRIC_RATIO, PSI, LOWER, "%", metrics_psi, "memory_full_total_us",
	  "time all non-idle tasks stalled on memory, % of measured time", false },
	{ "psi.io_some_pct", METRIC_RATIO, PSI, LOWER, "%", metrics_psi, "io_some_total_us",
	  "time some task stalled on I/O (/proc/pressure/io some), % of measured time", false },
	{ "psi.io_full_pct", METRIC_RATIO, PSI, LOWER, "%", metrics_psi, "io_full_total_us",
	  "time all non-idle tasks stalled on I/O, % of measured time", false },
	{ "antagonist.fio.read_bw_bytes_per_s", METRIC_RATE, ANT, NEITHER, "bytes/s", metrics_antagonist,
	  "fio:read_bw_bytes_per_s:sum", "fio antagonists' read bandwidth (after their ramp), summed", false },
	{ "antagonist.fio.write_bw_bytes_per_s", METRIC_RATE, ANT, NEITHER, "bytes/s", metrics_antagonist,
	  "fio:write_bw_bytes_per_s:sum", "fio antagonists' write bandwidth, summed", false },
	{ "antagonist.fio.read_iops", METRIC_RATE, ANT, NEITHER, "/s", metrics_antagonist, "fio:read_iops:sum",
	  "fio antagonists' reads per second, summed", false },
	{ "antagonist.fio.write_iops", METRIC_RATE, ANT, NEITHER, "/s", metrics_antagonist, "fio:write_iops:sum",
	  "fio antagonists' writes per second, summed", false },
	{ "antagonist.fio.read_clat_p50_ns", METRIC_LATENCY, ANT, NEITHER, "ns", metrics_antagonist,
	  "fio:read_clat_p50_ns:max", "fio antagonists' read completion latency, median (the worst antagonist's)",
	  false },
	{ "antagonist.fio.read_clat_p99_ns", METRIC_LATENCY, ANT, NEITHER, "ns", metrics_antagonist,
	  "fio:read_clat_p99_ns:max", "fio antagonists' read completion latency, 99th percentile", false },
	{ "antagonist.fio.read_clat_p999_ns", METRIC_LATENCY, ANT, NEITHER, "ns", metrics_antagonist,
	  "fio:read_clat_p999_ns:max", "fio antagonists' read completion latency, 99.9th percentile", false },
	{ "antagonist.fio.write_clat_p50_ns", METRIC_LATENCY, ANT, NEITHER, "ns", metrics_antagonist,
	  "fio:write_clat_p50_ns:max", "fio antagonists' write completion latency, median", false },
	{ "antagonist.fio.write_clat_p99_ns", METRIC_LATENCY, ANT, NEITHER, "ns", metrics_antagonist,
	  "fio:write_clat_p99_ns:max", "fio antagonists' write completion latency, 99th percentile", false },
	{ "antagonist.fio.write_clat_p999_ns", METRIC_LATENCY, ANT, NEITHER, "ns", metrics_antagonist,
	  "fio:write_clat_p999_ns:max", "fio antagonists' write completion latency, 99.9th percentile", false },
	{ "antagonist.stress_ng.bytes", METRIC_COUNT, ANT, NEITHER, "bytes", metrics_antagonist,
	  "stress-ng:bytes:sum", "anonymous memory the stress-ng antagonists ran with (after the safety bound)",
	  false },
	{ "antagonist.stress_ng.bogo_ops_per_s", METRIC_RATE, ANT, NEITHER, "/s", metrics_antagonist,
	  "stress-ng:bogo_ops_per_s:sum", "stress-ng's bogo operations per second (real time), summed", false },
};

static const struct role *metrics_role(const char *name, unsigned *index)
{
	for (unsigned r = 0; r < role_count; r++)
		if (!strcmp(roles[r]->name, name)) {
			*index = r;
			return roles[r];
		}
	*index = role_count;
	return NULL;
}

static enum metric_better metrics_role_better(enum role_better b)
{
	return b == ROLE_BETTER_HIGHER ? METRIC_BETTER_HIGHER
	       : b == ROLE_BETTER_LOWER ? METRIC_BETTER_LOWER
					: METRIC_BETTER_NONE;
}

static void metrics_latency(struct metric *m, const char *role, const char *hist, unsigned order, size_t k)
{
	*m = (struct metric){ .kind = METRIC_LATENCY, .section = METRIC_SECTION_LATENCY,
			      .better = METRIC_BETTER_LOWER, .unit = "us", .order = (int)(order * 4 + k),
			      .help = "latency of one operation of the role", .headline = metrics_lat_stats[k].p == 99 };
	snprintf(m->name, sizeof(m->name), "%s.%s.%s", role, hist, metrics_lat_stats[k].suffix);
}

static void metrics_rate(struct metric *m, const struct role *role, unsigned ri, unsigned c)
{
	*m = (struct metric){ .kind = METRIC_RATE, .section = METRIC_SECTION_RATE,
			      .better = metrics_role_better(role->counters[c].better), .unit = "/s",
			      .order = (int)(ri * 64 + c), .help = role->counters[c].unit };
	snprintf(m->name, sizeof(m->name), "%s.%s_per_s", role->name, role->counters[c].name);
}

static void metrics_probe_metric(struct metric *m, size_t i)
{
	const struct metrics_probe *p = &metrics_probes[i];

	*m = (struct metric){ .kind = p->kind, .section = p->section, .better = p->better, .unit = p->unit,
			      .help = p->help, .order = (int)i, .headline = p->headline };
	snprintf(m->name, sizeof(m->name), "%s", p->name);
}

/* Latencies of one role's histograms in the iteration. */
static int metrics_eval_hists(const char *rname, const json_t *role, const struct role *desc, unsigned ri,
			      metrics_fn fn, void *ctx, struct hist_sum *hs, char *err, size_t errlen)
{
	const json_t *h;
	const char *hname;
	unsigned undeclared = ROLE_MAX_HIST;

	json_object_foreach((json_t *)json_object_get(role, "histograms"), hname, h) {
		char herr[256];
		struct metric m;
		unsigned hi;

		if (hist_sum_from_json(hs, h, herr, sizeof(herr)) < 0) {
			snprintf(err, errlen, "roles.%s.histograms.%s: %s", rname, hname, herr);
			return -1;
		}
		if (hs->count == 0)
			continue;
		hi = undeclared++; /* after the declared ones, in the result's order */
		for (unsigned d = 0; desc && d < desc->nhist; d++)
			if (!strcmp(desc->hist_names[d], hname))
				hi = d;
		for (size_t k = 0; k < FL_ARRAY_SIZE(metrics_lat_stats); k++) {
			double ns = metrics_lat_stats[k].p > 0 ? hist_sum_percentile(hs, metrics_lat_stats[k].p)
							       : (double)hs->max_ns;

			metrics_latency(&m, rname, hname, ri * 2 * ROLE_MAX_HIST + hi, k);
			fn(ctx, &m, ns / 1000.0);
		}
	}
	return 0;
}

int metrics_eval(const json_t *it, metrics_fn fn, void *ctx, char *err, size_t errlen)
{
	const json_t *roles_j = json_object_get(it, "roles"), *role;
	struct metrics_in in = { .it = it, .measured_s = metrics_num(it, "measured_s") };
	struct hist_sum *hs = malloc(sizeof(*hs));
	const char *rname;
	double major = metrics_num(it, "roles.fault.counters.major_faults");
	double minor = metrics_num(it, "roles.fault.counters.minor_faults");
	int ret = -1;

	if (!hs) {
		snprintf(err, errlen, "metrics: out of memory");
		return -1;
	}
	in.victim_faults = isnan(major) || isnan(minor) ? NAN : major + minor;
	json_object_foreach((json_t *)roles_j, rname, role) {
		unsigned ri;
		const struct role *desc = metrics_role(rname, &ri);

		if (metrics_eval_hists(rname, role, desc, ri, fn, ctx, hs, err, errlen) < 0)
			goto exit;
		for (unsigned c = 0; desc && c < desc->ncounters; c++) {
			double v = metrics_num(json_object_get(role, "counters"), desc->counters[c].name);
			struct metric m;

			if (desc->counters[c].kind != ROLE_KIND_COUNT || isnan(v) || !(in.measured_s > 0))
				continue;
			metrics_rate(&m, desc, ri, c);
			fn(ctx, &m, v / in.measured_s);
		}
	}
	for (size_t i = 0; i < FL_ARRAY_SIZE(metrics_probes); i++) {
		double v = metrics_probes[i].formula(&in, metrics_probes[i].arg);
		struct metric m;

		if (!isfinite(v))
			continue;
		metrics_probe_metric(&m, i);
		fn(ctx, &m, v);
	}
	ret = 0;
exit:
	free(hs);
	return ret;
}

void metrics_each(metrics_fn fn, void *ctx)
{
	struct metric m;

	for (unsigned r = 0; r < role_count; r++) {
		for (unsigned h = 0; h < roles[r]->nhist; h++)
			for (size_t k = 0; k < FL_ARRAY_SIZE(metrics_lat_stats); k++) {
				metrics_latency(&m, roles[r]->name, roles[r]->hist_names[h], r * 2 * ROLE_MAX_HIST + h, k);
				fn(ctx, &m, NAN);
			}
		for (unsigned c = 0; c < roles[r]->ncounters; c++)
			if (roles[r]->counters[c].kind == ROLE_KIND_COUNT) {
				metrics_rate(&m, roles[r], r, c);
				fn(ctx, &m, NAN);
			}
	}
	for (size_t i = 0; i < FL_ARRAY_SIZE(metrics_probes); i++) {
		metrics_probe_metric(&m, i);
		fn(ctx, &m, NAN);
	}
}

struct metrics_search {
	const char *name;
	struct metric *out;
	bool found;
	size_t best_d;
	char best[96];
};

static void metrics_find_fn(void *ctx, const struct metric *m, double v)
{
	struct metrics_search *s = ctx;

	(void)v;
	if (!s->found && !strcmp(m->name, s->name)) {
		if (s->out)
			*s->out = *m;
		s->found = true;
	}
}

bool metrics_find(const char *name, struct metric *out)
{
	struct metrics_search s = { .name = name, .out = out };

	metrics_each(metrics_find_fn, &s);
	return s.found;
}

static void metrics_suggest_fn(void *ctx, const struct metric *m, double v)
{
	struct metrics_search *s = ctx;
	size_t d = util_edit_distance(s->name, m->name);

	(void)v;
	if (d < s->best_d) {
		s->best_d = d;
		snprintf(s->best, sizeof(s->best), "%s", m->name);
	}
}

const char *metrics_suggest(const char *name, char *buf, size_t len)
{
	struct metrics_search s = { .name = name, .best_d = (size_t)-1 };

	metrics_each(metrics_suggest_fn, &s);
	if (s.best_d == (size_t)-1 || s.best_d > strlen(name) / 2 + 1)
		return NULL;
	snprintf(buf, len, "%s", s.best);
	return buf;
}

int metrics_check_headline(const char *joined, const char *file, char *err, size_t errlen)
{
	char *copy = joined ? strdup(joined) : NULL, *save = NULL, *tok;
	int ret = 0;

	for (tok = copy ? strtok_r(copy, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save)) {
		char near[96];

		if (metrics_find(tok, NULL))
			continue;
		if (metrics_suggest(tok, near, sizeof(near)))
			snprintf(err, errlen, "%s: report.headline: unknown metric '%s' (did you mean '%s'?)", file, tok, near);
		else
			snprintf(err, errlen, "%s: report.headline: unknown metric '%s' (fl-report --list-metrics lists them)",
				 file, tok);
		ret = -1;
		break;
	}
	free(copy);
	return ret;
}
