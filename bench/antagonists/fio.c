/* fio: an I/O storm beside the workloads (antagonists.h).  One fio process
 * (--thread: its jobs are threads, so PR_SET_PDEATHSIG takes all of them
 * with a SIGKILLed runner) on a file of its own in the run's antagonist
 * directory on storage.path, never the victim's files.  The file is laid
 * out by fio (--create_only) once per run, before the first iteration, so
 * no iteration pays for it; fio's --invalidate (on by default) drops its
 * pages before each start.  Statistics start after the warm-up
 * (--ramp_time) and end with the SIGTERM the runner sends with the
 * workloads' stop, when fio writes its JSON (--output-format=json). */
#define _GNU_SOURCE
#include "bench/antagonists/antagonists.h"
#include "lib/util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

static const char *const fio_rw_names[] = {
	[FIO_RW_READ] = "read", [FIO_RW_WRITE] = "write", [FIO_RW_RANDREAD] = "randread",
	[FIO_RW_RANDWRITE] = "randwrite", [FIO_RW_RANDRW] = "randrw",
};
/* Bytes left free on storage.path's file system after the file. */
#define FIO_FREE_MARGIN_BYTES (1024ull * 1024 * 1024)

/* storage.path, or its nearest existing ancestor, for statvfs. */
static int fio_statvfs(const char *path, struct statvfs *sv)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s", path);
	while (statvfs(p, sv) < 0) {
		char *slash = strrchr(p, '/');

		if (errno != ENOENT || !slash)
			return -1;
		if (slash == p)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	return 0;
}

/* The ioengine (libaio when asked or auto and fio has it, else psync) and
 * room for the file.  Missing: exit 3. */
static int fio_check(struct antagonist *a, const struct config *cfg, char *err, size_t errlen)
{
	char out[8192], *args[] = { "fio", "--enghelp", NULL };
	bool libaio;
	struct statvfs sv;

	antagonist_capture(a->program, args, out, sizeof(out), 10);
	libaio = strstr(out, "\tlibaio\n") || strstr(out, " libaio\n") || strstr(out, "\nlibaio\n");
	if (a->cfg->fio.ioengine == FIO_ENGINE_LIBAIO && !libaio) {
		snprintf(err, errlen, "antagonists.%s.ioengine: libaio, which %s (%s) does not offer", a->cfg->name,
			 a->program, a->version);
		return -1;
	}
	snprintf(a->setting, sizeof(a->setting), "%s",
		 a->cfg->fio.ioengine == FIO_ENGINE_PSYNC || !libaio ? "psync" : "libaio");
	if (fio_statvfs(cfg->storage.path, &sv) == 0 &&
	    (uint64_t)sv.f_bavail * sv.f_frsize < a->cfg->fio.size_bytes + FIO_FREE_MARGIN_BYTES) {
		snprintf(err, errlen, "antagonists.%s.size_bytes: %llu bytes and a 1 GiB margin do not fit in the %llu "
			 "bytes free under storage.path %s", a->cfg->name, (unsigned long long)a->cfg->fio.size_bytes,
			 (unsigned long long)sv.f_bavail * sv.f_frsize, cfg->storage.path);
		return -1;
	}
	return 0;
}

