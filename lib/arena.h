/* arena: the memory the runner shares with its workload processes.
 *
 * The runner creates it (a memfd), touches every page so the memory is
 * charged to the runner's cgroup and not to the victim's memory.max, and
 * hands the descriptor to each workload process.  Each workload thread owns
 * one slot: its counters and its histograms, written by that thread alone
 * with plain stores (counters with relaxed atomic stores so the runner's
 * once-a-second sampler reads whole values).  Nothing is locked or allocated
 * while recording, and because the memory outlives the workload process, a
 * victim killed by the OOM killer still leaves its samples behind.
 *
 * The header's phase word is the start barrier and the stop signal: threads
 * futex-wait while it is ARENA_SETUP, record only while it is
 * ARENA_MEASURE, and leave their loops when it is ARENA_STOP.
 */
#ifndef FL_ARENA_H
#define FL_ARENA_H

#include <stddef.h>
#include <stdint.h>

#include "lib/hist.h"

#define ARENA_MAGIC 0x616e657261746c66ULL /* "fltarena" */
#define ARENA_VERSION 1u
#define ARENA_COUNTERS 16u
#define ARENA_PROCESSES 2u /* 0 = victim, 1 = observer */

enum arena_phase { ARENA_SETUP = 0, ARENA_WARMUP = 1, ARENA_MEASURE = 2, ARENA_STOP = 3 };
enum arena_slot_state { SLOT_IDLE = 0, SLOT_READY = 1, SLOT_DONE = 2 };

struct arena_header {
	uint64_t magic;
	uint32_t version;
	uint32_t nslots;
	uint64_t size_bytes;
	int32_t phase; /* futex word, written by the runner */
	int32_t ready[ARENA_PROCESSES]; /* set by each process when all its threads wait at the barrier */
	char error[ARENA_PROCESSES][512]; /* a process's fatal setup error, for the runner's message */
};

struct arena_slot {
	uint32_t role;  /* index in roles[] */
	uint32_t index; /* thread index within its role */
	uint32_t nhist;
	int32_t state;
	uint64_t counters[ARENA_COUNTERS];
	struct hist hist[];
};

struct arena {
	struct arena_header *hdr;
	size_t size;
	uint32_t nslots;
	size_t *slot_offset; /* nslots entries */
	int fd;
};

/* Describe the layout: nslots slots, slot i with nhist[i] histograms. */
size_t arena_slot_size(uint32_t nhist);

/* Runner: create the memfd, size it for the slots, touch every page, write
 * the header and slot descriptions.  role_of/index_of/nhist_of: per slot. */
int arena_create(struct arena *a, uint32_t nslots, const uint32_t *role_of, const uint32_t *index_of,
		 const uint32_t *nhist_of, char *err, size_t errlen);
/* Workload: map an arena inherited as fd. */
int arena_attach(struct arena *a, int fd, char *err, size_t errlen);
void arena_close(struct arena *a);

static inline struct arena_slot *arena_slot(const struct arena *a, uint32_t i)
{
	return (struct arena_slot *)((char *)a->hdr + a->slot_offset[i]);
}

static inline int arena_phase(const struct arena *a)
{
	return __atomic_load_n(&a->hdr->phase, __ATOMIC_RELAXED);
}

void arena_set_phase(struct arena *a, int phase); /* store + futex wake all */
void arena_wait_start(struct arena *a);           /* futex wait while ARENA_SETUP */

static inline void arena_count(struct arena_slot *s, unsigned i, uint64_t delta)
{
	__atomic_store_n(&s->counters[i], s->counters[i] + delta, __ATOMIC_RELAXED);
}

#endif
