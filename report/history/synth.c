/* synth: synthetic series and the detection self-test (synth.h). */
#include "report/history/synth.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/util.h"
#include "report/history/edivisive.h"
#include "report/history/store.h"

struct synth_rng {
	uint64_t s;
};

static double synth_uniform(struct synth_rng *r) /* (0, 1), splitmix64 */
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

static double synth_normal(struct synth_rng *r)
{
	double u1 = synth_uniform(r), u2 = synth_uniform(r);

	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

static int synth_count(const char *opt, const char *arg, long min, long max, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(arg, &end, 10);
	if (errno || *end || end == arg || *out < min || *out > max) {
		util_err("--%s: bad value '%s' (an integer in [%ld, %ld])", opt, arg, min, max);
		return -1;
	}
	return 0;
}

static int synth_real(const char *opt, const char *arg, double min, double max, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(arg, &end);
	if (errno || *end || end == arg || !(*out >= min && *out <= max)) {
		util_err("--%s: bad value '%s' (a number in [%g, %g])", opt, arg, min, max);
		return -1;
	}
	return 0;
}

/* One synthetic run of series k, night i, value v. */
static int synth_insert(struct store *s, sqlite3_stmt *run, sqlite3_stmt *it, sqlite3_stmt *sm, long k, long i,
			double v, char *err, size_t errlen)
{
	char scen[32], rid[48], label[32], kernel[48], at[32];
	time_t t = 1735689600 + (time_t)i * 86400; /* 2025-01-01 + i days */
	struct tm tm;
	long long id;

	gmtime_r(&t, &tm);
	strftime(at, sizeof(at), "%Y-%m-%dT03:00:00Z", &tm);
	snprintf(scen, sizeof(scen), "synth-%04ld", k);
	snprintf(rid, sizeof(rid), "synth-%04ld-%04ld", k, i);
	snprintf(label, sizeof(label), "night-%04ld", i);
	snprintf(kernel, sizeof(kernel), "6.%ld.0-synth", 1 + i / 30);
	sqlite3_reset(run);
	sqlite3_bind_text(run, 1, rid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(run, 2, kernel, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(run, 3, label, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(run, 4, scen, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(run, 5, at, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(run) != SQLITE_DONE)
		return store_error(s, "synth run", err, errlen);
	id = sqlite3_last_insert_rowid(s->db);
	sqlite3_reset(it);
	sqlite3_bind_int64(it, 1, id);
	sqlite3_reset(sm);
	sqlite3_bind_int64(sm, 1, id);
	sqlite3_bind_double(sm, 2, v);
	if (sqlite3_step(it) != SQLITE_DONE || sqlite3_step(sm) != SQLITE_DONE)
		return store_error(s, "synth sample", err, errlen);
	return 0;
}

int synth_main(int argc, char **argv)
{
	static const struct option opts[] = { { "db", required_argument, NULL, 'd' },
					      { "series", required_argument, NULL, 'n' },
					      { "points", required_argument, NULL, 'p' },
					      { "step-every", required_argument, NULL, 'k' },
					      { NULL, 0, NULL, 0 } };
	long series = 1000, points = 365, every = 10;
	const char *db = NULL;
	struct synth_rng rng = { 42 };
	sqlite3_stmt *run = NULL, *it = NULL, *sm = NULL;
	struct store s = { 0 };
	char err[1024] = "";
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if ((c == 'n' && synth_count("series", optarg, 1, 1000000, &series)) ||
		    (c == 'p' && synth_count("points", optarg, 2, 100000, &points)) ||
		    (c == 'k' && synth_count("step-every", optarg, 0, 1000000, &every)) || c == '?')
			return FL_EXIT_USAGE;
		if (c == 'd')
			db = optarg;
	}
	if (!db) {
		util_err("synth: --db PATH is required (a new file)");
		return FL_EXIT_USAGE;
	}
	if ((rc = store_open(&s, db, true, err, sizeof(err))))
		goto exit;
	rc = FL_EXIT_USAGE;
	if (store_exec(&s, "BEGIN IMMEDIATE", err, sizeof(err)) ||
	    store_exec(&s, "INSERT OR IGNORE INTO metrics(id, name, kind, unit, better) VALUES(1, 'fault.major.p99',"
			   " 'latency', 'us', 'lower')", err, sizeof(err)) ||
	    !(run = store_prepare(&s, "INSERT INTO runs(host, run_id, arch, backend, kernel_release, kernel_source,"
				     " kernel_patches, kernel_config_hash, kernel_manifest, label, scenario, config_hash,"
				     " headline, started_at, status, content_hash, source_file, ingested_at)"
				     " VALUES('synth-host', ?1, 'x86_64', 'native', ?2, '', '', '', '', ?3, ?4,"
				     " '0000000000000000', 'fault.major.p99', ?5, 'ok', '', 'synth', '')",
				  err, sizeof(err))) ||
	    !(it = store_prepare(&s, "INSERT INTO iterations(run, iteration, status) VALUES(?1, 0, 'ok')", err,
				 sizeof(err))) ||
	    !(sm = store_prepare(&s, "INSERT INTO samples(run, metric, iteration, value) VALUES(?1, 1, 0, ?2)", err,
				 sizeof(err))))
		goto exit;
	for (long k = 0; k < series; k++) {
		long at = every && k % every == 0 ? points / 5 + (long)(synth_uniform(&rng) * (double)(points * 3 / 5))
						  : points;

		for (long i = 0; i < points; i++)
			if ((rc = synth_insert(&s, run, it, sm, k, i,
					       (i >= at ? 1100.0 : 1000.0) * (1 + 0.05 * synth_normal(&rng)), err,
					       sizeof(err))))
				goto exit;
	}
	if ((rc = store_exec(&s, "COMMIT", err, sizeof(err))))
		goto exit;
	printf("synth: %s: %ld series of %ld runs (every %ld-th with a 10%% step), CV 5%%\n", db, series, points,
	       every);
exit:
	sqlite3_finalize(run);
	sqlite3_finalize(it);
	sqlite3_finalize(sm);
	if (rc)
		util_err("synth: %s", err);
	store_close(&s);
	return rc;
}

/* One case of the self-test: rates over `series` series. */
static int synth_case(struct synth_rng *rng, long series, long points, double step, double cv,
		      const struct edivisive_opts *o, double *x, struct edivisive_point *cp)
{
	long found = 0, any = 0, extra = 0, past5 = 0;

	for (long k = 0; k < series; k++) {
		long at = points / 5 + (long)(synth_uniform(rng) * (double)(points * 3 / 5));
		int n, hit = 0, big = 0;

		for (long i = 0; i < points; i++)
			x[i] = 100.0 * (i >= at && step > 0 ? 1 + step : 1) * (1 + cv * synth_normal(rng));
		if ((n = edivisive_detect(x, (size_t)points, o, cp, 64)) < 0)
			return -1;
		for (int i = 0; i < n; i++) {
			size_t from = i ? cp[i - 1].index : 0, to = i + 1 < n ? cp[i + 1].index : (size_t)points;
			double b = 0, a = 0;

			for (size_t j = from; j < cp[i].index; j++)
				b += x[j] / (double)(cp[i].index - from);
			for (size_t j = cp[i].index; j < to; j++)
				a += x[j] / (double)(to - cp[i].index);
			big |= fabs(a - b) >= 0.05 * fabs(b);
			if (step > 0 && !hit && labs((long)cp[i].index - at) <= 3)
				hit = 1;
			else
				extra++;
		}
		found += hit;
		past5 += big;
		any += n > 0;
	}
	if (step > 0)
		printf("| %4.0f%% | %4.0f%% | %6.1f%% | %6.1f%% | %8.3f | |\n", cv * 100, step * 100,
		       100.0 * found / series, 100.0 * any / series, (double)extra / series);
	else
		printf("| %4.0f%% | flat | | | %8.3f | %6.1f%% (%.1f%% past 5%%) |\n", cv * 100,
		       (double)extra / series, 100.0 * any / series, 100.0 * (double)past5 / series);
	return 0;
}

int synth_selftest_main(int argc, char **argv)
{
	static const struct option opts[] = { { "series", required_argument, NULL, 'n' },
					      { "points", required_argument, NULL, 'p' },
					      { "alpha", required_argument, NULL, 'a' },
					      { "sig-level", required_argument, NULL, 's' },
					      { NULL, 0, NULL, 0 } };
	static const double cvs[] = { 0.05, 0.15, 0.25 }, steps[] = { 0.05, 0.10, 0.50, 0 };
	long series = 500, points = 100;
	struct synth_rng rng = { 2014 };
	struct edivisive_opts o;
	struct edivisive_point cp[64];
	double *x;
	int c, rc = 0;

	edivisive_defaults(&o);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
		if ((c == 'n' && synth_count("series", optarg, 1, 1000000, &series)) ||
		    (c == 'p' && synth_count("points", optarg, 20, 100000, &points)) ||
		    (c == 'a' && synth_real("alpha", optarg, 0.01, 1.99, &o.alpha)) ||
		    (c == 's' && synth_real("sig-level", optarg, 1e-4, 0.5, &o.sig_level)) || c == '?')
			return FL_EXIT_USAGE;
	if (!(x = malloc((size_t)points * sizeof(*x)))) {
		util_err("selftest-detect: out of memory (%s)", strerror(ENOMEM));
		return FL_EXIT_FAIL;
	}
	printf("selftest-detect: %ld series of %ld runs per case; step planted at a uniform run in [%ld, %ld);"
	       " Gaussian noise; E-divisive alpha %g, min size %zu, %u permutations, p <= %g, seed 2014\n\n",
	       series, points, points / 5, points / 5 + points * 3 / 5, o.alpha, o.min_size, o.permutations, o.sig_level);
	printf("| CV | step | found within 3 runs | any change point | extra change points per series |"
	       " flat series flagged |\n|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < FL_ARRAY_SIZE(cvs) && !rc; i++)
		for (size_t k = 0; k < FL_ARRAY_SIZE(steps) && !rc; k++)
			if (synth_case(&rng, series, points, steps[k], cvs[i], &o, x, cp) < 0) {
				util_err("selftest-detect: out of memory (%s)", strerror(ENOMEM));
				rc = FL_EXIT_FAIL;
			}
	free(x);
	return rc;
}
