/* roles: the table of workload roles (role.h).  Add a role here. */
#define _GNU_SOURCE
#include "workloads/role.h"

#include <stdio.h>
#include "lib/util.h"

extern const struct role fault_role, writer_role, evictor_role, procread_role, psscan_role,
	gup_role, odirect_role;

const struct role *const roles[] = {
	&fault_role,    /* victim: touch pages of mapped files, time each first touch */
	&writer_role,   /* victim: mmap/munmap/mprotect/madvise in the same mm */
	&evictor_role,  /* victim: emulated memory pressure (page cache drops) */
	&procread_role, /* observer: read /proc/<victim>/{cmdline,environ,maps,...} */
	&psscan_role,   /* observer: read every /proc/<pid>/cmdline, like ps */
	&gup_role,      /* observer: process_vm_readv and /proc/<victim>/mem into file mappings */
	&odirect_role,  /* victim: O_DIRECT reads into unfaulted file mappings (GUP faults them in) */
};

const unsigned role_count = FL_ARRAY_SIZE(roles);
_Static_assert(FL_ARRAY_SIZE(roles) <= ROLE_MAX, "more roles than ROLE_MAX");

int role_check(void)
{
	for (unsigned r = 0; r < role_count; r++) {
		unsigned n = roles[r]->ncounters;

		if (roles[r]->nhist > ROLE_MAX_HIST || n > ARENA_COUNTERS) {
			fprintf(stderr, "faultline: role %s has %u histograms and %u counters (at most %u and %u)\n",
				roles[r]->name, roles[r]->nhist, n, ROLE_MAX_HIST, ARENA_COUNTERS);
			return -1;
		}
	}
	return 0;
}

void role_pace(uint64_t *next_ns, uint64_t period_ns)
{
	uint64_t now;

	if (period_ns == 0)
		return;
	now = util_now_ns();
	if (*next_ns > now)
		util_sleep_until(*next_ns);
	else if (now - *next_ns > period_ns)
		*next_ns = now; /* late by more than a period: do not catch up in a burst */
	*next_ns += period_ns;
}
