/*
 * driftdiff/diff.h: what changed between an image and a target.
 *
 * Both trees are path-sorted, so the diff is a merge walk. Each change
 * says which attributes differ; the attribute table maps each bit to the
 * JSON key, the text label and the one-letter code that reports use.
 */
#ifndef DRIFTDIFF_DIFF_H
#define DRIFTDIFF_DIFF_H

#include "common.h"
#include "tree.h"

#ifdef __cplusplus
extern "C" {
#endif

enum dd_change_kind {
	DD_CHANGE_ADDED = 1,
	DD_CHANGE_MODIFIED,
	DD_CHANGE_DELETED,
	DD_CHANGE_TYPE_CHANGED,
	DD_CHANGE_UNREADABLE,   /* present in both, but the target's content could not be read */
};
/* "added", "modified", "deleted", "type_changed", "unreadable". */
DD_API const char *dd_change_kind_name(enum dd_change_kind kind);

/* Attributes a change can touch; a change carries a mask of them. */
enum dd_attr {
	DD_ATTR_CONTENT = 1u << 0,  /* SHA-256 of the content */
	DD_ATTR_SIZE = 1u << 1,
	DD_ATTR_MODE = 1u << 2,     /* any permission bit */
	DD_ATTR_SETID = 1u << 3,    /* setuid or setgid in particular */
	DD_ATTR_UID = 1u << 4,
	DD_ATTR_GID = 1u << 5,
	DD_ATTR_TYPE = 1u << 6,
	DD_ATTR_TARGET = 1u << 7,   /* symlink target */
	DD_ATTR_MTIME = 1u << 8,
	DD_ATTR_XATTRS = 1u << 9,
	DD_ATTR_CAPS = 1u << 10,    /* security.capability in particular */
	DD_ATTR_RDEV = 1u << 11,
	DD_ATTR_HARDLINK = 1u << 12,
};

struct dd_attr_info {
	enum dd_attr bit;
	const char *key;    /* JSON: "content", "mode", ... */
	const char *label;  /* text: "content", "setuid/setgid", ... */
	char letter;        /* compact code: C, S, M, ... */
};
/* The table of every attribute, in report order; *n receives its length. */
DD_API const struct dd_attr_info *dd_attr_table(size_t *n);

enum dd_severity {
	DD_SEVERITY_NONE = 0,
	DD_SEVERITY_INFO,
	DD_SEVERITY_LOW,
	DD_SEVERITY_MEDIUM,
	DD_SEVERITY_HIGH,
	DD_SEVERITY_CRITICAL,
	DD_SEVERITY_NEVER,     /* as a threshold: nothing reaches it */
};
DD_API const char *dd_severity_name(enum dd_severity s);
/* Parse "none", "info".."critical", "never"; -1 when unknown. */
DD_API int dd_severity_parse(const char *s);

/* Change flags. */
#define DD_CHANGE_NEW_EXEC 0x1u       /* added or modified ELF/script, or gained an execute bit */
#define DD_CHANGE_IGNORED 0x2u        /* matched an ignore pattern (see ignored_by) */
#define DD_CHANGE_RACED 0x4u          /* the target changed while it was read */
#define DD_CHANGE_DIR_MTIME 0x8u      /* a directory whose only change is its mtime */
#define DD_CHANGE_STEALTH 0x10u       /* content changed, size and mtime kept */

struct dd_change {
	enum dd_change_kind kind;
	uint32_t attrs;                /* DD_ATTR_* that differ */
	const struct dd_entry *before; /* in the image; NULL when added */
	const struct dd_entry *after;  /* in the target; NULL when deleted */
	const char *path;              /* borrowed from before or after */
	size_t path_len;
	uint32_t flags;                /* DD_CHANGE_* */
	enum dd_severity severity;
	const char *ignored_by;        /* the pattern or built-in rule, when ignored */
};

struct dd_ignore;

/* An empty ignore list; add the built-in runtime list with dd_ignore_add_defaults(). */
DD_API int dd_ignore_new(struct dd_ignore **out, struct dd_ctx *ctx);
DD_API void dd_ignore_free(struct dd_ignore *ign);
/*
 * Add one gitignore-style pattern matched against absolute container paths:
 * "!" re-includes, "**" spans directories, a leading or inner "/" anchors
 * at the root, a trailing "/" matches directories only, "#" starts a
 * comment. SOURCE ("file:line") is reported as the reason.
 */
DD_API int dd_ignore_add(struct dd_ignore *ign, const char *pattern, const char *source);
/*
 * Ignore the absolute PATH (bytes, no glob characters interpreted), and
 * with SUBTREE everything below it; REASON is reported (live mode ignores
 * the container's mount points this way).
 */
DD_API int dd_ignore_add_path(struct dd_ignore *ign, const char *path, size_t len, bool subtree,
			      const char *reason);
/* Add every line of FILE. */
DD_API int dd_ignore_load(struct dd_ignore *ign, const char *path);
/* What every container runtime writes itself (/.dockerenv, /etc/hosts, /proc...). */
DD_API int dd_ignore_add_defaults(struct dd_ignore *ign);
/* The reason PATH is ignored, or NULL. */
DD_API const char *dd_ignore_match(const struct dd_ignore *ign, const char *path, size_t len,
				   bool is_dir);

struct dd_diff_options {
	unsigned version;
	bool all;                        /* keep directory mtime-only changes */
	const struct dd_ignore *ignore;  /* may be NULL */
};
#define DD_DIFF_OPTIONS_VERSION 1
#define DD_DIFF_OPTIONS_INIT { DD_DIFF_OPTIONS_VERSION, false, NULL }

struct dd_diff;

/* Compare a whole target tree with the image tree. Both must outlive the diff. */
DD_API int dd_diff_trees(struct dd_diff **out, struct dd_ctx *ctx, const struct dd_tree *image,
			 const struct dd_tree *target, const struct dd_diff_options *opts);
/*
 * Compare an overlay upper dir (dd_target_read_upper()) with the image:
 * cost grows with the upper dir, not the image.
 */
DD_API int dd_diff_upper(struct dd_diff **out, struct dd_ctx *ctx, const struct dd_tree *image,
			 const struct dd_tree *upper, const struct dd_diff_options *opts);
DD_API void dd_diff_free(struct dd_diff *diff);
/* Changes in path order, ignored ones included (flagged). */
DD_API size_t dd_diff_count(const struct dd_diff *diff);
DD_API const struct dd_change *dd_diff_change(const struct dd_diff *diff, size_t i);
/* The change at PATH, or NULL (a binary search: changes are in path order). */
DD_API const struct dd_change *dd_diff_find(const struct dd_diff *diff, const char *path, size_t len);

#ifdef __cplusplus
}
#endif
#endif
