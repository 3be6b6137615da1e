/* The image handle: format detection, the config, accessors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "image_private.h"
#include "tree.h"

const char *dd__image_strdup(struct dd_image *img, const char *s)
{
	return s ? dd__arena_strndup(&img->strings, s, strlen(s)) : NULL;
}

void dd__image_warn(struct dd_image *img, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dd__warnings_push(&img->warnings, fmt, ap);
	va_end(ap);
}

int dd__image_alloc_layers(struct dd_image *img, size_t n)
{
	img->layers = calloc(n ? n : 1, sizeof(*img->layers));
	if (!img->layers)
		return dd__error(img->ctx, DD_ENOMEM, "%s: out of memory", img->path);
	img->nlayers = n;
	return 0;
}

const char *dd__host_platform(void)
{
#if defined(__x86_64__)
	return "linux/amd64";
#elif defined(__aarch64__)
	return "linux/arm64";
#elif defined(__arm__) && defined(__ARM_ARCH_7A__)
	return "linux/arm/v7";
#elif defined(__arm__)
	return "linux/arm/v6";
#elif defined(__i386__)
	return "linux/386";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return "linux/ppc64le";
#elif defined(__s390x__)
	return "linux/s390x";
#elif defined(__riscv) && __riscv_xlen == 64
	return "linux/riscv64";
#else
	return "linux/unknown";
#endif
}

bool dd__platform_parse(const char *s, char *os, size_t oslen, char *arch, size_t archlen,
			char *variant, size_t varlen)
{
	const char *a, *v;
	size_t n;

	if (!s || !(a = strchr(s, '/')))
		return false;
	v = strchr(a + 1, '/');
	n = (size_t)(a - s);
	if (n == 0 || n >= oslen)
		return false;
	memcpy(os, s, n);
	os[n] = '\0';
	n = v ? (size_t)(v - a - 1) : strlen(a + 1);
	if (n == 0 || n >= archlen)
		return false;
	memcpy(arch, a + 1, n);
	arch[n] = '\0';
	variant[0] = '\0';
	if (v) {
		n = strlen(v + 1);
		if (n == 0 || n >= varlen || strchr(v + 1, '/'))
			return false;
		memcpy(variant, v + 1, n + 1);
	}
	return true;
}

bool dd__platform_matches(const char *want, const char *have)
{
	char wo[64], wa[64], wv[64], ho[64], ha[64], hv[64];

	if (!dd__platform_parse(want, wo, sizeof(wo), wa, sizeof(wa), wv, sizeof(wv)) ||
	    !dd__platform_parse(have, ho, sizeof(ho), ha, sizeof(ha), hv, sizeof(hv)))
		return false;
	if (strcmp(wo, ho) || strcmp(wa, ha))
		return false;
	if (!*wv)
		return true;
	if (!strcmp(wa, "arm64") && !strcmp(wv, "v8") && !*hv)
		return true;
	return !strcmp(wv, hv);
}

/*
 * A docker reference in its full form: "busybox" is
 * "docker.io/library/busybox:latest"; a digest reference is kept as is.
 */
static char *ref_normalize(const char *ref)
{
	struct dd__buf b = DD__BUF_INIT;
	const char *slash = strchr(ref, '/'), *last = strrchr(ref, '/');
	const char *name = last ? last + 1 : ref;
	bool domain = slash && (memchr(ref, '.', (size_t)(slash - ref)) ||
				memchr(ref, ':', (size_t)(slash - ref)) ||
				((size_t)(slash - ref) == 9 && !strncmp(ref, "localhost", 9)));

	if (!domain && dd__buf_puts(&b, slash ? "docker.io/" : "docker.io/library/"))
		goto fail;
	if (dd__buf_puts(&b, ref))
		goto fail;
	if (!strchr(name, ':') && !strchr(name, '@') && dd__buf_puts(&b, ":latest"))
		goto fail;
	return dd__buf_detach(&b);
fail:
	dd__buf_free(&b);
	return NULL;
}

bool dd__ref_match(const char *want, const char *have)
{
	char *a, *b;
	bool eq;

	if (!want || !have)
		return false;
	if (strcmp(want, have) == 0)
		return true;
	a = ref_normalize(want);
	b = ref_normalize(have);
	eq = a && b && strcmp(a, b) == 0;
	free(a);
	free(b);
	return eq;
}

