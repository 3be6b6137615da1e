/* The tree: building with layer semantics, then the sorted, read-only view. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tree.h"

static uint32_t path_hash(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ull;
	}
	return (uint32_t)(h ^ (h >> 29) ^ (h >> 32));
}

static int table_grow(struct dd_tree *t)
{
	size_t cap = t->cap ? t->cap * 2 : 1024, i, j;
	struct dd__node **slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return DD_ENOMEM;
	for (i = 0; i < t->cap; i++) {
		struct dd__node *n = t->slots[i];

		if (!n)
			continue;
		for (j = n->hash & (cap - 1); slots[j]; j = (j + 1) & (cap - 1))
			;
		slots[j] = n;
	}
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	return 0;
}

static size_t table_find(const struct dd_tree *t, const char *path, size_t len, uint32_t h)
{
	size_t i;

	for (i = h & (t->cap - 1); t->slots[i]; i = (i + 1) & (t->cap - 1)) {
		const struct dd__node *n = t->slots[i];

		if (n->hash == h && n->e.path_len == len && memcmp(n->e.path, path, len) == 0)
			return i;
	}
	return i;
}

static int table_insert(struct dd_tree *t, struct dd__node *n)
{
	size_t i;

	if ((t->count + 1) * 2 > t->cap && table_grow(t))
		return DD_ENOMEM;
	i = table_find(t, n->e.path, n->e.path_len, n->hash);
	t->slots[i] = n;
	t->count++;
	return 0;
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
static void table_delete(struct dd_tree *t, struct dd__node *n)
{
	size_t mask = t->cap - 1, i, j, k;

	i = table_find(t, n->e.path, n->e.path_len, n->hash);
	if (t->slots[i] != n)
		return;
	t->slots[i] = NULL;
	t->count--;
	for (j = (i + 1) & mask; t->slots[j]; j = (j + 1) & mask) {
		k = t->slots[j]->hash & mask;
		/* Move slot j back to i unless its home lies cyclically in (i, j]. */
		if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
			t->slots[i] = t->slots[j];
			t->slots[j] = NULL;
			i = j;
		}
	}
}

const struct dd_entry_extra dd__no_extra;

struct dd_entry_extra *dd__entry_extra(struct dd__arena *a, struct dd_entry *e)
{
	struct dd_entry_extra *x = dd__arena_alloc(a, sizeof(*x));

	if (x) {
		*x = *e->extra;
		e->extra = x;
	}
	return x;
}

int dd__entry_set_head(struct dd__arena *a, struct dd_entry *e, const void *p, size_t n)
{
	struct dd_entry_extra *x = dd__entry_extra(a, e);

	if (!x || !(x->head = (const unsigned char *)dd__arena_strndup(a, p, n)))
		return DD_ENOMEM;
	x->head_len = (uint32_t)n;
	return 0;
}

int dd__entry_set_content(struct dd__arena *a, struct dd_entry *e, const void *p, size_t n)
{
	struct dd_entry_extra *x = dd__entry_extra(a, e);

	if (!x || !(x->content = (const unsigned char *)dd__arena_strndup(a, n ? p : "", n)))
		return DD_ENOMEM;
	x->content_len = (uint32_t)n;
	return 0;
}

int dd__entry_set_extra(struct dd__arena *a, struct dd_entry *e, const struct dd_entry_extra *x)
{
	struct dd_entry_extra *own;

	if (memcmp(x, &dd__no_extra, sizeof(*x)) == 0)
		return 0;
	if (!(own = dd__entry_extra(a, e)))
		return DD_ENOMEM;
	*own = *x;
	return 0;
}

