/*
 * Unit tests for lib/tree.c: building a tree with the layer rules
 * (implicit parents, collisions, removal, hiding lower layers), the hash
 * table behind lookups, the sorted view and the entry limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/tree.h"

struct fx {
	struct dd_ctx *ctx;
	struct dd_tree *t;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || dd_ctx_new(&f->ctx) || dd__tree_new(&f->t, f->ctx))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	dd_tree_free(f->t);
	dd_ctx_free(f->ctx);
	free(f);
	return 0;
}

/* ---- helpers ---- */

/* Add PATH of TYPE as LAYER would: parents first, then the node itself. */
static int try_add(struct dd_tree *t, const char *path, enum dd_type type, int layer,
		   struct dd__node **out)
{
	struct dd__node *parent;
	size_t len = strlen(path);
	int rc;

	rc = dd__tree_mkparents(t, &parent, path, len, layer, NULL);
	if (rc)
		return rc;
	return dd__tree_put(t, out, parent, path, len, type, layer);
}

static struct dd__node *add(struct dd_tree *t, const char *path, enum dd_type type, int layer)
{
	struct dd__node *n = NULL;

	assert_int_equal(try_add(t, path, type, layer, &n), 0);
	assert_non_null(n);
	assert_string_equal(n->e.path, path);
	assert_int_equal(n->e.type, type);
	assert_int_equal(n->e.layer, layer);
	return n;
}

static struct dd__node *get(struct dd_tree *t, const char *path)
{
	return dd__tree_lookup(t, path, strlen(path));
}

static bool has(struct dd_tree *t, const char *path)
{
	return get(t, path) != NULL;
}

/* After finalize: the entries are exactly PATHS, in this order. */
static void expect_entries(const struct dd_tree *t, const char *const *paths, size_t n)
{
	size_t i;

	assert_int_equal(dd_tree_count(t), n);
	for (i = 0; i < n; i++)
		assert_string_equal(dd_tree_entry(t, i)->path, paths[i]);
	assert_null(dd_tree_entry(t, n));
}
#define EXPECT_ENTRIES(t, ...) do { \
	static const char *const want_[] = { __VA_ARGS__ }; \
	expect_entries((t), want_, DD_ARRAY_SIZE(want_)); \
} while (0)

/* ---- construction ---- */

/* A new tree holds only the root: an implicit 0755 directory of no layer. */
static void test_new_tree_has_root(void **state)
{
	struct fx *f = *state;
	const struct dd_entry *e;

	assert_int_equal(f->t->count, 1);
	assert_int_equal(dd__tree_finalize(f->t), 0);
	assert_int_equal(dd_tree_count(f->t), 1);
	e = dd_tree_entry(f->t, 0);
	assert_string_equal(e->path, "/");
	assert_int_equal(e->path_len, 1);
	assert_int_equal(e->type, DD_TYPE_DIR);
	assert_int_equal(e->mode, 0755);
	assert_int_equal(e->layer, -1);
	assert_int_equal(e->flags, DD_ENTRY_IMPLICIT);
	assert_ptr_equal(dd_tree_find(f->t, "/", 1), e);
}

/* mkparents: missing ancestors become 0755 root-owned dirs, flagged implicit. */
static void test_mkparents_creates_implicit_dirs(void **state)
{
	struct fx *f = *state;
	struct dd__node *parent, *n, *a, *ab;
	bool replaced = false;

	assert_int_equal(dd__tree_mkparents(f->t, &parent, "/a/b/c", 6, 3, &replaced), 0);
	assert_false(replaced);
	a = get(f->t, "/a");
	ab = get(f->t, "/a/b");
	assert_non_null(a);
	assert_non_null(ab);
	assert_ptr_equal(parent, ab);
	assert_ptr_equal(ab->parent, a);
	assert_ptr_equal(a->parent, f->t->root);
	assert_int_equal(ab->e.type, DD_TYPE_DIR);
	assert_int_equal(ab->e.mode, 0755);
	assert_int_equal(ab->e.uid, 0);
	assert_int_equal(ab->e.gid, 0);
	assert_int_equal(ab->e.flags, DD_ENTRY_IMPLICIT);
	assert_int_equal(ab->e.layer, 3);
	assert_int_equal(a->e.flags, DD_ENTRY_IMPLICIT);
	assert_false(has(f->t, "/a/b/c"));
	assert_int_equal(f->t->count, 3);
	/* The entry itself is not implicit. */
	assert_int_equal(dd__tree_put(f->t, &n, parent, "/a/b/c", 6, DD_TYPE_FILE, 3), 0);
	assert_int_equal(n->e.flags, 0);
	assert_ptr_equal(n->parent, ab);
	/* A top-level path's parent is the root; nothing is created. */
	assert_int_equal(dd__tree_mkparents(f->t, &parent, "/top", 4, 3, NULL), 0);
	assert_ptr_equal(parent, f->t->root);
	assert_int_equal(f->t->count, 4);
}

