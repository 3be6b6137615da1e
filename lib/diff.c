/*
 * The diff: a merge walk over two path-sorted trees (or, for an overlay
 * upper dir, a walk over the upper dir alone with lookups into the image),
 * producing one change per path with the exact attributes that differ.
 */
#include <stdlib.h>
#include <string.h>

#include "private.h"

struct dd_diff {
	struct dd_ctx *ctx;
	struct dd_change *c;
	size_t n, cap;
};

static const struct dd_attr_info attr_table[] = {
	{ DD_ATTR_TYPE, "type", "type", 'T' },
	{ DD_ATTR_CONTENT, "content", "content", 'C' },
	{ DD_ATTR_SIZE, "size", "size", 'S' },
	{ DD_ATTR_MODE, "mode", "mode", 'M' },
	{ DD_ATTR_SETID, "setid", "setuid/setgid", 's' },
	{ DD_ATTR_UID, "uid", "uid", 'U' },
	{ DD_ATTR_GID, "gid", "gid", 'G' },
	{ DD_ATTR_TARGET, "target", "link target", 'L' },
	{ DD_ATTR_MTIME, "mtime", "mtime", 't' },
	{ DD_ATTR_XATTRS, "xattrs", "xattrs", 'X' },
	{ DD_ATTR_CAPS, "capabilities", "capabilities", 'P' },
	{ DD_ATTR_RDEV, "rdev", "device numbers", 'D' },
	{ DD_ATTR_HARDLINK, "hardlink", "hard link", 'H' },
};

const struct dd_attr_info *dd_attr_table(size_t *n)
{
	*n = DD_ARRAY_SIZE(attr_table);
	return attr_table;
}

const char *dd_change_kind_name(enum dd_change_kind kind)
{
	switch (kind) {
	case DD_CHANGE_ADDED: return "added";
	case DD_CHANGE_MODIFIED: return "modified";
	case DD_CHANGE_DELETED: return "deleted";
	case DD_CHANGE_TYPE_CHANGED: return "type_changed";
	case DD_CHANGE_UNREADABLE: return "unreadable";
	}
	return "unknown";
}

static const char *const severity_names[] = { "none", "info", "low", "medium", "high", "critical",
					       "never" };

const char *dd_severity_name(enum dd_severity s)
{
	return (unsigned)s < DD_ARRAY_SIZE(severity_names) ? severity_names[s] : "unknown";
}

int dd_severity_parse(const char *s)
{
	size_t i;

	for (i = 0; s && i < DD_ARRAY_SIZE(severity_names); i++)
		if (!strcmp(s, severity_names[i]))
			return (int)i;
	return -1;
}

/*
 * Labels and overlay bookkeeping differ between any host and any image;
 * comparing them would report every file.
 */
static bool xattr_compared(const char *name)
{
	return strcmp(name, "security.selinux") && strncmp(name, "trusted.overlay.", 16) &&
	       strncmp(name, "user.overlay.", 13);
}

static const struct dd_xattr *next_compared(const struct dd_entry *e, uint32_t *i)
{
	while (*i < e->extra->nxattrs && !xattr_compared(e->extra->xattrs[*i].name))
		(*i)++;
	return *i < e->extra->nxattrs ? &e->extra->xattrs[(*i)++] : NULL;
}

static uint32_t xattr_diff(const struct dd_entry *a, const struct dd_entry *b)
{
	uint32_t i = 0, j = 0, attrs = 0;
	const struct dd_xattr *x, *y;
	const struct dd_xattr *ca = dd_entry_xattr(a, "security.capability");
	const struct dd_xattr *cb = dd_entry_xattr(b, "security.capability");

	for (;;) {
		x = next_compared(a, &i);
		y = next_compared(b, &j);
		if (!x && !y)
			break;
		if (!x || !y || strcmp(x->name, y->name) || x->len != y->len ||
		    memcmp(x->value, y->value, x->len)) {
			attrs |= DD_ATTR_XATTRS;
			break;
		}
	}
	if ((ca == NULL) != (cb == NULL) ||
	    (ca && (ca->len != cb->len || memcmp(ca->value, cb->value, ca->len))))
		attrs |= DD_ATTR_CAPS;
	return attrs;
}

static bool str_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	if (!a || !b)
		return a == b;
	return alen == blen && memcmp(a, b, alen) == 0;
}

