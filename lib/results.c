/* results: the result document, written atomically (results.h). */
#define _GNU_SOURCE
#include "lib/results.h"
#include "lib/hist.h"
#include "lib/util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* dir is opened once, checked (util_dir_open_safe: owned by root or the
 * invoking user, no other user able to rename it or anything above it)
 * and everything happens relative to it: the temporary with O_EXCL and
 * O_NOFOLLOW (nothing at its name is opened or followed), the final name
 * with linkat (never over an existing file, never through a link).  The
 * temporary has no name at all (O_TMPFILE) where the file system allows
 * it, so a writer SIGKILLed before the link leaves nothing behind
 * (tests/torture.sh); elsewhere it is .NAME.tmp-PID. */
int results_write(const json_t *doc, const char *dir, const char *name, char *err, size_t errlen)
{
	char tmp[4096], final[4096], proc[64];
	char *text = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS);
	int fd = -1, dfd = -1, ret = -1, linked;
	bool anon = false;

	snprintf(tmp, sizeof(tmp), ".%s.tmp-%d", name, (int)getpid());
	snprintf(final, sizeof(final), "%s/%s", dir, name);
	if (!text) {
		snprintf(err, errlen, "results: encoding %s as JSON failed", final);
		goto out;
	}
	if (!*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..")) {
		snprintf(err, errlen, "results: %s: the file name must be one path component", final);
		goto out;
	}
	dfd = util_dir_open_safe("results: --out", dir, UTIL_DIR_STICKY_OK, NULL, 0, err, errlen);
	if (dfd < 0)
		goto out;
	fd = openat(dfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
	anon = fd >= 0;
	if (!anon)
		fd = util_openat_nofollow(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "results: create %s/%s: %s", dir, tmp, strerror(errno));
		goto out;
	}
	if (util_write_all(fd, text, strlen(text)) < 0 || util_write_all(fd, "\n", 1) < 0 || fsync(fd) < 0) {
		snprintf(err, errlen, "results: write %s/%s: %s", dir, tmp, strerror(errno));
		goto out;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	linked = anon ? linkat(AT_FDCWD, proc, dfd, name, AT_SYMLINK_FOLLOW) : linkat(dfd, tmp, dfd, name, 0);
	if (linked < 0 && anon && errno == ENOENT) /* no /proc: needs CAP_DAC_READ_SEARCH */
		linked = linkat(fd, "", dfd, name, AT_EMPTY_PATH);
	if (linked < 0) {
		snprintf(err, errlen, "results: %s: %s (results are never overwritten)", final, strerror(errno));
		goto out;
	}
	fsync(dfd);
	ret = 0;
out:
	if (fd >= 0) {
		close(fd);
		if (!anon)
			unlinkat(dfd, tmp, 0);
	}
	if (dfd >= 0)
		close(dfd);
	free(text);
	return ret;
}

static int results_need(const json_t *obj, const char *key, json_type type, const char *path, const char *where,
			char *err, size_t errlen)
{
	const json_t *v = json_object_get(obj, key);

	if (!v || json_typeof(v) != type) {
		snprintf(err, errlen, "%s: %s%s%s missing or of the wrong type", path, where, *where ? "." : "", key);
		return -1;
	}
	return 0;
}

double results_overrun_limit_s(double duration_s)
{
	return duration_s * 0.1 > 1.0 ? duration_s * 0.1 : 1.0;
}

/* An iteration's phase timing (results written before these keys existed
 * have none of them): duration_s, measured_s and overrun_s are numbers
 * >= 0, overrun_s = max(0, measured_s - duration_s), and an overrun past
 * results_overrun_limit_s is never `ok`, in the iteration or the run. */
static int results_check_phase(const json_t *doc, const json_t *it, const char *path, const char *where, char *err,
			       size_t errlen)
{
	static const char *const keys[] = { "duration_s", "measured_s", "overrun_s" };
	const json_t *over = json_object_get(it, "overrun_s"), *sampling = json_object_get(it, "sampling");
	double v[3];

	if (sampling && (results_need(sampling, "samples", JSON_INTEGER, path, where, err, errlen) ||
			 results_need(sampling, "skipped", JSON_INTEGER, path, where, err, errlen) ||
			 results_need(sampling, "longest_sample_s", JSON_REAL, path, where, err, errlen)))
		return -1;
	if (!over)
		return 0;
	for (size_t k = 0; k < 3; k++) {
		const json_t *j = json_object_get(it, keys[k]);

		if (!json_is_number(j) || json_number_value(j) < 0) {
			snprintf(err, errlen, "%s: %s.%s missing, not a number or negative (with overrun_s)", path, where,
				 keys[k]);
			return -1;
		}
		v[k] = json_number_value(j);
	}
	if (fabs(v[2] - (v[1] > v[0] ? v[1] - v[0] : 0)) > 1e-6) {
		snprintf(err, errlen, "%s: %s.overrun_s is %g, but measured_s %g - duration_s %g says otherwise", path,
			 where, v[2], v[1], v[0]);
		return -1;
	}
	if (v[2] > results_overrun_limit_s(v[0]) &&
	    (!strcmp(json_string_value(json_object_get(it, "status")) ?: "ok", "ok") ||
	     !strcmp(json_string_value(json_object_get(doc, "status")), "ok"))) {
		snprintf(err, errlen, "%s: %s.overrun_s is %g s (more than the %g s allowed) but the status is ok", path,
			 where, v[2], results_overrun_limit_s(v[0]));
		return -1;
	}
	return 0;
}

