/* test_mmaplock_raw: the mmap_lock probe's binary path
 * (bench/probes/mmaplock_raw.h) on ring-buffer pages recorded from this
 * kernel together with the text the kernel printed for the same events
 * (tests/data/mmaplock-raw-*, made by tests/data/mmaplock-raw-record.sh):
 * the format files, the event count, pairing identical to the text path,
 * the merge of the CPUs' pages by time and its hold-back at the cutoff;
 * and on pages built here: time extends, absolute time stamps, discarded
 * events, long events, an older kernel's layout (memcg_path), malformed
 * pages (truncated, bad commit, unknown event id, an event past the
 * commit), lost-event flags. */
#include "tests/check.h"
#include "bench/probes/mmaplock_raw.h"

#include <errno.h>
#include <limits.h>

enum { R = 0, W = 1 };

/* tests/data/NAME, whole, from the working directory or next to the
 * test binary's build directory; *len its size. */
static unsigned char *data_file(const char *name, size_t *len)
{
	FILE *f;
	unsigned char *buf = NULL;
	size_t n = 0, cap = 0;

	f = check_open_data(name, "rb");
	for (;;) {
		size_t got;

		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			CHECK(buf, "realloc");
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		if (!got)
			break;
		n += got;
	}
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

static void load_format(struct mmaplock_raw_format *f)
{
	static const char *const ev[] = { "start_locking", "acquire_returned", "released" };
	char err[256] = "", name[128];
	size_t len;
	char *t;

	mmaplock_raw_format_init(f);
	t = (char *)data_file("mmaplock-raw-header_page.txt", &len);
	CHECK_EQ(mmaplock_raw_header_page(f, t, err, sizeof(err)), 0, "%s", err);
	free(t);
	t = (char *)data_file("mmaplock-raw-header_event.txt", &len);
	CHECK_EQ(mmaplock_raw_header_event(f, t, err, sizeof(err)), 0, "%s", err);
	free(t);
	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "mmaplock-raw-format-%s.txt", ev[i]);
		t = (char *)data_file(name, &len);
		CHECK_EQ(mmaplock_raw_event_format(f, t, err, sizeof(err)), 0, "%s: %s", name, err);
		free(t);
	}
	CHECK_EQ(mmaplock_raw_format_check(f, err, sizeof(err)), 0, "%s", err);
}

static struct mmaplock_parse *parser(void)
{
	struct mmaplock_parse *p = calloc(1, sizeof(*p));

	CHECK(p, "calloc");
	CHECK_EQ(mmaplock_parse_alloc(p), 0, "%s", strerror(errno));
	p->measuring = true;
	return p;
}

static void parser_free(struct mmaplock_parse *p)
{
	mmaplock_parse_free(p);
	free(p);
}

/* The recorded pages: per CPU, its bytes; the read callback gives them a
 * page at a time, then EAGAIN (or, past `stop_after` reads, the budget). */
struct pages {
	unsigned char *buf[2];
	size_t len[2], off[2];
	size_t page;
	long reads, stop_after; /* stop_after < 0: never */
};

static ssize_t pages_read(void *ctx, int cpu, void *buf, size_t len)
{
	struct pages *pg = ctx;
	size_t n = pg->page < len ? pg->page : len;

	if (pg->off[cpu] >= pg->len[cpu]) {
		errno = EAGAIN;
		return -1;
	}
	if (n > pg->len[cpu] - pg->off[cpu])
		n = pg->len[cpu] - pg->off[cpu];
	memcpy(buf, pg->buf[cpu] + pg->off[cpu], n);
	pg->off[cpu] += pg->page; /* a read returns one page */
	pg->reads++;
	return (ssize_t)n;
}

static bool pages_stop(void *ctx)
{
	struct pages *pg = ctx;

	return pg->stop_after >= 0 && pg->reads >= pg->stop_after;
}

