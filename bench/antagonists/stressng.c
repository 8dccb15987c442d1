/* stressng: memory pressure from stress-ng (antagonists.h).  Anonymous
 * memory that the kernel must find room for, so the victim's page cache is
 * reclaimed by the kernel's own reclaim (shadow entries, refaults) with no
 * lock taken on the victim's behalf, unlike the evictor's MADV_PAGEOUT.
 *
 * The machine must survive it: its size is read from /proc/meminfo when
 * each iteration starts and bounded by MemAvailable minus a margin
 * (stressng_bytes); each of its processes gets RLIMIT_DATA at its share
 * plus 16 MiB (the bigheap stressor, which only grows, stops there); it
 * runs with oom_score_adj 1000 and --oomable (a worker the OOM killer takes
 * is not restarted), and an OOM kill while it runs ends the run with status
 * antagonist-oom (antagonists.c). */
#define _GNU_SOURCE
#include "bench/antagonists/antagonists.h"
#include "lib/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define GiB (1024ull * 1024 * 1024)
#define MiB (1024ull * 1024)
/* RLIMIT_DATA above each worker's share: stress-ng's own heap and stacks */
#define STRESSNG_SLACK_BYTES (16 * MiB)
/* the least worth running: below it the margin has eaten the machine */
#define STRESSNG_MIN_BYTES (16 * MiB)

static const char *const stressng_names[] = { [STRESSOR_VM] = "vm", [STRESSOR_BIGHEAP] = "bigheap",
					      [STRESSOR_MMAP] = "mmap" };

uint64_t stressng_bytes(uint64_t requested, uint64_t mem_total, uint64_t mem_available, uint64_t *bound_out)
{
	uint64_t quarter = mem_total / 4, margin = mem_total / 10, bound;

	if ((quarter < 2 * GiB ? quarter : 2 * GiB) > margin)
		margin = quarter < 2 * GiB ? quarter : 2 * GiB;
	bound = mem_available > margin ? mem_available - margin : 0;
	if (bound_out)
		*bound_out = bound;
	return requested == 0 || requested > bound ? bound : requested;
}

static int stressng_check(struct antagonist *a, const struct config *cfg, char *err, size_t errlen)
{
	uint64_t bound, total = antagonist_meminfo("MemTotal"), avail = antagonist_meminfo("MemAvailable");

	(void)cfg;
	stressng_bytes(a->cfg->stress_ng.bytes, total, avail, &bound);
	if (bound < STRESSNG_MIN_BYTES) {
		snprintf(err, errlen, "antagonists.%s: no room for stress-ng: MemAvailable %llu bytes of MemTotal %llu "
			 "leaves %llu bytes above the safety margin (at least %llu needed)", a->cfg->name,
			 (unsigned long long)avail, (unsigned long long)total, (unsigned long long)bound,
			 (unsigned long long)STRESSNG_MIN_BYTES);
		return -1;
	}
	return 0;
}

static int stressng_command(struct antagonist *a, const struct config *cfg, const char *dir, char *err,
			    size_t errlen)
{
	const struct config_antagonist *c = a->cfg;
	const char *s = stressng_names[c->stress_ng.stressor];
	uint64_t bound, total = antagonist_meminfo("MemTotal"), avail = antagonist_meminfo("MemAvailable");
	uint64_t bytes = stressng_bytes(c->stress_ng.bytes, total, avail, &bound);
	uint64_t share = bytes / (uint64_t)c->stress_ng.workers;

	if (bytes < STRESSNG_MIN_BYTES) {
		snprintf(err, errlen, "antagonists.%s: no room for stress-ng now: MemAvailable %llu bytes leaves %llu "
			 "above the safety margin", c->name, (unsigned long long)avail, (unsigned long long)bound);
		return -1;
	}
	if (c->stress_ng.bytes > bound)
		fprintf(stderr, "faultline: antagonist %s: %llu bytes asked, %llu run (MemAvailable %llu minus the "
			"safety margin)\n", c->name, (unsigned long long)c->stress_ng.bytes, (unsigned long long)bytes,
			(unsigned long long)avail);
	a->rlimit_data_bytes = share + STRESSNG_SLACK_BYTES;
	antagonist_arg(a, "stress-ng");
	antagonist_arg(a, "--%s", s);
	antagonist_arg(a, "%lld", (long long)c->stress_ng.workers);
	if (c->stress_ng.stressor == STRESSOR_VM) {
		antagonist_arg(a, "--vm-bytes");
		antagonist_arg(a, "%llub", (unsigned long long)bytes); /* all workers together (stress-ng divides) */
		antagonist_arg(a, "--vm-keep");                        /* keep its memory, rewriting it */
	} else if (c->stress_ng.stressor == STRESSOR_MMAP) {
		antagonist_arg(a, "--mmap-bytes");
		antagonist_arg(a, "%llub", (unsigned long long)bytes);
	} else {
		antagonist_arg(a, "--bigheap-growth");
		antagonist_arg(a, "4m"); /* grows to RLIMIT_DATA within seconds, starts again */
	}
	if (c->stress_ng.page_in)
		antagonist_arg(a, "--page-in");
	antagonist_arg(a, "--oomable");
	antagonist_arg(a, "--timeout");
	antagonist_arg(a, "%llds", (long long)(cfg->warmup_s + cfg->duration_s) + 60);
	antagonist_arg(a, "--metrics-brief");
	antagonist_arg(a, "--yaml");
	antagonist_arg(a, "%s", a->output);
	antagonist_arg(a, "--temp-path");
	antagonist_arg(a, "%s", dir);
	json_object_set_new(a->resolved, "stressor", json_string(s));
	json_object_set_new(a->resolved, "workers", json_integer(c->stress_ng.workers));
	json_object_set_new(a->resolved, "bytes_requested", json_integer((json_int_t)c->stress_ng.bytes));
	json_object_set_new(a->resolved, "bytes", json_integer((json_int_t)bytes));
	json_object_set_new(a->resolved, "bytes_bound", json_integer((json_int_t)bound));
	json_object_set_new(a->resolved, "mem_total_bytes", json_integer((json_int_t)total));
	json_object_set_new(a->resolved, "mem_available_bytes", json_integer((json_int_t)avail));
	json_object_set_new(a->resolved, "rlimit_data_bytes", json_integer((json_int_t)a->rlimit_data_bytes));
	return 0;
}

