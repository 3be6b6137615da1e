/*
 * The saved manifest: a JSONL file whose first line describes the image
 * (format version, digests, layers, config) and whose other lines are the
 * entries exactly as the "jsonl" listing writes them. The header states
 * how many entries follow, so a truncated file is an error, never a
 * silently smaller tree. Documented in man/driftdiff-manifest.5.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_private.h"
#include "listing.h"
#include "pkgdb.h"
#include "tree.h"

#define SAVED_VERSION 1

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

int dd_image_save(struct dd_image *img, FILE *f)
{
	struct dd_ctx *ctx;
	const struct dd_tree *tree;
	struct json_object *h = NULL, *arr, *cfg = NULL;
	size_t i;
	int rc;

	if (!img || !f)
		return DD_EINVAL;
	ctx = img->ctx;
	rc = dd_image_tree(&tree, img);
	if (rc)
		return rc;
	h = json_object_new_object();
	json_object_object_add(h, "driftdiff_manifest", json_object_new_int(SAVED_VERSION));
	add_str(h, "generator", "driftdiff");
	add_str(h, "generator_version", dd_version());
	add_str(h, "source", img->path);
	add_str(h, "source_format", dd_image_format_name(img->format));
	add_str(h, "ref", img->ref);
	add_str(h, "manifest_digest", img->manifest_digest);
	add_str(h, "config_digest", img->config_digest);
	add_str(h, "platform", img->platform);
	arr = json_object_new_array();
	json_object_object_add(h, "layers", arr);
	for (i = 0; i < img->nlayers; i++) {
		const struct dd_layer_info *l = &img->layers[i].info;
		struct json_object *o = json_object_new_object();

		add_str(o, "media_type", l->media_type);
		add_str(o, "digest", l->digest);
		add_str(o, "diff_id", l->diff_id);
		json_object_object_add(o, "size", json_object_new_int64(l->size));
		add_str(o, "location", l->location);
		add_str(o, "compression", dd_compression_name(l->compression));
		json_object_object_add(o, "uncompressed_size",
				       json_object_new_uint64(l->uncompressed_size));
		add_str(o, "verified", l->verified == DD_VERIFY_OK ? "ok" :
				       l->verified == DD_VERIFY_PARTIAL ? "diff_id" : "pending");
		add_str(o, "created_by", l->created_by);
		json_object_array_add(arr, o);
	}
	if (img->config_json) {
		rc = dd__json_parse(ctx, "config", img->config_json, strlen(img->config_json), &cfg);
		if (rc)
			goto out;
		json_object_object_add(h, "config", cfg);
	}
	json_object_object_add(h, "entries", json_object_new_uint64(dd_tree_count(tree)));
	rc = dd__json_write_line(h, f);
	if (rc == 0)
		rc = dd__tree_write(ctx, tree, DD_LISTING_JSONL, true, f);
	else
		rc = dd__error(ctx, DD_EIO, "write error");
out:
	json_object_put(h);
	return rc;
}

/* Bytes of a "key"/"key_bytes" pair: the base64 form is exact when present. */
static int get_bytes(struct json_object *o, const char *key, const char *bkey,
		     struct dd__buf *out, bool *present)
{
	const char *b64 = dd__json_str(o, bkey), *s;
	struct json_object *v;

	*present = false;
	out->len = 0;
	if (b64) {
		if (dd__base64_decode(out, b64, strlen(b64)))
			return DD_EFORMAT;
		*present = true;
		return 0;
	}
	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return DD_EFORMAT;
	s = json_object_get_string(v);
	if (dd__buf_put(out, s, (size_t)json_object_get_string_len(v)))
		return DD_ENOMEM;
	*present = true;
	return 0;
}

static bool get_u64(struct json_object *o, const char *key, uint64_t *out)
{
	int64_t v;

	if (!dd__json_int64(o, key, &v) || v < 0)
		return false;
	*out = (uint64_t)v;
	return true;
}

/*
 * One entry line, read by one of two readers. Most lines are what
 * dd_image_save() writes for a plain file, directory or symlink: a flat
 * object of known keys whose values are ASCII strings without escapes,
 * integers and booleans. Such a line is read in place (json-c's objects
 * cost more than the rest of the load). Any other line (an escape, a
 * byte beyond ASCII, a *_bytes twin, xattrs, content, null, a number of
 * 19 digits or more, whitespace, an unknown or repeated key, a value of
 * an unexpected kind) is declined and goes through dd__json_parse(), so
 * the quick reader needs to know only what it accepts: both give
 * load_entry() the same values, and reject the same lines.
 */
#define QUICK_FIELDS 20

struct quick_field {
	const char *key;          /* into struct line's copy of the text, NUL-ended */
	const char *str;          /* kind 's' */
	size_t len;
	int64_t num;              /* kind 'i'; 'b': 0 or 1 */
	char kind;
};

