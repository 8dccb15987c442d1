/* fl-report: compare faultline result sets (a baseline and candidates) per
 * (scenario, arch): a plain-text table that fits 72 columns, compare.json,
 * junit.xml, gnuplot figures (PNG and SVG), and a CI gate.  docs/report.md
 * describes the usage, the metrics and what the marks mean; `fl-report
 * --help` says the same in short.
 *
 * Flow: options -> load every input (load.c; nothing is written on bad
 * input, exit 2) -> group by (scenario, arch) and compute per-iteration
 * metrics (load.c, compare.c) -> compare (compare.c, stats.c) -> check the
 * gate's metric names -> write the outputs (text.c, export.c; each through a
 * temporary file and rename) -> run gnuplot (figures.c) -> exit 0, or 1 if
 * the gate tripped or writing failed.  report.h lists the units.
 *
 * This file: the options, that flow, and the small helpers every unit
 * uses. */
#define _GNU_SOURCE
#include "report/report.h"
#include "lib/results.h"
#include "lib/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Command-line options: this table drives getopt and --help. */
static const struct report_option {
	const char *name;
	const char *arg; /* NULL: a flag */
	const char *help;
} report_options[] = {
	{ "out", "DIR", "write the report into DIR (created; default report/out/<UTC time>)" },
	{ "results", "DIR", "where LABEL arguments are looked up (default: results)" },
	{ "fail-on", "METRIC:PCT%",
	  "gate: exit 1 if METRIC gets worse by more than PCT percent and the change is significant; exit 4 "
	  "(inconclusive) when the data can neither show nor rule out such a regression (repeatable)" },
	{ "format", "text|mmtests|lkp|arch-summary",
	  "table printed on stdout: the suite's own (default), mmtests compare-kernels, the LKP robot's, or the "
	  "headline metrics by arch (a matrix A/B); all four are written to the report directory" },
	{ "note", "TEXT", "a line for the arch summary's header and compare-arch.json (repeatable; ./run.sh ab "
			  "names the arches it skipped this way)" },
	{ "all", NULL, "print every metric (default: the scenario's headline, then what else changed significantly)" },
	{ "mde", "P%",
	  "also print the iterations per side needed to detect a change of P percent; with --sequential the "
	  "equivalence margin (default 10%)" },
	{ "sequential", NULL,
	  "decide a sequential A/B instead of writing the report: each headline metric significant, equivalent "
	  "(within +-mde) or undecided, by a group-sequential design over the iterations so far; exit 0 when all "
	  "are decided, 4 to go on; with --out also writes sequential.txt and sequential.json (docs/report.md)" },
	{ "max-iterations", "N", "--sequential: the design's last look, iterations per side (2 to 100, default 20)" },
	{ "spending", "pocock|obf",
	  "--sequential: alpha spending, Pocock type (default: early looks can decide) or O'Brien-Fleming type" },
	{ "allow-config-diff", NULL,
	  "compare results whose settings differ (refused by default; the differences are printed above the table)" },
	{ "list-metrics", NULL, "list every metric of the catalogue with its unit and direction, and exit" },
	{ "alpha", "A", "significance level, 0 < A < 0.5 (default 0.05)" },
	{ "test", "welch|mwu", "test behind the marks and the gate: Welch's t-test (default) or Mann-Whitney U" },
	{ "no-plots", NULL, "do not run gnuplot (no figures)" },
	{ "gnuplot", "PROG", "gnuplot program to run (default: gnuplot from PATH)" },
	{ "quiet", NULL, "do not print the table on stdout" },
	{ "help", NULL, "this text" },
};

/* ---- small helpers ---------------------------------------------------- */

void *report_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		util_err("out of memory");
		exit(FL_EXIT_FAIL);
	}
	return p;
}

char *report_xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d) {
		util_err("out of memory");
		exit(FL_EXIT_FAIL);
	}
	return d;
}

