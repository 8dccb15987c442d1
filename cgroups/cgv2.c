/* cgv2: the run's cgroup v2 groups through libcgroup (cgv2.h). */
#define _GNU_SOURCE
#include "cgroups/cgv2.h"
#include "lib/util.h"

#include <dirent.h>
#include <errno.h>
#include <libcgroup.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static const char *const cgv2_group_names[CGV2_GROUPS] = { "victim", "protected", "antagonist" };

/* Does the run need group g?  The antagonist group only for an antagonist in it. */
static bool cgv2_wanted(const struct config *cfg, int g)
{
	if (g != CGV2_ANTAGONIST)
		return true;
	for (int64_t i = 0; i < cfg->n_antagonists; i++)
		if (cfg->antagonists[i].group == ANTAGONIST_GROUP_ANTAGONIST)
			return true;
	return false;
}

static bool cgv2_word_in(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' ' || p[n] == '\n'))
			return true;
	return false;
}

static void cgv2_chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		s[--n] = '\0';
}

static void cgv2_read_line(const char *path, char *out, size_t len)
{
	char *text = util_read_file(path, NULL);

	snprintf(out, len, "%s", text ? text : "");
	cgv2_chomp(out);
	free(text);
}

void cgv2_detect(struct cgv2 *cg)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096], path[700];
	void *handle = NULL;
	struct cgroup_mount_point mp;
	int r;

	memset(cg, 0, sizeof(*cg));
	cg->isolation = "none";
	cg->settings = json_object();
	while (f && fgets(line, sizeof(line), f)) {
		/* ... mount-point ... - fstype source options */
		char *sep = strstr(line, " - "), mnt[512];

		if (!sep || strncmp(sep + 3, "cgroup2 ", 8) != 0)
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %511s", mnt) == 1 && !cg->mount[0])
			snprintf(cg->mount, sizeof(cg->mount), "%s", mnt);
	}
	if (f)
		fclose(f);
	if (!cg->mount[0]) {
		snprintf(cg->reason, sizeof(cg->reason), "no cgroup v2 mount in /proc/self/mountinfo");
		return;
	}
	snprintf(path, sizeof(path), "%s/cgroup.controllers", cg->mount);
	cgv2_read_line(path, cg->controllers, sizeof(cg->controllers));
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", cg->mount);
	cgv2_read_line(path, cg->subtree_before, sizeof(cg->subtree_before));
	cg->has_memory = cgv2_word_in(cg->controllers, "memory");
	cg->has_io = cgv2_word_in(cg->controllers, "io");
	cg->has_cpu = cgv2_word_in(cg->controllers, "cpu");
	/* Which v2 controllers can libcgroup address?  Only those whose mount
	 * point is the v2 mount: naming any other would touch cgroup v1. */
	if (cgroup_init() == 0) {
		r = cgroup_get_controller_begin(&handle, &mp);
		while (r == 0) {
			if (strcmp(mp.path, cg->mount) == 0 && cg->nlibcgroup_ctrl < 5 &&
			    cgv2_word_in(cg->controllers, mp.name))
				snprintf(cg->libcgroup_ctrl[cg->nlibcgroup_ctrl++], sizeof(cg->libcgroup_ctrl[0]), "%s",
					 mp.name);
			r = cgroup_get_controller_next(&handle, &mp);
		}
		cgroup_get_controller_end(&handle);
	}
	{
		char missing[128] = "";

		if (!cg->has_memory)
			strcat(missing, "memory");
		if (!cg->has_io)
			strcat(missing, *missing ? " or io" : "io");
		cg->isolation = cg->has_memory && cg->has_io ? "full" : cg->has_memory || cg->has_io ? "partial" : "none";
		if (*missing)
			snprintf(cg->reason, sizeof(cg->reason),
				 "cgroup v2 at %s offers controllers [%s]: no %s controller, so %s", cg->mount,
				 cg->controllers, missing,
				 cg->has_memory ? "I/O cannot be throttled per group"
				 : cg->has_io	? "memory limits are not available"
						: "neither memory limits nor I/O throttling are available");
		else
			snprintf(cg->reason, sizeof(cg->reason), "cgroup v2 at %s offers memory and io", cg->mount);
	}
}

