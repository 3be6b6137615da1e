/* oci_builder: test OCI layouts written with libarchive and json-c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <archive.h>
#include <archive_entry.h>
#include <json-c/json.h>

#include "lib/digest.h"
#include "oci_builder.h"

#define OB_MAX_XATTRS 4

struct ob_xattr {
	char *name;
	unsigned char *value;
	size_t len;
};

struct ob_entry {
	char *path;
	unsigned filetype;        /* AE_IF* */
	unsigned mode;
	long uid, gid;
	unsigned char *data;
	size_t len;
	char *link;               /* symlink target or hard link target */
	bool hard;
	struct ob_xattr xattrs[OB_MAX_XATTRS];
	size_t nxattrs;
};

struct ob_layer {
	struct ob_entry *entries;
	size_t n, cap;
	bool gzip;
	enum ob_corrupt corrupt;
};

/* A growable byte buffer for libarchive's write callback. */
struct ob_bytes {
	unsigned char *p;
	size_t len, cap;
};

static void *xmemdup(const void *p, size_t n)
{
	unsigned char *q = malloc(n ? n : 1);

	assert_non_null(q);
	if (n)
		memcpy(q, p, n);
	return q;
}

static char *xstrdup(const char *s)
{
	return xmemdup(s, strlen(s) + 1);
}

struct ob_layer *ob_layer_new(void)
{
	struct ob_layer *l = calloc(1, sizeof(*l));

	assert_non_null(l);
	return l;
}

void ob_layer_free(struct ob_layer *l)
{
	size_t i, k;

	if (!l)
		return;
	for (i = 0; i < l->n; i++) {
		struct ob_entry *e = &l->entries[i];

		free(e->path);
		free(e->data);
		free(e->link);
		for (k = 0; k < e->nxattrs; k++) {
			free(e->xattrs[k].name);
			free(e->xattrs[k].value);
		}
	}
	free(l->entries);
	free(l);
}

static struct ob_entry *push(struct ob_layer *l, const char *path, unsigned filetype,
			     unsigned mode)
{
	struct ob_entry *e;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->entries = realloc(l->entries, l->cap * sizeof(*l->entries));
		assert_non_null(l->entries);
	}
	e = &l->entries[l->n++];
	memset(e, 0, sizeof(*e));
	e->path = xstrdup(path);
	e->filetype = filetype;
	e->mode = mode;
	return e;
}

void ob_file_attrs(struct ob_layer *l, const char *path, const void *data, size_t len,
		   unsigned mode, long uid, long gid)
{
	struct ob_entry *e = push(l, path, AE_IFREG, mode);

	e->data = xmemdup(data, len);
	e->len = len;
	e->uid = uid;
	e->gid = gid;
}

void ob_file(struct ob_layer *l, const char *path, const void *data, size_t len)
{
	ob_file_attrs(l, path, data, len, 0644, 0, 0);
}

void ob_empty(struct ob_layer *l, const char *path)
{
	ob_file(l, path, "", 0);
}

void ob_dir(struct ob_layer *l, const char *path, unsigned mode)
{
	push(l, path, AE_IFDIR, mode);
}

void ob_symlink(struct ob_layer *l, const char *path, const char *target)
{
	push(l, path, AE_IFLNK, 0777)->link = xstrdup(target);
}

void ob_hardlink(struct ob_layer *l, const char *path, const char *target)
{
	struct ob_entry *e = push(l, path, AE_IFREG, 0644);

	e->link = xstrdup(target);
	e->hard = true;
}

void ob_xattr(struct ob_layer *l, const char *name, const void *value, size_t len)
{
	struct ob_entry *e;

	assert_true(l->n > 0);
	e = &l->entries[l->n - 1];
	assert_true(e->nxattrs < OB_MAX_XATTRS);
	e->xattrs[e->nxattrs].name = xstrdup(name);
	e->xattrs[e->nxattrs].value = xmemdup(value, len);
	e->xattrs[e->nxattrs].len = len;
	e->nxattrs++;
}

void ob_gzip(struct ob_layer *l)
{
	l->gzip = true;
}

void ob_corrupt(struct ob_layer *l, enum ob_corrupt how)
{
	l->corrupt = how;
}

/* ---- tar writing ---- */

static la_ssize_t bytes_write(struct archive *a, void *ud, const void *p, size_t n)
{
	struct ob_bytes *b = ud;

	(void)a;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;

		while (cap < b->len + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p)
			return -1;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return (la_ssize_t)n;
}

