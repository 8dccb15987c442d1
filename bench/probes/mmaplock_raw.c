/* mmaplock_raw: ring-buffer pages of the mmap_lock tracepoints into events,
 * merged across CPUs by time and fed to mmaplock_parse (see mmaplock_raw.h). */
#define _GNU_SOURCE
#include "bench/probes/mmaplock_raw.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const mmaplock_raw_names[MMAPLOCK_PARSE_NKIND] = {
	"mmap_lock_start_locking", "mmap_lock_acquire_returned", "mmap_lock_released",
};

void mmaplock_raw_format_init(struct mmaplock_raw_format *f)
{
	memset(f, 0, sizeof(*f));
}

/* The field named name in a format text ("\tfield:TYPE NAME[..];\toffset:N;\tsize:N;..."):
 * 0 and its place, or -1. */
static int mmaplock_raw_field(const char *text, const char *name, struct mmaplock_raw_field *out)
{
	size_t nlen = strlen(name);

	for (const char *l = strstr(text, "field:"); l; l = strstr(l + 6, "field:")) {
		const char *semi = strchr(l, ';'), *end, *nm;
		unsigned off, size;

		if (!semi)
			return -1;
		end = semi;
		if (end > l && end[-1] == ']') /* an array: NAME[N] */
			while (end > l && *end != '[')
				end--;
		for (nm = end; nm > l && nm[-1] != ' ' && nm[-1] != ':'; nm--)
			;
		if ((size_t)(end - nm) != nlen || strncmp(nm, name, nlen) != 0)
			continue;
		if (sscanf(semi, "; offset:%u; size:%u;", &off, &size) != 2 || size == 0)
			return -1;
		out->offset = off;
		out->size = size;
		return 0;
	}
	return -1;
}

int mmaplock_raw_header_page(struct mmaplock_raw_format *f, const char *text, char *err, size_t len)
{
	if (mmaplock_raw_field(text, "timestamp", &f->page_ts) < 0 || f->page_ts.size != 8 ||
	    mmaplock_raw_field(text, "commit", &f->page_commit) < 0 ||
	    (f->page_commit.size != 4 && f->page_commit.size != 8) ||
	    mmaplock_raw_field(text, "data", &f->page_data) < 0) {
		snprintf(err, len, "events/header_page: no u64 timestamp, 4- or 8-byte commit and data fields");
		return -1;
	}
	f->page_size = f->page_data.offset + f->page_data.size;
	return 0;
}

/* "NAME : N bits" or "NAME : type == N" or "NAME == N" in header_event. */
static int mmaplock_raw_number(const char *text, const char *name, const char *fmt, unsigned *out)
{
	const char *p = strstr(text, name);

	return p && sscanf(p + strlen(name), fmt, out) == 1 ? 0 : -1;
}

int mmaplock_raw_header_event(struct mmaplock_raw_format *f, const char *text, char *err, size_t len)
{
	if (mmaplock_raw_number(text, "type_len", " : %u bits", &f->type_len_bits) < 0 ||
	    mmaplock_raw_number(text, "time_delta", " : %u bits", &f->delta_bits) < 0 ||
	    mmaplock_raw_number(text, "padding", " : type == %u", &f->padding) < 0 ||
	    mmaplock_raw_number(text, "time_extend", " : type == %u", &f->time_extend) < 0 ||
	    mmaplock_raw_number(text, "time_stamp", " : type == %u", &f->time_stamp) < 0 ||
	    mmaplock_raw_number(text, "data max type_len", " == %u", &f->data_max) < 0) {
		snprintf(err, len, "events/header_event: no type_len, time_delta, padding, time_extend, time_stamp or "
				   "data max type_len");
		return -1;
	}
	if (f->type_len_bits + f->delta_bits != 32 || f->type_len_bits > 8) {
		snprintf(err, len, "events/header_event: type_len %u bits + time_delta %u bits is not one 32-bit word",
			 f->type_len_bits, f->delta_bits);
		return -1;
	}
	return 0;
}

