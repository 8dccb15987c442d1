/* antagonists: the registry of kinds and the life of each antagonist in a
 * run (antagonists.h). */
#define _GNU_SOURCE
#include "bench/antagonists/antagonists.h"
#include "cgroups/cgv2.h"
#include "lib/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern const struct antagonist_kind antagonist_fio, antagonist_stressng;

/* The registry: one entry per enum config_antagonist_kind. */
const struct antagonist_kind *const antagonist_kinds[ANTAGONIST_KINDS] = {
	[ANTAGONIST_FIO] = &antagonist_fio,
	[ANTAGONIST_STRESS_NG] = &antagonist_stressng,
};

/* How long antagonists get to end after SIGTERM (fio writes its JSON then)
 * before their process group and cgroup are killed. */
#define ANTAGONISTS_GRACE_MS 10000
#define ANTAGONISTS_OOM_POLL_NS 100000000ull
#define ANTAGONISTS_DIR_PREFIX "antagonists-"

void antagonist_arg(struct antagonist *a, const char *fmt, ...)
{
	va_list ap;

	if (a->argc >= ANTAGONIST_MAX_ARGS)
		return; /* the kinds use far fewer; fio/stress-ng would then refuse the cut line */
	va_start(ap, fmt);
	vsnprintf(a->args[a->argc], sizeof(a->args[0]), fmt, ap);
	va_end(ap);
	a->argv[a->argc] = a->args[a->argc];
	a->argv[++a->argc] = NULL;
}

/* program found on PATH (an executable regular file) into out. */
static bool antagonists_which(const char *program, char *out, size_t len)
{
	const char *path = getenv("PATH");
	char *copy = strdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin");
	char *save = NULL, *dir;
	bool found = false;

	for (dir = copy ? strtok_r(copy, ":", &save) : NULL; dir && !found; dir = strtok_r(NULL, ":", &save)) {
		struct stat sb;

		snprintf(out, len, "%s/%s", *dir ? dir : ".", program);
		found = stat(out, &sb) == 0 && S_ISREG(sb.st_mode) && access(out, X_OK) == 0;
	}
	free(copy);
	return found;
}

/* In a forked child: every descriptor from first up closed (the runner's
 * arena, config and storage descriptors, other children's gates, are none
 * of its business). */
static void antagonists_close_fds(int first)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)first, ~0u, 0u) == 0)
		return;
#endif
	for (int fd = first; fd < 4096; fd++)
		close(fd);
}

uint64_t antagonist_meminfo(const char *key)
{
	char *text = util_read_file("/proc/meminfo", NULL), *p = text ? strstr(text, key) : NULL;
	uint64_t kib = p && p[strlen(key)] == ':' ? strtoull(p + strlen(key) + 1, NULL, 10) : 0;

	free(text);
	return kib * 1024;
}

int antagonist_capture(const char *program, char *const args[], char *out, size_t len, unsigned timeout_s)
{
	int pipefd[2], status = -1;
	size_t used = 0;
	uint64_t limit = util_now_ns() + timeout_s * 1000000000ull;
	bool cut = false;
	pid_t pid;

	out[0] = '\0';
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		setpgid(0, 0); /* Ctrl-C reaches the runner, which stops it */
		dup2(pipefd[1], STDOUT_FILENO);
		dup2(pipefd[1], STDERR_FILENO);
		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		antagonists_close_fds(3);
		execv(program, args);
		_exit(127);
	}
	close(pipefd[1]);
	if (pid < 0) {
		close(pipefd[0]);
		return -1;
	}
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	for (;;) {
		ssize_t n = read(pipefd[0], out + used, len - 1 - used);

		if (n > 0) {
			used += (size_t)n;
			out[used] = '\0';
			if (used < len - 1)
				continue;
		}
		cut = util_now_ns() > limit || util_stop_signal;
		if (n == 0 || used == len - 1 || cut || (n < 0 && errno != EAGAIN && errno != EINTR))
			break;
		usleep(2000);
	}
	close(pipefd[0]);
	if (cut)
		kill(pid, SIGKILL); /* our own child, by pid */
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) && !cut ? WEXITSTATUS(status) : -1;
}

