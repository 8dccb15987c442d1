/* role: one kind of workload thread.  A role is a name, the process it runs
 * in, how many threads it gets from the scenario, its histograms and
 * counters (its slot layout in the arena, each declared once with what it
 * holds), and its thread body.  Every role is listed in roles.c; the runner
 * reads the same table to lay out the arena and to name what it collects. */
#ifndef FL_ROLE_H
#define FL_ROLE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "lib/arena.h"
#include "lib/config.h"
#include "lib/pattern.h"

enum { PROCESS_VICTIM = 0, PROCESS_OBSERVER = 1 };

/* One workload process's shared, read-only-after-setup state. */
struct workload {
	const struct config *cfg;
	struct arena *arena;
	unsigned process;
	pid_t victim_pid;       /* observer: whose /proc files to read */
	const char *files_dir;  /* victim: where data-NNNNNN files are */
	int verified_fd;        /* victim: the runner's {device, inode} table, or -1 */
	int files_fd;           /* victim: files_dir as verified, or -1 (workload_open_verified) */
	uint64_t (*verified)[2]; /* victim: that table once read (NULL: none, slowfs) */
	char **maps;            /* victim: one mapping per file */
	uint64_t page_bytes;    /* the kernel's page size, read once (util_page_size) */
	uint64_t pages_per_file;
	uint64_t total_pages;
	int prot;               /* protection of the file mappings */
	struct pattern_zipf zipf; /* zipf over the smallest slice */
	/* observer: the victim's file mappings, from /proc/<victim>/maps */
	uint64_t *gup_start, *gup_len;
	size_t gup_n;
};

struct role_thread {
	struct workload *w;
	struct arena_slot *slot;
	uint32_t index;    /* within the role */
	uint32_t nthreads; /* of the role */
};

/* Bounds of the role table, for fixed-size per-role arrays; roles.c checks
 * them at build time (role count) and role_check at start (histograms). */
#define ROLE_MAX 16u
#define ROLE_MAX_HIST 16u

/* What a counter holds: a count of events or bytes (summed over threads,
 * reported per second), or an errno value (reported as text, never summed). */
enum role_kind { ROLE_KIND_COUNT, ROLE_KIND_ERRNO };
/* Which way a metric is better, for comparisons and change points. */
enum role_better { ROLE_BETTER_NONE, ROLE_BETTER_HIGHER, ROLE_BETTER_LOWER };

struct role_counter {
	const char *name;
	enum role_kind kind;
	const char *unit; /* what one count is: "touches", "bytes", ... */
	enum role_better better;
};

/* A role declares its counters once, as an X-macro list
 *     #define FOO_COUNTERS(X) X(FOO_OPS, "ops", COUNT, "ops", HIGHER) ...
 * and expands it into its enum (slot indices) and its descriptor table:
 *     enum { FOO_COUNTERS(ROLE_COUNTER_ENUM) FOO_NCOUNTERS };
 *     static const struct role_counter foo_counters[] = { FOO_COUNTERS(ROLE_COUNTER_DESC) };
 * Histograms likewise with ROLE_HIST_ENUM and ROLE_HIST_NAME (all latencies
 * in ns, lower is better). */
#define ROLE_COUNTER_ENUM(id, name, kind, unit, better) id,
#define ROLE_COUNTER_DESC(id, name, kind, unit, better) { name, ROLE_KIND_##kind, unit, ROLE_BETTER_##better },
#define ROLE_HIST_ENUM(id, name) id,
#define ROLE_HIST_NAME(id, name) name,

struct role {
	const char *name;
	unsigned process;
	int64_t (*threads)(const struct config *cfg);
	uint32_t nhist;
	const char *const *hist_names; /* nhist names */
	uint32_t ncounters;            /* at most ARENA_COUNTERS */
	const struct role_counter *counters;
	/* Once per process before its threads start (may be NULL); allocations go here. */
	int (*setup)(struct workload *w, char *err, size_t errlen);
	void *(*run)(void *role_thread);
};

extern const struct role *const roles[];
extern const unsigned role_count;

/* Check the table against ROLE_MAX_HIST and ARENA_COUNTERS: 0, or -1 with
 * the offending role named on stderr. */
int role_check(void);

/* A thread's prologue: it is set up (the runner's ready check counts it),
 * now wait at the start barrier. */
static inline void role_ready(struct role_thread *t)
{
	__atomic_store_n(&t->slot->state, SLOT_READY, __ATOMIC_RELEASE);
	arena_wait_start(t->w->arena);
}

/* A thread's epilogue (also when it gives up during its own set-up). */
static inline void role_done(struct role_thread *t)
{
	__atomic_store_n(&t->slot->state, SLOT_DONE, __ATOMIC_RELEASE);
}

/* Count a failed operation in counter errors and keep its errno in
 * counter last_errno (reported as text). */
static inline void role_error(struct arena_slot *s, unsigned errors, unsigned last_errno, int err)
{
	arena_count(s, errors, 1);
	__atomic_store_n(&s->counters[last_errno], (uint64_t)err, __ATOMIC_RELAXED);
}

/* Sleep until *next_ns, then advance it by period_ns (without piling up a
 * backlog when late).  period_ns 0: no sleep. */
void role_pace(uint64_t *next_ns, uint64_t period_ns);

#endif