void cgv2_reap_stale(const struct cgv2 *cg)
{
	DIR *d;
	struct dirent *de;

	if (!cg->mount[0] || !(d = opendir(cg->mount)))
		return;
	while ((de = readdir(d))) {
		int pid;
		char path[1024];

		if (sscanf(de->d_name, "faultline-%d-", &pid) != 1 || pid <= 0)
			continue;
		if (kill(pid, 0) == 0 || errno != ESRCH)
			continue; /* its runner is alive (or not ours to judge) */
		fprintf(stderr, "faultline: removing cgroup %s/%s left by runner %d, which is gone\n", cg->mount,
			de->d_name, pid);
		for (int g = CGV2_GROUPS - 1; g >= -1; g--) {
			if (g >= 0)
				snprintf(path, sizeof(path), "%s/%s/%s", cg->mount, de->d_name, cgv2_group_names[g]);
			else
				snprintf(path, sizeof(path), "%s/%s", cg->mount, de->d_name);
			{
				char kill_path[1100];

				snprintf(kill_path, sizeof(kill_path), "%s/cgroup.kill", path);
				util_write_string(kill_path, "1");
			}
			for (int i = 0; i < 50 && rmdir(path) < 0 && errno == EBUSY; i++)
				usleep(20000);
		}
	}
	closedir(d);
}

static void cgv2_note(struct cgv2 *cg, const char *key, const char *status, const char *value)
{
	json_object_set_new(cg->settings, key, json_pack("{s:s, s:s}", "status", status, "value", value));
}

/* Block device to name in io.max / io.latency: the whole disk of dev. */
static int cgv2_disk_of(dev_t dev, char *out, size_t len)
{
	char path[128], buf[64];
	unsigned maj = major(dev), min = minor(dev);

	if (dev == 0)
		return -1;
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/partition", maj, min);
	if (access(path, F_OK) == 0) {
		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/../dev", maj, min);
		cgv2_read_line(path, buf, sizeof(buf));
		if (sscanf(buf, "%u:%u", &maj, &min) != 2)
			return -1;
	} else {
		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", maj, min);
		if (access(path, F_OK) != 0)
			return -1; /* not a block device (tmpfs, FUSE, overlay) */
	}
	snprintf(out, len, "%u:%u", maj, min);
	return 0;
}

static struct cgroup *cgv2_new_group(struct cgv2 *cg, const char *name, struct cgroup_controller **ctrls)
{
	struct cgroup *g = cgroup_new_cgroup(name);

	for (int i = 0; g && i < cg->nlibcgroup_ctrl; i++)
		ctrls[i] = cgroup_add_controller(g, cg->libcgroup_ctrl[i]);
	return g;
}

static struct cgroup_controller *cgv2_ctrl(struct cgv2 *cg, struct cgroup_controller **ctrls, const char *name)
{
	for (int i = 0; i < cg->nlibcgroup_ctrl; i++)
		if (strcmp(cg->libcgroup_ctrl[i], name) == 0)
			return ctrls[i];
	return NULL;
}

/* Add a value for file (e.g. "memory.max") if its controller is usable;
 * record what happened either way. */
static void cgv2_want(struct cgv2 *cg, struct cgroup_controller **ctrls, const char *group, const char *file,
		      const char *value)
{
	char ctrl_name[16], key[96], why[160];
	struct cgroup_controller *c;

	snprintf(ctrl_name, sizeof(ctrl_name), "%.*s", (int)strcspn(file, "."), file);
	snprintf(key, sizeof(key), "%s/%s", group, file);
	c = cgv2_ctrl(cg, ctrls, ctrl_name);
	if (!c) {
		snprintf(why, sizeof(why), "skipped: no %s controller in cgroup v2 (available: %s)", ctrl_name,
			 cg->controllers[0] ? cg->controllers : "none");
		cgv2_note(cg, key, why, value);
		return;
	}
	if (cgroup_add_value_string(c, file, value) != 0) {
		cgv2_note(cg, key, "skipped: libcgroup refused the value", value);
		return;
	}
	cgv2_note(cg, key, "applied", value);
}

