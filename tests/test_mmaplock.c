/* test_mmaplock: the mmap_lock probe's parsing and pairing
 * (bench/probes/mmaplock_parse.h) on tracefs lines recorded from a real
 * kernel (tests/data/mmaplock-*.txt; how they were recorded is in their
 * '#' headers): acquisitions, waits and holds per task, tasks interleaved,
 * downgrades, failed acquisitions, other address spaces, malformed lines,
 * lines split across reads, the slot table's limit.  The expected numbers
 * were worked out by hand from the timestamps quoted in the comments, and
 * for the whole recording by a separate reading of docs/probes.md's rules
 * (not by this code). */
#include "tests/check.h"
#include "bench/probes/mmaplock_parse.h"

#include <errno.h>
#include <limits.h>

enum { R = 0, W = 1 }; /* index of the read and write counters */

static struct mmaplock_parse *parser(void)
{
	struct mmaplock_parse *p = calloc(1, sizeof(*p));

	CHECK(p, "calloc: %s", strerror(errno));
	CHECK_EQ(mmaplock_parse_alloc(p), 0, "%s", strerror(errno));
	p->measuring = true;
	return p;
}

static void parser_free(struct mmaplock_parse *p)
{
	mmaplock_parse_free(p);
	free(p);
}

/* The recording NAME (tests/data/NAME, looked up from the working directory
 * and then next to the test binary's build directory) without its '#'
 * lines, as trace_pipe would give it. */
static char *recording(const char *name)
{
	FILE *f;
	char *text = NULL, line[1024];
	size_t len = 0;

	f = check_open_data(name, "r");
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);

		CHECK(n && line[n - 1] == '\n', "tests/data/%s: a line longer than %zu bytes", name, sizeof(line) - 2);
		if (line[0] == '#')
			continue;
		text = realloc(text, len + n + 1);
		CHECK(text, "realloc: %s", strerror(errno));
		memcpy(text + len, line, n + 1);
		len += n;
	}
	fclose(f);
	CHECK(text, "tests/data/%s: no trace lines", name);
	return text;
}

/* Feed lines first..last (1-based, '#' lines not counted) of a recording. */
static void feed_lines(struct mmaplock_parse *p, const char *name, int first, int last)
{
	char *text = recording(name), *line = text, *nl;

	for (int i = 1; i <= last; i++, line = nl + 1) {
		nl = strchr(line, '\n');
		CHECK(nl, "%s has %d lines, not %d", name, i - 1, last);
		*nl = 0;
		if (i >= first)
			mmaplock_parse_line(p, line);
	}
	free(text);
}

static void feed(struct mmaplock_parse *p, const char *text)
{
	char *copy = strdup(text);

	CHECK(copy, "strdup");
	mmaplock_parse_line(p, copy);
	free(copy);
}

static void check_counts(const struct mmaplock_parse *p, const uint64_t acq[2], const uint64_t failed[2],
			 const uint64_t starts[2], const uint64_t releases[2])
{
	for (int w = 0; w < 2; w++) {
		const char *kind = w ? "write" : "read";

		CHECK_EQ(p->acq[w], acq[w], "%s acquisitions", kind);
		CHECK_EQ(p->failed[w], failed[w], "%s failed", kind);
		CHECK_EQ(p->starts[w], starts[w], "%s start_locking", kind);
		CHECK_EQ(p->releases[w], releases[w], "%s releases", kind);
	}
}

