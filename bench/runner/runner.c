/* runner: `faultline run SCENARIO`: resolve the scenario, check what the
 * machine offers, prepare storage and cgroups, start the victim and observer
 * behind the arena's start barrier, sample probes once a second, stop,
 * collect, tear down, and write one result document. */
#define _GNU_SOURCE
#include "bench/runner/runner.h"
#include "lib/arena.h"
#include "cgroups/cgv2.h"
#include "lib/config.h"
#include "lib/hist.h"
#include "bench/probes/probe.h"
#include "lib/results.h"
#include "workloads/role.h"
#include "bench/storage/storage.h"
#include "lib/sysinfo.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Command-line options: this table drives getopt, --help and validation. */
static const struct util_option runner_options[] = {
	{ "label", "L", "label of this run (a kernel or patch name); default: the kernel release", 0 },
	{ "duration", "S", "measured seconds per iteration (= --set duration_s=S)", 0 },
	{ "warmup", "S", "warm-up seconds per iteration (= --set warmup_s=S)", 0 },
	{ "iterations", "N", "iterations (= --set iterations=N)", 0 },
	{ "set", "KEY=VALUE", "override a scenario key, e.g. --set victim.fault_threads=2000 (repeatable)", 0 },
	{ "out", "DIR", "directory for the result file (default: results)", 0 },
	{ "timeout", "S", "watchdog for the whole run (default: iterations x (warm-up + duration + 60) + 60)", 0 },
	{ "quiet", NULL, "no progress line on stderr", 0 },
	{ "help", NULL, "this text, then every scenario key", 0 },
};

/* How long workloads get to leave their loops after ARENA_STOP before they
 * are killed: thousands of runnable threads on few CPUs each need a turn. */
#define RUNNER_STOP_GRACE_MS 10000


static void runner_usage(FILE *out)
{
	fprintf(out, "usage: faultline run SCENARIO.json [options]\n\n"
		     "Runs a scenario and writes one result (JSON) into the output directory.\n"
		     "Exit status: 0 ok, 1 the run failed or was interrupted, 2 bad input, 3 missing resource.\n\n"
		     "Options:\n");
	util_options_help(out, runner_options, FL_ARRAY_SIZE(runner_options), 22);
	fprintf(out, "\n");
	config_print_help(out);
}

struct run {
	struct config cfg;
	const char *scenario_path;
	const char *out_dir;
	double timeout_s;
	bool quiet;
	char run_id[64];
	char label[128];
	struct cgv2 cg;
	struct storage st;
	bool storage_ready;
	uint64_t started_ns, deadline_ns;
	const char *status;     /* ok, interrupted, timeout, oom, error */
	char status_reason[1024];
	/* summary over iterations */
	struct hist_sum **sums; /* [role * ROLE_MAX_HIST + hist] */
	json_t *summary_counters;
	json_t *summary_probes;
	uint64_t victim_cpu_ns, observer_cpu_ns;
	uint64_t arena_bytes;
	char sched[160];
	json_t *pressure;
	json_t *swap;
};

