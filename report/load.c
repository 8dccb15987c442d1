/* load: the result sets of fl-report.  Each command-line argument is one
 * set: a result file, a directory of result files (*.json, in name order),
 * or a label looked up among the results directory's files.  Every file goes
 * through results_load (lib/results.c), so a bad one stops the report before
 * anything is written.  A set's ok iterations are grouped by (scenario,
 * arch), their metrics computed on the way (compare.c), and the set gets a
 * display name: its label, else the argument. */
#define _GNU_SOURCE
#include "report/report.h"
#include "lib/results.h"
#include "lib/util.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int load_json_suffix(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 && !strcmp(d->d_name + n - 5, ".json");
}

static int load_add_doc(struct report_set *set, const char *path)
{
	char err[2048];
	json_t *doc = results_load(path, err, sizeof(err));

	if (!doc) {
		util_err("%s", err);
		return -1;
	}
	set->docs = report_xrealloc(set->docs, (set->ndocs + 1) * sizeof(*set->docs));
	set->paths = report_xrealloc(set->paths, (set->ndocs + 1) * sizeof(*set->paths));
	set->docs[set->ndocs] = doc;
	set->paths[set->ndocs] = report_xstrdup(path);
	set->ndocs++;
	return 0;
}

/* Result files of a directory (*.json, sorted by name). */
static int load_dir(struct report_set *set, const char *dir, const char *label)
{
	struct dirent **ents = NULL;
	int n = scandir(dir, &ents, load_json_suffix, alphasort), ret = -1;

	if (n < 0) {
		util_err("%s: %s", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char *path = report_xasprintf("%s/%s", dir, ents[i]->d_name);
		struct stat sb;

		if (stat(path, &sb) < 0 || !S_ISREG(sb.st_mode)) {
			free(path);
			continue;
		}
		if (label) {
			/* label lookup: only results carrying the label are inputs */
			json_t *raw = json_load_file(path, 0, NULL);
			const char *l = json_string_value(json_object_get(raw, "label"));
			bool match = l && !strcmp(l, label);

			if (!raw)
				fprintf(stderr, "%s: warning: %s is not JSON; skipped while looking for label '%s'\n",
					util_progname, path, label);
			json_decref(raw);
			if (!match) {
				free(path);
				continue;
			}
		}
		if (load_add_doc(set, path) < 0) {
			free(path);
			goto exit;
		}
		free(path);
	}
	ret = 0;
exit:
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return ret;
}

/* The result files of one argument: a file, a directory, or a label looked
 * up in results_dir.  role ("BASE" or "CAND") names the argument in errors. */
static int load_arg(struct report_set *set, const char *arg, const char *role, const char *results_dir)
{
	struct stat sb;

	if (stat(arg, &sb) == 0) {
		if (S_ISDIR(sb.st_mode)) {
			if (load_dir(set, arg, NULL) < 0)
				return -1;
			if (set->ndocs == 0) {
				util_err("%s '%s': the directory holds no result files (*.json)", role, arg);
				return -1;
			}
			return 0;
		}
		return load_add_doc(set, arg);
	}
	if (errno != ENOENT || strchr(arg, '/')) {
		util_err("%s '%s': %s", role, arg, strerror(errno));
		return -1;
	}
	if (stat(results_dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		util_err("%s '%s': no such file, and no results directory %s to look the label up in", role, arg,
			 results_dir);
		return -1;
	}
	if (load_dir(set, results_dir, arg) < 0)
		return -1;
	if (set->ndocs == 0) {
		util_err("%s '%s': no such file or directory, and no result in %s has label \"%s\"", role, arg,
			 results_dir, arg);
		return -1;
	}
	return 0;
}

struct report_group *load_group_get(struct report_set *set, const char *scenario, const char *arch, bool create)
{
	struct report_group *g;

	for (size_t i = 0; i < set->ngroups; i++)
		if (!strcmp(set->groups[i].scenario, scenario) && !strcmp(set->groups[i].arch, arch))
			return &set->groups[i];
	if (!create)
		return NULL;
	set->groups = report_xrealloc(set->groups, (set->ngroups + 1) * sizeof(*set->groups));
	g = &set->groups[set->ngroups++];
	*g = (struct report_group){ .scenario = report_xstrdup(scenario), .arch = report_xstrdup(arch) };
	return g;
}

/* The config that must match for a comparison: the resolved config less
 * what names or sizes the run (label, iterations) and the report's own
 * settings.  A new reference. */
static json_t *load_config_core(const json_t *config)
{
	json_t *core = json_deep_copy(config ? config : json_object());

	json_object_del(core, "label");
	json_object_del(core, "iterations");
	json_object_del(core, "report");
	return core;
}

/* FNV-1a 64 of the core config's canonical text, in hex. */
static void load_config_hash(const json_t *config, char out[17])
{
	json_t *core = load_config_core(config);
	char *text = json_dumps(core, JSON_SORT_KEYS | JSON_COMPACT);
	uint64_t h = 0xcbf29ce484222325ull;

	for (const char *p = text ? text : ""; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	snprintf(out, 17, "%016llx", (unsigned long long)h);
	free(text);
	json_decref(core);
}

static void load_diff_walk(const json_t *a, const json_t *b, const char *prefix, struct report_strs *out)
{
	const char *key;
	const json_t *v;

	if (json_is_object(a) && json_is_object(b)) {
		json_object_foreach((json_t *)a, key, v) {
			char *path = prefix[0] ? report_xasprintf("%s.%s", prefix, key) : report_xstrdup(key);

			load_diff_walk(v, json_object_get(b, key), path, out);
			free(path);
		}
		json_object_foreach((json_t *)b, key, v)
			if (!json_object_get(a, key)) {
				char *path = prefix[0] ? report_xasprintf("%s.%s", prefix, key) : report_xstrdup(key);

				load_diff_walk(NULL, v, path, out);
				free(path);
			}
		return;
	}
	if (a && b && json_equal(a, b))
		return;
	{
		char *ta = a ? json_dumps(a, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
		char *tb = b ? json_dumps(b, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
		char *line = report_xasprintf("%s: %s -> %s", prefix, ta ? ta : "(absent)", tb ? tb : "(absent)");

		report_strs_add(out, line);
		free(line);
		free(ta);
		free(tb);
	}
}

void load_config_diff(const json_t *a, const json_t *b, struct report_strs *out)
{
	json_t *ca = load_config_core(a), *cb = load_config_core(b);

	load_diff_walk(ca, cb, "", out);
	json_decref(ca);
	json_decref(cb);
}

/* The first result of a group sets its config and headline; a later one
 * with other settings is refused (pooling it would mix two experiments)
 * unless allowed.  0, or -1 after an error message. */
static int load_group_config(struct report_group *g, const json_t *doc, const char *path, const char *first_path,
			     bool allow)
{
	const json_t *config = json_object_get(doc, "config"), *h;
	char hash[17];
	size_t i;

	load_config_hash(config, hash);
	if (!g->config) {
		g->config = config;
		memcpy(g->config_hash, hash, sizeof(hash));
		json_array_foreach(json_object_get(json_object_get(config, "report"), "headline"), i, h)
			if (json_is_string(h))
				report_strs_add(&g->headline, json_string_value(h));
		return 0;
	}
	if (!strcmp(hash, g->config_hash) || allow)
		return 0;
	{
		struct report_strs diff = { 0 };
		char *keys;

		load_config_diff(g->config, config, &diff);
		keys = report_strs_join(&diff, "; ");
		util_err("%s: ran with other settings than %s, in the same set (%s/%s): %s; pooling them would mix two "
			 "experiments (pass --allow-config-diff to pool anyway)",
			 path, first_path, g->scenario, g->arch, keys);
		free(keys);
		report_strs_free(&diff);
	}
	return -1;
}

/* Does doc hold an iteration with status ok (or without a status)? */
static bool load_has_ok_iteration(const json_t *doc)
{
	const json_t *it;
	size_t i;

	json_array_foreach(json_object_get(doc, "iterations"), i, it) {
		const char *st = json_string_value(json_object_get(it, "status"));

		if (!st || !strcmp(st, "ok"))
			return true;
	}
	return false;
}

/* Group a set's iterations by (scenario, arch) and compute their metrics.
 * A result that failed before any iteration ended ok (a guest that
 * panicked while booting) adds nothing, and its config, recorded before
 * the run resolved it, is not held against the others: it is left out. */
static int load_group_set(struct report_set *set, bool allow_config_diff)
{
	struct report_strs labels = { 0 };
	int ret = -1;

	for (size_t d = 0; d < set->ndocs; d++) {
		const json_t *doc = set->docs[d], *env = json_object_get(doc, "environment"), *it;
		const char *scenario = json_string_value(json_object_get(doc, "scenario"));
		const char *arch = json_string_value(json_object_get(env, "arch"));
		const char *iso = json_string_value(json_object_get(env, "isolation"));
		const char *status = json_string_value(json_object_get(doc, "status"));
		struct report_group *g;
		size_t i;

		if (strcmp(status, "ok") != 0 && !load_has_ok_iteration(doc)) {
			fprintf(stderr, "%s: warning: %s: status \"%s\" and no iteration with status ok; left out\n",
				util_progname, set->paths[d], status);
			continue;
		}
		g = load_group_get(set, scenario, arch, true);

		if (load_group_config(g, doc, set->paths[d], g->files.n ? g->files.v[0] : set->paths[d],
				      allow_config_diff) < 0)
			goto exit;
		report_strs_add(&labels, json_string_value(json_object_get(doc, "label")));
		report_strs_add(&g->labels, json_string_value(json_object_get(doc, "label")));
		report_strs_add(&g->kernels, json_string_value(json_object_get(env, "kernel_release")));
		report_strs_add(&g->isolations, iso ? iso : "unknown");
		report_strs_add(&g->files, set->paths[d]);
		if (json_is_string(json_object_get(doc, "run_id")))
			report_strs_add(&g->run_ids, json_string_value(json_object_get(doc, "run_id")));
		if (strcmp(status, "ok") != 0)
			fprintf(stderr, "%s: warning: %s: status \"%s\"; only its iterations with status ok are used\n",
				util_progname, set->paths[d], status);
		json_array_foreach(json_object_get(doc, "iterations"), i, it) {
			const char *st = json_string_value(json_object_get(it, "status"));

			if (st && strcmp(st, "ok") != 0) {
				g->not_ok++;
				continue;
			}
			if (g->niters == g->cap) {
				g->cap = g->cap ? 2 * g->cap : 8;
				g->iters = report_xrealloc(g->iters, g->cap * sizeof(*g->iters));
			}
			g->iters[g->niters++] = it;
			if (compare_iter_metrics(g, it, set->paths[d], i) < 0)
				goto exit;
		}
	}
	for (size_t i = 0; i < set->ngroups; i++)
		compare_sort_metrics(&set->groups[i]);
	if (labels.n == 1 && labels.v[0][0])
		set->name = report_xstrdup(labels.v[0]);
	else
		set->name = report_xstrdup(set->arg);
	/* labels that differ by (scenario, arch) only, as in a matrix A/B's
	 * x86_64/a,aarch64/a, pool nothing: no warning for them */
	for (size_t i = 0; i < set->ngroups; i++)
		if (set->groups[i].labels.n > 1) {
			char *all = report_strs_join(&set->groups[i].labels, ", ");

			fprintf(stderr,
				"%s: warning: '%s' holds results of several labels (%s) in %s/%s; pooled as one set\n",
				util_progname, set->arg, all, set->groups[i].scenario, set->groups[i].arch);
			free(all);
		}
	ret = 0;
exit:
	report_strs_free(&labels);
	return ret;
}

/* An argument that names no file but holds commas is a list: each part a
 * file, directory or label, all into one set (e.g. one side of every arch
 * of a matrix A/B: x86_64/a,aarch64/a). */
static int load_list(struct report_set *set, const char *arg, const char *role, const char *results_dir)
{
	char *copy = report_xstrdup(arg), *save = NULL;
	int ret = -1;

	if (arg[0] == ',' || arg[strlen(arg) - 1] == ',' || strstr(arg, ",,")) {
		util_err("%s '%s': an empty part in a comma-separated list", role, arg);
		goto exit;
	}
	for (char *part = strtok_r(copy, ",", &save); part; part = strtok_r(NULL, ",", &save))
		if (load_arg(set, part, role, results_dir) < 0)
			goto exit;
	ret = 0;
exit:
	free(copy);
	return ret;
}

int load_set(struct report_set *set, const char *arg, const char *role, const char *results_dir,
	     bool allow_config_diff)
{
	struct stat sb;

	set->arg = arg;
	if (stat(arg, &sb) < 0 && errno == ENOENT && strchr(arg, ',')) {
		if (load_list(set, arg, role, results_dir) < 0)
			return -1;
	} else if (load_arg(set, arg, role, results_dir) < 0)
		return -1;
	return load_group_set(set, allow_config_diff);
}

/* Distinct display names: a label shared by two arguments falls back to the
 * argument's last path component, then to that with a numbered suffix. */
void load_name_sets(struct report_ctx *c)
{
	for (size_t i = 1; i < c->nsets; i++) {
		for (int round = 0; round < 2; round++) {
			bool clash = false;

			for (size_t j = 0; j < i; j++)
				clash |= !strcmp(c->sets[i].name, c->sets[j].name);
			if (!clash)
				break;
			const char *base = strrchr(c->sets[i].arg, '/');

			base = base && base[1] ? base + 1 : c->sets[i].arg;
			free(c->sets[i].name);
			c->sets[i].name = round == 0 ? report_xstrdup(base) : report_xasprintf("%s#%zu", base, i);
		}
	}
}

void load_free(struct report_set *set)
{
	for (size_t g = 0; g < set->ngroups; g++) {
		struct report_group *gr = &set->groups[g];

		for (size_t m = 0; m < gr->nmetrics; m++) {
			free(gr->metrics[m].name);
			free(gr->metrics[m].role);
			free(gr->metrics[m].sub);
			free(gr->metrics[m].v);
		}
		free(gr->metrics);
		free(gr->iters);
		free(gr->scenario);
		free(gr->arch);
		report_strs_free(&gr->kernels);
		report_strs_free(&gr->isolations);
		report_strs_free(&gr->files);
		report_strs_free(&gr->run_ids);
		report_strs_free(&gr->labels);
		report_strs_free(&gr->headline);
	}
	free(set->groups);
	for (size_t d = 0; d < set->ndocs; d++) {
		json_decref(set->docs[d]);
		free(set->paths[d]);
	}
	free(set->docs);
	free(set->paths);
	free(set->name);
}
