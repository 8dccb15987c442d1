/* qemu: the per-arch table, and QEMU itself for the VM backend: the command
 * line, the start (its own process group, dying with us), the wait with the
 * watchdog and our stop signals, and its version.  QEMU is always ended by
 * pid, never by name. */
#define _GNU_SOURCE
#include "bench/vm/vm.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

const struct qemu_arch qemu_arches[] = {
	{ "x86_64", "qemu-system-x86_64", "q35", "max", "ttyS0", "bzImage", "pci", true },
	{ "aarch64", "qemu-system-aarch64", "virt", "max", "ttyAMA0", "Image", "pci", true },
	{ "riscv64", "qemu-system-riscv64", "virt", "rv64", "ttyS0", "Image", "pci", true },
	{ "ppc64le", "qemu-system-ppc64", "pseries", "POWER9", "hvc0", "vmlinux", "pci", true },
	{ "s390x", "qemu-system-s390x", "s390-ccw-virtio", "max", "ttysclp0", "bzImage", "ccw", true },
};
const size_t qemu_arch_count = FL_ARRAY_SIZE(qemu_arches);

/* Firmware an arch's machine needs before -kernel (QEMU's -bios).  riscv64:
 * OpenSBI from Debian's opensbi package (the fw_dynamic build, which passes
 * the device tree on to the kernel).  The others need none: x86_64's SeaBIOS,
 * ppc64le's SLOF and s390x's s390-ccw.img are QEMU's own defaults. */
static const char *qemu_bios(const char *arch)
{
	if (!strcmp(arch, "riscv64"))
		return "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin";
	return NULL;
}

const struct qemu_arch *qemu_arch_find(const char *name)
{
	for (size_t i = 0; i < qemu_arch_count; i++)
		if (!strcmp(qemu_arches[i].name, name))
			return &qemu_arches[i];
	return NULL;
}

int qemu_add_arg(char **argv, int *n, int max, const char *fmt, ...)
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

pid_t qemu_spawn(char *const argv[], const char *log)
{
	pid_t parent = getpid(), pid = fork();

	if (pid == 0) {
		int fd, nul;

		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127); /* we died before the prctl: no QEMU without us */
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (nul >= 0)
			dup2(nul, 0);
		execvp(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (pid < 0)
		util_err("vm: fork for %s: %s", argv[0], strerror(errno));
	return pid;
}

void qemu_stop(pid_t pid, int *wait_status)
{
	kill(-pid, SIGTERM);
	for (int i = 0; i < 30 && waitpid(pid, wait_status, WNOHANG) == 0; i++)
		usleep(100000);
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, wait_status, 0) < 0 && errno == EINTR)
		;
}

/* The part of a QEMU command line every boot shares: the program, machine,
 * accelerator (TCG with the chosen threading), CPU model (host under KVM),
 * vCPUs, memory, no default devices, display or monitor.  0, or -1 when
 * out of room or memory (as qemu_add_arg). */
int qemu_machine_args(const struct vm *v, const char *accel, char **argv, int *n, int max)
{
	int ok = 0;

	ok |= qemu_add_arg(argv, n, max, "%s", v->qemu);
	ok |= qemu_add_arg(argv, n, max, "-machine");
	ok |= qemu_add_arg(argv, n, max, "%s", v->arch->machine);
	ok |= qemu_add_arg(argv, n, max, "-accel");
	if (!strcmp(accel, "tcg"))
		ok |= qemu_add_arg(argv, n, max, "tcg,thread=%s", v->tcg_threads);
	else
		ok |= qemu_add_arg(argv, n, max, "%s", accel);
	ok |= qemu_add_arg(argv, n, max, "-cpu");
	ok |= qemu_add_arg(argv, n, max, "%s", !strcmp(accel, "kvm") ? "host" : v->arch->cpu);
	ok |= qemu_add_arg(argv, n, max, "-smp");
	ok |= qemu_add_arg(argv, n, max, "%d", v->cpus);
	ok |= qemu_add_arg(argv, n, max, "-m");
	ok |= qemu_add_arg(argv, n, max, "%lluM", (unsigned long long)(v->mem_bytes >> 20));
	ok |= qemu_add_arg(argv, n, max, "-nodefaults");
	ok |= qemu_add_arg(argv, n, max, "-no-reboot");
	ok |= qemu_add_arg(argv, n, max, "-display");
	ok |= qemu_add_arg(argv, n, max, "none");
	ok |= qemu_add_arg(argv, n, max, "-monitor");
	ok |= qemu_add_arg(argv, n, max, "none");
	return ok;
}