int cgv2_create(struct cgv2 *cg, const char *run_id, const struct config *cfg, dev_t storage_dev, char *err,
		size_t errlen)
{
	struct cgroup_controller *ctrls[CGV2_GROUPS + 1][5] = { { 0 } };
	char name[256], value[256], disk[32] = "";
	int r;

	if (!cg->mount[0]) {
		snprintf(err, errlen, "cgroup: %s", cg->reason);
		return -1;
	}
	snprintf(cg->name, sizeof(cg->name), "faultline-%d-%s", (int)getpid(), run_id);
	for (int g = 0; g < CGV2_GROUPS; g++)
		if (cgv2_wanted(cfg, g))
			snprintf(cg->path[g], sizeof(cg->path[g]), "%s/%s/%s", cg->mount, cg->name, cgv2_group_names[g]);
	cgv2_disk_of(storage_dev, disk, sizeof(disk));

	if (cg->nlibcgroup_ctrl == 0) {
		/* libcgroup 2.0 addresses a v2 hierarchy only through a controller
		 * it lists there; with none, plain mkdir is the only way. */
		char parent[700];

		cg->used_mkdir = true;
		snprintf(parent, sizeof(parent), "%s/%s", cg->mount, cg->name);
		if (mkdir(parent, 0755) < 0) {
			snprintf(err, errlen, "cgroup: mkdir %s: %s", parent, strerror(errno));
			return -1;
		}
		cg->created = true;
		for (int g = 0; g < CGV2_GROUPS; g++)
			if (cg->path[g][0] && mkdir(cg->path[g], 0755) < 0) {
				snprintf(err, errlen, "cgroup: mkdir %s: %s", cg->path[g], strerror(errno));
				return -1;
			}
		cgv2_note(cg, "groups", "created with mkdir: libcgroup lists no cgroup v2 controller here", cg->name);
		goto limits_skipped;
	}
	cg->group[CGV2_GROUPS] = cgv2_new_group(cg, cg->name, ctrls[CGV2_GROUPS]);
	if (!cg->group[CGV2_GROUPS]) {
		snprintf(err, errlen, "cgroup: libcgroup cgroup_new_cgroup(%s) failed", cg->name);
		return -1;
	}
	r = cgroup_create_cgroup(cg->group[CGV2_GROUPS], 0);
	if (r) {
		snprintf(err, errlen, "cgroup: creating %s/%s: %s", cg->mount, cg->name, cgroup_strerror(r));
		return -1;
	}
	cg->created = true;
	for (int g = 0; g < CGV2_GROUPS; g++) {
		if (!cg->path[g][0])
			continue;
		snprintf(name, sizeof(name), "%s/%s", cg->name, cgv2_group_names[g]);
		cg->group[g] = cgv2_new_group(cg, name, ctrls[g]);
		if (!cg->group[g]) {
			snprintf(err, errlen, "cgroup: libcgroup cgroup_new_cgroup(%s) failed", name);
			return -1;
		}
	}
	/* victim limits */
	if (cfg->cg_victim.memory_max_bytes) {
		snprintf(value, sizeof(value), "%llu", (unsigned long long)cfg->cg_victim.memory_max_bytes);
		cgv2_want(cg, ctrls[CGV2_VICTIM], "victim", "memory.max", value);
	}
	if (cfg->cg_victim.memory_high_bytes) {
		snprintf(value, sizeof(value), "%llu", (unsigned long long)cfg->cg_victim.memory_high_bytes);
		cgv2_want(cg, ctrls[CGV2_VICTIM], "victim", "memory.high", value);
	}
	if (cfg->cg_victim.io_max && *cfg->cg_victim.io_max) {
		if (!*disk)
			cgv2_note(cg, "victim/io.max", "skipped: the storage is not on a block device",
				  cfg->cg_victim.io_max);
		else {
			snprintf(value, sizeof(value), "%s %s", disk, cfg->cg_victim.io_max);
			cgv2_want(cg, ctrls[CGV2_VICTIM], "victim", "io.max", value);
		}
	}
	snprintf(value, sizeof(value), "%lld", (long long)cfg->cg_victim.cpu_weight);
	cgv2_want(cg, ctrls[CGV2_VICTIM], "victim", "cpu.weight", value);
	/* protected limits */
	if (cfg->cg_protected.memory_low_bytes) {
		snprintf(value, sizeof(value), "%llu", (unsigned long long)cfg->cg_protected.memory_low_bytes);
		cgv2_want(cg, ctrls[CGV2_PROTECTED], "protected", "memory.low", value);
	}
	if (cfg->cg_protected.io_latency_target_us) {
		char lat_path[800];

		snprintf(lat_path, sizeof(lat_path), "%s/%s/io.latency", cg->mount, cg->name);
		if (!*disk)
			cgv2_note(cg, "protected/io.latency", "skipped: the storage is not on a block device", "");
		else if (!cg->has_io || access(lat_path, F_OK) != 0)
			cgv2_note(cg, "protected/io.latency",
				  "skipped: kernel without io.latency (CONFIG_BLK_CGROUP_IOLATENCY) or no io controller",
				  "");
		else {
			snprintf(value, sizeof(value), "%s target=%lld", disk,
				 (long long)cfg->cg_protected.io_latency_target_us);
			cgv2_want(cg, ctrls[CGV2_PROTECTED], "protected", "io.latency", value);
		}
	}
	snprintf(value, sizeof(value), "%lld", (long long)cfg->cg_protected.cpu_weight);
	cgv2_want(cg, ctrls[CGV2_PROTECTED], "protected", "cpu.weight", value);
	if (cg->path[CGV2_ANTAGONIST][0]) {
		snprintf(value, sizeof(value), "%lld", (long long)cfg->cg_antagonist.cpu_weight);
		cgv2_want(cg, ctrls[CGV2_ANTAGONIST], "antagonist", "cpu.weight", value);
	}
	for (int g = 0; g < CGV2_GROUPS; g++) {
		if (!cg->path[g][0])
			continue;
		r = cgroup_create_cgroup(cg->group[g], 0);
		if (r) {
			snprintf(err, errlen, "cgroup: creating %s with its limits: %s", cg->path[g], cgroup_strerror(r));
			return -1;
		}
	}
	goto out;
limits_skipped:
	if (cfg->cg_victim.memory_max_bytes || cfg->cg_victim.memory_high_bytes || cfg->cg_protected.memory_low_bytes)
		cgv2_note(cg, "memory", "skipped: no memory controller in cgroup v2", cg->controllers);
out:
	{
		char kill_path[800];

		snprintf(kill_path, sizeof(kill_path), "%s/%s/cgroup.kill", cg->mount, cg->name);
		cg->has_kill = access(kill_path, F_OK) == 0;
	}
	return 0;
}

