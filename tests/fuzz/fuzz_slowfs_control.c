/* fuzz_slowfs_control: writes to fl-slowfs's .control file (control_write,
 * then control_flush as close(2) does).  The input is split at 0xff bytes
 * into separate write(2)s on one open file; the settings in force must
 * always pass service_check. */
#define _GNU_SOURCE
#include "tests/fuzz/fuzz.h"
#include "workloads/slowfs/slowfs.h"

#include <unistd.h>

static struct slowfs fuzz_fs;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_fs.cfg.files = 4;
	fuzz_fs.cfg.size_bytes = 64u << 20;
	fuzz_fs.cfg.set.max_inflight = 64;
	fuzz_fs.page_bytes = 4096;
	fuzz_fs.page_shift = 12;
	if (account_init(&fuzz_fs) < 0 || service_init(&fuzz_fs) < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slowfs_handle h = { 0 };
	struct slowfs_settings now;
	char err[160];
	size_t start = 0;

	for (size_t i = 0; i <= size; i++) {
		if (i < size && data[i] != 0xff)
			continue;
		control_write(&fuzz_fs, &h, (const char *)data + start, i - start);
		start = i + 1;
	}
	control_flush(&fuzz_fs, &h);
	pthread_mutex_lock(&fuzz_fs.lock);
	now = fuzz_fs.set;
	pthread_mutex_unlock(&fuzz_fs.lock);
	FUZZ_CHECK(service_check(&now, err, sizeof(err)) == 0);
	free(control_text(&fuzz_fs));
	return 0;
}
