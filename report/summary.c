/* summary: the headline metrics of one scenario by arch, for a matrix A/B
 * (./run.sh ab SCENARIO --arch x86_64,aarch64,...: docs/kernels.md).
 *
 * The comparisons of fl-report are per (scenario, arch); this unit lays
 * out those of one (scenario, candidate) side by side: one row per
 * headline metric (every metric with --all), one column group per arch
 * with the base and candidate means, the change and the mark of that
 * arch's own test.  Nothing is recomputed here: each cell is the row of
 * that arch's comparison, so the summary and the per-arch tables agree.
 *
 *   compare-arch.txt   the table in blocks of two arches (72 columns),
 *                      metric names too long for their column on a line
 *                      of their own
 *   compare-arch.csv   one line per (scenario, metric, arch)
 *   compare-arch.json  the same with each arch's labels, kernels and
 *                      iterations, and the --note lines (schema
 *                      faultline-arch-summary/1) */
#define _GNU_SOURCE
#include "report/report.h"
#include "lib/util.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUMMARY_SCHEMA "faultline-arch-summary/1"
#define SUMMARY_NAME_W 16 /* metric column; + 2 arches x 28 = 72 */
#define SUMMARY_ARCH_W 28 /* " %8s %8s %9s": base, cand, change and mark */
#define SUMMARY_PER_BLOCK 2

/* One summary: the comparisons of a (scenario, candidate), one per arch,
 * and the metric names its rows show, in the order of the first arch
 * that has each. */
struct summary {
	const char *scenario;
	const struct report_set *cand;
	const struct report_cmp **cmps;
	size_t ncmps;
	struct report_strs metrics;
};

static bool summary_row_shown(const struct report_ctx *c, const struct report_row *r)
{
	return r->headline || c->all;
}

static const struct report_row *summary_find(const struct report_cmp *cmp, const char *metric)
{
	for (size_t i = 0; i < cmp->nrows; i++)
		if (!strcmp(cmp->rows[i].m->name, metric))
			return &cmp->rows[i];
	return NULL;
}

/* The summaries of c, in the order their first comparison comes. */
static struct summary *summary_collect(const struct report_ctx *c, size_t *n)
{
	struct summary *v = report_xrealloc(NULL, (c->ncmps + 1) * sizeof(*v));

	*n = 0;
	for (size_t k = 0; k < c->ncmps; k++) {
		const struct report_cmp *cmp = &c->cmps[k];
		struct summary *s = NULL;

		for (size_t i = 0; i < *n && !s; i++)
			if (!strcmp(v[i].scenario, cmp->gb->scenario) && v[i].cand == cmp->cand)
				s = &v[i];
		if (!s) {
			s = &v[(*n)++];
			*s = (struct summary){ .scenario = cmp->gb->scenario, .cand = cmp->cand };
			s->cmps = report_xrealloc(NULL, c->ncmps * sizeof(*s->cmps));
		}
		s->cmps[s->ncmps++] = cmp;
		for (size_t i = 0; i < cmp->nrows; i++)
			if (summary_row_shown(c, &cmp->rows[i]))
				report_strs_add(&s->metrics, cmp->rows[i].m->name);
	}
	return v;
}

static void summary_free(struct summary *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].cmps);
		report_strs_free(&v[i].metrics);
	}
	free(v);
}

static const char *summary_direction(const struct report_row *r)
{
	return r->m->def.better == METRIC_BETTER_LOWER	  ? "lower_is_better"
	       : r->m->def.better == METRIC_BETTER_HIGHER ? "higher_is_better"
							  : "neither";
}

/* ---- text --------------------------------------------------------------- */

/* text_wrap of a copy with every byte outside printable ASCII as '?'
 * (labels and kernel releases come from the result files); frees line. */
static void summary_wrap(FILE *f, size_t indent, char *line)
{
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	text_wrap(f, indent, line);
	free(line);
}

/* "label (N iterations, kernel K)" of one side of one arch (malloc'd). */
static char *summary_side(const struct report_group *g)
{
	char *labels = report_strs_join(&g->labels, ", "), *kernels = report_strs_join(&g->kernels, ", ");
	char *s = report_xasprintf("%s (%zu iteration%s, kernel %s)", labels[0] ? labels : "(no label)", g->niters,
				   g->niters == 1 ? "" : "s", kernels);

	free(labels);
	free(kernels);
	return s;
}