static void pages_load(struct pages *pg, const struct mmaplock_raw_format *f)
{
	memset(pg, 0, sizeof(*pg));
	pg->buf[0] = data_file("mmaplock-raw-cpu0.bin", &pg->len[0]);
	pg->buf[1] = data_file("mmaplock-raw-cpu1.bin", &pg->len[1]);
	pg->page = f->page_size;
	pg->stop_after = -1;
	CHECK(pg->len[0] % f->page_size == 0 && pg->len[1] % f->page_size == 0, "recorded files of whole pages");
}

static void pages_free(struct pages *pg)
{
	free(pg->buf[0]);
	free(pg->buf[1]);
}

/* Every event of the recording, merged here by sorting on (time, CPU,
 * place): a second merge, independent of mmaplock_raw_drain's. */
struct tagged {
	struct mmaplock_raw_event e;
	int cpu;
	size_t seq;
};

static int tagged_cmp(const void *a, const void *b)
{
	const struct tagged *x = a, *y = b;

	if (x->e.ts_ns != y->e.ts_ns)
		return x->e.ts_ns < y->e.ts_ns ? -1 : 1;
	if (x->cpu != y->cpu)
		return x->cpu - y->cpu;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static struct tagged *all_events(const struct mmaplock_raw_format *f, size_t *count, struct mmaplock_raw_stats *st)
{
	struct pages pg;
	struct tagged *all = NULL;
	struct mmaplock_raw_event *ev = malloc(mmaplock_raw_page_max(f) * sizeof(*ev));
	size_t n = 0;

	CHECK(ev, "malloc");
	pages_load(&pg, f);
	memset(st, 0, sizeof(*st));
	for (int c = 0; c < 2; c++)
		for (size_t off = 0; off < pg.len[c]; off += f->page_size) {
			size_t k = mmaplock_raw_page(f, pg.buf[c] + off, f->page_size, ev, st);

			all = realloc(all, (n + k + 1) * sizeof(*all));
			CHECK(all, "realloc");
			for (size_t i = 0; i < k; i++, n++)
				all[n] = (struct tagged){ ev[i], c, n };
		}
	qsort(all, n, sizeof(*all), tagged_cmp);
	free(ev);
	pages_free(&pg);
	*count = n;
	return all;
}

/* The text the kernel printed for the same events, through the text path. */
static struct mmaplock_parse *text_parsed(void)
{
	struct mmaplock_parse *p = parser();
	size_t len;
	char *t = (char *)data_file("mmaplock-raw-trace.txt", &len), *line = t, *nl;

	for (; (nl = strchr(line, '\n')); line = nl + 1) {
		*nl = 0;
		if (line[0] != '#')
			mmaplock_parse_line(p, line);
	}
	free(t);
	return p;
}

static void same_pairing(const struct mmaplock_parse *a, const struct mmaplock_parse *b, bool exact, const char *what)
{
	CHECK_EQ(a->events, b->events, "%s: events", what);
	for (int w = 0; w < 2; w++) {
		CHECK_EQ(a->acq[w], b->acq[w], "%s: acquisitions[%d]", what, w);
		CHECK_EQ(a->failed[w], b->failed[w], "%s: failed[%d]", what, w);
		CHECK_EQ(a->starts[w], b->starts[w], "%s: start_locking[%d]", what, w);
		CHECK_EQ(a->releases[w], b->releases[w], "%s: releases[%d]", what, w);
	}
	for (int i = 0; i < MMAPLOCK_PARSE_NHIST; i++) {
		const char *h = mmaplock_parse_hist_names[i];

		CHECK_EQ(a->h[i].count, b->h[i].count, "%s: %s count", what, h);
		if (!exact)
			continue;
		CHECK_EQ(a->h[i].sum_ns, b->h[i].sum_ns, "%s: %s sum", what, h);
		CHECK_EQ(a->h[i].max_ns, b->h[i].max_ns, "%s: %s max", what, h);
		CHECK_EQ(a->h[i].min_ns, b->h[i].min_ns, "%s: %s min", what, h);
		CHECK(memcmp(a->h[i].bins, b->h[i].bins, sizeof(a->h[i].bins)) == 0, "%s: %s bins", what, h);
		for (int d = 0; d < MMAPLOCK_PARSE_DECADES; d++)
			CHECK_EQ(a->decades[i][d], b->decades[i][d], "%s: %s %s", what, h, mmaplock_parse_decade_names[d]);
	}
}

/* The format files of this kernel (6.18: memcg_id), read, not assumed. */
TEST(format_files)
{
	struct mmaplock_raw_format f;

	load_format(&f);
	CHECK_EQ(f.page_ts.offset, 0);
	CHECK_EQ(f.page_commit.offset, 8);
	CHECK_EQ(f.page_commit.size, 8);
	CHECK_EQ(f.page_data.offset, 16);
	CHECK_EQ(f.page_size, 4096);
	CHECK_EQ(f.type_len_bits, 5);
	CHECK_EQ(f.delta_bits, 27);
	CHECK_EQ(f.padding, 29);
	CHECK_EQ(f.time_extend, 30);
	CHECK_EQ(f.time_stamp, 31);
	CHECK_EQ(f.data_max, 28);
	CHECK_EQ(f.ev[MMAPLOCK_PARSE_START_LOCKING].id, 677);
	CHECK_EQ(f.ev[MMAPLOCK_PARSE_ACQUIRE_RETURNED].id, 675);
	CHECK_EQ(f.ev[MMAPLOCK_PARSE_RELEASED].id, 676);
	CHECK_EQ(f.ev[MMAPLOCK_PARSE_ACQUIRE_RETURNED].pid.offset, 4);
	CHECK_EQ(f.ev[MMAPLOCK_PARSE_ACQUIRE_RETURNED].write.offset, 24);
	CHECK_EQ(f.ev[MMAPLOCK_PARSE_ACQUIRE_RETURNED].success.offset, 25);
	CHECK_EQ(f.ev[MMAPLOCK_PARSE_ACQUIRE_RETURNED].size, 26);
	CHECK_EQ(f.ev[MMAPLOCK_PARSE_RELEASED].success.size, 0);
	CHECK_STR(f.ev[MMAPLOCK_PARSE_RELEASED].memcg_kind, "memcg_id");
	CHECK_EQ(f.ev[MMAPLOCK_PARSE_RELEASED].memcg.offset, 16);
}

/* Every recorded page decodes; as many events as the kernel printed (its
 * own count is in the `trace` header: 1170/1170), none skipped. */
TEST(recording_event_count)
{
	struct mmaplock_raw_format f;
	struct mmaplock_raw_stats st;
	struct mmaplock_parse *text = text_parsed();
	size_t n;
	struct tagged *all;

	load_format(&f);
	all = all_events(&f, &n, &st);
	CHECK_EQ(n, 1170);
	CHECK_EQ(text->events, 1170);
	CHECK_EQ(text->lines_unparsed, 0);
	CHECK_EQ(st.events, 1170);
	CHECK_EQ(st.pages, 11);
	CHECK_EQ(st.bad_pages, 0);
	CHECK_EQ(st.bad_events, 0);
	CHECK_EQ(st.unknown_ids, 0);
	CHECK_EQ(st.missed_pages, 0);
	free(all);
	parser_free(text);
}

/* The same events through both paths pair identically: the raw times
 * rounded to the microsecond as the text prints them (the kernel's
 * ns2usecs adds 500 ns) give the very same counters,
 * histograms (every bin) and decades; and mmaplock_raw_drain's merge
 * gives what sorting every event by time gives, in nanoseconds. */
TEST(pairing_identical_to_the_text_path)
{
	struct mmaplock_raw_format f;
	struct mmaplock_raw_stats st;
	struct mmaplock_parse *text = text_parsed(), *us = parser(), *ns = parser(), *drained = parser();
	struct mmaplock_raw_reader r;
	struct pages pg;
	size_t n;
	struct tagged *all;

	load_format(&f);
	all = all_events(&f, &n, &st);
	for (size_t i = 0; i < n; i++) {
		const struct mmaplock_raw_event *e = &all[i].e;

		mmaplock_parse_event(us, e->tid, e->kind, e->write, e->success, (e->ts_ns + 500) / 1000 * 1000);
		mmaplock_parse_event(ns, e->tid, e->kind, e->write, e->success, e->ts_ns);
	}
	same_pairing(us, text, true, "raw (us) vs text");
	CHECK(text->h[MMAPLOCK_PARSE_WRITE_HOLD].count > 100 && text->failed[R] + text->failed[W] > 0 &&
		      text->h[MMAPLOCK_PARSE_READ_WAIT].count > 0 && text->h[MMAPLOCK_PARSE_WRITE_WAIT].count > 0,
	      "the recording has waits, holds and failed attempts");
	pages_load(&pg, &f);
	CHECK_EQ(mmaplock_raw_reader_alloc(&r, &f, 2, pages_read, pages_stop, &pg), 0, "%s", strerror(errno));
	CHECK_EQ(mmaplock_raw_drain(&r, drained, UINT64_MAX), 0);
	same_pairing(drained, ns, true, "drain vs sort");
	same_pairing(drained, text, false, "drain vs text");
	CHECK_EQ(r.st.reads, 11);
	CHECK_EQ(r.st.bytes, 11 * 4096);
	/* nanoseconds: within 1 us a wait or hold of the text's, and not all whole microseconds */
	for (int i = 0; i < MMAPLOCK_PARSE_NHIST; i++) {
		uint64_t a = drained->h[i].sum_ns, b = text->h[i].sum_ns, c = drained->h[i].count;

		CHECK(a + 1000 * c >= b && b + 1000 * c >= a, "%s: sums %llu ns and %llu ns for %llu",
		      mmaplock_parse_hist_names[i], (unsigned long long)a, (unsigned long long)b, (unsigned long long)c);
	}
	CHECK(drained->h[MMAPLOCK_PARSE_WRITE_HOLD].sum_ns % 1000 != 0, "nanosecond times");
	mmaplock_raw_reader_free(&r);
	pages_free(&pg);
	free(all);
	parser_free(text);
	parser_free(us);
	parser_free(ns);
	parser_free(drained);
}

/* Drains cut at any time, or stopped by the budget after any number of
 * reads, add up to one whole drain: events after the cutoff wait in their
 * CPU's page for the next drain, in order. */
TEST(drains_with_cutoffs_and_budget_stops_add_up)
{
	struct mmaplock_raw_format f;
	struct mmaplock_raw_stats st;
	struct mmaplock_parse *whole = parser();
	size_t n;
	struct tagged *all;

	load_format(&f);
	all = all_events(&f, &n, &st);
	for (size_t i = 0; i < n; i++)
		mmaplock_parse_event(whole, all[i].e.tid, all[i].e.kind, all[i].e.write, all[i].e.success,
				     all[i].e.ts_ns);
	for (size_t parts = 2; parts <= 64; parts *= 2) {
		struct mmaplock_parse *p = parser();
		struct mmaplock_raw_reader r;
		struct pages pg;

		pages_load(&pg, &f);
		CHECK_EQ(mmaplock_raw_reader_alloc(&r, &f, 2, pages_read, pages_stop, &pg), 0);
		for (size_t k = 1; k < parts; k++) {
			uint64_t cut = all[n * k / parts].e.ts_ns, upto = 0;

			while (upto < n && all[upto].e.ts_ns <= cut)
				upto++;
			CHECK_EQ(mmaplock_raw_drain(&r, p, cut), 0);
			CHECK_EQ(p->events, upto, "cutoff %llu: the events up to it, no more", (unsigned long long)cut);
		}
		CHECK_EQ(mmaplock_raw_drain(&r, p, UINT64_MAX), 0);
		same_pairing(p, whole, true, "cut in parts");
		mmaplock_raw_reader_free(&r);
		pages_free(&pg);
		parser_free(p);
	}
	for (long every = 1; every <= 8; every++) {
		struct mmaplock_parse *p = parser();
		struct mmaplock_raw_reader r;
		struct pages pg;
		int stops = 0;

		pages_load(&pg, &f);
		CHECK_EQ(mmaplock_raw_reader_alloc(&r, &f, 2, pages_read, pages_stop, &pg), 0);
		for (;;) {
			pg.stop_after = pg.reads + every;
			if (mmaplock_raw_drain(&r, p, UINT64_MAX) == 0)
				break;
			stops++;
		}
		CHECK(stops >= (int)(11 / every) - 1, "budget of %ld reads: %d stops", every, stops);
		same_pairing(p, whole, true, "budget stops");
		mmaplock_raw_reader_free(&r);
		pages_free(&pg);
		parser_free(p);
	}
	free(all);
	parser_free(whole);
}

/* Pages built here, in the recorded kernel's layout. */
struct page {
	unsigned char b[4096];
	size_t off; /* bytes of events so far */
	const struct mmaplock_raw_format *f;
};

static void page_init(struct page *pg, const struct mmaplock_raw_format *f, uint64_t ts)
{
	memset(pg, 0, sizeof(*pg));
	pg->f = f;
	memcpy(pg->b + f->page_ts.offset, &ts, 8);
}

static void page_word(struct page *pg, uint32_t w)
{
	memcpy(pg->b + pg->f->page_data.offset + pg->off, &w, 4);
	pg->off += 4;
}

static uint32_t hdr(unsigned type, uint32_t delta)
{
	return type | delta << 5; /* little-endian bit fields, 5 + 27 bits */
}

/* An mmap_lock event of kind k: short form (type_len) or long (type_len 0). */
static void page_event(struct page *pg, int k, uint32_t delta, int32_t tid, bool write, bool success, bool long_form)
{
	unsigned char pl[32] = { 0 };
	uint16_t id = (uint16_t)pg->f->ev[k].id;
	uint32_t len = 28; /* the payload, rounded up to words */

	memcpy(pl + pg->f->ev[k].type.offset, &id, 2);
	memcpy(pl + pg->f->ev[k].pid.offset, &tid, 4);
	pl[pg->f->ev[k].write.offset] = write;
	if (pg->f->ev[k].success.size)
		pl[pg->f->ev[k].success.offset] = success;
	if (long_form) {
		page_word(pg, hdr(0, delta));
		page_word(pg, len + 4);
	} else {
		page_word(pg, hdr(len / 4, delta));
	}
	memcpy(pg->b + pg->f->page_data.offset + pg->off, pl, len);
	pg->off += len;
}

static void page_commit(struct page *pg, uint64_t flags)
{
	uint64_t c = pg->off | flags;

	memcpy(pg->b + pg->f->page_commit.offset, &c, 8);
}

/* Time extends add their delta (high bits) to the running time; a
 * discarded event (padding with a delta) takes room but no time, as in
 * the kernel's reader; a time stamp sets the time (its top bits from the
 * running time); long-form events decode like short ones; padding with
 * delta 0 ends the page. */
TEST(time_extend_time_stamp_padding_long_events)
{
	struct mmaplock_raw_format f;
	struct mmaplock_raw_stats st = { 0 };
	struct mmaplock_raw_event ev[600];
	struct page pg;
	size_t n;
	const uint64_t t0 = 5000000000ull;

	load_format(&f);
	page_init(&pg, &f, t0);
	page_event(&pg, MMAPLOCK_PARSE_START_LOCKING, 7, 42, true, false, false);      /* t0 + 7 */
	page_word(&pg, hdr(30, 5));                                                        /* extend */
	page_word(&pg, 3);                                                                 /* + 3 << 27 + 5 */
	page_event(&pg, MMAPLOCK_PARSE_ACQUIRE_RETURNED, 0, 42, true, true, true);     /* long form */
	page_word(&pg, hdr(29, 1000));                                                     /* discarded */
	page_word(&pg, 28);
	pg.off += 24;
	page_event(&pg, MMAPLOCK_PARSE_RELEASED, 11, 42, true, false, false);          /* + 11 */
	page_word(&pg, hdr(31, (uint32_t)(123456789ull & ((1u << 27) - 1))));            /* absolute */
	page_word(&pg, (uint32_t)(123456789ull >> 27));
	page_event(&pg, MMAPLOCK_PARSE_ACQUIRE_RETURNED, 2, 43, false, false, false);   /* stamp + 2 */
	page_word(&pg, hdr(29, 0));                                                        /* end of page */
	page_event(&pg, MMAPLOCK_PARSE_RELEASED, 1, 44, false, false, false);          /* not read */
	page_commit(&pg, 0);
	n = mmaplock_raw_page(&f, pg.b, sizeof(pg.b), ev, &st);
	CHECK_EQ(n, 4);
	CHECK_EQ(ev[0].ts_ns, t0 + 7);
	CHECK_EQ(ev[0].kind, MMAPLOCK_PARSE_START_LOCKING);
	CHECK_EQ(ev[0].tid, 42);
	CHECK_EQ(ev[0].write, 1);
	CHECK_EQ(ev[1].ts_ns, t0 + 7 + (3ull << 27) + 5);
	CHECK_EQ(ev[1].kind, MMAPLOCK_PARSE_ACQUIRE_RETURNED);
	CHECK_EQ(ev[1].success, 1);
	CHECK_EQ(ev[2].ts_ns, t0 + 7 + (3ull << 27) + 5 + 11);
	CHECK_EQ(ev[2].kind, MMAPLOCK_PARSE_RELEASED);
	CHECK_EQ(ev[3].ts_ns, 123456789ull + 2);
	CHECK_EQ(ev[3].tid, 43);
	CHECK_EQ(ev[3].write, 0);
	CHECK_EQ(ev[3].success, 0);
	CHECK_EQ(st.bad_events + st.bad_pages + st.unknown_ids, 0);
}

/* Malformed pages are counted and skipped; a good page after them decodes. */
TEST(malformed_pages)
{
	struct mmaplock_raw_format f;
	struct mmaplock_raw_stats st = { 0 };
	struct mmaplock_raw_event ev[600];
	struct page pg, bad;
	size_t len;
	unsigned char *rec;

	load_format(&f);
	page_init(&pg, &f, 1000);
	for (int i = 0; i < 3; i++)
		page_event(&pg, i, 10, 7, false, true, false);
	page_commit(&pg, 0);
	CHECK_EQ(mmaplock_raw_page(&f, pg.b, sizeof(pg.b), ev, &st), 3);
	/* truncated: shorter than the page header; shorter than its commit */
	CHECK_EQ(mmaplock_raw_page(&f, pg.b, 12, ev, &st), 0);
	CHECK_EQ(st.bad_pages, 1);
	CHECK_EQ(mmaplock_raw_page(&f, pg.b, 16 + 40, ev, &st), 0);
	CHECK_EQ(st.bad_pages, 2);
	/* a commit longer than a page */
	bad = pg;
	page_commit(&bad, 0);
	{
		uint64_t c = 4081;

		memcpy(bad.b + 8, &c, 8);
	}
	CHECK_EQ(mmaplock_raw_page(&f, bad.b, sizeof(bad.b), ev, &st), 0);
	CHECK_EQ(st.bad_pages, 3);
	/* a commit that ends inside an event: the events before it are kept */
	bad = pg;
	{
		uint64_t c = 32 + 10;

		memcpy(bad.b + 8, &c, 8);
	}
	CHECK_EQ(mmaplock_raw_page(&f, bad.b, sizeof(bad.b), ev, &st), 1);
	CHECK_EQ(st.bad_events, 1);
	/* a long-form event whose length runs past the commit */
	page_init(&bad, &f, 1000);
	page_event(&bad, 0, 1, 7, false, false, false);
	page_word(&bad, hdr(0, 1));
	page_word(&bad, 4000);
	page_commit(&bad, 0);
	CHECK_EQ(mmaplock_raw_page(&f, bad.b, sizeof(bad.b), ev, &st), 1);
	CHECK_EQ(st.bad_events, 2);
	/* unknown event ids (another tracepoint in the buffer) are skipped by length */
	rec = data_file("mmaplock-raw-cpu0.bin", &len);
	{
		struct mmaplock_raw_stats s0 = { 0 }, s1 = { 0 };
		size_t good = mmaplock_raw_page(&f, rec, f.page_size, ev, &s0);
		uint16_t other = 9999;

		/* the first event of the first page: a header word, then common_type */
		CHECK((rec[16] & 31) >= 1 && (rec[16] & 31) <= 28, "the first event is a short data event");
		memcpy(rec + 16 + 4, &other, 2);
		CHECK_EQ(mmaplock_raw_page(&f, rec, f.page_size, ev, &s1), good - 1);
		CHECK_EQ(s1.unknown_ids, 1);
		CHECK_EQ(s1.bad_events, 0);
	}
	free(rec);
	/* events lost before the page: the flag, and the count the kernel stored after the events */
	bad = pg;
	{
		uint64_t lost = 12345;

		memcpy(bad.b + 16 + pg.off, &lost, 8);
		page_commit(&bad, 3ull << 30);
	}
	memset(&st, 0, sizeof(st));
	CHECK_EQ(mmaplock_raw_page(&f, bad.b, sizeof(bad.b), ev, &st), 3);
	CHECK_EQ(st.missed_pages, 1);
	CHECK_EQ(st.missed_events, 12345);
	page_commit(&bad, 1ull << 31);
	CHECK_EQ(mmaplock_raw_page(&f, bad.b, sizeof(bad.b), ev, &st), 3);
	CHECK_EQ(st.missed_pages, 2);
	CHECK_EQ(st.missed_events, 12345);
	CHECK_EQ(st.bad_pages + st.bad_events, 0);
}

/* A task whose events alternate between two CPUs pairs only if the pages
 * are merged by time: start 100 (cpu 0), acquired 150 (cpu 1), released
 * 200 (cpu 0), start 250 (cpu 1), acquired 330 (cpu 0): waits 50 and 80,
 * a hold of 50.  A cutoff at 260 feeds up to 250 and keeps 330. */
TEST(merge_across_cpus_by_time)
{
	struct mmaplock_raw_format f;
	struct page c0, c1;
	struct pages pg;
	struct mmaplock_raw_reader r;
	struct mmaplock_parse *p = parser();

	load_format(&f);
	page_init(&c0, &f, 100);
	page_event(&c0, MMAPLOCK_PARSE_START_LOCKING, 0, 10, true, false, false);
	page_event(&c0, MMAPLOCK_PARSE_RELEASED, 100, 10, true, false, false);
	page_event(&c0, MMAPLOCK_PARSE_ACQUIRE_RETURNED, 130, 10, false, true, false);
	page_commit(&c0, 0);
	page_init(&c1, &f, 150);
	page_event(&c1, MMAPLOCK_PARSE_ACQUIRE_RETURNED, 0, 10, true, true, false);
	page_event(&c1, MMAPLOCK_PARSE_START_LOCKING, 100, 10, false, false, false);
	page_commit(&c1, 0);
	memset(&pg, 0, sizeof(pg));
	pg.buf[0] = c0.b;
	pg.buf[1] = c1.b;
	pg.len[0] = pg.len[1] = sizeof(c0.b);
	pg.page = f.page_size;
	pg.stop_after = -1;
	CHECK_EQ(mmaplock_raw_reader_alloc(&r, &f, 2, pages_read, pages_stop, &pg), 0);
	CHECK_EQ(mmaplock_raw_drain(&r, p, 260), 0);
	CHECK_EQ(p->events, 4);
	CHECK_EQ(p->h[MMAPLOCK_PARSE_WRITE_WAIT].sum_ns, 50);
	CHECK_EQ(p->h[MMAPLOCK_PARSE_WRITE_HOLD].sum_ns, 50);
	CHECK_EQ(p->h[MMAPLOCK_PARSE_READ_WAIT].count, 0);
	CHECK_EQ(mmaplock_raw_drain(&r, p, UINT64_MAX), 0);
	CHECK_EQ(p->events, 5);
	CHECK_EQ(p->h[MMAPLOCK_PARSE_READ_WAIT].sum_ns, 80);
	CHECK_EQ(p->acq[R], 1);
	CHECK_EQ(p->acq[W], 1);
	CHECK_EQ(r.st.reads, 2);
	mmaplock_raw_reader_free(&r);
	parser_free(p);
}

/* Before 6.1 the events carried the memcg as a path (a __data_loc string,
 * 4 bytes) instead of a u64 id, so write sits at 20, not 24; and a 32-bit
 * kernel's page header has a 4-byte commit and its data at 12.  The
 * offsets come from the files. */
TEST(older_and_32bit_layouts)
{
	static const char fmt_old[] =
		"name: mmap_lock_released\nID: 145\nformat:\n"
		"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
		"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
		"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
		"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"
		"\tfield:struct mm_struct * mm;\toffset:8;\tsize:8;\tsigned:0;\n"
		"\tfield:__data_loc char[] memcg_path;\toffset:16;\tsize:4;\tsigned:1;\n"
		"\tfield:bool write;\toffset:20;\tsize:1;\tsigned:0;\n\n"
		"print fmt: \"mm=%p memcg_path=%s write=%s\", REC->mm, __get_str(memcg_path), REC->write ? \"true\" : "
		"\"false\"\n";
	static const char page32[] = "\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n"
				     "\tfield: local_t commit;\toffset:8;\tsize:4;\tsigned:1;\n"
				     "\tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n"
				     "\tfield: char data;\toffset:12;\tsize:4084;\tsigned:0;\n";
	struct mmaplock_raw_format f;
	struct mmaplock_raw_stats st = { 0 };
	struct mmaplock_raw_event ev[600];
	unsigned char b[4096] = { 0 };
	char err[256] = "";
	uint64_t ts = 777;
	uint32_t w;
	uint16_t id = 145;
	int32_t tid = 99;

	load_format(&f);
	CHECK_EQ(mmaplock_raw_event_format(&f, fmt_old, err, sizeof(err)), 0, "%s", err);
	CHECK_EQ(f.ev[MMAPLOCK_PARSE_RELEASED].id, 145);
	CHECK_EQ(f.ev[MMAPLOCK_PARSE_RELEASED].write.offset, 20);
	CHECK_EQ(f.ev[MMAPLOCK_PARSE_RELEASED].size, 21);
	CHECK_STR(f.ev[MMAPLOCK_PARSE_RELEASED].memcg_kind, "memcg_path");
	CHECK_EQ(mmaplock_raw_header_page(&f, page32, err, sizeof(err)), 0, "%s", err);
	CHECK_EQ(f.page_commit.size, 4);
	CHECK_EQ(f.page_data.offset, 12);
	CHECK_EQ(f.page_size, 4096);
	/* one released event, write=true at offset 20, then a 24-byte payload */
	memcpy(b, &ts, 8);
	w = 4 + 24;
	memcpy(b + 8, &w, 4);
	w = hdr(6, 3);
	memcpy(b + 12, &w, 4);
	memcpy(b + 16, &id, 2);
	memcpy(b + 16 + 4, &tid, 4);
	b[16 + 20] = 1;
	CHECK_EQ(mmaplock_raw_page(&f, b, sizeof(b), ev, &st), 1);
	CHECK_EQ(ev[0].ts_ns, 780);
	CHECK_EQ(ev[0].tid, 99);
	CHECK_EQ(ev[0].kind, MMAPLOCK_PARSE_RELEASED);
	CHECK_EQ(ev[0].write, 1);
	/* format files that lack what the decoder needs are refused, by name */
	CHECK_EQ(mmaplock_raw_event_format(&f, "name: mmap_lock_released\nID: 3\nformat:\n", err, sizeof(err)), -1);
	CHECK(strstr(err, "mmap_lock_released"), "%s", err);
	CHECK_EQ(mmaplock_raw_event_format(&f, "name: sched_switch\nID: 3\n", err, sizeof(err)), -1);
	CHECK_EQ(mmaplock_raw_header_event(&f, "type_len : 5 bits\n", err, sizeof(err)), -1);
	CHECK(strstr(err, "header_event"), "%s", err);
	CHECK_EQ(mmaplock_raw_format_check(&f, err, sizeof(err)), -1, "a format refused above is not loaded");
}
