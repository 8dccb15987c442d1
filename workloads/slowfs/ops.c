/* ops: fl-slowfs's FUSE low-level operations (slowfs.h).  The root holds
 * the data files, .stats (account.c) and .control (control.c); data reads
 * go to the service model (service.c). */
#define _GNU_SOURCE
#include "workloads/slowfs/slowfs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

static void ops_stat(struct slowfs *fs, fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_uid = 0;
	st->st_gid = 0;
	st->st_blksize = (blksize_t)fs->page_bytes;
	st->st_atim.tv_sec = st->st_mtim.tv_sec = st->st_ctim.tv_sec = (time_t)fs->mtime_s;
	if (ino == SLOWFS_INO_ROOT) {
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
	} else if (ino == SLOWFS_INO_STATS) {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
	} else if (ino == SLOWFS_INO_CONTROL) {
		st->st_mode = S_IFREG | 0644;
		st->st_nlink = 1;
	} else {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = (off_t)fs->cfg.size_bytes;
		st->st_blocks = (blkcnt_t)((fs->cfg.size_bytes + 511) / 512);
	}
}

static bool ops_ino_valid(struct slowfs *fs, fuse_ino_t ino)
{
	return ino >= SLOWFS_INO_ROOT && ino < SLOWFS_INO_DATA0 + fs->cfg.files;
}

/* "data-" followed by exactly six digits naming an existing file. */
static fuse_ino_t ops_lookup_name(struct slowfs *fs, const char *name)
{
	uint64_t index = 0;

	if (!strcmp(name, ".stats"))
		return SLOWFS_INO_STATS;
	if (!strcmp(name, ".control"))
		return SLOWFS_INO_CONTROL;
	if (strncmp(name, "data-", 5) != 0 || strlen(name) != 11)
		return 0;
	for (int i = 5; i < 11; i++) {
		if (name[i] < '0' || name[i] > '9')
			return 0;
		index = index * 10 + (uint64_t)(name[i] - '0');
	}
	return index < fs->cfg.files ? SLOWFS_INO_DATA0 + index : 0;
}

static void ops_handle_free(struct slowfs_handle *h)
{
	if (h) {
		free(h->text);
		free(h);
	}
}

static void ops_init(void *userdata, struct fuse_conn_info *conn)
{
	struct slowfs *fs = userdata;
	uint64_t bg = fs->inflight_capacity > 65535 ? 65535 : fs->inflight_capacity;

	conn->max_read = (unsigned)fs->cfg.max_request_bytes;
	/* let readahead (background requests) reach the daemon's own queue */
	conn->max_background = (unsigned)bg;
	conn->congestion_threshold = (unsigned)(bg * 3 / 4);
	/* the files never change: never drop their page cache on our behalf */
	conn->want &= ~(unsigned)FUSE_CAP_AUTO_INVAL_DATA;
	/* O_DIRECT reads as plain synchronous requests: with async DIO the
	 * reader waits uninterruptibly, and a killed reader would sit out its
	 * whole queueing and latency; without it the kernel sends INTERRUPT and
	 * the daemon answers at once (service.c: service_abandoned) */
	conn->want &= ~(unsigned)FUSE_CAP_ASYNC_DIO;

	if (fs->cfg.ready_fd != UINT64_MAX && !atomic_exchange(&fs->ready_sent, 1)) {
		int fd = (int)fs->cfg.ready_fd;

		if (write(fd, "1", 1) != 1)
			fprintf(stderr, SLOWFS_NAME ": writing ready byte to fd %d: %s\n", fd,
				strerror(errno));
		close(fd);
	}
	fprintf(stderr,
		SLOWFS_NAME ": mounted %s: %" PRIu64 " files of %" PRIu64 " bytes, max_read %" PRIu64
		", max_background %" PRIu64 "\n",
		fs->cfg.mountpoint, fs->cfg.files, fs->cfg.size_bytes, fs->cfg.max_request_bytes, bg);
}

static void ops_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct slowfs *fs = fuse_req_userdata(req);
	struct fuse_entry_param e;
	fuse_ino_t ino;

	if (parent != SLOWFS_INO_ROOT) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	ino = ops_lookup_name(fs, name);
	if (!ino) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.ino = ino;
	e.generation = 1;
	e.attr_timeout = SLOWFS_TIMEOUT_S;
	e.entry_timeout = SLOWFS_TIMEOUT_S;
	ops_stat(fs, ino, &e.attr);
	fuse_reply_entry(req, &e);
}

static void ops_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct slowfs *fs = fuse_req_userdata(req);
	struct stat st;

	(void)fi;
	if (!ops_ino_valid(fs, ino)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	ops_stat(fs, ino, &st);
	fuse_reply_attr(req, &st, SLOWFS_TIMEOUT_S);
}

static void ops_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
			struct fuse_file_info *fi)
{
	struct slowfs *fs = fuse_req_userdata(req);
	struct stat st;

	(void)attr;
	(void)fi;
	/* only "truncating" .control (echo x > .control without atomic
	 * O_TRUNC) and touching its times are accepted, and ignored */
	if (ino != SLOWFS_INO_CONTROL ||
	    (to_set & ~(FUSE_SET_ATTR_SIZE | FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
			FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW | FUSE_SET_ATTR_CTIME))) {
		fuse_reply_err(req, EPERM);
		return;
	}
	ops_stat(fs, ino, &st);
	fuse_reply_attr(req, &st, SLOWFS_TIMEOUT_S);
}

/* Directory entry i: ".", "..", .stats, .control, then data file i - 4
 * with inode i. */