char *report_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		util_err("out of memory");
		exit(FL_EXIT_FAIL);
	}
	return s;
}

/* Add a copy of str unless s holds it already. */
void report_strs_add(struct report_strs *s, const char *str)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], str))
			return;
	s->v = report_xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->v[s->n++] = report_xstrdup(str);
}

void report_strs_free(struct report_strs *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	*s = (struct report_strs){ 0 };
}

/* "a, b, c" (malloc'd). */
char *report_strs_join(const struct report_strs *s, const char *sep)
{
	size_t len = 1;
	char *out;

	for (size_t i = 0; i < s->n; i++)
		len += strlen(s->v[i]) + strlen(sep);
	out = report_xrealloc(NULL, len);
	out[0] = '\0';
	for (size_t i = 0; i < s->n; i++) {
		if (i)
			strcat(out, sep);
		strcat(out, s->v[i]);
	}
	return out;
}

/* Write data to dir/name atomically: a temporary file, fsync, rename.
 * After a stop signal, nothing: -1 (said once). */
int report_write(const char *dir, const char *name, const char *data, size_t len)
{
	static bool said;
	char *tmp = report_xasprintf("%s/.%s.tmp-%d", dir, name, (int)getpid());
	char *final = report_xasprintf("%s/%s", dir, name);
	int fd = -1, ret = -1;

	if (util_stop_signal) {
		if (!said)
			util_err("interrupted by signal %d: %s/%s and what follows not written", (int)util_stop_signal,
				 dir, name);
		said = true;
		goto exit;
	}

	/* whatever is at the temporary's name is removed, not followed, and
	 * the file is new (a link planted there cannot redirect root's write) */
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		util_err("create %s: %s", tmp, strerror(errno));
		goto exit;
	}
	if (util_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		util_err("write %s: %s", tmp, strerror(errno));
		goto exit;
	}
	if (close(fd) < 0) {
		fd = -1;
		util_err("write %s: %s", tmp, strerror(errno));
		goto exit;
	}
	fd = -1;
	if (rename(tmp, final) < 0) {
		util_err("rename %s to %s: %s", tmp, final, strerror(errno));
		goto exit;
	}
	ret = 0;
exit:
	if (fd >= 0)
		close(fd);
	if (ret < 0)
		unlink(tmp);
	free(tmp);
	free(final);
	return ret;
}

/* A JSON number into *out; false (and *out untouched) if v is none. */
bool report_num(const json_t *v, double *out)
{
	if (!json_is_number(v))
		return false;
	*out = json_number_value(v);
	return true;
}

/* ---- the program ------------------------------------------------------ */