struct line {
	struct json_object *o;    /* the json-c reading, or NULL for the quick one */
	struct quick_field f[QUICK_FIELDS];
	size_t n;
	struct dd__buf text;      /* the quick reader's copy, its strings cut with NULs */
};

/* The keys the quick reader takes, with their kinds. */
static char quick_kind(const char *k, size_t n)
{
	static const struct { const char *key; char kind; } keys[] = {
		{ "path", 's' }, { "type", 's' }, { "mode", 'i' }, { "uid", 'i' }, { "gid", 'i' },
		{ "size", 'i' }, { "mtime", 'i' }, { "mtime_nsec", 'i' }, { "sha256", 's' },
		{ "exec", 's' }, { "elf_machine", 'i' }, { "target", 's' }, { "hardlink", 's' },
		{ "rdev_major", 'i' }, { "rdev_minor", 'i' }, { "layer", 'i' }, { "implicit", 'b' },
	};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i].key) == n && !memcmp(keys[i].key, k, n))
			return keys[i].kind;
	return 0;
}

/* A string of printable ASCII without escapes, from *P (after its quote); cut at its end. */
static bool quick_string(char **p, char *end, const char **s, size_t *n)
{
	char *q = *p;

	while (q < end && *q != '"') {
		if (*q == '\\' || (unsigned char)*q < 0x20 || (unsigned char)*q > 0x7e)
			return false;
		q++;
	}
	if (q == end)
		return false;
	*q = '\0';
	*s = *p;
	*n = (size_t)(q - *p);
	*p = q + 1;
	return true;
}

/* An RFC 8259 integer of at most 18 digits, so that it fits in int64_t as json-c reads it. */
static bool quick_int(char **p, char *end, int64_t *v)
{
	char *q = *p;
	bool neg = false;
	int digits = 0;

	if (q < end && *q == '-') {
		neg = true;
		q++;
	}
	if (q == end || *q < '0' || *q > '9' || (*q == '0' && neg))
		return false;
	if (*q == '0' && q + 1 < end && q[1] >= '0' && q[1] <= '9')
		return false; /* a leading zero: not JSON */
	*v = 0;
	while (q < end && *q >= '0' && *q <= '9') {
		if (++digits > 18)
			return false;
		*v = *v * 10 + (*q - '0');
		q++;
	}
	if (q < end && (*q == '.' || *q == 'e' || *q == 'E'))
		return false; /* a double for json-c */
	if (neg)
		*v = -*v;
	*p = q;
	return true;
}

static bool quick_read(struct line *L, const char *data, size_t len)
{
	char *p, *end;
	size_t i;

	L->n = 0;
	L->text.len = 0;
	if (len < 2 || data[0] != '{' || data[len - 1] != '}' || dd__buf_put(&L->text, data, len))
		return false;
	p = L->text.data + 1;
	end = L->text.data + len - 1;
	if (p == end)
		return true; /* {} */
	for (;;) {
		struct quick_field *f = &L->f[L->n];
		const char *key;
		size_t klen;

		if (L->n == QUICK_FIELDS || p == end || *p++ != '"' || !quick_string(&p, end, &key, &klen) ||
		    p == end || *p++ != ':' || !(f->kind = quick_kind(key, klen)))
			return false;
		for (i = 0; i < L->n; i++)
			if (!strcmp(L->f[i].key, key))
				return false; /* json-c would keep the last; the strict reader refuses */
		f->key = key;
		if (f->kind == 's') {
			if (p == end || *p++ != '"' || !quick_string(&p, end, &f->str, &f->len))
				return false;
		} else if (f->kind == 'i') {
			if (!quick_int(&p, end, &f->num))
				return false;
		} else if ((size_t)(end - p) >= 4 && !memcmp(p, "true", 4)) {
			f->num = 1;
			p += 4;
		} else if ((size_t)(end - p) >= 5 && !memcmp(p, "false", 5)) {
			f->num = 0;
			p += 5;
		} else {
			return false;
		}
		L->n++;
		if (p == end)
			return true;
		if (*p++ != ',')
			return false;
	}
}

static const struct quick_field *quick_get(const struct line *L, const char *key, char kind)
{
	size_t i;

	for (i = 0; i < L->n; i++)
		if (!strcmp(L->f[i].key, key))
			return L->f[i].kind == kind ? &L->f[i] : NULL;
	return NULL;
}

/* What dd__json_str() gives of the line. */
static const char *line_str(const struct line *L, const char *key)
{
	const struct quick_field *f;

	if (L->o)
		return dd__json_str(L->o, key);
	f = quick_get(L, key, 's');
	return f ? f->str : NULL;
}

