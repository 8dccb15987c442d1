/* check: the unit-test harness.  Each test is a function registered with
 * TEST(name); main runs each in a forked child with a timeout (a crash or a
 * hang fails that test only) and prints one line per test:
 *     PASS name | FAIL name: reason | SKIP name: reason
 * and finally "N passed, N failed, N skipped".  Exit 1 if any failed. */
#ifndef FL_CHECK_H
#define FL_CHECK_H

#define _GNU_SOURCE
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct check_test {
	const char *name;
	void (*fn)(void);
};

#define CHECK_MAX 256
static struct check_test check_tests[CHECK_MAX];
static int check_ntests;
static char check_msg[1024];
static int check_fd = -1;

#define TEST(name)                                                                         \
	static void test_##name(void);                                                     \
	__attribute__((constructor)) static void check_register_##name(void)              \
	{                                                                                  \
		check_tests[check_ntests++] = (struct check_test){ #name, test_##name };  \
	}                                                                                  \
	static void test_##name(void)

static inline void check_report(char kind, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void check_report(char kind, const char *fmt, ...)
{
	va_list ap;

	check_msg[0] = kind;
	va_start(ap, fmt);
	vsnprintf(check_msg + 1, sizeof(check_msg) - 1, fmt, ap);
	va_end(ap);
	if (write(check_fd, check_msg, strlen(check_msg)) < 0)
		_exit(3);
	_exit(kind == 'S' ? 2 : 1);
}

/* Fail with a message unless cond holds. */
#define CHECK(cond, ...)                                                                    \
	do {                                                                                \
		if (!(cond))                                                                \
			check_report('F', "%s:%d: %s", __FILE__, __LINE__, check_fmt(__VA_ARGS__)); \
	} while (0)
#define SKIP(...) check_report('S', "%s", check_fmt(__VA_ARGS__))

static inline const char *check_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline const char *check_fmt(const char *fmt, ...)
{
	static char buf[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return buf;
}

/* CHECK_TMPDIR("/tmp/name.XXXXXX"): a directory `root` made before the tests
 * run and removed by the parent process at exit, so a failing test (which
 * _exits) leaves nothing behind. */
static inline int check_remove_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(p);
	return 0;
}

#define CHECK_TMPDIR(template)                                                   \
	static char root[] = template;                                           \
	__attribute__((constructor)) static void check_make_root(void)           \
	{                                                                        \
		if (!mkdtemp(root)) {                                            \
			perror("mkdtemp " template);                             \
			exit(3);                                                 \
		}                                                                \
	}                                                                        \
	__attribute__((destructor)) static void check_remove_root(void)          \
	{                                                                        \
		nftw(root, check_remove_entry, 16, FTW_DEPTH | FTW_PHYS);        \
	}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0, skipped = 0;
	unsigned timeout = getenv("CHECK_TIMEOUT_S") ? (unsigned)atoi(getenv("CHECK_TIMEOUT_S")) : 60;

	for (int i = 0; i < check_ntests; i++) {
		int p[2], status = 0;
		char buf[1024] = "";
		ssize_t n;
		pid_t pid;

		if (argc > 1 && !strstr(check_tests[i].name, argv[1]))
			continue;
		if (pipe(p) < 0)
			return 3;
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			close(p[0]);
			check_fd = p[1];
			alarm(timeout);
			check_tests[i].fn();
			_exit(0);
		}
		close(p[1]);
		n = read(p[0], buf, sizeof(buf) - 1);
		close(p[0]);
		waitpid(pid, &status, 0);
		buf[n > 0 ? n : 0] = '\0';
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			printf("PASS %s\n", check_tests[i].name);
			passed++;
		} else if (WIFEXITED(status) && WEXITSTATUS(status) == 2 && buf[0] == 'S') {
			printf("SKIP %s: %s\n", check_tests[i].name, buf + 1);
			skipped++;
		} else {
			if (WIFSIGNALED(status))
				printf("FAIL %s: killed by signal %d (%s)%s\n", check_tests[i].name, WTERMSIG(status),
				       WTERMSIG(status) == SIGALRM ? "timeout" : strsignal(WTERMSIG(status)), buf);
			else
				printf("FAIL %s: %s\n", check_tests[i].name, buf[0] ? buf + 1 : "exited non-zero");
			failed++;
		}
	}
	printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
	return failed ? 1 : 0;
}

#endif
