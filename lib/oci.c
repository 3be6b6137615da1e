/*
 * OCI image layout (image-spec image-layout.md, image-index.md,
 * manifest.md): from index.json through nested indexes to one manifest,
 * its config and its layer descriptors. Every document read from blobs/ is
 * size- and digest-verified before it is parsed.
 */
#include <stdlib.h>
#include <string.h>

#include "image_private.h"

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"

struct desc {
	const char *media_type;    /* borrowed from the JSON */
	struct dd__digest digest;
	int digest_rc;             /* 0, or why the digest is unusable */
	const char *digest_raw;
	int64_t size;
	bool has_platform;
	char os[64], arch[64], variant[64];
	const char *ref_name;      /* org.opencontainers.image.ref.name */
	const char *containerd_name; /* io.containerd.image.name */
	bool attestation;
};

struct cand {
	struct desc d;
	size_t top;                /* which index.json entry it came from */
	const char *top_name;      /* that entry's name, for messages */
};

struct walk {
	struct dd_image *img;
	const char *ref;
	struct cand *cands;
	size_t ncands, cap;
	struct dd__digest stack[16]; /* indexes being walked, to catch loops */
	size_t depth;
	struct json_object *docs[16]; /* keep parsed indexes alive while borrowed */
	size_t ndocs;
	struct dd__buf names;      /* the top-level names, for messages */
};

static bool is_index_type(const char *mt)
{
	return mt && (!strcmp(mt, MT_OCI_INDEX) || !strcmp(mt, MT_DOCKER_LIST));
}

static bool is_manifest_type(const char *mt)
{
	return mt && (!strcmp(mt, MT_OCI_MANIFEST) || !strcmp(mt, MT_DOCKER_MANIFEST));
}

static int parse_desc(struct dd_image *img, struct json_object *o, const char *where,
		      struct desc *d)
{
	struct json_object *plat, *ann;
	const char *s;

	memset(d, 0, sizeof(*d));
	if (!json_object_is_type(o, json_type_object))
		return dd__error(img->ctx, DD_EFORMAT, "%s: descriptor is not an object", where);
	d->media_type = dd__json_str(o, "mediaType");
	d->digest_raw = dd__json_str(o, "digest");
	if (!d->digest_raw)
		return dd__error(img->ctx, DD_EFORMAT, "%s: descriptor has no digest", where);
	d->digest_rc = dd__digest_parse(&d->digest, d->digest_raw, strlen(d->digest_raw));
	if (d->digest_rc == DD_EFORMAT)
		return dd__error(img->ctx, DD_EFORMAT, "%s: malformed digest '%s'", where,
				 d->digest_raw);
	if (!dd__json_int64(o, "size", &d->size) || d->size < 0)
		return dd__error(img->ctx, DD_EFORMAT, "%s: descriptor %s has no valid size", where,
				 d->digest_raw);
	plat = dd__json_obj(o, "platform");
	if (plat) {
		const char *os = dd__json_str(plat, "os"), *arch = dd__json_str(plat, "architecture");
		const char *v = dd__json_str(plat, "variant");

		if (os && arch && strlen(os) < sizeof(d->os) && strlen(arch) < sizeof(d->arch) &&
		    (!v || strlen(v) < sizeof(d->variant))) {
			d->has_platform = true;
			strcpy(d->os, os);
			strcpy(d->arch, arch);
			strcpy(d->variant, v ? v : "");
		}
	}
	ann = dd__json_obj(o, "annotations");
	d->ref_name = dd__json_str(ann, "org.opencontainers.image.ref.name");
	d->containerd_name = dd__json_str(ann, "io.containerd.image.name");
	s = dd__json_str(ann, "vnd.docker.reference.type");
	d->attestation = (s && !strcmp(s, "attestation-manifest")) ||
			 (d->has_platform && !strcmp(d->os, "unknown") && !strcmp(d->arch, "unknown"));
	return 0;
}

/* Read a content-addressed blob into OUT, verifying size and digest. */
static int read_blob(struct dd_image *img, const struct desc *d, const char *what,
		     struct dd__buf *out)
{
	struct dd_ctx *ctx = img->ctx;
	struct dd__buf path = DD__BUF_INIT;
	struct dd__hasher *h = NULL;
	struct dd__digest got;
	int rc;