static void report_usage(FILE *out)
{
	fprintf(out,
		"usage: fl-report BASE CAND [CAND...] [options]\n\n"
		"Compares faultline results (schema %s) of a baseline\n"
		"with one or more candidates.  Each argument is a result file, a\n"
		"directory of result files (*.json), or a label, matched against the\n"
		"\"label\" of the results in the results directory, or a comma-separated\n"
		"list of those (one set).  Results are\n"
		"grouped by (scenario, arch); the iterations of one argument are\n"
		"pooled; only iterations with status ok are used.  Every metric is one\n"
		"value per iteration, from the catalogue (--list-metrics): role\n"
		"latencies ROLE.HIST.p50/.p99/.p99.9/.max in us, role rates\n"
		"ROLE.COUNTER_per_s, mmap_lock and per-VMA lock metrics, vmstat, slowfs\n"
		"and PSI ratios.  Metrics a result lacks are left out.\n\n"
		"The table: the scenario's headline metrics (its report.headline)\n"
		"first, each tested on its own, with the minimum detectable effect\n"
		"(mde: the change the test would find 80%% of the time at this noise\n"
		"and iteration count); then the other metrics that changed\n"
		"significantly after a Benjamini-Hochberg false-discovery-rate\n"
		"correction (q < alpha); --all prints every metric.  Results whose\n"
		"settings differ (other than label and iterations) are refused, within\n"
		"and between sets, unless --allow-config-diff.\n\n"
		"Marks: '*' significant at alpha (two-sided Welch's t-test over\n"
		"iterations, or Mann-Whitney U with --test mwu), '~' not significant,\n"
		"'?' n/a: too few iterations (Welch needs >=%d per side, Mann-Whitney\n"
		">=%d).\n\n"
		"Writes into the output directory, each file through a temporary and a\n"
		"rename, and nothing at all on bad input:\n"
		"  compare.txt          the table (<= 72 columns)\n"
		"  compare-mmtests.txt  mmtests compare-kernels layout\n"
		"  compare-lkp.txt      the LKP robot's %%stddev %%change layout\n"
		"  compare-arch.txt, .csv, .json  the headline metrics by arch: per\n"
		"                metric and arch base, cand, change and mark (a\n"
		"                matrix A/B gives one argument per side as a list:\n"
		"                x86_64/a,aarch64/a x86_64/b,aarch64/b)\n"
		"  compare.json  per metric: values per iteration, mean, stddev,\n"
		"                change, interval, p and q, mde, direction, verdict,\n"
		"                each side's config hash\n"
		"  junit.xml     one testcase per metric, a failure where the gate\n"
		"                trips\n"
		"  SCENARIO.ARCH.*.png, .svg  gnuplot figures (latency percentiles\n"
		"                per role, counters, lock decades, time series), with\n"
		"                their .dat and .gp files\n\n"
		"Gate: --fail-on METRIC:PCT%% exits 1 when METRIC changed in its bad\n"
		"direction by more than PCT percent and the change is significant,\n"
		"and 4 (inconclusive) when the (1 - alpha) interval of the change\n"
		"still holds a regression past PCT.\n\n"
		"Exit status: 0 ok, 1 the gate tripped (or writing the report failed),\n"
		"2 bad input (unreadable or invalid result, other schema version, no\n"
		"common (scenario, arch), settings differ, unknown metric in\n"
		"--fail-on, bad option), 3 gnuplot missing (install gnuplot-nox, or\n"
		"pass --no-plots), 4 the gate is inconclusive.\n\n"
		"Sequential A/B (--sequential): judges each headline metric over the\n"
		"iterations so far (in file order: the first n of each side form the look\n"
		"after n pairs) by a group-sequential design with alpha spending,\n"
		"Bonferroni over the headline metrics: significant, equivalent (within\n"
		"+-mde) or undecided.  Exit 0 when every one is decided, 4 to go on.\n\n"
		"Options:\n",
		RESULTS_SCHEMA, STATS_WELCH_MIN_N, STATS_MWU_MIN_N);
	for (size_t i = 0; i < FL_ARRAY_SIZE(report_options); i++) {
		char *line = report_xasprintf("  --%s%s%s", report_options[i].name, report_options[i].arg ? " " : "",
					      report_options[i].arg ? report_options[i].arg : "");
		char *full = report_xasprintf("%-24s %s", line, report_options[i].help);

		text_wrap(out, 25, full);
		free(full);
		free(line);
	}
}

static void report_list_metric(void *ctx, const struct metric *m, double v)
{
	(void)ctx;
	(void)v;
	printf("%-34s %-7s %-8s %-22s %s\n", m->name, metric_kind_names[m->kind], metric_better_names[m->better],
	       m->unit, m->help ? m->help : "");
}

/* --list-metrics: the catalogue (lib/metrics.h). */
static void report_list_metrics(void)
{
	printf("%-34s %-7s %-8s %-22s %s\n", "metric", "kind", "better", "unit", "what");
	metrics_each(report_list_metric, NULL);
}

