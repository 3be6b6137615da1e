/*
 * The manifest cache: a compact form of an image's tree, keyed by
 * its manifest digest (the config digest for docker archives that record
 * no manifest) and the driftdiff version, so platform teams that scan many
 * containers of one image read its layers once. Entries are written to a
 * temporary file and renamed into place, so concurrent runs never see half
 * an entry; one that fails to load is ignored and replaced.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "image_private.h"
#include "pkgdb.h"
#include "tree.h"

char *dd_default_cache_dir(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	struct dd__buf b = DD__BUF_INIT;

	if (xdg && xdg[0] == '/') {
		if (dd__buf_printf(&b, "%s/driftdiff", xdg))
			goto fail;
	} else if (home && home[0] == '/') {
		if (dd__buf_printf(&b, "%s/.cache/driftdiff", home))
			goto fail;
	} else {
		return NULL;
	}
	return dd__buf_detach(&b);
fail:
	dd__buf_free(&b);
	return NULL;
}

/* The cache file's name for IMG, or false when the image has no stable key. */
static bool entry_name(struct dd_image *img, struct dd__buf *out)
{
	const char *key = img->manifest_digest ? img->manifest_digest : img->config_digest;
	const char *colon;

	if (!key || !(colon = strchr(key, ':')) || img->format == DD_IMAGE_SAVED_MANIFEST)
		return false;
	out->len = 0;
	return dd__buf_printf(out, "%s/%.*s-%s.v%s.tree", img->cache_dir, (int)(colon - key), key,
			      colon + 1, dd_version()) == 0;
}

/* The manifest digest an entry must name: IMG's, or none (with its config digest). */
static const char *manifest_key(const struct dd_image *img)
{
	return img->manifest_digest ? img->manifest_digest : "";
}

/*
 * Only a directory of the caller's own, writable by nobody else: a cache
 * another user can write would let them decide what the image "contains".
 */
static bool safe_dir(const char *dir, bool create)
{
	struct stat st;

	if (create && mkdir(dir, 0700) != 0 && errno != EEXIST) {
		/* ~/.cache itself may be missing. */
		char *parent = strdup(dir), *slash = parent ? strrchr(parent, '/') : NULL;

		if (slash && slash != parent) {
			*slash = '\0';
			mkdir(parent, 0700);
		}
		free(parent);
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return false;
	}
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022))
		return false;
	return true;
}

/*
 * The entry format: the cache is read on every run of a platform team's
 * scan, so it is a compact binary form rather than the JSONL of a saved
 * manifest. Little-endian fields, length-prefixed bytes, and a checksum of
 * everything before it at the end; an entry that fails any check is a miss.
 *
 *   "DDCACHE2"  version-string  manifest-digest  config-digest  u64 count
 *   count x entry                     (in path order)
 *   count x u64 offset of the entry   (the index: a path is found by bisection)
 *   u64 n, n x u32 entry number       (the entries every upper-dir run needs)
 *   u64 offset of the index
 *   16-byte checksum of all of the above (GMAC: dd__checksum_begin())
 *
 * entry: u8 type, u8 exec, u16 elf_machine, u32 mode, u32 flags, i32 layer,
 *        u64 uid, gid, size, ino, i64 mtime, u32 mtime_nsec, rdev_major,
 *        rdev_minor, u8 has_sha256 [32 bytes], bytes path, opt-bytes target,
 *        u32 nxattrs x (bytes name, bytes value), opt-bytes content
 * bytes: u32 length + data; opt-bytes: length 0xffffffff means none.
 *
 * The index lets an overlay upper dir be compared with the image without
 * decoding the whole tree: only the upper dir's paths, what lies below its
 * whiteouts, and the files classification parses are read.
 */
#define MAGIC "DDCACHE2"
#define NONE 0xffffffffu
#define FIXED 68 /* an entry's fields before has_sha256 */
#define SUM 16
#define TRAILER (8 + SUM) /* index offset, checksum */

struct dd__cache_entry {
	unsigned char *data;  /* the file, mapped read-only */
	size_t size;
	uint64_t count;
	size_t index;        /* offset of the entry offsets, where the entries end */
	const unsigned char *preload; /* u32 entry numbers */
	uint64_t npreload;
	char *name;          /* the file, for warnings */
};

