/* test_antagonists: the pure parts of the antagonists (bench/antagonists/):
 * the scenario's "antagonists" section (lib/config_antagonists.c), fio's
 * JSON output as fio 3.33 wrote it (tests/data/fio-*.json, recorded here),
 * stress-ng's YAML (tests/data/stress-ng-vm.yaml) and the memory bound. */
#include "tests/check.h"
#include "bench/antagonists/antagonists.h"
#include "lib/config.h"
#include "lib/metrics.h"

#include <math.h>
#include <string.h>

static char *read_data(const char *name)
{
	FILE *f = check_open_data(name, "r");
	static char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);

	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* config from JSON text over the defaults: 0, or -1 with err */
static int load_text(struct config *c, const char *text, char *err, size_t len)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);
	int ret;

	CHECK(j, "test JSON: %s", jerr.text);
	config_defaults(c);
	ret = config_load_json(c, j, "t.json", text, err, len);
	if (ret == 0)
		ret = config_check(c, "t.json", err, len);
	json_decref(j);
	return ret;
}

TEST(section_loads_checks_and_round_trips)
{
	const char *text = "{\"antagonists\": {\n"
			   "  \"storm\": {\"kind\": \"fio\", \"rw\": \"randrw\", \"direct\": true, \"bs_bytes\": \"64K\",\n"
			   "             \"rate_bytes_per_s\": \"8M\", \"numjobs\": 2, \"ioengine\": \"psync\"},\n"
			   "  \"mem\": {\"kind\": \"stress-ng\", \"bytes\": \"1G\", \"workers\": 2, \"group\": \"victim\"}}}";
	struct config c, d;
	char err[1024] = "";
	json_t *j, *j2;

	CHECK(load_text(&c, text, err, sizeof(err)) == 0, "%s", err);
	CHECK_EQ(c.n_antagonists, 2);
	CHECK_STR(c.antagonists[0].name, "storm");
	CHECK_EQ(c.antagonists[0].kind, ANTAGONIST_FIO);
	CHECK_EQ(c.antagonists[0].fio.rw, FIO_RW_RANDRW);
	CHECK(c.antagonists[0].fio.direct, "direct");
	CHECK_EQ(c.antagonists[0].fio.bs_bytes, 65536);
	CHECK_EQ(c.antagonists[0].fio.rate_bytes_per_s, 8 << 20);
	CHECK_EQ(c.antagonists[0].fio.size_bytes, 256 << 20, "default size");
	CHECK_EQ(c.antagonists[0].group, ANTAGONIST_GROUP_ANTAGONIST, "default group");
	CHECK_EQ(c.antagonists[1].kind, ANTAGONIST_STRESS_NG);
	CHECK_EQ(c.antagonists[1].stress_ng.bytes, 1ull << 30);
	CHECK_EQ(c.antagonists[1].group, ANTAGONIST_GROUP_VICTIM);
	/* the resolved section: each antagonist with its kind's keys only, and it reloads to itself */
	j = config_to_json(&c);
	CHECK(json_object_get(json_object_get(json_object_get(j, "antagonists"), "storm"), "rw"), "storm.rw resolved");
	CHECK(!json_object_get(json_object_get(json_object_get(j, "antagonists"), "storm"), "bytes"),
	      "a stress-ng key in a fio antagonist's resolved config");
	config_defaults(&d);
	CHECK(config_load_json(&d, j, "mem", NULL, err, sizeof(err)) == 0 && config_check(&d, "mem", err, sizeof(err)) == 0,
	      "reload: %s", err);
	j2 = config_to_json(&d);
	CHECK(json_equal(j, j2), "the antagonists section does not round-trip");
	json_decref(j);
	json_decref(j2);
	config_free(&c);
	config_free(&d);
	/* without antagonists the resolved config has no section (results as before) */
	config_defaults(&c);
	j = config_to_json(&c);
	CHECK(!json_object_get(j, "antagonists"), "an empty antagonists section in a config without any");
	json_decref(j);
	config_free(&c);
}

