/* collect: what an iteration measured, from the arena and the probes, and
 * the run's summary over iterations (merged histograms, summed counters),
 * as JSON and as the closing text.  Private to bench/runner/. */
#ifndef FL_COLLECT_H
#define FL_COLLECT_H

#include <jansson.h>

struct run;
struct arena;
struct series;

/* Histograms and counters of every role, from the arena (iterations[i].roles);
 * merged into the run's summary too. */
json_t *collect_roles(struct run *r, const struct arena *a);

/* The probes' deltas of an iteration (iterations[i].probes), added to the
 * run's summary; the workload probe's are left out (they are the roles'). */
json_t *collect_probes(struct run *r, struct series *s);

/* The slowfs counters since the iteration's reset (iterations[i].slowfs), or NULL. */
json_t *collect_slowfs(struct run *r);

/* The result document (docs/results.md) of the run so far. */
json_t *collect_document(struct run *r, json_t *iterations);

/* summary: roles' merged histograms, counters and probes summed. */
json_t *collect_summary(struct run *r);

/* The closing lines on stdout; result_path NULL when none was written. */
void collect_print_summary(struct run *r, const json_t *doc, const char *result_path);

#endif