static void runner_set_status(struct run *r, const char *status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void runner_set_status(struct run *r, const char *status, const char *fmt, ...)
{
	va_list ap;

	if (strcmp(r->status, "ok") != 0)
		return; /* the first cause wins */
	r->status = status;
	va_start(ap, fmt);
	vsnprintf(r->status_reason, sizeof(r->status_reason), fmt, ap);
	va_end(ap);
}

/* Has the run to stop (signal or watchdog)?  Sets the status once. */
static bool runner_must_stop(struct run *r)
{
	if (util_stop_signal) {
		runner_set_status(r, "interrupted", "signal %d (%s) received", (int)util_stop_signal,
				  strsignal(util_stop_signal));
		return true;
	}
	if (util_now_ns() > r->deadline_ns) {
		runner_set_status(r, "timeout", "the run's watchdog (%.0f s) expired", r->timeout_s);
		return true;
	}
	return strcmp(r->status, "ok") != 0;
}

static int runner_config_fd(const struct config *cfg, char *err, size_t errlen)
{
	json_t *j = config_to_json(cfg);
	char *text = json_dumps(j, JSON_COMPACT);
	int fd = memfd_create("faultline-config", 0);

	json_decref(j);
	if (fd < 0 || !text || util_write_all(fd, text, strlen(text)) < 0) {
		snprintf(err, errlen, "runner: writing the resolved scenario to a memfd: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	free(text);
	return fd;
}

/* Start `faultline workload --process NAME` in cgroup group; it waits on a
 * gate pipe until it has been moved into its group. */
static pid_t runner_spawn(struct run *r, const char *process, int group, int config_fd, int arena_fd,
			  pid_t victim_pid, char *err, size_t errlen)
{
	int gate[2];
	pid_t parent = getpid(), pid;
	char cfd[16], afd[16], vpid[16];

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
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "runner: fork for the %s: %s", process, strerror(errno));
		close(gate[0]);
		close(gate[1]);
		return -1;
	}
	if (pid == 0) {
		char c;

		close(gate[1]);
		setpgid(0, 0); /* Ctrl-C reaches the runner only; it stops the run in order */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(FL_EXIT_FAIL);
		if (read(gate[0], &c, 1) != 1)
			_exit(FL_EXIT_FAIL); /* the runner gave up on us */
		{
			char *args[] = { "faultline", "workload", "--process", (char *)process, "--config-fd", cfd,
					 "--arena-fd", afd, "--files-dir", r->st.files_dir, "--victim-pid", vpid, NULL };

			/* natively /proc/self/exe (the very binary, even if rebuilt
			 * since); under an emulator its resolved path */
			util_execv(getenv("FAULTLINE_EMULATOR") ? self : "/proc/self/exe", args);
		}
		fprintf(stderr, "faultline: exec %s for the %s: %s\n", self, process, strerror(errno));
		_exit(127);
	}
	close(gate[0]);
	if (r->cg.created && cgv2_attach(&r->cg, group, pid, err, errlen) < 0) {
		close(gate[1]);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	if (group == CGV2_VICTIM) {
		/* probes that follow the victim (tracing by pid) start before it runs;
		 * a probe that cannot start says why in its available() */
		struct probe_ctx ctx = { &r->cg, NULL, &r->st, &r->cfg };

		for (unsigned p = 0; p < probe_count; p++) {
			char why[256];

			if (probes[p]->start)
				probes[p]->start(&ctx, pid, why, sizeof(why));
		}
	}
	if (write(gate[1], "g", 1) != 1) {
		snprintf(err, errlen, "runner: releasing the %s: %s", process, strerror(errno));
		close(gate[1]);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	close(gate[1]);
	return pid;
}

static uint64_t runner_timeval_ns(struct timeval tv)
{
	return (uint64_t)tv.tv_sec * 1000000000ull + (uint64_t)tv.tv_usec * 1000ull;
}

static void runner_describe_exit(int status, char *out, size_t len)
{
	if (WIFEXITED(status))
		snprintf(out, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, len, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(out, len, "status 0x%x", status);
}

struct child {
	const char *name;
	pid_t pid;
	bool reaped;
	int status;
	uint64_t cpu_ns;
};

static bool runner_reap(struct child *c, bool block)
{
	struct rusage ru;
	pid_t p;

	if (c->pid <= 0 || c->reaped)
		return true;
	p = wait4(c->pid, &c->status, block ? 0 : WNOHANG, &ru);
	if (p == c->pid) {
		c->reaped = true;
		c->cpu_ns = runner_timeval_ns(ru.ru_utime) + runner_timeval_ns(ru.ru_stime);
	}
	return c->reaped;
}

/* Does any role of this process have threads in this scenario? */
static bool runner_process_has_threads(const struct config *cfg, unsigned process)
{
	for (unsigned ri = 0; ri < role_count; ri++)
		if (roles[ri]->process == process && roles[ri]->threads(cfg) > 0)
			return true;
	return false;
}

/* Has a started child exited? */
static bool runner_died(struct child *kids, int nkids)
{
	for (int i = 0; i < nkids; i++)
		if (kids[i].pid > 0 && runner_reap(&kids[i], false))
			return true;
	return false;
}

/* Wait until every child has exited, up to timeout_ms; then kill what is
 * left (their samples are safe in the arena).  True when it had to kill. */
static bool runner_stop_children(struct run *r, struct child *kids, int nkids, int timeout_ms)
{
	for (int waited = 0; waited < timeout_ms; waited += 10) {
		bool all = true;

		for (int i = 0; i < nkids; i++)
			all &= runner_reap(&kids[i], false);
		if (all)
			return false;
		usleep(10000);
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
		runner_reap(&kids[i], true);
	return true;
}

/* Wait for a workload process to report that all its threads wait at the
 * barrier.  0 ready; -1 with err. */
static int runner_wait_ready(struct run *r, struct arena *a, unsigned process, struct child *c, char *err,
			     size_t errlen)
{
	uint64_t limit = util_now_ns() + 120ull * 1000000000ull;

	while (!__atomic_load_n(&a->hdr->ready[process], __ATOMIC_ACQUIRE)) {
		if (runner_reap(c, false)) {
			char how[128];

			runner_describe_exit(c->status, how, sizeof(how));
			snprintf(err, errlen, "the %s %s during setup%s%s", c->name, how,
				 a->hdr->error[process][0] ? ": " : "", a->hdr->error[process]);
			return -1;
		}
		if (runner_must_stop(r)) {
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

struct series {
	json_t *t_s;
	json_t *keys;   /* "probe.key" -> array of per-second deltas */
	json_t **prev;  /* per probe: last sample */
	json_t **first; /* per probe: first sample */
};

static void runner_series_sample(struct series *s, const struct probe_ctx *ctx, const bool *present, double t)
{
	json_array_append_new(s->t_s, json_real(t));
	for (unsigned p = 0; p < probe_count; p++) {
		json_t *now, *v;
		const char *k;

		if (!present[p])
			continue;
		now = probes[p]->sample(ctx);
		json_object_foreach(now, k, v) {
			char key[256];
			json_t *arr, *old = s->prev[p] ? json_object_get(s->prev[p], k) : NULL;

			snprintf(key, sizeof(key), "%s.%s", probes[p]->name, k);
			arr = json_object_get(s->keys, key);
			if (!arr) {
				arr = json_array();
				for (size_t i = 1; i < json_array_size(s->t_s); i++)
					json_array_append_new(arr, json_integer(0));
				json_object_set_new(s->keys, key, arr);
			}
			json_array_append_new(arr, json_integer(json_integer_value(v) -
								(old ? json_integer_value(old) : json_integer_value(v))));
		}
		json_decref(s->prev[p]);
		s->prev[p] = now;
		if (!s->first[p])
			s->first[p] = json_incref(now);
	}
}

/* Per-iteration probe summary: {"name": {"present": b, "reason"?, "delta": {...}}} */
static json_t *runner_probe_deltas(struct series *s, const bool *present, char reasons[][256],
				   const struct probe_ctx *ctx)
{
	json_t *out = json_object();

	for (unsigned p = 0; p < probe_count; p++) {
		json_t *o = json_object(), *delta = json_object(), *v;
		const char *k;

		json_object_set_new(o, "present", json_boolean(present[p]));
		if (!present[p])
			json_object_set_new(o, "reason", json_string(reasons[p]));
		if (present[p] && s->first[p] && s->prev[p])
			json_object_foreach(s->prev[p], k, v) {
				json_t *f = json_object_get(s->first[p], k);

				json_object_set_new(delta, k, json_integer(json_integer_value(v) -
									   (f ? json_integer_value(f) : 0)));
			}
		json_object_set_new(o, "delta", delta);
		if (present[p] && probes[p]->result) {
			json_t *extra = probes[p]->result(ctx);

			json_object_update(o, extra);
			json_decref(extra);
		}
		json_object_set_new(out, probes[p]->name, o);
	}
	return out;
}

static void runner_add_counters(json_t *into, const json_t *from)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)from, k, v) {
		json_t *old = json_object_get(into, k);

		json_object_set_new(into, k, json_integer(json_integer_value(v) + (old ? json_integer_value(old) : 0)));
	}
}

/* A probe's histograms (exact bins, merged) and decade buckets (added) into the run's summary. */
static void runner_merge_probe_extra(json_t *sum, const json_t *it_probe)
{
	json_t *hs = json_object_get(it_probe, "histograms"), *dec = json_object_get(it_probe, "decades"), *v;
	const char *k;

	if (json_is_object(hs)) {
		json_t *into = json_object_get(sum, "histograms");
		struct hist_sum *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));

		if (!into) {
			into = json_object();
			json_object_set_new(sum, "histograms", into);
		}
		json_object_foreach(hs, k, v) {
			char e[256];
			json_t *old = json_object_get(into, k);

			if (!a || !b || hist_sum_from_json(a, v, e, sizeof(e)) < 0)
				continue;
			if (old && hist_sum_from_json(b, old, e, sizeof(e)) == 0)
				hist_sum_merge(a, b);
			json_object_set_new(into, k, hist_sum_to_json(a));
		}
		free(a);
		free(b);
	}
	if (json_is_object(dec)) {
		json_t *into = json_object_get(sum, "decades");

		if (!into) {
			into = json_object();
			json_object_set_new(sum, "decades", into);
		}
		json_object_foreach(dec, k, v) {
			json_t *d = json_object_get(into, k);

			if (!d) {
				d = json_object();
				json_object_set_new(into, k, d);
			}
			runner_add_counters(d, v);
		}
	}
}

/* Histograms and counters of every role, from the arena; merged into the run's summary too. */
static json_t *runner_collect_roles(struct run *r, const struct arena *a)
{
	json_t *out = json_object();

	for (unsigned ri = 0; ri < role_count; ri++) {
		const struct role *role = roles[ri];
		int64_t n = role->threads(&r->cfg);
		json_t *o, *hists, *counters;
		uint64_t sums[ARENA_COUNTERS] = { 0 };
		unsigned started = 0;

		if (n <= 0)
			continue;
		o = json_object();
		hists = json_object();
		counters = json_object();
		for (unsigned h = 0; h < role->nhist; h++) {
			struct hist_sum *hs = malloc(sizeof(*hs));

			hist_sum_init(hs);
			for (uint32_t i = 0; i < a->nslots; i++) {
				struct arena_slot *s = arena_slot(a, i);

				if (s->role == ri)
					hist_sum_add(hs, &s->hist[h]);
			}
			if (hs->count > 0) {
				json_object_set_new(hists, role->hist_names[h], hist_sum_to_json(hs));
				if (!r->sums[ri * ROLE_MAX_HIST + h]) {
					r->sums[ri * ROLE_MAX_HIST + h] = malloc(sizeof(struct hist_sum));
					hist_sum_init(r->sums[ri * ROLE_MAX_HIST + h]);
				}
				hist_sum_merge(r->sums[ri * ROLE_MAX_HIST + h], hs);
			}
			free(hs);
		}
		for (uint32_t i = 0; i < a->nslots; i++) {
			struct arena_slot *s = arena_slot(a, i);

			if (s->role != ri)
				continue;
			started += s->state != SLOT_IDLE;
			for (unsigned c = 0; c < ARENA_COUNTERS; c++)
				if (c < role->ncounters && role->counters[c].kind == ROLE_KIND_ERRNO)
					sums[c] = s->counters[c] ? s->counters[c] : sums[c]; /* an errno: one thread's, not a sum */
				else
					sums[c] += s->counters[c];
		}
		for (unsigned c = 0; c < role->ncounters; c++)
			if (role->counters[c].kind != ROLE_KIND_ERRNO)
				json_object_set_new(counters, role->counters[c].name, json_integer((json_int_t)sums[c]));
			else if (sums[c])
				json_object_set_new(counters, role->counters[c].name, json_string(strerror((int)sums[c])));
		json_object_set_new(o, "threads", json_integer(n));
		json_object_set_new(o, "threads_started", json_integer(started));
		json_object_set_new(o, "histograms", hists);
		json_object_set_new(o, "counters", counters);
		json_object_set_new(out, role->name, o);
		{
			json_t *prefixed = json_object(), *v;
			const char *k;

			json_object_foreach(counters, k, v) {
				char key[128];

				if (!json_is_integer(v))
					continue;
				snprintf(key, sizeof(key), "%s.%s", role->name, k);
				json_object_set_new(prefixed, key, json_incref(v));
			}
			runner_add_counters(r->summary_counters, prefixed);
			json_decref(prefixed);
		}
	}
	return out;
}

static void runner_progress(struct run *r, int64_t iter, double t, const json_t *counts)
{
	json_t *touches = json_object_get(counts, "fault.touches"), *major = json_object_get(counts, "fault.major_faults");
	json_t *wops = json_object_get(counts, "writer.ops"), *reads = json_object_get(counts, "observer.reads");

	if (r->quiet)
		return;
	if (!isatty(STDERR_FILENO) && (int64_t)t % 10 != 0)
		return; /* a log gets a line every 10 s, a terminal one updated line */
	fprintf(stderr,
		"%s[%s] iteration %lld/%lld  %5.1f/%.0f s  touches %lld (major %lld)  writer ops %lld  /proc reads %lld%s",
		isatty(STDERR_FILENO) ? "\r" : "", r->cfg.name, (long long)iter + 1, (long long)r->cfg.iterations, t, r->cfg.duration_s,
		(long long)json_integer_value(touches), (long long)json_integer_value(major),
		(long long)json_integer_value(wops), (long long)json_integer_value(reads),
		isatty(STDERR_FILENO) ? "   " : "\n");
	fflush(stderr);
}

/* One iteration: fresh page cache, arena and workload processes. */
static json_t *runner_iteration(struct run *r, int64_t iter)
{
	json_t *it = json_object();
	struct arena arena = { .fd = -1 };
	struct child kids[2] = { { "victim", -1, false, 0, 0 }, { "observer", -1, false, 0, 0 } };
	uint32_t nslots = 0, *role_of = NULL, *index_of = NULL, *nhist_of = NULL;
	struct series s = { json_array(), json_object(), calloc(probe_count, sizeof(json_t *)),
			    calloc(probe_count, sizeof(json_t *)) };
	bool *present = calloc(probe_count, sizeof(bool));
	char (*reasons)[256] = calloc(probe_count, 256), err[1024] = "";
	uint64_t resident = 0, t_measure = 0, t_end = 0, oom_before = 0;
	int config_fd = -1;
	bool killed = false, died_early = false;
	uint64_t t_setup = 0;
	const char *it_status = "ok";
	char it_reason[1024] = "";

	json_object_set_new(it, "index", json_integer(iter));
	if (storage_drop_cache(&r->st, &r->cfg, &resident, err, sizeof(err)) < 0)
		goto fail;
	json_object_set_new(it, "page_cache_resident_bytes_at_start", json_integer((json_int_t)resident));
	if (storage_slowfs_reset(&r->st) < 0) {
		snprintf(err, sizeof(err), "storage: resetting the slowfs counters: %s", strerror(errno));
		goto fail;
	}
	for (unsigned ri = 0; ri < role_count; ri++)
		nslots += (uint32_t)(roles[ri]->threads(&r->cfg) > 0 ? roles[ri]->threads(&r->cfg) : 0);
	role_of = calloc(nslots + 1, sizeof(uint32_t));
	index_of = calloc(nslots + 1, sizeof(uint32_t));
	nhist_of = calloc(nslots + 1, sizeof(uint32_t));
	if (!role_of || !index_of || !nhist_of) {
		snprintf(err, sizeof(err), "runner: allocating %u slot descriptions: %s", nslots, strerror(errno));
		goto fail;
	}
	{
		uint32_t k = 0;

		for (unsigned ri = 0; ri < role_count; ri++)
			for (int64_t t = 0; t < roles[ri]->threads(&r->cfg); t++, k++) {
				role_of[k] = ri;
				index_of[k] = (uint32_t)t;
				nhist_of[k] = roles[ri]->nhist;
			}
	}
	if (arena_create(&arena, nslots, role_of, index_of, nhist_of, err, sizeof(err)) < 0)
		goto fail;
	r->arena_bytes = arena.size;
	config_fd = runner_config_fd(&r->cfg, err, sizeof(err));
	if (config_fd < 0)
		goto fail;
	if (r->cg.created) {
		json_t *st = cgv2_stats(&r->cg, CGV2_VICTIM);

		oom_before = (uint64_t)json_number_value(json_object_get(json_object_get(st, "memory.events"), "oom_kill"));
		json_decref(st);
	}
	t_setup = util_now_ns();
	kids[0].pid = runner_spawn(r, "victim", CGV2_VICTIM, config_fd, arena.fd, 0, err, sizeof(err));
	if (kids[0].pid < 0 || runner_wait_ready(r, &arena, 0, &kids[0], err, sizeof(err)) < 0)
		goto fail;
	if (runner_process_has_threads(&r->cfg, PROCESS_OBSERVER)) {
		kids[1].pid = runner_spawn(r, "observer", CGV2_PROTECTED, config_fd, arena.fd, kids[0].pid, err,
					   sizeof(err));
		if (kids[1].pid < 0 || runner_wait_ready(r, &arena, 1, &kids[1], err, sizeof(err)) < 0)
			goto fail;
	}
	{
		struct probe_ctx ctx = { &r->cg, &arena, &r->st, &r->cfg };
		uint64_t start = util_now_ns(), next_sample;
		bool stopped = false;

		json_object_set_new(it, "setup_s", json_real((double)(start - t_setup) / 1e9));
		for (unsigned p = 0; p < probe_count; p++)
			present[p] = probes[p]->available(&ctx, reasons[p], 256);
		if (r->cfg.warmup_s > 0) {
			arena_set_phase(&arena, ARENA_WARMUP);
			while (!stopped && util_now_ns() - start < (uint64_t)(r->cfg.warmup_s * 1e9)) {
				usleep(20000);
				stopped = runner_must_stop(r) || runner_died(kids, 2);
			}
		}
		t_measure = util_now_ns();
		runner_series_sample(&s, &ctx, present, 0);
		arena_set_phase(&arena, ARENA_MEASURE);
		next_sample = t_measure + 1000000000ull;
		while (!stopped) {
			uint64_t now = util_now_ns();

			if (now - t_measure >= (uint64_t)(r->cfg.duration_s * 1e9))
				break;
			if (runner_must_stop(r))
				break;
			if (runner_died(kids, 2)) {
				died_early = true;
				break; /* a workload died mid-run: judged below */
			}
			if (now >= next_sample) {
				runner_series_sample(&s, &ctx, present, (double)(now - t_measure) / 1e9);
				runner_progress(r, iter, (double)(now - t_measure) / 1e9, s.prev[0]);
				next_sample += 1000000000ull;
			}
			usleep(now + 20000000ull < next_sample ? 20000 : (useconds_t)((next_sample - now) / 1000 + 1));
		}
		t_end = util_now_ns();
		arena_set_phase(&arena, ARENA_STOP);
		runner_series_sample(&s, &ctx, present, (double)(t_end - t_measure) / 1e9);
		if (!r->quiet && isatty(STDERR_FILENO))
			fprintf(stderr, "\n");
	}
	{
		uint64_t t_stop = util_now_ns();

		killed = runner_stop_children(r, kids, 2, RUNNER_STOP_GRACE_MS);
		json_object_set_new(it, "stop_s", json_real((double)(util_now_ns() - t_stop) / 1e9));
		json_object_set_new(it, "stop", json_string(killed ? "killed after the grace period" : "graceful"));
	}
	for (int i = 0; i < 2; i++) {
		char how[128];

		if (kids[i].pid <= 0)
			continue;
		runner_describe_exit(kids[i].status, how, sizeof(how));
		if (killed && WIFSIGNALED(kids[i].status) && WTERMSIG(kids[i].status) == SIGKILL) {
			json_object_set_new(it, i == 0 ? "victim_exit" : "observer_exit",
					    json_string("killed by the runner after the stop grace period"));
			json_object_set_new(it, i == 0 ? "victim_pid" : "observer_pid", json_integer(kids[i].pid));
			continue;
		}
		json_object_set_new(it, i == 0 ? "victim_exit" : "observer_exit", json_string(how));
		json_object_set_new(it, i == 0 ? "victim_pid" : "observer_pid", json_integer(kids[i].pid));
		if (WIFEXITED(kids[i].status) && WEXITSTATUS(kids[i].status) == 0 && !died_early)
			continue;
		if (strcmp(it_status, "ok") == 0 && strcmp(r->status, "ok") == 0) {
			uint64_t oom_after = oom_before;

			if (r->cg.created) {
				json_t *st = cgv2_stats(&r->cg, CGV2_VICTIM);

				oom_after = (uint64_t)json_number_value(
					json_object_get(json_object_get(st, "memory.events"), "oom_kill"));
				json_decref(st);
			}
			it_status = oom_after > oom_before && WIFSIGNALED(kids[i].status) ? "oom" : "error";
			snprintf(it_reason, sizeof(it_reason), "the %s %s%s%s", kids[i].name, how,
				 arena.hdr->error[i][0] ? ": " : "", arena.hdr->error[i]);
		}
	}
	r->victim_cpu_ns += kids[0].cpu_ns;
	r->observer_cpu_ns += kids[1].cpu_ns;
	json_object_set_new(it, "measured_s", json_real((double)(t_end - t_measure) / 1e9));
	{
		/* counters since the reset at the start of this iteration */
		json_t *fs = storage_slowfs_stats(&r->st);

		if (fs) {
			double served = (double)json_integer_value(json_object_get(fs, "bytes_served"));
			double distinct = (double)json_integer_value(json_object_get(fs, "distinct_bytes_served"));

			json_object_set_new(it, "slowfs", json_pack("{s:O, s:O, s:O, s:O, s:f}", "requests",
				json_object_get(fs, "requests"), "bytes_served", json_object_get(fs, "bytes_served"),
				"distinct_bytes_served", json_object_get(fs, "distinct_bytes_served"), "bytes_served_again",
				json_object_get(fs, "bytes_served_again"), "read_amplification",
				distinct > 0 ? served / distinct : 0.0));
			json_decref(fs);
		}
	}
	json_object_set_new(it, "roles", runner_collect_roles(r, &arena));
	{
		struct probe_ctx ctx = { &r->cg, &arena, &r->st, &r->cfg };
		json_t *deltas = runner_probe_deltas(&s, present, reasons, &ctx), *wl;

		wl = json_object_get(json_object_get(deltas, "workload"), "delta");
		(void)wl;
		for (unsigned p = 0; p < probe_count; p++) {
			json_t *d = json_object_get(json_object_get(deltas, probes[p]->name), "delta");
			json_t *sum = json_object_get(r->summary_probes, probes[p]->name);

			if (strcmp(probes[p]->name, "workload") == 0)
				continue; /* the roles' counters are in roles and summary.counters */
			if (!sum) {
				sum = json_object();
				json_object_set_new(r->summary_probes, probes[p]->name, sum);
			}
			runner_add_counters(sum, d);
			runner_merge_probe_extra(sum, json_object_get(deltas, probes[p]->name));
		}
		json_object_del(deltas, "workload");
		json_object_set_new(it, "probes", deltas);
	}
	json_object_set_new(s.keys, "t_s", json_incref(s.t_s));
	json_object_set_new(it, "series", json_incref(s.keys));
	goto done;
fail:
	it_status = strcmp(r->status, "ok") != 0 ? r->status : "error";
	snprintf(it_reason, sizeof(it_reason), "%s", err);
	if (arena.hdr)
		arena_set_phase(&arena, ARENA_STOP);
	runner_stop_children(r, kids, 2, 10000);
done:
	for (unsigned p = 0; p < probe_count; p++)
		if (probes[p]->stop) {
			struct probe_ctx ctx = { &r->cg, &arena, &r->st, &r->cfg };

			probes[p]->stop(&ctx);
		}
	if (strcmp(it_status, "ok") != 0)
		runner_set_status(r, it_status, "iteration %lld: %s", (long long)iter + 1, it_reason);
	json_object_set_new(it, "status", json_string(it_status));
	if (*it_reason)
		json_object_set_new(it, "status_reason", json_string(it_reason));
	if (config_fd >= 0)
		close(config_fd);
	arena_close(&arena);
	for (unsigned p = 0; p < probe_count; p++) {
		json_decref(s.prev[p]);
		json_decref(s.first[p]);
	}
	json_decref(s.t_s);
	json_decref(s.keys);
	free(s.prev);
	free(s.first);
	free(present);
	free(reasons);
	free(role_of);
	free(index_of);
	free(nhist_of);
	return it;
}

static json_t *runner_summary(struct run *r)
{
	json_t *sum = json_object(), *rolesj = json_object();

	for (unsigned ri = 0; ri < role_count; ri++) {
		json_t *h = json_object();

		for (unsigned k = 0; k < roles[ri]->nhist; k++)
			if (r->sums[ri * ROLE_MAX_HIST + k])
				json_object_set_new(h, roles[ri]->hist_names[k], hist_sum_to_json(r->sums[ri * ROLE_MAX_HIST + k]));
		if (json_object_size(h))
			json_object_set_new(rolesj, roles[ri]->name, json_pack("{s:o}", "histograms", h));
		else
			json_decref(h);
	}
	json_object_set_new(sum, "roles", rolesj);
	json_object_set_new(sum, "counters", json_incref(r->summary_counters));
	json_object_set_new(sum, "probes", json_incref(r->summary_probes));
	return sum;
}

static void runner_print_summary(struct run *r, const char *result_path)
{
	printf("faultline: %s on %s, label %s: status %s%s%s\n", r->cfg.name, r->label, r->label, r->status,
	       *r->status_reason ? ": " : "", r->status_reason);
	printf("  %-22s %10s %10s %10s %10s %10s\n", "latency (us)", "count", "p50", "p99", "p99.9", "max");
	for (unsigned ri = 0; ri < role_count; ri++)
		for (unsigned k = 0; k < roles[ri]->nhist; k++) {
			struct hist_sum *h = r->sums[ri * ROLE_MAX_HIST + k];
			char name[64];

			if (!h || !h->count)
				continue;
			snprintf(name, sizeof(name), "%s.%s", roles[ri]->name, roles[ri]->hist_names[k]);
			printf("  %-22s %10llu %10.1f %10.1f %10.1f %10.1f\n", name, (unsigned long long)h->count,
			       hist_sum_percentile(h, 50) / 1e3, hist_sum_percentile(h, 99) / 1e3,
			       hist_sum_percentile(h, 99.9) / 1e3, (double)h->max_ns / 1e3);
		}
	{
		static const char *const keys[] = { "fault.touches", "fault.major_faults", "fault.minor_faults",
						    "writer.ops", "observer.reads", "ps.scans" };
		json_t *vm = json_object_get(r->summary_probes, "vmstat");

		printf("  counters:");
		for (size_t i = 0; i < FL_ARRAY_SIZE(keys); i++)
			printf(" %s=%lld", keys[i], (long long)json_integer_value(json_object_get(r->summary_counters, keys[i])));
		printf("\n  vmstat deltas: pgfault=%lld pgmajfault=%lld workingset_refault_file=%lld\n",
		       (long long)json_integer_value(json_object_get(vm, "pgfault")),
		       (long long)json_integer_value(json_object_get(vm, "pgmajfault")),
		       (long long)json_integer_value(json_object_get(vm, "workingset_refault_file")));
		printf("  isolation: %s (%s)\n", r->cg.isolation, r->cg.reason);
		if (r->pressure)
			printf("  memory pressure: %s\n", json_string_value(json_object_get(r->pressure, "mode")));
		if (r->cfg.victim.memory == MEMORY_ANON && r->swap)
			printf("  swap: %s (%lld bytes); pswpin=%lld pswpout=%lld\n",
			       json_string_value(json_object_get(r->swap, "status")),
			       (long long)json_integer_value(json_object_get(r->swap, "total_bytes")),
			       (long long)json_integer_value(json_object_get(vm, "pswpin")),
			       (long long)json_integer_value(json_object_get(vm, "pswpout")));
		if (r->cfg.victim.odirect.threads > 0)
			printf("  odirect: reads=%lld errors=%lld buffer_major_faults=%lld\n",
			       (long long)json_integer_value(json_object_get(r->summary_counters, "odirect.reads")),
			       (long long)json_integer_value(json_object_get(r->summary_counters, "odirect.errors")),
			       (long long)json_integer_value(json_object_get(r->summary_counters, "odirect.buffer_major_faults")));
	}
	if (result_path)
		printf("result: %s\n", result_path);
}

int runner_main(int argc, char **argv)
{
	struct run r = { 0 };
	struct option longopts[FL_ARRAY_SIZE(runner_options) + 1];
	char err[2048];
	char **sets = calloc((size_t)argc + 1, sizeof(char *));
	int nsets = 0, opt, ret = FL_EXIT_USAGE;
	json_t *doc = NULL, *iterations = json_array();
	struct rusage self;
	char started_at[64], result_name[512], result_path[4200];
	bool wrote = false;

	r.status = "ok";
	r.out_dir = "results";
	config_defaults(&r.cfg);
	util_options_getopt(runner_options, FL_ARRAY_SIZE(runner_options), longopts);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		const char *name = opt >= 0 && (size_t)opt < FL_ARRAY_SIZE(runner_options) ? runner_options[opt].name : "";

		if (!strcmp(name, "help")) {
			runner_usage(stdout);
			ret = 0;
			goto out;
		} else if (!strcmp(name, "quiet")) {
			r.quiet = true;
		} else if (!strcmp(name, "out")) {
			r.out_dir = optarg;
		} else if (!strcmp(name, "timeout")) {
			char *end;

			r.timeout_s = strtod(optarg, &end);
			if (*end || !(r.timeout_s > 0)) {
				util_err("--timeout: expected a positive number of seconds, got '%s'", optarg);
				goto out;
			}
		} else if (!strcmp(name, "set")) {
			sets[nsets++] = strdup(optarg);
		} else if (*name) {
			static const struct { const char *opt, *key; } alias[] = {
				{ "label", "label" }, { "duration", "duration_s" }, { "warmup", "warmup_s" },
				{ "iterations", "iterations" } };

			for (size_t i = 0; i < FL_ARRAY_SIZE(alias); i++)
				if (!strcmp(name, alias[i].opt)) {
					char buf[4200];

					if (!strcmp(alias[i].key, "label"))
						snprintf(buf, sizeof(buf), "label=\"%s\"", optarg);
					else
						snprintf(buf, sizeof(buf), "%s=%s", alias[i].key, optarg);
					sets[nsets++] = strdup(buf);
				}
		} else {
			fprintf(stderr, "Try 'faultline run --help'.\n");
			goto out;
		}
	}
	if (optind != argc - 1) {
		runner_usage(stderr);
		goto out;
	}
	r.scenario_path = argv[optind];
	if (config_load(&r.cfg, r.scenario_path, err, sizeof(err)) < 0) {
		util_err("%s", err);
		goto out;
	}
	for (int i = 0; i < nsets; i++)
		if (config_set(&r.cfg, sets[i], err, sizeof(err)) < 0) {
			util_err("%s", err);
			goto out;
		}
	if (config_check(&r.cfg, r.scenario_path, err, sizeof(err)) < 0) {
		util_err("%s", err);
		goto out;
	}
	{
		struct stat sb;

		if (stat(r.out_dir, &sb) < 0 || !S_ISDIR(sb.st_mode) || access(r.out_dir, W_OK) < 0) {
			util_err("--out: %s is not a writable directory: %s", r.out_dir,
				 errno ? strerror(errno) : "not a directory");
			goto out;
		}
	}
	for (unsigned p = 0; p < probe_count; p++)
		if (probes[p]->resolve && probes[p]->resolve(&r.cfg, err, sizeof(err)) < 0) {
			util_err("%s", err);
			ret = FL_EXIT_NORESOURCE;
			goto out;
		}
	/* From here on things get created: every exit goes through `finish`. */
	ret = FL_EXIT_FAIL;
	if (!r.timeout_s)
		r.timeout_s = (double)r.cfg.iterations * (r.cfg.warmup_s + r.cfg.duration_s + 60) + 60;
	r.started_ns = util_now_ns();
	r.deadline_ns = r.started_ns + (uint64_t)(r.timeout_s * 1e9);
	{
		time_t now = time(NULL);
		struct tm tm;
		struct utsname_buf { char release[256]; } u;
		char *rel = util_read_file("/proc/sys/kernel/osrelease", NULL);

		gmtime_r(&now, &tm);
		strftime(started_at, sizeof(started_at), "%Y-%m-%dT%H:%M:%SZ", &tm);
		snprintf(r.run_id, sizeof(r.run_id), "%04d%02d%02dT%02d%02d%02d-%d", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)getpid());
		snprintf(u.release, sizeof(u.release), "%s", rel ? rel : "unknown");
		u.release[strcspn(u.release, "\n")] = '\0';
		free(rel);
		snprintf(r.label, sizeof(r.label), "%s", r.cfg.label && *r.cfg.label ? r.cfg.label : u.release);
	}
	{
		/* The runner sleeps almost all the time but must wake on time while
		 * thousands of workload threads are runnable: with per-thread fair
		 * scheduling it would get 1/N of a CPU and one turn per round.  A
		 * low real-time priority puts it first when it wakes; RESET_ON_FORK
		 * gives the workloads the ordinary policy. */
		struct sched_param sp = { .sched_priority = 1 };

		if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) == 0)
			snprintf(r.sched, sizeof(r.sched), "SCHED_FIFO priority 1 (workloads: SCHED_OTHER)");
		else
			snprintf(r.sched, sizeof(r.sched), "SCHED_OTHER (SCHED_FIFO refused: %s): the runner may "
				 "wake late when many workload threads are runnable", strerror(errno));
	}
	util_catch_stop_signals();
	r.sums = calloc(role_count * ROLE_MAX_HIST, sizeof(*r.sums));
	r.summary_counters = json_object();
	r.summary_probes = json_object();

	cgv2_detect(&r.cg);
	cgv2_reap_stale(&r.cg);
	if (!r.quiet)
		fprintf(stderr, "faultline: %s: isolation %s: %s\n", r.cfg.name, r.cg.isolation, r.cg.reason);
	if (storage_prepare(&r.st, &r.cfg, err, sizeof(err)) < 0) {
		runner_set_status(&r, "error", "%s", err);
		goto finish;
	}
	r.storage_ready = true;
	if (r.cg.mount[0] && cgv2_create(&r.cg, r.run_id, &r.cfg, r.st.dev, err, sizeof(err)) < 0) {
		util_err("%s (running without cgroups of its own)", err);
		json_object_set_new(r.cg.settings, "error", json_string(err));
		cgv2_teardown(&r.cg);
		r.cg.isolation = "none";
	}
	{
		/* memory pressure: the memory controller when there is one,
		 * otherwise the evictor (emulated) when the scenario limits memory */
		bool limit = r.cfg.cg_victim.memory_max_bytes || r.cfg.cg_victim.memory_high_bytes;
		bool memcg = r.cg.created && r.cg.has_memory;
		const char *requested = config_enum_name("pressure.mode", r.cfg.pressure.mode);
		const char *how;

		if (r.cfg.pressure.mode == PRESSURE_AUTO)
			r.cfg.pressure.mode = limit && !memcg ? PRESSURE_EMULATE : PRESSURE_OFF;
		how = r.cfg.pressure.mode == PRESSURE_EMULATE ? "emulated"
		      : limit && memcg			      ? "memory.max"
							      : "none";
		r.pressure = json_pack("{s:s, s:s, s:I, s:I, s:I}", "mode", how, "requested", requested,
				       "memory_max_bytes", (json_int_t)r.cfg.cg_victim.memory_max_bytes,
				       "evict_bytes_per_s", (json_int_t)r.cfg.pressure.evict_bytes_per_s,
				       "chunk_bytes", (json_int_t)r.cfg.pressure.chunk_bytes);
		{
			json_t *resolved = config_to_json(&r.cfg);

			json_object_set(r.pressure, "methods",
					json_object_get(json_object_get(resolved, "pressure"), "methods"));
			json_decref(resolved);
		}
		if (!r.quiet)
			fprintf(stderr, "faultline: memory pressure: %s\n", how);
	}
	{
		/* swap: what the swap-in variants (victim.memory anon) need; without
		 * it anonymous pages cannot be paged out and touches do not fault */
		bool needed = r.cfg.victim.memory == MEMORY_ANON;
		json_int_t total;

		r.swap = sysinfo_swap();
		total = json_integer_value(json_object_get(r.swap, "total_bytes"));
		json_object_set_new(r.swap, "needed", json_boolean(needed));
		json_object_set_new(r.swap, "status", json_string(total > 0 ? "present" : "absent"));
		if (needed && total == 0) {
			uint64_t anon = r.cfg.victim.file_size_bytes * (uint64_t)r.cfg.victim.file_count;
			uint64_t limit = r.cfg.cg_victim.memory_max_bytes;
			char note[600];

			snprintf(note, sizeof(note),
				 "victim.memory is anon but the system has no swap (swap_total_bytes 0): anonymous pages "
				 "cannot be paged out, so the fault threads' touches do not fault and pswpin/pswpout stay "
				 "0; the swap-in measurement is absent%s",
				 r.cg.created && r.cg.has_memory && limit && anon > limit
					 ? "; the anonymous memory exceeds the victim's memory.max, so expect the victim "
					   "to be OOM-killed (status oom)"
					 : "");
			json_object_set_new(r.swap, "note", json_string(note));
			fprintf(stderr, "faultline: note: %s\n", note);
		}
	}
	for (int64_t i = 0; i < r.cfg.iterations && !runner_must_stop(&r); i++)
		json_array_append_new(iterations, runner_iteration(&r, i));
