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

/* Verified directories (util_dir_open_safe), by path: storage.path and the
 * files' directory under it.  Closed by storage_teardown. */
static struct {
	char path[4096];
	int fd;
} storage_dirs[4];

/* The verified descriptor of dir (created 0755 when absent with create):
 * >= 0, -2 when unsafe, -1 on other errors (err says which). */
static int storage_dir_fd(const char *dir, bool create, char *err, size_t errlen)
{
	size_t i, n = FL_ARRAY_SIZE(storage_dirs);
	int fd;

	for (i = 0; i < n; i++)
		if (storage_dirs[i].path[0] && !strcmp(storage_dirs[i].path, dir))
			return storage_dirs[i].fd;
	fd = util_dir_open_safe("storage: storage.path", dir, create ? UTIL_DIR_CREATE : 0, NULL, 0, err, errlen);
	if (fd < 0)
		return fd;
	for (i = 0; i < n && storage_dirs[i].path[0]; i++)
		;
	if (i == n) {
		close(storage_dirs[0].fd);
		i = 0;
	}
	snprintf(storage_dirs[i].path, sizeof(storage_dirs[i].path), "%s", dir);
	storage_dirs[i].fd = fd;
	return fd;
}

static void storage_dirs_close(void)
{
	for (size_t i = 0; i < FL_ARRAY_SIZE(storage_dirs); i++)
		if (storage_dirs[i].path[0]) {
			close(storage_dirs[i].fd);
			storage_dirs[i].path[0] = '\0';
		}
}

/* path as a verified directory's descriptor and the name in it; -1 with
 * err when the directory is not verified (storage_dir_fd). */
static int storage_split(const char *path, const char **name, char *err, size_t errlen)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];

	if (!slash || slash == path || (size_t)(slash - path) >= sizeof(dir)) {
		snprintf(err, errlen, "storage: %s: not a file in a directory", path);
		return -1;
	}
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	*name = slash + 1;
	return storage_dir_fd(dir, false, err, errlen);
}

/* Open a data file for reading without following a symbolic link (nor
 * blocking on a FIFO); fstat into sb; -1 unless it is a regular file. */
static int storage_open_file(const char *path, struct stat *sb)
{
	const char *name;
	char err[512];
	int dfd = storage_split(path, &name, err, sizeof(err)), fd;

	fd = dfd < 0 ? -1 : util_openat_nofollow(dfd, name, O_RDONLY | O_NONBLOCK, 0);
	if (fd >= 0 && (fstat(fd, sb) < 0 || !S_ISREG(sb->st_mode))) {
		close(fd);
		errno = EINVAL;
		fd = -1;
	}
	return fd;
}

/* A file matches when it is a regular file (a symbolic link never is), its
 * size is right and sampled words hold the pattern. */