static void summary_text_header(const struct report_ctx *c, const struct summary *s, FILE *f)
{
	char *line = report_xasprintf("faultline arch summary: scenario %s, %s metrics by arch", s->scenario,
				      c->all ? "all" : "headline");

	summary_wrap(f, 2, line);
	if (c->command) {
		line = report_xasprintf("  made by: %s", c->command);
		summary_wrap(f, 4, line);
	}
	for (size_t k = 0; k < s->ncmps; k++) {
		char *b = summary_side(s->cmps[k]->gb), *cd = summary_side(s->cmps[k]->gc);

		line = report_xasprintf("  %s: base %s, cand %s", s->cmps[k]->gb->arch, b, cd);
		summary_wrap(f, 6, line);
		free(b);
		free(cd);
	}
	line = report_xasprintf("  test: %s over iterations, two-sided, alpha %g, in each arch on its own",
				c->use_mwu ? "Mann-Whitney U" : "Welch's t-test", c->alpha);
	summary_wrap(f, 4, line);
	for (size_t i = 0; i < c->nnotes; i++) {
		line = report_xasprintf("  %s", c->notes[i]);
		summary_wrap(f, 4, line);
	}
}

/* Print line without trailing spaces, then empty it. */
static void summary_flush(FILE *f, char *line)
{
	size_t n = strlen(line);

	while (n && line[n - 1] == ' ')
		line[--n] = '\0';
	fprintf(f, "%s\n", line);
	line[0] = '\0';
}

/* One block: the metric rows over arches [from, to) of s. */
static void summary_text_block(const struct summary *s, size_t from, size_t to, FILE *f)
{
	char line[SUMMARY_NAME_W + SUMMARY_PER_BLOCK * SUMMARY_ARCH_W + 64] = "";
	size_t len;

	fputc('\n', f);
	for (size_t k = from; k < to; k++) { /* the arch name centred over its columns */
		const char *arch = s->cmps[k]->gb->arch;
		int alen = (int)(strlen(arch) < SUMMARY_ARCH_W ? strlen(arch) : SUMMARY_ARCH_W - 1);
		int col = SUMMARY_NAME_W + (int)(k - from) * SUMMARY_ARCH_W + (SUMMARY_ARCH_W - alen + 1) / 2;

		len = strlen(line);
		snprintf(line + len, sizeof(line) - len, "%*s%.*s", col - (int)len, "", alen, arch);
	}
	summary_flush(f, line);
	snprintf(line, sizeof(line), "%-*s", SUMMARY_NAME_W, "metric");
	for (size_t k = from; k < to; k++) {
		len = strlen(line);
		snprintf(line + len, sizeof(line) - len, " %8s %8s %8s ", "base", "cand", "change");
	}
	summary_flush(f, line);
	for (size_t m = 0; m < s->metrics.n; m++) {
		const char *name = s->metrics.v[m];

		if (strlen(name) > SUMMARY_NAME_W) {
			fprintf(f, "%s\n", name);
			name = "";
		}
		snprintf(line, sizeof(line), "%-*s", SUMMARY_NAME_W, name);
		for (size_t k = from; k < to; k++) {
			const struct report_row *r = summary_find(s->cmps[k], s->metrics.v[m]);
			char a[32] = "-", b[32] = "-", ch[32] = "-", mark = ' ';

			if (r) {
				text_fmt_num(a, sizeof(a), r->a.mean);
				text_fmt_num(b, sizeof(b), r->b.mean);
				text_fmt_change(ch, sizeof(ch), r->change);
				mark = r->mark;
			}
			len = strlen(line);
			snprintf(line + len, sizeof(line) - len, " %8s %8s %8s%c", a, b, ch, mark);
		}
		summary_flush(f, line);
	}
}

void summary_text(const struct report_ctx *c, FILE *f)
{
	size_t n;
	struct summary *v = summary_collect(c, &n);

	for (size_t i = 0; i < n; i++) {
		if (i)
			fprintf(f, "\n\n");
		summary_text_header(c, &v[i], f);
		for (size_t k = 0; k < v[i].ncmps; k += SUMMARY_PER_BLOCK)
			summary_text_block(&v[i], k, k + SUMMARY_PER_BLOCK < v[i].ncmps ? k + SUMMARY_PER_BLOCK : v[i].ncmps,
					   f);
		fputc('\n', f);
		text_wrap(f, 2, "values are means over iterations; change = (cand - base) / base; "
				"* significant, ~ not significant, ? n/a (too few iterations); - not measured "
				"on that arch");
		text_wrap(f, 2, "each arch's own table (compare.txt) has the noise, the minimum detectable "
				"effect and the other metrics");
	}
	summary_free(v, n);
}

/* ---- CSV ---------------------------------------------------------------- */

/* A field, quoted (RFC 4180) when it holds a comma, quote or line break. */
static void summary_csv_str(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++)
		fputs(*s == '"' ? "\"\"" : (char[]){ *s, 0 }, f);
	fputc('"', f);
}

/* A number with full precision; empty where there is none. */
static void summary_csv_num(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.10g", v);
}

