/* runner: `faultline run SCENARIO`: resolve the scenario, check what the
 * machine offers, prepare storage and cgroups, then per iteration start the
 * victim and observer behind the arena's start barrier, sample probes once
 * a second, stop, collect; tear down, and write one result document.
 * Orchestration only: child.c (workload processes), series.c (samples),
 * collect.c (measurements and summary), run.c (status and watchdog). */
#define _GNU_SOURCE
#include "bench/runner/runner.h"
#include "bench/runner/child.h"
#include "bench/runner/collect.h"
#include "bench/runner/run.h"
#include "bench/runner/series.h"
#include "bench/runner/noise.h"
#include "bench/probes/probe.h"
#include "lib/arena.h"
#include "lib/metrics.h"
#include "lib/results.h"
#include "lib/sysinfo.h"
#include "lib/util.h"
#include "workloads/role.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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
/* The runner's clock: it looks at signals, deaths and the phase's end this
 * often, and samples once a second. */
#define RUNNER_TICK_NS 20000000ull
#define RUNNER_SAMPLE_NS 1000000000ull
#define RUNNER_SAMPLE_GRACE_NS 10000000000ull
/* Test-only (tests/sys_run.sh): every sample of the measured phase first
 * sleeps this many milliseconds, like a read of the slowfs stats file
 * queued behind thousands of FUSE requests.  Read once, at the start. */
#define RUNNER_TEST_STALL_ENV "FAULTLINE_TEST_SAMPLE_STALL_MS"

static void runner_usage(FILE *out)
{
	fprintf(out, "usage: faultline run SCENARIO.json [options]\n\n"
		     "Runs a scenario and writes one result (JSON) into the output directory.\n"
		     "Exit status: 0 ok, 1 the run failed or was interrupted, 2 bad input, 3 missing resource.\n\n"
		     "Options:\n");
	util_options_help(out, runner_options, FL_ARRAY_SIZE(runner_options), 22);
	fprintf(out, "\nThrough ./run.sh only: the VM backend boots a kernel in QEMU and runs there (docs/vm.md;\n"
		     "run.sh hands these to `faultline vm`, whose other options are in faultline vm --help):\n"
		     "  --kernel IMAGE|NAME    a kernel image, or NAME under build/kernels/ (./run.sh kernel build)\n"
		     "  --debian-kernel V[:A]  Debian's packaged kernel V (e.g. 6.12, 6.12:arm64)\n\n");
	config_print_help(out);
}

/* A scenario file that does not exist: the closest *.json in its directory. */
static void runner_suggest_scenario(const char *path)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	char dir[4096], best[256] = "";
	size_t best_d = (size_t)-1, blen = strlen(base) - (strstr(base, ".json") ? 5 : 0);
	DIR *d;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	d = opendir(dir);
	for (struct dirent *de; d && (de = readdir(d));) {
		size_t n = strlen(de->d_name);
		char x[256], y[256];

		if (n <= 5 || n >= sizeof(x) || strcmp(de->d_name + n - 5, ".json") || blen >= sizeof(y))
			continue;
		snprintf(x, sizeof(x), "%.*s", (int)(n - 5), de->d_name);
		snprintf(y, sizeof(y), "%.*s", (int)blen, base);
		if (util_edit_distance(y, x) < best_d)
			best_d = util_edit_distance(y, x), snprintf(best, sizeof(best), "%s", x);
	}
	if (d && closedir(d) == 0 && best[0] && best_d <= 1 + blen / 3)
		fprintf(stderr, "faultline: did you mean '%s' (%s/%s.json)?\n", best, dir, best);
}


/* Does any role of this process have threads in this scenario? */
static bool runner_process_has_threads(const struct config *cfg, unsigned process)
{
	for (unsigned ri = 0; ri < role_count; ri++)
		if (roles[ri]->process == process && roles[ri]->threads(cfg) > 0)
			return true;
	return false;
}

/* One iteration's state, passed between its phases. */
struct iter {
	int64_t index;
	json_t *it;
	struct arena arena;
	struct child kids[2]; /* victim, observer */
	struct series *s;
	int config_fd;
	uint64_t oom_before, t_setup, t_measure, t_end;
	bool killed, died_early, sampler_lost;
	const char *status;
	char reason[1024];
	char err[1024];
};

