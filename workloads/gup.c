/* gup: observer threads that read the victim's file-backed mappings from
 * another process, through get_user_pages on the victim's mm: process_vm_readv
 * and pread of /proc/<victim>/mem (access_remote_vm).  When the page is not
 * resident, the read faults it in on the victim's behalf, under the
 * victim's mmap_lock, which is the 2014 case (FAULT_FLAG_ALLOW_RETRY in GUP
 * paths).  The mappings are found once, before the start barrier, in
 * /proc/<victim>/maps (lines naming the storage's data-NNNNNN files). */
#define _GNU_SOURCE
#include "workloads/role.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#define GUP_HISTS(X) \
	X(GUP_HIST_VM_READV, "process_vm_readv") \
	X(GUP_HIST_PROC_MEM, "proc_mem")
enum { GUP_HISTS(ROLE_HIST_ENUM) GUP_NHIST };
#define GUP_COUNTERS(X) \
	X(GUP_READS, "reads", COUNT, "reads", HIGHER) \
	X(GUP_BYTES, "bytes", COUNT, "bytes", HIGHER) \
	X(GUP_ERRORS, "errors", COUNT, "errors", LOWER) \
	X(GUP_LAST_ERRNO, "last_errno", ERRNO, "errno", NONE)
enum { GUP_COUNTERS(ROLE_COUNTER_ENUM) GUP_NCOUNTERS };
static const char *const gup_hist_names[GUP_NHIST] = { GUP_HISTS(ROLE_HIST_NAME) };
static const struct role_counter gup_counters[] = { GUP_COUNTERS(ROLE_COUNTER_DESC) };

static int64_t gup_threads(const struct config *cfg)
{
	return cfg->observer.gup_threads;
}

static int gup_setup(struct workload *w, char *err, size_t errlen)
{
	char path[64], *text, *line, *save = NULL;
	size_t cap = 16;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)w->victim_pid);
	text = util_read_file(path, NULL);
	if (!text) {
		snprintf(err, errlen, "gup: reading %s: %s", path, strerror(errno));
		return -1;
	}
	w->gup_start = calloc(cap, sizeof(uint64_t));
	w->gup_len = calloc(cap, sizeof(uint64_t));
	for (line = strtok_r(text, "\n", &save); line && w->gup_start && w->gup_len;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long lo, hi;

		if (!strstr(line, "/data-") || (w->files_dir && !strstr(line, w->files_dir)) ||
		    sscanf(line, "%llx-%llx", &lo, &hi) != 2)
			continue;
		if (w->gup_n == cap) {
			cap *= 2;
			w->gup_start = realloc(w->gup_start, cap * sizeof(uint64_t));
			w->gup_len = realloc(w->gup_len, cap * sizeof(uint64_t));
			if (!w->gup_start || !w->gup_len)
				break;
		}
		w->gup_start[w->gup_n] = lo;
		w->gup_len[w->gup_n++] = hi - lo;
	}
	free(text);
	if (!w->gup_start || !w->gup_len) {
		snprintf(err, errlen, "gup: allocating the mapping table: %s", strerror(ENOMEM));
		return -1;
	}
	if (w->gup_n == 0) {
		snprintf(err, errlen, "gup: no mapping of %s/data-* in %s (does the victim map files?)",
			 w->files_dir ? w->files_dir : "?", path);
		return -1;
	}
	return 0;
}

static void *gup_run(void *arg)
{
	struct role_thread *t = arg;
	struct workload *w = t->w;
	const struct config *cfg = w->cfg;
	struct arena_slot *slot = t->slot;
	uint64_t period = cfg->observer.gup_rate_per_s > 0 ? (uint64_t)(1e9 / cfg->observer.gup_rate_per_s) : 0, next;
	size_t len = cfg->observer.gup_bytes;
	const uint64_t page = w->page_bytes;
	char path[64], *buf = malloc(len);
	int memfd, method = 0;
	struct pattern_rng rng;

	pattern_rng_seed(&rng, (uint64_t)cfg->seed, 0x4000000ull + t->index);
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)w->victim_pid);
	memfd = open(path, O_RDONLY | O_CLOEXEC);
	if (memfd < 0)
		fprintf(stderr, "faultline: gup thread %u: open %s: %s\n", t->index, path, strerror(errno));
	role_ready(t);
	next = util_now_ns();
	while (buf && arena_phase(w->arena) != ARENA_STOP) {
		uint64_t m = pattern_rng_below(&rng, w->gup_n), t0, t1;
		uint64_t pages = w->gup_len[m] / page, addr;
		ssize_t n;
		bool measuring;
		unsigned h;

		role_pace(&next, period);
		measuring = arena_phase(w->arena) == ARENA_MEASURE;
		addr = w->gup_start[m] + pattern_rng_below(&rng, pages ? pages : 1) * page;
		if (addr + len > w->gup_start[m] + w->gup_len[m])
			addr = w->gup_start[m] + w->gup_len[m] - len;
		while (!(cfg->observer.gup_methods & (1u << (method % 2))))
			method++;
		h = (unsigned)(method++ % 2);
		t0 = util_now_ns();
		if (h == GUP_HIST_VM_READV) {
			struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };

			n = process_vm_readv(w->victim_pid, &local, 1, &remote, 1, 0);
		} else {
			n = memfd >= 0 ? pread(memfd, buf, len, (off_t)addr) : -1;
		}
		t1 = util_now_ns();
		if (!measuring)
			continue;
		if (n != (ssize_t)len) {
			role_error(slot, GUP_ERRORS, GUP_LAST_ERRNO, n < 0 ? errno : EIO);
			continue;
		}
		hist_record(&slot->hist[h], t1 - t0);
		arena_count(slot, GUP_READS, 1);
		arena_count(slot, GUP_BYTES, (uint64_t)n);
	}
	if (memfd >= 0)
		close(memfd);
	free(buf);
	role_done(t);
	return NULL;
}

const struct role gup_role = {
	.name = "gup",
	.process = PROCESS_OBSERVER,
	.threads = gup_threads,
	.nhist = GUP_NHIST,
	.hist_names = gup_hist_names,
	.ncounters = GUP_NCOUNTERS,
	.counters = gup_counters,
	.setup = gup_setup,
	.run = gup_run,
};
