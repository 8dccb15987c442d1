/* workload: entry point of a workload process (workload.c). */
#ifndef FL_WORKLOAD_H
#define FL_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

/* Files are named like this in the storage directory, index from 0. */
#define WORKLOAD_FILE_FORMAT "data-%06u"

int workload_main(int argc, char **argv);

struct workload;
/* Victim roles: data file index of the victim's verified directory, opened
 * with flags (O_NONBLOCK cleared), never through a symbolic link, and only
 * the very file the runner verified (device and inode).  -1 with err naming
 * the file and errno set: ELOOP for a link, ESTALE for another file. */
int workload_open_verified(struct workload *w, int64_t index, int flags, char *err, size_t errlen);

#endif