/* What dd__json_int64() gives of the line. */
static bool line_int64(const struct line *L, const char *key, int64_t *out)
{
	const struct quick_field *f;

	if (L->o)
		return dd__json_int64(L->o, key, out);
	f = quick_get(L, key, 'i');
	if (f)
		*out = f->num;
	return f != NULL;
}

static bool line_u64(const struct line *L, const char *key, uint64_t *out)
{
	int64_t v;

	if (!line_int64(L, key, &v) || v < 0)
		return false;
	*out = (uint64_t)v;
	return true;
}

static int line_bytes(const struct line *L, const char *key, const char *bkey, struct dd__buf *out,
		      bool *present)
{
	const struct quick_field *f;

	if (L->o)
		return get_bytes(L->o, key, bkey, out, present);
	/* A quick line has no *_bytes twin: those go through json-c. */
	f = quick_get(L, key, 's');
	out->len = 0;
	*present = f != NULL;
	return f && dd__buf_put(out, f->str, f->len) ? DD_ENOMEM : 0;
}

static bool line_true(const struct line *L, const char *key)
{
	struct json_object *v;
	const struct quick_field *f;

	if (L->o)
		return json_object_object_get_ex(L->o, key, &v) && json_object_get_boolean(v);
	f = quick_get(L, key, 'b');
	return f && f->num;
}

/*
 * Entries come in path order (driftdiff-manifest(5)), so the tree is built
 * by appending: no hash table, no node links. The directories from the
 * root to the last entry are kept on a stack: an entry's parent is on it,
 * or is missing and made here (an implicit directory, as a layer makes
 * one); anything else is out of order, a duplicate or beneath a
 * non-directory.
 */
struct loader {
	struct dd_tree *t;
	struct dd_entry **dirs;  /* dirs[0] is the root */
	size_t ndirs, cap;
	struct line line;        /* the line being read */
};

/* Is PATH below the directory DIR (of DLEN bytes)? Every path is below "/". */
static bool path_within(const char *dir, size_t dlen, const char *path, size_t len)
{
	return (dlen == 1 && len > 1) ||
	       (len > dlen && path[dlen] == '/' && !memcmp(path, dir, dlen));
}

static int push_dir(struct loader *l, struct dd_entry *e)
{
	if (dd__grow(&l->dirs, &l->cap, l->ndirs, sizeof(*l->dirs)))
		return DD_ENOMEM;
	l->dirs[l->ndirs++] = e;
	return 0;
}

static int append(struct loader *l, struct dd_entry **out, const char *path, size_t len,
		  enum dd_type type, int layer)
{
	int rc = dd__tree_append(l->t, out, path, len, type, layer);

	if (rc == 0 && len > 1)
		(*out)->ino = ++l->t->next_ino;
	return rc;
}

/* Append PATH's missing parent directories and PATH itself. */
static int place(struct loader *l, struct dd_entry **out, const char *path, size_t len,
		 enum dd_type type, int layer)
{
	const char *slash;
	struct dd_entry *d;
	int rc;

	*out = NULL;
	if (len == 1) {
		rc = dd__tree_append(l->t, out, path, len, type, layer);
		if (rc == 0)
			(*out)->layer = layer;
		return rc;
	}
	while (l->ndirs > 1 && !path_within(l->dirs[l->ndirs - 1]->path, l->dirs[l->ndirs - 1]->path_len,
					    path, len))
		l->ndirs--;
	d = l->dirs[l->ndirs - 1];
	/* Each component between the deepest listed ancestor and PATH. */
	while ((slash = memchr(path + d->path_len + 1, '/', len - d->path_len - 1))) {
		rc = append(l, &d, path, (size_t)(slash - path), DD_TYPE_DIR, layer);
		if (rc)
			return rc;
		d->mode = 0755;
		d->flags |= DD_ENTRY_IMPLICIT;
		if ((rc = push_dir(l, d)))
			return rc;
	}
	rc = append(l, out, path, len, type, layer);
	if (rc == 0 && type == DD_TYPE_DIR)
		rc = push_dir(l, *out);
	return rc;
}

/* One entry line into the tree. */
static int load_entry(struct dd_image *img, struct loader *l, const struct line *L,
		      struct dd__buf *path, struct dd__buf *tmp, const char *where)
{
	struct dd_ctx *ctx = img->ctx;
	struct dd_tree *t = l->t;
	struct dd_entry *e;
	struct json_object *xs;
	struct dd_entry_extra x;
	enum dd_type type = dd_type_from_name(line_str(L, "type"));
	const char *sha = line_str(L, "sha256"), *exec;
	uint64_t v, uid, gid;
	int64_t iv;
	bool present;
	int rc;