int dd__tree_new(struct dd_tree **out, struct dd_ctx *ctx)
{
	struct dd_tree *t;
	struct dd__node *root;
	int rc;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return DD_ENOMEM;
	t->ctx = ctx;
	t->rootfd = -1;
	dd__arena_init(&t->arena);
	rc = DD_ENOMEM;
	if (pthread_mutex_init(&t->head_mu, NULL)) {
		free(t);
		return DD_ENOMEM;
	}
	root = dd__arena_alloc(&t->arena, sizeof(*root));
	if (!root)
		goto out;
	memset(root, 0, sizeof(*root));
	root->e.extra = &dd__no_extra;
	root->e.path = "/";
	root->e.path_len = 1;
	root->e.type = DD_TYPE_DIR;
	root->e.mode = 0755;
	root->e.layer = -1;
	root->e.flags = DD_ENTRY_IMPLICIT;
	root->hash = path_hash("/", 1);
	t->root = root;
	if (table_insert(t, root))
		goto out;
	*out = t;
	t = NULL;
	rc = 0;
out:
	dd_tree_free(t);
	return rc;
}

void dd_tree_free(struct dd_tree *t)
{
	if (!t)
		return;
	dd__warnings_free(&t->warnings);
	if (t->rootfd >= 0)
		close(t->rootfd);
	pthread_mutex_destroy(&t->head_mu);
	free(t->slots);
	free(t->sorted);
	dd__arena_free(&t->arena);
	dd__arena_free(&t->strings);
	free(t);
}

struct dd__node *dd__tree_lookup(struct dd_tree *t, const char *path, size_t len)
{
	size_t i;

	if (!t->slots) /* finalized; the entry is the node's first member */
		return (struct dd__node *)dd_tree_find(t, path, len);
	i = table_find(t, path, len, path_hash(path, len));

	return t->slots[i];
}

static struct dd__node *node_new(struct dd_tree *t, const char *path, size_t len)
{
	struct dd__node *n = t->spare;
	char *p;

	if (t->count >= t->ctx->limits.max_entries)
		return NULL;
	p = dd__arena_string(&t->strings, path, len);
	if (!p)
		return NULL;
	if (n)
		t->spare = n->next;
	else if (!(n = dd__arena_alloc(&t->arena, sizeof(*n))))
		return NULL;
	memset(n, 0, sizeof(*n));
	n->e.extra = &dd__no_extra;
	n->e.path = p;
	n->e.path_len = len;
	n->hash = path_hash(path, len);
	if (table_insert(t, n)) {
		n->next = t->spare;
		t->spare = n;
		return NULL;
	}
	return n;
}

static void link_child(struct dd__node *parent, struct dd__node *n)
{
	n->parent = parent;
	n->prev = NULL;
	n->next = parent->child;
	if (parent->child)
		parent->child->prev = n;
	parent->child = n;
}

static void unlink_child(struct dd__node *n)
{
	if (n->prev)
		n->prev->next = n->next;
	else if (n->parent)
		n->parent->child = n->next;
	if (n->next)
		n->next->prev = n->prev;
	n->prev = n->next = NULL;
	n->parent = NULL;
}

/* Free a detached subtree, iteratively so that depth costs no stack. */
static void release_subtree(struct dd_tree *t, struct dd__node *n)
{
	struct dd__node *cur = n, *next;

	while (cur) {
		if (cur->child) {
			cur = cur->child;
			continue;
		}
		next = cur->next ? cur->next : cur->parent;
		if (cur == n)
			next = NULL;
		else
			unlink_child(cur);
		table_delete(t, cur);
		memset(cur, 0, sizeof(*cur));
		cur->next = t->spare;
		t->spare = cur;
		cur = next;
	}
}

void dd__tree_remove(struct dd_tree *t, struct dd__node *n)
{
	if (n == t->root)
		return;
	t->nremoved++;
	unlink_child(n);
	release_subtree(t, n);
}

static void reset_attrs(struct dd_tree *t, struct dd__node *n, enum dd_type type, int layer)
{
	const char *path = n->e.path;
	size_t len = n->e.path_len;

	memset(&n->e, 0, sizeof(n->e));
	n->e.extra = &dd__no_extra;
	n->e.path = path;
	n->e.path_len = len;
	n->e.type = type;
	n->e.layer = layer;
	n->e.ino = ++t->next_ino; /* a new inode; a hard link copies its target's */
}

