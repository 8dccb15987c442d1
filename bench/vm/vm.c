/* vm: the VM backend.  `faultline vm` boots a kernel image in
 * qemu-system-<arch> with the base initramfs that bench/vm/mkinitramfs.sh
 * built plus a second cpio segment holding this run (scenario, arguments,
 * settings), gives the guest a sparse ext4 disk on virtio-blk for the
 * victim's files, and takes the result and the exit status back over two
 * virtio-serial ports (never from the console).  A watchdog ends a guest that
 * hangs; a guest that panics reboots, which -no-reboot turns into an exit.
 * Either way the run ends with a result whose status says what happened, and
 * no QEMU process is left: QEMU runs in its own process group, is killed by
 * pid, and dies with us (PR_SET_PDEATHSIG).  docs/vm.md has the details. */
#define _GNU_SOURCE
#include "lib/config.h"
#include "lib/results.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* One row per architecture the fault path lives in (design.md section 5).
 * `tested` says whether this table row has booted a guest here. */
static const struct vm_arch {
	const char *name, *qemu, *machine, *cpu, *console, *image, *virtio;
	bool tested;
} vm_arches[] = {
	{ "x86_64", "qemu-system-x86_64", "q35", "max", "ttyS0", "bzImage", "pci", true },
	{ "aarch64", "qemu-system-aarch64", "virt", "max", "ttyAMA0", "Image", "pci", true },
	{ "riscv64", "qemu-system-riscv64", "virt", "rv64", "ttyS0", "Image", "pci", false },
	{ "ppc64le", "qemu-system-ppc64", "pseries", "POWER9", "hvc0", "vmlinux", "pci", false },
	{ "s390x", "qemu-system-s390x", "s390-ccw-virtio", "max", "ttysclp0", "bzImage", "ccw", false },
};

/* The options table: VM_PASS ones go on to the guest's `faultline run`. */
#define VM_PASS 1
static const struct util_option vm_options[] = {
	{ "kernel", "IMAGE", "kernel image to boot (bzImage, Image, ...); required", 0 },
	{ "initrd", "FILE", "base initramfs from bench/vm/mkinitramfs.sh; required", 0 },
	{ "manifest", "FILE", "the kernel's manifest.json (kernel build or debian-kernel), copied into the result",
	  0 },
	{ "arch", "A", "guest architecture: x86_64 aarch64 riscv64 ppc64le s390x (default: this machine's)", 0 },
	{ "accel", "A", "auto (kvm when /dev/kvm exists and the arch is native, else tcg), kvm or tcg", 0 },
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

#define VM_MAX_PASS 256
#define VM_BOOT_ALLOWANCE_S 240

struct vm {
	const struct vm_arch *arch;
	const char *kernel, *initrd, *manifest, *qemu, *out_dir, *scenario_path, *accel_opt, *tcg_threads;
	uint64_t mem_bytes, disk_bytes, read_bps, read_iops, swap_bytes;
	int cpus;
	double vm_timeout_s;
	bool quiet;
	const char *pass[VM_MAX_PASS]; /* pairs: option name (no dashes), value */
	int npass;
	char dir[256];
	char accel[8];
	struct config cfg;
};


static void vm_usage(FILE *out)
{
	fprintf(out, "usage: faultline vm [OPTIONS] SCENARIO.json\n\n"
		     "Boots --kernel in QEMU with the suite's initramfs, runs SCENARIO inside with every cgroup v2\n"
		     "controller, and writes the result (environment.backend \"vm\") to --out.\n\nOptions:\n");
	util_options_help(out, vm_options, FL_ARRAY_SIZE(vm_options), 26);
	fprintf(out, "\nArchitectures (machine, CPU, console, image):\n");
	for (size_t i = 0; i < FL_ARRAY_SIZE(vm_arches); i++)
		fprintf(out, "  %-8s %-16s %-7s %-9s %-8s%s\n", vm_arches[i].name, vm_arches[i].machine,
			vm_arches[i].cpu, vm_arches[i].console, vm_arches[i].image,
			vm_arches[i].tested ? "" : "  (not yet booted by the suite)");
	fprintf(out, "\nExit status: the guest run's own, 1 when the guest failed or timed out, 2 bad input.\n");
}

static const struct vm_arch *vm_arch_find(const char *name)
{
	for (size_t i = 0; i < FL_ARRAY_SIZE(vm_arches); i++)
		if (!strcmp(vm_arches[i].name, name))
			return &vm_arches[i];
	return NULL;
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
	if (config_check(&v->cfg, v->scenario_path, err, sizeof(err)) < 0) {
		util_err("%s", err);
		return -1;
	}
	return 0;
}

/* newc cpio: one entry (a file or a directory), then the trailer. */
static int vm_cpio_entry(FILE *f, const char *name, unsigned mode, const void *data, size_t len)
{
	static unsigned ino = 90000;
	size_t namesz = strlen(name) + 1;
	static const char zeros[4];

	if (fprintf(f, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X", ino++, mode, 0u, 0u, 1u,
		    (unsigned)time(NULL), len, 0u, 0u, 0u, 0u, namesz, 0u) < 0 ||
	    fwrite(name, 1, namesz, f) != namesz)
		return -1;
	if (fwrite(zeros, 1, (4 - (110 + namesz) % 4) % 4, f) != (4 - (110 + namesz) % 4) % 4)
		return -1;
	if (len && fwrite(data, 1, len, f) != len)
		return -1;
	if (fwrite(zeros, 1, (4 - len % 4) % 4, f) != (4 - len % 4) % 4)
		return -1;
	return 0;
}

static int vm_copy_file(const char *from, FILE *to)
{
	char buf[65536];
	size_t n;
	FILE *in = fopen(from, "re");

	if (!in)
		return -1;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, to) != n) {
			fclose(in);
			return -1;
		}
	fclose(in);
	return 0;
}

