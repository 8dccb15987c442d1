/* history: fl-history, the nightly history of results (docs/nightly.md).
 *   fl-history add [--db PATH] [--quiet] RESULT|DIR...
 *   fl-history show [--db PATH] [FILTERS] [--tsv | --runs]
 *   fl-history plot [--db PATH] [FILTERS] [--out DIR]
 *   fl-history check [--db PATH] [FILTERS] [--threshold PCT] [--watch S:M[:PCT]]... [--junit FILE]
 *   fl-history eval RESULT|DIR...           (what add would store, printed)
 *   fl-history synth --db PATH [...]        (synthetic series, for bench)
 *   fl-history selftest-detect [...]        (detection and false-alarm rates)
 * Exit: 0 ok, 1 a regression past threshold (check), 2 bad input, 3 too
 * few points or missing database. */
#include "report/history/history.h"

#include <stdarg.h>
#include <string.h>
#include <sqlite3.h>

#include "lib/util.h"
#include "report/history/check.h"
#include "report/history/ingest.h"
#include "report/history/plot.h"
#include "report/history/show.h"
#include "report/history/synth.h"

void history_print_sample_header(FILE *out)
{
	fputs("scenario\tarch\thost\tbackend\tconfig\tmetric\trun_id\tlabel\tkernel\tstarted_at\tstatus\t"
	      "iteration\titeration_status\tvalue\n",
	      out);
}

void history_print_sample(FILE *out, const struct history_sample *s)
{
	fprintf(out, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%lld\t%s\t%.17g\n", s->scenario, s->arch, s->host,
		s->backend, s->config_hash, s->metric, s->run_id, s->label, s->kernel_release, s->started_at,
		s->status, s->iteration, s->iteration_status, s->value);
}

int history_json_hash(const json_t *j, char out[17])
{
	char *text = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
	uint64_t h = 0xcbf29ce484222325ull;

	if (!text)
		return -1;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	free(text);
	snprintf(out, 17, "%016llx", (unsigned long long)h);
	return 0;
}

int history_filter_option(struct history_filter *f, const char *opt, const char *value)
{
	const char **slot = !strcmp(opt, "scenario") ? &f->scenario
			    : !strcmp(opt, "metric") ? &f->metric
			    : !strcmp(opt, "arch")   ? &f->arch
			    : !strcmp(opt, "host")   ? &f->host
			    : !strcmp(opt, "label")  ? &f->label
			    : !strcmp(opt, "since")  ? &f->since
						     : NULL;

	if (!slot)
		return 0;
	*slot = value;
	return 1;
}

void history_filter_sql(const struct history_filter *f, char *buf, size_t len)
{
	(void)f;
	snprintf(buf, len,
		 " AND (?1 IS NULL OR r.scenario = ?1) AND (?2 IS NULL OR m.name = ?2) AND (?3 IS NULL OR r.arch = ?3)"
		 " AND (?4 IS NULL OR r.host = ?4) AND (?5 IS NULL OR r.label = ?5) AND (?6 IS NULL OR r.started_at >= ?6)");
}

void history_filter_bind(const struct history_filter *f, sqlite3_stmt *st, int first)
{
	const char *v[] = { f->scenario, f->metric, f->arch, f->host, f->label, f->since };

	for (int i = 0; i < 6; i++)
		if (v[i])
			sqlite3_bind_text(st, first + i, v[i], -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, first + i);
}

static void history_usage(FILE *out)
{
	fputs("usage: fl-history COMMAND [OPTIONS]\n"
	      "  add [--db PATH] [--quiet] RESULT|DIR...   ingest result files (idempotent by host and run id)\n"
	      "  show [--db PATH] [FILTERS] [--tsv|--runs]  list series (one line per run), every stored value\n"
	      "                                            (--tsv), or the runs with their kernel and config\n"
	      "  plot [--db PATH] [FILTERS] [--out DIR] [--all-metrics]\n"
	      "                                            gnuplot PNG+SVG trends of the watched metrics\n"
	      "  check [--db PATH] [FILTERS] [--threshold PCT] [--watch SCENARIO:METRIC[:PCT]]...\n"
	      "        [--all-metrics] [--gate-since DATE] [--junit FILE] [--min-size N] [--permutations R]\n"
	      "        [--sig-level P]                     E-divisive change points on every series; gate\n"
	      "  eval RESULT|DIR...                        what add would store, in show --tsv's format\n"
	      "  synth --db PATH [--series N] [--points P] [--step-every K]\n"
	      "                                            synthetic series (bench)\n"
	      "  selftest-detect [--series N] [--points P] [--alpha A] [--sig-level P]\n"
	      "                                            detection and false-alarm rates on planted steps\n"
	      "FILTERS: --scenario S --metric M --arch A --host H --label L --since YYYY-MM-DD\n"
	      "--db defaults to " "results/history.sqlite" ".  Exit: 0 ok, 1 a regression past threshold (check),\n"
	      "2 bad input, 3 too few points or no database.  docs/nightly.md.\n",
	      out);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} cmds[] = { { "add", ingest_main },   { "eval", ingest_eval_main }, { "show", show_main },
		     { "plot", plot_main },    { "check", check_main },      { "synth", synth_main },
		     { "selftest-detect", synth_selftest_main } };

	util_progname = "fl-history";
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		history_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? FL_EXIT_USAGE : 0;
	}
	for (size_t i = 0; i < FL_ARRAY_SIZE(cmds); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	util_err("unknown command '%s'", argv[1]);
	history_usage(stderr);
	return FL_EXIT_USAGE;
}
