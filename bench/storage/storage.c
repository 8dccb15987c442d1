/* storage: the victim's files (storage.h). */
#define _GNU_SOURCE
#include "bench/storage/storage.h"
#include "lib/pattern.h"
#include "lib/util.h"
#include "workloads/workload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <libgen.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define STORAGE_CHUNK (1u << 20)

/* A file matches when its size is right and sampled words hold the pattern. */
static bool storage_file_matches(const char *path, unsigned index, uint64_t size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool ok = false;

	if (fd < 0)
		return false;
	if (fstat(fd, &st) == 0 && (uint64_t)st.st_size == size) {
		uint64_t offsets[] = { 0, size / 2 & ~7ull, size - 8 };

		ok = true;
		for (size_t i = 0; i < FL_ARRAY_SIZE(offsets) && ok; i++) {
			unsigned char buf[8];

			ok = pread(fd, buf, 8, (off_t)offsets[i]) == 8 && pattern_check(index, offsets[i], buf, 8) == 8;
		}
	}
	close(fd);
	return ok;
}

static int storage_create_file(const char *path, unsigned index, uint64_t size, char *err, size_t errlen)
{
	char tmp[4200];
	unsigned char *buf = malloc(STORAGE_CHUNK);
	int fd = -1, ret = -1;
	uint64_t off = 0, last_report = util_now_ns();

	snprintf(tmp, sizeof(tmp), "%s.tmp-%d", path, (int)getpid());
	if (!buf) {
		snprintf(err, errlen, "storage: allocating %u bytes: %s", STORAGE_CHUNK, strerror(errno));
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "storage: create %s: %s", tmp, strerror(errno));
		goto out;
	}
	while (off < size) {
		size_t n = size - off < STORAGE_CHUNK ? (size_t)(size - off) : STORAGE_CHUNK;

		pattern_fill(index, off, buf, n);
		if (util_write_all(fd, buf, n) < 0) {
			snprintf(err, errlen, "storage: write %s at offset %llu: %s", tmp, (unsigned long long)off,
				 strerror(errno));
			goto out;
		}
		off += n;
		if (util_now_ns() - last_report > 2000000000ull) {
			fprintf(stderr, "faultline: creating %s: %llu of %llu MiB\n", path,
				(unsigned long long)(off >> 20), (unsigned long long)(size >> 20));
			last_report = util_now_ns();
		}
	}
	if (fsync(fd) < 0 || rename(tmp, path) < 0) {
		snprintf(err, errlen, "storage: finishing %s: %s", path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0) {
		close(fd);
		if (ret < 0)
			unlink(tmp);
	}
	free(buf);
	return ret;
}

static int storage_prepare_dir(struct storage *st, const struct config *cfg, char *err, size_t errlen)
{
	unsigned created = 0, reused = 0;
	struct statfs sfs;
	struct stat sb;

	if (util_mkdir_p(cfg->storage.path, 0755) < 0) {
		snprintf(err, errlen, "storage: storage.path: mkdir %s: %s", cfg->storage.path, strerror(errno));
		return -1;
	}
	snprintf(st->files_dir, sizeof(st->files_dir), "%s", cfg->storage.path);
	for (int64_t i = 0; i < cfg->victim.file_count; i++) {
		char path[4200];

		snprintf(path, sizeof(path), "%s/" WORKLOAD_FILE_FORMAT, cfg->storage.path, (unsigned)i);
		if (storage_file_matches(path, (unsigned)i, cfg->victim.file_size_bytes)) {
			reused++;
			continue;
		}
		if (statfs(cfg->storage.path, &sfs) == 0 &&
		    (uint64_t)sfs.f_bavail * (uint64_t)sfs.f_bsize < cfg->victim.file_size_bytes + (64ull << 20)) {
			snprintf(err, errlen,
				 "storage: storage.path %s has %llu MiB free, a file of %llu MiB does not fit "
				 "(use storage.type slowfs for files larger than the disk)",
				 cfg->storage.path, (unsigned long long)((uint64_t)sfs.f_bavail * sfs.f_bsize >> 20),
				 (unsigned long long)(cfg->victim.file_size_bytes >> 20));
			return -1;
		}
		if (storage_create_file(path, (unsigned)i, cfg->victim.file_size_bytes, err, errlen) < 0)
			return -1;
		created++;
	}
	if (stat(cfg->storage.path, &sb) == 0)
		st->dev = sb.st_dev;
	if (statfs(cfg->storage.path, &sfs) == 0)
		snprintf(st->fs_type, sizeof(st->fs_type), "0x%lx", (unsigned long)sfs.f_type);
	json_object_set_new(st->info, "files_created", json_integer(created));
	json_object_set_new(st->info, "files_reused", json_integer(reused));
	return 0;
}