TEST(section_errors_name_file_line_key_and_value)
{
	static const struct { const char *text, *want; } bad[] = {
		{ "{\"antagonists\": [{\"kind\": \"fio\"}]}", "antagonists: expected an object of named antagonists" },
		{ "{\"antagonists\": {\"a.b\": {\"kind\": \"fio\"}}}", "antagonists.a.b: an antagonist's name" },
		{ "{\"antagonists\": {\"s\": {\"rw\": \"read\"}}}", "antagonists.s.kind: required" },
		{ "{\"antagonists\": {\"s\": {\"kind\": \"dd\"}}}", "antagonists.s.kind: expected one of fio|stress-ng" },
		{ "{\"antagonists\": {\"s\": {\"kind\": \"fio\",\n \"rw\": \"sideways\"}}}",
		  "t.json:2: antagonists.s.rw: expected one of read|write|randread|randwrite|randrw (value \"sideways\")" },
		{ "{\"antagonists\": {\"s\": {\"kind\": \"fio\", \"bytes\": \"1G\"}}}",
		  "antagonists.s.bytes: not an option of kind fio (it is stress-ng's)" },
		{ "{\"antagonists\": {\"s\": {\"kind\": \"stress-ng\", \"rw\": \"read\"}}}",
		  "antagonists.s.rw: not an option of kind stress-ng (it is fio's)" },
		{ "{\"antagonists\": {\"s\": {\"kind\": \"fio\", \"color\": 1}}}", "antagonists.s.color: unknown key (known here: kind," },
		{ "{\"antagonists\": {\"s\": {\"kind\": \"fio\", \"direct\": true, \"bs_bytes\": 1000}}}",
		  "antagonists.s.bs_bytes: must be a multiple of 512 with direct (value 1000)" },
		{ "{\"antagonists\": {\"s\": {\"kind\": \"fio\", \"size_bytes\": \"1M\", \"bs_bytes\": \"2M\"}}}",
		  "antagonists.s.bs_bytes: larger than size_bytes" },
		{ "{\"antagonists\": {\"s\": {\"kind\": \"stress-ng\", \"bytes\": 4096}}}", "antagonists.s.bytes: 0 (sized" },
		{ "{\"antagonists\": {\"s\": {\"kind\": \"stress-ng\", \"workers\": 0}}}", "antagonists.s.workers: out of range" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct config c;
		char err[1024] = "";

		CHECK(load_text(&c, bad[i].text, err, sizeof(err)) == -1, "accepted: %s", bad[i].text);
		CHECK(strstr(err, bad[i].want), "case %zu: '%s' does not say '%s'", i, err, bad[i].want);
		config_free(&c);
	}
}

TEST(set_adds_and_changes_antagonists)
{
	struct config c;
	char err[1024] = "";

	config_defaults(&c);
	CHECK(config_set(&c, "antagonists.storm.kind=fio", err, sizeof(err)) == 0, "%s", err);
	CHECK(config_set(&c, "antagonists.storm.rate_bytes_per_s=50M", err, sizeof(err)) == 0, "%s", err);
	CHECK(config_set(&c, "antagonists.mem.kind=stress-ng", err, sizeof(err)) == 0, "%s", err);
	CHECK(config_set(&c, "antagonists.mem.bytes=6G", err, sizeof(err)) == 0, "%s", err);
	CHECK(config_check(&c, "--set", err, sizeof(err)) == 0, "%s", err);
	CHECK_EQ(c.n_antagonists, 2);
	CHECK_EQ(c.antagonists[0].fio.rate_bytes_per_s, 50ull << 20);
	CHECK_EQ(c.antagonists[1].stress_ng.bytes, 6ull << 30);
	err[0] = '\0';
	CHECK(config_set(&c, "antagonists.storm.numjobs=lots", err, sizeof(err)) == -1 &&
		      strstr(err, "--set: antagonists.storm.numjobs: expected an integer (value \"lots\")"),
	      "bad value: '%s'", err);
	CHECK(config_set(&c, "antagonists.storm=1", err, sizeof(err)) == -1 && strstr(err, "antagonists.NAME.KEY"),
	      "no key: '%s'", err);
	CHECK(config_set(&c, "antagonists.storm.nope=1", err, sizeof(err)) == -1 && strstr(err, "unknown key"),
	      "unknown key: '%s'", err);
	config_free(&c);
	CHECK_EQ(c.n_antagonists, 0, "freed");
}

TEST(fio_output_after_sigterm)
{
	json_t *o = json_object();
	char err[256] = "";

	/* fio 3.33 stopped by SIGTERM: "fio: terminating on signal 15" before the JSON */
	CHECK(fio_parse_output(read_data("fio-randrw-sigterm.json"), o, err, sizeof(err)) == 0, "%s", err);
	CHECK_NEAR(json_number_value(json_object_get(o, "read_bw_bytes_per_s")), 21140250, 0);
	CHECK_NEAR(json_number_value(json_object_get(o, "read_iops")), 5159.061834, 1e-6);
	CHECK_EQ(json_integer_value(json_object_get(o, "read_io_bytes")), 49573888);
	CHECK_NEAR(json_number_value(json_object_get(o, "read_clat_p50_ns")), 74240, 0);
	CHECK_NEAR(json_number_value(json_object_get(o, "read_clat_p99_ns")), 6717440, 0);
	CHECK_NEAR(json_number_value(json_object_get(o, "read_clat_p999_ns")), 61079552, 0);
	CHECK_NEAR(json_number_value(json_object_get(o, "read_clat_mean_ns")), 630438.512477, 1e-3);
	CHECK_NEAR(json_number_value(json_object_get(o, "write_bw_bytes_per_s")), 21292213, 0);
	CHECK_EQ(json_integer_value(json_object_get(o, "error")), 0);
	CHECK_EQ(json_integer_value(json_object_get(o, "jobs_reported")), 1, "group_reporting: one entry");
	json_decref(o);
}

TEST(fio_output_two_jobs_summed)
{
	json_t *o = json_object();
	char err[256] = "";

	/* numjobs=2 without group_reporting: rates add, percentiles are the worse job's,
	 * a direction without I/O has no figures */
	CHECK(fio_parse_output(read_data("fio-randread-2jobs.json"), o, err, sizeof(err)) == 0, "%s", err);
	CHECK_NEAR(json_number_value(json_object_get(o, "read_bw_bytes_per_s")), 16574041.0 + 16735778.0, 0);
	CHECK_NEAR(json_number_value(json_object_get(o, "read_iops")), 4046.396841 + 4085.883514, 1e-6);
	CHECK_EQ(json_integer_value(json_object_get(o, "read_ios")), 4099 + 4139);
	CHECK_NEAR(json_number_value(json_object_get(o, "read_clat_p99_ns")), 3620864, 0);
	CHECK_NEAR(json_number_value(json_object_get(o, "read_clat_mean_ns")),
		   (4099 * 246104.819956 + 4139 * 243189.039623) / (4099 + 4139), 1e-3);
	CHECK(!json_object_get(o, "write_bw_bytes_per_s"), "write figures for a read-only job");
	json_decref(o);
	o = json_object();
	CHECK(fio_parse_output("fio: some failure\n", o, err, sizeof(err)) == -1 && strstr(err, "no JSON"), "%s", err);
	CHECK(fio_parse_output("{\"jobs\": []}", o, err, sizeof(err)) == -1 && strstr(err, "no jobs"), "%s", err);
	CHECK(fio_parse_output("{\"jobs\": [", o, err, sizeof(err)) == -1 && strstr(err, "line"), "%s", err);
	json_decref(o);
}

TEST(stressng_yaml)
{
	json_t *o = json_object();

	stressng_parse_yaml(read_data("stress-ng-vm.yaml"), o);
	CHECK_NEAR(json_number_value(json_object_get(o, "bogo_ops")), 512, 0);
	CHECK_NEAR(json_number_value(json_object_get(o, "bogo_ops_per_s")), 383.721070, 1e-6);
	CHECK_NEAR(json_number_value(json_object_get(o, "wall_clock_s")), 1.334303, 1e-9);
	CHECK_NEAR(json_number_value(json_object_get(o, "max_rss_bytes")), 67476.0 * 1024, 0);
	CHECK(!json_object_get(o, "totalram"), "system-info taken for a metric");
	json_decref(o);
	o = json_object();
	stressng_parse_yaml("system-info:\n      cpus: 2\n", o);
	CHECK_EQ(json_object_size(o), 0, "numbers from a YAML without metrics");
	json_decref(o);
}

TEST(stressng_bound_keeps_the_machine)
{
	const uint64_t G = 1ull << 30, M = 1ull << 20;
	uint64_t bound;

	/* 24 GiB machine, 22 GiB available: margin max(10%, min(2 GiB, 25%)) = 2.4 GiB */
	CHECK_EQ(stressng_bytes(0, 24 * G, 22 * G, &bound), 22 * G - 24 * G / 10, "auto = the bound");
	CHECK_EQ(bound, 22 * G - 24 * G / 10);
	CHECK_EQ(stressng_bytes(6 * G, 24 * G, 22 * G, NULL), 6 * G, "under the bound: as asked");
	CHECK_EQ(stressng_bytes(40 * G, 24 * G, 22 * G, NULL), bound, "over the bound: capped");
	/* 1 GiB guest: the margin is a quarter (256 MiB), not 2 GiB */
	CHECK_EQ(stressng_bytes(0, 1 * G, 900 * M, NULL), 900 * M - 256 * M);
	/* 8 GiB: min(2 GiB, 25%) = 2 GiB beats 10% */
	CHECK_EQ(stressng_bytes(0, 8 * G, 7 * G, NULL), 5 * G);
	/* nothing above the margin: nothing at all */
	CHECK_EQ(stressng_bytes(0, 24 * G, 2 * G, &bound), 0);
	CHECK_EQ(bound, 0);
	CHECK_EQ(stressng_bytes(64 * M, 24 * G, 2 * G, NULL), 0, "a small request is capped too");
}

/* the catalogue's antagonist metrics from an iteration: sums and worst */
static void collect_metric(void *ctx, const struct metric *m, double v)
{
	json_t *o = ctx;

	json_object_set_new(o, m->name, json_real(v));
}

TEST(catalogue_sums_rates_and_takes_the_worst_latency)
{
	json_t *it = json_loads("{\"measured_s\": 2, \"antagonists\": {"
				"\"a\": {\"kind\": \"fio\", \"read_bw_bytes_per_s\": 100, \"read_clat_p99_ns\": 5000},"
				"\"b\": {\"kind\": \"fio\", \"read_bw_bytes_per_s\": 50, \"read_clat_p99_ns\": 9000},"
				"\"m\": {\"kind\": \"stress-ng\", \"bytes\": 4096, \"read_bw_bytes_per_s\": 7}}}",
				0, NULL);
	json_t *got = json_object();
	char err[256];

	CHECK(it, "test JSON");
	CHECK(metrics_eval(it, collect_metric, got, err, sizeof(err)) == 0, "%s", err);
	CHECK_NEAR(json_number_value(json_object_get(got, "antagonist.fio.read_bw_bytes_per_s")), 150, 0);
	CHECK_NEAR(json_number_value(json_object_get(got, "antagonist.fio.read_clat_p99_ns")), 9000, 0);
	CHECK_NEAR(json_number_value(json_object_get(got, "antagonist.stress_ng.bytes")), 4096, 0);
	CHECK(!json_object_get(got, "antagonist.fio.write_bw_bytes_per_s"), "a metric without its input");
	json_decref(it);
	json_decref(got);
}