/* One histogram: its count, sum and max, and its decades. */
static void check_hist(const struct mmaplock_parse *p, int which, uint64_t count, uint64_t sum_ns, uint64_t max_ns,
		       const uint64_t decades[MMAPLOCK_PARSE_DECADES])
{
	const char *name = mmaplock_parse_hist_names[which];
	uint64_t in_decades = 0;

	CHECK_EQ(p->h[which].count, count, "%s", name);
	CHECK_EQ(p->h[which].sum_ns, sum_ns, "%s", name);
	if (count)
		CHECK_EQ(p->h[which].max_ns, max_ns, "%s", name);
	for (int d = 0; d < MMAPLOCK_PARSE_DECADES; d++) {
		CHECK_EQ(p->decades[which][d], decades[d], "%s %s", name, mmaplock_parse_decade_names[d]);
		in_decades += p->decades[which][d];
	}
	CHECK_EQ(in_decades, p->h[which].count, "%s: decades and histogram", name);
}

static const uint64_t none[MMAPLOCK_PARSE_DECADES];

#define U2(a, b) ((const uint64_t[2]){ a, b })
#define DEC(...) ((const uint64_t[MMAPLOCK_PARSE_DECADES]){ __VA_ARGS__ })

/* writers lines 10-12, gen-6166: start_locking write .131914, acquired
 * .131915, released .131917: a 1 us wait and a 2 us hold. */
TEST(write_lock_wait_and_hold)
{
	struct mmaplock_parse *p = parser();

	feed_lines(p, "mmaplock-writers.txt", 10, 12);
	check_counts(p, U2(0, 1), U2(0, 0), U2(0, 1), U2(0, 1));
	check_hist(p, MMAPLOCK_PARSE_WRITE_WAIT, 1, 1000, 1000, DEC(0, 1));
	check_hist(p, MMAPLOCK_PARSE_WRITE_HOLD, 1, 2000, 2000, DEC(0, 1));
	check_hist(p, MMAPLOCK_PARSE_READ_WAIT, 0, 0, 0, none);
	check_hist(p, MMAPLOCK_PARSE_READ_HOLD, 0, 0, 0, none);
	CHECK_EQ(p->events, 3);
	CHECK_EQ(p->lines_unparsed, 0);
	parser_free(p);
}

/* writers lines 3-9, gen-6166 (the read lock while the other writer holds
 * it): start .131910, acquire_returned success=false .131910, start
 * .131911, success=false .131911, start .131911, success=true .131912,
 * released .131914.  Two failed attempts; the wait is from the last start
 * (1 us); the hold 2 us. */
TEST(failed_acquisitions)
{
	struct mmaplock_parse *p = parser();

	feed_lines(p, "mmaplock-writers.txt", 3, 9);
	check_counts(p, U2(1, 0), U2(2, 0), U2(3, 0), U2(1, 0));
	check_hist(p, MMAPLOCK_PARSE_READ_WAIT, 1, 1000, 1000, DEC(0, 1));
	check_hist(p, MMAPLOCK_PARSE_READ_HOLD, 1, 2000, 2000, DEC(0, 1));
	check_hist(p, MMAPLOCK_PARSE_WRITE_WAIT, 0, 0, 0, none);
	parser_free(p);
}

/* A failed attempt ends the pending start: an acquisition after it without
 * a start of its own (a trylock) has no wait. */
TEST(failed_acquisition_drops_the_pending_start)
{
	struct mmaplock_parse *p = parser();

	feed_lines(p, "mmaplock-writers.txt", 3, 4); /* start .131910, failed .131910 */
	feed_lines(p, "mmaplock-writers.txt", 8, 9); /* acquired .131912, released .131914 */
	check_counts(p, U2(1, 0), U2(1, 0), U2(1, 0), U2(1, 0));
	check_hist(p, MMAPLOCK_PARSE_READ_WAIT, 0, 0, 0, none);
	check_hist(p, MMAPLOCK_PARSE_READ_HOLD, 1, 2000, 2000, DEC(0, 1));
	parser_free(p);
}

/* writers lines 98-101, gen-6166 munmap: start write .132052, acquired
 * .132053, acquire_returned read .132054 (mmap_write_downgrade), released
 * read .152058.  Write wait 1 us, write hold 1 us (to the downgrade), read
 * hold 20.004 ms; no read wait, no write release. */