static bool storage_file_matches(const char *path, unsigned index, uint64_t size)
{
	struct stat st;
	int fd = storage_open_file(path, &st);
	bool ok = false;

	if (fd < 0)
		return false;
	if ((uint64_t)st.st_size == size) {
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

/* The temporary NAME.tmp-PID, created with O_EXCL in the verified
 * directory: whatever sits at that name (a stale temporary, a planted
 * symbolic link) is removed, never opened or followed. */
static int storage_create_temp(int dfd, const char *tmp)
{
	int fd = util_openat_nofollow(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);

	if (fd < 0 && errno == EEXIST && unlinkat(dfd, tmp, 0) == 0)
		fd = util_openat_nofollow(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
	return fd;
}

static int storage_create_file(const char *path, unsigned index, uint64_t size, char *err, size_t errlen)
{
	char tmp[4200];
	unsigned char *buf = malloc(STORAGE_CHUNK);
	int fd = -1, ret = -1, dfd;
	uint64_t off = 0, last_report = util_now_ns();
	const char *name = NULL;

	dfd = storage_split(path, &name, err, errlen);
	if (dfd < 0)
		goto out;
	snprintf(tmp, sizeof(tmp), "%s.tmp-%d", name, (int)getpid());
	if (!buf) {
		snprintf(err, errlen, "storage: allocating %u bytes: %s", STORAGE_CHUNK, strerror(errno));
		goto out;
	}
	fd = storage_create_temp(dfd, tmp);
	if (fd < 0) {
		snprintf(err, errlen, "storage: create %s.tmp-%d: %s", path, (int)getpid(), strerror(errno));
		goto out;
	}
	while (off < size) {
		size_t n = size - off < STORAGE_CHUNK ? (size_t)(size - off) : STORAGE_CHUNK;

		pattern_fill(index, off, buf, n);
		if (util_write_all(fd, buf, n) < 0) {
			snprintf(err, errlen, "storage: write %s.tmp-%d at offset %llu: %s", path, (int)getpid(),
				 (unsigned long long)off, strerror(errno));
			goto out;
		}
		off += n;
		if (util_now_ns() - last_report > 2000000000ull) {
			fprintf(stderr, "faultline: creating %s: %llu of %llu MiB\n", path,
				(unsigned long long)(off >> 20), (unsigned long long)(size >> 20));
			last_report = util_now_ns();
		}
	}
	/* renameat replaces whatever is at name (a symbolic link too) */
	if (fsync(fd) < 0 || renameat(dfd, tmp, dfd, name) < 0 || fsync(dfd) < 0) {
		snprintf(err, errlen, "storage: finishing %s: %s", path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0) {
		close(fd);
		if (ret < 0)
			unlinkat(dfd, tmp, 0);
	}
	free(buf);
	return ret;
}

/* The files' directory and each file as verified, into st: the directory's
 * descriptor (st->dir_fd) and the {device, inode} table in a memfd that
 * the workload processes inherit (the runner passes it as --verified-fd). */
static int storage_record_ids(struct storage *st, int64_t count, char *err, size_t errlen)
{
	uint64_t (*ids)[2] = calloc((size_t)count + 1, sizeof(*ids));
	int dfd = storage_dir_fd(st->files_dir, false, err, errlen), ret = -1;
	struct stat sb;

	if (!ids || dfd < 0 || fstat(dfd, &sb) < 0) {
		if (dfd >= 0)
			snprintf(err, errlen, "storage: recording the verified files of %s: %s", st->files_dir,
				 strerror(errno));
		goto out;
	}
	ids[0][0] = sb.st_dev;
	ids[0][1] = sb.st_ino;
	for (int64_t i = 0; i < count; i++) {
		char path[4200];
		int fd;

		snprintf(path, sizeof(path), "%s/" WORKLOAD_FILE_FORMAT, st->files_dir, (unsigned)i);
		fd = storage_open_file(path, &sb);
		if (fd < 0) {
			snprintf(err, errlen, "storage: %s: %s (not a regular file, or gone since it was verified)",
				 path, strerror(errno));
			goto out;
		}
		close(fd);
		ids[i + 1][0] = sb.st_dev;
		ids[i + 1][1] = sb.st_ino;
	}
	st->dir_fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
	st->ids_fd = memfd_create("faultline-verified-files", 0); /* inherited by the workloads */
	if (st->dir_fd < 0 || st->ids_fd < 0 ||
	    util_write_all(st->ids_fd, ids, ((size_t)count + 1) * sizeof(*ids)) < 0) {
		snprintf(err, errlen, "storage: memfd for the verified files: %s", strerror(errno));
		goto out;
	}
	ret = 0;
out:
	free(ids);
	return ret;
}

int storage_check(const struct config *cfg, char *err, size_t errlen)
{
	int fd;

	if (cfg->storage.type != STORAGE_DIR || !cfg->storage.path)
		return 0;
	fd = util_dir_open_safe("storage: storage.path", cfg->storage.path, 0, NULL, 0, err, errlen);
	if (fd >= 0)
		close(fd);
	/* missing components are created (and checked) by storage_prepare;
	 * other failures are reported there */
	return fd == -2 ? -1 : 0;
}

/* The content version of the files: bump it when lib/pattern.h's
 * pattern_word changes, so files of the old content are not taken for the
 * new (they would be rewritten anyway, but under another name nothing is
 * rewritten back and forth). */
#define STORAGE_CONTENT_VERSION 1
/* Room left free on the file system after creating the files. */
#define STORAGE_HEADROOM (64ull << 20)

/* "64M", "1G", "12K" or "4100": the size in its largest exact binary unit. */
static void storage_size_name(uint64_t size, char *buf, size_t len)
{
	static const char units[] = "TGMK";

	for (int u = 0; u < 4; u++) {
		unsigned shift = (unsigned)(40 - 10 * u);

		if (size >= (1ull << shift) && size % (1ull << shift) == 0) {
			snprintf(buf, len, "%llu%c", (unsigned long long)(size >> shift), units[u]);
			return;
		}
	}
	snprintf(buf, len, "%llu", (unsigned long long)size);
}

/* Do all count files of size in dir hold the pattern? */
static bool storage_all_match(const char *dir, int64_t count, uint64_t size)
{
	for (int64_t i = 0; i < count; i++) {
		char path[4200];

		snprintf(path, sizeof(path), "%s/" WORKLOAD_FILE_FORMAT, dir, (unsigned)i);
		if (!storage_file_matches(path, (unsigned)i, size))
			return false;
	}
	return true;
}

/* Remove data-N.tmp-PID temporaries of runners that are gone (SIGKILLed
 * while creating files; tests/torture.sh) in the verified directory dfd
 * (taken): never a live runner's, never a directory, never followed. */
static void storage_reap_temporaries_in(int dfd)
{
	DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
	struct dirent *de;

	if (!d && dfd >= 0)
		close(dfd);
	while (d && (de = readdir(d))) {
		const char *t = strstr(de->d_name, ".tmp-");
		char *end;
		long pid;

		if (strncmp(de->d_name, "data-", 5) != 0 || !t)
			continue;
		pid = strtol(t + 5, &end, 10);
		if (*end || pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		unlinkat(dirfd(d), de->d_name, 0);
	}
	if (d)
		closedir(d);
}

/* ... in storage.path (pathfd, verified) and its files-* directories.
 * Each listing opens "." anew: a dup() would share one read position. */
static void storage_reap_temporaries(int pathfd)
{
	int fd = openat(pathfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;

	if (!d && fd >= 0)
		close(fd);
	storage_reap_temporaries_in(openat(pathfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	while (d && (de = readdir(d)))
		if (!strncmp(de->d_name, "files-", 6))
			storage_reap_temporaries_in(util_openat_nofollow(pathfd, de->d_name, O_RDONLY | O_DIRECTORY, 0));
	if (d)
		closedir(d);
}

/* The files of a run live in STORAGE.PATH/files-SIZE-vVERSION/ (storage.h),
 * so scenarios with other file sizes never rewrite them.  Files placed
 * directly in storage.path (by earlier versions of the suite, or copied in
 * by hand) are used when every one of them matches. */
static int storage_prepare_dir(struct storage *st, const struct config *cfg, char *err, size_t errlen)
{
	const uint64_t size = cfg->victim.file_size_bytes;
	const int64_t count = cfg->victim.file_count;
	unsigned created = 0, reused = 0, missing = 0;
	uint64_t need = 0, avail;
	char key[64], sname[32];
	struct statfs sfs;
	struct stat sb;
	int pathfd = storage_dir_fd(cfg->storage.path, true, err, errlen);

	if (pathfd < 0)
		return -1;
	storage_reap_temporaries(pathfd);
	storage_size_name(size, sname, sizeof(sname));
	snprintf(key, sizeof(key), "files-%s-v%d", sname, STORAGE_CONTENT_VERSION);
	if (storage_all_match(cfg->storage.path, count, size)) {
		snprintf(st->files_dir, sizeof(st->files_dir), "%s", cfg->storage.path);
		snprintf(key, sizeof(key), "flat");
	} else {
		snprintf(st->files_dir, sizeof(st->files_dir), "%s/%s", cfg->storage.path, key);
	}
	/* what is missing, and whether all of it fits, before writing anything */
	for (int64_t i = 0; i < count; i++) {
		char path[4200];

		snprintf(path, sizeof(path), "%s/" WORKLOAD_FILE_FORMAT, st->files_dir, (unsigned)i);
		if (!storage_file_matches(path, (unsigned)i, size)) {
			missing++;
			need += size;
		}
	}
	if (statfs(cfg->storage.path, &sfs) < 0) {
		snprintf(err, errlen, "storage: storage.path: statfs %s: %s", cfg->storage.path, strerror(errno));
		return -1;
	}
	avail = (uint64_t)sfs.f_bavail * (uint64_t)sfs.f_bsize;
	if (missing > 0 && avail < need + STORAGE_HEADROOM) {
		snprintf(err, errlen,
			 "storage: storage.path %s has %llu MiB free; the %u missing files of %s "
			 "(victim.files.size_bytes) need %llu MiB together, plus %llu MiB left free "
			 "(fewer or smaller files, another storage.path, or storage.type slowfs for files "
			 "larger than the disk)",
			 cfg->storage.path, (unsigned long long)(avail >> 20), missing, sname,
			 (unsigned long long)(need >> 20), STORAGE_HEADROOM >> 20);
		return -1;
	}
	if (missing > 0) {
		fprintf(stderr, "faultline: storage: creating %u file%s of %s (%llu MiB) in %s (%llu MiB free); "
			"later runs with files of this size reuse them (./run.sh clean lists them)\n",
			missing, missing == 1 ? "" : "s", sname, (unsigned long long)(need >> 20), st->files_dir,
			(unsigned long long)(avail >> 20));
		if (storage_dir_fd(st->files_dir, true, err, errlen) < 0)
			return -1;
	}
	for (int64_t i = 0; i < count; i++) {
		char path[4200];

		snprintf(path, sizeof(path), "%s/" WORKLOAD_FILE_FORMAT, st->files_dir, (unsigned)i);
		if (storage_file_matches(path, (unsigned)i, size)) {
			reused++;
			continue;
		}
		if (storage_create_file(path, (unsigned)i, size, err, errlen) < 0)
			return -1;
		created++;
	}
	if (storage_record_ids(st, count, err, errlen) < 0)
		return -1;
	if (stat(st->files_dir, &sb) == 0)
		st->dev = sb.st_dev;
	snprintf(st->fs_type, sizeof(st->fs_type), "0x%lx", (unsigned long)sfs.f_type);
	json_object_set_new(st->info, "files_key", json_string(key));
	json_object_set_new(st->info, "content_version", json_integer(STORAGE_CONTENT_VERSION));
	json_object_set_new(st->info, "files_created", json_integer(created));
	json_object_set_new(st->info, "files_reused", json_integer(reused));
	return 0;
}

/* Remove mount points left empty by a runner that was SIGKILLed (the
 * daemon's auto_unmount took the mount itself): /tmp/faultline-slowfs-PID-*
 * of a runner that is gone (a live runner's may not be mounted yet), and
 * the pid-less names of earlier versions; rmdir only removes empty,
 * unmounted directories.  Every run does it, whatever its storage.type
 * (tests/torture.sh: a dir run after a SIGKILLed slowfs run). */
static void storage_slowfs_reap_stale(void)
{
	DIR *d = opendir("/tmp");
	struct dirent *de;

	while (d && (de = readdir(d))) {
		struct stat sb;
		int pid;
		char dash;

		/* only directories of root's (or ours): never another user's,
		 * and never through a symbolic link */
		if (strncmp(de->d_name, "faultline-slowfs-", 17) != 0 ||
		    fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(sb.st_mode) ||
		    !util_uid_trusted(sb.st_uid))
			continue;
		if (sscanf(de->d_name + 17, "%d%c", &pid, &dash) == 2 && dash == '-' && pid > 0 &&
		    (kill(pid, 0) == 0 || errno != ESRCH))
			continue; /* its runner is alive */
		unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR);
	}
	if (d)
		closedir(d);
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
	snprintf(st->mountpoint, sizeof(st->mountpoint), "/tmp/faultline-slowfs-%d-XXXXXX", (int)getpid());
	if (!mkdtemp(st->mountpoint)) {
		snprintf(err, errlen, "storage: mkdtemp %s: %s", st->mountpoint, strerror(errno));
		st->mountpoint[0] = '\0';
		return -1;
	}
	config_fd = config_to_memfd(cfg, "faultline-slowfs-config", true, err, errlen);
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

	if (!__atomic_load_n(&st->daemon_pid, __ATOMIC_RELAXED))
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
	st->dir_fd = st->ids_fd = -1;
	st->info = json_object();
	json_object_set_new(st->info, "type", json_string(config_enum_name("storage.type", cfg->storage.type)));
	storage_slowfs_reap_stale();
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

/* File index of st for reading: dir storage, relative to the verified
 * directory and only the very file verified (device and inode); slowfs,
 * in the private mount point.  Never through a symbolic link. */
static int storage_open_verified(const struct storage *st, int64_t index, const char *path, char *err,
				 size_t errlen)
{
	uint64_t id[2];
	struct stat sb;
	int fd;

	if (st->dir_fd < 0) {
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			snprintf(err, errlen, "storage: open %s: %s", path, strerror(errno));
		return fd;
	}
	fd = util_openat_nofollow(st->dir_fd, strrchr(path, '/') + 1, O_RDONLY | O_NONBLOCK, 0);
	if (fd < 0 || fstat(fd, &sb) < 0 ||
	    pread(st->ids_fd, id, sizeof(id), (off_t)((uint64_t)(index + 1) * sizeof(id))) != (ssize_t)sizeof(id)) {
		snprintf(err, errlen, "storage: open %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if ((uint64_t)sb.st_dev != id[0] || (uint64_t)sb.st_ino != id[1]) {
		snprintf(err, errlen, "storage: %s is no longer the file verified at the start of the run (inode %llu, "
			 "verified %llu): replaced during the run", path, (unsigned long long)sb.st_ino,
			 (unsigned long long)id[1]);
		close(fd);
		return -1;
	}
	return fd;
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
		fd = storage_open_verified(st, i, path, err, errlen);
		if (fd < 0)
			return -1;
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

bool storage_daemon_gone(struct storage *st, unsigned wait_ms, char *why, size_t len)
{
	uint64_t limit = util_now_ns() + (uint64_t)wait_ms * 1000000ull;
	char how[160];
	int status;

	while (st->daemon_pid > 0) {
		pid_t p = waitpid(st->daemon_pid, &status, WNOHANG); /* our own child, by pid */

		if (p == st->daemon_pid) {
			st->daemon_dead_pid = st->daemon_pid;
			st->daemon_status = status;
			__atomic_store_n(&st->daemon_pid, 0, __ATOMIC_RELAXED); /* the sampler thread reads it */
			break;
		}
		if (p < 0 || util_now_ns() >= limit)
			return false;
		usleep(10000);
	}
	if (!st->daemon_dead_pid)
		return false;
	status = st->daemon_status;
	if (WIFSIGNALED(status))
		snprintf(how, sizeof(how), "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(status));
	if (st->info && !json_object_get(st->info, "daemon_exit"))
		json_object_set_new(st->info, "daemon_exit", json_string(how));
	if (why)
		snprintf(why, len, "storage: slowfs daemon fl-slowfs (pid %d) died: %s; its mount %s no longer serves "
			 "the victim's files", (int)st->daemon_dead_pid, how, st->mountpoint);
	return true;
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
				umount2(st->mountpoint, MNT_DETACH | UMOUNT_NOFOLLOW); /* auto_unmount should have done it */
			usleep(10000);
		}
		st->mountpoint[0] = '\0';
	}
	if (st->ids_fd >= 0) {
		close(st->ids_fd);
	}
	if (st->dir_fd >= 0)
		close(st->dir_fd);
	st->dir_fd = st->ids_fd = -1;
	storage_dirs_close();
	json_decref(st->info);
	st->info = NULL;
}
