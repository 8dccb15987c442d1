/* fl-report: compare faultline result sets (a baseline and candidates) per
 * (scenario, arch): a plain-text table that fits 72 columns, compare.json,
 * junit.xml, gnuplot figures (PNG and SVG), and a CI gate.  docs/report.md
 * describes the usage, the metrics and what the marks mean; `fl-report
 * --help` says the same in short.
 *
 * Flow: options -> load every input (nothing is written on bad input, exit 2)
 * -> group by (scenario, arch) and compute per-iteration metrics -> compare
 * -> check the gate's metric names -> write the outputs (each through a
 * temporary file and rename) -> run gnuplot -> exit 0, or 1 if the gate
 * tripped or writing failed. */
#define _GNU_SOURCE
#include "lib/hist.h"
#include "lib/results.h"
#include "report/stats.h"
#include "lib/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef FL_VERSION
#define FL_VERSION "unknown"
#endif

#define REPORT_WIDTH 72
#define REPORT_SCHEMA "faultline-compare/1"
#define REPORT_GNUPLOT_TIMEOUT_S 120

/* Command-line options: this table drives getopt and --help. */
static const struct report_option {
	const char *name;
	const char *arg; /* NULL: a flag */
	const char *help;
} report_options[] = {
	{ "out", "DIR", "write the report into DIR (created; default report/out/<UTC time>)" },
	{ "results", "DIR", "where LABEL arguments are looked up (default: results)" },
	{ "fail-on", "METRIC:PCT%",
	  "gate: exit 1 if METRIC gets worse by more than PCT percent and the change is significant (repeatable)" },
	{ "alpha", "A", "significance level, 0 < A < 0.5 (default 0.05)" },
	{ "test", "welch|mwu", "test behind the marks and the gate: Welch's t-test (default) or Mann-Whitney U" },
	{ "no-plots", NULL, "do not run gnuplot (no figures)" },
	{ "gnuplot", "PROG", "gnuplot program to run (default: gnuplot from PATH)" },
	{ "quiet", NULL, "do not print the table on stdout" },
	{ "help", NULL, "this text" },
};

enum report_kind { REPORT_LATENCY, REPORT_RATE, REPORT_RATIO, REPORT_NKINDS };

static const struct {
	const char *title, *short_unit;
} report_kinds[REPORT_NKINDS] = {
	[REPORT_LATENCY] = { "Latency, us (lower is better)", "us" },
	[REPORT_RATE] = { "Throughput, per second (higher is better)", "/s" },
	[REPORT_RATIO] = { "Ratios (lower is better)", "" },
};

/* Counters reported per second of measured time, in table order. */
static const struct {
	const char *role, *counter;
} report_rates[] = {
	{ "fault", "touches" }, { "fault", "major_faults" }, { "fault", "minor_faults" },
	{ "writer", "ops" },    { "observer", "reads" },     { "ps", "reads" },
};

/* Roles in display order; others follow alphabetically. */
static const char *const report_role_order[] = { "fault", "writer", "observer", "ps" };

static const struct {
	const char *suffix;
	double p; /* 0: the exact maximum */
} report_lat_stats[] = { { "p50", 50 }, { "p99", 99 }, { "p99.9", 99.9 }, { "max", 0 } };

/* Series plotted per second, when present. */
static const struct {
	const char *key, *title;
} report_series[] = {
	{ "vmstat.pgmajfault", "major faults/s (vmstat pgmajfault)" },
	{ "vmstat.workingset_refault_file", "file refaults/s (vmstat workingset_refault_file)" },
	{ "workload.fault.major_faults", "major faults/s (fault threads)" },
	{ "workload.fault.touches", "touches/s (fault threads)" },
	{ "workload.observer.reads", "/proc reads/s (observer)" },
};

struct report_strs {
	char **v;
	size_t n;
};

struct report_metric {
	char *name;
	enum report_kind kind;
	bool lower_better;
	const char *unit;
	/* sort key */
	int role_rank;
	char *role, *sub;
	int order;
	double *v;
	size_t n, cap;
};

struct report_group { /* one (scenario, arch) of one set */
	char *scenario, *arch;
	const json_t **iters; /* ok iterations, borrowed from the set's docs */
	size_t niters, cap, not_ok;
	struct report_strs kernels, isolations, files, run_ids;
	struct report_metric *metrics;
	size_t nmetrics;
};

struct report_set { /* one argument */
	const char *arg;
	char *name;
	json_t **docs;
	char **paths;
	size_t ndocs;
	struct report_group *groups;
	size_t ngroups;
};

struct report_side {
	const double *v;
	size_t n;
	double mean, sd, cv;
};

struct report_row {
	const struct report_metric *m; /* name, kind, direction */
	struct report_side a, b;
	double change;
	struct stats_test welch, mwu;
	const struct stats_test *decide;
	char mark; /* '*' significant, '~' not, '?' too few */
	const char *verdict;
	double threshold; /* gate; NAN: not gated */
	bool tripped, unjudged;
};

struct report_cmp {
	struct report_set *base, *cand;
	struct report_group *gb, *gc;
	struct report_row *rows;
	size_t nrows;
};

struct report_rule {
	const char *arg;
	char *metric;
	double pct;
	bool known;
};

struct report_ctx {
	double alpha;
	bool use_mwu, plots, quiet;
	const char *out_dir, *results_dir, *gnuplot;
	char out_buf[4096];
	struct report_set *sets;
	size_t nsets;
	struct report_cmp *cmps;
	size_t ncmps;
	struct report_rule *rules;
	size_t nrules;
	size_t tripped;
};

/* ---- small helpers ---------------------------------------------------- */

static void *report_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		util_err("out of memory");
		exit(FL_EXIT_FAIL);
	}
	return p;
}

static char *report_xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d) {
		util_err("out of memory");
		exit(FL_EXIT_FAIL);
	}
	return d;
}

static char *report_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *report_xasprintf(const char *fmt, ...)
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

static void report_strs_add(struct report_strs *s, const char *str)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], str))
			return;
	s->v = report_xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->v[s->n++] = report_xstrdup(str);
}

static void report_strs_free(struct report_strs *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	*s = (struct report_strs){ 0 };
}

/* "a, b, c" (malloc'd). */
static char *report_strs_join(const struct report_strs *s, const char *sep)
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

static json_t *report_strs_json(const struct report_strs *s)
{
	json_t *a = json_array();

	for (size_t i = 0; i < s->n; i++)
		json_array_append_new(a, json_string(s->v[i]));
	return a;
}

/* A copy fit for the text table: printable ASCII only. */
static char *report_printable(const char *s)
{
	char *d = report_xstrdup(s);

	for (char *p = d; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	return d;
}

/* A copy fit for a file name. */
static char *report_fname(const char *s)
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
static void report_gp_str(FILE *f, const char *s)
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

static void report_xml_str(FILE *f, const char *s)
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
static void report_xml_group(FILE *f, const struct report_cmp *cmp, const char *sep, const char *sep2)
{
	report_xml_str(f, cmp->gb->scenario);
	fputs(sep, f);
	report_xml_str(f, cmp->gb->arch);
	fputs(sep2, f);
	report_xml_str(f, cmp->cand->name);
}

static json_t *report_jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *report_jvalues(const double *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, report_jnum(v[i]));
	return a;
}

/* Word-wrap text at REPORT_WIDTH; continuation lines start with indent
 * spaces, the first keeps the text's own leading spaces, and runs of spaces
 * inside a line are kept.  Words longer than a line are cut. */