/* An existing directory is used as it is: its attributes are not reset. */
static void test_mkparents_keeps_existing_dirs(void **state)
{
	struct fx *f = *state;
	struct dd__node *d = add(f->t, "/d", DD_TYPE_DIR, 0), *parent;

	d->e.mode = 0700;
	d->e.uid = 42;
	assert_int_equal(dd__tree_mkparents(f->t, &parent, "/d/x/y", 6, 1, NULL), 0);
	assert_ptr_equal(get(f->t, "/d"), d);
	assert_int_equal(d->e.mode, 0700);
	assert_int_equal(d->e.uid, 42);
	assert_int_equal(d->e.layer, 0);
	assert_int_equal(d->e.flags, 0);
}

/* A symlink or file in the way is replaced, never followed. */
static void test_mkparents_replaces_non_dir(void **state)
{
	struct fx *f = *state;
	struct dd__node *link, *parent;
	bool replaced = false;

	link = add(f->t, "/link", DD_TYPE_SYMLINK, 0);
	link->e.target = "/etc";
	link->e.target_len = 4;
	add(f->t, "/etc", DD_TYPE_DIR, 0);
	assert_int_equal(dd__tree_mkparents(f->t, &parent, "/link/passwd", 12, 1, &replaced), 0);
	assert_true(replaced);
	assert_int_equal(get(f->t, "/link")->e.type, DD_TYPE_DIR);
	assert_null(get(f->t, "/link")->e.target);
	assert_int_equal(get(f->t, "/link")->e.flags, DD_ENTRY_IMPLICIT);
	assert_ptr_equal(parent, get(f->t, "/link"));
	/* Nothing was written into the symlink's target. */
	assert_false(has(f->t, "/etc/passwd"));
}

/* ---- collisions in dd__tree_put ---- */

/* A directory over a directory keeps the node and its children; attributes reset. */
static void test_put_dir_over_dir_keeps_children(void **state)
{
	struct fx *f = *state;
	struct dd__node *d = add(f->t, "/d", DD_TYPE_DIR, 0), *d2, *x;

	d->e.mode = 0700;
	d->e.uid = 7;
	x = add(f->t, "/d/x", DD_TYPE_FILE, 0);
	add(f->t, "/d/sub/y", DD_TYPE_FILE, 0);
	d2 = add(f->t, "/d", DD_TYPE_DIR, 1);
	assert_ptr_equal(d2, d);
	assert_int_equal(d2->e.mode, 0);
	assert_int_equal(d2->e.uid, 0);
	assert_int_equal(d2->e.layer, 1);
	assert_ptr_equal(get(f->t, "/d/x"), x);
	assert_int_equal(x->e.layer, 0);
	assert_true(has(f->t, "/d/sub/y"));
	assert_int_equal(f->t->count, 5);
}

/* A re-put directory that was implicit becomes explicit. */
static void test_put_dir_over_implicit_dir(void **state)
{
	struct fx *f = *state;

	add(f->t, "/a/b", DD_TYPE_FILE, 0);
	assert_int_equal(get(f->t, "/a")->e.flags, DD_ENTRY_IMPLICIT);
	add(f->t, "/a", DD_TYPE_DIR, 0);
	assert_int_equal(get(f->t, "/a")->e.flags, 0);
	assert_true(has(f->t, "/a/b"));
}

