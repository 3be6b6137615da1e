/*
 * docker save archives. manifest.json is an array of
 * {"Config": PATH, "RepoTags": [...], "Layers": [PATH...]}; the paths are
 * members of the archive, in any of the forms that Docker (old and 25+),
 * the containerd store, podman and skopeo write. Where a member's name
 * states its digest ("blobs/sha256/<hex>", "<hex>.json", "<hex>.tar") the
 * bytes are verified against it; every layer is verified against the
 * config's diff_ids in any case.
 */
#include <stdlib.h>
#include <string.h>

#include "image_private.h"

/* The digest a member's name claims for its bytes, if it claims one. */
static bool name_digest(const char *name, const char *suffix, struct dd__digest *out)
{
	struct dd__buf b = DD__BUF_INIT;
	const char *base = strrchr(name, '/');
	size_t n, slen = strlen(suffix);
	bool ok = false;

	if (!strncmp(name, "blobs/", 6)) {
		/* blobs/<alg>/<hex> */
		const char *alg = name + 6, *sl = strchr(alg, '/');

		if (!sl || strchr(sl + 1, '/') || dd__buf_put(&b, alg, (size_t)(sl - alg)) ||
		    dd__buf_puts(&b, ":") || dd__buf_puts(&b, sl + 1))
			goto out;
		ok = dd__digest_parse(out, b.data, b.len) == 0;
		goto out;
	}
	base = base ? base + 1 : name;
	n = strlen(base);
	if (n != 64 + slen || strcmp(base + 64, suffix) != 0)
		goto out;
	if (dd__buf_puts(&b, "sha256:") || dd__buf_put(&b, base, 64))
		goto out;
	/* Only a top-level "<hex>.json" or "<hex>.tar" names its own content. */
	ok = base == name && dd__digest_parse(out, b.data, b.len) == 0;
out:
	dd__buf_free(&b);
	return ok;
}

static int read_verified(struct dd_image *img, const char *member, struct dd__buf *out,
			 const char **digest)
{
	struct dd__digest want, got;
	struct dd__hasher *h = NULL;
	int rc;

	*digest = NULL;
	rc = dd__src_read_all(img->src, member, img->ctx->limits.max_json, out);
	if (rc)
		return rc;
	if (!name_digest(member, ".json", &want))
		return 0;
	if (dd__hasher_new(&h, want.alg) || dd__hasher_update(h, out->data, out->len) ||
	    dd__hasher_final(h, &got)) {
		dd__hasher_free(h);
		return dd__error(img->ctx, DD_ENOMEM, "%s: out of memory", img->path);
	}
	dd__hasher_free(h);
	if (!dd__digest_equal(&want, &got))
		return dd__error(img->ctx, DD_EVERIFY, "%s: config %s: digest mismatch: expected %s, got %s",
				 img->path, member, want.str, got.str);
	*digest = dd__image_strdup(img, got.str);
	return 0;
}