/* Which attributes differ between two entries of the same path. */
static uint32_t compare(const struct dd_entry *a, const struct dd_entry *b)
{
	uint32_t attrs = 0;

	if (a->type != b->type)
		return DD_ATTR_TYPE;
	if (a->type == DD_TYPE_FILE) {
		if (a->has_sha256 && b->has_sha256 && memcmp(a->sha256, b->sha256, 32))
			attrs |= DD_ATTR_CONTENT;
		if (a->size != b->size)
			attrs |= DD_ATTR_SIZE;
	}
	if (a->mode != b->mode)
		attrs |= DD_ATTR_MODE;
	if ((a->mode ^ b->mode) & 06000)
		attrs |= DD_ATTR_SETID;
	if (a->uid != b->uid)
		attrs |= DD_ATTR_UID;
	if (a->gid != b->gid)
		attrs |= DD_ATTR_GID;
	if (a->type == DD_TYPE_SYMLINK && !str_eq(a->target, a->target_len, b->target, b->target_len))
		attrs |= DD_ATTR_TARGET;
	if (a->mtime != b->mtime || a->mtime_nsec != b->mtime_nsec)
		attrs |= DD_ATTR_MTIME;
	if ((a->type == DD_TYPE_CHAR || a->type == DD_TYPE_BLOCK) &&
	    (a->extra->rdev_major != b->extra->rdev_major ||
	     a->extra->rdev_minor != b->extra->rdev_minor))
		attrs |= DD_ATTR_RDEV;
	attrs |= xattr_diff(a, b);
	return attrs;
}

/*
 * Hard links: B (image) and A (target) keep their relation when every
 * partner that exists on both sides is a partner on both sides. A partner
 * added or deleted is reported as its own change, not as a change here.
 */
static bool links_changed(const struct dd_tree *image, const struct dd_tree *target,
			  const struct dd_entry *b, const struct dd_entry *a)
{
	const struct dd_entry_extra *ax = a->extra, *bx = b->extra;
	const struct dd_entry *p;

	if (ax->hardlink && (p = dd_tree_find(image, ax->hardlink, ax->hardlink_len)) && p->ino != b->ino)
		return true;
	if (bx->hardlink && target && (p = dd_tree_find(target, bx->hardlink, bx->hardlink_len)) &&
	    p->ino != a->ino)
		return true;
	return false;
}

static bool is_exec(const struct dd_entry *e)
{
	return e && e->type == DD_TYPE_FILE && (e->exec != DD_EXEC_NONE || (e->mode & 0111));
}

/* A first judgement of how much a change matters; findings refine it. */
static enum dd_severity severity_of(const struct dd_change *c)
{
	const struct dd_entry *b = c->before, *a = c->after;

	if (c->flags & DD_CHANGE_DIR_MTIME)
		return DD_SEVERITY_INFO;
	if (c->flags & (DD_CHANGE_NEW_EXEC | DD_CHANGE_STEALTH))
		return DD_SEVERITY_HIGH;
	if (a && a->type == DD_TYPE_FILE && (a->mode & 06000) &&
	    (!b || !(b->mode & 06000) || (c->attrs & DD_ATTR_CONTENT)))
		return DD_SEVERITY_HIGH;
	if (a && (c->attrs & DD_ATTR_CAPS) && dd_entry_xattr(a, "security.capability"))
		return DD_SEVERITY_HIGH;
	if (c->kind == DD_CHANGE_TYPE_CHANGED || c->kind == DD_CHANGE_UNREADABLE ||
	    (c->attrs & (DD_ATTR_CONTENT | DD_ATTR_TARGET | DD_ATTR_UID | DD_ATTR_GID | DD_ATTR_SETID)))
		return DD_SEVERITY_MEDIUM;
	return DD_SEVERITY_LOW;
}

static int push(struct dd_diff *d, const struct dd_diff_options *o, enum dd_change_kind kind,
		uint32_t attrs, const struct dd_entry *before, const struct dd_entry *after)
{
	const struct dd_entry *e = after ? after : before;
	struct dd_change *c;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;

		c = realloc(d->c, cap * sizeof(*c));
		if (!c)
			return dd__error(d->ctx, DD_ENOMEM, "out of memory");
		d->c = c;
		d->cap = cap;
	}
	c = &d->c[d->n];
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->attrs = attrs;
	c->before = before;
	c->after = after;
	c->path = e->path;
	c->path_len = e->path_len;
	if (after && (after->flags & DD_ENTRY_CHANGED))
		c->flags |= DD_CHANGE_RACED;
	if (kind == DD_CHANGE_MODIFIED && before->type == DD_TYPE_DIR && attrs == DD_ATTR_MTIME) {
		/* Adding or removing children moves a directory's mtime: not drift by itself. */
		if (!o->all)
			return 0;
		c->flags |= DD_CHANGE_DIR_MTIME;
	}
	if ((attrs & DD_ATTR_CONTENT) && !(attrs & (DD_ATTR_SIZE | DD_ATTR_MTIME)))
		c->flags |= DD_CHANGE_STEALTH;
	if (is_exec(after) && (kind == DD_CHANGE_ADDED || kind == DD_CHANGE_TYPE_CHANGED ||
			       (attrs & DD_ATTR_CONTENT) || !is_exec(before)))
		c->flags |= DD_CHANGE_NEW_EXEC;
	c->severity = severity_of(c);
	c->ignored_by = dd_ignore_match(o->ignore, c->path, c->path_len, e->type == DD_TYPE_DIR);
	if (c->ignored_by)
		c->flags |= DD_CHANGE_IGNORED;
	d->n++;
	return 0;
}

