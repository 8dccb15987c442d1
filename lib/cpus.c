/* cpus: the CPU lists of the cpus.* scenario keys (cpus.h). */
#define _GNU_SOURCE
#include "lib/cpus.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cpus_parse(const char *text, cpu_set_t *set, char *err, size_t errlen)
{
	const char *p = text ? text : "";

	CPU_ZERO(set);
	while (*p) {
		char *end;
		unsigned long lo, hi;

		errno = 0;
		lo = strtoul(p, &end, 10);
		if (end == p || *p == '-' || *p == '+' || errno)
			goto bad;
		hi = lo;
		if (*end == '-') {
			p = end + 1;
			hi = strtoul(p, &end, 10);
			if (end == p || *p == '-' || *p == '+' || errno || hi < lo)
				goto bad;
		}
		if (hi >= CPU_SETSIZE) {
			snprintf(err, errlen, "CPU %lu is past the largest this build can place (%d)", hi, CPU_SETSIZE - 1);
			return -1;
		}
		for (unsigned long c = lo; c <= hi; c++)
			CPU_SET(c, set);
		if (*end == ',' && end[1])
			end++;
		else if (*end)
			goto bad;
		p = end;
	}
	return 0;
bad:
	snprintf(err, errlen, "expected a CPU list like \"0\", \"0-1\" or \"0,2-3\" (empty: no placement)");
	return -1;
}

void cpus_format(const cpu_set_t *set, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int c = 0; c < CPU_SETSIZE && used < len; c++) {
		int hi = c;

		if (!CPU_ISSET(c, set))
			continue;
		while (hi + 1 < CPU_SETSIZE && CPU_ISSET(hi + 1, set))
			hi++;
		used += (size_t)snprintf(buf + used, len - used, hi > c ? "%s%d-%d" : "%s%d", used ? "," : "", c, hi);
		c = hi;
	}
}

const char *cpus_of_role(const struct config *c, const char *role)
{
	static const struct {
		const char *role;
		size_t offset;
	} keys[] = {
		{ "fault", offsetof(struct config, cpus.fault) },
		{ "writer", offsetof(struct config, cpus.writer) },
		{ "evictor", offsetof(struct config, cpus.evictor) },
		{ "odirect", offsetof(struct config, cpus.odirect) },
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(keys[i].role, role)) {
			const char *v = *(char *const *)((const char *)c + keys[i].offset);

			return v && *v ? v : NULL;
		}
	return NULL;
}
