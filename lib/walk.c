/*
 * Walking a container's root filesystem. Every name is resolved relative
 * to an open directory fd with AT_SYMLINK_NOFOLLOW / O_NOFOLLOW, so a
 * symlink planted in the container can never lead the walk outside it;
 * only regular files and directories are ever opened, with O_NONBLOCK, so
 * a FIFO or device cannot block or be triggered.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "digest.h"
#include "tree.h"

#define MAX_DEPTH 256 /* each level holds one fd open */
#define READ_CHUNK (1024 * 1024)

struct walk {
	struct dd_ctx *ctx;
	struct dd_tree *t;
	const char *root;
	dev_t root_dev;
	bool cross_mounts;
	bool upper;              /* overlay upper dir: whiteouts and opaque dirs */
	uint32_t head_bytes;
	struct dd__hasher *h;
	unsigned char *buf;
	struct dd__buf path;     /* absolute path of the current entry inside the root */
	struct dd__buf tmp;
	struct dd__buf content;  /* a kept file's content while it is read */
};

static bool skip_xattr(const char *name)
{
	/* Overlay's own bookkeeping is not the container's data. */
	return !strncmp(name, "trusted.overlay.", 16) || !strncmp(name, "user.overlay.", 13);
}

/*
 * Read the xattrs of an open fd, or, for a symlink or special file, of
 * NAME in the directory DIRFD through /proc/self/fd (the l* calls do not
 * follow the final symlink).
 */
static int read_xattrs(struct walk *w, struct dd__node *n, int fd, int dirfd, const char *name)
{
	char proc[64], *list = NULL, *p;
	ssize_t len, vlen;
	size_t count = 0, k = 0;
	struct dd_xattr *xs;
	struct dd__buf pathbuf = DD__BUF_INIT;
	int rc = 0;

	if (fd < 0) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d/", dirfd);
		if (dd__buf_puts(&pathbuf, proc) || dd__buf_puts(&pathbuf, name))
			return DD_ENOMEM;
	}
	len = fd >= 0 ? flistxattr(fd, NULL, 0) : llistxattr(pathbuf.data, NULL, 0);
	if (len <= 0)
		goto out; /* none, or not supported here: not an error */
	list = malloc((size_t)len + 1);
	if (!list) {
		rc = DD_ENOMEM;
		goto out;
	}
	len = fd >= 0 ? flistxattr(fd, list, (size_t)len) : llistxattr(pathbuf.data, list, (size_t)len);
	if (len <= 0)
		goto out;
	list[len] = '\0';
	for (p = list; p < list + len; p += strlen(p) + 1)
		count++;
	xs = dd__arena_alloc(&w->t->arena, count * sizeof(*xs));
	if (!xs) {
		rc = DD_ENOMEM;
		goto out;
	}
	for (p = list; p < list + len; p += strlen(p) + 1) {
		unsigned char *v;

		if (!*p || (skip_xattr(p) && !w->upper))
			continue;
		vlen = fd >= 0 ? fgetxattr(fd, p, NULL, 0) : lgetxattr(pathbuf.data, p, NULL, 0);
		if (vlen < 0 || (uint64_t)vlen > w->ctx->limits.max_xattr)
			continue;
		v = dd__arena_alloc(&w->t->arena, (size_t)vlen + 1);
		if (!v) {
			rc = DD_ENOMEM;
			goto out;
		}
		vlen = fd >= 0 ? fgetxattr(fd, p, v, (size_t)vlen) : lgetxattr(pathbuf.data, p, v, (size_t)vlen);
		if (vlen < 0)
			continue;
		xs[k].name = dd__arena_strndup(&w->t->arena, p, strlen(p));
		xs[k].value = v;
		xs[k].len = (size_t)vlen;
		if (!xs[k].name) {
			rc = DD_ENOMEM;
			goto out;
		}
		k++;
	}
	/* listxattr order is the filesystem's; entries are compared sorted. */
	for (size_t i = 1; i < k; i++) {
		struct dd_xattr x = xs[i];
		size_t j = i;

		while (j > 0 && strcmp(xs[j - 1].name, x.name) > 0) {
			xs[j] = xs[j - 1];
			j--;
		}
		xs[j] = x;
	}
	n->e.xattrs = xs;
	n->e.nxattrs = (uint32_t)k;
out:
	free(list);
	dd__buf_free(&pathbuf);
	return rc;
}