/* The change, if any, between the image's entry B and the target's entry A at one path. */
static int pair(struct dd_diff *d, const struct dd_diff_options *o, const struct dd_tree *image,
		const struct dd_tree *target, const struct dd_entry *b, const struct dd_entry *a)
{
	uint32_t attrs;

	if (a->path_len == 1)
		return 0; /* the root's attributes are unspecified (manifest.md) */
	attrs = compare(b, a);
	if (!(attrs & DD_ATTR_TYPE) && links_changed(image, target, b, a))
		attrs |= DD_ATTR_HARDLINK;
	/* What could not be read (or even stat'ed) is unknown, whatever it looks like. */
	if (a->flags & DD_ENTRY_UNREADABLE)
		return push(d, o, DD_CHANGE_UNREADABLE, attrs & ~DD_ATTR_CONTENT, b, a);
	if (attrs & DD_ATTR_TYPE)
		return push(d, o, DD_CHANGE_TYPE_CHANGED, DD_ATTR_TYPE, b, a);
	if (attrs)
		return push(d, o, DD_CHANGE_MODIFIED, attrs, b, a);
	return 0;
}

static bool below(const struct dd_entry *e, const char *dir, size_t len);

static int diff_new(struct dd_diff **out, struct dd_ctx *ctx)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return dd__error(ctx, DD_ENOMEM, "out of memory");
	(*out)->ctx = ctx;
	return 0;
}