/* Its file, laid out by fio itself (a read job's set-up writes it whole). */
static int fio_prepare(struct antagonist *a, const struct config *cfg, const char *dir, char *err, size_t errlen)
{
	char name[64], filename[4300], size[48], out[2048];
	char *args[] = { "fio", name, filename, size, "--rw=read", "--bs=1M", "--ioengine=psync", "--create_only=1",
			 "--output-format=terse", NULL };
	struct stat sb;
	int rc;

	(void)cfg;
	snprintf(a->file, sizeof(a->file), "%s/%s.fio", dir, a->cfg->name);
	snprintf(name, sizeof(name), "--name=%s-layout", a->cfg->name);
	snprintf(filename, sizeof(filename), "--filename=%s", a->file);
	snprintf(size, sizeof(size), "--size=%llu", (unsigned long long)a->cfg->fio.size_bytes);
	rc = antagonist_capture(a->program, args, out, sizeof(out), 3600);
	if (rc != 0 || stat(a->file, &sb) < 0 || (uint64_t)sb.st_size != a->cfg->fio.size_bytes) {
		out[strcspn(out, "\n")] = '\0';
		snprintf(err, errlen, "antagonists.%s: fio did not lay out %s (%llu bytes): %s%s", a->cfg->name, a->file,
			 (unsigned long long)a->cfg->fio.size_bytes,
			 rc < 0 ? (util_stop_signal ? "stopped by a signal" : "killed after an hour") : "exit status",
			 rc < 0 ? "" : out);
		return -1;
	}
	return 0;
}

static int fio_command(struct antagonist *a, const struct config *cfg, const char *dir, char *err, size_t errlen)
{
	const struct config_antagonist *c = a->cfg;
	/* it runs until the runner's SIGTERM; this cap only bounds a lost one */
	long long limit_ms = (long long)((cfg->warmup_s + cfg->duration_s) * 1000) + 60000;

	(void)dir;
	(void)err;
	(void)errlen;
	antagonist_arg(a, "fio");
	antagonist_arg(a, "--name=%s", c->name);
	antagonist_arg(a, "--filename=%s", a->file);
	antagonist_arg(a, "--size=%llu", (unsigned long long)c->fio.size_bytes);
	antagonist_arg(a, "--rw=%s", fio_rw_names[c->fio.rw]);
	antagonist_arg(a, "--bs=%llu", (unsigned long long)c->fio.bs_bytes);
	antagonist_arg(a, "--direct=%d", c->fio.direct ? 1 : 0);
	antagonist_arg(a, "--ioengine=%s", a->setting);
	antagonist_arg(a, "--iodepth=%lld", (long long)c->fio.iodepth);
	antagonist_arg(a, "--numjobs=%lld", (long long)c->fio.numjobs);
	if (c->fio.rate_bytes_per_s)
		antagonist_arg(a, "--rate=%llu", (unsigned long long)c->fio.rate_bytes_per_s);
	antagonist_arg(a, "--randseed=%lld", (long long)cfg->seed);
	antagonist_arg(a, "--thread");
	antagonist_arg(a, "--group_reporting=1");
	antagonist_arg(a, "--time_based=1");
	antagonist_arg(a, "--runtime=%lldms", limit_ms);
	if (cfg->warmup_s > 0)
		antagonist_arg(a, "--ramp_time=%lldms", (long long)(cfg->warmup_s * 1000));
	antagonist_arg(a, "--output-format=json");
	antagonist_arg(a, "--output=%s", a->output);
	json_object_set_new(a->resolved, "ioengine", json_string(a->setting));
	json_object_set_new(a->resolved, "file", json_string(a->file));
	json_object_set_new(a->resolved, "size_bytes", json_integer((json_int_t)c->fio.size_bytes));
	json_object_set_new(a->resolved, "ramp_s", json_real(cfg->warmup_s));
	return 0;
}

/* One direction ("read", "write") of every job: rates and bytes summed,
 * latency percentiles the worst job's, the mean weighted by I/Os. */
