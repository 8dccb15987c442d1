/* config: the scenario options table and everything it drives (config.h). */
#define _GNU_SOURCE
#include "lib/config.h"
#include "lib/config_internal.h"
#include "lib/util.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#define OPT(p, t, field, lo, hi, d, ch, h) { p, t, offsetof(struct config, field), lo, hi, d, ch, h }
#define GiB (1024.0 * 1024 * 1024)
#define TiB (1024.0 * GiB)

/* Choice lists of the ENUM and SET options: each name with its value. */
static const struct config_choice choices_memory[] = {
	{ "file", MEMORY_FILE }, { "anon", MEMORY_ANON }, { NULL, 0 },
};
static const struct config_choice choices_pattern[] = {
	{ "sequential", PATTERN_SEQUENTIAL }, { "random", PATTERN_RANDOM }, { "zipf", PATTERN_ZIPF }, { "stride", PATTERN_STRIDE }, { NULL, 0 },
};
static const struct config_choice choices_map[] = {
	{ "shared", MAP_KIND_SHARED }, { "private", MAP_KIND_PRIVATE }, { NULL, 0 },
};
static const struct config_choice choices_advice[] = {
	{ "none", ADVICE_NONE }, { "random", ADVICE_RANDOM }, { "sequential", ADVICE_SEQUENTIAL }, { NULL, 0 },
};
static const struct config_choice choices_pass_end[] = {
	{ "dontneed", PASS_END_DONTNEED }, { "none", PASS_END_NONE }, { "pageout", PASS_END_PAGEOUT }, { NULL, 0 },
};
static const struct config_choice choices_classify[] = {
	{ "rusage", CLASSIFY_RUSAGE }, { "none", CLASSIFY_NONE }, { NULL, 0 },
};
static const struct config_choice choices_writer_ops[] = {
	{ "mmap_munmap", WRITER_OP_MMAP_MUNMAP }, { "mprotect", WRITER_OP_MPROTECT }, { "madvise_dontneed", WRITER_OP_MADVISE_DONTNEED }, { NULL, 0 },
};
static const struct config_choice choices_writer_target[] = {
	{ "own", WRITER_TARGET_OWN }, { "fault_vma", WRITER_TARGET_FAULT_VMA }, { NULL, 0 },
};
static const struct config_choice choices_procfiles[] = {
	{ "cmdline", 1 << PROCFILE_CMDLINE }, { "environ", 1 << PROCFILE_ENVIRON }, { "maps", 1 << PROCFILE_MAPS }, { "smaps", 1 << PROCFILE_SMAPS }, { "smaps_rollup", 1 << PROCFILE_SMAPS_ROLLUP }, { "numa_maps", 1 << PROCFILE_NUMA_MAPS }, { "status", 1 << PROCFILE_STATUS }, { "statm", 1 << PROCFILE_STATM }, { NULL, 0 },
};
static const struct config_choice choices_gup_methods[] = {
	{ "process_vm_readv", GUP_PROCESS_VM_READV }, { "proc_mem", GUP_PROC_MEM }, { NULL, 0 },
};
static const struct config_choice choices_storage[] = {
	{ "dir", STORAGE_DIR }, { "slowfs", STORAGE_SLOWFS }, { NULL, 0 },
};
static const struct config_choice choices_jitter[] = {
	{ "none", JITTER_NONE }, { "uniform", JITTER_UNIFORM }, { "exponential", JITTER_EXPONENTIAL }, { "lognormal", JITTER_LOGNORMAL }, { NULL, 0 },
};
static const struct config_choice choices_pressure[] = {
	{ "auto", PRESSURE_AUTO }, { "off", PRESSURE_OFF }, { "emulate", PRESSURE_EMULATE }, { NULL, 0 },
};
static const struct config_choice choices_evict_methods[] = {
	{ "fadvise", EVICT_FADVISE }, { "pageout", EVICT_PAGEOUT }, { NULL, 0 },
};
static const struct config_choice choices_probe_mode[] = {
	{ "auto", PROBE_AUTO }, { "on", PROBE_ON }, { "off", PROBE_OFF }, { NULL, 0 },
};
static const struct config_choice choices_probe_format[] = {
	{ "auto", PROBE_FORMAT_AUTO }, { "raw", PROBE_FORMAT_RAW }, { "text", PROBE_FORMAT_TEXT }, { NULL, 0 },
};
static const struct config_choice choices_iteration_seed[] = {
	{ "fresh", ITERATION_SEED_FRESH }, { "vary", ITERATION_SEED_VARY }, { "same", ITERATION_SEED_SAME }, { NULL, 0 },
};