/* A file over a directory drops the whole subtree. */
static void test_put_file_over_dir_drops_subtree(void **state)
{
	struct fx *f = *state;
	struct dd__node *n;

	add(f->t, "/d", DD_TYPE_DIR, 0);
	add(f->t, "/d/x", DD_TYPE_FILE, 0);
	add(f->t, "/d/sub/deeper/y", DD_TYPE_FILE, 0);
	add(f->t, "/d2", DD_TYPE_FILE, 0);
	assert_int_equal(f->t->count, 7);
	n = add(f->t, "/d", DD_TYPE_FILE, 1);
	assert_null(n->child);
	assert_false(has(f->t, "/d/x"));
	assert_false(has(f->t, "/d/sub"));
	assert_false(has(f->t, "/d/sub/deeper"));
	assert_false(has(f->t, "/d/sub/deeper/y"));
	assert_true(has(f->t, "/d2"));
	assert_int_equal(f->t->count, 3);
	assert_int_equal(dd__tree_finalize(f->t), 0);
	EXPECT_ENTRIES(f->t, "/", "/d", "/d2");
}

/* Anything over a file replaces it; nothing of the old attributes survives. */
static void test_put_over_file_replaces(void **state)
{
	struct fx *f = *state;
	struct dd__node *n = add(f->t, "/f", DD_TYPE_FILE, 0);

	n->e.mode = 04755;
	n->e.size = 99;
	n->e.has_sha256 = true;
	n = add(f->t, "/f", DD_TYPE_DIR, 1);
	assert_int_equal(n->e.mode, 0);
	assert_int_equal(n->e.size, 0);
	assert_false(n->e.has_sha256);
	n = add(f->t, "/f", DD_TYPE_SYMLINK, 2);
	assert_int_equal(f->t->count, 2);
}

/* The root is never replaced: a directory entry for "/" only sets attributes. */
static void test_put_root(void **state)
{
	struct fx *f = *state;
	struct dd__node *n;

	add(f->t, "/x", DD_TYPE_FILE, 0);
	assert_int_equal(dd__tree_put(f->t, &n, NULL, "/", 1, DD_TYPE_DIR, 2), 0);
	assert_ptr_equal(n, f->t->root);
	assert_int_equal(n->e.layer, 2);
	assert_true(has(f->t, "/x"));
	assert_int_equal(dd__tree_put(f->t, &n, NULL, "/", 1, DD_TYPE_FILE, 2), DD_EFORMAT);
	assert_null(n);
	assert_int_equal(f->t->root->e.type, DD_TYPE_DIR);
}

/* ---- removal ---- */

static void test_remove_subtree(void **state)
{
	struct fx *f = *state;

	add(f->t, "/a/b/c", DD_TYPE_FILE, 0);
	add(f->t, "/a/b/d", DD_TYPE_FILE, 0);
	add(f->t, "/a/e", DD_TYPE_FILE, 0);
	add(f->t, "/ab", DD_TYPE_FILE, 0);
	dd__tree_remove(f->t, get(f->t, "/a/b"));
	assert_false(has(f->t, "/a/b"));
	assert_false(has(f->t, "/a/b/c"));
	assert_false(has(f->t, "/a/b/d"));
	assert_true(has(f->t, "/a/e"));
	assert_true(has(f->t, "/ab"));
	assert_ptr_equal(get(f->t, "/a")->child, get(f->t, "/a/e"));
	/* The root cannot be removed. */
	dd__tree_remove(f->t, f->t->root);
	assert_true(has(f->t, "/"));
	assert_int_equal(dd__tree_finalize(f->t), 0);
	EXPECT_ENTRIES(f->t, "/", "/a", "/a/e", "/ab");
}

/* ---- hiding lower layers (whiteouts and opaque directories) ---- */

/*
 * Layer 0: /d/{a, sub/b, sub2/c}; layer 1 writes /d/sub2/new. Hiding what
 * is below layer 1 keeps the new file and the directories that lead to it.
 */
static void build_hide_fixture(struct dd_tree *t)
{
	add(t, "/d", DD_TYPE_DIR, 0);
	add(t, "/d/a", DD_TYPE_FILE, 0);
	add(t, "/d/sub", DD_TYPE_DIR, 0);
	add(t, "/d/sub/b", DD_TYPE_FILE, 0);
	add(t, "/d/sub2", DD_TYPE_DIR, 0);
	add(t, "/d/sub2/c", DD_TYPE_FILE, 0);
	add(t, "/other", DD_TYPE_FILE, 0);
	add(t, "/d/sub2/new", DD_TYPE_FILE, 1);
}