/* Mount slowfs in a private directory.  The daemon stays in the runner's
 * cgroup (its threads are not throttled with the victim), mounts with
 * auto_unmount (a SIGKILLed runner leaves no mount) and gets SIGTERM when
 * the runner dies. */
static int storage_prepare_slowfs(struct storage *st, const struct config *cfg, char *err, size_t errlen)
{
	const struct config *c = cfg;
	char exe[4096], daemon_path[4200], args[10][64], *argv[32];
	int ready[2], n = 0;
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	struct pollfd pfd;

	if (len < 0) {
		snprintf(err, errlen, "storage: readlink /proc/self/exe: %s", strerror(errno));
		return -1;
	}
	exe[len] = '\0';
	snprintf(daemon_path, sizeof(daemon_path), "%s/fl-slowfs", dirname(exe));
	if (access(daemon_path, X_OK) < 0) {
		snprintf(err, errlen, "storage: storage.type slowfs needs %s: %s (build it with make)", daemon_path,
			 strerror(errno));
		return -1;
	}
	if (access("/dev/fuse", R_OK | W_OK) < 0) {
		snprintf(err, errlen, "storage: storage.type slowfs needs /dev/fuse: %s", strerror(errno));
		return -1;
	}
	{
		/* mount points left empty by a runner that was SIGKILLed (the
		 * daemon's auto_unmount took the mount itself): rmdir only
		 * removes empty, unmounted directories */
		DIR *d = opendir("/tmp");
		struct dirent *de;

		while (d && (de = readdir(d))) {
			char stale[300];

			if (strncmp(de->d_name, "faultline-slowfs-", 17) != 0)
				continue;
			snprintf(stale, sizeof(stale), "/tmp/%s", de->d_name);
			rmdir(stale);
		}
		if (d)
			closedir(d);
	}
	snprintf(st->mountpoint, sizeof(st->mountpoint), "/tmp/faultline-slowfs-XXXXXX");
	if (!mkdtemp(st->mountpoint)) {
		snprintf(err, errlen, "storage: mkdtemp %s: %s", st->mountpoint, strerror(errno));
		st->mountpoint[0] = '\0';
		return -1;
	}
	if (pipe2(ready, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "storage: pipe: %s", strerror(errno));
		return -1;
	}
	snprintf(args[0], 64, "%lld", (long long)c->victim.file_count);
	snprintf(args[1], 64, "%llu", (unsigned long long)c->victim.file_size_bytes);
	snprintf(args[2], 64, "%lld", (long long)c->storage.slowfs.latency_ns);
	snprintf(args[3], 64, "%s", config_enum_name("storage.slowfs.jitter", c->storage.slowfs.jitter));
	snprintf(args[4], 64, "%lld", (long long)c->storage.slowfs.jitter_ns);
	snprintf(args[5], 64, "%lld", (long long)c->storage.slowfs.p99_ns);
	snprintf(args[6], 64, "%llu", (unsigned long long)c->storage.slowfs.bandwidth_bytes_per_s);
	snprintf(args[7], 64, "%lld", (long long)c->storage.slowfs.max_inflight);
	snprintf(args[8], 64, "%llu", (unsigned long long)c->storage.slowfs.max_request_bytes);
	snprintf(args[9], 64, "%d", ready[1]);
	argv[n++] = "fl-slowfs";
	argv[n++] = st->mountpoint;
	{
		static const char *const names[] = { "--files", "--size-bytes", "--latency-ns", "--jitter", "--jitter-ns",
						     "--p99-ns", "--bandwidth-bytes-per-s", "--max-inflight",
						     "--max-request-bytes", "--ready-fd" };

		for (int i = 0; i < 10; i++) {
			if ((i == 4 || i == 5) && strcmp(args[i], "0") == 0)
				continue; /* jitter-ns and p99-ns only where the jitter kind uses them */
			argv[n++] = (char *)names[i];
			argv[n++] = args[i];
		}
	}
	argv[n] = NULL;
	st->daemon_pid = fork();
	if (st->daemon_pid < 0) {
		snprintf(err, errlen, "storage: fork for fl-slowfs: %s", strerror(errno));
		close(ready[0]);
		close(ready[1]);
		return -1;
	}
	if (st->daemon_pid == 0) {
		setpgid(0, 0);
		fcntl(ready[1], F_SETFD, 0); /* the daemon inherits the write end */
		util_execv(daemon_path, argv);
		fprintf(stderr, "faultline: exec %s: %s\n", daemon_path, strerror(errno));
		_exit(127);
	}
	close(ready[1]);
	pfd = (struct pollfd){ ready[0], POLLIN, 0 };
	if (poll(&pfd, 1, 15000) != 1 || read(ready[0], exe, 1) != 1) {
		int status = 0;
		bool exited = waitpid(st->daemon_pid, &status, WNOHANG) == st->daemon_pid;

		close(ready[0]);
		if (!exited) {
			kill(st->daemon_pid, SIGKILL);
			waitpid(st->daemon_pid, &status, 0);
		}
		st->daemon_pid = 0;
		if (exited && WIFEXITED(status))
			snprintf(err, errlen, "storage: fl-slowfs exited with status %d before mounting %s (its message "
				 "is above)", WEXITSTATUS(status), st->mountpoint);
		else
			snprintf(err, errlen, "storage: fl-slowfs did not mount %s within 15 s", st->mountpoint);
		return -1;
	}
	close(ready[0]);
	snprintf(st->files_dir, sizeof(st->files_dir), "%s", st->mountpoint);
	snprintf(st->fs_type, sizeof(st->fs_type), "fuse.slowfs");
	st->dev = 0;
	json_object_set_new(st->info, "slowfs", json_pack("{s:I, s:s, s:I, s:I, s:I, s:I, s:I}", "latency_ns",
		(json_int_t)c->storage.slowfs.latency_ns, "jitter", args[3], "jitter_ns",
		(json_int_t)c->storage.slowfs.jitter_ns, "p99_ns", (json_int_t)c->storage.slowfs.p99_ns,
		"bandwidth_bytes_per_s", (json_int_t)c->storage.slowfs.bandwidth_bytes_per_s, "max_inflight",
		(json_int_t)c->storage.slowfs.max_inflight, "max_request_bytes",
		(json_int_t)c->storage.slowfs.max_request_bytes));
	return 0;
}

