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
