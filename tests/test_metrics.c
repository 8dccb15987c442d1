/* test_metrics: the metric catalogue (lib/metrics.h) on recorded results
 * (tests/data/result-*.json): each lock, VMA-lock, PSI and memory metric
 * against a hand computation from the JSON, the role families, names that
 * are declared once, and lookups. */
#include "tests/check.h"

#include "lib/metrics.h"
#include "lib/util.h"

#include <glob.h>
#include <math.h>

struct seen {
	char name[64][96];
	double v[64];
	int n;
	int total, dup;
	char names[512][96];
};

static void collect(void *ctx, const struct metric *m, double v)
{
	struct seen *s = ctx;

	for (int i = 0; i < s->total && i < 512; i++)
		if (!strcmp(s->names[i], m->name))
			s->dup++;
	if (s->total < 512)
		snprintf(s->names[s->total], sizeof(s->names[0]), "%s", m->name);
	s->total++;
	if ((!strncmp(m->name, "mmap_lock.", 10) || !strncmp(m->name, "vma_lock.", 9) || !strncmp(m->name, "psi.", 4) ||
	     !strncmp(m->name, "vmstat.", 7) || !strncmp(m->name, "fault.major", 11) ||
	     !strcmp(m->name, "writer.ops_per_s")) && s->n < 64) {
		snprintf(s->name[s->n], sizeof(s->name[0]), "%s", m->name);
		s->v[s->n++] = v;
	}
}

static double got(const struct seen *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->name[i], name))
			return s->v[i];
	return NAN;
}