static void set_attrs(struct dd__node *n, const struct stat *st)
{
	n->e.mode = st->st_mode & 07777;
	if (S_ISREG(st->st_mode))
		n->e.size = (uint64_t)st->st_size; /* replaced by the bytes read, when read */
	n->e.uid = st->st_uid;
	n->e.gid = st->st_gid;
	n->e.mtime = st->st_mtim.tv_sec;
	n->e.mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
	/* Inode numbers are only unique per filesystem. */
	n->e.ino = ((uint64_t)st->st_dev << 40) ^ (uint64_t)st->st_ino;
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
		n->e.rdev_major = major(st->st_rdev);
		n->e.rdev_minor = minor(st->st_rdev);
	}
}

static enum dd_type type_of(mode_t m)
{
	if (S_ISREG(m)) return DD_TYPE_FILE;
	if (S_ISDIR(m)) return DD_TYPE_DIR;
	if (S_ISLNK(m)) return DD_TYPE_SYMLINK;
	if (S_ISCHR(m)) return DD_TYPE_CHAR;
	if (S_ISBLK(m)) return DD_TYPE_BLOCK;
	if (S_ISFIFO(m)) return DD_TYPE_FIFO;
	return DD_TYPE_SOCKET;
}

static bool same_version(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Hash a regular file. Failures make the entry unreadable, not the walk fail. */
static int read_file(struct walk *w, struct dd__node *n, int dirfd, const char *name,
		     const struct stat *pre)
{
	struct dd__digest d;
	struct stat st, post;
	uint64_t total = 0;
	ssize_t got;
	bool keep;
	int fd, rc = 0;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOATIME);
	if (fd < 0 && errno == EPERM) /* O_NOATIME needs ownership */
		fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		n->e.flags |= DD_ENTRY_UNREADABLE;
		dd__tree_warn(w->t, "%s: cannot open: %s", w->path.data, strerror(errno));
		return 0;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_ino != pre->st_ino ||
	    st.st_dev != pre->st_dev) {
		/* Swapped between lstat and open: the container is racing us. */
		n->e.flags |= DD_ENTRY_CHANGED | DD_ENTRY_UNREADABLE;
		goto out;
	}
	keep = (uint64_t)st.st_size <= DD__CONTENT_MAX &&
	       dd_entry_content_kept(w->path.data, w->path.len);
	w->content.len = 0;
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (dd__hasher_reset(w->h)) {
		rc = DD_ENOMEM;
		goto out;
	}
	for (;;) {
		got = read(fd, w->buf, READ_CHUNK);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			n->e.flags |= DD_ENTRY_UNREADABLE;
			dd__tree_warn(w->t, "%s: read error: %s", w->path.data, strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		if (total == 0) {
			dd__exec_sniff(w->buf, (size_t)got, &n->e.exec, &n->e.elf_machine);
			if (w->head_bytes) {
				size_t k = (size_t)got < w->head_bytes ? (size_t)got : w->head_bytes;

				n->e.head = (const unsigned char *)dd__arena_strndup(&w->t->arena,
						(const char *)w->buf, k);
				n->e.head_len = n->e.head ? (uint32_t)k : 0;
			}
		}
		if (dd__hasher_update(w->h, w->buf, (size_t)got) ||
		    (keep && dd__buf_put(&w->content, w->buf, (size_t)got))) {
			rc = DD_ENOMEM;
			goto out;
		}
		total += (uint64_t)got;
		if (total > DD__CONTENT_MAX)
			keep = false;
	}
	if (dd__hasher_final(w->h, &d)) {
		rc = DD_ENOMEM;
		goto out;
	}
	memcpy(n->e.sha256, d.bin, 32);
	n->e.has_sha256 = true;
	n->e.size = total;
	if (keep) {
		n->e.content = (const unsigned char *)dd__arena_strndup(&w->t->arena,
				w->content.data ? w->content.data : "", w->content.len);
		n->e.content_len = n->e.content ? w->content.len : 0;
	}
	if (fstat(fd, &post) != 0 || !same_version(&st, &post) || total != (uint64_t)st.st_size) {
		n->e.flags |= DD_ENTRY_CHANGED;
		dd__tree_warn(w->t, "%s: changed while it was read", w->path.data);
	}
	rc = read_xattrs(w, n, fd, -1, NULL);
out:
	close(fd);
	return rc;
}

static int read_link(struct walk *w, struct dd__node *n, int dirfd, const char *name,
		     const struct stat *st)
{
	size_t cap = (size_t)st->st_size + 2;
	ssize_t got;

	if (cap < 64)
		cap = 64;
	for (;;) {
		if (cap > w->ctx->limits.max_path + 2) {
			n->e.flags |= DD_ENTRY_UNREADABLE;
			return 0;
		}
		w->tmp.len = 0;
		if (dd__buf_grow(&w->tmp, cap))
			return DD_ENOMEM;
		got = readlinkat(dirfd, name, w->tmp.data, cap);
		if (got < 0) {
			n->e.flags |= DD_ENTRY_UNREADABLE;
			return 0;
		}
		if ((size_t)got < cap)
			break;
		cap *= 2; /* the link grew since lstat */
	}
	n->e.target = dd__arena_strndup(&w->t->arena, w->tmp.data, (size_t)got);
	n->e.target_len = (size_t)got;
	return n->e.target ? 0 : DD_ENOMEM;
}