/* The command line, quoted where needed, for the table's header. */
static char *report_command(int argc, char **argv)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	for (int i = 0; i < argc; i++) {
		const char *a = i ? argv[i] : "fl-report";
		bool plain = a[0] && strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
					       "-_./:%=,+@") == strlen(a);

		fprintf(f, i ? " " : "");
		if (plain)
			fputs(a, f);
		else {
			fputc('\'', f);
			for (const char *p = a; *p; p++)
				fputs(*p == '\'' ? "'\\''" : (char[]){ *p, 0 }, f);
			fputc('\'', f);
		}
	}
	fclose(f);
	return buf;
}

/* The options that belong to --sequential, and those that do not go with
 * it.  0, or -1 after an error message. */
static int report_parse_sequential(struct report_ctx *c)
{
	if (!c->sequential) {
		if (c->max_iterations || c->spending != SEQUENTIAL_POCOCK) {
			util_err("--max-iterations and --spending go with --sequential");
			return -1;
		}
		return 0;
	}
	if (c->nrules || c->use_mwu) {
		util_err("--sequential decides by its own design (Welch's statistic, docs/report.md): not with %s",
			 c->nrules ? "--fail-on" : "--test mwu");
		return -1;
	}
	if (!c->max_iterations)
		c->max_iterations = DECIDE_MAX_ITERATIONS;
	c->plots = false;
	return 0;
}

/* Options into c; 0 to go on, 1 after --help, -1 on a bad option or too few
 * arguments (optind then indexes the first argument). */
static int report_parse(struct report_ctx *c, int argc, char **argv)
{
	struct option longopts[FL_ARRAY_SIZE(report_options) + 1];
	int opt;

	for (size_t i = 0; i < FL_ARRAY_SIZE(report_options); i++)
		longopts[i] = (struct option){ report_options[i].name,
					       report_options[i].arg ? required_argument : no_argument, NULL, (int)i };
	longopts[FL_ARRAY_SIZE(report_options)] = (struct option){ 0 };
	c->rules = report_xrealloc(NULL, (size_t)argc * sizeof(*c->rules));
	c->notes = report_xrealloc(NULL, (size_t)argc * sizeof(*c->notes));
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		const char *name = opt >= 0 && (size_t)opt < FL_ARRAY_SIZE(report_options) ? report_options[opt].name
											  : opt == 'h' ? "help" : "";
		char *end;

		if (!strcmp(name, "help")) {
			report_usage(stdout);
			return 1;
		} else if (!strcmp(name, "out")) {
			c->out_dir = optarg;
		} else if (!strcmp(name, "results")) {
			c->results_dir = optarg;
		} else if (!strcmp(name, "fail-on")) {
			c->rules[c->nrules] = (struct report_rule){ 0 };
			if (compare_parse_rule(&c->rules[c->nrules], optarg) < 0)
				return -1;
			c->nrules++;
		} else if (!strcmp(name, "alpha")) {
			c->alpha = strtod(optarg, &end);
			if (*end || end == optarg || !(c->alpha > 0 && c->alpha < 0.5)) {
				util_err("--alpha '%s': expected a number between 0 and 0.5, e.g. 0.05", optarg);
				return -1;
			}
		} else if (!strcmp(name, "test")) {
			if (!strcmp(optarg, "mwu") || !strcmp(optarg, "mann-whitney"))
				c->use_mwu = true;
			else if (strcmp(optarg, "welch") != 0) {
				util_err("--test '%s': expected welch or mwu", optarg);
				return -1;
			}
		} else if (!strcmp(name, "no-plots")) {
			c->plots = false;
		} else if (!strcmp(name, "gnuplot")) {
			c->gnuplot = optarg;
		} else if (!strcmp(name, "quiet")) {
			c->quiet = true;
		} else if (!strcmp(name, "all")) {
			c->all = true;
		} else if (!strcmp(name, "allow-config-diff")) {
			c->allow_config_diff = true;
		} else if (!strcmp(name, "list-metrics")) {
			report_list_metrics();
			return 1;
		} else if (!strcmp(name, "format")) {
			if (!strcmp(optarg, "text"))
				c->format = REPORT_FORMAT_TEXT;
			else if (!strcmp(optarg, "mmtests"))
				c->format = REPORT_FORMAT_MMTESTS;
			else if (!strcmp(optarg, "lkp"))
				c->format = REPORT_FORMAT_LKP;
			else if (!strcmp(optarg, "arch-summary"))
				c->format = REPORT_FORMAT_ARCH;
			else {
				util_err("--format '%s': expected text, mmtests, lkp or arch-summary", optarg);
				return -1;
			}
		} else if (!strcmp(name, "note")) {
			c->notes[c->nnotes++] = optarg;
		} else if (!strcmp(name, "sequential")) {
			c->sequential = true;
		} else if (!strcmp(name, "max-iterations")) {
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || end == optarg || optarg[0] == '-' || v < STATS_WELCH_MIN_N || v > SEQUENTIAL_MAX_N) {
				util_err("--max-iterations '%s': expected an integer from %d to %d", optarg,
					 STATS_WELCH_MIN_N, SEQUENTIAL_MAX_N);
				return -1;
			}
			c->max_iterations = v;
		} else if (!strcmp(name, "spending")) {
			if (!strcmp(optarg, "pocock"))
				c->spending = SEQUENTIAL_POCOCK;
			else if (!strcmp(optarg, "obf") || !strcmp(optarg, "obrien-fleming"))
				c->spending = SEQUENTIAL_OBF;
			else {
				util_err("--spending '%s': expected pocock or obf", optarg);
				return -1;
			}
		} else if (!strcmp(name, "mde")) {
			c->mde_target = strtod(optarg, &end);
			if (*end == '%')
				end++;
			if (*end || end == optarg || !(c->mde_target > 0 && c->mde_target < 1000)) {
				util_err("--mde '%s': expected a percentage above 0, e.g. 5%%", optarg);
				return -1;
			}
		} else {
			fprintf(stderr, "Try 'fl-report --help'.\n");
			return -1;
		}
	}
	if (argc - optind < 2) {
		util_err("need a baseline and at least one candidate (try --help)");
		return -1;
	}
	return report_parse_sequential(c);
}

