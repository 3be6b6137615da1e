/*
 * The saved manifest: a JSONL file whose first line describes the image
 * (format version, digests, layers, config) and whose other lines are the
 * entries exactly as the "jsonl" listing writes them. The header states
 * how many entries follow, so a truncated file is an error, never a
 * silently smaller tree. Documented in man/driftdiff-manifest.5.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "image_private.h"
#include "listing.h"
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
};

static bool is_within(const struct dd_entry *dir, const char *path, size_t len)
{
	return dir->path_len == 1 ||
	       (len > dir->path_len && path[dir->path_len] == '/' &&
		!memcmp(path, dir->path, dir->path_len));
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
	while (l->ndirs > 1 && !is_within(l->dirs[l->ndirs - 1], path, len))
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
static int load_entry(struct dd_image *img, struct loader *l, struct json_object *o,
		      struct dd__buf *path, struct dd__buf *tmp, const char *where)
{
	struct dd_ctx *ctx = img->ctx;
	struct dd_tree *t = l->t;
	struct dd_entry *e;
	struct json_object *xs, *imp;
	struct dd_entry_extra x;
	enum dd_type type = dd_type_from_name(dd__json_str(o, "type"));
	const char *sha = dd__json_str(o, "sha256"), *exec;
	uint64_t v, uid, gid;
	int64_t iv;
	bool present;
	int rc;

	memset(&x, 0, sizeof(x));
	if (get_bytes(o, "path", "path_bytes", tmp, &present) || !present || !type)
		return dd__error(ctx, DD_EFORMAT, "%s: entry without a valid path or type", where);
	if (tmp->len == 0 || tmp->data[0] != '/' || dd__path_normalize(path, tmp->data, tmp->len) ||
	    path->len != tmp->len || memcmp(path->data, tmp->data, tmp->len) != 0)
		return dd__error(ctx, DD_EFORMAT, "%s: path is not absolute and normalised", where);
	if (path->len > ctx->limits.max_path)
		return dd__error(ctx, DD_ELIMIT, "%s: path longer than %llu bytes (limit max-path)", where,
				 (unsigned long long)ctx->limits.max_path);
	if (!dd__json_int64(o, "layer", &iv) || iv < -1 || iv > INT32_MAX)
		iv = -1;
	rc = place(l, &e, path->data, path->len, type, (int)iv);
	if (rc)
		return dd__error(ctx, rc, "%s: %s", where,
				 rc == DD_ELIMIT ? "too many entries (limit max-entries)" :
				 rc == DD_EFORMAT ? "out of path order, a duplicate, or beneath a non-directory" :
				 "out of memory");
	if (!get_u64(o, "mode", &v) || v > 07777)
		return dd__error(ctx, DD_EFORMAT, "%s: invalid mode", where);
	e->mode = (uint16_t)v;
	if (!get_u64(o, "uid", &uid) || !get_u64(o, "gid", &gid) || uid > UINT32_MAX ||
	    gid > UINT32_MAX || !get_u64(o, "size", &e->size) || !dd__json_int64(o, "mtime", &e->mtime))
		return dd__error(ctx, DD_EFORMAT, "%s: invalid uid, gid, size or mtime", where);
	e->uid = (uint32_t)uid;
	e->gid = (uint32_t)gid;
	if (get_u64(o, "mtime_nsec", &v) && v < 1000000000)
		e->mtime_nsec = (uint32_t)v;
	if (sha) {
		if (strlen(sha) != 64 || dd__unhex(e->sha256, sha, 32))
			return dd__error(ctx, DD_EFORMAT, "%s: invalid sha256", where);
		e->has_sha256 = true;
	}
	if ((exec = dd__json_str(o, "exec"))) {
		if (type != DD_TYPE_FILE || (strcmp(exec, "elf") && strcmp(exec, "script")))
			return dd__error(ctx, DD_EFORMAT, "%s: invalid exec", where);
		e->exec = !strcmp(exec, "elf") ? DD_EXEC_ELF : DD_EXEC_SCRIPT;
		if (get_u64(o, "elf_machine", &v) && v <= UINT16_MAX && e->exec == DD_EXEC_ELF)
			e->elf_machine = (uint16_t)v;
	}
	if (get_bytes(o, "target", "target_bytes", tmp, &present))
		return dd__error(ctx, DD_EFORMAT, "%s: invalid target", where);
	if (present) {
		e->target = dd__arena_string(&t->strings, tmp->data, tmp->len);
		e->target_len = tmp->len;
	}
	if (get_bytes(o, "hardlink", "hardlink_bytes", tmp, &present))
		return dd__error(ctx, DD_EFORMAT, "%s: invalid hardlink", where);
	if (present) {
		/* Share the inode of the group's first path, listed earlier. */
		const struct dd_entry *lead = dd__tree_appended(t, tmp->data, tmp->len);

		if (!lead || lead == e || lead->type == DD_TYPE_DIR)
			return dd__error(ctx, DD_EFORMAT, "%s: hardlink to an unknown path", where);
		e->ino = lead->ino;
	}
	if (get_u64(o, "rdev_major", &v) && v <= UINT32_MAX)
		x.rdev_major = (uint32_t)v;
	if (get_u64(o, "rdev_minor", &v) && v <= UINT32_MAX)
		x.rdev_minor = (uint32_t)v;
	xs = dd__json_obj(o, "xattrs");
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
	if (get_bytes(o, "content", "content", tmp, &present) || (present && e->type != DD_TYPE_FILE))
		return dd__error(ctx, DD_EFORMAT, "%s: invalid content", where);
	if (present) {
		x.content = (const unsigned char *)dd__arena_strndup(&t->arena,
				tmp->data ? tmp->data : "", tmp->len);
		x.content_len = (uint32_t)tmp->len;
	}
	if (dd__entry_set_extra(&t->arena, e, &x))
		return dd__error(ctx, DD_ENOMEM, "out of memory");
	if (json_object_object_get_ex(o, "implicit", &imp) && json_object_get_boolean(imp))
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

