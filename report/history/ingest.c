/* ingest: result files into the history store (ingest.h). */
#define _GNU_SOURCE
#include "report/history/ingest.h"

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/metrics.h"
#include "lib/results.h"
#include "lib/util.h"
#include "report/history/history.h"
#include "report/history/store.h"

/* What one result contributes to runs (strings point into doc or the
 * malloc'd fields). */
struct ingest_run {
	const char *host, *run_id, *arch, *kernel_release, *label, *scenario, *started_at, *status;
	char backend[64], config_hash[17], content_hash[17], kernel_config_hash[80];
	char *kernel_source, *kernel_patches, *kernel_manifest, *headline;
};

struct ingest_value {
	struct metric m;
	long long iteration;
	double value;
};

/* The values of one result, every iteration, as metrics_eval gives them. */
struct ingest_values {
	struct ingest_value *v;
	size_t n, cap;
	long long iteration;
	bool oom;
};

static const char *ingest_str(const json_t *o, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : def;
}

static void ingest_run_free(struct ingest_run *r)
{
	free(r->kernel_source);
	free(r->kernel_patches);
	free(r->kernel_manifest);
	free(r->headline);
	memset(r, 0, sizeof(*r));
}

/* Kernel manifest (environment.vm.kernel_manifest, docs/results.md):
 * source, patches as FILE@SHA256[:12] joined by ' ', config sha256. */
static int ingest_manifest(struct ingest_run *r, const json_t *man)
{
	const json_t *p, *src = json_object_get(man, "source");
	size_t i, len = 0;

	r->kernel_manifest = json_is_object(man) ? json_dumps(man, JSON_SORT_KEYS | JSON_COMPACT) : strdup("");
	r->kernel_source = json_is_string(src)	  ? strdup(json_string_value(src))
			   : json_is_object(src) ? json_dumps(src, JSON_SORT_KEYS | JSON_COMPACT)
						 : strdup("");
	r->kernel_patches = calloc(1, 1);
	snprintf(r->kernel_config_hash, sizeof(r->kernel_config_hash), "%s", ingest_str(man, "config_sha256", ""));
	if (!r->kernel_manifest || !r->kernel_source || !r->kernel_patches)
		return -1;
	json_array_foreach(json_object_get(man, "patches"), i, p) {
		const char *f = ingest_str(p, "file", "?"), *sha = ingest_str(p, "sha256", "");
		char *n = realloc(r->kernel_patches, len + strlen(f) + 16);

		if (!n)
			return -1;
		r->kernel_patches = n;
		len += (size_t)sprintf(n + len, "%s%s@%.12s", len ? " " : "", f, sha);
	}
	return 0;
}

/* The run record of a validated result. */
static int ingest_record(struct ingest_run *r, const json_t *doc, const char *path, char *err, size_t errlen)
{
	const json_t *env = json_object_get(doc, "environment"), *vm = json_object_get(env, "vm");
	const json_t *hl = json_object_get(json_object_get(json_object_get(doc, "config"), "report"), "headline");
	json_t *cfg = json_deep_copy(json_object_get(doc, "config"));
	const json_t *h;
	size_t i, len = 0;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	r->host = ingest_str(env, "hostname", "unknown");
	r->run_id = ingest_str(doc, "run_id", "");
	r->arch = ingest_str(env, "arch", "");
	r->kernel_release = ingest_str(env, "kernel_release", "");
	r->label = ingest_str(doc, "label", "");
	r->scenario = ingest_str(doc, "scenario", "");
	r->started_at = ingest_str(doc, "started_at", "");
	r->status = ingest_str(doc, "status", "");
	if (json_is_object(vm))
		snprintf(r->backend, sizeof(r->backend), "vm-%s", ingest_str(vm, "accel", "unknown"));
	else
		snprintf(r->backend, sizeof(r->backend), "%s", ingest_str(env, "backend", "native"));
	/* the series' config: everything but what names the night */
	if (!cfg || (json_object_del(cfg, "label"), json_object_del(cfg, "iterations"), 0) ||
	    history_json_hash(cfg, r->config_hash) < 0 || history_json_hash(doc, r->content_hash) < 0 ||
	    ingest_manifest(r, json_object_get(vm, "kernel_manifest")) < 0 || !(r->headline = calloc(1, 1))) {
		snprintf(err, errlen, "%s: ingest: out of memory encoding the config", path);
		goto exit;
	}
	json_array_foreach(hl, i, h) {
		const char *name = json_string_value(h);
		char *n;

		if (!name) {
			snprintf(err, errlen, "%s: config.report.headline[%zu]: not a string", path, i);
			goto exit;
		}
		if (!(n = realloc(r->headline, len + strlen(name) + 2))) {
			snprintf(err, errlen, "%s: ingest: out of memory", path);
			goto exit;
		}
		r->headline = n;
		len += (size_t)sprintf(n + len, "%s%s", len ? "," : "", name);
	}
	if (!*r->started_at || !*r->run_id) {
		snprintf(err, errlen, "%s: %s: missing or empty (value \"%s\")", path,
			 *r->run_id ? "started_at" : "run_id", *r->run_id ? r->started_at : r->run_id);
		goto exit;
	}
	ret = 0;
exit:
	json_decref(cfg);
	if (ret)
		ingest_run_free(r);
	return ret;
}

