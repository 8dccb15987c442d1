/* test_config: the scenario options table (lib/config.h): defaults, error
 * messages of malformed scenario files, --set, the bundled scenarios. */
#include "tests/check.h"
#include "lib/config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <sys/stat.h>

/* Scenario files go into directories under root; the parent process removes
 * root at exit, so a failing test (which _exits) leaves nothing behind. */
CHECK_TMPDIR("/tmp/fl-test-config.XXXXXX")

/* Write text to a fresh file NAME in a fresh directory under root; path gets
 * the file's path.  remove_scenario() deletes both. */
static void write_scenario(char *path, size_t len, const char *name, const char *text)
{
	char dir[sizeof(root) + 16];
	int fd;

	snprintf(dir, sizeof(dir), "%s/s.XXXXXX", root);

	CHECK(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	snprintf(path, len, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	CHECK(fd >= 0, "create %s: %s", path, strerror(errno));
	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text), "write %s", path);
	close(fd);
}

static void remove_scenario(const char *path)
{
	char dir[512];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	unlink(path);
	if (slash) {
		*slash = '\0';
		rmdir(dir);
	}
}

struct bad_case {
	const char *name;
	const char *text;
	int line;         /* expected line in "FILE:LINE: ..."; 0 = no line */
	const char *key;  /* expected key after the location; NULL = none (JSON syntax errors) */
	const char *want; /* substring of the rest of the message */
	bool via_check;   /* loads fine; config_check rejects it */
};

