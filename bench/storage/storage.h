/* storage: where the victim's files live.  dir: plain files created once in
 * storage.path and reused while their size and content stamp match.
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
	pid_t daemon_pid;   /* slowfs */
	char mountpoint[4096];
	json_t *info;       /* recorded in results */
};

int storage_prepare(struct storage *st, const struct config *cfg, char *err, size_t errlen);
/* Drop the files' pages from the page cache so first touches are major
 * faults; records how many bytes stayed resident. */
int storage_drop_cache(struct storage *st, const struct config *cfg, uint64_t *resident_bytes, char *err,
		       size_t errlen);
/* slowfs: its .stats (NULL for other storage), and a counter reset. */
json_t *storage_slowfs_stats(const struct storage *st);
int storage_slowfs_reset(const struct storage *st);
/* Stop the slowfs daemon (it unmounts), remove the mount point. */
void storage_teardown(struct storage *st);

#endif