int mmaplock_raw_event_format(struct mmaplock_raw_format *f, const char *text, char *err, size_t len)
{
	const char *name = strstr(text, "name: "), *id = strstr(text, "\nID: ");
	int k;

	for (k = 0; name && k < MMAPLOCK_PARSE_NKIND; k++) {
		size_t n = strlen(mmaplock_raw_names[k]);

		if (strncmp(name + 6, mmaplock_raw_names[k], n) == 0 && (name[6 + n] == '\n' || name[6 + n] == 0))
			break;
	}
	if (!name || k == MMAPLOCK_PARSE_NKIND || !id || sscanf(id, "\nID: %d", &f->ev[k].id) != 1 ||
	    f->ev[k].id <= 0) {
		snprintf(err, len, "event format: no name of an mmap_lock event, or no ID");
		return -1;
	}
	if (mmaplock_raw_field(text, "common_type", &f->ev[k].type) < 0 ||
	    mmaplock_raw_field(text, "common_pid", &f->ev[k].pid) < 0 ||
	    mmaplock_raw_field(text, "write", &f->ev[k].write) < 0 ||
	    (k == MMAPLOCK_PARSE_ACQUIRE_RETURNED && mmaplock_raw_field(text, "success", &f->ev[k].success) < 0) ||
	    f->ev[k].type.size > 8 || f->ev[k].pid.size != 4 || f->ev[k].write.size > 8 ||
	    f->ev[k].success.size > 8) {
		snprintf(err, len, "events/mmap_lock/%s/format: no common_type, 4-byte common_pid, write%s field",
			 mmaplock_raw_names[k], k == MMAPLOCK_PARSE_ACQUIRE_RETURNED ? " or success" : "");
		f->ev[k].id = 0;
		return -1;
	}
	if (mmaplock_raw_field(text, "memcg_id", &f->ev[k].memcg) == 0)
		snprintf(f->ev[k].memcg_kind, sizeof(f->ev[k].memcg_kind), "memcg_id");
	else if (mmaplock_raw_field(text, "memcg_path", &f->ev[k].memcg) == 0)
		snprintf(f->ev[k].memcg_kind, sizeof(f->ev[k].memcg_kind), "memcg_path");
	f->ev[k].size = 0;
	{
		const struct mmaplock_raw_field *fl[] = { &f->ev[k].type, &f->ev[k].pid, &f->ev[k].write,
							  &f->ev[k].success };

		for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++)
			if (fl[i]->size && fl[i]->offset + fl[i]->size > f->ev[k].size)
				f->ev[k].size = fl[i]->offset + fl[i]->size;
	}
	return 0;
}

int mmaplock_raw_format_check(const struct mmaplock_raw_format *f, char *err, size_t len)
{
	if (!f->page_size || f->page_data.offset < f->page_commit.offset + f->page_commit.size ||
	    f->page_data.size < 16) {
		snprintf(err, len, "events/header_page not loaded or inconsistent");
		return -1;
	}
	if (!f->type_len_bits || f->data_max >= f->padding) {
		snprintf(err, len, "events/header_event not loaded or inconsistent");
		return -1;
	}
	for (int k = 0; k < MMAPLOCK_PARSE_NKIND; k++) {
		if (!f->ev[k].id) {
			snprintf(err, len, "events/mmap_lock/%s/format not loaded", mmaplock_raw_names[k]);
			return -1;
		}
		if (f->ev[k].type.offset != f->ev[0].type.offset || f->ev[k].type.size != f->ev[0].type.size) {
			snprintf(err, len, "events/mmap_lock/%s/format: common_type not where the others have it",
				 mmaplock_raw_names[k]);
			return -1;
		}
	}
	return 0;
}

size_t mmaplock_raw_page_max(const struct mmaplock_raw_format *f)
{
	return f->page_data.size / 8 + 1; /* the smallest event is a header word and one payload word */
}

/* An unsigned integer of 1, 2, 4 or 8 bytes at p, host order. */
static uint64_t mmaplock_raw_uint(const unsigned char *p, uint32_t size)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64 = 0;

	switch (size) {
	case 1: memcpy(&u8, p, 1); return u8;
	case 2: memcpy(&u16, p, 2); return u16;
	case 4: memcpy(&u32, p, 4); return u32;
	case 8: memcpy(&u64, p, 8); return u64;
	default:
		for (uint32_t i = 0; i < size && i < 8; i++) /* a bool of another width: zero or not */
			u64 |= p[i];
		return u64;
	}
}

