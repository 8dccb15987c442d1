/* child: the runner's workload processes (child.h). */
#define _GNU_SOURCE
#include "bench/runner/child.h"
#include "bench/runner/run.h"
#include "bench/runner/noise.h"
#include "lib/arena.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* How long a workload process may take to set up before the runner gives up. */
#define CHILD_SETUP_LIMIT_NS (120ull * 1000000000ull)

/* The forked child: wait at the gate, then exec the workload. */
static void __attribute__((noreturn)) child_exec(struct run *r, const char *process, int gate_rd, pid_t parent,
						 const char *self, char *cfd, char *afd, char *vpid, char *ifd)
{
	char c;
	char *args[] = { "faultline", "workload", "--process", (char *)process, "--config-fd", cfd,
			 "--arena-fd", afd, "--files-dir", r->st.files_dir, "--victim-pid", vpid,
			 "--verified-fd", ifd, NULL };

	setpgid(0, 0); /* Ctrl-C reaches the runner only; it stops the run in order */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(FL_EXIT_FAIL);
	if (noise_place_child(&r->cfg, process) < 0) /* cpus.victim / cpus.observer, else every CPU */
		fprintf(stderr, "faultline: placing the %s (cpus.%s): %s\n", process, process, strerror(errno));
	if (read(gate_rd, &c, 1) != 1)
		_exit(FL_EXIT_FAIL); /* the runner gave up on us */
	/* natively /proc/self/exe (the very binary, even if rebuilt since);
	 * under an emulator its resolved path */
	util_execv(getenv("FAULTLINE_EMULATOR") ? self : "/proc/self/exe", args);
	fprintf(stderr, "faultline: exec %s for the %s: %s\n", self, process, strerror(errno));
	_exit(127);
}

static void child_kill(struct child *c)
{
	if (c->gate >= 0)
		close(c->gate);
	c->gate = -1;
	kill(c->pid, SIGKILL); /* our own child, by pid */
	waitpid(c->pid, NULL, 0);
	c->pid = -1;
}

int child_spawn(struct run *r, struct child *c, int group, int config_fd, int arena_fd, pid_t victim_pid,
		char *err, size_t errlen)
{
	int gate[2];
	pid_t parent = getpid(), pid;
	char cfd[16], afd[16], vpid[16], ifd[16];
	char self[4096] = "/proc/self/exe";
	ssize_t selflen = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (selflen > 0)
		self[selflen] = '\0';
	else
		snprintf(self, sizeof(self), "/proc/self/exe");
	if (pipe2(gate, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "runner: pipe: %s", strerror(errno));
		return -1;
	}
	snprintf(cfd, sizeof(cfd), "%d", config_fd);
	snprintf(afd, sizeof(afd), "%d", arena_fd);
	snprintf(vpid, sizeof(vpid), "%d", (int)victim_pid);
	snprintf(ifd, sizeof(ifd), "%d", r->st.ids_fd); /* -1: no table (slowfs) */
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "runner: fork for the %s: %s", c->name, strerror(errno));
		close(gate[0]);
		close(gate[1]);
		return -1;
	}
	if (pid == 0) {
		close(gate[1]);
		child_exec(r, c->name, gate[0], parent, self, cfd, afd, vpid, ifd);
	}
	close(gate[0]);
	c->pid = pid;
	c->gate = gate[1];
	if (r->cg.created && cgv2_attach(&r->cg, group, pid, err, errlen) < 0) {
		child_kill(c);
		return -1;
	}
	return 0;
}

int child_release(struct child *c, char *err, size_t errlen)
{
	if (write(c->gate, "g", 1) != 1) {
		snprintf(err, errlen, "runner: releasing the %s: %s", c->name, strerror(errno));
		child_kill(c);
		return -1;
	}
	close(c->gate);
	c->gate = -1;
	return 0;
}

uint64_t child_timeval_ns(struct timeval tv)
{
	return (uint64_t)tv.tv_sec * 1000000000ull + (uint64_t)tv.tv_usec * 1000ull;
}

void child_describe_exit(int status, char *out, size_t len)
{
	if (WIFEXITED(status))
		snprintf(out, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, len, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(out, len, "status 0x%x", status);
}

bool child_reap(struct child *c, bool block)
{
	struct rusage ru;
	pid_t p;

	if (c->pid <= 0 || c->reaped)
		return true;
	p = wait4(c->pid, &c->status, block ? 0 : WNOHANG, &ru);
	if (p == c->pid) {
		c->reaped = true;
		c->cpu_ns = child_timeval_ns(ru.ru_utime) + child_timeval_ns(ru.ru_stime);
	}
	return c->reaped;
}

bool child_died(struct child *kids, int nkids)
{
	for (int i = 0; i < nkids; i++)
		if (kids[i].pid > 0 && child_reap(&kids[i], false))
			return true;
	return false;
}

bool child_stop_all(struct run *r, struct child *kids, int nkids, int timeout_ms)
{
	uint64_t limit = util_now_ns() + (uint64_t)timeout_ms * 1000000ull;

	for (;;) {
		bool all = true;
		uint64_t now;

		for (int i = 0; i < nkids; i++)
			all &= child_reap(&kids[i], false);
		if (all)
			return false;
		now = util_now_ns();
		if (now >= limit)
			break;
		/* absolute wake-up, never past the limit */
		util_sleep_until(now + 10000000ull < limit ? now + 10000000ull : limit);
	}
	if (!r->quiet)
		fprintf(stderr, "faultline: workloads still busy %d ms after the stop signal; killing them "
				"(their samples are kept)\n", timeout_ms);
	if (r->cg.created)
		cgv2_kill(&r->cg, 5000);
	for (int i = 0; i < nkids; i++)
		if (kids[i].pid > 0 && !kids[i].reaped)
			kill(kids[i].pid, SIGKILL); /* our own child, by pid */
	for (int i = 0; i < nkids; i++)
		child_reap(&kids[i], true);
	return true;
}

int child_wait_ready(struct run *r, struct arena *a, unsigned process, struct child *c, char *err, size_t errlen)
{
	uint64_t limit = util_now_ns() + CHILD_SETUP_LIMIT_NS;

	while (!__atomic_load_n(&a->hdr->ready[process], __ATOMIC_ACQUIRE)) {
		if (child_reap(c, false)) {
			char how[128];

			child_describe_exit(c->status, how, sizeof(how));
			snprintf(err, errlen, "the %s %s during setup%s%s", c->name, how,
				 a->hdr->error[process][0] ? ": " : "", a->hdr->error[process]);
			return -1;
		}
		if (run_must_stop(r)) {
			snprintf(err, errlen, "stopped while the %s was setting up", c->name);
			return -1;
		}
		if (util_now_ns() > limit) {
			snprintf(err, errlen, "the %s did not finish setting up within 120 s (setup watchdog)", c->name);
			return -1;
		}
		usleep(5000);
	}
	return 0;
}
