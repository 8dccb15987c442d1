/* test_results: the result document (lib/results.h): atomic never-overwriting
 * write, load and validation with messages naming the file and the field. */
#include "tests/check.h"
#include "lib/config.h"
#include "lib/hist.h"
#include "lib/results.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>

/* Every test works in its own directory under root; the parent process
 * removes root at exit, so a failing test (which _exits) leaves nothing. */
CHECK_TMPDIR("/tmp/fl-test-results.XXXXXX")
static char tmpdir[sizeof(root) + 16];

static void make_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "%s/t.XXXXXX", root);
	CHECK(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
}

/* Remove the (flat) temporary directory. */
static void remove_tmpdir(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char p[1024];

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(tmpdir);
}

/* The names in tmpdir, sorted, joined by ' '. */
static void list_tmpdir(char *out, size_t len)
{
	struct dirent **names;
	int n = scandir(tmpdir, &names, NULL, alphasort);

	out[0] = '\0';
	CHECK(n >= 0, "scandir %s: %s", tmpdir, strerror(errno));
	for (int i = 0; i < n; i++) {
		if (strcmp(names[i]->d_name, ".") != 0 && strcmp(names[i]->d_name, "..") != 0) {
			if (out[0])
				strncat(out, " ", len - strlen(out) - 1);
			strncat(out, names[i]->d_name, len - strlen(out) - 1);
		}
		free(names[i]);
	}
	free(names);
}

static json_t *make_hist_json(uint64_t seed, size_t n)
{
	struct hist *h = malloc(sizeof(*h));
	struct hist_sum *s = malloc(sizeof(*s));
	uint64_t x = seed;
	json_t *j;

	CHECK(h && s, "malloc");
	hist_init(h);
	hist_sum_init(s);
	for (size_t i = 0; i < n; i++) {
		/* an LCG; a spread from ~100 ns to ~1 s */
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		hist_record(h, 100 + ((x >> 20) % 1000000) * ((x >> 60) + 1) * ((x >> 56) % 3 == 0 ? 100 : 1));
	}
	hist_sum_add(s, h);
	j = hist_sum_to_json(s);
	free(h);
	free(s);
	return j;
}

/* A minimal valid result document.  With exact_reals, every real in it is
 * exactly representable in few digits (no histogram means or percentiles
 * that need 17 significant digits). */
static json_t *make_doc(bool exact_reals)
{
	struct config c;
	json_t *doc, *major, *minor, *maps;

	if (exact_reals) {
		struct hist *h = malloc(sizeof(*h));
		struct hist_sum *s = malloc(sizeof(*s));

		CHECK(h && s, "malloc");
		hist_init(h);
		hist_sum_init(s);
		hist_record(h, 1000);
		hist_record(h, 3000);
		hist_sum_add(s, h);
		major = hist_sum_to_json(s);
		minor = hist_sum_to_json(s);
		maps = hist_sum_to_json(s);
		free(h);
		free(s);
	} else {
		major = make_hist_json(1, 10000);
		minor = make_hist_json(2, 333);
		maps = make_hist_json(3, 7);
	}
	config_defaults(&c);
	doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:{s:s, s:s}, s:[{s:i, s:{s:{s:{s:o, s:o}}, s:{s:{s:o}}}}], "
			"s:{s:i}}",
			"schema", RESULTS_SCHEMA, "run_id", "20250101T000000Z-test-1", "scenario", "smoke", "label",
			"test", "status", "ok", "config", config_to_json(&c), "environment", "arch", "x86_64",
			"kernel_release", "6.8.0-test", "iterations", "index", 0, "roles", "fault", "histograms",
			"major", major, "minor", minor, "observer", "histograms", "maps", maps, "summary",
			"iterations", 1);
	config_free(&c);
	CHECK(doc, "json_pack of the test document failed");
	return doc;
}

/* Path of the first difference between two JSON values (for messages). */
static bool json_diff(const json_t *a, const json_t *b, char *path, size_t len)
{
	size_t n = strlen(path);

	if (json_equal(a, b))
		return false;
	if (json_is_object(a) && json_is_object(b)) {
		const char *k;
		json_t *v;

		json_object_foreach((json_t *)a, k, v) {
			snprintf(path + n, len - n, ".%s", k);
			if (json_diff(v, json_object_get(b, k), path, len))
				return true;
		}
	} else if (json_is_array(a) && json_is_array(b) && json_array_size(a) == json_array_size(b)) {
		for (size_t i = 0; i < json_array_size(a); i++) {
			snprintf(path + n, len - n, "[%zu]", i);
			if (json_diff(json_array_get(a, i), json_array_get(b, i), path, len))
				return true;
		}
	}
	path[n] = '\0';
	{
		char *sa = a ? json_dumps(a, JSON_ENCODE_ANY | JSON_REAL_PRECISION(17)) : NULL;
		char *sb = b ? json_dumps(b, JSON_ENCODE_ANY | JSON_REAL_PRECISION(17)) : NULL;

		snprintf(path + n, len - n, ": %.60s vs %.60s", sa ? sa : "(missing)", sb ? sb : "(missing)");
		free(sa);
		free(sb);
	}
	return true;
}

