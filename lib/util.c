/* util: small helpers shared by every faultline program. */
#define _GNU_SOURCE
#include "lib/util.h"

#include <getopt.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *util_progname = "faultline";

void util_err(const char *fmt, ...)
{
	va_list ap;
	char buf[2048];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", util_progname, buf);
}

void util_sleep_until(uint64_t deadline_ns)
{
	struct timespec ts = { .tv_sec = (time_t)(deadline_ns / 1000000000ull),
			       .tv_nsec = (long)(deadline_ns % 1000000000ull) };

	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

char *util_read_file(const char *path, size_t *len_out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 4096, len = 0;
	char *buf = NULL;

	if (fd < 0)
		return NULL;
	buf = malloc(cap);
	if (!buf)
		goto fail;
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				goto fail;
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(fd);
	if (len_out)
		*len_out = len;
	return buf;
fail: {
	int saved = errno;

	free(buf);
	close(fd);
	errno = saved;
	return NULL;
}
}

int util_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int util_write_string(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -1;
	ret = util_write_all(fd, s, strlen(s));
	if (ret < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return close(fd);
}

int util_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (toupper((unsigned char)*end)) {
	case '\0': break;
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case 'T': shift = 40; break;
	case 'P': shift = 50; break;
	default: return -1;
	}
	if (*end) {
		end++;
		if (strcmp(end, "iB") != 0 && strcmp(end, "B") != 0 && *end != '\0')
			return -1;
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

int util_mkdir_p(const char *path, unsigned mode)
{
	char buf[4096];
	size_t len = strlen(path);

	if (len >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

int util_execv(const char *path, char *const argv[])
{
	const char *emu = getenv("FAULTLINE_EMULATOR");
	char *wrapped[64];
	int n = 0;

	if (!emu || !*emu)
		return execv(path, argv);
	wrapped[n++] = (char *)emu;
	wrapped[n++] = (char *)path;
	for (int i = 1; argv[i] && n < 63; i++)
		wrapped[n++] = argv[i];
	wrapped[n] = NULL;
	return execv(emu, wrapped);
}

void util_options_getopt(const struct util_option *o, size_t n, struct option *longopts)
{
	for (size_t i = 0; i < n; i++)
		longopts[i] = (struct option){ o[i].name, o[i].arg ? required_argument : no_argument, NULL, (int)i };
	longopts[n] = (struct option){ 0 };
}

void util_options_help(FILE *out, const struct util_option *o, size_t n, int width)
{
	for (size_t i = 0; i < n; i++) {
		char left[80];

		snprintf(left, sizeof(left), "--%s%s%s", o[i].name, o[i].arg ? " " : "", o[i].arg ? o[i].arg : "");
		fprintf(out, "  %-*s %s\n", width, left, o[i].help);
	}
}

volatile sig_atomic_t util_stop_signal;

static void util_on_stop_signal(int sig)
{
	util_stop_signal = sig;
}

void util_catch_stop_signals(void)
{
	struct sigaction sa = { 0 };

	sa.sa_handler = util_on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

size_t util_page_size(void)
{
	static size_t page;
	long v;

	if (page)
		return page;
	v = sysconf(_SC_PAGESIZE);
	page = v > 0 ? (size_t)v : 4096;
	return page;
}

/* Safe places (util.h, docs/security.md). */
bool util_uid_trusted(uid_t uid)
{
	const char *sudo = getenv("SUDO_UID");
	char *end;
	unsigned long v;

	if (uid == 0 || uid == geteuid() || uid == getuid())
		return true;
	/* the user who ran sudo: only believed when the real user is root */
	if (getuid() != 0 || !sudo || !*sudo)
		return false;
	errno = 0;
	v = strtoul(sudo, &end, 10);
	return !errno && !*end && v == (unsigned long)uid;
}

void util_uid_name(uid_t uid, char *buf, size_t len)
{
	FILE *f = fopen("/etc/passwd", "re");
	char line[1024], name[64] = "";

	while (f && !name[0] && fgets(line, sizeof(line), f)) {
		char *save = NULL, *user = strtok_r(line, ":", &save), *pw = strtok_r(NULL, ":", &save);
		char *id = strtok_r(NULL, ":", &save), *end;

		if (user && pw && id && strtoul(id, &end, 10) == (unsigned long)uid && *end == '\0' && *id)
			snprintf(name, sizeof(name), "%s", user);
	}
	if (f)
		fclose(f);
	if (name[0])
		snprintf(buf, len, "%s (uid %u)", name, (unsigned)uid);
	else
		snprintf(buf, len, "uid %u", (unsigned)uid);
}

/* One component of a safe walk: -2 with err when sb is not safe. */
static int util_dir_check(const char *what, const char *shown, const struct stat *sb, bool last, int flags,
			  char *err, size_t errlen)
{
	bool others = (sb->st_mode & (S_IWGRP | S_IWOTH)) != 0;
	bool sticky = (sb->st_mode & S_ISVTX) != 0;
	const char *why = NULL;
	char owner[128];

	if (!S_ISDIR(sb->st_mode))
		why = "is not a directory";
	else if (!util_uid_trusted(sb->st_uid))
		why = "is owned by another user (it must be root's or yours)";
	else if (others && !sticky)
		why = "is writable by group or other";
	else if (others && last && !(flags & UTIL_DIR_STICKY_OK))
		why = "is writable by group or other (sticky, but files are reused in it)";
	if (!why)
		return 0;
	util_uid_name(sb->st_uid, owner, sizeof(owner));
	snprintf(err, errlen, "%s: directory %s (owner %s, mode %04o) %s: another local user could replace what "
		 "faultline creates or writes there (docs/security.md)", what, shown, owner,
		 (unsigned)(sb->st_mode & 07777), why);
	return -2;
}

/* path made absolute and free of symbolic links as far as it exists (into
 * out), the rest appended; -1 with errno (EINVAL: "." or ".." after a
 * missing component). */
static int util_resolve(const char *path, char *out, size_t outlen)
{
	char buf[4096], rest[4096] = "", *slash;
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf)) {
		errno = len ? ENAMETOOLONG : ENOENT;
		return -1;
	}
	memcpy(buf, path, len + 1);
	for (;;) {
		char *real;

		while (len > 1 && buf[len - 1] == '/')
			buf[--len] = '\0';
		real = realpath(len ? buf : ".", NULL);
		if (real) {
			int n = snprintf(out, outlen, "%s%s%s", real, rest[0] && strcmp(real, "/") ? "/" : "", rest);

			free(real);
			if (n < 0 || (size_t)n >= outlen) {
				errno = ENAMETOOLONG;
				return -1;
			}
			return 0;
		}
		if (errno != ENOENT)
			return -1;
		slash = strrchr(buf, '/');
		{
			const char *name = slash ? slash + 1 : buf;
			char tmp[4096];

			if (!strcmp(name, ".") || !strcmp(name, "..")) {
				errno = EINVAL;
				return -1;
			}
			snprintf(tmp, sizeof(tmp), "%s%s%s", name, rest[0] ? "/" : "", rest);
			snprintf(rest, sizeof(rest), "%s", tmp);
		}
		if (!slash) {
			buf[0] = '\0';
			len = 0;
		} else {
			*(slash == buf ? slash + 1 : slash) = '\0';
			len = strlen(buf);
		}
	}
}

int util_dir_open_safe(const char *what, const char *path, int flags, char *resolved, size_t rlen, char *err,
		       size_t errlen)
{
	char canon[4096], shown[4096] = "", pre[4600];
	char *save = NULL, *comp;
	struct stat sb;
	int fd, ret;

	/* every message names what and the path as given */
	snprintf(pre, sizeof(pre), "%s %s", what, path);
	what = pre;
	if (util_resolve(path, canon, sizeof(canon)) < 0) {
		snprintf(err, errlen, "%s: resolving it: %s", what, strerror(errno));
		return -1;
	}
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) < 0) {
		snprintf(err, errlen, "%s: open /: %s", what, strerror(errno));
		goto fail;
	}
	ret = util_dir_check(what, "/", &sb, !strcmp(canon, "/"), flags, err, errlen);
	if (ret < 0)
		goto unsafe;
	for (comp = strtok_r(canon, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		bool last = !save || !*save, created = false;
		int next;

		snprintf(shown + strlen(shown), sizeof(shown) - strlen(shown), "/%s", comp);
		if ((flags & UTIL_DIR_CREATE) && mkdirat(fd, comp, 0755) == 0)
			created = true;
		else if ((flags & UTIL_DIR_CREATE) && errno != EEXIST) {
			snprintf(err, errlen, "%s: mkdir %s: %s", what, shown, strerror(errno));
			goto fail;
		}
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 || fstat(next, &sb) < 0) {
			int e = errno;

			snprintf(err, errlen, "%s: open %s: %s%s", what, shown, strerror(e),
				 e == ELOOP || e == ENOTDIR ? " (a symbolic link or not a directory, changed while "
							      "it was being checked)" : "");
			if (next >= 0)
				close(next);
			errno = e;
			goto fail;
		}
		close(fd);
		fd = next;
		/* created 0755 whatever the umask, when it is ours */
		if (created && sb.st_uid == geteuid() && fchmod(fd, 0755) == 0)
			sb.st_mode = (sb.st_mode & ~07777u) | 0755;
		ret = util_dir_check(what, shown, &sb, last, flags, err, errlen);
		if (ret < 0)
			goto unsafe;
	}
	if (resolved)
		snprintf(resolved, rlen, "%s", shown[0] ? shown : "/");
	return fd;
unsafe:
	close(fd);
	errno = EPERM;
	return -2;
fail: {
	int e = errno;

	if (fd >= 0)
		close(fd);
	errno = e;
	return -1;
}
}

int util_openat_nofollow(int dirfd, const char *name, int flags, unsigned mode)
{
	if (strchr(name, '/')) {
		errno = EINVAL;
		return -1;
	}
	return openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, (mode_t)mode);
}

size_t util_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[128];

	if (la >= 128 || lb >= 128)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}