static int walk_dir(struct walk *w, int dirfd, struct dd__node *dir, unsigned depth);

/* One directory entry NAME in DIRFD; w->path already ends with it. */
static int visit(struct walk *w, int dirfd, const char *name, enum dd_type dtype,
		 struct dd__node *parent, unsigned depth)
{
	struct dd__node *n;
	struct stat st;
	enum dd_type type;
	int rc, fd;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT)
			return 0; /* deleted since readdir */
		/* Record it as unreadable, with the type readdir gave, if any. */
		dd__tree_warn(w->t, "%s: cannot stat: %s", w->path.data, strerror(errno));
		rc = dd__tree_put(w->t, &n, parent, w->path.data, w->path.len,
				  dtype ? dtype : DD_TYPE_FILE, -1);
		if (rc == 0)
			n->e.flags |= DD_ENTRY_UNREADABLE;
		return rc;
	}
	type = type_of(st.st_mode);
	rc = dd__tree_put(w->t, &n, parent, w->path.data, w->path.len, type, -1);
	if (rc)
		return rc;
	set_attrs(n, &st);
	if (w->upper && type == DD_TYPE_CHAR && st.st_rdev == makedev(0, 0))
		n->e.flags |= DD_ENTRY_WHITEOUT;
	switch (type) {
	case DD_TYPE_FILE:
		return read_file(w, n, dirfd, name, &st);
	case DD_TYPE_SYMLINK:
		rc = read_link(w, n, dirfd, name, &st);
		return rc ? rc : read_xattrs(w, n, -1, dirfd, name);
	case DD_TYPE_DIR:
		if (st.st_dev != w->root_dev && !w->cross_mounts) {
			n->e.flags |= DD_ENTRY_MOUNTPOINT;
			dd__tree_warn(w->t, "%s: another filesystem is mounted here; not walked (--cross-mounts)",
				      w->path.data);
			return 0;
		}
		if (depth + 1 >= MAX_DEPTH) {
			n->e.flags |= DD_ENTRY_UNREADABLE;
			dd__tree_warn(w->t, "%s: deeper than %d levels; not walked", w->path.data, MAX_DEPTH);
			return 0;
		}
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			n->e.flags |= DD_ENTRY_UNREADABLE;
			dd__tree_warn(w->t, "%s: cannot open directory: %s", w->path.data, strerror(errno));
			return 0;
		}
		rc = read_xattrs(w, n, fd, -1, NULL);
		if (rc == 0 && w->upper) {
			const struct dd_xattr *o = dd_entry_xattr(&n->e, "trusted.overlay.opaque");

			if (!o)
				o = dd_entry_xattr(&n->e, "user.overlay.opaque");
			if (o && o->len == 1 && o->value[0] == 'y')
				n->e.flags |= DD_ENTRY_OPAQUE;
			if (dd_entry_xattr(&n->e, "trusted.overlay.redirect") ||
			    dd_entry_xattr(&n->e, "user.overlay.redirect"))
				dd__tree_warn(w->t, "%s: overlay redirect_dir: the directory was renamed; its lower contents are not in the upper dir",
					      w->path.data);
		}
		if (rc == 0)
			rc = walk_dir(w, fd, n, depth + 1); /* closes fd */
		else
			close(fd);
		return rc;
	default:
		/* FIFOs, sockets, devices: never opened, attributes only. */
		return read_xattrs(w, n, -1, dirfd, name);
	}
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a + 1, *(char *const *)b + 1);
}

static enum dd_type dtype_of(unsigned char t)
{
	switch (t) {
	case DT_REG: return DD_TYPE_FILE;
	case DT_DIR: return DD_TYPE_DIR;
	case DT_LNK: return DD_TYPE_SYMLINK;
	case DT_CHR: return DD_TYPE_CHAR;
	case DT_BLK: return DD_TYPE_BLOCK;
	case DT_FIFO: return DD_TYPE_FIFO;
	case DT_SOCK: return DD_TYPE_SOCKET;
	default: return (enum dd_type)0;
	}
}

