/* cli: fl-slowfs's command line (slowfs.h).  One option table drives the
 * parsing, the range checks, --help, and the resolved scenario read from
 * --config-fd: an option with a scenario key takes its value from that key
 * of the resolved config JSON (what `faultline run` hands its workloads,
 * read with lib/config.h) instead of the command line. */
#define _GNU_SOURCE
#include "workloads/slowfs/slowfs.h"

#include "lib/config.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum cli_kind {
	CLI_U64,   /* plain integer */
	CLI_BYTES, /* integer with K/M/G/T/P binary suffixes */
	CLI_PAGES, /* bytes, a multiple of the page size, at least one page */
	CLI_JITTER,
	CLI_FD,
	CLI_FLAG,
};

struct cli_option {
	const char *name;
	const char *arg;
	enum cli_kind kind;
	size_t offset; /* into struct slowfs_config */
	uint64_t min, max;
	const char *defval;
	const char *key; /* in the resolved scenario (--config-fd); NULL: command line only */
	const char *help;
};

#define CLI_CFG(field) offsetof(struct slowfs_config, field)
#define CLI_NO_FIELD SIZE_MAX

static const struct cli_option cli_options[] = {
	{ "files", "N", CLI_U64, CLI_CFG(files), 1, SLOWFS_MAX_FILES, "1", "victim.files.count",
	  "number of files data-000000 .. data-(N-1)" },
	{ "size-bytes", "S", CLI_BYTES, CLI_CFG(size_bytes), 0, SLOWFS_MAX_TOTAL_BYTES, "1G",
	  "victim.files.size_bytes", "size of every file; K/M/G/T/P binary suffixes (1T = 2^40)" },
	{ "latency-ns", "N", CLI_U64, CLI_CFG(set.latency_ns), 0, SLOWFS_MAX_NS, "0",
	  "storage.slowfs.latency_ns", "fixed service latency per read request (median with lognormal)" },
	{ "jitter", "KIND", CLI_JITTER, CLI_CFG(set.jitter), 0, 0, "none", "storage.slowfs.jitter",
	  "none | uniform | exponential | lognormal" },
	{ "jitter-ns", "N", CLI_U64, CLI_CFG(set.jitter_ns), 0, SLOWFS_MAX_NS, "0", "storage.slowfs.jitter_ns",
	  "uniform: extra latency uniform in [0, N]; exponential: mean extra N" },
	{ "p99-ns", "N", CLI_U64, CLI_CFG(set.p99_ns), 0, SLOWFS_MAX_NS, "0", "storage.slowfs.p99_ns",
	  "lognormal: p99 of the total latency (median = latency-ns)" },
	{ "bandwidth-bytes-per-s", "N", CLI_BYTES, CLI_CFG(set.bandwidth_bytes_per_s), 0,
	  SLOWFS_MAX_BANDWIDTH, "0", "storage.slowfs.bandwidth_bytes_per_s",
	  "cap on bytes served per second, all requests; 0 = unlimited" },
	{ "max-inflight", "N", CLI_U64, CLI_CFG(set.max_inflight), 1, SLOWFS_MAX_INFLIGHT, "64",
	  "storage.slowfs.max_inflight", "requests in service at once; the rest queue in arrival order" },
	{ "max-request-bytes", "N", CLI_PAGES, CLI_CFG(max_request_bytes), 0, SLOWFS_MAX_REQUEST, "128K",
	  "storage.slowfs.max_request_bytes", "largest read request (FUSE max_read), a multiple of the page size" },
	{ "config-fd", "FD", CLI_FD, CLI_CFG(config_fd), 0, INT_MAX, "none", NULL,
	  "take the options above from the resolved scenario (JSON) on FD" },
	{ "ready-fd", "FD", CLI_FD, CLI_CFG(ready_fd), 0, INT_MAX, "none", NULL,
	  "write \"1\" to FD and close it once the mount is live" },
	{ "foreground", NULL, CLI_FLAG, CLI_NO_FIELD, 0, 0, "on", NULL,
	  "stay in the foreground (always; accepted for clarity)" },
	{ "debug", NULL, CLI_FLAG, CLI_CFG(debug), 0, 0, "off", NULL, "FUSE debug output on stderr (also -d)" },
	{ "help", NULL, CLI_FLAG, CLI_CFG(help), 0, 0, NULL, NULL, "this text (also -h)" },
};

#define CLI_NOPTIONS FL_ARRAY_SIZE(cli_options)