static int put_u(struct dd__buf *b, uint64_t v, int n)
{
	unsigned char x[8];
	int i;

	for (i = 0; i < n; i++)
		x[i] = (unsigned char)(v >> (8 * i));
	return dd__buf_put(b, x, (size_t)n);
}

static int put_bytes(struct dd__buf *b, const void *p, size_t n, bool present)
{
	if (!present)
		return put_u(b, NONE, 4);
	if (n >= NONE)
		return DD_ELIMIT;
	return put_u(b, n, 4) || dd__buf_put(b, p, n) ? DD_ENOMEM : 0;
}

/* Entries an upper-dir comparison always needs: what classification parses. */
static bool preloaded(const struct dd_entry *e)
{
	return dd_entry_content_kept(e->path, e->path_len) || dd__pkgdb_is_db_path(e->path, e->path_len);
}

/*
 * Entries are written through a buffer that is spilled to the file every
 * SPILL bytes, the checksum taken on the way: the encoded tree is never
 * held whole (138 MB for a million entries).
 */
#define SPILL (1 << 20)

struct writer {
	int fd;
	struct dd__buf b;
	uint64_t written;        /* bytes already in the file */
	struct dd__checksum *sum;
};

/* Write the buffer out when it is full (or ALL), into the checksum unless it is the checksum. */
static int spill(struct writer *w, bool all)
{
	size_t off;
	ssize_t n;

	if (!all && w->b.len < SPILL)
		return 0;
	if (w->sum && dd__checksum_add(w->sum, w->b.data, w->b.len))
		return DD_ENOMEM;
	for (off = 0; off < w->b.len; off += (size_t)n) {
		n = write(w->fd, w->b.data + off, w->b.len - off);
		if (n < 0 && errno == EINTR)
			n = 0;
		else if (n <= 0)
			return DD_EIO;
	}
	w->written += w->b.len;
	w->b.len = 0;
	return 0;
}

static int encode(struct dd_image *img, const struct dd_tree *t, struct writer *w)
{
	const char *v = dd_version(), *md = manifest_key(img);
	struct dd__buf *b = &w->b;
	size_t i, n = dd_tree_count(t);
	uint64_t *offsets = NULL, npre = 0, index;
	unsigned char sum[SUM];
	uint32_t k;
	int rc = DD_ENOMEM;

	if (n >= NONE || !(offsets = malloc((n ? n : 1) * sizeof(*offsets))))
		goto out;
	if (dd__buf_puts(b, MAGIC) || put_bytes(b, v, strlen(v), true) ||
	    put_bytes(b, md, strlen(md), true) ||
	    put_bytes(b, img->config_digest, strlen(img->config_digest), true) || put_u(b, n, 8))
		goto out;
	for (i = 0; i < n; i++) {
		const struct dd_entry *e = dd_tree_entry(t, i);
		const struct dd_entry_extra *x = e->extra;

		offsets[i] = w->written + b->len;
		if (put_u(b, e->type, 1) || put_u(b, e->exec, 1) || put_u(b, e->elf_machine, 2) ||
		    put_u(b, e->mode, 4) || put_u(b, e->flags, 4) || put_u(b, (uint32_t)e->layer, 4) ||
		    put_u(b, e->uid, 8) || put_u(b, e->gid, 8) || put_u(b, e->size, 8) ||
		    put_u(b, e->ino, 8) || put_u(b, (uint64_t)e->mtime, 8) || put_u(b, e->mtime_nsec, 4) ||
		    put_u(b, x->rdev_major, 4) || put_u(b, x->rdev_minor, 4) ||
		    put_u(b, e->has_sha256, 1) || (e->has_sha256 && dd__buf_put(b, e->sha256, 32)) ||
		    put_bytes(b, e->path, e->path_len, true) ||
		    put_bytes(b, e->target, e->target_len, e->target != NULL) || put_u(b, x->nxattrs, 4))
			goto out;
		for (k = 0; k < x->nxattrs; k++)
			if (put_bytes(b, x->xattrs[k].name, strlen(x->xattrs[k].name), true) ||
			    put_bytes(b, x->xattrs[k].value, x->xattrs[k].len, true))
				goto out;
		if (put_bytes(b, x->content, x->content_len, x->content != NULL))
			goto out;
		if (preloaded(e))
			npre++;
		if ((rc = spill(w, false)) != 0)
			goto out;
		rc = DD_ENOMEM;
	}
	index = w->written + b->len;
	for (i = 0; i < n; i++)
		if (put_u(b, offsets[i], 8) || spill(w, false))
			goto out;
	if (put_u(b, npre, 8))
		goto out;
	for (i = 0; i < n; i++)
		if (preloaded(dd_tree_entry(t, i)) && (put_u(b, i, 4) || spill(w, false)))
			goto out;
	if (put_u(b, index, 8) || spill(w, true) || dd__checksum_end(w->sum, sum) ||
	    dd__buf_put(b, sum, SUM))
		goto out;
	dd__checksum_free(w->sum);
	w->sum = NULL;
	rc = spill(w, true) == 0 ? 0 : DD_EIO;
out:
	free(offsets);
	return rc;
}