const struct config_option config_options[] = {
	OPT("name", CONFIG_STRING, name, 0, 0, "\"unnamed\"", NULL, "scenario name, recorded in results"),
	OPT("description", CONFIG_STRING, description, 0, 0, "\"\"", NULL, "what the scenario reproduces"),
	OPT("label", CONFIG_STRING, label, 0, 0, "\"\"", NULL,
	    "label of this run (kernel or patch name); empty = the kernel release"),
	OPT("duration_s", CONFIG_DOUBLE, duration_s, 0.1, 86400, "60", NULL, "measured phase per iteration, seconds"),
	OPT("warmup_s", CONFIG_DOUBLE, warmup_s, -1, 3600, "-1", NULL,
	    "seconds the roles run before measuring (samples not recorded); -1 = 20% of duration_s, at most 2 s, "
	    "recorded as the seconds it resolved to (docs/noise.md: the first seconds differ)"),
	OPT("iterations", CONFIG_INT, iterations, 1, 1000, "1", NULL,
	    "iterations; each starts with the files' pages dropped from the page cache"),
	OPT("seed", CONFIG_INT, seed, 0, 9007199254740991.0, "1", NULL,
	    "seed of every random choice, with iteration.seed vary or same (fresh: each iteration draws its own)"),

	OPT("victim.fault_threads", CONFIG_INT, victim.fault_threads, 0, 100000, "8", NULL,
	    "threads touching pages of the mapped files, timing each first touch"),
	OPT("victim.writer_threads", CONFIG_INT, victim.writer_threads, 0, 4096, "1", NULL,
	    "threads in the victim process doing mmap/munmap/mprotect/madvise"),
	OPT("victim.files.count", CONFIG_INT, victim.file_count, 1, 100000, "4", NULL, "number of mapped files"),
	OPT("victim.files.size_bytes", CONFIG_SIZE, victim.file_size_bytes, 4096, 1024 * TiB, "\"64M\"", NULL,
	    "size of each file (integer or K/M/G/T suffix); may exceed RAM"),
	OPT("victim.memory", CONFIG_ENUM, victim.memory, 0, 0, "\"file\"", choices_memory,
	    "what the fault threads touch: file = shared/private mappings of the storage's files; anon = "
	    "anonymous memory of the same total size (count x size_bytes), filled with the files' content at "
	    "set-up, pushed to swap by victim.pass_end=pageout, the evictor's pageout or memory.max, and faulted "
	    "back (swap-in); needs swap to fault at all (results say swap_total_bytes)"),
	OPT("victim.pattern", CONFIG_ENUM, victim.pattern, 0, 0, "\"random\"", choices_pattern,
	    "page order within a thread's slice: random is a permutation (each page once per pass)"),
	OPT("victim.zipf_theta", CONFIG_DOUBLE, victim.zipf_theta, 0.01, 5, "0.99", NULL,
	    "zipf skew (not 1.0); hot pages are the slice's first ones"),
	OPT("victim.stride_pages", CONFIG_INT, victim.stride_pages, 1, 1073741824.0, "16", NULL,
	    "stride pattern: pages between touches (wrapping with an offset per lap)"),
	OPT("victim.write_ratio", CONFIG_DOUBLE, victim.write_ratio, 0, 1, "0", NULL,
	    "share of touches that write a byte instead of reading one"),
	OPT("victim.map", CONFIG_ENUM, victim.map, 0, 0, "\"shared\"", choices_map, "MAP_SHARED or MAP_PRIVATE"),
	OPT("victim.madvise", CONFIG_ENUM, victim.advice, 0, 0, "\"none\"", choices_advice,
	    "madvise hint on the mappings (MADV_RANDOM turns readahead off)"),
	OPT("victim.pass_end", CONFIG_ENUM, victim.pass_end, 0, 0, "\"dontneed\"", choices_pass_end,
	    "after a pass over its slice a thread zaps its PTEs (dontneed: MADV_DONTNEED) so every touch faults "
	    "again, or reclaims its slice (pageout: MADV_PAGEOUT: file pages dropped with shadow entries, "
	    "anonymous pages written to swap), or leaves it (none)"),
	OPT("victim.classify", CONFIG_ENUM, victim.classify, 0, 0, "\"rusage\"", choices_classify,
	    "tell major/minor/no fault per touch from getrusage(RUSAGE_THREAD) deltas, or not at all"),
	OPT("victim.verify", CONFIG_BOOL, victim.verify, 0, 0, "false", NULL,
	    "check the content of every page faulted in (costly; tests turn it on)"),
	OPT("victim.stack_bytes", CONFIG_SIZE, victim.stack_bytes, 16384, 64.0 * 1024 * 1024, "\"64K\"", NULL,
	    "stack size of each victim thread"),
	OPT("victim.writer.ops", CONFIG_SET, victim.writer.ops, 0, 0, "[\"mmap_munmap\"]",
	    choices_writer_ops, "operations the writer threads cycle through"),
	OPT("victim.writer.rate_per_s", CONFIG_DOUBLE, victim.writer.rate_per_s, 0, 1e7, "100", NULL,
	    "operations per second per writer thread; 0 = back to back"),
	OPT("victim.writer.target", CONFIG_ENUM, victim.writer.target, 0, 0, "\"own\"", choices_writer_target,
	    "mprotect/madvise on the writer's own mapping, or on a sub-range of a faulting mapping (splits its VMA)"),
	OPT("victim.writer.map_bytes", CONFIG_SIZE, victim.writer.map_bytes, 4096, 1024.0 * 1024 * 1024, "\"64K\"",
	    NULL, "size of the writer's own mappings"),

	OPT("victim.odirect.threads", CONFIG_INT, victim.odirect.threads, 0, 4096, "0", NULL,
	    "victim threads doing O_DIRECT read()s of a storage file into a not-yet-faulted MAP_PRIVATE mapping "
	    "of another file, so get_user_pages faults the buffer in (the 2014 GUP case, victim side)"),
	OPT("victim.odirect.rate_per_s", CONFIG_DOUBLE, victim.odirect.rate_per_s, 0, 1e6, "100", NULL,
	    "O_DIRECT reads per second per odirect thread; 0 = back to back"),
	OPT("victim.odirect.bytes", CONFIG_SIZE, victim.odirect.bytes, 512, 64.0 * 1024 * 1024, "\"64K\"", NULL,
	    "bytes per O_DIRECT read (a multiple of 512, at most victim.files.size_bytes): the buffer pages "
	    "get_user_pages must fault in per read = bytes / page size"),

	OPT("observer.threads", CONFIG_INT, observer.threads, 0, 256, "1", NULL,
	    "threads in the protected group reading the victim's /proc files"),
	OPT("observer.files", CONFIG_SET, observer.files, 0, 0,
	    "[\"cmdline\", \"environ\", \"maps\", \"smaps_rollup\", \"status\"]",
	    choices_procfiles,
	    "the /proc/<victim>/ files read each cycle, each timed on its own"),
	OPT("observer.rate_per_s", CONFIG_DOUBLE, observer.rate_per_s, 0, 1e6, "20", NULL,
	    "read cycles per second per observer thread; 0 = back to back"),
	OPT("observer.ps_scan", CONFIG_BOOL, observer.ps_scan, 0, 0, "true", NULL,
	    "also scan every /proc/<pid>/cmdline like ps (one more thread)"),
	OPT("observer.ps_rate_per_s", CONFIG_DOUBLE, observer.ps_rate_per_s, 0, 1000, "1", NULL,
	    "ps scans per second; 0 = back to back"),
	OPT("observer.gup_threads", CONFIG_INT, observer.gup_threads, 0, 256, "0", NULL,
	    "threads reading the victim's file mappings from outside (get_user_pages on the victim's mm)"),
	OPT("observer.gup_methods", CONFIG_SET, observer.gup_methods, 0, 0, "[\"process_vm_readv\", \"proc_mem\"]",
	    choices_gup_methods, "how the gup threads read: process_vm_readv, pread of /proc/<victim>/mem"),
	OPT("observer.gup_rate_per_s", CONFIG_DOUBLE, observer.gup_rate_per_s, 0, 1e6, "100", NULL,
	    "reads per second per gup thread; 0 = back to back"),
	OPT("observer.gup_bytes", CONFIG_SIZE, observer.gup_bytes, 1, 1024.0 * 1024, "4096", NULL,
	    "bytes per gup read, at a random page of a random file mapping"),

	OPT("cgroup.victim.memory_max_bytes", CONFIG_SIZE, cg_victim.memory_max_bytes, 0, 1024 * TiB, "0", NULL,
	    "memory.max of the victim group; 0 = no limit"),
	OPT("cgroup.victim.memory_high_bytes", CONFIG_SIZE, cg_victim.memory_high_bytes, 0, 1024 * TiB, "0", NULL,
	    "memory.high of the victim group; 0 = no limit"),
	OPT("cgroup.victim.io_max", CONFIG_STRING, cg_victim.io_max, 0, 0, "\"\"", NULL,
	    "io.max of the victim group for the storage's device, e.g. \"rbps=1048576 riops=200\"; empty = none"),
	OPT("cgroup.victim.cpu_weight", CONFIG_INT, cg_victim.cpu_weight, 1, 10000, "100", NULL,
	    "cpu.weight of the victim group"),
	OPT("cgroup.protected.memory_low_bytes", CONFIG_SIZE, cg_protected.memory_low_bytes, 0, 1024 * TiB, "0", NULL,
	    "memory.low of the protected (observer) group"),
	OPT("cgroup.protected.io_latency_target_us", CONFIG_INT, cg_protected.io_latency_target_us, 0, 10000000,
	    "0", NULL, "io.latency target of the protected group on the storage's device; 0 = none"),
	OPT("cgroup.protected.cpu_weight", CONFIG_INT, cg_protected.cpu_weight, 1, 10000, "1000", NULL,
	    "cpu.weight of the protected group"),
	OPT("cgroup.antagonist.cpu_weight", CONFIG_INT, cg_antagonist.cpu_weight, 1, 10000, "10", NULL,
	    "cpu.weight of the antagonist group (a sibling of victim and protected, made when an antagonist "
	    "runs in it: antagonists.NAME.group)"),

	OPT("storage.type", CONFIG_ENUM, storage.type, 0, 0, "\"dir\"", choices_storage,
	    "dir: plain files in storage.path; slowfs: a FUSE file system of synthetic files"),
	OPT("storage.path", CONFIG_STRING, storage.path, 0, 0, "\"/var/tmp/faultline\"", NULL,
	    "dir: where the files are created once and reused"),
	OPT("storage.slowfs.latency_ns", CONFIG_INT, storage.slowfs.latency_ns, 0, 60e9, "1000000", NULL,
	    "slowfs: fixed service latency per read request (the median with lognormal jitter)"),
	OPT("storage.slowfs.jitter", CONFIG_ENUM, storage.slowfs.jitter, 0, 0, "\"none\"",
	    choices_jitter, "slowfs: distribution of extra latency per request"),
	OPT("storage.slowfs.jitter_ns", CONFIG_INT, storage.slowfs.jitter_ns, 0, 60e9, "0", NULL,
	    "slowfs: uniform: extra latency in [0, N]; exponential: mean extra latency"),
	OPT("storage.slowfs.p99_ns", CONFIG_INT, storage.slowfs.p99_ns, 0, 60e9, "0", NULL,
	    "slowfs: lognormal: p99 of the total latency"),
	OPT("storage.slowfs.bandwidth_bytes_per_s", CONFIG_SIZE, storage.slowfs.bandwidth_bytes_per_s, 0, 1024 * GiB,
	    "0", NULL, "slowfs: cap on bytes served per second; 0 = none"),
	OPT("storage.slowfs.max_inflight", CONFIG_INT, storage.slowfs.max_inflight, 1, 4096, "64", NULL,
	    "slowfs: read requests in service at once (the rest queue)"),
	OPT("storage.slowfs.max_request_bytes", CONFIG_SIZE, storage.slowfs.max_request_bytes, 4096,
	    1024.0 * 1024, "\"128K\"", NULL, "slowfs: largest read request (FUSE max_read)"),

	OPT("pressure.mode", CONFIG_ENUM, pressure.mode, 0, 0, "\"auto\"", choices_pressure,
	    "memory pressure: auto = memory.max when the memory controller is usable, else the evictor "
	    "when the scenario sets a memory limit; emulate = always the evictor; off = never the evictor"),
	OPT("pressure.evict_bytes_per_s", CONFIG_SIZE, pressure.evict_bytes_per_s, 4096, 1024 * TiB, "\"256M\"",
	    NULL, "evictor: file bytes dropped from the page cache per second (posix_fadvise DONTNEED)"),
	OPT("pressure.chunk_bytes", CONFIG_SIZE, pressure.chunk_bytes, 4096, 1024.0 * 1024 * 1024, "\"2M\"", NULL,
	    "evictor: bytes dropped per call, at a random offset of a random file"),
	OPT("pressure.methods", CONFIG_SET, pressure.methods, 0, 0, "[\"fadvise\", \"pageout\"]", choices_evict_methods,
	    "evictor: fadvise = posix_fadvise(DONTNEED) on the file range (no mmap_lock; unmapped pages, "
	    "dropped without a shadow entry); pageout = madvise(MADV_PAGEOUT) on the victim's mapping of it "
	    "(reclaim: mapped pages, shadow entries, so refaults are counted; takes mmap_lock for reading)"),

	OPT("probes.mmap_lock", CONFIG_ENUM, probes.mmap_lock, 0, 0, "\"auto\"", choices_probe_mode,
	    "mmap_lock tracepoint probe: auto = on when tracefs and the tracepoints are usable, else off with "
	    "the reason; on = required (the run exits 3 before creating anything when it cannot start); off = "
	    "not started.  FAULTLINE_NO_TRACE=1 in the environment overrides it (off)"),
	OPT("probes.mmap_lock_format", CONFIG_ENUM, probes.mmap_lock_format, 0, 0, "\"auto\"", choices_probe_format,
	    "how the mmap_lock probe reads the tracepoints: raw = binary ring-buffer pages (per_cpu trace_pipe_raw, "
	    "ns times); text = trace_pipe lines (us times, the older path); auto = raw, else text with the reason"),
	OPT("iteration.writeback", CONFIG_BOOL, iteration.writeback, 0, 0, "true", NULL,
	    "before each iteration's page-cache drop, write back the victim's files (fdatasync), so no dirty page "
	    "stays resident and no writeback of the previous iteration's writes overlaps the next (docs/noise.md)"),
	OPT("iteration.exclusive", CONFIG_BOOL, iteration.exclusive, 0, 0, "true", NULL,
	    "dir storage: hold an exclusive lock on the files' directory for the run, so another run on the same "
	    "files waits (the wait is recorded, storage.exclusive_wait_s) instead of warming or evicting them "
	    "under this one (docs/noise.md)"),
	OPT("iteration.seed", CONFIG_ENUM, iteration.seed, 0, 0, "\"fresh\"", choices_iteration_seed,
	    "the seed of each iteration, recorded with it: fresh = a random one, so no iteration replays the page "
	    "sequence of an earlier iteration or run, which caches below the page cache (a VM host's, a disk's) "
	    "would serve faster (docs/noise.md); vary = seed + the iteration's index; same = seed"),
	OPT("cpus.runner", CONFIG_STRING, cpus.runner, 0, 0, "\"\"", NULL,
	    "CPU list (\"0\", \"0-1\", \"0,2-3\") for the runner (its clock, sampler and probe threads); "
	    "empty = the scheduler places it.  Placement is recorded per iteration (docs/noise.md)"),
	OPT("cpus.victim", CONFIG_STRING, cpus.victim, 0, 0, "\"\"", NULL,
	    "CPU list for every thread of the victim process; empty = the CPUs the runner started with"),
	OPT("cpus.observer", CONFIG_STRING, cpus.observer, 0, 0, "\"\"", NULL,
	    "CPU list for every thread of the observer process; empty = the CPUs the runner started with"),
	OPT("cpus.fault", CONFIG_STRING, cpus.fault, 0, 0, "\"\"", NULL, "CPU list for the fault threads (over cpus.victim)"),
	OPT("cpus.writer", CONFIG_STRING, cpus.writer, 0, 0, "\"\"", NULL, "CPU list for the writer threads (over cpus.victim)"),
	OPT("cpus.evictor", CONFIG_STRING, cpus.evictor, 0, 0, "\"\"", NULL, "CPU list for the evictor thread (over cpus.victim)"),
	OPT("cpus.odirect", CONFIG_STRING, cpus.odirect, 0, 0, "\"\"", NULL, "CPU list for the odirect threads (over cpus.victim)"),
	OPT("report.headline", CONFIG_LIST, report.headline, 0, 0, "[]", NULL,
	    "the scenario's headline metrics (names from `fl-report --list-metrics`), shown first by fl-report "
	    "and tested without a multiple-comparison correction; empty = the report's default set"),
};

