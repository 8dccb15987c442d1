/* storage: the victim's files (storage.h). */
#define _GNU_SOURCE
#include "storage.h"
#include "pattern.h"
#include "util.h"
#include "workload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define STORAGE_CHUNK (1u << 20)

/* A file matches when its size is right and sampled words hold the pattern. */
static bool storage_file_matches(const char *path, unsigned index, uint64_t size)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool ok = false;

	if (fd < 0)
		return false;
	if (fstat(fd, &st) == 0 && (uint64_t)st.st_size == size) {
		uint64_t offsets[] = { 0, size / 2 & ~7ull, size - 8 };

		ok = true;
		for (size_t i = 0; i < FL_ARRAY_SIZE(offsets) && ok; i++) {
			unsigned char buf[8];

			ok = pread(fd, buf, 8, (off_t)offsets[i]) == 8 && pattern_check(index, offsets[i], buf, 8) == 8;
		}
	}
	close(fd);
	return ok;
}

static int storage_create_file(const char *path, unsigned index, uint64_t size, char *err, size_t errlen)
{
	char tmp[4200];
	unsigned char *buf = malloc(STORAGE_CHUNK);
	int fd = -1, ret = -1;
	uint64_t off = 0, last_report = util_now_ns();

	snprintf(tmp, sizeof(tmp), "%s.tmp-%d", path, (int)getpid());
	if (!buf) {
		snprintf(err, errlen, "storage: allocating %u bytes: %s", STORAGE_CHUNK, strerror(errno));
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "storage: create %s: %s", tmp, strerror(errno));
		goto out;
	}
	while (off < size) {
		size_t n = size - off < STORAGE_CHUNK ? (size_t)(size - off) : STORAGE_CHUNK;

		pattern_fill(index, off, buf, n);
		if (util_write_all(fd, buf, n) < 0) {
			snprintf(err, errlen, "storage: write %s at offset %llu: %s", tmp, (unsigned long long)off,
				 strerror(errno));
			goto out;
		}
		off += n;
		if (util_now_ns() - last_report > 2000000000ull) {
			fprintf(stderr, "faultline: creating %s: %llu of %llu MiB\n", path,
				(unsigned long long)(off >> 20), (unsigned long long)(size >> 20));
			last_report = util_now_ns();
		}
	}
	if (fsync(fd) < 0 || rename(tmp, path) < 0) {
		snprintf(err, errlen, "storage: finishing %s: %s", path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0) {
		close(fd);
		if (ret < 0)
			unlink(tmp);
	}
	free(buf);
	return ret;
}

static int storage_prepare_dir(struct storage *st, const struct config *cfg, char *err, size_t errlen)
{
	unsigned created = 0, reused = 0;
	struct statfs sfs;
	struct stat sb;

	if (util_mkdir_p(cfg->storage.path, 0755) < 0) {
		snprintf(err, errlen, "storage: storage.path: mkdir %s: %s", cfg->storage.path, strerror(errno));
		return -1;
	}
	snprintf(st->files_dir, sizeof(st->files_dir), "%s", cfg->storage.path);
	for (int64_t i = 0; i < cfg->victim.file_count; i++) {
		char path[4200];

		snprintf(path, sizeof(path), "%s/" WORKLOAD_FILE_FORMAT, cfg->storage.path, (unsigned)i);
		if (storage_file_matches(path, (unsigned)i, cfg->victim.file_size_bytes)) {
			reused++;
			continue;
		}
		if (statfs(cfg->storage.path, &sfs) == 0 &&
		    (uint64_t)sfs.f_bavail * (uint64_t)sfs.f_bsize < cfg->victim.file_size_bytes + (64ull << 20)) {
			snprintf(err, errlen,
				 "storage: storage.path %s has %llu MiB free, a file of %llu MiB does not fit "
				 "(use storage.type slowfs for files larger than the disk)",
				 cfg->storage.path, (unsigned long long)((uint64_t)sfs.f_bavail * sfs.f_bsize >> 20),
				 (unsigned long long)(cfg->victim.file_size_bytes >> 20));
			return -1;
		}
		if (storage_create_file(path, (unsigned)i, cfg->victim.file_size_bytes, err, errlen) < 0)
			return -1;
		created++;
	}
	if (stat(cfg->storage.path, &sb) == 0)
		st->dev = sb.st_dev;
	if (statfs(cfg->storage.path, &sfs) == 0)
		snprintf(st->fs_type, sizeof(st->fs_type), "0x%lx", (unsigned long)sfs.f_type);
	json_object_set_new(st->info, "files_created", json_integer(created));
	json_object_set_new(st->info, "files_reused", json_integer(reused));
	return 0;
}

int storage_prepare(struct storage *st, const struct config *cfg, char *err, size_t errlen)
{
	char dev[32];

	memset(st, 0, sizeof(*st));
	st->info = json_object();
	json_object_set_new(st->info, "type", json_string(config_enum_name("storage.type", cfg->storage.type)));
	switch (cfg->storage.type) {
	case STORAGE_DIR:
		if (storage_prepare_dir(st, cfg, err, errlen) < 0)
			return -1;
		break;
	default:
		snprintf(err, errlen, "storage: storage.type %s is not available in this build",
			 config_enum_name("storage.type", cfg->storage.type));
		return -1;
	}
	snprintf(dev, sizeof(dev), "%u:%u", major(st->dev), minor(st->dev));
	json_object_set_new(st->info, "files_dir", json_string(st->files_dir));
	json_object_set_new(st->info, "device", json_string(dev));
	json_object_set_new(st->info, "fs_magic", json_string(st->fs_type));
	json_object_set_new(st->info, "file_count", json_integer(cfg->victim.file_count));
	json_object_set_new(st->info, "file_size_bytes", json_integer((json_int_t)cfg->victim.file_size_bytes));
	return 0;
}

int storage_drop_cache(struct storage *st, const struct config *cfg, uint64_t *resident_bytes, char *err,
		       size_t errlen)
{
	*resident_bytes = 0;
	for (int64_t i = 0; i < cfg->victim.file_count; i++) {
		char path[4200];
		int fd;
		void *map;
		uint64_t size = cfg->victim.file_size_bytes, pages = size / 4096;

		snprintf(path, sizeof(path), "%s/" WORKLOAD_FILE_FORMAT, st->files_dir, (unsigned)i);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			snprintf(err, errlen, "storage: open %s: %s", path, strerror(errno));
			return -1;
		}
		if (posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) != 0) {
			snprintf(err, errlen, "storage: posix_fadvise(DONTNEED) on %s failed", path);
			close(fd);
			return -1;
		}
		/* count what stayed (mapped elsewhere, or dirty) with mincore */
		map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
		if (map != MAP_FAILED) {
			unsigned char vec[4096];

			for (uint64_t p = 0; p < pages; p += sizeof(vec)) {
				uint64_t n = pages - p < sizeof(vec) ? pages - p : sizeof(vec);

				if (mincore((char *)map + p * 4096, n * 4096, vec) < 0)
					break;
				for (uint64_t k = 0; k < n; k++)
					*resident_bytes += (vec[k] & 1) ? 4096 : 0;
			}
			munmap(map, size);
		}
		close(fd);
	}
	return 0;
}

void storage_teardown(struct storage *st)
{
	json_decref(st->info);
	st->info = NULL;
}
