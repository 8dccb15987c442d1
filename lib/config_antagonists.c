/* config_antagonists: the scenario's "antagonists" section (config.h).
 * Each key under it names one antagonist (an instance); its options are the
 * table below, parsed, checked, printed by --help and resolved into results
 * by the same code as every other option (config.c, through
 * config_internal.h).  A kind's options say which kinds they apply to;
 * giving one to an antagonist of another kind is an error. */
#define _GNU_SOURCE
#include "lib/config.h"
#include "lib/config_internal.h"
#include "lib/util.h"

#include <stdlib.h>
#include <string.h>

#define AOPT(p, t, field, lo, hi, d, ch, kinds, h)                                                          \
	{ { p, t, offsetof(struct config_antagonist, field), lo, hi, d, ch, h }, kinds }
#define FIO (1u << ANTAGONIST_FIO)
#define STRESS (1u << ANTAGONIST_STRESS_NG)
#define ANY (FIO | STRESS)
#define NAME_MAX_BYTES 32

/* The kinds' names are their programs and Debian packages (run.sh installs
 * them by these names; bench/antagonists/ runs them). */
static const struct config_choice choices_kind[] = {
	{ "fio", ANTAGONIST_FIO }, { "stress-ng", ANTAGONIST_STRESS_NG }, { NULL, 0 },
};
static const struct config_choice choices_group[] = {
	{ "antagonist", ANTAGONIST_GROUP_ANTAGONIST }, { "victim", ANTAGONIST_GROUP_VICTIM }, { NULL, 0 },
};
static const struct config_choice choices_rw[] = {
	{ "read", FIO_RW_READ }, { "write", FIO_RW_WRITE }, { "randread", FIO_RW_RANDREAD },
	{ "randwrite", FIO_RW_RANDWRITE }, { "randrw", FIO_RW_RANDRW }, { NULL, 0 },
};
static const struct config_choice choices_engine[] = {
	{ "auto", FIO_ENGINE_AUTO }, { "psync", FIO_ENGINE_PSYNC }, { "libaio", FIO_ENGINE_LIBAIO }, { NULL, 0 },
};
static const struct config_choice choices_stressor[] = {
	{ "vm", STRESSOR_VM }, { "bigheap", STRESSOR_BIGHEAP }, { "mmap", STRESSOR_MMAP }, { NULL, 0 },
};

static const struct config_antagonist_option {
	struct config_option opt; /* path: the key under antagonists.NAME */
	unsigned kinds;           /* bits (1 << enum config_antagonist_kind) it applies to */
} config_antagonist_options[] = {
	AOPT("kind", CONFIG_ENUM, kind, 0, 0, "\"fio\"", choices_kind, ANY,
	     "required: fio (an I/O storm on a file of its own) or stress-ng (anonymous memory: real reclaim)"),
	AOPT("group", CONFIG_ENUM, group, 0, 0, "\"antagonist\"", choices_group, ANY,
	     "cgroup: antagonist = a low-priority sibling of victim and protected (cgroup.antagonist.*), or victim"),
	AOPT("rw", CONFIG_ENUM, fio.rw, 0, 0, "\"randread\"", choices_rw, FIO, "fio: I/O pattern (--rw)"),
	AOPT("direct", CONFIG_BOOL, fio.direct, 0, 0, "false", NULL, FIO,
	     "fio: O_DIRECT (true) or through the page cache (false)"),
	AOPT("bs_bytes", CONFIG_SIZE, fio.bs_bytes, 512, 64.0 * 1024 * 1024, "\"4K\"", NULL, FIO,
	     "fio: block size of each I/O (a multiple of 512 with direct)"),
	AOPT("iodepth", CONFIG_INT, fio.iodepth, 1, 1024, "1", NULL, FIO,
	     "fio: I/Os in flight per job (matters with libaio; psync is synchronous)"),
	AOPT("rate_bytes_per_s", CONFIG_SIZE, fio.rate_bytes_per_s, 0, 1024.0 * 1024 * 1024 * 1024, "0", NULL, FIO,
	     "fio: cap on bytes per second per job (--rate, reads and writes each); 0 = unbounded"),
	AOPT("size_bytes", CONFIG_SIZE, fio.size_bytes, 1024 * 1024, 1024.0 * 1024 * 1024 * 1024, "\"256M\"", NULL,
	     FIO, "fio: size of its own file, made in storage.path for the run and removed after it"),
	AOPT("numjobs", CONFIG_INT, fio.numjobs, 1, 64, "1", NULL, FIO,
	     "fio: jobs (threads of the one fio process) on the file; figures are their sum"),
	AOPT("ioengine", CONFIG_ENUM, fio.ioengine, 0, 0, "\"auto\"", choices_engine, FIO,
	     "fio: auto = libaio when fio has it, else psync"),
	AOPT("stressor", CONFIG_ENUM, stress_ng.stressor, 0, 0, "\"vm\"", choices_stressor, STRESS,
	     "stress-ng: vm (--vm: map and rewrite memory), bigheap (--bigheap: grow the heap; bounded by "
	     "RLIMIT_DATA), mmap (--mmap: map, touch, unmap)"),
	AOPT("bytes", CONFIG_SIZE, stress_ng.bytes, 0, 1024.0 * 1024 * 1024 * 1024 * 1024, "0", NULL, STRESS,
	     "stress-ng: anonymous memory of all its workers together; 0 = MemAvailable minus the safety margin. "
	     "Always at most MemAvailable - max(10% of MemTotal, min(2 GiB, 25% of MemTotal)), read when each "
	     "iteration starts (the result says what was asked and what ran)"),
	AOPT("workers", CONFIG_INT, stress_ng.workers, 1, 64, "1", NULL, STRESS, "stress-ng: worker processes"),
	AOPT("page_in", CONFIG_BOOL, stress_ng.page_in, 0, 0, "false", NULL, STRESS,
	     "stress-ng: --page-in: touch its pages that are not resident, so they are faulted back (swap)"),
};

