/* decide: `fl-report --sequential`, the decision of a sequential A/B over the
 * results so far (bench/vm/ab.sh --until decided calls it after each pair).
 *
 * Every headline metric of every comparison is judged by the group-sequential
 * design of report/sequential.c at alpha / m (Bonferroni over the m headline
 * metrics, so that the chance of any false verdict over all of them and all
 * looks stays below alpha): significant, equivalent (within +-margin, the
 * --mde, default DECIDE_MARGIN_PCT), undecided, or n/a (a side lacks it).
 * Prints a table (72 columns) and, with --out, writes it as sequential.txt
 * with sequential.json.  Exit 0 when no metric is undecided, 4 to go on. */
#define _GNU_SOURCE
#include "report/report.h"
#include "report/sequential.h"
#include "lib/util.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DECIDE_SCHEMA "faultline-sequential/1"

struct decide_item {
	const struct report_cmp *cmp;
	const struct report_row *r;
	struct sequential_result res;
};

struct decide_state {
	struct sequential_design d;
	struct decide_item *items;
	size_t n, undecided, looked; /* looked: iterations per side of the latest look */
	size_t most;                 /* most iterations any side has */
};

/* A bound of the interval: short enough for the column. */
static void decide_fmt_pct(char *buf, size_t len, double v)
{
	if (isnan(v))
		snprintf(buf, len, "?");
	else if (isinf(v))
		snprintf(buf, len, v > 0 ? "+inf" : "-inf");
	else if (fabs(v) < 99.95)
		snprintf(buf, len, "%+.1f", v);
	else if (fabs(v) < 99999.5)
		snprintf(buf, len, "%+.0f", v);
	else
		snprintf(buf, len, "%+.0e", v);
}

static void decide_row(FILE *f, const struct decide_item *it)
{
	const struct sequential_result *s = &it->res;
	char ch[32], lo[16], hi[16], iv[40], at[16];

	text_fmt_change(ch, sizeof(ch), s->change_pct);
	decide_fmt_pct(lo, sizeof(lo), s->lo_pct);
	decide_fmt_pct(hi, sizeof(hi), s->hi_pct);
	if (s->looks)
		snprintf(iv, sizeof(iv), "[%s,%s]", lo, hi);
	else
		snprintf(iv, sizeof(iv), "-");
	if (s->verdict == SEQUENTIAL_SIGNIFICANT || s->verdict == SEQUENTIAL_EQUIVALENT)
		snprintf(at, sizeof(at), "%zu", s->n);
	else
		snprintf(at, sizeof(at), "-");
	if (strlen(it->r->m->name) > 29) {
		text_wrap(f, 2, it->r->m->name);
		fprintf(f, "%-29s %8s %-15s %-11s %4s\n", "", s->looks ? ch : "-", iv, sequential_verdict_names[s->verdict],
			at);
	} else {
		fprintf(f, "%-29s %8s %-15s %-11s %4s\n", it->r->m->name, s->looks ? ch : "-", iv,
			sequential_verdict_names[s->verdict], at);
	}
}

