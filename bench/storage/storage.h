/* storage: where the victim's files live.  dir: plain files data-NNNNNN,
 * created once in STORAGE.PATH/files-SIZE-vVERSION/ (e.g. files-64M-v1:
 * one directory per file size and content version, so scenarios of other
 * sizes never rewrite them) and reused while their size and content match;
 * the free space is checked for all missing files together before any is
 * written.  Files directly in storage.path (earlier versions, or copied in
 * by hand) are used when all of them match.  ./run.sh clean lists and
 * removes these names only.
 * slowfs: a FUSE mount of synthetic files (fl-slowfs, workloads/slowfs/),
 * started with the resolved scenario on --config-fd. */
#ifndef FL_STORAGE_H
#define FL_STORAGE_H

#include <stdbool.h>
#include <sys/types.h>
#include <jansson.h>

#include "lib/config.h"

struct storage {
	char files_dir[4096];
	dev_t dev;          /* device of the files, for io.max / io.latency */
	char fs_type[64];
	pid_t daemon_pid;   /* slowfs; 0 once it has ended (then never signalled again) */
	pid_t daemon_dead_pid; /* slowfs: the daemon that ended during the run, and its wait status */
	int daemon_status;
	char mountpoint[4096];
	json_t *info;       /* recorded in results */
	/* dir: the files' directory, verified (util_dir_open_safe), and the
	 * device and inode of it and of each file as verified, in a memfd the
	 * workload processes inherit (passed as --verified-fd): the
	 * victim maps only those (docs/security.md).  -1: none. */
	int dir_fd;
	int ids_fd;
};

/* Before anything is created: a dir storage.path must be safe (root's or
 * the invoking user's, not writable by group or other, and so every
 * existing component above it; util_dir_open_safe).  0, or -1 with err
 * naming the directory and its owner (bad input, exit 2). */
int storage_check(const struct config *cfg, char *err, size_t errlen);

int storage_prepare(struct storage *st, const struct config *cfg, char *err, size_t errlen);
/* Drop the files' pages from the page cache so first touches are major
 * faults; records how many bytes stayed resident. */
int storage_drop_cache(struct storage *st, const struct config *cfg, uint64_t *resident_bytes, char *err,
		       size_t errlen);
/* slowfs: its .stats (NULL for other storage), and a counter reset. */
json_t *storage_slowfs_stats(const struct storage *st);
int storage_slowfs_reset(const struct storage *st);
/* slowfs: has the daemon ended on its own?  Reaps it (waiting up to
 * wait_ms), records it in the storage info (daemon_exit) and says how in
 * why (may be NULL): "storage: slowfs daemon fl-slowfs (pid N) died: killed
 * by signal 9 (Killed) ...".  False while it runs, and for other storage. */
bool storage_daemon_gone(struct storage *st, unsigned wait_ms, char *why, size_t len);
/* Stop the slowfs daemon (it unmounts), remove the mount point. */
void storage_teardown(struct storage *st);

#endif
