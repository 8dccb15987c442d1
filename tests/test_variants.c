/* test_variants: the pure logic behind the O_DIRECT gup variant (buffer
 * walk and source offsets, workloads/odirect.h), the swap-in variant
 * (victim.memory anon checks, /proc/meminfo swap parsing) and the
 * probes.mmap_lock switch (bench/probes/mmaplock.c). */
#include "tests/check.h"
#include "lib/config.h"
#include "workloads/odirect.h"
#include "bench/probes/probe.h"
#include "lib/sysinfo.h"

#include <stdbool.h>
#include <string.h>

TEST(odirect_buffer_walk)
{
	const uint64_t size = 64 * 4096;
	uint64_t laps = 0, cursor = 0, seen[64] = { 0 };

	/* 3 pages per read (10000 bytes rounds up to 12288): 21 reads fit in
	 * 64 pages, the 22nd starts lap 1 at 0 */
	for (int i = 0; i < 21; i++) {
		uint64_t at = odirect_next_buffer(&cursor, size, 10000, 4096, &laps);

		CHECK(at % 4096 == 0, "read %d lands at %llu, not page aligned", i, (unsigned long long)at);
		CHECK(at + 10000 <= size, "read %d at %llu runs past %llu", i, (unsigned long long)at,
		      (unsigned long long)size);
		CHECK(laps == 0, "lap counted early at read %d", i);
		for (uint64_t p = at / 4096; p < (at + 10000 + 4095) / 4096; p++) {
			CHECK(!seen[p], "page %llu used twice in one lap (read %d)", (unsigned long long)p, i);
			seen[p] = 1;
		}
	}
	CHECK(odirect_next_buffer(&cursor, size, 10000, 4096, &laps) == 0 && laps == 1, "lap 1 starts at 0 (laps %llu)",
	      (unsigned long long)laps);
	/* a read as large as the mapping: every read is a lap of its own, at 0 */
	cursor = 0;
	laps = 0;
	CHECK(odirect_next_buffer(&cursor, size, size, 4096, &laps) == 0 && laps == 0, "whole-size read 1");
	CHECK(odirect_next_buffer(&cursor, size, size, 4096, &laps) == 0 && laps == 1, "whole-size read 2");
	/* threads start apart, page aligned, inside the mapping */
	CHECK(odirect_first_buffer(0, 4, size, 4096) == 0, "thread 0 starts at 0");
	CHECK(odirect_first_buffer(1, 4, size, 4096) == 16 * 4096, "thread 1 of 4 starts at %llu",
	      (unsigned long long)odirect_first_buffer(1, 4, size, 4096));
	CHECK(odirect_first_buffer(3, 4, 5 * 4096, 4096) == 3 * 4096, "thread 3 of 4 over 5 pages at %llu",
	      (unsigned long long)odirect_first_buffer(3, 4, 5 * 4096, 4096));
}

TEST(odirect_source_offset)
{
	const uint64_t size = 16 * 4096;

	for (uint64_t r = 0; r < 100; r++) {
		uint64_t off = odirect_source_offset(r * 0x9e3779b97f4a7c15ull, size, 8192, 4096);

		CHECK(off % 4096 == 0 && off + 8192 <= size, "offset %llu for a read of 8192 in %llu",
		      (unsigned long long)off, (unsigned long long)size);
	}
	/* 15 slots for two-page reads in 16 pages: 14 is the last, 15 wraps to 0 */
	CHECK(odirect_source_offset(14, size, 8192, 4096) == 14 * 4096, "slot 14");
	CHECK(odirect_source_offset(15, size, 8192, 4096) == 0, "slot 15 wraps");
	CHECK(odirect_source_offset(12345, size, size, 4096) == 0, "a whole-file read starts at 0");
}

TEST(meminfo_swap)
{
	uint64_t t = 1, f = 1;

	CHECK(sysinfo_meminfo_swap("MemTotal: 100 kB\nSwapCached: 0 kB\nSwapTotal:  2097148 kB\n"
				   "SwapFree:    1048576 kB\n", &t, &f) == 0, "parse");
	CHECK(t == 2097148ull * 1024 && f == 1048576ull * 1024, "total %llu free %llu", (unsigned long long)t,
	      (unsigned long long)f);
	CHECK(sysinfo_meminfo_swap("SwapTotal: 0 kB\nSwapFree: 0 kB\n", &t, &f) == 0 && t == 0 && f == 0,
	      "no swap");
	t = f = 7;
	CHECK(sysinfo_meminfo_swap("MemTotal: 100 kB\n", &t, &f) == -1 && t == 0 && f == 0, "missing lines");
	CHECK(sysinfo_meminfo_swap(NULL, &t, &f) == -1, "no text");
}

