/* fl-slowfs: a FUSE file system serving synthetic read-only files whose bytes
 * are pattern_fill(file_index, offset) (lib/pattern.h), with a configurable
 * per-request latency, jitter, bandwidth cap and in-flight limit, and an exact
 * count of bytes served.  See docs/slowfs.md, and slowfs.h for its units.
 *
 * This file is main: the command line (cli.c), supervision by the parent,
 * the FUSE session (ops.c), mount, loop and teardown.
 *
 * Built by `make` as $(BUILD)/fl-slowfs from every workloads/slowfs/ file and
 * lib/pattern.c, lib/config.c, lib/config_io.c, lib/util.c (Makefile: SLOWFS_SRC), with
 * $(pkg-config --cflags --libs fuse3) -ljansson -lpthread -lm. */
#define _GNU_SOURCE
#include "workloads/slowfs/slowfs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

/* Is fusermount3 on PATH (what libfuse runs for auto_unmount)? */
static bool slowfs_have_fusermount(void)
{
	const char *path = getenv("PATH");
	char buf[4096], *save = NULL, *dir;

	snprintf(buf, sizeof(buf), "%s", path && *path ? path : "/usr/bin:/bin");
	for (dir = strtok_r(buf, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char p[4200];

		snprintf(p, sizeof(p), "%s/fusermount3", dir);
		if (access(p, X_OK) == 0)
			return true;
	}
	return false;
}

/* The runner supervises us: die (cleanly, unmounting) with our parent;
 * precise sleeps; the ready fd stays ours. */
static int slowfs_supervise(const struct slowfs_config *cfg, pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0) {
		fprintf(stderr, SLOWFS_NAME ": prctl(PR_SET_PDEATHSIG, SIGTERM): %s\n",
			strerror(errno));
		return -1;
	}
	if (getppid() != parent) {
		fprintf(stderr, SLOWFS_NAME ": parent %d exited before the mount\n", (int)parent);
		return -1;
	}
	/* precise sleeps: worker threads inherit a 1 ns timer slack */
	if (prctl(PR_SET_TIMERSLACK, 1UL) < 0)
		fprintf(stderr, SLOWFS_NAME ": prctl(PR_SET_TIMERSLACK, 1): %s (continuing)\n",
			strerror(errno));
	if (cfg->ready_fd != UINT64_MAX && fcntl((int)cfg->ready_fd, F_SETFD, FD_CLOEXEC) < 0) {
		fprintf(stderr, SLOWFS_NAME ": fcntl(%d, F_SETFD, FD_CLOEXEC): %s\n",
			(int)cfg->ready_fd, strerror(errno));
		return -1;
	}
	return 0;
}

/* Mount fs->cfg.mountpoint and serve until a signal or an unmount.
 * Returns the exit status. */
static int slowfs_serve(struct slowfs *fs, const char *argv0)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct fuse_loop_config *loop = NULL;
	char mount_opts[256];
	bool handlers = false, mounted = false;
	int ret = 1;

	/* auto_unmount needs the fusermount3 helper; a VM guest's initramfs has
	 * none, and there root mounts directly (the runner still unmounts, and
	 * reaps a stale mount of a killed daemon) */
	snprintf(mount_opts, sizeof(mount_opts),
		 "fsname=faultline-slowfs,subtype=slowfs,%sdefault_permissions,"
		 "max_read=%" PRIu64,
		 slowfs_have_fusermount() ? "auto_unmount," : "", fs->cfg.max_request_bytes);
	if (fuse_opt_add_arg(&args, argv0) < 0 || fuse_opt_add_arg(&args, "-o") < 0 ||
	    fuse_opt_add_arg(&args, mount_opts) < 0 ||
	    (fs->cfg.debug && fuse_opt_add_arg(&args, "-d") < 0)) {
		fprintf(stderr, SLOWFS_NAME ": building FUSE arguments: %s\n", strerror(ENOMEM));
		goto exit;
	}
	fs->se = fuse_session_new(&args, &ops_lowlevel, sizeof(ops_lowlevel), fs);
	if (!fs->se) {
		fprintf(stderr, SLOWFS_NAME ": fuse_session_new(-o %s) failed\n", mount_opts);
		goto exit;
	}
	/* libfuse only takes over signals left at SIG_DFL, and a background
	 * job of a non-interactive shell starts with SIGINT ignored */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	if (fuse_set_signal_handlers(fs->se) != 0) {
		fprintf(stderr, SLOWFS_NAME ": fuse_set_signal_handlers failed\n");
		goto exit;
	}
	handlers = true;
	if (fuse_session_mount(fs->se, fs->cfg.mountpoint) != 0) {
		fprintf(stderr, SLOWFS_NAME ": mounting on '%s' failed (see the message above)\n",
			fs->cfg.mountpoint);
		goto exit;
	}
	mounted = true;
	loop = fuse_loop_cfg_create();
	if (!loop) {
		fprintf(stderr, SLOWFS_NAME ": fuse_loop_cfg_create: %s\n", strerror(ENOMEM));
		goto exit;
	}
	/* a thread per request in service or queued, up to the in-flight
	 * capacity plus a few, so that lookups and .stats/.control usually find
	 * a free thread; beyond that, requests wait in the kernel's queue */
	fuse_loop_cfg_set_max_threads(loop, (unsigned)(fs->inflight_capacity + SLOWFS_SPARE_WORKERS));
	ret = fuse_session_loop_mt(fs->se, loop);
	if (ret < 0) {
		fprintf(stderr, SLOWFS_NAME ": fuse_session_loop_mt on '%s': %s\n",
			fs->cfg.mountpoint, strerror(-ret));
		ret = 1;
	} else {
		ret = 0;
	}
exit:
	if (loop)
		fuse_loop_cfg_destroy(loop);
	if (mounted)
		fuse_session_unmount(fs->se);
	if (handlers)
		fuse_remove_signal_handlers(fs->se);
	if (fs->se)
		fuse_session_destroy(fs->se);
	fs->se = NULL;
	fuse_opt_free_args(&args);
	return ret;
}

int main(int argc, char **argv)
{
	static struct slowfs fs; /* zeroed, and shared with the FUSE threads */
	long page = sysconf(_SC_PAGESIZE);
	pid_t parent = getppid();
	int ret = 1;

	if (page <= 0 || (page & (page - 1))) {
		fprintf(stderr, SLOWFS_NAME ": sysconf(_SC_PAGESIZE) = %ld: %s\n", page,
			page < 0 ? strerror(errno) : "not a power of two");
		return 1;
	}
	fs.page_bytes = (uint64_t)page;
	fs.page_shift = (unsigned)__builtin_ctzll(fs.page_bytes);
	if (cli_parse(argc, argv, fs.page_bytes, &fs.cfg) < 0)
		return 2;
	if (fs.cfg.help) {
		cli_usage(stdout);
		return 0;
	}
	if (slowfs_supervise(&fs.cfg, parent) < 0)
		goto exit;
	fs.mtime_s = (uint64_t)time(NULL);
	if (account_init(&fs) < 0 || service_init(&fs) < 0)
		goto exit;
	ret = slowfs_serve(&fs, argv[0]);
exit:
	service_destroy(&fs);
	account_destroy(&fs);
	return ret;
}
