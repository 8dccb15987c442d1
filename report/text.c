/* text: the plain-text table of fl-report (compare.txt and stdout), which
 * fits TEXT_WIDTH columns and holds printable ASCII only, ready to paste into
 * a patch posting; also the number formats the JUnit file and the gate's
 * messages share with it. */
#define _GNU_SOURCE
#include "report/report.h"
#include "bench/probes/mmaplock_parse.h"
#include "lib/util.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_WIDTH 72

/* A copy fit for the text table: printable ASCII only. */
static char *text_printable(const char *s)
{
	char *d = report_xstrdup(s);

	for (char *p = d; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	return d;
}

/* Word-wrap text at TEXT_WIDTH; continuation lines start with indent
 * spaces, the first keeps the text's own leading spaces, and runs of spaces
 * inside a line are kept.  Words longer than a line are cut. */
void text_wrap(FILE *f, size_t indent, const char *text)
{
	size_t col = 0, gap = 0;
	bool word_on_line = false;
	const char *p = text;

	if (indent > TEXT_WIDTH / 2)
		indent = TEXT_WIDTH / 2;
	while (*p == ' ') {
		fputc(' ', f);
		p++;
		col++;
	}
	while (*p) {
		size_t len = strcspn(p, " ");

		if (word_on_line && col + gap + len > TEXT_WIDTH) {
			fprintf(f, "\n%*s", (int)indent, "");
			col = indent;
			word_on_line = false;
		} else if (word_on_line) {
			fprintf(f, "%*s", (int)gap, "");
			col += gap;
		}
		while (col + len > TEXT_WIDTH) {
			size_t room = TEXT_WIDTH - col;

			fwrite(p, 1, room, f);
			p += room;
			len -= room;
			fprintf(f, "\n%*s", (int)indent, "");
			col = indent;
		}
		fwrite(p, 1, len, f);
		col += len;
		p += len;
		word_on_line = true;
		for (gap = 0; *p == ' '; p++)
			gap++;
	}
	fputc('\n', f);
}

static void text_wrapf(FILE *f, size_t indent, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void text_wrapf(FILE *f, size_t indent, const char *fmt, ...)
{
	va_list ap;
	char *s, *clean;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0) {
		va_end(ap);
		util_err("out of memory");
		exit(FL_EXIT_FAIL);
	}
	va_end(ap);
	clean = text_printable(s);
	text_wrap(f, indent, clean);
	free(clean);
	free(s);
}

/* A number in at most 8 columns, 4 to 5 significant digits. */
void text_fmt_num(char *buf, size_t len, double v)
{
	double a = fabs(v);

	if (isnan(v))
		snprintf(buf, len, "-");
	else if (isinf(v))
		snprintf(buf, len, v > 0 ? "inf" : "-inf");
	else if (a == 0)
		snprintf(buf, len, "0");
	else if (a >= 1e7 || a < 0.001)
		snprintf(buf, len, v < 0 ? "%.1e" : "%.2e", v);
	else if (a >= 1e5)
		snprintf(buf, len, "%.0f", v);
	else if (a >= 1e3)
		snprintf(buf, len, "%.1f", v);
	else if (a >= 1)
		snprintf(buf, len, "%.2f", v);
	else
		snprintf(buf, len, "%.4f", v);
}

void text_fmt_change(char *buf, size_t len, double c)
{
	if (isnan(c))
		snprintf(buf, len, "n/a");
	else if (isinf(c))
		snprintf(buf, len, c > 0 ? "+inf%%" : "-inf%%");
	else if (fabs(c) < 999.995)
		snprintf(buf, len, "%+.2f%%", c);
	else if (fabs(c) < 99999.5)
		snprintf(buf, len, "%+.0f%%", c);
	else
		snprintf(buf, len, c > 0 ? ">+99999%%" : "<-99999%%");
}

void text_fmt_cv(char *buf, size_t len, double cv)
{
	if (isnan(cv))
		snprintf(buf, len, "-");
	else if (cv * 100 >= 999.5)
		snprintf(buf, len, ">999");
	else
		snprintf(buf, len, "%.0f%%", cv * 100);
}

static const char *text_test_name(const struct report_ctx *c)
{
	return c->use_mwu ? "Mann-Whitney U" : "Welch's t-test";
}

/* cv in at most 3 columns */
static void text_fmt_cv3(char *buf, size_t len, double cv)
{
	if (isnan(cv))
		snprintf(buf, len, "-");
	else if (cv * 100 >= 99.5)
		snprintf(buf, len, ">99");
	else
		snprintf(buf, len, "%.0f%%", cv * 100);
}

/* Which rows the tables print: the headline first (in every format), then
 * with --all every other row, else the other rows marked significant. */
static bool text_row_shown(const struct report_ctx *c, const struct report_row *r, bool headline)
{
	if (r->headline != headline)
		return false;
	return headline || c->all || r->mark == '*';
}

/* ---- header ----------------------------------------------------------- */

/* Where a side's results came from: "DIR/ (N files)" when they share a
 * directory, else the files themselves (malloc'd). */
static char *text_files(const struct report_strs *files)
{
	const char *slash = files->n ? strrchr(files->v[0], '/') : NULL;
	size_t dlen = slash ? (size_t)(slash - files->v[0]) + 1 : 0;

	for (size_t i = 1; i < files->n && dlen; i++) {
		const char *s = strrchr(files->v[i], '/');

		if (!s || (size_t)(s - files->v[i]) + 1 != dlen || strncmp(files->v[i], files->v[0], dlen) != 0)
			dlen = 0;
	}
	if (files->n > 1 && dlen)
		return report_xasprintf("%.*s (%zu files)", (int)dlen, files->v[0], files->n);
	return report_strs_join(files, " ");
}

void text_header(const struct report_ctx *c, const struct report_cmp *cmp, FILE *f, const char *prefix)
{
	const struct report_group *sides[2] = { cmp->gb, cmp->gc };
	const struct report_set *sets[2] = { cmp->base, cmp->cand };

	text_wrapf(f, 2, "%s: scenario %s, arch %s", prefix, cmp->gb->scenario, cmp->gb->arch);
	if (c->command)
		text_wrapf(f, 4, "  made by: %s", c->command);
	for (int s = 0; s < 2; s++) {
		const struct report_group *g = sides[s];
		char *iso = report_strs_join(&g->isolations, "/"), *kern = report_strs_join(&g->kernels, ", ");
		char *files = text_files(&g->files);
		char notok[64] = "";

		if (g->not_ok)
			snprintf(notok, sizeof(notok), " (+%zu not ok, left out)", g->not_ok);
		text_wrapf(f, 8, "  %s %s: %zu iteration%s%s, isolation %s, kernel %s, config %s", s ? "cand" : "base",
			   sets[s]->name, g->niters, g->niters == 1 ? "" : "s", notok, iso, kern, g->config_hash);
		text_wrapf(f, 8, "    from %s", files);
		free(files);
		free(iso);
		free(kern);
	}
	if (cmp->config_diff.n) {
		char *d = report_strs_join(&cmp->config_diff, "; ");

		text_wrapf(f, 4, "  SETTINGS DIFFER (compared with --allow-config-diff): %s", d);
		free(d);
	}
}

/* ---- the suite's table ------------------------------------------------ */

/* The headline block: one row per headline metric with its minimum
 * detectable effect. */
static void text_headline(const struct report_ctx *c, const struct report_cmp *cmp, FILE *f, const char *h0,
			  const char *h1)
{
	bool any = false;

	for (size_t i = 0; i < cmp->nrows; i++)
		any |= cmp->rows[i].headline;
	if (!any) {
		text_wrapf(f, 2, "Headline: none of the scenario's headline metrics is in these results");
		return;
	}
	text_wrapf(f, 2, "Headline (each tested on its own; mde = the change this test finds 80%% of the time "
			 "at this noise and iteration count)");
	fprintf(f, "%-28s %8s %3s %8s %3s %8s  %5s\n", "metric", h0, "cv", h1, "cv", "change", "mde");
	for (size_t i = 0; i < cmp->nrows; i++) {
		const struct report_row *r = &cmp->rows[i];
		char ma[32], mb[32], ca[16], cb[16], ch[32], mde[16], *name;

		if (!text_row_shown(c, r, true))
			continue;
		name = text_printable(r->m->name);
		text_fmt_num(ma, sizeof(ma), r->a.mean);
		text_fmt_num(mb, sizeof(mb), r->b.mean);
		text_fmt_cv3(ca, sizeof(ca), r->a.cv);
		text_fmt_cv3(cb, sizeof(cb), r->b.cv);
		text_fmt_change(ch, sizeof(ch), r->change);
		if (isnan(r->mde_pct))
			snprintf(mde, sizeof(mde), "-");
		else if (r->mde_pct >= 999.5)
			snprintf(mde, sizeof(mde), ">999%%");
		else
			snprintf(mde, sizeof(mde), "%.0f%%", r->mde_pct);
		if (strlen(name) > 28) {
			text_wrap(f, 2, name);
			name[0] = '\0';
		}
		fprintf(f, "%-28s %8s %3s %8s %3s %8s%c %5s\n", name, ma, ca, mb, cb, ch, r->mark, mde);
		free(name);
	}
	if (c->mde_target > 0)
		for (size_t i = 0; i < cmp->nrows; i++) {
			const struct report_row *r = &cmp->rows[i];

			if (!r->headline)
				continue;
			if (r->n_needed)
				text_wrapf(f, 4, "  to detect %g%% in %s: %zu iterations per side", c->mde_target, r->m->name,
					   r->n_needed);
			else
				text_wrapf(f, 4, "  to detect %g%% in %s: more than 1000 iterations per side (or no data)",
					   c->mde_target, r->m->name);
		}
}

/* The other rows: every one with --all, else those significant after the
 * false-discovery-rate correction, under their section titles. */
static void text_others(const struct report_ctx *c, const struct report_cmp *cmp, FILE *f, const char *h0,
			const char *h1)
{
	size_t others = 0, shown = 0;
	int section = -1;

	for (size_t i = 0; i < cmp->nrows; i++) {
		others += !cmp->rows[i].headline;
		shown += text_row_shown(c, &cmp->rows[i], false);
	}
	fputc('\n', f);
	if (!c->all && shown == 0) {
		text_wrapf(f, 2, "Other metrics: none of %zu changed significantly (Benjamini-Hochberg q < %g; --all "
				 "prints them)", others, c->alpha);
		return;
	}
	text_wrapf(f, 2, "%s %zu other metrics%s (marks from Benjamini-Hochberg q < %g)", c->all ? "All" : "Of",
		   others, c->all ? "" : ", these changed significantly", c->alpha);
	fprintf(f, "%-31s %8s %4s %8s %4s %8s\n", "metric", h0, "cv%", h1, "cv%", "change");
	for (size_t i = 0; i < cmp->nrows; i++) {
		const struct report_row *r = &cmp->rows[i];
		char ma[32], mb[32], ca[16], cb[16], ch[32], *name;

		if (!text_row_shown(c, r, false))
			continue;
		if ((int)r->m->def.section != section) {
			section = (int)r->m->def.section;
			fprintf(f, "%s\n", metric_section_titles[section]);
		}
		name = text_printable(r->m->name);
		text_fmt_num(ma, sizeof(ma), r->a.mean);
		text_fmt_num(mb, sizeof(mb), r->b.mean);
		text_fmt_cv(ca, sizeof(ca), r->a.cv);
		text_fmt_cv(cb, sizeof(cb), r->b.cv);
		text_fmt_change(ch, sizeof(ch), r->change);
		if (strlen(name) > 31) {
			text_wrap(f, 2, name);
			name[0] = '\0';
		}
		fprintf(f, "%-31s %8s %4s %8s %4s %8s %c\n", name, ma, ca, mb, cb, ch, r->mark);
		free(name);
	}
}

/* The mmap_lock table in the form posted for the 2025 series:
 * acquisitions, then wait-time counts per decade bucket, base and
 * candidate side by side with the change. */
static void text_decades(const struct report_cmp *cmp, FILE *f)
{
	static const char *const kinds[2][2] = { { "read_acquisitions", "write_acquisitions" },
						 { "read_wait", "write_wait" } };
	char v[6][32];

	if (isnan(compare_lock_mean(cmp->gb, "delta", kinds[0][0], NULL)) ||
	    isnan(compare_lock_mean(cmp->gc, "delta", kinds[0][0], NULL)))
		return;
	fputc('\n', f);
	text_wrapf(f, 2, "mmap_lock in the victim, per iteration (mean): acquisitions and wait times in decade "
			 "buckets");
	fprintf(f, "%-11s %9s %9s %8s  %9s %9s %8s\n", "", "read base", "cand", "change", "write base", "cand",
		"change");
	for (int row = -1; row < MMAPLOCK_PARSE_DECADES; row++) {
		for (int k = 0; k < 2; k++) {
			const char *key = row < 0 ? "delta" : "decades";
			const char *sub = kinds[row < 0 ? 0 : 1][k];
			const char *bucket = row < 0 ? NULL : mmaplock_parse_decade_names[row];
			double a = compare_lock_mean(cmp->gb, key, sub, bucket), b = compare_lock_mean(cmp->gc, key, sub, bucket);

			text_fmt_num(v[3 * k], sizeof(v[0]), a);
			text_fmt_num(v[3 * k + 1], sizeof(v[0]), b);
			text_fmt_change(v[3 * k + 2], sizeof(v[0]), a == 0 && b == 0 ? NAN : stats_pct_change(a, b));
		}
		fprintf(f, "%-11s %9s %9s %8s  %9s %9s %8s\n", row < 0 ? "acquired" : mmaplock_parse_decade_names[row],
			v[0], v[1], v[2], v[3], v[4], v[5]);
	}
}

/* The gate's verdict lines. */
static void text_gate(const struct report_ctx *c, const struct report_cmp *cmp, FILE *f)
{
	bool any = false;

	for (size_t i = 0; i < cmp->nrows; i++)
		any |= !isnan(cmp->rows[i].threshold);
	if (!any)
		return;
	fputc('\n', f);
	for (size_t i = 0; i < cmp->nrows; i++) {
		const struct report_row *r = &cmp->rows[i];
		const char *dir = r->m->def.better == METRIC_BETTER_NONE ? "either way"
				  : r->m->lower_better			? "up"
									: "down";
		char ch[32], lo[32], hi[32];

		if (isnan(r->threshold))
			continue;
		text_fmt_change(ch, sizeof(ch), r->change);
		text_fmt_change(lo, sizeof(lo), r->ci_lo_pct);
		text_fmt_change(hi, sizeof(hi), r->ci_hi_pct);
		if (r->unjudged)
			text_wrapf(f, 4, "gate %s (trips if %s > %g%%): INCONCLUSIVE, n/a (need >=%d iterations per "
					 "side; about %zu would detect a %g%% change)",
				   r->m->name, dir, r->threshold, compare_test_need(c), r->gate_n, r->threshold);
		else if (!strcmp(r->gate, "inconclusive")) {
			char *need = r->gate_n ? report_xasprintf("about %zu iterations per side would detect a %g%% "
								  "change",
								  r->gate_n, r->threshold)
					       : report_xstrdup("more than 1000 iterations per side would be needed");

			text_wrapf(f, 4, "gate %s (trips if %s > %g%%): INCONCLUSIVE, change %s, p %.3g, %g%% interval "
					 "[%s, %s] holds the threshold; %s",
				   r->m->name, dir, r->threshold, ch, r->decide->p, 100 * (1 - c->alpha), lo, hi, need);
			free(need);
		} else
			text_wrapf(f, 4, "gate %s (trips if %s > %g%%): %s, change %s, p %.3g, interval [%s, %s]",
				   r->m->name, dir, r->threshold, r->tripped ? "TRIPPED" : "ok", ch, r->decide->p, lo, hi);
	}
}

/* One comparison in the suite's layout.  Set names longer than 8 columns
 * become "base" and "cand" in the column heads. */
static void text_cmp(const struct report_ctx *c, const struct report_cmp *cmp, FILE *f)
{
	const struct report_set *sets[2] = { cmp->base, cmp->cand };
	char *head[2];

	for (int s = 0; s < 2; s++) {
		char *name = text_printable(sets[s]->name);

		head[s] = strlen(name) <= 8 ? name : report_xstrdup(s ? "cand" : "base");
		if (head[s] != name)
			free(name);
	}
	text_header(c, cmp, f, "faultline compare");
	text_wrapf(f, 2, "  test: %s over iterations, two-sided, alpha %g", text_test_name(c), c->alpha);
	fputc('\n', f);
	text_headline(c, cmp, f, head[0], head[1]);
	text_others(c, cmp, f, head[0], head[1]);
	text_decades(cmp, f);
	fputc('\n', f);
	text_wrapf(f, 2, "* significant: %s, two-sided p < %g (headline) or Benjamini-Hochberg q < %g (others)",
		   text_test_name(c), c->alpha, c->alpha);
	text_wrapf(f, 2, "~ not significant");
	text_wrapf(f, 2, "? n/a (need >=%d iterations per side)", compare_test_need(c));
	text_wrapf(f, 2, "values are means over iterations; cv = sample stddev / mean;");
	text_wrapf(f, 2, "change = (cand - base) / base");
	text_gate(c, cmp, f);
	free(head[0]);
	free(head[1]);
}

/* Every comparison, separated by two blank lines. */
void text_table(const struct report_ctx *c, FILE *f)
{
	for (size_t k = 0; k < c->ncmps; k++) {
		if (k)
			fprintf(f, "\n\n");
		text_cmp(c, &c->cmps[k], f);
	}
}