struct reader {
	const unsigned char *p, *end;
	bool bad;
};

static uint64_t get_u(struct reader *r, int n)
{
	uint64_t v = 0;
	int i;

	if (r->bad || r->end - r->p < n) {
		r->bad = true;
		return 0;
	}
	for (i = 0; i < n; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += n;
	return v;
}

static uint64_t le(const unsigned char *p, int n)
{
	struct reader r = { p, p + n, false };

	return get_u(&r, n);
}

/* Length-prefixed bytes; *present false for NONE. Bounded by the buffer. */
static const unsigned char *get_bytes(struct reader *r, size_t *len, bool *present)
{
	uint64_t n = get_u(r, 4);
	const unsigned char *p;

	*present = !r->bad && n != NONE;
	*len = 0;
	if (!*present)
		return NULL;
	if ((uint64_t)(r->end - r->p) < n) {
		r->bad = true;
		return NULL;
	}
	p = r->p;
	r->p += n;
	*len = (size_t)n;
	return p;
}

static bool same_string(struct reader *r, const char *want)
{
	size_t n;
	bool present;
	const unsigned char *p = get_bytes(r, &n, &present);

	return present && n == strlen(want) && !memcmp(p, want, n);
}

/*
 * The header after the magic, read by R: this driftdiff's version, IMG's
 * digests, then the entry count.
 */
static bool header(struct dd_image *img, struct reader *r, uint64_t *count)
{
	if (!same_string(r, dd_version()) || !same_string(r, manifest_key(img)) ||
	    !same_string(r, img->config_digest))
		return false;
	*count = get_u(r, 8);
	return !r->bad;
}

/* The bytes of the whole header, magic included, when it is IMG's. */
static size_t header_len(const struct dd_image *img)
{
	return 8 + 3 * 4 + strlen(dd_version()) + strlen(manifest_key(img)) +
	       strlen(img->config_digest) + 8;
}

void dd__cache_entry_free(struct dd__cache_entry *c)
{
	if (!c)
		return;
	if (c->data)
		munmap(c->data, c->size);
	free(c->name);
	free(c);
}

/*
 * The checksum of the first LEN bytes of FD, read in windows: summing
 * through the mapping would make every page of it resident, and an
 * upper-dir run needs only a few of them.
 */
static bool file_checksum(int fd, size_t len, unsigned char sum[SUM])
{
	size_t cap = len < SPILL ? len : SPILL, at = 0;
	unsigned char *buf = malloc(cap ? cap : 1);
	struct dd__checksum *k = NULL;
	bool ok = false;

	if (!buf || dd__checksum_begin(&k))
		goto out;
	while (at < len) {
		ssize_t r = pread(fd, buf, len - at < cap ? len - at : cap, (off_t)at);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || dd__checksum_add(k, buf, (size_t)r))
			goto out;
		at += (size_t)r;
	}
	ok = dd__checksum_end(k, sum) == 0;
out:
	dd__checksum_free(k);
	free(buf);
	return ok;
}