	if (d->digest_rc == DD_EUNSUPPORTED)
		return dd__error(ctx, DD_EUNSUPPORTED, "%s: %s %s: digest algorithm not supported",
				 img->path, what, d->digest_raw);
	if ((uint64_t)d->size > ctx->limits.max_json)
		return dd__error(ctx, DD_ELIMIT, "%s: %s %s: %lld bytes is over the limit for a document (limit max-json)",
				 img->path, what, d->digest.str, (long long)d->size);
	rc = dd__digest_blob_path(&path, &d->digest);
	if (rc)
		goto nomem;
	rc = dd__src_read_all(img->src, path.data, ctx->limits.max_json, out);
	if (rc) {
		if (rc == DD_ENOTFOUND)
			dd__error(ctx, rc, "%s: %s %s: blob is missing", img->path, what, d->digest.str);
		goto out;
	}
	if ((int64_t)out->len != d->size) {
		rc = dd__error(ctx, DD_EVERIFY,
			       "%s: %s %s: size mismatch: descriptor says %lld bytes, blob has %zu",
			       img->path, what, d->digest.str, (long long)d->size, out->len);
		goto out;
	}
	rc = dd__hasher_new(&h, d->digest.alg);
	if (rc || (rc = dd__hasher_update(h, out->data, out->len)) ||
	    (rc = dd__hasher_final(h, &got)))
		goto nomem;
	if (!dd__digest_equal(&got, &d->digest)) {
		rc = dd__error(ctx, DD_EVERIFY, "%s: %s %s: digest mismatch: expected %s, got %s",
			       img->path, what, d->digest.str, d->digest.str, got.str);
		goto out;
	}
	goto out;
nomem:
	rc = dd__error(ctx, DD_ENOMEM, "%s: out of memory", img->path);
out:
	dd__hasher_free(h);
	dd__buf_free(&path);
	return rc;
}

static int add_cand(struct walk *w, const struct desc *d, size_t top, const char *top_name)
{
	struct cand *c;

	if (w->ncands == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;

		c = realloc(w->cands, cap * sizeof(*c));
		if (!c)
			return dd__error(w->img->ctx, DD_ENOMEM, "%s: out of memory", w->img->path);
		w->cands = c;
		w->cap = cap;
	}
	c = &w->cands[w->ncands++];
	c->d = *d;
	c->top = top;
	c->top_name = top_name;
	return 0;
}

const char *dd__ref_digest(const char *ref)
{
	const char *at = ref ? strrchr(ref, '@') : NULL, *d = at ? at + 1 : ref;

	return d && (!strncmp(d, "sha256:", 7) || !strncmp(d, "sha512:", 7)) ? d : NULL;
}

static bool desc_matches_ref(const struct desc *d, const char *ref)
{
	const char *dg = dd__ref_digest(ref);

	return dd__ref_match(ref, d->ref_name) || dd__ref_match(ref, d->containerd_name) ||
	       (d->digest_rc == 0 && dg && !strcmp(dg, d->digest.str));
}

/*
 * A directory of blobs without index.json, such as containerd's content
 * store: the image is the manifest or index whose digest REF gives. Its
 * blob is read and checked here, and stands in for index.json as the one
 * entry of an index.
 */
