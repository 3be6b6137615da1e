/* Image sources: a layout directory or an indexed tar archive. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include "os.h"
#include "source.h"

enum member_kind { M_FILE, M_DIR, M_SYMLINK, M_HARDLINK, M_OTHER };

struct member {
	char *name;            /* normalised, relative: "blobs/sha256/ab.." */
	char *link;            /* symlink or hardlink target, raw */
	enum member_kind kind;
	uint64_t offset;       /* of the data in the uncompressed archive */
	uint64_t size;
	size_t index;          /* position in the archive, for rescanning */
	bool sparse;
	bool duplicate;        /* another member has the same name */
};

struct dd__src {
	struct dd_ctx *ctx;
	char *path;
	int fd;                /* the directory, or the archive file */
	bool tar;
	bool compressed;       /* the archive itself is compressed: rescan to read */
	dev_t dev;             /* identity of the archive, to reopen it safely */
	ino_t ino;
	struct member *members; /* sorted by name */
	size_t nmembers;
};

struct dd__rd {
	struct dd__src *src;
	struct dd_ctx *ctx;    /* where read errors go (the source's by default) */
	char *name;
	uint64_t size, pos;
	int fd;                /* own fd (directory source) or -1 */
	uint64_t base;         /* pread offset into src->fd (tar source) */
	struct archive *a;     /* compressed archive positioned at the member */
	int afd;               /* its own fd: an independent file offset */
};

static int member_cmp(const void *a, const void *b)
{
	return strcmp(((const struct member *)a)->name, ((const struct member *)b)->name);
}

static void members_free(struct member *m, size_t n)
{
	size_t i;

	for (i = 0; m && i < n; i++) {
		free(m[i].name);
		free(m[i].link);
	}
	free(m);
}

void dd__src_free(struct dd__src *src)
{
	if (!src)
		return;
	if (src->fd >= 0)
		close(src->fd);
	members_free(src->members, src->nmembers);
	free(src->path);
	free(src);
}

bool dd__src_is_tar(const struct dd__src *src)
{
	return src->tar;
}

bool dd__src_random_access(const struct dd__src *src)
{
	return !src->tar || !src->compressed;
}

static struct dd__src *src_new(struct dd_ctx *ctx, const char *path)
{
	struct dd__src *src = calloc(1, sizeof(*src));

	if (!src)
		return NULL;
	src->ctx = ctx;
	src->fd = -1;
	src->path = strdup(path);
	if (!src->path) {
		free(src);
		return NULL;
	}
	return src;
}

int dd__src_open_dir(struct dd__src **out, struct dd_ctx *ctx, const char *path)
{
	struct dd__src *src;

	*out = NULL;
	src = src_new(ctx, path);
	if (!src)
		return dd__error(ctx, DD_ENOMEM, "%s: out of memory", path);
	src->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (src->fd < 0) {
		int rc = dd__error(ctx, errno == ENOENT ? DD_ENOTFOUND : DD_EIO, "%s: %s",
				   path, strerror(errno));
		dd__src_free(src);
		return rc;
	}
	*out = src;
	return 0;
}

static struct archive *archive_for(void)
{
	struct archive *a = archive_read_new();

	if (!a)
		return NULL;
	archive_read_support_format_tar(a);
	dd__archive_support_filters(a);
	return a;
}

/* Name of a member, relative and normalised; NULL if it escapes the archive. */
static char *member_name(const char *raw)
{
	struct dd__buf b = DD__BUF_INIT;
	char *s;

	if (!raw || dd__path_normalize(&b, raw, strlen(raw)) != 0) {
		dd__buf_free(&b);
		return NULL;
	}
	s = strdup(b.data + 1); /* drop the leading '/' */
	dd__buf_free(&b);
	return s;
}

