/*
 * driftdiff/tree.h: a filesystem tree as a path-sorted list of entries.
 *
 * An image's final filesystem, a container's root filesystem and a saved
 * manifest all become a struct dd_tree. Entries are sorted with
 * dd_path_compare(), so two trees can be diffed by walking them side by side.
 */
#ifndef DRIFTDIFF_TREE_H
#define DRIFTDIFF_TREE_H

#include <stdio.h>
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

enum dd_type {
	DD_TYPE_FILE = 1,
	DD_TYPE_DIR,
	DD_TYPE_SYMLINK,
	DD_TYPE_CHAR,
	DD_TYPE_BLOCK,
	DD_TYPE_FIFO,
	DD_TYPE_SOCKET,
};

/* "file", "dir", "symlink", "char", "block", "fifo", "socket". */
DD_API const char *dd_type_name(enum dd_type type);
/* The inverse of dd_type_name(); 0 when the name is unknown. */
DD_API enum dd_type dd_type_from_name(const char *name);

/* An extended attribute; the value is raw bytes. */
struct dd_xattr {
	const char *name;
	const unsigned char *value;
	size_t len;
};

/* The entry was created only because a child needed a parent directory. */
#define DD_ENTRY_IMPLICIT 0x1u
/* Its content could not be read (permissions, I/O error); no sha256. */
#define DD_ENTRY_UNREADABLE 0x2u
/* It changed while it was being read: the hash may mix two versions. */
#define DD_ENTRY_CHANGED 0x4u
/* Another filesystem is mounted here; its contents were not walked. */
#define DD_ENTRY_MOUNTPOINT 0x8u
/* Overlay upper dir: a whiteout (char device 0:0), the path was deleted. */
#define DD_ENTRY_WHITEOUT 0x10u
/* Overlay upper dir: an opaque directory, lower contents hidden. */
#define DD_ENTRY_OPAQUE 0x20u

/* What a regular file's first bytes say it is. */
enum dd_exec {
	DD_EXEC_NONE = 0,
	DD_EXEC_ELF,     /* \x7fELF */
	DD_EXEC_SCRIPT,  /* #! */
};

/*
 * What few entries have, kept apart so that a tree of many entries stays
 * small. An entry without any of it points at an empty one: never NULL.
 */
struct dd_entry_extra {
	const char *hardlink;   /* first path (in tree order) sharing its inode, or NULL */
	const struct dd_xattr *xattrs; /* sorted by name */
	const unsigned char *head; /* first bytes of a target's executable, for libmagic; or NULL */
	/*
	 * The whole content of the few files driftdiff parses (package
	 * databases, account files: see dd_entry_content_kept()); else NULL.
	 */
	const unsigned char *content;
	uint32_t hardlink_len;
	uint32_t nxattrs;
	uint32_t head_len;
	uint32_t content_len;   /* at most 32 MiB */
	uint32_t rdev_major, rdev_minor; /* char and block devices */
};

/*
 * One filesystem object. Strings are NUL-terminated but are bytes, not
 * necessarily UTF-8; use the _len fields. Everything is borrowed from the
 * tree that holds the entry.
 */
struct dd_entry {
	/* Widest fields first: no padding inside, 120 bytes. */
	const char *path;       /* absolute: "/", "/etc/passwd" */
	const char *target;     /* symlink target, NULL otherwise */
	const struct dd_entry_extra *extra; /* hard link, xattrs, kept bytes, device numbers */
	uint64_t size;          /* content bytes of a regular file, else 0 */
	int64_t mtime;          /* seconds since the epoch */
	uint64_t ino;           /* entries sharing an inode are hard links; 0 unknown */
	uint32_t uid, gid;
	uint32_t path_len;      /* paths and targets are at most max-path bytes */
	uint32_t target_len;
	uint32_t mtime_nsec;
	uint32_t links;         /* paths in this tree sharing the inode (1 when none) */
	int32_t layer;          /* index of the layer that last wrote it; -1 unknown */
	uint16_t mode;          /* permission bits incl. setuid/setgid/sticky (07777) */
	uint16_t flags;         /* DD_ENTRY_* */
	uint16_t elf_machine;   /* e_machine of an ELF file (62 = x86-64) */
	uint8_t type;           /* enum dd_type */
	uint8_t exec;           /* enum dd_exec: regular files, ELF, script or neither */
	bool has_sha256;        /* regular files whose content was read */
	unsigned char sha256[32];
};

struct dd_tree;

DD_API void dd_tree_free(struct dd_tree *tree);
/* Number of entries, the root "/" included. */
DD_API size_t dd_tree_count(const struct dd_tree *tree);
/* The i-th entry in path order; NULL past the end. */
DD_API const struct dd_entry *dd_tree_entry(const struct dd_tree *tree, size_t i);
/* Look a path up ("/etc/passwd"); NULL if absent. */
DD_API const struct dd_entry *dd_tree_find(const struct dd_tree *tree,
					   const char *path, size_t len);
/* Things that were odd but not fatal while the tree was read, one line each. */
DD_API size_t dd_tree_warning_count(const struct dd_tree *tree);
DD_API const char *dd_tree_warning(const struct dd_tree *tree, size_t i);
/* Is PATH one of the files whose whole content trees keep (package databases, /etc/passwd...)? */
DD_API bool dd_entry_content_kept(const char *path, size_t len);
/* The entry's value of xattr NAME, or NULL. */
DD_API const struct dd_xattr *dd_entry_xattr(const struct dd_entry *e, const char *name);

/*
 * Point TREE's paths and link targets at LENDER's own strings where they
 * are the same, and free TREE's copies: a target and the image it is
 * diffed against share most of their paths. One pass in path order over
 * both. LENDER must then outlive TREE, and nothing may hold TREE's old
 * strings (call it before diffing). DD_EINVAL for the same tree twice.
 */
DD_API int dd_tree_share_strings(struct dd_tree *tree, const struct dd_tree *lender);

/*
 * The order of entries in a tree: bytewise, except that '/' sorts before
 * every other byte, so a directory is followed by its whole subtree.
 * Returns <0, 0 or >0.
 */
DD_API int dd_path_compare(const char *a, size_t alen, const char *b, size_t blen);

/*
 * File capabilities decoded from a security.capability value
 * (VFS_CAP_REVISION_1..3, see capabilities(7)).
 */
struct dd_caps {
	uint32_t revision;      /* 1, 2 or 3 */
	bool effective;
	uint64_t permitted;     /* bit N = capability N */
	uint64_t inheritable;
	bool has_rootid;        /* revision 3 */
	uint32_t rootid;
};
DD_API int dd_caps_decode(struct dd_caps *out, const unsigned char *value, size_t len);
/* "cap_net_raw" for 13; NULL for an unknown number. */
DD_API const char *dd_cap_name(unsigned cap);

/* Listing formats for dd_tree_write(). */
enum dd_listing {
	DD_LISTING_TEXT = 1,  /* one line per entry, like ls -l, for people */
	DD_LISTING_JSONL,     /* one JSON object per entry per line */
};

/*
 * Write every entry of TREE to F. In JSONL, a path that is not valid UTF-8
 * is written escaped in "path" and exactly, base64-encoded, in
 * "path_bytes" (likewise "target"/"target_bytes"), so nothing is lost.
 */
DD_API int dd_tree_write(struct dd_ctx *ctx, const struct dd_tree *tree,
			 enum dd_listing format, FILE *f);

#ifdef __cplusplus
}
#endif
#endif