TEST(mmap_lock_mode)
{
	CHECK(!mmaplock_no_trace(NULL) && !mmaplock_no_trace("") && !mmaplock_no_trace("0"), "unset, empty, 0");
	CHECK(mmaplock_no_trace("1") && mmaplock_no_trace("yes"), "1, yes");
	CHECK(mmaplock_mode_decide(PROBE_AUTO, NULL, true) == PROBE_ON, "auto, usable");
	CHECK(mmaplock_mode_decide(PROBE_AUTO, NULL, false) == PROBE_OFF, "auto, unusable");
	CHECK(mmaplock_mode_decide(PROBE_ON, NULL, true) == PROBE_ON, "on, usable");
	CHECK(mmaplock_mode_decide(PROBE_ON, NULL, false) == -1, "on, unusable: required and missing");
	CHECK(mmaplock_mode_decide(PROBE_OFF, NULL, true) == PROBE_OFF, "off");
	/* the environment overrides the scenario, even "on" */
	CHECK(mmaplock_mode_decide(PROBE_ON, "1", false) == PROBE_OFF, "on + FAULTLINE_NO_TRACE=1");
	CHECK(mmaplock_mode_decide(PROBE_AUTO, "1", true) == PROBE_OFF, "auto + FAULTLINE_NO_TRACE=1");
	CHECK(mmaplock_mode_decide(PROBE_ON, "0", true) == PROBE_ON, "FAULTLINE_NO_TRACE=0 is not set");
}

/* config_check's verdict on c after the assignments; err holds the message */
static int check_with(struct config *c, const char *const *sets, char *err, size_t len)
{
	config_defaults(c);
	for (; *sets; sets++)
		CHECK(config_set(c, *sets, err, len) == 0, "--set %s: %s", *sets, err);
	err[0] = '\0';
	return config_check(c, "t.json", err, len);
}

TEST(variant_checks)
{
	struct config c;
	char err[1024];

	config_defaults(&c);
	CHECK(c.victim.memory == MEMORY_FILE && c.victim.odirect.threads == 0 && c.victim.odirect.bytes == 65536 &&
	      c.victim.odirect.rate_per_s == 100 && c.probes.mmap_lock == PROBE_AUTO, "defaults");
	config_free(&c);
	{
		const char *const s[] = { "victim.memory=anon", NULL };

		CHECK(check_with(&c, s, err, sizeof(err)) == -1 &&
		      strstr(err, "t.json: victim.pass_end: dontneed would discard the anonymous memory"),
		      "anon with pass_end dontneed: '%s'", err);
		config_free(&c);
	}
	{
		const char *const s[] = { "victim.memory=anon", "victim.pass_end=pageout", NULL };

		CHECK(check_with(&c, s, err, sizeof(err)) == 0, "anon with pageout: '%s'", err);
		config_free(&c);
	}
	{
		const char *const s[] = { "victim.memory=anon", "victim.pass_end=none", "observer.gup_threads=1", NULL };

		CHECK(check_with(&c, s, err, sizeof(err)) == -1 && strstr(err, "observer.gup_threads: the gup threads"),
		      "anon with gup threads: '%s'", err);
		config_free(&c);
	}
	{
		const char *const s[] = { "victim.odirect.threads=1", "victim.odirect.bytes=1000", NULL };

		CHECK(check_with(&c, s, err, sizeof(err)) == -1 &&
		      strstr(err, "victim.odirect.bytes: must be a multiple of 512 (O_DIRECT alignment) (value 1000)"),
		      "odirect bytes 1000: '%s'", err);
		config_free(&c);
	}
	{
		const char *const s[] = { "victim.odirect.threads=1", "victim.odirect.bytes=1M",
					  "victim.files.size_bytes=512K", NULL };

		CHECK(check_with(&c, s, err, sizeof(err)) == -1 && strstr(err, "larger than victim.files.size_bytes"),
		      "odirect bytes > file size: '%s'", err);
		config_free(&c);
	}
	{
		/* odirect threads alone are a victim */
		const char *const s[] = { "victim.fault_threads=0", "victim.writer_threads=0",
					  "victim.odirect.threads=2", NULL };

		CHECK(check_with(&c, s, err, sizeof(err)) == 0, "odirect-only victim: '%s'", err);
		config_free(&c);
	}
	config_defaults(&c);
	CHECK(config_set(&c, "probes.mmap_lock=on", err, sizeof(err)) == 0 && c.probes.mmap_lock == PROBE_ON,
	      "probes.mmap_lock=on: %s", err);
	CHECK(config_set(&c, "probes.mmap_lock=sometimes", err, sizeof(err)) == -1 &&
	      strstr(err, "probes.mmap_lock: expected one of auto|on|off"), "bad mode: '%s'", err);
	{
		json_t *j = config_to_json(&c);

		CHECK(strcmp(json_string_value(json_object_get(json_object_get(j, "probes"), "mmap_lock")), "on") == 0,
		      "resolved config has probes.mmap_lock");
		json_decref(j);
	}
	config_free(&c);
}