json_t *storage_slowfs_stats(const struct storage *st)
{
	char path[4200];
	json_t *j;

	if (!st->daemon_pid)
		return NULL;
	snprintf(path, sizeof(path), "%s/.stats", st->mountpoint);
	j = json_load_file(path, 0, NULL);
	return json_is_object(j) ? j : (json_decref(j), NULL);
}

int storage_slowfs_reset(const struct storage *st)
{
	char path[4200];

	if (!st->daemon_pid)
		return 0;
	snprintf(path, sizeof(path), "%s/.control", st->mountpoint);
	return util_write_string(path, "reset_counters=1\n");
}

int storage_prepare(struct storage *st, const struct config *cfg, char *err, size_t errlen)
{
	char dev[32];

	memset(st, 0, sizeof(*st));
	st->info = json_object();
	json_object_set_new(st->info, "type", json_string(config_enum_name("storage.type", cfg->storage.type)));
	switch (cfg->storage.type) {
	case STORAGE_DIR:
		if (storage_prepare_dir(st, cfg, err, errlen) < 0)
			return -1;
		break;
	case STORAGE_SLOWFS:
		if (storage_prepare_slowfs(st, cfg, err, errlen) < 0)
			return -1;
		break;
	default:
		snprintf(err, errlen, "storage: storage.type %s is not available in this build",
			 config_enum_name("storage.type", cfg->storage.type));
		return -1;
	}
	snprintf(dev, sizeof(dev), "%u:%u", major(st->dev), minor(st->dev));
	json_object_set_new(st->info, "files_dir", json_string(st->files_dir));
	json_object_set_new(st->info, "device", json_string(dev));
	json_object_set_new(st->info, "fs_magic", json_string(st->fs_type));
	json_object_set_new(st->info, "file_count", json_integer(cfg->victim.file_count));
	json_object_set_new(st->info, "file_size_bytes", json_integer((json_int_t)cfg->victim.file_size_bytes));
	return 0;
}