static uint32_t mmaplock_raw_u32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* One data event's payload: which of ours it is, into out; 1 when kept. */
static int mmaplock_raw_data(const struct mmaplock_raw_format *f, const unsigned char *pl, uint32_t plen,
			     uint64_t ts, struct mmaplock_raw_event *out, struct mmaplock_raw_stats *st)
{
	uint64_t type;
	int k;

	if (plen < f->ev[0].type.offset + f->ev[0].type.size) {
		st->bad_events++;
		return 0;
	}
	type = mmaplock_raw_uint(pl + f->ev[0].type.offset, f->ev[0].type.size);
	for (k = 0; k < MMAPLOCK_PARSE_NKIND && (uint64_t)f->ev[k].id != type; k++)
		;
	if (k == MMAPLOCK_PARSE_NKIND) {
		st->unknown_ids++;
		return 0;
	}
	if (plen < f->ev[k].size) {
		st->bad_events++;
		return 0;
	}
	out->ts_ns = ts;
	out->tid = (int32_t)mmaplock_raw_uint(pl + f->ev[k].pid.offset, 4);
	out->kind = (uint8_t)k;
	out->write = mmaplock_raw_uint(pl + f->ev[k].write.offset, f->ev[k].write.size) != 0;
	out->success = f->ev[k].success.size &&
		       mmaplock_raw_uint(pl + f->ev[k].success.offset, f->ev[k].success.size) != 0;
	return 1;
}

size_t mmaplock_raw_page(const struct mmaplock_raw_format *f, const unsigned char *page, size_t len,
			 struct mmaplock_raw_event *out, struct mmaplock_raw_stats *st)
{
	const unsigned lbits = f->type_len_bits, dbits = f->delta_bits;
	const uint64_t msb_mask = ~((1ull << (32 + dbits)) - 1); /* the time bits a time_stamp does not carry */
	const unsigned char *data = page + f->page_data.offset;
	uint64_t commit, flags, ts;
	size_t n = 0, off = 0;

	st->pages++;
	if (len < f->page_data.offset) {
		st->bad_pages++;
		return 0;
	}
	ts = mmaplock_raw_uint(page + f->page_ts.offset, 8);
	commit = mmaplock_raw_uint(page + f->page_commit.offset, f->page_commit.size);
	flags = commit & (3ull << 30); /* RB_MISSED_EVENTS, RB_MISSED_STORED */
	commit &= (1ull << 30) - 1;
	if (commit > len - f->page_data.offset || commit > f->page_data.size) {
		st->bad_pages++;
		return 0;
	}
	if (flags & (1ull << 31)) {
		st->missed_pages++;
		if ((flags & (1ull << 30)) && commit + f->page_commit.size <= len - f->page_data.offset)
			st->missed_events += mmaplock_raw_uint(data + commit, f->page_commit.size);
	}
	while (off < commit) {
		const unsigned char *e = data + off;
		uint32_t hdr, type, delta, total, word;

		if (commit - off < 4)
			goto bad;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		hdr = mmaplock_raw_u32(e);
		type = hdr >> (32 - lbits);
		delta = hdr & ((1u << dbits) - 1);
#else
		hdr = mmaplock_raw_u32(e);
		type = hdr & ((1u << lbits) - 1);
		delta = hdr >> lbits;
#endif
		if (type == f->padding && delta == 0)
			break; /* the rest of the page is empty */
		if (type >= 1 && type <= f->data_max) {
			total = 4 + type * 4;
			if (total > commit - off)
				goto bad;
			ts += delta;
			n += (size_t)mmaplock_raw_data(f, e + 4, type * 4, ts, out + n, st);
			off += total;
			continue;
		}
		if (commit - off < 8)
			goto bad;
		word = mmaplock_raw_u32(e + 4);
		if (type == 0) {
			if (word < 4 || word > commit - off - 4)
				goto bad;
			ts += delta;
			n += (size_t)mmaplock_raw_data(f, e + 8, word - 4, ts, out + n, st);
			off += 4 + ((word + 3) & ~3u);
		} else if (type == f->padding) { /* a discarded event: its delta is not counted */
			if (word > commit - off - 4)
				goto bad;
			off += 4 + ((word + 3) & ~3u);
		} else if (type == f->time_extend) {
			ts += ((uint64_t)word << dbits) + delta;
			off += 8;
		} else if (type == f->time_stamp) {
			uint64_t abs = ((uint64_t)word << dbits) | delta;

			if (ts & msb_mask) { /* the kernel's rb_fix_abs_ts */
				abs |= ts & msb_mask;
				if (abs < ts)
					abs += 1ull << (32 + dbits);
			}
			ts = abs;
			off += 8;
		} else {
			goto bad;
		}
	}
	st->events += n;
	return n;
bad:
	st->bad_events++;
	st->events += n;
	return n;
}

