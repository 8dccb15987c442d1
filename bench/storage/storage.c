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

/* Remove mount points left empty by a runner that was SIGKILLed (the
 * daemon's auto_unmount took the mount itself): rmdir only removes empty,
 * unmounted directories. */
static void storage_slowfs_reap_stale(void)
{
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

/* The resolved scenario for fl-slowfs --config-fd: a memfd (close-on-exec)
 * holding config_to_json, as the runner hands it to the workloads. */
static int storage_config_fd(const struct config *cfg, char *err, size_t errlen)
{
	json_t *j = config_to_json(cfg);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	int fd = memfd_create("faultline-slowfs-config", MFD_CLOEXEC);

	if (fd < 0 || !text || util_write_all(fd, text, strlen(text)) < 0) {
		snprintf(err, errlen, "storage: writing the resolved scenario for fl-slowfs to a memfd: %s",
			 strerror(fd < 0 || text ? errno : ENOMEM));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	free(text);
	json_decref(j);
	return fd;
}

/* Start daemon_path on st->mountpoint with the resolved scenario on
 * config_fd and wait (15 s at most) for its ready byte. */
static int storage_slowfs_spawn(struct storage *st, const char *daemon_path, int config_fd, char *err,
				size_t errlen)
{
	char config_arg[16], ready_arg[16], byte;
	char *argv[] = { "fl-slowfs", st->mountpoint, "--config-fd", config_arg, "--ready-fd", ready_arg, NULL };
	int ready[2] = { -1, -1 }, status = 0, polled, ret = -1;
	struct pollfd pfd;
	bool exited;

	if (pipe2(ready, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "storage: pipe for the fl-slowfs ready byte: %s", strerror(errno));
		goto exit;
	}
	snprintf(config_arg, sizeof(config_arg), "%d", config_fd);
	snprintf(ready_arg, sizeof(ready_arg), "%d", ready[1]);
	st->daemon_pid = fork();
	if (st->daemon_pid < 0) {
		snprintf(err, errlen, "storage: fork for fl-slowfs: %s", strerror(errno));
		st->daemon_pid = 0;
		goto exit;
	}
	if (st->daemon_pid == 0) {
		setpgid(0, 0);
		/* the daemon inherits the scenario and the ready pipe's write end */
		fcntl(config_fd, F_SETFD, 0);
		fcntl(ready[1], F_SETFD, 0);
		util_execv(daemon_path, argv);
		fprintf(stderr, "faultline: exec %s: %s\n", daemon_path, strerror(errno));
		_exit(127);
	}
	close(ready[1]);
	ready[1] = -1;
	pfd = (struct pollfd){ ready[0], POLLIN, 0 };
	polled = poll(&pfd, 1, 15000);
	if (polled == 1 && read(ready[0], &byte, 1) == 1) {
		ret = 0;
		goto exit;
	}
	/* end of file: only the daemon holds the write end, so it is exiting;
	 * give it 5 s to be reaped (its status names the failure) */
	exited = waitpid(st->daemon_pid, &status, WNOHANG) == st->daemon_pid;
	for (int i = 0; i < 500 && polled == 1 && !exited; i++) {
		usleep(10000);
		exited = waitpid(st->daemon_pid, &status, WNOHANG) == st->daemon_pid;
	}
	if (!exited) {
		kill(st->daemon_pid, SIGKILL); /* our own child, by pid */
		waitpid(st->daemon_pid, &status, 0);
	}
	st->daemon_pid = 0;
	if (exited && WIFEXITED(status))
		snprintf(err, errlen, "storage: fl-slowfs exited with status %d before mounting %s (its message "
			 "is above)", WEXITSTATUS(status), st->mountpoint);
	else
		snprintf(err, errlen, "storage: fl-slowfs did not mount %s within 15 s", st->mountpoint);
exit:
	if (ready[0] >= 0)
		close(ready[0]);
	if (ready[1] >= 0)
		close(ready[1]);
	return ret;
}

/* Mount slowfs in a private directory.  The daemon reads the files and its
 * settings from the resolved scenario (victim.files.*, storage.slowfs.*),
 * stays in the runner's cgroup (its threads are not throttled with the
 * victim), mounts with auto_unmount (a SIGKILLed runner leaves no mount) and
 * gets SIGTERM when the runner dies. */
static int storage_prepare_slowfs(struct storage *st, const struct config *cfg, char *err, size_t errlen)
{
	char exe[4096], daemon_path[4200];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	json_t *resolved;
	int config_fd;

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
	storage_slowfs_reap_stale();
	snprintf(st->mountpoint, sizeof(st->mountpoint), "/tmp/faultline-slowfs-XXXXXX");
	if (!mkdtemp(st->mountpoint)) {
		snprintf(err, errlen, "storage: mkdtemp %s: %s", st->mountpoint, strerror(errno));
		st->mountpoint[0] = '\0';
		return -1;
	}
	config_fd = storage_config_fd(cfg, err, errlen);
	if (config_fd < 0)
		return -1;
	if (storage_slowfs_spawn(st, daemon_path, config_fd, err, errlen) < 0) {
		close(config_fd);
		return -1;
	}
	close(config_fd);
	snprintf(st->files_dir, sizeof(st->files_dir), "%s", st->mountpoint);
	snprintf(st->fs_type, sizeof(st->fs_type), "fuse.slowfs");
	st->dev = 0;
	/* the settings it was started with: the resolved storage.slowfs */
	resolved = config_to_json(cfg);
	json_object_set(st->info, "slowfs", json_object_get(json_object_get(resolved, "storage"), "slowfs"));
	json_decref(resolved);
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
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

	*resident_bytes = 0;
	for (int64_t i = 0; i < cfg->victim.file_count; i++) {
		char path[4200];
		int fd;
		void *map;
		uint64_t size = cfg->victim.file_size_bytes, pages = size / page;

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

				if (mincore((char *)map + p * page, n * page, vec) < 0)
					break;
				for (uint64_t k = 0; k < n; k++)
					*resident_bytes += (vec[k] & 1) ? page : 0;
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
