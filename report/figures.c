/* figures: the gnuplot figures of fl-report.  Per (scenario, arch) of the
 * baseline, with one line or bar per set that has ok iterations there:
 * latency percentile curves per role (log scale, pooled histograms),
 * counters as bars with error bars, and per-second time series.  Each
 * figure comes as PNG and SVG, from SCENARIO.ARCH.dat and SCENARIO.ARCH.gp,
 * both written to the output directory so that a figure can be re-made by
 * hand; gnuplot then runs there under a timeout. */
#define _GNU_SOURCE
#include "report/report.h"
#include "report/figures.h"
#include "report/stats.h"
#include "lib/hist.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define FIGURES_GNUPLOT_TIMEOUT_S 120

/* Series plotted per second, when present. */
static const struct {
	const char *key, *title;
} figures_series[] = {
	{ "vmstat.pgmajfault", "major faults/s (vmstat pgmajfault)" },
	{ "vmstat.workingset_refault_file", "file refaults/s (vmstat workingset_refault_file)" },
	{ "workload.fault.major_faults", "major faults/s (fault threads)" },
	{ "workload.fault.touches", "touches/s (fault threads)" },
	{ "workload.observer.reads", "/proc reads/s (observer)" },
};

/* A copy fit for a file name. */
char *figures_fname(const char *s)
{
	char *d = report_xstrdup(*s ? s : "_");

	for (char *p = d; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
		      *p == '_' || *p == '-'))
			*p = '_';
	if (d[0] == '.')
		d[0] = '_';
	return d;
}

/* A gnuplot single-quoted string body: ' doubled, control characters dropped. */
void figures_gp_str(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20)
			continue;
		if (*s == '\'')
			fputc('\'', f);
		fputc(*s, f);
	}
	fputc('\'', f);
}

/* ---- data and script -------------------------------------------------- */

/* Start a data block (gnuplot "index" fg->blocks), comment line first. */
void figures_dat_block(struct figures_script *fg, const char *comment)
{
	if (fg->blocks)
		fputs("\n\n", fg->dat);
	fprintf(fg->dat, "# %d: ", fg->blocks);
	for (const char *p = comment; *p; p++)
		fputc((unsigned char)*p < 0x20 ? ' ' : *p, fg->dat);
	fputc('\n', fg->dat);
	fg->blocks++;
}

/* Emit a figure twice (PNG, SVG) with the same body. */
void figures_emit(struct figures_script *fg, const char *name, int w, int h, const char *body)
{
	static const char *const exts[] = { "png", "svg" };

	for (size_t e = 0; e < 2; e++) {
		char *out = report_xasprintf("%s.%s.%s", fg->stem, name, exts[e]);

		fprintf(fg->gp, "\n# %s\n", out);
		if (e == 0)
			fprintf(fg->gp, "set terminal @pngterm size %d,%d noenhanced\n", w, h);
		else
			fprintf(fg->gp, "set terminal svg size %d,%d noenhanced\n", w, h);
		fprintf(fg->gp, "set output '%s'.sfx\nreset\n%sunset multiplot\nset output\n", out, body);
		report_strs_add(&fg->outputs, out);
		free(out);
	}
}

void figures_layout(int n, int *rows, int *cols)
{
	*cols = n < 3 ? n : 3;
	*rows = (n + *cols - 1) / *cols;
}

/* Latency percentile curves, one figure per role, one panel per histogram,
 * one line per set (pooled over its iterations) on a "nines" axis:
 * x = -log10(1 - p/100), so 50 -> 0.3, 90 -> 1, 99 -> 2, 99.9 -> 3. */