pid_t qemu_start(struct vm *v, const char *initrd, const char *disk)
{
	char *argv[80], log[300];
	int n = 0, ok = 0;
	const char *a = v->arch->virtio;
	char throttle[128] = "";
	pid_t pid = -1;

	if (v->read_bps)
		snprintf(throttle + strlen(throttle), sizeof(throttle) - strlen(throttle), ",throttling.bps-read=%llu",
			 (unsigned long long)v->read_bps);
	if (v->read_iops)
		snprintf(throttle + strlen(throttle), sizeof(throttle) - strlen(throttle),
			 ",throttling.iops-read=%llu", (unsigned long long)v->read_iops);
	ok |= qemu_machine_args(v, v->acc.accel, argv, &n, 80);
	ok |= qemu_add_arg(argv, &n, 80, "-serial");
	ok |= qemu_add_arg(argv, &n, 80, "file:%s/console.log", v->dir);
	if (qemu_bios(v->arch->name)) {
		ok |= qemu_add_arg(argv, &n, 80, "-bios");
		ok |= qemu_add_arg(argv, &n, 80, "%s", qemu_bios(v->arch->name));
	}
	ok |= qemu_add_arg(argv, &n, 80, "-kernel");
	ok |= qemu_add_arg(argv, &n, 80, "%s", v->kernel);
	ok |= qemu_add_arg(argv, &n, 80, "-initrd");
	ok |= qemu_add_arg(argv, &n, 80, "%s", initrd);
	ok |= qemu_add_arg(argv, &n, 80, "-append");
	/* x86_64: no_timer_check, because under TCG on a loaded host the boot's
	 * IO-APIC timer check can miss its ticks and panic ("IO-APIC + timer
	 * doesn't work!": 2 boots here at load averages of 25 to 200) */
	ok |= qemu_add_arg(argv, &n, 80, "console=%s panic=-1 oops=panic quiet rdinit=/init%s%s%s", v->arch->console,
			   strcmp(v->arch->name, "x86_64") ? "" : " no_timer_check", v->append ? " " : "",
			   v->append ? v->append : "");
	ok |= qemu_add_arg(argv, &n, 80, "-drive");
	ok |= qemu_add_arg(argv, &n, 80, "file=%s,format=raw,if=none,id=disk0,cache=none,aio=threads%s", disk,
			   throttle);
	ok |= qemu_add_arg(argv, &n, 80, "-device");
	ok |= qemu_add_arg(argv, &n, 80, "virtio-blk-%s,drive=disk0", a);
	ok |= qemu_add_arg(argv, &n, 80, "-device");
	ok |= qemu_add_arg(argv, &n, 80, "virtio-serial-%s", a);
	ok |= qemu_add_arg(argv, &n, 80, "-chardev");
	ok |= qemu_add_arg(argv, &n, 80, "file,id=status,path=%s/status", v->dir);
	ok |= qemu_add_arg(argv, &n, 80, "-device");
	ok |= qemu_add_arg(argv, &n, 80, "virtserialport,chardev=status,name=faultline.status");
	ok |= qemu_add_arg(argv, &n, 80, "-chardev");
	ok |= qemu_add_arg(argv, &n, 80, "file,id=result,path=%s/result.json", v->dir);
	ok |= qemu_add_arg(argv, &n, 80, "-device");
	ok |= qemu_add_arg(argv, &n, 80, "virtserialport,chardev=result,name=faultline.result");
	if (ok) {
		util_err("vm: building the QEMU command line: out of memory");
		goto out;
	}
	v->cmdline[0] = 0;
	for (int i = 0; i < n; i++)
		snprintf(v->cmdline + strlen(v->cmdline), sizeof(v->cmdline) - strlen(v->cmdline), "%s%s", i ? " " : "",
			 argv[i]);
	snprintf(log, sizeof(log), "%s/qemu.log", v->dir);
	pid = qemu_spawn(argv, log);
out:
	for (int i = 0; i < n; i++)
		free(argv[i]);
	return pid;
}

/* The console's last non-empty line (progress lines end in \r). */
static void qemu_console_tail(const char *log, char *out, size_t len)
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

const char *qemu_wait(struct vm *v, pid_t pid)
{
	uint64_t t0 = util_now_ns(), next_note = t0 + 10000000000ull, next_kvm_check = t0;
	const char *why = "ok";
	char qlog[300], msg[200];
	bool kvm = !strcmp(v->acc.accel, "kvm");

	snprintf(qlog, sizeof(qlog), "%s/qemu.log", v->dir);
	v->qemu_wait_status = 0;
	for (;;) {
		pid_t r = waitpid(pid, &v->qemu_wait_status, WNOHANG);
		uint64_t now = util_now_ns();

		if (r == pid)
			break;
		if (util_stop_signal || (double)(now - t0) / 1e9 > v->vm_timeout_s) {
			why = util_stop_signal ? "interrupted" : "timeout";
			qemu_stop(pid, &v->qemu_wait_status);
			break;
		}
		/* a KVM internal error pauses the guest instead of ending QEMU:
		 * end it now rather than at the watchdog */
		if (kvm && now >= next_kvm_check) {
			if (accel_kvm_error(qlog, msg, sizeof(msg))) {
				why = "kvm-error";
				qemu_stop(pid, &v->qemu_wait_status);
				break;
			}
			next_kvm_check = now + 1000000000ull;
		}
		if (!v->quiet && now >= next_note) {
			char line[160], log[300];

			snprintf(log, sizeof(log), "%s/console.log", v->dir);
			qemu_console_tail(log, line, sizeof(line));
			fprintf(stderr, "faultline vm: %s/%s guest up %.0f s (watchdog %.0f s): %s\n", v->arch->name,
				v->acc.accel, (double)(now - t0) / 1e9, v->vm_timeout_s, line);
			next_note = now + 10000000000ull;
		}
		usleep(100000);
	}
	v->elapsed_s = (double)(util_now_ns() - t0) / 1e9;
	return why;
}

void qemu_version(const char *qemu, char *out, size_t len)
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
