/* trend: values grouped into per-run series (series.h). */
#include "report/history/trend.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

static char *trend_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return strdup(t ? (const char *)t : "");
}

static void trend_free_one(struct trend *s)
{
	char **f[] = { &s->scenario, &s->arch, &s->host, &s->backend, &s->config_hash, &s->metric,
		       &s->better, &s->unit, &s->headline };

	for (size_t i = 0; i < FL_ARRAY_SIZE(f); i++)
		free(*f[i]);
	for (size_t i = 0; i < s->n; i++) {
		free(s->p[i].run_id);
		free(s->p[i].label);
		free(s->p[i].kernel);
		free(s->p[i].started_at);
	}
	free(s->p);
}

void trend_free(struct trend_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		trend_free_one(&set->s[i]);
	free(set->s);
	memset(set, 0, sizeof(*set));
}

/* Does the row (columns 0..5) start another series than s? */
static int trend_differs(const struct trend *s, sqlite3_stmt *st)
{
	const char *k[] = { s->scenario, s->arch, s->host, s->backend, s->config_hash, s->metric };

	for (int i = 0; i < 6; i++)
		if (strcmp(k[i], (const char *)sqlite3_column_text(st, i) ?: ""))
			return 1;
	return 0;
}

static struct trend *trend_new(struct trend_set *set, sqlite3_stmt *st)
{
	struct trend *s;

	if (set->n == set->cap) {
		size_t cap = set->cap ? 2 * set->cap : 64;
		struct trend *n = realloc(set->s, cap * sizeof(*n));

		if (!n)
			return NULL;
		set->s = n;
		set->cap = cap;
	}
	s = &set->s[set->n++];
	*s = (struct trend){ .scenario = trend_dup(st, 0), .arch = trend_dup(st, 1), .host = trend_dup(st, 2),
			      .backend = trend_dup(st, 3), .config_hash = trend_dup(st, 4),
			      .metric = trend_dup(st, 5), .better = trend_dup(st, 6), .unit = trend_dup(st, 7),
			      .headline = trend_dup(st, 12) };
	if (!s->scenario || !s->arch || !s->host || !s->backend || !s->config_hash || !s->metric || !s->better ||
	    !s->unit || !s->headline)
		return NULL;
	return s;
}

static struct trend_point *trend_point_new(struct trend *s, sqlite3_stmt *st)
{
	struct trend_point *p;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 32;
		struct trend_point *n = realloc(s->p, cap * sizeof(*n));

		if (!n)
			return NULL;
		s->p = n;
		s->cap = cap;
	}
	p = &s->p[s->n++];
	*p = (struct trend_point){ .run_id = trend_dup(st, 8), .label = trend_dup(st, 9),
				    .kernel = trend_dup(st, 10), .started_at = trend_dup(st, 11),
				    .min = INFINITY, .max = -INFINITY };
	free(s->headline); /* the latest run's headline */
	s->headline = trend_dup(st, 12);
	if (!p->run_id || !p->label || !p->kernel || !p->started_at || !s->headline)
		return NULL;
	return p;
}

int trend_load(struct store *store, const struct history_filter *f, struct trend_set *out, char *err,
		size_t errlen)
{
	char sql[2048], cond[512];
	sqlite3_stmt *st;
	struct trend *s = NULL;
	struct trend_point *p = NULL;
	long long run = -1;
	int rc;

	memset(out, 0, sizeof(*out));
	history_filter_sql(f, cond, sizeof(cond));
	snprintf(sql, sizeof(sql),
		 "SELECT r.scenario, r.arch, r.host, r.backend, r.config_hash, m.name, m.better, m.unit,"
		 " r.run_id, r.label, r.kernel_release, r.started_at, r.headline, r.id, s.value"
		 " FROM samples s JOIN runs r ON r.id = s.run JOIN metrics m ON m.id = s.metric"
		 " JOIN iterations i ON i.run = s.run AND i.iteration = s.iteration"
		 " WHERE r.status = 'ok' AND i.status = 'ok'%s"
		 " ORDER BY r.scenario, r.arch, r.host, r.backend, r.config_hash, m.name, r.started_at, r.run_id,"
		 " s.iteration",
		 cond);
	if (!(st = store_prepare(store, sql, err, errlen)))
		return FL_EXIT_USAGE;
	history_filter_bind(f, st, 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		double v = sqlite3_column_double(st, 14);

		if (!s || trend_differs(s, st)) {
			if (!(s = trend_new(out, st)))
				goto oom;
			run = -1;
		}
		if (sqlite3_column_int64(st, 13) != run) {
			if (!(p = trend_point_new(s, st)))
				goto oom;
			run = sqlite3_column_int64(st, 13);
		}
		p->mean += (v - p->mean) / ++p->n; /* running mean */
		p->min = fmin(p->min, v);
		p->max = fmax(p->max, v);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		trend_free(out);
		return store_error(store, "read series", err, errlen);
	}
	return 0;
oom:
	sqlite3_finalize(st);
	trend_free(out);
	snprintf(err, errlen, "series: out of memory (%s)", strerror(ENOMEM));
	return FL_EXIT_FAIL;
}

double trend_mean(const struct trend *s, size_t from, size_t to)
{
	double m = 0;

	for (size_t i = from; i < to; i++)
		m += (s->p[i].mean - m) / (double)(i - from + 1);
	return to > from ? m : NAN;
}

const char *trend_name(const struct trend *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s %s %s config %.8s %s", s->scenario, s->arch, s->host, s->backend, s->config_hash,
		 s->metric);
	return buf;
}