/*
 * Check a whole entry (mapped from FD): checksum, header, and an index
 * whose offsets rise strictly inside the records. The records themselves
 * are checked as they are decoded.
 */
static bool check(struct dd_image *img, struct dd__cache_entry *c, int fd)
{
	struct dd_ctx *ctx = img->ctx;
	struct reader r = { c->data, c->data + c->size, false };
	unsigned char sum[SUM];
	uint64_t i, index, prev = 0, off;

	if (c->size < 8 + TRAILER || memcmp(c->data, MAGIC, 8))
		return false;
	/* The checksum first: nothing is parsed out of a damaged entry. */
	if (!file_checksum(fd, c->size - SUM, sum) || memcmp(sum, c->data + c->size - SUM, SUM))
		return false;
	r.p += 8;
	r.end -= TRAILER;
	if (!header(img, &r, &c->count))
		return false;
	index = le(c->data + c->size - TRAILER, 8);
	if (c->count == 0 || c->count > ctx->limits.max_entries ||
	    index < (size_t)(r.p - c->data) || index > c->size - TRAILER ||
	    (c->size - TRAILER - index) / 8 < c->count + 1)
		return false;
	c->index = (size_t)index;
	for (i = 0; i < c->count; i++) {
		off = le(c->data + index + 8 * i, 8);
		if ((i == 0 ? off != (uint64_t)(r.p - c->data) : off <= prev) || off >= index)
			return false;
		prev = off;
	}
	c->npreload = le(c->data + index + 8 * c->count, 8);
	c->preload = c->data + index + 8 * c->count + 8;
	return c->npreload <= c->count &&
	       (uint64_t)(c->data + c->size - TRAILER - c->preload) == 4 * c->npreload;
}

/* Open IMG's entry file (NAME set) if it is ours and sane; -1 if there is none. */
static int open_entry(struct dd_image *img, struct dd__buf *name, struct stat *st)
{
	int fd;

	if (!safe_dir(img->cache_dir, false) || !entry_name(img, name))
		return -1;
	fd = open(name->data, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) || st->st_uid != geteuid() ||
	    (uint64_t)st->st_size > ((uint64_t)1 << 34)) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * The entry is mapped and its records are decoded where they lie: an
 * upper-dir run touches only the index and the records it needs (the
 * checksum reads the rest through a window, which leaves nothing
 * resident; 11 MB for 65,000 entries). Mapping is safe here as it is
 * not for a container's files: the file is ours (0600 in a 0700 directory)
 * and is only ever replaced by rename, never truncated in place, so its
 * pages cannot vanish under the mapping.
 */
struct dd__cache_entry *dd__cache_read(struct dd_image *img)
{
	struct dd__buf name = DD__BUF_INIT;
	struct dd__cache_entry *c = NULL;
	struct stat st;
	void *p = MAP_FAILED;
	int fd = open_entry(img, &name, &st);

	if (fd < 0)
		goto out;
	if (st.st_size >= 8 + TRAILER)
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p != MAP_FAILED) {
		c = calloc(1, sizeof(*c));
		if (c) {
			c->data = p;
			c->size = (size_t)st.st_size;
		} else {
			munmap(p, (size_t)st.st_size);
		}
	}
	if (!c || !check(img, c, fd)) {
		/* Damaged or foreign: a miss; the rebuilt tree replaces it. */
		dd__image_warn(img, "manifest cache: %s: unreadable entry, rebuilt", name.data);
		dd__cache_entry_free(c);
		c = NULL;
		goto out;
	}
	c->name = dd__buf_detach(&name);
out:
	if (fd >= 0)
		close(fd);
	dd__buf_free(&name);
	return c;
}

/*
 * Decode the entry in [P, END) and append it to T: entries come in path
 * order. False on anything off, an entry out of order included.
 */