/* Load and check everything before anything is written: the sets, the
 * comparisons, the gate's metric names, gnuplot.  FL_EXIT_OK, or the exit
 * status to end with. */
static int report_prepare(struct report_ctx *c, size_t nargs, char **args)
{
	int ret;

	c->nsets = nargs;
	c->sets = report_xrealloc(NULL, c->nsets * sizeof(*c->sets));
	memset(c->sets, 0, c->nsets * sizeof(*c->sets));
	for (size_t s = 0; s < c->nsets; s++)
		if (load_set(&c->sets[s], args[s], s ? "CAND" : "BASE", c->results_dir, c->allow_config_diff) < 0)
			return FL_EXIT_USAGE;
	load_name_sets(c);
	ret = compare_all(c);
	if (ret != FL_EXIT_OK)
		return ret;
	if (compare_gate(c) < 0)
		return FL_EXIT_USAGE;
	if (c->plots && !figures_find_program(c->gnuplot)) {
		util_err("%s not found: install gnuplot-nox (apt-get install gnuplot-nox) or pass --no-plots",
			 c->gnuplot);
		return FL_EXIT_NORESOURCE;
	}
	return FL_EXIT_OK;
}

/* Without --out: report/out/<UTC time>, with a -N suffix if that exists. */
static void report_default_out(struct report_ctx *c)
{
	time_t now = time(NULL);
	struct tm tm;
	char stamp[32];
	struct stat sb;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(c->out_buf, sizeof(c->out_buf), "report/out/%s", stamp);
	for (int n = 2; stat(c->out_buf, &sb) == 0; n++)
		snprintf(c->out_buf, sizeof(c->out_buf), "report/out/%s-%d", stamp, n);
	c->out_dir = c->out_buf;
}