static void ingest_collect(void *ctx, const struct metric *m, double value)
{
	struct ingest_values *vs = ctx;

	if (vs->n == vs->cap) {
		size_t cap = vs->cap ? 2 * vs->cap : 256;
		struct ingest_value *n = realloc(vs->v, cap * sizeof(*n));

		if (!n) {
			vs->oom = true;
			return;
		}
		vs->v = n;
		vs->cap = cap;
	}
	vs->v[vs->n++] = (struct ingest_value){ .m = *m, .iteration = vs->iteration, .value = value };
}

/* Every metric of every iteration of doc into vs. */
static int ingest_values(struct ingest_values *vs, const json_t *doc, const char *path, char *err, size_t errlen)
{
	const json_t *it;
	size_t i;

	json_array_foreach(json_object_get(doc, "iterations"), i, it) {
		char merr[512];

		vs->iteration = json_is_integer(json_object_get(it, "index"))
					? json_integer_value(json_object_get(it, "index"))
					: (long long)i;
		if (metrics_eval(it, ingest_collect, vs, merr, sizeof(merr)) < 0) {
			snprintf(err, errlen, "%s: iterations[%zu].%s", path, i, merr);
			return -1;
		}
		if (vs->oom) {
			snprintf(err, errlen, "%s: ingest: out of memory", path);
			return -1;
		}
	}
	return 0;
}

/* Metric ids already looked up by this process (one database per process). */
static struct {
	char name[96];
	long long id;
} ingest_ids[1024];
static size_t ingest_nids;

/* The metric's id in the store (added when new). */
static long long ingest_metric_id(struct store *s, const struct metric *m, char *err, size_t errlen)
{
	static const char *const sql[2] = {
		"INSERT INTO metrics(name, kind, unit, better) VALUES(?1, ?2, ?3, ?4) ON CONFLICT(name) DO NOTHING",
		"SELECT id FROM metrics WHERE name = ?1",
	};
	long long id = -1;

	for (size_t i = 0; i < ingest_nids; i++)
		if (!strcmp(ingest_ids[i].name, m->name))
			return ingest_ids[i].id;
	for (int k = 0; k < 2; k++) {
		sqlite3_stmt *st = store_prepare(s, sql[k], err, errlen);
		int rc;

		if (!st)
			return -1;
		sqlite3_bind_text(st, 1, m->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, metric_kind_names[m->kind], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, m->unit, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, metric_better_names[m->better], -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			id = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
			store_error(s, "add metric", err, errlen);
			return -1;
		}
	}
	if (id >= 0 && ingest_nids < FL_ARRAY_SIZE(ingest_ids)) {
		snprintf(ingest_ids[ingest_nids].name, sizeof(ingest_ids[0].name), "%s", m->name);
		ingest_ids[ingest_nids++].id = id;
	}
	return id;
}

