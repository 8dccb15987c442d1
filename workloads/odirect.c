/* odirect: victim threads that read a storage file with O_DIRECT into a user
 * buffer that is a not-yet-faulted file-backed mapping: the victim-side form
 * of the 2014 GUP case.  The direct read pins its buffer with
 * get_user_pages; the buffer's pages are absent, so GUP falls back from its
 * lockless walk to faulting them in under the victim's mmap_lock (GUP takes
 * no per-VMA lock), and each of those faults reads a page of another file
 * from storage.  Writers queue behind that, as behind any fault holding the
 * lock across I/O.
 *
 * Thread i reads file i % count (O_RDONLY | O_DIRECT, a random page-aligned
 * offset, victim.odirect.bytes per read) into its own MAP_PRIVATE,
 * PROT_READ | PROT_WRITE mapping of file (i + 1) % count.  Private because
 * the read writes the buffer: a shared mapping would write the data into the
 * storage's files (and slowfs is read-only); a write fault on a private file
 * mapping still reads the file page first, then copies it.  The buffer
 * cursor walks the mapping (odirect.h), and after each read the thread drops
 * the buffer's private copies (MADV_DONTNEED) and the file pages behind them
 * (POSIX_FADV_DONTNEED), outside the timed span, so the next visit faults
 * from storage again.  Faults taken inside the read are GUP's on the
 * thread's behalf, counted from getrusage(RUSAGE_THREAD) deltas.
 *
 * The files are opened once, in setup, as the runner verified them
 * (workload_open_verified: no symbolic link, the same device and inode); one
 * that is not is refused and the victim fails its set-up naming it.
 *
 * A storage that refuses O_DIRECT (open fails with EINVAL: ramfs, some FUSE
 * file systems) is an error counted with its errno, not a crash: the thread
 * says so on stderr and records no reads. */
#define _GNU_SOURCE
#include "workloads/odirect.h"
#include "workloads/role.h"
#include "lib/util.h"
#include "workloads/workload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#define ODIRECT_HISTS(X) \
	X(ODIRECT_HIST_READ, "read")
enum { ODIRECT_HISTS(ROLE_HIST_ENUM) ODIRECT_NHIST };
#define ODIRECT_COUNTERS(X) \
	X(ODIRECT_READS, "reads", COUNT, "reads", HIGHER) \
	X(ODIRECT_BYTES, "bytes", COUNT, "bytes", HIGHER) \
	X(ODIRECT_ERRORS, "errors", COUNT, "errors", LOWER) \
	X(ODIRECT_LAST_ERRNO, "last_errno", ERRNO, "errno", NONE) \
	X(ODIRECT_BUF_MAJOR, "buffer_major_faults", COUNT, "faults", NONE) \
	X(ODIRECT_BUF_MINOR, "buffer_minor_faults", COUNT, "faults", NONE) \
	X(ODIRECT_LAPS, "buffer_laps", COUNT, "laps", NONE) \
	X(ODIRECT_VERIFY_ERRORS, "verify_errors", COUNT, "errors", LOWER) \
	X(ODIRECT_VERIFIED_READS, "verified_reads", COUNT, "reads", NONE)
enum { ODIRECT_COUNTERS(ROLE_COUNTER_ENUM) ODIRECT_NCOUNTERS };
static const char *const odirect_hist_names[ODIRECT_NHIST] = { ODIRECT_HISTS(ROLE_HIST_NAME) };
static const struct role_counter odirect_counters[] = { ODIRECT_COUNTERS(ROLE_COUNTER_DESC) };

static int64_t odirect_threads(const struct config *cfg)
{
	return cfg->victim.odirect.threads;
}

/* The files the threads read (direct: O_DIRECT) and map (plain), opened by
 * setup; fd -1 with the open's errno where it failed for another reason
 * than a refusal (O_DIRECT's EINVAL: the thread reports it).  The last
 * thread out closes them. */
static struct odirect_file {
	int fd[2], err[2];
} *odirect_files;
static uint32_t odirect_running;
enum { ODIRECT_DIRECT, ODIRECT_PLAIN };

