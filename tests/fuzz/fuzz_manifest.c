/* fuzz_manifest: a kernel manifest (build/kernels/NAME/manifest.json, or
 * debian-kernel's) as `faultline vm --manifest` reads it, through the VM
 * backend's public functions only: outcome_environment (copied into the
 * result) and outcome_collect for a guest that gave no result (the label
 * from kernel_release); the result must then validate. */
#define _GNU_SOURCE
#include "tests/fuzz/fuzz.h"
#include "bench/vm/vm.h"
#include "lib/results.h"
#include "lib/util.h"

#include <jansson.h>
#include <unistd.h>

static char fuzz_dir[64], fuzz_manifest_path[128];

/* the work directory goes when the fuzzer exits (after a crash it stays,
 * with the input that caused it) */
static void fuzz_cleanup(void)
{
	unlink(fuzz_manifest_path);
	rmdir(fuzz_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(fuzz_dir, sizeof(fuzz_dir), "/tmp/faultline-fuzz-manifest-XXXXXX");
	if (!mkdtemp(fuzz_dir))
		abort();
	snprintf(fuzz_manifest_path, sizeof(fuzz_manifest_path), "%s/manifest.json", fuzz_dir);
	atexit(fuzz_cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vm v;
	FILE *f = fopen(fuzz_manifest_path, "we");
	char reason[600], err[2048];
	json_t *doc;

	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	memset(&v, 0, sizeof(v));
	config_defaults(&v.cfg);
	v.arch = qemu_arch_find("x86_64");
	v.manifest = fuzz_manifest_path;
	v.kernel = "vmlinuz";
	v.tcg_threads = "single";
	v.guest_exit = -1;
	snprintf(v.dir, sizeof(v.dir), "%s", fuzz_dir);
	snprintf(v.run_id, sizeof(v.run_id), "fuzz");
	snprintf(v.acc.accel, sizeof(v.acc.accel), "tcg");
	reason[0] = '\0';
	doc = outcome_collect(&v, "error", reason, sizeof(reason));
	FUZZ_CHECK(doc != NULL);
	outcome_environment(&v, doc);
	FUZZ_CHECK(results_validate(doc, "fuzz", err, sizeof(err)) == 0);
	json_decref(doc);
	config_free(&v.cfg);
	return 0;
}
