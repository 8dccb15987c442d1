/* plot: trend figures with gnuplot (plot.h). */
#define _GNU_SOURCE
#include "report/history/plot.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/util.h"
#include "report/history/check.h"
#include "report/history/store.h"

#define PLOT_MAX_POINTS 64
#define PLOT_TIMEOUT_S 60

/* A gnuplot single-quoted string: ' doubled, control characters dropped. */
static void plot_quote(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++)
		if (*s == '\'')
			fputs("''", f);
		else if ((unsigned char)*s >= 32)
			fputc(*s, f);
	fputc('\'', f);
}

static void plot_stem(const struct trend *s, char *buf, size_t len)
{
	snprintf(buf, len, "history-%s-%s-%s-%s-%.8s-%s", s->scenario, s->arch, s->host, s->backend, s->config_hash,
		 s->metric);
	for (char *p = buf; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
		      *p == '-' || *p == '_'))
			*p = '_';
}

/* The script: data blocks, then the figure twice (PNG, SVG). */
static void plot_script(FILE *f, const struct trend *s, const struct edivisive_point *cp, int ncp,
			const char *stem)
{
	size_t every = s->n > 30 ? (s->n + 29) / 30 : 1;
	char name[512];

	fprintf(f, "# fl-history plot: %s.  Re-run with: gnuplot %s.gp\n$runs << EOD\n",
		trend_name(s, name, sizeof(name)), stem);
	for (size_t i = 0; i < s->n; i++)
		fprintf(f, "%zu %.17g %.17g %.17g\n", i, s->p[i].mean, s->p[i].min, s->p[i].max);
	fputs("EOD\n$segments << EOD\n", f);
	for (int i = 0; i <= ncp; i++) {
		size_t from = i ? cp[i - 1].index : 0, to = i < ncp ? cp[i].index : s->n;
		double m = trend_mean(s, from, to);

		fprintf(f, "%g %.17g\n%g %.17g\n\n", (double)from - 0.5, m, (double)to - 0.5, m);
	}
	fputs("EOD\npngterm = strstrt(GPVAL_TERMINALS, 'pngcairo') > 0 ? 'pngcairo' : 'png'\n", f);
	for (int e = 0; e < 2; e++) {
		fprintf(f, "\nreset\nset terminal %s size 1100,520 noenhanced\nset output '%s.%s.tmp'\n",
			e ? "svg" : "@pngterm", stem, e ? "svg" : "png");
		fputs("set title ", f);
		plot_quote(f, name);
		fprintf(f, "\nset ylabel '%s (%s is better)'\nset grid ytics\nset key top left\n", s->unit, s->better);
		fprintf(f, "set xrange [-1:%zu]\nset bmargin 9\nset xtics rotate by -60 font ',8' (", s->n);
		for (size_t i = 0; i < s->n; i++) {
			bool at_cp = false;

			for (int k = 0; k < ncp; k++)
				at_cp |= cp[k].index == i;
			if (i % every && !at_cp)
				continue;
			fprintf(f, "%s", i ? ", " : "");
			plot_quote(f, s->p[i].kernel);
			fprintf(f, " %zu", i);
		}
		fputs(")\n", f);
		for (int k = 0; k < ncp; k++) {
			size_t at = cp[k].index, to = k + 1 < ncp ? cp[k + 1].index : s->n;
			size_t from = k ? cp[k - 1].index : 0;
			double before = trend_mean(s, from, at), after = trend_mean(s, at, to);

			fprintf(f, "set arrow from %g, graph 0 to %g, graph 1 nohead lc rgb '#c00000' dt 2\n",
				(double)at - 0.5, (double)at - 0.5);
			fprintf(f, "set label '%+.1f%%, p %.3f' at %g, graph 0.96 left tc rgb '#c00000' font ',9'\n",
				before != 0 ? 100 * (after - before) / fabs(before) : 0.0, cp[k].p_value, (double)at);
		}
		fputs("plot $runs using 1:2:3:4 with yerrorbars pt 7 ps 0.5 lc rgb '#3060a0' "
		      "title 'run: mean, iteration min..max', "
		      "$segments using 1:2 with lines lw 2 lc rgb '#c00000' title 'segment mean (E-divisive)'\n"
		      "set output\n",
		      f);
	}
}

