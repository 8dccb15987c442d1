/* fuzz_mmaplock: tracefs lines of the mmap_lock tracepoints as the probe
 * reads them from trace_pipe (mmaplock_parse_text), with measuring on or
 * off (the first byte); the counters must stay consistent. */
#include "tests/fuzz/fuzz.h"
#include "bench/probes/mmaplock_parse.h"

static struct mmaplock_parse fuzz_parse;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	size_t used;

	if (size < 1)
		return 0;
	text = fuzz_string(data + 1, size - 1);
	if (!text)
		return 0;
	FUZZ_CHECK(mmaplock_parse_alloc(&fuzz_parse) == 0);
	mmaplock_parse_reset(&fuzz_parse);
	fuzz_parse.measuring = data[0] & 1;
	used = mmaplock_parse_text(&fuzz_parse, text);
	FUZZ_CHECK(used <= size - 1);
	/* what is left after the last newline: one more (partial) line */
	mmaplock_parse_line(&fuzz_parse, text + used);
	for (int k = 0; k < 2; k++)
		FUZZ_CHECK(fuzz_parse.failed[k] <= fuzz_parse.events && fuzz_parse.acq[k] <= fuzz_parse.events);
	free(text);
	return 0;
}