/* The arena: one slot per thread of every role. */
static int runner_create_arena(struct run *r, struct iter *x)
{
	uint32_t nslots = 0, k = 0, *role_of, *index_of, *nhist_of;
	int ret = -1;

	for (unsigned ri = 0; ri < role_count; ri++)
		nslots += (uint32_t)(roles[ri]->threads(&r->cfg) > 0 ? roles[ri]->threads(&r->cfg) : 0);
	role_of = calloc(nslots + 1, sizeof(uint32_t));
	index_of = calloc(nslots + 1, sizeof(uint32_t));
	nhist_of = calloc(nslots + 1, sizeof(uint32_t));
	if (!role_of || !index_of || !nhist_of) {
		snprintf(x->err, sizeof(x->err), "runner: allocating %u slot descriptions: %s", nslots, strerror(errno));
		goto exit;
	}
	for (unsigned ri = 0; ri < role_count; ri++)
		for (int64_t t = 0; t < roles[ri]->threads(&r->cfg); t++, k++) {
			role_of[k] = ri;
			index_of[k] = (uint32_t)t;
			nhist_of[k] = roles[ri]->nhist;
		}
	if (arena_create(&x->arena, nslots, role_of, index_of, nhist_of, x->err, sizeof(x->err)) < 0)
		goto exit;
	r->arena_bytes = x->arena.size;
	ret = 0;
exit:
	free(role_of);
	free(index_of);
	free(nhist_of);
	return ret;
}

/* Phase 1: a cold page cache, fresh slowfs counters, arena, resolved scenario. */
static int runner_prepare_iteration(struct run *r, struct iter *x)
{
	uint64_t resident = 0;

	if (noise_iteration_start(r, x->it, x->err, sizeof(x->err)) < 0 ||
	    storage_drop_cache(&r->st, &r->cfg, &resident, x->err, sizeof(x->err)) < 0)
		return -1;
	json_object_set_new(x->it, "page_cache_resident_bytes_at_start", json_integer((json_int_t)resident));
	if (storage_slowfs_reset(&r->st) < 0) {
		snprintf(x->err, sizeof(x->err), "storage: resetting the slowfs counters: %s", strerror(errno));
		return -1;
	}
	if (runner_create_arena(r, x) < 0)
		return -1;
	x->config_fd = noise_config_fd(r, x->index, x->it, x->err, sizeof(x->err)); /* the iteration's seed */
	if (x->config_fd < 0)
		return -1;
	x->s = series_new(x->err, sizeof(x->err));
	if (!x->s)
		return -1;
	x->oom_before = run_oom_kills(r);
	return 0;
}

/* Start the probes that follow the victim (tracing by pid) while it waits
 * at its gate; a probe that cannot start says why in its available(). */
static void runner_start_probes(struct run *r, pid_t victim)
{
	struct probe_ctx ctx = { &r->cg, NULL, &r->st, &r->cfg };

	for (unsigned p = 0; p < probe_count; p++) {
		char why[256];

		if (probes[p]->start)
			probes[p]->start(&ctx, victim, why, sizeof(why));
	}
}

/* Phase 2: the victim (probes started before it runs), then the observer;
 * each ready at the start barrier. */
static int runner_start_workloads(struct run *r, struct iter *x)
{
	struct child *v = &x->kids[0], *o = &x->kids[1];

	x->t_setup = util_now_ns();
	if (child_spawn(r, v, CGV2_VICTIM, x->config_fd, x->arena.fd, 0, x->err, sizeof(x->err)) < 0)
		return -1;
	runner_start_probes(r, v->pid);
	if (child_release(v, x->err, sizeof(x->err)) < 0 ||
	    child_wait_ready(r, &x->arena, PROCESS_VICTIM, v, x->err, sizeof(x->err)) < 0 ||
	    antagonists_spawn(&r->ants, x->err, sizeof(x->err)) < 0) /* held at their gates */
		return -1;
	if (!runner_process_has_threads(&r->cfg, PROCESS_OBSERVER))
		return 0;
	if (child_spawn(r, o, CGV2_PROTECTED, x->config_fd, x->arena.fd, v->pid, x->err, sizeof(x->err)) < 0 ||
	    child_release(o, x->err, sizeof(x->err)) < 0 ||
	    child_wait_ready(r, &x->arena, PROCESS_OBSERVER, o, x->err, sizeof(x->err)) < 0)
		return -1;
	return 0;
}