static void decide_text(const struct report_ctx *c, const struct decide_state *st, FILE *f)
{
	const struct sequential_design *d = &st->d;
	const struct report_cmp *prev = NULL;
	struct report_strs undecided = { 0 };
	char *line, *names;

	for (size_t i = 0; i < st->n; i++) {
		const struct report_cmp *cmp = st->items[i].cmp;

		if (cmp != prev) {
			line = report_xasprintf("faultline sequential A/B: scenario %s, arch %s; base %s (%zu iterations), "
						"cand %s (%zu iterations)",
						cmp->gb->scenario, cmp->gb->arch, cmp->base->name, cmp->gb->niters,
						cmp->cand->name, cmp->gc->niters);
			text_wrap(f, 2, line);
			free(line);
			fprintf(f, "%-29s %8s %-15s %-11s %4s\n", "metric", "change", "interval %", "verdict", "at");
			prev = cmp;
		}
		decide_row(f, &st->items[i]);
	}
	line = report_xasprintf(
		"design: looks after each pair from %zu to %zu iterations per side (--max-iterations), %s-type "
		"alpha spending, alpha %g over %zu headline metric%s (Bonferroni: %.3g each), equivalence margin "
		"+-%g%% of the base mean (--mde); 'at' is the iterations per side of the deciding look; the "
		"intervals are %% of the base mean and hold at every look at once (docs/report.md, \"Sequential "
		"A/B\")",
		d->n_min, d->n_max, d->spending == SEQUENTIAL_POCOCK ? "Pocock" : "O'Brien-Fleming", c->alpha, st->n,
		st->n == 1 ? "" : "s", d->alpha, d->margin_pct);
	text_wrap(f, 2, line);
	free(line);
	for (size_t i = 0; i < st->n; i++)
		if (st->items[i].res.verdict == SEQUENTIAL_UNDECIDED)
			report_strs_add(&undecided, st->items[i].r->m->name);
	names = report_strs_join(&undecided, ", ");
	report_strs_free(&undecided);
	if (st->most > d->n_max)
		fprintf(f, "note: only the first %zu iterations per side are used (the design ends there)\n",
			d->n_max);
	if (!st->undecided)
		line = report_xasprintf("decision: every headline metric decided at %zu iterations per side (exit 0)",
					st->looked);
	else if (st->looked >= d->n_max)
		line = report_xasprintf("decision: %zu of %zu undecided (%s) at the last look (%zu iterations per "
					"side): not shown to change, nor to stay within +-%g%% (exit 4)",
					st->undecided, st->n, names, st->looked, d->margin_pct);
	else
		line = report_xasprintf("decision: %zu of %zu undecided (%s) after %zu iterations per side: "
					"continue (exit 4)",
					st->undecided, st->n, names, st->looked);
	text_wrap(f, 2, line);
	free(line);
	free(names);
}

static json_t *decide_num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *decide_json(const struct report_ctx *c, const struct decide_state *st)
{
	const struct sequential_design *d = &st->d;
	json_t *doc = json_object(), *looks = json_array(), *metrics = json_array();

	json_object_set_new(doc, "schema", json_string(DECIDE_SCHEMA));
	json_object_set_new(doc, "alpha", json_real(c->alpha));
	json_object_set_new(doc, "headline_metrics", json_integer((json_int_t)st->n));
	json_object_set_new(doc, "alpha_per_metric", json_real(d->alpha));
	json_object_set_new(doc, "spending", json_string(sequential_spending_names[d->spending]));
	json_object_set_new(doc, "margin_pct", json_real(d->margin_pct));
	json_object_set_new(doc, "min_iterations", json_integer((json_int_t)d->n_min));
	json_object_set_new(doc, "max_iterations", json_integer((json_int_t)d->n_max));
	json_object_set_new(doc, "iterations", json_integer((json_int_t)st->looked));
	for (size_t n = d->n_min; n <= d->n_max; n++) {
		json_t *l = json_object();

		json_object_set_new(l, "n", json_integer((json_int_t)n));
		json_object_set_new(l, "t_bound", decide_num(d->c[n - d->n_min]));
		json_object_set_new(l, "p_nominal", json_real(d->p_nominal[n - d->n_min]));
		json_object_set_new(l, "z_known_variance", decide_num(d->z[n - d->n_min]));
		json_array_append_new(looks, l);
	}
	json_object_set_new(doc, "looks", looks);
	for (size_t i = 0; i < st->n; i++) {
		const struct decide_item *it = &st->items[i];
		const struct sequential_result *s = &it->res;
		json_t *m = json_object();

		json_object_set_new(m, "scenario", json_string(it->cmp->gb->scenario));
		json_object_set_new(m, "arch", json_string(it->cmp->gb->arch));
		json_object_set_new(m, "baseline", json_string(it->cmp->base->name));
		json_object_set_new(m, "candidate", json_string(it->cmp->cand->name));
		json_object_set_new(m, "name", json_string(it->r->m->name));
		json_object_set_new(m, "verdict", json_string(sequential_verdict_names[s->verdict]));
		json_object_set_new(m, "n", json_integer((json_int_t)s->n));
		json_object_set_new(m, "looks", json_integer((json_int_t)s->looks));
		json_object_set_new(m, "change_pct", decide_num(s->change_pct));
		json_object_set_new(m, "interval_pct", json_pack("[oo]", decide_num(s->lo_pct), decide_num(s->hi_pct)));
		json_object_set_new(m, "t", decide_num(s->t));
		json_object_set_new(m, "t_bound", decide_num(s->t_crit));
		json_object_set_new(m, "df", decide_num(s->df));
		json_object_set_new(m, "p", decide_num(s->p));
		json_object_set_new(m, "p_nominal", decide_num(s->p_nominal));
		json_array_append_new(metrics, m);
	}
	json_object_set_new(doc, "metrics", metrics);
	json_object_set_new(doc, "undecided", json_integer((json_int_t)st->undecided));
	json_object_set_new(doc, "decided", json_boolean(st->undecided == 0));
	return doc;
}

