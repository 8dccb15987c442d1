/* faultline: one binary, several commands (so one static binary per
 * architecture carries everything into a VM's initramfs). */
#define _GNU_SOURCE
#include "lib/results.h"
#include "workloads/role.h"
#include "bench/runner/runner.h"
#include "lib/sysinfo.h"
#include "lib/util.h"
#include "workloads/workload.h"

#include <stdio.h>
#include <string.h>

int bench_main(int argc, char **argv);
int vm_main(int argc, char **argv);
int export_main(int argc, char **argv);

/* faultline validate FILE...: check result documents against the schema. */
static int validate_main(int argc, char **argv)
{
	int bad = 0;

	if (argc < 2 || !strcmp(argv[1], "--help")) {
		printf("usage: faultline validate RESULT.json...\nChecks each result against the schema "
		       "(docs/results.md); exit 2 when any is invalid.\n");
		return argc < 2 ? FL_EXIT_USAGE : 0;
	}
	for (int i = 1; i < argc; i++) {
		char err[1024];
		json_t *doc = results_load(argv[i], err, sizeof(err));

		if (!doc) {
			fprintf(stderr, "faultline validate: %s\n", err);
			bad = 1;
			continue;
		}
		printf("ok %s\n", argv[i]);
		json_decref(doc);
	}
	return bad ? FL_EXIT_USAGE : 0;
}

static const struct command {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "run", runner_main, "run a scenario and write a result (faultline run --help)" },
	{ "bench", bench_main, "measure the suite's own overhead (faultline bench --help)" },
	{ "validate", validate_main, "check result files against the schema" },
	{ "vm", vm_main, "boot a kernel in QEMU and run a scenario inside it (faultline vm --help)" },
	{ "export", export_main, "print results for a lab's test engine: LAVA result lines (faultline export --help)" },
	{ "workload", workload_main, "internal: a workload process started by run" },
};

static void usage(FILE *out)
{
	fprintf(out, "usage: faultline COMMAND [options]\n\nCommands:\n");
	for (size_t i = 0; i < FL_ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(out, "  %-10s %s\n", "version", "print the suite version");
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? FL_EXIT_USAGE : 0;
	}
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("faultline %s\n", FL_VERSION);
		return 0;
	}
	if (role_check() < 0)
		return FL_EXIT_FAIL;
	for (size_t i = 0; i < FL_ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i].name)) {
			util_progname = "faultline";
			return commands[i].main(argc - 1, argv + 1);
		}
	fprintf(stderr, "faultline: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return FL_EXIT_USAGE;
}
