/* figures_lock: the lock figure of a (scenario, arch): the victim's
 * mmap_lock read and write wait times in decade buckets, one bar per set
 * per bucket (mean count per iteration, log scale), as posted for the 2025
 * per-VMA-lock series; acquisitions per 1000 faults; and, on kernels with
 * CONFIG_PER_VMA_LOCK_STATS, the share of faults completed under the
 * per-VMA lock with the retries per 1000 faults.  Panels whose data no set
 * has are left out; no panel, no figure. */
#define _GNU_SOURCE
#include "report/figures.h"
#include "bench/probes/mmaplock_parse.h"
#include "lib/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One decade panel: clustered bars, bucket on x, one colour per set. */
static bool figures_lock_decades(struct figures_script *fg, const struct figures_member *mem, size_t nmem,
				 const char *hist, FILE *b)
{
	double width = 0.8 / (double)nmem, ymax = 1;
	bool first = true;

	for (size_t m = 0; m < nmem; m++)
		for (int k = 0; k < MMAPLOCK_PARSE_DECADES; k++) {
			double v = compare_lock_mean(mem[m].g, "decades", hist, mmaplock_parse_decade_names[k]);

			if (!isnan(v))
				ymax = fmax(ymax, v);
		}
	for (size_t m = 0; m < nmem; m++) {
		char *comment;

		if (isnan(compare_lock_mean(mem[m].g, "decades", hist, mmaplock_parse_decade_names[0])))
			continue;
		if (first) {
			fprintf(b, "set title '%s: events per iteration by wait time (mean)'\n", hist);
			/* on the log axis, a decade or more above the tallest bar for the key */
			fprintf(b, "set logscale y\nset yrange [0.5:%.9g]\nset style fill solid 0.6 border -1\n"
				   "set boxwidth %.4f\nset grid ytics\nset xtics (",
				ymax * pow(10.0, 0.5 + 0.5 * (double)nmem), width);
			for (int k = 0; k < MMAPLOCK_PARSE_DECADES; k++)
				fprintf(b, "%s'%s' %d", k ? ", " : "", mmaplock_parse_decade_names[k], k);
			fprintf(b, ") rotate by -30\nset xrange [-0.6:%d.6]\nset key top right\nplot ",
				MMAPLOCK_PARSE_DECADES - 1);
		}
		comment = report_xasprintf("mmap_lock %s decades, %s: bucket mean", hist, mem[m].set->name);
		figures_dat_block(fg, comment);
		free(comment);
		for (int k = 0; k < MMAPLOCK_PARSE_DECADES; k++)
			fprintf(fg->dat, "%.4f %.9g\n", k - 0.4 + width * ((double)m + 0.5),
				compare_lock_mean(mem[m].g, "decades", hist, mmaplock_parse_decade_names[k]));
		fprintf(b, "%s'%s' index %d using 1:2 with boxes lc %zu title ", first ? "" : ", ", fg->dat_name,
			fg->blocks - 1, m + 1);
		figures_gp_str(b, mem[m].set->name);
		first = false;
	}
	if (!first)
		fprintf(b, "\nunset logscale y\nunset xtics\nset xtics\n");
	return !first;
}

/* One panel of catalogue metrics as bars: x = metric, one colour per set,
 * error bar = stddev over iterations. */
static bool figures_lock_bars(struct figures_script *fg, const struct figures_member *mem, size_t nmem,
			      const char *title, const char *const *names, size_t nnames, FILE *b)
{
	double width = 0.8 / (double)nmem, ymax = 0;
	bool first = true;

	/* room above the tallest error bar for the key */
	for (size_t m = 0; m < nmem; m++)
		for (size_t k = 0; k < nnames; k++) {
			const struct report_metric *x = compare_find_metric(mem[m].g, names[k]);

			if (x && x->n)
				ymax = fmax(ymax, stats_mean(x->v, x->n) + (x->n > 1 ? stats_stddev(x->v, x->n) : 0.0));
		}
	for (size_t m = 0; m < nmem; m++) {
		bool any = false;
		char *comment;

		for (size_t k = 0; k < nnames; k++)
			any |= compare_find_metric(mem[m].g, names[k]) != NULL;
		if (!any)
			continue;
		if (first) {
			fprintf(b, "set title '%s'\nset yrange [0:%.9g]\nset style fill solid 0.6 border -1\n"
				   "set boxwidth %.4f\nset grid ytics\nset xtics (",
				title, ymax > 0 ? ymax * (1.15 + 0.12 * (double)nmem) : 1.0, width);
			for (size_t k = 0; k < nnames; k++)
				fprintf(b, "%s'%s' %zu", k ? ", " : "", strchr(names[k], '.') + 1, k);
			fprintf(b, ")%s\nset xrange [-0.6:%zu.6]\nset key top right\nplot ", nnames > 2 ? " rotate by -30" : "",
				nnames - 1);
		}
		comment = report_xasprintf("%s, %s: x mean stddev", title, mem[m].set->name);
		figures_dat_block(fg, comment);
		free(comment);
		for (size_t k = 0; k < nnames; k++) {
			const struct report_metric *x = compare_find_metric(mem[m].g, names[k]);

			if (x && x->n)
				fprintf(fg->dat, "%.4f %.9g %.9g\n", (double)k - 0.4 + width * ((double)m + 0.5),
					stats_mean(x->v, x->n), x->n > 1 ? stats_stddev(x->v, x->n) : 0.0);
		}
		fprintf(b, "%s'%s' index %d using 1:2:3 with boxerrorbars lc %zu title ", first ? "" : ", ",
			fg->dat_name, fg->blocks - 1, m + 1);
		figures_gp_str(b, mem[m].set->name);
		first = false;
	}
	if (!first)
		fprintf(b, "\n");
	return !first;
}

void figures_lock(struct figures_script *fg, const struct figures_member *mem, size_t nmem)
{
	static const char *const acq[] = { "mmap_lock.read_acq_per_kfault", "mmap_lock.write_acq_per_kfault" };
	static const char *const vma[] = { "vma_lock.share_pct", "vma_lock.success_per_kfault",
					   "vma_lock.retry_per_kfault", "vma_lock.abort_per_kfault",
					   "vma_lock.miss_per_kfault" };
	char *body = NULL, *title;
	size_t blen = 0;
	FILE *b = open_memstream(&body, &blen);
	int panels = 0, rows, cols;

	/* the panels go into a memory buffer first: the layout needs their count */
	panels += figures_lock_decades(fg, mem, nmem, "read_wait", b);
	panels += figures_lock_decades(fg, mem, nmem, "write_wait", b);
	panels += figures_lock_bars(fg, mem, nmem, "mmap_lock acquisitions per 1000 faults", acq, FL_ARRAY_SIZE(acq),
				    b);
	panels += figures_lock_bars(fg, mem, nmem, "per-VMA lock: % of faults, and per 1000 faults", vma,
				    FL_ARRAY_SIZE(vma), b);
	fclose(b);
	if (panels) {
		char *full = NULL;
		size_t flen = 0;
		FILE *ff = open_memstream(&full, &flen);

		figures_layout(panels, &rows, &cols);
		title = report_xasprintf("%s on %s: the victim's mmap_lock and per-VMA lock", mem[0].g->scenario,
					 mem[0].g->arch);
		fprintf(ff, "set multiplot layout %d,%d title ", rows, cols);
		figures_gp_str(ff, title);
		fprintf(ff, "\n%s", body);
		fclose(ff);
		figures_emit(fg, "lock", 560 * cols, 380 * rows, full);
		free(full);
		free(title);
	}
	free(body);
}
