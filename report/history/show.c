/* show: list what the store holds (show.h). */
#include "report/history/show.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lib/util.h"
#include "report/history/history.h"
#include "report/history/trend.h"
#include "report/history/store.h"

static const char *show_col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

/* Every stored value, runs of any status included. */
static int show_tsv(struct store *s, const struct history_filter *f, char *err, size_t errlen)
{
	char sql[2048], cond[512];
	sqlite3_stmt *st;
	int rc;

	history_filter_sql(f, cond, sizeof(cond));
	snprintf(sql, sizeof(sql),
		 "SELECT r.scenario, r.arch, r.host, r.backend, r.config_hash, m.name, r.run_id, r.label,"
		 " r.kernel_release, r.started_at, r.status, s.iteration, i.status, s.value"
		 " FROM samples s JOIN runs r ON r.id = s.run JOIN metrics m ON m.id = s.metric"
		 " JOIN iterations i ON i.run = s.run AND i.iteration = s.iteration WHERE 1%s"
		 " ORDER BY r.scenario, r.arch, r.host, r.backend, r.config_hash, m.name, r.started_at, r.run_id,"
		 " s.iteration",
		 cond);
	if (!(st = store_prepare(s, sql, err, errlen)))
		return FL_EXIT_USAGE;
	history_filter_bind(f, st, 1);
	history_print_sample_header(stdout);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		history_print_sample(stdout, &(struct history_sample){
			.scenario = show_col(st, 0), .arch = show_col(st, 1), .host = show_col(st, 2),
			.backend = show_col(st, 3), .config_hash = show_col(st, 4), .metric = show_col(st, 5),
			.run_id = show_col(st, 6), .label = show_col(st, 7), .kernel_release = show_col(st, 8),
			.started_at = show_col(st, 9), .status = show_col(st, 10),
			.iteration = sqlite3_column_int64(st, 11), .iteration_status = show_col(st, 12),
			.value = sqlite3_column_double(st, 13) });
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_error(s, "read values", err, errlen);
}

/* The runs, one tab-separated line each, with every recorded field. */
static int show_runs(struct store *s, const struct history_filter *f, char *err, size_t errlen)
{
	static const char *const cols[] = { "host", "run_id", "arch", "backend", "kernel_release", "kernel_source",
					     "kernel_patches", "kernel_config_hash", "label", "scenario",
					     "config_hash", "headline", "started_at", "status", "source_file" };
	char sql[2048], cond[512], list[512] = "";
	sqlite3_stmt *st;
	int rc;

	for (size_t i = 0; i < FL_ARRAY_SIZE(cols); i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%sr.%s", i ? ", " : "", cols[i]);
	history_filter_sql(f, cond, sizeof(cond));
	snprintf(sql, sizeof(sql),
		 "SELECT %s, (SELECT count(*) FROM iterations i WHERE i.run = r.id)"
		 " FROM runs r LEFT JOIN metrics m ON m.name = ?2 WHERE 1%s"
		 " ORDER BY r.scenario, r.arch, r.host, r.started_at, r.run_id",
		 list, cond);
	if (!(st = store_prepare(s, sql, err, errlen)))
		return FL_EXIT_USAGE;
	history_filter_bind(f, st, 1);
	for (size_t i = 0; i < FL_ARRAY_SIZE(cols); i++)
		printf("%s\t", cols[i]);
	printf("iterations\n");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (size_t i = 0; i < FL_ARRAY_SIZE(cols); i++)
			printf("%s\t", show_col(st, (int)i));
		printf("%lld\n", sqlite3_column_int64(st, (int)FL_ARRAY_SIZE(cols)));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : store_error(s, "read runs", err, errlen);
}

static int show_series(struct store *s, const struct history_filter *f, char *err, size_t errlen)
{
	struct trend_set set;
	int rc = trend_load(s, f, &set, err, errlen);

	if (rc)
		return rc;
	for (size_t i = 0; i < set.n; i++) {
		const struct trend *x = &set.s[i];
		char name[512];

		printf("%s (%s, %s is better), %zu runs\n", trend_name(x, name, sizeof(name)), x->unit,
		       x->better, x->n);
		printf("  %-20s %-22s %-20s %-24s %4s %12s %12s %12s\n", "started_at", "run_id", "label", "kernel",
		       "iter", "mean", "min", "max");
		for (size_t k = 0; k < x->n; k++) {
			const struct trend_point *p = &x->p[k];

			printf("  %-20s %-22s %-20s %-24s %4d %12.6g %12.6g %12.6g\n", p->started_at, p->run_id,
			       p->label, p->kernel, p->n, p->mean, p->min, p->max);
		}
	}
	if (!set.n)
		fprintf(stderr, "fl-history: show: no series matches\n");
	trend_free(&set);
	return 0;
}

int show_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },	      { "tsv", no_argument, NULL, 't' },
		{ "runs", no_argument, NULL, 'r' },	      { "scenario", required_argument, NULL, 'F' },
		{ "metric", required_argument, NULL, 'F' },   { "arch", required_argument, NULL, 'F' },
		{ "host", required_argument, NULL, 'F' },     { "label", required_argument, NULL, 'F' },
		{ "since", required_argument, NULL, 'F' },    { NULL, 0, NULL, 0 }
	};
	struct history_filter f = { 0 };
	const char *db = STORE_DEFAULT_PATH;
	struct store s;
	char err[1024];
	int o, idx, mode = 0, rc;

	while ((o = getopt_long(argc, argv, "", opts, &idx)) != -1) {
		if (o == 'd')
			db = optarg;
		else if (o == 't' || o == 'r')
			mode = o;
		else if (o == 'F')
			history_filter_option(&f, opts[idx].name, optarg);
		else
			return FL_EXIT_USAGE;
	}
	if (optind < argc) {
		util_err("show: unexpected argument '%s'", argv[optind]);
		return FL_EXIT_USAGE;
	}
	if ((rc = store_open(&s, db, false, err, sizeof(err)))) {
		util_err("show: %s", err);
		return rc;
	}
	rc = mode == 't' ? show_tsv(&s, &f, err, sizeof(err))
	     : mode == 'r' ? show_runs(&s, &f, err, sizeof(err))
			   : show_series(&s, &f, err, sizeof(err));
	if (rc)
		util_err("show: %s", err);
	store_close(&s);
	return rc;
}
