/* accel: which accelerator the guest runs on (docs/vm.md, "Accelerator").
 * --accel kvm or tcg is taken as given.  --accel auto never trusts /dev/kvm
 * by its presence alone: when the device is usable and the guest arch is the
 * host's, a short probe boot (QEMU with -accel kvm -cpu host and no kernel,
 * for ACCEL_PROBE_MS) shows whether KVM can run a guest here.  Under nested
 * virtualization it often cannot: QEMU stops with "failed to set MSR 0x10a
 * to 0x69" and an assertion, refuses kvm at start, or pauses the guest on a
 * "KVM internal error".  Then the guest runs under TCG, and so it does when
 * KVM fails later, during the real boot (the run is booted again).
 * environment.vm records what was tried and QEMU's message.  An A/B decides
 * once (--accel-probe FILE) and pins every run to it (--accel-from FILE), so
 * its two sides never run on different accelerators. */
#define _GNU_SOURCE
#include "bench/vm/vm.h"
#include "lib/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define ACCEL_PROBE_MS 2000
/* x86_64: the probe waits for the firmware's first words on the debug
 * console (SeaBIOS writes to port 0x402), proof that a vCPU ran under KVM,
 * for at most this long; a slow start on a loaded machine is no failure. */
#define ACCEL_PROBE_X86_MAX_MS 15000

static void accel_use(struct accel *a, const char *accel)
{
	snprintf(a->accel, sizeof(a->accel), "%s", accel);
	if (a->ntried < (int)FL_ARRAY_SIZE(a->tried))
		snprintf(a->tried[a->ntried++], sizeof(a->tried[0]), "%s", accel);
}

/* The device auto looks at; FAULTLINE_VM_KVM_DEVICE replaces it (the
 * tests use it to take the KVM path on machines without /dev/kvm). */
static const char *accel_kvm_device(void)
{
	const char *d = getenv("FAULTLINE_VM_KVM_DEVICE");

	return d && *d ? d : "/dev/kvm";
}

static bool accel_kvm_line(const char *line)
{
	return strcasestr(line, "KVM internal error") || strstr(line, "failed to set MSR") ||
	       (strcasestr(line, "kvm") &&
		(strcasestr(line, "error") || strcasestr(line, "fail") || strcasestr(line, "assert")));
}

/* QEMU's message in text: its first line saying "error", else its first
 * non-empty line; false when text has none. */
