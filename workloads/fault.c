/* fault: victim threads that touch pages of the mapped files and time each
 * first touch.
 *
 * Thread i of n owns the slice [i*P/n, (i+1)*P/n) of the P pages of all files
 * (concatenated).  A pass visits the slice in the scenario's pattern, each
 * page at most once (zipf draws that repeat a page within the pass are
 * counted, not touched).  When a pass ends the thread zaps its slice's page
 * table entries (MADV_DONTNEED, pass_end=dontneed), so the next pass faults
 * again: a minor fault when the page is still in the page cache, a major one
 * when it was reclaimed or dropped; or reclaims its slice (MADV_PAGEOUT,
 * pass_end=pageout), which with victim.memory=anon writes the pages to swap,
 * so the next pass swaps them back in (major faults; none without swap).  Each touch is timed with two
 * CLOCK_MONOTONIC reads; with classify=rusage a getrusage(RUSAGE_THREAD) after
 * the touch (outside the timed span; it takes no mmap_lock) tells major,
 * minor, or no fault (e.g. mapped by fault-around).
 */
#define _GNU_SOURCE
#include "workloads/role.h"
#include "lib/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

/* no-fault touches are only counted: a third histogram per thread would add
 * 9 KiB per thread for the least interesting case */
#define FAULT_HISTS(X) \
	X(FAULT_HIST_MAJOR, "major") \
	X(FAULT_HIST_MINOR, "minor")
enum { FAULT_HISTS(ROLE_HIST_ENUM) FAULT_NHIST, FAULT_HIST_NOFAULT = FAULT_NHIST };
#define FAULT_COUNTERS(X) \
	X(FAULT_TOUCHES, "touches", COUNT, "touches", HIGHER) \
	X(FAULT_MAJOR, "major_faults", COUNT, "faults", NONE) \
	X(FAULT_MINOR, "minor_faults", COUNT, "faults", NONE) \
	X(FAULT_NOFAULT, "no_fault_touches", COUNT, "touches", NONE) \
	X(FAULT_WRITES, "write_touches", COUNT, "touches", NONE) \
	X(FAULT_PASSES, "passes", COUNT, "passes", HIGHER) \
	X(FAULT_REPEATS, "repeat_draws", COUNT, "draws", NONE) \
	X(FAULT_VERIFY_ERRORS, "verify_errors", COUNT, "errors", LOWER) \
	X(FAULT_VERIFIED_PAGES, "verified_pages", COUNT, "pages", NONE)
enum { FAULT_COUNTERS(ROLE_COUNTER_ENUM) FAULT_NCOUNTERS };

static const char *const fault_hist_names[FAULT_NHIST] = { FAULT_HISTS(ROLE_HIST_NAME) };
static const struct role_counter fault_counters[] = { FAULT_COUNTERS(ROLE_COUNTER_DESC) };

static int64_t fault_threads(const struct config *cfg)
{
	return cfg->victim.fault_threads;
}

static int fault_setup(struct workload *w, char *err, size_t errlen)
{
	const struct config *cfg = w->cfg;
	uint64_t slice = w->total_pages / (uint64_t)(cfg->victim.fault_threads ? cfg->victim.fault_threads : 1);

	if (cfg->victim.fault_threads > 0 && cfg->victim.pattern == PATTERN_ZIPF &&
	    pattern_zipf_init(&w->zipf, slice ? slice : 1, cfg->victim.zipf_theta) < 0) {
		snprintf(err, errlen, "fault: zipf setup over %llu pages with theta %g: %s",
			 (unsigned long long)slice, cfg->victim.zipf_theta, strerror(errno));
		return -1;
	}
	return 0;
}

struct fault_walk {
	uint64_t n, k, lap, next; /* slice size, draws this pass, stride state */
	struct pattern_perm perm;
};

static void fault_pass_start(struct fault_walk *fw, const struct config *cfg, uint64_t stream, uint64_t pass)
{
	fw->k = 0;
	fw->lap = 0;
	fw->next = 0;
	if (cfg->victim.pattern == PATTERN_RANDOM)
		pattern_perm_init(&fw->perm, fw->n, pattern_mix64((uint64_t)cfg->seed ^ (stream << 32) ^ pass));
}

/* Next page index within the slice for this pass; n (the slice size) when the
 * pass is over. */
static uint64_t fault_next(struct fault_walk *fw, const struct workload *w, struct pattern_rng *rng)
{
	const struct config *cfg = w->cfg;
	uint64_t stride = (uint64_t)cfg->victim.stride_pages, p;

	if (fw->k >= fw->n)
		return fw->n;
	fw->k++;
	switch (cfg->victim.pattern) {
	case PATTERN_SEQUENTIAL:
		return fw->k - 1;
	case PATTERN_RANDOM:
		return pattern_perm_at(&fw->perm, fw->k - 1);
	case PATTERN_ZIPF:
		p = pattern_zipf_next(&w->zipf, rng);
		return p < fw->n ? p : p % fw->n;
	case PATTERN_STRIDE:
	default:
		/* lap 0 visits 0, s, 2s, ...; lap 1 visits 1, 1+s, ...: every page once */
		if (fw->next >= fw->n) {
			fw->lap++;
			fw->next = fw->lap;
		}
		p = fw->next;
		fw->next += stride;
		return p;
	}
}

