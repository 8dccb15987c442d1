/* mmaplock_parse: the pure part of the mmap_lock probe (probes/mmaplock.c):
 * parse the tracefs text lines of the mmap_lock tracepoints, and pair them
 * (or the events the binary reader, mmaplock_raw.c, decodes) per task into
 * waits and holds.  No I/O; unit-tested on recorded lines by
 * tests/test_mmaplock.c.
 *
 * A line (trace_pipe, `trace` without its '#' header):
 *     <comm>-<tid> [cpu] flags secs.usecs: mmap_lock_EVENT: mm=.. memcg_id=.. write=B[ success=B]
 * Per task (tid), events pair as
 *     start_locking -> acquire_returned (success=true): a wait
 *     acquire_returned (success=true) -> released:      a hold
 * acquire_returned with success=false counts as failed and drops the
 * pending start.  acquire_returned while a hold is open (a downgrade:
 * mmap_write_downgrade emits a read acquire_returned under the write hold)
 * ends that hold and opens one of the new kind.  released of the other kind
 * than the open hold records nothing and closes it.  Waits and holds are
 * recorded only while `measuring` (the probe turns it on at its first
 * sample); the counters always advance.  The mm is not looked at: every
 * event of a followed task counts, whichever address space it locks
 * (docs/probes.md, Limits). */
#ifndef FL_MMAPLOCK_PARSE_H
#define FL_MMAPLOCK_PARSE_H

#include "lib/hist.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MMAPLOCK_PARSE_SLOTS 65536u  /* per-tid pending timestamps, power of two */
#define MMAPLOCK_PARSE_PROBES 64u    /* slots tried per tid before it is untracked */
#define MMAPLOCK_PARSE_DECADES 8     /* [0,1)us [1,10)us ... [100ms,1s) >=1s */

/* the histograms, in the order of mmaplock_parse_hist_names */
enum {
	MMAPLOCK_PARSE_READ_WAIT,
	MMAPLOCK_PARSE_READ_HOLD,
	MMAPLOCK_PARSE_WRITE_WAIT,
	MMAPLOCK_PARSE_WRITE_HOLD,
	MMAPLOCK_PARSE_NHIST,
};

struct mmaplock_parse_slot {
	int32_t tid;        /* 0: free */
	int8_t start_write; /* -1: no start pending */
	int8_t acq_write;   /* -1: no hold pending */
	uint64_t start_ns;
	uint64_t acq_ns;
};

struct mmaplock_parse {
	struct mmaplock_parse_slot *slots; /* MMAPLOCK_PARSE_SLOTS, allocated once */
	struct hist h[MMAPLOCK_PARSE_NHIST];
	uint64_t decades[MMAPLOCK_PARSE_NHIST][MMAPLOCK_PARSE_DECADES];
	/* [0] read, [1] write */
	uint64_t acq[2], failed[2], starts[2], releases[2];
	uint64_t events;         /* events; text: lines with a task, a time and ": mmap_lock_" */
	uint64_t lines_unparsed;
	uint64_t untracked;      /* events of tasks that found no slot */
	bool measuring;          /* record waits and holds */
};

extern const char *const mmaplock_parse_hist_names[MMAPLOCK_PARSE_NHIST];
extern const char *const mmaplock_parse_decade_names[MMAPLOCK_PARSE_DECADES];

/* Allocate the slot table and reset everything, unless it is allocated
 * already (then nothing); -1 with errno when the allocation fails.
 * mmaplock_parse_free releases it. */
int mmaplock_parse_alloc(struct mmaplock_parse *p);
void mmaplock_parse_free(struct mmaplock_parse *p);
/* Forget every pending timestamp, counter, histogram; measuring off. */
void mmaplock_parse_reset(struct mmaplock_parse *p);
/* Empty the histograms and decades only. */
void mmaplock_parse_reset_hists(struct mmaplock_parse *p);
/* The event kinds (mmap_lock_start_locking, _acquire_returned, _released). */
enum {
	MMAPLOCK_PARSE_START_LOCKING,
	MMAPLOCK_PARSE_ACQUIRE_RETURNED,
	MMAPLOCK_PARSE_RELEASED,
	MMAPLOCK_PARSE_NKIND,
};

/* One event of task tid at ts_ns (any clock, the same for every event):
 * counted and paired as above (success is looked at for acquire_returned
 * only).  The text path (mmaplock_parse_line) and the binary one
 * (mmaplock_raw.c) both end here, so they pair alike. */
void mmaplock_parse_event(struct mmaplock_parse *p, int32_t tid, int kind, bool write, bool success, uint64_t ts_ns);
/* One line without its newline; the line is modified. */
void mmaplock_parse_line(struct mmaplock_parse *p, char *line);
/* Every newline-terminated line of the NUL-terminated text (modified);
 * returns the bytes consumed, up to and including the last newline. */
size_t mmaplock_parse_text(struct mmaplock_parse *p, char *text);

#endif
