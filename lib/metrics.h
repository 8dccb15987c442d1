/* metrics: the catalogue of every metric the suite reports, declared once.
 *
 * A metric is a number derived from one iteration of a result
 * (results.md: iterations[i]) with a name, a kind, a unit and the direction
 * that is better.  Two sources feed the catalogue:
 *  - the role table (workloads/role.h): every histogram of a role gives its
 *    latency percentiles (ROLE.HIST.p50 ... .max, in us) and every counter
 *    of kind count gives a rate (ROLE.COUNTER_per_s), with the counter's
 *    own better-direction; a counter added to a role is reported without
 *    another line anywhere;
 *  - the probe table in metrics.c: lock, VMA-lock, vmstat, PSI and slowfs
 *    metrics, each an entry with its formula, and the antagonists' own
 *    figures (iterations[i].antagonists.NAME, summed or the worst over the
 *    antagonists of a kind).
 * The runner's summary, fl-report's tables, figures, JSON and JUnit, and
 * the scenario's report.headline check all iterate this catalogue. */
#ifndef FL_METRICS_H
#define FL_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

enum metric_kind { METRIC_LATENCY, METRIC_RATE, METRIC_RATIO, METRIC_COUNT, METRIC_NKINDS };
enum metric_better { METRIC_BETTER_NONE, METRIC_BETTER_HIGHER, METRIC_BETTER_LOWER };

/* Sections of a report, in display order. */
enum metric_section {
	METRIC_SECTION_LATENCY,  /* role latencies */
	METRIC_SECTION_RATE,     /* role rates */
	METRIC_SECTION_LOCK,     /* mmap_lock and per-VMA lock */
	METRIC_SECTION_MEMORY,   /* vmstat ratios, swap, slowfs */
	METRIC_SECTION_PRESSURE, /* PSI */
	METRIC_SECTION_ANTAGONIST, /* fio and stress-ng beside the workloads (bench/antagonists/) */
	METRIC_NSECTIONS
};

struct metric {
	char name[96];
	enum metric_kind kind;
	enum metric_section section;
	enum metric_better better;
	const char *unit; /* "us", "/s", "per 1000 faults", "%", "ms" */
	const char *help;
	int order;        /* stable order within a section */
	bool headline;    /* in the report's headline when a scenario declares none */
};

extern const char *const metric_kind_names[METRIC_NKINDS];   /* "latency", "rate", ... */
extern const char *const metric_section_titles[METRIC_NSECTIONS];
extern const char *const metric_better_names[3];             /* "none", "higher", "lower" */

/* Called once per metric an iteration has (absent inputs, zero
 * denominators and non-finite values are left out). */
typedef void (*metrics_fn)(void *ctx, const struct metric *m, double value);

/* Every metric of one iteration.  0, or -1 with err (a histogram that does
 * not parse, naming its path under the iteration). */
int metrics_eval(const json_t *iteration, metrics_fn fn, void *ctx, char *err, size_t errlen);

/* Every metric the catalogue can produce (role families expanded), in
 * catalogue order; for listing and for checking names. */
void metrics_each(metrics_fn fn, void *ctx);

/* The catalogue entry of name, or false. */
bool metrics_find(const char *name, struct metric *out);

/* The catalogue name closest to name (edit distance), for "did you mean". */
const char *metrics_suggest(const char *name, char *buf, size_t len);

/* Check a scenario's report.headline (names joined by ','; NULL or empty
 * is fine) against the catalogue: 0, or -1 with err "FILE: report.headline:
 * unknown metric 'X' (did you mean 'Y'?)". */
int metrics_check_headline(const char *joined, const char *file, char *err, size_t errlen);

#endif