/* Wait until end_ns (a phase's end), waking every tick for signals, the
 * watchdog and deaths, and (sampler non-NULL) asking for a sample every
 * second.  No sleep lasts past end_ns, and nothing here waits for a
 * sample.  True when the phase was cut short. */
static bool runner_wait_phase(struct run *r, struct iter *x, uint64_t end_ns, struct series *sampler)
{
	uint64_t next = sampler ? x->t_measure + RUNNER_SAMPLE_NS : UINT64_MAX;

	for (;;) {
		uint64_t now = util_now_ns(), wake;

		if (now >= end_ns)
			return false;
		if (run_must_stop(r))
			return true;
		if (child_died(x->kids, 2) || storage_daemon_gone(&r->st, 0, NULL, 0) || antagonists_died(&r->ants)) {
			x->died_early = sampler != NULL; /* a workload or slowfs died mid-run: judged later */
			return true;
		}
		if (sampler && now >= next) {
			uint64_t lost = (now - next) / RUNNER_SAMPLE_NS; /* whole seconds the runner slept through */

			series_sampler_tick(sampler, lost);
			next += (lost + 1) * RUNNER_SAMPLE_NS;
		}
		wake = now + RUNNER_TICK_NS;
		if (sampler && next < wake)
			wake = next;
		if (end_ns < wake)
			wake = end_ns;
		util_sleep_until(wake); /* absolute: a late wake-up never turns into a long sleep */
	}
}

/* Phase 3: warm-up, then the measured phase (probes sampled by the sampler
 * thread), then ARENA_STOP on time and a last sample. */
static int runner_measure(struct run *r, struct iter *x)
{
	struct probe_ctx ctx = { &r->cg, &x->arena, &r->st, &r->cfg };
	uint64_t start = util_now_ns(), now;
	bool stopped = false;
	int ret = 0;

	json_object_set_new(x->it, "setup_s", json_real((double)(start - x->t_setup) / 1e9));
	series_available(x->s, &ctx);
	antagonists_release(&r->ants); /* as the workloads' first phase starts */
	if (r->cfg.warmup_s > 0) {
		arena_set_phase(&x->arena, ARENA_WARMUP);
		stopped = runner_wait_phase(r, x, start + (uint64_t)(r->cfg.warmup_s * 1e9), NULL);
	}
	now = util_now_ns();
	series_sample(x->s, now, now); /* the baseline, before the phase's clock starts */
	x->t_measure = util_now_ns();
	arena_set_phase(&x->arena, ARENA_MEASURE);
	if (!stopped && series_sampler_start(x->s, r, x->index, x->t_measure, x->err, sizeof(x->err)) < 0) {
		stopped = true;
		ret = -1;
	}
	if (!stopped)
		runner_wait_phase(r, x, x->t_measure + (uint64_t)(r->cfg.duration_s * 1e9), x->s);
	x->t_end = util_now_ns();
	arena_set_phase(&x->arena, ARENA_STOP);
	/* a sample still in progress may finish now; it no longer delays
	 * anything measured.  Waited for until the watchdog, and at least
	 * RUNNER_SAMPLE_GRACE_NS (the watchdog may be why the phase ended). */
	now = util_now_ns() + RUNNER_SAMPLE_GRACE_NS;
	if (series_sampler_stop(x->s, r->deadline_ns > now ? r->deadline_ns : now) < 0)
		x->sampler_lost = true;
	else
		series_sample(x->s, x->t_measure, util_now_ns());
	if (!r->quiet && isatty(STDERR_FILENO))
		fprintf(stderr, "\n");
	return ret;
}

/* Phase 4: the workloads leave their loops, or are killed after the grace period. */
static void runner_stop_workloads(struct run *r, struct iter *x)
{
	uint64_t t_stop = util_now_ns();

	antagonists_stop(&r->ants); /* SIGTERM: they write their output while the workloads stop */
	x->killed = child_stop_all(r, x->kids, 2, RUNNER_STOP_GRACE_MS);
	json_object_set_new(x->it, "stop_s", json_real((double)(util_now_ns() - t_stop) / 1e9));
	json_object_set_new(x->it, "stop", json_string(x->killed ? "killed after the grace period" : "graceful"));
}

