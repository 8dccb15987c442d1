/* slowfs_reader: the reading side of tests/test_slowfs.sh.
 *
 * Built by `make` as $(BUILD)/slowfs_reader; by hand:
 *   gcc -std=gnu11 -O2 -Wall -Wextra -Werror -I. tests/slowfs_reader.c \
 *       lib/pattern.c -o tests/slowfs_reader -lm
 *
 * Commands (FILE is a slowfs data file, INDEX its file index; every byte read
 * is checked with pattern_check):
 *   verify FILE INDEX COUNT SEED
 *       COUNT preads of 1..8192 bytes at random offsets, the last bytes of the
 *       file and a read at EOF, then 8 random pages through mmap (MAP_SHARED
 *       and MAP_PRIVATE alternately; pages of the machine's page size).
 *       Prints "preads=N mmap_pages=M".
 *   latency FILE INDEX COUNT SEED
 *       COUNT O_DIRECT preads of 4096 bytes at distinct random multiples of
 *       4096 (O_DIRECT: each pread is exactly one FUSE READ of 4096 bytes, no
 *       page cache, no readahead), each timed with CLOCK_MONOTONIC.  Prints
 *       "count= min_ns= p50_ns= p90_ns= p99_ns= max_ns= mean_ns=".
 *   seqread FILE INDEX OFFSET BYTES
 *       buffered sequential read of BYTES from OFFSET in 1 MiB preads (the
 *       kernel's readahead makes the FUSE requests).  Prints "bytes= ns=
 *       bytes_per_s=".
 *   ops FILE INDEX OP...
 *       OP is d:OFFSET:LEN (one O_DIRECT pread) or b:OFFSET:LEN (buffered
 *       pread after POSIX_FADV_RANDOM, then POSIX_FADV_DONTNEED of the
 *       range so that a repeat reaches the daemon again).  Prints "ops=N
 *       bytes=B", B the total returned.
 * Exit status 0 on success, 1 on a mismatch or error (with a message).
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/pattern.h"

#define READER_IO 4096u /* latency: bytes per O_DIRECT pread */
#define READER_MAX_IO (4u << 20)

static size_t reader_page; /* sysconf(_SC_PAGESIZE): mmap, buffer alignment */

static uint64_t reader_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int reader_u64(const char *what, const char *text, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(text, &end, 0);
	if (errno || end == text || *end) {
		fprintf(stderr, "slowfs_reader: %s '%s': not an integer\n", what, text);
		return -1;
	}
	return 0;
}

static int reader_check(const char *path, uint64_t index, uint64_t off, const void *buf,
			size_t len, const char *how)
{
	size_t bad = pattern_check(index, off, buf, len);

	if (bad == len)
		return 0;
	fprintf(stderr, "slowfs_reader: %s %s: content mismatch at offset %" PRIu64
		" (read of %zu bytes at %" PRIu64 ")\n", how, path, off + bad, len, off);
	return -1;
}

