/* vm: the VM backend.  `faultline vm` boots a kernel image in
 * qemu-system-<arch> with the base initramfs that bench/vm/mkinitramfs.sh
 * built plus a second cpio segment holding this run (scenario, arguments,
 * settings), gives the guest a sparse ext4 disk on virtio-blk for the
 * victim's files, and takes the result and the exit status back over two
 * virtio-serial ports (never from the console).  A watchdog ends a guest that
 * hangs; a guest that panics reboots, which -no-reboot turns into an exit.
 * Either way the run ends with a result whose status says what happened, and
 * no QEMU process is left: QEMU runs in its own process group, is killed by
 * pid, and dies with us (PR_SET_PDEATHSIG).  This file holds the options and
 * the run's steps; vm.h says which file does what.  docs/vm.md has the
 * details. */
#define _GNU_SOURCE
#include "bench/vm/vm.h"
#include "lib/config.h"
#include "lib/metrics.h"
#include "lib/util.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The options table: VM_PASS ones go on to the guest's `faultline run`. */
#define VM_PASS 1
static const struct util_option vm_options[] = {
	{ "kernel", "IMAGE", "kernel image to boot (bzImage, Image, ...); required", 0 },
	{ "initrd", "FILE", "base initramfs from bench/vm/mkinitramfs.sh; required", 0 },
	{ "manifest", "FILE", "the kernel's manifest.json (kernel build or debian-kernel), copied into the result",
	  0 },
	{ "arch", "A", "guest architecture: x86_64 aarch64 riscv64 ppc64le s390x (default: this machine's)", 0 },
	{ "accel", "A", "auto (default: kvm when a short probe boot under KVM works, else tcg), kvm or tcg", 0 },
	{ "accel-probe", "FILE", "only decide the accelerator and write the decision to FILE; no guest boots "
	  "(./run.sh ab: one decision for A and B)", 0 },
	{ "accel-from", "FILE", "use the decision of an --accel-probe (over --accel; no probe, no fallback)", 0 },
	{ "tcg-threads", "T", "single (default) or multi: TCG's vCPU threading (docs/vm.md: multi is faster but "
	  "here raced with x86 kernel text patching)", 0 },
	{ "mem", "SIZE", "guest memory (default 1G)", 0 },
	{ "cpus", "N", "guest CPUs (default 2)", 0 },
	{ "disk-bytes", "SIZE", "size of the guest's sparse ext4 disk for the victim's files (default 4G)", 0 },
	{ "disk-read-bps", "SIZE", "QEMU throttling of the disk: read bytes per second (default none)", 0 },
	{ "disk-read-iops", "N", "QEMU throttling of the disk: read requests per second (default none)", 0 },
	{ "swap-bytes", "SIZE", "zram swap of this size in the guest (default none)", 0 },
	{ "vm-timeout", "S", "watchdog for the whole guest, boot included (default: 240 + the run's own bound)",
	  0 },
	{ "qemu", "PATH", "QEMU binary (default: the arch's qemu-system-*)", 0 },
	{ "append", "ARGS", "more kernel command line for the guest, after the suite's own (e.g. "
	  "\"transparent_hugepage=never\"); recorded in environment.vm.qemu_command", 0 },
	{ "out", "DIR", "directory for the result and the console log (default: results)", 0 },
	{ "quiet", NULL, "no progress line on stderr", 0 },
	{ "help", NULL, "this text", 0 },
	{ "label", "L", "passed to the guest's run (default label: the guest's kernel release)", VM_PASS },
	{ "duration", "S", "passed to the guest's run", VM_PASS },
	{ "warmup", "S", "passed to the guest's run", VM_PASS },
	{ "iterations", "N", "passed to the guest's run", VM_PASS },
	{ "set", "KEY=VALUE", "passed to the guest's run (repeatable)", VM_PASS },
	{ "timeout", "S", "passed to the guest's run (its own watchdog)", VM_PASS },
};

#define VM_BOOT_ALLOWANCE_S 240

