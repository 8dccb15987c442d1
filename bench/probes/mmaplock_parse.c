/* mmaplock_parse: tracefs text lines of the mmap_lock tracepoints into
 * counters, waits and holds per task (see mmaplock_parse.h). */
#define _GNU_SOURCE
#include "bench/probes/mmaplock_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const mmaplock_parse_hist_names[MMAPLOCK_PARSE_NHIST] = {
	"read_wait", "read_hold", "write_wait", "write_hold",
};
const char *const mmaplock_parse_decade_names[MMAPLOCK_PARSE_DECADES] = {
	"[0,1)us", "[1,10)us", "[10,100)us", "[100us,1ms)", "[1,10)ms", "[10,100)ms", "[100ms,1s)", ">=1s",
};

void mmaplock_parse_reset_hists(struct mmaplock_parse *p)
{
	for (int i = 0; i < MMAPLOCK_PARSE_NHIST; i++)
		hist_init(&p->h[i]);
	memset(p->decades, 0, sizeof(p->decades));
}

void mmaplock_parse_reset(struct mmaplock_parse *p)
{
	if (p->slots)
		memset(p->slots, 0, MMAPLOCK_PARSE_SLOTS * sizeof(*p->slots));
	mmaplock_parse_reset_hists(p);
	memset(p->acq, 0, sizeof(p->acq));
	memset(p->failed, 0, sizeof(p->failed));
	memset(p->starts, 0, sizeof(p->starts));
	memset(p->releases, 0, sizeof(p->releases));
	p->events = p->lines_unparsed = p->untracked = 0;
	p->measuring = false;
}

int mmaplock_parse_alloc(struct mmaplock_parse *p)
{
	if (p->slots)
		return 0;
	p->slots = calloc(MMAPLOCK_PARSE_SLOTS, sizeof(*p->slots));
	if (!p->slots)
		return -1;
	mmaplock_parse_reset(p);
	return 0;
}

void mmaplock_parse_free(struct mmaplock_parse *p)
{
	free(p->slots);
	p->slots = NULL;
}

static struct mmaplock_parse_slot *mmaplock_parse_slot(struct mmaplock_parse *p, int32_t tid)
{
	uint32_t h = ((uint32_t)tid * 2654435761u) & (MMAPLOCK_PARSE_SLOTS - 1);

	for (uint32_t n = 0; n < MMAPLOCK_PARSE_PROBES; n++, h = (h + 1) & (MMAPLOCK_PARSE_SLOTS - 1)) {
		struct mmaplock_parse_slot *s = &p->slots[h];

		if (s->tid == tid)
			return s;
		if (s->tid == 0) {
			s->tid = tid;
			s->start_write = s->acq_write = -1;
			return s;
		}
	}
	p->untracked++;
	return NULL;
}

static void mmaplock_parse_record(struct mmaplock_parse *p, int which, uint64_t ns)
{
	unsigned d = 0;

	if (!p->measuring)
		return;
	hist_record(&p->h[which], ns);
	for (uint64_t lim = 1000; d < MMAPLOCK_PARSE_DECADES - 1 && ns >= lim; lim *= 10)
		d++;
	p->decades[which][d]++;
}

void mmaplock_parse_event(struct mmaplock_parse *p, int32_t tid, int kind, bool write, bool success, uint64_t ts)
{
	struct mmaplock_parse_slot *s;

	p->events++;
	s = mmaplock_parse_slot(p, tid);
	if (kind == MMAPLOCK_PARSE_START_LOCKING) {
		p->starts[write]++;
		if (s) {
			s->start_write = (int8_t)write;
			s->start_ns = ts;
		}
	} else if (kind == MMAPLOCK_PARSE_ACQUIRE_RETURNED) {
		if (!success) {
			p->failed[write]++;
			if (s)
				s->start_write = -1;
			return;
		}
		p->acq[write]++;
		if (!s)
			return;
		if (s->start_write == (int8_t)write)
			mmaplock_parse_record(p, write ? MMAPLOCK_PARSE_WRITE_WAIT : MMAPLOCK_PARSE_READ_WAIT,
					      ts - s->start_ns);
		if (s->acq_write >= 0) /* a downgrade ends the write hold and starts a read one */
			mmaplock_parse_record(p, s->acq_write ? MMAPLOCK_PARSE_WRITE_HOLD : MMAPLOCK_PARSE_READ_HOLD,
					      ts - s->acq_ns);
		s->start_write = -1;
		s->acq_write = (int8_t)write;
		s->acq_ns = ts;
	} else {
		p->releases[write]++;
		if (s && s->acq_write == (int8_t)write)
			mmaplock_parse_record(p, write ? MMAPLOCK_PARSE_WRITE_HOLD : MMAPLOCK_PARSE_READ_HOLD,
					      ts - s->acq_ns);
		if (s)
			s->acq_write = -1;
	}
}

void mmaplock_parse_line(struct mmaplock_parse *p, char *line)
{
	char *ev = strstr(line, ": mmap_lock_"), *t, *q;
	uint64_t ts;
	int32_t tid = 0;
	int kind;

	if (!ev)
		goto bad;
	for (t = ev; t > line && t[-1] != ' '; t--)
		;
	{
		unsigned long sec, usec;

		if (sscanf(t, "%lu.%lu", &sec, &usec) != 2)
			goto bad;
		ts = (uint64_t)sec * 1000000000ull + (uint64_t)usec * 1000ull;
	}
	*t = 0;
	q = strrchr(line, '[');
	if (!q)
		goto bad;
	while (q > line && q[-1] == ' ')
		q--;
	/* at most 9 digits: a longer number is no task id (and would overflow) */
	for (int32_t mul = 1, digits = 0; q > line && q[-1] >= '0' && q[-1] <= '9'; q--, mul *= 10) {
		if (++digits > 9)
			goto bad;
		tid += (q[-1] - '0') * mul;
	}
	if (tid <= 0)
		goto bad;
	ev += 12; /* past ": mmap_lock_" */
	if (strncmp(ev, "start_locking", 13) == 0) {
		kind = MMAPLOCK_PARSE_START_LOCKING;
	} else if (strncmp(ev, "acquire_returned", 16) == 0) {
		kind = MMAPLOCK_PARSE_ACQUIRE_RETURNED;
	} else if (strncmp(ev, "released", 8) == 0) {
		kind = MMAPLOCK_PARSE_RELEASED;
	} else {
		p->events++; /* an mmap_lock event of a task, of a kind not known here */
		goto bad;
	}
	mmaplock_parse_event(p, tid, kind, strstr(ev, "write=true") != NULL, strstr(ev, "success=true") != NULL, ts);
	return;
bad:
	p->lines_unparsed++;
}

size_t mmaplock_parse_text(struct mmaplock_parse *p, char *text)
{
	char *line, *nl;

	for (line = text; (nl = strchr(line, '\n')); line = nl + 1) {
		*nl = 0;
		mmaplock_parse_line(p, line);
	}
	return (size_t)(line - text);
}