int storage_drop_cache(struct storage *st, const struct config *cfg, uint64_t *resident_bytes, char *err,
		       size_t errlen)
{
	*resident_bytes = 0;
	for (int64_t i = 0; i < cfg->victim.file_count; i++) {
		char path[4200];
		int fd;
		void *map;
		uint64_t size = cfg->victim.file_size_bytes, pages = size / 4096;

		snprintf(path, sizeof(path), "%s/" WORKLOAD_FILE_FORMAT, st->files_dir, (unsigned)i);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			snprintf(err, errlen, "storage: open %s: %s", path, strerror(errno));
			return -1;
		}
		if (posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0) {
			snprintf(err, errlen, "storage: posix_fadvise(DONTNEED) on %s failed", path);
			close(fd);
			return -1;
		}
		/* count what stayed (mapped elsewhere, or dirty) with mincore */
		map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
		if (map != MAP_FAILED) {
			unsigned char vec[4096];

			for (uint64_t p = 0; p < pages; p += sizeof(vec)) {
				uint64_t n = pages - p < sizeof(vec) ? pages - p : sizeof(vec);

				if (mincore((char *)map + p * 4096, n * 4096, vec) < 0)
					break;
				for (uint64_t k = 0; k < n; k++)
					*resident_bytes += (vec[k] & 1) ? 4096 : 0;
			}
			munmap(map, size);
		}
		close(fd);
	}
	return 0;
}

void storage_teardown(struct storage *st)
{
	if (st->daemon_pid > 0) {
		int status;

		kill(st->daemon_pid, SIGTERM); /* our own child, by pid: it unmounts and exits */
		for (int i = 0; i < 500 && waitpid(st->daemon_pid, &status, WNOHANG) == 0; i++)
			usleep(10000);
		if (waitpid(st->daemon_pid, &status, WNOHANG) == 0) {
			kill(st->daemon_pid, SIGKILL);
			waitpid(st->daemon_pid, &status, 0);
		}
		st->daemon_pid = 0;
	}
	if (st->mountpoint[0]) {
		for (int i = 0; i < 200 && rmdir(st->mountpoint) < 0 && errno == EBUSY; i++) {
			if (i == 100)
				umount2(st->mountpoint, MNT_DETACH); /* auto_unmount should have done it */
			usleep(10000);
		}
		st->mountpoint[0] = '\0';
	}
	json_decref(st->info);
	st->info = NULL;
}