static const struct config_antagonist_option *config_antagonists_find(const char *key)
{
	for (size_t i = 0; i < FL_ARRAY_SIZE(config_antagonist_options); i++)
		if (!strcmp(config_antagonist_options[i].opt.path, key))
			return &config_antagonist_options[i];
	return NULL;
}

/* The instance called name (n bytes), made with the defaults when new;
 * NULL with x->err when the name is not one or there are too many. */
static struct config_antagonist *config_antagonists_get(struct config *c, const char *name, size_t n,
							const struct config_ctx *x)
{
	struct config_antagonist *a;
	char path[80];

	snprintf(path, sizeof(path), "antagonists.%.*s", (int)(n < 40 ? n : 40), name);
	for (int64_t i = 0; i < c->n_antagonists; i++)
		if (strlen(c->antagonists[i].name) == n && !strncmp(c->antagonists[i].name, name, n))
			return &c->antagonists[i];
	if (n == 0 || n > NAME_MAX_BYTES || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
							"0123456789_-") < n) {
		config_fail(x, path, NULL, "an antagonist's name is 1 to %d letters, digits, '_' or '-' (it names its "
			    "files and its results)", NAME_MAX_BYTES);
		return NULL;
	}
	if (c->n_antagonists == CONFIG_ANTAGONISTS_MAX) {
		config_fail(x, path, NULL, "at most %d antagonists", CONFIG_ANTAGONISTS_MAX);
		return NULL;
	}
	a = &c->antagonists[c->n_antagonists];
	memset(a, 0, sizeof(*a));
	a->name = strndup(name, n);
	for (size_t i = 0; i < FL_ARRAY_SIZE(config_antagonist_options); i++) {
		json_t *v = json_loads(config_antagonist_options[i].opt.def, JSON_DECODE_ANY, NULL);
		int ret = v && a->name ? config_assign(a, &config_antagonist_options[i].opt, v, x) : -1;

		json_decref(v);
		if (ret < 0) {
			free(a->name);
			config_fail(x, path, NULL, "internal error: default of %s", config_antagonist_options[i].opt.path);
			return NULL;
		}
	}
	c->n_antagonists++;
	return a;
}

/* The option at key of instance a, as an option whose path is full (the
 * caller's "antagonists.NAME.KEY", for messages); marks it given. */
static int config_antagonists_bind(struct config_antagonist *a, const char *key, const char *full,
				   struct config_option *opt, const struct config_ctx *x)
{
	const struct config_antagonist_option *ao = config_antagonists_find(key);

	if (!ao) {
		char known[512] = "";

		for (size_t i = 0; i < FL_ARRAY_SIZE(config_antagonist_options); i++)
			snprintf(known + strlen(known), sizeof(known) - strlen(known), "%s %s", i ? "," : "",
				 config_antagonist_options[i].opt.path);
		return config_fail(x, full, NULL, "unknown key (known here:%s)", known);
	}
	*opt = ao->opt;
	opt->path = full;
	a->set |= 1ull << (ao - config_antagonist_options);
	return 0;
}

int config_antagonists_load(struct config *c, const json_t *obj, const struct config_ctx *x)
{
	const char *name, *key;
	json_t *inst, *v;

	if (!json_is_object(obj))
		return config_fail(x, "antagonists", obj, "expected an object of named antagonists, e.g. "
			"{\"storm\": {\"kind\": \"fio\", \"rw\": \"randread\"}}");
	json_object_foreach((json_t *)obj, name, inst) {
		struct config_antagonist *a = config_antagonists_get(c, name, strlen(name), x);
		char path[80];

		if (!a)
			return -1;
		snprintf(path, sizeof(path), "antagonists.%s", a->name);
		if (!json_is_object(inst))
			return config_fail(x, path, inst, "expected an object (the antagonist's options)");
		json_object_foreach(inst, key, v) {
			struct config_option opt;
			char full[160];

			snprintf(full, sizeof(full), "%s.%s", path, key);
			if (config_antagonists_bind(a, key, full, &opt, x) < 0 || config_assign(a, &opt, v, x) < 0)
				return -1;
		}
	}
	return 0;
}