int dd__tree_mkparents(struct dd_tree *t, struct dd__node **parent,
		       const char *path, size_t len, int layer, bool *replaced)
{
	struct dd__node *cur = t->root, *n;
	size_t i, end = dd__path_parent_len(path, len);

	*parent = NULL;
	if (t->finalized || t->nsorted)
		return DD_EINVAL; /* finalized, or built by appending */
	if (len <= 1)
		return 0;
	for (i = 1; i <= end; i++) {
		if (i < end && path[i] != '/')
			continue;
		if (end == 1)
			break;
		n = dd__tree_lookup(t, path, i);
		if (n && n->e.type != DD_TYPE_DIR) {
			/* A symlink (or file) in the way is never followed: it is replaced. */
			dd__tree_remove(t, n);
			n = NULL;
			if (replaced)
				*replaced = true;
		}
		if (!n) {
			n = node_new(t, path, i);
			if (!n)
				return t->count >= t->ctx->limits.max_entries ? DD_ELIMIT : DD_ENOMEM;
			reset_attrs(t, n, DD_TYPE_DIR, layer);
			n->e.mode = 0755;
			n->e.flags = DD_ENTRY_IMPLICIT;
			link_child(cur, n);
		}
		cur = n;
	}
	*parent = cur;
	return 0;
}

int dd__tree_put(struct dd_tree *t, struct dd__node **out, struct dd__node *parent,
		 const char *path, size_t len, enum dd_type type, int layer)
{
	struct dd__node *n;

	*out = NULL;
	if (t->finalized || t->nsorted)
		return DD_EINVAL; /* finalized, or built by appending */
	n = dd__tree_lookup(t, path, len);
	if (n == t->root) {
		/* The root's own attributes are taken, never the node replaced. */
		if (type != DD_TYPE_DIR)
			return DD_EFORMAT;
		reset_attrs(t, n, DD_TYPE_DIR, layer);
		*out = n;
		return 0;
	}
	if (n && n->e.type == DD_TYPE_DIR && type == DD_TYPE_DIR) {
		reset_attrs(t, n, type, layer);
		*out = n;
		return 0;
	}
	if (n)
		dd__tree_remove(t, n);
	n = node_new(t, path, len);
	if (!n)
		return t->count >= t->ctx->limits.max_entries ? DD_ELIMIT : DD_ENOMEM;
	reset_attrs(t, n, type, layer);
	link_child(parent, n);
	*out = n;
	return 0;
}

int dd__tree_attach(struct dd_tree *t, struct dd__node *parent, struct dd__node *n)
{
	if (t->finalized || t->nsorted)
		return DD_EINVAL;
	if (t->count >= t->ctx->limits.max_entries)
		return DD_ELIMIT;
	n->parent = n->child = n->next = n->prev = NULL;
	if (table_insert(t, n))
		return DD_ENOMEM;
	link_child(parent, n);
	return 0;
}

/* Post-order walk: a node goes when it is lower than LAYER and kept nothing. */
void dd__tree_hide_lower(struct dd_tree *t, struct dd__node *n, int layer, bool children_only)
{
	struct dd__node *cur, *next;

	if (!n)
		return;
	cur = n->child;
	if (!cur) {
		if (!children_only && n->e.layer < layer)
			dd__tree_remove(t, n);
		return;
	}
	/* Descend to the first leaf, then visit in post-order. */
	while (cur->child)
		cur = cur->child;
	for (;;) {
		struct dd__node *parent = cur->parent;

		if (cur->next) {
			next = cur->next;
			while (next->child)
				next = next->child;
		} else {
			next = parent;
		}
		if (cur == n) {
			if (!children_only && n->e.layer < layer && !n->child)
				dd__tree_remove(t, n);
			return;
		}
		if (cur->e.layer < layer && !cur->child)
			dd__tree_remove(t, cur);
		cur = next;
	}
}

