/* roles: the table of workload roles (role.h).  Add a role here. */
#define _GNU_SOURCE
#include "role.h"
#include "util.h"

extern const struct role fault_role, writer_role, evictor_role, procread_role, psscan_role,
	gup_role;

const struct role *const roles[] = {
	&fault_role,    /* victim: touch pages of mapped files, time each first touch */
	&writer_role,   /* victim: mmap/munmap/mprotect/madvise in the same mm */
	&evictor_role,  /* victim: emulated memory pressure (page cache drops) */
	&procread_role, /* observer: read /proc/<victim>/{cmdline,environ,maps,...} */
	&psscan_role,   /* observer: read every /proc/<pid>/cmdline, like ps */
	&gup_role,      /* observer: process_vm_readv and /proc/<victim>/mem into file mappings */
};

const unsigned role_count = FL_ARRAY_SIZE(roles);

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