/* The run row: its id, 0 when the same run is already stored, -1 on error
 * (a different run under the same host and run id is one). */
static long long ingest_insert_run(struct store *s, const struct ingest_run *r, const char *path, char *err,
				   size_t errlen)
{
	const char *vals[] = { r->host, r->run_id, r->arch, r->backend, r->kernel_release, r->kernel_source,
			       r->kernel_patches, r->kernel_config_hash, r->kernel_manifest, r->label, r->scenario,
			       r->config_hash, r->headline, r->started_at, r->status, r->content_hash, path };
	sqlite3_stmt *st = store_prepare(
		s,
		"INSERT INTO runs(host, run_id, arch, backend, kernel_release, kernel_source, kernel_patches,"
		" kernel_config_hash, kernel_manifest, label, scenario, config_hash, headline, started_at, status,"
		" content_hash, source_file, ingested_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
		" ?13, ?14, ?15, ?16, ?17, strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) ON CONFLICT(host, run_id) DO NOTHING",
		err, errlen);
	long long id = -1;

	if (!st)
		return -1;
	for (size_t i = 0; i < FL_ARRAY_SIZE(vals); i++)
		sqlite3_bind_text(st, (int)i + 1, vals[i], -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		store_error(s, "add run", err, errlen);
		goto exit;
	}
	if (sqlite3_changes(s->db) == 1) {
		id = sqlite3_last_insert_rowid(s->db);
		goto exit;
	}
	sqlite3_finalize(st);
	if (!(st = store_prepare(s, "SELECT content_hash, source_file FROM runs WHERE host = ?1 AND run_id = ?2", err,
				 errlen)))
		return -1;
	sqlite3_bind_text(st, 1, r->host, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->run_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		store_error(s, "look up run", err, errlen);
		goto exit;
	}
	if (strcmp((const char *)sqlite3_column_text(st, 0), r->content_hash)) {
		snprintf(err, errlen,
			 "%s: run_id: \"%s\" of host \"%s\" is already stored (from %s) with different content; "
			 "a run id names one run: refusing to replace it",
			 path, r->run_id, r->host, (const char *)sqlite3_column_text(st, 1));
		goto exit;
	}
	id = 0;
exit:
	sqlite3_finalize(st);
	return id;
}

/* Iterations and samples of a new run. */
static int ingest_insert_values(struct store *s, long long run, const json_t *doc, const struct ingest_values *vs,
				char *err, size_t errlen)
{
	sqlite3_stmt *it = store_prepare(s, "INSERT INTO iterations(run, iteration, status) VALUES(?1, ?2, ?3)", err,
					 errlen);
	sqlite3_stmt *sm = it ? store_prepare(s, "INSERT INTO samples(run, metric, iteration, value) VALUES(?1, ?2, ?3, ?4)",
					      err, errlen)
			      : NULL;
	const json_t *j;
	size_t i;
	int ret = -1;

	if (!it || !sm)
		goto exit;
	json_array_foreach(json_object_get(doc, "iterations"), i, j) {
		long long index = json_is_integer(json_object_get(j, "index"))
					  ? json_integer_value(json_object_get(j, "index"))
					  : (long long)i;

		sqlite3_reset(it);
		sqlite3_bind_int64(it, 1, run);
		sqlite3_bind_int64(it, 2, index);
		sqlite3_bind_text(it, 3, ingest_str(j, "status", "ok"), -1, SQLITE_STATIC);
		if (sqlite3_step(it) != SQLITE_DONE) {
			store_error(s, "add iteration", err, errlen);
			goto exit;
		}
	}
	for (i = 0; i < vs->n; i++) {
		long long mid = ingest_metric_id(s, &vs->v[i].m, err, errlen);

		if (mid < 0)
			goto exit;
		sqlite3_reset(sm);
		sqlite3_bind_int64(sm, 1, run);
		sqlite3_bind_int64(sm, 2, mid);
		sqlite3_bind_int64(sm, 3, vs->v[i].iteration);
		sqlite3_bind_double(sm, 4, vs->v[i].value);
		if (sqlite3_step(sm) != SQLITE_DONE) {
			store_error(s, "add sample", err, errlen);
			goto exit;
		}
	}
	ret = 0;
exit:
	sqlite3_finalize(it);
	sqlite3_finalize(sm);
	return ret;
}