static int digest_index(struct dd_image *img, const char *ref, struct json_object **out)
{
	struct dd_ctx *ctx = img->ctx;
	struct dd__buf path = DD__BUF_INIT, data = DD__BUF_INIT;
	struct json_object *doc = NULL, *idx, *arr, *d;
	struct dd__hasher *h = NULL;
	struct dd__digest want, got;
	const char *dg = dd__ref_digest(ref), *mt;
	int rc;

	*out = NULL;
	if (!dg || dd__digest_parse(&want, dg, strlen(dg)) != 0)
		return dd__error(ctx, DD_EFORMAT, "%s: malformed digest '%s'", img->path, dg ? dg : ref);
	rc = dd__digest_blob_path(&path, &want);
	if (rc == 0)
		rc = dd__src_read_all(img->src, path.data, ctx->limits.max_json, &data);
	if (rc) {
		if (rc == DD_ENOTFOUND)
			dd__error(ctx, rc, "%s: no index.json, and no blob %s", img->path, want.str);
		goto out;
	}
	rc = dd__hasher_new(&h, want.alg);
	if (rc || (rc = dd__hasher_update(h, data.data, data.len)) || (rc = dd__hasher_final(h, &got))) {
		rc = dd__error(ctx, DD_ENOMEM, "%s: out of memory", img->path);
		goto out;
	}
	if (!dd__digest_equal(&got, &want)) {
		rc = dd__error(ctx, DD_EVERIFY, "%s: blob %s: digest mismatch: got %s", img->path, want.str, got.str);
		goto out;
	}
	rc = dd__json_parse(ctx, want.str, data.data, data.len, &doc);
	if (rc) {
		dd__error_prefix(ctx, "%s", img->path);
		goto out;
	}
	mt = dd__json_str(doc, "mediaType");
	if (!mt)
		mt = dd__json_has(doc, "manifests") ? MT_OCI_INDEX : dd__json_has(doc, "layers") ? MT_OCI_MANIFEST : NULL;
	if (!mt || (!is_index_type(mt) && !is_manifest_type(mt))) {
		rc = dd__error(ctx, DD_EFORMAT, "%s: blob %s is not an image manifest or index", img->path, want.str);
		goto out;
	}
	idx = json_object_new_object();
	arr = json_object_new_array();
	d = json_object_new_object();
	json_object_object_add(d, "mediaType", json_object_new_string(mt));
	json_object_object_add(d, "digest", json_object_new_string(want.str));
	json_object_object_add(d, "size", json_object_new_int64((int64_t)data.len));
	json_object_array_add(arr, d);
	json_object_object_add(idx, "manifests", arr);
	*out = idx;
out:
	json_object_put(doc);
	dd__hasher_free(h);
	dd__buf_free(&path);
	dd__buf_free(&data);
	return rc;
}

static int walk_index(struct walk *w, struct json_object *index, const char *where, size_t top,
		      const char *top_name);

/* Open an index blob named by D and walk it. */
static int walk_nested(struct walk *w, const struct desc *d, size_t top, const char *top_name)
{
	struct dd_image *img = w->img;
	struct dd__buf data = DD__BUF_INIT;
	struct json_object *doc = NULL;
	const char *mt;
	size_t i;
	int rc;

	if (w->depth >= img->ctx->limits.max_index_depth || w->depth >= DD_ARRAY_SIZE(w->stack))
		return dd__error(img->ctx, DD_ELIMIT, "%s: image indexes nested deeper than %zu (limit max-index-depth)",
				 img->path, w->depth);
	for (i = 0; i < w->depth; i++)
		if (d->digest_rc == 0 && dd__digest_equal(&w->stack[i], &d->digest))
			return dd__error(img->ctx, DD_EFORMAT, "%s: index %s contains itself (loop)",
					 img->path, d->digest.str);
	rc = read_blob(img, d, "index", &data);
	if (rc)
		goto out;
	rc = dd__json_parse(img->ctx, d->digest.str, data.data, data.len, &doc);
	if (rc) {
		dd__error_prefix(img->ctx, "%s: index", img->path);
		goto out;
	}
	mt = dd__json_str(doc, "mediaType");
	if ((mt && !is_index_type(mt)) || dd__json_has(doc, "layers") ||
	    dd__json_has(doc, "config")) {
		rc = dd__error(img->ctx, DD_EFORMAT,
			       "%s: index %s: document is not an image index (it has %s)",
			       img->path, d->digest.str, mt ? mt : "manifest fields");
		goto out;
	}
	w->stack[w->depth++] = d->digest;
	rc = walk_index(w, doc, d->digest.str, top, top_name);
	w->depth--;
	if (rc == 0 && w->ndocs < DD_ARRAY_SIZE(w->docs)) {
		w->docs[w->ndocs++] = doc; /* candidates borrow strings from it */
		doc = NULL;
	} else if (rc == 0) {
		rc = dd__error(img->ctx, DD_ELIMIT, "%s: too many image indexes", img->path);
	}
out:
	json_object_put(doc);
	dd__buf_free(&data);
	return rc;
}