int cgv2_attach(struct cgv2 *cg, int group, pid_t pid, char *err, size_t errlen)
{
	int r;

	if (cg->used_mkdir) {
		char path[800], buf[32];

		snprintf(path, sizeof(path), "%s/cgroup.procs", cg->path[group]);
		snprintf(buf, sizeof(buf), "%d", (int)pid);
		if (util_write_string(path, buf) < 0) {
			snprintf(err, errlen, "cgroup: moving pid %d into %s: %s", (int)pid, cg->path[group],
				 strerror(errno));
			return -1;
		}
		return 0;
	}
	r = cgroup_attach_task_pid(cg->group[group], pid);
	if (r) {
		snprintf(err, errlen, "cgroup: moving pid %d into %s: %s", (int)pid, cg->path[group], cgroup_strerror(r));
		return -1;
	}
	return 0;
}

/* "key value" lines (memory.stat, cpu.stat, memory.events), "MAJ:MIN k=v ..."
 * lines (io.stat, summed over devices) and "some avg10=.. total=.." lines
 * (pressure) into one flat object of numbers. */
static json_t *cgv2_parse_stat(const char *text)
{
	json_t *o = json_object();
	const char *line = text;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		char buf[1024], *save = NULL, *tok, prefix[32] = "";
		size_t n = end ? (size_t)(end - line) : strlen(line);

		if (n >= sizeof(buf))
			n = sizeof(buf) - 1;
		memcpy(buf, line, n);
		buf[n] = '\0';
		line = end ? end + 1 : NULL;
		tok = strtok_r(buf, " ", &save);
		if (!tok)
			continue;
		if (!strchr(tok, '=')) {
			char *next = strtok_r(NULL, " ", &save);

			if (next && !strchr(next, '=')) { /* key value */
				json_object_set_new(o, tok, json_real(strtod(next, NULL)));
				continue;
			}
			if (strchr(tok, ':') == NULL) /* pressure: "some"/"full" prefix */
				snprintf(prefix, sizeof(prefix), "%s_", tok);
			tok = next;
		}
		for (; tok; tok = strtok_r(NULL, " ", &save)) {
			char *eq = strchr(tok, '='), key[96];
			json_t *old;

			if (!eq)
				continue;
			*eq = '\0';
			snprintf(key, sizeof(key), "%s%s", prefix, tok);
			old = json_object_get(o, key);
			json_object_set_new(o, key, json_real(strtod(eq + 1, NULL) + (old ? json_number_value(old) : 0)));
		}
	}
	return o;
}