TEST(downgrade_ends_the_write_hold_and_opens_a_read_hold)
{
	struct mmaplock_parse *p = parser();

	feed_lines(p, "mmaplock-writers.txt", 98, 101);
	check_counts(p, U2(1, 1), U2(0, 0), U2(0, 1), U2(1, 0));
	check_hist(p, MMAPLOCK_PARSE_WRITE_WAIT, 1, 1000, 1000, DEC(0, 1));
	check_hist(p, MMAPLOCK_PARSE_WRITE_HOLD, 1, 1000, 1000, DEC(0, 1));
	check_hist(p, MMAPLOCK_PARSE_READ_WAIT, 0, 0, 0, none);
	check_hist(p, MMAPLOCK_PARSE_READ_HOLD, 1, 20004000, 20004000, DEC(0, 0, 0, 0, 0, 1));
	parser_free(p);
}

/* A lost event (the ring buffer overran): lines 98-99 and 101 without the
 * downgrade at line 100, then line 119.  The read release does not end the
 * write hold as if it were one (it closes it, recording nothing), and the
 * next write release, with no hold open, records nothing either. */
TEST(release_of_the_other_kind_records_nothing)
{
	struct mmaplock_parse *p = parser();

	feed_lines(p, "mmaplock-writers.txt", 98, 99);   /* start write .132052, acquired .132053 */
	feed_lines(p, "mmaplock-writers.txt", 101, 101); /* released read .152058 */
	feed_lines(p, "mmaplock-writers.txt", 119, 119); /* released write .152169 */
	check_counts(p, U2(0, 1), U2(0, 0), U2(0, 1), U2(1, 1));
	check_hist(p, MMAPLOCK_PARSE_WRITE_WAIT, 1, 1000, 1000, DEC(0, 1));
	check_hist(p, MMAPLOCK_PARSE_WRITE_HOLD, 0, 0, 0, none);
	check_hist(p, MMAPLOCK_PARSE_READ_HOLD, 0, 0, 0, none);
	parser_free(p);
}

/* writers lines 102-120, three tasks interleaved:
 *   gen-6166 start write .152074 ... acquired .152165 (a 91 us wait across
 *            the others' events), released .152169 (4 us), start read .152174
 *   gen-6167 acquired write .152090 (its start is before the excerpt: no
 *            wait), released .152102 (12 us); start read .152108, failed
 *            .152109, start .152109, failed .152109, start .152110
 *   gen-6168 acquired read .152113 (no start seen), released .152117 (4 us);
 *            start .152146, acquired .152148 (2 us), released .152152 (4 us);
 *            start .152153, acquired .152153 (0), released .152154 (1 us) */
TEST(tasks_interleaved_pair_per_task)
{
	struct mmaplock_parse *p = parser();

	feed_lines(p, "mmaplock-writers.txt", 102, 120);
	check_counts(p, U2(3, 2), U2(2, 0), U2(6, 1), U2(3, 2));
	check_hist(p, MMAPLOCK_PARSE_WRITE_WAIT, 1, 91000, 91000, DEC(0, 0, 1));
	check_hist(p, MMAPLOCK_PARSE_WRITE_HOLD, 2, 16000, 12000, DEC(0, 1, 1));
	check_hist(p, MMAPLOCK_PARSE_READ_WAIT, 2, 2000, 2000, DEC(1, 1));
	check_hist(p, MMAPLOCK_PARSE_READ_HOLD, 3, 9000, 4000, DEC(0, 3));
	CHECK_EQ(p->events, 19);
	CHECK_EQ(p->untracked, 0);
	parser_free(p);
}

/* The whole 120-line excerpt: 6 downgrades, 14 failed read attempts, two
 * tasks left waiting at the end. */