/* How the workloads ended; the first unexpected end is the iteration's status. */
static void runner_judge_exits(struct run *r, struct iter *x)
{
	for (int i = 0; i < 2; i++) {
		struct child *c = &x->kids[i];
		char how[128];

		if (c->pid <= 0)
			continue;
		child_describe_exit(c->status, how, sizeof(how));
		json_object_set_new(x->it, i == 0 ? "victim_pid" : "observer_pid", json_integer(c->pid));
		if (x->killed && WIFSIGNALED(c->status) && WTERMSIG(c->status) == SIGKILL) {
			json_object_set_new(x->it, i == 0 ? "victim_exit" : "observer_exit",
					    json_string("killed by the runner after the stop grace period"));
			continue;
		}
		json_object_set_new(x->it, i == 0 ? "victim_exit" : "observer_exit", json_string(how));
		if (WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0 && !x->died_early)
			continue;
		if (strcmp(x->status, "ok") == 0 && strcmp(r->status, "ok") == 0) {
			char what[1024];

			snprintf(what, sizeof(what), "the %s %s%s%s", c->name, how, x->arena.hdr->error[i][0] ? ": " : "",
				 x->arena.hdr->error[i]);
			if (i != 0 || !WIFSIGNALED(c->status) ||
			    !run_judge_oom(r, x->oom_before, what, &x->status, x->reason, sizeof(x->reason))) {
				x->status = "error";
				snprintf(x->reason, sizeof(x->reason), "%s", what);
			}
		}
	}
	r->victim_cpu_ns += x->kids[0].cpu_ns;
	r->observer_cpu_ns += x->kids[1].cpu_ns;
}

/* The measured phase against its duration: every overrun is recorded; one
 * past results_overrun_limit_s is an error (the workloads ran unstopped). */
static void runner_judge_overrun(struct run *r, struct iter *x)
{
	double measured = (double)(x->t_end - x->t_measure) / 1e9, duration = r->cfg.duration_s;
	double overrun = measured > duration ? measured - duration : 0, limit = results_overrun_limit_s(duration);

	json_object_set_new(x->it, "duration_s", json_real(duration));
	json_object_set_new(x->it, "measured_s", json_real(measured));
	json_object_set_new(x->it, "overrun_s", json_real(overrun));
	if (x->sampler_lost && strcmp(x->status, "ok") == 0) {
		x->status = "timeout";
		snprintf(x->reason, sizeof(x->reason), "a probe's sample did not return (waited until the run's "
			 "watchdog of %.0f s, and at least 10 s after the measured phase); the series and probe deltas "
			 "are left out", r->timeout_s);
	}
	if (overrun > limit && strcmp(x->status, "ok") == 0) {
		x->status = "error";
		snprintf(x->reason, sizeof(x->reason), "overrun: the measured phase ran %.2f s of %.2f s, %.2f s "
			 "too long (allowed: %.2f s); the runner did not stop it on time", measured, duration, overrun,
			 limit);
	}
}

/* Phase 5: what the iteration measured. */
static void runner_collect_iteration(struct run *r, struct iter *x)
{
	json_t *fs = collect_slowfs(r);

	if (fs)
		json_object_set_new(x->it, "slowfs", fs);
	json_object_set_new(x->it, "roles", collect_roles(r, &x->arena));
	if (x->sampler_lost)
		return; /* its thread may still write to the series */
	json_object_set_new(x->it, "sampling", series_sampling_json(x->s));
	json_object_set_new(x->it, "probes", collect_probes(r, x->s));
	json_object_set_new(x->it, "series", series_to_json(x->s));
}

/* Phase 6 (every path): probes stopped, status recorded, resources freed. */
static void runner_finish_iteration(struct run *r, struct iter *x)
{
	struct probe_ctx ctx = { &r->cg, &x->arena, &r->st, &r->cfg };

	for (unsigned p = 0; p < probe_count; p++)
		if (probes[p]->stop)
			probes[p]->stop(&ctx);
	antagonists_end_iteration(&r->ants);
	if (strcmp(x->status, "ok") != 0)
		run_set_status(r, x->status, "iteration %lld: %s", (long long)x->index + 1, x->reason);
	json_object_set_new(x->it, "status", json_string(x->status));
	if (*x->reason)
		json_object_set_new(x->it, "status_reason", json_string(x->reason));
	if (x->config_fd >= 0)
		close(x->config_fd);
	arena_close(&x->arena);
	series_free(x->s);
}