json_t *cgv2_stats(const struct cgv2 *cg, int group)
{
	static const char *const files[] = { "memory.stat", "memory.events", "io.stat", "cpu.stat",
					     "memory.pressure", "io.pressure", "cpu.pressure" };
	json_t *o = json_object();

	if (!cg->created || !cg->path[group][0])
		return o;
	for (size_t i = 0; i < FL_ARRAY_SIZE(files); i++) {
		char path[800], *text;

		snprintf(path, sizeof(path), "%s/%s", cg->path[group], files[i]);
		text = util_read_file(path, NULL);
		if (!text)
			continue;
		json_object_set_new(o, files[i], cgv2_parse_stat(text));
		free(text);
	}
	return o;
}

static bool cgv2_empty(const char *path)
{
	char file[800], *text;
	bool empty;

	snprintf(file, sizeof(file), "%s/cgroup.procs", path);
	text = util_read_file(file, NULL);
	empty = !text || !*text;
	free(text);
	return empty;
}

/* SIGKILL to everything in group g (cgroup.kill, or each pid it lists). */
static void cgv2_signal_group(const struct cgv2 *cg, int g)
{
	char path[800], *text, *p;

	if (!cg->path[g][0])
		return;
	if (cg->has_kill) {
		snprintf(path, sizeof(path), "%s/cgroup.kill", cg->path[g]);
		util_write_string(path, "1");
		return;
	}
	/* before Linux 5.14: SIGKILL each pid listed in our own group */
	snprintf(path, sizeof(path), "%s/cgroup.procs", cg->path[g]);
	text = util_read_file(path, NULL);
	for (p = text; p && *p;) {
		long pid = strtol(p, &p, 10);

		if (pid > 0)
			kill((pid_t)pid, SIGKILL);
		while (*p == '\n')
			p++;
	}
	free(text);
}

void cgv2_kill_group(struct cgv2 *cg, int group, int timeout_ms)
{
	if (!cg->created)
		return;
	cgv2_signal_group(cg, group);
	for (int waited = 0; waited < timeout_ms && !cgv2_empty(cg->path[group]); waited += 10)
		usleep(10000);
}

