/*
 * The in-memory tree behind struct dd_tree. While a tree is built it is a
 * real tree (parent, child and sibling links) plus a hash table from full
 * path to node, so layers can replace, white out and hide subtrees in
 * O(affected entries). dd__tree_finalize() then produces the path-sorted
 * entry list that the public API exposes.
 */
#ifndef DD_TREE_H
#define DD_TREE_H

#include <pthread.h>

#include "private.h"

struct dd__node {
	struct dd_entry e;      /* first, so a node is an entry */
	struct dd__node *parent, *child, *next, *prev;
	uint32_t hash;          /* of the path, for the build's hash table */
	/* A regular file's fingerprint, in a tree read with one (image.fingerprint). */
	unsigned char fp[DD__FP_LEN];
};

/*
 * Private to a walk taken with fingerprints: the entry's sha256 holds its
 * fingerprint (DD__FP_LEN bytes) until dd_target_settle() gives it a
 * digest. Never seen outside.
 */
#define DD__ENTRY_FINGERPRINT 0x8000u

struct dd_tree {
	struct dd_ctx *ctx;
	struct dd__arena arena;
	struct dd__arena strings; /* paths and link targets, which dd_tree_share_strings() replaces */
	struct dd__node *root;
	struct dd__node **slots; /* open addressing, linear probing */
	size_t cap, count;
	struct dd__node *spare;  /* removed nodes, reused */
	const struct dd_entry **sorted;
	size_t nsorted, sorted_cap;
	bool finalized;
	uint64_t next_ino;       /* synthetic inode numbers for built trees */
	bool fingerprinted;      /* built of nodes whose files have their fingerprint */
	bool fp_pending;         /* walked with fingerprints, not settled yet */
	uint64_t nremoved;       /* nodes dd__tree_remove() took out (subtrees count one) */
	struct dd__ptrvec warnings; /* heap strings */
	/*
	 * A walked directory whose executables' heads were left on disk
	 * (dd_target_options.defer_heads): its root, kept open to read the
	 * few the diff shows to matter, HEAD_BYTES each, under HEAD_MU.
	 * -1 otherwise.
	 */
	int rootfd;
	uint32_t head_bytes;
	pthread_mutex_t head_mu;
};

/* Record a warning on the tree (kept to the first thousand). */
void dd__tree_warn(struct dd_tree *t, const char *fmt, ...) DD_PRINTF(2, 3);

/* The extra fields of an entry that has none. */
extern const struct dd_entry_extra dd__no_extra;
/*
 * E's extra fields made writable: a copy from arena A put in place of the
 * old ones, which other entries (hard links copied from E) may share.
 * NULL on ENOMEM.
 */
struct dd_entry_extra *dd__entry_extra(struct dd__arena *a, struct dd_entry *e);
/* Give E the extra fields X (copied into arena A); an empty X leaves E on the shared empty one. */
int dd__entry_set_extra(struct dd__arena *a, struct dd_entry *e, const struct dd_entry_extra *x);
/* Give E a copy (from A) of the N bytes at P as its head, or as its kept content. */
int dd__entry_set_head(struct dd__arena *a, struct dd_entry *e, const void *p, size_t n);
int dd__entry_set_content(struct dd__arena *a, struct dd_entry *e, const void *p, size_t n);

/*
 * The entry of T (finalized) at PATH, for a caller that meets paths in
 * tree order: *POS (0 at first) moves past every entry before PATH and
 * never back. NULL when T has none at PATH.
 */
const struct dd_entry *dd__tree_seek(const struct dd_tree *t, size_t *pos, const char *path, size_t len);
/* LENT when it holds the N bytes at S, else a copy of them from A: strings one tree lends another. */
const char *dd__string_lent(struct dd__arena *a, const char *s, size_t n, const char *lent, size_t lent_n);

int dd__tree_new(struct dd_tree **out, struct dd_ctx *ctx);
struct dd__node *dd__tree_lookup(struct dd_tree *t, const char *path, size_t len);

/*
 * Make sure every ancestor of PATH is a directory, creating missing ones
 * (0755 root:root, flagged DD_ENTRY_IMPLICIT, written by LAYER). A
 * non-directory in the way is replaced by a directory and *replaced is set:
 * nothing is ever resolved through a symlink.
 */
int dd__tree_mkparents(struct dd_tree *t, struct dd__node **parent,
		       const char *path, size_t len, int layer, bool *replaced);

/*
 * Create the node for PATH of TYPE under PARENT, applying the layer rule
 * for collisions: a directory over a directory keeps the node (and its
 * children) so only the attributes change; anything else removes the old
 * subtree first. The returned node has its path, type and layer set and
 * every other attribute reset.
 */
int dd__tree_put(struct dd_tree *t, struct dd__node **out, struct dd__node *parent,
		 const char *path, size_t len, enum dd_type type, int layer);

/*
 * Put N, a node of another tree whose arenas T adopts, under PARENT: T
 * must hold nothing at N's path. N's links are reset; its children, if it
 * had any, are not brought along.
 */
int dd__tree_attach(struct dd_tree *t, struct dd__node *parent, struct dd__node *n);

/* Remove N and its whole subtree. */
void dd__tree_remove(struct dd_tree *t, struct dd__node *n);

/*
 * Remove whatever in N's subtree was written by a layer below LAYER,
 * keeping entries written by LAYER itself and the directories that lead to
 * them. With children_only, N itself stays (an opaque directory).
 */
void dd__tree_hide_lower(struct dd_tree *t, struct dd__node *n, int layer, bool children_only);

/*
 * Build the sorted entry list and settle hard links: entries sharing an
 * inode number form a group whose first path (in tree order) is the
 * "hardlink" of every other member. A builder that knows an entry's inode
 * is its own sets links to 1 beforehand, and the entry is not looked at;
 * afterwards links counts the group. Further changes are refused.
 */
int dd__tree_finalize(struct dd_tree *t);

/*
 * Building in path order (a sorted walk, a cache entry): each entry is
 * appended after the last, as a bare struct dd_entry with no links and no
 * hash-table slot, 40 bytes and more less than a node. PATH must sort
 * after the last one appended (DD_EFORMAT otherwise); "/" gives the root.
 * A tree is built either this way or with dd__tree_put(), not both.
 * dd__tree_finalize_appended() then only settles hard links.
 */
int dd__tree_append(struct dd_tree *t, struct dd_entry **out, const char *path, size_t len,
		    enum dd_type type, int layer);
/* The same, keeping PATH itself (not a copy): it must outlive the tree. */
int dd__tree_append_borrowed(struct dd_tree *t, struct dd_entry **out, const char *path, size_t len,
			     enum dd_type type, int layer);
int dd__tree_finalize_appended(struct dd_tree *t);
/* An entry already appended at PATH, or NULL. */
struct dd_entry *dd__tree_appended(struct dd_tree *t, const char *path, size_t len);

/*
 * Walk the rootfs at PATH like dd_target_read_dir(), except that the N
 * absolute paths of EXCLUDE (in dd_path_compare order) are recorded
 * flagged DD_ENTRY_MOUNTPOINT and nothing below them is read (live.c).
 */
struct dd_target_options;
int dd__walk_excluding(struct dd_tree **out, struct dd_ctx *ctx, const char *path,
		       const struct dd_target_options *opts, const char *const *exclude, size_t n);

#endif
