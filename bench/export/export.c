/* export: result files as the input of other systems' tools.
 *
 *   faultline export --format lava [--prefix P] RESULT.json...
 *
 * Format lava prints, for each result, the lines that the Linaro
 * test-definitions' send-to-lava.sh (and bench/lava/faultline-lava.sh) turn
 * into `lava-test-case NAME --result R [--measurement V --units U]`:
 *
 *   NAME RESULT [MEASUREMENT UNITS]
 *
 * one line `SCENARIO.status pass|fail` (pass when the run's status is ok),
 * then one line per metric of the scenario's report.headline (the result's
 * config.report.headline): `SCENARIO.METRIC pass MEAN UNITS`, MEAN the mean
 * over the run's ok iterations and UNITS the catalogue's (lib/metrics.h), or
 * `SCENARIO.METRIC skip` when no ok iteration has that metric (a probe that
 * was absent, a failed run).  Names keep LAVA's test-case characters
 * [A-Za-z0-9._-] (anything else becomes '_'); units are one word (spaces
 * become '_'), as send-to-lava.sh splits on blanks.  Measurements are plain
 * decimals, never exponent notation.  Every file is loaded and checked
 * first and the lines are printed only when every result gave its own: on
 * a bad one nothing is printed and the exit status is 2. */
#define _GNU_SOURCE
#include "lib/metrics.h"
#include "lib/results.h"
#include "lib/util.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct util_option export_options[] = {
	{ "format", "F", "output format: lava (the default; docs/lava.md)", 0 },
	{ "prefix", "P", "prepended to every test-case name with a '.' (default: none)", 0 },
	{ "help", NULL, "this text", 0 },
};

#define EXPORT_MAX_HEADLINE 64

struct export_acc { /* one headline metric over a result's ok iterations */
	const char *name;
	double sum;
	size_t n;
	char unit[64];
};

struct export_accs {
	struct export_acc v[EXPORT_MAX_HEADLINE];
	size_t n;
};

static void export_usage(FILE *out)
{
	fprintf(out, "usage: faultline export [--format lava] [--prefix P] RESULT.json...\n\n"
		     "Prints each result's outcome for a lab's test engine.  --format lava: one line\n"
		     "per test case, `NAME RESULT [MEASUREMENT UNITS]`, as Linaro's send-to-lava.sh\n"
		     "reads them: SCENARIO.status (pass when the run's status is ok) and, for each\n"
		     "metric of the scenario's report.headline, SCENARIO.METRIC with the mean over the\n"
		     "ok iterations and the metric's units (skip when no ok iteration has it).\n\n"
		     "Options:\n");
	util_options_help(out, export_options, FL_ARRAY_SIZE(export_options), 12);
	fprintf(out, "\nExit status: 0 printed, 2 bad input (unreadable or invalid result, bad option).\n");
}

/* LAVA's test-case characters; anything else becomes '_'. */
static void export_sanitize(char *s, bool unit)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
			    c == '_' || c == '-' || (unit && (c == '/' || c == '%'));

		if (!keep)
			*s = '_';
	}
}

/* A plain decimal: at most 6 places, trailing zeros dropped. */
static void export_number(char *buf, size_t len, double v)
{
	char *dot, *end;

	snprintf(buf, len, "%.6f", v);
	dot = strchr(buf, '.');
	if (!dot)
		return;
	end = buf + strlen(buf) - 1;
	while (end > dot && *end == '0')
		*end-- = '\0';
	if (end == dot)
		*end = '\0';
	if (!strcmp(buf, "-0"))
		strcpy(buf, "0");
}

static void export_metric(void *ctx, const struct metric *m, double value)
{
	struct export_accs *a = ctx;

	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->v[i].name, m->name)) {
			a->v[i].sum += value;
			a->v[i].n++;
			snprintf(a->v[i].unit, sizeof(a->v[i].unit), "%s", m->unit ? m->unit : "");
		}
}

/* Print one test case: PREFIX.SCENARIO.WHAT RESULT [MEASUREMENT UNITS]. */
static void export_line(FILE *out, const char *prefix, const char *scenario, const char *what, const char *result,
			const char *measurement, const char *unit)
{
	char name[512], u[64];

	snprintf(name, sizeof(name), "%s%s%s.%s", prefix ? prefix : "", prefix ? "." : "", scenario, what);
	export_sanitize(name, false);
	fprintf(out, "%s %s", name, result);
	if (measurement) {
		snprintf(u, sizeof(u), "%s", unit && *unit ? unit : "none");
		export_sanitize(u, true);
		fprintf(out, " %s %s", measurement, u);
	}
	fputc('\n', out);
}