void cgv2_kill(struct cgv2 *cg, int timeout_ms)
{
	bool empty = false;

	if (!cg->created)
		return;
	for (int g = 0; g < CGV2_GROUPS; g++)
		cgv2_signal_group(cg, g);
	for (int waited = 0; waited < timeout_ms && !empty; waited += 10) {
		empty = true;
		for (int g = 0; g < CGV2_GROUPS; g++)
			empty &= !cg->path[g][0] || cgv2_empty(cg->path[g]);
		if (!empty)
			usleep(10000);
	}
}

void cgv2_teardown(struct cgv2 *cg)
{
	if (cg->created) {
		cgv2_kill(cg, 5000);
		for (int g = 0; g <= CGV2_GROUPS; g++) { /* children, then the run's group */
			char path[800];
			int tries = 0;

			if (g == CGV2_GROUPS)
				snprintf(path, sizeof(path), "%s/%s", cg->mount, cg->name);
			else if (!cg->path[g][0])
				continue; /* a group this run did not make */
			else
				snprintf(path, sizeof(path), "%s", cg->path[g]);
			if (cg->group[g] && cgroup_delete_cgroup(cg->group[g], 0) == 0 && access(path, F_OK) != 0)
				continue;
			while (rmdir(path) < 0 && errno == EBUSY && tries++ < 100)
				usleep(10000); /* a killed task may linger a moment */
			if (access(path, F_OK) == 0)
				fprintf(stderr, "faultline: cgroup %s could not be removed: %s\n", path, strerror(errno));
		}
		/* libcgroup enabled our controllers in the root's subtree_control;
		 * turn off what was off before. */
		{
			char now[256], root_path[600];

			snprintf(root_path, sizeof(root_path), "%s/cgroup.subtree_control", cg->mount);
			cgv2_read_line(root_path, now, sizeof(now));
			for (int i = 0; i < cg->nlibcgroup_ctrl; i++) {
				char cmd[40];

				if (!cgv2_word_in(now, cg->libcgroup_ctrl[i]) ||
				    cgv2_word_in(cg->subtree_before, cg->libcgroup_ctrl[i]))
					continue;
				snprintf(cmd, sizeof(cmd), "-%s", cg->libcgroup_ctrl[i]);
				util_write_string(root_path, cmd); /* fails harmlessly if others now use it */
			}
		}
		cg->created = false;
	}
	for (int g = 0; g <= CGV2_GROUPS; g++)
		if (cg->group[g])
			cgroup_free(&cg->group[g]);
}

void cgv2_free(struct cgv2 *cg)
{
	json_decref(cg->settings);
	cg->settings = NULL;
}

static bool cgv2_applied(const struct cgv2 *cg, const char *key)
{
	const char *st = json_string_value(json_object_get(json_object_get(cg->settings, key), "status"));

	return st && !strcmp(st, "applied");
}

const char *cgv2_io_control(const struct cgv2 *cg)
{
	bool lat = cgv2_applied(cg, "protected/io.latency"), max = cgv2_applied(cg, "victim/io.max");

	return lat && max ? "io.latency+io.max" : lat ? "io.latency" : max ? "io.max" : "none";
}

json_t *cgv2_to_json(const struct cgv2 *cg)
{
	json_t *ctrls = json_array();

	for (int i = 0; i < cg->nlibcgroup_ctrl; i++)
		json_array_append_new(ctrls, json_string(cg->libcgroup_ctrl[i]));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:b, s:O, s:s}", "mount", cg->mount, "controllers",
			 cg->controllers, "isolation", cg->isolation, "reason", cg->reason, "group", cg->name,
			 "libcgroup_controllers", ctrls, "created_with_mkdir", cg->used_mkdir, "settings",
			 cg->settings, "io_control", cgv2_io_control(cg));
}
