/* vm: the VM backend, `faultline vm` (docs/vm.md).  What crosses its files:
 *   vm.c       options, the host-side checks, vm_main
 *   qemu.c     the per-arch table; QEMU's command line, start, watchdog
 *              wait and version
 *   accel.c    choosing kvm or tcg: a probe boot for --accel auto, the
 *              fallback to TCG when KVM refuses, one decision for an A/B
 *   image.c    the run's initramfs (base + a cpio segment), the sparse ext4
 *              disk, the work directory
 *   outcome.c  the result: the guest's own, or one for a guest that gave
 *              none, plus the host's environment.vm; written with the
 *              console log */
#ifndef FL_VM_H
#define FL_VM_H

#include "lib/config.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/utsname.h>

/* One row per architecture the fault path lives in (design.md section 5).
 * `tested` says whether this table row has booted a guest here. */
struct qemu_arch {
	const char *name, *qemu, *machine, *cpu, *console, *image, *virtio;
	bool tested;
};
extern const struct qemu_arch qemu_arches[];
extern const size_t qemu_arch_count;

/* What accel.c decided: the accelerator the guest runs on and how it got
 * there (environment.vm.accel*). */
struct accel {
	char accel[8];		/* "kvm" or "tcg": what QEMU is started with */
	char requested[8];	/* --accel: auto, kvm or tcg */
	char tried[2][8];	/* in order; the last is accel */
	int ntried;
	bool pinned;		/* requested, or from --accel-from: no fallback */
	char reason[600];	/* why accel, one line */
	char fallback_reason[512]; /* QEMU's message when KVM was given up, else "" */
};

#define VM_MAX_PASS 256

struct vm {
	const struct qemu_arch *arch;
	const char *kernel, *initrd, *manifest, *qemu, *out_dir, *scenario_path, *accel_opt, *tcg_threads;
	const char *accel_probe_out, *accel_from;
	const char *append;		/* --append: added to the guest kernel's command line */
	uint64_t mem_bytes, disk_bytes, read_bps, read_iops, swap_bytes;
	int cpus;
	double vm_timeout_s;
	bool quiet;
	const char *pass[VM_MAX_PASS]; /* pairs: option name (no dashes), value */
	int npass;
	char dir[256];			/* the work directory, /var/tmp/faultline-vm-PID-* */
	struct accel acc;
	struct config cfg;
	struct utsname host;
	/* one boot */
	char qver[160], cmdline[4096], run_id[64];
	double elapsed_s;
	int guest_exit;			/* from the status port; -1 when none came */
	int qemu_wait_status;		/* waitpid's status for QEMU */
};

/* qemu.c */
const struct qemu_arch *qemu_arch_find(const char *name);
/* Append a formatted argument to argv (NULL-terminated, max entries); -1
 * when full or out of memory. */
int qemu_add_arg(char **argv, int *n, int max, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int qemu_machine_args(const struct vm *v, const char *accel, char **argv, int *n, int max);
/* fork and exec argv in its own process group, dying with us, stdout and
 * stderr to log, stdin /dev/null; the pid, or -1 with the error said. */
pid_t qemu_spawn(char *const argv[], const char *log);
/* Kill QEMU's process group (SIGTERM, up to 3 s, then SIGKILL) and reap it. */
void qemu_stop(pid_t pid, int *wait_status);
/* Start the guest's QEMU (v->cmdline gets the command line); pid or -1. */
pid_t qemu_start(struct vm *v, const char *initrd, const char *disk);
/* Wait for QEMU with the watchdog and our signals: "ok" (QEMU exited by
 * itself), "timeout", "interrupted" or "kvm-error" (KVM stopped the guest;
 * see accel_kvm_error).  QEMU is gone afterwards; sets v->elapsed_s and
 * v->qemu_wait_status. */
const char *qemu_wait(struct vm *v, pid_t pid);
void qemu_version(const char *qemu, char *out, size_t len);

/* accel.c */
/* Settle v->acc from --accel, --accel-from and (auto) a probe boot; needs
 * v->dir.  -1 for bad input (an --accel-from file that does not fit). */
int accel_decide(struct vm *v);
/* --accel-probe: write the decision to path as JSON; 0 or -1 (said). */
int accel_write(const struct vm *v, const char *path);
/* Does this QEMU log say KVM failed?  The message (its first error line)
 * goes to msg. */
bool accel_kvm_error(const char *log, char *msg, size_t len);
/* After a boot: when KVM was chosen by auto, the guest sent no status and
 * QEMU's log says KVM failed, switch to TCG (recording why) and return true:
 * the caller boots again. */
bool accel_fall_back(struct vm *v, const char *status);
/* accel, accel_requested, accel_tried, accel_reason, accel_fallback_reason */
void accel_to_json(const struct accel *a, json_t *vmj);

/* image.c */
int image_make_initrd(struct vm *v, const char *path);
int image_make_disk(struct vm *v, const char *path, const char *log);
int image_copy_file(const char *from, FILE *to);
/* Remove one boot's files (disk, ports, logs) before booting again. */
void image_reset_boot(const char *dir);
void image_cleanup_dir(const char *dir);
/* Remove the work directories /var/tmp/faultline-vm-PID-* of runs that are
 * gone (SIGKILLed: nothing else removes them), each with what is in it. */
void image_reap_stale(void);

/* outcome.c */
/* The run's result from what the guest sent (or a failure result); status
 * is qemu_wait's, reason gets why it failed ("" when it did not). */
json_t *outcome_collect(struct vm *v, const char *status, char *reason, size_t rlen);
/* The host's side: environment.backend, qemu_version, environment.vm. */
void outcome_environment(struct vm *v, json_t *doc);
/* Write the result and the console log to --out and say where; the path of
 * the result goes to name.  0, or -1 (said). */
int outcome_write(struct vm *v, json_t *doc, const char *reason, char *name, size_t len);

#endif