static void vm_usage(FILE *out)
{
	fprintf(out, "usage: faultline vm [OPTIONS] SCENARIO.json\n\n"
		     "Boots --kernel in QEMU with the suite's initramfs, runs SCENARIO inside with every cgroup v2\n"
		     "controller, and writes the result (environment.backend \"vm\") to --out.\n\nOptions:\n");
	util_options_help(out, vm_options, FL_ARRAY_SIZE(vm_options), 26);
	fprintf(out, "\nArchitectures (machine, CPU, console, image):\n");
	for (size_t i = 0; i < qemu_arch_count; i++)
		fprintf(out, "  %-8s %-16s %-7s %-9s %-8s%s\n", qemu_arches[i].name, qemu_arches[i].machine,
			qemu_arches[i].cpu, qemu_arches[i].console, qemu_arches[i].image,
			qemu_arches[i].tested ? "" : "  (not yet booted by the suite)");
	fprintf(out, "\nExit status: the guest run's own, 1 when the guest failed or timed out, 2 bad input.\n");
}

static int vm_size_opt(const char *opt, const char *value, uint64_t *out)
{
	if (util_parse_size(value, out) < 0) {
		util_err("--%s: expected a size like 512M or 4G, got '%s'", opt, value);
		return -1;
	}
	return 0;
}

/* The host-side check of what the guest will run: the scenario with the
 * passed options applied, so bad input fails here, before anything boots. */
static int vm_check_scenario(struct vm *v)
{
	char err[2048];

	if (config_load(&v->cfg, v->scenario_path, err, sizeof(err)) < 0) {
		util_err("%s", err);
		return -1;
	}
	for (int i = 0; i + 1 < v->npass; i += 2) {
		static const struct { const char *opt, *key; } alias[] = {
			{ "duration", "duration_s" }, { "warmup", "warmup_s" }, { "iterations", "iterations" },
			{ "label", "label" } };
		char buf[4200];

		if (!strcmp(v->pass[i], "set")) {
			snprintf(buf, sizeof(buf), "%s", v->pass[i + 1]);
		} else if (!strcmp(v->pass[i], "label")) {
			snprintf(buf, sizeof(buf), "label=\"%s\"", v->pass[i + 1]);
		} else {
			buf[0] = 0;
			for (size_t k = 0; k < FL_ARRAY_SIZE(alias); k++)
				if (!strcmp(v->pass[i], alias[k].opt))
					snprintf(buf, sizeof(buf), "%s=%s", alias[k].key, v->pass[i + 1]);
			if (!buf[0])
				continue;
		}
		if (config_set(&v->cfg, buf, err, sizeof(err)) < 0) {
			util_err("%s", err);
			return -1;
		}
	}
	if (config_check(&v->cfg, v->scenario_path, err, sizeof(err)) < 0 ||
	    metrics_check_headline(v->cfg.report.headline, v->scenario_path, err, sizeof(err)) < 0) {
		util_err("%s", err);
		return -1;
	}
	return 0;
}

/* One option of the host's own (not VM_PASS, not help); -1 on bad input. */
static int vm_option(struct vm *v, const char *name, const char *arg)
{
	char *end;

	if (!strcmp(name, "quiet")) {
		v->quiet = true;
	} else if (!strcmp(name, "kernel")) {
		v->kernel = arg;
	} else if (!strcmp(name, "initrd")) {
		v->initrd = arg;
	} else if (!strcmp(name, "manifest")) {
		v->manifest = arg;
	} else if (!strcmp(name, "append")) {
		v->append = arg;
	} else if (!strcmp(name, "qemu")) {
		v->qemu = arg;
	} else if (!strcmp(name, "out")) {
		v->out_dir = arg;
	} else if (!strcmp(name, "accel-probe")) {
		v->accel_probe_out = arg;
	} else if (!strcmp(name, "accel-from")) {
		v->accel_from = arg;
	} else if (!strcmp(name, "accel")) {
		if (strcmp(arg, "auto") && strcmp(arg, "kvm") && strcmp(arg, "tcg")) {
			util_err("--accel: expected auto, kvm or tcg, got '%s'", arg);
			return -1;
		}
		v->accel_opt = arg;
	} else if (!strcmp(name, "tcg-threads")) {
		if (strcmp(arg, "single") && strcmp(arg, "multi")) {
			util_err("--tcg-threads: expected single or multi, got '%s'", arg);
			return -1;
		}
		v->tcg_threads = arg;
	} else if (!strcmp(name, "arch")) {
		if (!(v->arch = qemu_arch_find(arg))) {
			util_err("--arch: unknown architecture '%s' (x86_64 aarch64 riscv64 ppc64le s390x)", arg);
			return -1;
		}
	} else if (!strcmp(name, "mem")) {
		if (vm_size_opt(name, arg, &v->mem_bytes) < 0)
			return -1;
		if (v->mem_bytes < (128ull << 20)) {
			util_err("--mem: %s is too small for the guest (at least 128M)", arg);
			return -1;
		}
	} else if (!strcmp(name, "disk-bytes")) {
		if (vm_size_opt(name, arg, &v->disk_bytes) < 0)
			return -1;
		if (v->disk_bytes < (64ull << 20)) {
			util_err("--disk-bytes: %s is too small for ext4 and the victim's files (at least 64M)", arg);
			return -1;
		}
	} else if (!strcmp(name, "disk-read-bps")) {
		return vm_size_opt(name, arg, &v->read_bps);
	} else if (!strcmp(name, "disk-read-iops")) {
		v->read_iops = strtoull(arg, &end, 10);
		if (*end || !*arg) {
			util_err("--disk-read-iops: expected a number, got '%s'", arg);
			return -1;
		}
	} else if (!strcmp(name, "swap-bytes")) {
		return vm_size_opt(name, arg, &v->swap_bytes);
	} else if (!strcmp(name, "cpus")) {
		long c = strtol(arg, &end, 10);

		if (*end || c < 1 || c > 64) {
			util_err("--cpus: expected 1..64, got '%s'", arg);
			return -1;
		}
		v->cpus = (int)c;
	} else if (!strcmp(name, "vm-timeout")) {
		v->vm_timeout_s = strtod(arg, &end);
		if (*end || !(v->vm_timeout_s > 0)) {
			util_err("--vm-timeout: expected a positive number of seconds, got '%s'", arg);
			return -1;
		}
	}
	return 0;
}

