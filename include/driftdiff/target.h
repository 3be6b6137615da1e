/*
 * driftdiff/target.h: reading what a container holds now.
 *
 * A target is read into the same struct dd_tree as an image, so the two
 * can be diffed. The container is hostile: nothing in it is ever followed
 * (no symlink, no mount unless asked), nothing blocks (no FIFO, socket or
 * device is opened), and what cannot be read is recorded as unreadable
 * rather than failing the run.
 */
#ifndef DRIFTDIFF_TARGET_H
#define DRIFTDIFF_TARGET_H

#include "common.h"
#include "tree.h"

#ifdef __cplusplus
extern "C" {
#endif

struct dd_target_options {
	unsigned version;
	bool cross_mounts;  /* walk into other filesystems mounted below the root */
	uint32_t head_bytes; /* keep this many leading bytes of each executable (for libmagic); 0 none */
	unsigned jobs;       /* threads hashing file contents; 0: one per CPU, 1: none */
	/*
	 * Version 2: the tree the target will be diffed against (the image),
	 * or NULL. A directory walk then keeps heads only of the executables
	 * the diff may call new (not at the same path with the same content
	 * in REFERENCE), which saves most of their memory.
	 */
	const struct dd_tree *reference;
	/*
	 * Version 3: with no REFERENCE, keep no heads while a directory is
	 * walked. The tree keeps its root open instead, and dd_classify()
	 * (or dd_target_load_head()) reads the heads of the few executables
	 * a diff calls new, checking that each is still the file that was
	 * hashed. Tar targets ignore it.
	 */
	bool defer_heads;
	/*
	 * Version 3: a directory walk points its entries' paths and link
	 * targets at REFERENCE's own strings where they are the same, instead
	 * of copying them (the walk meets both in path order). REFERENCE must
	 * then outlive the returned tree.
	 */
	bool borrow_strings;
	/*
	 * Version 4: a directory walk (not an upper dir) takes of each
	 * regular file a fingerprint under this key, from
	 * dd_image_fingerprint_key() of the image it will be diffed against,
	 * instead of its SHA-256 (four times the work). dd_target_settle()
	 * must then be given the image's tree before the target's is used.
	 */
	const unsigned char *fingerprint_key;
};
#define DD_TARGET_OPTIONS_VERSION 4
#define DD_TARGET_OPTIONS_INIT { DD_TARGET_OPTIONS_VERSION, false, 0, 0, NULL, false, false, NULL }

/*
 * Walk the root filesystem at PATH (a /proc/PID/root, an overlay merged
 * directory, an unpacked rootfs) with directory file descriptors.
 */
DD_API int dd_target_read_dir(struct dd_tree **out, struct dd_ctx *ctx, const char *path,
			      const struct dd_target_options *opts);

/*
 * Walk an overlayfs upper directory. Whiteouts (char 0:0) become entries
 * flagged DD_ENTRY_WHITEOUT, opaque directories DD_ENTRY_OPAQUE; the tree
 * then holds only what the container changed. Diff it with dd_diff_upper().
 */
DD_API int dd_target_read_upper(struct dd_tree **out, struct dd_ctx *ctx, const char *path,
				const struct dd_target_options *opts);

/*
 * Give E, an executable of TARGET (a tree walked with defer_heads), the
 * head the walk left on disk: read it again below the tree's root, without
 * following symlinks, and keep it only if the file still hashes to E's
 * sha256 (else a warning on the tree says why there is none). Does nothing
 * for an entry that has a head or needs none, or a tree without a root.
 * Safe to call from several threads. Returns 0 or DD_ENOMEM.
 */
DD_API int dd_target_load_head(const struct dd_tree *target, const struct dd_entry *e);

/*
 * Give a tree walked with a fingerprint_key its digests: each regular
 * file whose size and fingerprint are those of IMAGE's file at the same
 * path (IMAGE read from its layers with that key) takes that file's
 * SHA-256; every other is opened again, if it is still the file the walk
 * read (else it is flagged changed and unreadable, with a warning), and
 * hashed on JOBS threads (0: one per CPU), as a walk hashes. With IMAGE
 * NULL or read without the key, every file is hashed. Does nothing to a
 * tree walked without a key, or settled already. 0, or DD_ENOMEM.
 */
DD_API int dd_target_settle(struct dd_tree *target, const struct dd_tree *image, unsigned jobs);

/* Read a flat root filesystem tar (docker export), plain, gzip or zstd. */
DD_API int dd_target_read_tar(struct dd_tree **out, struct dd_ctx *ctx, const char *path,
			      const struct dd_target_options *opts);

#ifdef __cplusplus
}
#endif
#endif