TEST(recording_writers)
{
	struct mmaplock_parse *p = parser();
	char *text = recording("mmaplock-writers.txt");
	size_t len = strlen(text);

	CHECK_EQ(mmaplock_parse_text(p, text), len);
	check_counts(p, U2(15, 20), U2(14, 0), U2(24, 18), U2(15, 14));
	check_hist(p, MMAPLOCK_PARSE_READ_WAIT, 8, 6000, 2000, DEC(3, 5));
	check_hist(p, MMAPLOCK_PARSE_READ_HOLD, 15, 20036000, 20004000, DEC(0, 14, 0, 0, 0, 1));
	check_hist(p, MMAPLOCK_PARSE_WRITE_WAIT, 18, 100000, 91000, DEC(8, 9, 1));
	check_hist(p, MMAPLOCK_PARSE_WRITE_HOLD, 20, 49000, 12000, DEC(0, 19, 1));
	CHECK_EQ(p->events, 120);
	CHECK_EQ(p->lines_unparsed, 0);
	free(text);
	parser_free(p);
}

/* writers lines 112-117: gen-6168 reads /proc/1/cmdline, which takes PID
 * 1's mmap_lock (mm=00000000c0511836, memcg_id=1), not its own.  The parser
 * does not look at mm: these count as the task's acquisitions, waits and
 * holds like any other (docs/probes.md, Limits). */
TEST(other_mm_events_count_as_the_tasks)
{
	struct mmaplock_parse *p = parser();

	feed_lines(p, "mmaplock-writers.txt", 112, 117);
	check_counts(p, U2(2, 0), U2(0, 0), U2(2, 0), U2(2, 0));
	check_hist(p, MMAPLOCK_PARSE_READ_WAIT, 2, 2000, 2000, DEC(1, 1));
	check_hist(p, MMAPLOCK_PARSE_READ_HOLD, 2, 5000, 4000, DEC(0, 2));
	parser_free(p);
}

/* exec: bash-6160 locks the old mm for writing (.089407 -> .089408), then
 * the new one (.089409 -> .089410), releases the new (.089615) and then the
 * old (.089615).  One pending hold per task: the nested acquisition reads as
 * a downgrade, so the outer hold is recorded as 2 us (to the inner
 * acquisition) instead of 207 us, the inner as 205 us, and the outer
 * release records nothing.  This is the parser's documented limit, not a
 * wish: the probe starts following the victim before it execs, and these
 * events fall in the warm-up, before the histograms are reset. */
TEST(nested_locks_of_two_mms_read_as_a_downgrade)
{
	struct mmaplock_parse *p = parser();
	char *text = recording("mmaplock-exec.txt");

	mmaplock_parse_text(p, text);
	check_counts(p, U2(0, 2), U2(0, 0), U2(0, 2), U2(0, 2));
	check_hist(p, MMAPLOCK_PARSE_WRITE_WAIT, 2, 2000, 1000, DEC(0, 2));
	check_hist(p, MMAPLOCK_PARSE_WRITE_HOLD, 2, 207000, 205000, DEC(0, 1, 0, 1));
	free(text);
	parser_free(p);
}

/* Before the first sample (measuring off) the counters advance and nothing
 * is recorded; mmaplock_parse_reset_hists keeps the counters. */
TEST(not_measuring_counts_only)
{
	struct mmaplock_parse *p = parser();
	char *text = recording("mmaplock-writers.txt");

	p->measuring = false;
	mmaplock_parse_text(p, text);
	check_counts(p, U2(15, 20), U2(14, 0), U2(24, 18), U2(15, 14));
	for (int i = 0; i < MMAPLOCK_PARSE_NHIST; i++)
		check_hist(p, i, 0, 0, 0, none);
	mmaplock_parse_reset_hists(p);
	CHECK_EQ(p->acq[W], 20);
	mmaplock_parse_reset(p);
	check_counts(p, U2(0, 0), U2(0, 0), U2(0, 0), U2(0, 0));
	CHECK_EQ(p->events, 0);
	CHECK(!p->measuring, "reset leaves measuring on");
	free(text);
	parser_free(p);
}

