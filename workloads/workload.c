/* workload: the main of a workload process (victim or observer), started by
 * the runner as `faultline workload ...`.  It maps the files (victim), runs
 * each role's setup, starts one thread per arena slot of its process, tells
 * the runner it is ready, and waits for its threads to see ARENA_STOP. */
#define _GNU_SOURCE
#include "workloads/workload.h"
#include "workloads/role.h"
#include "lib/cpus.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void workload_fail(struct arena *a, unsigned process, const char *msg)
{
	fprintf(stderr, "faultline workload: %s\n", msg);
	if (a && a->hdr)
		snprintf(a->hdr->error[process], sizeof(a->hdr->error[process]), "%s", msg);
}

/* victim.memory anon: one anonymous region per "file", of the same size,
 * without transparent huge pages, filled with that file's content (so
 * victim.verify checks what comes back from swap).  Filling needs write access; the regions then keep w->prot. */
static int workload_map_anon(struct workload *w, char *err, size_t errlen)
{
	const struct config *cfg = w->cfg;
	int advice = cfg->victim.advice == ADVICE_RANDOM ? MADV_RANDOM
		     : cfg->victim.advice == ADVICE_SEQUENTIAL ? MADV_SEQUENTIAL : MADV_NORMAL;

	for (int64_t i = 0; i < cfg->victim.file_count; i++) {
		w->maps[i] = mmap(NULL, cfg->victim.file_size_bytes, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (w->maps[i] == MAP_FAILED) {
			w->maps[i] = NULL;
			snprintf(err, errlen, "victim: mmap anonymous region %lld (%llu bytes): %s", (long long)i,
				 (unsigned long long)cfg->victim.file_size_bytes, strerror(errno));
			return -1;
		}
		/* base pages, as with files: one touch, one fault, one swap-in
		 * (EINVAL: a kernel without transparent huge pages, which has
		 * nothing to turn off) */
		if (madvise(w->maps[i], cfg->victim.file_size_bytes, MADV_NOHUGEPAGE) < 0 && errno != EINVAL) {
			snprintf(err, errlen, "victim: madvise(MADV_NOHUGEPAGE) anonymous region %lld: %s", (long long)i,
				 strerror(errno));
			return -1;
		}
		pattern_fill((uint64_t)i, 0, w->maps[i], cfg->victim.file_size_bytes);
		if (w->prot != (PROT_READ | PROT_WRITE) && mprotect(w->maps[i], cfg->victim.file_size_bytes, w->prot) < 0) {
			snprintf(err, errlen, "victim: mprotect anonymous region %lld: %s", (long long)i, strerror(errno));
			return -1;
		}
		if (advice != MADV_NORMAL && madvise(w->maps[i], cfg->victim.file_size_bytes, advice) < 0) {
			snprintf(err, errlen, "victim: madvise anonymous region %lld: %s", (long long)i, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* The runner's verified files (--verified-fd, bench/storage/storage.h):
 * (count + 1) {device, inode} pairs, the directory first.  NULL when the
 * runner gave none (fd -1; slowfs: its private mount point), or on error
 * (err set, *bad). */
static uint64_t (*workload_verified_ids(int fd, int64_t count, bool *bad, char *err, size_t errlen))[2]
{
	size_t want = ((size_t)count + 1) * sizeof(uint64_t[2]);
	uint64_t(*ids)[2];
	struct stat sb;

	*bad = false;
	if (fd < 0)
		return NULL;
	errno = 0;
	ids = malloc(want);
	if (!ids || fstat(fd, &sb) < 0 || (size_t)sb.st_size != want || pread(fd, ids, want, 0) != (ssize_t)want) {
		snprintf(err, errlen, "victim: --verified-fd %d: the runner's table of verified files is unreadable or "
			 "not for %lld files: %s", fd, (long long)count,
			 ids ? strerror(errno ? errno : EINVAL) : strerror(ENOMEM));
		free(ids);
		*bad = true;
		return NULL;
	}
	return ids;
}

/* Open file i of the verified directory dfd with flags, never through a
 * symbolic link, and only the very file the runner verified (device and
 * inode, when ids is given); -1 with err. */
static int workload_open_file(struct workload *w, int dfd, uint64_t (*ids)[2], int64_t i, int flags,
			      struct stat *st, char *err, size_t errlen)
{
	char name[256];
	int fd;

	snprintf(name, sizeof(name), WORKLOAD_FILE_FORMAT, (unsigned)i);
	fd = util_openat_nofollow(dfd, name, flags | O_NONBLOCK, 0);
	if (fd < 0 || fstat(fd, st) < 0) {
		snprintf(err, errlen, "victim: open %s/%s: %s%s", w->files_dir, name, strerror(errno),
			 errno == ELOOP ? " (a symbolic link: refused)" : "");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st->st_mode) ||
	    (ids && ((uint64_t)st->st_dev != ids[i + 1][0] || (uint64_t)st->st_ino != ids[i + 1][1]))) {
		snprintf(err, errlen, "victim: %s/%s is not the file the runner verified (inode %llu, verified %llu%s): "
			 "refusing it", w->files_dir, name, (unsigned long long)st->st_ino,
			 ids ? (unsigned long long)ids[i + 1][1] : 0ull, S_ISREG(st->st_mode) ? "" : "; not a regular file");
		close(fd);
		errno = ESTALE;
		return -1;
	}
	return fd;
}

int workload_open_verified(struct workload *w, int64_t index, int flags, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if (w->files_fd < 0) {
		snprintf(err, errlen, "victim: %s/" WORKLOAD_FILE_FORMAT ": the files' directory is not open",
			 w->files_dir ? w->files_dir : "?", (unsigned)index);
		errno = EBADF;
		return -1;
	}
	fd = workload_open_file(w, w->files_fd, w->verified, index, flags, &st, err, errlen);
	if (fd >= 0 && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		snprintf(err, errlen, "victim: fcntl(F_SETFL) on %s/" WORKLOAD_FILE_FORMAT ": %s", w->files_dir,
			 (unsigned)index, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* The files' directory, without following a symbolic link at its last
 * component, and the one the runner verified (ids[0]) when given. */
static int workload_open_dir(struct workload *w, uint64_t (*ids)[2], char *err, size_t errlen)
{
	int dfd = open(w->files_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat sb;

	if (dfd < 0 || fstat(dfd, &sb) < 0) {
		snprintf(err, errlen, "victim: open directory %s: %s", w->files_dir, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	if (ids && ((uint64_t)sb.st_dev != ids[0][0] || (uint64_t)sb.st_ino != ids[0][1])) {
		snprintf(err, errlen, "victim: %s is not the directory the runner verified (inode %llu, verified %llu)",
			 w->files_dir, (unsigned long long)sb.st_ino, (unsigned long long)ids[0][1]);
		close(dfd);
		return -1;
	}
	return dfd;
}

static int workload_map_files(struct workload *w, char *err, size_t errlen)
{
	const struct config *cfg = w->cfg;
	int flags = cfg->victim.map == MAP_KIND_SHARED ? MAP_SHARED : MAP_PRIVATE;
	int open_flags = cfg->victim.write_ratio > 0 && flags == MAP_SHARED ? O_RDWR : O_RDONLY;
	int advice = cfg->victim.advice == ADVICE_RANDOM ? MADV_RANDOM
		     : cfg->victim.advice == ADVICE_SEQUENTIAL ? MADV_SEQUENTIAL : MADV_NORMAL;
	bool bad = false;

	w->prot = PROT_READ | (cfg->victim.write_ratio > 0 ? PROT_WRITE : 0);
	w->pages_per_file = cfg->victim.file_size_bytes / w->page_bytes;
	w->total_pages = w->pages_per_file * (uint64_t)cfg->victim.file_count;
	w->maps = calloc((size_t)cfg->victim.file_count, sizeof(char *));
	if (!w->maps) {
		snprintf(err, errlen, "victim: allocating %lld mapping pointers: %s", (long long)cfg->victim.file_count,
			 strerror(errno));
		return -1;
	}
	/* the verified directory and table stay for the roles that open the
	 * files themselves (evictor, odirect: workload_open_verified) */
	w->verified = workload_verified_ids(w->verified_fd, cfg->victim.file_count, &bad, err, errlen);
	w->files_fd = bad ? -1 : workload_open_dir(w, w->verified, err, errlen);
	if (w->files_fd < 0)
		return -1;
	if (cfg->victim.memory == MEMORY_ANON)
		return workload_map_anon(w, err, errlen);
	for (int64_t i = 0; i < cfg->victim.file_count; i++) {
		char path[4200];
		struct stat st;
		int fd;

		snprintf(path, sizeof(path), "%s/" WORKLOAD_FILE_FORMAT, w->files_dir, (unsigned)i);
		fd = workload_open_file(w, w->files_fd, w->verified, i, open_flags, &st, err, errlen);
		if (fd < 0)
			return -1;
		if ((uint64_t)st.st_size < cfg->victim.file_size_bytes) {
			snprintf(err, errlen, "victim: %s has %lld bytes, the scenario needs %llu", path,
				 (long long)st.st_size, (unsigned long long)cfg->victim.file_size_bytes);
			close(fd);
			return -1;
		}
		w->maps[i] = mmap(NULL, cfg->victim.file_size_bytes, w->prot, flags, fd, 0);
		close(fd);
		if (w->maps[i] == MAP_FAILED) {
			w->maps[i] = NULL;
			snprintf(err, errlen, "victim: mmap %s (%llu bytes): %s", path,
				 (unsigned long long)cfg->victim.file_size_bytes, strerror(errno));
			return -1;
		}
		if (advice != MADV_NORMAL && madvise(w->maps[i], cfg->victim.file_size_bytes, advice) < 0) {
			snprintf(err, errlen, "victim: madvise %s: %s", path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Test-only (tests/sys_faults.sh): the victim sleeps this many
 * milliseconds before it opens its files' directory, so a test can swap a
 * data file between the runner's verification and the victim's open. */
#define WORKLOAD_TEST_DELAY_ENV "FAULTLINE_TEST_VICTIM_OPEN_DELAY_MS"

static void workload_test_delay(void)
{
	const char *v = getenv(WORKLOAD_TEST_DELAY_ENV);
	char *end;
	unsigned long ms = v && *v ? strtoul(v, &end, 10) : 0;

	if (ms > 0 && !*end && ms <= 60000)
		usleep((useconds_t)ms * 1000);
}

static const struct option workload_long_options[] = {
	{ "process", required_argument, NULL, 'p' },  { "config-fd", required_argument, NULL, 'c' },
	{ "arena-fd", required_argument, NULL, 'a' }, { "files-dir", required_argument, NULL, 'f' },
	{ "victim-pid", required_argument, NULL, 'v' }, { "verified-fd", required_argument, NULL, 'i' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void workload_usage(FILE *out)
{
	fprintf(out, "usage: faultline workload --process victim|observer --config-fd FD --arena-fd FD\n"
		     "                          [--files-dir DIR] [--victim-pid PID] [--verified-fd FD]\n"
		     "Internal: started by `faultline run`, one process per role group. The config fd holds the\n"
		     "resolved scenario (JSON); the arena fd the runner's shared counters and histograms; the\n"
		     "verified fd the device and inode of the files the runner checked (-1: none).\n");
}

int workload_main(int argc, char **argv)
{
	struct config cfg;
	struct workload w = { .verified_fd = -1, .files_fd = -1 };
	struct arena arena = { .fd = -1 };
	struct role_thread *rt = NULL;
	pthread_t *tids = NULL;
	uint32_t nmine = 0, started = 0;
	int process = -1, config_fd = -1, arena_fd = -1, opt, ret = FL_EXIT_FAIL;
	char err[512];
	pthread_attr_t attr;
	struct {
		bool set;
		cpu_set_t cpus;
	} *role_cpus = NULL;
	bool attr_init = false;

	config_defaults(&cfg);
	while ((opt = getopt_long(argc, argv, "h", workload_long_options, NULL)) != -1) {
		switch (opt) {
		case 'p': process = strcmp(optarg, "victim") == 0 ? PROCESS_VICTIM
				    : strcmp(optarg, "observer") == 0 ? PROCESS_OBSERVER : -2; break;
		case 'c': config_fd = atoi(optarg); break;
		case 'a': arena_fd = atoi(optarg); break;
		case 'f': w.files_dir = optarg; break;
		case 'v': w.victim_pid = (pid_t)atoi(optarg); break;
		case 'i': w.verified_fd = atoi(optarg); break;
		case 'h': workload_usage(stdout); ret = 0; goto out;
		default: workload_usage(stderr); ret = FL_EXIT_USAGE; goto out;
		}
	}
	if (process < 0 || config_fd < 0 || arena_fd < 0) {
		workload_usage(stderr);
		ret = FL_EXIT_USAGE;
		goto out;
	}
	if (arena_attach(&arena, arena_fd, err, sizeof(err)) < 0) {
		workload_fail(NULL, (unsigned)process, err);
		goto out;
	}
	if (config_load_fd(&cfg, config_fd, err, sizeof(err)) < 0) {
		close(config_fd);
		workload_fail(&arena, (unsigned)process, err);
		goto out;
	}
	close(config_fd);
	w.cfg = &cfg;
	w.arena = &arena;
	w.process = (unsigned)process;
	w.page_bytes = util_page_size();
	if (process == PROCESS_VICTIM)
		workload_test_delay();
	if (process == PROCESS_VICTIM && w.files_dir && workload_map_files(&w, err, sizeof(err)) < 0) {
		workload_fail(&arena, (unsigned)process, err);
		goto out;
	}
	if (w.verified_fd >= 0) { /* read by now (victim), or of no use (observer) */
		close(w.verified_fd);
		w.verified_fd = -1;
	}
	for (unsigned r = 0; r < role_count; r++)
		if (roles[r]->process == (unsigned)process && roles[r]->setup && roles[r]->threads(&cfg) > 0 &&
		    roles[r]->setup(&w, err, sizeof(err)) < 0) {
			workload_fail(&arena, (unsigned)process, err);
			goto out;
		}
	for (uint32_t i = 0; i < arena.nslots; i++)
		nmine += roles[arena_slot(&arena, i)->role]->process == (unsigned)process;
	rt = calloc(nmine ? nmine : 1, sizeof(*rt));
	tids = calloc(nmine ? nmine : 1, sizeof(*tids));
	if (!rt || !tids) {
		snprintf(err, sizeof(err), "allocating %u thread records: %s", nmine, strerror(errno));
		workload_fail(&arena, (unsigned)process, err);
		goto out;
	}
	pthread_attr_init(&attr);
	attr_init = true;
	pthread_attr_setstacksize(&attr, cfg.victim.stack_bytes);
	/* each role's cpus.ROLE list, parsed once (not once per thread) */
	role_cpus = calloc(role_count, sizeof(*role_cpus));
	for (unsigned r = 0; role_cpus && r < role_count; r++)
		role_cpus[r].set = cpus_of_role(&cfg, roles[r]->name) &&
				   cpus_parse(cpus_of_role(&cfg, roles[r]->name), &role_cpus[r].cpus, err, sizeof(err)) == 0;
	for (uint32_t i = 0; i < arena.nslots; i++) {
		struct arena_slot *s = arena_slot(&arena, i);
		const struct role *role = roles[s->role];
		int e;

		if (role->process != (unsigned)process)
			continue;
		rt[started] = (struct role_thread){ &w, s, s->index, (uint32_t)role->threads(&cfg) };
		e = pthread_create(&tids[started], &attr, role->run, &rt[started]);
		if (e) {
			snprintf(err, sizeof(err), "starting %s thread %u of %u (%u threads started): %s", role->name,
				 s->index, rt[started].nthreads, started, strerror(e));
			workload_fail(&arena, (unsigned)process, err);
			arena_set_phase(&arena, ARENA_STOP); /* release the threads already waiting */
			break;
		}
		/* named for top -H and the placement test; a role with its own
		 * cpus.ROLE key runs there (it waits at the start barrier now) */
		pthread_setname_np(tids[started], role->name);
		if (role_cpus && role_cpus[s->role].set &&
		    (e = pthread_setaffinity_np(tids[started], sizeof(cpu_set_t), &role_cpus[s->role].cpus)) != 0)
			fprintf(stderr, "faultline workload: placing %s thread %u (cpus.%s): %s\n", role->name, s->index,
				role->name, strerror(e));
		started++;
	}
	if (started == nmine) {
		/* every thread waits at the barrier (or gave up): tell the runner */
		for (uint32_t i = 0; i < arena.nslots; i++) {
			struct arena_slot *s = arena_slot(&arena, i);

			if (roles[s->role]->process != (unsigned)process)
				continue;
			while (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == SLOT_IDLE)
				usleep(1000);
		}
		__atomic_store_n(&arena.hdr->ready[process], 1, __ATOMIC_RELEASE);
	}
	for (uint32_t i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	ret = started == nmine ? FL_EXIT_OK : FL_EXIT_NORESOURCE;
out:
	if (attr_init)
		pthread_attr_destroy(&attr);
	free(rt);
	free(tids);
	free(role_cpus);
	if (w.maps) {
		for (int64_t i = 0; i < cfg.victim.file_count; i++)
			if (w.maps[i])
				munmap(w.maps[i], cfg.victim.file_size_bytes);
		free(w.maps);
	}
	if (w.files_fd >= 0)
		close(w.files_fd);
	free(w.verified);
	free(w.gup_start);
	free(w.gup_len);
	arena_close(&arena);
	config_free(&cfg);
	return ret;
}