int dd__saved_open(struct dd_image *img, FILE *f)
{
	return dd__saved_read(img, f, img->path, &img->tree);
}

int dd__saved_read(struct dd_image *img, FILE *f, const char *name, struct dd_tree **ret)
{
	struct dd_ctx *ctx = img->ctx;
	struct loader l = { NULL, NULL, 0, 0 };
	struct dd__buf path = DD__BUF_INIT, tmp = DD__BUF_INIT, where = DD__BUF_INIT;
	struct json_object *o = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	uint64_t want = 0, got = 0, lineno = 0;
	int rc;

	rc = dd__tree_new(&l.t, ctx);
	if (rc == 0)
		rc = push_dir(&l, &l.t->root->e);
	if (rc) {
		dd_tree_free(l.t);
		return dd__error(ctx, rc, "out of memory");
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		if ((uint64_t)len > ctx->limits.max_json) {
			rc = dd__error(ctx, DD_ELIMIT, "%s:%llu: line too long", name,
				       (unsigned long long)lineno);
			goto out;
		}
		where.len = 0;
		if (dd__buf_printf(&where, "%s:%llu", name, (unsigned long long)lineno)) {
			rc = dd__error(ctx, DD_ENOMEM, "out of memory");
			goto out;
		}
		rc = dd__json_parse(ctx, where.data, line, (size_t)len, &o);
		if (rc)
			goto out;
		rc = lineno == 1 ? load_header(img, o, &want)
				 : load_entry(img, &l, o, &path, &tmp, where.data);
		json_object_put(o);
		o = NULL;
		if (rc)
			goto out;
		if (lineno > 1 && ++got > want) {
			rc = dd__error(ctx, DD_EFORMAT, "%s: more entries than the header's %llu",
				       name, (unsigned long long)want);
			goto out;
		}
	}
	if (ferror(f)) {
		rc = dd__error(ctx, DD_EIO, "%s: %s", name, strerror(errno));
		goto out;
	}
	if (got != want) {
		rc = dd__error(ctx, DD_EFORMAT, "%s: truncated: %llu of %llu entries", name,
			       (unsigned long long)got, (unsigned long long)want);
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
	json_object_put(o);
	free(line);
	free(l.dirs);
	dd_tree_free(l.t);
	dd__buf_free(&path);
	dd__buf_free(&tmp);
	dd__buf_free(&where);
	return rc;
}