/* One iteration: fresh page cache, arena and workload processes. */
static json_t *runner_iteration(struct run *r, int64_t index)
{
	struct iter x = { .index = index, .it = json_object(), .arena = { .fd = -1 },
			  .kids = { CHILD_INIT("victim"), CHILD_INIT("observer") }, .config_fd = -1, .status = "ok" };

	json_object_set_new(x.it, "index", json_integer(index));
	if (runner_prepare_iteration(r, &x) < 0 || runner_start_workloads(r, &x) < 0 || runner_measure(r, &x) < 0)
		goto fail;
	runner_stop_workloads(r, &x);
	antagonists_collect(&r->ants, x.it, &x.status, x.reason, sizeof(x.reason));
	runner_judge_exits(r, &x);
	run_judge_storage(r, &x.status, x.reason, sizeof(x.reason));
	runner_judge_overrun(r, &x);
	runner_collect_iteration(r, &x);
	goto exit;
fail:
	x.status = strcmp(r->status, "ok") != 0 ? r->status : "error";
	snprintf(x.reason, sizeof(x.reason), "%s", x.err);
	if (x.arena.hdr)
		arena_set_phase(&x.arena, ARENA_STOP);
	child_stop_all(r, x.kids, 2, 10000);
	/* a victim killed while it set up: by the OOM killer (its anonymous
	 * memory over memory.max), or after slowfs died */
	if (strcmp(r->status, "ok") == 0 && x.kids[0].reaped && WIFSIGNALED(x.kids[0].status))
		run_judge_oom(r, x.oom_before, x.err, &x.status, x.reason, sizeof(x.reason));
	run_judge_storage(r, &x.status, x.reason, sizeof(x.reason));
	json_object_set_new(x.it, "roles", json_object()); /* none measured (the result format needs the key) */
exit:
	runner_finish_iteration(r, &x);
	return x.it;
}

/* --set for an option that is a scenario key (--label, --duration, ...); NULL if none. */
static char *runner_option_set(const char *name, const char *value)
{
	static const struct { const char *opt, *key; } alias[] = {
		{ "label", "label" }, { "duration", "duration_s" }, { "warmup", "warmup_s" }, { "iterations", "iterations" }
	};
	char buf[4200];

	for (size_t i = 0; i < FL_ARRAY_SIZE(alias); i++)
		if (!strcmp(name, alias[i].opt)) {
			if (!strcmp(alias[i].key, "label"))
				snprintf(buf, sizeof(buf), "label=\"%s\"", value);
			else
				snprintf(buf, sizeof(buf), "%s=%s", alias[i].key, value);
			return strdup(buf);
		}
	return NULL;
}

/* A scenario key from the command line, and the option ("set", "duration", ...) that gave it. */
struct runner_set { char *kv; const char *opt; };

/* The command line: options into r, scenario keys into sets.  0 go on,
 * 1 --help printed, -1 bad usage (said why). */
static int runner_parse_options(struct run *r, int argc, char **argv, struct runner_set *sets, int *nsets)
{
	struct option longopts[FL_ARRAY_SIZE(runner_options) + 1];
	int opt;

	util_options_getopt(runner_options, FL_ARRAY_SIZE(runner_options), longopts);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		const char *name = opt >= 0 && (size_t)opt < FL_ARRAY_SIZE(runner_options) ? runner_options[opt].name : "";
		char *end;

		if (!strcmp(name, "help")) {
			runner_usage(stdout);
			return 1;
		} else if (!strcmp(name, "quiet")) {
			r->quiet = true;
		} else if (!strcmp(name, "out")) {
			r->out_dir = optarg;
		} else if (!strcmp(name, "timeout")) {
			r->timeout_s = strtod(optarg, &end);
			if (*end || !(r->timeout_s > 0)) {
				util_err("--timeout: expected a positive number of seconds, got '%s'", optarg);
				return -1;
			}
		} else if (!strcmp(name, "set")) {
			sets[(*nsets)++] = (struct runner_set){ strdup(optarg), "set" };
		} else if (*name) {
			char *set = runner_option_set(name, optarg);

			if (set)
				sets[(*nsets)++] = (struct runner_set){ set, name };
		} else {
			fprintf(stderr, "Try 'faultline run --help'.\n");
			return -1;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: faultline run SCENARIO.json [--label L] [--duration S] [--iterations N] "
				"[--set KEY=VALUE ...] [--out DIR] [options]\nEvery option and scenario key: "
				"faultline run --help (or ./run.sh run --help); the scenarios: ./run.sh scenarios\n");
		return -1;
	}
	r->scenario_path = argv[optind];
	return 0;
}

