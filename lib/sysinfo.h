/* sysinfo: the environment block of a result: which kernel, arch, CPU,
 * memory and kernel options produced it. */
#ifndef FL_SYSINFO_H
#define FL_SYSINFO_H

#include <jansson.h>

#ifndef FL_VERSION
#define FL_VERSION "unknown"
#endif

/* kernel_release, kernel_version, arch, cpu_model, cpus, memory_bytes,
 * page_size_bytes, hostname, kernel_config {option: value|"not set"|"unknown"},
 * thp_enabled, suite_version, backend "native", qemu_version null. */
json_t *sysinfo_environment(void);

#endif
