/* compare: the comparison behind every output of fl-report.
 *
 * Metrics: each ok iteration yields one value per metric: latency
 * percentiles of every histogram of every role (in us), counters per second
 * of measured time, and ratios from the vmstat and slowfs probes.  A metric
 * an iteration lacks is left out for it.  Metrics sort by kind (latency,
 * throughput, ratio), then role (compare_role_order first), histogram, and
 * the order of the tables below.
 *
 * Comparison: per metric and (scenario, arch), the baseline and candidate
 * values go through report/stats.c: mean, stddev, cv, percent change,
 * Welch's t-test and Mann-Whitney U; the chosen test (--test) sets the mark
 * and verdict.  The gate (--fail-on METRIC:PCT%) trips on a significant
 * change in the bad direction beyond PCT. */
#define _GNU_SOURCE
#include "report/report.h"
#include "report/stats.h"
#include "lib/hist.h"
#include "lib/util.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Counters reported per second of measured time, in table order. */
static const struct {
	const char *role, *counter;
} compare_rates[] = {
	{ "fault", "touches" }, { "fault", "major_faults" }, { "fault", "minor_faults" },
	{ "writer", "ops" },    { "observer", "reads" },     { "ps", "reads" },
};

/* Roles in display order; others follow alphabetically. */
static const char *const compare_role_order[] = { "fault", "writer", "observer", "ps" };

/* Latency metrics of every histogram, in table order. */
static const struct {
	const char *suffix;
	double p; /* 0: the exact maximum */
} compare_lat_stats[] = { { "p50", 50 }, { "p99", 99 }, { "p99.9", 99.9 }, { "max", 0 } };

/* ---- metrics ---------------------------------------------------------- */

static int compare_role_rank(const char *role)
{
	for (size_t i = 0; i < FL_ARRAY_SIZE(compare_role_order); i++)
		if (!strcmp(role, compare_role_order[i]))
			return (int)i;
	return (int)FL_ARRAY_SIZE(compare_role_order);
}

static int compare_metric_cmp(const struct report_metric *x, const struct report_metric *y)
{
	int c;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->role_rank != y->role_rank)
		return x->role_rank < y->role_rank ? -1 : 1;
	if ((c = strcmp(x->role, y->role)))
		return c;
	if ((c = strcmp(x->sub, y->sub)))
		return c;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int compare_metric_qcmp(const void *a, const void *b)
{
	return compare_metric_cmp(a, b);
}

static void compare_metric_add(struct report_group *g, const char *name, enum report_kind kind, bool lower_better,
			       const char *unit, const char *role, const char *sub, int order, double v)
{
	struct report_metric *m = NULL;

	if (!isfinite(v))
		return;
	for (size_t i = 0; i < g->nmetrics; i++)
		if (!strcmp(g->metrics[i].name, name)) {
			m = &g->metrics[i];
			break;
		}
	if (!m) {
		g->metrics = report_xrealloc(g->metrics, (g->nmetrics + 1) * sizeof(*g->metrics));
		m = &g->metrics[g->nmetrics++];
		*m = (struct report_metric){ .name = report_xstrdup(name), .kind = kind, .lower_better = lower_better,
					     .unit = unit, .role_rank = compare_role_rank(role),
					     .role = report_xstrdup(role), .sub = report_xstrdup(sub), .order = order };
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 8;
		m->v = report_xrealloc(m->v, m->cap * sizeof(*m->v));
	}
	m->v[m->n++] = v;
}

/* The slowfs byte counts of an iteration, wherever the runner records them:
 * iterations[i].slowfs, .probes.slowfs(.delta) or .storage.slowfs. */
static const json_t *compare_slowfs(const json_t *it)
{
	const json_t *cands[] = {
		json_object_get(it, "slowfs"),
		json_object_get(json_object_get(json_object_get(it, "probes"), "slowfs"), "delta"),
		json_object_get(json_object_get(it, "probes"), "slowfs"),
		json_object_get(json_object_get(it, "storage"), "slowfs"),
	};

	for (size_t i = 0; i < FL_ARRAY_SIZE(cands); i++)
		if (json_is_number(json_object_get(cands[i], "bytes_served")))
			return cands[i];
	return NULL;
}

