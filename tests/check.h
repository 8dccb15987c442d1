/* check: the unit-test harness.  Each test is a function registered with
 * TEST(name); main runs each in a forked child with a timeout (a crash or a
 * hang fails that test only) and prints one line per test:
 *     PASS name | FAIL name: reason | SKIP name: reason
 * and finally "N passed, N failed, N skipped".  Exit 1 if any failed.
 *
 * Checks: CHECK(cond, fmt, ...) fails with the message unless cond holds.
 * The typed checks print both sides on failure, each evaluated once, and
 * take an optional context (printf format and arguments):
 *     CHECK_EQ(a, b[, fmt, ...])         integers, compared by value whatever
 *                                        their signedness (-1 != UINT64_MAX);
 *                                        a double or a pointer does not compile
 *     CHECK_NEAR(a, b, tol[, fmt, ...])  doubles, |a - b| <= tol (tol 0: exact;
 *                                        NaN never passes)
 *     CHECK_STR(a, b[, fmt, ...])        strings, NULL-safe (NULL == NULL only)
 * e.g. "tests/test_hist.c:109: a->count == b->count failed: 5 != 6 (merge)". */
#ifndef FL_CHECK_H
#define FL_CHECK_H

#define _GNU_SOURCE
#include <errno.h>
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

/* 1 for a signed integer type, 0 for an unsigned one; anything else (a
 * double, a pointer, a struct) has no association and does not compile. */
#define CHECK_INT_SIGNED(x)                                                                    \
	_Generic((x), char: (char)-1 < 0, signed char: 1, short: 1, int: 1, long: 1, long long: 1, \
		 _Bool: 0, unsigned char: 0, unsigned short: 0, unsigned int: 0, unsigned long: 0,  \
		 unsigned long long: 0)

/* The context of a typed check: "" without one, else " (context)".  The
 * leading space keeps the printf format non-empty (-Wformat-zero-length). */
#define CHECK_CTX(...) check_ctx(check_fmt(" " __VA_ARGS__))

static inline const char *check_ctx(const char *s)
{
	static char buf[900];

	if (!s[1])
		return "";
	snprintf(buf, sizeof(buf), " (%s)", s + 1);
	return buf;
}

/* Integers as (signedness, bits): equal when their values are. */
static inline int check_int_eq(int sa, unsigned long long a, int sb, unsigned long long b)
{
	if (sa && (long long)a < 0)
		return sb && (long long)b == (long long)a;
	if (sb && (long long)b < 0)
		return 0;
	return a == b;
}

static inline const char *check_int_str(char *buf, size_t len, int sgn, unsigned long long v)
{
	if (sgn)
		snprintf(buf, len, "%lld", (long long)v);
	else
		snprintf(buf, len, "%llu", v);
	return buf;
}

#define CHECK_EQ(a, b, ...)                                                                         \
	do {                                                                                        \
		__auto_type check_a_ = (a);                                                         \
		__auto_type check_b_ = (b);                                                         \
		int check_sa_ = CHECK_INT_SIGNED(check_a_), check_sb_ = CHECK_INT_SIGNED(check_b_);  \
		char check_va_[32], check_vb_[32];                                                  \
		if (!check_int_eq(check_sa_, (unsigned long long)check_a_, check_sb_,               \
				  (unsigned long long)check_b_))                                    \
			check_report('F', "%s:%d: %s == %s failed: %s != %s%s", __FILE__, __LINE__, #a, #b, \
				     check_int_str(check_va_, sizeof(check_va_), check_sa_,         \
						   (unsigned long long)check_a_),                   \
				     check_int_str(check_vb_, sizeof(check_vb_), check_sb_,         \
						   (unsigned long long)check_b_),                   \
				     CHECK_CTX(__VA_ARGS__));                                       \
	} while (0)

#define CHECK_NEAR(a, b, tol, ...)                                                                  \
	do {                                                                                        \
		double check_a_ = (a), check_b_ = (b), check_t_ = (tol);                            \
		double check_d_ = check_a_ > check_b_ ? check_a_ - check_b_ : check_b_ - check_a_;  \
		if (!(check_a_ == check_b_ || check_d_ <= check_t_))                                \
			check_report('F', "%s:%d: %s == %s (within %s) failed: %.17g != %.17g, |difference| %.6g > %.6g%s", \
				     __FILE__, __LINE__, #a, #b, #tol, check_a_, check_b_, check_d_, check_t_, \
				     CHECK_CTX(__VA_ARGS__));                                       \
	} while (0)

#define CHECK_STR(a, b, ...)                                                                        \
	do {                                                                                        \
		const char *check_a_ = (a), *check_b_ = (b);                                        \
		if (check_a_ != check_b_ && (!check_a_ || !check_b_ || strcmp(check_a_, check_b_))) \
			check_report('F', "%s:%d: %s == %s failed: %s%s%s != %s%s%s%s", __FILE__, __LINE__, #a, #b, \
				     check_a_ ? "\"" : "", check_a_ ? check_a_ : "NULL", check_a_ ? "\"" : "", \
				     check_b_ ? "\"" : "", check_b_ ? check_b_ : "NULL", check_b_ ? "\"" : "", \
				     CHECK_CTX(__VA_ARGS__));                                       \
	} while (0)

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

/* A recorded file under tests/data/ (from the repository root, else next
 * to the test binary's build directory), opened with mode; fails the test
 * when neither opens. */
static inline FILE *check_open_data(const char *name, const char *mode)
{
	char path[4200], exe[4096] = "";
	FILE *f;

	snprintf(path, sizeof(path), "tests/data/%s", name);
	f = fopen(path, mode);
	if (!f && readlink("/proc/self/exe", exe, sizeof(exe) - 1) > 0) {
		char *slash = strrchr(exe, '/');

		if (slash)
			*slash = 0;
		snprintf(path, sizeof(path), "%s/../tests/data/%s", exe, name);
		f = fopen(path, mode);
	}
	CHECK(f, "open tests/data/%s: %s", name, strerror(errno));
	return f;
}

#endif