int dd__src_open_tar(struct dd__src **out, struct dd_ctx *ctx, const char *path)
{
	struct dd__src *src = NULL;
	struct archive *a = NULL;
	struct archive_entry *e;
	struct member *m = NULL, *grown;
	size_t n = 0, cap = 0, i;
	struct stat st;
	int rc, r;

	*out = NULL;
	rc = DD_ENOMEM;
	src = src_new(ctx, path);
	if (!src) {
		rc = dd__error(ctx, DD_ENOMEM, "%s: out of memory", path);
		goto out;
	}
	src->tar = true;
	src->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (src->fd < 0 || fstat(src->fd, &st) != 0) {
		rc = dd__error(ctx, errno == ENOENT ? DD_ENOTFOUND : DD_EIO, "%s: %s",
			       path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = dd__error(ctx, DD_EFORMAT, "%s: not a regular file or directory", path);
		goto out;
	}
	fcntl(src->fd, F_SETFL, fcntl(src->fd, F_GETFL) & ~O_NONBLOCK);
	src->dev = st.st_dev;
	src->ino = st.st_ino;
	a = archive_for();
	if (!a) {
		rc = dd__error(ctx, DD_ENOMEM, "%s: out of memory", path);
		goto out;
	}
	if (archive_read_open_fd(a, src->fd, 64 * 1024) != ARCHIVE_OK) {
		rc = dd__error(ctx, DD_EFORMAT, "%s: not an image: %s", path,
			       archive_error_string(a));
		goto out;
	}
	for (;;) {
		r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		/* ARCHIVE_RETRY is a damaged header that libarchive skipped: damage all the same. */
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			rc = dd__error(ctx, DD_EFORMAT, "%s: %s%s", path,
				       n ? "damaged archive: " : "not an image: ",
				       archive_error_string(a));
			goto out;
		}
		if (n >= ctx->limits.max_entries) {
			rc = dd__error(ctx, DD_ELIMIT, "%s: more than %llu members (limit max-entries)", path,
				       (unsigned long long)ctx->limits.max_entries);
			goto out;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			grown = realloc(m, cap * sizeof(*m));
			if (!grown) {
				rc = dd__error(ctx, DD_ENOMEM, "%s: out of memory", path);
				goto out;
			}
			m = grown;
		}
		memset(&m[n], 0, sizeof(m[n]));
		m[n].name = member_name(archive_entry_pathname(e));
		m[n].index = n;
		if (!m[n].name) {
			/* A name that escapes can never be looked up; keep a placeholder. */
			m[n].name = strdup("..");
			m[n].kind = M_OTHER;
		} else if (archive_entry_hardlink(e)) {
			m[n].kind = M_HARDLINK;
			m[n].link = strdup(archive_entry_hardlink(e));
		} else {
			switch (archive_entry_filetype(e)) {
			case AE_IFREG: m[n].kind = M_FILE; break;
			case AE_IFDIR: m[n].kind = M_DIR; break;
			case AE_IFLNK:
				m[n].kind = M_SYMLINK;
				m[n].link = archive_entry_symlink(e) ? strdup(archive_entry_symlink(e)) : NULL;
				break;
			default: m[n].kind = M_OTHER; break;
			}
		}
		if (!m[n].name || ((m[n].kind == M_HARDLINK || m[n].kind == M_SYMLINK) && !m[n].link)) {
			n++;
			rc = dd__error(ctx, DD_EFORMAT, "%s: member without a usable name", path);
			goto out;
		}
		m[n].size = archive_entry_size_is_set(e) && archive_entry_size(e) > 0 ?
			    (uint64_t)archive_entry_size(e) : 0;
		/* With an uncompressed archive this is the file offset of the data. */
		m[n].offset = (uint64_t)archive_filter_bytes(a, 0);
		m[n].sparse = archive_entry_sparse_count(e) > 0;
		n++;
		r = archive_read_data_skip(a);
		if (r < ARCHIVE_WARN) {
			rc = dd__error(ctx, DD_EFORMAT, "%s: damaged or truncated archive: %s",
				       path, archive_error_string(a));
			goto out;
		}
	}
	if (n == 0) {
		rc = dd__error(ctx, DD_EFORMAT, "%s: not an image: empty archive", path);
		goto out;
	}
	src->compressed = archive_filter_code(a, 0) != ARCHIVE_FILTER_NONE;
	qsort(m, n, sizeof(*m), member_cmp);
	for (i = 1; i < n; i++)
		if (strcmp(m[i].name, m[i - 1].name) == 0 && m[i].kind != M_DIR)
			m[i].duplicate = m[i - 1].duplicate = true;
	src->members = m;
	src->nmembers = n;
	m = NULL;
	*out = src;
	src = NULL;
	rc = 0;
out:
	if (a)
		archive_read_free(a);
	members_free(m, n);
	dd__src_free(src);
	return rc;
}