/* The headline rows of every comparison, judged. */
static int decide_judge(const struct report_ctx *c, struct decide_state *st)
{
	size_t m = 0;

	for (size_t k = 0; k < c->ncmps; k++)
		for (size_t i = 0; i < c->cmps[k].nrows; i++)
			m += c->cmps[k].rows[i].headline;
	if (!m) {
		util_err("--sequential: none of the scenario's headline metrics (config report.headline) is in these "
			 "results");
		return FL_EXIT_USAGE;
	}
	if (sequential_design_init(&st->d, c->spending, c->alpha / (double)m, STATS_WELCH_MIN_N, c->max_iterations,
				   c->mde_target > 0 ? c->mde_target : DECIDE_MARGIN_PCT) < 0) {
		util_err("--sequential: cannot make the design (alpha %g over %zu metrics, %d to %zu iterations): %s",
			 c->alpha, m, STATS_WELCH_MIN_N, c->max_iterations, strerror(ENOMEM));
		return FL_EXIT_FAIL;
	}
	st->items = report_xrealloc(NULL, m * sizeof(*st->items));
	st->looked = SIZE_MAX;
	for (size_t k = 0; k < c->ncmps; k++) {
		const struct report_cmp *cmp = &c->cmps[k];
		size_t nk = cmp->gb->niters < cmp->gc->niters ? cmp->gb->niters : cmp->gc->niters;

		if (cmp->gb->niters > st->most)
			st->most = cmp->gb->niters;
		if (cmp->gc->niters > st->most)
			st->most = cmp->gc->niters;
		if (nk < st->looked)
			st->looked = nk;
		for (size_t i = 0; i < cmp->nrows; i++) {
			struct decide_item *it = &st->items[st->n];

			if (!cmp->rows[i].headline)
				continue;
			*it = (struct decide_item){ .cmp = cmp, .r = &cmp->rows[i] };
			sequential_decide(&st->d, it->r->a.v, it->r->a.n, it->r->b.v, it->r->b.n, &it->res);
			st->undecided += it->res.verdict == SEQUENTIAL_UNDECIDED;
			st->n++;
		}
	}
	if (st->looked > st->d.n_max)
		st->looked = st->d.n_max;
	return FL_EXIT_OK;
}

int decide_run(struct report_ctx *c)
{
	struct decide_state st = { 0 };
	char *text = NULL, *js = NULL;
	size_t text_len = 0;
	json_t *doc = NULL;
	int ret = decide_judge(c, &st);
	FILE *f;

	if (ret != FL_EXIT_OK)
		goto exit;
	f = open_memstream(&text, &text_len);
	decide_text(c, &st, f);
	fclose(f);
	if (!c->quiet) {
		fwrite(text, 1, text_len, stdout);
		fflush(stdout);
	}
	ret = FL_EXIT_FAIL;
	if (c->out_dir) {
		doc = decide_json(c, &st);
		js = json_dumps(doc, JSON_INDENT(1) | JSON_REAL_PRECISION(10));
		if (!js) {
			util_err("encoding sequential.json failed");
			goto exit;
		}
		if (util_mkdir_p(c->out_dir, 0755) < 0) {
			util_err("--out %s: %s", c->out_dir, strerror(errno));
			goto exit;
		}
		if (report_write(c->out_dir, "sequential.txt", text, text_len) < 0 ||
		    report_write(c->out_dir, "sequential.json", js, strlen(js)) < 0)
			goto exit;
	}
	ret = st.undecided ? REPORT_EXIT_INCONCLUSIVE : FL_EXIT_OK;
exit:
	sequential_design_free(&st.d);
	free(st.items);
	free(text);
	free(js);
	json_decref(doc);
	return ret;
}