/* The run's initramfs: the base, then a cpio segment with faultline/run/. */
static int vm_make_initrd(struct vm *v, const char *path)
{
	FILE *f = fopen(path, "we");
	size_t slen = 0;
	char *scenario = util_read_file(v->scenario_path, &slen);
	char *args = NULL, env[256];
	size_t alen = 0;
	int ret = -1;

	if (!f || !scenario) {
		util_err("vm: cannot build the initramfs %s from %s: %s", path, v->scenario_path, strerror(errno));
		goto out;
	}
	{
		FILE *m = open_memstream(&args, &alen);

		if (!m)
			goto out;
		/* the victim's files go to the guest's virtio-blk disk; a --set
		 * given by the user comes later and wins */
		fprintf(m, "--set\nstorage.path=\"/data/faultline\"\n");
		for (int i = 0; i + 1 < v->npass; i += 2)
			fprintf(m, "--%s\n%s\n", v->pass[i], v->pass[i + 1]);
		fclose(m);
	}
	/* the guest dumps its tasks' stacks 20 s before the watchdog (from boot,
	 * so a little later than the host's clock: boot takes seconds) */
	snprintf(env, sizeof(env), "FL_SWAP_BYTES=%llu\nFL_DUMP_AFTER_S=%d\n", (unsigned long long)v->swap_bytes,
		 v->vm_timeout_s > 60 ? (int)(v->vm_timeout_s - 20) : 0);
	if (vm_copy_file(v->initrd, f) < 0) {
		util_err("vm: reading the base initramfs %s: %s", v->initrd, strerror(errno));
		goto out;
	}
	/* the kernel takes an uncompressed segment only at a 4-byte aligned
	 * offset, and skips the zeros before it (init/initramfs.c) */
	while (ftell(f) % 4)
		fputc(0, f);
	if (vm_cpio_entry(f, "faultline", 040755, NULL, 0) < 0 || vm_cpio_entry(f, "faultline/run", 040755, NULL, 0) < 0 ||
	    vm_cpio_entry(f, "faultline/run/scenario.json", 0100644, scenario, slen) < 0 ||
	    vm_cpio_entry(f, "faultline/run/args", 0100644, args, alen) < 0 ||
	    vm_cpio_entry(f, "faultline/run/env", 0100644, env, strlen(env)) < 0 ||
	    vm_cpio_entry(f, "TRAILER!!!", 0, NULL, 0) < 0) {
		util_err("vm: writing %s: %s", path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (f && fclose(f) != 0 && ret == 0) {
		util_err("vm: writing %s: %s", path, strerror(errno));
		ret = -1;
	}
	free(scenario);
	free(args);
	return ret;
}

/* Run argv to completion with output to log; 0 when it exits 0. */
static int vm_run_tool(char *const argv[], const char *log)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int vm_make_disk(struct vm *v, const char *path, const char *log)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	char *mkfs[] = { "mkfs.ext4", "-q", "-F", "-L", "faultline", (char *)path, NULL };

	if (fd < 0 || ftruncate(fd, (off_t)v->disk_bytes) < 0) {
		util_err("vm: creating the sparse disk %s (%llu bytes): %s", path, (unsigned long long)v->disk_bytes,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	if (vm_run_tool(mkfs, log) < 0) {
		util_err("vm: mkfs.ext4 %s failed (is e2fsprogs installed? see %s)", path, log);
		return -1;
	}
	return 0;
}

static void vm_qemu_version(const char *qemu, char *out, size_t len)
{
	char cmd[512];
	FILE *p;

	snprintf(out, len, "unknown");
	snprintf(cmd, sizeof(cmd), "'%s' --version 2>/dev/null", qemu);
	if (!(p = popen(cmd, "r")))
		return;
	if (fgets(out, (int)len, p))
		out[strcspn(out, "\n")] = 0;
	pclose(p);
}

/* The last line of the console log that says why a guest stopped. */
static void vm_console_reason(const char *log, char *out, size_t len)
{
	size_t n = 0;
	char *text = util_read_file(log, &n), *p, *last = NULL;

	out[0] = 0;
	if (!text)
		return;
	for (p = text; (p = strstr(p, "Kernel panic")); p++)
		last = p;
	if (!last)
		for (p = text; (p = strstr(p, "faultline-guest: ")); p++)
			last = p;
	if (last) {
		last[strcspn(last, "\r\n")] = 0;
		snprintf(out, len, "%s", last);
	}
	free(text);
}

/* The console's last non-empty line (progress lines end in \r). */
static void vm_console_tail(const char *log, char *out, size_t len)
{
	size_t n = 0;
	char *text = util_read_file(log, &n);

	snprintf(out, len, "(no console output yet)");
	if (!text)
		return;
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
		text[--n] = 0;
	if (n) {
		char *p = text + n;

		while (p > text && p[-1] != '\n' && p[-1] != '\r')
			p--;
		snprintf(out, len, "%s", p);
	}
	free(text);
}

static int vm_add_arg(char **argv, int *n, int max, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int vm_add_arg(char **argv, int *n, int max, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (*n >= max - 1)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s)
		return -1;
	argv[(*n)++] = s;
	argv[*n] = NULL;
	return 0;
}

/* Start QEMU; its pid, or -1. */
static pid_t vm_start_qemu(struct vm *v, const char *initrd, const char *disk, char *cmdline_out, size_t cmdlen)
{
	char *argv[80];
	int n = 0, ok = 0;
	const char *a = v->arch->virtio;
	char throttle[128] = "";
	pid_t pid;

	if (v->read_bps)
		snprintf(throttle + strlen(throttle), sizeof(throttle) - strlen(throttle), ",throttling.bps-read=%llu",
			 (unsigned long long)v->read_bps);
	if (v->read_iops)
		snprintf(throttle + strlen(throttle), sizeof(throttle) - strlen(throttle),
			 ",throttling.iops-read=%llu", (unsigned long long)v->read_iops);
	ok |= vm_add_arg(argv, &n, 80, "%s", v->qemu);
	ok |= vm_add_arg(argv, &n, 80, "-machine");
	ok |= vm_add_arg(argv, &n, 80, "%s", v->arch->machine);
	ok |= vm_add_arg(argv, &n, 80, "-accel");
	if (!strcmp(v->accel, "tcg"))
		ok |= vm_add_arg(argv, &n, 80, "tcg,thread=%s", v->tcg_threads);
	else
		ok |= vm_add_arg(argv, &n, 80, "%s", v->accel);
	ok |= vm_add_arg(argv, &n, 80, "-cpu");
	ok |= vm_add_arg(argv, &n, 80, "%s", !strcmp(v->accel, "kvm") ? "host" : v->arch->cpu);
	ok |= vm_add_arg(argv, &n, 80, "-smp");
	ok |= vm_add_arg(argv, &n, 80, "%d", v->cpus);
	ok |= vm_add_arg(argv, &n, 80, "-m");
	ok |= vm_add_arg(argv, &n, 80, "%lluM", (unsigned long long)(v->mem_bytes >> 20));
	ok |= vm_add_arg(argv, &n, 80, "-nodefaults");
	ok |= vm_add_arg(argv, &n, 80, "-no-reboot");
	ok |= vm_add_arg(argv, &n, 80, "-display");
	ok |= vm_add_arg(argv, &n, 80, "none");
	ok |= vm_add_arg(argv, &n, 80, "-monitor");
	ok |= vm_add_arg(argv, &n, 80, "none");
	ok |= vm_add_arg(argv, &n, 80, "-serial");
	ok |= vm_add_arg(argv, &n, 80, "file:%s/console.log", v->dir);
	ok |= vm_add_arg(argv, &n, 80, "-kernel");
	ok |= vm_add_arg(argv, &n, 80, "%s", v->kernel);
	ok |= vm_add_arg(argv, &n, 80, "-initrd");
	ok |= vm_add_arg(argv, &n, 80, "%s", initrd);
	ok |= vm_add_arg(argv, &n, 80, "-append");
	ok |= vm_add_arg(argv, &n, 80, "console=%s panic=-1 oops=panic quiet rdinit=/init", v->arch->console);
	ok |= vm_add_arg(argv, &n, 80, "-drive");
	ok |= vm_add_arg(argv, &n, 80, "file=%s,format=raw,if=none,id=disk0,cache=none,aio=threads%s", disk,
			 throttle);
	ok |= vm_add_arg(argv, &n, 80, "-device");
	ok |= vm_add_arg(argv, &n, 80, "virtio-blk-%s,drive=disk0", a);
	ok |= vm_add_arg(argv, &n, 80, "-device");
	ok |= vm_add_arg(argv, &n, 80, "virtio-serial-%s", a);
	ok |= vm_add_arg(argv, &n, 80, "-chardev");
	ok |= vm_add_arg(argv, &n, 80, "file,id=status,path=%s/status", v->dir);
	ok |= vm_add_arg(argv, &n, 80, "-device");
	ok |= vm_add_arg(argv, &n, 80, "virtserialport,chardev=status,name=faultline.status");
	ok |= vm_add_arg(argv, &n, 80, "-chardev");
	ok |= vm_add_arg(argv, &n, 80, "file,id=result,path=%s/result.json", v->dir);
	ok |= vm_add_arg(argv, &n, 80, "-device");
	ok |= vm_add_arg(argv, &n, 80, "virtserialport,chardev=result,name=faultline.result");
	if (ok) {
		util_err("vm: building the QEMU command line: out of memory");
		pid = -1;
		goto out;
	}
	cmdline_out[0] = 0;
	for (int i = 0; i < n; i++)
		snprintf(cmdline_out + strlen(cmdline_out), cmdlen - strlen(cmdline_out), "%s%s", i ? " " : "", argv[i]);
	pid = fork();
	if (pid == 0) {
		char log[300];
		int fd;

		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		snprintf(log, sizeof(log), "%s/qemu.log", v->dir);
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (nul >= 0)
			dup2(nul, 0);
		execvp(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (pid < 0)
		util_err("vm: fork for %s: %s", v->qemu, strerror(errno));
out:
	for (int i = 0; i < n; i++)
		free(argv[i]);
	return pid;
}

/* Wait for QEMU, with the watchdog and our signals; returns "ok" (QEMU
 * exited by itself), "timeout" or "interrupted".  QEMU is gone afterwards. */
static const char *vm_wait(struct vm *v, pid_t pid, double *elapsed_s)
{
	uint64_t t0 = util_now_ns(), next_note = t0 + 10000000000ull;
	const char *why = "ok";
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		uint64_t now = util_now_ns();

		if (r == pid)
			break;
		if (util_stop_signal || (double)(now - t0) / 1e9 > v->vm_timeout_s) {
			why = util_stop_signal ? "interrupted" : "timeout";
			kill(-pid, SIGTERM);
			for (int i = 0; i < 30 && waitpid(pid, &st, WNOHANG) == 0; i++)
				usleep(100000);
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
			break;
		}
		if (!v->quiet && now >= next_note) {
			char line[160], log[300];

			snprintf(log, sizeof(log), "%s/console.log", v->dir);
			vm_console_tail(log, line, sizeof(line));
			fprintf(stderr, "faultline vm: %s/%s guest up %.0f s (watchdog %.0f s): %s\n", v->arch->name,
				v->accel, (double)(now - t0) / 1e9, v->vm_timeout_s, line);
			next_note = now + 10000000000ull;
		}
		usleep(100000);
	}
	*elapsed_s = (double)(util_now_ns() - t0) / 1e9;
	return why;
}

/* A result for a guest that gave none: valid under the schema, with
 * status and reason, so a sweep sees the failure in its results. */
static json_t *vm_failure_result(struct vm *v, const char *status, const char *reason, const char *run_id)
{
	json_t *doc = json_object(), *env = json_object(), *man = NULL;
	const char *label = v->cfg.label && *v->cfg.label ? v->cfg.label : NULL, *release = NULL;

	/* without a label the guest's run would have used its kernel release:
	 * take it from the manifest, so a failed run groups with the others */
	if (v->manifest && (man = json_load_file(v->manifest, 0, NULL))) {
		release = json_string_value(json_object_get(man, "kernel_release"));
		if (!release)
			release = json_string_value(json_object_get(man, "kernelrelease"));
	}
	if (!label)
		label = release ? release : "unknown-kernel";

	json_object_set_new(env, "arch", json_string(v->arch->name));
	json_object_set_new(env, "kernel_release", json_string(release ? release : "unknown"));
	json_object_set_new(doc, "schema", json_string(RESULTS_SCHEMA));
	json_object_set_new(doc, "run_id", json_string(run_id));
	json_object_set_new(doc, "scenario", json_string(v->cfg.name ? v->cfg.name : "unknown"));
	json_object_set_new(doc, "label", json_string(label));
	json_object_set_new(doc, "status", json_string(status));
	json_object_set_new(doc, "status_reason", json_string(reason));
	json_object_set_new(doc, "config", config_to_json(&v->cfg));
	json_object_set_new(doc, "environment", env);
	json_object_set_new(doc, "iterations", json_array());
	json_object_set_new(doc, "summary", json_object());
	json_decref(man); /* after its strings were copied into doc */
	return doc;
}

static void vm_cleanup_dir(const char *dir)
{
	static const char *const files[] = { "disk.img", "initrd", "status", "result.json", "console.log", "qemu.log",
					     "mkfs.log" };
	char p[400];

	if (!dir[0])
		return;
	for (size_t i = 0; i < FL_ARRAY_SIZE(files); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
	rmdir(dir);
}

static int vm_parse(struct vm *v, int argc, char **argv)
{
	struct option longopts[FL_ARRAY_SIZE(vm_options) + 1];
	int opt;

	util_options_getopt(vm_options, FL_ARRAY_SIZE(vm_options), longopts);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		const struct util_option *o = opt >= 0 && (size_t)opt < FL_ARRAY_SIZE(vm_options) ? &vm_options[opt] : NULL;
		char *end;

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
		} else if (!strcmp(o->name, "quiet")) {
			v->quiet = true;
		} else if (!strcmp(o->name, "kernel")) {
			v->kernel = optarg;
		} else if (!strcmp(o->name, "initrd")) {
			v->initrd = optarg;
		} else if (!strcmp(o->name, "manifest")) {
			v->manifest = optarg;
		} else if (!strcmp(o->name, "qemu")) {
			v->qemu = optarg;
		} else if (!strcmp(o->name, "out")) {
			v->out_dir = optarg;
		} else if (!strcmp(o->name, "accel")) {
			if (strcmp(optarg, "auto") && strcmp(optarg, "kvm") && strcmp(optarg, "tcg")) {
				util_err("--accel: expected auto, kvm or tcg, got '%s'", optarg);
				return -1;
			}
			v->accel_opt = optarg;
		} else if (!strcmp(o->name, "tcg-threads")) {
			if (strcmp(optarg, "single") && strcmp(optarg, "multi")) {
				util_err("--tcg-threads: expected single or multi, got '%s'", optarg);
				return -1;
			}
			v->tcg_threads = optarg;
		} else if (!strcmp(o->name, "arch")) {
			if (!(v->arch = vm_arch_find(optarg))) {
				util_err("--arch: unknown architecture '%s' (x86_64 aarch64 riscv64 ppc64le s390x)", optarg);
				return -1;
			}
		} else if (!strcmp(o->name, "mem")) {
			if (vm_size_opt(o->name, optarg, &v->mem_bytes) < 0)
				return -1;
			if (v->mem_bytes < (128ull << 20)) {
				util_err("--mem: %s is too small for the guest (at least 128M)", optarg);
				return -1;
			}
		} else if (!strcmp(o->name, "disk-bytes")) {
			if (vm_size_opt(o->name, optarg, &v->disk_bytes) < 0)
				return -1;
			if (v->disk_bytes < (64ull << 20)) {
				util_err("--disk-bytes: %s is too small for ext4 and the victim's files (at least 64M)",
					 optarg);
				return -1;
			}
		} else if (!strcmp(o->name, "disk-read-bps")) {
			if (vm_size_opt(o->name, optarg, &v->read_bps) < 0)
				return -1;
		} else if (!strcmp(o->name, "disk-read-iops")) {
			v->read_iops = strtoull(optarg, &end, 10);
			if (*end || !*optarg) {
				util_err("--disk-read-iops: expected a number, got '%s'", optarg);
				return -1;
			}
		} else if (!strcmp(o->name, "swap-bytes")) {
			if (vm_size_opt(o->name, optarg, &v->swap_bytes) < 0)
				return -1;
		} else if (!strcmp(o->name, "cpus")) {
			long c = strtol(optarg, &end, 10);

			if (*end || c < 1 || c > 64) {
				util_err("--cpus: expected 1..64, got '%s'", optarg);
				return -1;
			}
			v->cpus = (int)c;
		} else if (!strcmp(o->name, "vm-timeout")) {
			v->vm_timeout_s = strtod(optarg, &end);
			if (*end || !(v->vm_timeout_s > 0)) {
				util_err("--vm-timeout: expected a positive number of seconds, got '%s'", optarg);
				return -1;
			}
		}
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

int vm_main(int argc, char **argv)
{
	struct vm v = { .out_dir = "results", .accel_opt = "auto", .tcg_threads = "single",
			.mem_bytes = 1ull << 30, .disk_bytes = 4ull << 30, .cpus = 2 };
	struct utsname u;
	char path[400], initrd[300], disk[300], cmdline[4096], qver[160], reason[512], run_id[64], name[512];
	json_t *doc = NULL, *vmj;
	const char *status;
	double elapsed = 0;
	int ret = FL_EXIT_USAGE, guest_exit = -1;
	pid_t pid;
	time_t now = time(NULL);
	struct tm tm;

	config_defaults(&v.cfg);
	uname(&u);
	if (vm_parse(&v, argc, argv) < 0)
		goto out;
	if (!v.arch && !(v.arch = vm_arch_find(u.machine))) {
		util_err("vm: no --arch given and this machine's arch '%s' has no row in the table", u.machine);
		goto out;
	}
	if (!v.qemu)
		v.qemu = v.arch->qemu;
	if (vm_check_inputs(&v) < 0 || vm_check_scenario(&v) < 0)
		goto out;
	if (!v.vm_timeout_s)
		v.vm_timeout_s = VM_BOOT_ALLOWANCE_S +
				 (double)v.cfg.iterations * (v.cfg.warmup_s + v.cfg.duration_s + 60) + 60;
	if (!strcmp(v.accel_opt, "kvm") || (!strcmp(v.accel_opt, "auto") && !access("/dev/kvm", R_OK | W_OK) &&
					    !strcmp(u.machine, v.arch->name)))
		snprintf(v.accel, sizeof(v.accel), "kvm");
	else
		snprintf(v.accel, sizeof(v.accel), "tcg");
	if (util_mkdir_p(v.out_dir, 0755) < 0) {
		util_err("vm: cannot create --out %s: %s", v.out_dir, strerror(errno));
		goto out;
	}
	ret = FL_EXIT_FAIL;
	localtime_r(&now, &tm);
	snprintf(run_id, sizeof(run_id), "%04d%02d%02dT%02d%02d%02d-%d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)getpid());
	snprintf(v.dir, sizeof(v.dir), "/var/tmp/faultline-vm-%d-XXXXXX", (int)getpid());
	if (!mkdtemp(v.dir)) {
		util_err("vm: mkdtemp %s: %s", v.dir, strerror(errno));
		v.dir[0] = 0;
		goto out;
	}
	util_catch_stop_signals();
	snprintf(initrd, sizeof(initrd), "%s/initrd", v.dir);
	snprintf(disk, sizeof(disk), "%s/disk.img", v.dir);
	snprintf(path, sizeof(path), "%s/mkfs.log", v.dir);
	if (vm_make_initrd(&v, initrd) < 0 || vm_make_disk(&v, disk, path) < 0)
		goto out;
	if (util_stop_signal)
		goto out;
	vm_qemu_version(v.qemu, qver, sizeof(qver));
	if (!v.quiet)
		fprintf(stderr, "faultline vm: booting %s on %s (%s, %s, %d CPUs, %llu MiB), watchdog %.0f s\n", v.kernel,
			v.arch->name, v.accel, qver, v.cpus, (unsigned long long)(v.mem_bytes >> 20), v.vm_timeout_s);
	if ((pid = vm_start_qemu(&v, initrd, disk, cmdline, sizeof(cmdline))) < 0)
		goto out;
	status = vm_wait(&v, pid, &elapsed);

	/* what the guest said */
	{
		char *st;
		size_t n;
		char sp[300], message[300] = "";

		snprintf(sp, sizeof(sp), "%s/status", v.dir);
		if ((st = util_read_file(sp, &n))) {
			char *e = strstr(st, "exit="), *m = strstr(st, "message=");

			if (e)
				guest_exit = atoi(e + 5);
			if (m) {
				m += 8;
				m[strcspn(m, "\n")] = 0;
				snprintf(message, sizeof(message), "%s", m);
			}
			free(st);
		}
		snprintf(sp, sizeof(sp), "%s/console.log", v.dir);
		vm_console_reason(sp, reason, sizeof(reason));
		if (!strcmp(status, "ok") && guest_exit >= 0) {
			char rp[300], err[1024];
			json_error_t jerr;

			snprintf(rp, sizeof(rp), "%s/result.json", v.dir);
			doc = json_load_file(rp, 0, &jerr);
			if (doc && results_validate(doc, "guest result", err, sizeof(err)) < 0) {
				snprintf(reason, sizeof(reason), "the guest's result is invalid: %s", err);
				json_decref(doc);
				doc = NULL;
			} else if (!doc) {
				snprintf(reason, sizeof(reason), "guest exit %d (%s) but no result came back: %s", guest_exit,
					 message, jerr.text);
			}
			if (!doc)
				status = "error";
		} else if (!strcmp(status, "ok")) {
			status = "error";
			if (!reason[0]) {
				/* nothing on the console: QEMU itself may have refused
				 * (no binary, an image it cannot load); say what it said */
				char ql[300], *q;

				snprintf(ql, sizeof(ql), "%s/qemu.log", v.dir);
				q = util_read_file(ql, NULL);
				if (q && *q) {
					q[strcspn(q, "\n")] = 0;
					snprintf(reason, sizeof(reason), "QEMU stopped without a guest status: %.400s", q);
				} else {
					snprintf(reason, sizeof(reason), "the guest stopped without sending a status");
				}
				free(q);
			}
		} else if (!strcmp(status, "timeout")) {
			char r2[600];

			snprintf(r2, sizeof(r2), "the guest ran past the watchdog (%.0f s); last console line: %s",
				 v.vm_timeout_s, reason[0] ? reason : "none");
			snprintf(reason, sizeof(reason), "%s", r2);
		} else {
			snprintf(reason, sizeof(reason), "interrupted by signal %d", (int)util_stop_signal);
		}
	}
	if (!doc)
		doc = vm_failure_result(&v, status, reason, run_id);

	/* the host's side of the environment */
	{
		json_t *env = json_object_get(doc, "environment");
		json_error_t jerr;

		json_object_set_new(env, "backend", json_string("vm"));
		json_object_set_new(env, "qemu_version", json_string(qver));
		vmj = json_object();
		json_object_set_new(vmj, "arch", json_string(v.arch->name));
		json_object_set_new(vmj, "machine", json_string(v.arch->machine));
		json_object_set_new(vmj, "cpu", json_string(!strcmp(v.accel, "kvm") ? "host" : v.arch->cpu));
		json_object_set_new(vmj, "accel", json_string(v.accel));
		if (!strcmp(v.accel, "tcg"))
			json_object_set_new(vmj, "tcg_threads", json_string(v.tcg_threads));
		json_object_set_new(vmj, "qemu_version", json_string(qver));
		json_object_set_new(vmj, "guest_cpus", json_integer(v.cpus));
		json_object_set_new(vmj, "guest_memory_bytes", json_integer((json_int_t)v.mem_bytes));
		json_object_set_new(vmj, "disk", json_pack("{s:s, s:s, s:I, s:I, s:I}", "device", "virtio-blk",
							   "filesystem", "ext4", "size_bytes", (json_int_t)v.disk_bytes,
							   "throttle_read_bytes_per_s", (json_int_t)v.read_bps,
							   "throttle_read_iops", (json_int_t)v.read_iops));
		json_object_set_new(vmj, "swap_bytes", json_integer((json_int_t)v.swap_bytes));
		json_object_set_new(vmj, "kernel_image", json_string(v.kernel));
		json_object_set_new(vmj, "guest_exit_status", json_integer(guest_exit));
		json_object_set_new(vmj, "wall_seconds", json_real(elapsed));
		json_object_set_new(vmj, "watchdog_seconds", json_real(v.vm_timeout_s));
		json_object_set_new(vmj, "host_kernel_release", json_string(u.release));
		json_object_set_new(vmj, "host_arch", json_string(u.machine));
		json_object_set_new(vmj, "qemu_command", json_string(cmdline));
		if (v.manifest) {
			json_t *m = json_load_file(v.manifest, 0, &jerr);

			json_object_set_new(vmj, "kernel_manifest", m ? m : json_null());
			if (!m)
				util_err("vm: --manifest %s: line %d: %s (left out of the result)", v.manifest, jerr.line,
					 jerr.text);
		}
		json_object_set_new(env, "vm", vmj);
	}
	{
		const char *scen = json_string_value(json_object_get(doc, "scenario"));
		const char *label = json_string_value(json_object_get(doc, "label"));
		const char *rid = json_string_value(json_object_get(doc, "run_id"));
		char err[1024], from[400], to[800], tag[64];

		snprintf(tag, sizeof(tag), "vm-%s", v.arch->name);
		results_name(name, sizeof(name), scen, label ? label : "vm", tag, rid ? rid : run_id);
		if (results_write(doc, v.out_dir, name, err, sizeof(err)) < 0) {
			util_err("vm: %s", err);
			goto out;
		}
		snprintf(from, sizeof(from), "%s/console.log", v.dir);
		snprintf(to, sizeof(to), "%s/%.*s.console.log", v.out_dir, (int)(strlen(name) - 5), name);
		{
			FILE *f = fopen(to, "wx");

			if (f) {
				vm_copy_file(from, f);
				fclose(f);
			}
		}
		status = json_string_value(json_object_get(doc, "status"));
		fprintf(stderr, "faultline vm: %s after %.0f s%s%s\n", status, elapsed, reason[0] ? ": " : "",
			!strcmp(status, "ok") ? "" : reason);
		printf("result: %s/%s\nconsole: %s\n", v.out_dir, name, to);
	}
	/* the guest's own exit status when it sent one; 1 when it did not */
	ret = guest_exit > 0 ? guest_exit : !strcmp(status, "ok") && guest_exit == 0 ? 0 : FL_EXIT_FAIL;
out:
	json_decref(doc);
	vm_cleanup_dir(v.dir);
	config_free(&v.cfg);
	return ret;
}
