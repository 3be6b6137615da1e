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
#include <sys/stat.h>

#include "image_private.h"
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
 * manifest. Little-endian fields, length-prefixed bytes, and a SHA-256 of
 * everything before it at the end; an entry that fails any check is a miss.
 *
 *   "DDCACHE1"  version-string  manifest-digest  config-digest  u64 count
 *   count x entry  sha256(all of the above)
 *
 * entry: u8 type, u8 exec, u16 elf_machine, u32 mode, u32 flags, i32 layer,
 *        u64 uid, gid, size, ino, i64 mtime, u32 mtime_nsec, rdev_major,
 *        rdev_minor, u8 has_sha256 [32 bytes], bytes path, opt-bytes target,
 *        u32 nxattrs x (bytes name, bytes value), opt-bytes content
 * bytes: u32 length + data; opt-bytes: length 0xffffffff means none.
 */
#define MAGIC "DDCACHE1"
#define NONE 0xffffffffu

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

static int encode(struct dd_image *img, const struct dd_tree *t, struct dd__buf *b)
{
	const char *v = dd_version(), *md = img->manifest_digest ? img->manifest_digest : "";
	size_t i, n = dd_tree_count(t);
	struct dd__hasher *h = NULL;
	struct dd__digest d;
	uint32_t k;
	int rc = DD_ENOMEM;

	if (dd__buf_puts(b, MAGIC) || put_bytes(b, v, strlen(v), true) ||
	    put_bytes(b, md, strlen(md), true) ||
	    put_bytes(b, img->config_digest, strlen(img->config_digest), true) || put_u(b, n, 8))
		return rc;
	for (i = 0; i < n; i++) {
		const struct dd_entry *e = dd_tree_entry(t, i);

		if (put_u(b, e->type, 1) || put_u(b, e->exec, 1) || put_u(b, e->elf_machine, 2) ||
		    put_u(b, e->mode, 4) || put_u(b, e->flags, 4) || put_u(b, (uint32_t)e->layer, 4) ||
		    put_u(b, e->uid, 8) || put_u(b, e->gid, 8) || put_u(b, e->size, 8) ||
		    put_u(b, e->ino, 8) || put_u(b, (uint64_t)e->mtime, 8) || put_u(b, e->mtime_nsec, 4) ||
		    put_u(b, e->rdev_major, 4) || put_u(b, e->rdev_minor, 4) ||
		    put_u(b, e->has_sha256, 1) || (e->has_sha256 && dd__buf_put(b, e->sha256, 32)) ||
		    put_bytes(b, e->path, e->path_len, true) ||
		    put_bytes(b, e->target, e->target_len, e->target != NULL) || put_u(b, e->nxattrs, 4))
			return rc;
		for (k = 0; k < e->nxattrs; k++)
			if (put_bytes(b, e->xattrs[k].name, strlen(e->xattrs[k].name), true) ||
			    put_bytes(b, e->xattrs[k].value, e->xattrs[k].len, true))
				return rc;
		if (put_bytes(b, e->content, e->content_len, e->content != NULL))
			return rc;
	}
	if (dd__hasher_new(&h, DD__ALG_SHA256) == 0 && dd__hasher_update(h, b->data, b->len) == 0 &&
	    dd__hasher_final(h, &d) == 0 && dd__buf_put(b, d.bin, 32) == 0)
		rc = 0;
	dd__hasher_free(h);
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

/* The tree in B, or NULL when anything is off. */
static struct dd_tree *decode(struct dd_image *img, const unsigned char *data, size_t size)
{
	struct dd_ctx *ctx = img->ctx;
	struct reader r = { data, data + size, false };
	struct dd_tree *t = NULL;
	struct dd__node **order = NULL;
	struct dd__hasher *h = NULL;
	struct dd__digest d;
	uint64_t n, i;
	size_t len;
	bool present;

	if (size < 8 + 32 || memcmp(data, MAGIC, 8))
		return NULL;
	/* The checksum first: nothing is parsed out of a damaged entry. */
	if (dd__hasher_new(&h, DD__ALG_SHA256) || dd__hasher_update(h, data, size - 32) ||
	    dd__hasher_final(h, &d) || memcmp(d.bin, data + size - 32, 32)) {
		dd__hasher_free(h);
		return NULL;
	}
	dd__hasher_free(h);
	r.p += 8;
	r.end -= 32;
	if (!same_string(&r, dd_version()) ||
	    !same_string(&r, img->manifest_digest ? img->manifest_digest : "") ||
	    !same_string(&r, img->config_digest) || dd__tree_new(&t, ctx))
		return NULL;
	n = get_u(&r, 8);
	/* Entries were written in path order: keep it, so finalizing need not sort. */
	order = n <= ctx->limits.max_entries ? malloc((n ? n : 1) * sizeof(*order)) : NULL;
	if (!order) {
		dd_tree_free(t);
		return NULL;
	}
	for (i = 0; i < n && !r.bad; i++) {
		struct dd__node *parent, *node;
		struct dd_entry e;
		const unsigned char *p;
		uint32_t k;

		memset(&e, 0, sizeof(e));
		e.type = (enum dd_type)get_u(&r, 1);
		e.exec = (enum dd_exec)get_u(&r, 1);
		e.elf_machine = (uint16_t)get_u(&r, 2);
		e.mode = (uint32_t)get_u(&r, 4) & 07777;
		e.flags = (uint32_t)get_u(&r, 4);
		e.layer = (int)(int32_t)get_u(&r, 4);
		e.uid = get_u(&r, 8);
		e.gid = get_u(&r, 8);
		e.size = get_u(&r, 8);
		e.ino = get_u(&r, 8);
		e.mtime = (int64_t)get_u(&r, 8);
		e.mtime_nsec = (uint32_t)get_u(&r, 4);
		e.rdev_major = (uint32_t)get_u(&r, 4);
		e.rdev_minor = (uint32_t)get_u(&r, 4);
		e.has_sha256 = get_u(&r, 1) != 0;
		if (e.has_sha256) {
			if (r.end - r.p < 32) {
				r.bad = true;
				break;
			}
			memcpy(e.sha256, r.p, 32);
			r.p += 32;
		}
		p = get_bytes(&r, &len, &present);
		if (r.bad || !present || !len || p[0] != '/' ||
		    e.type < DD_TYPE_FILE || e.type > DD_TYPE_SOCKET || len > ctx->limits.max_path)
			break;
		if (dd__tree_mkparents(t, &parent, (const char *)p, len, e.layer, NULL) ||
		    dd__tree_put(t, &node, parent, (const char *)p, len, e.type, e.layer))
			break;
		e.path = node->e.path;
		e.path_len = node->e.path_len;
		p = get_bytes(&r, &len, &present);
		if (present && !(e.target = dd__arena_strndup(&t->arena, (const char *)p, len)))
			break;
		e.target_len = len;
		e.nxattrs = (uint32_t)get_u(&r, 4);
		if (e.nxattrs > 1024)
			break;
		if (e.nxattrs) {
			struct dd_xattr *xs = dd__arena_alloc(&t->arena, e.nxattrs * sizeof(*xs));

			for (k = 0; xs && k < e.nxattrs && !r.bad; k++) {
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
				break;
			e.xattrs = xs;
		}
		p = get_bytes(&r, &len, &present);
		if (present) {
			e.content = (const unsigned char *)dd__arena_strndup(&t->arena, (const char *)p, len);
			e.content_len = len;
			if (!e.content)
				break;
		}
		if (r.bad)
			break;
		node->e = e;
		order[i] = node;
	}
	if (r.bad || i != n || r.p != r.end || dd__tree_finalize_ordered(t, order, (size_t)n)) {
		free(order);
		dd_tree_free(t);
		return NULL;
	}
	free(order);
	return t;
}

struct dd_tree *dd__cache_load(struct dd_image *img)
{
	struct dd__buf name = DD__BUF_INIT;
	struct dd_tree *tree = NULL;
	struct stat st;
	unsigned char *data = NULL;
	size_t got = 0;
	ssize_t r;
	int fd, code = img->ctx->code;
	char *msg = img->ctx->msg;

	img->ctx->msg = NULL;
	if (!safe_dir(img->cache_dir, false) || !entry_name(img, &name))
		goto out;
	fd = open(name.data, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		goto out;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (uint64_t)st.st_size > ((uint64_t)1 << 34)) {
		close(fd);
		goto out;
	}
	data = malloc((size_t)st.st_size ? (size_t)st.st_size : 1);
	for (got = 0; data && got < (size_t)st.st_size; got += (size_t)r) {
		r = read(fd, data + got, (size_t)st.st_size - got);
		if (r <= 0)
			break;
	}
	close(fd);
	if (data && got == (size_t)st.st_size)
		tree = decode(img, data, got);
	if (!tree)
		/* Damaged or foreign: a miss; the rebuilt tree replaces it. */
		dd__image_warn(img, "manifest cache: %s: unreadable entry, rebuilt", name.data);
out:
	free(data);
	dd__buf_free(&name);
	free(img->ctx->msg);
	img->ctx->msg = msg;
	img->ctx->code = code;
	return tree;
}

void dd__cache_store(struct dd_image *img)
{
	struct dd__buf name = DD__BUF_INIT, tmp = DD__BUF_INIT, bin = DD__BUF_INIT;
	size_t off = 0;
	ssize_t w;
	int fd = -1, code = img->ctx->code, ok = 0;
	char *msg = img->ctx->msg;

	img->ctx->msg = NULL;
	if (!safe_dir(img->cache_dir, true) || !entry_name(img, &name) ||
	    dd__buf_printf(&tmp, "%s.tmpXXXXXX", name.data))
		goto out;
	if (encode(img, img->tree, &bin))
		goto out;
	fd = mkstemp(tmp.data);
	if (fd < 0)
		goto out;
	for (off = 0; off < bin.len; off += (size_t)w) {
		w = write(fd, bin.data + off, bin.len - off);
		if (w <= 0)
			break;
	}
	ok = off == bin.len && fsync(fd) == 0;
	if (close(fd) != 0)
		ok = 0;
	fd = -1;
	if (!ok || rename(tmp.data, name.data) != 0)
		unlink(tmp.data);
out:
	if (fd >= 0)
		close(fd);
	dd__buf_free(&name);
	dd__buf_free(&tmp);
	dd__buf_free(&bin);
	/* A cache that cannot be written costs time, never the result. */
	free(img->ctx->msg);
	img->ctx->msg = msg;
	img->ctx->code = code;
}