void stressng_parse_yaml(const char *text, json_t *out)
{
	static const struct { const char *yaml, *key; double scale; } keys[] = {
		{ "bogo-ops", "bogo_ops", 1 },
		{ "bogo-ops-per-second-real-time", "bogo_ops_per_s", 1 },
		{ "wall-clock-time", "wall_clock_s", 1 },
		{ "user-time", "user_s", 1 },
		{ "system-time", "system_s", 1 },
		{ "max-rss", "max_rss_bytes", 1024 }, /* getrusage's KiB */
	};
	const char *p = text ? strstr(text, "\nmetrics:") : NULL;

	/* "metrics:" then "    - stressor: NAME" and "      key: value" lines,
	 * until the next unindented line: the first stressor's numbers */
	for (p = p ? strchr(p + 1, '\n') : NULL; p && p[1] == ' '; p = strchr(p + 1, '\n')) {
		const char *line = p + 1, *colon = strchr(line, ':'), *nl = strchr(line, '\n');
		size_t ind = strspn(line, " -");

		if (!colon || (nl && colon > nl))
			continue;
		for (size_t k = 0; k < FL_ARRAY_SIZE(keys); k++)
			if ((size_t)(colon - line - ind) == strlen(keys[k].yaml) &&
			    !strncmp(line + ind, keys[k].yaml, strlen(keys[k].yaml)) && !json_object_get(out, keys[k].key))
				json_object_set_new(out, keys[k].key, json_real(strtod(colon + 1, NULL) * keys[k].scale));
	}
}

static void stressng_collect(struct antagonist *a, json_t *out)
{
	/* stress-ng's exit statuses (its manual, "EXIT STATUS") */
	static const char *const meaning[] = {
		"success", "error: bad options or a fatal issue", "one or more stressors failed",
		"a stressor could not start for lack of resources", "a stressor is not implemented here",
		"killed by an unexpected signal", "ended by a system exit", "metrics untrustworthy",
	};
	char *text = util_read_file(a->output, NULL);

	if (text)
		stressng_parse_yaml(text, out);
	else
		json_object_set_new(out, "output_error", json_string("stress-ng wrote no YAML (killed before it could)"));
	free(text);
	if (a->reaped && WIFEXITED(a->status)) {
		int st = WEXITSTATUS(a->status);

		json_object_set_new(out, "exit_status", json_integer(st));
		json_object_set_new(out, "exit_meaning",
				    json_string(st < (int)FL_ARRAY_SIZE(meaning) ? meaning[st] : "unknown"));
	}
}

/* Any OOM kill while it ran is its doing: it is the reason memory ran out,
 * and with oom_score_adj 1000 its workers are the killer's first choice. */
static bool stressng_oom(const struct antagonist *a, uint64_t oom_kills)
{
	(void)a;
	return oom_kills > 0;
}

const struct antagonist_kind antagonist_stressng = {
	.name = "stress-ng",
	.check = stressng_check,
	.command = stressng_command,
	.collect = stressng_collect,
	.oom = stressng_oom,
};