static void write_entry(struct archive *a, const struct ob_entry *oe)
{
	struct archive_entry *e = archive_entry_new();
	size_t k;

	assert_non_null(e);
	archive_entry_set_pathname(e, oe->path);
	archive_entry_set_filetype(e, oe->filetype);
	archive_entry_set_perm(e, oe->mode);
	archive_entry_set_uid(e, oe->uid);
	archive_entry_set_gid(e, oe->gid);
	archive_entry_set_mtime(e, 1700000000, 0);
	if (oe->hard) {
		archive_entry_set_hardlink(e, oe->link);
		archive_entry_set_size(e, 0);
	} else if (oe->filetype == AE_IFLNK) {
		archive_entry_set_symlink(e, oe->link);
		archive_entry_set_size(e, 0);
	} else {
		archive_entry_set_size(e, (la_int64_t)oe->len);
	}
	for (k = 0; k < oe->nxattrs; k++)
		archive_entry_xattr_add_entry(e, oe->xattrs[k].name, oe->xattrs[k].value,
					      oe->xattrs[k].len);
	if (archive_write_header(a, e) != ARCHIVE_OK)
		fail_msg("archive_write_header(%s): %s", oe->path, archive_error_string(a));
	if (oe->len && !oe->hard &&
	    archive_write_data(a, oe->data, oe->len) != (la_ssize_t)oe->len)
		fail_msg("archive_write_data(%s): %s", oe->path, archive_error_string(a));
	archive_entry_free(e);
}

static unsigned char *layer_bytes(const struct ob_layer *l, bool gzip, size_t *len)
{
	struct archive *a = archive_write_new();
	struct ob_bytes b = { NULL, 0, 0 };
	size_t i;

	assert_non_null(a);
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	/* Names are bytes: write them as given, not converted from the locale. */
	assert_int_equal(archive_write_set_options(a, "hdrcharset=BINARY"), ARCHIVE_OK);
	if (gzip)
		assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_set_bytes_in_last_block(a, 1), ARCHIVE_OK);
	assert_int_equal(archive_write_open(a, &b, NULL, bytes_write, NULL), ARCHIVE_OK);
	for (i = 0; i < l->n; i++)
		write_entry(a, &l->entries[i]);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	*len = b.len;
	return b.p;
}

unsigned char *ob_layer_tar(struct ob_layer *l, size_t *len)
{
	return layer_bytes(l, false, len);
}

/* ---- digests and files ---- */

void ob_sha256_hex(char out[65], const void *data, size_t len)
{
	struct dd__hasher *h = NULL;
	struct dd__digest d;

	assert_int_equal(dd__hasher_new(&h, DD__ALG_SHA256), 0);
	assert_int_equal(dd__hasher_update(h, data, len), 0);
	assert_int_equal(dd__hasher_final(h, &d), 0);
	dd__hex(out, d.bin, d.len);
	dd__hasher_free(h);
}

/* Flip the last hex digit: a well-formed digest that names other content. */
static void mangle_hex(char hex[65])
{
	hex[63] = hex[63] == '0' ? '1' : '0';
}

static void write_file(const char *dir, const char *rel, const void *data, size_t len)
{
	char path[512];
	FILE *f;

	assert_true((size_t)snprintf(path, sizeof(path), "%s/%s", dir, rel) < sizeof(path));
	f = fopen(path, "wbe");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void write_blob(const char *dir, const char *hex, const void *data, size_t len)
{
	char rel[128];

	snprintf(rel, sizeof(rel), "blobs/sha256/%s", hex);
	write_file(dir, rel, data, len);
}

/* A descriptor object: {"mediaType", "digest", "size"}. */
static struct json_object *descriptor(const char *media_type, const char *hex, int64_t size)
{
	struct json_object *o = json_object_new_object();
	char digest[80];

	snprintf(digest, sizeof(digest), "sha256:%s", hex);
	json_object_object_add(o, "mediaType", json_object_new_string(media_type));
	json_object_object_add(o, "digest", json_object_new_string(digest));
	json_object_object_add(o, "size", json_object_new_int64(size));
	return o;
}

/* Serialise O, store it as a blob, return its digest hex and size. */
static void put_json_blob(const char *dir, struct json_object *o, char hex[65], size_t *size)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);

	*size = strlen(s);
	ob_sha256_hex(hex, s, *size);
	write_blob(dir, hex, s, *size);
}

