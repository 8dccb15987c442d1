/* config: the scenario.  One table (config.c: config_options) names every
 * knob with its type, range, default and help; it drives the JSON parser and
 * validator, --set overrides, --help, and the resolved config in results. */
#ifndef FL_CONFIG_H
#define FL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

enum config_pattern { PATTERN_SEQUENTIAL, PATTERN_RANDOM, PATTERN_ZIPF, PATTERN_STRIDE };
enum config_map { MAP_KIND_SHARED, MAP_KIND_PRIVATE };
enum config_advice { ADVICE_NONE, ADVICE_RANDOM, ADVICE_SEQUENTIAL };
enum config_pass_end { PASS_END_DONTNEED, PASS_END_NONE, PASS_END_PAGEOUT };
enum config_memory { MEMORY_FILE, MEMORY_ANON };
enum config_probe_mode { PROBE_AUTO, PROBE_ON, PROBE_OFF };
enum config_probe_format { PROBE_FORMAT_AUTO, PROBE_FORMAT_RAW, PROBE_FORMAT_TEXT };
enum config_classify { CLASSIFY_RUSAGE, CLASSIFY_NONE };
enum config_writer_target { WRITER_TARGET_OWN, WRITER_TARGET_FAULT_VMA };
/* bits of victim.writer.ops */
enum { WRITER_OP_MMAP_MUNMAP = 1u << 0, WRITER_OP_MPROTECT = 1u << 1, WRITER_OP_MADVISE_DONTNEED = 1u << 2 };
/* bits of observer.files, in this order (procread.c relies on it) */
enum {
	PROCFILE_CMDLINE, PROCFILE_ENVIRON, PROCFILE_MAPS, PROCFILE_SMAPS, PROCFILE_SMAPS_ROLLUP,
	PROCFILE_NUMA_MAPS, PROCFILE_STATUS, PROCFILE_STATM, PROCFILE_COUNT
};
enum config_storage { STORAGE_DIR, STORAGE_SLOWFS };
/* bits of pressure.methods */
enum { EVICT_FADVISE = 1u << 0, EVICT_PAGEOUT = 1u << 1 };
/* bits of observer.gup_methods */
enum { GUP_PROCESS_VM_READV = 1u << 0, GUP_PROC_MEM = 1u << 1 };
enum config_pressure { PRESSURE_AUTO, PRESSURE_OFF, PRESSURE_EMULATE };
/* storage.slowfs.jitter */
enum config_jitter { JITTER_NONE, JITTER_UNIFORM, JITTER_EXPONENTIAL, JITTER_LOGNORMAL };

/* antagonists.NAME: programs run beside the workloads (bench/antagonists/),
 * each a named instance of the options in lib/config_antagonists.c. */
enum config_antagonist_kind { ANTAGONIST_FIO, ANTAGONIST_STRESS_NG, ANTAGONIST_KINDS };
enum config_antagonist_group { ANTAGONIST_GROUP_ANTAGONIST, ANTAGONIST_GROUP_VICTIM };
enum config_fio_rw { FIO_RW_READ, FIO_RW_WRITE, FIO_RW_RANDREAD, FIO_RW_RANDWRITE, FIO_RW_RANDRW };
enum config_fio_engine { FIO_ENGINE_AUTO, FIO_ENGINE_PSYNC, FIO_ENGINE_LIBAIO };
enum config_stressor { STRESSOR_VM, STRESSOR_BIGHEAP, STRESSOR_MMAP };
#define CONFIG_ANTAGONISTS_MAX 8
struct config_antagonist {
	char *name;   /* its key under "antagonists": [A-Za-z0-9_-], at most 32 bytes */
	uint64_t set; /* bit i: option i of config_antagonist_options given explicitly */
	int kind;     /* enum config_antagonist_kind */
	int group;    /* enum config_antagonist_group */
	struct {
		int rw, ioengine;
		bool direct;
		uint64_t bs_bytes, rate_bytes_per_s, size_bytes;
		int64_t iodepth, numjobs;
	} fio;
	struct {
		int stressor;
		uint64_t bytes; /* 0: sized from MemAvailable (bench/antagonists/stressng.c) */
		int64_t workers;
		bool page_in;
	} stress_ng;
};

enum { ITERATION_SEED_FRESH, ITERATION_SEED_VARY, ITERATION_SEED_SAME };