static struct member *member_find(struct dd__src *src, const char *name)
{
	struct member key = { .name = (char *)name };

	return bsearch(&key, src->members, src->nmembers, sizeof(key), member_cmp);
}

/*
 * Resolve NAME to the member that holds its data, following symlinks and
 * hard links inside the archive only (old docker save stores a repeated
 * layer as a symlink to the first copy).
 */
static int member_resolve(struct dd__src *src, const char *rel, struct member **out)
{
	struct dd_ctx *ctx = src->ctx;
	struct dd__buf b = DD__BUF_INIT, j = DD__BUF_INIT;
	struct member *m;
	char *name = member_name(rel);
	uint64_t hops;
	int rc = DD_ENOTFOUND;

	*out = NULL;
	if (!name)
		return dd__error(ctx, DD_EFORMAT, "%s: '%s' escapes the archive", src->path, rel);
	for (hops = 0;; hops++) {
		m = member_find(src, name);
		if (!m) {
			rc = dd__error(ctx, DD_ENOTFOUND, "%s: no member '%s'", src->path, name);
			goto out;
		}
		if (m->duplicate) {
			rc = dd__error(ctx, DD_EFORMAT, "%s: archive holds several members named '%s'",
				       src->path, name);
			goto out;
		}
		if (m->kind == M_FILE)
			break;
		if ((m->kind != M_SYMLINK && m->kind != M_HARDLINK) || hops >= ctx->limits.max_link_hops) {
			rc = dd__error(ctx, DD_EFORMAT, "%s: member '%s' is not a regular file",
				       src->path, name);
			goto out;
		}
		j.len = 0;
		if (m->kind == M_SYMLINK) {
			/* Relative to the link's directory; never outside the archive. */
			const char *slash = strrchr(m->name, '/');
			const char *p;
			size_t k;

			if (m->link[0] == '/') {
				rc = dd__error(ctx, DD_EFORMAT, "%s: member '%s' links outside the archive",
					       src->path, name);
				goto out;
			}
			if (slash && dd__buf_put(&j, m->name, (size_t)(slash - m->name + 1)))
				goto nomem;
			/* Apply ".." lexically; climbing past the top is an escape. */
			for (p = m->link; *p;) {
				size_t len = strcspn(p, "/");

				if (len == 2 && p[0] == '.' && p[1] == '.') {
					if (j.len == 0) {
						rc = dd__error(ctx, DD_EFORMAT,
							       "%s: member '%s' links outside the archive",
							       src->path, name);
						goto out;
					}
					for (k = j.len - 1; k > 0 && j.data[k - 1] != '/'; k--)
						;
					j.len = k;
				} else if (len && !(len == 1 && p[0] == '.')) {
					if (dd__buf_put(&j, p, len) || dd__buf_put(&j, "/", 1))
						goto nomem;
				}
				p += len;
				while (*p == '/')
					p++;
			}
			if (j.len)
				j.len--; /* trailing '/' */
			if (dd__buf_put(&j, "", 0))
				goto nomem;
		} else if (dd__buf_puts(&j, m->link)) {
			goto nomem;
		}
		free(name);
		name = member_name(j.data ? j.data : "");
		if (!name || !*name) {
			rc = dd__error(ctx, DD_EFORMAT, "%s: member '%s' links outside the archive",
				       src->path, m->name);
			goto out;
		}
	}
	*out = m;
	rc = 0;
	goto out;
nomem:
	rc = dd__error(ctx, DD_ENOMEM, "%s: out of memory", src->path);
out:
	free(name);
	dd__buf_free(&b);
	dd__buf_free(&j);
	return rc;
}

