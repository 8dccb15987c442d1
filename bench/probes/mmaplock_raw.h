/* mmaplock_raw: the binary path of the mmap_lock probe (probes/mmaplock.c):
 * decode the ring-buffer pages that per_cpu/cpuN/trace_pipe_raw returns
 * and feed the mmap_lock events, merged across CPUs in timestamp order, to
 * the pairing of mmaplock_parse.  No I/O: pages come through a read
 * callback (the probe's is read(2) on the per-CPU fds; the unit test's,
 * tests/test_mmaplock_raw.c, replays recorded pages).
 *
 * Nothing about the layout is assumed; it is read from tracefs at start:
 *   events/header_page    the page header: `timestamp` (u64, the time of
 *                         the page's first event), `commit` (bytes of
 *                         events on the page; bit 31 = events were lost
 *                         before this page, bit 30 = their count is stored
 *                         as a long after the last event), `data` (offset
 *                         of the events; offset + size = the page size);
 *   events/header_event   the event header: a 32-bit word of `type_len`
 *                         and `time_delta` bits and the type numbers of
 *                         padding, time_extend and time_stamp (kernel
 *                         ring_buffer.c: 29, 30, 31 with 5 + 27 bits);
 *   events/mmap_lock/mmap_lock_{start_locking,acquire_returned,released}/format
 *                         the ID and the offset and size of every field:
 *                         common_type, common_pid, write, success, and the
 *                         memcg (memcg_path, a __data_loc string, before
 *                         6.1; memcg_id after), which is not used.
 * An event is a header word and its payload: type_len 1..data_max: payload
 * of type_len * 4 bytes; type_len 0: the next word is the payload length
 * + 4, then the payload; time_extend: the next word is the delta's high
 * bits (delta = word << delta_bits | time_delta); time_stamp: an absolute
 * time (same encoding, top bits from the running time); padding with
 * time_delta 0: the rest of the page is empty, else the next word + 4 is
 * its length (a discarded event).  Every event's time is the page's
 * timestamp plus the deltas so far (padding adds none, as in the kernel's
 * reader).  Host byte order: the pages are the running kernel's. */
#ifndef FL_MMAPLOCK_RAW_H
#define FL_MMAPLOCK_RAW_H

#include "bench/probes/mmaplock_parse.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct mmaplock_raw_field {
	uint32_t offset, size; /* size 0: absent */
};

struct mmaplock_raw_format {
	struct mmaplock_raw_field page_ts, page_commit, page_data; /* events/header_page */
	uint32_t page_size;                                      /* page_data.offset + .size */
	unsigned type_len_bits, delta_bits;                      /* events/header_event */
	unsigned padding, time_extend, time_stamp, data_max;
	struct {
		int id;        /* 0: format not loaded */
		uint32_t size; /* payload bytes the fields need */
		struct mmaplock_raw_field type, pid, write, success, memcg;
		char memcg_kind[16]; /* "memcg_id", "memcg_path" or "" */
	} ev[MMAPLOCK_PARSE_NKIND]; /* by MMAPLOCK_PARSE_START_LOCKING... */
};

/* Parse the text of events/header_page, events/header_event and one
 * event's format file (which of the three it is comes from its `name:`
 * line) into f; -1 with a message in err naming what is missing.
 * mmaplock_raw_format_check: 0 when every part is loaded and consistent. */
void mmaplock_raw_format_init(struct mmaplock_raw_format *f);
int mmaplock_raw_header_page(struct mmaplock_raw_format *f, const char *text, char *err, size_t len);
int mmaplock_raw_header_event(struct mmaplock_raw_format *f, const char *text, char *err, size_t len);
int mmaplock_raw_event_format(struct mmaplock_raw_format *f, const char *text, char *err, size_t len);
int mmaplock_raw_format_check(const struct mmaplock_raw_format *f, char *err, size_t len);

/* One decoded event. */
struct mmaplock_raw_event {
	uint64_t ts_ns;
	int32_t tid;
	uint8_t kind, write, success;
};

struct mmaplock_raw_stats {
	uint64_t pages, bytes, reads, events;
	uint64_t bad_pages;     /* shorter than the header, or a commit past the page: skipped whole */
	uint64_t bad_events;    /* a header or length past the commit, or a payload too short: rest of page skipped */
	uint64_t unknown_ids;   /* data events of another type (skipped by their length) */
	uint64_t missed_pages;  /* pages whose header says events were lost before them */
	uint64_t missed_events; /* the counts those headers stored */
	uint64_t read_errors;   /* reads that failed other than EAGAIN */
	int last_errno;
};

/* Room for the events of one page: mmaplock_raw_page writes at most this. */
size_t mmaplock_raw_page_max(const struct mmaplock_raw_format *f);
/* Decode one page of len bytes (as read) into out; returns the number of
 * mmap_lock events, counting what it skipped in st. */
size_t mmaplock_raw_page(const struct mmaplock_raw_format *f, const unsigned char *page, size_t len,
			 struct mmaplock_raw_event *out, struct mmaplock_raw_stats *st);

/* Reads one page of CPU cpu into buf (len = the page size): bytes read,
 * 0 or -1 with errno EAGAIN when that CPU has nothing, -1 with another
 * errno on failure. */
typedef ssize_t (*mmaplock_raw_read_fn)(void *ctx, int cpu, void *buf, size_t len);

struct mmaplock_raw_cpu {
	unsigned char *page;
	struct mmaplock_raw_event *ev;
	size_t n, pos; /* decoded events of the last page read, the next to feed */
	bool dry;      /* nothing more in this drain */
};

struct mmaplock_raw_reader {
	struct mmaplock_raw_format fmt;
	int ncpu;
	struct mmaplock_raw_cpu *cpu;
	mmaplock_raw_read_fn read;
	bool (*stop)(void *ctx); /* asked before each read: true ends the drain (a budget) */
	void *ctx;
	struct mmaplock_raw_stats st;
};

/* Allocate the per-CPU pages for fmt (checked); -1 with errno. */
int mmaplock_raw_reader_alloc(struct mmaplock_raw_reader *r, const struct mmaplock_raw_format *fmt, int ncpu,
			      mmaplock_raw_read_fn read, bool (*stop)(void *ctx), void *ctx);
void mmaplock_raw_reader_free(struct mmaplock_raw_reader *r);
/* Read what every CPU has and feed p its events with a time <= cutoff_ns,
 * in time order across CPUs (a task that moves between CPUs keeps its
 * order); later ones stay for the next drain, so an event committed on one
 * CPU while another is read cannot pass an earlier one of the same task.
 * Returns 1 when stop() ended it, else 0. */
int mmaplock_raw_drain(struct mmaplock_raw_reader *r, struct mmaplock_parse *p, uint64_t cutoff_ns);

#endif