static void summary_csv_row(FILE *f, const struct summary *s, const struct report_cmp *cmp,
			    const struct report_row *r)
{
	const char *fields[] = { s->scenario, r->m->name, r->m->def.unit, summary_direction(r), cmp->gb->arch };
	char *lb = report_strs_join(&cmp->gb->labels, " "), *lc = report_strs_join(&cmp->gc->labels, " ");

	for (size_t i = 0; i < FL_ARRAY_SIZE(fields); i++) {
		summary_csv_str(f, fields[i]);
		fputc(',', f);
	}
	summary_csv_str(f, lb);
	fputc(',', f);
	summary_csv_str(f, lc);
	fprintf(f, ",%zu,%zu,", r->a.n, r->b.n);
	summary_csv_num(f, r->a.mean);
	fputc(',', f);
	summary_csv_num(f, r->b.mean);
	fputc(',', f);
	summary_csv_num(f, r->change);
	fprintf(f, ",%c,", r->mark);
	summary_csv_str(f, r->verdict);
	fputc(',', f);
	summary_csv_num(f, r->decide->ok ? r->decide->p : NAN);
	fputc('\n', f);
	free(lb);
	free(lc);
}

void summary_csv(const struct report_ctx *c, FILE *f)
{
	size_t n;
	struct summary *v = summary_collect(c, &n);

	fputs("scenario,metric,unit,direction,arch,base_label,cand_label,base_n,cand_n,base_mean,cand_mean,"
	      "change_pct,mark,verdict,p\n",
	      f);
	for (size_t i = 0; i < n; i++)
		for (size_t m = 0; m < v[i].metrics.n; m++)
			for (size_t k = 0; k < v[i].ncmps; k++) {
				const struct report_row *r = summary_find(v[i].cmps[k], v[i].metrics.v[m]);

				if (r)
					summary_csv_row(f, &v[i], v[i].cmps[k], r);
			}
	summary_free(v, n);
}

/* ---- JSON --------------------------------------------------------------- */

static json_t *summary_jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *summary_jstrs(const struct report_strs *s)
{
	json_t *a = json_array();

	for (size_t i = 0; i < s->n; i++)
		json_array_append_new(a, json_string(s->v[i]));
	return a;
}

static json_t *summary_jside(const struct report_group *g)
{
	return json_pack("{s:o, s:o, s:I}", "labels", summary_jstrs(&g->labels), "kernel_releases",
			 summary_jstrs(&g->kernels), "iterations", (json_int_t)g->niters);
}

static json_t *summary_jmetric(const struct summary *s, const char *name)
{
	json_t *m = json_object(), *by = json_object();

	json_object_set_new(m, "name", json_string(name));
	for (size_t k = 0; k < s->ncmps; k++) {
		const struct report_row *r = summary_find(s->cmps[k], name);

		if (!r)
			continue;
		if (!json_object_get(m, "unit")) {
			json_object_set_new(m, "unit", json_string(r->m->def.unit));
			json_object_set_new(m, "direction", json_string(summary_direction(r)));
			json_object_set_new(m, "headline", json_boolean(r->headline));
		}
		json_object_set_new(by, s->cmps[k]->gb->arch,
				    json_pack("{s:o, s:o, s:o, s:o, s:s, s:o}", "base_mean", summary_jnum(r->a.mean),
					      "cand_mean", summary_jnum(r->b.mean), "change_pct", summary_jnum(r->change),
					      "mark", json_stringn(&r->mark, 1), "verdict", r->verdict, "p",
					      summary_jnum(r->decide->ok ? r->decide->p : NAN)));
	}
	json_object_set_new(m, "by_arch", by);
	return m;
}

json_t *summary_json(const struct report_ctx *c)
{
	size_t n;
	struct summary *v = summary_collect(c, &n);
	json_t *doc = json_object(), *sums = json_array(), *notes = json_array();

	json_object_set_new(doc, "schema", json_string(SUMMARY_SCHEMA));
	json_object_set_new(doc, "alpha", json_real(c->alpha));
	json_object_set_new(doc, "test", json_string(c->use_mwu ? "mann-whitney" : "welch"));
	for (size_t i = 0; i < c->nnotes; i++)
		json_array_append_new(notes, json_string(c->notes[i]));
	json_object_set_new(doc, "notes", notes);
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object(), *arches = json_array(), *metrics = json_array();

		json_object_set_new(o, "scenario", json_string(v[i].scenario));
		json_object_set_new(o, "candidate", json_string(v[i].cand->name));
		json_object_set_new(o, "baseline", json_string(v[i].cmps[0]->base->name));
		for (size_t k = 0; k < v[i].ncmps; k++)
			json_array_append_new(arches, json_pack("{s:s, s:o, s:o}", "arch", v[i].cmps[k]->gb->arch, "base",
								summary_jside(v[i].cmps[k]->gb), "cand",
								summary_jside(v[i].cmps[k]->gc)));
		for (size_t m = 0; m < v[i].metrics.n; m++)
			json_array_append_new(metrics, summary_jmetric(&v[i], v[i].metrics.v[m]));
		json_object_set_new(o, "arches", arches);
		json_object_set_new(o, "metrics", metrics);
		json_array_append_new(sums, o);
	}
	json_object_set_new(doc, "summaries", sums);
	summary_free(v, n);
	return doc;
}