/* Opaque directory: the node itself stays; lower children go, this layer's stay. */
static void test_hide_lower_children_only(void **state)
{
	struct fx *f = *state;

	build_hide_fixture(f->t);
	dd__tree_hide_lower(f->t, get(f->t, "/d"), 1, true);
	assert_int_equal(dd__tree_finalize(f->t), 0);
	EXPECT_ENTRIES(f->t, "/", "/d", "/d/sub2", "/d/sub2/new", "/other");
}

/* Whiteout of a directory: the lower subtree goes but what this layer wrote stays. */
static void test_hide_lower_whole_node_keeps_current(void **state)
{
	struct fx *f = *state;

	build_hide_fixture(f->t);
	dd__tree_hide_lower(f->t, get(f->t, "/d"), 1, false);
	assert_int_equal(dd__tree_finalize(f->t), 0);
	EXPECT_ENTRIES(f->t, "/", "/d", "/d/sub2", "/d/sub2/new", "/other");
}

/* Whiteout of a lower directory with nothing of this layer removes it entirely. */
static void test_hide_lower_removes_lower_subtree(void **state)
{
	struct fx *f = *state;

	build_hide_fixture(f->t);
	dd__tree_hide_lower(f->t, get(f->t, "/d/sub"), 1, false);
	dd__tree_hide_lower(f->t, get(f->t, "/other"), 1, false);
	assert_int_equal(dd__tree_finalize(f->t), 0);
	EXPECT_ENTRIES(f->t, "/", "/d", "/d/a", "/d/sub2", "/d/sub2/c", "/d/sub2/new");
}

/* Nodes written by the current layer (or a later one) are never hidden. */
static void test_hide_lower_keeps_same_layer(void **state)
{
	struct fx *f = *state;

	add(f->t, "/f", DD_TYPE_FILE, 2);
	add(f->t, "/d/x", DD_TYPE_FILE, 2);
	add(f->t, "/e", DD_TYPE_DIR, 1);
	dd__tree_hide_lower(f->t, get(f->t, "/f"), 2, false);
	dd__tree_hide_lower(f->t, get(f->t, "/d"), 2, false);
	dd__tree_hide_lower(f->t, get(f->t, "/e"), 2, true);  /* childless opaque: stays */
	dd__tree_hide_lower(f->t, f->t->root, 2, true);       /* root opaque */
	dd__tree_hide_lower(f->t, NULL, 2, false);            /* no node: nothing */
	assert_int_equal(dd__tree_finalize(f->t), 0);
	EXPECT_ENTRIES(f->t, "/", "/d", "/d/x", "/f");
}

/* A root opaque marker empties the tree of lower content but keeps the root. */
static void test_hide_lower_root(void **state)
{
	struct fx *f = *state;

	add(f->t, "/a/b/c", DD_TYPE_FILE, 0);
	add(f->t, "/z", DD_TYPE_FILE, 0);
	add(f->t, "/a/b/new", DD_TYPE_FILE, 1);
	dd__tree_hide_lower(f->t, f->t->root, 1, true);
	assert_int_equal(dd__tree_finalize(f->t), 0);
	EXPECT_ENTRIES(f->t, "/", "/a", "/a/b", "/a/b/new");
}

/* A wide and deep lower subtree is hidden completely (post-order walk). */
static void test_hide_lower_wide_and_deep(void **state)
{
	struct fx *f = *state;
	char p[64];
	int i, j;

	for (i = 0; i < 20; i++)
		for (j = 0; j < 20; j++) {
			snprintf(p, sizeof(p), "/w/d%02d/e%02d/f", i, j);
			add(f->t, p, DD_TYPE_FILE, 0);
		}
	add(f->t, "/w/d07/e03/g", DD_TYPE_FILE, 1);
	dd__tree_hide_lower(f->t, get(f->t, "/w"), 1, true);
	assert_int_equal(dd__tree_finalize(f->t), 0);
	EXPECT_ENTRIES(f->t, "/", "/w", "/w/d07", "/w/d07/e03", "/w/d07/e03/g");
}

/* ---- the sorted view ---- */