int dd__docker_open(struct dd_image *img, const char *ref)
{
	struct dd_ctx *ctx = img->ctx;
	struct dd__buf data = DD__BUF_INIT, tags = DD__BUF_INIT;
	struct json_object *doc = NULL, *pick = NULL, *layers;
	const char *config, *cfg_digest;
	const char *pick_tag = NULL;
	size_t i, j, n, nl;
	int rc;

	rc = dd__src_read_all(img->src, "manifest.json", ctx->limits.max_json, &data);
	if (rc)
		goto out;
	rc = dd__json_parse(ctx, "manifest.json", data.data, data.len, &doc);
	if (rc) {
		dd__error_prefix(ctx, "%s", img->path);
		goto out;
	}
	if (!json_object_is_type(doc, json_type_array) || json_object_array_length(doc) == 0) {
		rc = dd__error(ctx, DD_EFORMAT, "%s: manifest.json is not a non-empty array", img->path);
		goto out;
	}
	n = json_object_array_length(doc);
	for (i = 0; i < n; i++) {
		struct json_object *m = json_object_array_get_idx(doc, i);
		struct json_object *rt = dd__json_arr(m, "RepoTags");
		size_t nt = rt ? json_object_array_length(rt) : 0;
		bool hit = false;

		for (j = 0; j < nt; j++) {
			struct json_object *t = json_object_array_get_idx(rt, j);
			const char *tag = json_object_is_type(t, json_type_string)
						  ? json_object_get_string(t) : NULL;

			if (!tag)
				continue;
			if (dd__buf_printf(&tags, "%s%s", tags.len ? ", " : "", tag)) {
				rc = dd__error(ctx, DD_ENOMEM, "out of memory");
				goto out;
			}
			if (ref && !hit && dd__ref_match(ref, tag)) {
				hit = true;
				pick_tag = tag;
			}
		}
		if (ref && !hit) {
			const char *c = dd__json_str(m, "Config");

			/*
			 * Also accept the image ID (the config digest), or at
			 * least 12 hex digits of it, as `docker images` shows.
			 */
			const char *id = ref + (strncmp(ref, "sha256:", 7) ? 0 : 7);
			const char *base = c ? strrchr(c, '/') : NULL;

			base = base ? base + 1 : c;
			if (base && strlen(id) >= 12 && strspn(id, "0123456789abcdef") == strlen(id) &&
			    !strncmp(base, id, strlen(id)))
				hit = true;
		}
		if ((!ref || hit) && !pick)
			pick = m;
	}
	if (!pick) {
		rc = dd__error(ctx, DD_ENOTFOUND, "%s: no image named '%s' (it has: %s)", img->path,
			       ref, tags.len ? tags.data : "untagged images only");
		goto out;
	}
	if (!ref && n > 1) {
		rc = dd__error(ctx, DD_EAMBIGUOUS, "%s: holds %zu images; choose one with --ref: %s",
			       img->path, n, tags.len ? tags.data : "(untagged)");
		goto out;
	}
	if (!pick_tag) {
		struct json_object *rt = dd__json_arr(pick, "RepoTags");
		struct json_object *t = rt ? json_object_array_get_idx(rt, 0) : NULL;

		if (t && json_object_is_type(t, json_type_string))
			pick_tag = json_object_get_string(t);
	}
	img->ref = dd__image_strdup(img, pick_tag);
	config = dd__json_str(pick, "Config");
	layers = dd__json_arr(pick, "Layers");
	if (!config || !layers) {
		rc = dd__error(ctx, DD_EFORMAT, "%s: manifest.json entry has no Config or Layers",
			       img->path);
		goto out;
	}
	nl = json_object_array_length(layers);
	if (nl > ctx->limits.max_layers) {
		rc = dd__error(ctx, DD_ELIMIT, "%s: %zu layers (limit max-layers)", img->path, nl);
		goto out;
	}
	rc = dd__image_alloc_layers(img, nl);
	if (rc)
		goto out;
	for (i = 0; i < nl; i++) {
		struct json_object *lj = json_object_array_get_idx(layers, i);
		const char *lp = json_object_is_type(lj, json_type_string)
					 ? json_object_get_string(lj) : NULL;
		struct dd__layer *l = &img->layers[i];

		if (!lp || (size_t)json_object_get_string_len(lj) != strlen(lp)) {
			rc = dd__error(ctx, DD_EFORMAT, "%s: manifest.json Layers[%zu] is not a path",
				       img->path, i);
			goto out;
		}
		l->info.location = dd__image_strdup(img, lp);
		/* The member's size is the stored size: docker records no other. */
		{
			struct dd__rd *rd;

			rc = dd__src_open(img->src, &rd, lp);
			if (rc) {
				dd__error_prefix(ctx, "layer %zu", i);
				goto out;
			}
			l->info.size = (int64_t)dd__rd_size(rd);
			dd__rd_close(rd);
		}
		if (name_digest(lp, ".tar", &l->digest)) {
			l->has_digest = true;
			l->info.digest = dd__image_strdup(img, l->digest.str);
		}
	}
	data.len = 0;
	rc = read_verified(img, config, &data, &cfg_digest);
	if (rc)
		goto out;
	tags.len = 0;
	if (dd__buf_printf(&tags, "%s: config %s", img->path, config)) {
		rc = dd__error(ctx, DD_ENOMEM, "out of memory");
		goto out;
	}
	rc = dd__image_load_config(img, tags.data, data.data, data.len);
	if (rc)
		goto out;
	img->config_digest = cfg_digest;
	if (!img->config_digest) {
		/* Not named by its digest: compute it, as `docker images` shows the ID. */
		struct dd__hasher *h = NULL;
		struct dd__digest d;

		if (dd__hasher_new(&h, DD__ALG_SHA256) == 0 &&
		    dd__hasher_update(h, data.data, data.len) == 0 && dd__hasher_final(h, &d) == 0)
			img->config_digest = dd__image_strdup(img, d.str);
		dd__hasher_free(h);
	}
	if (img->platform_explicit && img->platform &&
	    !dd__platform_matches(img->want_platform, img->platform)) {
		rc = dd__error(ctx, DD_ENOTFOUND, "%s: the image is %s, not %s", img->path,
			       img->platform, img->want_platform);
		goto out;
	}
out:
	json_object_put(doc);
	dd__buf_free(&data);
	dd__buf_free(&tags);
	return rc;
}