static const struct bad_case bad_cases[] = {
	{ "unknown-top-level-key",
	  "{\n"
	  "  \"name\": \"t\",\n"
	  "  \"bogus\": 1\n"
	  "}\n",
	  3, "bogus", "unknown key (known here: name, description, label", false },
	{ "unknown-nested-key",
	  "{\n"
	  "  \"victim\": {\n"
	  "    \"fault_threads\": 2,\n"
	  "    \"fault_thread\": 4\n"
	  "  }\n"
	  "}\n",
	  4, "victim.fault_thread", "unknown key (known here: fault_threads, writer_threads", false },
	{ "wrong-type-string-for-integer",
	  "{\n"
	  "  \"victim\": {\n"
	  "    \"fault_threads\": \"8\"\n"
	  "  }\n"
	  "}\n",
	  3, "victim.fault_threads", "expected an integer (value \"8\")", false },
	{ "real-for-integer",
	  "{\n"
	  "  \"iterations\": 2.5\n"
	  "}\n",
	  2, "iterations", "expected an integer (value 2.5)", false },
	{ "negative-threads",
	  "{\n"
	  "  \"name\": \"t\",\n"
	  "  \"observer\": { \"rate_per_s\": 5,\n"
	  "                \"threads\": -1 }\n"
	  "}\n",
	  4, "observer.threads", "out of range [0, 256] (value -1)", false },
	{ "write-ratio-above-one",
	  "{\n"
	  "  \"victim\": {\n"
	  "    \"pattern\": \"random\",\n"
	  "    \"write_ratio\": 1.5\n"
	  "  }\n"
	  "}\n",
	  4, "victim.write_ratio", "out of range [0, 1] (value 1.5)", false },
	{ "bad-enum",
	  "{\n"
	  "  \"victim\": {\n"
	  "    \"pattern\": \"spiral\"\n"
	  "  }\n"
	  "}\n",
	  3, "victim.pattern", "expected one of sequential|random|zipf|stride (value \"spiral\")", false },
	{ "bad-set-element",
	  "{\n"
	  "  \"observer\": {\n"
	  "    \"threads\": 2,\n"
	  "    \"files\": [\"cmdline\", \"foo\"]\n"
	  "  }\n"
	  "}\n",
	  4, "observer.files", "element 1: expected one of cmdline|environ|maps|smaps|smaps_rollup|numa_maps|status|statm "
	  "(value \"foo\")", false },
	{ "bool-wrong-type",
	  "{\n"
	  "  \"observer\": {\n"
	  "    \"ps_scan\": \"yes\"\n"
	  "  }\n"
	  "}\n",
	  3, "observer.ps_scan", "expected true or false (value \"yes\")", false },
	{ "section-not-an-object",
	  "{\n"
	  "  \"name\": \"t\",\n"
	  "  \"victim\": 3\n"
	  "}\n",
	  3, "victim", "expected an object (a section of options) (value 3)", false },
	{ "deep-out-of-range",
	  "{\n"
	  "  \"cgroup\": {\n"
	  "    \"protected\": { \"cpu_weight\": 1000 },\n"
	  "    \"victim\": {\n"
	  "      \"cpu_weight\": 0\n"
	  "    }\n"
	  "  }\n"
	  "}\n",
	  5, "cgroup.victim.cpu_weight", "out of range [1, 10000] (value 0)", false },
	{ "size-bad-suffix",
	  "{\n"
	  "  \"victim\": {\n"
	  "    \"files\": {\n"
	  "      \"count\": 2,\n"
	  "      \"size_bytes\": \"64Q\"\n"
	  "    }\n"
	  "  }\n"
	  "}\n",
	  5, "victim.files.size_bytes", "expected a size in bytes: a non-negative integer or a string like \"64M\" "
	  "(value \"64Q\")", false },
	{ "size-too-big",
	  "{\n"
	  "  \"victim\": { \"files\": { \"size_bytes\": \"2048T\" } }\n"
	  "}\n",
	  2, "victim.files.size_bytes", "out of range [4096, ", false },
	{ "invalid-json-syntax",
	  "{\n"
	  "  \"name\": \"t\",\n"
	  "  \"label\" \"x\"\n"
	  "}\n",
	  3, NULL, ":3:13: invalid JSON: ':' expected near '\"x\"'", false },
	{ "trailing-comma",
	  "{\n"
	  "  \"name\": \"t\",\n"
	  "}\n",
	  3, NULL, ":3:1: invalid JSON: ", false },
	{ "duplicate-key",
	  "{\n"
	  "  \"name\": \"a\",\n"
	  "  \"seed\": 3,\n"
	  "  \"name\": \"b\"\n"
	  "}\n",
	  4, NULL, ":4:8: invalid JSON: duplicate object key near '\"name\"'", false },
	{ "top-level-array",
	  "[\n"
	  "  { \"name\": \"t\" }\n"
	  "]\n",
	  0, "(top level)", "a scenario is a JSON object", false },
	{ "empty-file", "", 1, NULL, ":1:0: invalid JSON: '[' or '{' expected near end of file", false },
	{ "zipf-theta-one",
	  "{\n"
	  "  \"victim\": { \"pattern\": \"zipf\", \"zipf_theta\": 1.0 }\n"
	  "}\n",
	  0, "victim.zipf_theta", "must not be 1.0", true },
	{ "p99-without-lognormal",
	  "{\n"
	  "  \"storage\": { \"type\": \"slowfs\", \"slowfs\": { \"jitter\": \"uniform\", \"jitter_ns\": 1000, \"p99_ns\": 5000000 } }\n"
	  "}\n",
	  0, "storage.slowfs.p99_ns", "needs storage.slowfs.jitter lognormal (value 5000000)", true },
	{ "size-not-page-multiple",
	  "{\n"
	  "  \"victim\": { \"files\": { \"size_bytes\": 10000 } }\n"
	  "}\n",
	  0, "victim.files.size_bytes", "must be a multiple of the page size", true },
	{ "storage-path-relative",
	  "{\n"
	  "  \"storage\": { \"type\": \"dir\", \"path\": \"var/tmp/faultline\" }\n"
	  "}\n",
	  0, "storage.path", "must be an absolute path (value \"var/tmp/faultline\")", true },
	{ "more-fault-threads-than-pages",
	  "{\n"
	  "  \"victim\": { \"fault_threads\": 9, \"files\": { \"count\": 2, \"size_bytes\": \"16K\" } }\n"
	  "}\n",
	  0, "victim.fault_threads", "more fault threads (9) than pages in the files (8)", true },
	{ "writer-without-ops",
	  "{\n"
	  "  \"victim\": { \"writer_threads\": 2, \"writer\": { \"ops\": [] } }\n"
	  "}\n",
	  0, "victim.writer.ops", "writer threads need at least one operation", true },
	{ "no-threads-at-all",
	  "{\n"
	  "  \"victim\": { \"writer_threads\": 0, \"fault_threads\": 0 }\n"
	  "}\n",
	  0, "victim.fault_threads", "at least one fault, writer or odirect thread", true },
};