struct config {
	char *name;
	char *description;
	char *label;
	double duration_s;
	double warmup_s;
	int64_t iterations;
	int64_t seed;
	struct {
		int64_t fault_threads;
		int64_t writer_threads;
		int64_t file_count;
		uint64_t file_size_bytes;
		int memory;
		int pattern;
		double zipf_theta;
		int64_t stride_pages;
		double write_ratio;
		int map;
		int advice;
		int pass_end;
		int classify;
		bool verify;
		uint64_t stack_bytes;
		struct {
			uint32_t ops;
			double rate_per_s;
			int target;
			uint64_t map_bytes;
		} writer;
		struct {
			int64_t threads;
			double rate_per_s;
			uint64_t bytes;
		} odirect;
	} victim;
	struct {
		int64_t threads;
		uint32_t files;
		double rate_per_s;
		bool ps_scan;
		double ps_rate_per_s;
		int64_t gup_threads;
		uint32_t gup_methods;
		double gup_rate_per_s;
		uint64_t gup_bytes;
	} observer;
	struct {
		uint64_t memory_max_bytes;
		uint64_t memory_high_bytes;
		char *io_max;
		int64_t cpu_weight;
	} cg_victim;
	struct {
		uint64_t memory_low_bytes;
		int64_t io_latency_target_us;
		int64_t cpu_weight;
	} cg_protected;
	struct {
		int64_t cpu_weight;
	} cg_antagonist;
	struct {
		int type;
		char *path;
		struct {
			int64_t latency_ns;
			int jitter;
			int64_t jitter_ns;
			int64_t p99_ns;
			uint64_t bandwidth_bytes_per_s;
			int64_t max_inflight;
			uint64_t max_request_bytes;
		} slowfs;
	} storage;
	struct {
		int mode;
		uint64_t evict_bytes_per_s;
		uint64_t chunk_bytes;
		uint32_t methods;
	} pressure;
	struct {
		int mmap_lock;
		int mmap_lock_format; /* enum config_probe_format */
	} probes;
	struct {
		char *headline; /* metric names joined by ',' (lib/metrics.h) */
	} report;
	struct { /* CPU lists (lib/cpus.h); "" = the scheduler places */
		char *runner, *victim, *observer, *fault, *writer, *evictor, *odirect;
	} cpus;
	struct {
		bool writeback; /* fdatasync the victim's files before the page-cache drop */
		bool exclusive; /* one run at a time on the same files (flock of their directory) */
		int seed;       /* ITERATION_SEED_FRESH: random; _VARY: seed + index; _SAME: seed */
	} iteration;
	int64_t n_antagonists; /* antagonists[0 .. n - 1], in the scenario's order */
	struct config_antagonist antagonists[CONFIG_ANTAGONISTS_MAX];
};

/* LIST: a JSON array of names (or, with --set, a comma-separated string),
 * kept as one string with the names joined by ',' (char *). */
enum config_type { CONFIG_INT, CONFIG_SIZE, CONFIG_DOUBLE, CONFIG_BOOL, CONFIG_STRING, CONFIG_ENUM, CONFIG_SET, CONFIG_LIST };

/* One name of an ENUM or SET option and what it stands for: the enum value
 * (ENUM) or the bit (SET).  Lists end with { NULL, 0 }. */
struct config_choice {
	const char *name;
	int value;
};

struct config_option {
	const char *path;    /* dotted path in the scenario JSON */
	enum config_type type;
	size_t offset;       /* offsetof(struct config, field) */
	double min, max;     /* INT, SIZE, DOUBLE */
	const char *def;     /* default, as JSON text */
	const struct config_choice *choices; /* ENUM and SET */
	const char *help;
};

extern const struct config_option config_options[];
extern const size_t config_option_count;

/* Set every option to its default. */
void config_defaults(struct config *c);
void config_free(struct config *c);

/* Load and validate a scenario file over the defaults.  On error, err holds
 * "FILE:LINE: KEY: message (value V)" and -1 is returned. */
int config_load(struct config *c, const char *path, char *err, size_t errlen);
/* Load from a JSON object already in memory (text is the source, for line
 * numbers; may be NULL). */
int config_load_json(struct config *c, const json_t *root, const char *file, const char *text, char *err,
		     size_t errlen);
/* Apply "dotted.key=value"; value is JSON when it parses as JSON, otherwise
 * taken as a string. */
int config_set(struct config *c, const char *assignment, char *err, size_t errlen);
/* Cross-field checks (e.g. zipf theta != 1); run after all overrides. */
int config_check(const struct config *c, const char *file, char *err, size_t errlen);

/* Every option with its resolved value, as nested JSON objects. */
json_t *config_to_json(const struct config *c);

/* The resolved config as compact JSON in a new memfd (close-on-exec when
 * asked): how the runner hands it to the workload processes and to
 * fl-slowfs.  The fd, or -1 with err. */
int config_to_memfd(const struct config *c, const char *name, bool cloexec, char *err, size_t errlen);
/* Load a config written by config_to_memfd: read from offset 0 with pread
 * (several processes may share the description's offset), then as
 * config_load_json.  0, or -1 with err naming the fd.  fd stays open. */
int config_load_fd(struct config *c, int fd, char *err, size_t errlen);
/* Print the options table: path, type, range, default, help. */
void config_print_help(FILE *out);

/* The name that stands for value in a choice list, or NULL. */
const char *config_choice_name(const struct config_choice *choices, int value);
/* The names of a choice list joined with '|', into buf. */
const char *config_choices_text(const struct config_choice *choices, char *buf, size_t len);
/* The name of an ENUM option's value, "?" when there is none. */
const char *config_enum_name(const char *path, int value);

#endif