struct ingest_ctx {
	struct store *store; /* NULL: eval (print instead of store) */
	bool quiet;
	size_t added, present, values, skipped;
	char err[1024];
};

static void ingest_print(const struct ingest_run *r, const json_t *doc, const struct ingest_values *vs)
{
	for (size_t i = 0; i < vs->n; i++) {
		const json_t *it = NULL, *j;
		size_t k;

		json_array_foreach(json_object_get(doc, "iterations"), k, j)
			if (json_integer_value(json_object_get(j, "index")) == vs->v[i].iteration)
				it = j;
		history_print_sample(stdout, &(struct history_sample){
			.scenario = r->scenario, .arch = r->arch, .host = r->host, .backend = r->backend,
			.config_hash = r->config_hash, .metric = vs->v[i].m.name, .run_id = r->run_id,
			.label = r->label, .kernel_release = r->kernel_release, .started_at = r->started_at,
			.status = r->status, .iteration = vs->v[i].iteration,
			.iteration_status = ingest_str(it, "status", "ok"), .value = vs->v[i].value });
	}
}

/* One result file: load, validate, evaluate, store (or print). */
/*
 * One file. in_dir: found by walking a directory, where JSON that parses
 * but is some other document of the suite's or its tools' (ab's
 * accel.json, fl-report's compare.json, a calibration record: no
 * faultline-result schema) is passed over and counted. A file that does
 * not parse, or a result of any version, gets the checks of results_load.
 * The file is parsed once either way.
 */
static int ingest_file(struct ingest_ctx *c, const char *path, bool in_dir)
{
	struct ingest_values vs = { 0 };
	struct ingest_run r = { 0 };
	json_t *doc = in_dir ? json_load_file(path, JSON_REJECT_DUPLICATES, NULL) : NULL;
	int ret = -1;
	long long run;

	if (doc) {
		const char *schema = json_is_object(doc) ? json_string_value(json_object_get(doc, "schema")) : NULL;

		if (!schema || strncmp(schema, "faultline-result/", strlen("faultline-result/"))) {
			c->skipped++;
			if (!c->quiet)
				printf("skipped %s: not a faultline result (schema %s)\n", path, schema ? schema : "missing");
			json_decref(doc);
			return 0;
		}
		if (results_validate(doc, path, c->err, sizeof(c->err)) < 0)
			goto exit;
	} else {
		doc = results_load(path, c->err, sizeof(c->err));
	}
	if (!doc || ingest_record(&r, doc, path, c->err, sizeof(c->err)) < 0 ||
	    ingest_values(&vs, doc, path, c->err, sizeof(c->err)) < 0)
		goto exit;
	if (!c->store) {
		ingest_print(&r, doc, &vs);
		ret = 0;
		goto exit;
	}
	if ((run = ingest_insert_run(c->store, &r, path, c->err, sizeof(c->err))) < 0)
		goto exit;
	if (run > 0 && ingest_insert_values(c->store, run, doc, &vs, c->err, sizeof(c->err)) < 0)
		goto exit;
	if (run > 0) {
		c->added++;
		c->values += vs.n;
	} else {
		c->present++;
	}
	if (!c->quiet)
		printf("%s %s: %s %s host %s, %zu iterations, %zu values\n", run > 0 ? "added" : "present", path,
		       r.scenario, r.label, r.host, json_array_size(json_object_get(doc, "iterations")),
		       run > 0 ? vs.n : (size_t)0);
	ret = 0;
exit:
	ingest_run_free(&r);
	free(vs.v);
	json_decref(doc);
	return ret;
}

/* The .json files under a directory, sorted, for nftw. */
static struct {
	char **paths;
	size_t n, cap;
} ingest_walk;