static void run_bad_case(const struct bad_case *bc)
{
	char path[512], prefix[700], err[1024] = "", file[64];
	struct config c;
	int load, check = 0;

	snprintf(file, sizeof(file), "%s.json", bc->name);
	write_scenario(path, sizeof(path), file, bc->text);
	config_defaults(&c);
	load = config_load(&c, path, err, sizeof(err));
	if (load == 0 && bc->via_check)
		check = config_check(&c, path, err, sizeof(err));
	config_free(&c);
	remove_scenario(path);

	if (bc->via_check) {
		CHECK(load == 0, "%s: should load (config_check rejects it), got: %s", bc->name, err);
		CHECK(check == -1, "%s: config_check accepted it", bc->name);
	} else {
		CHECK(load == -1, "%s: loaded without error", bc->name);
	}
	if (bc->key && bc->line > 0)
		snprintf(prefix, sizeof(prefix), "%s:%d: %s: ", path, bc->line, bc->key);
	else if (bc->key)
		snprintf(prefix, sizeof(prefix), "%s: %s: ", path, bc->key);
	else
		snprintf(prefix, sizeof(prefix), "%s:%d:", path, bc->line);
	CHECK(strncmp(err, prefix, strlen(prefix)) == 0, "%s: message\n    '%s'\n  does not start with\n    '%s'", bc->name,
	      err, prefix);
	CHECK(strstr(err + strlen(path), bc->want), "%s: message\n    '%s'\n  lacks '%s'", bc->name, err, bc->want);
}

TEST(malformed_scenarios)
{
	CHECK(sizeof(bad_cases) / sizeof(bad_cases[0]) >= 12, "too few cases");
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++)
		run_bad_case(&bad_cases[i]);
}

TEST(missing_file)
{
	struct config c;
	char err[512] = "";

	config_defaults(&c);
	CHECK(config_load(&c, "/nonexistent/fl-test.json", err, sizeof(err)) == -1, "loaded a missing file");
	CHECK(strstr(err, "/nonexistent/fl-test.json: cannot read scenario: No such file or directory"), "message '%s'",
	      err);
	config_free(&c);
}

/* The key of a section ("victim") also names a nested section
 * ("cgroup.victim") that comes first in the file: the message must still
 * point at the line of the top-level key. */
TEST(error_line_of_section_after_nested_namesake)
{
	static const struct bad_case bc = {
		"section-after-namesake",
		"{\n"
		"  \"cgroup\": {\n"
		"    \"victim\": { \"cpu_weight\": 50 }\n"
		"  },\n"
		"  \"victim\": 3\n"
		"}\n",
		5, "victim", "expected an object", false
	};

	run_bad_case(&bc);
}

/* The "known here" list of an unknown key names each key once. */
TEST(unknown_key_lists_each_known_key_once)
{
	static const char *const texts[] = {
		"{ \"bogus\": 1 }",
		"{ \"victim\": { \"bogus\": 1 } }",
	};

	for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
		char path[512], err[1024] = "", full[1024], *list, *tok, *save = NULL, seen[1024] = ",";
		struct config c;

		write_scenario(path, sizeof(path), "known.json", texts[t]);
		config_defaults(&c);
		CHECK(config_load(&c, path, err, sizeof(err)) == -1, "loaded");
		config_free(&c);
		remove_scenario(path);
		snprintf(full, sizeof(full), "%s", err);
		list = strstr(err, "(known here: ");
		CHECK(list, "no known list in '%s'", err);
		list += strlen("(known here: ");
		list[strcspn(list, ")")] = '\0';
		for (tok = strtok_r(list, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
			char key[80];

			snprintf(key, sizeof(key), ",%s,", tok);
			CHECK(!strstr(seen, key), "%s: '%s' listed twice in '%s'", texts[t], tok, full);
			strncat(seen, key + 1, sizeof(seen) - strlen(seen) - 1);
		}
	}
}