int dd_diff_trees(struct dd_diff **out, struct dd_ctx *ctx, const struct dd_tree *image,
		  const struct dd_tree *target, const struct dd_diff_options *opts)
{
	struct dd_diff_options defaults = DD_DIFF_OPTIONS_INIT;
	const struct dd_entry *blind = NULL;
	size_t i = 0, j = 0, ni = dd_tree_count(image), nj = dd_tree_count(target);
	struct dd_diff *d;
	int rc = 0, cmp;

	if (!out || !ctx || !image || !target)
		return DD_EINVAL;
	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (diff_new(&d, ctx))
		return DD_ENOMEM;
	while (rc == 0 && (i < ni || j < nj)) {
		const struct dd_entry *b = dd_tree_entry(image, i), *a = dd_tree_entry(target, j);

		/*
		 * Below a directory the walk could not enter (unreadable, or
		 * another filesystem mounted there) nothing is known: the
		 * image's entries there are not "deleted".
		 */
		if (b && blind && below(b, blind->path, blind->path_len)) {
			i++;
			continue;
		}
		if (!b)
			cmp = 1;
		else if (!a)
			cmp = -1;
		else
			cmp = dd_path_compare(b->path, b->path_len, a->path, a->path_len);
		if (cmp < 0) {
			rc = push(d, opts, DD_CHANGE_DELETED, 0, b, NULL);
			i++;
		} else if (cmp > 0) {
			rc = push(d, opts, DD_CHANGE_ADDED, 0, NULL, a);
			j++;
		} else {
			rc = pair(d, opts, image, target, b, a);
			i++;
			j++;
		}
		if (cmp >= 0 && a->type == DD_TYPE_DIR &&
		    (a->flags & (DD_ENTRY_UNREADABLE | DD_ENTRY_MOUNTPOINT)))
			blind = a;
	}
	if (rc) {
		dd_diff_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

/* Index of PATH in TREE, or where it would go. */
static size_t lower_bound(const struct dd_tree *t, const char *path, size_t len)
{
	size_t lo = 0, hi = dd_tree_count(t);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct dd_entry *e = dd_tree_entry(t, mid);

		if (dd_path_compare(e->path, e->path_len, path, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool below(const struct dd_entry *e, const char *dir, size_t len)
{
	return e->path_len > len && memcmp(e->path, dir, len) == 0 &&
	       (len == 1 || e->path[len] == '/');
}

static int change_cmp(const void *x, const void *y)
{
	const struct dd_change *a = x, *b = y;

	return dd_path_compare(a->path, a->path_len, b->path, b->path_len);
}

/*
 * Report the image's entry B (when SELF) and every entry below it as
 * deleted, except what the upper dir itself holds (it is compared on its own).
 */
static int delete_subtree(struct dd_diff *d, const struct dd_diff_options *o,
			  const struct dd_tree *image, const struct dd_tree *upper,
			  const struct dd_entry *b, bool self)
{
	size_t k = lower_bound(image, b->path, b->path_len), ni = dd_tree_count(image);
	int rc = 0;

	if (self)
		rc = push(d, o, DD_CHANGE_DELETED, 0, b, NULL);
	for (k++; rc == 0 && k < ni && below(dd_tree_entry(image, k), b->path, b->path_len); k++) {
		const struct dd_entry *lower = dd_tree_entry(image, k);

		if (!dd_tree_find(upper, lower->path, lower->path_len))
			rc = push(d, o, DD_CHANGE_DELETED, 0, lower, NULL);
	}
	return rc;
}

/*
 * overlayfs (Documentation/filesystems/overlayfs.rst): the upper dir holds
 * what changed; a whiteout (char 0:0) deletes the lower path, an opaque
 * directory hides every lower child, anything else replaces the lower
 * entry. Everything not in the upper dir is the image, unchanged.
 */
int dd_diff_upper(struct dd_diff **out, struct dd_ctx *ctx, const struct dd_tree *image,
		  const struct dd_tree *upper, const struct dd_diff_options *opts)
{
	struct dd_diff_options defaults = DD_DIFF_OPTIONS_INIT;
	size_t i, n = dd_tree_count(upper);
	struct dd_diff *d;
	int rc = 0;

	if (!out || !ctx || !image || !upper)
		return DD_EINVAL;
	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (diff_new(&d, ctx))
		return DD_ENOMEM;
	for (i = 0; i < n && rc == 0; i++) {
		const struct dd_entry *u = dd_tree_entry(upper, i);
		const struct dd_entry *b = dd_tree_find(image, u->path, u->path_len);

		if (u->path_len == 1)
			continue;
		if (u->flags & DD_ENTRY_WHITEOUT) {
			/* The whiteout deletes the lower path and everything below it. */
			if (b)
				rc = delete_subtree(d, opts, image, upper, b, true);
			continue;
		}
		if (u->type == DD_TYPE_FILE && b &&
		    (dd_entry_xattr(u, "trusted.overlay.metacopy") || dd_entry_xattr(u, "user.overlay.metacopy")) &&
		    b->type == DD_TYPE_FILE) {
			/* Metadata-only copy-up: the content is still the lower file's. */
			struct dd_entry meta = *u;
			uint32_t attrs;

			meta.has_sha256 = b->has_sha256;
			memcpy(meta.sha256, b->sha256, 32);
			meta.size = b->size;
			attrs = compare(b, &meta);
			if (attrs)
				rc = push(d, opts, DD_CHANGE_MODIFIED, attrs, b, u);
			continue;
		}
		if (!b)
			rc = push(d, opts, DD_CHANGE_ADDED, 0, NULL, u);
		else
			rc = pair(d, opts, image, NULL, b, u);
		if (rc == 0 && b && b->type == DD_TYPE_DIR &&
		    (u->type != DD_TYPE_DIR || (u->flags & DD_ENTRY_OPAQUE)))
			/* An opaque dir, or a non-dir over a dir, hides the lower children. */
			rc = delete_subtree(d, opts, image, upper, b, false);
	}
	if (rc) {
		dd_diff_free(d);
		return rc;
	}
	if (d->n)
		qsort(d->c, d->n, sizeof(*d->c), change_cmp);
	*out = d;
	return 0;
}

void dd_diff_free(struct dd_diff *d)
{
	if (!d)
		return;
	free(d->c);
	free(d);
}

size_t dd_diff_count(const struct dd_diff *d)
{
	return d ? d->n : 0;
}

const struct dd_change *dd_diff_change(const struct dd_diff *d, size_t i)
{
	return d && i < d->n ? &d->c[i] : NULL;
}

const struct dd_change *dd_diff_find(const struct dd_diff *d, const char *path, size_t len)
{
	size_t lo = 0, hi = dd_diff_count(d);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct dd_change *c = &d->c[mid];
		int cmp = dd_path_compare(c->path, c->path_len, path, len);

		if (cmp == 0)
			return c;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