/* The program, its version and the kind's own checks, for antagonist i. */
static int antagonists_resolve(struct antagonist *a, const struct config *c, const struct config_antagonist *cfg,
			       char *err, size_t errlen)
{
	char *args[] = { (char *)"", (char *)"--version", NULL };

	memset(a, 0, sizeof(*a));
	a->cfg = cfg;
	a->kind = antagonist_kinds[cfg->kind];
	a->pid = -1;
	a->gate = -1;
	if (!antagonists_which(a->kind->name, a->program, sizeof(a->program))) {
		snprintf(err, errlen, "antagonists.%s: kind %s needs the program %s, which is not on PATH: install the "
			 "Debian package %s (./run.sh run installs it when a scenario needs it)", cfg->name, a->kind->name,
			 a->kind->name, a->kind->name);
		return -1;
	}
	args[0] = (char *)a->kind->name;
	antagonist_capture(a->program, args, a->version, sizeof(a->version), 10);
	a->version[strcspn(a->version, "\n")] = '\0';
	return a->kind->check ? a->kind->check(a, c, err, errlen) : 0;
}

int antagonists_check(const struct config *cfg)
{
	struct antagonist *a = calloc(1, sizeof(*a));
	char err[1024];
	int ret = 0;

	for (int64_t i = 0; a && i < cfg->n_antagonists && ret == 0; i++)
		if (antagonists_resolve(a, cfg, &cfg->antagonists[i], err, sizeof(err)) < 0) {
			util_err("%s", err);
			ret = -1;
		}
	free(a);
	return a ? ret : -1;
}

/* Remove what runners that are gone left in storage.path: their
 * antagonists-PID-* directories (files and empty subdirectories). */
static void antagonists_reap_stale(const char *storage_path)
{
	char err[512];
	int fd = util_dir_open_safe("antagonists: storage.path", storage_path, 0, NULL, 0, err, sizeof(err));
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	if (fd >= 0 && !d)
		close(fd);
	while (d && (de = readdir(d))) {
		int pid, sub;
		DIR *inner;
		struct stat sb;
		struct dirent *e;

		if (sscanf(de->d_name, ANTAGONISTS_DIR_PREFIX "%d-", &pid) != 1 || pid <= 0 ||
		    (kill(pid, 0) == 0 || errno != ESRCH) ||
		    fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(sb.st_mode))
			continue; /* not ours, or its runner is alive */
		fprintf(stderr, "faultline: removing %s/%s left by runner %d, which is gone\n", storage_path, de->d_name,
			pid);
		sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		inner = sub >= 0 ? fdopendir(sub) : NULL;
		while (inner && (e = readdir(inner)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
			    unlinkat(dirfd(inner), e->d_name, 0) < 0 && errno == EISDIR)
				unlinkat(dirfd(inner), e->d_name, AT_REMOVEDIR);
		if (inner)
			closedir(inner);
		else if (sub >= 0)
			close(sub);
		unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR);
	}
	if (d)
		closedir(d);
}

int antagonists_prepare(struct antagonists *as, const struct config *cfg, struct cgv2 *cg, const char *run_id,
			bool quiet, char *err, size_t errlen)
{
	char resolved[4096];
	int fd;

	memset(as, 0, sizeof(*as));
	as->cfg = cfg;
	as->cg = cg;
	as->quiet = quiet;
	if (cfg->storage.path && cfg->storage.path[0] == '/')
		antagonists_reap_stale(cfg->storage.path);
	if (cfg->n_antagonists == 0)
		return 0;
	fd = util_dir_open_safe("antagonists: storage.path", cfg->storage.path, UTIL_DIR_CREATE, resolved,
				sizeof(resolved), err, errlen);
	if (fd < 0)
		return -1;
	snprintf(as->dir, sizeof(as->dir), "%s/" ANTAGONISTS_DIR_PREFIX "%d-%s", resolved, (int)getpid(), run_id);
	if (mkdirat(fd, strrchr(as->dir, '/') + 1, 0700) < 0) {
		snprintf(err, errlen, "antagonists: mkdir %s: %s", as->dir, strerror(errno));
		as->dir[0] = '\0';
		close(fd);
		return -1;
	}
	close(fd);
	for (int64_t i = 0; i < cfg->n_antagonists; i++) {
		struct antagonist *a = &as->a[i];

		if (antagonists_resolve(a, cfg, &cfg->antagonists[i], err, errlen) < 0)
			return -1;
		as->n++;
		snprintf(a->output, sizeof(a->output), "%s/%s.out", as->dir, a->cfg->name);
		snprintf(a->log, sizeof(a->log), "%s/%s.log", as->dir, a->cfg->name);
		if (!quiet)
			fprintf(stderr, "faultline: antagonist %s: %s (%s)%s\n", a->cfg->name, a->program, a->version,
				a->kind->prepare ? ", preparing its files" : "");
		if (a->kind->prepare && a->kind->prepare(a, cfg, as->dir, err, errlen) < 0)
			return -1;
	}
	return 0;
}

