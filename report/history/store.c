/* store: the history database file (store.h). */
#include "report/history/store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/util.h"

/* Each entry takes the schema from version i to i + 1 (index 0: create). */
static const char *const store_migrations[STORE_SCHEMA_VERSION] = {
	"CREATE TABLE runs("
	" id INTEGER PRIMARY KEY, host TEXT NOT NULL, run_id TEXT NOT NULL, arch TEXT NOT NULL,"
	" backend TEXT NOT NULL, kernel_release TEXT NOT NULL, kernel_source TEXT NOT NULL,"
	" kernel_patches TEXT NOT NULL, kernel_config_hash TEXT NOT NULL, kernel_manifest TEXT NOT NULL,"
	" label TEXT NOT NULL, scenario TEXT NOT NULL, config_hash TEXT NOT NULL, headline TEXT NOT NULL,"
	" started_at TEXT NOT NULL, status TEXT NOT NULL, content_hash TEXT NOT NULL,"
	" source_file TEXT NOT NULL, ingested_at TEXT NOT NULL, UNIQUE(host, run_id));"
	"CREATE INDEX runs_by_series ON runs(scenario, arch, host, backend, config_hash, started_at);"
	"CREATE TABLE iterations(run INTEGER NOT NULL REFERENCES runs(id), iteration INTEGER NOT NULL,"
	" status TEXT NOT NULL, PRIMARY KEY(run, iteration)) WITHOUT ROWID;"
	"CREATE TABLE metrics(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,"
	" unit TEXT NOT NULL, better TEXT NOT NULL);"
	"CREATE TABLE samples(run INTEGER NOT NULL REFERENCES runs(id), metric INTEGER NOT NULL REFERENCES metrics(id),"
	" iteration INTEGER NOT NULL, value REAL NOT NULL, PRIMARY KEY(run, metric, iteration)) WITHOUT ROWID;"
	"CREATE INDEX samples_by_metric ON samples(metric, run);",
};

int store_error(const struct store *s, const char *op, char *err, size_t errlen)
{
	int code = s->db ? sqlite3_extended_errcode(s->db) : SQLITE_ERROR;
	const char *why = "";

	if ((code & 0xff) == SQLITE_NOTADB || (code & 0xff) == SQLITE_CORRUPT)
		why = " (the file is corrupt or not a faultline history database; nothing was changed)";
	else if ((code & 0xff) == SQLITE_BUSY)
		why = " (another process held the database past the busy timeout; nothing was changed)";
	snprintf(err, errlen, "store: %s: %s: %s%s", s->path, op, s->db ? sqlite3_errmsg(s->db) : "no database", why);
	return FL_EXIT_USAGE;
}

int store_exec(struct store *s, const char *sql, char *err, size_t errlen)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		char op[80];

		snprintf(op, sizeof(op), "%.60s", sql);
		return store_error(s, op, err, errlen);
	}
	return 0;
}