const size_t config_option_count = FL_ARRAY_SIZE(config_options);

static const char *config_type_names[] = { "int", "size", "number", "bool", "string", "enum", "set", "list" };

const char *config_choice_name(const struct config_choice *choices, int value)
{
	for (; choices && choices->name; choices++)
		if (choices->value == value)
			return choices->name;
	return NULL;
}

static const struct config_choice *config_choice_find(const struct config_choice *choices, const char *name)
{
	for (; choices && choices->name; choices++)
		if (strcmp(choices->name, name) == 0)
			return choices;
	return NULL;
}

const char *config_choices_text(const struct config_choice *choices, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (; choices && choices->name && used < len; choices++) {
		int n = snprintf(buf + used, len - used, "%s%s", used ? "|" : "", choices->name);

		if (n < 0)
			break;
		used += (size_t)n;
	}
	return buf;
}

static const struct config_option *config_find(const char *path)
{
	for (size_t i = 0; i < config_option_count; i++)
		if (strcmp(config_options[i].path, path) == 0)
			return &config_options[i];
	return NULL;
}

const char *config_enum_name(const char *path, int value)
{
	const struct config_option *o = config_find(path);
	const char *name = o ? config_choice_name(o->choices, value) : NULL;

	return name ? name : "?";
}

static bool config_is_section(const char *path)
{
	size_t n = strlen(path);

	for (size_t i = 0; i < config_option_count; i++)
		if (strncmp(config_options[i].path, path, n) == 0 && config_options[i].path[n] == '.')
			return true;
	return false;
}