/* One error line per metric where the gate tripped. */
static void report_tripped(const struct report_ctx *c)
{
	for (size_t k = 0; k < c->ncmps; k++)
		for (size_t i = 0; i < c->cmps[k].nrows; i++) {
			const struct report_row *r = &c->cmps[k].rows[i];
			char ch[32];

			if (!r->tripped)
				continue;
			text_fmt_change(ch, sizeof(ch), r->change);
			util_err("gate: %s %s/%s %s vs %s: %s, beyond %g%%, p %.3g < %g", r->m->name,
				 c->cmps[k].gb->scenario, c->cmps[k].gb->arch, c->cmps[k].cand->name,
				 c->cmps[k].base->name, ch, r->threshold, r->decide->p, c->alpha);
		}
}

/* The arch summary (summary.c) into compare-arch.txt, .csv and .json; its
 * text into *text for stdout.  0, or -1 after an error message. */
static int report_write_arch(const struct report_ctx *c, char **text, size_t *text_len)
{
	char *csv = NULL, *js;
	size_t csv_len = 0;
	json_t *doc = summary_json(c);
	int ret = -1;
	FILE *f = open_memstream(text, text_len);

	summary_text(c, f);
	fclose(f);
	f = open_memstream(&csv, &csv_len);
	summary_csv(c, f);
	fclose(f);
	js = json_dumps(doc, JSON_INDENT(1) | JSON_REAL_PRECISION(10));
	if (!js)
		util_err("encoding compare-arch.json failed");
	else if (report_write(c->out_dir, "compare-arch.txt", *text, *text_len) == 0 &&
		 report_write(c->out_dir, "compare-arch.csv", csv, csv_len) == 0 &&
		 report_write(c->out_dir, "compare-arch.json", js, strlen(js)) == 0)
		ret = 0;
	free(js);
	free(csv);
	json_decref(doc);
	return ret;
}

/* Remove the temporaries (.NAME.tmp-PID of report_write, NAME.tmp-PID of
 * gnuplot) that a report SIGKILLed while writing left in dir: regular
 * files of a trusted owner whose PID is gone, never followed
 * (tests/torture.sh: ./run.sh ab killed in its report). */
static void report_reap_temporaries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		const char *t = strstr(de->d_name, ".tmp-");
		struct stat sb;
		char *end;
		long pid;

		if (!t)
			continue;
		pid = strtol(t + 5, &end, 10);
		if (*end || pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH ||
		    fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(sb.st_mode) ||
		    !util_uid_trusted(sb.st_uid))
			continue;
		unlinkat(dirfd(d), de->d_name, 0);
	}
	if (d)
		closedir(d);
}

/* Write the table, compare.json and junit.xml, print the table, make the
 * figures, and tell the gate's verdict.  FL_EXIT_OK, or FL_EXIT_FAIL if
 * the gate tripped or writing failed. */