int dd__src_check(struct dd__src *src, const char *rel)
{
	struct member *m;
	struct stat st;
	int fd;

	if (src->tar)
		return member_resolve(src, rel, &m);
	fd = dd__open_regular(src->fd, rel, &st);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno == ENOENT)
		return DD_ENOTFOUND;
	return dd__error(src->ctx, DD_EFORMAT, "%s/%s: %s", src->path, rel,
			 errno == ELOOP ? "is a symlink (refused)" :
			 errno == EISDIR ? "is a directory, not a file" :
			 errno == EXDEV ? "escapes the layout (refused)" :
			 errno == EINVAL ? "is not a regular file (refused)" : strerror(errno));
}

bool dd__src_exists(struct dd__src *src, const char *rel)
{
	int code = src->ctx->code, rc;
	char *msg = src->ctx->msg;

	/* A probe must not clobber the error the caller may report. */
	src->ctx->msg = NULL;
	rc = dd__src_check(src, rel);
	free(src->ctx->msg);
	src->ctx->msg = msg;
	src->ctx->code = code;
	return rc == 0;
}

static int rd_new(struct dd__src *src, const char *name, struct dd__rd **out)
{
	struct dd__rd *rd = calloc(1, sizeof(*rd));

	*out = NULL;
	if (!rd || !(rd->name = strdup(name))) {
		free(rd);
		dd__error(src->ctx, DD_ENOMEM, "%s: out of memory", src->path);
		return DD_ENOMEM; /* not dd__error()'s value: the compiler sees that this is not 0 */
	}
	rd->src = src;
	rd->ctx = src->ctx;
	rd->fd = -1;
	rd->afd = -1;
	*out = rd;
	return 0;
}

int dd__src_open(struct dd__src *src, struct dd__rd **out, const char *rel)
{
	struct dd__rd *rd = NULL;
	struct member *m;
	struct stat st;
	struct archive_entry *e;
	size_t i;
	int rc, r;

	*out = NULL;
	if (!src->tar) {
		rc = rd_new(src, rel, &rd);
		if (rc)
			return rc;
		rd->fd = dd__open_regular(src->fd, rel, &st);
		if (rd->fd < 0) {
			rc = dd__error(src->ctx, errno == ENOENT ? DD_ENOTFOUND : DD_EFORMAT,
				       "%s/%s: %s", src->path, rel,
				       errno == ELOOP ? "is a symlink (refused)" :
				       errno == EXDEV ? "escapes the layout (refused)" :
				       errno == EINVAL ? "not a regular file" : strerror(errno));
			dd__rd_close(rd);
			return rc;
		}
		rd->size = (uint64_t)st.st_size;
		*out = rd;
		return 0;
	}
	rc = member_resolve(src, rel, &m);
	if (rc)
		return rc;
	rc = rd_new(src, m->name, &rd);
	if (rc)
		return rc;
	rd->size = m->size;
	if (!src->compressed && !m->sparse) {
		rd->base = m->offset;
		*out = rd;
		return 0;
	}
	/* A compressed archive cannot be read by position: scan to the member. */
	rd->a = archive_for();
	rd->afd = open(src->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (!rd->a || rd->afd < 0 || fstat(rd->afd, &st) != 0 ||
	    st.st_dev != src->dev || st.st_ino != src->ino ||
	    archive_read_open_fd(rd->a, rd->afd, 64 * 1024) != ARCHIVE_OK) {
		rc = dd__error(src->ctx, DD_EIO, "%s: cannot reopen the archive", src->path);
		goto fail;
	}
	for (i = 0; i <= m->index; i++) {
		r = archive_read_next_header(rd->a, &e);
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			rc = dd__error(src->ctx, DD_EIO, "%s: archive changed while being read",
				       src->path);
			goto fail;
		}
	}
	*out = rd;
	return 0;
fail:
	dd__rd_close(rd);
	return rc;
}