static int figures_latency(struct figures_script *fg, const struct figures_member *mem, size_t nmem)
{
	enum { STEPS = 37 };
	struct report_strs roles = { 0 }, hists = { 0 };
	struct hist_sum *pool = malloc(sizeof(*pool));
	const json_t **objs = NULL;
	int ret = -1;

	if (!pool) {
		util_err("out of memory");
		goto exit;
	}
	for (size_t m = 0; m < nmem; m++)
		for (size_t i = 0; i < mem[m].g->nmetrics; i++)
			if (mem[m].g->metrics[i].role[0])
				report_strs_add(&roles, mem[m].g->metrics[i].role);
	for (size_t r = 0; r < roles.n; r++) {
		char *panels_buf = NULL, *full = NULL, *title, *fname;
		size_t panels_len = 0, full_len = 0;
		FILE *pf = open_memstream(&panels_buf, &panels_len), *ff;
		int panels = 0, rows, cols;

		report_strs_free(&hists);
		for (size_t m = 0; m < nmem; m++)
			for (size_t i = 0; i < mem[m].g->nmetrics; i++)
				if (mem[m].g->metrics[i].role[0] &&
				    !strcmp(mem[m].g->metrics[i].role, roles.v[r]))
					report_strs_add(&hists, mem[m].g->metrics[i].sub);
		for (size_t h = 0; h < hists.n; h++) {
			double ymin = INFINITY, ymax = 0;
			char *plot = NULL;
			size_t plot_len = 0;
			FILE *p = open_memstream(&plot, &plot_len);
			bool first = true;

			for (size_t m = 0; m < nmem; m++) {
				const struct report_group *g = mem[m].g;
				size_t n = 0;
				char err[512], *comment;

				objs = report_xrealloc(objs, (g->niters + 1) * sizeof(*objs));
				for (size_t i = 0; i < g->niters; i++) {
					const json_t *o = json_object_get(
						json_object_get(json_object_get(json_object_get(g->iters[i], "roles"),
										roles.v[r]),
								"histograms"),
						hists.v[h]);

					if (o)
						objs[n++] = o;
				}
				if (stats_pool_hists((const json_t *const *)objs, n, pool, err, sizeof(err)) < 0) {
					util_err("%s %s.%s: %s", mem[m].set->name, roles.v[r], hists.v[h], err);
					fclose(p);
					free(plot);
					fclose(pf);
					free(panels_buf);
					goto exit;
				}
				if (pool->count == 0)
					continue;
				comment = report_xasprintf("%s.%s %s: nines percentile latency_us (%llu samples pooled)",
							   roles.v[r], hists.v[h], mem[m].set->name,
							   (unsigned long long)pool->count);
				figures_dat_block(fg, comment);
				free(comment);
				for (int i = 0; i <= STEPS; i++) {
					double x = log10(2.0) + (4.0 - log10(2.0)) * i / STEPS;
					double pct = 100.0 * (1.0 - pow(10.0, -x));
					double us = fmax(hist_sum_percentile(pool, pct) / 1000.0, 0.001);

					ymin = fmin(ymin, us);
					ymax = fmax(ymax, us);
					fprintf(fg->dat, "%.6f %.6f %.6f\n", x, pct, us);
				}
				fprintf(p, "%s'%s' index %d using 1:3 with linespoints lw 2 pt 7 ps 0.4 lc %zu title ",
					first ? "" : ", \\\n     ", fg->dat_name, fg->blocks - 1, m + 1);
				figures_gp_str(p, mem[m].set->name);
				first = false;
			}
			fclose(p);
			if (!first) { /* a panel only where some set has samples */
				fprintf(pf, "set title ");
				title = report_xasprintf("%s.%s", roles.v[r], hists.v[h]);
				figures_gp_str(pf, title);
				free(title);
				fprintf(pf, "\nset yrange [%.9g:%.9g]\nplot %s\n", ymin / 1.5, ymax * 1.5, plot);
				panels++;
			}
			free(plot);
		}
		fclose(pf);
		if (panels == 0) {
			free(panels_buf);
			continue;
		}
		figures_layout(panels, &rows, &cols);
		ff = open_memstream(&full, &full_len);
		fprintf(ff, "set multiplot layout %d,%d title ", rows, cols);
		title = report_xasprintf("%s on %s: %s latency percentiles (pooled iterations)", mem[0].g->scenario,
					 mem[0].g->arch, roles.v[r]);
		figures_gp_str(ff, title);
		free(title);
		fprintf(ff, "\nset logscale y\nset format y '%%g'\nset xrange [0.30103:4]\n"
			    "set xtics ('50' 0.30103, '90' 1, '99' 2, '99.9' 3, '99.99' 4)\n"
			    "set xlabel 'percentile'\nset ylabel 'latency (us)'\nset grid\nset key top left\n%s",
			panels_buf);
		fclose(ff);
		fname = report_xasprintf("latency-%s", roles.v[r]);
		{
			char *safe = figures_fname(fname);

			figures_emit(fg, safe, 520 * cols, 400 * rows, full);
			free(safe);
		}
		free(fname);
		free(full);
		free(panels_buf);
	}
	ret = 0;
exit:
	report_strs_free(&roles);
	report_strs_free(&hists);
	free(objs);
	free(pool);
	return ret;
}