int results_validate(const json_t *doc, const char *path, char *err, size_t errlen)
{
	const json_t *iters, *it, *schema = json_object_get(doc, "schema");
	size_t i;

	if (!json_is_object(doc)) {
		snprintf(err, errlen, "%s: not a JSON object", path);
		return -1;
	}
	if (!json_is_string(schema) || strcmp(json_string_value(schema), RESULTS_SCHEMA) != 0) {
		char *s = schema ? json_dumps(schema, JSON_ENCODE_ANY) : NULL;

		snprintf(err, errlen, "%s: schema is %s, expected \"%s\"", path, s ? s : "missing", RESULTS_SCHEMA);
		free(s);
		return -1;
	}
	if (results_need(doc, "run_id", JSON_STRING, path, "", err, errlen) ||
	    results_need(doc, "scenario", JSON_STRING, path, "", err, errlen) ||
	    results_need(doc, "label", JSON_STRING, path, "", err, errlen) ||
	    results_need(doc, "status", JSON_STRING, path, "", err, errlen) ||
	    results_need(doc, "config", JSON_OBJECT, path, "", err, errlen) ||
	    results_need(doc, "environment", JSON_OBJECT, path, "", err, errlen) ||
	    results_need(doc, "iterations", JSON_ARRAY, path, "", err, errlen) ||
	    results_need(doc, "summary", JSON_OBJECT, path, "", err, errlen))
		return -1;
	if (results_need(json_object_get(doc, "environment"), "arch", JSON_STRING, path, "environment", err, errlen) ||
	    results_need(json_object_get(doc, "environment"), "kernel_release", JSON_STRING, path, "environment", err,
			 errlen))
		return -1;
	iters = json_object_get(doc, "iterations");
	json_array_foreach(iters, i, it) {
		const json_t *roles = json_object_get(it, "roles"), *role;
		const char *rname;
		char where[64];

		snprintf(where, sizeof(where), "iterations[%zu]", i);
		if (results_need(it, "roles", JSON_OBJECT, path, where, err, errlen) ||
		    results_check_phase(doc, it, path, where, err, errlen))
			return -1;
		json_object_foreach((json_t *)roles, rname, role) {
			const json_t *hists = json_object_get(role, "histograms"), *h;
			const char *hname;
			char rwhere[160];

			snprintf(rwhere, sizeof(rwhere), "%s.roles.%s", where, rname);
			if (results_need(role, "histograms", JSON_OBJECT, path, rwhere, err, errlen))
				return -1;

			json_object_foreach((json_t *)hists, hname, h) {
				struct hist_sum *s = malloc(sizeof(*s));
				char herr[256];
				int bad;

				if (!s) {
					snprintf(err, errlen, "%s: out of memory", path);
					return -1;
				}
				bad = hist_sum_from_json(s, h, herr, sizeof(herr));
				free(s);
				if (bad) {
					snprintf(err, errlen, "%s: %s.roles.%s.histograms.%s: %s", path, where, rname, hname,
						 herr);
					return -1;
				}
			}
		}
	}
	return 0;
}

json_t *results_load(const char *path, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);

	if (!doc) {
		snprintf(err, errlen, "%s:%d: not a faultline result: %s", path, jerr.line, jerr.text);
		return NULL;
	}
	if (results_validate(doc, path, err, errlen) < 0) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

static void results_sanitize(char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '.' ||
		      *s == '_' || *s == '-'))
			*s = '_';
}

void results_name(char *out, size_t len, const char *scenario, const char *label, const char *tag,
		  const char *run_id)
{
	char scen[128], lab[128];

	snprintf(scen, sizeof(scen), "%s", scenario ? scenario : "unknown");
	snprintf(lab, sizeof(lab), "%s", label ? label : "none");
	results_sanitize(scen);
	results_sanitize(lab);
	if (tag)
		snprintf(out, len, "%s-%s-%s-%s.json", scen, lab, tag, run_id);
	else
		snprintf(out, len, "%s-%s-%s.json", scen, lab, run_id);
}
