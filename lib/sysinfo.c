/* sysinfo: the environment block of a result (sysinfo.h). */
#define _GNU_SOURCE
#include "lib/sysinfo.h"
#include "lib/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static const char *const sysinfo_config_options[] = {
	"CONFIG_PER_VMA_LOCK", "CONFIG_PER_VMA_LOCK_STATS", "CONFIG_MEMCG", "CONFIG_BLK_CGROUP",
	"CONFIG_BLK_CGROUP_IOLATENCY", "CONFIG_BLK_CGROUP_IOCOST", "CONFIG_PSI", "CONFIG_LRU_GEN",
	"CONFIG_LRU_GEN_ENABLED", "CONFIG_TRANSPARENT_HUGEPAGE", "CONFIG_TRACING", "CONFIG_SWAP", "CONFIG_ZRAM",
	"CONFIG_PREEMPT", "CONFIG_PREEMPT_DYNAMIC", "CONFIG_FUSE_FS",
};

static json_t *sysinfo_kernel_config(const char *release, json_t **source)
{
	char path[512], *text;
	json_t *o = json_object();

	snprintf(path, sizeof(path), "/boot/config-%s", release);
	text = util_read_file(path, NULL);
	*source = text ? json_string(path) : json_null();
	for (size_t i = 0; i < FL_ARRAY_SIZE(sysinfo_config_options); i++) {
		const char *opt = sysinfo_config_options[i], *value = "unknown";
		char needle[80], unset[96], val[32] = "";

		if (text) {
			char *p;

			snprintf(needle, sizeof(needle), "\n%s=", opt);
			snprintf(unset, sizeof(unset), "# %s is not set", opt);
			p = strstr(text, needle);
			if (p) {
				sscanf(p + strlen(needle), "%31s", val);
				value = val;
			} else {
				value = "not set";
			}
			(void)unset;
		}
		json_object_set_new(o, opt, json_string(value));
	}
	free(text);
	return o;
}

static void sysinfo_cpu_model(char *out, size_t len)
{
	char *text = util_read_file("/proc/cpuinfo", NULL), *p;
	static const char *const keys[] = { "model name", "cpu model", "uarch", "cpu", "Processor", "isa" };

	snprintf(out, len, "unknown");
	for (size_t k = 0; text && k < FL_ARRAY_SIZE(keys); k++) {
		char needle[32];

		snprintf(needle, sizeof(needle), "\n%s", keys[k]);
		p = strstr(text, needle);
		if (!p && strncmp(text, keys[k], strlen(keys[k])) == 0)
			p = text - 1;
		if (p && (p = strchr(p + 1, ':'))) {
			p++;
			while (*p == ' ' || *p == '\t')
				p++;
			snprintf(out, len, "%.*s", (int)strcspn(p, "\n"), p);
			break;
		}
	}
	free(text);
}

json_t *sysinfo_environment(void)
{
	struct utsname u;
	char cpu[256], host[256] = "", thp[128] = "unknown", *text;
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	json_t *env, *cfg_source;

	uname(&u);
	sysinfo_cpu_model(cpu, sizeof(cpu));
	gethostname(host, sizeof(host) - 1);
	text = util_read_file("/sys/kernel/mm/transparent_hugepage/enabled", NULL);
	if (text) {
		char *a = strchr(text, '['), *b = a ? strchr(a, ']') : NULL;

		if (a && b)
			snprintf(thp, sizeof(thp), "%.*s", (int)(b - a - 1), a + 1);
		free(text);
	}
	env = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s, s:n}", "kernel_release", u.release,
			"kernel_version", u.version, "arch", u.machine, "cpu_model", cpu, "cpus",
			(json_int_t)sysconf(_SC_NPROCESSORS_ONLN), "memory_bytes", (json_int_t)pages * page,
			"page_size_bytes", (json_int_t)page, "hostname", host, "thp_enabled", thp, "backend", "native",
			"qemu_version");
	json_object_set_new(env, "kernel_config", sysinfo_kernel_config(u.release, &cfg_source));
	json_object_set_new(env, "kernel_config_source", cfg_source);
	json_object_set_new(env, "suite_version", json_string(FL_VERSION));
	{
		char *mi = util_read_file("/proc/meminfo", NULL);
		uint64_t total = 0, free_b = 0;

		sysinfo_meminfo_swap(mi, &total, &free_b);
		free(mi);
		json_object_set_new(env, "swap_total_bytes", json_integer((json_int_t)total));
	}
	return env;
}

int sysinfo_meminfo_swap(const char *meminfo, uint64_t *total_bytes, uint64_t *free_bytes)
{
	const char *t = meminfo ? strstr(meminfo, "SwapTotal:") : NULL;
	const char *f = meminfo ? strstr(meminfo, "SwapFree:") : NULL;
	unsigned long long tk, fk;

	*total_bytes = *free_bytes = 0;
	if (!t || !f || sscanf(t, "SwapTotal: %llu kB", &tk) != 1 || sscanf(f, "SwapFree: %llu kB", &fk) != 1)
		return -1;
	*total_bytes = (uint64_t)tk * 1024;
	*free_bytes = (uint64_t)fk * 1024;
	return 0;
}

json_t *sysinfo_swap(void)
{
	char *text = util_read_file("/proc/meminfo", NULL), *line, *save = NULL;
	uint64_t total = 0, free_b = 0;
	json_t *devices = json_array();

	sysinfo_meminfo_swap(text, &total, &free_b);
	free(text);
	/* /proc/swaps: "Filename Type Size Used Priority", sizes in KiB */
	text = util_read_file("/proc/swaps", NULL);
	for (line = text ? strtok_r(text, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		char name[256], type[32];
		unsigned long long size, used;
		int prio;

		if (sscanf(line, "%255s %31s %llu %llu %d", name, type, &size, &used, &prio) == 5)
			json_array_append_new(devices, json_pack("{s:s, s:s, s:I, s:I, s:i}", "name", name, "type", type,
								 "size_bytes", (json_int_t)(size * 1024),
								 "used_bytes", (json_int_t)(used * 1024), "priority", prio));
	}
	free(text);
	return json_pack("{s:I, s:I, s:o}", "total_bytes", (json_int_t)total, "free_bytes", (json_int_t)free_b,
			 "devices", devices);
}