static bool decode_entry(struct dd_tree *t, const unsigned char *p0, const unsigned char *end)
{
	struct dd_ctx *ctx = t->ctx;
	struct reader r = { p0, end, false };
	struct dd_entry e, *slot;
	struct dd_entry_extra x;
	const unsigned char *p;
	size_t len;
	bool present;
	uint64_t flags, uid, gid;
	uint32_t k;

	memset(&e, 0, sizeof(e));
	memset(&x, 0, sizeof(x));
	e.type = (uint8_t)get_u(&r, 1);
	e.exec = (uint8_t)get_u(&r, 1);
	e.elf_machine = (uint16_t)get_u(&r, 2);
	e.mode = (uint16_t)(get_u(&r, 4) & 07777);
	flags = get_u(&r, 4);
	e.layer = (int32_t)get_u(&r, 4);
	uid = get_u(&r, 8);
	gid = get_u(&r, 8);
	if (flags > UINT16_MAX || uid > UINT32_MAX || gid > UINT32_MAX)
		return false;
	e.flags = (uint16_t)flags;
	e.uid = (uint32_t)uid;
	e.gid = (uint32_t)gid;
	e.size = get_u(&r, 8);
	e.ino = get_u(&r, 8);
	e.mtime = (int64_t)get_u(&r, 8);
	e.mtime_nsec = (uint32_t)get_u(&r, 4);
	x.rdev_major = (uint32_t)get_u(&r, 4);
	x.rdev_minor = (uint32_t)get_u(&r, 4);
	e.has_sha256 = get_u(&r, 1) != 0;
	if (e.has_sha256) {
		if (r.end - r.p < 32)
			return false;
		memcpy(e.sha256, r.p, 32);
		r.p += 32;
	}
	p = get_bytes(&r, &len, &present);
	if (r.bad || !present || !len || p[0] != '/' || (len > 1 && p[len - 1] == '/') ||
	    e.type < DD_TYPE_FILE || e.type > DD_TYPE_SOCKET || len > ctx->limits.max_path)
		return false;
	if (dd__tree_append(t, &slot, (const char *)p, len, e.type, e.layer))
		return false;
	e.path = slot->path;
	e.path_len = slot->path_len;
	p = get_bytes(&r, &len, &present);
	if (present && !(e.target = dd__arena_string(&t->strings, (const char *)p, len)))
		return false;
	e.target_len = (uint32_t)len;
	x.nxattrs = (uint32_t)get_u(&r, 4);
	if (x.nxattrs > 1024)
		return false;
	if (x.nxattrs) {
		struct dd_xattr *xs = dd__arena_alloc(&t->arena, x.nxattrs * sizeof(*xs));

		for (k = 0; xs && k < x.nxattrs && !r.bad; k++) {
			p = get_bytes(&r, &len, &present);
			xs[k].name = present ? dd__arena_strndup(&t->arena, (const char *)p, len) : NULL;
			p = get_bytes(&r, &len, &present);
			xs[k].value = present ? (const unsigned char *)dd__arena_strndup(&t->arena,
					(const char *)p, len) : NULL;
			xs[k].len = len;
			if (!xs[k].name || !xs[k].value)
				r.bad = true;
		}
		if (!xs || r.bad)
			return false;
		x.xattrs = xs;
	}
	p = get_bytes(&r, &len, &present);
	if (present) {
		x.content = (const unsigned char *)dd__arena_strndup(&t->arena, (const char *)p, len);
		x.content_len = (uint32_t)len;
		if (!x.content)
			return false;
	}
	if (r.bad || r.p != r.end)
		return false;
	e.extra = &dd__no_extra;
	if (dd__entry_set_extra(&t->arena, &e, &x))
		return false;
	*slot = e;
	return true;
}

/* Build a tree of the entries of C whose numbers are in PICK (ascending), or all of them. */
static struct dd_tree *build(struct dd_image *img, const struct dd__cache_entry *c,
			     const uint64_t *pick, size_t npick)
{
	struct dd_tree *t = NULL;
	size_t i, n = pick ? npick : (size_t)c->count;

	if (dd__tree_new(&t, img->ctx))
		goto fail;
	for (i = 0; i < n; i++) {
		uint64_t k = pick ? pick[i] : i;
		size_t start = (size_t)le(c->data + c->index + 8 * k, 8);
		size_t end = k + 1 < c->count ? (size_t)le(c->data + c->index + 8 * (k + 1), 8) : c->index;

		if (!decode_entry(t, c->data + start, c->data + end))
			goto fail;
	}
	if (dd__tree_finalize_appended(t))
		goto fail;
	return t;
fail:
	dd__image_warn(img, "manifest cache: %s: unreadable entry, rebuilt", c->name);
	dd_tree_free(t);
	return NULL;
}

