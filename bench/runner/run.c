/* run: the state of one run, its status and its watchdog (run.h). */
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