/* Main phase 1, resolve: options, the scenario with its --set keys, the
 * output directory, the test-only stall.  0 go on, 1 --help done, -1 bad input. */
static int runner_resolve(struct run *r, int argc, char **argv)
{
	struct runner_set *sets = calloc((size_t)argc + 1, sizeof(*sets));
	char err[2048], *stall;
	int nsets = 0, ret = -1;
	int out_fd;

	if (!sets) {
		util_err("run: allocating %d options: %s", argc, strerror(errno));
		return -1;
	}
	ret = runner_parse_options(r, argc, argv, sets, &nsets);
	if (ret != 0)
		goto exit;
	ret = -1;
	if (config_load(&r->cfg, r->scenario_path, err, sizeof(err)) < 0) {
		util_err("%s", err);
		if (access(r->scenario_path, F_OK) < 0)
			runner_suggest_scenario(r->scenario_path);
		goto exit;
	}
	for (int i = 0; i < nsets; i++)
		if (config_set(&r->cfg, sets[i].kv, err, sizeof(err)) < 0) {
			/* --duration -5 is an error of --duration, not of --set */
			if (strcmp(sets[i].opt, "set") && !strncmp(err, "--set: ", 7))
				util_err("--%s: %s", sets[i].opt, err + 7);
			else
				util_err("%s", err);
			goto exit;
		}
	if (config_check(&r->cfg, r->scenario_path, err, sizeof(err)) < 0 ||
	    metrics_check_headline(r->cfg.report.headline, r->scenario_path, err, sizeof(err)) < 0 ||
	    noise_resolve(&r->cfg, r->scenario_path, err, sizeof(err)) < 0) {
		util_err("%s", err);
		goto exit;
	}
	/* a storage or output directory another user could change is refused
	 * before anything is made (docs/security.md); a missing output
	 * directory is created (0755, each component checked), as fl-report
	 * --out does */
	if (storage_check(&r->cfg, err, sizeof(err)) < 0) {
		util_err("%s", err);
		goto exit;
	}
	out_fd = util_dir_open_safe("--out", r->out_dir, UTIL_DIR_CREATE | UTIL_DIR_STICKY_OK, NULL, 0, err,
				    sizeof(err));
	if (out_fd < 0) {
		util_err("%s", err);
		goto exit;
	}
	close(out_fd);
	stall = getenv(RUNNER_TEST_STALL_ENV);
	if (stall && *stall) {
		char *end;
		unsigned long long ms = strtoull(stall, &end, 10);

		if (*end || ms > 600000) {
			util_err("run: %s: expected milliseconds (0 to 600000), got '%s'", RUNNER_TEST_STALL_ENV, stall);
			goto exit;
		}
		r->test_sample_stall_ns = ms * 1000000ull;
	}
	ret = 0;
exit:
	for (int i = 0; i < nsets; i++)
		free(sets[i].kv);
	free(sets);
	return ret;
}

/* Main phase 2, check capabilities: probes the scenario requires (-1: the
 * run exits 3), the runner's scheduling, the cgroup v2 mount. */
static int runner_check(struct run *r)
{
	/* The runner sleeps almost all the time but must wake on time while
	 * thousands of workload threads are runnable: with per-thread fair
	 * scheduling it would get 1/N of a CPU and one turn per round.  A
	 * low real-time priority puts it first when it wakes; RESET_ON_FORK
	 * gives the workloads the ordinary policy.  Priority 2: its sampler
	 * thread (series.c) runs at 1, so a sample never delays the clock. */
	struct sched_param sp = { .sched_priority = 2 };
	char err[2048];

	for (unsigned p = 0; p < probe_count; p++)
		if (probes[p]->resolve && probes[p]->resolve(&r->cfg, err, sizeof(err)) < 0) {
			util_err("%s", err);
			return -1;
		}
	if (antagonists_check(&r->cfg) < 0) /* their programs (fio, stress-ng) */
		return -1;
	if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp) == 0)
		snprintf(r->sched, sizeof(r->sched), "SCHED_FIFO priority 2 (sampler thread: 1; workloads: SCHED_OTHER)");
	else
		snprintf(r->sched, sizeof(r->sched), "SCHED_OTHER (SCHED_FIFO refused: %s): the runner may "
			 "wake late when many workload threads are runnable", strerror(errno));
	noise_place_runner(&r->cfg); /* cpus.runner; recorded per iteration (placement) */
	return 0;
}