struct dd_tree *dd__cache_tree(struct dd_image *img, const struct dd__cache_entry *c)
{
	return build(img, c, NULL, 0);
}

/* ---- the whole tree, read in windows ---- */

/*
 * A forward window on an entry file. Every byte read goes into the
 * checksum once (all but the last SUM bytes, which hold it), so one pass
 * both decodes and checks; the tree is dropped if the checksum is wrong.
 */
struct window {
	int fd;
	uint64_t size;       /* of the file */
	uint64_t base;       /* file offset of buf[0] */
	unsigned char *buf;
	size_t cap, len, pos;
	struct dd__checksum *sum;
};

/* At least NEED bytes from pos (growing the window if need be); false at EOF or on error. */
static bool want(struct window *w, size_t need)
{
	if (w->len - w->pos >= need)
		return true;
	if (need > w->size)
		return false;
	memmove(w->buf, w->buf + w->pos, w->len - w->pos);
	w->base += w->pos;
	w->len -= w->pos;
	w->pos = 0;
	if (need > w->cap) {
		unsigned char *nb = realloc(w->buf, need);

		if (!nb)
			return false;
		w->buf = nb;
		w->cap = need;
	}
	while (w->len < need) {
		uint64_t at = w->base + w->len, lim = w->size - SUM;
		size_t room = w->cap - w->len;
		ssize_t r;

		if (at >= w->size)
			return false;
		if ((uint64_t)room > w->size - at)
			room = (size_t)(w->size - at);
		r = read(w->fd, w->buf + w->len, room);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		if (at < lim && dd__checksum_add(w->sum, w->buf + w->len,
						 (size_t)((uint64_t)r < lim - at ? (uint64_t)r : lim - at)))
			return false;
		w->len += (size_t)r;
	}
	return true;
}

/* The length of the entry at P (AVAIL bytes there): >0, 0 for "need more", -1 if malformed. */
static ssize_t entry_len(const unsigned char *p, size_t avail)
{
	size_t at = FIXED + 1, k, n;
	uint64_t nx;

#define FIELD(var) do { if (avail - at < 4) return 0; (var) = (size_t)le(p + at, 4); at += 4; } while (0)
	if (avail < at)
		return 0;
	if (p[FIXED])
		at += 32;
	for (k = 0; k < 2; k++) { /* path, target */
		if (at > avail)
			return 0;
		FIELD(n);
		if (n == NONE) {
			if (k == 0)
				return -1;
			continue;
		}
		at += n;
	}
	if (at > avail)
		return 0;
	FIELD(nx);
	if (nx > 1024)
		return -1;
	for (k = 0; k < 2 * nx + 1; k++) { /* names and values, then the content */
		if (at > avail)
			return 0;
		FIELD(n);
		if (n == NONE) {
			if (k < 2 * nx)
				return -1;
			continue;
		}
		at += n;
	}
#undef FIELD
	return at > avail ? 0 : (ssize_t)at;
}

/* The entry's magic, header strings and count, checked. */
static bool stream_header(struct dd_image *img, struct window *w, uint64_t *count)
{
	size_t n = header_len(img);
	struct reader r;

	/* IMG's own header has a known length: one with other strings fails the check. */
	if (!want(w, n) || memcmp(w->buf, MAGIC, 8))
		return false;
	r = (struct reader){ w->buf + 8, w->buf + n, false };
	if (!header(img, &r, count))
		return false;
	w->pos = (size_t)(r.p - w->buf);
	return true;
}

struct dd_tree *dd__cache_load(struct dd_image *img)
{
	struct dd__buf name = DD__BUF_INIT;
	struct window w = { -1, 0, 0, NULL, 0, 0, 0, NULL };
	struct dd_tree *t = NULL;
	unsigned char sum[SUM];
	uint64_t count = 0, i, index;
	struct stat st;
	bool ok = false;