/* Every metric of one iteration into g's metrics.  A metric an iteration
 * lacks (no samples, no probe, zero denominator) is left out for it. */
int compare_iter_metrics(struct report_group *g, const json_t *it, const char *path, size_t idx)
{
	const json_t *roles = json_object_get(it, "roles"), *role, *vm, *sfs;
	const char *rname;
	struct hist_sum *hs = malloc(sizeof(*hs));
	double measured = 0, touches = -1, v;
	char name[512], herr[256];
	int ret = -1;

	if (!hs) {
		util_err("out of memory");
		goto exit;
	}
	report_num(json_object_get(it, "measured_s"), &measured);
	json_object_foreach((json_t *)roles, rname, role) {
		const json_t *h;
		const char *hname;

		json_object_foreach(json_object_get(role, "histograms"), hname, h) {
			if (hist_sum_from_json(hs, h, herr, sizeof(herr)) < 0) {
				util_err("%s: iterations[%zu].roles.%s.histograms.%s: %s", path, idx, rname, hname,
					 herr);
				goto exit;
			}
			if (hs->count == 0)
				continue;
			for (size_t k = 0; k < FL_ARRAY_SIZE(compare_lat_stats); k++) {
				double ns = compare_lat_stats[k].p > 0 ? hist_sum_percentile(hs, compare_lat_stats[k].p)
								      : (double)hs->max_ns;

				snprintf(name, sizeof(name), "%s.%s.%s", rname, hname, compare_lat_stats[k].suffix);
				compare_metric_add(g, name, REPORT_LATENCY, true, "us", rname, hname, (int)k, ns / 1000.0);
			}
		}
	}
	for (size_t k = 0; k < FL_ARRAY_SIZE(compare_rates); k++) {
		const json_t *c = json_object_get(
			json_object_get(json_object_get(roles, compare_rates[k].role), "counters"), compare_rates[k].counter);

		if (!report_num(c, &v) || !(measured > 0))
			continue;
		snprintf(name, sizeof(name), "%s.%s_per_s", compare_rates[k].role, compare_rates[k].counter);
		compare_metric_add(g, name, REPORT_RATE, false, "/s", "", "", (int)k, v / measured);
	}
	report_num(json_object_get(json_object_get(json_object_get(roles, "fault"), "counters"), "touches"), &touches);
	vm = json_object_get(json_object_get(it, "probes"), "vmstat");
	if (json_is_true(json_object_get(vm, "present"))) {
		const json_t *d = json_object_get(vm, "delta");
		double maj, refault;

		if (report_num(json_object_get(d, "pgmajfault"), &maj)) {
			if (touches > 0)
				compare_metric_add(g, "vmstat.pgmajfault_per_ktouch", REPORT_RATIO, true,
						   "per 1000 touches", "", "", 0, 1000.0 * maj / touches);
			if (maj > 0 && report_num(json_object_get(d, "workingset_refault_file"), &refault))
				compare_metric_add(g, "vmstat.refault_file_per_kmajflt", REPORT_RATIO, true,
						   "per 1000 major faults", "", "", 1, 1000.0 * refault / maj);
		}
	}
	sfs = compare_slowfs(it);
	if (sfs) {
		double served = 0, distinct = 0;

		if (report_num(json_object_get(sfs, "bytes_served"), &served) &&
		    report_num(json_object_get(sfs, "distinct_bytes_served"), &distinct) && distinct > 0)
			compare_metric_add(g, "slowfs.read_amplification", REPORT_RATIO, true,
					   "bytes served per distinct byte", "", "", 2, served / distinct);
	}
	ret = 0;
exit:
	free(hs);
	return ret;
}

void compare_sort_metrics(struct report_group *g)
{
	qsort(g->metrics, g->nmetrics, sizeof(struct report_metric), compare_metric_qcmp);
}

/* ---- comparison ------------------------------------------------------- */