static int walk_index(struct walk *w, struct json_object *index, const char *where, size_t top,
		      const char *top_name)
{
	struct dd_image *img = w->img;
	struct json_object *list = dd__json_arr(index, "manifests");
	size_t i, n;
	int rc;

	if (!list)
		return dd__error(img->ctx, DD_EFORMAT, "%s: %s: no \"manifests\" array", img->path,
				 where);
	n = json_object_array_length(list);
	for (i = 0; i < n; i++) {
		struct desc d;
		size_t t = top;
		const char *name = top_name;

		rc = parse_desc(img, json_object_array_get_idx(list, i), where, &d);
		if (rc) {
			dd__error_prefix(img->ctx, "%s", img->path);
			return rc;
		}
		if (w->depth == 0) {
			/* index.json itself: each entry is an image the user can name. */
			t = i;
			name = d.ref_name ? d.ref_name : d.containerd_name ? d.containerd_name
								       : d.digest_raw;
			if (dd__buf_printf(&w->names, "%s%s", w->names.len ? ", " : "", name))
				return dd__error(img->ctx, DD_ENOMEM, "out of memory");
			if (w->ref && !desc_matches_ref(&d, w->ref))
				continue;
		}
		if (is_index_type(d.media_type)) {
			rc = walk_nested(w, &d, t, name);
			if (rc)
				return rc;
		} else if (is_manifest_type(d.media_type)) {
			rc = add_cand(w, &d, t, name);
			if (rc)
				return rc;
		} else {
			/* Artifacts, signatures and unknown types are not images. */
			dd__image_warn(img, "%s: skipped %s (media type %s)", where, d.digest_raw,
				       d.media_type ? d.media_type : "missing");
		}
	}
	return 0;
}

static bool platform_match(const struct desc *d, const char *os, const char *arch,
			   const char *variant)
{
	if (!d->has_platform)
		return true; /* checked against the config once it is read */
	if (strcmp(d->os, os) || strcmp(d->arch, arch))
		return false;
	if (!*variant)
		return true;
	/* arm64 images often omit the implied "v8". */
	if (!strcmp(arch, "arm64") && !strcmp(variant, "v8") && !*d->variant)
		return true;
	return !strcmp(d->variant, variant);
}

static const char *layer_type_ok(const char *mt)
{
	static const char *const ok[] = {
		"application/vnd.oci.image.layer.v1.tar",
		"application/vnd.oci.image.layer.v1.tar+gzip",
		"application/vnd.oci.image.layer.v1.tar+zstd",
		"application/vnd.oci.image.layer.nondistributable.v1.tar",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
		"application/vnd.docker.image.rootfs.diff.tar.gzip",
		"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
		"application/vnd.docker.image.rootfs.diff.tar",
	};
	size_t i;

	for (i = 0; mt && i < DD_ARRAY_SIZE(ok); i++)
		if (!strcmp(mt, ok[i]))
			return ok[i];
	return NULL;
}