char *ob_write_layout(struct ob_layer *const *layers, size_t n, const struct ob_opts *opts)
{
	char tmpl[] = "/tmp/dd-unit-XXXXXX", path[512], hex[65], cfg_hex[65], man_hex[65];
	struct json_object *cfg, *rootfs, *ids, *hist, *man, *ldescs, *index, *list, *md, *ann;
	const char *s;
	size_t i, cfg_size, man_size;
	char *dir;

	dir = mkdtemp(tmpl);
	assert_non_null(dir);
	dir = xstrdup(dir);
	snprintf(path, sizeof(path), "%s/blobs", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/blobs/sha256", dir);
	assert_int_equal(mkdir(path, 0755), 0);

	ids = json_object_new_array();
	hist = json_object_new_array();
	ldescs = json_object_new_array();
	for (i = 0; i < n; i++) {
		const struct ob_layer *l = layers[i];
		unsigned char *tar, *blob;
		size_t tar_len, blob_len;
		char digest[80];
		struct json_object *h = json_object_new_object(), *d;
		int64_t dsize;

		tar = layer_bytes(l, false, &tar_len);
		blob = l->gzip ? layer_bytes(l, true, &blob_len) : tar;
		if (!l->gzip)
			blob_len = tar_len;
		ob_sha256_hex(hex, tar, tar_len);
		if (l->corrupt == OB_BAD_DIFF_ID)
			mangle_hex(hex);
		snprintf(digest, sizeof(digest), "sha256:%s", hex);
		json_object_array_add(ids, json_object_new_string(digest));
		snprintf(digest, sizeof(digest), "layer %zu", i);
		json_object_object_add(h, "created_by", json_object_new_string(digest));
		json_object_array_add(hist, h);

		ob_sha256_hex(hex, blob, blob_len);
		if (l->corrupt == OB_BAD_BLOB_DIGEST)
			mangle_hex(hex);
		write_blob(dir, hex, blob, blob_len);
		dsize = (int64_t)blob_len + (l->corrupt == OB_SIZE_PLUS_ONE ? 1 :
					     l->corrupt == OB_SIZE_MINUS_ONE ? -1 : 0);
		d = descriptor(l->gzip ? "application/vnd.oci.image.layer.v1.tar+gzip"
				       : "application/vnd.oci.image.layer.v1.tar", hex, dsize);
		json_object_array_add(ldescs, d);
		if (blob != tar)
			free(blob);
		free(tar);
	}

	cfg = json_object_new_object();
	json_object_object_add(cfg, "architecture", json_object_new_string("amd64"));
	json_object_object_add(cfg, "os", json_object_new_string("linux"));
	rootfs = json_object_new_object();
	json_object_object_add(rootfs, "type", json_object_new_string("layers"));
	json_object_object_add(rootfs, "diff_ids", ids);
	json_object_object_add(cfg, "rootfs", rootfs);
	json_object_object_add(cfg, "history", hist);
	put_json_blob(dir, cfg, cfg_hex, &cfg_size);

	man = json_object_new_object();
	json_object_object_add(man, "schemaVersion", json_object_new_int(2));
	json_object_object_add(man, "mediaType",
			       json_object_new_string("application/vnd.oci.image.manifest.v1+json"));
	json_object_object_add(man, "config",
			       descriptor("application/vnd.oci.image.config.v1+json", cfg_hex,
					  (int64_t)cfg_size));
	json_object_object_add(man, "layers", ldescs);
	put_json_blob(dir, man, man_hex, &man_size);

	index = json_object_new_object();
	json_object_object_add(index, "schemaVersion", json_object_new_int(2));
	json_object_object_add(index, "mediaType",
			       json_object_new_string("application/vnd.oci.image.index.v1+json"));
	list = json_object_new_array();
	md = descriptor("application/vnd.oci.image.manifest.v1+json", man_hex, (int64_t)man_size);
	if (opts && opts->index_digest)
		json_object_object_add(md, "digest", json_object_new_string(opts->index_digest));
	ann = json_object_new_object();
	json_object_object_add(ann, "org.opencontainers.image.ref.name",
			       json_object_new_string("test"));
	json_object_object_add(md, "annotations", ann);
	json_object_array_add(list, md);
	json_object_object_add(index, "manifests", list);
	s = json_object_to_json_string_ext(index, JSON_C_TO_STRING_PLAIN);
	write_file(dir, "index.json", s, strlen(s));
	s = "{\"imageLayoutVersion\":\"1.0.0\"}";
	write_file(dir, "oci-layout", s, strlen(s));

	json_object_put(cfg);
	json_object_put(man);
	json_object_put(index);
	return dir;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void ob_rmtree(const char *dir)
{
	/* Only ever our own mkdtemp() directories. */
	if (!dir || strncmp(dir, "/tmp/dd-unit-", 13) != 0)
		return;
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