/* pread exactly len bytes (or up to EOF); returns bytes read or -1. */
static ssize_t reader_pread(const char *path, int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "slowfs_reader: pread %s %zu bytes at %" PRIu64 ": %s\n", path,
				len - done, off + done, strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static int reader_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int reader_verify(const char *path, uint64_t index, uint64_t count, uint64_t seed)
{
	struct pattern_rng rng;
	unsigned char *buf = malloc(8192);
	struct stat st;
	uint64_t size, preads = 0, mmaps = 0;
	int fd = -1, ret = 1;
	ssize_t n;

	pattern_rng_seed(&rng, seed, 1);
	fd = open(path, O_RDONLY);
	if (fd < 0 || !buf) {
		fprintf(stderr, "slowfs_reader: open %s: %s\n", path, strerror(errno));
		goto exit;
	}
	if (fstat(fd, &st) < 0) {
		fprintf(stderr, "slowfs_reader: fstat %s: %s\n", path, strerror(errno));
		goto exit;
	}
	size = (uint64_t)st.st_size;
	if (size == 0) {
		fprintf(stderr, "slowfs_reader: %s is empty\n", path);
		goto exit;
	}
	for (uint64_t i = 0; i < count; i++) {
		uint64_t off = pattern_rng_below(&rng, size);
		size_t len = 1 + (size_t)pattern_rng_below(&rng, 8192);

		if (len > size - off)
			len = (size_t)(size - off);
		n = reader_pread(path, fd, buf, len, off);
		if (n != (ssize_t)len) {
			if (n >= 0)
				fprintf(stderr, "slowfs_reader: pread %s at %" PRIu64 ": %zd of %zu bytes\n",
					path, off, n, len);
			goto exit;
		}
		if (reader_check(path, index, off, buf, len, "pread") < 0)
			goto exit;
		preads++;
	}
	/* the tail, and EOF */
	{
		uint64_t off = size > 100 ? size - 100 : 0;

		n = reader_pread(path, fd, buf, 4096, off);
		if (n != (ssize_t)(size - off)) {
			fprintf(stderr, "slowfs_reader: pread %s at %" PRIu64 " (tail): %zd bytes, "
				"expected %" PRIu64 "\n", path, off, n, size - off);
			goto exit;
		}
		if (reader_check(path, index, off, buf, (size_t)n, "pread") < 0)
			goto exit;
		n = pread(fd, buf, 16, (off_t)size);
		if (n != 0) {
			fprintf(stderr, "slowfs_reader: pread %s at EOF returned %zd, expected 0\n", path, n);
			goto exit;
		}
		preads += 2;
	}
	for (int i = 0; i < 8; i++) {
		uint64_t pages = (size + reader_page - 1) / reader_page;
		uint64_t page = pattern_rng_below(&rng, pages);
		uint64_t off = page * reader_page;
		size_t len = size - off < reader_page ? (size_t)(size - off) : reader_page;
		int flags = i % 2 ? MAP_PRIVATE : MAP_SHARED;
		void *map = mmap(NULL, reader_page, PROT_READ, flags, fd, (off_t)off);

		if (map == MAP_FAILED) {
			fprintf(stderr, "slowfs_reader: mmap %s %s page at %" PRIu64 ": %s\n", path,
				flags == MAP_SHARED ? "MAP_SHARED" : "MAP_PRIVATE", off, strerror(errno));
			goto exit;
		}
		if (reader_check(path, index, off, map, len,
				 flags == MAP_SHARED ? "mmap(MAP_SHARED)" : "mmap(MAP_PRIVATE)") < 0) {
			munmap(map, reader_page);
			goto exit;
		}
		munmap(map, reader_page);
		mmaps++;
	}
	printf("preads=%" PRIu64 " mmap_pages=%" PRIu64 "\n", preads, mmaps);
	ret = 0;
exit:
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}

static int reader_latency(const char *path, uint64_t index, uint64_t count, uint64_t seed)
{
	struct pattern_perm perm;
	uint64_t *lat = calloc(count ? count : 1, sizeof(*lat));
	void *buf = NULL;
	struct stat st;
	uint64_t pages, sum = 0;
	int fd = -1, ret = 1;

	if (!lat || posix_memalign(&buf, reader_page, READER_IO) != 0) {
		fprintf(stderr, "slowfs_reader: allocating %" PRIu64 " samples: %s\n", count,
			strerror(ENOMEM));
		goto exit;
	}
	fd = open(path, O_RDONLY | O_DIRECT);
	if (fd < 0) {
		fprintf(stderr, "slowfs_reader: open %s O_DIRECT: %s\n", path, strerror(errno));
		goto exit;
	}
	if (fstat(fd, &st) < 0) {
		fprintf(stderr, "slowfs_reader: fstat %s: %s\n", path, strerror(errno));
		goto exit;
	}
	pages = (uint64_t)st.st_size / READER_IO;
	if (count == 0 || pages < count) {
		fprintf(stderr, "slowfs_reader: %s: %" PRIu64 " whole 4 KiB units, %" PRIu64 " wanted\n",
			path, pages, count);
		goto exit;
	}
	pattern_perm_init(&perm, pages, seed);
	for (uint64_t i = 0; i < count; i++) {
		uint64_t off = pattern_perm_at(&perm, i) * READER_IO;
		uint64_t t0 = reader_now_ns();
		ssize_t n = pread(fd, buf, READER_IO, (off_t)off);

		lat[i] = reader_now_ns() - t0;
		if (n != READER_IO) {
			fprintf(stderr, "slowfs_reader: pread O_DIRECT %s %u at %" PRIu64 ": %zd: %s\n",
				path, READER_IO, off, n, n < 0 ? strerror(errno) : "short");
			goto exit;
		}
		if (reader_check(path, index, off, buf, READER_IO, "pread(O_DIRECT)") < 0)
			goto exit;
		sum += lat[i];
	}
	qsort(lat, count, sizeof(*lat), reader_cmp_u64);
	/* nearest rank */
#define READER_PCT(p) lat[((count * (p) + 99) / 100 ? (count * (p) + 99) / 100 : 1) - 1]
	printf("count=%" PRIu64 " min_ns=%" PRIu64 " p50_ns=%" PRIu64 " p90_ns=%" PRIu64
	       " p99_ns=%" PRIu64 " max_ns=%" PRIu64 " mean_ns=%" PRIu64 "\n",
	       count, lat[0], READER_PCT(50), READER_PCT(90), READER_PCT(99), lat[count - 1],
	       sum / count);
#undef READER_PCT
	ret = 0;
exit:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(lat);
	return ret;
}

static int reader_seqread(const char *path, uint64_t index, uint64_t off, uint64_t bytes)
{
	const size_t chunk = 1u << 20;
	char *buf = malloc(chunk);
	uint64_t done = 0, t0, ns;
	int fd = -1, ret = 1;

	fd = open(path, O_RDONLY);
	if (fd < 0 || !buf) {
		fprintf(stderr, "slowfs_reader: open %s: %s\n", path, strerror(errno));
		goto exit;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	t0 = reader_now_ns();
	while (done < bytes) {
		size_t len = bytes - done < chunk ? (size_t)(bytes - done) : chunk;
		ssize_t n = reader_pread(path, fd, buf, len, off + done);

		if (n <= 0) {
			if (n == 0)
				fprintf(stderr, "slowfs_reader: %s: EOF at %" PRIu64 "\n", path, off + done);
			goto exit;
		}
		if (reader_check(path, index, off + done, buf, (size_t)n, "pread") < 0)
			goto exit;
		done += (uint64_t)n;
	}
	ns = reader_now_ns() - t0;
	printf("bytes=%" PRIu64 " ns=%" PRIu64 " bytes_per_s=%.0f\n", done, ns,
	       (double)done * 1e9 / (double)ns);
	ret = 0;
exit:
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}

static int reader_ops(const char *path, uint64_t index, int nops, char **ops)
{
	void *buf = NULL;
	uint64_t total = 0;
	int fd_direct = -1, fd_buffered = -1, ret = 1;

	if (posix_memalign(&buf, reader_page, READER_MAX_IO) != 0) {
		fprintf(stderr, "slowfs_reader: allocating %u bytes: %s\n", READER_MAX_IO,
			strerror(ENOMEM));
		buf = NULL;
		goto exit;
	}
	fd_direct = open(path, O_RDONLY | O_DIRECT);
	fd_buffered = open(path, O_RDONLY);
	if (fd_direct < 0 || fd_buffered < 0) {
		fprintf(stderr, "slowfs_reader: open %s: %s\n", path, strerror(errno));
		goto exit;
	}
	if ((errno = posix_fadvise(fd_buffered, 0, 0, POSIX_FADV_RANDOM)) != 0) {
		fprintf(stderr, "slowfs_reader: posix_fadvise %s RANDOM: %s\n", path, strerror(errno));
		goto exit;
	}
	for (int i = 0; i < nops; i++) {
		char kind, *p = ops[i], *colon;
		uint64_t off, len;
		ssize_t n;
		int fd;

		kind = p[0];
		colon = strchr(p + 2, ':');
		if ((kind != 'd' && kind != 'b') || p[1] != ':' || !colon) {
			fprintf(stderr, "slowfs_reader: op '%s': expected d:OFFSET:LEN or b:OFFSET:LEN\n", p);
			goto exit;
		}
		*colon = '\0';
		if (reader_u64("offset", p + 2, &off) < 0 || reader_u64("length", colon + 1, &len) < 0)
			goto exit;
		if (len > READER_MAX_IO) {
			fprintf(stderr, "slowfs_reader: op %d: length %" PRIu64 " over %u\n", i, len,
				READER_MAX_IO);
			goto exit;
		}
		fd = kind == 'd' ? fd_direct : fd_buffered;
		n = reader_pread(path, fd, buf, (size_t)len, off);
		if (n < 0)
			goto exit;
		if (reader_check(path, index, off, buf, (size_t)n, kind == 'd' ? "pread(O_DIRECT)" : "pread") < 0)
			goto exit;
		if (kind == 'b' && (errno = posix_fadvise(fd, (off_t)off, (off_t)len,
							  POSIX_FADV_DONTNEED)) != 0) {
			fprintf(stderr, "slowfs_reader: posix_fadvise %s DONTNEED: %s\n", path,
				strerror(errno));
			goto exit;
		}
		total += (uint64_t)n;
	}
	printf("ops=%d bytes=%" PRIu64 "\n", nops, total);
	ret = 0;
exit:
	if (fd_direct >= 0)
		close(fd_direct);
	if (fd_buffered >= 0)
		close(fd_buffered);
	free(buf);
	return ret;
}

int main(int argc, char **argv)
{
	uint64_t index, a = 0, b = 0;
	long page = sysconf(_SC_PAGESIZE);

	if (page <= 0) {
		fprintf(stderr, "slowfs_reader: sysconf(_SC_PAGESIZE): %s\n", strerror(errno));
		return 1;
	}
	reader_page = (size_t)page;
	if (argc < 4) {
		fprintf(stderr, "usage: slowfs_reader verify|latency|seqread|ops FILE INDEX ...\n"
				"(see the comment at the top of tests/slowfs_reader.c)\n");
		return 1;
	}
	if (reader_u64("index", argv[3], &index) < 0)
		return 1;
	if (!strcmp(argv[1], "ops"))
		return reader_ops(argv[2], index, argc - 4, argv + 4);
	if (argc != 6 || reader_u64("argument", argv[4], &a) < 0 ||
	    reader_u64("argument", argv[5], &b) < 0) {
		fprintf(stderr, "slowfs_reader: %s takes FILE INDEX and two numbers\n", argv[1]);
		return 1;
	}
	if (!strcmp(argv[1], "verify"))
		return reader_verify(argv[2], index, a, b);
	if (!strcmp(argv[1], "latency"))
		return reader_latency(argv[2], index, a, b);
	if (!strcmp(argv[1], "seqread"))
		return reader_seqread(argv[2], index, a, b);
	fprintf(stderr, "slowfs_reader: unknown command '%s'\n", argv[1]);
	return 1;
}
