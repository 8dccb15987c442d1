/* history: fl-history's entry point and what its commands share: the
 * options every command takes (--db and the series filters), the
 * tab-separated sample line that `show --tsv` and `eval` both print, and
 * the 64-bit FNV-1a hash of canonical JSON used for config and content
 * hashes. */
#ifndef FL_HISTORY_HISTORY_H
#define FL_HISTORY_HISTORY_H

#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

/* Series filters (docs/nightly.md); NULL = any. */
struct history_filter {
	const char *scenario, *metric, *arch, *host, *label, *since;
};

/* One stored value and the run it belongs to. */
struct history_sample {
	const char *scenario, *arch, *host, *backend, *config_hash, *metric;
	const char *run_id, *label, *kernel_release, *started_at, *status;
	long long iteration;
	const char *iteration_status;
	double value;
};

/* "scenario arch host backend config metric run_id label kernel started_at
 * status iteration iteration_status value" separated by tabs, the value
 * with %.17g (exact), one line. */
void history_print_sample(FILE *out, const struct history_sample *s);
void history_print_sample_header(FILE *out);

/* FNV-1a 64 of json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT), as 16 hex
 * digits into out[17]; -1 when j cannot be encoded. */
int history_json_hash(const json_t *j, char out[17]);

/* Apply a filter option (--scenario ... --since); 1 when opt was one. */
int history_filter_option(struct history_filter *f, const char *opt, const char *value);

/* The SQL condition of a filter over runs r and metrics m (" AND ..."),
 * with ?NNN parameters bound by history_filter_bind from index first. */
void history_filter_sql(const struct history_filter *f, char *buf, size_t len);
struct sqlite3_stmt;
void history_filter_bind(const struct history_filter *f, struct sqlite3_stmt *st, int first);

#endif