static void ops_dirent(uint64_t i, char *name, size_t len, struct stat *st)
{
	static const char *const special[] = { ".", "..", ".stats", ".control" };
	static const fuse_ino_t special_ino[] = { SLOWFS_INO_ROOT, SLOWFS_INO_ROOT, SLOWFS_INO_STATS,
						  SLOWFS_INO_CONTROL };

	memset(st, 0, sizeof(*st));
	if (i < SLOWFS_INO_DATA0) {
		snprintf(name, len, "%s", special[i]);
		st->st_ino = special_ino[i];
		st->st_mode = i < 2 ? S_IFDIR : S_IFREG;
	} else {
		snprintf(name, len, "data-%06" PRIu64, i - SLOWFS_INO_DATA0);
		st->st_ino = (ino_t)i;
		st->st_mode = S_IFREG;
	}
}

static void ops_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			struct fuse_file_info *fi)
{
	struct slowfs *fs = fuse_req_userdata(req);
	uint64_t total = SLOWFS_INO_DATA0 + fs->cfg.files; /* ".", "..", 2 specials, files */
	char *buf = NULL;
	size_t pos = 0;

	(void)fi;
	if (ino != SLOWFS_INO_ROOT) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	if (size > 65536)
		size = 65536;
	buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (uint64_t i = off < 0 ? 0 : (uint64_t)off; i < total; i++) {
		struct stat st;
		char name[32];
		size_t need;

		ops_dirent(i, name, sizeof(name), &st);
		need = fuse_add_direntry(req, buf + pos, size - pos, name, &st, (off_t)(i + 1));
		if (need > size - pos)
			break;
		pos += need;
	}
	fuse_reply_buf(req, buf, pos);
	free(buf);
}

static void ops_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct slowfs *fs = fuse_req_userdata(req);
	int acc = fi->flags & O_ACCMODE;
	struct slowfs_handle *h = NULL;

	if (!ops_ino_valid(fs, ino) || ino == SLOWFS_INO_ROOT) {
		fuse_reply_err(req, ino == SLOWFS_INO_ROOT ? EISDIR : ENOENT);
		return;
	}
	if (ino != SLOWFS_INO_CONTROL && acc != O_RDONLY) {
		fuse_reply_err(req, EACCES);
		return;
	}
	if (ino == SLOWFS_INO_STATS || ino == SLOWFS_INO_CONTROL) {
		/* served as fixed text from open; never cached */
		fi->direct_io = 1;
		h = calloc(1, sizeof(*h));
		if (h && acc != O_WRONLY) {
			h->text = ino == SLOWFS_INO_STATS ? account_stats_text(fs) : control_text(fs);
			h->len = h->text ? strlen(h->text) : 0;
		}
		if (!h || (acc != O_WRONLY && !h->text)) {
			fprintf(stderr, SLOWFS_NAME ": open: building %s text: %s\n",
				ino == SLOWFS_INO_STATS ? ".stats" : ".control", strerror(ENOMEM));
			free(h);
			fuse_reply_err(req, ENOMEM);
			return;
		}
		fi->fh = (uint64_t)(uintptr_t)h;
	} else {
		fi->keep_cache = 1;
		fi->noflush = 1; /* no FLUSH round trip on close */
	}
	if (fuse_reply_open(req, fi) != 0)
		ops_handle_free(h); /* the opener is gone; release will not come */
}

static void ops_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct slowfs *fs = fuse_req_userdata(req);

	if (ino >= SLOWFS_INO_DATA0) {
		service_read(req, fs, ino - SLOWFS_INO_DATA0, size, off);
		return;
	}
	if (ino == SLOWFS_INO_STATS || ino == SLOWFS_INO_CONTROL) {
		struct slowfs_handle *h = (struct slowfs_handle *)(uintptr_t)fi->fh;
		size_t n = 0;

		if (!h || !h->text) {
			fuse_reply_err(req, EBADF);
			return;
		}
		if (off >= 0 && (uint64_t)off < h->len)
			n = h->len - (size_t)off < size ? h->len - (size_t)off : size;
		fuse_reply_buf(req, n ? h->text + off : NULL, n);
		return;
	}
	fuse_reply_err(req, EISDIR);
}

static void ops_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		      struct fuse_file_info *fi)
{
	struct slowfs *fs = fuse_req_userdata(req);
	int err;

	(void)off;
	if (ino != SLOWFS_INO_CONTROL || !fi->fh) {
		fuse_reply_err(req, EBADF);
		return;
	}
	err = control_write(fs, (struct slowfs_handle *)(uintptr_t)fi->fh, buf, size);
	if (err)
		fuse_reply_err(req, -err);
	else
		fuse_reply_write(req, size);
}

static void ops_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct slowfs *fs = fuse_req_userdata(req);

	if (ino == SLOWFS_INO_CONTROL && fi->fh)
		fuse_reply_err(req, -control_flush(fs, (struct slowfs_handle *)(uintptr_t)fi->fh));
	else
		fuse_reply_err(req, 0);
}

static void ops_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	ops_handle_free((struct slowfs_handle *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

static void ops_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct slowfs *fs = fuse_req_userdata(req);
	struct statvfs sv;

	(void)ino;
	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = fs->page_bytes;
	sv.f_frsize = fs->page_bytes;
	sv.f_blocks = (fsblkcnt_t)(fs->cfg.files * fs->pages_per_file);
	sv.f_files = (fsfilcnt_t)(fs->cfg.files + 3);
	sv.f_namemax = 255;
	fuse_reply_statfs(req, &sv);
}

const struct fuse_lowlevel_ops ops_lowlevel = {
	.init = ops_init,
	.lookup = ops_lookup,
	.getattr = ops_getattr,
	.setattr = ops_setattr,
	.readdir = ops_readdir,
	.open = ops_open,
	.read = ops_read,
	.write = ops_write,
	.flush = ops_flush,
	.release = ops_release,
	.statfs = ops_statfs,
};
