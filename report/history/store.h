/* store: the history database (one SQLite file).  Schema version in
 * PRAGMA user_version, the file's owner in PRAGMA application_id ("FlHi"),
 * WAL journal and a busy timeout so that several processes can add at
 * once.  Tables (docs/nightly.md):
 *   runs(id, host, run_id, arch, backend, kernel_*, label, scenario,
 *        config_hash, headline, started_at, status, ...)  one per result,
 *        UNIQUE(host, run_id): adding the same result again is a no-op;
 *   iterations(run, iteration, status);
 *   metrics(id, name, kind, unit, better)  the catalogue entries seen;
 *   samples(run, metric, iteration, value)  every metric metrics_eval gave. */
#ifndef FL_HISTORY_STORE_H
#define FL_HISTORY_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <sqlite3.h>

#define STORE_SCHEMA_VERSION 1
#define STORE_APPLICATION_ID 0x466c4869 /* "FlHi" */
#define STORE_DEFAULT_PATH "results/history.sqlite"

struct store {
	sqlite3 *db;
	const char *path;
};

/* Open path; with create, make it (and its schema) when missing.  0, or an
 * exit status (2: corrupt, foreign or newer file; 3: missing) with err. */
int store_open(struct store *s, const char *path, bool create, char *err, size_t errlen);
void store_close(struct store *s);

/* "store: PATH: OP: sqlite message" into err; returns 2 (bad input: the
 * file is corrupt or locked beyond the timeout) as an exit status. */
int store_error(const struct store *s, const char *op, char *err, size_t errlen);

/* Run SQL without results; 0 or store_error(). */
int store_exec(struct store *s, const char *sql, char *err, size_t errlen);

/* Prepare SQL; NULL with err. */
sqlite3_stmt *store_prepare(struct store *s, const char *sql, char *err, size_t errlen);

#endif