static double num(const json_t *o, const char *a, const char *b, const char *c, const char *d)
{
	const json_t *v = json_object_get(json_object_get(json_object_get(json_object_get(o, a), b), c), d);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

#define NEAR_REL(x, want) (fabs((x) - (want)) <= 1e-9 * fmax(1, fabs(want)))

/* Every recorded iteration: the formulas of docs/report.md by hand. */
TEST(lock_metrics_by_hand)
{
	glob_t g;
	int checked = 0;

	CHECK(glob("tests/data/result-*.json", 0, NULL, &g) == 0, "no tests/data/result-*.json");
	for (size_t f = 0; f < g.gl_pathc; f++) {
		json_error_t jerr;
		json_t *doc = json_load_file(g.gl_pathv[f], 0, &jerr), *it;
		size_t i;

		CHECK(doc, "%s: %s", g.gl_pathv[f], jerr.text);
		json_array_foreach(json_object_get(doc, "iterations"), i, it) {
			struct seen s = { 0 };
			char err[256];
			double measured = json_number_value(json_object_get(it, "measured_s"));
			double faults = num(it, "roles", "fault", "counters", "major_faults") +
					num(it, "roles", "fault", "counters", "minor_faults");
			double racq = num(it, "probes", "mmap_lock", "delta", "read_acquisitions");
			double wacq = num(it, "probes", "mmap_lock", "delta", "write_acquisitions");
			const json_t *rw = json_object_get(
				json_object_get(json_object_get(json_object_get(it, "probes"), "mmap_lock"), "histograms"),
				"read_wait");
			double pgfault = num(it, "probes", "vmstat", "delta", "pgfault");
			double maj = num(it, "probes", "vmstat", "delta", "pgmajfault");
			double refault = num(it, "probes", "vmstat", "delta", "workingset_refault_file");
			double mem_some = num(it, "probes", "psi", "delta", "memory_some_total_us");
			double io_full = num(it, "probes", "psi", "delta", "io_full_total_us");
			double success = num(it, "probes", "vmstat", "delta", "vma_lock_success");
			double retry = num(it, "probes", "vmstat", "delta", "vma_lock_retry");

			CHECK(metrics_eval(it, collect, &s, err, sizeof(err)) == 0, "%s[%zu]: %s", g.gl_pathv[f], i, err);
			CHECK(s.dup == 0, "%s[%zu]: a metric named twice", g.gl_pathv[f], i);
			if (!isnan(racq)) {
				CHECK(NEAR_REL(got(&s, "mmap_lock.read_acq_per_kfault"), 1000 * racq / faults),
				      "read_acq_per_kfault %g, by hand %g", got(&s, "mmap_lock.read_acq_per_kfault"),
				      1000 * racq / faults);
				CHECK(NEAR_REL(got(&s, "mmap_lock.write_acq_per_kfault"), 1000 * wacq / faults),
				      "write_acq_per_kfault %g, by hand %g", got(&s, "mmap_lock.write_acq_per_kfault"),
				      1000 * wacq / faults);
				CHECK(NEAR_REL(got(&s, "mmap_lock.read_wait_total_ms"),
					       json_number_value(json_object_get(rw, "sum_ns")) / 1e6),
				      "read_wait_total_ms");
				/* the histogram's own p50 (hist.h midpoint) in us */
				CHECK(fabs(got(&s, "mmap_lock.read_wait.p50") -
					   json_number_value(json_object_get(rw, "p50_ns")) / 1e3) < 1e-6,
				      "read_wait.p50 %g, recorded %g", got(&s, "mmap_lock.read_wait.p50"),
				      json_number_value(json_object_get(rw, "p50_ns")) / 1e3);
				checked++;
			}
			if (!isnan(pgfault) && maj > 0)
				CHECK(NEAR_REL(got(&s, "vmstat.refault_file_per_kmajflt"), 1000 * refault / maj),
				      "refaults per 1000 major faults");
			if (!isnan(mem_some))
				CHECK(NEAR_REL(got(&s, "psi.memory_some_pct"), 100 * mem_some / (measured * 1e6)) &&
					      NEAR_REL(got(&s, "psi.io_full_pct"), 100 * io_full / (measured * 1e6)),
				      "psi");
			if (!isnan(success)) {
				CHECK(NEAR_REL(got(&s, "vma_lock.share_pct"), 100 * success / pgfault), "vma share");
				CHECK(NEAR_REL(got(&s, "vma_lock.retry_per_kfault"), 1000 * retry / pgfault), "vma retry");
			} else {
				CHECK(isnan(got(&s, "vma_lock.share_pct")), "vma share without vma_lock counters");
			}
			CHECK(NEAR_REL(got(&s, "writer.ops_per_s"),
				       num(it, "roles", "writer", "counters", "ops") / measured), "writer.ops_per_s");
		}
		json_decref(doc);
	}
	globfree(&g);
	CHECK(checked > 0, "no recorded iteration had the mmap_lock probe");
}

/* A synthetic iteration with the per-VMA lock counters and nothing else. */
TEST(vma_lock_metrics_synthetic)
{
	json_t *it = json_pack("{s:f, s:{s:{s:b, s:{s:i, s:i, s:i, s:i, s:i}}}}", "measured_s", 2.0, "probes", "vmstat",
			       "present", 1, "delta", "pgfault", 4000, "vma_lock_success", 3000, "vma_lock_retry", 800,
			       "vma_lock_abort", 40, "vma_lock_miss", 4);
	struct seen s = { 0 };
	char err[128];

	CHECK(metrics_eval(it, collect, &s, err, sizeof(err)) == 0, "%s", err);
	CHECK(got(&s, "vma_lock.share_pct") == 75, "share %g", got(&s, "vma_lock.share_pct"));
	CHECK(got(&s, "vma_lock.retry_per_kfault") == 200, "retry %g", got(&s, "vma_lock.retry_per_kfault"));
	CHECK(got(&s, "vma_lock.abort_per_kfault") == 10, "abort %g", got(&s, "vma_lock.abort_per_kfault"));
	CHECK(got(&s, "vma_lock.miss_per_kfault") == 1, "miss %g", got(&s, "vma_lock.miss_per_kfault"));
	CHECK(isnan(got(&s, "mmap_lock.read_acq_per_kfault")), "lock metric without the probe");
	json_decref(it);
}

/* The catalogue: every role counter of kind count is a rate, names are
 * unique, lookups and suggestions work. */
TEST(catalogue)
{
	struct seen s = { 0 };
	struct metric m;
	char buf[96];

	metrics_each(collect, &s);
	CHECK(s.dup == 0, "%d names appear twice", s.dup);
	CHECK(s.total > 60, "only %d metrics", s.total);
	CHECK(metrics_find("gup.reads_per_s", &m) && m.kind == METRIC_RATE && m.better == METRIC_BETTER_HIGHER,
	      "gup.reads_per_s");
	CHECK(metrics_find("odirect.read.p99", &m) && m.kind == METRIC_LATENCY, "odirect.read.p99");
	CHECK(metrics_find("evictor.calls_per_s", &m) && m.better == METRIC_BETTER_NONE, "evictor.calls_per_s");
	CHECK(!metrics_find("writer.last_errno_per_s", NULL), "an errno counter became a rate");
	CHECK(metrics_find("mmap_lock.read_acq_per_kfault", &m) && m.section == METRIC_SECTION_LOCK, "lock metric");
	CHECK(!metrics_find("mmap_lock.read_acq_per_kfaults", NULL), "a typo was found");
	CHECK(metrics_suggest("mmap_lock.read_acq_per_kfaults", buf, sizeof(buf)) &&
		      !strcmp(buf, "mmap_lock.read_acq_per_kfault"), "suggestion %s", buf);
	CHECK(metrics_suggest("zzzzzzzzzzzzzzzzzz", buf, sizeof(buf)) == NULL, "a far name got a suggestion");
}