static int entry_cmp(const void *a, const void *b)
{
	const struct dd_entry *x = *(const struct dd_entry *const *)a;
	const struct dd_entry *y = *(const struct dd_entry *const *)b;

	return dd_path_compare(x->path, x->path_len, y->path, y->path_len);
}

struct inode_ref {
	uint64_t ino;
	size_t pos;
};

static int inode_cmp(const void *a, const void *b)
{
	const struct inode_ref *x = a, *y = b;

	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* May E share its inode with another entry? Builders that know it does not say links == 1. */
static bool link_candidate(const struct dd_entry *e)
{
	return e->type != DD_TYPE_DIR && e->ino && e->links != 1;
}

/* Group entries by inode; every member but the first points at the first. */
static int settle_hardlinks(struct dd_tree *t)
{
	struct inode_ref *refs;
	size_t i, j, n = 0;

	/* Most files have an inode of their own: only the others are sorted. */
	for (i = 0; i < t->nsorted; i++)
		n += link_candidate(t->sorted[i]);
	refs = malloc((n ? n : 1) * sizeof(*refs));
	if (!refs)
		return DD_ENOMEM;
	n = 0;
	for (i = 0; i < t->nsorted; i++) {
		struct dd_entry *e = (struct dd_entry *)t->sorted[i];
		struct dd_entry_extra *x;

		if (e->extra->hardlink) {
			if (!(x = dd__entry_extra(&t->arena, e)))
				goto nomem;
			x->hardlink = NULL;
			x->hardlink_len = 0;
		}
		if (link_candidate(e)) {
			refs[n].ino = e->ino;
			refs[n++].pos = i;
		}
		e->links = 1;
	}
	qsort(refs, n, sizeof(*refs), inode_cmp);
	for (i = 0; i < n; i = j) {
		const struct dd_entry *lead = t->sorted[refs[i].pos];

		for (j = i + 1; j < n && refs[j].ino == refs[i].ino; j++) {
			struct dd_entry *e = (struct dd_entry *)t->sorted[refs[j].pos];
			struct dd_entry_extra *x = dd__entry_extra(&t->arena, e);

			if (!x)
				goto nomem;
			x->hardlink = lead->path;
			x->hardlink_len = lead->path_len;
		}
		for (size_t k = i; k < j; k++)
			((struct dd_entry *)t->sorted[refs[k].pos])->links = (uint32_t)(j - i);
	}
	free(refs);
	return 0;
nomem:
	free(refs);
	return DD_ENOMEM;
}

/* Once sorted, lookups are binary searches: the table's memory goes back. */
static void drop_table(struct dd_tree *t)
{
	free(t->slots);
	t->slots = NULL;
	t->cap = 0;
}

static int append(struct dd_tree *t, struct dd_entry **out, const char *path, size_t len,
		  enum dd_type type, int layer, const char *stored)
{
	const struct dd_entry *last;
	struct dd_entry *e;

	*out = NULL;
	if (t->finalized || t->count > 1)
		return DD_EINVAL; /* a tree is built one way or the other */
	if (!t->nsorted) {
		if (dd__grow(&t->sorted, &t->sorted_cap, 0, sizeof(*t->sorted)))
			return DD_ENOMEM;
		t->sorted[t->nsorted++] = &t->root->e;
	}
	if (len <= 1) {
		/* The root, given its own attributes. */
		if (t->nsorted != 1 || type != DD_TYPE_DIR)
			return DD_EFORMAT;
		*out = &t->root->e;
		return 0;
	}
	last = t->sorted[t->nsorted - 1];
	if (dd_path_compare(last->path, last->path_len, path, len) >= 0)
		return DD_EFORMAT;
	if (t->nsorted >= t->ctx->limits.max_entries)
		return DD_ELIMIT;
	if (dd__grow(&t->sorted, &t->sorted_cap, t->nsorted, sizeof(*t->sorted)))
		return DD_ENOMEM;
	e = dd__arena_alloc(&t->arena, sizeof(*e));
	if (!e)
		return DD_ENOMEM;
	memset(e, 0, sizeof(*e));
	e->extra = &dd__no_extra;
	e->path = stored ? stored : dd__arena_string(&t->strings, path, len);
	if (!e->path)
		return DD_ENOMEM;
	e->path_len = (uint32_t)len;
	e->type = type;
	e->layer = layer;
	t->sorted[t->nsorted++] = e;
	*out = e;
	return 0;
}

int dd__tree_append(struct dd_tree *t, struct dd_entry **out, const char *path, size_t len,
		    enum dd_type type, int layer)
{
	return append(t, out, path, len, type, layer, NULL);
}

int dd__tree_append_borrowed(struct dd_tree *t, struct dd_entry **out, const char *path, size_t len,
			     enum dd_type type, int layer)
{
	return append(t, out, path, len, type, layer, path);
}

int dd__tree_finalize_appended(struct dd_tree *t)
{
	const struct dd_entry **shrunk;

	if (t->finalized)
		return 0;
	if (!t->nsorted)
		return dd__tree_finalize(t); /* nothing appended: the root alone */
	/* Appending doubled the list as it went: give back what it did not fill. */
	shrunk = realloc(t->sorted, t->nsorted * sizeof(*t->sorted));
	if (shrunk) {
		t->sorted = shrunk;
		t->sorted_cap = t->nsorted;
	}
	if (settle_hardlinks(t))
		return DD_ENOMEM;
	t->finalized = true;
	drop_table(t);
	return 0;
}

int dd__tree_finalize(struct dd_tree *t)
{
	size_t i, n = 0;

	if (t->finalized)
		return 0;
	t->sorted = malloc((t->count ? t->count : 1) * sizeof(*t->sorted));
	if (!t->sorted)
		return DD_ENOMEM;
	for (i = 0; i < t->cap; i++)
		if (t->slots[i])
			t->sorted[n++] = &t->slots[i]->e;
	/* The table's memory goes back before settling links needs its own. */
	drop_table(t);
	qsort(t->sorted, n, sizeof(*t->sorted), entry_cmp);
	t->nsorted = n;
	if (settle_hardlinks(t))
		return DD_ENOMEM;
	t->finalized = true;
	return 0;
}

void dd__tree_warn(struct dd_tree *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dd__warnings_push(&t->warnings, fmt, ap);
	va_end(ap);
}

size_t dd_tree_warning_count(const struct dd_tree *t)
{
	return t ? t->warnings.len : 0;
}

const char *dd_tree_warning(const struct dd_tree *t, size_t i)
{
	return t && i < t->warnings.len ? t->warnings.items[i] : NULL;
}

size_t dd_tree_count(const struct dd_tree *t)
{
	return t ? t->nsorted : 0;
}

const struct dd_entry *dd_tree_entry(const struct dd_tree *t, size_t i)
{
	return t && i < t->nsorted ? t->sorted[i] : NULL;
}

/* PATH in the sorted list, by bisection; NULL if absent. */
static const struct dd_entry *bisect(const struct dd_tree *t, const char *path, size_t len)
{
	size_t lo = 0, hi = t->nsorted;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = dd_path_compare(t->sorted[mid]->path, t->sorted[mid]->path_len, path, len);

		if (cmp == 0)
			return t->sorted[mid];
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct dd_entry *dd__tree_seek(const struct dd_tree *t, size_t *pos, const char *path, size_t len)
{
	int cmp = 1;

	for (; *pos < t->nsorted; (*pos)++) {
		cmp = dd_path_compare(t->sorted[*pos]->path, t->sorted[*pos]->path_len, path, len);
		if (cmp >= 0)
			break;
	}
	return cmp == 0 ? t->sorted[*pos] : NULL;
}

const char *dd__string_lent(struct dd__arena *a, const char *s, size_t n, const char *lent, size_t lent_n)
{
	if (lent && lent_n == n && memcmp(lent, s, n) == 0)
		return lent;
	return dd__arena_string(a, s, n);
}

int dd_tree_share_strings(struct dd_tree *t, const struct dd_tree *lender)
{
	struct dd__arena fresh;
	size_t i, j = 0;
	int rc = 0;

	if (!t || !lender || !t->finalized || !lender->finalized || t == lender)
		return DD_EINVAL;
	dd__arena_init(&fresh);
	for (i = 0; i < t->nsorted && rc == 0; i++) {
		struct dd_entry *e = (struct dd_entry *)t->sorted[i];
		/* Both lists are in path order: one cursor finds each path's twin. */
		const struct dd_entry *r = dd__tree_seek(lender, &j, e->path, e->path_len);
		const char *path, *target = NULL;

		path = dd__string_lent(&fresh, e->path, e->path_len, r ? r->path : NULL,
				       r ? r->path_len : 0);
		if (e->target)
			target = dd__string_lent(&fresh, e->target, e->target_len, r ? r->target : NULL,
						 r ? r->target_len : 0);
		if (!path || (e->target && !target)) {
			rc = DD_ENOMEM;
			break;
		}
		e->path = path;
		e->target = target;
		if (e->extra->hardlink) {
			/* The first path of its group, met (and moved) already. */
			const struct dd_entry *lead = bisect(t, e->extra->hardlink, e->extra->hardlink_len);
			struct dd_entry_extra *x = (struct dd_entry_extra *)e->extra;

			x->hardlink = lead ? lead->path : dd__arena_string(&fresh, x->hardlink, x->hardlink_len);
			if (!x->hardlink)
				rc = DD_ENOMEM;
		}
	}
	if (rc) {
		/* Some entries point into FRESH already: it stays, and so do the old strings. */
		dd__arena_adopt(&t->arena, &fresh);
		return rc;
	}
	dd__arena_free(&t->strings);
	t->strings = fresh;
	return 0;
}

struct dd_entry *dd__tree_appended(struct dd_tree *t, const char *path, size_t len)
{
	return (struct dd_entry *)bisect(t, path, len);
}

const struct dd_entry *dd_tree_find(const struct dd_tree *t, const char *path, size_t len)
{
	size_t i;

	if (!t || !path)
		return NULL;
	if (!t->slots)
		return bisect(t, path, len); /* finalized: the hash table is gone */
	i = table_find(t, path, len, path_hash(path, len));
	return t->slots[i] ? &t->slots[i]->e : NULL;
}

const struct dd_xattr *dd_entry_xattr(const struct dd_entry *e, const char *name)
{
	uint32_t i;

	for (i = 0; e && i < e->extra->nxattrs; i++)
		if (strcmp(e->extra->xattrs[i].name, name) == 0)
			return &e->extra->xattrs[i];
	return NULL;
}

const char *dd_type_name(enum dd_type type)
{
	switch (type) {
	case DD_TYPE_FILE: return "file";
	case DD_TYPE_DIR: return "dir";
	case DD_TYPE_SYMLINK: return "symlink";
	case DD_TYPE_CHAR: return "char";
	case DD_TYPE_BLOCK: return "block";
	case DD_TYPE_FIFO: return "fifo";
	case DD_TYPE_SOCKET: return "socket";
	}
	return "unknown";
}

enum dd_type dd_type_from_name(const char *name)
{
	static const enum dd_type all[] = {
		DD_TYPE_FILE, DD_TYPE_DIR, DD_TYPE_SYMLINK, DD_TYPE_CHAR,
		DD_TYPE_BLOCK, DD_TYPE_FIFO, DD_TYPE_SOCKET,
	};
	size_t i;

	for (i = 0; name && i < DD_ARRAY_SIZE(all); i++)
		if (strcmp(name, dd_type_name(all[i])) == 0)
			return all[i];
	return (enum dd_type)0;
}