static void report_wrap(FILE *f, size_t indent, const char *text)
{
	size_t col = 0, gap = 0;
	bool word_on_line = false;
	const char *p = text;

	if (indent > REPORT_WIDTH / 2)
		indent = REPORT_WIDTH / 2;
	while (*p == ' ') {
		fputc(' ', f);
		p++;
		col++;
	}
	while (*p) {
		size_t len = strcspn(p, " ");

		if (word_on_line && col + gap + len > REPORT_WIDTH) {
			fprintf(f, "\n%*s", (int)indent, "");
			col = indent;
			word_on_line = false;
		} else if (word_on_line) {
			fprintf(f, "%*s", (int)gap, "");
			col += gap;
		}
		while (col + len > REPORT_WIDTH) {
			size_t room = REPORT_WIDTH - col;

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

static void report_wrapf(FILE *f, size_t indent, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void report_wrapf(FILE *f, size_t indent, const char *fmt, ...)
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
	clean = report_printable(s);
	report_wrap(f, indent, clean);
	free(clean);
	free(s);
}

/* A number in at most 8 columns, 4 to 5 significant digits. */
static void report_fmt_num(char *buf, size_t len, double v)
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

static void report_fmt_change(char *buf, size_t len, double c)
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

static void report_fmt_cv(char *buf, size_t len, double cv)
{
	if (isnan(cv))
		snprintf(buf, len, "-");
	else if (cv * 100 >= 999.5)
		snprintf(buf, len, ">999");
	else
		snprintf(buf, len, "%.0f%%", cv * 100);
}

static const char *report_test_name(const struct report_ctx *c)
{
	return c->use_mwu ? "Mann-Whitney U" : "Welch's t-test";
}

static int report_test_need(const struct report_ctx *c)
{
	return c->use_mwu ? STATS_MWU_MIN_N : STATS_WELCH_MIN_N;
}

/* Write data to dir/name atomically: a temporary file, fsync, rename. */
static int report_write(const char *dir, const char *name, const char *data, size_t len)
{
	char *tmp = report_xasprintf("%s/.%s.tmp-%d", dir, name, (int)getpid());
	char *final = report_xasprintf("%s/%s", dir, name);
	int fd = -1, ret = -1;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
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

/* ---- loading ---------------------------------------------------------- */

static int report_json_suffix(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 && !strcmp(d->d_name + n - 5, ".json");
}

static int report_add_doc(struct report_set *set, const char *path)
{
	char err[2048];
	json_t *doc = results_load(path, err, sizeof(err));

	if (!doc) {
		util_err("%s", err);
		return -1;
	}
	set->docs = report_xrealloc(set->docs, (set->ndocs + 1) * sizeof(*set->docs));
	set->paths = report_xrealloc(set->paths, (set->ndocs + 1) * sizeof(*set->paths));
	set->docs[set->ndocs] = doc;
	set->paths[set->ndocs] = report_xstrdup(path);
	set->ndocs++;
	return 0;
}

/* Result files of a directory (*.json, sorted by name). */
static int report_load_dir(struct report_set *set, const char *dir, const char *label)
{
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, report_json_suffix, alphasort), ret = -1;

	if (n < 0) {
		util_err("%s: %s", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char *path = report_xasprintf("%s/%s", dir, ents[i]->d_name);
		struct stat sb;

		if (stat(path, &sb) < 0 || !S_ISREG(sb.st_mode)) {
			free(path);
			continue;
		}
		if (label) {
			/* label lookup: only results carrying the label are inputs */
			json_t *raw = json_load_file(path, 0, NULL);
			const char *l = json_string_value(json_object_get(raw, "label"));
			bool match = l && !strcmp(l, label);

			if (!raw)
				fprintf(stderr, "%s: warning: %s is not JSON; skipped while looking for label '%s'\n",
					util_progname, path, label);
			json_decref(raw);
			if (!match) {
				free(path);
				continue;
			}
		}
		if (report_add_doc(set, path) < 0) {
			free(path);
			goto exit;
		}
		free(path);
	}
	ret = 0;
exit:
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return ret;
}

static int report_load_arg(struct report_set *set, const char *arg, const char *role, const char *results_dir)
{
	struct stat sb;

	set->arg = arg;
	if (stat(arg, &sb) == 0) {
		if (S_ISDIR(sb.st_mode)) {
			if (report_load_dir(set, arg, NULL) < 0)
				return -1;
			if (set->ndocs == 0) {
				util_err("%s '%s': the directory holds no result files (*.json)", role, arg);
				return -1;
			}
			return 0;
		}
		return report_add_doc(set, arg);
	}
	if (errno != ENOENT || strchr(arg, '/')) {
		util_err("%s '%s': %s", role, arg, strerror(errno));
		return -1;
	}
	if (stat(results_dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		util_err("%s '%s': no such file, and no results directory %s to look the label up in", role, arg,
			 results_dir);
		return -1;
	}
	if (report_load_dir(set, results_dir, arg) < 0)
		return -1;
	if (set->ndocs == 0) {
		util_err("%s '%s': no such file or directory, and no result in %s has label \"%s\"", role, arg,
			 results_dir, arg);
		return -1;
	}
	return 0;
}

/* ---- metrics ---------------------------------------------------------- */

static int report_role_rank(const char *role)
{
	for (size_t i = 0; i < FL_ARRAY_SIZE(report_role_order); i++)
		if (!strcmp(role, report_role_order[i]))
			return (int)i;
	return (int)FL_ARRAY_SIZE(report_role_order);
}

static int report_metric_cmp(const struct report_metric *x, const struct report_metric *y)
{
	int c;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->role_rank != y->role_rank)
		return x->role_rank < y->role_rank ? -1 : 1;
	if ((c = strcmp(x->role, y->role)))
		return c;
	if ((c = strcmp(x->sub, y->sub)))
		return c;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int report_metric_qcmp(const void *a, const void *b)
{
	return report_metric_cmp(a, b);
}

static void report_metric_add(struct report_group *g, const char *name, enum report_kind kind, bool lower_better,
			      const char *unit, const char *role, const char *sub, int order, double v)
{
	struct report_metric *m = NULL;

	if (!isfinite(v))
		return;
	for (size_t i = 0; i < g->nmetrics; i++)
		if (!strcmp(g->metrics[i].name, name)) {
			m = &g->metrics[i];
			break;
		}
	if (!m) {
		g->metrics = report_xrealloc(g->metrics, (g->nmetrics + 1) * sizeof(*g->metrics));
		m = &g->metrics[g->nmetrics++];
		*m = (struct report_metric){ .name = report_xstrdup(name), .kind = kind, .lower_better = lower_better,
					     .unit = unit, .role_rank = report_role_rank(role),
					     .role = report_xstrdup(role), .sub = report_xstrdup(sub), .order = order };
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 8;
		m->v = report_xrealloc(m->v, m->cap * sizeof(*m->v));
	}
	m->v[m->n++] = v;
}

static bool report_num(const json_t *v, double *out)
{
	if (!json_is_number(v))
		return false;
	*out = json_number_value(v);
	return true;
}

/* The slowfs byte counts of an iteration, wherever the runner records them:
 * iterations[i].slowfs, .probes.slowfs(.delta) or .storage.slowfs. */
static const json_t *report_slowfs(const json_t *it)
{
	const json_t *cands[] = {
		json_object_get(it, "slowfs"),
		json_object_get(json_object_get(json_object_get(it, "probes"), "slowfs"), "delta"),
		json_object_get(json_object_get(it, "probes"), "slowfs"),
		json_object_get(json_object_get(it, "storage"), "slowfs"),
	};

	for (size_t i = 0; i < FL_ARRAY_SIZE(cands); i++)
		if (json_is_number(json_object_get(cands[i], "bytes_served")))
			return cands[i];
	return NULL;
}

/* Every metric of one iteration into g's metrics.  A metric an iteration
 * lacks (no samples, no probe, zero denominator) is left out for it. */
static int report_iter_metrics(struct report_group *g, const json_t *it, const char *path, size_t idx)
{
	const json_t *roles = json_object_get(it, "roles"), *role, *vm, *sfs;
	const char *rname;
	struct hist_sum *hs = malloc(sizeof(*hs));
	double measured = 0, touches = -1, v;
	char name[512], herr[256];
	int ret = -1;

	if (!hs) {
		util_err("out of memory");
		goto exit;
	}
	report_num(json_object_get(it, "measured_s"), &measured);
	json_object_foreach((json_t *)roles, rname, role) {
		const json_t *h;
		const char *hname;

		json_object_foreach(json_object_get(role, "histograms"), hname, h) {
			if (hist_sum_from_json(hs, h, herr, sizeof(herr)) < 0) {
				util_err("%s: iterations[%zu].roles.%s.histograms.%s: %s", path, idx, rname, hname,
					 herr);
				goto exit;
			}
			if (hs->count == 0)
				continue;
			for (size_t k = 0; k < FL_ARRAY_SIZE(report_lat_stats); k++) {
				double ns = report_lat_stats[k].p > 0 ? hist_sum_percentile(hs, report_lat_stats[k].p)
								      : (double)hs->max_ns;

				snprintf(name, sizeof(name), "%s.%s.%s", rname, hname, report_lat_stats[k].suffix);
				report_metric_add(g, name, REPORT_LATENCY, true, "us", rname, hname, (int)k, ns / 1000.0);
			}
		}
	}
	for (size_t k = 0; k < FL_ARRAY_SIZE(report_rates); k++) {
		const json_t *c = json_object_get(
			json_object_get(json_object_get(roles, report_rates[k].role), "counters"), report_rates[k].counter);

		if (!report_num(c, &v) || !(measured > 0))
			continue;
		snprintf(name, sizeof(name), "%s.%s_per_s", report_rates[k].role, report_rates[k].counter);
		report_metric_add(g, name, REPORT_RATE, false, "/s", "", "", (int)k, v / measured);
	}
	report_num(json_object_get(json_object_get(json_object_get(roles, "fault"), "counters"), "touches"), &touches);
	vm = json_object_get(json_object_get(it, "probes"), "vmstat");
	if (json_is_true(json_object_get(vm, "present"))) {
		const json_t *d = json_object_get(vm, "delta");
		double maj, refault;

		if (report_num(json_object_get(d, "pgmajfault"), &maj)) {
			if (touches > 0)
				report_metric_add(g, "vmstat.pgmajfault_per_ktouch", REPORT_RATIO, true,
						  "per 1000 touches", "", "", 0, 1000.0 * maj / touches);
			if (maj > 0 && report_num(json_object_get(d, "workingset_refault_file"), &refault))
				report_metric_add(g, "vmstat.refault_file_per_kmajflt", REPORT_RATIO, true,
						  "per 1000 major faults", "", "", 1, 1000.0 * refault / maj);
		}
	}
	sfs = report_slowfs(it);
	if (sfs) {
		double served = 0, distinct = 0;

		if (report_num(json_object_get(sfs, "bytes_served"), &served) &&
		    report_num(json_object_get(sfs, "distinct_bytes_served"), &distinct) && distinct > 0)
			report_metric_add(g, "slowfs.read_amplification", REPORT_RATIO, true,
					  "bytes served per distinct byte", "", "", 2, served / distinct);
	}
	ret = 0;
exit:
	free(hs);
	return ret;
}

static struct report_group *report_group_get(struct report_set *set, const char *scenario, const char *arch,
					     bool create)
{
	struct report_group *g;

	for (size_t i = 0; i < set->ngroups; i++)
		if (!strcmp(set->groups[i].scenario, scenario) && !strcmp(set->groups[i].arch, arch))
			return &set->groups[i];
	if (!create)
		return NULL;
	set->groups = report_xrealloc(set->groups, (set->ngroups + 1) * sizeof(*set->groups));
	g = &set->groups[set->ngroups++];
	*g = (struct report_group){ .scenario = report_xstrdup(scenario), .arch = report_xstrdup(arch) };
	return g;
}

/* Group a set's iterations by (scenario, arch) and compute their metrics. */
static int report_group_set(struct report_set *set)
{
	struct report_strs labels = { 0 };
	int ret = -1;

	for (size_t d = 0; d < set->ndocs; d++) {
		const json_t *doc = set->docs[d], *env = json_object_get(doc, "environment"), *it;
		const char *scenario = json_string_value(json_object_get(doc, "scenario"));
		const char *arch = json_string_value(json_object_get(env, "arch"));
		const char *iso = json_string_value(json_object_get(env, "isolation"));
		const char *status = json_string_value(json_object_get(doc, "status"));
		struct report_group *g = report_group_get(set, scenario, arch, true);
		size_t i;

		report_strs_add(&labels, json_string_value(json_object_get(doc, "label")));
		report_strs_add(&g->kernels, json_string_value(json_object_get(env, "kernel_release")));
		report_strs_add(&g->isolations, iso ? iso : "unknown");
		report_strs_add(&g->files, set->paths[d]);
		if (json_is_string(json_object_get(doc, "run_id")))
			report_strs_add(&g->run_ids, json_string_value(json_object_get(doc, "run_id")));
		if (strcmp(status, "ok") != 0)
			fprintf(stderr, "%s: warning: %s: status \"%s\"; only its iterations with status ok are used\n",
				util_progname, set->paths[d], status);
		json_array_foreach(json_object_get(doc, "iterations"), i, it) {
			const char *st = json_string_value(json_object_get(it, "status"));

			if (st && strcmp(st, "ok") != 0) {
				g->not_ok++;
				continue;
			}
			if (g->niters == g->cap) {
				g->cap = g->cap ? 2 * g->cap : 8;
				g->iters = report_xrealloc(g->iters, g->cap * sizeof(*g->iters));
			}
			g->iters[g->niters++] = it;
			if (report_iter_metrics(g, it, set->paths[d], i) < 0)
				goto exit;
		}
	}
	for (size_t i = 0; i < set->ngroups; i++)
		qsort(set->groups[i].metrics, set->groups[i].nmetrics, sizeof(struct report_metric), report_metric_qcmp);
	if (labels.n == 1 && labels.v[0][0])
		set->name = report_xstrdup(labels.v[0]);
	else {
		set->name = report_xstrdup(set->arg);
		if (labels.n > 1) {
			char *all = report_strs_join(&labels, ", ");

			fprintf(stderr, "%s: warning: '%s' holds results of several labels (%s); pooled as one set\n",
				util_progname, set->arg, all);
			free(all);
		}
	}
	ret = 0;
exit:
	report_strs_free(&labels);
	return ret;
}

/* Distinct display names: a label shared by two arguments falls back to the
 * argument's last path component, then to that with a numbered suffix. */
static void report_name_sets(struct report_ctx *c)
{
	for (size_t i = 1; i < c->nsets; i++) {
		for (int round = 0; round < 2; round++) {
			bool clash = false;

			for (size_t j = 0; j < i; j++)
				clash |= !strcmp(c->sets[i].name, c->sets[j].name);
			if (!clash)
				break;
			const char *base = strrchr(c->sets[i].arg, '/');

			base = base && base[1] ? base + 1 : c->sets[i].arg;
			free(c->sets[i].name);
			c->sets[i].name = round == 0 ? report_xstrdup(base) : report_xasprintf("%s#%zu", base, i);
		}
	}
}

/* ---- comparison ------------------------------------------------------- */

static void report_side_init(struct report_side *s, const struct report_metric *m)
{
	s->v = m ? m->v : NULL;
	s->n = m ? m->n : 0;
	s->mean = s->n ? stats_mean(s->v, s->n) : NAN;
	s->sd = s->n >= 2 ? stats_stddev(s->v, s->n) : NAN;
	s->cv = stats_cv(s->v, s->n);
}

static const struct report_metric *report_find_metric(const struct report_group *g, const char *name)
{
	for (size_t i = 0; i < g->nmetrics; i++)
		if (!strcmp(g->metrics[i].name, name))
			return &g->metrics[i];
	return NULL;
}

static int report_row_cmp(const void *a, const void *b)
{
	return report_metric_cmp(((const struct report_row *)a)->m, ((const struct report_row *)b)->m);
}

static int report_compare(struct report_ctx *c, struct report_cmp *cmp)
{
	const struct report_group *gb = cmp->gb, *gc = cmp->gc;
	size_t cap = gb->nmetrics + gc->nmetrics;

	cmp->rows = report_xrealloc(NULL, cap * sizeof(*cmp->rows));
	cmp->nrows = 0;
	for (size_t pass = 0; pass < 2; pass++) {
		const struct report_group *g = pass ? gc : gb;

		for (size_t i = 0; i < g->nmetrics; i++) {
			const struct report_metric *m = &g->metrics[i];
			struct report_row *r;

			if (pass && report_find_metric(gb, m->name))
				continue;
			r = &cmp->rows[cmp->nrows++];
			*r = (struct report_row){ .m = m, .threshold = NAN };
			report_side_init(&r->a, report_find_metric(gb, m->name));
			report_side_init(&r->b, report_find_metric(gc, m->name));
			r->change = stats_pct_change(r->a.mean, r->b.mean);
			stats_welch(r->a.v, r->a.n, r->b.v, r->b.n, &r->welch);
			if (stats_mwu(r->a.v, r->a.n, r->b.v, r->b.n, &r->mwu) < 0) {
				util_err("out of memory");
				return -1;
			}
			r->decide = c->use_mwu ? &r->mwu : &r->welch;
			if (!r->decide->ok) {
				r->mark = '?';
				r->verdict = "n/a";
			} else if (r->decide->p < c->alpha) {
				bool worse = m->lower_better ? r->b.mean > r->a.mean : r->b.mean < r->a.mean;

				r->mark = '*';
				r->verdict = r->b.mean == r->a.mean ? "not significant" : worse ? "worse" : "better";
			} else {
				r->mark = '~';
				r->verdict = "not significant";
			}
		}
	}
	qsort(cmp->rows, cmp->nrows, sizeof(*cmp->rows), report_row_cmp);
	return 0;
}

/* Parse METRIC:PCT or METRIC:PCT%. */
static int report_parse_rule(struct report_rule *r, const char *arg)
{
	const char *colon = strrchr(arg, ':');
	char *end;

	r->arg = arg;
	if (!colon || colon == arg) {
		util_err("--fail-on '%s': expected METRIC:PERCENT, e.g. fault.major.p99:5%%", arg);
		return -1;
	}
	errno = 0;
	r->pct = strtod(colon + 1, &end);
	if (*end == '%')
		end++;
	if (errno || end == colon + 1 || *end || !(r->pct >= 0) || !isfinite(r->pct)) {
		util_err("--fail-on '%s': threshold '%s' is not a non-negative percentage", arg, colon + 1);
		return -1;
	}
	r->metric = report_xasprintf("%.*s", (int)(colon - arg), arg);
	return 0;
}

/* Apply the gate: mark the rows it covers; count those that tripped. */
static void report_gate(struct report_ctx *c)
{
	for (size_t k = 0; k < c->ncmps; k++)
		for (size_t i = 0; i < c->cmps[k].nrows; i++) {
			struct report_row *r = &c->cmps[k].rows[i];

			for (size_t j = 0; j < c->nrules; j++) {
				double bad;

				if (strcmp(c->rules[j].metric, r->m->name) != 0)
					continue;
				c->rules[j].known = true;
				/* the strictest rule on a metric wins */
				if (!isnan(r->threshold) && r->threshold <= c->rules[j].pct)
					continue;
				r->threshold = c->rules[j].pct;
				bad = r->m->lower_better ? r->change : -r->change;
				r->unjudged = !r->decide->ok || isnan(r->change);
				r->tripped = !r->unjudged && r->decide->p < c->alpha && bad > r->threshold;
			}
			if (r->tripped)
				c->tripped++;
		}
}

/* ---- text ------------------------------------------------------------- */

static void report_text_cmp(const struct report_ctx *c, const struct report_cmp *cmp, FILE *f)
{
	const struct report_group *sides[2] = { cmp->gb, cmp->gc };
	const struct report_set *sets[2] = { cmp->base, cmp->cand };
	char *head[2];
	int kind = -1;
	bool any_gate = false;

	for (int s = 0; s < 2; s++) {
		char *name = report_printable(sets[s]->name);

		head[s] = strlen(name) <= 8 ? name : report_xstrdup(s ? "cand" : "base");
		if (head[s] != name)
			free(name);
	}
	report_wrapf(f, 2, "faultline compare: scenario %s, arch %s", cmp->gb->scenario, cmp->gb->arch);
	for (int s = 0; s < 2; s++) {
		const struct report_group *g = sides[s];
		char *iso = report_strs_join(&g->isolations, "/"), *kern = report_strs_join(&g->kernels, ", ");
		char notok[64] = "";

		if (g->not_ok)
			snprintf(notok, sizeof(notok), " (+%zu not ok, left out)", g->not_ok);
		report_wrapf(f, 8, "  %s %s: %zu iteration%s%s, isolation %s, kernel %s", s ? "cand" : "base",
			     sets[s]->name, g->niters, g->niters == 1 ? "" : "s", notok, iso, kern);
		free(iso);
		free(kern);
	}
	report_wrapf(f, 2, "  test: %s over iterations, two-sided, alpha %g", report_test_name(c), c->alpha);
	fputc('\n', f);
	fprintf(f, "%-31s %8s %4s %8s %4s %8s\n", "metric", head[0], "cv%", head[1], "cv%", "change");
	for (size_t i = 0; i < cmp->nrows; i++) {
		const struct report_row *r = &cmp->rows[i];
		char ma[32], mb[32], ca[16], cb[16], ch[32], *name = report_printable(r->m->name);

		if ((int)r->m->kind != kind) {
			kind = (int)r->m->kind;
			fprintf(f, "%s\n", report_kinds[kind].title);
		}
		report_fmt_num(ma, sizeof(ma), r->a.mean);
		report_fmt_num(mb, sizeof(mb), r->b.mean);
		report_fmt_cv(ca, sizeof(ca), r->a.cv);
		report_fmt_cv(cb, sizeof(cb), r->b.cv);
		report_fmt_change(ch, sizeof(ch), r->change);
		if (strlen(name) > 31) {
			report_wrap(f, 2, name);
			name[0] = '\0';
		}
		fprintf(f, "%-31s %8s %4s %8s %4s %8s %c\n", name, ma, ca, mb, cb, ch, r->mark);
		any_gate |= !isnan(r->threshold);
		free(name);
	}
	fputc('\n', f);
	report_wrapf(f, 2, "* significant: %s, two-sided p < %g", report_test_name(c), c->alpha);
	report_wrapf(f, 2, "~ not significant");
	report_wrapf(f, 2, "? n/a (need >=%d iterations per side)", report_test_need(c));
	report_wrapf(f, 2, "values are means over iterations; cv%% = sample stddev / mean;");
	report_wrapf(f, 2, "change = (cand - base) / base");
	if (any_gate) {
		fputc('\n', f);
		for (size_t i = 0; i < cmp->nrows; i++) {
			const struct report_row *r = &cmp->rows[i];
			char ch[32];

			if (isnan(r->threshold))
				continue;
			report_fmt_change(ch, sizeof(ch), r->change);
			if (r->unjudged)
				report_wrapf(f, 4, "gate %s (trips if %s > %g%%): not judged, n/a (need >=%d iterations per side)",
					     r->m->name, r->m->lower_better ? "up" : "down", r->threshold,
					     report_test_need(c));
			else
				report_wrapf(f, 4, "gate %s (trips if %s > %g%%): %s, change %s, p %.3g", r->m->name,
					     r->m->lower_better ? "up" : "down", r->threshold,
					     r->tripped ? "TRIPPED" : "ok", ch, r->decide->p);
		}
	}
	free(head[0]);
	free(head[1]);
}

/* ---- JSON and JUnit ----------------------------------------------------- */

static json_t *report_json_test(const struct stats_test *t)
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
			    isinf(t->stat) ? json_string(t->stat > 0 ? "inf" : "-inf") : report_jnum(t->stat));
	if (!isnan(t->df))
		json_object_set_new(o, "df", report_jnum(t->df));
	if (!isnan(t->z))
		json_object_set_new(o, "z", report_jnum(t->z));
	json_object_set_new(o, "p", report_jnum(t->p));
	return o;
}

static json_t *report_json_side(const struct report_side *s)
{
	json_t *o = json_object();

	json_object_set_new(o, "n", json_integer((json_int_t)s->n));
	json_object_set_new(o, "values", report_jvalues(s->v, s->n));
	json_object_set_new(o, "mean", report_jnum(s->mean));
	json_object_set_new(o, "stddev", report_jnum(s->sd));
	json_object_set_new(o, "cv", report_jnum(s->cv));
	return o;
}

static json_t *report_json_group(const struct report_set *set, const struct report_group *g)
{
	json_t *o = json_object();

	json_object_set_new(o, "name", json_string(set->name));
	json_object_set_new(o, "argument", json_string(set->arg));
	json_object_set_new(o, "iterations", json_integer((json_int_t)g->niters));
	json_object_set_new(o, "iterations_not_ok", json_integer((json_int_t)g->not_ok));
	json_object_set_new(o, "kernel_releases", report_strs_json(&g->kernels));
	json_object_set_new(o, "isolation", report_strs_json(&g->isolations));
	json_object_set_new(o, "files", report_strs_json(&g->files));
	json_object_set_new(o, "run_ids", report_strs_json(&g->run_ids));
	return o;
}

static json_t *report_json(const struct report_ctx *c)
{
	json_t *doc = json_object(), *cmps = json_array(), *gate = json_object(), *rules = json_array();

	json_object_set_new(doc, "schema", json_string(REPORT_SCHEMA));
	json_object_set_new(doc, "generator", json_string("fl-report " FL_VERSION));
	json_object_set_new(doc, "alpha", json_real(c->alpha));
	json_object_set_new(doc, "test", json_string(c->use_mwu ? "mann-whitney" : "welch"));
	json_object_set_new(doc, "min_iterations_per_side", json_integer(report_test_need(c)));
	for (size_t k = 0; k < c->ncmps; k++) {
		const struct report_cmp *cmp = &c->cmps[k];
		json_t *o = json_object(), *metrics = json_array();

		json_object_set_new(o, "scenario", json_string(cmp->gb->scenario));
		json_object_set_new(o, "arch", json_string(cmp->gb->arch));
		json_object_set_new(o, "baseline", report_json_group(cmp->base, cmp->gb));
		json_object_set_new(o, "candidate", report_json_group(cmp->cand, cmp->gc));
		for (size_t i = 0; i < cmp->nrows; i++) {
			const struct report_row *r = &cmp->rows[i];
			json_t *m = json_object();

			json_object_set_new(m, "name", json_string(r->m->name));
			json_object_set_new(m, "kind", json_string(r->m->kind == REPORT_LATENCY ? "latency"
								   : r->m->kind == REPORT_RATE	   ? "throughput"
												   : "ratio"));
			json_object_set_new(m, "unit", json_string(r->m->unit));
			json_object_set_new(m, "direction",
					    json_string(r->m->lower_better ? "lower_is_better" : "higher_is_better"));
			json_object_set_new(m, "baseline", report_json_side(&r->a));
			json_object_set_new(m, "candidate", report_json_side(&r->b));
			json_object_set_new(m, "change_pct", report_jnum(r->change));
			if (isinf(r->change))
				json_object_set_new(m, "change_note", json_string("baseline mean is 0"));
			json_object_set_new(m, "welch", report_json_test(&r->welch));
			json_object_set_new(m, "mann_whitney", report_json_test(&r->mwu));
			json_object_set_new(m, "significant", r->decide->ok ? json_boolean(r->decide->p < c->alpha)
									 : json_null());
			json_object_set_new(m, "mark", json_stringn(&r->mark, 1));
			json_object_set_new(m, "verdict", json_string(r->verdict));
			if (!isnan(r->threshold)) {
				json_t *g = json_object();

				json_object_set_new(g, "threshold_pct", json_real(r->threshold));
				json_object_set_new(g, "tripped", json_boolean(r->tripped));
				json_object_set_new(g, "judged", json_boolean(!r->unjudged));
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
	json_object_set_new(gate, "exit_status", json_integer(c->tripped ? FL_EXIT_FAIL : FL_EXIT_OK));
	json_object_set_new(doc, "gate", gate);
	return doc;
}

static void report_junit(const struct report_ctx *c, FILE *f)
{
	size_t tests = 0, fails = 0, skips = 0;

	for (size_t k = 0; k < c->ncmps; k++)
		for (size_t i = 0; i < c->cmps[k].nrows; i++) {
			tests++;
			fails += c->cmps[k].rows[i].tripped;
			skips += !isnan(c->cmps[k].rows[i].threshold) && c->cmps[k].rows[i].unjudged;
		}
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(f, "<testsuites name=\"fl-report\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\">\n", tests,
		fails, skips);
	for (size_t k = 0; k < c->ncmps; k++) {
		const struct report_cmp *cmp = &c->cmps[k];
		size_t sf = 0, ss = 0;

		for (size_t i = 0; i < cmp->nrows; i++) {
			sf += cmp->rows[i].tripped;
			ss += !isnan(cmp->rows[i].threshold) && cmp->rows[i].unjudged;
		}
		fprintf(f, "  <testsuite name=\"");
		report_xml_group(f, cmp, "/", ": ");
		fputs(" vs ", f);
		report_xml_str(f, cmp->base->name);
		fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\">\n", cmp->nrows, sf, ss);
		fprintf(f, "    <properties>\n      <property name=\"alpha\" value=\"%g\"/>\n", c->alpha);
		fprintf(f, "      <property name=\"test\" value=\"%s\"/>\n    </properties>\n",
			c->use_mwu ? "mann-whitney" : "welch");
		for (size_t i = 0; i < cmp->nrows; i++) {
			const struct report_row *r = &cmp->rows[i];
			char ma[32], mb[32], ch[32];

			report_fmt_num(ma, sizeof(ma), r->a.mean);
			report_fmt_num(mb, sizeof(mb), r->b.mean);
			report_fmt_change(ch, sizeof(ch), r->change);
			fputs("    <testcase classname=\"", f);
			report_xml_group(f, cmp, ".", ".");
			fputs("\" name=\"", f);
			report_xml_str(f, r->m->name);
			fputs("\">\n", f);
			if (r->tripped) {
				fprintf(f, "      <failure type=\"regression\" message=\"");
				report_xml_str(f, r->m->name);
				fprintf(f, " %s %s, beyond %g%%, p %.3g &lt; alpha %g\">", r->m->lower_better ? "up" : "down",
					ch, r->threshold, r->decide->p, c->alpha);
				fprintf(f, "baseline mean %s, candidate mean %s (%s)</failure>\n", ma, mb, r->m->unit);
			} else if (!isnan(r->threshold) && r->unjudged) {
				fprintf(f, "      <skipped message=\"n/a (need &gt;=%d iterations per side)\"/>\n",
					report_test_need(c));
			}
			fprintf(f, "      <system-out>baseline %s, candidate %s %s, change %s, %s</system-out>\n", ma,
				mb, r->m->unit, ch, r->verdict);
			fputs("    </testcase>\n", f);
		}
		fputs("  </testsuite>\n", f);
	}
	fputs("</testsuites>\n", f);
}

/* ---- figures ---------------------------------------------------------- */

struct report_fig_member {
	const struct report_set *set;
	const struct report_group *g;
};

struct report_figs {
	FILE *dat, *gp;
	char *dat_buf, *gp_buf;
	size_t dat_len, gp_len;
	char *stem, *dat_name;
	int blocks;
	struct report_strs outputs;
};

static void report_dat_block(struct report_figs *fg, const char *comment)
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
static void report_fig_emit(struct report_figs *fg, const char *name, int w, int h, const char *body)
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

static void report_layout(int n, int *rows, int *cols)
{
	*cols = n < 3 ? n : 3;
	*rows = (n + *cols - 1) / *cols;
}

/* Latency percentile curves, one figure per role, one panel per histogram,
 * one line per set (pooled over its iterations) on a "nines" axis:
 * x = -log10(1 - p/100), so 50 -> 0.3, 90 -> 1, 99 -> 2, 99.9 -> 3. */
static int report_fig_latency(struct report_figs *fg, const struct report_fig_member *mem, size_t nmem)
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
			if (mem[m].g->metrics[i].kind == REPORT_LATENCY)
				report_strs_add(&roles, mem[m].g->metrics[i].role);
	for (size_t r = 0; r < roles.n; r++) {
		char *panels_buf = NULL, *full = NULL, *title, *fname;
		size_t panels_len = 0, full_len = 0;
		FILE *pf = open_memstream(&panels_buf, &panels_len), *ff;
		int panels = 0, rows, cols;

		report_strs_free(&hists);
		for (size_t m = 0; m < nmem; m++)
			for (size_t i = 0; i < mem[m].g->nmetrics; i++)
				if (mem[m].g->metrics[i].kind == REPORT_LATENCY &&
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
				report_dat_block(fg, comment);
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
				report_gp_str(p, mem[m].set->name);
				first = false;
			}
			fclose(p);
			if (!first) { /* a panel only where some set has samples */
				fprintf(pf, "set title ");
				title = report_xasprintf("%s.%s", roles.v[r], hists.v[h]);
				report_gp_str(pf, title);
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
		report_layout(panels, &rows, &cols);
		ff = open_memstream(&full, &full_len);
		fprintf(ff, "set multiplot layout %d,%d title ", rows, cols);
		title = report_xasprintf("%s on %s: %s latency percentiles (pooled iterations)", mem[0].g->scenario,
					 mem[0].g->arch, roles.v[r]);
		report_gp_str(ff, title);
		free(title);
		fprintf(ff, "\nset logscale y\nset format y '%%g'\nset xrange [0.30103:4]\n"
			    "set xtics ('50' 0.30103, '90' 1, '99' 2, '99.9' 3, '99.99' 4)\n"
			    "set xlabel 'percentile'\nset ylabel 'latency (us)'\nset grid\nset key top left\n%s",
			panels_buf);
		fclose(ff);
		fname = report_xasprintf("latency-%s", roles.v[r]);
		{
			char *safe = report_fname(fname);

			report_fig_emit(fg, safe, 520 * cols, 400 * rows, full);
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
static void report_fig_counters(struct report_figs *fg, const struct report_fig_member *mem, size_t nmem)
{
	struct report_strs names = { 0 };
	char *body = NULL;
	size_t blen = 0;
	FILE *b = open_memstream(&body, &blen);
	int rows, cols;

	for (size_t m = 0; m < nmem; m++)
		for (size_t i = 0; i < mem[m].g->nmetrics; i++)
			if (mem[m].g->metrics[i].kind != REPORT_LATENCY)
				report_strs_add(&names, mem[m].g->metrics[i].name);
	if (names.n == 0) {
		fclose(b);
		free(body);
		return;
	}
	report_layout((int)names.n, &rows, &cols);
	fprintf(b, "set multiplot layout %d,%d title ", rows, cols);
	{
		char *title = report_xasprintf("%s on %s: counters (mean over iterations, error bar = stddev)",
					       mem[0].g->scenario, mem[0].g->arch);

		report_gp_str(b, title);
		free(title);
	}
	fprintf(b, "\nset style fill solid 0.5 border -1\nset boxwidth 0.6\nset grid ytics\n"
		   "set xrange [-0.6:%zu.6]\nset format y '%%g'\nset xtics (", nmem - 1);
	for (size_t m = 0; m < nmem; m++) {
		fprintf(b, "%s", m ? ", " : "");
		report_gp_str(b, mem[m].set->name);
		fprintf(b, " %zu", m);
	}
	fprintf(b, ")\n");
	for (size_t k = 0; k < names.n; k++) {
		const struct report_metric *meta = NULL;
		double ymax = 0;
		bool first = true;
		char *title;

		for (size_t m = 0; m < nmem && !meta; m++)
			meta = report_find_metric(mem[m].g, names.v[k]);
		for (size_t m = 0; m < nmem; m++) {
			const struct report_metric *x = report_find_metric(mem[m].g, names.v[k]);

			if (x && x->n) {
				double mean = stats_mean(x->v, x->n), sd = stats_stddev(x->v, x->n);

				ymax = fmax(ymax, mean + sd);
			}
		}
		title = report_xasprintf("(%s, %s)", meta->unit, meta->lower_better ? "lower is better" : "higher is better");
		fprintf(b, "set title ");
		report_gp_str(b, names.v[k]);
		fprintf(b, ".\"\\n\".");
		report_gp_str(b, title);
		free(title);
		fprintf(b, "\nset yrange [0:%.9g]\nplot ", ymax > 0 ? ymax * 1.15 : 1.0);
		for (size_t m = 0; m < nmem; m++) {
			const struct report_metric *x = report_find_metric(mem[m].g, names.v[k]);
			char *comment;

			if (!x || !x->n)
				continue;
			comment = report_xasprintf("%s %s: x mean stddev n", names.v[k], mem[m].set->name);
			report_dat_block(fg, comment);
			free(comment);
			fprintf(fg->dat, "%zu %.9g %.9g %zu\n", m, stats_mean(x->v, x->n), stats_stddev(x->v, x->n), x->n);
			fprintf(b, "%s'%s' index %d using 1:2:3 with boxerrorbars lc %zu notitle", first ? "" : ", ",
				fg->dat_name, fg->blocks - 1, m + 1);
			first = false;
		}
		fprintf(b, "\n");
	}
	fclose(b);
	report_fig_emit(fg, "counters", 460 * cols, 340 * rows, body);
	free(body);
	report_strs_free(&names);
}

/* Per-second time series (mean over iterations at each sample), one panel
 * per series, one line per set. */
static void report_fig_series(struct report_figs *fg, const struct report_fig_member *mem, size_t nmem)
{
	char *body = NULL;
	size_t blen = 0;
	FILE *b = open_memstream(&body, &blen);
	int panels = 0, rows, cols;
	bool present[FL_ARRAY_SIZE(report_series)] = { false };

	for (size_t k = 0; k < FL_ARRAY_SIZE(report_series); k++)
		for (size_t m = 0; m < nmem; m++)
			for (size_t i = 0; i < mem[m].g->niters; i++) {
				const json_t *s = json_object_get(mem[m].g->iters[i], "series");

				if (json_array_size(json_object_get(s, report_series[k].key)) > 1 &&
				    json_array_size(json_object_get(s, "t_s")) > 1)
					present[k] = true;
			}
	for (size_t k = 0; k < FL_ARRAY_SIZE(report_series); k++)
		panels += present[k];
	if (panels == 0) {
		fclose(b);
		free(body);
		return;
	}
	report_layout(panels, &rows, &cols);
	fprintf(b, "set multiplot layout %d,%d title ", rows, cols);
	{
		char *title = report_xasprintf("%s on %s: per second, mean over iterations", mem[0].g->scenario,
					       mem[0].g->arch);

		report_gp_str(b, title);
		free(title);
	}
	fprintf(b, "\nset xlabel 'time (s)'\nset grid\nset key top right\nset format y '%%g'\n");
	for (size_t k = 0; k < FL_ARRAY_SIZE(report_series); k++) {
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
					const json_t *t = json_object_get(s, "t_s"), *v = json_object_get(s, report_series[k].key);
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
					comment = report_xasprintf("%s %s: t_s per_s (mean of iterations)", report_series[k].key,
								   mem[m].set->name);
					report_dat_block(fg, comment);
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
			report_gp_str(p, mem[m].set->name);
			first = false;
		}
		fclose(p);
		fprintf(b, "set title ");
		report_gp_str(b, report_series[k].title);
		fprintf(b, "\nset yrange [0:%.9g]\nplot %s\n", ymax > 0 ? ymax * 1.15 : 1.0, pl);
		free(pl);
	}
	fclose(b);
	report_fig_emit(fg, "series", 480 * cols, 340 * rows, body);
	free(body);
}

/* Is prog runnable: a path, or a name found in PATH? */
static bool report_find_program(const char *prog)
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

/* Run gnuplot on script in dir; outputs go to NAME.sfx and are renamed to
 * NAME on success.  Fails on a non-zero exit, an "error" on stderr or a
 * missing or empty output. */
static int report_run_gnuplot(const struct report_ctx *c, const char *script, const struct report_strs *outputs)
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
		alarm(REPORT_GNUPLOT_TIMEOUT_S); /* survives exec: a hung gnuplot gets SIGALRM */
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

		if (n < 0 && errno == EINTR)
			continue;
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

/* The figure set of one (scenario, arch): data file, script, gnuplot. */
static int report_figures_group(const struct report_ctx *c, const struct report_fig_member *mem, size_t nmem)
{
	struct report_figs fg = { 0 };
	char *scen = report_fname(mem[0].g->scenario), *arch = report_fname(mem[0].g->arch), *script = NULL;
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
	if (report_fig_latency(&fg, mem, nmem) < 0)
		goto exit;
	report_fig_counters(&fg, mem, nmem);
	report_fig_series(&fg, mem, nmem);
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
	ret = report_run_gnuplot(c, script, &fg.outputs);
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

static int report_figures(const struct report_ctx *c)
{
	const struct report_set *base = &c->sets[0];
	struct report_fig_member *mem = report_xrealloc(NULL, c->nsets * sizeof(*mem));
	int ret = 0;

	for (size_t gi = 0; gi < base->ngroups; gi++) {
		const struct report_group *g = &base->groups[gi];
		size_t n = 0;

		for (size_t s = 0; s < c->nsets; s++) {
			const struct report_group *x = report_group_get(&c->sets[s], g->scenario, g->arch, false);

			if (x && x->niters)
				mem[n++] = (struct report_fig_member){ &c->sets[s], x };
		}
		if (n < 2 || mem[0].set != base)
			continue;
		if (report_figures_group(c, mem, n) < 0)
			ret = -1;
	}
	free(mem);
	return ret;
}

/* ---- main ------------------------------------------------------------- */

static void report_usage(FILE *out)
{
	fprintf(out,
		"usage: fl-report BASE CAND [CAND...] [options]\n\n"
		"Compares faultline results (schema %s) of a baseline\n"
		"with one or more candidates.  Each argument is a result file, a\n"
		"directory of result files (*.json), or a label, matched against the\n"
		"\"label\" of the results in the results directory.  Results are\n"
		"grouped by (scenario, arch); the iterations of one argument are\n"
		"pooled; only iterations with status ok are used.  Every metric is one\n"
		"value per iteration:\n"
		"  ROLE.HIST.p50, .p99, .p99.9, .max  latency, us (lower is better)\n"
		"  ROLE.COUNTER_per_s                 per second (higher is better):\n"
		"      fault.touches, fault.major_faults, fault.minor_faults,\n"
		"      writer.ops, observer.reads, ps.reads\n"
		"  vmstat.pgmajfault_per_ktouch       major faults per 1000 touches\n"
		"  vmstat.refault_file_per_kmajflt    file refaults per 1000 major\n"
		"                                     faults\n"
		"  slowfs.read_amplification          bytes served per distinct byte\n"
		"(the last three: lower is better).  Metrics a result lacks are left\n"
		"out.\n\n"
		"Marks: '*' significant at alpha (two-sided Welch's t-test over\n"
		"iterations, or Mann-Whitney U with --test mwu), '~' not significant,\n"
		"'?' n/a: too few iterations (Welch needs >=%d per side, Mann-Whitney\n"
		">=%d).\n\n"
		"Writes into the output directory, each file through a temporary and a\n"
		"rename, and nothing at all on bad input:\n"
		"  compare.txt   the table (<= 72 columns), also printed on stdout\n"
		"  compare.json  per metric: values per iteration, mean, stddev,\n"
		"                change, p-values of both tests, direction, verdict\n"
		"  junit.xml     one testcase per metric, a failure where the gate\n"
		"                trips\n"
		"  SCENARIO.ARCH.*.png, .svg  gnuplot figures (latency percentiles\n"
		"                per role, counters, time series), with their .dat\n"
		"                and .gp files\n\n"
		"Gate: --fail-on METRIC:PCT%% exits 1 when METRIC changed in its bad\n"
		"direction by more than PCT percent and the change is significant.\n\n"
		"Exit status: 0 ok, 1 the gate tripped (or writing the report failed),\n"
		"2 bad input (unreadable or invalid result, other schema version, no\n"
		"common (scenario, arch), unknown metric in --fail-on, bad option),\n"
		"3 gnuplot missing (install gnuplot-nox, or pass --no-plots).\n\n"
		"Options:\n",
		RESULTS_SCHEMA, STATS_WELCH_MIN_N, STATS_MWU_MIN_N);
	for (size_t i = 0; i < FL_ARRAY_SIZE(report_options); i++) {
		char *line = report_xasprintf("  --%s%s%s", report_options[i].name, report_options[i].arg ? " " : "",
					      report_options[i].arg ? report_options[i].arg : "");
		char *full = report_xasprintf("%-24s %s", line, report_options[i].help);

		report_wrap(out, 25, full);
		free(full);
		free(line);
	}
}

static void report_free(struct report_ctx *c)
{
	for (size_t s = 0; s < c->nsets; s++) {
		struct report_set *set = &c->sets[s];

		for (size_t g = 0; g < set->ngroups; g++) {
			struct report_group *gr = &set->groups[g];

			for (size_t m = 0; m < gr->nmetrics; m++) {
				free(gr->metrics[m].name);
				free(gr->metrics[m].role);
				free(gr->metrics[m].sub);
				free(gr->metrics[m].v);
			}
			free(gr->metrics);
			free(gr->iters);
			free(gr->scenario);
			free(gr->arch);
			report_strs_free(&gr->kernels);
			report_strs_free(&gr->isolations);
			report_strs_free(&gr->files);
			report_strs_free(&gr->run_ids);
		}
		free(set->groups);
		for (size_t d = 0; d < set->ndocs; d++) {
			json_decref(set->docs[d]);
			free(set->paths[d]);
		}
		free(set->docs);
		free(set->paths);
		free(set->name);
	}
	free(c->sets);
	for (size_t k = 0; k < c->ncmps; k++)
		free(c->cmps[k].rows);
	free(c->cmps);
	for (size_t j = 0; j < c->nrules; j++)
		free(c->rules[j].metric);
	free(c->rules);
}

/* Every metric name of every comparison, for an unknown --fail-on name. */
static void report_list_metrics(const struct report_ctx *c)
{
	struct report_strs names = { 0 };
	char *all;

	for (size_t k = 0; k < c->ncmps; k++)
		for (size_t i = 0; i < c->cmps[k].nrows; i++)
			report_strs_add(&names, c->cmps[k].rows[i].m->name);
	all = report_strs_join(&names, " ");
	fprintf(stderr, "known metrics:\n");
	report_wrap(stderr, 2, all);
	free(all);
	report_strs_free(&names);
}

int main(int argc, char **argv)
{
	struct report_ctx c = { .alpha = 0.05, .plots = true, .results_dir = "results", .gnuplot = "gnuplot" };
	struct option longopts[FL_ARRAY_SIZE(report_options) + 1];
	char *text = NULL, *json_text = NULL, *junit = NULL;
	size_t text_len = 0, junit_len = 0;
	json_t *doc = NULL;
	int opt, ret = FL_EXIT_USAGE;
	FILE *f;

	util_progname = "fl-report";
	for (size_t i = 0; i < FL_ARRAY_SIZE(report_options); i++)
		longopts[i] = (struct option){ report_options[i].name,
					       report_options[i].arg ? required_argument : no_argument, NULL, (int)i };
	longopts[FL_ARRAY_SIZE(report_options)] = (struct option){ 0 };
	c.rules = report_xrealloc(NULL, (size_t)argc * sizeof(*c.rules));
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		const char *name = opt >= 0 && (size_t)opt < FL_ARRAY_SIZE(report_options) ? report_options[opt].name
											  : opt == 'h' ? "help" : "";
		char *end;

		if (!strcmp(name, "help")) {
			report_usage(stdout);
			ret = FL_EXIT_OK;
			goto exit;
		} else if (!strcmp(name, "out")) {
			c.out_dir = optarg;
		} else if (!strcmp(name, "results")) {
			c.results_dir = optarg;
		} else if (!strcmp(name, "fail-on")) {
			c.rules[c.nrules] = (struct report_rule){ 0 };
			if (report_parse_rule(&c.rules[c.nrules], optarg) < 0)
				goto exit;
			c.nrules++;
		} else if (!strcmp(name, "alpha")) {
			c.alpha = strtod(optarg, &end);
			if (*end || end == optarg || !(c.alpha > 0 && c.alpha < 0.5)) {
				util_err("--alpha '%s': expected a number between 0 and 0.5, e.g. 0.05", optarg);
				goto exit;
			}
		} else if (!strcmp(name, "test")) {
			if (!strcmp(optarg, "mwu") || !strcmp(optarg, "mann-whitney"))
				c.use_mwu = true;
			else if (strcmp(optarg, "welch") != 0) {
				util_err("--test '%s': expected welch or mwu", optarg);
				goto exit;
			}
		} else if (!strcmp(name, "no-plots")) {
			c.plots = false;
		} else if (!strcmp(name, "gnuplot")) {
			c.gnuplot = optarg;
		} else if (!strcmp(name, "quiet")) {
			c.quiet = true;
		} else {
			fprintf(stderr, "Try 'fl-report --help'.\n");
			goto exit;
		}
	}
	if (argc - optind < 2) {
		util_err("need a baseline and at least one candidate (try --help)");
		goto exit;
	}

	/* Load and check everything before anything is written. */
	c.nsets = (size_t)(argc - optind);
	c.sets = report_xrealloc(NULL, c.nsets * sizeof(*c.sets));
	memset(c.sets, 0, c.nsets * sizeof(*c.sets));
	for (size_t s = 0; s < c.nsets; s++) {
		if (report_load_arg(&c.sets[s], argv[optind + (int)s], s ? "CAND" : "BASE", c.results_dir) < 0 ||
		    report_group_set(&c.sets[s]) < 0)
			goto exit;
	}
	report_name_sets(&c);
	c.cmps = report_xrealloc(NULL, c.nsets * c.sets[0].ngroups * sizeof(*c.cmps));
	for (size_t s = 1; s < c.nsets; s++) {
		size_t before = c.ncmps;

		for (size_t g = 0; g < c.sets[0].ngroups; g++) {
			struct report_group *gb = &c.sets[0].groups[g];
			struct report_group *gc = report_group_get(&c.sets[s], gb->scenario, gb->arch, false);
			struct report_cmp *cmp;

			if (!gc || !gb->niters || !gc->niters)
				continue;
			cmp = &c.cmps[c.ncmps++];
			*cmp = (struct report_cmp){ .base = &c.sets[0], .cand = &c.sets[s], .gb = gb, .gc = gc };
			if (report_compare(&c, cmp) < 0) {
				ret = FL_EXIT_FAIL;
				goto exit;
			}
		}
		for (size_t g = 0; g < c.sets[s].ngroups; g++)
			if (!report_group_get(&c.sets[0], c.sets[s].groups[g].scenario, c.sets[s].groups[g].arch, false))
				fprintf(stderr, "%s: warning: CAND '%s' has %s/%s, which BASE '%s' lacks: not compared\n",
					util_progname, c.sets[s].arg, c.sets[s].groups[g].scenario,
					c.sets[s].groups[g].arch, c.sets[0].arg);
		if (c.ncmps == before) {
			struct report_strs a = { 0 }, b = { 0 };
			char *sa, *sb;

			for (size_t g = 0; g < c.sets[0].ngroups; g++)
			{
				char *k = report_xasprintf("%s/%s", c.sets[0].groups[g].scenario, c.sets[0].groups[g].arch);

				report_strs_add(&a, k);
				free(k);
			}
			for (size_t g = 0; g < c.sets[s].ngroups; g++)
			{
				char *k = report_xasprintf("%s/%s", c.sets[s].groups[g].scenario, c.sets[s].groups[g].arch);

				report_strs_add(&b, k);
				free(k);
			}
			sa = report_strs_join(&a, ", ");
			sb = report_strs_join(&b, ", ");
			util_err("CAND '%s' (%s) and BASE '%s' (%s) have no (scenario, arch) with ok iterations in "
				 "common",
				 c.sets[s].arg, sb, c.sets[0].arg, sa);
			free(sa);
			free(sb);
			report_strs_free(&a);
			report_strs_free(&b);
			goto exit;
		}
	}
	report_gate(&c);
	for (size_t j = 0; j < c.nrules; j++)
		if (!c.rules[j].known) {
			util_err("--fail-on '%s': unknown metric '%s' (not in any comparison of these results)",
				 c.rules[j].arg, c.rules[j].metric);
			report_list_metrics(&c);
			goto exit;
		}
	if (c.plots && !report_find_program(c.gnuplot)) {
		util_err("%s not found: install gnuplot-nox (apt-get install gnuplot-nox) or pass --no-plots",
			 c.gnuplot);
		ret = FL_EXIT_NORESOURCE;
		goto exit;
	}

	/* Outputs. */
	ret = FL_EXIT_FAIL;
	if (!c.out_dir) {
		time_t now = time(NULL);
		struct tm tm;
		char stamp[32];
		struct stat sb;

		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
		snprintf(c.out_buf, sizeof(c.out_buf), "report/out/%s", stamp);
		for (int n = 2; stat(c.out_buf, &sb) == 0; n++)
			snprintf(c.out_buf, sizeof(c.out_buf), "report/out/%s-%d", stamp, n);
		c.out_dir = c.out_buf;
	}
	if (util_mkdir_p(c.out_dir, 0755) < 0) {
		util_err("--out %s: %s", c.out_dir, strerror(errno));
		goto exit;
	}
	f = open_memstream(&text, &text_len);
	for (size_t k = 0; k < c.ncmps; k++) {
		if (k)
			fprintf(f, "\n\n");
		report_text_cmp(&c, &c.cmps[k], f);
	}
	fclose(f);
	doc = report_json(&c);
	json_text = json_dumps(doc, JSON_INDENT(1) | JSON_REAL_PRECISION(10));
	f = open_memstream(&junit, &junit_len);
	report_junit(&c, f);
	fclose(f);
	if (!json_text) {
		util_err("encoding compare.json failed");
		goto exit;
	}
	if (report_write(c.out_dir, "compare.txt", text, text_len) < 0 ||
	    report_write(c.out_dir, "compare.json", json_text, strlen(json_text)) < 0 ||
	    report_write(c.out_dir, "junit.xml", junit, junit_len) < 0)
		goto exit;
	if (!c.quiet) {
		fwrite(text, 1, text_len, stdout);
		fflush(stdout);
	}
	if (c.plots && report_figures(&c) < 0)
		goto exit;
	fprintf(stderr, "%s: report in %s\n", util_progname, c.out_dir);
	if (c.tripped) {
		for (size_t k = 0; k < c.ncmps; k++)
			for (size_t i = 0; i < c.cmps[k].nrows; i++) {
				const struct report_row *r = &c.cmps[k].rows[i];
				char ch[32];

				if (!r->tripped)
					continue;
				report_fmt_change(ch, sizeof(ch), r->change);
				util_err("gate: %s %s/%s %s vs %s: %s, beyond %g%%, p %.3g < %g", r->m->name,
					 c.cmps[k].gb->scenario, c.cmps[k].gb->arch, c.cmps[k].cand->name,
					 c.cmps[k].base->name, ch, r->threshold, r->decide->p, c.alpha);
			}
		ret = FL_EXIT_FAIL;
		goto exit;
	}
	ret = FL_EXIT_OK;
exit:
	free(text);
	free(json_text);
	free(junit);
	json_decref(doc);
	report_free(&c);
	return ret;
}