	memset(&x, 0, sizeof(x));
	if (line_bytes(L, "path", "path_bytes", tmp, &present) || !present || !type)
		return dd__error(ctx, DD_EFORMAT, "%s: entry without a valid path or type", where);
	if (tmp->len == 0 || tmp->data[0] != '/' || dd__path_normalize(path, tmp->data, tmp->len) ||
	    path->len != tmp->len || memcmp(path->data, tmp->data, tmp->len) != 0)
		return dd__error(ctx, DD_EFORMAT, "%s: path is not absolute and normalised", where);
	if (path->len > ctx->limits.max_path)
		return dd__error(ctx, DD_ELIMIT, "%s: path longer than %llu bytes (limit max-path)", where,
				 (unsigned long long)ctx->limits.max_path);
	if (!line_int64(L, "layer", &iv) || iv < -1 || iv > INT32_MAX)
		iv = -1;
	rc = place(l, &e, path->data, path->len, type, (int)iv);
	if (rc)
		return dd__error(ctx, rc, "%s: %s", where,
				 rc == DD_ELIMIT ? "too many entries (limit max-entries)" :
				 rc == DD_EFORMAT ? "out of path order, a duplicate, or beneath a non-directory" :
				 "out of memory");
	if (!line_u64(L, "mode", &v) || v > 07777)
		return dd__error(ctx, DD_EFORMAT, "%s: invalid mode", where);
	e->mode = (uint16_t)v;
	if (!line_u64(L, "uid", &uid) || !line_u64(L, "gid", &gid) || uid > UINT32_MAX ||
	    gid > UINT32_MAX || !line_u64(L, "size", &e->size) || !line_int64(L, "mtime", &e->mtime))
		return dd__error(ctx, DD_EFORMAT, "%s: invalid uid, gid, size or mtime", where);
	e->uid = (uint32_t)uid;
	e->gid = (uint32_t)gid;
	if (line_u64(L, "mtime_nsec", &v) && v < 1000000000)
		e->mtime_nsec = (uint32_t)v;
	if (sha) {
		if (strlen(sha) != 64 || dd__unhex(e->sha256, sha, 32))
			return dd__error(ctx, DD_EFORMAT, "%s: invalid sha256", where);
		e->has_sha256 = true;
	}
	if ((exec = line_str(L, "exec"))) {
		if (type != DD_TYPE_FILE || (strcmp(exec, "elf") && strcmp(exec, "script")))
			return dd__error(ctx, DD_EFORMAT, "%s: invalid exec", where);
		e->exec = !strcmp(exec, "elf") ? DD_EXEC_ELF : DD_EXEC_SCRIPT;
		if (line_u64(L, "elf_machine", &v) && v <= UINT16_MAX && e->exec == DD_EXEC_ELF)
			e->elf_machine = (uint16_t)v;
	}
	if (line_bytes(L, "target", "target_bytes", tmp, &present))
		return dd__error(ctx, DD_EFORMAT, "%s: invalid target", where);
	if (present) {
		e->target = dd__arena_string(&t->strings, tmp->data, tmp->len);
		e->target_len = tmp->len;
	}
	if (line_bytes(L, "hardlink", "hardlink_bytes", tmp, &present))
		return dd__error(ctx, DD_EFORMAT, "%s: invalid hardlink", where);
	if (present) {
		/* Share the inode of the group's first path, listed earlier. */
		const struct dd_entry *lead = dd__tree_appended(t, tmp->data, tmp->len);

		if (!lead || lead == e || lead->type == DD_TYPE_DIR)
			return dd__error(ctx, DD_EFORMAT, "%s: hardlink to an unknown path", where);
		e->ino = lead->ino;
	}
	if (line_u64(L, "rdev_major", &v) && v <= UINT32_MAX)
		x.rdev_major = (uint32_t)v;
	if (line_u64(L, "rdev_minor", &v) && v <= UINT32_MAX)
		x.rdev_minor = (uint32_t)v;
	xs = L->o ? dd__json_obj(L->o, "xattrs") : NULL; /* quick lines have none */
	if (xs) {
		size_t k = 0, count = (size_t)json_object_object_length(xs);
		struct dd_xattr *arr;

		if (count > 1024)
			return dd__error(ctx, DD_ELIMIT, "%s: too many xattrs", where);
		arr = dd__arena_alloc(&t->arena, (count ? count : 1) * sizeof(*arr));
		if (!arr)
			return dd__error(ctx, DD_ENOMEM, "out of memory");
		json_object_object_foreach(xs, key, val) {
			const char *b64 = json_object_is_type(val, json_type_string)
						  ? json_object_get_string(val) : NULL;

			if (!b64 || dd__base64_decode(tmp, b64, strlen(b64)))
				return dd__error(ctx, DD_EFORMAT, "%s: invalid xattr %s", where, key);
			arr[k].name = dd__arena_strndup(&t->arena, key, strlen(key));
			arr[k].value = (const unsigned char *)dd__arena_strndup(&t->arena,
					tmp->data ? tmp->data : "", tmp->len);
			arr[k].len = tmp->len;
			k++;
		}
		x.xattrs = arr;
		x.nxattrs = (uint32_t)k;
	}
	if (line_bytes(L, "content", "content", tmp, &present) || (present && e->type != DD_TYPE_FILE))
		return dd__error(ctx, DD_EFORMAT, "%s: invalid content", where);
	if (present) {
		x.content = (const unsigned char *)dd__arena_strndup(&t->arena,
				tmp->data ? tmp->data : "", tmp->len);
		x.content_len = (uint32_t)tmp->len;
	}
	if (dd__entry_set_extra(&t->arena, e, &x))
		return dd__error(ctx, DD_ENOMEM, "out of memory");
	if (line_true(L, "implicit"))
		e->flags |= DD_ENTRY_IMPLICIT;
	else
		e->flags &= ~DD_ENTRY_IMPLICIT;
	return 0;
}