TEST(defaults_validate_and_round_trip)
{
	struct config a, b;
	char err[1024] = "";
	json_t *ja, *jb, *jt;
	char *text;

	config_defaults(&a);
	CHECK(config_check(&a, "defaults", err, sizeof(err)) == 0, "defaults fail config_check: %s", err);
	ja = config_to_json(&a);
	CHECK(json_is_object(ja), "config_to_json not an object");
	/* every option is present */
	for (size_t i = 0; i < config_option_count; i++) {
		char p[128], *save = NULL, *comp;
		const json_t *v = ja;

		snprintf(p, sizeof(p), "%s", config_options[i].path);
		for (comp = strtok_r(p, ".", &save); comp && v; comp = strtok_r(NULL, ".", &save))
			v = json_object_get(v, comp);
		CHECK(v, "option %s missing from config_to_json", config_options[i].path);
	}
	config_defaults(&b);
	CHECK(config_load_json(&b, ja, "mem", NULL, err, sizeof(err)) == 0, "reloading defaults: %s", err);
	jb = config_to_json(&b);
	CHECK(json_equal(ja, jb), "defaults do not round-trip");
	json_decref(jb);
	config_free(&b);

	/* and through text */
	text = json_dumps(ja, JSON_INDENT(2));
	CHECK(text, "dumps");
	jt = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	CHECK(jt, "loads");
	config_defaults(&b);
	CHECK(config_load_json(&b, jt, "mem", text, err, sizeof(err)) == 0, "reloading defaults text: %s", err);
	jb = config_to_json(&b);
	CHECK(json_equal(ja, jb), "defaults do not round-trip through text");
	json_decref(jb);
	json_decref(jt);
	free(text);
	config_free(&b);
	json_decref(ja);
	config_free(&a);
}

TEST(non_default_round_trip)
{
	static const char *const sets[] = {
		"name=round trip",
		"label=candidate-1",
		"victim.pattern=zipf",
		"victim.zipf_theta=1.25",
		"victim.files.size_bytes=3G",
		"victim.writer.ops=[\"mprotect\", \"madvise_dontneed\"]",
		"observer.files=[\"smaps\", \"numa_maps\", \"statm\"]",
		"observer.ps_scan=false",
		"cgroup.victim.io_max=rbps=1048576 riops=200",
		"storage.type=slowfs",
		"seed=9007199254740991",
		"report.headline=[\"writer.ops_per_s\", \"fault.major.p99\"]",
	};
	struct config a, b;
	char err[1024] = "";
	json_t *ja, *jb;

	config_defaults(&a);
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
		CHECK(config_set(&a, sets[i], err, sizeof(err)) == 0, "config_set %s: %s", sets[i], err);
	CHECK(config_check(&a, "set", err, sizeof(err)) == 0, "config_check: %s", err);
	ja = config_to_json(&a);
	config_defaults(&b);
	CHECK(config_load_json(&b, ja, "mem", NULL, err, sizeof(err)) == 0, "reload: %s", err);
	jb = config_to_json(&b);
	CHECK(json_equal(ja, jb), "non-default config does not round-trip");
	CHECK(b.victim.writer.ops == (WRITER_OP_MPROTECT | WRITER_OP_MADVISE_DONTNEED), "writer ops %#x",
	      b.victim.writer.ops);
	CHECK(b.observer.files == (1u << PROCFILE_SMAPS | 1u << PROCFILE_NUMA_MAPS | 1u << PROCFILE_STATM),
	      "observer files %#x", b.observer.files);
	CHECK(b.victim.file_size_bytes == 3ULL << 30, "size %llu", (unsigned long long)b.victim.file_size_bytes);
	CHECK(strcmp(b.cg_victim.io_max, "rbps=1048576 riops=200") == 0, "io_max '%s'", b.cg_victim.io_max);
	CHECK(strcmp(b.name, "round trip") == 0, "name '%s'", b.name);
	CHECK(b.seed == 9007199254740991LL, "seed");
	CHECK(b.report.headline && strcmp(b.report.headline, "writer.ops_per_s,fault.major.p99") == 0, "headline '%s'",
	      b.report.headline);
	CHECK(json_array_size(json_object_get(json_object_get(jb, "report"), "headline")) == 2, "headline as JSON");
	/* a comma-separated --set value is a list too; elements must be names */
	CHECK(config_set(&b, "report.headline=a.b,c.d", err, sizeof(err)) == 0 && !strcmp(b.report.headline, "a.b,c.d"),
	      "comma list: %s", err);
	CHECK(config_set(&b, "report.headline=[1]", err, sizeof(err)) == -1 && strstr(err, "element 0"),
	      "a number in a list was accepted: %s", err);
	json_decref(ja);
	json_decref(jb);
	config_free(&a);
	config_free(&b);
}