int config_antagonists_option(struct config *c, const char *path, struct config_option *opt, void **base,
			      const struct config_ctx *x)
{
	const char *name = path + strlen("antagonists."), *dot = strchr(name, '.');
	struct config_antagonist *a;

	if (!dot || strchr(dot + 1, '.'))
		return config_fail(x, path, NULL, "expected antagonists.NAME.KEY");
	a = config_antagonists_get(c, name, (size_t)(dot - name), x);
	if (!a || config_antagonists_bind(a, dot + 1, path, opt, x) < 0)
		return -1;
	*base = a;
	return 0;
}

int config_antagonists_check(const struct config *c, const struct config_ctx *x)
{
	for (int64_t i = 0; i < c->n_antagonists; i++) {
		const struct config_antagonist *a = &c->antagonists[i];
		const char *kind = config_choice_name(choices_kind, a->kind);
		char path[80];

		snprintf(path, sizeof(path), "antagonists.%s.kind", a->name);
		if (!(a->set & 1ull << 0)) /* kind, the table's first */
			return config_fail(x, path, NULL, "required: fio or stress-ng");
		for (size_t k = 0; k < FL_ARRAY_SIZE(config_antagonist_options); k++)
			if ((a->set >> k & 1) && !(config_antagonist_options[k].kinds & (1u << a->kind))) {
				snprintf(path, sizeof(path), "antagonists.%s.%s", a->name,
					 config_antagonist_options[k].opt.path);
				return config_fail(x, path, NULL, "not an option of kind %s (it is %s's)", kind,
						   config_antagonist_options[k].kinds & FIO ? "fio" : "stress-ng");
			}
		snprintf(path, sizeof(path), "antagonists.%s.bs_bytes", a->name);
		if (a->kind == ANTAGONIST_FIO && a->fio.bs_bytes > a->fio.size_bytes)
			return config_fail(x, path, NULL, "larger than size_bytes %llu (value %llu)",
					   (unsigned long long)a->fio.size_bytes, (unsigned long long)a->fio.bs_bytes);
		if (a->kind == ANTAGONIST_FIO && a->fio.direct && a->fio.bs_bytes % 512)
			return config_fail(x, path, NULL, "must be a multiple of 512 with direct (value %llu)",
					   (unsigned long long)a->fio.bs_bytes);
		snprintf(path, sizeof(path), "antagonists.%s.bytes", a->name);
		if (a->kind == ANTAGONIST_STRESS_NG && a->stress_ng.bytes && a->stress_ng.bytes < 4096ull * 256)
			return config_fail(x, path, NULL, "0 (sized from MemAvailable) or at least 1 MiB (value %llu)",
					   (unsigned long long)a->stress_ng.bytes);
	}
	return 0;
}

void config_antagonists_json(const struct config *c, json_t *root)
{
	json_t *section;

	if (c->n_antagonists == 0)
		return; /* results of runs without antagonists look as before */
	section = json_object();
	for (int64_t i = 0; i < c->n_antagonists; i++) {
		const struct config_antagonist *a = &c->antagonists[i];
		json_t *o = json_object();

		for (size_t k = 0; k < FL_ARRAY_SIZE(config_antagonist_options); k++)
			if (config_antagonist_options[k].kinds & (1u << a->kind))
				json_object_set_new(o, config_antagonist_options[k].opt.path,
						    config_value_json(&config_antagonist_options[k].opt,
								      (const char *)a + config_antagonist_options[k].opt.offset));
		json_object_set_new(section, a->name, o);
	}
	json_object_set_new(root, "antagonists", section);
}

void config_antagonists_help(FILE *out)
{
	fprintf(out, "\nAntagonists (bench/antagonists/): \"antagonists\": {\"NAME\": {KEY: VALUE, ...}, ...}, at most %d; "
		     "NAME is yours\n(1 to %d letters, digits, '_' or '-'); --set antagonists.NAME.KEY=VALUE sets one "
		     "(and adds NAME):\n", CONFIG_ANTAGONISTS_MAX, NAME_MAX_BYTES);
	for (size_t i = 0; i < FL_ARRAY_SIZE(config_antagonist_options); i++) {
		char path[80];

		snprintf(path, sizeof(path), "antagonists.NAME.%s", config_antagonist_options[i].opt.path);
		config_help_option(out, &config_antagonist_options[i].opt, path);
	}
}

void config_antagonists_free(struct config *c)
{
	for (int64_t i = 0; i < c->n_antagonists; i++) {
		free(c->antagonists[i].name);
		c->antagonists[i].name = NULL;
	}
	c->n_antagonists = 0;
}
