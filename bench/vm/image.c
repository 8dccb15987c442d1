/* image: what the VM backend gives the guest, in its work directory
 * /var/tmp/faultline-vm-PID-*: the run's initramfs (the base that
 * bench/vm/mkinitramfs.sh built, then an uncompressed cpio segment holding
 * faultline/run/{scenario.json,args,env}) and a sparse ext4 disk for the
 * victim's files.  The work directory is removed on every path. */
#define _GNU_SOURCE
#include "bench/vm/vm.h"
#include "lib/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* newc cpio: one entry (a file or a directory), then the trailer. */
static int image_cpio_entry(FILE *f, const char *name, unsigned mode, const void *data, size_t len)
{
	static unsigned ino = 90000;
	size_t namesz = strlen(name) + 1;
	static const char zeros[4];

	if (fprintf(f, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X", ino++, mode, 0u, 0u, 1u,
		    (unsigned)time(NULL), len, 0u, 0u, 0u, 0u, namesz, 0u) < 0 ||
	    fwrite(name, 1, namesz, f) != namesz)
		return -1;
	if (fwrite(zeros, 1, (4 - (110 + namesz) % 4) % 4, f) != (4 - (110 + namesz) % 4) % 4)
		return -1;
	if (len && fwrite(data, 1, len, f) != len)
		return -1;
	if (fwrite(zeros, 1, (4 - len % 4) % 4, f) != (4 - len % 4) % 4)
		return -1;
	return 0;
}

int image_copy_file(const char *from, FILE *to)
{
	char buf[65536];
	size_t n;
	FILE *in = fopen(from, "re");

	if (!in)
		return -1;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, to) != n) {
			fclose(in);
			return -1;
		}
	fclose(in);
	return 0;
}

/* The guest's `faultline run` arguments, one per line: the victim's files
 * go to the guest's virtio-blk disk; a --set given by the user comes later
 * and wins. */
static char *image_run_args(const struct vm *v, size_t *len)
{
	char *args = NULL;
	FILE *m = open_memstream(&args, len);

	if (!m)
		return NULL;
	fprintf(m, "--set\nstorage.path=\"/data/faultline\"\n");
	for (int i = 0; i + 1 < v->npass; i += 2)
		fprintf(m, "--%s\n%s\n", v->pass[i], v->pass[i + 1]);
	if (fclose(m) != 0) {
		free(args);
		return NULL;
	}
	return args;
}

int image_make_initrd(struct vm *v, const char *path)
{
	FILE *f = fopen(path, "we");
	size_t slen = 0, alen = 0;
	char *scenario = util_read_file(v->scenario_path, &slen);
	char *args = NULL, env[256];
	int ret = -1;

	if (!f || !scenario || !(args = image_run_args(v, &alen))) {
		util_err("vm: cannot build the initramfs %s from %s: %s", path, v->scenario_path, strerror(errno));
		goto out;
	}
	/* the guest dumps its tasks' stacks 20 s before the watchdog (from boot,
	 * so a little later than the host's clock: boot takes seconds) */
	snprintf(env, sizeof(env), "FL_SWAP_BYTES=%llu\nFL_DUMP_AFTER_S=%d\n", (unsigned long long)v->swap_bytes,
		 v->vm_timeout_s > 60 ? (int)(v->vm_timeout_s - 20) : 0);
	if (image_copy_file(v->initrd, f) < 0) {
		util_err("vm: reading the base initramfs %s: %s", v->initrd, strerror(errno));
		goto out;
	}
	/* the kernel takes an uncompressed segment only at a 4-byte aligned
	 * offset, and skips the zeros before it (init/initramfs.c) */
	while (ftell(f) % 4)
		fputc(0, f);
	if (image_cpio_entry(f, "faultline", 040755, NULL, 0) < 0 ||
	    image_cpio_entry(f, "faultline/run", 040755, NULL, 0) < 0 ||
	    image_cpio_entry(f, "faultline/run/scenario.json", 0100644, scenario, slen) < 0 ||
	    image_cpio_entry(f, "faultline/run/args", 0100644, args, alen) < 0 ||
	    image_cpio_entry(f, "faultline/run/env", 0100644, env, strlen(env)) < 0 ||
	    image_cpio_entry(f, "TRAILER!!!", 0, NULL, 0) < 0) {
		util_err("vm: writing %s: %s", path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (f && fclose(f) != 0 && ret == 0) {
		util_err("vm: writing %s: %s", path, strerror(errno));
		ret = -1;
	}
	free(scenario);
	free(args);
	return ret;
}

/* Run argv to completion with output to log; 0 when it exits 0. */
static int image_run_tool(char *const argv[], const char *log)
{
	pid_t parent = getpid(), pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127); /* we died before the prctl */
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int image_make_disk(struct vm *v, const char *path, const char *log)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	char *mkfs[] = { "mkfs.ext4", "-q", "-F", "-L", "faultline", (char *)path, NULL };

	if (fd < 0 || ftruncate(fd, (off_t)v->disk_bytes) < 0) {
		util_err("vm: creating the sparse disk %s (%llu bytes): %s", path, (unsigned long long)v->disk_bytes,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	if (image_run_tool(mkfs, log) < 0) {
		util_err("vm: mkfs.ext4 %s failed (is e2fsprogs installed? see %s)", path, log);
		return -1;
	}
	return 0;
}

/* One boot's files; the initramfs stays for the next boot. */
static const char *const image_boot_files[] = { "disk.img", "status", "result.json", "console.log", "qemu.log",
						"mkfs.log" };

void image_reset_boot(const char *dir)
{
	char p[400];

	for (size_t i = 0; i < FL_ARRAY_SIZE(image_boot_files); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, image_boot_files[i]);
		unlink(p);
	}
}

void image_cleanup_dir(const char *dir)
{
	static const char *const files[] = { "initrd", "accel-probe.log", "accel-probe-firmware.log" };
	char p[400];

	if (!dir[0])
		return;
	image_reset_boot(dir);
	for (size_t i = 0; i < FL_ARRAY_SIZE(files); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
}

void image_reap_stale(void)
{
	DIR *d = opendir("/var/tmp");
	struct dirent *de;

	while (d && (de = readdir(d))) {
		struct stat sb;
		int pid, fd;
		char dash;
		DIR *w;

		/* a directory of a trusted owner (mkdtemp made it 0700 in sticky
		 * /var/tmp), never through a link, of a pid that is gone */
		if (sscanf(de->d_name, "faultline-vm-%d%c", &pid, &dash) != 2 || dash != '-' || pid <= 0 ||
		    kill(pid, 0) == 0 || errno != ESRCH ||
		    fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(sb.st_mode) ||
		    !util_uid_trusted(sb.st_uid))
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		w = fd < 0 ? NULL : fdopendir(fd);
		if (!w && fd >= 0)
			close(fd);
		for (struct dirent *e; w && (e = readdir(w));)
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				unlinkat(dirfd(w), e->d_name, 0);
		if (w)
			closedir(w);
		if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) == 0)
			fprintf(stderr, "faultline vm: removed /var/tmp/%s, left by run %d, which is gone\n", de->d_name, pid);
	}
	if (d)
		closedir(d);
}