/* The system's OOM kills so far (/proc/vmstat oom_kill; 0 when absent). */
static uint64_t antagonists_oom_kills(void)
{
	char *text = util_read_file("/proc/vmstat", NULL), *p = text ? strstr(text, "\noom_kill ") : NULL;
	uint64_t n = p ? strtoull(p + 10, NULL, 10) : 0;

	free(text);
	return n;
}

/* The forked child: its limits, its log, wait at the gate, exec. */
static void __attribute__((noreturn)) antagonists_child(const struct antagonist *a, int gate_rd, pid_t parent)
{
	int log = open(a->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	char c;

	setpgid(0, 0); /* its own process group: Ctrl-C reaches the runner, which stops it in order */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(126);
	/* the OOM killer takes the antagonist before anything of the user's */
	util_write_string("/proc/self/oom_score_adj", "1000");
	if (a->rlimit_data_bytes) {
		struct rlimit rl = { a->rlimit_data_bytes, a->rlimit_data_bytes };

		setrlimit(RLIMIT_DATA, &rl); /* a hard bound on each of its processes' memory */
	}
	if (log >= 0) {
		dup2(log, STDOUT_FILENO);
		dup2(log, STDERR_FILENO);
	}
	if (devnull >= 0)
		dup2(devnull, STDIN_FILENO);
	/* only its gate (as fd 3, close-on-exec) from here on */
	if (gate_rd != 3 && dup2(gate_rd, 3) < 0)
		_exit(126);
	fcntl(3, F_SETFD, FD_CLOEXEC);
	antagonists_close_fds(4);
	if (read(3, &c, 1) != 1)
		_exit(126); /* the runner gave up on it */
	execv(a->program, a->argv);
	fprintf(stderr, "faultline: exec %s: %s\n", a->program, strerror(errno));
	_exit(127);
}

static void antagonists_kill(struct antagonists *as, struct antagonist *a)
{
	if (a->gate >= 0)
		close(a->gate);
	a->gate = -1;
	if (a->pid <= 0 || a->reaped)
		return;
	kill(-a->pid, SIGKILL); /* its own process group (stress-ng's workers), which it leads */
	kill(a->pid, SIGKILL);  /* our own child, by pid */
	a->killed = true;
	if (as->cg && as->cg->created && a->cfg->group == ANTAGONIST_GROUP_ANTAGONIST)
		cgv2_kill_group(as->cg, CGV2_ANTAGONIST, 2000);
}

static bool antagonists_reap(struct antagonist *a, bool block)
{
	struct rusage ru;

	if (a->pid <= 0 || a->reaped)
		return true;
	if (wait4(a->pid, &a->status, block ? 0 : WNOHANG, &ru) == a->pid) {
		a->reaped = true;
		a->ended_ns = util_now_ns();
		a->cpu_ns = (uint64_t)ru.ru_utime.tv_sec * 1000000000ull + (uint64_t)ru.ru_utime.tv_usec * 1000ull +
			    (uint64_t)ru.ru_stime.tv_sec * 1000000000ull + (uint64_t)ru.ru_stime.tv_usec * 1000ull;
	}
	return a->reaped;
}

int antagonists_spawn(struct antagonists *as, char *err, size_t errlen)
{
	as->oom_before = antagonists_oom_kills();
	as->oom_seen = false;
	for (int i = 0; i < as->n; i++) {
		struct antagonist *a = &as->a[i];
		int gate[2];
		pid_t parent = getpid();

		a->argc = 0;
		a->argv[0] = NULL;
		a->rlimit_data_bytes = 0;
		a->reaped = a->stop_sent = a->killed = a->early = false;
		a->released_ns = a->ended_ns = a->cpu_ns = 0;
		json_decref(a->resolved);
		a->resolved = json_object();
		unlink(a->output);
		unlink(a->log);
		if (a->kind->command(a, as->cfg, as->dir, err, errlen) < 0)
			return -1;
		if (pipe2(gate, O_CLOEXEC) < 0) {
			snprintf(err, errlen, "antagonists: pipe: %s", strerror(errno));
			return -1;
		}
		a->pid = fork();
		if (a->pid == 0) {
			close(gate[1]);
			antagonists_child(a, gate[0], parent);
		}
		close(gate[0]);
		if (a->pid < 0) {
			snprintf(err, errlen, "antagonists: fork for %s: %s", a->cfg->name, strerror(errno));
			close(gate[1]);
			return -1;
		}
		a->gate = gate[1];
		setpgid(a->pid, a->pid); /* as the child does: no window where a group kill misses it */
		if (as->cg && as->cg->created &&
		    cgv2_attach(as->cg, a->cfg->group == ANTAGONIST_GROUP_VICTIM ? CGV2_VICTIM : CGV2_ANTAGONIST, a->pid,
				err, errlen) < 0) {
			antagonists_kill(as, a);
			antagonists_reap(a, true);
			return -1;
		}
	}
	return 0;
}

void antagonists_release(struct antagonists *as)
{
	for (int i = 0; i < as->n; i++) {
		struct antagonist *a = &as->a[i];

		if (a->gate < 0)
			continue;
		if (write(a->gate, "g", 1) != 1)
			antagonists_kill(as, a); /* judged as an early end */
		else {
			close(a->gate);
			a->gate = -1;
		}
		a->released_ns = util_now_ns();
	}
}

bool antagonists_died(struct antagonists *as)
{
	bool memory = false, died = false;

	for (int i = 0; i < as->n; i++) {
		struct antagonist *a = &as->a[i];

		if (a->pid <= 0 || a->stop_sent)
			continue;
		memory |= a->kind->oom != NULL;
		if (!a->reaped && antagonists_reap(a, false)) {
			a->early = true;
			died = true;
		}
	}
	if (memory && util_now_ns() - as->oom_checked_ns > ANTAGONISTS_OOM_POLL_NS) {
		as->oom_checked_ns = util_now_ns();
		as->oom_seen |= antagonists_oom_kills() > as->oom_before;
	}
	return died || as->oom_seen;
}

void antagonists_stop(struct antagonists *as)
{
	for (int i = 0; i < as->n; i++) {
		struct antagonist *a = &as->a[i];

		if (a->pid <= 0 || a->reaped || a->stop_sent)
			continue;
		a->stop_sent = true;
		if (a->gate >= 0)
			antagonists_kill(as, a); /* never released: nothing to stop gracefully */
		else
			kill(a->pid, SIGTERM); /* our own child, by pid: fio and stress-ng end and write their output */
	}
}

/* The last non-empty line of a's log, for a reason. */
static void antagonists_last_line(const struct antagonist *a, char *out, size_t len)
{
	char *text = util_read_file(a->log, NULL), *end, *start;

	out[0] = '\0';
	if (!text)
		return;
	end = text + strlen(text);
	while (end > text && (end[-1] == '\n' || end[-1] == ' '))
		*--end = '\0';
	start = strrchr(text, '\n');
	snprintf(out, len, "%s", start ? start + 1 : text);
	free(text);
}

/* One antagonist's entry of iterations[i].antagonists. */
static json_t *antagonists_entry(const struct antagonists *as, const struct antagonist *a)
{
	bool in_victim = a->cfg->group == ANTAGONIST_GROUP_VICTIM;
	json_t *o = json_object(), *argv = json_array();
	char how[160], line[512];

	for (int k = 0; k < a->argc; k++)
		json_array_append_new(argv, json_string(a->argv[k]));
	if (!a->reaped)
		snprintf(how, sizeof(how), "not started");
	else if (WIFEXITED(a->status))
		snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(a->status));
	else if (WIFSIGNALED(a->status))
		snprintf(how, sizeof(how), "killed by signal %d (%s)", WTERMSIG(a->status), strsignal(WTERMSIG(a->status)));
	else
		snprintf(how, sizeof(how), "status 0x%x", a->status);
	antagonists_last_line(a, line, sizeof(line));
	json_object_set_new(o, "kind", json_string(a->kind->name));
	json_object_set_new(o, "group", json_string(in_victim ? "victim" : "antagonist"));
	json_object_set_new(o, "cgroup", json_string(as->cg && as->cg->created
							 ? as->cg->path[in_victim ? CGV2_VICTIM : CGV2_ANTAGONIST]
							 : "none (the runner's own: the run has no groups)"));
	json_object_set_new(o, "program", json_string(a->program));
	json_object_set_new(o, "version", json_string(a->version));
	json_object_set_new(o, "argv", argv);
	json_object_set_new(o, "pid", json_integer(a->pid));
	json_object_set_new(o, "exit", json_string(how));
	json_object_set_new(o, "stop", json_string(a->early	 ? "ended before the workloads were stopped"
						   : a->killed ? "killed after the grace period"
							       : "graceful (SIGTERM)"));
	json_object_set_new(o, "ran_s", json_real(a->released_ns && a->ended_ns > a->released_ns
							  ? (double)(a->ended_ns - a->released_ns) / 1e9
							  : 0.0));
	json_object_set_new(o, "cpu_ns", json_integer((json_int_t)a->cpu_ns));
	json_object_set_new(o, "log_last_line", json_string(line));
	json_object_update(o, a->resolved);
	return o;
}

