/* export: the machine-readable outputs of fl-report, compare.json (for
 * scripts; docs/report.md describes its fields) and junit.xml (for CI). */
#define _GNU_SOURCE
#include "report/report.h"
#include "report/stats.h"
#include "lib/util.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#ifndef FL_VERSION
#define FL_VERSION "unknown"
#endif

#define EXPORT_SCHEMA "faultline-compare/1"

static json_t *export_strs_json(const struct report_strs *s)
{
	json_t *a = json_array();

	for (size_t i = 0; i < s->n; i++)
		json_array_append_new(a, json_string(s->v[i]));
	return a;
}

/* s as XML attribute or text content; control characters other than
 * newline and tab become '?'. */
static void export_xml_str(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '&')
			fputs("&amp;", f);
		else if (c == '<')
			fputs("&lt;", f);
		else if (c == '>')
			fputs("&gt;", f);
		else if (c == '"')
			fputs("&quot;", f);
		else if (c == '\'')
			fputs("&apos;", f);
		else if (c < 0x20 && c != '\n' && c != '\t')
			fputc('?', f);
		else
			fputc(c, f);
	}
}

/* "SCENARIO<sep>ARCH<sep2>CANDIDATE", escaped: the JUnit suite and class names. */
static void export_xml_group(FILE *f, const struct report_cmp *cmp, const char *sep, const char *sep2)
{
	export_xml_str(f, cmp->gb->scenario);
	fputs(sep, f);
	export_xml_str(f, cmp->gb->arch);
	fputs(sep2, f);
	export_xml_str(f, cmp->cand->name);
}

/* A number, or null where JSON has none (NaN, infinities). */
static json_t *export_jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *export_jvalues(const double *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, export_jnum(v[i]));
	return a;
}

/* ---- compare.json ------------------------------------------------------ */

static json_t *export_json_test(const struct stats_test *t)
{
	bool welch = !strcmp(t->method, "welch");
	json_t *o = json_object();

	json_object_set_new(o, "method", json_string(t->method));
	if (!t->ok) {
		json_object_set_new(o, "p", json_null());
		json_object_set_new(o, "note", json_string(t->need == STATS_WELCH_MIN_N
								   ? "n/a (need >=2 iterations per side)"
								   : "n/a (need >=3 iterations per side)"));
		return o;
	}
	/* t of (candidate - baseline), or U of the candidate */
	json_object_set_new(o, welch ? "t" : "U",
			    isinf(t->stat) ? json_string(t->stat > 0 ? "inf" : "-inf") : export_jnum(t->stat));
	if (!isnan(t->df))
		json_object_set_new(o, "df", export_jnum(t->df));
	if (!isnan(t->z))
		json_object_set_new(o, "z", export_jnum(t->z));
	json_object_set_new(o, "p", export_jnum(t->p));
	return o;
}

static json_t *export_json_side(const struct report_side *s)
{
	json_t *o = json_object();

	json_object_set_new(o, "n", json_integer((json_int_t)s->n));
	json_object_set_new(o, "values", export_jvalues(s->v, s->n));
	json_object_set_new(o, "mean", export_jnum(s->mean));
	json_object_set_new(o, "stddev", export_jnum(s->sd));
	json_object_set_new(o, "cv", export_jnum(s->cv));
	return o;
}

static json_t *export_json_group(const struct report_set *set, const struct report_group *g)
{
	json_t *o = json_object();

	json_object_set_new(o, "name", json_string(set->name));
	json_object_set_new(o, "argument", json_string(set->arg));
	json_object_set_new(o, "iterations", json_integer((json_int_t)g->niters));
	json_object_set_new(o, "iterations_not_ok", json_integer((json_int_t)g->not_ok));
	json_object_set_new(o, "kernel_releases", export_strs_json(&g->kernels));
	json_object_set_new(o, "isolation", export_strs_json(&g->isolations));
	json_object_set_new(o, "files", export_strs_json(&g->files));
	json_object_set_new(o, "run_ids", export_strs_json(&g->run_ids));
	json_object_set_new(o, "config_hash", json_string(g->config_hash));
	json_object_set_new(o, "headline", export_strs_json(&g->headline));
	return o;
}