static void compare_side_init(struct report_side *s, const struct report_metric *m)
{
	s->v = m ? m->v : NULL;
	s->n = m ? m->n : 0;
	s->mean = s->n ? stats_mean(s->v, s->n) : NAN;
	s->sd = s->n >= 2 ? stats_stddev(s->v, s->n) : NAN;
	s->cv = stats_cv(s->v, s->n);
}

const struct report_metric *compare_find_metric(const struct report_group *g, const char *name)
{
	for (size_t i = 0; i < g->nmetrics; i++)
		if (!strcmp(g->metrics[i].name, name))
			return &g->metrics[i];
	return NULL;
}

static int compare_row_cmp(const void *a, const void *b)
{
	return compare_metric_cmp(((const struct report_row *)a)->m, ((const struct report_row *)b)->m);
}

/* The rows of one comparison: every metric either side has, sorted. */
static int compare_pair(struct report_ctx *c, struct report_cmp *cmp)
{
	const struct report_group *gb = cmp->gb, *gc = cmp->gc;
	size_t cap = gb->nmetrics + gc->nmetrics;

	cmp->rows = report_xrealloc(NULL, cap * sizeof(*cmp->rows));
	cmp->nrows = 0;
	for (size_t pass = 0; pass < 2; pass++) {
		const struct report_group *g = pass ? gc : gb;

		for (size_t i = 0; i < g->nmetrics; i++) {
			const struct report_metric *m = &g->metrics[i];
			struct report_row *r;

			if (pass && compare_find_metric(gb, m->name))
				continue;
			r = &cmp->rows[cmp->nrows++];
			*r = (struct report_row){ .m = m, .threshold = NAN };
			compare_side_init(&r->a, compare_find_metric(gb, m->name));
			compare_side_init(&r->b, compare_find_metric(gc, m->name));
			r->change = stats_pct_change(r->a.mean, r->b.mean);
			stats_welch(r->a.v, r->a.n, r->b.v, r->b.n, &r->welch);
			if (stats_mwu(r->a.v, r->a.n, r->b.v, r->b.n, &r->mwu) < 0) {
				util_err("out of memory");
				return -1;
			}
			r->decide = c->use_mwu ? &r->mwu : &r->welch;
			if (!r->decide->ok) {
				r->mark = '?';
				r->verdict = "n/a";
			} else if (r->decide->p < c->alpha) {
				bool worse = m->lower_better ? r->b.mean > r->a.mean : r->b.mean < r->a.mean;

				r->mark = '*';
				r->verdict = r->b.mean == r->a.mean ? "not significant" : worse ? "worse" : "better";
			} else {
				r->mark = '~';
				r->verdict = "not significant";
			}
		}
	}
	qsort(cmp->rows, cmp->nrows, sizeof(*cmp->rows), compare_row_cmp);
	return 0;
}

/* "SCENARIO/ARCH, ..." of a set's groups (malloc'd). */
static char *compare_group_list(const struct report_set *set)
{
	struct report_strs keys = { 0 };
	char *all;

	for (size_t g = 0; g < set->ngroups; g++) {
		char *k = report_xasprintf("%s/%s", set->groups[g].scenario, set->groups[g].arch);

		report_strs_add(&keys, k);
		free(k);
	}
	all = report_strs_join(&keys, ", ");
	report_strs_free(&keys);
	return all;
}

/* Compare candidate set s with the baseline in every (scenario, arch) both
 * have ok iterations of. */
static int compare_set(struct report_ctx *c, size_t s)
{
	size_t before = c->ncmps;
	char *sa, *sb;

	for (size_t g = 0; g < c->sets[0].ngroups; g++) {
		struct report_group *gb = &c->sets[0].groups[g];
		struct report_group *gc = load_group_get(&c->sets[s], gb->scenario, gb->arch, false);
		struct report_cmp *cmp;

		if (!gc || !gb->niters || !gc->niters)
			continue;
		cmp = &c->cmps[c->ncmps++];
		*cmp = (struct report_cmp){ .base = &c->sets[0], .cand = &c->sets[s], .gb = gb, .gc = gc };
		if (compare_pair(c, cmp) < 0)
			return FL_EXIT_FAIL;
	}
	for (size_t g = 0; g < c->sets[s].ngroups; g++)
		if (!load_group_get(&c->sets[0], c->sets[s].groups[g].scenario, c->sets[s].groups[g].arch, false))
			fprintf(stderr, "%s: warning: CAND '%s' has %s/%s, which BASE '%s' lacks: not compared\n",
				util_progname, c->sets[s].arg, c->sets[s].groups[g].scenario, c->sets[s].groups[g].arch,
				c->sets[0].arg);
	if (c->ncmps > before)
		return FL_EXIT_OK;
	sa = compare_group_list(&c->sets[0]);
	sb = compare_group_list(&c->sets[s]);
	util_err("CAND '%s' (%s) and BASE '%s' (%s) have no (scenario, arch) with ok iterations in common",
		 c->sets[s].arg, sb, c->sets[0].arg, sa);
	free(sa);
	free(sb);
	return FL_EXIT_USAGE;
}

