/*
 * oci_builder: write small OCI image layouts for tests, from C.
 *
 * A test describes each layer as a list of tar entries in the order they
 * will appear in the tar, then writes the layout into a fresh directory
 * under /tmp. Digests are computed with the library's own hasher. Any
 * failure here fails the calling cmocka test.
 *
 *	struct ob_layer *l = ob_layer_new();
 *	ob_file(l, "etc/passwd", "root:x:0:0\n", 11);
 *	char *dir = ob_write_layout(&l, 1, NULL);
 *	... dd_image_open(&img, ctx, dir, NULL) ...
 *	ob_rmtree(dir);
 */
#ifndef OCI_BUILDER_H
#define OCI_BUILDER_H

#include <stdbool.h>
#include <stddef.h>

/* How a layer's descriptor or config entry is made to lie, for failure tests. */
enum ob_corrupt {
	OB_HONEST = 0,
	OB_BAD_DIFF_ID,      /* the config's rootfs.diff_ids entry is wrong */
	OB_BAD_BLOB_DIGEST,  /* the descriptor digest (and blob file name) is wrong */
	OB_SIZE_PLUS_ONE,    /* the descriptor size is one byte too large */
	OB_SIZE_MINUS_ONE,   /* ... one byte too small */
};

struct ob_layer;

struct ob_layer *ob_layer_new(void);
void ob_layer_free(struct ob_layer *l);

/* Entries, in tar order. Names are written as given (no normalisation). */
void ob_file(struct ob_layer *l, const char *path, const void *data, size_t len);
void ob_file_attrs(struct ob_layer *l, const char *path, const void *data, size_t len,
		   unsigned mode, long uid, long gid);
void ob_dir(struct ob_layer *l, const char *path, unsigned mode);
void ob_symlink(struct ob_layer *l, const char *path, const char *target);
void ob_hardlink(struct ob_layer *l, const char *path, const char *target);
/* An empty regular file: whiteouts and opaque markers. */
void ob_empty(struct ob_layer *l, const char *path);
/* Add an xattr to the most recently added entry. */
void ob_xattr(struct ob_layer *l, const char *name, const void *value, size_t len);

/* Store the layer gzip-compressed (media type ...tar+gzip). */
void ob_gzip(struct ob_layer *l);
void ob_corrupt(struct ob_layer *l, enum ob_corrupt how);

/* The uncompressed tar of L, as it will be written (malloc'd; *len set). */
unsigned char *ob_layer_tar(struct ob_layer *l, size_t *len);

struct ob_opts {
	/* Written into index.json in place of the manifest's digest, if set. */
	const char *index_digest;
};

/*
 * Write LAYERS (bottom first) as an OCI layout into a new directory and
 * return its path (free() it after ob_rmtree()). The layers are not freed.
 */
char *ob_write_layout(struct ob_layer *const *layers, size_t n, const struct ob_opts *opts);
/* Remove a directory tree made by ob_write_layout() (or any tmp dir). */
void ob_rmtree(const char *dir);

/* The lowercase hex SHA-256 of DATA into out[65]. */
void ob_sha256_hex(char out[65], const void *data, size_t len);

#endif