int mmaplock_raw_reader_alloc(struct mmaplock_raw_reader *r, const struct mmaplock_raw_format *fmt, int ncpu,
			      mmaplock_raw_read_fn read, bool (*stop)(void *ctx), void *ctx)
{
	char err[256];

	memset(r, 0, sizeof(*r));
	if (ncpu <= 0 || mmaplock_raw_format_check(fmt, err, sizeof(err)) < 0) {
		errno = EINVAL;
		return -1;
	}
	r->fmt = *fmt;
	r->ncpu = ncpu;
	r->read = read;
	r->stop = stop;
	r->ctx = ctx;
	r->cpu = calloc((size_t)ncpu, sizeof(*r->cpu));
	if (!r->cpu)
		return -1;
	for (int c = 0; c < ncpu; c++) {
		r->cpu[c].page = malloc(fmt->page_size);
		r->cpu[c].ev = malloc(mmaplock_raw_page_max(fmt) * sizeof(*r->cpu[c].ev));
		if (!r->cpu[c].page || !r->cpu[c].ev) {
			mmaplock_raw_reader_free(r);
			errno = ENOMEM;
			return -1;
		}
	}
	return 0;
}

void mmaplock_raw_reader_free(struct mmaplock_raw_reader *r)
{
	for (int c = 0; r->cpu && c < r->ncpu; c++) {
		free(r->cpu[c].page);
		free(r->cpu[c].ev);
	}
	free(r->cpu);
	r->cpu = NULL;
	r->ncpu = 0;
}

/* CPU c's next event, reading its next page when the last is used up;
 * NULL when it has none (dry for this drain) or the budget is spent. */
static const struct mmaplock_raw_event *mmaplock_raw_head(struct mmaplock_raw_reader *r, int c, bool *stopped)
{
	struct mmaplock_raw_cpu *cpu = &r->cpu[c];

	while (cpu->pos == cpu->n && !cpu->dry) {
		ssize_t got;

		if (r->stop && r->stop(r->ctx)) {
			*stopped = true;
			return NULL;
		}
		got = r->read(r->ctx, c, cpu->page, r->fmt.page_size);
		if (got <= 0) {
			if (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
				r->st.read_errors++;
				r->st.last_errno = errno;
			}
			cpu->dry = true;
			break;
		}
		r->st.reads++;
		r->st.bytes += (uint64_t)got;
		cpu->n = mmaplock_raw_page(&r->fmt, cpu->page, (size_t)got, cpu->ev, &r->st);
		cpu->pos = 0;
	}
	return cpu->pos < cpu->n ? &cpu->ev[cpu->pos] : NULL;
}

int mmaplock_raw_drain(struct mmaplock_raw_reader *r, struct mmaplock_parse *p, uint64_t cutoff_ns)
{
	bool stopped = false;

	for (int c = 0; c < r->ncpu; c++)
		r->cpu[c].dry = false;
	for (;;) {
		int best = -1;
		uint64_t best_ts = 0, next_ts = cutoff_ns; /* the earliest head, and the limit of its run */

		for (int c = 0; c < r->ncpu && !stopped; c++) {
			const struct mmaplock_raw_event *e = mmaplock_raw_head(r, c, &stopped);

			if (!e || e->ts_ns > cutoff_ns)
				continue;
			if (best < 0 || e->ts_ns < best_ts) {
				if (best >= 0 && best_ts < next_ts)
					next_ts = best_ts;
				best = c;
				best_ts = e->ts_ns;
			} else if (e->ts_ns < next_ts) {
				next_ts = e->ts_ns;
			}
		}
		if (stopped || best < 0)
			break;
		/* feed the earliest CPU's events up to the next CPU's head (a
		 * task's events on one CPU are in order: runs are long) */
		{
			struct mmaplock_raw_cpu *cpu = &r->cpu[best];

			while (cpu->pos < cpu->n && cpu->ev[cpu->pos].ts_ns <= next_ts) {
				const struct mmaplock_raw_event *e = &cpu->ev[cpu->pos++];

				mmaplock_parse_event(p, e->tid, e->kind, e->write, e->success, e->ts_ns);
			}
		}
	}
	return stopped ? 1 : 0;
}
