/* fuzz_mmaplock_raw: the mmap_lock probe's binary path (mmaplock_raw.c).
 * First byte even: the rest is the text of a tracefs format file, given
 * to each of the three format parsers over the recorded formats
 * (tests/data/mmaplock-raw-*.txt, read at start from the working
 * directory, the repository root), then the consistency check.  Odd: the
 * rest is a ring-buffer page (at most the page size) decoded with the
 * recorded formats; every decoded event goes to the pairing. */
#include "tests/fuzz/fuzz.h"
#include "bench/probes/mmaplock_raw.h"
#include "lib/util.h"

static struct mmaplock_raw_format fuzz_fmt;
static struct mmaplock_raw_event *fuzz_ev;
static struct mmaplock_parse fuzz_parse;

static void fuzz_load(const char *name, int (*fn)(struct mmaplock_raw_format *, const char *, char *, size_t))
{
	char path[256], err[256] = "", *text;

	snprintf(path, sizeof(path), "tests/data/mmaplock-raw-%s.txt", name);
	text = util_read_file(path, NULL);
	if (!text || fn(&fuzz_fmt, text, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_mmaplock_raw: %s: %s (run from the repository root)\n", path,
			text ? err : "cannot read");
		abort();
	}
	free(text);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	mmaplock_raw_format_init(&fuzz_fmt);
	fuzz_load("header_page", mmaplock_raw_header_page);
	fuzz_load("header_event", mmaplock_raw_header_event);
	fuzz_load("format-start_locking", mmaplock_raw_event_format);
	fuzz_load("format-acquire_returned", mmaplock_raw_event_format);
	fuzz_load("format-released", mmaplock_raw_event_format);
	if (mmaplock_raw_format_check(&fuzz_fmt, err, sizeof(err)) < 0 || mmaplock_parse_alloc(&fuzz_parse) < 0)
		abort();
	fuzz_ev = calloc(mmaplock_raw_page_max(&fuzz_fmt), sizeof(*fuzz_ev));
	if (!fuzz_ev)
		abort();
	return 0;
}

static void fuzz_format(const uint8_t *data, size_t size)
{
	struct mmaplock_raw_format f = fuzz_fmt;
	char *text = fuzz_string(data, size), err[256];

	if (!text)
		return;
	err[0] = '\0';
	if (mmaplock_raw_header_page(&f, text, err, sizeof(err)) < 0)
		FUZZ_CHECK(err[0]);
	f = fuzz_fmt;
	err[0] = '\0';
	if (mmaplock_raw_header_event(&f, text, err, sizeof(err)) < 0)
		FUZZ_CHECK(err[0]);
	f = fuzz_fmt;
	if (mmaplock_raw_event_format(&f, text, err, sizeof(err)) == 0 &&
	    mmaplock_raw_format_check(&f, err, sizeof(err)) == 0) {
		/* a format that passes the check decodes the recorded page shape */
		FUZZ_CHECK(mmaplock_raw_page_max(&f) > 0);
	}
	free(text);
}

static void fuzz_page(const uint8_t *data, size_t size)
{
	struct mmaplock_raw_stats st = { 0 };
	size_t max = mmaplock_raw_page_max(&fuzz_fmt), n;
	unsigned char *page;

	if (size > fuzz_fmt.page_size)
		size = fuzz_fmt.page_size;
	page = malloc(size ? size : 1); /* exactly size: ASan sees a read past it */
	if (!page)
		return;
	memcpy(page, data, size);
	n = mmaplock_raw_page(&fuzz_fmt, page, size, fuzz_ev, &st);
	FUZZ_CHECK(n <= max);
	mmaplock_parse_reset(&fuzz_parse);
	fuzz_parse.measuring = true;
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(fuzz_ev[i].kind < MMAPLOCK_PARSE_NKIND);
		mmaplock_parse_event(&fuzz_parse, fuzz_ev[i].tid, fuzz_ev[i].kind, fuzz_ev[i].write,
				     fuzz_ev[i].success, fuzz_ev[i].ts_ns);
	}
	free(page);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_page(data + 1, size - 1);
	else
		fuzz_format(data + 1, size - 1);
	return 0;
}