int dd__image_load_config(struct dd_image *img, const char *what, const char *data, size_t len)
{
	struct dd_ctx *ctx = img->ctx;
	struct json_object *cfg = NULL, *rootfs, *ids, *hist;
	const char *os, *arch, *variant, *type;
	struct dd__buf b = DD__BUF_INIT;
	size_t i, n, layer;
	int rc;

	rc = dd__json_parse(ctx, what, data, len, &cfg);
	if (rc)
		return rc;
	rc = DD_EFORMAT;
	if (!json_object_is_type(cfg, json_type_object)) {
		dd__error(ctx, rc, "%s: image config is not a JSON object", what);
		goto out;
	}
	rootfs = dd__json_obj(cfg, "rootfs");
	type = dd__json_str(rootfs, "type");
	ids = dd__json_arr(rootfs, "diff_ids");
	if (!type || strcmp(type, "layers") != 0 || !ids) {
		dd__error(ctx, rc, "%s: image config has no rootfs of type \"layers\" with diff_ids", what);
		goto out;
	}
	n = json_object_array_length(ids);
	if (n != img->nlayers) {
		dd__error(ctx, rc, "%s: config lists %zu diff_ids but the manifest has %zu layers",
			  what, n, img->nlayers);
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(ids, i);
		const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;

		if (!s || (size_t)json_object_get_string_len(v) != strlen(s) ||
		    dd__digest_parse(&img->layers[i].diff_id, s, strlen(s)) != 0) {
			dd__error(ctx, rc, "%s: rootfs.diff_ids[%zu] is not a valid digest", what, i);
			goto out;
		}
		img->layers[i].info.diff_id = dd__image_strdup(img, img->layers[i].diff_id.str);
	}
	os = dd__json_str(cfg, "os");
	arch = dd__json_str(cfg, "architecture");
	variant = dd__json_str(cfg, "variant");
	if (os && arch) {
		if (dd__buf_printf(&b, "%s/%s%s%s", os, arch, variant && *variant ? "/" : "",
				   variant ? variant : ""))
			goto nomem;
		img->platform = dd__image_strdup(img, b.data);
	}
	hist = dd__json_arr(cfg, "history");
	n = hist ? json_object_array_length(hist) : 0;
	if (n) {
		img->history = calloc(n, sizeof(*img->history));
		if (!img->history)
			goto nomem;
	}
	/* Non-empty history entries correspond, in order, to the layers. */
	for (i = 0, layer = 0; i < n; i++) {
		struct json_object *h = json_object_array_get_idx(hist, i), *empty;
		struct dd_history_info *hi = &img->history[img->nhistory++];

		hi->created = dd__image_strdup(img, dd__json_str(h, "created"));
		hi->created_by = dd__image_strdup(img, dd__json_str(h, "created_by"));
		hi->author = dd__image_strdup(img, dd__json_str(h, "author"));
		hi->comment = dd__image_strdup(img, dd__json_str(h, "comment"));
		hi->empty_layer = json_object_object_get_ex(h, "empty_layer", &empty) &&
				  json_object_get_boolean(empty);
		if (!hi->empty_layer && layer < img->nlayers)
			img->layers[layer++].info.created_by = hi->created_by;
	}
	img->config_json = dd__arena_strndup(&img->strings, data, len);
	if (!img->config_json)
		goto nomem;
	rc = 0;
	goto out;
nomem:
	rc = dd__error(ctx, DD_ENOMEM, "%s: out of memory", what);
out:
	dd__buf_free(&b);
	json_object_put(cfg);
	return rc;
}

/* Peek at the start of a regular file: is it one of our saved manifests? */
static bool is_saved_manifest(FILE *f)
{
	char head[32];
	size_t n = fread(head, 1, sizeof(head) - 1, f);

	head[n] = '\0';
	rewind(f);
	return strncmp(head, "{\"driftdiff_manifest\"", 21) == 0;
}

/*
 * A root filesystem may well hold an index.json or a manifest.json of its
 * own: an image needs oci-layout beside index.json, or a manifest.json
 * that is a JSON array, as docker save writes it.
 */