/* The probe's drain: reads of any size into a buffer, complete lines
 * parsed, the partial last line kept for the next read.  Every chunk size
 * gives what one whole read gives. */
TEST(lines_split_across_reads)
{
	static const size_t chunks[] = { 1, 2, 7, 64, 131, 1000, 1 << 20 };
	struct mmaplock_parse *whole = parser();
	char *text = recording("mmaplock-writers.txt"), *copy = strdup(text);
	size_t len = strlen(text);
	char *buf = malloc(len + 1);

	CHECK(copy && buf, "malloc");
	mmaplock_parse_text(whole, copy);
	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		struct mmaplock_parse *p = parser();
		size_t fill = 0;

		for (size_t off = 0; off < len;) {
			size_t n = chunks[c] < len - off ? chunks[c] : len - off, used;

			memcpy(buf + fill, text + off, n);
			off += n;
			fill += n;
			buf[fill] = 0;
			used = mmaplock_parse_text(p, buf);
			fill -= used;
			memmove(buf, buf + used, fill);
		}
		CHECK_EQ(fill, 0, "chunks of %zu", chunks[c]);
		CHECK_EQ(p->events, whole->events, "chunks of %zu", chunks[c]);
		CHECK_EQ(p->lines_unparsed, 0, "chunks of %zu", chunks[c]);
		for (int w = 0; w < 2; w++) {
			CHECK_EQ(p->acq[w], whole->acq[w], "chunks of %zu", chunks[c]);
			CHECK_EQ(p->failed[w], whole->failed[w], "chunks of %zu", chunks[c]);
		}
		for (int i = 0; i < MMAPLOCK_PARSE_NHIST; i++) {
			CHECK_EQ(p->h[i].count, whole->h[i].count, "chunks of %zu: %s", chunks[c],
				 mmaplock_parse_hist_names[i]);
			CHECK_EQ(p->h[i].sum_ns, whole->h[i].sum_ns, "chunks of %zu: %s", chunks[c],
				 mmaplock_parse_hist_names[i]);
		}
		parser_free(p);
	}
	/* text after the last newline is left for the next read */
	{
		struct mmaplock_parse *p = parser();
		char part[] = "             gen-6166    [000] .....   216.131914: mmap_lock_start_locking: "
			      "mm=00000000e2f099cc memcg_id=3368 write=true\n             gen-6166    [000] .....   "
			      "216.131915: mmap_lock_acquire_returned: mm=00000000e2f099cc";
		size_t first = (size_t)(strchr(part, '\n') + 1 - part);

		CHECK_EQ(mmaplock_parse_text(p, part), first);
		CHECK_EQ(p->events, 1);
		CHECK_EQ(p->acq[W], 0);
		parser_free(p);
	}
	free(buf);
	free(copy);
	free(text);
	parser_free(whole);
}

/* Lines that are not mmap_lock events of a task count as unparsed and
 * disturb no pending wait: the start before them and the acquisition after
 * them still make a 91 us wait. */