static void odirect_close_files(int64_t count)
{
	for (int64_t i = 0; odirect_files && i < count; i++)
		for (int k = 0; k < 2; k++)
			if (odirect_files[i].fd[k] >= 0)
				close(odirect_files[i].fd[k]);
	free(odirect_files);
	odirect_files = NULL;
}

static int odirect_setup(struct workload *w, char *err, size_t errlen)
{
	const int64_t count = w->cfg->victim.file_count, nthreads = odirect_threads(w->cfg);
	static const int flags[2] = { O_RDONLY | O_DIRECT, O_RDONLY };
	char why[600];

	odirect_files = malloc((size_t)count * sizeof(*odirect_files));
	if (!odirect_files) {
		snprintf(err, errlen, "odirect: allocating %lld file records: %s", (long long)count, strerror(errno));
		return -1;
	}
	for (int64_t i = 0; i < count; i++)
		odirect_files[i] = (struct odirect_file){ { -1, -1 }, { EBADF, EBADF } };
	/* thread t reads file t % count and maps file (t + 1) % count */
	for (int64_t i = 0; i < count && i <= nthreads; i++)
		for (int k = 0; k < 2; k++) {
			int fd = workload_open_verified(w, i, flags[k], why, sizeof(why));

			odirect_files[i].fd[k] = fd;
			odirect_files[i].err[k] = fd < 0 ? errno : 0;
			if (fd < 0 && (errno == ELOOP || errno == ESTALE)) {
				snprintf(err, errlen, "odirect: %s", why);
				odirect_close_files(count);
				return -1;
			}
		}
	odirect_running = (uint32_t)nthreads;
	return 0;
}