/* Walk the open directory FD (consumed) whose node is DIR. */
static int walk_dir(struct walk *w, int fd, struct dd__node *dir, unsigned depth)
{
	struct dd__ptrvec names = { 0 };
	struct dirent *de;
	size_t i, base = w->path.len;
	DIR *d;
	int rc = 0;

	d = fdopendir(fd);
	if (!d) {
		close(fd);
		dir->e.flags |= DD_ENTRY_UNREADABLE;
		return 0;
	}
	/* Read the names first, so only one directory stream is open at a time. */
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		char *s;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		/* The name, behind one byte of readdir's type (used if lstat fails). */
		s = malloc(strlen(de->d_name) + 2);
		if (s) {
			s[0] = (char)dtype_of(de->d_type);
			strcpy(s + 1, de->d_name);
		}
		if (!s || dd__ptrvec_push(&names, s)) {
			free(s);
			rc = DD_ENOMEM;
			goto out;
		}
	}
	if (errno) {
		dir->e.flags |= DD_ENTRY_UNREADABLE;
		dd__tree_warn(w->t, "%s: cannot list: %s", base > 1 ? w->path.data : "/", strerror(errno));
	}
	if (names.len)
		qsort(names.items, names.len, sizeof(char *), name_cmp);
	for (i = 0; i < names.len && rc == 0; i++) {
		const char *name = (const char *)names.items[i] + 1;
		enum dd_type dtype = (enum dd_type)((const char *)names.items[i])[0];

		w->path.len = base == 1 ? 0 : base;
		if (dd__buf_puts(&w->path, "/") || dd__buf_puts(&w->path, name)) {
			rc = DD_ENOMEM;
			break;
		}
		if (w->path.len > w->ctx->limits.max_path) {
			dd__tree_warn(w->t, "%.64s...: path longer than %llu bytes; skipped", w->path.data,
				      (unsigned long long)w->ctx->limits.max_path);
			continue;
		}
		rc = visit(w, dirfd(d), name, dtype, dir, depth);
	}
	w->path.len = base;
	if (w->path.data)
		w->path.data[base] = '\0';
out:
	for (i = 0; i < names.len; i++)
		free(names.items[i]);
	dd__ptrvec_free(&names);
	closedir(d);
	return rc;
}

static int read_root(struct dd_tree **out, struct dd_ctx *ctx, const char *path,
		     const struct dd_target_options *opts, bool upper)
{
	struct dd_target_options defaults = DD_TARGET_OPTIONS_INIT;
	struct walk w;
	struct stat st;
	int fd = -1, rc;

	if (!out || !ctx || !path)
		return DD_EINVAL;
	*out = NULL;
	if (!opts)
		opts = &defaults;
	memset(&w, 0, sizeof(w));
	w.ctx = ctx;
	w.root = path;
	w.upper = upper;
	w.cross_mounts = opts->cross_mounts;
	w.head_bytes = opts->head_bytes > 65536 ? 65536 : opts->head_bytes;
	/* The root itself may be a magic link such as /proc/PID/root: follow it once. */
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		return dd__error(ctx, errno == ENOENT ? DD_ENOTFOUND : DD_EIO, "%s: %s", path,
				 errno == ENOTDIR ? "not a directory" : strerror(errno));
	}
	if (fstat(fd, &st) != 0) {
		rc = dd__error(ctx, DD_EIO, "%s: %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	w.root_dev = st.st_dev;
	rc = dd__tree_new(&w.t, ctx);
	if (rc == 0)
		rc = dd__hasher_new(&w.h, DD__ALG_SHA256);
	if (rc || !(w.buf = malloc(READ_CHUNK)) || dd__buf_puts(&w.path, "/")) {
		close(fd);
		rc = dd__error(ctx, DD_ENOMEM, "%s: out of memory", path);
		goto out;
	}
	set_attrs(w.t->root, &st);
	w.t->root->e.flags = 0;
	rc = read_xattrs(&w, w.t->root, fd, -1, NULL);
	if (rc == 0)
		rc = walk_dir(&w, fd, w.t->root, 0);
	else
		close(fd);
	if (rc == 0)
		rc = dd__tree_finalize(w.t);
	if (rc) {
		rc = dd__error(ctx, rc, "%s: %s", path,
			       rc == DD_ELIMIT ? "more entries than the limit" : "out of memory");
		goto out;
	}
	*out = w.t;
	w.t = NULL;
out:
	dd_tree_free(w.t);
	dd__hasher_free(w.h);
	dd__buf_free(&w.path);
	dd__buf_free(&w.tmp);
	dd__buf_free(&w.content);
	free(w.buf);
	return rc;
}

int dd_target_read_dir(struct dd_tree **out, struct dd_ctx *ctx, const char *path,
		       const struct dd_target_options *opts)
{
	return read_root(out, ctx, path, opts, false);
}

int dd_target_read_upper(struct dd_tree **out, struct dd_ctx *ctx, const char *path,
			 const struct dd_target_options *opts)
{
	return read_root(out, ctx, path, opts, true);
}