static void fio_direction(const json_t *jobs, const char *dir, json_t *out)
{
	static const struct { const char *pct, *key; } pcts[] = {
		{ "50.000000", "clat_p50_ns" }, { "99.000000", "clat_p99_ns" }, { "99.900000", "clat_p999_ns" },
	};
	double bw = 0, iops = 0, bytes = 0, ios = 0, mean_sum = 0, runtime = 0, pct[3] = { NAN, NAN, NAN };
	const json_t *job;
	size_t i;
	char key[64];

	json_array_foreach((json_t *)jobs, i, job) {
		const json_t *d = json_object_get(job, dir), *clat = json_object_get(d, "clat_ns");
		double n = json_number_value(json_object_get(d, "total_ios"));

		bw += json_number_value(json_object_get(d, "bw_bytes"));
		iops += json_number_value(json_object_get(d, "iops"));
		bytes += json_number_value(json_object_get(d, "io_bytes"));
		ios += n;
		mean_sum += n * json_number_value(json_object_get(clat, "mean"));
		if (json_number_value(json_object_get(d, "runtime")) > runtime)
			runtime = json_number_value(json_object_get(d, "runtime"));
		for (size_t k = 0; k < FL_ARRAY_SIZE(pcts); k++) {
			const json_t *v = json_object_get(json_object_get(clat, "percentile"), pcts[k].pct);

			if (json_is_number(v) && (isnan(pct[k]) || json_number_value(v) > pct[k]))
				pct[k] = json_number_value(v);
		}
	}
	if (!(ios > 0))
		return; /* this direction did no I/O: no figures rather than zeros */
	snprintf(key, sizeof(key), "%s_bw_bytes_per_s", dir);
	json_object_set_new(out, key, json_real(bw));
	snprintf(key, sizeof(key), "%s_iops", dir);
	json_object_set_new(out, key, json_real(iops));
	snprintf(key, sizeof(key), "%s_io_bytes", dir);
	json_object_set_new(out, key, json_integer((json_int_t)bytes));
	snprintf(key, sizeof(key), "%s_ios", dir);
	json_object_set_new(out, key, json_integer((json_int_t)ios));
	snprintf(key, sizeof(key), "%s_runtime_ms", dir);
	json_object_set_new(out, key, json_integer((json_int_t)runtime));
	snprintf(key, sizeof(key), "%s_clat_mean_ns", dir);
	json_object_set_new(out, key, json_real(mean_sum / ios));
	for (size_t k = 0; k < FL_ARRAY_SIZE(pcts); k++)
		if (!isnan(pct[k])) {
			snprintf(key, sizeof(key), "%s_%s", dir, pcts[k].key);
			json_object_set_new(out, key, json_real(pct[k]));
		}
}

int fio_parse_output(const char *text, json_t *out, char *err, size_t errlen)
{
	const char *start = text && *text == '{' ? text : text ? strstr(text, "\n{") : NULL;
	json_error_t jerr;
	json_t *root, *jobs, *job;
	size_t i;
	json_int_t error = 0;

	if (!start) {
		snprintf(err, errlen, "no JSON object in fio's output");
		return -1;
	}
	root = json_loads(start + (*start == '\n'), JSON_DISABLE_EOF_CHECK, &jerr);
	if (!root) {
		snprintf(err, errlen, "fio's JSON output: line %d: %s", jerr.line, jerr.text);
		return -1;
	}
	jobs = json_object_get(root, "jobs");
	if (!json_is_array(jobs) || json_array_size(jobs) == 0) {
		snprintf(err, errlen, "fio's JSON output has no jobs");
		json_decref(root);
		return -1;
	}
	json_array_foreach(jobs, i, job)
		if (!error)
			error = json_integer_value(json_object_get(job, "error"));
	json_object_set_new(out, "jobs_reported", json_integer((json_int_t)json_array_size(jobs)));
	json_object_set_new(out, "error", json_integer(error));
	fio_direction(jobs, "read", out);
	fio_direction(jobs, "write", out);
	json_decref(root);
	return 0;
}

static void fio_collect(struct antagonist *a, json_t *out)
{
	char *text = util_read_file(a->output, NULL), err[256];

	if (!text)
		json_object_set_new(out, "output_error", json_string("fio wrote no output (killed before it could)"));
	else if (fio_parse_output(text, out, err, sizeof(err)) < 0)
		json_object_set_new(out, "output_error", json_string(err));
	free(text);
}

const struct antagonist_kind antagonist_fio = {
	.name = "fio",
	.check = fio_check,
	.prepare = fio_prepare,
	.command = fio_command,
	.collect = fio_collect,
};