/* finalize sorts with dd_path_compare: a directory is followed by its subtree. */
static void test_finalize_order(void **state)
{
	struct fx *f = *state;

	add(f->t, "/a0", DD_TYPE_FILE, 0);
	add(f->t, "/a.b", DD_TYPE_FILE, 0);
	add(f->t, "/b", DD_TYPE_FILE, 0);
	add(f->t, "/a/b", DD_TYPE_FILE, 0);
	add(f->t, "/a/b.c", DD_TYPE_FILE, 0);
	add(f->t, "/a-", DD_TYPE_FILE, 0);
	add(f->t, "/\xc3\xa9", DD_TYPE_FILE, 0);
	assert_int_equal(dd__tree_finalize(f->t), 0);
	EXPECT_ENTRIES(f->t, "/", "/a", "/a/b", "/a/b.c", "/a-", "/a.b", "/a0", "/b", "/\xc3\xa9");
	/* A second finalize is a no-op; changes afterwards are refused. */
	assert_int_equal(dd__tree_finalize(f->t), 0);
	assert_int_equal(dd_tree_count(f->t), 9);
	{
		struct dd__node *n = (struct dd__node *)1, *parent = (struct dd__node *)1;

		assert_int_equal(dd__tree_mkparents(f->t, &parent, "/x/y", 4, 0, NULL), DD_EINVAL);
		assert_null(parent);
		assert_int_equal(dd__tree_put(f->t, &n, f->t->root, "/x", 2, DD_TYPE_FILE, 0),
				 DD_EINVAL);
		assert_null(n);
	}
}

/* dd_tree_find matches whole paths, byte for byte, within LEN. */
static void test_find(void **state)
{
	struct fx *f = *state;
	const struct dd_entry *e;

	add(f->t, "/etc/passwd", DD_TYPE_FILE, 0);
	assert_int_equal(dd__tree_finalize(f->t), 0);
	e = dd_tree_find(f->t, "/etc/passwd", 11);
	assert_non_null(e);
	assert_string_equal(e->path, "/etc/passwd");
	assert_ptr_equal(dd_tree_find(f->t, "/etc/passwdXX", 11), e);
	assert_non_null(dd_tree_find(f->t, "/etc/passwd", 4));   /* "/etc" */
	assert_null(dd_tree_find(f->t, "/etc/", 5));
	assert_null(dd_tree_find(f->t, "etc/passwd", 10));
	assert_null(dd_tree_find(f->t, "/ETC/passwd", 11));
	assert_null(dd_tree_find(f->t, "/etc/passw", 10));
	assert_null(dd_tree_find(f->t, "", 0));
	assert_null(dd_tree_find(NULL, "/", 1));
	assert_null(dd_tree_find(f->t, NULL, 0));
}

/* ---- scale: the hash table's growth and backward-shift deletion ---- */

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64*: deterministic, so a failure reproduces. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

#define BIG 100000
#define BIG_DIRS 97

static void big_path(char *buf, size_t n, unsigned i)
{
	snprintf(buf, n, "/d%02u/f%06u", i % BIG_DIRS, i);
}

/*
 * 100k entries, then half of them removed in random order: every
 * remaining path must still be found and no removed one, which fails if a
 * deletion breaks a probe chain. Removed paths are then re-added (reusing
 * spare nodes) and whole directories removed.
 */