/* Every throughput and ratio metric as bars (mean over iterations) with
 * error bars (sample stddev), one panel per metric, one bar per set. */
/* Bars for the roles' throughput (rates where higher is better) and the
 * memory and pressure ratios, when not all zero; the lock metrics have
 * their own figure (figures_lock.c). */
static bool figures_counter_shown(const struct report_metric *m)
{
	if (m->def.section == METRIC_SECTION_LATENCY || m->def.section == METRIC_SECTION_LOCK ||
	    (m->def.section == METRIC_SECTION_RATE && m->def.better != METRIC_BETTER_HIGHER))
		return false;
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i] != 0)
			return true;
	return false;
}

/* Is name already shown, or equal in every set and iteration to a metric
 * already shown (writer.ops_per_s and writer.mmap_munmap_ops_per_s when the
 * writer has one op)?  Such a panel would be drawn twice. */
static bool figures_counter_duplicate(const struct figures_member *mem, size_t nmem, const struct report_strs *shown,
				      const char *name)
{
	for (size_t k = 0; k < shown->n; k++) {
		bool same = true;

		if (strcmp(shown->v[k], name) == 0)
			return true;
		for (size_t m = 0; m < nmem && same; m++) {
			const struct report_metric *a = compare_find_metric(mem[m].g, shown->v[k]);
			const struct report_metric *x = compare_find_metric(mem[m].g, name);

			if (!a || !x)
				same = !a && !x;
			else if (a->n != x->n)
				same = false;
			else
				for (size_t i = 0; i < a->n && same; i++)
					same = a->v[i] == x->v[i];
		}
		if (same)
			return true;
	}
	return false;
}

static void figures_counters(struct figures_script *fg, const struct figures_member *mem, size_t nmem)
{
	struct report_strs names = { 0 };
	char *body = NULL;
	size_t blen = 0;
	FILE *b = open_memstream(&body, &blen);
	int rows, cols;

	for (size_t m = 0; m < nmem; m++)
		for (size_t i = 0; i < mem[m].g->nmetrics; i++)
			if (figures_counter_shown(&mem[m].g->metrics[i]) &&
			    !figures_counter_duplicate(mem, nmem, &names, mem[m].g->metrics[i].name))
				report_strs_add(&names, mem[m].g->metrics[i].name);
	if (names.n == 0) {
		fclose(b);
		free(body);
		return;
	}
	figures_layout((int)names.n, &rows, &cols);
	fprintf(b, "set multiplot layout %d,%d title ", rows, cols);
	{
		char *title = report_xasprintf("%s on %s: counters (mean over iterations, error bar = stddev)",
					       mem[0].g->scenario, mem[0].g->arch);

		figures_gp_str(b, title);
		free(title);
	}
	fprintf(b, "\nset style fill solid 0.5 border -1\nset boxwidth 0.6\nset grid ytics\n"
		   "set xrange [-0.6:%zu.6]\nset format y '%%g'\nset xtics (", nmem - 1);
	for (size_t m = 0; m < nmem; m++) {
		fprintf(b, "%s", m ? ", " : "");
		figures_gp_str(b, mem[m].set->name);
		fprintf(b, " %zu", m);
	}
	fprintf(b, ")\n");
	for (size_t k = 0; k < names.n; k++) {
		const struct report_metric *meta = NULL;
		double ymax = 0;
		bool first = true;
		char *title;

		for (size_t m = 0; m < nmem && !meta; m++)
			meta = compare_find_metric(mem[m].g, names.v[k]);
		for (size_t m = 0; m < nmem; m++) {
			const struct report_metric *x = compare_find_metric(mem[m].g, names.v[k]);

			if (x && x->n) {
				double mean = stats_mean(x->v, x->n), sd = stats_stddev(x->v, x->n);

				ymax = fmax(ymax, mean + sd);
			}
		}
		title = report_xasprintf("(%s, %s)", meta->def.unit,
					 meta->def.better == METRIC_BETTER_LOWER    ? "lower is better"
					 : meta->def.better == METRIC_BETTER_HIGHER ? "higher is better"
										    : "neither is better");
		fprintf(b, "set title ");
		figures_gp_str(b, names.v[k]);
		fprintf(b, ".\"\\n\".");
		figures_gp_str(b, title);
		free(title);
		fprintf(b, "\nset yrange [0:%.9g]\nplot ", ymax > 0 ? ymax * 1.15 : 1.0);
		for (size_t m = 0; m < nmem; m++) {
			const struct report_metric *x = compare_find_metric(mem[m].g, names.v[k]);
			char *comment;

			if (!x || !x->n)
				continue;
			comment = report_xasprintf("%s %s: x mean stddev n", names.v[k], mem[m].set->name);
			figures_dat_block(fg, comment);
			free(comment);
			fprintf(fg->dat, "%zu %.9g %.9g %zu\n", m, stats_mean(x->v, x->n), stats_stddev(x->v, x->n), x->n);
			fprintf(b, "%s'%s' index %d using 1:2:3 with boxerrorbars lc %zu notitle", first ? "" : ", ",
				fg->dat_name, fg->blocks - 1, m + 1);
			first = false;
		}
		fprintf(b, "\n");
	}
	fclose(b);
	figures_emit(fg, "counters", 460 * cols, 340 * rows, body);
	free(body);
	report_strs_free(&names);
}