/* The lava lines of one loaded result; 0, or -1 naming path. */
static int export_lava(FILE *out, const json_t *doc, const char *path, const char *prefix)
{
	const json_t *headline = json_object_get(json_object_get(json_object_get(doc, "config"), "report"),
						 "headline");
	const json_t *iters = json_object_get(doc, "iterations"), *it, *h;
	const char *scenario = json_string_value(json_object_get(doc, "scenario"));
	const char *status = json_string_value(json_object_get(doc, "status"));
	struct export_accs *a = calloc(1, sizeof(*a));
	size_t i;

	if (!a) {
		util_err("export: %s: calloc: %s", path, strerror(errno));
		return -1;
	}
	json_array_foreach(headline, i, h) {
		if (!json_is_string(h) || a->n == EXPORT_MAX_HEADLINE)
			continue;
		a->v[a->n++].name = json_string_value(h);
	}
	json_array_foreach(iters, i, it) {
		char err[512];

		if (strcmp(json_string_value(json_object_get(it, "status")) ?: "", "ok"))
			continue;
		if (metrics_eval(it, export_metric, a, err, sizeof(err)) < 0) {
			util_err("export: %s: iterations[%zu]: %s", path, i, err);
			free(a);
			return -1;
		}
	}
	export_line(out, prefix, scenario ? scenario : "unknown", "status", status && !strcmp(status, "ok") ? "pass" : "fail",
		    NULL, NULL);
	for (i = 0; i < a->n; i++) {
		char num[64];

		if (!a->v[i].n) {
			export_line(out, prefix, scenario ? scenario : "unknown", a->v[i].name, "skip", NULL, NULL);
			continue;
		}
		export_number(num, sizeof(num), a->v[i].sum / (double)a->v[i].n);
		export_line(out, prefix, scenario ? scenario : "unknown", a->v[i].name, "pass", num, a->v[i].unit);
	}
	free(a);
	return 0;
}

int export_main(int argc, char **argv)
{
	struct option longopts[FL_ARRAY_SIZE(export_options) + 1];
	const char *format = "lava", *prefix = NULL;
	json_t **docs;
	int opt, nfiles, bad = 0, ret = FL_EXIT_OK;

	util_options_getopt(export_options, FL_ARRAY_SIZE(export_options), longopts);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		const char *name = opt >= 0 && (size_t)opt < FL_ARRAY_SIZE(export_options) ? export_options[opt].name
											       : NULL;

		if (!name) {
			fprintf(stderr, "Try 'faultline export --help'.\n");
			return FL_EXIT_USAGE;
		}
		if (!strcmp(name, "help")) {
			export_usage(stdout);
			return FL_EXIT_OK;
		}
		if (!strcmp(name, "format"))
			format = optarg;
		else if (!strcmp(name, "prefix"))
			prefix = optarg;
	}
	if (strcmp(format, "lava")) {
		util_err("export: --format %s: unknown format (known: lava)", format);
		return FL_EXIT_USAGE;
	}
	if (prefix && !*prefix)
		prefix = NULL;
	nfiles = argc - optind;
	if (nfiles < 1) {
		export_usage(stderr);
		return FL_EXIT_USAGE;
	}
	docs = calloc((size_t)nfiles, sizeof(*docs));
	if (!docs) {
		util_err("export: calloc %d results: %s", nfiles, strerror(errno));
		return FL_EXIT_FAIL;
	}
	for (int i = 0; i < nfiles; i++) {
		char err[2048];

		docs[i] = results_load(argv[optind + i], err, sizeof(err));
		if (!docs[i]) {
			util_err("export: %s", err);
			bad = 1;
		}
	}
	if (!bad) {
		char *buf = NULL;
		size_t len = 0;
		FILE *out = open_memstream(&buf, &len);

		if (!out) {
			util_err("export: open_memstream: %s", strerror(errno));
			ret = FL_EXIT_FAIL;
		}
		for (int i = 0; out && i < nfiles && ret == FL_EXIT_OK; i++)
			if (export_lava(out, docs[i], argv[optind + i], prefix) < 0)
				ret = FL_EXIT_USAGE;
		if (out && fclose(out) == 0 && ret == FL_EXIT_OK && fwrite(buf, 1, len, stdout) != len) {
			util_err("export: writing stdout: %s", strerror(errno));
			ret = FL_EXIT_FAIL;
		}
		free(buf);
	} else {
		ret = FL_EXIT_USAGE;
	}
	for (int i = 0; i < nfiles; i++)
		json_decref(docs[i]);
	free(docs);
	if (fflush(stdout) != 0) {
		util_err("export: writing stdout: %s", strerror(errno));
		return FL_EXIT_FAIL;
	}
	return ret;
}
