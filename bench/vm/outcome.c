/* outcome: the VM run's result.  The guest's own when it sent one over the
 * faultline.result port and its status over faultline.status (the console
 * is never parsed for data); otherwise a result with status error, timeout
 * or interrupted and the reason (a panic line from the console, QEMU's own
 * message, the watchdog).  Either way the host adds its side: backend "vm"
 * and environment.vm (docs/results.md). */
#define _GNU_SOURCE
#include "bench/vm/vm.h"
#include "lib/results.h"
#include "lib/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* The last line of the console log that says why a guest stopped. */
static void outcome_console_reason(const char *log, char *out, size_t len)
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

/* A result for a guest that gave none: valid under the schema, with
 * status and reason, so a sweep sees the failure in its results. */
static json_t *outcome_failure_result(struct vm *v, const char *status, const char *reason)
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
	json_object_set_new(doc, "run_id", json_string(v->run_id));
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

/* The guest's status port: exit=N and message=...; v->guest_exit stays -1
 * without one. */
static void outcome_guest_status(struct vm *v, char *message, size_t len)
{
	char sp[300], *st, *e, *m;

	v->guest_exit = -1;
	message[0] = 0;
	snprintf(sp, sizeof(sp), "%s/status", v->dir);
	if (!(st = util_read_file(sp, NULL)))
		return;
	e = strstr(st, "exit=");
	m = strstr(st, "message=");
	if (e)
		v->guest_exit = atoi(e + 5);
	if (m) {
		m += 8;
		m[strcspn(m, "\n")] = 0;
		snprintf(message, len, "%s", m);
	}
	free(st);
}

/* Why a guest that sent no status stopped, when the console does not say:
 * QEMU itself may have refused (no binary, an image it cannot load). */
static void outcome_qemu_reason(struct vm *v, char *reason, size_t rlen)
{
	char ql[300], *q;

	snprintf(ql, sizeof(ql), "%s/qemu.log", v->dir);
	q = util_read_file(ql, NULL);
	if (q && *q) {
		q[strcspn(q, "\n")] = 0;
		snprintf(reason, rlen, "QEMU stopped without a guest status: %.400s", q);
	} else {
		snprintf(reason, rlen, "the guest stopped without sending a status");
	}
	free(q);
}

json_t *outcome_collect(struct vm *v, const char *status, char *reason, size_t rlen)
{
	char sp[300], message[300], tmp[600];
	json_t *doc = NULL;

	outcome_guest_status(v, message, sizeof(message));
	snprintf(sp, sizeof(sp), "%s/console.log", v->dir);
	outcome_console_reason(sp, reason, rlen);
	if (!strcmp(status, "ok") && v->guest_exit >= 0) {
		char err[1024];
		json_error_t jerr;

		snprintf(sp, sizeof(sp), "%s/result.json", v->dir);
		doc = json_load_file(sp, 0, &jerr);
		if (doc && results_validate(doc, "guest result", err, sizeof(err)) < 0) {
			snprintf(reason, rlen, "the guest's result is invalid: %s", err);
			json_decref(doc);
			doc = NULL;
		} else if (!doc) {
			snprintf(reason, rlen, "guest exit %d (%s) but no result came back: %s", v->guest_exit, message,
				 jerr.text);
		}
		if (!doc)
			status = "error";
	} else if (!strcmp(status, "ok")) {
		status = "error";
		if (!reason[0])
			outcome_qemu_reason(v, reason, rlen);
	} else if (!strcmp(status, "kvm-error")) {
		char ql[300], msg[400] = "";

		snprintf(ql, sizeof(ql), "%s/qemu.log", v->dir);
		accel_kvm_error(ql, msg, sizeof(msg));
		snprintf(reason, rlen, "KVM stopped the guest: %s", msg);
		status = "error";
	} else if (!strcmp(status, "timeout")) {
		snprintf(tmp, sizeof(tmp), "the guest ran past the watchdog (%.0f s); last console line: %s",
			 v->vm_timeout_s, reason[0] ? reason : "none");
		snprintf(reason, rlen, "%s", tmp);
	} else {
		snprintf(reason, rlen, "interrupted by signal %d", (int)util_stop_signal);
	}
	return doc ? doc : outcome_failure_result(v, status, reason);
}