TEST(config_set)
{
	struct config c;
	char err[1024];

	config_defaults(&c);
	err[0] = '\0';
	CHECK(config_set(&c, "victim.fault_threads=2000", err, sizeof(err)) == 0, "fault_threads=2000: %s", err);
	CHECK(c.victim.fault_threads == 2000, "fault_threads = %lld", (long long)c.victim.fault_threads);

	CHECK(c.storage.type == STORAGE_DIR, "default storage.type");
	CHECK(config_set(&c, "storage.type=slowfs", err, sizeof(err)) == 0, "storage.type=slowfs: %s", err);
	CHECK(c.storage.type == STORAGE_SLOWFS, "storage.type = %d", c.storage.type);
	CHECK(config_set(&c, "storage.type=\"dir\"", err, sizeof(err)) == 0, "storage.type=\"dir\": %s", err);
	CHECK(c.storage.type == STORAGE_DIR, "storage.type (JSON string) = %d", c.storage.type);

	CHECK(config_set(&c, "storage.path=/srv/fl data", err, sizeof(err)) == 0, "storage.path: %s", err);
	CHECK(strcmp(c.storage.path, "/srv/fl data") == 0, "storage.path '%s'", c.storage.path);
	CHECK(config_set(&c, "victim.files.size_bytes=1G", err, sizeof(err)) == 0, "size 1G: %s", err);
	CHECK(c.victim.file_size_bytes == 1ULL << 30, "size %llu", (unsigned long long)c.victim.file_size_bytes);
	CHECK(config_set(&c, "victim.write_ratio=0.25", err, sizeof(err)) == 0, "write_ratio: %s", err);
	CHECK(c.victim.write_ratio == 0.25, "write_ratio %g", c.victim.write_ratio);
	CHECK(config_set(&c, "victim.verify=true", err, sizeof(err)) == 0 && c.victim.verify, "verify: %s", err);

	/* errors: unknown key, bad value, missing '=', empty key; the value is unchanged */
	err[0] = '\0';
	CHECK(config_set(&c, "victim.fault_thread=2", err, sizeof(err)) == -1, "unknown key accepted");
	CHECK(strstr(err, "victim.fault_thread: unknown key"), "unknown key message '%s'", err);

	err[0] = '\0';
	CHECK(config_set(&c, "victim.fault_threads=lots", err, sizeof(err)) == -1, "bad value accepted");
	CHECK(strstr(err, "--set: victim.fault_threads: expected an integer (value \"lots\")"), "bad value message '%s'",
	      err);
	CHECK(c.victim.fault_threads == 2000, "bad value changed fault_threads to %lld",
	      (long long)c.victim.fault_threads);

	err[0] = '\0';
	CHECK(config_set(&c, "victim.fault_threads=-3", err, sizeof(err)) == -1, "out of range accepted");
	CHECK(strstr(err, "victim.fault_threads: out of range"), "range message '%s'", err);

	err[0] = '\0';
	CHECK(config_set(&c, "storage.type=nfs", err, sizeof(err)) == -1, "bad enum accepted");
	CHECK(strstr(err, "storage.type: expected one of dir|slowfs (value \"nfs\")"), "enum message '%s'", err);
	CHECK(c.storage.type == STORAGE_DIR, "bad enum changed storage.type");

	err[0] = '\0';
	CHECK(config_set(&c, "victim.files.size_bytes=64Q", err, sizeof(err)) == -1, "64Q accepted");
	CHECK(strstr(err, "victim.files.size_bytes: expected a size"), "size message '%s'", err);

	err[0] = '\0';
	CHECK(config_set(&c, "victim.fault_threads", err, sizeof(err)) == -1, "missing '=' accepted");
	CHECK(strstr(err, "expected KEY=VALUE") && strstr(err, "'victim.fault_threads'"), "missing '=' message '%s'",
	      err);

	err[0] = '\0';
	CHECK(config_set(&c, "=5", err, sizeof(err)) == -1, "empty key accepted");
	CHECK(strstr(err, "expected KEY=VALUE"), "empty key message '%s'", err);

	err[0] = '\0';
	CHECK(config_set(&c, "victim=3", err, sizeof(err)) == -1, "a section accepted as a key");
	CHECK(strstr(err, "unknown key"), "section message '%s'", err);
	config_free(&c);
}