static int ingest_walk_fn(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	size_t len = strlen(path);

	(void)st;
	(void)ftw;
	if (flag != FTW_F || len < 5 || strcmp(path + len - 5, ".json"))
		return 0;
	if (ingest_walk.n == ingest_walk.cap) {
		size_t cap = ingest_walk.cap ? 2 * ingest_walk.cap : 64;
		char **n = realloc(ingest_walk.paths, cap * sizeof(*n));

		if (!n)
			return -1;
		ingest_walk.paths = n;
		ingest_walk.cap = cap;
	}
	return (ingest_walk.paths[ingest_walk.n++] = strdup(path)) ? 0 : -1;
}

static int ingest_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every argument: a file, or the .json files under a directory. */
static int ingest_args(struct ingest_ctx *c, int argc, char **argv)
{
	int ret = 0;

	for (int i = 0; i < argc && !ret; i++) {
		struct stat st;

		if (stat(argv[i], &st) < 0) {
			snprintf(c->err, sizeof(c->err), "%s: %s", argv[i], strerror(errno));
			return -1;
		}
		if (!S_ISDIR(st.st_mode)) {
			ret = ingest_file(c, argv[i], false);
			continue;
		}
		ingest_walk.n = 0;
		if (nftw(argv[i], ingest_walk_fn, 16, 0) != 0) {
			snprintf(c->err, sizeof(c->err), "%s: walking the directory: %s", argv[i], strerror(errno));
			ret = -1;
		}
		qsort(ingest_walk.paths, ingest_walk.n, sizeof(char *), ingest_cmp);
		for (size_t k = 0; k < ingest_walk.n; k++) {
			if (!ret)
				ret = ingest_file(c, ingest_walk.paths[k], true);
			free(ingest_walk.paths[k]);
		}
		ingest_walk.n = 0;
	}
	free(ingest_walk.paths);
	ingest_walk.paths = NULL;
	ingest_walk.cap = 0;
	return ret;
}

int ingest_main(int argc, char **argv)
{
	static const struct option opts[] = { { "db", required_argument, NULL, 'd' },
					      { "quiet", no_argument, NULL, 'q' },
					      { NULL, 0, NULL, 0 } };
	const char *db = STORE_DEFAULT_PATH;
	struct store s = { 0 };
	struct ingest_ctx c = { .store = &s };
	int o, rc;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'd')
			db = optarg;
		else if (o == 'q')
			c.quiet = true;
		else
			return FL_EXIT_USAGE;
	}
	if (optind >= argc) {
		util_err("add: no result file or directory given (usage: fl-history add [--db PATH] RESULT|DIR...)");
		return FL_EXIT_USAGE;
	}
	if ((rc = store_open(&s, db, true, c.err, sizeof(c.err)))) {
		util_err("add: %s", c.err);
		return rc;
	}
	/* one transaction: all the files or none of them */
	if ((rc = store_exec(&s, "BEGIN IMMEDIATE", c.err, sizeof(c.err))))
		goto exit;
	if (ingest_args(&c, argc - optind, argv + optind) < 0) {
		sqlite3_exec(s.db, "ROLLBACK", NULL, NULL, NULL);
		rc = FL_EXIT_USAGE;
		goto exit;
	}
	if ((rc = store_exec(&s, "COMMIT", c.err, sizeof(c.err)))) {
		sqlite3_exec(s.db, "ROLLBACK", NULL, NULL, NULL);
		goto exit;
	}
	printf("history: %s: %zu added (%zu values), %zu already present", db, c.added, c.values, c.present);
	if (c.skipped)
		printf(", %zu other JSON files passed over", c.skipped);
	putchar('\n');
exit:
	if (rc)
		util_err("add: %s; nothing was added", c.err);
	store_close(&s);
	return rc;
}

int ingest_eval_main(int argc, char **argv)
{
	struct ingest_ctx c = { 0 };

	if (argc < 2) {
		util_err("eval: no result file given (usage: fl-history eval RESULT|DIR...)");
		return FL_EXIT_USAGE;
	}
	history_print_sample_header(stdout);
	if (ingest_args(&c, argc - 1, argv + 1) < 0) {
		util_err("eval: %s", c.err);
		return FL_EXIT_USAGE;
	}
	return 0;
}