uint64_t dd__rd_size(const struct dd__rd *rd)
{
	return rd->size;
}

long dd__rd_read(struct dd__rd *rd, void *buf, size_t n)
{
	struct dd__src *src = rd->src;
	ssize_t got;

	if (rd->a) {
		got = archive_read_data(rd->a, buf, n);
		if (got < 0)
			return dd__error(rd->ctx, DD_EIO, "%s: %s: %s", src->path, rd->name,
					 archive_error_string(rd->a));
		rd->pos += (uint64_t)got;
		return (long)got;
	}
	if (rd->fd >= 0) {
		do
			got = read(rd->fd, buf, n);
		while (got < 0 && errno == EINTR);
		if (got < 0)
			return dd__error(rd->ctx, DD_EIO, "%s/%s: %s", src->path, rd->name,
					 strerror(errno));
		rd->pos += (uint64_t)got;
		return (long)got;
	}
	if (rd->pos >= rd->size)
		return 0;
	if (n > rd->size - rd->pos)
		n = (size_t)(rd->size - rd->pos);
	do
		got = pread(src->fd, buf, n, (off_t)(rd->base + rd->pos));
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return dd__error(rd->ctx, DD_EIO, "%s: %s: %s", src->path, rd->name, strerror(errno));
	if (got == 0)
		return dd__error(rd->ctx, DD_EFORMAT, "%s: %s: archive is truncated",
				 src->path, rd->name);
	rd->pos += (uint64_t)got;
	return (long)got;
}

void dd__rd_set_ctx(struct dd__rd *rd, struct dd_ctx *ctx)
{
	rd->ctx = ctx;
}

void dd__rd_close(struct dd__rd *rd)
{
	if (!rd)
		return;
	if (rd->fd >= 0)
		close(rd->fd);
	if (rd->a)
		archive_read_free(rd->a);
	if (rd->afd >= 0)
		close(rd->afd);
	free(rd->name);
	free(rd);
}

int dd__src_read_all(struct dd__src *src, const char *rel, uint64_t max, struct dd__buf *out)
{
	struct dd__rd *rd;
	long got;
	int rc;

	out->len = 0;
	rc = dd__src_open(src, &rd, rel);
	if (rc)
		return rc;
	if (dd__rd_size(rd) > max) {
		rc = dd__error(src->ctx, DD_ELIMIT, "%s: %s: %llu bytes, more than the limit of %llu (limit max-json)",
			       src->path, rel, (unsigned long long)dd__rd_size(rd),
			       (unsigned long long)max);
		goto out;
	}
	for (;;) {
		if (dd__buf_grow(out, 65536)) {
			rc = dd__error(src->ctx, DD_ENOMEM, "%s: out of memory", src->path);
			goto out;
		}
		got = dd__rd_read(rd, out->data + out->len, 65536);
		if (got < 0) {
			rc = (int)got;
			goto out;
		}
		if (got == 0)
			break;
		out->len += (size_t)got;
		if (out->len > max) {
			rc = dd__error(src->ctx, DD_ELIMIT, "%s: %s: more than the limit of %llu bytes (limit max-json)",
				       src->path, rel, (unsigned long long)max);
			goto out;
		}
	}
	out->data[out->len] = '\0';
out:
	dd__rd_close(rd);
	return rc;
}
