/* workload: entry point of a workload process (workload.c). */
#ifndef FL_WORKLOAD_H
#define FL_WORKLOAD_H

/* Files are named like this in the storage directory, index from 0. */
#define WORKLOAD_FILE_FORMAT "data-%06u"

int workload_main(int argc, char **argv);

#endif