int compare_all(struct report_ctx *c)
{
	c->cmps = report_xrealloc(NULL, c->nsets * c->sets[0].ngroups * sizeof(*c->cmps));
	for (size_t s = 1; s < c->nsets; s++) {
		int ret = compare_set(c, s);

		if (ret != FL_EXIT_OK)
			return ret;
	}
	return FL_EXIT_OK;
}

/* Parse METRIC:PCT or METRIC:PCT%. */
int compare_parse_rule(struct report_rule *r, const char *arg)
{
	const char *colon = strrchr(arg, ':');
	char *end;

	r->arg = arg;
	if (!colon || colon == arg) {
		util_err("--fail-on '%s': expected METRIC:PERCENT, e.g. fault.major.p99:5%%", arg);
		return -1;
	}
	errno = 0;
	r->pct = strtod(colon + 1, &end);
	if (*end == '%')
		end++;
	if (errno || end == colon + 1 || *end || !(r->pct >= 0) || !isfinite(r->pct)) {
		util_err("--fail-on '%s': threshold '%s' is not a non-negative percentage", arg, colon + 1);
		return -1;
	}
	r->metric = report_xasprintf("%.*s", (int)(colon - arg), arg);
	return 0;
}

/* Apply the gate: mark the rows it covers; count those that tripped. */
static void compare_gate_apply(struct report_ctx *c)
{
	for (size_t k = 0; k < c->ncmps; k++)
		for (size_t i = 0; i < c->cmps[k].nrows; i++) {
			struct report_row *r = &c->cmps[k].rows[i];

			for (size_t j = 0; j < c->nrules; j++) {
				double bad;

				if (strcmp(c->rules[j].metric, r->m->name) != 0)
					continue;
				c->rules[j].known = true;
				/* the strictest rule on a metric wins */
				if (!isnan(r->threshold) && r->threshold <= c->rules[j].pct)
					continue;
				r->threshold = c->rules[j].pct;
				bad = r->m->lower_better ? r->change : -r->change;
				r->unjudged = !r->decide->ok || isnan(r->change);
				r->tripped = !r->unjudged && r->decide->p < c->alpha && bad > r->threshold;
			}
			if (r->tripped)
				c->tripped++;
		}
}

static void compare_list_metrics(const struct report_ctx *c)
{
	struct report_strs names = { 0 };
	char *all;

	for (size_t k = 0; k < c->ncmps; k++)
		for (size_t i = 0; i < c->cmps[k].nrows; i++)
			report_strs_add(&names, c->cmps[k].rows[i].m->name);
	all = report_strs_join(&names, " ");
	fprintf(stderr, "known metrics:\n");
	text_wrap(stderr, 2, all);
	free(all);
	report_strs_free(&names);
}

int compare_gate(struct report_ctx *c)
{
	compare_gate_apply(c);
	for (size_t j = 0; j < c->nrules; j++)
		if (!c->rules[j].known) {
			util_err("--fail-on '%s': unknown metric '%s' (not in any comparison of these results)",
				 c->rules[j].arg, c->rules[j].metric);
			compare_list_metrics(c);
			return -1;
		}
	return 0;
}

int compare_test_need(const struct report_ctx *c)
{
	return c->use_mwu ? STATS_MWU_MIN_N : STATS_WELCH_MIN_N;
}