static void write_raw(const char *name, const char *text, char *path, size_t len)
{
	int fd;

	snprintf(path, len, "%s/%s", tmpdir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	CHECK(fd >= 0, "create %s: %s", path, strerror(errno));
	CHECK_EQ(write(fd, text, strlen(text)), (ssize_t)strlen(text), "write %s: %s", path, strerror(errno));
	close(fd);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	CHECK(f, "open %s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	CHECK(buf && fread(buf, 1, (size_t)n, f) == (size_t)n, "read %s", path);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

TEST(document_validates_in_memory)
{
	json_t *doc = make_doc(false);
	char err[1024] = "";

	CHECK_EQ(results_validate(doc, "mem", err, sizeof(err)), 0, "valid document rejected: %s", err);
	json_decref(doc);
}

TEST(write_then_load_round_trips)
{
	json_t *doc = make_doc(false), *back;
	char err[1024] = "", path[1024], names[1024], diff[1024] = "";

	make_tmpdir();
	CHECK_EQ(results_write(doc, tmpdir, "run.json", err, sizeof(err)), 0, "%s", err);
	list_tmpdir(names, sizeof(names));
	CHECK_STR(names, "run.json", "the directory after results_write");
	snprintf(path, sizeof(path), "%s/run.json", tmpdir);
	back = results_load(path, err, sizeof(err));
	CHECK(back, "results_load: %s", err);
	CHECK(!json_diff(doc, back, diff, sizeof(diff)), "loaded document differs from the written one at %s", diff);
	json_decref(back);
	json_decref(doc);
	remove_tmpdir();
}

TEST(second_write_fails_with_eexist_and_keeps_first)
{
	json_t *doc = make_doc(true), *other, *back;
	char err[1024] = "", path[1024], names[1024], diff[1024] = "";
	char *before, *after;

	make_tmpdir();
	CHECK_EQ(results_write(doc, tmpdir, "run.json", err, sizeof(err)), 0, "%s", err);
	list_tmpdir(names, sizeof(names));
	CHECK_STR(names, "run.json", "the directory after the first write");
	snprintf(path, sizeof(path), "%s/run.json", tmpdir);
	before = slurp(path);
	back = results_load(path, err, sizeof(err));
	CHECK(back, "results_load: %s", err);
	CHECK(!json_diff(doc, back, diff, sizeof(diff)), "loaded document differs at %s", diff);
	json_decref(back);

	other = json_deep_copy(doc);
	json_object_set_new(other, "label", json_string("overwritten"));
	err[0] = '\0';
	CHECK_EQ(results_write(other, tmpdir, "run.json", err, sizeof(err)), -1, "the second write");
	CHECK(strstr(err, path) && strstr(err, strerror(EEXIST)), "second write: message '%s' lacks '%s' and '%s'", err,
	      path, strerror(EEXIST));
	list_tmpdir(names, sizeof(names));
	CHECK_STR(names, "run.json", "the directory after the failed write");
	after = slurp(path);
	CHECK_STR(after, before, "the first file changed");

	/* a different name is fine */
	CHECK_EQ(results_write(other, tmpdir, "run-2.json", err, sizeof(err)), 0, "%s", err);
	list_tmpdir(names, sizeof(names));
	CHECK_STR(names, "run-2.json run.json");

	/* a directory that does not exist */
	CHECK_EQ(results_write(doc, "/nonexistent-fl-dir", "run.json", err, sizeof(err)), -1, "a missing directory");
	CHECK(strstr(err, "/nonexistent-fl-dir"), "missing dir: message '%s'", err);

	free(before);
	free(after);
	json_decref(other);
	json_decref(doc);
	remove_tmpdir();
}

/* Write doc (as text) under name and expect results_load to fail with a
 * message that starts with the file's path and contains want. */
static void expect_load_error(const json_t *doc, const char *raw, const char *name, const char *want)
{
	char path[1024], err[1024] = "";
	json_t *got;

	if (doc) {
		char *text = json_dumps(doc, JSON_INDENT(1));

		CHECK(text, "dumps");
		write_raw(name, text, path, sizeof(path));
		free(text);
	} else {
		write_raw(name, raw, path, sizeof(path));
	}
	got = results_load(path, err, sizeof(err));
	CHECK(!got, "%s: loaded without error", name);
	CHECK(strncmp(err, path, strlen(path)) == 0, "%s: message '%s' does not start with the path", name, err);
	CHECK(strstr(err, want), "%s: message\n    '%s'\n  lacks '%s'", name, err, want);
}

TEST(load_errors_name_file_and_field)
{
	json_t *doc;
	char *text;

	make_tmpdir();

	doc = make_doc(true);
	json_object_set_new(doc, "schema", json_string("faultline-result/2"));
	expect_load_error(doc, NULL, "schema2.json", ": schema is \"faultline-result/2\", expected \"faultline-result/1\"");
	json_object_del(doc, "schema");
	expect_load_error(doc, NULL, "noschema.json", ": schema is missing, expected \"faultline-result/1\"");
	json_decref(doc);

	doc = make_doc(true);
	json_object_del(json_object_get(doc, "environment"), "arch");
	expect_load_error(doc, NULL, "noarch.json", ": environment.arch missing or of the wrong type");
	json_decref(doc);

	doc = make_doc(true);
	json_object_set_new(json_object_get(doc, "environment"), "kernel_release", json_integer(6));
	expect_load_error(doc, NULL, "badrelease.json", ": environment.kernel_release missing or of the wrong type");
	json_decref(doc);

	doc = make_doc(true);
	json_object_del(doc, "run_id");
	expect_load_error(doc, NULL, "norunid.json", ": run_id missing or of the wrong type");
	json_decref(doc);

	doc = make_doc(true);
	json_object_set_new(doc, "iterations", json_object());
	expect_load_error(doc, NULL, "iterobj.json", ": iterations missing or of the wrong type");
	json_decref(doc);

	doc = make_doc(true);
	json_object_del(json_array_get(json_object_get(doc, "iterations"), 0), "roles");
	expect_load_error(doc, NULL, "noroles.json", ": iterations[0].roles missing or of the wrong type");
	json_decref(doc);

	/* a bad bin deep inside */
	doc = make_doc(true);
	{
		json_t *major = json_object_get(
			json_object_get(json_object_get(json_object_get(json_array_get(json_object_get(doc, "iterations"), 0),
									"roles"),
							"fault"),
					"histograms"),
			"major");

		CHECK(major, "test bug: no major histogram");
		json_array_set_new(json_object_get(major, "bins"), 0, json_pack("[ii]", 1001, 1));
	}
	expect_load_error(doc, NULL, "badbin.json",
			  ": iterations[0].roles.fault.histograms.major: bins[0]: 1001 ns is not a bucket boundary");
	json_decref(doc);

	/* corrupt JSON: a valid document cut in half */
	doc = make_doc(true);
	text = json_dumps(doc, JSON_INDENT(1));
	CHECK(text, "dumps");
	text[strlen(text) / 2] = '\0';
	expect_load_error(NULL, text, "corrupt.json", ": not a faultline result: ");
	free(text);
	json_decref(doc);
	expect_load_error(NULL, "", "empty.json", ": not a faultline result: ");
	expect_load_error(NULL, "[1, 2]\n", "array.json", ": not a JSON object");
	expect_load_error(NULL, "{\"schema\": \"faultline-result/1\", \"schema\": \"faultline-result/1\"}\n",
			  "dupkey.json", "duplicate object key");

	remove_tmpdir();
	{
		char err[512] = "";

		CHECK(!results_load("/nonexistent-fl/run.json", err, sizeof(err)), "loaded a missing file");
		CHECK(strstr(err, "/nonexistent-fl/run.json"), "missing file: message '%s'", err);
	}
}

/* Each role must carry a histograms object (the schema's
 * iterations[].roles.ROLE.histograms). */
TEST(role_without_histograms_rejected)
{
	json_t *doc = make_doc(true), *fault;
	char err[1024] = "";

	fault = json_object_get(json_object_get(json_array_get(json_object_get(doc, "iterations"), 0), "roles"), "fault");
	json_object_del(fault, "histograms");
	CHECK_EQ(results_validate(doc, "mem", err, sizeof(err)), -1, "a role without histograms");
	CHECK(strstr(err, "iterations[0].roles.fault.histograms"), "message '%s'", err);
	json_decref(doc);
}