static int load_header(struct dd_image *img, struct json_object *h, uint64_t *entries)
{
	struct dd_ctx *ctx = img->ctx;
	struct json_object *layers = dd__json_arr(h, "layers"), *cfg = dd__json_obj(h, "config");
	int64_t version;
	size_t i, n;
	int rc;

	if (!dd__json_int64(h, "driftdiff_manifest", &version) || version != SAVED_VERSION)
		return dd__error(ctx, DD_EUNSUPPORTED, "%s: saved manifest version is not %d",
				 img->path, SAVED_VERSION);
	if (!get_u64(h, "entries", entries))
		return dd__error(ctx, DD_EFORMAT, "%s: header has no entry count", img->path);
	img->ref = dd__image_strdup(img, dd__json_str(h, "ref"));
	img->manifest_digest = dd__image_strdup(img, dd__json_str(h, "manifest_digest"));
	img->config_digest = dd__image_strdup(img, dd__json_str(h, "config_digest"));
	img->platform = dd__image_strdup(img, dd__json_str(h, "platform"));
	n = layers ? json_object_array_length(layers) : 0;
	rc = dd__image_alloc_layers(img, n);
	if (rc)
		return rc;
	for (i = 0; i < n; i++) {
		struct json_object *l = json_object_array_get_idx(layers, i);
		struct dd_layer_info *li = &img->layers[i].info;
		const char *v = dd__json_str(l, "verified"), *c = dd__json_str(l, "compression");

		li->media_type = dd__image_strdup(img, dd__json_str(l, "media_type"));
		li->digest = dd__image_strdup(img, dd__json_str(l, "digest"));
		li->diff_id = dd__image_strdup(img, dd__json_str(l, "diff_id"));
		li->location = dd__image_strdup(img, dd__json_str(l, "location"));
		li->created_by = dd__image_strdup(img, dd__json_str(l, "created_by"));
		if (!dd__json_int64(l, "size", &li->size))
			li->size = -1;
		get_u64(l, "uncompressed_size", &li->uncompressed_size);
		li->verified = v && !strcmp(v, "ok") ? DD_VERIFY_OK :
			       v && !strcmp(v, "diff_id") ? DD_VERIFY_PARTIAL : DD_VERIFY_PENDING;
		li->compression = !c ? DD_COMPRESSION_UNKNOWN :
				  !strcmp(c, "none") ? DD_COMPRESSION_NONE :
				  !strcmp(c, "gzip") ? DD_COMPRESSION_GZIP :
				  !strcmp(c, "zstd") ? DD_COMPRESSION_ZSTD : DD_COMPRESSION_OTHER;
	}
	if (cfg) {
		const char *s = json_object_to_json_string_ext(cfg, JSON_C_TO_STRING_PLAIN);
		struct json_object *hist = dd__json_arr(cfg, "history");

		img->config_json = dd__image_strdup(img, s);
		n = hist ? json_object_array_length(hist) : 0;
		img->history = calloc(n ? n : 1, sizeof(*img->history));
		if (!img->history)
			return dd__error(ctx, DD_ENOMEM, "out of memory");
		for (i = 0; i < n; i++) {
			struct json_object *e = json_object_array_get_idx(hist, i), *empty;
			struct dd_history_info *hi = &img->history[img->nhistory++];

			hi->created = dd__image_strdup(img, dd__json_str(e, "created"));
			hi->created_by = dd__image_strdup(img, dd__json_str(e, "created_by"));
			hi->author = dd__image_strdup(img, dd__json_str(e, "author"));
			hi->comment = dd__image_strdup(img, dd__json_str(e, "comment"));
			hi->empty_layer = json_object_object_get_ex(e, "empty_layer", &empty) &&
					  json_object_get_boolean(empty);
		}
	}
	return 0;
}

