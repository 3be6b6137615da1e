/* The image handle, shared by the format readers (oci.c, docker.c, saved.c) and layer.c. */
#ifndef DD_IMAGE_PRIVATE_H
#define DD_IMAGE_PRIVATE_H

#include <stdatomic.h>

#include <json-c/json.h>

#include "digest.h"
#include "json.h"
#include "private.h"
#include "source.h"

struct dd__layer {
	struct dd_layer_info info;
	bool has_digest;          /* the format records the stored blob's digest */
	struct dd__digest digest;
	struct dd__digest diff_id;
	bool has_size;
};

struct dd__cache_entry;

struct dd_image {
	struct dd_ctx *ctx;
	char *path;
	enum dd_image_format format;
	struct dd__src *src;
	struct dd__arena strings;    /* every string the info accessors return */
	const char *ref;
	const char *manifest_digest;
	const char *config_digest;
	const char *platform;
	const char *config_json;
	bool platform_explicit;      /* the caller named a platform */
	const char *want_platform;
	struct dd__layer *layers;
	size_t nlayers;
	struct dd_history_info *history;
	size_t nhistory;
	struct dd__ptrvec warnings;
	struct dd_tree *tree;
	struct dd_tree *upper_tree;  /* the part of the tree an upper dir needs */
	char *cache_dir;
	struct dd__cache_entry *cache; /* read and checked, not decoded yet */
	bool cache_tried;
	bool from_cache;
	/* A saved manifest: its file, open, and where its entry lines start. */
	FILE *saved;
	off_t saved_body;
	uint64_t saved_entries;   /* as many as the header says */
	unsigned jobs;            /* dd_image_set_jobs() */
	bool fingerprint;         /* dd_image_fingerprint_key(): files read from layers get one */
	unsigned char fp_key[16];
	bool read_apart;          /* tests: every layer above the first read apart */
	size_t parts_merged;      /* layers read apart and laid over the tree (tests) */
};

/*
 * The manifest cache (cache.c): IMG's whole tree read from its entry in
 * one pass, without holding the entry (NULL on a miss); or the entry read
 * and checked into memory (NULL on a miss), then the whole tree from it or
 * the part an upper dir needs (dd_image_tree_for_upper()); and storing
 * IMG's tree.
 */
struct dd_tree *dd__cache_load(struct dd_image *img);
struct dd__cache_entry *dd__cache_read(struct dd_image *img);
void dd__cache_entry_free(struct dd__cache_entry *c);
struct dd_tree *dd__cache_tree(struct dd_image *img, const struct dd__cache_entry *c);
struct dd_tree *dd__cache_tree_upper(struct dd_image *img, const struct dd__cache_entry *c,
				     const struct dd_tree *upper);
void dd__cache_store(struct dd_image *img);

/* Copy a string into the image's arena; NULL in, NULL out. */
const char *dd__image_strdup(struct dd_image *img, const char *s);
void dd__image_warn(struct dd_image *img, const char *fmt, ...) DD_PRINTF(2, 3);

/*
 * Parse and check the image config (config.md): rootfs.type "layers",
 * diff_ids well-formed and as many as layers, platform, history. Fills
 * img->config_json, platform, history and each layer's diff_id and
 * created_by. img->layers must be allocated already.
 */
int dd__image_load_config(struct dd_image *img, const char *what, const char *data, size_t len);

/* Allocate N zeroed layers. */
int dd__image_alloc_layers(struct dd_image *img, size_t n);

/* Read the OCI layout in img->src and select the image. */
int dd__oci_open(struct dd_image *img, const char *ref);
/* Read a docker save archive's manifest.json in img->src and select the image. */
int dd__docker_open(struct dd_image *img, const char *ref);
/*
 * Open a saved manifest: its header into IMG, which keeps F (on success
 * only) for the entries, read when a tree is asked for: all of them, or
 * with UPPER only those an upper-dir comparison needs (the others are
 * checked for path order only).
 */
int dd__saved_open(struct dd_image *img, FILE *f);
int dd__saved_load(struct dd_image *img, const struct dd_tree *upper, struct dd_tree **ret);

/* Stream layer I into TREE, verifying its size and digests. */
int dd__layer_apply(struct dd_image *img, size_t i, struct dd_tree *tree);

/*
 * A layer read apart, on a thread of its own, while the layers below it
 * are still being read: into a tree of its own and on a context of its
 * own, keeping its whiteouts and its warnings, in tar order, for
 * dd__layer_merge() to lay over the layers below once they are in. The
 * result is the tree dd__layer_apply() would have built. Where the
 * order of the tar would make a difference that a part cannot see, the
 * part gives up (DD__EPART_IN_PLACE) and its layer is read in place, in
 * its turn: a hard link to a file below; a whiteout of what holds a
 * directory the layer made only as a parent (read in turn, the whiteout
 * keeps the lower directory there, with its attributes); a path the layer
 * writes twice (unless a directory both times), or beneath a file of its
 * own (read in turn, the first write removed what was below).
 */
struct dd__lower_op {
	enum { DD__HIDE, DD__HIDE_CHILDREN } kind;
	const char *path;          /* what is hidden; strings of the part's tree */
	size_t len;
};

struct dd__layer_part {
	struct dd_ctx *ctx;        /* the error, whose message names the image and layer */
	struct dd_tree *tree;
	struct dd__lower_op *ops;
	size_t nops, ops_cap;
	struct dd__ptrvec warnings; /* heap strings, for the image's list */
	struct dd__rd *rd;         /* the blob, opened on the image's thread; the part closes it */
	/* Shared by the parts being read: entries held, and the word to give up. */
	_Atomic uint64_t *held;
	const _Atomic bool *stop;
	uint64_t entries;          /* this part's share of *held */
	uint64_t looked;           /* nodes looked at for whiteouts (lower_op()) */
	int rc;
};

/* Every layer into TREE, the upper ones read beside the lower (layers.c). */
int dd__image_read_layers(struct dd_image *img, struct dd_tree *tree);

/*
 * A part gives up, and its layer is read in place: the tar's order matters
 * (above), the parts hold max-entries entries between them, or the image's
 * thread has stopped.
 */
#define DD__EPART_IN_PLACE (-100)

/* Read layer I into PART (its rd open, its ctx and held set): PART->rc, also returned. */
int dd__layer_read_part(struct dd_image *img, size_t i, struct dd__layer_part *part);
/* Lay PART, layer I read apart without an error, over TREE (the layers below it). */
int dd__layer_merge(struct dd_image *img, size_t i, struct dd__layer_part *part, struct dd_tree *tree);
/* Free what PART holds (not PART). */
void dd__layer_part_free(struct dd__layer_part *part);

/* Does the user's REF name this image reference? (docker normalisation aware) */
bool dd__ref_match(const char *want, const char *have);
/* The digest in a ref that is one ("sha256:...", "name@sha256:..."), else NULL. */
const char *dd__ref_digest(const char *ref);

/* "os/arch[/variant]" to parts; false when malformed. */
bool dd__platform_parse(const char *s, char *os, size_t oslen, char *arch, size_t archlen,
			char *variant, size_t varlen);
/* Does the platform HAVE ("os/arch[/variant]") satisfy WANT? arm64 implies v8. */
bool dd__platform_matches(const char *want, const char *have);
/* The platform this program runs on, as OCI names it ("linux/amd64"). */
const char *dd__host_platform(void);

#endif
