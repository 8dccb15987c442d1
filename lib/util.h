/* util: small helpers shared by every faultline program. */
#ifndef FL_UTIL_H
#define FL_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#define FL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Exit statuses shared by all programs: 0 ok, 1 failure at run time, 2 bad
 * input (scenario, options, result files), 3 a required resource is missing. */
enum { FL_EXIT_OK = 0, FL_EXIT_FAIL = 1, FL_EXIT_USAGE = 2, FL_EXIT_NORESOURCE = 3 };

static inline uint64_t util_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t util_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Sleep until the absolute CLOCK_MONOTONIC time deadline_ns (EINTR ends it
 * early).  A deadline already past returns at once: being absolute, it has
 * no `deadline - now` to underflow into a sleep of minutes when the caller
 * is late (issue 15), so prefer it to usleep(deadline - now). */
void util_sleep_until(uint64_t deadline_ns);

/* Read a whole (small) file into a NUL-terminated malloc'd buffer; NULL and
 * errno on failure. */
char *util_read_file(const char *path, size_t *len_out);

/* Write a whole buffer to fd, retrying short writes; -1 and errno on failure. */
int util_write_all(int fd, const void *buf, size_t len);

/* Write a string to a file opened O_WRONLY (cgroup and proc control files). */
int util_write_string(const char *path, const char *s);

/* Parse an unsigned integer with an optional binary suffix (K, M, G, T, P,
 * optionally followed by "iB" or "B"): "64M" = 64 MiB.  Returns -1 on error. */
int util_parse_size(const char *s, uint64_t *out);

/* Create the directories of path (like mkdir -p). */
int util_mkdir_p(const char *path, unsigned mode);

/* execv(path, argv), or, when the environment names an emulator in
 * FAULTLINE_EMULATOR (e.g. /usr/bin/qemu-aarch64-static: the suite itself
 * runs under qemu-user without binfmt_misc), execv(emulator, [emulator,
 * path, argv[1], ...]).  path must then be a real path, not /proc/self/exe.
 * Returns only on failure. */
int util_execv(const char *path, char *const argv[]);

/* A command's options as data: one table drives getopt_long and --help.
 * `arg` names the value (NULL: a flag); `flags` is the command's own. */
struct util_option {
	const char *name, *arg, *help;
	int flags;
};
struct option;
/* Fill longopts (n + 1 entries) so that getopt_long returns the index. */
void util_options_getopt(const struct util_option *o, size_t n, struct option *longopts);
/* "  --name ARG   help" lines, the left column `width` wide. */
void util_options_help(FILE *out, const struct util_option *o, size_t n, int width);

/* SIGINT, SIGTERM and SIGHUP only record their number here (the commands
 * poll it and stop cleanly); SIGPIPE is ignored.  Zero until one arrives. */
#include <signal.h>
extern volatile sig_atomic_t util_stop_signal;
void util_catch_stop_signals(void);

/* Program name for messages, set by main. */
extern const char *util_progname;
void util_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The page size of the running kernel (sysconf; 4 KiB on x86_64, often
 * 64 KiB on ppc64le and some arm64 kernels).  Cached after the first call. */
size_t util_page_size(void);

/* Levenshtein distance of two short strings (SIZE_MAX when either has 128
 * characters or more), for "did you mean". */
size_t util_edit_distance(const char *a, const char *b);

/* Safe places (docs/security.md).  faultline runs as root on shared
 * machines: a directory it creates files in, or that its victim writes
 * through, must be one no other local user can change.  A trusted owner is
 * root, the effective or real user, or (as root under sudo) SUDO_UID. */
#include <stdbool.h>
#include <sys/types.h>
bool util_uid_trusted(uid_t uid);
/* "nobody (uid 65534)", from /etc/passwd (no NSS: static builds). */
void util_uid_name(uid_t uid, char *buf, size_t len);

enum {
	UTIL_DIR_CREATE = 1,    /* mkdir missing components 0755, each checked after */
	UTIL_DIR_STICKY_OK = 2, /* the directory itself may be writable by others if sticky (like /tmp) */
};
/* Open the directory at path (relative to the working directory or
 * absolute; symbolic links resolved first) walking from / with O_NOFOLLOW:
 * every component must be owned by a trusted uid; every ancestor not
 * writable by group or other unless sticky; the directory itself not
 * writable by group or other (sticky allowed with UTIL_DIR_STICKY_OK).
 * Returns an O_DIRECTORY descriptor (close-on-exec) and the canonical path
 * in resolved (may be NULL); -2 when a component is unsafe (err names it,
 * its owner and mode: bad input); -1 with errno and err on other failures
 * (ENOENT without UTIL_DIR_CREATE: a missing component, every one before it
 * checked).  what prefixes err, e.g. "storage: storage.path". */
int util_dir_open_safe(const char *what, const char *path, int flags, char *resolved, size_t rlen, char *err,
		       size_t errlen);
/* openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode):
 * name is one component (no '/'); a symbolic link there fails (ELOOP). */
int util_openat_nofollow(int dirfd, const char *name, int flags, unsigned mode);

#endif