static bool accel_first_error(char *text, char *msg, size_t len)
{
	char *first = NULL, *save = NULL;

	for (char *line = strtok_r(text, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		if (strcasestr(line, "error")) {
			first = line;
			break;
		}
		if (!first && line[strspn(line, " \t")])
			first = line;
	}
	if (first)
		snprintf(msg, len, "%s", first);
	return first != NULL;
}

bool accel_kvm_error(const char *log, char *msg, size_t len)
{
	char *text = util_read_file(log, NULL), *lines = text ? strdup(text) : NULL, *save = NULL;
	bool found = false;

	if (lines)
		for (char *line = strtok_r(lines, "\r\n", &save); line && !found; line = strtok_r(NULL, "\r\n", &save))
			found = accel_kvm_line(line);
	if (found)
		accel_first_error(text, msg, len);
	free(lines);
	free(text);
	return found;
}

/* Boot QEMU under KVM without a kernel for ACCEL_PROBE_MS: 1 when it kept
 * running without a KVM error, 0 when it did not (QEMU's message in msg),
 * -1 when a stop signal came. */
static int accel_probe(struct vm *v, char *msg, size_t len)
{
	char *argv[40], log[300], bios[300];
	int n = 0, ok = 0, st = 0, ret = 1;
	uint64_t t0 = util_now_ns(), limit_ms = ACCEL_PROBE_MS;
	bool exited = false, x86 = !strcmp(v->arch->name, "x86_64"), ran = false;
	pid_t pid;

	ok |= qemu_machine_args(v, "kvm", argv, &n, 40);
	ok |= qemu_add_arg(argv, &n, 40, "-serial");
	ok |= qemu_add_arg(argv, &n, 40, "none");
	snprintf(log, sizeof(log), "%s/accel-probe.log", v->dir);
	snprintf(bios, sizeof(bios), "%s/accel-probe-firmware.log", v->dir);
	if (x86) {
		ok |= qemu_add_arg(argv, &n, 40, "-chardev");
		ok |= qemu_add_arg(argv, &n, 40, "file,id=fldbg,path=%s", bios);
		ok |= qemu_add_arg(argv, &n, 40, "-device");
		ok |= qemu_add_arg(argv, &n, 40, "isa-debugcon,iobase=0x402,chardev=fldbg");
		limit_ms = ACCEL_PROBE_X86_MAX_MS;
	}
	if (ok) {
		snprintf(msg, len, "building the probe's command line: out of memory");
		ret = 0;
		goto out;
	}
	if ((pid = qemu_spawn(argv, log)) < 0) {
		snprintf(msg, len, "fork for the KVM probe: %s", strerror(errno));
		ret = 0;
		goto out;
	}
	while (util_now_ns() - t0 < limit_ms * 1000000ull) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			exited = true;
			break;
		}
		if (util_stop_signal || accel_kvm_error(log, msg, len))
			break;
		if (x86) {
			char *fw = util_read_file(bios, NULL);

			ran = fw && fw[0];
			free(fw);
			if (ran)
				break;
		}
		usleep(50000);
	}
	if (!exited)
		qemu_stop(pid, &st);
	if (util_stop_signal) {
		ret = -1;
	} else if (accel_kvm_error(log, msg, len)) {
		ret = 0;
	} else if (x86 && !ran && !exited) {
		ret = 0;
		snprintf(msg, len, "no firmware output from a vCPU under KVM within %d ms", ACCEL_PROBE_X86_MAX_MS);
	} else if (exited) {
		char *text = util_read_file(log, NULL);

		ret = 0;
		if (!text || !accel_first_error(text, msg, len))
			snprintf(msg, len, "QEMU ended within the %d ms KVM probe (%s %d) and said nothing", ACCEL_PROBE_MS,
				 WIFSIGNALED(st) ? "signal" : "exit status",
				 WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		free(text);
	}
out:
	for (int i = 0; i < n; i++)
		free(argv[i]);
	return ret;
}

/* --accel-from: the decision an --accel-probe wrote, for this arch. */
static int accel_read(struct vm *v, const char *path)
{
	struct accel *a = &v->acc;
	json_error_t jerr;
	json_t *d = json_load_file(path, 0, &jerr), *tried;
	const char *arch, *accel, *s;
	size_t i;
	json_t *t;
	int ret = -1;

	if (!d) {
		util_err("vm: --accel-from %s: line %d: %s", path, jerr.line, jerr.text);
		goto out;
	}
	arch = json_string_value(json_object_get(d, "arch"));
	accel = json_string_value(json_object_get(d, "accel"));
	if (!arch || strcmp(arch, v->arch->name) || !accel || (strcmp(accel, "kvm") && strcmp(accel, "tcg"))) {
		util_err("vm: --accel-from %s: decided for arch '%s' accel '%s', but this run is %s", path,
			 arch ? arch : "?", accel ? accel : "?", v->arch->name);
		goto out;
	}
	s = json_string_value(json_object_get(d, "accel_requested"));
	snprintf(a->requested, sizeof(a->requested), "%s", s ? s : "auto");
	tried = json_object_get(d, "accel_tried");
	json_array_foreach(tried, i, t)
		if (json_string_value(t) && a->ntried < (int)FL_ARRAY_SIZE(a->tried))
			snprintf(a->tried[a->ntried++], sizeof(a->tried[0]), "%s", json_string_value(t));
	if (!a->ntried || strcmp(a->tried[a->ntried - 1], accel))
		accel_use(a, accel);
	snprintf(a->accel, sizeof(a->accel), "%s", accel);
	s = json_string_value(json_object_get(d, "accel_fallback_reason"));
	snprintf(a->fallback_reason, sizeof(a->fallback_reason), "%s", s ? s : "");
	s = json_string_value(json_object_get(d, "accel_reason"));
	snprintf(a->reason, sizeof(a->reason), "decided once for every run by --accel-probe (%s): %.400s", path,
		 s ? s : "?");
	a->pinned = true;
	ret = 0;
out:
	json_decref(d);
	return ret;
}