/* The next line of F, newline cut, NUL-terminated; -1 at the end (or on error: ferror). */
static ssize_t next_line(struct dd_image *img, FILE *f, char **line, size_t *cap, uint64_t lineno)
{
	ssize_t len = getline(line, cap, f);

	if (len < 0)
		return -1;
	if (len && (*line)[len - 1] == '\n')
		(*line)[--len] = '\0';
	if ((uint64_t)len > img->ctx->limits.max_json) {
		dd__error(img->ctx, DD_ELIMIT, "%s:%llu: line too long", img->path,
			  (unsigned long long)lineno);
		return -2;
	}
	return len;
}

int dd__saved_open(struct dd_image *img, FILE *f)
{
	struct json_object *o = NULL;
	struct dd__buf where = DD__BUF_INIT;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc;

	len = next_line(img, f, &line, &cap, 1);
	if (len < 0) {
		rc = len == -2 ? DD_ELIMIT : dd__error(img->ctx, DD_EFORMAT, "%s: no header line", img->path);
		goto out;
	}
	if (dd__buf_printf(&where, "%s:1", img->path)) {
		rc = dd__error(img->ctx, DD_ENOMEM, "out of memory");
		goto out;
	}
	rc = dd__json_parse(img->ctx, where.data, line, (size_t)len, &o);
	if (rc == 0)
		rc = load_header(img, o, &img->saved_entries);
	if (rc == 0) {
		img->saved_body = ftello(f);
		if (img->saved_body < 0)
			rc = dd__error(img->ctx, DD_EIO, "%s: %s", img->path, strerror(errno));
		else
			img->saved = f;
	}
out:
	json_object_put(o);
	dd__buf_free(&where);
	free(line);
	return rc;
}

/*
 * What an upper-dir comparison needs of the image, chosen line by line as
 * the entries go by in path order (cache.c chooses the same from its
 * index): the upper dir's own paths, all below a whiteout, an opaque
 * directory or a non-directory put over a directory (dd_diff_upper() may
 * report them deleted), what classification parses, the first paths of
 * hard-link groups, and the parents of all of these. A parent comes before
 * its children, so the directories on the way to the current line wait on
 * a stack until a child is wanted, or the walk leaves them.
 */
struct pending {
	size_t off, len;         /* the line, in the filter's text */
	size_t path_off, path_len;
	uint64_t lineno;
};

struct filter {
	const struct dd_tree *upper;
	size_t pos;                     /* the first upper entry not before the current line */
	const struct dd_entry *under;   /* the upper entry whose whole image subtree is wanted */
	char **leads;                   /* hard-link groups' first paths, in path order */
	size_t nleads;
	struct dd__buf text;            /* pending lines, one after the other */
	struct pending *pend;
	size_t npend, pend_cap;
	struct dd__buf prev;            /* the last line's path, for the order check */
};

static int lead_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;

	return dd_path_compare(x, strlen(x), y, strlen(y));
}

struct path_key {
	const char *p;
	size_t n;
};

static int lead_find_cmp(const void *key, const void *elem)
{
	const struct path_key *k = key;
	const char *e = *(const char *const *)elem;

	return dd_path_compare(k->p, k->n, e, strlen(e));
}

static bool wanted(struct filter *flt, const char *path, size_t len)
{
	const struct dd_entry *u;
	struct path_key key = { path, len };

	if (len == 1)
		return true;
	u = dd__tree_seek(flt->upper, &flt->pos, path, len);
	if (flt->under && !path_within(flt->under->path, flt->under->path_len, path, len))
		flt->under = NULL;
	if (flt->under)
		return true;
	if (u) {
		if ((u->flags & (DD_ENTRY_WHITEOUT | DD_ENTRY_OPAQUE)) || u->type != DD_TYPE_DIR)
			flt->under = u;
		return true;
	}
	if (dd_entry_content_kept(path, len) || dd__pkgdb_is_db_path(path, len))
		return true;
	return flt->nleads && bsearch(&key, flt->leads, flt->nleads, sizeof(*flt->leads), lead_find_cmp);
}

/*
 * The string value starting at S (after its opening quote; the line ends
 * at END) as this file's writer writes the value of KEY: its bytes as they
 * are (*N of them) when it holds no escape and is not followed by KEY's
 * "_bytes" twin; false otherwise (the line is then parsed).
 */
static bool plain_value(const char *s, const char *end, const char *key, size_t *n)
{
	const char *q = memchr(s, '"', (size_t)(end - s));
	size_t k = strlen(key);

	if (!q || memchr(s, '\\', (size_t)(q - s)))
		return false;
	/* ","KEY_bytes": the exact bytes are elsewhere. */
	if ((size_t)(end - q) > k + 9 && !memcmp(q, "\",\"", 3) && !memcmp(q + 3, key, k) &&
	    !memcmp(q + 3 + k, "_bytes\"", 7))
		return false;
	*n = (size_t)(q - s);
	return true;
}