void antagonists_collect(struct antagonists *as, json_t *it, const char **status, char *reason, size_t len)
{
	uint64_t limit = util_now_ns() + ANTAGONISTS_GRACE_MS * 1000000ull, oom;
	json_t *all = json_object();

	if (as->n == 0) {
		json_decref(all);
		return;
	}
	antagonists_stop(as);
	for (bool done = false; !done && util_now_ns() < limit;) {
		done = true;
		for (int i = 0; i < as->n; i++)
			done &= antagonists_reap(&as->a[i], false);
		if (!done)
			usleep(10000);
	}
	for (int i = 0; i < as->n; i++) {
		if (!as->a[i].reaped)
			antagonists_kill(as, &as->a[i]);
		antagonists_reap(&as->a[i], true);
	}
	oom = antagonists_oom_kills() - as->oom_before;
	for (int i = 0; i < as->n; i++) {
		struct antagonist *a = &as->a[i];
		json_t *o;
		char line[512];

		if (a->kind->collect)
			a->kind->collect(a, a->resolved);
		json_object_set_new(a->resolved, "oom_kills_system", json_integer((json_int_t)oom));
		o = antagonists_entry(as, a);
		json_object_set_new(all, a->cfg->name, o);
		if (strcmp(*status, "ok") != 0)
			continue;
		antagonists_last_line(a, line, sizeof(line));
		if (oom > 0 && a->kind->oom && a->kind->oom(a, oom)) {
			*status = "antagonist-oom";
			snprintf(reason, len, "the OOM killer acted %llu time(s) while the %s antagonist '%s' ran "
				 "(/proc/vmstat oom_kill; it is the first choice, oom_score_adj 1000); the run stops here: "
				 "%s%s%s", (unsigned long long)oom, a->kind->name, a->cfg->name,
				 json_string_value(json_object_get(o, "exit")), *line ? ": " : "", line);
		} else if (a->early) {
			*status = "error";
			snprintf(reason, len, "the %s antagonist '%s' ended before the workloads were stopped: %s%s%s",
				 a->kind->name, a->cfg->name, json_string_value(json_object_get(o, "exit")), *line ? ": " : "",
				 line);
		}
	}
	json_object_set_new(it, "antagonists", all);
}

void antagonists_end_iteration(struct antagonists *as)
{
	for (int i = 0; i < as->n; i++) {
		struct antagonist *a = &as->a[i];

		if (a->pid > 0 && !a->reaped) {
			antagonists_kill(as, a);
			antagonists_reap(a, true);
		}
		a->pid = -1;
	}
}

void antagonists_teardown(struct antagonists *as)
{
	DIR *d;
	struct dirent *e;

	antagonists_end_iteration(as);
	for (int i = 0; i < as->n; i++) {
		json_decref(as->a[i].resolved);
		as->a[i].resolved = NULL;
	}
	if (!as->dir[0])
		return;
	/* what the kinds made (fio's file, outputs, logs, stress-ng's temporary
	 * directories): the directory is the run's own */
	d = opendir(as->dir);
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && unlinkat(dirfd(d), e->d_name, 0) < 0 &&
		    errno == EISDIR)
			unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
	if (d)
		closedir(d);
	if (rmdir(as->dir) < 0)
		fprintf(stderr, "faultline: antagonists: could not remove %s: %s\n", as->dir, strerror(errno));
	as->dir[0] = '\0';
}