/* Per-second time series (mean over iterations at each sample), one panel
 * per series, one line per set. */
static void figures_timeseries(struct figures_script *fg, const struct figures_member *mem, size_t nmem)
{
	char *body = NULL;
	size_t blen = 0;
	FILE *b = open_memstream(&body, &blen);
	int panels = 0, rows, cols;
	bool present[FL_ARRAY_SIZE(figures_series)] = { false };

	for (size_t k = 0; k < FL_ARRAY_SIZE(figures_series); k++)
		for (size_t m = 0; m < nmem; m++)
			for (size_t i = 0; i < mem[m].g->niters; i++) {
				const json_t *s = json_object_get(mem[m].g->iters[i], "series");

				const json_t *v = json_object_get(s, figures_series[k].key);
				double d;

				/* a series that stayed at zero makes an empty panel: left out */
				if (json_array_size(json_object_get(s, "t_s")) > 1)
					for (size_t j = 1; j < json_array_size(v); j++)
						if (report_num(json_array_get(v, j), &d) && d != 0)
							present[k] = true;
			}
	for (size_t k = 0; k < FL_ARRAY_SIZE(figures_series); k++)
		panels += present[k];
	if (panels == 0) {
		fclose(b);
		free(body);
		return;
	}
	figures_layout(panels, &rows, &cols);
	fprintf(b, "set multiplot layout %d,%d title ", rows, cols);
	{
		char *title = report_xasprintf("%s on %s: per second, mean over iterations", mem[0].g->scenario,
					       mem[0].g->arch);

		figures_gp_str(b, title);
		free(title);
	}
	fprintf(b, "\nset xlabel 'time (s)'\nset grid\nset key top right\nset format y '%%g'\n");
	for (size_t k = 0; k < FL_ARRAY_SIZE(figures_series); k++) {
		double ymax = 0;
		bool first = true;
		char *pl = NULL;
		size_t pllen = 0;
		FILE *p;

		if (!present[k])
			continue;
		p = open_memstream(&pl, &pllen);
		for (size_t m = 0; m < nmem; m++) {
			const struct report_group *g = mem[m].g;
			size_t maxlen = 0;
			char *comment;
			bool any = false;

			for (size_t i = 0; i < g->niters; i++) {
				size_t n = json_array_size(json_object_get(json_object_get(g->iters[i], "series"), "t_s"));

				maxlen = n > maxlen ? n : maxlen;
			}
			for (size_t j = 1; j < maxlen; j++) {
				double tsum = 0, rsum = 0;
				size_t cnt = 0;

				for (size_t i = 0; i < g->niters; i++) {
					const json_t *s = json_object_get(g->iters[i], "series");
					const json_t *t = json_object_get(s, "t_s"), *v = json_object_get(s, figures_series[k].key);
					double t0, t1, d;

					if (j >= json_array_size(t) || j >= json_array_size(v) ||
					    !report_num(json_array_get(t, j - 1), &t0) || !report_num(json_array_get(t, j), &t1) ||
					    !report_num(json_array_get(v, j), &d) || !(t1 > t0))
						continue;
					tsum += t1;
					rsum += d / (t1 - t0);
					cnt++;
				}
				if (!cnt)
					continue;
				if (!any) {
					comment = report_xasprintf("%s %s: t_s per_s (mean of iterations)", figures_series[k].key,
								   mem[m].set->name);
					figures_dat_block(fg, comment);
					free(comment);
					any = true;
				}
				fprintf(fg->dat, "%.6f %.9g\n", tsum / (double)cnt, rsum / (double)cnt);
				ymax = fmax(ymax, rsum / (double)cnt);
			}
			if (!any)
				continue;
			fprintf(p, "%s'%s' index %d using 1:2 with linespoints lw 2 pt 7 ps 0.4 lc %zu title ",
				first ? "" : ", ", fg->dat_name, fg->blocks - 1, m + 1);
			figures_gp_str(p, mem[m].set->name);
			first = false;
		}
		fclose(p);
		fprintf(b, "set title ");
		figures_gp_str(b, figures_series[k].title);
		/* headroom for the key, which sits top right, above the lines */
		fprintf(b, "\nset yrange [0:%.9g]\nplot %s\n", ymax > 0 ? ymax * (1.15 + 0.12 * (double)nmem) : 1.0,
			pl);
		free(pl);
	}
	fclose(b);
	figures_emit(fg, "series", 480 * cols, 340 * rows, body);
	free(body);
}

