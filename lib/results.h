/* results: one JSON document per run (schema "faultline-result/1", described
 * in docs/results.md), written atomically and never over an existing file. */
#ifndef FL_RESULTS_H
#define FL_RESULTS_H

#include <stddef.h>
#include <jansson.h>

#define RESULTS_SCHEMA "faultline-result/1"

/* Write doc to dir/name: a temporary file in dir, fsync, link() to the final
 * name (fails with EEXIST rather than overwrite), unlink the temporary,
 * fsync the directory.  0, or -1 with err. */
int results_write(const json_t *doc, const char *dir, const char *name, char *err, size_t errlen);

/* Load a result and check its schema and required fields; NULL with err
 * naming the file and the field. */
json_t *results_load(const char *path, char *err, size_t errlen);

/* Check a result in memory (what results_load checks after parsing). */
int results_validate(const json_t *doc, const char *path, char *err, size_t errlen);

/* How far a measured phase of duration_s may run past its duration before
 * the iteration is an error: max(1 s, 10% of the duration).  The runner
 * stops a phase within one 20 ms tick of its end, so a longer overrun means
 * it was not running (stopped, frozen, starved): the workloads then ran
 * unmeasured-for load beyond what the scenario declares, and a second or a
 * tenth of the phase is where that starts to change what is compared
 * (rates, refaults, memory pressure built up).  Shorter overruns are only
 * recorded (iterations[i].overrun_s). */
double results_overrun_limit_s(double duration_s);

/* The result file name both backends use: SCENARIO-LABEL[-TAG]-RUNID.json,
 * with every character other than [A-Za-z0-9._-] in scenario and label
 * turned into '_'.  tag may be NULL (native runs); the VM backend passes
 * "vm-ARCH". */
void results_name(char *out, size_t len, const char *scenario, const char *label, const char *tag,
		  const char *run_id);

#endif