static void *fault_run(void *arg)
{
	struct role_thread *t = arg;
	struct workload *w = t->w;
	const struct config *cfg = w->cfg;
	struct arena_slot *slot = t->slot;
	struct arena *arena = w->arena;
	const uint64_t page = w->page_bytes;
	uint64_t first = w->total_pages * t->index / t->nthreads;
	uint64_t last = w->total_pages * (t->index + 1) / t->nthreads;
	struct fault_walk fw = { .n = last - first };
	uint64_t *seen = NULL, sink = 0, pass = 0;
	bool classify = cfg->victim.classify == CLASSIFY_RUSAGE;
	/* write decisions: a touch writes when a 53-bit draw is below this */
	uint64_t write_below = (uint64_t)(cfg->victim.write_ratio * 9007199254740992.0);
	struct pattern_rng rng;
	struct rusage ru;
	long majflt = 0, minflt = 0;

	pattern_rng_seed(&rng, (uint64_t)cfg->seed, 0x1000000ull + t->index);
	if (cfg->victim.pattern == PATTERN_ZIPF) {
		seen = calloc((fw.n + 63) / 64, sizeof(uint64_t));
		if (!seen) {
			fprintf(stderr, "faultline: fault thread %u: allocating a %llu-page bitmap: %s\n", t->index,
				(unsigned long long)fw.n, strerror(errno));
			role_done(t);
			return NULL;
		}
	}
	role_ready(t);
	if (classify) {
		getrusage(RUSAGE_THREAD, &ru);
		majflt = ru.ru_majflt;
		minflt = ru.ru_minflt;
	}
	while (arena_phase(arena) != ARENA_STOP) {
		uint64_t p;

		fault_pass_start(&fw, cfg, t->index, pass);
		while ((p = fault_next(&fw, w, &rng)) < fw.n) {
			uint64_t g = first + p, t0, t1;
			char *addr = w->maps[g / w->pages_per_file] + (g % w->pages_per_file) * page;
			bool write = write_below && (pattern_rng_next(&rng) >> 11) < write_below;
			int phase = arena_phase(arena);
			unsigned kind = FAULT_HIST_NOFAULT;

			if (phase == ARENA_STOP)
				break;
			if (seen) {
				if (seen[p / 64] & (1ull << (p % 64))) {
					if (phase == ARENA_MEASURE)
						arena_count(slot, FAULT_REPEATS, 1);
					continue;
				}
				seen[p / 64] |= 1ull << (p % 64);
			}
			t0 = util_now_ns();
			if (write)
				__atomic_fetch_add((uint64_t *)addr, 0, __ATOMIC_RELAXED); /* write fault, same bytes */
			else
				sink += *(volatile uint64_t *)addr;
			t1 = util_now_ns();
			if (classify) {
				getrusage(RUSAGE_THREAD, &ru);
				if (ru.ru_majflt != majflt)
					kind = FAULT_HIST_MAJOR;
				else if (ru.ru_minflt != minflt)
					kind = FAULT_HIST_MINOR;
				majflt = ru.ru_majflt;
				minflt = ru.ru_minflt;
			} else {
				kind = FAULT_HIST_MINOR; /* unclassified: everything in one histogram */
			}
			if (phase != ARENA_MEASURE)
				continue;
			if (kind != FAULT_HIST_NOFAULT)
				hist_record(&slot->hist[kind], t1 - t0);
			arena_count(slot, FAULT_TOUCHES, 1);
			arena_count(slot, kind == FAULT_HIST_MAJOR ? FAULT_MAJOR
					  : kind == FAULT_HIST_MINOR ? FAULT_MINOR : FAULT_NOFAULT, 1);
			if (write)
				arena_count(slot, FAULT_WRITES, 1);
			if (cfg->victim.verify) {
				uint64_t file = g / w->pages_per_file, off = (g % w->pages_per_file) * page;

				if (pattern_check(file, off, addr, page) != page)
					arena_count(slot, FAULT_VERIFY_ERRORS, 1);
				arena_count(slot, FAULT_VERIFIED_PAGES, 1);
			}
		}
		if (cfg->victim.pass_end != PASS_END_NONE && fw.n > 0) {
			/* zap the slice's PTEs (dontneed) or reclaim it (pageout: file
			 * pages with shadow entries, anonymous ones to swap), file by
			 * file (a slice may span files) */
			int advice = cfg->victim.pass_end == PASS_END_PAGEOUT ? MADV_PAGEOUT : MADV_DONTNEED;
			uint64_t g = first;

			while (g < last) {
				uint64_t file = g / w->pages_per_file, in = g % w->pages_per_file;
				uint64_t n = w->pages_per_file - in;

				if (n > last - g)
					n = last - g;
				madvise(w->maps[file] + in * page, n * page, advice);
				g += n;
			}
		}
		if (seen)
			memset(seen, 0, (fw.n + 63) / 64 * sizeof(uint64_t));
		if (arena_phase(arena) == ARENA_MEASURE)
			arena_count(slot, FAULT_PASSES, 1);
		pass++;
	}
	free(seen);
	role_done(t);
	return (void *)(uintptr_t)(sink & 1); /* keep the reads */
}

const struct role fault_role = {
	.name = "fault",
	.process = PROCESS_VICTIM,
	.threads = fault_threads,
	.nhist = FAULT_NHIST,
	.hist_names = fault_hist_names,
	.ncounters = FAULT_NCOUNTERS,
	.counters = fault_counters,
	.setup = fault_setup,
	.run = fault_run,
};