/* Line of the key at dotted path in the JSON source.  jansson keeps no
 * positions for values, so this locator (for error messages only) scans the
 * text: component k of the path is the key "name" followed by ':' at nesting
 * depth k + 1 inside the object found for component k - 1.  Strings are
 * skipped so braces inside them do not count.  0 when not found. */
static int config_line_of(const char *text, const char *path)
{
	const char *p = text;
	int depth = 0, want = 1, line = 1;

	if (!text)
		return 0;
	while (*p && *path) {
		size_t n = strcspn(path, ".");

		if (*p == '\n')
			line++;
		if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			if (--depth < want - 1)
				return 0; /* left the object that should hold the key */
		} else if (*p == '"') {
			const char *start = ++p, *q;

			while (*p && *p != '"') {
				if (*p == '\\' && p[1])
					p++;
				p++;
			}
			q = *p ? p + 1 : p;
			while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
				q++;
			if (depth == want && *q == ':' && (size_t)(p - start) == n && strncmp(start, path, n) == 0) {
				path += n;
				if (*path == '.')
					path++;
				else
					return line;
				want++;
			}
		}
		if (*p)
			p++;
	}
	return 0;
}

int config_fail(const struct config_ctx *x, const char *path, const json_t *val, const char *fmt, ...)
{
	char msg[512], where[600];
	char *dump = val ? json_dumps(val, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
	int line = config_line_of(x->text, path);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(where, sizeof(where), "%s:%d", x->file, line);
	else
		snprintf(where, sizeof(where), "%s", x->file);
	if (dump && strlen(dump) > 200)
		strcpy(dump + 190, "...");
	snprintf(x->err, x->errlen, "%s: %s: %s%s%s%s", where, path, msg, dump ? " (value " : "", dump ? dump : "",
		 dump ? ")" : "");
	free(dump);
	return -1;
}

/* A LIST option: an array of names, or one string of comma-separated names. */
static int config_assign_list(const struct config_option *o, const json_t *v, const struct config_ctx *x, char **field)
{
	size_t idx, len = 0;
	json_t *e;
	char *s;

	if (json_is_string(v)) {
		json_t *arr = json_array();
		char *copy = strdup(json_string_value(v)), *save = NULL, *tok;
		int ret;

		for (tok = copy ? strtok_r(copy, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save))
			json_array_append_new(arr, json_string(tok));
		free(copy);
		ret = config_assign_list(o, arr, x, field);
		json_decref(arr);
		return ret;
	}
	if (!json_is_array(v))
		return config_fail(x, o->path, v, "expected an array of names");
	json_array_foreach((json_t *)v, idx, e) {
		if (!json_is_string(e) || json_string_length(e) == 0 || json_string_length(e) > 200 ||
		    strchr(json_string_value(e), ','))
			return config_fail(x, o->path, e, "element %zu: expected a name (no commas, at most 200 bytes)",
					   idx);
		len += json_string_length(e) + 1;
	}
	s = calloc(1, len + 1);
	if (!s)
		return config_fail(x, o->path, NULL, "out of memory");
	json_array_foreach((json_t *)v, idx, e) {
		if (idx)
			strcat(s, ",");
		strcat(s, json_string_value(e));
	}
	free(*field);
	*field = s;
	return 0;
}

int config_assign(void *base, const struct config_option *o, const json_t *v, const struct config_ctx *x)
{
	void *field = (char *)base + o->offset;
	char names[256];

	switch (o->type) {
	case CONFIG_INT: {
		json_int_t n;

		if (!json_is_integer(v))
			return config_fail(x, o->path, v, "expected an integer");
		n = json_integer_value(v);
		if ((double)n < o->min || (double)n > o->max)
			return config_fail(x, o->path, v, "out of range [%.0f, %.0f]", o->min, o->max);
		*(int64_t *)field = n;
		return 0;
	}
	case CONFIG_SIZE: {
		uint64_t n;

		if (json_is_integer(v) && json_integer_value(v) >= 0)
			n = (uint64_t)json_integer_value(v);
		else if (json_is_string(v) && util_parse_size(json_string_value(v), &n) == 0)
			;
		else
			return config_fail(x, o->path, v,
					   "expected a size in bytes: a non-negative integer or a string like \"64M\"");
		if ((double)n < o->min || (double)n > o->max)
			return config_fail(x, o->path, v, "out of range [%.0f, %.0f] bytes", o->min, o->max);
		*(uint64_t *)field = n;
		return 0;
	}
	case CONFIG_DOUBLE: {
		double d;

		if (!json_is_number(v))
			return config_fail(x, o->path, v, "expected a number");
		d = json_number_value(v);
		if (!(d >= o->min && d <= o->max))
			return config_fail(x, o->path, v, "out of range [%g, %g]", o->min, o->max);
		*(double *)field = d;
		return 0;
	}
	case CONFIG_BOOL:
		if (!json_is_boolean(v))
			return config_fail(x, o->path, v, "expected true or false");
		*(bool *)field = json_is_true(v);
		return 0;
	case CONFIG_STRING: {
		char *s;

		if (!json_is_string(v))
			return config_fail(x, o->path, v, "expected a string");
		if (json_string_length(v) > 4096)
			return config_fail(x, o->path, NULL, "string longer than 4096 bytes");
		s = strdup(json_string_value(v));
		if (!s)
			return config_fail(x, o->path, NULL, "out of memory");
		free(*(char **)field);
		*(char **)field = s;
		return 0;
	}
	case CONFIG_LIST:
		return config_assign_list(o, v, x, (char **)field);
	case CONFIG_ENUM: {
		const struct config_choice *ch = json_is_string(v) ? config_choice_find(o->choices, json_string_value(v))
								    : NULL;

		if (!ch)
			return config_fail(x, o->path, v, "expected one of %s",
					   config_choices_text(o->choices, names, sizeof(names)));
		*(int *)field = ch->value;
		return 0;
	}
	case CONFIG_SET: {
		uint32_t bits = 0;
		size_t idx;
		json_t *e;

		if (!json_is_array(v))
			return config_fail(x, o->path, v, "expected an array of names from %s",
					   config_choices_text(o->choices, names, sizeof(names)));
		json_array_foreach((json_t *)v, idx, e) {
			const struct config_choice *ch =
				json_is_string(e) ? config_choice_find(o->choices, json_string_value(e)) : NULL;

			if (!ch)
				return config_fail(x, o->path, e, "element %zu: expected one of %s", idx,
						   config_choices_text(o->choices, names, sizeof(names)));
			bits |= (uint32_t)ch->value;
		}
		*(uint32_t *)field = bits;
		return 0;
	}
	}
	return config_fail(x, o->path, NULL, "internal error: unknown option type");
}

static int config_walk(struct config *c, const json_t *obj, const char *prefix, const struct config_ctx *x)
{
	const char *key;
	json_t *val;

	json_object_foreach((json_t *)obj, key, val) {
		char path[256];
		const struct config_option *o;

		if (snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", key) >= (int)sizeof(path))
			return config_fail(x, prefix, NULL, "key too long");
		o = config_find(path);
		if (!*prefix && !strcmp(key, "antagonists")) {
			if (config_antagonists_load(c, val, x) < 0)
				return -1;
		} else if (o) {
			if (config_assign(c, o, val, x) < 0)
				return -1;
		} else if (config_is_section(path)) {
			if (!json_is_object(val))
				return config_fail(x, path, val, "expected an object (a section of options)");
			if (config_walk(c, val, path, x) < 0)
				return -1;
		} else {
			char known[1024] = "";
			size_t n = strlen(prefix);

			for (size_t i = 0; i < config_option_count; i++) {
				const char *p = config_options[i].path;

				if (n && (strncmp(p, prefix, n) != 0 || p[n] != '.'))
					continue;
				p += n ? n + 1 : 0;
				{
					/* items " name," so strstr finds whole names only */
					size_t k = strcspn(p, ".");
					char item[80];

					snprintf(item, sizeof(item), " %.*s,", (int)k, p);
					if (!strstr(known, item) && strlen(known) + strlen(item) < sizeof(known))
						strcat(known, item);
				}
			}
			if (*known)
				known[strlen(known) - 1] = '\0';
			return config_fail(x, path, NULL, "unknown key (known here:%s)", known);
		}
	}
	return 0;
}

void config_defaults(struct config *c)
{
	struct config_ctx x = { "defaults", NULL, NULL, 0 };
	char err[512];

	memset(c, 0, sizeof(*c));
	x.err = err;
	x.errlen = sizeof(err);
	for (size_t i = 0; i < config_option_count; i++) {
		json_t *v = json_loads(config_options[i].def, JSON_DECODE_ANY, NULL);

		if (!v || config_assign(c, &config_options[i], v, &x) < 0) {
			fprintf(stderr, "faultline: internal error: default of %s: %s\n", config_options[i].path, err);
			abort();
		}
		json_decref(v);
	}
}

void config_free(struct config *c)
{
	for (size_t i = 0; i < config_option_count; i++)
		if (config_options[i].type == CONFIG_STRING || config_options[i].type == CONFIG_LIST) {
			char **s = (char **)((char *)c + config_options[i].offset);

			free(*s);
			*s = NULL;
		}
	config_antagonists_free(c);
}

int config_load_json(struct config *c, const json_t *root, const char *file, const char *text, char *err,
		     size_t errlen)
{
	struct config_ctx x = { file, text, err, errlen };

	if (!json_is_object(root))
		return config_fail(&x, "(top level)", NULL, "a scenario is a JSON object");
	return config_walk(c, root, "", &x);
}

int config_set(struct config *c, const char *assignment, char *err, size_t errlen)
{
	struct config_ctx x = { "--set", NULL, err, errlen };
	const char *eq = strchr(assignment, '=');
	const struct config_option *o;
	struct config_option named;
	void *base = c;
	char path[256];
	json_t *v;
	int ret;

	if (!eq || eq == assignment || (size_t)(eq - assignment) >= sizeof(path)) {
		snprintf(err, errlen, "--set: expected KEY=VALUE with a dotted key, got '%s'", assignment);
		return -1;
	}
	memcpy(path, assignment, (size_t)(eq - assignment));
	path[eq - assignment] = '\0';
	o = config_find(path);
	if (!o && !strncmp(path, "antagonists.", 12)) { /* antagonists.NAME.KEY: that instance's option */
		if (config_antagonists_option(c, path, &named, &base, &x) < 0)
			return -1;
		o = &named;
	}
	if (!o) {
		snprintf(err, errlen, "--set: %s: unknown key (see --help for the scenario keys)", path);
		return -1;
	}
	v = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
	if (!v || ((o->type == CONFIG_STRING || o->type == CONFIG_LIST) && !json_is_string(v) && !json_is_array(v))) {
		/* not JSON, or a string option given bare text such as 6.8 */
		json_decref(v);
		v = json_string(eq + 1);
	}
	ret = config_assign(base, o, v, &x);
	json_decref(v);
	return ret;
}

int config_check(const struct config *c, const char *file, char *err, size_t errlen)
{
	struct config_ctx x = { file, NULL, err, errlen };
	const size_t page = util_page_size();

	if (c->warmup_s < 0 && c->warmup_s != -1)
		return config_fail(&x, "warmup_s", NULL, "must be -1 (automatic) or at least 0 (value %g)", c->warmup_s);
	if (c->victim.pattern == PATTERN_ZIPF && c->victim.zipf_theta == 1.0)
		return config_fail(&x, "victim.zipf_theta", NULL,
				   "must not be 1.0 (the generator divides by 1 - theta) (value 1.0)");
	if (c->victim.fault_threads == 0 && c->victim.writer_threads == 0 && c->victim.odirect.threads == 0)
		return config_fail(&x, "victim.fault_threads", NULL,
				   "the victim needs at least one fault, writer or odirect thread (all are 0)");
	if (c->pressure.mode == PRESSURE_EMULATE && c->pressure.methods == 0)
		return config_fail(&x, "pressure.methods", NULL, "the evictor needs at least one method");
	if (c->observer.gup_threads > 0 && c->observer.gup_methods == 0)
		return config_fail(&x, "observer.gup_methods", NULL, "gup threads need at least one method");
	if (c->victim.writer_threads > 0 && c->victim.writer.ops == 0)
		return config_fail(&x, "victim.writer.ops", NULL, "writer threads need at least one operation");
	if (c->victim.memory == MEMORY_ANON && c->victim.pass_end == PASS_END_DONTNEED)
		return config_fail(&x, "victim.pass_end", NULL,
				   "dontneed would discard the anonymous memory (victim.memory anon): use pageout "
				   "(swap it out after each pass) or none (value \"dontneed\")");
	if (c->victim.memory == MEMORY_ANON && c->observer.gup_threads > 0)
		return config_fail(&x, "observer.gup_threads", NULL,
				   "the gup threads read the victim's file mappings, which victim.memory anon does "
				   "not have (value %lld)", (long long)c->observer.gup_threads);
	if (c->victim.odirect.threads > 0 && c->victim.odirect.bytes % 512 != 0)
		return config_fail(&x, "victim.odirect.bytes", NULL,
				   "must be a multiple of 512 (O_DIRECT alignment) (value %llu)",
				   (unsigned long long)c->victim.odirect.bytes);
	if (c->victim.odirect.threads > 0 && c->victim.odirect.bytes > c->victim.file_size_bytes)
		return config_fail(&x, "victim.odirect.bytes", NULL,
				   "larger than victim.files.size_bytes (%llu) (value %llu)",
				   (unsigned long long)c->victim.file_size_bytes,
				   (unsigned long long)c->victim.odirect.bytes);
	if (c->victim.file_size_bytes % page != 0)
		return config_fail(&x, "victim.files.size_bytes", NULL, "must be a multiple of the page size, %zu here (value %llu)", page,
				   (unsigned long long)c->victim.file_size_bytes);
	if ((uint64_t)c->victim.fault_threads > c->victim.file_count * (c->victim.file_size_bytes / page))
		return config_fail(&x, "victim.fault_threads", NULL,
				   "more fault threads (%lld) than pages in the files (%llu): every thread needs a slice",
				   (long long)c->victim.fault_threads,
				   (unsigned long long)(c->victim.file_count * (c->victim.file_size_bytes / page)));
	if (c->storage.slowfs.jitter_ns && c->storage.slowfs.jitter != 1 && c->storage.slowfs.jitter != 2)
		return config_fail(&x, "storage.slowfs.jitter_ns", NULL,
				   "needs storage.slowfs.jitter uniform or exponential (value %lld)",
				   (long long)c->storage.slowfs.jitter_ns);
	if (c->storage.slowfs.jitter != JITTER_LOGNORMAL && c->storage.slowfs.p99_ns != 0)
		return config_fail(&x, "storage.slowfs.p99_ns", NULL,
				   "needs storage.slowfs.jitter lognormal (value %lld)", (long long)c->storage.slowfs.p99_ns);
	if (c->storage.slowfs.jitter == JITTER_LOGNORMAL && c->storage.slowfs.p99_ns <= c->storage.slowfs.latency_ns)
		return config_fail(&x, "storage.slowfs.p99_ns", NULL,
				   "lognormal jitter needs p99_ns above latency_ns (value %lld)",
				   (long long)c->storage.slowfs.p99_ns);
	if (c->storage.type == STORAGE_DIR && (!c->storage.path || c->storage.path[0] != '/'))
		return config_fail(&x, "storage.path", NULL, "must be an absolute path (value \"%s\")",
				   c->storage.path ? c->storage.path : "");
	return config_antagonists_check(c, &x);
}

static json_t *config_list_json(const char *joined)
{
	json_t *arr = json_array();
	char *copy = joined ? strdup(joined) : NULL, *save = NULL, *tok;

	for (tok = copy ? strtok_r(copy, ",", &save) : NULL; tok; tok = strtok_r(NULL, ",", &save))
		json_array_append_new(arr, json_string(tok));
	free(copy);
	return arr;
}

json_t *config_value_json(const struct config_option *o, const void *field)
{
	json_t *v = NULL;

	switch (o->type) {
	case CONFIG_INT: v = json_integer(*(const int64_t *)field); break;
	case CONFIG_SIZE: v = json_integer((json_int_t) * (const uint64_t *)field); break;
	case CONFIG_DOUBLE: v = json_real(*(const double *)field); break;
	case CONFIG_BOOL: v = json_boolean(*(const bool *)field); break;
	case CONFIG_STRING: v = json_string(*(char *const *)field ? *(char *const *)field : ""); break;
	case CONFIG_LIST: v = config_list_json(*(char *const *)field); break;
	case CONFIG_ENUM: {
		const char *name = config_choice_name(o->choices, *(const int *)field);

		v = json_string(name ? name : "?");
		break;
	}
	case CONFIG_SET:
		v = json_array();
		for (const struct config_choice *ch = o->choices; ch->name; ch++)
			if (*(const uint32_t *)field & (uint32_t)ch->value)
				json_array_append_new(v, json_string(ch->name));
		break;
	}
	return v;
}

json_t *config_to_json(const struct config *c)
{
	json_t *root = json_object();

	for (size_t i = 0; i < config_option_count; i++) {
		const struct config_option *o = &config_options[i];
		json_t *parent = root;
		const char *p = o->path, *dot;

		while ((dot = strchr(p, '.'))) {
			char comp[64];
			json_t *child;
			size_t n = (size_t)(dot - p);

			memcpy(comp, p, n);
			comp[n] = '\0';
			child = json_object_get(parent, comp);
			if (!child) {
				child = json_object();
				json_object_set_new(parent, comp, child);
			}
			parent = child;
			p = dot + 1;
		}
		json_object_set_new(parent, p, config_value_json(o, (const char *)c + o->offset));
	}
	config_antagonists_json(c, root);
	return root;
}

void config_help_option(FILE *out, const struct config_option *o, const char *path)
{
	fprintf(out, "  %-38s %-6s default %s", path, config_type_names[o->type], o->def);
	if (o->type == CONFIG_INT || o->type == CONFIG_DOUBLE || o->type == CONFIG_SIZE) {
		/* integral bounds as integers (9007199254740991, not 9.0072e+15) */
		bool imin = fabs(o->min) < 1e18 && o->min == (double)(int64_t)o->min;
		bool imax = fabs(o->max) < 1e18 && o->max == (double)(int64_t)o->max;

		fprintf(out, imin ? ", range [%.0f" : ", range [%g", o->min);
		fprintf(out, imax ? ", %.0f]" : ", %g]", o->max);
	}
	if (o->choices) {
		char names[256];

		fprintf(out, ", one%s of %s", o->type == CONFIG_SET ? " or more" : "",
			config_choices_text(o->choices, names, sizeof(names)));
	}
	fprintf(out, "\n      %s\n", o->help);
}

void config_print_help(FILE *out)
{
	fprintf(out, "Scenario keys (JSON paths; also usable as --set KEY=VALUE):\n");
	for (size_t i = 0; i < config_option_count; i++)
		config_help_option(out, &config_options[i], config_options[i].path);
	config_antagonists_help(out);
}