static void test_large_insert_remove(void **state)
{
	struct fx *f = *state;
	unsigned *order = malloc(BIG * sizeof(*order));
	bool *gone = calloc(BIG, sizeof(*gone));
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	char p[64];
	size_t expect;
	unsigned i, j, tmp;

	assert_non_null(order);
	assert_non_null(gone);
	for (i = 0; i < BIG; i++) {
		big_path(p, sizeof(p), i);
		add(f->t, p, DD_TYPE_FILE, 0);
		order[i] = i;
	}
	assert_int_equal(f->t->count, 1 + BIG_DIRS + BIG);
	for (i = BIG - 1; i > 0; i--) {
		j = (unsigned)(rng_next(&seed) % (i + 1));
		tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	for (i = 0; i < BIG / 2; i++) {
		struct dd__node *n;

		big_path(p, sizeof(p), order[i]);
		n = get(f->t, p);
		assert_non_null(n);
		dd__tree_remove(f->t, n);
		gone[order[i]] = true;
	}
	assert_int_equal(f->t->count, 1 + BIG_DIRS + BIG / 2);
	for (i = 0; i < BIG; i++) {
		struct dd__node *n;

		big_path(p, sizeof(p), i);
		n = get(f->t, p);
		if (gone[i]) {
			assert_null(n);
		} else {
			assert_non_null(n);
			assert_string_equal(n->e.path, p);
		}
	}
	/* Re-add a quarter of the removed ones. */
	for (i = 0; i < BIG / 4; i++) {
		big_path(p, sizeof(p), order[i]);
		add(f->t, p, DD_TYPE_FILE, 1);
		gone[order[i]] = false;
	}
	/* Remove whole directories d00..d09. */
	for (i = 0; i < 10; i++) {
		snprintf(p, sizeof(p), "/d%02u", i);
		dd__tree_remove(f->t, get(f->t, p));
	}
	expect = 1 + BIG_DIRS - 10;
	for (i = 0; i < BIG; i++) {
		big_path(p, sizeof(p), i);
		if (i % BIG_DIRS < 10)
			gone[i] = true;
		if (!gone[i])
			expect++;
		if (gone[i])
			assert_null(get(f->t, p));
		else
			assert_non_null(get(f->t, p));
	}
	assert_int_equal(f->t->count, expect);
	assert_int_equal(dd__tree_finalize(f->t), 0);
	assert_int_equal(dd_tree_count(f->t), expect);
	for (i = 1; i < dd_tree_count(f->t); i++) {
		const struct dd_entry *a = dd_tree_entry(f->t, i - 1), *b = dd_tree_entry(f->t, i);

		assert_true(dd_path_compare(a->path, a->path_len, b->path, b->path_len) < 0);
	}
	for (i = 0; i < BIG; i++) {
		big_path(p, sizeof(p), i);
		assert_int_equal(dd_tree_find(f->t, p, strlen(p)) != NULL, !gone[i]);
	}
	free(order);
	free(gone);
}

/* ---- limits ---- */

/* max_entries counts the root: with a limit of 4, the 4th added entry fails. */
static void test_max_entries(void **state)
{
	struct fx *f = *state;
	struct dd_limits lim = DD_LIMITS_INIT;
	struct dd__node *n;

	lim.max_entries = 4;
	assert_int_equal(dd_ctx_set_limits(f->ctx, &lim), 0);
	add(f->t, "/a", DD_TYPE_FILE, 0);
	add(f->t, "/b", DD_TYPE_FILE, 0);
	add(f->t, "/c", DD_TYPE_FILE, 0);
	assert_int_equal(f->t->count, 4);
	assert_int_equal(try_add(f->t, "/d", DD_TYPE_FILE, 0, &n), DD_ELIMIT);
	/* An implicit parent counts too. */
	assert_int_equal(try_add(f->t, "/e/f", DD_TYPE_FILE, 0, &n), DD_ELIMIT);
	assert_false(has(f->t, "/e"));
	/* Replacing an entry frees its slot first, so it stays possible. */
	n = add(f->t, "/a", DD_TYPE_SYMLINK, 1);
	assert_int_equal(f->t->count, 4);
}

/* Zero in a limit field keeps the default; a wrong version is refused. */
static void test_limits_defaults(void **state)
{
	struct fx *f = *state;
	struct dd_limits lim = DD_LIMITS_INIT, got;

	lim.max_path = 100;
	assert_int_equal(dd_ctx_set_limits(f->ctx, &lim), 0);
	dd_ctx_get_limits(f->ctx, &got);
	assert_int_equal(got.max_path, 100);
	assert_int_equal(got.max_entries, 10000000);
	lim.version = 99;
	assert_int_equal(dd_ctx_set_limits(f->ctx, &lim), DD_EINVAL);
}

/* ---- small accessors ---- */

static void test_type_names(void **state)
{
	(void)state;
	assert_string_equal(dd_type_name(DD_TYPE_FILE), "file");
	assert_string_equal(dd_type_name(DD_TYPE_SYMLINK), "symlink");
	assert_string_equal(dd_type_name(DD_TYPE_SOCKET), "socket");
	assert_int_equal(dd_type_from_name("dir"), DD_TYPE_DIR);
	assert_int_equal(dd_type_from_name("block"), DD_TYPE_BLOCK);
	assert_int_equal(dd_type_from_name("Dir"), 0);
	assert_int_equal(dd_type_from_name(NULL), 0);
}

static void test_entry_xattr(void **state)
{
	static const unsigned char v[] = { 1, 2 };
	static const struct dd_xattr xs[] = {
		{ "security.capability", v, 2 },
		{ "user.x", v, 1 },
	};
	struct dd_entry_extra x = { .xattrs = xs, .nxattrs = 2 };
	struct dd_entry e;

	(void)state;
	memset(&e, 0, sizeof(e));
	e.extra = &x;
	assert_ptr_equal(dd_entry_xattr(&e, "user.x"), &xs[1]);
	assert_ptr_equal(dd_entry_xattr(&e, "security.capability"), &xs[0]);
	assert_null(dd_entry_xattr(&e, "user.y"));
	assert_null(dd_entry_xattr(NULL, "user.x"));
}

/* Appending in path order: the root first, every path after the last, hard links settled. */
static void test_append(void **state)
{
	struct fx *f = *state;
	struct dd_entry *e, *root;
	static const char *const paths[] = { "/", "/a", "/a/b", "/a/b/c", "/a!", "/a.b", "/b" };
	size_t i;

	assert_int_equal(dd__tree_append(f->t, &root, "/", 1, DD_TYPE_DIR, -1), 0);
	assert_ptr_equal(root, &f->t->root->e);
	root->mode = 0700;
	for (i = 1; i < 7; i++) {
		assert_int_equal(dd__tree_append(f->t, &e, paths[i], strlen(paths[i]),
						 i < 4 ? DD_TYPE_DIR : DD_TYPE_FILE, 2), 0);
		assert_int_equal(e->layer, 2);
		e->ino = i >= 5 ? 77 : 0; /* "/a.b" and "/b" are one file */
	}
	/* Out of order, a repeat, or the root again: refused, nothing added. */
	assert_int_equal(dd__tree_append(f->t, &e, "/a/z", 4, DD_TYPE_FILE, 0), DD_EFORMAT);
	assert_int_equal(dd__tree_append(f->t, &e, "/b", 2, DD_TYPE_FILE, 0), DD_EFORMAT);
	assert_int_equal(dd__tree_append(f->t, &e, "/", 1, DD_TYPE_DIR, 0), DD_EFORMAT);
	/* A tree built by appending cannot be changed the other way. */
	{
		struct dd__node *n;

		assert_int_equal(try_add(f->t, "/c", DD_TYPE_FILE, 0, &n), DD_EINVAL);
	}
	assert_int_equal(dd__tree_finalize_appended(f->t), 0);
	assert_int_equal(dd_tree_count(f->t), 7);
	for (i = 0; i < 7; i++)
		assert_string_equal(dd_tree_entry(f->t, i)->path, paths[i]);
	assert_int_equal(dd_tree_find(f->t, "/", 1)->mode, 0700);
	assert_non_null(dd_tree_find(f->t, "/a/b/c", 6));
	assert_null(dd_tree_find(f->t, "/a/z", 4));
	assert_string_equal(dd_tree_find(f->t, "/b", 2)->extra->hardlink, "/a.b");
	assert_int_equal(dd_tree_find(f->t, "/b", 2)->links, 2);
	assert_null(dd_tree_find(f->t, "/a", 2)->extra->hardlink);
}

/* Appending honours max-entries, and a tree built with puts refuses appends. */
static void test_append_limits(void **state)
{
	struct fx *f = *state;
	struct dd_limits lim = DD_LIMITS_INIT;
	struct dd_entry *e;
	struct dd_tree *t2;

	lim.max_entries = 3;
	assert_int_equal(dd_ctx_set_limits(f->ctx, &lim), 0);
	assert_int_equal(dd__tree_append(f->t, &e, "/a", 2, DD_TYPE_FILE, 0), 0);
	assert_int_equal(dd__tree_append(f->t, &e, "/b", 2, DD_TYPE_FILE, 0), 0);
	assert_int_equal(dd__tree_append(f->t, &e, "/c", 2, DD_TYPE_FILE, 0), DD_ELIMIT);
	assert_int_equal(dd__tree_new(&t2, f->ctx), 0);
	add(t2, "/x", DD_TYPE_FILE, 0);
	assert_int_equal(dd__tree_append(t2, &e, "/y", 2, DD_TYPE_FILE, 0), DD_EINVAL);
	dd_tree_free(t2);
}

/* An entry appended to T, a symlink to TARGET when that is not NULL. */
static struct dd_entry *append_one(struct dd_tree *t, const char *path, const char *target, uint64_t ino)
{
	struct dd_entry *e;

	assert_int_equal(dd__tree_append(t, &e, path, strlen(path),
					 target ? DD_TYPE_SYMLINK : DD_TYPE_FILE, 0), 0);
	if (target) {
		e->target = target;
		e->target_len = (uint32_t)strlen(target);
	}
	e->ino = ino;
	return e;
}

/* Shared strings: the lender's where the same, copies elsewhere; links follow. */
static void test_share_strings(void **state)
{
	struct fx *f = *state;
	struct dd_tree *a;
	const struct dd_entry *e;
	struct dd__node *n;

	assert_int_equal(dd__tree_new(&a, f->ctx), 0);
	add(a, "/b", DD_TYPE_FILE, 0);
	n = add(a, "/l", DD_TYPE_SYMLINK, 0);
	n->e.target = "x";
	n->e.target_len = 1;
	n = add(a, "/m", DD_TYPE_SYMLINK, 0);
	n->e.target = "y";
	n->e.target_len = 1;
	assert_int_equal(dd_tree_share_strings(f->t, a), DD_EINVAL); /* neither is whole */
	assert_int_equal(dd__tree_finalize(a), 0);

	append_one(f->t, "/a", NULL, 9);          /* only here */
	append_one(f->t, "/b", NULL, 9);          /* in both; a hard link of /a */
	append_one(f->t, "/l", "x", 0);           /* same target */
	append_one(f->t, "/m", "z", 0);           /* another target */
	append_one(f->t, "/n", NULL, 5)->links = 1; /* said to be alone: not grouped */
	append_one(f->t, "/o", NULL, 5);
	assert_int_equal(dd__tree_finalize_appended(f->t), 0);
	assert_int_equal(dd_tree_share_strings(f->t, f->t), DD_EINVAL);
	assert_int_equal(dd_tree_share_strings(f->t, a), 0);

	e = dd_tree_find(f->t, "/b", 2);
	assert_ptr_equal(e->path, dd_tree_find(a, "/b", 2)->path);
	assert_string_equal(e->extra->hardlink, "/a");
	assert_ptr_equal(e->extra->hardlink, dd_tree_find(f->t, "/a", 2)->path);
	assert_string_equal(dd_tree_find(f->t, "/a", 2)->path, "/a");
	e = dd_tree_find(f->t, "/l", 2);
	assert_ptr_equal(e->target, dd_tree_find(a, "/l", 2)->target);
	e = dd_tree_find(f->t, "/m", 2);
	assert_ptr_equal(e->path, dd_tree_find(a, "/m", 2)->path);
	assert_string_equal(e->target, "z");
	assert_int_equal(dd_tree_find(f->t, "/n", 2)->links, 1);
	assert_null(dd_tree_find(f->t, "/o", 2)->extra->hardlink);
	dd_tree_free(a);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_new_tree_has_root),
		T(test_mkparents_creates_implicit_dirs),
		T(test_mkparents_keeps_existing_dirs),
		T(test_mkparents_replaces_non_dir),
		T(test_put_dir_over_dir_keeps_children),
		T(test_put_dir_over_implicit_dir),
		T(test_put_file_over_dir_drops_subtree),
		T(test_put_over_file_replaces),
		T(test_put_root),
		T(test_remove_subtree),
		T(test_hide_lower_children_only),
		T(test_hide_lower_whole_node_keeps_current),
		T(test_hide_lower_removes_lower_subtree),
		T(test_hide_lower_keeps_same_layer),
		T(test_hide_lower_root),
		T(test_hide_lower_wide_and_deep),
		T(test_finalize_order),
		T(test_find),
		T(test_large_insert_remove),
		T(test_max_entries),
		T(test_limits_defaults),
		T(test_type_names),
		T(test_entry_xattr),
		T(test_append),
		T(test_append_limits),
		T(test_share_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