/* Is prog runnable: a path, or a name found in PATH? */
/* ---- gnuplot ---------------------------------------------------------- */

bool figures_find_program(const char *prog)
{
	const char *path = getenv("PATH");
	char *dirs, *save = NULL;
	bool found = false;

	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0;
	dirs = report_xstrdup(path ? path : "/usr/bin:/bin");
	for (char *d = strtok_r(dirs, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
		char *full = report_xasprintf("%s/%s", *d ? d : ".", prog);
		struct stat sb;

		found = stat(full, &sb) == 0 && S_ISREG(sb.st_mode) && access(full, X_OK) == 0;
		free(full);
	}
	free(dirs);
	return found;
}

/* Run gnuplot on script in the output directory; outputs go to NAME.sfx
 * and are renamed to NAME on success.  Fails on a non-zero exit, an "error" on stderr or a
 * missing or empty output. */
static int figures_run_gnuplot(const struct report_ctx *c, const char *script, const struct report_strs *outputs)
{
	char sfx[64], *sfx_arg, *errbuf = NULL;
	size_t errlen = 0;
	int pipefd[2] = { -1, -1 }, status = 0, ret = -1;
	FILE *errf = NULL;
	pid_t pid;

	snprintf(sfx, sizeof(sfx), ".tmp-%d", (int)getpid());
	sfx_arg = report_xasprintf("sfx='%s'", sfx);
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		util_err("pipe: %s", strerror(errno));
		goto exit;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		util_err("fork: %s", strerror(errno));
		goto exit;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
		}
		dup2(pipefd[1], 2);
		if (chdir(c->out_dir) < 0) {
			fprintf(stderr, "chdir %s: %s\n", c->out_dir, strerror(errno));
			_exit(127);
		}
		alarm(FIGURES_GNUPLOT_TIMEOUT_S); /* survives exec: a hung gnuplot gets SIGALRM */
		execlp(c->gnuplot, c->gnuplot, "-e", sfx_arg, script, (char *)NULL);
		fprintf(stderr, "cannot run %s: %s\n", c->gnuplot, strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	pipefd[1] = -1;
	errf = open_memstream(&errbuf, &errlen);
	for (;;) {
		char buf[4096];
		ssize_t n = read(pipefd[0], buf, sizeof(buf));

		if (n < 0 && errno == EINTR) {
			if (util_stop_signal)
				kill(pid, SIGTERM); /* our own child, by pid: its temporaries go below */
			continue;
		}
		if (n <= 0)
			break;
		fwrite(buf, 1, (size_t)n, errf);
	}
	fclose(errf);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(status)) {
		util_err("%s %s/%s: killed by signal %d%s%s%s", c->gnuplot, c->out_dir, script, WTERMSIG(status),
			 WTERMSIG(status) == SIGALRM ? " (timed out)" : "", errlen ? ":\n" : "", errbuf);
		goto exit;
	}
	if (WEXITSTATUS(status) != 0 || strcasestr(errbuf, "error")) {
		util_err("%s %s/%s failed (exit status %d)%s%s", c->gnuplot, c->out_dir, script, WEXITSTATUS(status),
			 errlen ? ":\n" : "", errbuf);
		goto exit;
	}
	if (errlen)
		fprintf(stderr, "%s: gnuplot %s/%s said:\n%s", util_progname, c->out_dir, script, errbuf);
	for (size_t i = 0; i < outputs->n; i++) {
		char *tmp = report_xasprintf("%s/%s%s", c->out_dir, outputs->v[i], sfx);
		char *final = report_xasprintf("%s/%s", c->out_dir, outputs->v[i]);
		struct stat sb;
		bool ok = stat(tmp, &sb) == 0 && sb.st_size > 0;

		if (!ok)
			util_err("gnuplot %s/%s: %s is missing or empty", c->out_dir, script, outputs->v[i]);
		else if (rename(tmp, final) < 0) {
			util_err("rename %s to %s: %s", tmp, final, strerror(errno));
			ok = false;
		}
		free(tmp);
		free(final);
		if (!ok)
			goto exit;
	}
	ret = 0;
exit:
	if (ret < 0)
		for (size_t i = 0; i < outputs->n; i++) {
			char *tmp = report_xasprintf("%s/%s%s", c->out_dir, outputs->v[i], sfx);

			unlink(tmp);
			free(tmp);
		}
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	free(errbuf);
	free(sfx_arg);
	return ret;
}