/* The path of an entry line that starts as this file's writer starts one: {"path":"... */
static bool quick_path(const char *line, size_t len, size_t *off, size_t *plen)
{
	static const char pre[] = "{\"path\":\"";

	if (len < sizeof(pre) || memcmp(line, pre, sizeof(pre) - 1) ||
	    !plain_value(line + sizeof(pre) - 1, line + len, "path", plen))
		return false;
	*off = sizeof(pre) - 1;
	return true;
}

/* The first paths of hard-link groups: a pass over the lines, before the real one. */
static int scan_leads(struct dd_image *img, struct filter *flt, struct dd__buf *tmp)
{
	static const char key[] = "\"hardlink\":\"";
	struct dd__ptrvec leads = { NULL, 0, 0 };
	char *copy;
	char *line = NULL, *p;
	size_t n;
	size_t cap = 0;
	ssize_t len;
	uint64_t lineno = 1;
	int rc = 0;

	while (rc == 0 && (len = next_line(img, img->saved, &line, &cap, ++lineno)) >= 0) {
		bool present = false;
		struct json_object *o = NULL;

		if (!(p = memmem(line, (size_t)len, key, sizeof(key) - 1)))
			continue;
		p += sizeof(key) - 1;
		tmp->len = 0;
		if (plain_value(p, line + len, "hardlink", &n)) {
			rc = dd__buf_put(tmp, p, n) ? DD_ENOMEM : 0;
			present = true;
		} else if (dd__json_parse(img->ctx, img->path, line, (size_t)len, &o) == 0) {
			rc = get_bytes(o, "hardlink", "hardlink_bytes", tmp, &present) == DD_ENOMEM ? DD_ENOMEM : 0;
			json_object_put(o);
		}
		/* A path with a NUL is never a real one: the real pass refuses the line. */
		if (rc || !present || memchr(tmp->data, '\0', tmp->len))
			continue;
		copy = strndup(tmp->data, tmp->len);
		if (!copy || dd__ptrvec_push(&leads, copy)) {
			free(copy);
			rc = DD_ENOMEM;
		}
	}
	free(line);
	if (rc == 0 && len == -2)
		rc = DD_ELIMIT;
	if (rc == DD_ENOMEM)
		dd__error(img->ctx, rc, "out of memory");
	if (leads.len)
		qsort(leads.items, leads.len, sizeof(void *), lead_cmp);
	flt->leads = (char **)leads.items;
	flt->nleads = leads.len;
	if (rc == 0 && fseeko(img->saved, img->saved_body, SEEK_SET) != 0)
		rc = dd__error(img->ctx, DD_EIO, "%s: %s", img->path, strerror(errno));
	return rc;
}

static void filter_free(struct filter *flt)
{
	size_t i;

	for (i = 0; i < flt->nleads; i++)
		free(flt->leads[i]);
	free(flt->leads);
	free(flt->pend);
	dd__buf_free(&flt->text);
	dd__buf_free(&flt->prev);
}

/* Parse the line LINE (LINENO) and load it into the tree. */
static int load_line(struct dd_image *img, struct loader *l, const char *line, size_t len,
		     uint64_t lineno, struct dd__buf *path, struct dd__buf *tmp, struct dd__buf *where)
{
	int rc = 0;

	where->len = 0;
	if (dd__buf_printf(where, "%s:%llu", img->path, (unsigned long long)lineno))
		return dd__error(img->ctx, DD_ENOMEM, "out of memory");
	l->line.o = NULL;
	if (len > img->ctx->limits.max_json || !quick_read(&l->line, line, len))
		rc = dd__json_parse(img->ctx, where->data, line, len, &l->line.o);
	if (rc == 0)
		rc = load_entry(img, l, &l->line, path, tmp, where->data);
	json_object_put(l->line.o);
	l->line.o = NULL;
	return rc;
}

/* Drop the pending lines that are not parents of PATH. */
static void pend_leave(struct filter *flt, const char *path, size_t len)
{
	while (flt->npend) {
		struct pending *p = &flt->pend[flt->npend - 1];

		if (path_within(flt->text.data + p->path_off, p->path_len, path, len))
			break;
		flt->text.len = p->off;
		flt->npend--;
	}
}

/* Filter one line: load it (and its pending parents) or keep it pending. */
static int filter_line(struct dd_image *img, struct loader *l, struct filter *flt, const char *line,
		       size_t len, uint64_t lineno, struct dd__buf *path, struct dd__buf *tmp,
		       struct dd__buf *where)
{
	const char *p;
	size_t off, plen, i;
	struct pending *pd;
	int rc;

