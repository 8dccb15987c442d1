/* evictor: memory pressure where no memory controller can make it.  A
 * thread in the victim process evicts a chunk of a random file at a random
 * offset, at a set rate, by one or both methods (pressure.methods):
 *  - fadvise: posix_fadvise(POSIX_FADV_DONTNEED) on the file range.  No
 *    mmap_lock; drops the pages nobody maps (the fault threads zap their
 *    PTEs after every pass) but, unlike reclaim, leaves no shadow entry, so
 *    the next read is a major fault the kernel does not count as a refault.
 *  - pageout: madvise(MADV_PAGEOUT) on the victim's mapping of that range:
 *    the reclaim path proper (pages mapped at the time are unmapped and
 *    freed with shadow entries, so re-reads count in workingset_refault_*),
 *    at the price of an mmap_lock read acquisition per call, which real
 *    reclaim does not take.
 * Recorded in results as pressure "emulated", with the methods.  The files
 * are opened once, in setup, as the runner verified them
 * (workload_open_verified: no symbolic link, the same device and inode);
 * one that is not is refused and the victim fails its set-up naming it. */
#define _GNU_SOURCE
#include "workloads/role.h"
#include "lib/util.h"
#include "workloads/workload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define EVICTOR_HISTS(X) \
	X(EVICTOR_HIST_FADVISE, "fadvise") \
	X(EVICTOR_HIST_PAGEOUT, "pageout")
enum { EVICTOR_HISTS(ROLE_HIST_ENUM) EVICTOR_NHIST };
#define EVICTOR_COUNTERS(X) \
	X(EVICTOR_CALLS, "calls", COUNT, "calls", NONE) \
	X(EVICTOR_BYTES, "bytes_dropped_requested", COUNT, "bytes", NONE) \
	X(EVICTOR_ERRORS, "errors", COUNT, "errors", LOWER)
enum { EVICTOR_COUNTERS(ROLE_COUNTER_ENUM) EVICTOR_NCOUNTERS };
static const char *const evictor_hist_names[EVICTOR_NHIST] = { EVICTOR_HISTS(ROLE_HIST_NAME) };
static const struct role_counter evictor_counters[] = { EVICTOR_COUNTERS(ROLE_COUNTER_DESC) };

static int64_t evictor_threads(const struct config *cfg)
{
	return cfg->pressure.mode == PRESSURE_EMULATE ? 1 : 0;
}

/* The files (for the fadvise method), opened by setup for the one evictor
 * thread, which closes them; -1 where not opened. */
static int *evictor_fds;

static int evictor_setup(struct workload *w, char *err, size_t errlen)
{
	char why[600];

	evictor_fds = malloc((size_t)w->cfg->victim.file_count * sizeof(int));
	if (!evictor_fds) {
		snprintf(err, errlen, "evictor: allocating %lld descriptors: %s", (long long)w->cfg->victim.file_count,
			 strerror(errno));
		return -1;
	}
	for (int64_t i = 0; i < w->cfg->victim.file_count; i++)
		evictor_fds[i] = -1;
	for (int64_t i = 0; (w->cfg->pressure.methods & EVICT_FADVISE) && i < w->cfg->victim.file_count; i++) {
		evictor_fds[i] = workload_open_verified(w, i, O_RDONLY, why, sizeof(why));
		if (evictor_fds[i] >= 0)
			continue;
		snprintf(err, errlen, "evictor: %s", why);
		while (--i >= 0)
			close(evictor_fds[i]);
		free(evictor_fds);
		evictor_fds = NULL;
		return -1;
	}
	return 0;
}

static void *evictor_run(void *arg)
{
	struct role_thread *t = arg;
	struct workload *w = t->w;
	const struct config *cfg = w->cfg;
	struct arena_slot *slot = t->slot;
	uint64_t chunk = cfg->pressure.chunk_bytes, size = cfg->victim.file_size_bytes;
	uint64_t period = (uint64_t)(1e9 * (double)chunk / (double)cfg->pressure.evict_bytes_per_s), next;
	int *fds = evictor_fds;
	struct pattern_rng rng;

	if (chunk > size)
		chunk = size;
	pattern_rng_seed(&rng, (uint64_t)cfg->seed, 0x3000000ull + t->index);
	role_ready(t);
	next = util_now_ns();
	while (fds && arena_phase(w->arena) != ARENA_STOP) {
		uint64_t file = pattern_rng_below(&rng, (uint64_t)cfg->victim.file_count);
		uint64_t off = pattern_rng_below(&rng, (size - chunk) / w->page_bytes + 1) * w->page_bytes, t0, t1;
		bool measuring;
		int r;

		role_pace(&next, period);
		measuring = arena_phase(w->arena) == ARENA_MEASURE;
		if ((cfg->pressure.methods & EVICT_PAGEOUT) && w->maps) {
			/* first what is mapped: reclaim, with shadow entries */
			t0 = util_now_ns();
			r = madvise(w->maps[file] + off, chunk, MADV_PAGEOUT) < 0 ? errno : 0;
			t1 = util_now_ns();
			if (measuring && r)
				arena_count(slot, EVICTOR_ERRORS, 1);
			else if (measuring)
				hist_record(&slot->hist[EVICTOR_HIST_PAGEOUT], t1 - t0);
		}
		if (cfg->pressure.methods & EVICT_FADVISE) {
			t0 = util_now_ns();
			r = fds[file] >= 0 ? posix_fadvise(fds[file], (off_t)off, (off_t)chunk, POSIX_FADV_DONTNEED)
					   : EBADF;
			t1 = util_now_ns();
			if (measuring && r)
				arena_count(slot, EVICTOR_ERRORS, 1);
			else if (measuring)
				hist_record(&slot->hist[EVICTOR_HIST_FADVISE], t1 - t0);
		}
		if (!measuring)
			continue;
		arena_count(slot, EVICTOR_CALLS, 1);
		arena_count(slot, EVICTOR_BYTES, chunk);
	}
	for (int64_t i = 0; fds && i < cfg->victim.file_count; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	evictor_fds = NULL;
	role_done(t);
	return NULL;
}

const struct role evictor_role = {
	.name = "evictor",
	.process = PROCESS_VICTIM,
	.threads = evictor_threads,
	.nhist = EVICTOR_NHIST,
	.hist_names = evictor_hist_names,
	.ncounters = EVICTOR_NCOUNTERS,
	.counters = evictor_counters,
	.setup = evictor_setup,
	.run = evictor_run,
};