/* A parse in progress. */
struct cli_state {
	struct slowfs_config *cfg;
	uint64_t page_bytes;
	bool seen[CLI_NOPTIONS]; /* given (on the command line, or non-zero in the scenario) */
	bool scenario;		 /* the scenario options came from --config-fd */
};

int cli_parse_u64(const char *text, bool allow_suffix, uint64_t *out)
{
	const char *p = text;
	unsigned __int128 v = 0;
	unsigned shift = 0;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > UINT64_MAX)
			return -1;
	}
	if (*p && allow_suffix) {
		switch (*p) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		case 't': case 'T': shift = 40; break;
		case 'p': case 'P': shift = 50; break;
		default: return -1;
		}
		p++;
		if (!strcasecmp(p, "ib"))
			p += 2;
		else if (!strcasecmp(p, "b"))
			p += 1;
	}
	if (*p)
		return -1;
	v <<= shift;
	if (v > UINT64_MAX)
		return -1;
	*out = (uint64_t)v;
	return 0;
}

void cli_usage(FILE *out)
{
	fprintf(out,
		"usage: " SLOWFS_NAME " MOUNTPOINT [options]\n"
		"Serve synthetic read-only files (bytes = pattern_fill(file, offset)) over FUSE\n"
		"with a configurable per-request latency, jitter, bandwidth cap and in-flight\n"
		"limit.  The root also holds .stats (JSON counters) and .control (write\n"
		"key=value lines).  Options take \"--name VALUE\" or \"--name=VALUE\".\n\n");
	for (size_t i = 0; i < CLI_NOPTIONS; i++) {
		const struct cli_option *o = &cli_options[i];
		char head[64];

		snprintf(head, sizeof(head), "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(out, "  %-29s %s", head, o->help);
		if (o->defval)
			fprintf(out, " (default %s)", o->defval);
		fputc('\n', out);
	}
	fprintf(out,
		"\nWith --config-fd (how `faultline run` starts it), the files and settings\n"
		"come from the resolved scenario: victim.files.count, victim.files.size_bytes\n"
		"and storage.slowfs.*; the options that set them are then not allowed.\n"
		"Mount options are fixed: fsname=faultline-slowfs, subtype=slowfs,\n"
		"auto_unmount, default_permissions.  SIGTERM/SIGINT unmount and exit 0; the\n"
		"daemon also gets SIGTERM when its parent dies.  Exit status: 0 clean,\n"
		"1 runtime error, 2 bad command line (nothing mounted).\n");
	control_usage(out);
}

/* How messages name option o: "--name", or its scenario key. */
static const char *cli_label(const struct cli_state *st, const struct cli_option *o, char *buf,
			     size_t len)
{
	if (st->scenario && o->key)
		snprintf(buf, len, "%s", o->key);
	else
		snprintf(buf, len, "--%s", o->name);
	return buf;
}

static const struct cli_option *cli_find(size_t offset)
{
	for (size_t i = 0; i < CLI_NOPTIONS; i++)
		if (cli_options[i].offset == offset)
			return &cli_options[i];
	return NULL;
}

static int cli_set_value(struct cli_state *st, const struct cli_option *o, const char *value)
{
	uint64_t *field = (uint64_t *)((char *)st->cfg + o->offset);
	uint64_t v, min = o->kind == CLI_PAGES ? st->page_bytes : o->min;
	char label[64];

	cli_label(st, o, label, sizeof(label));
	if (o->kind == CLI_JITTER) {
		if (service_jitter_parse(value, &v) < 0) {
			fprintf(stderr, SLOWFS_NAME ": %s '%s': expected none, uniform, exponential or lognormal\n",
				label, value);
			return -1;
		}
		*field = v;
		return 0;
	}
	if (o->kind == CLI_FLAG)
		return -1;
	if (cli_parse_u64(value, o->kind == CLI_BYTES || o->kind == CLI_PAGES, &v) < 0) {
		fprintf(stderr, SLOWFS_NAME ": %s '%s': not a non-negative integer%s\n", label, value,
			o->kind == CLI_BYTES || o->kind == CLI_PAGES ? " (optional K/M/G/T/P suffix)" : "");
		return -1;
	}
	if (v < min || v > o->max) {
		fprintf(stderr, SLOWFS_NAME ": %s '%s': out of range [%" PRIu64 ", %" PRIu64 "]\n", label,
			value, min, o->max);
		return -1;
	}
	if (o->kind == CLI_PAGES && v % st->page_bytes) {
		fprintf(stderr, SLOWFS_NAME ": %s '%s': not a multiple of the page size, %" PRIu64 "\n",
			label, value, st->page_bytes);
		return -1;
	}
	if (o->kind == CLI_FD && fcntl((int)v, F_GETFD) < 0) {
		fprintf(stderr, SLOWFS_NAME ": %s '%s': not an open file descriptor: %s\n", label, value,
			strerror(errno));
		return -1;
	}
	*field = v;
	return 0;
}

/* One element of argv (and its value, the next one, when it takes it).
 * Returns how many elements it used, or -1 after printing what is wrong. */
static int cli_parse_one(struct cli_state *st, int argc, char **argv, int i)
{
	struct slowfs_config *cfg = st->cfg;
	const char *arg = argv[i], *value = NULL;
	const struct cli_option *o = NULL;
	size_t namelen, k;

	if (!strcmp(arg, "-d") || !strcmp(arg, "-h") || !strcmp(arg, "-f")) {
		if (arg[1] == 'd')
			cfg->debug = 1;
		else if (arg[1] == 'h')
			cfg->help = 1;
		return 1;
	}
	if (arg[0] != '-' || !strcmp(arg, "-")) {
		if (cfg->mountpoint) {
			fprintf(stderr, SLOWFS_NAME ": unexpected argument '%s' (mount point already '%s')\n",
				arg, cfg->mountpoint);
			return -1;
		}
		cfg->mountpoint = arg;
		return 1;
	}
	namelen = strncmp(arg, "--", 2) ? 0 : strcspn(arg + 2, "=");
	for (k = 0; namelen && k < CLI_NOPTIONS && !o; k++)
		if (strlen(cli_options[k].name) == namelen && !strncmp(cli_options[k].name, arg + 2, namelen))
			o = &cli_options[k];
	if (!o) {
		fprintf(stderr, SLOWFS_NAME ": unknown option '%s' (see --help)\n", arg);
		return -1;
	}
	if (arg[2 + namelen] == '=')
		value = arg + 2 + namelen + 1;
	if (o->kind == CLI_FLAG) {
		if (value) {
			fprintf(stderr, SLOWFS_NAME ": option --%s takes no value (got '%s')\n", o->name, value);
			return -1;
		}
		if (o->offset != CLI_NO_FIELD)
			*(int *)((char *)cfg + o->offset) = 1;
		return 1;
	}
	if (!value && i + 1 >= argc) {
		fprintf(stderr, SLOWFS_NAME ": option --%s needs a value\n", o->name);
		return -1;
	}
	if (cli_set_value(st, o, value ? value : argv[i + 1]) < 0)
		return -1;
	st->seen[o - cli_options] = true;
	return value ? 1 : 2;
}

/* The value at a dotted path of nested JSON objects, or NULL. */
static json_t *cli_json_path(json_t *root, const char *path)
{
	char comp[64];

	while (root) {
		size_t n = strcspn(path, ".");

		if (n >= sizeof(comp))
			return NULL;
		memcpy(comp, path, n);
		comp[n] = '\0';
		root = json_object_get(root, comp);
		if (!path[n])
			return root;
		path += n + 1;
	}
	return NULL;
}

/* Take every option with a scenario key from the resolved scenario on
 * cfg->config_fd (closed here), through the same checks as the command
 * line. */
static int cli_load_scenario(struct cli_state *st)
{
	int fd = (int)st->cfg->config_fd;
	struct config c;
	json_t *resolved = NULL;
	char err[512];
	int ret = -1;

	config_defaults(&c);
	if (config_load_fd(&c, fd, err, sizeof(err)) < 0) {
		fprintf(stderr, SLOWFS_NAME ": --config-fd %d: %s\n", fd, err);
		goto exit;
	}
	resolved = config_to_json(&c);
	st->scenario = true;
	for (size_t k = 0; k < CLI_NOPTIONS; k++) {
		const struct cli_option *o = &cli_options[k];
		json_t *v = o->key ? cli_json_path(resolved, o->key) : NULL;
		char num[32];
		const char *value = num;

		if (!o->key)
			continue;
		if (json_is_integer(v))
			snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		else if (json_is_string(v))
			value = json_string_value(v);
		else
			snprintf(num, sizeof(num), "(%s)", v ? "not an integer or a name" : "missing");
		if (cli_set_value(st, o, value) < 0)
			goto exit;
		st->seen[k] = strcmp(value, "0") != 0;
	}
	ret = 0;
exit:
	close(fd);
	st->cfg->config_fd = UINT64_MAX;
	json_decref(resolved);
	config_free(&c);
	return ret;
}

/* The checks between options, once all are known. */
static int cli_check(struct cli_state *st)
{
	struct slowfs_config *cfg = st->cfg;
	char a[64], b[64], c[64], err[160];

	if ((unsigned __int128)cfg->files * cfg->size_bytes > SLOWFS_MAX_TOTAL_BYTES) {
		fprintf(stderr, SLOWFS_NAME ": %s %" PRIu64 " %s %" PRIu64 ": total exceeds %llu bytes\n",
			cli_label(st, cli_find(CLI_CFG(files)), a, sizeof(a)), cfg->files,
			cli_label(st, cli_find(CLI_CFG(size_bytes)), b, sizeof(b)), cfg->size_bytes,
			SLOWFS_MAX_TOTAL_BYTES);
		return -1;
	}
	cli_label(st, cli_find(CLI_CFG(set.jitter)), c, sizeof(c));
	if (st->seen[cli_find(CLI_CFG(set.jitter_ns)) - cli_options] &&
	    cfg->set.jitter != SLOWFS_JITTER_UNIFORM && cfg->set.jitter != SLOWFS_JITTER_EXPONENTIAL) {
		fprintf(stderr, SLOWFS_NAME ": %s %" PRIu64 ": needs %s uniform or exponential (jitter is %s)\n",
			cli_label(st, cli_find(CLI_CFG(set.jitter_ns)), a, sizeof(a)), cfg->set.jitter_ns, c,
			service_jitter_name(cfg->set.jitter));
		return -1;
	}
	if (st->seen[cli_find(CLI_CFG(set.p99_ns)) - cli_options] &&
	    cfg->set.jitter != SLOWFS_JITTER_LOGNORMAL) {
		fprintf(stderr, SLOWFS_NAME ": %s %" PRIu64 ": needs %s lognormal (jitter is %s)\n",
			cli_label(st, cli_find(CLI_CFG(set.p99_ns)), a, sizeof(a)), cfg->set.p99_ns, c,
			service_jitter_name(cfg->set.jitter));
		return -1;
	}
	if (service_check(&cfg->set, err, sizeof(err)) < 0) {
		fprintf(stderr, SLOWFS_NAME ": %s %s %s %" PRIu64 " %s %" PRIu64 ": %s\n", c,
			service_jitter_name(cfg->set.jitter),
			cli_label(st, cli_find(CLI_CFG(set.latency_ns)), a, sizeof(a)), cfg->set.latency_ns,
			cli_label(st, cli_find(CLI_CFG(set.p99_ns)), b, sizeof(b)), cfg->set.p99_ns, err);
		return -1;
	}
	return 0;
}

int cli_parse(int argc, char **argv, uint64_t page_bytes, struct slowfs_config *cfg)
{
	struct cli_state st = { .cfg = cfg, .page_bytes = page_bytes };

	memset(cfg, 0, sizeof(*cfg));
	cfg->files = 1;
	cfg->size_bytes = 1ULL << 30;
	cfg->set.jitter = SLOWFS_JITTER_NONE;
	cfg->set.max_inflight = 64;
	cfg->max_request_bytes = 128u * 1024u;
	cfg->ready_fd = UINT64_MAX;
	cfg->config_fd = UINT64_MAX;

	for (int i = 1, used; i < argc; i += used) {
		used = cli_parse_one(&st, argc, argv, i);
		if (used < 0)
			return -1;
	}
	if (cfg->help)
		return 0;
	if (!cfg->mountpoint) {
		fprintf(stderr, SLOWFS_NAME ": missing MOUNTPOINT (see --help)\n");
		return -1;
	}
	if (cfg->config_fd != UINT64_MAX) {
		for (size_t k = 0; k < CLI_NOPTIONS; k++) {
			if (st.seen[k] && cli_options[k].key) {
				fprintf(stderr, SLOWFS_NAME ": --%s: not with --config-fd (the resolved "
					"scenario's %s applies)\n", cli_options[k].name, cli_options[k].key);
				return -1;
			}
		}
		if (cli_load_scenario(&st) < 0)
			return -1;
	}
	return cli_check(&st);
}