/* ---- per (scenario, arch) --------------------------------------------- */

/* The figure set of one (scenario, arch): data file, script, gnuplot. */
static int figures_group(const struct report_ctx *c, const struct figures_member *mem, size_t nmem)
{
	struct figures_script fg = { 0 };
	char *scen = figures_fname(mem[0].g->scenario), *arch = figures_fname(mem[0].g->arch), *script = NULL;
	int ret = -1;

	fg.stem = report_xasprintf("%s.%s", scen, arch);
	fg.dat_name = report_xasprintf("%s.dat", fg.stem);
	script = report_xasprintf("%s.gp", fg.stem);
	fg.dat = open_memstream(&fg.dat_buf, &fg.dat_len);
	fg.gp = open_memstream(&fg.gp_buf, &fg.gp_len);
	fprintf(fg.dat, "# fl-report data for %s (gnuplot index blocks; see %s)\n", fg.stem, script);
	fprintf(fg.gp, "# fl-report: figures of scenario %s on %s.  Re-run with: gnuplot %s\n", mem[0].g->scenario,
		mem[0].g->arch, script);
	fprintf(fg.gp, "if (!exists('sfx')) sfx = ''\n"
		       "pngterm = strstrt(GPVAL_TERMINALS, 'pngcairo') > 0 ? 'pngcairo' : 'png'\n");
	if (figures_latency(&fg, mem, nmem) < 0)
		goto exit;
	figures_counters(&fg, mem, nmem);
	figures_lock(&fg, mem, nmem);
	figures_timeseries(&fg, mem, nmem);
	fclose(fg.dat);
	fg.dat = NULL;
	fclose(fg.gp);
	fg.gp = NULL;
	if (fg.outputs.n == 0) {
		ret = 0;
		goto exit;
	}
	if (report_write(c->out_dir, fg.dat_name, fg.dat_buf, fg.dat_len) < 0 ||
	    report_write(c->out_dir, script, fg.gp_buf, fg.gp_len) < 0)
		goto exit;
	ret = figures_run_gnuplot(c, script, &fg.outputs);
exit:
	if (fg.dat)
		fclose(fg.dat);
	if (fg.gp)
		fclose(fg.gp);
	free(fg.dat_buf);
	free(fg.gp_buf);
	free(fg.stem);
	free(fg.dat_name);
	report_strs_free(&fg.outputs);
	free(script);
	free(scen);
	free(arch);
	return ret;
}

/* The figures of every (scenario, arch) of the baseline that some candidate
 * has ok iterations of. */
int figures_write(const struct report_ctx *c)
{
	const struct report_set *base = &c->sets[0];
	struct figures_member *mem = report_xrealloc(NULL, c->nsets * sizeof(*mem));
	int ret = 0;

	for (size_t gi = 0; gi < base->ngroups; gi++) {
		const struct report_group *g = &base->groups[gi];
		size_t n = 0;

		for (size_t s = 0; s < c->nsets; s++) {
			const struct report_group *x = load_group_get(&c->sets[s], g->scenario, g->arch, false);

			if (x && x->niters)
				mem[n++] = (struct figures_member){ &c->sets[s], x };
		}
		if (n < 2 || mem[0].set != base)
			continue;
		if (figures_group(c, mem, n) < 0)
			ret = -1;
	}
	free(mem);
	return ret;
}