/* The whole comparison (schema EXPORT_SCHEMA): the settings, per comparison
 * both sides' provenance and per metric both sides' values, the tests and
 * the verdict, and the gate's rules and outcome. */
json_t *export_json(const struct report_ctx *c)
{
	json_t *doc = json_object(), *cmps = json_array(), *gate = json_object(), *rules = json_array();

	json_object_set_new(doc, "schema", json_string(EXPORT_SCHEMA));
	json_object_set_new(doc, "generator", json_string("fl-report " FL_VERSION));
	json_object_set_new(doc, "alpha", json_real(c->alpha));
	json_object_set_new(doc, "test", json_string(c->use_mwu ? "mann-whitney" : "welch"));
	json_object_set_new(doc, "min_iterations_per_side", json_integer(compare_test_need(c)));
	for (size_t k = 0; k < c->ncmps; k++) {
		const struct report_cmp *cmp = &c->cmps[k];
		json_t *o = json_object(), *metrics = json_array();

		json_object_set_new(o, "scenario", json_string(cmp->gb->scenario));
		json_object_set_new(o, "arch", json_string(cmp->gb->arch));
		json_object_set_new(o, "baseline", export_json_group(cmp->base, cmp->gb));
		json_object_set_new(o, "candidate", export_json_group(cmp->cand, cmp->gc));
		json_object_set_new(o, "config_diff", export_strs_json(&cmp->config_diff));
		for (size_t i = 0; i < cmp->nrows; i++) {
			const struct report_row *r = &cmp->rows[i];
			json_t *m = json_object();

			json_object_set_new(m, "name", json_string(r->m->name));
			json_object_set_new(m, "kind", json_string(metric_kind_names[r->m->def.kind]));
			json_object_set_new(m, "unit", json_string(r->m->def.unit));
			json_object_set_new(m, "direction",
					    json_string(r->m->def.better == METRIC_BETTER_LOWER    ? "lower_is_better"
							: r->m->def.better == METRIC_BETTER_HIGHER ? "higher_is_better"
												   : "neither"));
			json_object_set_new(m, "headline", json_boolean(r->headline));
			json_object_set_new(m, "q", export_jnum(r->q));
			json_object_set_new(m, "mde_pct", export_jnum(r->mde_pct));
			json_object_set_new(m, "change_interval_pct",
					    json_pack("[o, o]", export_jnum(r->ci_lo_pct), export_jnum(r->ci_hi_pct)));
			if (c->mde_target > 0)
				json_object_set_new(m, "iterations_needed", r->n_needed ? json_integer((json_int_t)r->n_needed)
											: json_null());
			json_object_set_new(m, "baseline", export_json_side(&r->a));
			json_object_set_new(m, "candidate", export_json_side(&r->b));
			json_object_set_new(m, "change_pct", export_jnum(r->change));
			if (isinf(r->change))
				json_object_set_new(m, "change_note", json_string("baseline mean is 0"));
			json_object_set_new(m, "welch", export_json_test(&r->welch));
			json_object_set_new(m, "mann_whitney", export_json_test(&r->mwu));
			json_object_set_new(m, "significant", r->decide->ok ? json_boolean(r->decide->p < c->alpha)
									 : json_null());
			json_object_set_new(m, "mark", json_stringn(&r->mark, 1));
			json_object_set_new(m, "verdict", json_string(r->verdict));
			if (!isnan(r->threshold)) {
				json_t *g = json_object();

				json_object_set_new(g, "threshold_pct", json_real(r->threshold));
				json_object_set_new(g, "tripped", json_boolean(r->tripped));
				json_object_set_new(g, "judged", json_boolean(!r->unjudged));
				json_object_set_new(g, "verdict", json_string(r->gate));
				if (r->gate_n)
					json_object_set_new(g, "iterations_to_settle", json_integer((json_int_t)r->gate_n));
				json_object_set_new(m, "gate", g);
			}
			json_array_append_new(metrics, m);
		}
		json_object_set_new(o, "metrics", metrics);
		json_array_append_new(cmps, o);
	}
	json_object_set_new(doc, "comparisons", cmps);
	for (size_t j = 0; j < c->nrules; j++)
		json_array_append_new(rules, json_pack("{s:s, s:f}", "metric", c->rules[j].metric, "threshold_pct",
						       c->rules[j].pct));
	json_object_set_new(gate, "rules", rules);
	json_object_set_new(gate, "tripped", json_integer((json_int_t)c->tripped));
	json_object_set_new(gate, "inconclusive", json_integer((json_int_t)c->inconclusive));
	json_object_set_new(gate, "exit_status", json_integer(c->tripped	   ? FL_EXIT_FAIL
								: c->inconclusive ? REPORT_EXIT_INCONCLUSIVE
										  : FL_EXIT_OK));
	json_object_set_new(doc, "gate", gate);
	return doc;
}

