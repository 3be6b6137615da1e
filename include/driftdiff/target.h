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
};
#define DD_TARGET_OPTIONS_VERSION 2
#define DD_TARGET_OPTIONS_INIT { DD_TARGET_OPTIONS_VERSION, false, 0, 0, NULL }

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

/* Read a flat root filesystem tar (docker export), plain, gzip or zstd. */
DD_API int dd_target_read_tar(struct dd_tree **out, struct dd_ctx *ctx, const char *path,
			      const struct dd_target_options *opts);

#ifdef __cplusplus
}
#endif
#endif