static bool looks_like_image(struct dd__src *src)
{
	struct dd__buf b = DD__BUF_INIT;
	size_t i = 0;
	bool yes = false;

	if (dd__src_exists(src, "index.json") && dd__src_exists(src, "oci-layout"))
		return true;
	if (dd__src_exists(src, "manifest.json") &&
	    dd__src_read_all(src, "manifest.json", 1 << 20, &b) == 0) {
		while (i < b.len && strchr(" \t\r\n", b.data[i]) && b.data[i])
			i++;
		yes = i < b.len && b.data[i] == '[';
	}
	dd__buf_free(&b);
	return yes;
}

bool dd_image_probe(struct dd_ctx *ctx, const char *path)
{
	struct dd__src *src = NULL;
	struct stat st;
	FILE *f;
	bool yes = false;
	int code = ctx->code;
	char *msg = ctx->msg;

	/* A probe leaves the caller's error state as it found it. */
	ctx->msg = NULL;
	if (stat(path, &st) != 0)
		goto out;
	if (S_ISDIR(st.st_mode)) {
		if (dd__src_open_dir(&src, ctx, path) == 0)
			yes = looks_like_image(src);
		goto out;
	}
	if (!S_ISREG(st.st_mode))
		goto out;
	f = fopen(path, "rbe");
	if (!f)
		goto out;
	yes = is_saved_manifest(f);
	fclose(f);
	if (!yes && dd__src_open_tar(&src, ctx, path) == 0)
		yes = looks_like_image(src);
out:
	dd__src_free(src);
	free(ctx->msg);
	ctx->msg = msg;
	ctx->code = code;
	return yes;
}

