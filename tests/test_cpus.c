/* test_cpus: the CPU lists of the cpus.* keys (lib/cpus.h). */
#include "tests/check.h"
#include "lib/cpus.h"

/* text parses, and formats back as want */
static void roundtrip(const char *text, const char *want, int count)
{
	cpu_set_t set;
	char err[256], out[256];

	CHECK_EQ(cpus_parse(text, &set, err, sizeof(err)), 0, "\"%s\": %s", text, err);
	CHECK_EQ(CPU_COUNT(&set), count, "\"%s\"", text);
	cpus_format(&set, out, sizeof(out));
	CHECK_STR(out, want, "\"%s\"", text);
}

TEST(lists_parse_and_format)
{
	roundtrip("", "", 0);
	roundtrip(NULL, "", 0);
	roundtrip("0", "0", 1);
	roundtrip("1", "1", 1);
	roundtrip("0-1", "0-1", 2);
	roundtrip("0,2-3", "0,2-3", 3);
	roundtrip("3,1,2", "1-3", 3);
	roundtrip("0-0", "0", 1);
	roundtrip("5,5", "5", 1);
	roundtrip("1023", "1023", 1);
}

TEST(bad_lists_are_refused)
{
	static const char *const bad[] = { "x", "-1", "1-", "-", "2-1", "0,", ",0", "0,,1", "0 1", "1-2-3", "0x1",
					   "1+2", "1024", "99999999999999999999999" };
	cpu_set_t set;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[256] = "";

		CHECK_EQ(cpus_parse(bad[i], &set, err, sizeof(err)), -1, "\"%s\" was accepted", bad[i]);
		CHECK(err[0], "\"%s\": no message", bad[i]);
	}
}

TEST(role_keys_fall_back_to_none)
{
	struct config c;

	config_defaults(&c);
	CHECK(cpus_of_role(&c, "writer") == NULL, "empty cpus.writer must mean no placement");
	free(c.cpus.writer);
	c.cpus.writer = strdup("1");
	CHECK_STR(cpus_of_role(&c, "writer"), "1");
	CHECK(cpus_of_role(&c, "fault") == NULL, "cpus.fault is empty");
	CHECK(cpus_of_role(&c, "procread") == NULL, "an observer role has no key of its own");
	config_free(&c);
}
