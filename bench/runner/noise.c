/* noise: placement, writeback and the machine's state per iteration (noise.h). */
#define _GNU_SOURCE
#include "bench/runner/noise.h"
#include "lib/cpus.h"
#include "lib/pattern.h"
#include "lib/util.h"
#include "workloads/workload.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/random.h>

/* The CPUs the runner started with: what an unplaced child gets back. */
static cpu_set_t noise_allowed;
static bool noise_have_allowed;

/* The cpus.* keys, in the order they are recorded. */
static const struct {
	const char *key, *name;
	size_t offset;
} noise_keys[] = {
	{ "cpus.runner", "runner", offsetof(struct config, cpus.runner) },
	{ "cpus.victim", "victim", offsetof(struct config, cpus.victim) },
	{ "cpus.observer", "observer", offsetof(struct config, cpus.observer) },
	{ "cpus.fault", "fault", offsetof(struct config, cpus.fault) },
	{ "cpus.writer", "writer", offsetof(struct config, cpus.writer) },
	{ "cpus.evictor", "evictor", offsetof(struct config, cpus.evictor) },
	{ "cpus.odirect", "odirect", offsetof(struct config, cpus.odirect) },
};

static const char *noise_value(const struct config *c, size_t k)
{
	const char *v = *(char *const *)((const char *)c + noise_keys[k].offset);

	return v ? v : "";
}