/* Run id, start time, watchdog deadline and label. */
static void runner_identify(struct run *r)
{
	time_t now = time(NULL);
	struct tm tm;
	char release[256], *rel = util_read_file("/proc/sys/kernel/osrelease", NULL);

	if (!r->timeout_s)
		r->timeout_s = (double)r->cfg.iterations * (r->cfg.warmup_s + r->cfg.duration_s + 60) + 60;
	r->started_ns = util_now_ns();
	r->deadline_ns = r->started_ns + (uint64_t)(r->timeout_s * 1e9);
	gmtime_r(&now, &tm);
	strftime(r->started_at, sizeof(r->started_at), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(r->run_id, sizeof(r->run_id), "%04d%02d%02dT%02d%02d%02d-%d", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)getpid());
	snprintf(release, sizeof(release), "%s", rel ? rel : "unknown");
	release[strcspn(release, "\n")] = '\0';
	free(rel);
	snprintf(r->label, sizeof(r->label), "%s", r->cfg.label && *r->cfg.label ? r->cfg.label : release);
}

/* Memory pressure: the memory controller when there is one, otherwise the
 * evictor (emulated) when the scenario limits memory. */
static void runner_setup_pressure(struct run *r)
{
	bool limit = r->cfg.cg_victim.memory_max_bytes || r->cfg.cg_victim.memory_high_bytes;
	bool memcg = r->cg.created && r->cg.has_memory;
	const char *requested = config_enum_name("pressure.mode", r->cfg.pressure.mode), *how;
	json_t *resolved;

	if (r->cfg.pressure.mode == PRESSURE_AUTO)
		r->cfg.pressure.mode = limit && !memcg ? PRESSURE_EMULATE : PRESSURE_OFF;
	how = r->cfg.pressure.mode == PRESSURE_EMULATE ? "emulated" : limit && memcg ? "memory.max" : "none";
	r->pressure = json_pack("{s:s, s:s, s:I, s:I, s:I}", "mode", how, "requested", requested, "memory_max_bytes",
				(json_int_t)r->cfg.cg_victim.memory_max_bytes, "evict_bytes_per_s",
				(json_int_t)r->cfg.pressure.evict_bytes_per_s, "chunk_bytes",
				(json_int_t)r->cfg.pressure.chunk_bytes);
	resolved = config_to_json(&r->cfg);
	json_object_set(r->pressure, "methods", json_object_get(json_object_get(resolved, "pressure"), "methods"));
	json_decref(resolved);
	if (!r->quiet)
		fprintf(stderr, "faultline: memory pressure: %s\n", how);
}

/* Swap: what the swap-in variants (victim.memory anon) need; without it
 * anonymous pages cannot be paged out and touches do not fault. */
static void runner_check_swap(struct run *r)
{
	bool needed = r->cfg.victim.memory == MEMORY_ANON;
	json_int_t total;
	uint64_t anon = r->cfg.victim.file_size_bytes * (uint64_t)r->cfg.victim.file_count;
	uint64_t limit = r->cfg.cg_victim.memory_max_bytes;
	char note[600];

	r->swap = sysinfo_swap();
	total = json_integer_value(json_object_get(r->swap, "total_bytes"));
	json_object_set_new(r->swap, "needed", json_boolean(needed));
	json_object_set_new(r->swap, "status", json_string(total > 0 ? "present" : "absent"));
	if (!needed || total != 0)
		return;
	snprintf(note, sizeof(note),
		 "victim.memory is anon but the system has no swap (swap_total_bytes 0): anonymous pages cannot be "
		 "paged out, so the fault threads' touches do not fault and pswpin/pswpout stay 0; the swap-in "
		 "measurement is absent%s",
		 r->cg.created && r->cg.has_memory && limit && anon > limit
			 ? "; the anonymous memory exceeds the victim's memory.max, so expect the victim to be "
			   "OOM-killed (status oom)"
			 : "");
	json_object_set_new(r->swap, "note", json_string(note));
	fprintf(stderr, "faultline: note: %s\n", note);
}

