/* trend: the store's values grouped into series, one per (scenario, arch,
 * host, backend, config hash, metric), each point one run: the mean of its
 * iterations and their spread, runs in started_at order.  Only runs and
 * iterations with status "ok" make points (the others stay in the store and
 * in `show --tsv`). */
#ifndef FL_HISTORY_TREND_H
#define FL_HISTORY_TREND_H

#include <stddef.h>

#include "report/history/history.h"
#include "report/history/store.h"

struct trend_point {
	char *run_id, *label, *kernel, *started_at;
	double mean, min, max;
	int n; /* iterations */
};

struct trend {
	char *scenario, *arch, *host, *backend, *config_hash, *metric, *better, *unit;
	char *headline; /* of the latest run: the scenario's watched metrics */
	struct trend_point *p;
	size_t n, cap;
};

struct trend_set {
	struct trend *s;
	size_t n, cap;
};

/* Every series the filter selects; 0, or an exit status with err. */
int trend_load(struct store *st, const struct history_filter *f, struct trend_set *out, char *err, size_t errlen);
void trend_free(struct trend_set *set);

/* Means of points [from, to). */
double trend_mean(const struct trend *s, size_t from, size_t to);

/* "scenario arch host backend config metric" in one line, into buf. */
const char *trend_name(const struct trend *s, char *buf, size_t len);

#endif