/* Run gnuplot on DIR/STEM.gp; outputs STEM.{png,svg}.tmp renamed on success. */
static int plot_run(const char *dir, const char *stem)
{
	char gp[4096], errp[4096], tmp[4096], fin[4096];
	int status = 0, ret = -1;
	pid_t pid;

	snprintf(gp, sizeof(gp), "%s.gp", stem);
	snprintf(errp, sizeof(errp), "%s/%s.gp.err", dir, stem);
	fflush(NULL);
	if ((pid = fork()) < 0) {
		util_err("plot: fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int fd = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0 || dup2(fd, 2) < 0 || chdir(dir) < 0)
			_exit(127);
		alarm(PLOT_TIMEOUT_S);
		execlp("gnuplot", "gnuplot", gp, (char *)NULL);
		fprintf(stderr, "cannot run gnuplot: %s\n", strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	{
		size_t len = 0;
		char *msg = util_read_file(errp, &len);

		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || (msg && strcasestr(msg, "error"))) {
			util_err("plot: gnuplot %s/%s failed (%s %d)%s%s", dir, gp,
				 WIFEXITED(status) ? "exit status" : "signal",
				 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), msg && len ? ":\n" : "",
				 msg ? msg : "");
			free(msg);
			goto exit;
		}
		free(msg);
	}
	for (int e = 0; e < 2; e++) {
		struct stat sb;

		snprintf(tmp, sizeof(tmp), "%s/%s.%s.tmp", dir, stem, e ? "svg" : "png");
		snprintf(fin, sizeof(fin), "%s/%s.%s", dir, stem, e ? "svg" : "png");
		if (stat(tmp, &sb) < 0 || sb.st_size == 0 || rename(tmp, fin) < 0) {
			util_err("plot: %s: missing, empty or not renamed: %s", tmp, strerror(errno));
			goto exit;
		}
	}
	ret = 0;
exit:
	unlink(errp);
	for (int e = 0; ret && e < 2; e++) {
		snprintf(tmp, sizeof(tmp), "%s/%s.%s.tmp", dir, stem, e ? "svg" : "png");
		unlink(tmp);
	}
	return ret;
}

static bool plot_headline(const struct trend *s)
{
	for (const char *h = s->headline; *h;) {
		size_t len = strcspn(h, ",");

		if (len == strlen(s->metric) && !strncmp(h, s->metric, len))
			return true;
		h += len + (h[len] == ',');
	}
	return false;
}

/* Figures of the selected series into dir; the exit status. */
static int plot_all(const struct trend_set *set, const char *dir, bool all, const struct edivisive_opts *o)
{
	struct edivisive_point cp[PLOT_MAX_POINTS];
	size_t made = 0;

	for (size_t i = 0; i < set->n; i++) {
		const struct trend *s = &set->s[i];
		char stem[1024], path[4096];
		FILE *f;
		int n;

		if (!all && !plot_headline(s))
			continue;
		if ((n = check_detect(s, o, cp, PLOT_MAX_POINTS)) < 0) {
			util_err("plot: out of memory (%s)", strerror(ENOMEM));
			return FL_EXIT_FAIL;
		}
		plot_stem(s, stem, sizeof(stem));
		snprintf(path, sizeof(path), "%s/%s.gp", dir, stem);
		if (!(f = fopen(path, "w"))) {
			util_err("plot: %s: %s", path, strerror(errno));
			return FL_EXIT_FAIL;
		}
		plot_script(f, s, cp, n, stem);
		if (fclose(f) != 0) {
			util_err("plot: %s: %s", path, strerror(errno));
			return FL_EXIT_FAIL;
		}
		if (plot_run(dir, stem) < 0)
			return FL_EXIT_FAIL;
		printf("plot: %s/%s.png (and .svg): %zu runs, %d change point%s\n", dir, stem, s->n, n,
		       n == 1 ? "" : "s");
		made++;
	}
	if (!made) {
		util_err("plot: no series to plot (the scenarios' headline metrics; --all-metrics or --metric for others)");
		return FL_EXIT_NORESOURCE;
	}
	return 0;
}

int plot_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },	      { "out", required_argument, NULL, 'o' },
		{ "all-metrics", no_argument, NULL, 'a' },    { "scenario", required_argument, NULL, 'F' },
		{ "metric", required_argument, NULL, 'F' },   { "arch", required_argument, NULL, 'F' },
		{ "host", required_argument, NULL, 'F' },     { "label", required_argument, NULL, 'F' },
		{ "since", required_argument, NULL, 'F' },    { NULL, 0, NULL, 0 }
	};
	struct history_filter f = { 0 };
	const char *db = STORE_DEFAULT_PATH, *out = "report/out/history";
	struct edivisive_opts o;
	struct trend_set set;
	struct store s;
	bool all = false;
	char err[1024];
	int c, idx, rc;

	edivisive_defaults(&o);
	while ((c = getopt_long(argc, argv, "", opts, &idx)) != -1) {
		if (c == 'd')
			db = optarg;
		else if (c == 'o')
			out = optarg;
		else if (c == 'a')
			all = true;
		else if (c == 'F')
			history_filter_option(&f, opts[idx].name, optarg);
		else
			return FL_EXIT_USAGE;
	}
	if (optind < argc) {
		util_err("plot: unexpected argument '%s'", argv[optind]);
		return FL_EXIT_USAGE;
	}
	if ((rc = store_open(&s, db, false, err, sizeof(err))) || (rc = trend_load(&s, &f, &set, err, sizeof(err)))) {
		util_err("plot: %s", err);
		store_close(&s);
		return rc;
	}
	store_close(&s);
	if (util_mkdir_p(out, 0755) < 0) {
		util_err("plot: --out %s: %s", out, strerror(errno));
		rc = FL_EXIT_FAIL;
	} else {
		rc = plot_all(&set, out, all || f.metric, &o);
	}
	trend_free(&set);
	return rc;
}