	if (quick_path(line, len, &off, &plen)) {
		p = line + off;
	} else {
		struct json_object *o = NULL;
		bool present = false;

		where->len = 0;
		if (dd__buf_printf(where, "%s:%llu", img->path, (unsigned long long)lineno))
			return dd__error(img->ctx, DD_ENOMEM, "out of memory");
		rc = dd__json_parse(img->ctx, where->data, line, len, &o);
		if (rc == 0 && (get_bytes(o, "path", "path_bytes", tmp, &present) || !present))
			rc = dd__error(img->ctx, DD_EFORMAT, "%s: entry without a valid path or type",
				       where->data);
		json_object_put(o);
		if (rc)
			return rc;
		p = tmp->data;
		plen = tmp->len;
		off = SIZE_MAX; /* not in the line: its copy is in tmp */
	}
	if (flt->prev.len && dd_path_compare(flt->prev.data, flt->prev.len, p, plen) >= 0)
		return dd__error(img->ctx, DD_EFORMAT, "%s:%llu: out of path order, or a duplicate",
				 img->path, (unsigned long long)lineno);
	flt->prev.len = 0;
	if (dd__buf_put(&flt->prev, p, plen))
		return dd__error(img->ctx, DD_ENOMEM, "out of memory");
	pend_leave(flt, flt->prev.data, flt->prev.len);
	if (!wanted(flt, flt->prev.data, flt->prev.len)) {
		if (dd__grow(&flt->pend, &flt->pend_cap, flt->npend, sizeof(*flt->pend)))
			return dd__error(img->ctx, DD_ENOMEM, "out of memory");
		pd = &flt->pend[flt->npend++];
		pd->off = flt->text.len;
		pd->len = len;
		pd->lineno = lineno;
		pd->path_len = plen;
		if (dd__buf_put(&flt->text, line, len) || dd__buf_put(&flt->text, flt->prev.data, plen))
			return dd__error(img->ctx, DD_ENOMEM, "out of memory");
		pd->path_off = pd->off + len;
		return 0;
	}
	/* Wanted: the parents that waited first, in their order. */
	for (i = 0; i < flt->npend; i++) {
		pd = &flt->pend[i];
		rc = load_line(img, l, flt->text.data + pd->off, pd->len, pd->lineno, path, tmp, where);
		if (rc)
			return rc;
	}
	flt->npend = 0;
	flt->text.len = 0;
	return load_line(img, l, line, len, lineno, path, tmp, where);
}

int dd__saved_load(struct dd_image *img, const struct dd_tree *upper, struct dd_tree **ret)
{
	struct dd_ctx *ctx = img->ctx;
	struct loader l;
	struct filter flt;
	struct dd__buf path = DD__BUF_INIT, tmp = DD__BUF_INIT, where = DD__BUF_INIT;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	uint64_t got = 0, lineno = 1;
	int rc;

	*ret = NULL;
	memset(&l, 0, sizeof(l));
	memset(&flt, 0, sizeof(flt));
	flt.upper = upper;
	if (fseeko(img->saved, img->saved_body, SEEK_SET) != 0)
		return dd__error(ctx, DD_EIO, "%s: %s", img->path, strerror(errno));
	rc = dd__tree_new(&l.t, ctx);
	if (rc == 0)
		rc = push_dir(&l, &l.t->root->e);
	if (rc) {
		rc = dd__error(ctx, rc, "out of memory");
		goto out;
	}
	if (upper && (rc = scan_leads(img, &flt, &tmp)))
		goto out;
	while ((len = next_line(img, img->saved, &line, &cap, ++lineno)) >= 0) {
		if (++got > img->saved_entries) {
			rc = dd__error(ctx, DD_EFORMAT, "%s: more entries than the header's %llu",
				       img->path, (unsigned long long)img->saved_entries);
			goto out;
		}
		rc = upper ? filter_line(img, &l, &flt, line, (size_t)len, lineno, &path, &tmp, &where)
			   : load_line(img, &l, line, (size_t)len, lineno, &path, &tmp, &where);
		if (rc)
			goto out;
	}
	if (len == -2) {
		rc = DD_ELIMIT;
		goto out;
	}
	if (ferror(img->saved)) {
		rc = dd__error(ctx, DD_EIO, "%s: %s", img->path, strerror(errno));
		goto out;
	}
	if (got != img->saved_entries) {
		rc = dd__error(ctx, DD_EFORMAT, "%s: truncated: %llu of %llu entries", img->path,
			       (unsigned long long)got, (unsigned long long)img->saved_entries);
		goto out;
	}
	rc = dd__tree_finalize_appended(l.t);
	if (rc) {
		rc = dd__error(ctx, rc, "out of memory");
		goto out;
	}
	*ret = l.t;
	l.t = NULL;
out:
	free(line);
	free(l.dirs);
	dd__buf_free(&l.line.text);
	dd_tree_free(l.t);
	filter_free(&flt);
	dd__buf_free(&path);
	dd__buf_free(&tmp);
	dd__buf_free(&where);
	return rc;
}
