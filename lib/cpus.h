/* cpus: CPU lists ("0", "0-1", "0,2-3") of the cpus.* scenario keys, which
 * place the runner, the workload processes and single victim roles on set
 * CPUs (docs/noise.md).  Empty = no placement: the scheduler decides. */
#ifndef FL_CPUS_H
#define FL_CPUS_H

#include <sched.h>
#include <stddef.h>

#include "lib/config.h"

/* Parse text (may be empty or NULL: an empty set) into set.  0, or -1 with
 * err saying what is wrong (without the key: the caller names it). */
int cpus_parse(const char *text, cpu_set_t *set, char *err, size_t errlen);
/* set as a CPU list ("0-1,3"), "" when empty. */
void cpus_format(const cpu_set_t *set, char *buf, size_t len);
/* The CPU list of a victim role's own key (cpus.fault, cpus.writer,
 * cpus.evictor, cpus.odirect), NULL when the role has none or it is empty. */
const char *cpus_of_role(const struct config *c, const char *role);

#endif
