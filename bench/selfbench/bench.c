/* bench: `faultline bench`: the suite's own costs, measured.
 *  1. recording one latency sample (two clock reads + hist_record) against a
 *     bare pair of clock_gettime calls;
 *  2. the mmap_lock probe's parse cost per event on the recorded events of
 *     tests/data/mmaplock-raw-* (the same events as text lines and as
 *     ring-buffer pages): the text path against the binary one, user space
 *     only (the live figures, with the kernel's side, are tests/bench.sh's).
 * tests/bench.sh adds the runs: the harness's CPU share with 10,000 fault
 * threads, the probe's live parse cost and its overhead on fault throughput. */
#define _GNU_SOURCE
#include "bench/probes/mmaplock_raw.h"
#include "lib/hist.h"
#include "lib/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile uint64_t bench_sink;

static double bench_ns_per(uint64_t start, uint64_t end, uint64_t n)
{
	return (double)(end - start) / (double)n;
}

/* The recorded pages, replayed: a read returns the next page of the CPU
 * (copied, as read(2) copies it), then EAGAIN. */
struct bench_pages {
	char *buf[2];
	size_t len[2], off[2], page;
};

static ssize_t bench_pages_read(void *ctx, int cpu, void *buf, size_t len)
{
	struct bench_pages *pg = ctx;

	if (pg->off[cpu] + pg->page > pg->len[cpu] || len < pg->page) {
		errno = EAGAIN;
		return -1;
	}
	memcpy(buf, pg->buf[cpu] + pg->off[cpu], pg->page);
	pg->off[cpu] += pg->page;
	return (ssize_t)pg->page;
}

static char *bench_file(const char *dir, const char *name, size_t *len)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/mmaplock-raw-%s", dir, name);
	return util_read_file(path, len);
}

/* Parse cost per event of both paths on the recording in dir (best of 5
 * rounds of `passes` passes; the pairing state is reset between passes,
 * untimed); -1 with a message when the recording cannot be read. */
static int bench_mmaplock(const char *dir, int passes, double *text_ns, double *raw_ns, uint64_t *events)
{
	static const char *const ev[] = { "format-start_locking.txt", "format-acquire_returned.txt",
					  "format-released.txt" };
	struct mmaplock_raw_format f;
	struct mmaplock_parse *p = calloc(1, sizeof(*p));
	struct bench_pages pg = { 0 };
	char err[256] = "", *text = NULL, *copy = NULL, *t;
	size_t tlen = 0;
	int rc = -1;

	*text_ns = *raw_ns = 1e30;
	mmaplock_raw_format_init(&f);
	if (!p || mmaplock_parse_alloc(p) < 0)
		goto exit;
	if (!(t = bench_file(dir, "header_page.txt", NULL)) || mmaplock_raw_header_page(&f, t, err, sizeof(err)) < 0)
		goto bad;
	free(t);
	if (!(t = bench_file(dir, "header_event.txt", NULL)) || mmaplock_raw_header_event(&f, t, err, sizeof(err)) < 0)
		goto bad;
	free(t);
	for (int k = 0; k < 3; k++) {
		if (!(t = bench_file(dir, ev[k], NULL)) || mmaplock_raw_event_format(&f, t, err, sizeof(err)) < 0)
			goto bad;
		free(t);
	}
	t = NULL;
	text = bench_file(dir, "trace.txt", &tlen);
	pg.buf[0] = bench_file(dir, "cpu0.bin", &pg.len[0]);
	pg.buf[1] = bench_file(dir, "cpu1.bin", &pg.len[1]);
	copy = malloc(tlen + 1);
	if (!text || !pg.buf[0] || !pg.buf[1] || !copy)
		goto bad;
	pg.page = f.page_size;
	for (int round = 0; round < 5; round++) {
		uint64_t tn = 0, rn = 0, n = 0;

		for (int pass = 0; pass < passes; pass++) {
			struct mmaplock_raw_reader r;
			uint64_t t0;

			mmaplock_parse_reset(p);
			memcpy(copy, text, tlen + 1); /* what a read(2) of trace_pipe copies */
			t0 = util_now_ns();
			mmaplock_parse_text(p, copy); /* '#' lines are counted unparsed, a few per pass */
			tn += util_now_ns() - t0;
			n = p->events;
			mmaplock_parse_reset(p);
			if (mmaplock_raw_reader_alloc(&r, &f, 2, bench_pages_read, NULL, &pg) < 0) {
				snprintf(err, sizeof(err), "mmaplock_raw_reader_alloc: %s", strerror(errno));
				goto bad;
			}
			pg.off[0] = pg.off[1] = 0;
			t0 = util_now_ns();
			mmaplock_raw_drain(&r, p, UINT64_MAX);
			rn += util_now_ns() - t0;
			mmaplock_raw_reader_free(&r);
			if (p->events != n) {
				snprintf(err, sizeof(err), "%llu events as text, %llu as pages", (unsigned long long)n,
					 (unsigned long long)p->events);
				goto bad;
			}
		}
		*events = n;
		if ((double)tn / (double)(n * (uint64_t)passes) < *text_ns)
			*text_ns = (double)tn / (double)(n * (uint64_t)passes);
		if ((double)rn / (double)(n * (uint64_t)passes) < *raw_ns)
			*raw_ns = (double)rn / (double)(n * (uint64_t)passes);
	}
	rc = 0;
	goto exit;
bad:
	free(t);
	fprintf(stderr, "faultline bench: the mmap_lock recording in %s: %s\n", dir,
		err[0] ? err : strerror(errno));
exit:
	free(text);
	free(copy);
	free(pg.buf[0]);
	free(pg.buf[1]);
	if (p)
		mmaplock_parse_free(p);
	free(p);
	return rc;
}

