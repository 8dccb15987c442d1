/* calibration: environment.calibration of a result (calibration.h). */
#define _GNU_SOURCE
#include "bench/runner/calibration.h"
#include "lib/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CALIBRATION_SCHEMA "faultline-calibration/1"
/* a record is a few KiB; anything much larger is not one */
#define CALIBRATION_MAX_BYTES (1 << 20)

static bool calibration_same(const json_t *a, const json_t *b, const char *key)
{
	const char *x = json_string_value(json_object_get(a, key)), *y = json_string_value(json_object_get(b, key));

	return x && y && !strcmp(x, y);
}

/* Is doc a calibration of this machine and storage? */
static bool calibration_matches(const json_t *doc, const json_t *env, const json_t *storage)
{
	const json_t *m = json_object_get(doc, "machine"), *ms = json_object_get(m, "storage");
	const char *schema = json_string_value(json_object_get(doc, "schema"));

	return schema && !strcmp(schema, CALIBRATION_SCHEMA) && calibration_same(m, env, "hostname") &&
	       calibration_same(m, env, "kernel_release") && calibration_same(m, env, "arch") &&
	       calibration_same(ms, storage, "device") && calibration_same(ms, storage, "fs_magic");
}

/* The record NAME in the directory dfd, or NULL (warned when it is not a
 * regular file of JSON). */
static json_t *calibration_load(int dfd, const char *dir, const char *name)
{
	int fd = util_openat_nofollow(dfd, name, O_RDONLY, 0);
	json_error_t jerr;
	json_t *doc = NULL;
	struct stat sb;

	if (fd < 0) {
		fprintf(stderr, "faultline: warning: calibration: open %s/%s: %s; not attached\n", dir, name,
			strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size > CALIBRATION_MAX_BYTES)
		fprintf(stderr, "faultline: warning: calibration: %s/%s is not a regular file of at most %d bytes; "
			"not attached\n", dir, name, CALIBRATION_MAX_BYTES);
	else if (!(doc = json_loadfd(fd, JSON_REJECT_DUPLICATES, &jerr)))
		fprintf(stderr, "faultline: warning: calibration: %s/%s: line %d: %s; not attached\n", dir, name,
			jerr.line, jerr.text);
	close(fd);
	return doc;
}

/* What a result carries of the record: where it is, when and how it was
 * made, and its summary figures. */
static json_t *calibration_extract(const json_t *doc, const char *path)
{
	const json_t *s = json_object_get(doc, "settings"), *t = json_object_get(doc, "tools");
	json_t *c = json_object();

	json_object_set_new(c, "file", json_string(path));
	json_object_set(c, "created_at", json_object_get(doc, "created_at"));
	json_object_set(c, "fio_version", json_object_get(t, "fio_version"));
	json_object_set(c, "suite_version", json_object_get(t, "suite_version"));
	json_object_set(c, "threads", json_object_get(s, "threads"));
	json_object_set(c, "file_size_bytes", json_object_get(s, "file_size_bytes"));
	json_object_set(c, "duration_s", json_object_get(s, "duration_s"));
	json_object_set(c, "pairs", json_object_get(s, "pairs"));
	json_object_set(c, "load_average", json_object_get(doc, "load_average"));
	json_object_set(c, "summary", json_object_get(doc, "summary"));
	return c;
}

json_t *calibration_find(const char *out_dir, const json_t *env, const json_t *storage)
{
	char dir[4200], err[4400], best_name[256] = "", best_at[64] = "";
	json_t *best = NULL, *ret;
	struct dirent *de;
	DIR *d = NULL;
	int dfd;

	snprintf(dir, sizeof(dir), "%s/calibration", out_dir);
	dfd = util_dir_open_safe("calibration", dir, 0, NULL, 0, err, sizeof(err));
	if (dfd < 0) {
		if (dfd == -2 || errno != ENOENT)
			fprintf(stderr, "faultline: warning: %s; no calibration attached\n", err);
		return json_null();
	}
	d = fdopendir(dup(dfd));
	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		const char *at;
		json_t *doc;

		if (strncmp(de->d_name, "calibration-", 12) || n < 17 || n >= sizeof(best_name) ||
		    strcmp(de->d_name + n - 5, ".json"))
			continue;
		doc = calibration_load(dfd, dir, de->d_name);
		at = json_string_value(json_object_get(doc, "created_at"));
		if (doc && at && strlen(at) < sizeof(best_at) && calibration_matches(doc, env, storage) &&
		    (strcmp(at, best_at) > 0 || (!strcmp(at, best_at) && strcmp(de->d_name, best_name) > 0))) {
			json_decref(best);
			best = json_incref(doc);
			snprintf(best_at, sizeof(best_at), "%s", at);
			snprintf(best_name, sizeof(best_name), "%s", de->d_name);
		}
		json_decref(doc);
	}
	if (d)
		closedir(d);
	close(dfd);
	if (!best)
		return json_null();
	snprintf(err, sizeof(err), "%s/%s", dir, best_name);
	ret = calibration_extract(best, err);
	json_decref(best);
	return ret;
}