int dd_image_open(struct dd_image **out, struct dd_ctx *ctx, const char *path,
		  const struct dd_image_options *opts)
{
	struct dd_image_options defaults = DD_IMAGE_OPTIONS_INIT;
	struct dd_image *img = NULL;
	struct stat st;
	FILE *f = NULL;
	char os[64], arch[64], variant[64];
	int rc, index, manifest;

	if (!out || !ctx || !path)
		return DD_EINVAL;
	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (opts->version != DD_IMAGE_OPTIONS_VERSION)
		return dd__error(ctx, DD_EINVAL, "dd_image_open: unknown options version %u",
				 opts->version);
	if (opts->platform && !dd__platform_parse(opts->platform, os, sizeof(os), arch,
						   sizeof(arch), variant, sizeof(variant)))
		return dd__error(ctx, DD_EINVAL, "invalid platform '%s' (expected OS/ARCH[/VARIANT])",
				 opts->platform);
	img = calloc(1, sizeof(*img));
	if (!img || !(img->path = strdup(path))) {
		free(img);
		return dd__error(ctx, DD_ENOMEM, "%s: out of memory", path);
	}
	img->ctx = ctx;
	dd__arena_init(&img->strings);
	img->platform_explicit = opts->platform != NULL;
	if (opts->cache_dir && !(img->cache_dir = strdup(opts->cache_dir))) {
		dd_image_free(img);
		return dd__error(ctx, DD_ENOMEM, "%s: out of memory", path);
	}
	img->want_platform = dd__image_strdup(img, opts->platform ? opts->platform
								 : dd__host_platform());
	if (stat(path, &st) != 0) {
		rc = dd__error(ctx, errno == ENOENT ? DD_ENOTFOUND : DD_EIO, "%s: %s", path,
			       strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = dd__src_open_dir(&img->src, ctx, path);
		if (rc)
			goto out;
		index = dd__src_check(img->src, "index.json");
		if (index != 0 && index != DD_ENOTFOUND) {
			rc = index; /* there, but refused: the message says why */
			goto out;
		}
		manifest = index == 0 ? DD_ENOTFOUND : dd__src_check(img->src, "manifest.json");
		if (index == 0 || (index == DD_ENOTFOUND && manifest == DD_ENOTFOUND && dd__ref_digest(opts->ref))) {
			/* An OCI layout, or a bare blob store (containerd's) and a digest. */
			img->format = DD_IMAGE_OCI_LAYOUT;
			rc = dd__oci_open(img, opts->ref);
		} else if (manifest == 0) {
			/* An unpacked docker save. */
			img->format = DD_IMAGE_DOCKER_ARCHIVE;
			rc = dd__docker_open(img, opts->ref);
		} else if (index != DD_ENOTFOUND || manifest != DD_ENOTFOUND) {
			/* There, but refused: the message says why. */
			rc = index != DD_ENOTFOUND ? index : manifest;
		} else {
			rc = dd__error(ctx, DD_EFORMAT,
				       "%s: not an image: no index.json (OCI layout) or manifest.json (docker save)",
				       path);
		}
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = dd__error(ctx, DD_EFORMAT, "%s: not a regular file or directory", path);
		goto out;
	}
	f = fopen(path, "rbe");
	if (!f) {
		rc = dd__error(ctx, DD_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (is_saved_manifest(f)) {
		img->format = DD_IMAGE_SAVED_MANIFEST;
		rc = dd__saved_open(img, f);
		if (rc == 0)
			f = NULL; /* the image reads its entries from it later */
		goto out;
	}
	rc = dd__src_open_tar(&img->src, ctx, path);
	if (rc)
		goto out;
	/*
	 * docker load reads manifest.json, so it is the authority for a docker
	 * save tar even when Docker 25+ also wrote an OCI layout beside it;
	 * the OCI index is used when a platform is asked for explicitly.
	 */
	manifest = dd__src_check(img->src, "manifest.json");
	if (manifest != 0 && manifest != DD_ENOTFOUND) {
		rc = manifest; /* there, but refused (two members of that name...): the message says why */
		goto out;
	}
	index = manifest == 0 && !opts->platform ? DD_ENOTFOUND : dd__src_check(img->src, "index.json");
	/* With a platform asked for, an OCI index beside manifest.json is the better guide. */
	if (manifest == 0 && (!opts->platform || index != 0)) {
		img->format = DD_IMAGE_DOCKER_ARCHIVE;
		rc = dd__docker_open(img, opts->ref);
	} else if (index == 0) {
		img->format = DD_IMAGE_OCI_ARCHIVE;
		rc = dd__oci_open(img, opts->ref);
	} else if (manifest != DD_ENOTFOUND || index != DD_ENOTFOUND) {
		/* There, but refused (two manifest.json members, a link...): the message says why. */
		rc = manifest != DD_ENOTFOUND && manifest != 0 ? manifest : index;
	} else {
		rc = dd__error(ctx, DD_EFORMAT,
			       "%s: not an image: the archive has no index.json (oci-archive) or manifest.json (docker save)",
			       path);
	}
out:
	if (f)
		fclose(f);
	if (rc) {
		dd_image_free(img);
		return rc;
	}
	*out = img;
	return 0;
}

void dd_image_free(struct dd_image *img)
{
	if (!img)
		return;
	dd__src_free(img->src);
	if (img->saved)
		fclose(img->saved);
	dd_tree_free(img->tree);
	dd_tree_free(img->upper_tree);
	dd__cache_entry_free(img->cache);
	dd__warnings_free(&img->warnings);
	free(img->cache_dir);
	free(img->layers);
	free(img->history);
	dd__arena_free(&img->strings);
	free(img->path);
	free(img);
}

void dd_image_set_jobs(struct dd_image *img, unsigned jobs)
{
	if (img)
		img->jobs = jobs;
}

const unsigned char *dd_image_fingerprint_key(struct dd_image *img)
{
	if (!img || img->tree)
		return NULL;
	if (!img->fingerprint && dd__fingerprint_key(img->fp_key) == 0)
		img->fingerprint = true;
	return img->fingerprint ? img->fp_key : NULL;
}

bool dd_image_cached(struct dd_image *img)
{
	/* A saved manifest is its own record: never one of the cache's. */
	if (!img || !img->cache_dir || img->format == DD_IMAGE_SAVED_MANIFEST)
		return false;
	if (!img->cache_tried) {
		img->cache_tried = true;
		img->cache = dd__cache_read(img);
	}
	return img->cache != NULL;
}

int dd_image_tree(const struct dd_tree **out, struct dd_image *img)
{
	struct dd_tree *tree = NULL;
	int rc;

	if (!out || !img)
		return DD_EINVAL;
	*out = NULL;
	if (img->tree) {
		*out = img->tree;
		return 0;
	}
	if (img->saved) {
		rc = dd__saved_load(img, NULL, &img->tree);
		*out = img->tree;
		return rc;
	}
	if (img->cache) {
		/* Already read by dd_image_cached(). */
		img->tree = dd__cache_tree(img, img->cache);
		dd__cache_entry_free(img->cache);
		img->cache = NULL;
	} else if (img->cache_dir && !img->cache_tried) {
		img->tree = dd__cache_load(img);
	}
	img->cache_tried = true;
	if (img->tree) {
		img->from_cache = true;
		*out = img->tree;
		return 0;
	}
	rc = dd__tree_new(&tree, img->ctx);
	if (rc)
		return dd__error(img->ctx, rc, "%s: out of memory", img->path);
	tree->fingerprinted = img->fingerprint;
	rc = dd__image_read_layers(img, tree);
	if (rc)
		goto out;
	rc = dd__tree_finalize(tree);
	if (rc) {
		dd__error(img->ctx, rc, "%s: out of memory", img->path);
		goto out;
	}
	img->tree = tree;
	tree = NULL;
	*out = img->tree;
	if (img->cache_dir)
		dd__cache_store(img);
out:
	dd_tree_free(tree);
	return rc;
}

int dd_image_tree_for_upper(const struct dd_tree **out, struct dd_image *img, const struct dd_tree *upper)
{
	if (!out || !img || !upper)
		return DD_EINVAL;
	*out = NULL;
	if (img->upper_tree) {
		*out = img->upper_tree;
		return 0;
	}
	if (!img->tree && img->saved) {
		int rc = dd__saved_load(img, upper, &img->upper_tree);

		*out = img->upper_tree;
		return rc;
	}
	if (!img->tree && dd_image_cached(img)) {
		img->upper_tree = dd__cache_tree_upper(img, img->cache, upper);
		dd__cache_entry_free(img->cache);
		img->cache = NULL;
		/*
		 * A later dd_image_tree() reads a good entry again; a damaged
		 * one is rebuilt from the layers, here and now.
		 */
		img->cache_tried = !img->upper_tree;
		if (img->upper_tree) {
			img->from_cache = true;
			*out = img->upper_tree;
			return 0;
		}
	}
	return dd_image_tree(out, img);
}

bool dd_image_from_cache(const struct dd_image *img)
{
	return img && img->from_cache;
}

enum dd_image_format dd_image_format(const struct dd_image *img)
{
	return img->format;
}

const char *dd_image_format_name(enum dd_image_format format)
{
	switch (format) {
	case DD_IMAGE_OCI_LAYOUT: return "oci-layout";
	case DD_IMAGE_OCI_ARCHIVE: return "oci-archive";
	case DD_IMAGE_DOCKER_ARCHIVE: return "docker-archive";
	case DD_IMAGE_SAVED_MANIFEST: return "driftdiff-manifest";
	}
	return "unknown";
}

const char *dd_compression_name(enum dd_compression c)
{
	switch (c) {
	case DD_COMPRESSION_NONE: return "none";
	case DD_COMPRESSION_GZIP: return "gzip";
	case DD_COMPRESSION_ZSTD: return "zstd";
	case DD_COMPRESSION_OTHER: return "other";
	case DD_COMPRESSION_UNKNOWN: break;
	}
	return "unknown";
}

const char *dd_image_path(const struct dd_image *img) { return img->path; }
const char *dd_image_ref(const struct dd_image *img) { return img->ref; }
const char *dd_image_manifest_digest(const struct dd_image *img) { return img->manifest_digest; }
const char *dd_image_config_digest(const struct dd_image *img) { return img->config_digest; }
const char *dd_image_platform(const struct dd_image *img) { return img->platform; }
const char *dd_image_config_json(const struct dd_image *img) { return img->config_json; }
size_t dd_image_layer_count(const struct dd_image *img) { return img->nlayers; }
size_t dd_image_history_count(const struct dd_image *img) { return img->nhistory; }
size_t dd_image_warning_count(const struct dd_image *img) { return img->warnings.len; }

const struct dd_layer_info *dd_image_layer(const struct dd_image *img, size_t i)
{
	return i < img->nlayers ? &img->layers[i].info : NULL;
}

const struct dd_history_info *dd_image_history(const struct dd_image *img, size_t i)
{
	return i < img->nhistory ? &img->history[i] : NULL;
}

const char *dd_image_warning(const struct dd_image *img, size_t i)
{
	return i < img->warnings.len ? img->warnings.items[i] : NULL;
}