/* Read the chosen manifest, its config, and the layer descriptors. */
static int load_manifest(struct dd_image *img, const struct desc *md)
{
	struct dd_ctx *ctx = img->ctx;
	struct dd__buf data = DD__BUF_INIT, cdata = DD__BUF_INIT, what = DD__BUF_INIT;
	struct json_object *doc = NULL, *layers;
	struct desc cd;
	const char *mt;
	size_t i, n;
	int rc;

	rc = read_blob(img, md, "manifest", &data);
	if (rc)
		goto out;
	if (dd__buf_printf(&what, "%s: manifest %s", img->path, md->digest.str))
		goto nomem;
	rc = dd__json_parse(ctx, what.data, data.data, data.len, &doc);
	if (rc)
		goto out;
	rc = DD_EFORMAT;
	mt = dd__json_str(doc, "mediaType");
	if ((mt && !is_manifest_type(mt)) || dd__json_has(doc, "manifests")) {
		dd__error(ctx, rc, "%s: document is not an image manifest", what.data);
		goto out;
	}
	if (!dd__json_obj(doc, "config") || !(layers = dd__json_arr(doc, "layers"))) {
		dd__error(ctx, rc, "%s: manifest has no config or layers", what.data);
		goto out;
	}
	rc = parse_desc(img, dd__json_obj(doc, "config"), what.data, &cd);
	if (rc)
		goto out;
	if (!cd.media_type || (strcmp(cd.media_type, MT_OCI_CONFIG) &&
			       strcmp(cd.media_type, MT_DOCKER_CONFIG))) {
		rc = dd__error(ctx, DD_EUNSUPPORTED,
			       "%s: not a container image (config media type %s)", what.data,
			       cd.media_type ? cd.media_type : "missing");
		goto out;
	}
	n = json_object_array_length(layers);
	if (n > ctx->limits.max_layers) {
		rc = dd__error(ctx, DD_ELIMIT, "%s: %zu layers (limit max-layers)", what.data, n);
		goto out;
	}
	rc = dd__image_alloc_layers(img, n);
	if (rc)
		goto out;
	for (i = 0; i < n; i++) {
		struct dd__layer *l = &img->layers[i];
		struct desc ld;

		rc = parse_desc(img, json_object_array_get_idx(layers, i), what.data, &ld);
		if (rc)
			goto out;
		if (ld.media_type && strstr(ld.media_type, "+encrypted")) {
			rc = dd__error(ctx, DD_EUNSUPPORTED, "%s: layer %zu is encrypted (%s)",
				       what.data, i, ld.media_type);
			goto out;
		}
		if (!layer_type_ok(ld.media_type)) {
			rc = dd__error(ctx, DD_EUNSUPPORTED, "%s: layer %zu has unsupported media type %s",
				       what.data, i, ld.media_type ? ld.media_type : "(missing)");
			goto out;
		}
		if (ld.digest_rc) {
			rc = dd__error(ctx, DD_EUNSUPPORTED, "%s: layer %zu: digest %s cannot be verified",
				       what.data, i, ld.digest_raw);
			goto out;
		}
		l->has_digest = true;
		l->digest = ld.digest;
		l->has_size = true;
		l->info.size = ld.size;
		l->info.media_type = layer_type_ok(ld.media_type);
		l->info.digest = dd__image_strdup(img, ld.digest.str);
		if (dd__digest_blob_path(&cdata, &ld.digest))
			goto nomem;
		l->info.location = dd__image_strdup(img, cdata.data);
	}
	cdata.len = 0;
	rc = read_blob(img, &cd, "config", &cdata);
	if (rc)
		goto out;
	what.len = 0;
	if (dd__buf_printf(&what, "%s: config %s", img->path, cd.digest.str))
		goto nomem;
	rc = dd__image_load_config(img, what.data, cdata.data, cdata.len);
	if (rc)
		goto out;
	img->manifest_digest = dd__image_strdup(img, md->digest.str);
	img->config_digest = dd__image_strdup(img, cd.digest.str);
	rc = 0;
	goto out;
nomem:
	rc = dd__error(ctx, DD_ENOMEM, "%s: out of memory", img->path);
out:
	json_object_put(doc);
	dd__buf_free(&data);
	dd__buf_free(&cdata);
	dd__buf_free(&what);
	return rc;
}