/* ---- junit.xml --------------------------------------------------------- */

/* One testsuite per comparison, one testcase per metric; a failure where
 * the gate tripped, skipped where a gated metric could not be judged. */
void export_junit(const struct report_ctx *c, FILE *f)
{
	size_t tests = 0, fails = 0, skips = 0;

	for (size_t k = 0; k < c->ncmps; k++)
		for (size_t i = 0; i < c->cmps[k].nrows; i++) {
			tests++;
			fails += c->cmps[k].rows[i].tripped;
			skips += c->cmps[k].rows[i].gate && !strcmp(c->cmps[k].rows[i].gate, "inconclusive");
		}
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(f, "<testsuites name=\"fl-report\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\">\n", tests,
		fails, skips);
	for (size_t k = 0; k < c->ncmps; k++) {
		const struct report_cmp *cmp = &c->cmps[k];
		size_t sf = 0, ss = 0;

		for (size_t i = 0; i < cmp->nrows; i++) {
			sf += cmp->rows[i].tripped;
			ss += cmp->rows[i].gate && !strcmp(cmp->rows[i].gate, "inconclusive");
		}
		fprintf(f, "  <testsuite name=\"");
		export_xml_group(f, cmp, "/", ": ");
		fputs(" vs ", f);
		export_xml_str(f, cmp->base->name);
		fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\">\n", cmp->nrows, sf, ss);
		fprintf(f, "    <properties>\n      <property name=\"alpha\" value=\"%g\"/>\n", c->alpha);
		fprintf(f, "      <property name=\"test\" value=\"%s\"/>\n    </properties>\n",
			c->use_mwu ? "mann-whitney" : "welch");
		for (size_t i = 0; i < cmp->nrows; i++) {
			const struct report_row *r = &cmp->rows[i];
			char ma[32], mb[32], ch[32];

			text_fmt_num(ma, sizeof(ma), r->a.mean);
			text_fmt_num(mb, sizeof(mb), r->b.mean);
			text_fmt_change(ch, sizeof(ch), r->change);
			fputs("    <testcase classname=\"", f);
			export_xml_group(f, cmp, ".", ".");
			fputs("\" name=\"", f);
			export_xml_str(f, r->m->name);
			fputs("\">\n", f);
			if (r->tripped) {
				fprintf(f, "      <failure type=\"regression\" message=\"");
				export_xml_str(f, r->m->name);
				fprintf(f, " %s %s, beyond %g%%, p %.3g &lt; alpha %g\">", r->m->lower_better ? "up" : "down",
					ch, r->threshold, r->decide->p, c->alpha);
				fprintf(f, "baseline mean %s, candidate mean %s (%s)</failure>\n", ma, mb, r->m->def.unit);
			} else if (r->gate && !strcmp(r->gate, "inconclusive")) {
				if (r->unjudged)
					fprintf(f, "      <skipped message=\"inconclusive: n/a (need &gt;=%d iterations per "
						   "side)\"/>\n",
						compare_test_need(c));
				else
					fprintf(f, "      <skipped message=\"inconclusive: the interval of the change holds "
						   "the %g%% threshold\"/>\n",
						r->threshold);
			}
			fprintf(f, "      <system-out>baseline %s, candidate %s %s, change %s, %s</system-out>\n", ma,
				mb, r->m->def.unit, ch, r->verdict);
			fputs("    </testcase>\n", f);
		}
		fputs("  </testsuite>\n", f);
	}
	fputs("</testsuites>\n", f);
}

