/* noise: what the runner does against run-to-run noise that it can
 * control (docs/noise.md): CPU placement of the runner and the workload
 * processes (cpus.* keys), writeback of the victim's files before each
 * iteration's page-cache drop (iteration.writeback), and the machine's
 * state at each iteration's start, recorded with the iteration (load
 * average, placement, writeback time). */
#ifndef FL_NOISE_H
#define FL_NOISE_H

#include <jansson.h>

#include "bench/runner/run.h"

/* After the scenario is resolved: the automatic warm-up (warmup_s -1)
 * becomes seconds (20% of duration_s, at most NOISE_WARMUP_MAX_S), and
 * every cpus.* key must be a CPU list of CPUs this process may use; those
 * CPUs are remembered (for the children when the runner is placed).  0, or
 * -1 with err "FILE: cpus.KEY: why (value V)". */
#define NOISE_WARMUP_MAX_S 2.0
#define NOISE_WARMUP_SHARE 0.2
int noise_resolve(struct config *c, const char *file, char *err, size_t errlen);
/* Place the runner (cpus.runner, checked by noise_resolve); threads it
 * starts later inherit it.  Each iteration records where it ran. */
void noise_place_runner(const struct config *c);
/* In a forked child, before exec: place it (cpus.victim or cpus.observer),
 * else give it back every CPU the runner started with.  -1 with errno. */
int noise_place_child(const struct config *c, const char *process);
/* At an iteration's start, before the page-cache drop: write back the
 * victim's files (iteration.writeback, dir storage) and record it
 * (writeback_s), the load average and the placement in it.  0, or -1
 * with err (the write-back failed). */
int noise_iteration_start(struct run *r, json_t *it, char *err, size_t errlen);
/* Dir storage, iteration.exclusive: lock the files' directory (flock) for
 * the rest of the run, waiting while another run holds it (said once on
 * stderr; the wait is recorded in the storage info, exclusive_wait_s).
 * 0, or -1 when the run must stop while waiting (its status says why). */
int noise_lock_files(struct run *r);
/* The resolved scenario for iteration index's workload processes, in a
 * memfd (config_to_memfd), with that iteration's seed (iteration.seed vary:
 * seed + index), recorded in it.  The fd, or -1 with err. */
int noise_config_fd(struct run *r, int64_t index, json_t *it, char *err, size_t errlen);

#endif
