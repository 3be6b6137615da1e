/*
 * driftdiff/image.h: reading a container image into a verified, hashed tree.
 *
 * dd_image_open() accepts an OCI image layout directory, an oci-archive tar,
 * a `docker save` tar (every form in use) or a manifest saved by
 * dd_image_save(). It resolves the index, manifest and config and verifies
 * their digests; dd_image_tree() then streams every layer once, verifying
 * its size, blob digest and diff_id, and applies the layers in memory.
 * Nothing is written to disk.
 */
#ifndef DRIFTDIFF_IMAGE_H
#define DRIFTDIFF_IMAGE_H

#include <stdio.h>
#include "common.h"
#include "tree.h"

#ifdef __cplusplus
extern "C" {
#endif

struct dd_image;

enum dd_image_format {
	DD_IMAGE_OCI_LAYOUT = 1, /* a directory with oci-layout, index.json, blobs/ */
	DD_IMAGE_OCI_ARCHIVE,    /* a tar of such a directory */
	DD_IMAGE_DOCKER_ARCHIVE, /* docker save / podman save / skopeo docker-archive */
	DD_IMAGE_SAVED_MANIFEST, /* written by dd_image_save() */
};

struct dd_image_options {
	unsigned version;
	/*
	 * Which image when the input holds several: matched against
	 * org.opencontainers.image.ref.name, io.containerd.image.name or a
	 * docker RepoTag ("busybox" matches "docker.io/library/busybox:latest").
	 */
	const char *ref;
	/* "os/arch[/variant]"; NULL selects the host's platform. */
	const char *platform;
	/*
	 * A directory for the manifest cache, or NULL for none. dd_image_tree()
	 * then reads the tree of an image it has seen before (same manifest
	 * digest, same driftdiff version) from there instead of the layers,
	 * and stores new ones. Entries are written atomically; a damaged one
	 * is ignored and rewritten. The directory must belong to the caller
	 * and be writable by nobody else, or the cache is not used.
	 */
	const char *cache_dir;
};
#define DD_IMAGE_OPTIONS_VERSION 1
#define DD_IMAGE_OPTIONS_INIT { DD_IMAGE_OPTIONS_VERSION, NULL, NULL, NULL }

/* Where the manifest cache lives by default: $XDG_CACHE_HOME/driftdiff or ~/.cache/driftdiff. */
DD_API char *dd_default_cache_dir(void);
/* Was the tree read from the cache? */
DD_API bool dd_image_from_cache(const struct dd_image *img);

/*
 * Does PATH look like something dd_image_open() reads (a layout or archive
 * with index.json or manifest.json, or a saved manifest)? Used to tell an
 * image from a docker export tar or a root filesystem directory.
 */
DD_API bool dd_image_probe(struct dd_ctx *ctx, const char *path);

/* Open and resolve PATH; the layers are not read yet. */
DD_API int dd_image_open(struct dd_image **out, struct dd_ctx *ctx, const char *path,
			 const struct dd_image_options *opts);
DD_API void dd_image_free(struct dd_image *img);

/*
 * The image's final filesystem. The first call reads and verifies every
 * layer; the tree is borrowed from the image. On a verification failure
 * no tree is returned: a partial result is never handed out.
 */
DD_API int dd_image_tree(const struct dd_tree **out, struct dd_image *img);

/*
 * How many threads dd_image_tree() may read layers on: 0 (the default)
 * one per CPU, 1 one layer at a time. Each layer is inflated on a thread
 * of its own beside its parsing whatever this says; with more, layers
 * above the first are read into trees of their own meanwhile and laid
 * over the ones below in order. The tree is the same either way.
 */
DD_API void dd_image_set_jobs(struct dd_image *img, unsigned jobs);

/*
 * Have dd_image_tree(), when it reads the layers, also take each regular
 * file's fingerprint under a secret key of the image's own (GMAC, a new
 * random key per image handle), for a directory walked with that key
 * (dd_target_options.fingerprint_key) to be settled against
 * (dd_target_settle()): the walk then never computes the SHA-256 of a
 * file that holds the image's bytes. Returns the key (16 bytes, valid
 * while IMG is; never show it), or NULL once the tree is read or when no
 * random key can be had.
 */
DD_API const unsigned char *dd_image_fingerprint_key(struct dd_image *img);

/*
 * Does the manifest cache hold the image's tree? Reads and checks the
 * entry (on the calling thread: worth doing while the target is read) and
 * keeps it for dd_image_tree() or dd_image_tree_for_upper(). False with no
 * cache directory, no entry, or a damaged one.
 */
DD_API bool dd_image_cached(struct dd_image *img);

/*
 * The part of the image's tree that dd_diff_upper() and dd_classify() need
 * for the overlay upper dir UPPER (dd_target_read_upper()): the image's
 * entries at UPPER's paths and their parents, everything below UPPER's
 * whiteouts, opaque directories and non-directories, and the files that
 * classification parses (package databases, account files). From the
 * manifest cache this costs in proportion to UPPER, not to the image; a
 * saved manifest's other lines are checked for path order, not parsed or
 * kept. Otherwise it is the whole tree, as dd_image_tree() gives it.
 * Borrowed from the image. Only for an upper-dir comparison with UPPER:
 * any other use needs dd_image_tree().
 */
DD_API int dd_image_tree_for_upper(const struct dd_tree **out, struct dd_image *img,
				   const struct dd_tree *upper);

/*
 * Write the saved-manifest format: a header line describing the image,
 * then the JSONL entries. dd_image_open() accepts the result in place of
 * the image. Reads the layers if that has not happened yet.
 */
DD_API int dd_image_save(struct dd_image *img, FILE *f);

enum dd_compression {
	DD_COMPRESSION_UNKNOWN = 0, /* not read yet */
	DD_COMPRESSION_NONE,
	DD_COMPRESSION_GZIP,
	DD_COMPRESSION_ZSTD,
	DD_COMPRESSION_OTHER,       /* xz or bzip2, accepted from old Docker */
};
DD_API const char *dd_compression_name(enum dd_compression c);

enum dd_verify {
	DD_VERIFY_PENDING = 0,  /* layers not read yet */
	DD_VERIFY_OK,           /* every digest that the format records matched */
	DD_VERIFY_PARTIAL,      /* diff_id matched; the format records no blob digest */
};

struct dd_layer_info {
	const char *media_type;  /* from the manifest; NULL for docker archives */
	const char *digest;      /* of the stored blob; NULL when not recorded */
	const char *diff_id;     /* of the uncompressed tar, from the config */
	int64_t size;            /* stored bytes; -1 if not recorded */
	const char *location;    /* blob path inside the layout or archive */
	enum dd_compression compression;
	uint64_t uncompressed_size;
	enum dd_verify verified;
	const char *created_by;  /* the config history line that made it, or NULL */
};

struct dd_history_info {
	const char *created;
	const char *created_by;
	const char *author;
	const char *comment;
	bool empty_layer;
};

DD_API enum dd_image_format dd_image_format(const struct dd_image *img);
DD_API const char *dd_image_format_name(enum dd_image_format format);
DD_API const char *dd_image_path(const struct dd_image *img);
/* The chosen ref name, or NULL. */
DD_API const char *dd_image_ref(const struct dd_image *img);
/* Digests of the selected manifest (NULL for legacy docker archives) and config. */
DD_API const char *dd_image_manifest_digest(const struct dd_image *img);
DD_API const char *dd_image_config_digest(const struct dd_image *img);
/* "linux/amd64" or "linux/arm/v7", from the config. */
DD_API const char *dd_image_platform(const struct dd_image *img);
/* The verified image config document (JSON text). */
DD_API const char *dd_image_config_json(const struct dd_image *img);
DD_API size_t dd_image_layer_count(const struct dd_image *img);
DD_API const struct dd_layer_info *dd_image_layer(const struct dd_image *img, size_t i);
DD_API size_t dd_image_history_count(const struct dd_image *img);
DD_API const struct dd_history_info *dd_image_history(const struct dd_image *img, size_t i);
/* Things that were odd but not fatal, one line each (e.g. a path written through a symlink). */
DD_API size_t dd_image_warning_count(const struct dd_image *img);
DD_API const char *dd_image_warning(const struct dd_image *img, size_t i);

#ifdef __cplusplus
}
#endif
#endif
