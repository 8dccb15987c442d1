/* text: the plain-text table of fl-report (compare.txt and stdout), which
 * fits TEXT_WIDTH columns and holds printable ASCII only, ready to paste into
 * a patch posting; also the number formats the JUnit file and the gate's
 * messages share with it. */
#define _GNU_SOURCE
#include "report/report.h"
#include "lib/util.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_WIDTH 72

/* Section titles of the table, by metric kind. */
static const struct {
	const char *title, *short_unit;
} text_kinds[REPORT_NKINDS] = {
	[REPORT_LATENCY] = { "Latency, us (lower is better)", "us" },
	[REPORT_RATE] = { "Throughput, per second (higher is better)", "/s" },
	[REPORT_RATIO] = { "Ratios (lower is better)", "" },
};

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

/* ---- the table -------------------------------------------------------- */

/* One comparison: a header naming both sides, one row per metric under its
 * kind's title, the legend, and the gate's verdicts when a rule covers a
 * metric here.  Set names longer than 8 columns become "base" and "cand" in
 * the column heads. */
static void text_cmp(const struct report_ctx *c, const struct report_cmp *cmp, FILE *f)
{
	const struct report_group *sides[2] = { cmp->gb, cmp->gc };
	const struct report_set *sets[2] = { cmp->base, cmp->cand };
	char *head[2];
	int kind = -1;
	bool any_gate = false;

	for (int s = 0; s < 2; s++) {
		char *name = text_printable(sets[s]->name);

		head[s] = strlen(name) <= 8 ? name : report_xstrdup(s ? "cand" : "base");
		if (head[s] != name)
			free(name);
	}
	text_wrapf(f, 2, "faultline compare: scenario %s, arch %s", cmp->gb->scenario, cmp->gb->arch);
	for (int s = 0; s < 2; s++) {
		const struct report_group *g = sides[s];
		char *iso = report_strs_join(&g->isolations, "/"), *kern = report_strs_join(&g->kernels, ", ");
		char notok[64] = "";

		if (g->not_ok)
			snprintf(notok, sizeof(notok), " (+%zu not ok, left out)", g->not_ok);
		text_wrapf(f, 8, "  %s %s: %zu iteration%s%s, isolation %s, kernel %s", s ? "cand" : "base",
			   sets[s]->name, g->niters, g->niters == 1 ? "" : "s", notok, iso, kern);
		free(iso);
		free(kern);
	}
	text_wrapf(f, 2, "  test: %s over iterations, two-sided, alpha %g", text_test_name(c), c->alpha);
	fputc('\n', f);
	fprintf(f, "%-31s %8s %4s %8s %4s %8s\n", "metric", head[0], "cv%", head[1], "cv%", "change");
	for (size_t i = 0; i < cmp->nrows; i++) {
		const struct report_row *r = &cmp->rows[i];
		char ma[32], mb[32], ca[16], cb[16], ch[32], *name = text_printable(r->m->name);

		if ((int)r->m->kind != kind) {
			kind = (int)r->m->kind;
			fprintf(f, "%s\n", text_kinds[kind].title);
		}
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
		any_gate |= !isnan(r->threshold);
		free(name);
	}
	fputc('\n', f);
	text_wrapf(f, 2, "* significant: %s, two-sided p < %g", text_test_name(c), c->alpha);
	text_wrapf(f, 2, "~ not significant");
	text_wrapf(f, 2, "? n/a (need >=%d iterations per side)", compare_test_need(c));
	text_wrapf(f, 2, "values are means over iterations; cv%% = sample stddev / mean;");
	text_wrapf(f, 2, "change = (cand - base) / base");
	if (any_gate) {
		fputc('\n', f);
		for (size_t i = 0; i < cmp->nrows; i++) {
			const struct report_row *r = &cmp->rows[i];
			char ch[32];

			if (isnan(r->threshold))
				continue;
			text_fmt_change(ch, sizeof(ch), r->change);
			if (r->unjudged)
				text_wrapf(f, 4, "gate %s (trips if %s > %g%%): not judged, n/a (need >=%d iterations per side)",
					   r->m->name, r->m->lower_better ? "up" : "down", r->threshold,
					   compare_test_need(c));
			else
				text_wrapf(f, 4, "gate %s (trips if %s > %g%%): %s, change %s, p %.3g", r->m->name,
					   r->m->lower_better ? "up" : "down", r->threshold,
					   r->tripped ? "TRIPPED" : "ok", ch, r->decide->p);
		}
	}
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