static int scenario_glob(glob_t *g)
{
	char pattern[1024];
	const char *src = __FILE__, *slash = strrchr(src, '/');

	if (glob("bench/scenarios/*.json", 0, NULL, g) == 0)
		return 0;
	/* run from elsewhere: relative to this source file */
	snprintf(pattern, sizeof(pattern), "%.*s/../bench/scenarios/*.json", slash ? (int)(slash - src) : 1,
		 slash ? src : ".");
	return glob(pattern, 0, NULL, g);
}

TEST(bundled_scenarios_load)
{
	glob_t g;

	CHECK(scenario_glob(&g) == 0 && g.gl_pathc > 0, "no bench/scenarios/*.json found (run from the repository)");
	for (size_t i = 0; i < g.gl_pathc; i++) {
		struct config c, d;
		char err[1024] = "";
		json_t *j, *j2;

		config_defaults(&c);
		CHECK(config_load(&c, g.gl_pathv[i], err, sizeof(err)) == 0, "%s", err);
		CHECK(config_check(&c, g.gl_pathv[i], err, sizeof(err)) == 0, "%s", err);
		CHECK(c.name && c.name[0] && strcmp(c.name, "unnamed") != 0, "%s: no name", g.gl_pathv[i]);
		/* the resolved config reloads to itself */
		j = config_to_json(&c);
		config_defaults(&d);
		CHECK(config_load_json(&d, j, g.gl_pathv[i], NULL, err, sizeof(err)) == 0, "%s", err);
		j2 = config_to_json(&d);
		CHECK(json_equal(j, j2), "%s: resolved config does not round-trip", g.gl_pathv[i]);
		json_decref(j);
		json_decref(j2);
		config_free(&c);
		config_free(&d);
	}
	globfree(&g);
}

TEST(enum_names)
{
	char buf[64];
	static const struct config_choice abc[] = { { "a", 1 }, { "bb", 4 }, { "ccc", 9 }, { NULL, 0 } };

	CHECK(strcmp(config_enum_name("victim.pattern", PATTERN_ZIPF), "zipf") == 0, "pattern name");
	CHECK(strcmp(config_enum_name("storage.type", STORAGE_SLOWFS), "slowfs") == 0, "storage name");
	CHECK(strcmp(config_enum_name("victim.pattern", 17), "?") == 0, "out of range enum");
	CHECK(strcmp(config_enum_name("no.such", 0), "?") == 0, "unknown path");
	CHECK(config_choice_name(abc, 9) && strcmp(config_choice_name(abc, 9), "ccc") == 0, "choice of value 9");
	CHECK(config_choice_name(abc, 2) == NULL, "a value with no name has a name");
	CHECK(strcmp(config_choices_text(abc, buf, sizeof(buf)), "a|bb|ccc") == 0, "choices text: %s", buf);
	CHECK(strcmp(config_choices_text(abc, buf, 4), "a|b") == 0, "choices text truncated: %s", buf);
	/* observer.files: a set, each name standing for the bit of its PROCFILE_ index */
	CHECK(strcmp(config_enum_name("observer.files", 1 << PROCFILE_SMAPS_ROLLUP), "smaps_rollup") == 0 &&
	      strcmp(config_enum_name("observer.files", 1 << PROCFILE_STATM), "statm") == 0 &&
	      strcmp(config_enum_name("observer.files", 1 << PROCFILE_COUNT), "?") == 0, "PROCFILE_ bits");
	/* every choice list: distinct names and values; SET values are single bits */
	for (size_t i = 0; i < config_option_count; i++) {
		const struct config_option *o = &config_options[i];

		CHECK((o->type == CONFIG_ENUM || o->type == CONFIG_SET) == (o->choices != NULL), "%s: choices", o->path);
		for (const struct config_choice *a = o->choices; a && a->name; a++) {
			CHECK(o->type != CONFIG_SET || (a->value > 0 && (a->value & (a->value - 1)) == 0),
			      "%s: %s is not one bit (%d)", o->path, a->name, a->value);
			for (const struct config_choice *b = a + 1; b->name; b++)
				CHECK(strcmp(a->name, b->name) != 0 && a->value != b->value, "%s: %s and %s collide",
				      o->path, a->name, b->name);
		}
	}
}