int noise_resolve(struct config *c, const char *file, char *err, size_t errlen)
{
	char why[256], have[256];

	/* the first second or two of an iteration differ (threads starting,
	 * the cache filling: docs/noise.md); a short run keeps most of its time */
	if (c->warmup_s < 0)
		c->warmup_s = fmin(NOISE_WARMUP_MAX_S, NOISE_WARMUP_SHARE * c->duration_s);

	if (sched_getaffinity(0, sizeof(noise_allowed), &noise_allowed) < 0) {
		snprintf(err, errlen, "run: sched_getaffinity: %s", strerror(errno));
		return -1;
	}
	noise_have_allowed = true;
	cpus_format(&noise_allowed, have, sizeof(have));
	for (size_t k = 0; k < FL_ARRAY_SIZE(noise_keys); k++) {
		const char *v = noise_value(c, k);
		cpu_set_t set, both;

		if (cpus_parse(v, &set, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: %s: %s (value \"%s\")", file, noise_keys[k].key, why, v);
			return -1;
		}
		CPU_AND(&both, &set, &noise_allowed);
		if (!CPU_EQUAL(&both, &set)) {
			snprintf(err, errlen, "%s: %s: CPUs this process may not use (it may use %s) (value \"%s\")", file,
				 noise_keys[k].key, have, v);
			return -1;
		}
	}
	return 0;
}

void noise_place_runner(const struct config *c)
{
	cpu_set_t set;
	char why[256];

	if (c->cpus.runner && *c->cpus.runner && cpus_parse(c->cpus.runner, &set, why, sizeof(why)) == 0)
		sched_setaffinity(0, sizeof(set), &set); /* checked against the allowed CPUs; the record says */
}

int noise_place_child(const struct config *c, const char *process)
{
	const char *v = !strcmp(process, "victim") ? c->cpus.victim : c->cpus.observer;
	cpu_set_t set;
	char why[256];

	if (v && *v && cpus_parse(v, &set, why, sizeof(why)) == 0)
		return sched_setaffinity(0, sizeof(set), &set);
	return noise_have_allowed ? sched_setaffinity(0, sizeof(noise_allowed), &noise_allowed) : 0;
}

/* Where each part runs: its key's CPUs, else what it inherits. */
static json_t *noise_placement(const struct config *c)
{
	json_t *o = json_object();
	char buf[256], all[256];
	cpu_set_t runner;

	cpus_format(&noise_allowed, all, sizeof(all));
	json_object_set_new(o, "cpus_allowed", json_string(all));
	if (sched_getaffinity(0, sizeof(runner), &runner) == 0) {
		cpus_format(&runner, buf, sizeof(buf));
		json_object_set_new(o, "runner", json_string(buf));
	}
	for (size_t k = 1; k < FL_ARRAY_SIZE(noise_keys); k++) {
		const char *v = noise_value(c, k);

		if (!*v && k >= 3)
			v = *noise_value(c, 1) ? noise_value(c, 1) : all; /* a role: as the victim */
		json_object_set_new(o, noise_keys[k].name, json_string(*v ? v : all));
	}
	return o;
}

/* fdatasync each of the victim's files (dir storage): the previous
 * iteration's writes (mkwrite) reach the disk now, not during the next
 * measured phase, and the drop that follows leaves none of them resident. */
static int noise_writeback(struct run *r, json_t *it, char *err, size_t errlen)
{
	uint64_t t0 = util_now_ns();

	if (!r->cfg.iteration.writeback || r->st.dir_fd < 0) {
		json_object_set_new(it, "writeback", json_string(!r->cfg.iteration.writeback ? "off (iteration.writeback)"
										       : "none (files not in a directory)"));
		return 0;
	}
	for (int64_t i = 0; i < r->cfg.victim.file_count; i++) {
		char name[64];
		int fd;

		snprintf(name, sizeof(name), WORKLOAD_FILE_FORMAT, (unsigned)i);
		fd = openat(r->st.dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fdatasync(fd) < 0) {
			snprintf(err, errlen, "run: iteration.writeback: fdatasync %s/%s: %s", r->st.files_dir, name,
				 strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
	}
	json_object_set_new(it, "writeback", json_string("fdatasync of the victim's files"));
	json_object_set_new(it, "writeback_s", json_real((double)(util_now_ns() - t0) / 1e9));
	return 0;
}

int noise_iteration_start(struct run *r, json_t *it, char *err, size_t errlen)
{
	double load[3];

	if (getloadavg(load, 3) == 3)
		json_object_set_new(it, "loadavg_at_start", json_pack("[f, f, f]", load[0], load[1], load[2]));
	json_object_set_new(it, "placement", noise_placement(&r->cfg));
	return noise_writeback(r, it, err, errlen);
}

int noise_config_fd(struct run *r, int64_t index, json_t *it, char *err, size_t errlen)
{
	int64_t base = r->cfg.seed;
	uint64_t fresh = 0;
	int fd;

	/* never blocks: a guest booted a second ago may have no entropy yet */
	if (r->cfg.iteration.seed == ITERATION_SEED_FRESH &&
	    getrandom(&fresh, sizeof(fresh), GRND_NONBLOCK) != (ssize_t)sizeof(fresh))
		fresh = pattern_mix64(util_now_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)index);
	if (r->cfg.iteration.seed == ITERATION_SEED_FRESH)
		r->cfg.seed = (int64_t)(fresh % (1ull << 53)); /* within the key's range, 0 to 2^53 - 1 */
	else if (r->cfg.iteration.seed == ITERATION_SEED_VARY)
		r->cfg.seed = (base + index) % (1ll << 53);
	json_object_set_new(it, "seed", json_integer(r->cfg.seed));
	fd = config_to_memfd(&r->cfg, "faultline-config", false, err, errlen);
	r->cfg.seed = base; /* the result's config keeps the scenario's */
	return fd;
}

int noise_lock_files(struct run *r)
{
	uint64_t t0 = util_now_ns();
	bool said = false;
	int fd;

	if (!r->cfg.iteration.exclusive || r->st.dir_fd < 0 || !r->st.info)
		return 0;
	/* a descriptor of its own (closed on exec, never inherited by the
	 * workloads): the lock ends with the runner, however it ends */
	fd = openat(r->st.dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		json_object_set_new(r->st.info, "exclusive", json_sprintf("not locked: %s", strerror(errno)));
		return 0;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			json_object_set_new(r->st.info, "exclusive", json_sprintf("not locked: flock: %s", strerror(errno)));
			return 0; /* fd stays open: harmless */
		}
		if (!said) /* not a progress line: said even with --quiet */
			fprintf(stderr, "faultline: storage: another run is using the files in %s; waiting for it to end "
				"(iteration.exclusive)\n", r->st.files_dir);
		said = true;
		if (run_must_stop(r))
			return -1;
		usleep(100000);
	}
	json_object_set_new(r->st.info, "exclusive", json_string("locked for the run (flock of the files' directory)"));
	json_object_set_new(r->st.info, "exclusive_wait_s", json_real((double)(util_now_ns() - t0) / 1e9));
	return 0; /* fd stays open until the runner exits */
}