int dd__oci_open(struct dd_image *img, const char *ref)
{
	struct dd_ctx *ctx = img->ctx;
	struct dd__buf data = DD__BUF_INIT, avail = DD__BUF_INIT;
	struct json_object *index = NULL, *layout = NULL;
	struct walk w;
	char os[64], arch[64], variant[64];
	struct cand *pick = NULL;
	const char *v;
	size_t i, ntops = 0, last_top = SIZE_MAX;
	int rc;

	memset(&w, 0, sizeof(w));
	w.img = img;
	w.ref = ref;
	if (!dd__src_exists(img->src, "index.json") && dd__ref_digest(ref)) {
		rc = digest_index(img, ref, &index);
		if (rc == 0)
			rc = walk_index(&w, index, "the digest given", 0, NULL);
		if (rc)
			goto out;
		goto select;
	}
	if (dd__src_exists(img->src, "oci-layout")) {
		rc = dd__src_read_all(img->src, "oci-layout", 1 << 16, &data);
		if (rc == 0)
			rc = dd__json_parse(ctx, "oci-layout", data.data, data.len, &layout);
		if (rc) {
			dd__error_prefix(ctx, "%s", img->path);
			goto out;
		}
		v = dd__json_str(layout, "imageLayoutVersion");
		if (!v || strncmp(v, "1.", 2) != 0)
			dd__image_warn(img, "oci-layout: unexpected imageLayoutVersion %s", v ? v : "(none)");
	} else {
		dd__image_warn(img, "no oci-layout file; reading index.json anyway");
	}
	rc = dd__src_read_all(img->src, "index.json", ctx->limits.max_json, &data);
	if (rc)
		goto out;
	rc = dd__json_parse(ctx, "index.json", data.data, data.len, &index);
	if (rc) {
		dd__error_prefix(ctx, "%s", img->path);
		goto out;
	}
	rc = walk_index(&w, index, "index.json", 0, NULL);
	if (rc)
		goto out;
select:
	if (!dd__platform_parse(img->want_platform, os, sizeof(os), arch, sizeof(arch), variant,
				sizeof(variant))) {
		rc = dd__error(ctx, DD_EINVAL, "invalid platform '%s'", img->want_platform);
		goto out;
	}
	for (i = 0; i < w.ncands; i++) {
		struct cand *c = &w.cands[i];

		if (c->d.attestation)
			continue;
		if (c->d.has_platform && dd__buf_printf(&avail, "%s%s/%s%s%s", avail.len ? ", " : "",
							c->d.os, c->d.arch, *c->d.variant ? "/" : "",
							c->d.variant))
			goto nomem;
		if (!platform_match(&c->d, os, arch, variant))
			continue;
		if (!pick)
			pick = c;
		if (c->top != last_top) {
			ntops++;
			last_top = c->top;
		}
	}
	if (w.ncands == 0 && ref) {
		rc = dd__error(ctx, DD_ENOTFOUND, "%s: no image named '%s' (it has: %s)", img->path,
			       ref, w.names.len ? w.names.data : "nothing");
		goto out;
	}
	if (!pick) {
		rc = dd__error(ctx, DD_ENOTFOUND, "%s: no image for platform %s (it has: %s)",
			       img->path, img->want_platform, avail.len ? avail.data : "no images");
		goto out;
	}
	if (ntops > 1 && !ref) {
		rc = dd__error(ctx, DD_EAMBIGUOUS, "%s: holds several images; choose one with --ref: %s",
			       img->path, w.names.data);
		goto out;
	}
	img->ref = dd__image_strdup(img, pick->top_name && pick->top_name != pick->d.digest_raw
						 ? pick->top_name : NULL);
	rc = load_manifest(img, &pick->d);
	if (rc)
		goto out;
	if (img->platform_explicit && img->platform) {
		char cos[64], carch[64], cvar[64];
		struct desc cfgp;

		memset(&cfgp, 0, sizeof(cfgp));
		cfgp.has_platform = dd__platform_parse(img->platform, cos, sizeof(cos), carch,
						       sizeof(carch), cvar, sizeof(cvar));
		strcpy(cfgp.os, cos);
		strcpy(cfgp.arch, carch);
		strcpy(cfgp.variant, cvar);
		if (cfgp.has_platform && !platform_match(&cfgp, os, arch, variant)) {
			rc = dd__error(ctx, DD_ENOTFOUND, "%s: the image is %s, not %s", img->path,
				       img->platform, img->want_platform);
			goto out;
		}
	}
	goto out;
nomem:
	rc = dd__error(ctx, DD_ENOMEM, "%s: out of memory", img->path);
out:
	for (i = 0; i < w.ndocs; i++)
		json_object_put(w.docs[i]);
	free(w.cands);
	dd__buf_free(&w.names);
	dd__buf_free(&avail);
	dd__buf_free(&data);
	json_object_put(index);
	json_object_put(layout);
	return rc;
}