	w.fd = open_entry(img, &name, &st);
	if (w.fd < 0)
		goto out;
	w.size = (uint64_t)st.st_size;
	w.cap = SPILL;
	if (w.size < 8 + TRAILER || !(w.buf = malloc(w.cap)) || dd__checksum_begin(&w.sum) ||
	    !stream_header(img, &w, &count) || count == 0 || count > img->ctx->limits.max_entries ||
	    dd__tree_new(&t, img->ctx))
		goto done;
	for (i = 0; i < count; i++) {
		size_t avail = w.len - w.pos;
		ssize_t n;

		while ((n = entry_len(w.buf + w.pos, avail)) == 0) {
			/* Twice as much, but no more than the file holds. */
			uint64_t rest = w.size - (w.base + w.pos);
			size_t more = avail < 4096 ? 4096 : 2 * avail;

			if (avail >= rest || !want(&w, (uint64_t)more < rest ? more : (size_t)rest))
				goto done;
			avail = w.len - w.pos;
		}
		if (n < 0 || !decode_entry(t, w.buf + w.pos, w.buf + w.pos + n))
			goto done;
		w.pos += (size_t)n;
	}
	/* The index follows, then the trailer: read to the end for the checksum. */
	index = w.base + w.pos;
	if (index > w.size - TRAILER)
		goto done;
	while (w.base + w.len < w.size - TRAILER) {
		w.pos = w.len;
		if (!want(&w, 1))
			goto done;
	}
	w.pos = (size_t)(w.size - TRAILER - w.base);
	if (!want(&w, TRAILER) || le(w.buf + w.pos, 8) != index ||
	    dd__checksum_end(w.sum, sum) || memcmp(sum, w.buf + w.pos + 8, SUM))
		goto done;
	ok = dd__tree_finalize_appended(t) == 0;
done:
	if (!ok) {
		/* Damaged or foreign: a miss; the rebuilt tree replaces it. */
		dd__image_warn(img, "manifest cache: %s: unreadable entry, rebuilt", name.data);
		dd_tree_free(t);
		t = NULL;
	}
	close(w.fd);
out:
	dd__checksum_free(w.sum);
	free(w.buf);
	dd__buf_free(&name);
	return t;
}

/* ---- the part an upper dir needs ---- */

/* The path of entry I, or NULL when it cannot be read. */
static const char *entry_path(const struct dd__cache_entry *c, uint64_t i, size_t *len)
{
	size_t start = (size_t)le(c->data + c->index + 8 * i, 8);
	struct reader r = { c->data + start, c->data + c->index, false };
	bool present;
	const unsigned char *p;

	if (r.end - r.p < FIXED + 1)
		return NULL;
	r.p += FIXED;
	if (get_u(&r, 1)) {
		if (r.end - r.p < 32)
			return NULL;
		r.p += 32;
	}
	p = get_bytes(&r, len, &present);
	return present && !r.bad ? (const char *)p : NULL;
}

