/* sysinfo: the environment block of a result: which kernel, arch, CPU,
 * memory and kernel options produced it. */
#ifndef FL_SYSINFO_H
#define FL_SYSINFO_H

#include <stdint.h>
#include <jansson.h>

#ifndef FL_VERSION
#define FL_VERSION "unknown"
#endif

/* kernel_release, kernel_version, arch, cpu_model, cpus, memory_bytes,
 * page_size_bytes, hostname, kernel_config {option: value|"not set"|"unknown"},
 * thp_enabled, suite_version, backend "native", qemu_version null. */
json_t *sysinfo_environment(void);

/* SwapTotal and SwapFree of a /proc/meminfo text, in bytes; -1 when either
 * line is missing (then both are 0). */
int sysinfo_meminfo_swap(const char *meminfo, uint64_t *total_bytes, uint64_t *free_bytes);

/* The swap the running system has: {"total_bytes", "free_bytes", "devices":
 * [{"name", "type", "size_bytes", "used_bytes", "priority"}]} from
 * /proc/meminfo and /proc/swaps ("devices" empty without swap). */
json_t *sysinfo_swap(void);

#endif