/* Main phase 3, prepare storage.  0, or -1 with the run's status set. */
static int runner_prepare_storage(struct run *r)
{
	char err[2048];

	if (storage_prepare(&r->st, &r->cfg, err, sizeof(err)) < 0 ||
	    antagonists_prepare(&r->ants, &r->cfg, &r->cg, r->run_id, r->quiet, err, sizeof(err)) < 0) {
		run_set_status(r, util_stop_signal ? "interrupted" : "error", "%s", err);
		return -1;
	}
	r->storage_ready = true;
	return 0;
}

/* Main phase 4, set up groups: the run's cgroups (or none, said why), memory pressure, swap. */
static void runner_setup_groups(struct run *r)
{
	char err[2048];

	if (r->cg.mount[0] && cgv2_create(&r->cg, r->run_id, &r->cfg, r->st.dev, err, sizeof(err)) < 0) {
		util_err("%s (running without cgroups of its own)", err);
		json_object_set_new(r->cg.settings, "error", json_string(err));
		cgv2_teardown(&r->cg);
		r->cg.isolation = "none";
	}
	runner_setup_pressure(r);
	runner_check_swap(r);
}

/* Main phase 7, write the result (when there is anything to say) and the
 * closing lines.  FL_EXIT_OK only for a written result of status ok. */
static int runner_write_result(struct run *r, json_t *iterations)
{
	json_t *doc = collect_document(r, iterations);
	char err[2048], result_name[512], result_path[4200];
	bool wrote = false, tried = false;

	if (json_array_size(iterations) > 0 || strcmp(r->status, "ok") != 0) {
		results_name(result_name, sizeof(result_name), r->cfg.name, r->label, NULL, r->run_id);
		snprintf(result_path, sizeof(result_path), "%s/%s", r->out_dir, result_name);
		tried = true;
		if (results_write(doc, r->out_dir, result_name, err, sizeof(err)) < 0)
			util_err("%s", err);
		else
			wrote = true;
	}
	collect_print_summary(r, doc, wrote ? result_path : NULL);
	if (tried && !wrote) /* a full disk, say: the summary above is all that is left of the run */
		printf("result: NOT WRITTEN (%s): %s\n", result_path, err);
	json_decref(doc);
	return strcmp(r->status, "ok") == 0 && wrote ? FL_EXIT_OK : FL_EXIT_FAIL;
}

static void runner_free(struct run *r)
{
	antagonists_teardown(&r->ants);
	if (r->storage_ready || r->st.info)
		storage_teardown(&r->st);
	if (r->sums) {
		for (unsigned i = 0; i < role_count * ROLE_MAX_HIST; i++)
			free(r->sums[i]);
		free(r->sums);
	}
	json_decref(r->summary_counters);
	json_decref(r->summary_probes);
	json_decref(r->pressure);
	json_decref(r->swap);
	cgv2_free(&r->cg);
	config_free(&r->cfg);
}

int runner_main(int argc, char **argv)
{
	struct run r = { .status = "ok", .out_dir = "results" };
	json_t *iterations = json_array();
	int ret = FL_EXIT_USAGE, resolved;

	config_defaults(&r.cfg);
	resolved = runner_resolve(&r, argc, argv);
	if (resolved != 0) {
		ret = resolved > 0 ? FL_EXIT_OK : FL_EXIT_USAGE;
		goto exit;
	}
	if (runner_check(&r) < 0) {
		ret = FL_EXIT_NORESOURCE;
		goto exit;
	}
	/* From here on things get created: the result says how it ended. */
	runner_identify(&r);
	util_catch_stop_signals();
	r.sums = calloc(role_count * ROLE_MAX_HIST, sizeof(*r.sums));
	r.summary_counters = json_object();
	r.summary_probes = json_object();
	cgv2_detect(&r.cg);
	cgv2_reap_stale(&r.cg);
	if (!r.quiet)
		fprintf(stderr, "faultline: %s: isolation %s: %s\n", r.cfg.name, r.cg.isolation, r.cg.reason);
	if (runner_prepare_storage(&r) == 0 && noise_lock_files(&r) == 0) {
		runner_setup_groups(&r);
		for (int64_t i = 0; i < r.cfg.iterations && !run_must_stop(&r); i++)
			json_array_append_new(iterations, runner_iteration(&r, i));
	}
	/* tear down the groups before the result: their removal is part of the run */
	if (r.cg.created)
		cgv2_teardown(&r.cg);
	ret = runner_write_result(&r, iterations);
exit:
	runner_free(&r);
	json_decref(iterations);
	return ret;
}