void outcome_environment(struct vm *v, json_t *doc)
{
	json_t *env = json_object_get(doc, "environment"), *vmj = json_object();
	bool kvm = !strcmp(v->acc.accel, "kvm");
	json_error_t jerr;

	json_object_set_new(env, "backend", json_string("vm"));
	json_object_set_new(env, "qemu_version", json_string(v->qver));
	json_object_set_new(vmj, "arch", json_string(v->arch->name));
	json_object_set_new(vmj, "machine", json_string(v->arch->machine));
	json_object_set_new(vmj, "cpu", json_string(kvm ? "host" : v->arch->cpu));
	accel_to_json(&v->acc, vmj);
	if (!kvm)
		json_object_set_new(vmj, "tcg_threads", json_string(v->tcg_threads));
	json_object_set_new(vmj, "qemu_version", json_string(v->qver));
	json_object_set_new(vmj, "guest_cpus", json_integer(v->cpus));
	json_object_set_new(vmj, "guest_memory_bytes", json_integer((json_int_t)v->mem_bytes));
	json_object_set_new(vmj, "disk", json_pack("{s:s, s:s, s:I, s:I, s:I}", "device", "virtio-blk", "filesystem",
						   "ext4", "size_bytes", (json_int_t)v->disk_bytes,
						   "throttle_read_bytes_per_s", (json_int_t)v->read_bps,
						   "throttle_read_iops", (json_int_t)v->read_iops));
	json_object_set_new(vmj, "swap_bytes", json_integer((json_int_t)v->swap_bytes));
	json_object_set_new(vmj, "kernel_image", json_string(v->kernel));
	json_object_set_new(vmj, "guest_exit_status", json_integer(v->guest_exit));
	json_object_set_new(vmj, "wall_seconds", json_real(v->elapsed_s));
	json_object_set_new(vmj, "watchdog_seconds", json_real(v->vm_timeout_s));
	json_object_set_new(vmj, "host_kernel_release", json_string(v->host.release));
	json_object_set_new(vmj, "host_arch", json_string(v->host.machine));
	json_object_set_new(vmj, "qemu_command", json_string(v->cmdline));
	if (v->manifest) {
		json_t *m = json_load_file(v->manifest, 0, &jerr);

		json_object_set_new(vmj, "kernel_manifest", m ? m : json_null());
		if (!m)
			util_err("vm: --manifest %s: line %d: %s (left out of the result)", v->manifest, jerr.line,
				 jerr.text);
	}
	json_object_set_new(env, "vm", vmj);
}

int outcome_write(struct vm *v, json_t *doc, const char *reason, char *name, size_t len)
{
	const char *scen = json_string_value(json_object_get(doc, "scenario"));
	const char *label = json_string_value(json_object_get(doc, "label"));
	const char *rid = json_string_value(json_object_get(doc, "run_id"));
	const char *status;
	char err[1024], from[400], to[800], tag[64];
	FILE *f;

	snprintf(tag, sizeof(tag), "vm-%s", v->arch->name);
	results_name(name, len, scen, label ? label : "vm", tag, rid ? rid : v->run_id);
	if (results_write(doc, v->out_dir, name, err, sizeof(err)) < 0) {
		util_err("vm: %s", err);
		return -1;
	}
	snprintf(from, sizeof(from), "%s/console.log", v->dir);
	snprintf(to, sizeof(to), "%s/%.*s.console.log", v->out_dir, (int)(strlen(name) - 5), name);
	if ((f = fopen(to, "wx"))) {
		image_copy_file(from, f);
		fclose(f);
	}
	status = json_string_value(json_object_get(doc, "status"));
	fprintf(stderr, "faultline vm: %s after %.0f s%s%s\n", status, v->elapsed_s, reason[0] ? ": " : "",
		!strcmp(status, "ok") ? "" : reason);
	printf("result: %s/%s\nconsole: %s\n", v->out_dir, name, to);
	return 0;
}