static void *odirect_run(void *arg)
{
	struct role_thread *t = arg;
	struct workload *w = t->w;
	const struct config *cfg = w->cfg;
	struct arena_slot *slot = t->slot;
	uint64_t size = cfg->victim.file_size_bytes, len = cfg->victim.odirect.bytes;
	uint64_t period = cfg->victim.odirect.rate_per_s > 0 ? (uint64_t)(1e9 / cfg->victim.odirect.rate_per_s) : 0;
	uint64_t src_index = t->index % (uint64_t)cfg->victim.file_count;
	uint64_t buf_index = (t->index + 1) % (uint64_t)cfg->victim.file_count;
	uint64_t cursor = odirect_first_buffer(t->index, t->nthreads, size, w->page_bytes), laps = 0, next;
	int advice = cfg->victim.advice == ADVICE_RANDOM ? MADV_RANDOM
		     : cfg->victim.advice == ADVICE_SEQUENTIAL ? MADV_SEQUENTIAL : MADV_NORMAL;
	int src = odirect_files[src_index].fd[ODIRECT_DIRECT], buffd = odirect_files[buf_index].fd[ODIRECT_PLAIN];
	char *buf = MAP_FAILED, path[4200];
	struct pattern_rng rng;
	struct rusage ru;
	long majflt, minflt;

	pattern_rng_seed(&rng, (uint64_t)cfg->seed, 0x5000000ull + t->index);
	snprintf(path, sizeof(path), "%s/" WORKLOAD_FILE_FORMAT, w->files_dir, (unsigned)src_index);
	if (src < 0) {
		int e = odirect_files[src_index].err[ODIRECT_DIRECT];

		role_error(slot, ODIRECT_ERRORS, ODIRECT_LAST_ERRNO, e);
		fprintf(stderr, "faultline: odirect thread %u: open %s with O_DIRECT: %s%s; the thread records no reads\n",
			t->index, path, strerror(e),
			e == EINVAL ? " (this storage refuses O_DIRECT)" : "");
		goto idle;
	}
	snprintf(path, sizeof(path), "%s/" WORKLOAD_FILE_FORMAT, w->files_dir, (unsigned)buf_index);
	if (buffd >= 0)
		buf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, buffd, 0);
	if (buffd < 0 || buf == MAP_FAILED) {
		int e = buffd < 0 ? odirect_files[buf_index].err[ODIRECT_PLAIN] : errno;

		role_error(slot, ODIRECT_ERRORS, ODIRECT_LAST_ERRNO, e);
		fprintf(stderr, "faultline: odirect thread %u: %s %s (%llu bytes) for the buffer: %s\n", t->index,
			buffd < 0 ? "open" : "mmap MAP_PRIVATE", path, (unsigned long long)size, strerror(e));
		goto idle;
	}
	if (advice != MADV_NORMAL && madvise(buf, size, advice) < 0)
		fprintf(stderr, "faultline: odirect thread %u: madvise(%s) on the buffer mapping of %s: %s\n", t->index,
			config_enum_name("victim.madvise", cfg->victim.advice), path, strerror(errno));
	role_ready(t);
	getrusage(RUSAGE_THREAD, &ru);
	majflt = ru.ru_majflt;
	minflt = ru.ru_minflt;
	next = util_now_ns();
	while (arena_phase(w->arena) != ARENA_STOP) {
		uint64_t off = odirect_source_offset(pattern_rng_next(&rng), size, len, w->page_bytes);
		uint64_t at = odirect_next_buffer(&cursor, size, len, w->page_bytes, &laps), t0, t1;
		bool measuring;
		ssize_t n;
		int e;

		role_pace(&next, period);
		if (arena_phase(w->arena) == ARENA_STOP)
			break;
		measuring = arena_phase(w->arena) == ARENA_MEASURE;
		t0 = util_now_ns();
		n = pread(src, buf + at, len, (off_t)off);
		t1 = util_now_ns();
		e = errno;
		getrusage(RUSAGE_THREAD, &ru);
		if (measuring) {
			arena_count(slot, ODIRECT_BUF_MAJOR, (uint64_t)(ru.ru_majflt - majflt));
			arena_count(slot, ODIRECT_BUF_MINOR, (uint64_t)(ru.ru_minflt - minflt));
			if (n != (ssize_t)len) {
				role_error(slot, ODIRECT_ERRORS, ODIRECT_LAST_ERRNO, n < 0 ? e : EIO);
			} else {
				hist_record(&slot->hist[ODIRECT_HIST_READ], t1 - t0);
				arena_count(slot, ODIRECT_READS, 1);
				arena_count(slot, ODIRECT_BYTES, (uint64_t)n);
				if (cfg->victim.verify) {
					if (pattern_check(src_index, off, buf + at, len) != len)
						arena_count(slot, ODIRECT_VERIFY_ERRORS, 1);
					arena_count(slot, ODIRECT_VERIFIED_READS, 1);
				}
			}
			arena_count(slot, ODIRECT_LAPS, laps);
		}
		laps = 0; /* laps of the warm-up are not counted */
		/* fresh pages for the next visit: drop the private copies and the
		 * file pages behind them (outside the timed span) */
		madvise(buf + at, len, MADV_DONTNEED);
		posix_fadvise(buffd, (off_t)at, (off_t)len, POSIX_FADV_DONTNEED);
		getrusage(RUSAGE_THREAD, &ru);
		majflt = ru.ru_majflt;
		minflt = ru.ru_minflt;
	}
	goto exit;
idle:
	/* set-up failed (counted above): keep the process's thread count and
	 * wait for the stop like the others, so the run ends in order */
	role_ready(t);
	while (arena_phase(w->arena) != ARENA_STOP)
		usleep(20000);
exit:
	if (buf != MAP_FAILED)
		munmap(buf, size);
	if (__atomic_sub_fetch(&odirect_running, 1, __ATOMIC_ACQ_REL) == 0)
		odirect_close_files(cfg->victim.file_count);
	role_done(t);
	return NULL;
}

const struct role odirect_role = {
	.name = "odirect",
	.process = PROCESS_VICTIM,
	.threads = odirect_threads,
	.nhist = ODIRECT_NHIST,
	.hist_names = odirect_hist_names,
	.ncounters = ODIRECT_NCOUNTERS,
	.counters = odirect_counters,
	.setup = odirect_setup,
	.run = odirect_run,
};
