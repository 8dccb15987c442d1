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
#include "lib/metrics.h"
#include "lib/util.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- metrics ---------------------------------------------------------- */

/* Sections in catalogue order (metrics.h), then the catalogue's order, then
 * the name (histograms no role declares). */
static int compare_metric_cmp(const struct report_metric *x, const struct report_metric *y)
{
	if (x->def.section != y->def.section)
		return x->def.section < y->def.section ? -1 : 1;
	if (x->def.order != y->def.order)
		return x->def.order < y->def.order ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int compare_metric_qcmp(const void *a, const void *b)
{
	return compare_metric_cmp(a, b);
}

/* metrics_fn: one value of one metric into the group */
static void compare_metric_add(void *ctx, const struct metric *def, double v)
{
	struct report_group *g = ctx;
	struct report_metric *m = NULL;

	for (size_t i = 0; i < g->nmetrics; i++)
		if (!strcmp(g->metrics[i].name, def->name)) {
			m = &g->metrics[i];
			break;
		}
	if (!m) {
		const char *dot = strchr(def->name, '.'), *dot2 = dot ? strchr(dot + 1, '.') : NULL;
		bool role_latency = def->section == METRIC_SECTION_LATENCY && dot2;

		g->metrics = report_xrealloc(g->metrics, (g->nmetrics + 1) * sizeof(*g->metrics));
		m = &g->metrics[g->nmetrics++];
		*m = (struct report_metric){ .name = report_xstrdup(def->name), .def = *def,
					     .lower_better = def->better == METRIC_BETTER_LOWER,
					     .role = role_latency ? report_xasprintf("%.*s", (int)(dot - def->name),
										     def->name)
								  : report_xstrdup(""),
					     .sub = role_latency ? report_xasprintf("%.*s", (int)(dot2 - dot - 1), dot + 1)
								 : report_xstrdup("") };
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 8;
		m->v = report_xrealloc(m->v, m->cap * sizeof(*m->v));
	}
	m->v[m->n++] = v;
}

/* Every metric of the catalogue (lib/metrics.h) one iteration has, into g. */
int compare_iter_metrics(struct report_group *g, const json_t *it, const char *path, size_t idx)
{
	char err[512];

	if (metrics_eval(it, compare_metric_add, g, err, sizeof(err)) < 0) {
		util_err("%s: iterations[%zu].%s", path, idx, err);
		return -1;
	}
	return 0;
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

/* The statistics of one row: means, tests, interval, power. */
static int compare_row_stats(const struct report_ctx *c, struct report_row *r)
{
	double lo, hi, base = fabs(r->a.mean);

	r->change = stats_pct_change(r->a.mean, r->b.mean);
	stats_welch(r->a.v, r->a.n, r->b.v, r->b.n, &r->welch);
	if (stats_mwu(r->a.v, r->a.n, r->b.v, r->b.n, &r->mwu) < 0) {
		util_err("out of memory");
		return -1;
	}
	r->decide = c->use_mwu ? &r->mwu : &r->welch;
	r->q = NAN;
	r->ci_lo_pct = r->ci_hi_pct = NAN;
	if (base > 0 && stats_welch_ci(r->a.v, r->a.n, r->b.v, r->b.n, 1 - c->alpha, &lo, &hi)) {
		r->ci_lo_pct = 100 * lo / base;
		r->ci_hi_pct = 100 * hi / base;
	}
	r->mde_pct = base > 0 ? 100 * stats_mde(r->a.sd, r->a.n, r->b.sd, r->b.n, c->alpha, 0.8) / base : NAN;
	if (c->mde_target > 0) {
		double cv = fmax(isnan(r->a.cv) ? 0 : r->a.cv, isnan(r->b.cv) ? 0 : r->b.cv);

		r->n_needed = stats_n_needed(cv, c->mde_target, c->alpha, 0.8, 1000);
	}
	return 0;
}

/* Marks: headline rows by their own p, the others by their
 * Benjamini-Hochberg q over every non-headline row of the comparison. */
static int compare_marks(const struct report_ctx *c, struct report_cmp *cmp)
{
	double *p = report_xrealloc(NULL, (cmp->nrows + 1) * sizeof(*p)), *q;

	q = report_xrealloc(NULL, (cmp->nrows + 1) * sizeof(*q));
	for (size_t i = 0; i < cmp->nrows; i++) {
		const struct report_row *r = &cmp->rows[i];

		p[i] = !r->headline && r->decide->ok ? r->decide->p : NAN;
	}
	if (stats_bh_adjust(p, cmp->nrows, q) < 0) {
		util_err("out of memory");
		free(p);
		free(q);
		return -1;
	}
	for (size_t i = 0; i < cmp->nrows; i++) {
		struct report_row *r = &cmp->rows[i];
		double sig = r->headline ? r->decide->p : q[i];

		r->q = q[i];
		if (!r->decide->ok) {
			r->mark = '?';
			r->verdict = "n/a";
		} else if (sig < c->alpha) {
			bool worse = r->m->lower_better ? r->b.mean > r->a.mean : r->b.mean < r->a.mean;

			r->mark = '*';
			r->verdict = r->b.mean == r->a.mean			   ? "not significant"
				     : r->m->def.better == METRIC_BETTER_NONE ? "changed"
				     : worse				   ? "worse"
									   : "better";
		} else {
			r->mark = '~';
			r->verdict = "not significant";
		}
	}
	free(p);
	free(q);
	return 0;
}

/* The headline: the scenario's report.headline (the baseline's, else the
 * candidate's); without one, the catalogue's defaults (every role's p99,
 * mmap_lock acquisitions, the per-VMA lock share). */
static bool compare_is_headline(const struct report_cmp *cmp, const struct report_metric *m)
{
	const struct report_strs *h = cmp->gb->headline.n ? &cmp->gb->headline : &cmp->gc->headline;

	if (h->n) {
		for (size_t i = 0; i < h->n; i++)
			if (!strcmp(h->v[i], m->name))
				return true;
		return false;
	}
	return m->def.headline;
}

/* The rows of one comparison: every metric either side has, sorted. */
static int compare_pair(struct report_ctx *c, struct report_cmp *cmp)
{
	const struct report_group *gb = cmp->gb, *gc = cmp->gc;
	size_t cap = gb->nmetrics + gc->nmetrics;

	cmp->rows = report_xrealloc(NULL, (cap + 1) * sizeof(*cmp->rows));
	cmp->nrows = 0;
	for (size_t pass = 0; pass < 2; pass++) {
		const struct report_group *g = pass ? gc : gb;

		for (size_t i = 0; i < g->nmetrics; i++) {
			const struct report_metric *m = &g->metrics[i];
			struct report_row *r;

			if (pass && compare_find_metric(gb, m->name))
				continue;
			r = &cmp->rows[cmp->nrows++];
			*r = (struct report_row){ .m = m, .threshold = NAN, .headline = compare_is_headline(cmp, m) };
			compare_side_init(&r->a, compare_find_metric(gb, m->name));
			compare_side_init(&r->b, compare_find_metric(gc, m->name));
			if (compare_row_stats(c, r) < 0)
				return -1;
		}
	}
	qsort(cmp->rows, cmp->nrows, sizeof(*cmp->rows), compare_row_cmp);
	return compare_marks(c, cmp);
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
		if (strcmp(gb->config_hash, gc->config_hash) != 0) {
			load_config_diff(gb->config, gc->config, &cmp->config_diff);
			if (!c->allow_config_diff) {
				char *keys = report_strs_join(&cmp->config_diff, "; ");

				util_err("%s/%s: BASE '%s' and CAND '%s' ran with different settings (%s); compare like "
					 "with like, or pass --allow-config-diff to compare anyway",
					 gb->scenario, gb->arch, c->sets[0].arg, c->sets[s].arg, keys);
				free(keys);
				return FL_EXIT_USAGE;
			}
		}
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

/* The gate's verdict on one row with threshold T percent:
 *  regression:   significant and worse than T;
 *  ok:           the (1 - alpha) interval of the change rules out a change
 *                worse than T (or a significant improvement);
 *  inconclusive: neither (the interval holds T, or too few iterations). */
static void compare_gate_row(const struct report_ctx *c, struct report_row *r)
{
	bool none = r->m->def.better == METRIC_BETTER_NONE;
	double bad = none ? fabs(r->change) : r->m->lower_better ? r->change : -r->change;
	/* the worst change the interval allows, in the bad direction */
	double worst = none ? fmax(fabs(r->ci_lo_pct), fabs(r->ci_hi_pct))
		       : r->m->lower_better ? r->ci_hi_pct
					    : -r->ci_lo_pct;
	double cv = fmax(isnan(r->a.cv) ? 0 : r->a.cv, isnan(r->b.cv) ? 0 : r->b.cv);

	r->unjudged = !r->decide->ok || isnan(r->change);
	r->tripped = !r->unjudged && r->decide->p < c->alpha && bad > r->threshold;
	if (r->tripped)
		r->gate = "regression";
	else if (!r->unjudged && (worst <= r->threshold || (r->decide->p < c->alpha && bad < 0)))
		r->gate = "ok";
	else {
		r->gate = "inconclusive";
		r->gate_n = stats_n_needed(cv, r->threshold > 0 ? r->threshold : 1, c->alpha, 0.8, 1000);
	}
}

/* Apply the gate: judge the rows it covers; count regressions and rows it
 * cannot judge. */
static void compare_gate_apply(struct report_ctx *c)
{
	for (size_t k = 0; k < c->ncmps; k++)
		for (size_t i = 0; i < c->cmps[k].nrows; i++) {
			struct report_row *r = &c->cmps[k].rows[i];

			for (size_t j = 0; j < c->nrules; j++) {
				if (strcmp(c->rules[j].metric, r->m->name) != 0)
					continue;
				c->rules[j].known = true;
				/* the strictest rule on a metric wins */
				if (!isnan(r->threshold) && r->threshold <= c->rules[j].pct)
					continue;
				r->threshold = c->rules[j].pct;
				compare_gate_row(c, r);
			}
			if (r->tripped)
				c->tripped++;
			else if (r->gate && !strcmp(r->gate, "inconclusive"))
				c->inconclusive++;
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

double compare_lock_mean(const struct report_group *g, const char *key, const char *sub, const char *bucket)
{
	double sum = 0;
	size_t n = 0;

	for (size_t i = 0; i < g->niters; i++) {
		const json_t *v = json_object_get(
			json_object_get(json_object_get(json_object_get(g->iters[i], "probes"), "mmap_lock"), key), sub);

		if (bucket)
			v = json_object_get(v, bucket);
		if (json_is_number(v)) {
			sum += json_number_value(v);
			n++;
		}
	}
	return n ? sum / (double)n : NAN;
}