finish:
	if (r.cg.created)
		cgv2_teardown(&r.cg);
	getrusage(RUSAGE_SELF, &self);
	doc = json_object();
	json_object_set_new(doc, "schema", json_string(RESULTS_SCHEMA));
	json_object_set_new(doc, "run_id", json_string(r.run_id));
	json_object_set_new(doc, "scenario", json_string(r.cfg.name));
	json_object_set_new(doc, "scenario_file", json_string(r.scenario_path));
	json_object_set_new(doc, "label", json_string(r.label));
	json_object_set_new(doc, "status", json_string(r.status));
	json_object_set_new(doc, "status_reason", json_string(r.status_reason));
	json_object_set_new(doc, "started_at", json_string(started_at));
	json_object_set_new(doc, "wall_s", json_real((double)(util_now_ns() - r.started_ns) / 1e9));
	json_object_set_new(doc, "config", config_to_json(&r.cfg));
	{
		json_t *env = sysinfo_environment();

		json_object_set_new(env, "isolation", json_string(r.cg.isolation));
		json_object_set_new(env, "isolation_reason", json_string(r.cg.reason));
		/* the I/O limit actually in force, in the design's order of
		 * preference: io.latency, io.max, slow storage */
		json_object_set_new(env, "io_control",
				    json_string(strcmp(cgv2_io_control(&r.cg), "none") ? cgv2_io_control(&r.cg)
						: r.cfg.storage.type == STORAGE_SLOWFS ? "slowfs latency"
										      : "none"));
		json_object_set_new(env, "seed", json_integer(r.cfg.seed));
		json_object_set_new(env, "label", json_string(r.label));
		json_object_set_new(doc, "environment", env);
	}
	json_object_set_new(doc, "cgroup", cgv2_to_json(&r.cg));
	json_object_set_new(doc, "storage", r.st.info ? json_incref(r.st.info) : json_object());
	json_object_set_new(doc, "pressure", r.pressure ? json_incref(r.pressure) : json_pack("{s:s}", "mode", "none"));
	json_object_set_new(doc, "swap", r.swap ? json_incref(r.swap) : sysinfo_swap());
	json_object_set_new(doc, "harness",
			    json_pack("{s:I, s:I, s:I, s:I, s:s, s:s}", "runner_cpu_ns",
				      (json_int_t)(runner_timeval_ns(self.ru_utime) + runner_timeval_ns(self.ru_stime)),
				      "victim_cpu_ns", (json_int_t)r.victim_cpu_ns, "observer_cpu_ns",
				      (json_int_t)r.observer_cpu_ns, "arena_bytes", (json_int_t)r.arena_bytes,
				      "histogram_scheme", HIST_SCHEME, "runner_scheduling", r.sched));
	json_object_set_new(doc, "iterations", json_incref(iterations));
	json_object_set_new(doc, "summary", runner_summary(&r));
	if (json_array_size(iterations) > 0 || strcmp(r.status, "ok") != 0) {
		results_name(result_name, sizeof(result_name), r.cfg.name, r.label, NULL, r.run_id);
		snprintf(result_path, sizeof(result_path), "%s/%s", r.out_dir, result_name);
		if (results_write(doc, r.out_dir, result_name, err, sizeof(err)) < 0)
			util_err("%s", err);
		else
			wrote = true;
	}
	runner_print_summary(&r, wrote ? result_path : NULL);
	ret = strcmp(r.status, "ok") == 0 && wrote ? FL_EXIT_OK : FL_EXIT_FAIL;
out:
	if (r.storage_ready)
		storage_teardown(&r.st);
	else if (r.st.info)
		storage_teardown(&r.st);
	if (r.sums) {
		for (unsigned i = 0; i < role_count * ROLE_MAX_HIST; i++)
			free(r.sums[i]);
		free(r.sums);
	}
	json_decref(r.summary_counters);
	json_decref(r.summary_probes);
	json_decref(r.pressure);
	json_decref(r.swap);
	json_decref(doc);
	json_decref(iterations);
	cgv2_free(&r.cg);
	for (int i = 0; i < nsets; i++)
		free(sets[i]);
	free(sets);
	config_free(&r.cfg);
	return ret;
}
