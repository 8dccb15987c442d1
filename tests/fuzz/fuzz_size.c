/* fuzz_size: sizes and durations as the user writes them: util_parse_size
 * ("64M", "1GiB"; victim.files.size_bytes, cgroup limits, io.max rates)
 * checked against an independent reading, and the same text given to a
 * size and a duration option through config_set. */
#include "tests/fuzz/fuzz.h"
#include "lib/config.h"
#include "lib/util.h"

#include <ctype.h>
#include <errno.h>

/* The reference: digits, then nothing or one of KMGTP with "", "B" or "iB". */
static int fuzz_size_ref(const char *s, uint64_t *out)
{
	static const char units[] = "KMGTP";
	uint64_t v = 0;
	unsigned shift = 0;
	const char *p = s, *u;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (*p) {
		u = strchr(units, toupper((unsigned char)*p));
		if (!u)
			return -1;
		shift = 10 * (unsigned)(u - units + 1);
		p++;
		if (*p && strcmp(p, "B") && strcmp(p, "iB"))
			return -1;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -1;
	*out = v << shift;
	return 0;
}

/* one scenario for every input: config_defaults costs more than the rest */
static struct config fuzz_cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	config_defaults(&fuzz_cfg);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), assign[300], err[2048];
	uint64_t a = 0, b = 0;
	int ra, rb;

	if (!s)
		return 0;
	ra = util_parse_size(s, &a);
	rb = fuzz_size_ref(s, &b);
	FUZZ_CHECK(ra == rb);
	FUZZ_CHECK(ra < 0 || a == b);
	if (size < 200) {
		snprintf(assign, sizeof(assign), "victim.files.size_bytes=%s", s);
		if (config_set(&fuzz_cfg, assign, err, sizeof(err)) == 0)
			FUZZ_CHECK(fuzz_cfg.victim.file_size_bytes >= 4096 &&
				   fuzz_cfg.victim.file_size_bytes <= (1ull << 50));
		else
			FUZZ_CHECK(ra < 0 || a < 4096 || a > (1ull << 50) || s[0] == '0');
		snprintf(assign, sizeof(assign), "duration_s=%s", s);
		if (config_set(&fuzz_cfg, assign, err, sizeof(err)) == 0)
			FUZZ_CHECK(fuzz_cfg.duration_s >= 0.1 && fuzz_cfg.duration_s <= 86400);
	}
	free(s);
	return 0;
}