int bench_main(int argc, char **argv)
{
	uint64_t n = 20000000, events = 0;
	struct hist *h;
	double bare = 1e30, rec = 1e30, text_ns, raw_ns;
	const char *data = "tests/data";

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help")) {
			printf("usage: faultline bench [--samples N] [--mmaplock-data DIR]\n"
			       "Prints the cost of recording one latency sample as a ratio to a bare pair of\n"
			       "clock_gettime(CLOCK_MONOTONIC) calls (best of 5 rounds of N samples), and the\n"
			       "mmap_lock probe's parse cost per event, text lines against ring-buffer pages, on\n"
			       "the recording DIR/mmaplock-raw-* (default tests/data; best of 5 rounds).\n");
			return 0;
		}
		if (!strcmp(argv[i], "--mmaplock-data") && i + 1 < argc) {
			data = argv[++i];
			continue;
		}
		if (!strcmp(argv[i], "--samples") && i + 1 < argc) {
			n = strtoull(argv[++i], NULL, 10);
			if (n == 0) {
				fprintf(stderr, "faultline bench: --samples: expected a positive integer, got '%s'\n", argv[i]);
				return FL_EXIT_USAGE;
			}
		} else {
			fprintf(stderr, "faultline bench: unknown option '%s'\n", argv[i]);
			return FL_EXIT_USAGE;
		}
	}
	h = malloc(sizeof(*h));
	if (!h)
		return FL_EXIT_FAIL;
	hist_init(h);
	for (int round = 0; round < 5; round++) {
		uint64_t s = util_now_ns(), acc = 0;

		for (uint64_t i = 0; i < n; i++) {
			uint64_t t0 = util_now_ns(), t1 = util_now_ns();

			acc += t1 - t0;
		}
		bench_sink = acc;
		bare = bench_ns_per(s, util_now_ns(), n) < bare ? bench_ns_per(s, util_now_ns(), n) : bare;
		s = util_now_ns();
		for (uint64_t i = 0; i < n; i++) {
			uint64_t t0 = util_now_ns(), t1 = util_now_ns();

			hist_record(h, t1 - t0);
		}
		rec = bench_ns_per(s, util_now_ns(), n) < rec ? bench_ns_per(s, util_now_ns(), n) : rec;
	}
	printf("bench: bare clock_gettime pair: %.2f ns\n", bare);
	printf("bench: clock_gettime pair + hist_record: %.2f ns\n", rec);
	printf("bench: recording cost ratio: %.3f (target <= 1.5)\n", rec / bare);
	printf("bench: histogram memory per thread: %zu bytes\n", sizeof(struct hist));
	free(h);
	if (bench_mmaplock(data, 200, &text_ns, &raw_ns, &events) < 0) {
		printf("bench: mmap_lock probe parse cost: not measured (no recording in %s)\n", data);
		return 0;
	}
	printf("bench: mmap_lock probe parse cost per event, recorded (%llu events, user space): text %.1f ns, "
	       "raw %.1f ns (%.1fx less)\n", (unsigned long long)events, text_ns, raw_ns, text_ns / raw_ns);
	return 0;
}