TEST(malformed_lines)
{
	static const char *const bad[] = {
		"",
		"CPU:1 [LOST 182 EVENTS]",
		"            bash-6160    [000] .....   216.089407: sched_process_exec: filename=./gen pid=6160",
		"             gen-6166    [000] .....   216.13",
		"             gen-6166    [000] ..... : mmap_lock_start_locking: mm=00000000e2f099cc memcg_id=3368 "
		"write=true",
		"             gen-6166    [000] .....   216: mmap_lock_released: mm=00000000e2f099cc memcg_id=3368 "
		"write=true",
		"             gen-6166     .....   216.152100: mmap_lock_released: mm=00000000e2f099cc memcg_id=3368 "
		"write=true",
		"          <idle>-0       [000] .....   216.152100: mmap_lock_released: mm=00000000e2f099cc "
		"memcg_id=3368 write=true",
		"             gen    [000] .....   216.152100: mmap_lock_released: mm=00000000e2f099cc memcg_id=3368 "
		"write=true",
		"             gen-6166    [000] .....   216.152100: mmap_lock_frobnicated: mm=00000000e2f099cc "
		"memcg_id=3368 write=true",
	};
	struct mmaplock_parse *p = parser();
	size_t n = sizeof(bad) / sizeof(bad[0]);

	feed_lines(p, "mmaplock-writers.txt", 102, 102); /* gen-6166 start write .152074 */
	for (size_t i = 0; i < n; i++)
		feed(p, bad[i]);
	CHECK_EQ(p->lines_unparsed, n);
	feed_lines(p, "mmaplock-writers.txt", 118, 119); /* acquired .152165, released .152169 */
	CHECK_EQ(p->lines_unparsed, n);
	check_counts(p, U2(0, 1), U2(0, 0), U2(0, 1), U2(0, 1));
	check_hist(p, MMAPLOCK_PARSE_WRITE_WAIT, 1, 91000, 91000, DEC(0, 0, 1));
	check_hist(p, MMAPLOCK_PARSE_WRITE_HOLD, 1, 4000, 4000, DEC(0, 1));
	parser_free(p);
}

/* The task is the number before " [cpu]", whatever the name holds (spaces,
 * dashes, digits; a task may rename itself between two events). */
TEST(task_names_with_spaces_dashes_and_digits)
{
	struct mmaplock_parse *p = parser();

	feed(p, "     my worker-2-4194303 [001] d..1.   216.131914: mmap_lock_start_locking: "
		"mm=00000000e2f099cc memcg_id=3368 write=true");
	feed(p, "             gen-430    [001] .....   216.131915: mmap_lock_acquire_returned: "
		"mm=00000000e2f099cc memcg_id=3368 write=true success=true");
	feed(p, "           other-4194303 [000] .....   216.131920: mmap_lock_acquire_returned: "
		"mm=00000000e2f099cc memcg_id=3368 write=true success=true");
	CHECK_EQ(p->lines_unparsed, 0);
	CHECK_EQ(p->acq[W], 2);
	/* tid 4194303 waited 6 us; tid 430 had no start */
	check_hist(p, MMAPLOCK_PARSE_WRITE_WAIT, 1, 6000, 6000, DEC(0, 1));
	parser_free(p);
}

/* Tasks that find no slot within MMAPLOCK_PARSE_PROBES of their hash are
 * counted (untracked, one per event) and still counted in the counters.
 * Every multiple of 65536 hashes to slot 0. */
TEST(slot_table_overflow_is_counted)
{
	struct mmaplock_parse *p = parser();
	char line[256];
	unsigned ntid = MMAPLOCK_PARSE_PROBES + 1;

	for (int ev = 0; ev < 2; ev++)
		for (unsigned k = 1; k <= ntid; k++) {
			snprintf(line, sizeof(line),
				 "gen-%u [000] ..... 300.%06u: mmap_lock_%s: mm=00000000e2f099cc memcg_id=1 write=false%s",
				 k * 65536u, 100 * ev + k, ev ? "acquire_returned" : "start_locking",
				 ev ? " success=true" : "");
			feed(p, line);
		}
	CHECK_EQ(p->lines_unparsed, 0);
	CHECK_EQ(p->starts[R], ntid);
	CHECK_EQ(p->acq[R], ntid);
	CHECK_EQ(p->untracked, 2, "the last task's two events");
	check_hist(p, MMAPLOCK_PARSE_READ_WAIT, MMAPLOCK_PARSE_PROBES, MMAPLOCK_PARSE_PROBES * 100000ull, 100000,
		   DEC(0, 0, 0, MMAPLOCK_PARSE_PROBES));
	parser_free(p);
}