static int report_outputs(struct report_ctx *c)
{
	char *text = NULL, *json_text = NULL, *junit = NULL, *mmt = NULL, *lkp = NULL, *arch = NULL;
	size_t text_len = 0, junit_len = 0, mmt_len = 0, lkp_len = 0, arch_len = 0;
	json_t *doc = NULL;
	int ret = FL_EXIT_FAIL;
	FILE *f;

	if (!c->out_dir)
		report_default_out(c);
	{
		/* created 0755 when missing; refused when another user could
		 * change it: gnuplot writes its outputs there by name
		 * (docs/security.md) */
		char err[600];
		int dfd = util_dir_open_safe("--out", c->out_dir, UTIL_DIR_CREATE, NULL, 0, err, sizeof(err));

		if (dfd < 0) {
			util_err("%s", err);
			ret = dfd == -2 ? FL_EXIT_USAGE : FL_EXIT_FAIL;
			goto exit;
		}
		close(dfd);
	}
	report_reap_temporaries(c->out_dir);
	f = open_memstream(&text, &text_len);
	text_table(c, f);
	fclose(f);
	f = open_memstream(&mmt, &mmt_len);
	text_mmtests(c, f);
	fclose(f);
	f = open_memstream(&lkp, &lkp_len);
	text_lkp(c, f);
	fclose(f);
	doc = export_json(c);
	json_text = json_dumps(doc, JSON_INDENT(1) | JSON_REAL_PRECISION(10));
	f = open_memstream(&junit, &junit_len);
	export_junit(c, f);
	fclose(f);
	if (!json_text) {
		util_err("encoding compare.json failed");
		goto exit;
	}
	if (report_write(c->out_dir, "compare.txt", text, text_len) < 0 ||
	    report_write(c->out_dir, "compare.json", json_text, strlen(json_text)) < 0 ||
	    report_write(c->out_dir, "junit.xml", junit, junit_len) < 0 ||
	    report_write(c->out_dir, "compare-mmtests.txt", mmt, mmt_len) < 0 ||
	    report_write(c->out_dir, "compare-lkp.txt", lkp, lkp_len) < 0 ||
	    report_write_arch(c, &arch, &arch_len) < 0)
		goto exit;
	if (!c->quiet) {
		if (c->format == REPORT_FORMAT_MMTESTS)
			fwrite(mmt, 1, mmt_len, stdout);
		else if (c->format == REPORT_FORMAT_LKP)
			fwrite(lkp, 1, lkp_len, stdout);
		else if (c->format == REPORT_FORMAT_ARCH)
			fwrite(arch, 1, arch_len, stdout);
		else
			fwrite(text, 1, text_len, stdout);
		fflush(stdout);
	}
	if (c->plots && figures_write(c) < 0)
		goto exit;
	fprintf(stderr, "%s: report in %s\n", util_progname, c->out_dir);
	if (c->tripped) {
		report_tripped(c);
		goto exit;
	}
	if (c->inconclusive) {
		util_err("gate: inconclusive on %zu metric%s: the data can neither show nor rule out a regression past "
			 "the threshold (the table says how many iterations would settle it)",
			 c->inconclusive, c->inconclusive == 1 ? "" : "s");
		ret = REPORT_EXIT_INCONCLUSIVE;
		goto exit;
	}
	ret = FL_EXIT_OK;
exit:
	free(mmt);
	free(lkp);
	free(arch);
	free(text);
	free(json_text);
	free(junit);
	json_decref(doc);
	return ret;
}

static void report_free(struct report_ctx *c)
{
	for (size_t s = 0; s < c->nsets; s++)
		load_free(&c->sets[s]);
	free(c->sets);
	for (size_t k = 0; k < c->ncmps; k++) {
		free(c->cmps[k].rows);
		report_strs_free(&c->cmps[k].config_diff);
	}
	free(c->command);
	free(c->cmps);
	for (size_t j = 0; j < c->nrules; j++)
		free(c->rules[j].metric);
	free(c->rules);
	free(c->notes);
}

int main(int argc, char **argv)
{
	struct report_ctx c = { .alpha = 0.05, .plots = true, .results_dir = "results", .gnuplot = "gnuplot" };
	int ret;

	util_progname = "fl-report";
	/* SIGINT, SIGTERM, SIGHUP: the file being written is finished, gnuplot
	 * is stopped and its temporaries removed, nothing more is written, exit
	 * 1 (report_write, figures_run_gnuplot; tests/torture.sh) */
	util_catch_stop_signals();
	c.command = report_command(argc, argv);
	switch (report_parse(&c, argc, argv)) {
	case 0:
		break;
	case 1:
		ret = FL_EXIT_OK;
		goto exit;
	default:
		ret = FL_EXIT_USAGE;
		goto exit;
	}
	ret = report_prepare(&c, (size_t)(argc - optind), argv + optind);
	if (ret == FL_EXIT_OK)
		ret = c.sequential ? decide_run(&c) : report_outputs(&c);
exit:
	report_free(&c);
	return ret;
}