int accel_decide(struct vm *v)
{
	struct accel *a = &v->acc;
	const char *dev = accel_kvm_device();
	char msg[400];
	int r;

	memset(a, 0, sizeof(*a));
	if (v->accel_from)
		return accel_read(v, v->accel_from);
	snprintf(a->requested, sizeof(a->requested), "%s", v->accel_opt);
	if (strcmp(v->accel_opt, "auto")) {
		a->pinned = true;
		accel_use(a, v->accel_opt);
		snprintf(a->reason, sizeof(a->reason), "requested with --accel %s", v->accel_opt);
		return 0;
	}
	if (strcmp(v->host.machine, v->arch->name)) {
		accel_use(a, "tcg");
		snprintf(a->reason, sizeof(a->reason), "auto: the guest arch %s is not this machine's %s",
			 v->arch->name, v->host.machine);
		return 0;
	}
	if (access(dev, R_OK | W_OK) < 0) {
		accel_use(a, "tcg");
		snprintf(a->reason, sizeof(a->reason), "auto: no usable %s (%s)", dev, strerror(errno));
		return 0;
	}
	accel_use(a, "kvm");
	if ((r = accel_probe(v, msg, sizeof(msg))) < 0)
		return 0; /* interrupted: the caller stops */
	if (r > 0) {
		snprintf(a->reason, sizeof(a->reason), "auto: %s is usable and a %d ms probe boot under KVM ran", dev,
			 ACCEL_PROBE_MS);
		return 0;
	}
	accel_use(a, "tcg");
	snprintf(a->fallback_reason, sizeof(a->fallback_reason), "%s", msg);
	snprintf(a->reason, sizeof(a->reason), "auto: %s is there but KVM failed the probe boot, so TCG", dev);
	fprintf(stderr, "faultline vm: KVM does not work here (%s); using TCG\n", msg);
	return 0;
}

bool accel_fall_back(struct vm *v, const char *status)
{
	struct accel *a = &v->acc;
	char path[300], msg[400], *st;
	bool guest_spoke;

	if (strcmp(a->accel, "kvm") || a->pinned || (strcmp(status, "ok") && strcmp(status, "kvm-error")))
		return false;
	snprintf(path, sizeof(path), "%s/status", v->dir);
	st = util_read_file(path, NULL);
	guest_spoke = st && strstr(st, "exit=");
	free(st);
	snprintf(path, sizeof(path), "%s/qemu.log", v->dir);
	if (guest_spoke || !accel_kvm_error(path, msg, sizeof(msg)))
		return false;
	accel_use(a, "tcg");
	snprintf(a->fallback_reason, sizeof(a->fallback_reason), "%s", msg);
	snprintf(a->reason, sizeof(a->reason),
		 "auto: the probe boot under KVM ran, but KVM failed during the run, so it was booted again under TCG");
	fprintf(stderr, "faultline vm: KVM failed during the run (%s); booting again under TCG\n", msg);
	return true;
}

static json_t *accel_json(const struct accel *a)
{
	json_t *o = json_object(), *tried = json_array();

	for (int i = 0; i < a->ntried; i++)
		json_array_append_new(tried, json_string(a->tried[i]));
	json_object_set_new(o, "accel", json_string(a->accel));
	json_object_set_new(o, "accel_requested", json_string(a->requested));
	json_object_set_new(o, "accel_tried", tried);
	json_object_set_new(o, "accel_reason", json_string(a->reason));
	json_object_set_new(o, "accel_fallback_reason", a->fallback_reason[0] ? json_string(a->fallback_reason)
									       : json_null());
	return o;
}

void accel_to_json(const struct accel *a, json_t *vmj)
{
	json_t *o = accel_json(a);

	json_object_update(vmj, o);
	json_decref(o);
}

int accel_write(const struct vm *v, const char *path)
{
	json_t *o = accel_json(&v->acc);
	FILE *f = NULL;
	int ret = 0;

	json_object_set_new(o, "arch", json_string(v->arch->name));
	json_object_set_new(o, "qemu", json_string(v->qemu));
	if (!(f = fopen(path, "we")) || json_dumpf(o, f, JSON_INDENT(2)) < 0 || fputc('\n', f) == EOF) {
		util_err("vm: --accel-probe: writing %s: %s", path, strerror(errno));
		ret = -1;
	}
	if (f && fclose(f) != 0 && ret == 0) {
		util_err("vm: --accel-probe: writing %s: %s", path, strerror(errno));
		ret = -1;
	}
	json_decref(o);
	return ret;
}
