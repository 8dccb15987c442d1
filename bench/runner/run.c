/* run: the state of one run, its status and its watchdog, and the causes
 * an iteration's status names (an OOM kill, the slowfs daemon's death) (run.h). */
#define _GNU_SOURCE
#include "bench/runner/run.h"
#include "lib/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void run_set_status(struct run *r, const char *status, const char *fmt, ...)
{
	va_list ap;

	if (strcmp(r->status, "ok") != 0)
		return; /* the first cause wins */
	r->status = status;
	va_start(ap, fmt);
	vsnprintf(r->status_reason, sizeof(r->status_reason), fmt, ap);
	va_end(ap);
}

bool run_must_stop(struct run *r)
{
	if (util_stop_signal) {
		run_set_status(r, "interrupted", "signal %d (%s) received", (int)util_stop_signal,
			       strsignal(util_stop_signal));
		return true;
	}
	if (util_now_ns() > r->deadline_ns) {
		run_set_status(r, "timeout", "the run's watchdog (%.0f s) expired", r->timeout_s);
		return true;
	}
	return strcmp(r->status, "ok") != 0;
}

uint64_t run_oom_kills(struct run *r)
{
	json_t *st;
	uint64_t n;

	if (!r->cg.created)
		return 0;
	st = cgv2_stats(&r->cg, CGV2_VICTIM);
	n = (uint64_t)json_number_value(json_object_get(json_object_get(st, "memory.events"), "oom_kill"));
	json_decref(st);
	return n;
}

bool run_judge_oom(struct run *r, uint64_t before, const char *what, const char **status, char *reason,
		   size_t len)
{
	uint64_t now = run_oom_kills(r);

	if (now <= before)
		return false;
	*status = "oom";
	snprintf(reason, len, "the victim was OOM-killed under memory.max %llu bytes (memory.events oom_kill of its "
		 "group %llu -> %llu): %s", (unsigned long long)r->cfg.cg_victim.memory_max_bytes,
		 (unsigned long long)before, (unsigned long long)now, what);
	return true;
}

void run_judge_storage(struct run *r, const char **status, char *reason, size_t len)
{
	char why[1024], then[1024];

	if (strcmp(r->status, "ok") != 0 || !storage_daemon_gone(&r->st, strcmp(*status, "ok") ? 1000 : 0, why,
								 sizeof(why)))
		return;
	snprintf(then, sizeof(then), "%s", reason);
	*status = "error";
	snprintf(reason, len, "%s%s%s", why, *then ? "; then " : "", then);
}