static int vm_parse(struct vm *v, int argc, char **argv)
{
	struct option longopts[FL_ARRAY_SIZE(vm_options) + 1];
	int opt;

	util_options_getopt(vm_options, FL_ARRAY_SIZE(vm_options), longopts);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		const struct util_option *o = opt >= 0 && (size_t)opt < FL_ARRAY_SIZE(vm_options) ? &vm_options[opt] : NULL;

		if (!o) {
			fprintf(stderr, "Try 'faultline vm --help'.\n");
			return -1;
		}
		if (o->flags & VM_PASS) {
			if (v->npass + 2 > VM_MAX_PASS) {
				util_err("vm: too many options for the guest");
				return -1;
			}
			v->pass[v->npass++] = o->name;
			v->pass[v->npass++] = optarg;
			continue;
		}
		if (!strcmp(o->name, "help")) {
			vm_usage(stdout);
			exit(0);
		}
		if (vm_option(v, o->name, optarg) < 0)
			return -1;
	}
	if (optind != argc - 1) {
		vm_usage(stderr);
		return -1;
	}
	v->scenario_path = argv[optind];
	if (!v->kernel || !v->initrd) {
		util_err("vm: --kernel and --initrd are required (./run.sh run SCENARIO --kernel IMAGE builds the "
			 "initramfs)");
		return -1;
	}
	return 0;
}

static int vm_check_inputs(struct vm *v)
{
	const char *files[] = { v->kernel, v->initrd, v->manifest };
	const char *names[] = { "--kernel", "--initrd", "--manifest" };

	for (size_t i = 0; i < FL_ARRAY_SIZE(files); i++) {
		struct stat st;

		if (files[i] && (stat(files[i], &st) < 0 || !S_ISREG(st.st_mode))) {
			util_err("vm: %s %s: %s", names[i], files[i], errno ? strerror(errno) : "not a regular file");
			return -1;
		}
	}
	return 0;
}

/* Everything before anything is made: options, arch, inputs, scenario,
 * the watchdog's bound.  -1 on bad input. */
static int vm_setup(struct vm *v, int argc, char **argv)
{
	if (vm_parse(v, argc, argv) < 0)
		return -1;
	if (!v->arch && !(v->arch = qemu_arch_find(v->host.machine))) {
		util_err("vm: no --arch given and this machine's arch '%s' has no row in the table", v->host.machine);
		return -1;
	}
	if (!v->qemu)
		v->qemu = v->arch->qemu;
	if (vm_check_inputs(v) < 0 || vm_check_scenario(v) < 0)
		return -1;
	if (!v->vm_timeout_s)
		v->vm_timeout_s = VM_BOOT_ALLOWANCE_S +
				  (double)v->cfg.iterations * (v->cfg.warmup_s + v->cfg.duration_s + 60) + 60;
	return 0;
}