/* The number of the first entry not before PATH in path order. */
static uint64_t lower_bound(const struct dd__cache_entry *c, const char *path, size_t len)
{
	uint64_t lo = 0, hi = c->count;

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		size_t elen;
		const char *e = entry_path(c, mid, &elen);

		if (e && dd_path_compare(e, elen, path, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Entry number of PATH, or -1. */
static int64_t find(const struct dd__cache_entry *c, const char *path, size_t len)
{
	uint64_t k = lower_bound(c, path, len);
	size_t elen;
	const char *e = k < c->count ? entry_path(c, k, &elen) : NULL;

	return e && elen == len && !memcmp(e, path, len) ? (int64_t)k : -1;
}

#define MARKED(bits, i) ((bits)[(i) / 8] & (1u << ((i) % 8)))
#define MARK(bits, i) ((bits)[(i) / 8] |= (unsigned char)(1u << ((i) % 8)))

/* Mark entry K and every ancestor of it, stopping at one already marked. */
static void mark_with_parents(const struct dd__cache_entry *c, unsigned char *bits, int64_t k,
			      const char *path, size_t len)
{
	while (len > 1) {
		if (k >= 0) {
			if (MARKED(bits, k))
				return;
			MARK(bits, k);
		}
		len = dd__path_parent_len(path, len);
		k = find(c, path, len);
	}
}

struct dd_tree *dd__cache_tree_upper(struct dd_image *img, const struct dd__cache_entry *c,
				     const struct dd_tree *upper)
{
	unsigned char *bits = calloc((size_t)(c->count + 7) / 8, 1);
	uint64_t *pick = NULL, i, j, npick = 0;
	size_t n = dd_tree_count(upper);
	struct dd_tree *t = NULL;

	if (!bits)
		return NULL;
	MARK(bits, 0); /* the root */
	for (i = 0; i < c->npreload; i++) {
		uint64_t k = le(c->preload + 4 * i, 4);
		size_t len;
		const char *p = k < c->count ? entry_path(c, k, &len) : NULL;

		if (!p)
			goto out;
		mark_with_parents(c, bits, (int64_t)k, p, len);
	}
	for (i = 0; i < n; i++) {
		const struct dd_entry *u = dd_tree_entry(upper, i);
		int64_t k = find(c, u->path, u->path_len);
		size_t plen = dd__path_parent_len(u->path, u->path_len);

		/*
		 * A parent that is in the upper dir too (the usual case: overlay
		 * copies parents up) came first, and was marked with its own.
		 */
		if (u->path_len > 1 && dd_tree_find(upper, u->path, plen)) {
			if (k >= 0)
				MARK(bits, k);
		} else {
			mark_with_parents(c, bits, k, u->path, u->path_len);
		}
		/*
		 * What dd_diff_upper() may report deleted: all below a whiteout,
		 * an opaque directory, or a non-directory put over a directory.
		 */
		if (k > 0 && ((u->flags & (DD_ENTRY_WHITEOUT | DD_ENTRY_OPAQUE)) || u->type != DD_TYPE_DIR)) {
			for (j = (uint64_t)k + 1; j < c->count; j++) {
				size_t len;
				const char *p = entry_path(c, j, &len);

				if (!p || len <= u->path_len || memcmp(p, u->path, u->path_len) ||
				    (u->path_len > 1 && p[u->path_len] != '/'))
					break;
				MARK(bits, j);
			}
		}
	}
	for (i = 0; i < c->count; i++)
		npick += MARKED(bits, i) ? 1 : 0;
	pick = malloc(npick * sizeof(*pick));
	if (!pick)
		goto out;
	for (i = 0, j = 0; i < c->count; i++)
		if (MARKED(bits, i))
			pick[j++] = i;
	t = build(img, c, pick, (size_t)npick);
out:
	free(bits);
	free(pick);
	return t;
}

void dd__cache_store(struct dd_image *img)
{
	struct dd__buf name = DD__BUF_INIT, tmp = DD__BUF_INIT;
	struct writer w = { -1, DD__BUF_INIT, 0, NULL };
	int code = img->ctx->code, ok = 0;
	char *msg = img->ctx->msg;

	img->ctx->msg = NULL;
	if (!safe_dir(img->cache_dir, true) || !entry_name(img, &name) ||
	    dd__buf_printf(&tmp, "%s.tmpXXXXXX", name.data) || dd__checksum_begin(&w.sum))
		goto out;
	w.fd = mkstemp(tmp.data);
	if (w.fd < 0)
		goto out;
	ok = encode(img, img->tree, &w) == 0 && fsync(w.fd) == 0;
	if (close(w.fd) != 0)
		ok = 0;
	w.fd = -1;
	if (!ok || rename(tmp.data, name.data) != 0)
		unlink(tmp.data);
out:
	if (w.fd >= 0) {
		close(w.fd);
		unlink(tmp.data);
	}
	dd__checksum_free(w.sum);
	dd__buf_free(&w.b);
	dd__buf_free(&name);
	dd__buf_free(&tmp);
	/* A cache that cannot be written costs time, never the result. */
	free(img->ctx->msg);
	img->ctx->msg = msg;
	img->ctx->code = code;
}
