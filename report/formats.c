/* formats: the comparison in the layouts reviewers already read.
 *
 * mmtests (compare-kernels): one row per metric, "Amean" (arithmetic mean)
 * or "Hmean" (harmonic mean, for rates, as mmtests does for throughput),
 * the baseline's value with "(   0.00%)", each candidate's with its gain
 * in parentheses, or between stars when significant.  As in mmtests, the
 * gain is signed so that positive is better: (base - cand) / base for
 * lower-is-better metrics, (cand - base) / base otherwise.  One candidate
 * per block of 72 columns; more candidates give more blocks.
 *
 * LKP (the kernel test robot): base mean with its relative stddev
 * "± N%", the change (cand - base) / base, candidate mean "± N%", and the
 * metric name last.
 *
 * Both print the same rows as the suite's table: the headline, then the
 * other metrics that changed significantly (every metric with --all).
 * A name too long for its column goes on a line of its own. */
#define _GNU_SOURCE
#include "report/report.h"
#include "lib/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORMATS_NAME_W 18 /* mmtests: "Amean     " + name + 2 x 22 = 72 columns */

static bool formats_row_shown(const struct report_ctx *c, const struct report_row *r)
{
	return r->headline || c->all || r->mark == '*';
}

/* Harmonic mean; NAN when a value is not positive. */
static double formats_hmean(const double *v, size_t n)
{
	double inv = 0;

	for (size_t i = 0; i < n; i++) {
		if (!(v[i] > 0))
			return NAN;
		inv += 1 / v[i];
	}
	return n ? (double)n / inv : NAN;
}

/* mmtests' gain: positive is better. */
static double formats_gain(const struct report_metric *m, double base, double cand)
{
	double pct = stats_pct_change(base, cand);

	return m->def.better == METRIC_BETTER_LOWER ? -pct : pct;
}

/* Printable ASCII; with dashes, "fault.major.p99" -> "fault-major-p99"
 * (metric names, as mmtests spells its own). */
static char *formats_mmtests_name(const char *name, bool dashes)
{
	char *s = report_xstrdup(name);

	for (char *p = s; *p; p++)
		if ((dashes && *p == '.') || (unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = *p == '.' ? '-' : '?';
	return s;
}

static void formats_mmtests_block(const struct report_ctx *c, const struct report_cmp *cmp, FILE *f)
{
	char *hb = formats_mmtests_name(cmp->base->name, false), *hc = formats_mmtests_name(cmp->cand->name, false);

	text_header(c, cmp, f, "faultline compare, mmtests compare-kernels layout");
	fprintf(f, "\n%-*s %21.21s %21.21s\n", 10 + FORMATS_NAME_W - 1, "", hb, hc);
	for (int headline = 1; headline >= 0; headline--)
		for (size_t i = 0; i < cmp->nrows; i++) {
			const struct report_row *r = &cmp->rows[i];
			bool h = r->m->def.kind == METRIC_RATE;
			double a = h ? formats_hmean(r->a.v, r->a.n) : r->a.mean;
			double b = h ? formats_hmean(r->b.v, r->b.n) : r->b.mean;
			char *name;

			if (r->headline != headline || !formats_row_shown(c, r))
				continue;
			if (isnan(a) || isnan(b)) { /* a non-positive rate: no harmonic mean */
				h = false;
				a = r->a.mean;
				b = r->b.mean;
			}
			name = formats_mmtests_name(r->m->name, true);
			if (strlen(name) > FORMATS_NAME_W) {
				fprintf(f, "%-10s%s\n", h ? "Hmean" : "Amean", name);
				name[0] = '\0';
			}
			fprintf(f, "%-10s%-*s%11.2f (%7.2f%%)", name[0] ? (h ? "Hmean" : "Amean") : "", FORMATS_NAME_W, name,
				a, 0.0);
			fprintf(f, r->mark == '*' ? "%11.2f *%7.2f%%*\n" : "%11.2f (%7.2f%%)\n", b,
				formats_gain(r->m, a, b));
			free(name);
		}
	{
		char *legend = report_xasprintf("  gain in %%, positive = better; *gain* = significant (%s, headline p, "
						"others Benjamini-Hochberg q, < %g)",
						c->use_mwu ? "Mann-Whitney U" : "Welch's t-test", c->alpha);

		fputc('\n', f);
		text_wrap(f, 4, legend);
		free(legend);
	}
	free(hb);
	free(hc);
}

void text_mmtests(const struct report_ctx *c, FILE *f)
{
	for (size_t k = 0; k < c->ncmps; k++) {
		if (k)
			fprintf(f, "\n\n");
		formats_mmtests_block(c, &c->cmps[k], f);
	}
}

/* "± N%" of LKP (relative stddev, from 2% on), or blanks. */
static void formats_lkp_noise(char *buf, size_t len, const struct report_side *s)
{
	if (!isnan(s->cv) && s->cv * 100 >= 1.5)
		snprintf(buf, len, " \xc2\xb1%3.0f%%", fmin(s->cv * 100, 999));
	else
		snprintf(buf, len, "      ");
}

static void formats_lkp_block(const struct report_ctx *c, const struct report_cmp *cmp, FILE *f)
{
	text_header(c, cmp, f, "faultline compare, LKP layout");
	fprintf(f, "\n%12.12s%6s %10s %12.12s\n", cmp->base->name, "", "", cmp->cand->name);
	fprintf(f, "%12s %10s %17s\n", "%stddev", "%change", "%stddev");
	fprintf(f, "%12s %10s %17s\n", "\\", "|", "\\");
	for (int headline = 1; headline >= 0; headline--)
		for (size_t i = 0; i < cmp->nrows; i++) {
			const struct report_row *r = &cmp->rows[i];
			char na[16], nb[16], ch[32];

			if (r->headline != headline || !formats_row_shown(c, r))
				continue;
			formats_lkp_noise(na, sizeof(na), &r->a);
			formats_lkp_noise(nb, sizeof(nb), &r->b);
			if (isnan(r->change) || isinf(r->change))
				snprintf(ch, sizeof(ch), "n/a");
			else
				snprintf(ch, sizeof(ch), "%+.1f%%", r->change);
			/* 12 + 6 + 11 + 12 + 6 + 2 = 49 columns before the name, + 1 */
			if (50 + strlen(r->m->name) > 72) {
				char line[128];
				size_t n;

				snprintf(line, sizeof(line), "%12.2f%s %10s %12.2f%s", r->a.mean, na, ch, r->b.mean, nb);
				for (n = strlen(line); n && line[n - 1] == ' ';)
					line[--n] = '\0';
				fprintf(f, "%s\n%s\n", r->m->name, line);
			} else
				fprintf(f, "%12.2f%s %10s %12.2f%s  %s\n", r->a.mean, na, ch, r->b.mean, nb, r->m->name);
		}
}

void text_lkp(const struct report_ctx *c, FILE *f)
{
	for (size_t k = 0; k < c->ncmps; k++) {
		if (k)
			fprintf(f, "\n\n");
		formats_lkp_block(c, &c->cmps[k], f);
	}
}