/* Boot the guest until it ran on an accelerator that works (one more boot
 * under TCG when KVM fails during the run and --accel auto chose it); the
 * status qemu_wait gave, or NULL when nothing could be started. */
static const char *vm_boot(struct vm *v, const char *initrd)
{
	char disk[300], mkfs_log[300];
	const char *status;
	pid_t pid;

	snprintf(disk, sizeof(disk), "%s/disk.img", v->dir);
	snprintf(mkfs_log, sizeof(mkfs_log), "%s/mkfs.log", v->dir);
	for (;;) {
		if (image_make_disk(v, disk, mkfs_log) < 0 || util_stop_signal)
			return NULL;
		qemu_version(v->qemu, v->qver, sizeof(v->qver));
		if (!v->quiet)
			fprintf(stderr, "faultline vm: booting %s on %s (%s, %s, %d CPUs, %llu MiB), watchdog %.0f s\n",
				v->kernel, v->arch->name, v->acc.accel, v->qver, v->cpus,
				(unsigned long long)(v->mem_bytes >> 20), v->vm_timeout_s);
		if ((pid = qemu_start(v, initrd, disk)) < 0)
			return NULL;
		status = qemu_wait(v, pid);
		if (!accel_fall_back(v, status))
			return status;
		image_reset_boot(v->dir);
	}
}

int vm_main(int argc, char **argv)
{
	struct vm v = { .out_dir = "results", .accel_opt = "auto", .tcg_threads = "single",
			.mem_bytes = 1ull << 30, .disk_bytes = 4ull << 30, .cpus = 2, .guest_exit = -1 };
	char initrd[300], reason[512] = "", name[512];
	json_t *doc = NULL;
	const char *status;
	int ret = FL_EXIT_USAGE;
	time_t now = time(NULL);
	struct tm tm;

	config_defaults(&v.cfg);
	uname(&v.host);
	if (vm_setup(&v, argc, argv) < 0)
		goto out;
	ret = FL_EXIT_FAIL;
	localtime_r(&now, &tm);
	snprintf(v.run_id, sizeof(v.run_id), "%04d%02d%02dT%02d%02d%02d-%d", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)getpid());
	image_reap_stale(); /* work directories of SIGKILLed runs (tests/torture.sh) */
	snprintf(v.dir, sizeof(v.dir), "/var/tmp/faultline-vm-%d-XXXXXX", (int)getpid());
	if (!mkdtemp(v.dir)) {
		util_err("vm: mkdtemp %s: %s", v.dir, strerror(errno));
		v.dir[0] = 0;
		goto out;
	}
	util_catch_stop_signals();
	/* bad input here (an --accel-from that does not fit) still exits 2
	 * before anything is left in --out */
	if (accel_decide(&v) < 0) {
		ret = FL_EXIT_USAGE;
		goto out;
	}
	if (util_stop_signal)
		goto out;
	if (!v.accel_probe_out) {
		/* created 0755 with each component checked, refused when another
		 * user could change it (docs/security.md) */
		char err[1024];
		int out_fd = util_dir_open_safe("vm: --out", v.out_dir, UTIL_DIR_CREATE | UTIL_DIR_STICKY_OK, NULL, 0, err,
						sizeof(err));

		if (out_fd < 0) {
			util_err("%s", err);
			ret = FL_EXIT_USAGE;
			goto out;
		}
		close(out_fd);
	}
	if (v.accel_probe_out) {
		if (accel_write(&v, v.accel_probe_out) == 0) {
			printf("accel: %s (%s)\n", v.acc.accel, v.acc.reason);
			ret = FL_EXIT_OK;
		}
		goto out;
	}
	snprintf(initrd, sizeof(initrd), "%s/initrd", v.dir);
	if (image_make_initrd(&v, initrd) < 0 || !(status = vm_boot(&v, initrd)))
		goto out;
	doc = outcome_collect(&v, status, reason, sizeof(reason));
	outcome_environment(&v, doc);
	if (outcome_write(&v, doc, reason, name, sizeof(name)) < 0)
		goto out;
	status = json_string_value(json_object_get(doc, "status"));
	/* the guest's own exit status when it sent one; 1 when it did not */
	ret = v.guest_exit > 0 ? v.guest_exit : !strcmp(status, "ok") && v.guest_exit == 0 ? 0 : FL_EXIT_FAIL;
out:
	json_decref(doc);
	image_cleanup_dir(v.dir);
	config_free(&v.cfg);
	return ret;
}
