/* writer: victim threads that take the address-space lock for writing
 * (mmap, munmap, mprotect) or for reading with a VMA walk (madvise
 * DONTNEED), in the same mm as the fault threads, timing each call.
 *
 * target=own: the calls work on the writer's own small mappings, so they
 * contend with the faults only through the lock.  target=fault_vma: mprotect
 * and madvise work on a random sub-range of a file mapping the fault threads
 * are faulting on; mprotect toggles PROT_EXEC on the sub-range, which splits
 * the VMA in three and merges it back (the case argued about in review)
 * without changing what the fault threads may do.
 */
#define _GNU_SOURCE
#include "workloads/role.h"
#include "lib/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define WRITER_HISTS(X) \
	X(WRITER_HIST_MMAP, "mmap") \
	X(WRITER_HIST_MUNMAP, "munmap") \
	X(WRITER_HIST_MPROTECT, "mprotect") \
	X(WRITER_HIST_MADVISE, "madvise")
enum { WRITER_HISTS(ROLE_HIST_ENUM) WRITER_NHIST };
#define WRITER_COUNTERS(X) \
	X(WRITER_OPS, "ops", COUNT, "ops", HIGHER) \
	X(WRITER_MMAP_MUNMAP, "mmap_munmap_ops", COUNT, "ops", HIGHER) \
	X(WRITER_MPROTECT, "mprotect_ops", COUNT, "ops", HIGHER) \
	X(WRITER_MADVISE, "madvise_ops", COUNT, "ops", HIGHER) \
	X(WRITER_ERRORS, "errors", COUNT, "errors", LOWER) \
	X(WRITER_LAST_ERRNO, "last_errno", ERRNO, "errno", NONE)
enum { WRITER_COUNTERS(ROLE_COUNTER_ENUM) WRITER_NCOUNTERS };

static const char *const writer_hist_names[WRITER_NHIST] = { WRITER_HISTS(ROLE_HIST_NAME) };
static const struct role_counter writer_counters[] = { WRITER_COUNTERS(ROLE_COUNTER_DESC) };

static int64_t writer_threads(const struct config *cfg)
{
	return cfg->victim.writer_threads;
}

static void writer_error(struct arena_slot *slot, bool measuring)
{
	if (measuring)
		role_error(slot, WRITER_ERRORS, WRITER_LAST_ERRNO, errno);
}

/* A page-aligned range of len bytes inside a random file mapping. */
static char *writer_fault_range(const struct workload *w, struct pattern_rng *rng, size_t len)
{
	const size_t page = w->page_bytes;
	uint64_t pages = len / page, file = pattern_rng_below(rng, (uint64_t)w->cfg->victim.file_count);
	uint64_t start = w->pages_per_file > pages + 2 ? 1 + pattern_rng_below(rng, w->pages_per_file - pages - 1) : 0;

	return w->maps[file] + start * page;
}

static void *writer_run(void *arg)
{
	struct role_thread *t = arg;
	struct workload *w = t->w;
	const struct config *cfg = w->cfg;
	struct arena_slot *slot = t->slot;
	const size_t page = w->page_bytes;
	size_t len = cfg->victim.writer.map_bytes;
	bool on_fault_vma = cfg->victim.writer.target == WRITER_TARGET_FAULT_VMA && w->maps;
	uint64_t period = cfg->victim.writer.rate_per_s > 0 ? (uint64_t)(1e9 / cfg->victim.writer.rate_per_s) : 0;
	uint64_t next = 0;
	char *own;
	unsigned op = 0;
	struct pattern_rng rng;

	if (on_fault_vma && len + 3 * page > w->pages_per_file * page)
		len = page; /* a sub-range must leave room on both sides to split the VMA */
	pattern_rng_seed(&rng, (uint64_t)cfg->seed, 0x2000000ull + t->index);
	own = mmap(NULL, len + 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (own == MAP_FAILED) {
		fprintf(stderr, "faultline: writer thread %u: mmap of %zu bytes: %s\n", t->index, len, strerror(errno));
		role_done(t);
		return NULL;
	}
	memset(own, 1, len + 2 * page);
	role_ready(t);
	next = util_now_ns();
	while (arena_phase(w->arena) != ARENA_STOP) {
		bool measuring;
		uint64_t t0, t1, t2, t3;

		role_pace(&next, period);
		measuring = arena_phase(w->arena) == ARENA_MEASURE;
		while (!(cfg->victim.writer.ops & (1u << (op % 3))))
			op++;
		switch (op++ % 3) {
		case 0: { /* WRITER_OP_MMAP_MUNMAP */
			void *p;

			t0 = util_now_ns();
			p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			t1 = util_now_ns();
			if (p == MAP_FAILED) {
				writer_error(slot, measuring);
				break;
			}
			t2 = util_now_ns();
			if (munmap(p, len) < 0)
				writer_error(slot, measuring);
			t3 = util_now_ns();
			if (measuring) {
				hist_record(&slot->hist[WRITER_HIST_MMAP], t1 - t0);
				hist_record(&slot->hist[WRITER_HIST_MUNMAP], t3 - t2);
				arena_count(slot, WRITER_MMAP_MUNMAP, 1);
				arena_count(slot, WRITER_OPS, 1);
			}
			break;
		}
		case 1: { /* WRITER_OP_MPROTECT: split then merge back */
			char *p = on_fault_vma ? writer_fault_range(w, &rng, len) : own + page;
			int base = on_fault_vma ? w->prot : PROT_READ | PROT_WRITE;
			int split = on_fault_vma ? base | PROT_EXEC : PROT_READ;
			int r1, r2;

			t0 = util_now_ns();
			r1 = mprotect(p, len, split);
			t1 = util_now_ns();
			r2 = mprotect(p, len, base);
			t2 = util_now_ns();
			if (r1 < 0 || r2 < 0) {
				writer_error(slot, measuring);
				break;
			}
			if (measuring) {
				hist_record(&slot->hist[WRITER_HIST_MPROTECT], t1 - t0);
				hist_record(&slot->hist[WRITER_HIST_MPROTECT], t2 - t1);
				arena_count(slot, WRITER_MPROTECT, 1);
				arena_count(slot, WRITER_OPS, 1);
			}
			break;
		}
		case 2: { /* WRITER_OP_MADVISE_DONTNEED */
			char *p = on_fault_vma ? writer_fault_range(w, &rng, len) : own + page;
			int r;

			if (!on_fault_vma)
				p[0] = 1; /* something to zap */
			t0 = util_now_ns();
			r = madvise(p, len, MADV_DONTNEED);
			t1 = util_now_ns();
			if (r < 0) {
				writer_error(slot, measuring);
				break;
			}
			if (measuring) {
				hist_record(&slot->hist[WRITER_HIST_MADVISE], t1 - t0);
				arena_count(slot, WRITER_MADVISE, 1);
				arena_count(slot, WRITER_OPS, 1);
			}
			break;
		}
		}
	}
	munmap(own, len + 2 * page);
	role_done(t);
	return NULL;
}

const struct role writer_role = {
	.name = "writer",
	.process = PROCESS_VICTIM,
	.threads = writer_threads,
	.nhist = WRITER_NHIST,
	.hist_names = writer_hist_names,
	.ncounters = WRITER_NCOUNTERS,
	.counters = writer_counters,
	.setup = NULL,
	.run = writer_run,
};