sqlite3_stmt *store_prepare(struct store *s, const char *sql, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		char op[96];

		snprintf(op, sizeof(op), "prepare %.70s", sql);
		store_error(s, op, err, errlen);
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

static int store_pragma_int(struct store *s, const char *sql, long long *out, char *err, size_t errlen)
{
	sqlite3_stmt *st = store_prepare(s, sql, err, errlen);
	int rc;

	if (!st)
		return FL_EXIT_USAGE;
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_error(s, sql, err, errlen);
	return 0;
}

/* Bring the schema to STORE_SCHEMA_VERSION under the write lock (a second
 * process creating the same file waits here and then finds it made). */
static int store_schema(struct store *s, bool create, char *err, size_t errlen)
{
	long long app, ver, tables;
	int rc;

	if ((rc = store_exec(s, "BEGIN IMMEDIATE", err, errlen)))
		return rc;
	if ((rc = store_pragma_int(s, "PRAGMA application_id", &app, err, errlen)) ||
	    (rc = store_pragma_int(s, "PRAGMA user_version", &ver, err, errlen)) ||
	    (rc = store_pragma_int(s, "SELECT count(*) FROM sqlite_master", &tables, err, errlen)))
		goto exit;
	rc = FL_EXIT_USAGE;
	if (app != STORE_APPLICATION_ID && (tables > 0 || app != 0)) {
		snprintf(err, errlen,
			 "store: %s: an SQLite database of something else (application_id %#llx, %lld tables), "
			 "not a faultline history; refusing to touch it", s->path, app, tables);
		goto exit;
	}
	if (ver > STORE_SCHEMA_VERSION) {
		snprintf(err, errlen,
			 "store: %s: schema version %lld is newer than this fl-history reads (%d): use the "
			 "fl-history that made it, or a newer one; the file was not changed",
			 s->path, ver, STORE_SCHEMA_VERSION);
		goto exit;
	}
	if (app == 0 && !create) {
		snprintf(err, errlen, "store: %s: an empty database (make one with `history add`)", s->path);
		rc = FL_EXIT_NORESOURCE;
		goto exit;
	}
	for (long long v = ver; v < STORE_SCHEMA_VERSION; v++) {
		char sql[64];

		if ((rc = store_exec(s, store_migrations[v], err, errlen)))
			goto exit;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %lld", v + 1);
		if ((rc = store_exec(s, sql, err, errlen)))
			goto exit;
	}
	{
		char sql[64];

		snprintf(sql, sizeof(sql), "PRAGMA application_id = %d", STORE_APPLICATION_ID);
		if ((rc = store_exec(s, sql, err, errlen)) || (rc = store_exec(s, "COMMIT", err, errlen)))
			goto exit;
	}
	return 0;
exit:
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static void store_unlink_all(const char *path)
{
	char side[4200];

	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
}

/* A new database is made whole under a temporary name and linked into
 * place: link() fails if another process made the file first, and then
 * that one is used.  So no one ever opens a half-made file, two processes
 * creating it at once are both fine, and a failed create leaves nothing. */
static int store_create(const char *path, char *err, size_t errlen)
{
	char tmp[4096];
	struct store t = { .path = tmp };
	int rc;

	snprintf(tmp, sizeof(tmp), "%s.tmp-%d", path, (int)getpid());
	store_unlink_all(tmp);
	if (sqlite3_open_v2(tmp, &t.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		rc = store_error(&t, "create", err, errlen);
		goto exit;
	}
	if ((rc = store_exec(&t, "PRAGMA journal_mode = WAL", err, errlen)) || (rc = store_schema(&t, true, err, errlen)))
		goto exit;
	sqlite3_close(t.db);
	t.db = NULL;
	if (link(tmp, path) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "store: %s: link from %s: %s", path, tmp, strerror(errno));
		rc = FL_EXIT_FAIL;
		goto exit;
	}
	rc = 0;
exit:
	if (t.db)
		sqlite3_close(t.db);
	store_unlink_all(tmp);
	return rc;
}

int store_open(struct store *s, const char *path, bool create, char *err, size_t errlen)
{
	struct stat st;
	int rc;

	*s = (struct store){ .path = path };
	if (stat(path, &st) < 0) {
		if (errno != ENOENT || !create) {
			snprintf(err, errlen, "store: %s: %s%s", path, strerror(errno),
				 errno == ENOENT ? " (make it with `history add`)" : "");
			return errno == ENOENT ? FL_EXIT_NORESOURCE : FL_EXIT_USAGE;
		}
		if ((rc = store_create(path, err, errlen)))
			return rc;
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "store: %s: not a regular file", path);
		return FL_EXIT_USAGE;
	}
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
		rc = store_error(s, "open", err, errlen);
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 60000);
	if ((rc = store_exec(s, "PRAGMA journal_mode = WAL", err, errlen)) ||
	    (rc = store_exec(s, "PRAGMA foreign_keys = ON", err, errlen)) ||
	    (rc = store_schema(s, create, err, errlen)))
		goto fail;
	return 0;
fail:
	store_close(s);
	return rc;
}

void store_close(struct store *s)
{
	if (s->db)
		sqlite3_close(s->db);
	s->db = NULL;
}
