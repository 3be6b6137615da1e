/*
 * Layer application end to end, through the public API: each test writes
 * a small OCI layout with oci_builder, opens it with dd_image_open() and
 * checks the tree from dd_image_tree() against image-spec layer.md
 * ("Changesets", "Whiteouts") and the verification rules of
 * descriptor.md / config.md.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "driftdiff.h"
#include "oci_builder.h"
#include "lib/image_private.h"
#include "lib/tree.h"

#define MAX_LAYERS 4

struct fx {
	struct dd_ctx *ctx;
	struct ob_layer *layers[MAX_LAYERS];
	size_t n;
	char *dir;
	struct dd_image *img;
	bool apart;             /* every layer above the first read apart and merged */
};

/*
 * Every test runs twice: layers read one after another on the calling
 * thread, and every layer above the first read apart on workers into a
 * tree of its own, then laid over the ones below (layers.c). Both must
 * give the same tree and the same errors.
 */
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || dd_ctx_new(&f->ctx))
		return -1;
	*state = f;
	return 0;
}

static int setup_apart(void **state)
{
	int rc = setup(state);

	if (rc == 0)
		((struct fx *)*state)->apart = true;
	return rc;
}

/* Serially, or every upper layer apart. */
static void read_mode(struct dd_image *img, bool apart)
{
	dd_image_set_jobs(img, apart ? 4 : 1);
	img->read_apart = apart;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	size_t i;

	dd_image_free(f->img);
	for (i = 0; i < f->n; i++)
		ob_layer_free(f->layers[i]);
	if (f->dir) {
		ob_rmtree(f->dir);
		free(f->dir);
	}
	dd_ctx_free(f->ctx);
	free(f);
	return 0;
}

/* ---- helpers ---- */

/* The next layer up. */
static struct ob_layer *layer(struct fx *f)
{
	assert_true(f->n < MAX_LAYERS);
	f->layers[f->n] = ob_layer_new();
	return f->layers[f->n++];
}

/* Write the layout and open it; the image must open. */
static void open_image(struct fx *f, const struct ob_opts *opts)
{
	int rc;

	f->dir = ob_write_layout(f->layers, f->n, opts);
	rc = dd_image_open(&f->img, f->ctx, f->dir, NULL);
	if (rc)
		fail_msg("dd_image_open: %d %s", rc, dd_ctx_error(f->ctx));
	read_mode(f->img, f->apart);
	assert_int_equal(dd_image_format(f->img), DD_IMAGE_OCI_LAYOUT);
	assert_int_equal(dd_image_layer_count(f->img), f->n);
}

/* Build, open and read the tree, which must succeed. */
static const struct dd_tree *tree_of(struct fx *f)
{
	const struct dd_tree *t = NULL;
	int rc;

	open_image(f, NULL);
	rc = dd_image_tree(&t, f->img);
	if (rc)
		fail_msg("dd_image_tree: %d %s", rc, dd_ctx_error(f->ctx));
	assert_non_null(t);
	return t;
}

/* Build and open, then reading the tree must fail with CODE and no tree. */
static void tree_fails(struct fx *f, int code)
{
	const struct dd_tree *t = (const struct dd_tree *)1;

	open_image(f, NULL);
	assert_int_equal(dd_image_tree(&t, f->img), code);
	assert_null(t);
	assert_int_equal(dd_ctx_error_code(f->ctx), code);
	/* The message names the image. */
	assert_non_null(strstr(dd_ctx_error(f->ctx), f->dir));
}

static const struct dd_entry *must(const struct dd_tree *t, const char *path)
{
	const struct dd_entry *e = dd_tree_find(t, path, strlen(path));

	if (!e)
		fail_msg("%s is missing from the tree", path);
	return e;
}

static void absent(const struct dd_tree *t, const char *path)
{
	if (dd_tree_find(t, path, strlen(path)))
		fail_msg("%s should not be in the tree", path);
}

static void expect_content(const struct dd_entry *e, const void *data, size_t len)
{
	char want[65], got[65];
	size_t i;

	assert_int_equal(e->type, DD_TYPE_FILE);
	assert_true(e->has_sha256);
	assert_int_equal(e->size, len);
	ob_sha256_hex(want, data, len);
	for (i = 0; i < 32; i++)
		snprintf(got + 2 * i, 3, "%02x", e->sha256[i]);
	assert_string_equal(got, want);
}

/* The tree's paths are exactly PATHS, in order. */
static void expect_paths(const struct dd_tree *t, const char *const *paths, size_t n)
{
	size_t i;

	for (i = 0; i < n && i < dd_tree_count(t); i++)
		assert_string_equal(dd_tree_entry(t, i)->path, paths[i]);
	assert_int_equal(dd_tree_count(t), n);
}
#define EXPECT_PATHS(t, ...) do { \
	static const char *const want_[] = { __VA_ARGS__ }; \
	expect_paths((t), want_, sizeof(want_) / sizeof(want_[0])); \
} while (0)

#define FILE_S(l, path, s) ob_file((l), (path), (s), strlen(s))

/* Advance the test's pseudo-random state X (an LCG) and return it. */
static uint32_t next_x(uint32_t *x)
{
	*x = *x * 1103515245u + 12345u;
	return *x;
}

/* N bytes of incompressible filler from X, so gzip layers stay under the expansion limit. */
static void fill_random(unsigned char *p, size_t n, uint32_t *x)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(next_x(x) >> 16);
}

/* ---- whiteouts ---- */

/* ".wh.NAME" removes NAME of a lower layer; its siblings stay. */
static void test_whiteout_file(void **state)
{
	struct fx *f = *state;
	struct ob_layer *l0 = layer(f), *l1 = layer(f);
	const struct dd_tree *t;

	ob_dir(l0, "etc/", 0755);
	FILE_S(l0, "etc/a", "a");
	FILE_S(l0, "etc/b", "b");
	ob_empty(l1, "etc/.wh.a");
	t = tree_of(f);
	EXPECT_PATHS(t, "/", "/etc", "/etc/b");
}

/* A whiteout of a directory removes its whole subtree. */
static void test_whiteout_directory(void **state)
{
	struct fx *f = *state;
	struct ob_layer *l0 = layer(f), *l1 = layer(f);
	const struct dd_tree *t;

	ob_dir(l0, "d/", 0755);
	ob_dir(l0, "d/x/", 0755);
	FILE_S(l0, "d/x/y", "y");
	FILE_S(l0, "d/z", "z");
	FILE_S(l0, "dz", "keep");
	ob_empty(l1, "./.wh.d");
	t = tree_of(f);
	EXPECT_PATHS(t, "/", "/dz");
}

/*
 * "Whiteout files MUST only apply to resources in lower/parent layers.
 * Files that are present in the same layer as a whiteout file can only be
 * hidden by whiteout files in subsequent layers." Both tar orders.
 */
static void test_whiteout_same_layer_kept(void **state)
{
	struct fx *f = *state;
	struct ob_layer *l0 = layer(f), *l1 = layer(f);
	const struct dd_tree *t;

	FILE_S(l0, "h", "old h");
	FILE_S(l0, "i", "old i");
	FILE_S(l1, "f", "f");       /* entry first, whiteout after */
	ob_empty(l1, ".wh.f");
	ob_empty(l1, ".wh.g");      /* whiteout first, entry after */
	FILE_S(l1, "g", "g");
	FILE_S(l1, "h", "new h");   /* replaces a lower file, then a whiteout */
	ob_empty(l1, ".wh.h");
	ob_empty(l1, ".wh.i");      /* hides the lower file, then a new one */
	FILE_S(l1, "i", "new i");
	t = tree_of(f);
	EXPECT_PATHS(t, "/", "/f", "/g", "/h", "/i");
	expect_content(must(t, "/f"), "f", 1);
	expect_content(must(t, "/g"), "g", 1);
	expect_content(must(t, "/h"), "new h", 5);
	expect_content(must(t, "/i"), "new i", 5);
	assert_int_equal(must(t, "/h")->layer, 1);
}

/* The same rule for a directory: only its lower content goes. */
static void test_whiteout_same_layer_directory(void **state)
{
	struct fx *f = *state;
	struct ob_layer *l0 = layer(f), *l1 = layer(f);
	const struct dd_tree *t;

	ob_dir(l0, "d/", 0755);
	FILE_S(l0, "d/old", "old");
	ob_dir(l1, "d/", 0700);
	FILE_S(l1, "d/new", "new");
	ob_empty(l1, ".wh.d");
	t = tree_of(f);
	EXPECT_PATHS(t, "/", "/d", "/d/new");
	assert_int_equal(must(t, "/d")->mode, 0700);
}

/* A whiteout never resolves through a symlink: "lnk/.wh.f" is not "real/.wh.f". */
static void test_whiteout_not_through_symlink(void **state)
{
	struct fx *f = *state;
	struct ob_layer *l0 = layer(f), *l1 = layer(f);
	const struct dd_tree *t;

	ob_dir(l0, "real/", 0755);
	FILE_S(l0, "real/f", "f");
	ob_symlink(l0, "lnk", "real");
	ob_empty(l1, "lnk/.wh.f");
	t = tree_of(f);
	must(t, "/real/f");
	assert_int_equal(must(t, "/lnk")->type, DD_TYPE_SYMLINK);
}

/*
 * Opaque whiteout "DIR/.wh..wh..opq": every lower child of DIR is hidden,
 * but children of the same layer survive even when the marker comes after
 * them in the tar.
 */
static void test_opaque_marker_after_children(void **state)
{
	struct fx *f = *state;
	struct ob_layer *l0 = layer(f), *l1 = layer(f);
	const struct dd_tree *t;

	ob_dir(l0, "d/", 0755);
	FILE_S(l0, "d/old1", "1");
	ob_dir(l0, "d/sub/", 0755);
	FILE_S(l0, "d/sub/old2", "2");
	ob_dir(l0, "d/gone/", 0755);
	FILE_S(l0, "d/gone/old3", "3");
	FILE_S(l0, "e/keep", "k");
	ob_dir(l1, "d/", 0755);
	FILE_S(l1, "d/new", "n");
	ob_dir(l1, "d/sub/", 0750);
	ob_empty(l1, "d/.wh..wh..opq");
	t = tree_of(f);
	EXPECT_PATHS(t, "/", "/d", "/d/new", "/d/sub", "/e", "/e/keep");
	assert_int_equal(must(t, "/d/sub")->mode, 0750);
	assert_int_equal(must(t, "/d/sub")->layer, 1);
}

/* The usual order, marker first: same result. */
static void test_opaque_marker_first(void **state)
{
	struct fx *f = *state;
	struct ob_layer *l0 = layer(f), *l1 = layer(f);
	const struct dd_tree *t;

	ob_dir(l0, "d/", 0755);
	FILE_S(l0, "d/old", "o");
	ob_dir(l1, "d/", 0755);
	ob_empty(l1, "d/.wh..wh..opq");
	FILE_S(l1, "d/new", "n");
	t = tree_of(f);
	EXPECT_PATHS(t, "/", "/d", "/d/new");
}

/* An opaque marker at the root hides everything below, keeping this layer. */
static void test_opaque_root(void **state)
{
	struct fx *f = *state;
	struct ob_layer *l0 = layer(f), *l1 = layer(f);
	const struct dd_tree *t;

	FILE_S(l0, "a", "a");
	FILE_S(l0, "b/c", "c");
	FILE_S(l1, "new", "n");
	ob_empty(l1, ".wh..wh..opq");
	t = tree_of(f);
	EXPECT_PATHS(t, "/", "/new");
}

/* AUFS metadata (".wh..wh.plnk/...", ".wh..wh.aufs") is skipped, not applied. */
static void test_aufs_metadata_skipped(void **state)
{
	struct fx *f = *state;
	struct ob_layer *l0 = layer(f), *l1 = layer(f);
	const struct dd_tree *t;

	FILE_S(l0, "a", "a");
	ob_dir(l1, ".wh..wh.plnk/", 0700);
	FILE_S(l1, ".wh..wh.plnk/1234.5678", "x");
	ob_empty(l1, ".wh..wh.aufs");
	ob_dir(l1, ".wh..wh.orph/", 0700);
	FILE_S(l1, "d/.wh..wh.plnk/9", "y");
	t = tree_of(f);
	EXPECT_PATHS(t, "/", "/a");
}

/* A bare ".wh." names nothing: the layer is malformed. */
static void test_bare_whiteout(void **state)
{
	struct fx *f = *state;

	FILE_S(layer(f), "a", "a");
	ob_empty(layer(f), "d/.wh.");
	tree_fails(f, DD_EFORMAT);
}

static void test_bare_whiteout_at_root(void **state)
{
	struct fx *f = *state;

	ob_empty(layer(f), ".wh.");
	tree_fails(f, DD_EFORMAT);
}

/* ".wh.." would white out the parent ("..") and ".wh..." climbs further. */
static void test_whiteout_dotdot(void **state)
{
	struct fx *f = *state;

	FILE_S(layer(f), "d/a", "a");
	ob_empty(layer(f), "d/.wh..");
	tree_fails(f, DD_EFORMAT);
}

static void test_whiteout_dotdotdot(void **state)
{
	struct fx *f = *state;

	FILE_S(layer(f), "d/a", "a");
	ob_empty(layer(f), "d/.wh...");
	tree_fails(f, DD_EFORMAT);
}

/* A tar entry may not climb out of the root. */
static void test_entry_escapes_root(void **state)
{
	struct fx *f = *state;

	FILE_S(layer(f), "../x", "x");
	tree_fails(f, DD_EFORMAT);
}

static void test_entry_escapes_root_midway(void **state)
{
	struct fx *f = *state;

	FILE_S(layer(f), "a/../../etc/passwd", "x");
	tree_fails(f, DD_EFORMAT);
}

/* ---- hard links ---- */

/*
 * A hard link to a lower-layer file takes its inode: content, mode, owner.
 * Members of an inode group share "ino"; every member but the first in
 * tree order names the first as its "hardlink".
 */
static void test_hardlink_to_lower(void **state)
{
	struct fx *f = *state;
	struct ob_layer *l0 = layer(f), *l1 = layer(f);
	const struct dd_tree *t;
	const struct dd_entry *sh, *bb;
	static const char data[] = "#!busybox binary\n";

	ob_file_attrs(l0, "bin/busybox", data, sizeof(data) - 1, 04755, 0, 10);
	FILE_S(l0, "bin/other", "other");
	ob_hardlink(l1, "bin/sh", "bin/busybox");
	t = tree_of(f);
	sh = must(t, "/bin/sh");
	bb = must(t, "/bin/busybox");
	expect_content(sh, data, sizeof(data) - 1);
	assert_int_equal(sh->mode, 04755);
	assert_int_equal(sh->gid, 10);
	assert_int_equal(sh->layer, 1);
	assert_non_null(sh->extra->hardlink);
	assert_string_equal(sh->extra->hardlink, "/bin/busybox");
	assert_int_equal(sh->extra->hardlink_len, 12);
	expect_content(bb, data, sizeof(data) - 1);
	assert_null(bb->extra->hardlink);
	assert_true(sh->ino != 0);
	assert_true(sh->ino == bb->ino);
	assert_true(must(t, "/bin/other")->ino != bb->ino);
	assert_null(must(t, "/bin/other")->extra->hardlink);
}

/* A hard link in the same layer whose name sorts before its target's. */
static void test_hardlink_same_layer(void **state)
{
	struct fx *f = *state;
	struct ob_layer *l0 = layer(f);
	const struct dd_tree *t;
	const struct dd_entry *link, *orig;

	FILE_S(l0, "usr/bin/python3.11", "py");
	ob_hardlink(l0, "./usr/bin/python3", "./usr/bin/python3.11");
	t = tree_of(f);
	link = must(t, "/usr/bin/python3");
	orig = must(t, "/usr/bin/python3.11");
	expect_content(link, "py", 2);
	expect_content(orig, "py", 2);
	assert_true(link->ino != 0 && link->ino == orig->ino);
	/* "/usr/bin/python3" comes first in tree order, so it leads the group. */
	assert_null(link->extra->hardlink);
	assert_non_null(orig->extra->hardlink);
	assert_string_equal(orig->extra->hardlink, "/usr/bin/python3");
}

static void test_hardlink_missing_target(void **state)
{
	struct fx *f = *state;

	FILE_S(layer(f), "a", "a");
	ob_hardlink(layer(f), "b", "nothing/here");
	tree_fails(f, DD_EFORMAT);
}

static void test_hardlink_to_directory(void **state)
{
	struct fx *f = *state;
	struct ob_layer *l0 = layer(f);

	ob_dir(l0, "etc/", 0755);
	ob_hardlink(l0, "etc2", "etc");
	tree_fails(f, DD_EFORMAT);
}

static void test_hardlink_outside_root(void **state)
{
	struct fx *f = *state;

	ob_hardlink(layer(f), "passwd", "../../etc/passwd");
	tree_fails(f, DD_EFORMAT);
}

/* ---- shape changes ---- */

/*
 * "link" is a symlink to /etc; "link/file" must not be written through it.
 * The symlink is replaced by a directory and a warning is recorded.
 */
static void test_entry_beneath_symlink(void **state)
{
	struct fx *f = *state;
	struct ob_layer *l0 = layer(f);
	const struct dd_tree *t;
	size_t i;
	bool found = false;

	ob_dir(l0, "etc/", 0755);
	ob_symlink(l0, "link", "/etc");
	FILE_S(l0, "link/file", "x");
	t = tree_of(f);
	EXPECT_PATHS(t, "/", "/etc", "/link", "/link/file");
	assert_int_equal(must(t, "/link")->type, DD_TYPE_DIR);
	assert_null(must(t, "/link")->target);
	absent(t, "/etc/file");
	assert_true(dd_image_warning_count(f->img) > 0);
	for (i = 0; i < dd_image_warning_count(f->img); i++)
		if (strstr(dd_image_warning(f->img, i), "/link/file"))
			found = true;
	assert_true(found);
}

/* The same across layers: a lower symlink, an upper entry beneath it. */
static void test_entry_beneath_lower_symlink(void **state)
{
	struct fx *f = *state;
	struct ob_layer *l0 = layer(f), *l1 = layer(f);
	const struct dd_tree *t;

	ob_dir(l0, "etc/", 0755);
	FILE_S(l0, "etc/shadow", "s");
	ob_symlink(l0, "link", "../etc");
	FILE_S(l1, "link/shadow", "evil");
	t = tree_of(f);
	expect_content(must(t, "/etc/shadow"), "s", 1);
	expect_content(must(t, "/link/shadow"), "evil", 4);
	assert_int_equal(must(t, "/link")->type, DD_TYPE_DIR);
	assert_true(dd_image_warning_count(f->img) > 0);
}

/* A path changes type across layers: file, then directory, then file. */
static void test_file_dir_file(void **state)
{
	struct fx *f = *state;
	struct ob_layer *l0 = layer(f), *l1 = layer(f), *l2 = layer(f);
	const struct dd_tree *t;

	FILE_S(l0, "x", "one");
	ob_dir(l1, "x/", 0755);
	FILE_S(l1, "x/inner", "i");
	FILE_S(l2, "x", "three");
	t = tree_of(f);
	EXPECT_PATHS(t, "/", "/x");
	expect_content(must(t, "/x"), "three", 5);
	assert_int_equal(must(t, "/x")->layer, 2);
}

/* The same name twice in one layer: the last one wins. */
static void test_duplicate_entry_last_wins(void **state)
{
	struct fx *f = *state;
	struct ob_layer *l0 = layer(f);
	const struct dd_tree *t;

	FILE_S(l0, "dup", "first");
	ob_file_attrs(l0, "dup", "second", 6, 0600, 5, 6);
	t = tree_of(f);
	EXPECT_PATHS(t, "/", "/dup");
	expect_content(must(t, "/dup"), "second", 6);
	assert_int_equal(must(t, "/dup")->mode, 0600);
	assert_int_equal(must(t, "/dup")->uid, 5);
}

/* Missing parent directories are created: 0755, root-owned, flagged implicit. */
static void test_missing_parents_implicit(void **state)
{
	struct fx *f = *state;
	struct ob_layer *l0 = layer(f);
	const struct dd_tree *t;
	const struct dd_entry *e;

	FILE_S(l0, "a/b/c", "c");
	ob_dir(l0, "x/", 0700);
	FILE_S(l0, "x/y/z", "z");
	t = tree_of(f);
	EXPECT_PATHS(t, "/", "/a", "/a/b", "/a/b/c", "/x", "/x/y", "/x/y/z");
	e = must(t, "/a/b");
	assert_int_equal(e->type, DD_TYPE_DIR);
	assert_int_equal(e->mode, 0755);
	assert_int_equal(e->uid, 0);
	assert_int_equal(e->flags & DD_ENTRY_IMPLICIT, DD_ENTRY_IMPLICIT);
	assert_int_equal(e->layer, 0);
	assert_int_equal(must(t, "/a/b/c")->flags & DD_ENTRY_IMPLICIT, 0);
	assert_int_equal(must(t, "/x")->flags & DD_ENTRY_IMPLICIT, 0);
	assert_int_equal(must(t, "/x")->mode, 0700);
}

/* A directory entry after its children gives it attributes but keeps them. */
static void test_directory_after_children(void **state)
{
	struct fx *f = *state;
	struct ob_layer *l0 = layer(f);
	const struct dd_tree *t;

	FILE_S(l0, "a/b", "b");
	ob_dir(l0, "a/", 0710);
	ob_dir(l0, "./", 0700);
	t = tree_of(f);
	EXPECT_PATHS(t, "/", "/a", "/a/b");
	assert_int_equal(must(t, "/a")->mode, 0710);
	assert_int_equal(must(t, "/a")->flags & DD_ENTRY_IMPLICIT, 0);
	assert_int_equal(must(t, "/")->mode, 0700);
}

/* ---- attributes and content ---- */

/* security.capability is stored as raw bytes and decodes with dd_caps_decode. */
static void test_xattr_capability(void **state)
{
	static const unsigned char cap[20] = {
		0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	struct fx *f = *state;
	struct ob_layer *l0 = layer(f);
	const struct dd_tree *t;
	const struct dd_entry *e;
	const struct dd_xattr *x;
	struct dd_caps caps;

	ob_file_attrs(l0, "bin/ping", "ping", 4, 0755, 0, 0);
	ob_xattr(l0, "user.comment", "hi", 2);
	ob_xattr(l0, "security.capability", cap, sizeof(cap));
	t = tree_of(f);
	e = must(t, "/bin/ping");
	assert_int_equal(e->extra->nxattrs, 2);
	/* Sorted by name. */
	assert_string_equal(e->extra->xattrs[0].name, "security.capability");
	assert_string_equal(e->extra->xattrs[1].name, "user.comment");
	x = dd_entry_xattr(e, "security.capability");
	assert_non_null(x);
	assert_int_equal(x->len, sizeof(cap));
	assert_memory_equal(x->value, cap, sizeof(cap));
	assert_int_equal(dd_caps_decode(&caps, x->value, x->len), 0);
	assert_int_equal(caps.revision, 2);
	assert_true(caps.effective);
	assert_true(caps.permitted == (1ull << 13));
	x = dd_entry_xattr(e, "user.comment");
	assert_int_equal(x->len, 2);
	assert_memory_equal(x->value, "hi", 2);
}

/* Content hashes: empty, small and multi-block files; owner, mode and mtime. */
static void test_content_and_attributes(void **state)
{
	struct fx *f = *state;
	struct ob_layer *l0 = layer(f);
	const struct dd_tree *t;
	const struct dd_entry *e;
	unsigned char *big = malloc(300000);
	uint32_t x = 12345;

	assert_non_null(big);
	fill_random(big, 300000, &x);
	ob_empty(l0, "empty");
	FILE_S(l0, "hello", "hello\n");
	ob_file_attrs(l0, "big", big, 300000, 02750, 1000, 1001);
	ob_symlink(l0, "sym", "hello");
	t = tree_of(f);
	expect_content(must(t, "/empty"), "", 0);
	expect_content(must(t, "/hello"), "hello\n", 6);
	e = must(t, "/big");
	expect_content(e, big, 300000);
	assert_int_equal(e->mode, 02750);
	assert_int_equal(e->uid, 1000);
	assert_int_equal(e->gid, 1001);
	assert_int_equal(e->mtime, 1700000000);
	assert_null(e->extra->hardlink);
	e = must(t, "/sym");
	assert_int_equal(e->type, DD_TYPE_SYMLINK);
	assert_string_equal(e->target, "hello");
	assert_int_equal(e->target_len, 5);
	assert_false(e->has_sha256);
	assert_int_equal(e->size, 0);
	free(big);
}

/* A gzip layer: decompressed, verified, and its facts recorded. */
static void test_gzip_layer_info(void **state)
{
	struct fx *f = *state;
	struct ob_layer *l0 = layer(f), *l1 = layer(f);
	const struct dd_tree *t;
	const struct dd_layer_info *li;
	unsigned char *tar;
	size_t tar_len;

	FILE_S(l0, "a", "plain layer");
	FILE_S(l1, "b", "gzip layer");
	ob_gzip(l1);
	t = tree_of(f);
	expect_content(must(t, "/a"), "plain layer", 11);
	expect_content(must(t, "/b"), "gzip layer", 10);
	li = dd_image_layer(f->img, 0);
	assert_int_equal(li->compression, DD_COMPRESSION_NONE);
	assert_int_equal(li->verified, DD_VERIFY_OK);
	li = dd_image_layer(f->img, 1);
	assert_int_equal(li->compression, DD_COMPRESSION_GZIP);
	assert_int_equal(li->verified, DD_VERIFY_OK);
	assert_string_equal(li->media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
	tar = ob_layer_tar(l1, &tar_len);
	assert_int_equal(li->uncompressed_size, tar_len);
	free(tar);
	assert_null(dd_image_layer(f->img, 2));
	/* A second call hands back the same tree. */
	{
		const struct dd_tree *again = NULL;

		assert_int_equal(dd_image_tree(&again, f->img), 0);
		assert_ptr_equal(again, t);
	}
}

/*
 * A layer of many chunks (the pipeline hands libarchive 256 KB at a time):
 * headers and file data straddle the chunks' ends at every offset, and
 * each file's bytes go into its hash and the diff_id in step. Every file
 * and the diff_id must come out right, gzip'd or not.
 */
static void many_chunks(struct fx *f, bool gzip)
{
	enum { FILES = 160, MAX = 50000 };
	struct ob_layer *l0 = layer(f);
	unsigned char *data = malloc((size_t)FILES * MAX);
	size_t sizes[FILES], i;
	uint32_t x = 777;
	const struct dd_tree *t;
	char name[32];

	assert_non_null(data);
	for (i = 0; i < FILES; i++) {
		next_x(&x);
		sizes[i] = i % 7 == 0 ? (x >> 8) % 600 : (x >> 8) % MAX;
		fill_random(data + i * MAX, sizes[i], &x);
		snprintf(name, sizeof(name), "f%03zu", i);
		ob_file(l0, name, data + i * MAX, sizes[i]);
	}
	if (gzip)
		ob_gzip(l0);
	t = tree_of(f);
	assert_int_equal(dd_image_layer(f->img, 0)->verified, DD_VERIFY_OK);
	for (i = 0; i < FILES; i++) {
		snprintf(name, sizeof(name), "/f%03zu", i);
		expect_content(must(t, name), data + i * MAX, sizes[i]);
	}
	free(data);
}

static void test_many_chunks_gzip(void **state)
{
	many_chunks(*state, true);
}

static void test_many_chunks_plain(void **state)
{
	many_chunks(*state, false);
}

/* ... and a wrong diff_id over as many chunks is still caught. */
static void test_many_chunks_wrong_diff_id(void **state)
{
	struct fx *f = *state;
	struct ob_layer *l0 = layer(f);
	unsigned char *big = malloc(3 << 20);
	uint32_t x = 99;
	char name[32];
	size_t i;

	assert_non_null(big);
	fill_random(big, 3 << 20, &x);
	for (i = 0; i < 24; i++) {
		snprintf(name, sizeof(name), "f%02zu", i);
		ob_file(l0, name, big + i * 1000, 100000 + 3 * i);
	}
	ob_gzip(l0);
	ob_corrupt(l0, OB_BAD_DIFF_ID);
	free(big);
	tree_fails(f, DD_EVERIFY);
	assert_non_null(strstr(dd_ctx_error(f->ctx), "diff_id mismatch"));
}

/* ---- verification ---- */

/* config.md: each diff_id is the digest of the uncompressed layer. */
static void test_wrong_diff_id(void **state)
{
	struct fx *f = *state;
	struct ob_layer *l0 = layer(f), *l1 = layer(f);

	FILE_S(l0, "a", "a");
	FILE_S(l1, "b", "b");
	ob_corrupt(l1, OB_BAD_DIFF_ID);
	tree_fails(f, DD_EVERIFY);
	assert_non_null(strstr(dd_ctx_error(f->ctx), "diff_id"));
}

/*
 * One layer holding /a, gzip'd when GZIP, corrupted HOW: reading it fails
 * verification with NEEDLE in the message.
 */
static void corrupt_fails(struct fx *f, bool gzip, enum ob_corrupt how, const char *needle)
{
	struct ob_layer *l0 = layer(f);

	FILE_S(l0, "a", "a");
	if (gzip)
		ob_gzip(l0);
	ob_corrupt(l0, how);
	tree_fails(f, DD_EVERIFY);
	assert_non_null(strstr(dd_ctx_error(f->ctx), needle));
}

/* The same of a gzip layer: the diff_id is hashed apart from the blob. */
static void test_wrong_diff_id_gzip(void **state)
{
	corrupt_fails(*state, true, OB_BAD_DIFF_ID, "diff_id mismatch");
}

/*
 * An uncompressed layer is hashed once, its digest standing for the
 * diff_id: a wrong blob digest is still caught, as such.
 */
static void test_wrong_blob_digest_plain(void **state)
{
	corrupt_fails(*state, false, OB_BAD_BLOB_DIGEST, "blob digest mismatch");
}

/* descriptor.md: the blob's content must match the descriptor's digest. */
static void test_wrong_blob_digest(void **state)
{
	corrupt_fails(*state, true, OB_BAD_BLOB_DIGEST, "digest");
}

/* descriptor.md: the size must match exactly, one byte more or less. */
static void test_size_plus_one(void **state)
{
	corrupt_fails(*state, false, OB_SIZE_PLUS_ONE, "size");
}

static void test_size_minus_one(void **state)
{
	corrupt_fails(*state, true, OB_SIZE_MINUS_ONE, "size");
}

/* A malformed digest in index.json is refused when the image is opened. */
static void test_index_malformed_digest(void **state)
{
	static const char *const bad[] = {
		"sha256:../../../../etc/passwd",
		"sha256:ABCDEF",
		"sha256",
		"",
	};
	struct fx *f = *state;
	struct ob_opts opts = { NULL };
	struct dd_image *img = (struct dd_image *)1;
	size_t i;

	FILE_S(layer(f), "a", "a");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		opts.index_digest = bad[i];
		f->dir = ob_write_layout(f->layers, f->n, &opts);
		assert_int_equal(dd_image_open(&img, f->ctx, f->dir, NULL), DD_EFORMAT);
		assert_null(img);
		assert_non_null(strstr(dd_ctx_error(f->ctx), f->dir));
		ob_rmtree(f->dir);
		free(f->dir);
		f->dir = NULL;
		img = (struct dd_image *)1;
	}
}

/* ---- limits and odd entries ---- */

/* max_entries bounds the tree an image may build; no partial tree comes back. */
static void test_max_entries_limit(void **state)
{
	struct fx *f = *state;
	struct ob_layer *l0 = layer(f);
	struct dd_limits lim = DD_LIMITS_INIT;

	FILE_S(l0, "a", "a");
	FILE_S(l0, "b", "b");
	FILE_S(l0, "c", "c");
	FILE_S(l0, "d", "d");
	lim.max_entries = 4;   /* the root and three files */
	assert_int_equal(dd_ctx_set_limits(f->ctx, &lim), 0);
	tree_fails(f, DD_ELIMIT);
}

/* max_path bounds one entry's name. */
/*
 * Layers that rewrite the same paths: the tree stays under max-entries
 * while the layers' entries together do not. Read apart, the parts give up
 * past the limit and their layers are read in place: the tree still comes.
 */
static void test_max_entries_rewritten(void **state)
{
	struct fx *f = *state;
	struct ob_layer *l[4] = { layer(f), layer(f), layer(f), layer(f) };
	struct dd_limits lim = DD_LIMITS_INIT;
	const struct dd_tree *t;
	char name[8];
	size_t i, k;

	FILE_S(l[0], "a", "a");
	for (i = 1; i < 4; i++)
		for (k = 0; k < 6; k++) {
			snprintf(name, sizeof(name), "p%zu", k);
			ob_file(l[i], name, &i, 1);
		}
	lim.max_entries = 10;  /* the root, a, p0..p5: 8; the layers' entries: 19 */
	assert_int_equal(dd_ctx_set_limits(f->ctx, &lim), 0);
	t = tree_of(f);
	assert_int_equal(dd_tree_count(t), 8);
	assert_int_equal(must(t, "/p5")->layer, 3);
}

/* Two layers each under max-entries, the tree over it: refused, named, whether laid in turn or merged. */
static void test_max_entries_two_layers(void **state)
{
	struct fx *f = *state;
	struct ob_layer *l0 = layer(f), *l1 = layer(f);
	struct dd_limits lim = DD_LIMITS_INIT;

	FILE_S(l0, "a", "a");
	FILE_S(l0, "b", "b");
	FILE_S(l1, "c", "c");
	FILE_S(l1, "d", "d");
	lim.max_entries = 4;   /* the root and three files */
	assert_int_equal(dd_ctx_set_limits(f->ctx, &lim), 0);
	tree_fails(f, DD_ELIMIT);
	assert_non_null(strstr(dd_ctx_error(f->ctx), "layer 1 ("));
	assert_non_null(strstr(dd_ctx_error(f->ctx), "max-entries"));
	if (f->apart)
		assert_int_equal(f->img->parts_merged, 0);
}

static void test_max_path_limit(void **state)
{
	struct fx *f = *state;
	struct dd_limits lim = DD_LIMITS_INIT;

	FILE_S(layer(f), "0123456789/0123456789/0123456789", "x");
	lim.max_path = 20;
	assert_int_equal(dd_ctx_set_limits(f->ctx, &lim), 0);
	tree_fails(f, DD_ELIMIT);
}

/* The root can only ever be a directory. */
static void test_root_as_file(void **state)
{
	struct fx *f = *state;

	FILE_S(layer(f), "./", "x");
	tree_fails(f, DD_EFORMAT);
}

/* The largest ID there is, then one past it (pax allows any number): refused, named. */
static void test_owner_32_bits(void **state)
{
	struct fx *f = *state;
	const struct dd_tree *t;

	ob_file_attrs(layer(f), "ok", "x", 1, 0644, 4294967295L, 7);
	open_image(f, NULL);
	assert_int_equal(dd_image_tree(&t, f->img), 0);
	assert_int_equal(must(t, "/ok")->uid, 4294967295u);
	assert_int_equal(must(t, "/ok")->gid, 7);
}

static void test_owner_beyond_32_bits(void **state)
{
	struct fx *f = *state;

	ob_file_attrs(layer(f), "big", "x", 1, 0644, 0, 4294967296L);
	tree_fails(f, DD_EFORMAT);
	assert_non_null(strstr(dd_ctx_error(f->ctx), "'/big': owner 0:4294967296"));
}

/* ---- layers read apart give the tree read in order ---- */

/* Four layers of everything the merge must get right, into F. */
static void mixed_layers(struct fx *f)
{
	struct ob_layer *l0 = layer(f), *l1 = layer(f), *l2 = layer(f), *l3 = layer(f);
	static const char cap[] = { 0x01, 0, 0, 0x02, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };

	ob_dir(l0, "etc", 0755);
	FILE_S(l0, "etc/passwd", "root:x:0:0::/root:/bin/sh\n");
	FILE_S(l0, "etc/hosts", "127.0.0.1 localhost\n");
	ob_dir(l0, "usr", 0755);
	ob_dir(l0, "usr/bin", 0755);
	ob_file_attrs(l0, "usr/bin/busybox", "\x7f" "ELFbusybox", 10, 0755, 0, 0);
	ob_hardlink(l0, "usr/bin/ls", "usr/bin/busybox");
	FILE_S(l0, "usr/bin/a", "a");
	FILE_S(l0, "usr/bin/b", "b");
	ob_dir(l0, "opt", 0700);
	FILE_S(l0, "opt/x/y", "below an implicit directory");
	ob_dir(l0, "var/lib/gone", 0755);
	FILE_S(l0, "var/lib/gone/f", "f");
	FILE_S(l0, "srv", "a file, a directory above");

	/*
	 * Whiteouts, an opaque directory, a file made a directory, xattrs, a
	 * symlink. (Links to lower files are a part's to give up on: the
	 * hard-link tests have them.)
	 */
	ob_empty(l1, "etc/.wh.hosts");
	ob_dir(l1, "var/lib/gone", 0750);
	ob_empty(l1, "var/lib/gone/.wh..wh..opq");
	FILE_S(l1, "var/lib/gone/new", "new");
	ob_symlink(l1, "usr/bin/sh", "busybox");
	ob_file_attrs(l1, "usr/bin/ping", "ping", 4, 04755, 0, 0);
	ob_xattr(l1, "security.capability", cap, sizeof(cap));
	FILE_S(l1, "srv/www/index.html", "<html>");
	ob_symlink(l1, "etc/localtime", "/usr/share/zoneinfo/UTC");

	/* Links within the layer, a file replacing a directory, a directory attribute change. */
	FILE_S(l2, "usr/local/tool", "tool v1");
	ob_hardlink(l2, "usr/local/tool2", "usr/local/tool");
	ob_hardlink(l2, "usr/local/tool3", "usr/local/tool");
	FILE_S(l2, "opt", "opt is a file now");
	ob_dir(l2, "usr/bin", 0555);
	ob_empty(l2, "usr/bin/.wh.a");
	FILE_S(l2, "usr/bin/a", "a again, same layer as its whiteout");

	/* A whiteout of what the layer below added, a file two layers down rewritten. */
	ob_empty(l3, "usr/local/.wh.tool2");
	ob_file_attrs(l3, "etc/passwd", "root:x:0:0::/root:/bin/ash\n", 27, 0600, 0, 0);
	ob_xattr(l3, "user.note", "edited", 6);
	ob_dir(l3, "", 0700);
}

static void expect_same_entry(const struct dd_entry *a, const struct dd_entry *b)
{
	uint32_t k;

	assert_string_equal(a->path, b->path);
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->mode, b->mode);
	assert_int_equal(a->uid, b->uid);
	assert_int_equal(a->gid, b->gid);
	assert_int_equal(a->size, b->size);
	assert_int_equal(a->layer, b->layer);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->links, b->links);
	assert_int_equal(a->has_sha256, b->has_sha256);
	assert_memory_equal(a->sha256, b->sha256, 32);
	assert_int_equal(a->target_len, b->target_len);
	/* memcmp(), which ASan checks (cmocka's own compare is not built with it). */
	if (a->target)
		assert_true(memcmp(a->target, b->target, a->target_len) == 0);
	assert_int_equal(a->extra->hardlink_len, b->extra->hardlink_len);
	if (a->extra->hardlink)
		assert_string_equal(a->extra->hardlink, b->extra->hardlink);
	assert_int_equal(a->extra->nxattrs, b->extra->nxattrs);
	for (k = 0; k < a->extra->nxattrs; k++) {
		assert_string_equal(a->extra->xattrs[k].name, b->extra->xattrs[k].name);
		assert_int_equal(a->extra->xattrs[k].len, b->extra->xattrs[k].len);
		assert_true(memcmp(a->extra->xattrs[k].value, b->extra->xattrs[k].value,
				   a->extra->xattrs[k].len) == 0);
	}
	assert_int_equal(a->extra->content_len, b->extra->content_len);
	if (a->extra->content_len)
		assert_true(memcmp(a->extra->content, b->extra->content, a->extra->content_len) == 0);
	/* Read under the same key, the same fingerprints. */
	if (a->type == DD_TYPE_FILE)
		assert_memory_equal(((const struct dd__node *)a)->fp, ((const struct dd__node *)b)->fp,
				    DD__FP_LEN);
}

static void test_read_apart_same_tree(void **state)
{
	struct fx *f = *state;
	struct dd_image *serial = NULL;
	const struct dd_tree *a, *b;
	size_t i;

	mixed_layers(f);
	open_image(f, NULL);
	assert_int_equal(dd_image_open(&serial, f->ctx, f->dir, NULL), 0);
	read_mode(serial, false);
	assert_non_null(dd_image_fingerprint_key(serial));
	memcpy(f->img->fp_key, dd_image_fingerprint_key(serial), sizeof(f->img->fp_key));
	f->img->fingerprint = true;
	assert_int_equal(dd_image_tree(&b, f->img), 0);
	assert_int_equal(dd_image_tree(&a, serial), 0);
	assert_true(a->fingerprinted && b->fingerprinted);
	assert_int_equal(dd_tree_count(a), dd_tree_count(b));
	for (i = 0; i < dd_tree_count(a); i++)
		expect_same_entry(dd_tree_entry(a, i), dd_tree_entry(b, i));
	assert_int_equal(dd_image_warning_count(serial), dd_image_warning_count(f->img));
	for (i = 0; i < dd_image_warning_count(serial); i++)
		assert_string_equal(dd_image_warning(serial, i), dd_image_warning(f->img, i));
	/* What the layers say, checked once: the trees are the same. */
	absent(a, "/etc/hosts");
	absent(a, "/var/lib/gone/f");
	absent(a, "/usr/local/tool2");
	absent(a, "/opt/x");
	must(a, "/var/lib/gone/new");
	assert_string_equal(must(a, "/usr/bin/sh")->target, "busybox");
	assert_int_equal(must(a, "/usr/bin/busybox")->links, 2);
	assert_int_equal(must(a, "/usr/local/tool")->links, 2);
	assert_string_equal(must(a, "/usr/local/tool3")->extra->hardlink, "/usr/local/tool");
	assert_int_equal(must(a, "/etc/passwd")->mode, 0600);
	assert_int_equal(must(a, "/etc/passwd")->extra->nxattrs, 1);
	/* Read apart, every upper layer was laid over the ones below, none read again. */
	if (f->apart)
		assert_int_equal(f->img->parts_merged, 3);
	assert_int_equal(must(a, "/usr/bin/a")->layer, 2);
	assert_int_equal(must(a, "/usr/bin/b")->links, 1);
	assert_int_equal(must(a, "/")->mode, 0700);
	assert_int_equal(must(a, "/srv")->type, DD_TYPE_DIR);
	dd_image_free(serial);
}

/*
 * Where the tar's order decides, a layer read apart gives up and is read
 * in place: the tree is the one read in turn gives. A whiteout after an
 * entry beneath its path keeps the lower directory that leads to it, with
 * its own attributes (found by fuzz_whiteout).
 */
static void test_whiteout_after_entry_beneath(void **state)
{
	struct fx *f = *state;
	struct ob_layer *l0 = layer(f), *l1 = layer(f);
	const struct dd_tree *t;

	ob_dir(l0, "c", 0700);
	FILE_S(l0, "c/old", "old");
	FILE_S(l1, "c/a", "new");
	ob_empty(l1, ".wh.c");
	t = tree_of(f);
	assert_int_equal(must(t, "/c")->layer, 0);
	assert_int_equal(must(t, "/c")->mode, 0700);
	assert_int_equal(must(t, "/c/a")->layer, 1);
	absent(t, "/c/old");
}

/* The same path written as a file, then as a directory: what was below went with the file. */
static void test_file_then_directory_same_layer(void **state)
{
	struct fx *f = *state;
	struct ob_layer *l0 = layer(f), *l1 = layer(f);
	const struct dd_tree *t;

	ob_dir(l0, "p", 0755);
	FILE_S(l0, "p/below", "below");
	FILE_S(l1, "p", "a file");
	ob_dir(l1, "p", 0711);
	t = tree_of(f);
	assert_int_equal(must(t, "/p")->type, DD_TYPE_DIR);
	assert_int_equal(must(t, "/p")->mode, 0711);
	absent(t, "/p/below");
}

/* An entry beneath a file of its own layer: the file, and what it replaced, are gone. */
static void test_entry_beneath_own_file(void **state)
{
	struct fx *f = *state;
	struct ob_layer *l0 = layer(f), *l1 = layer(f);
	const struct dd_tree *t;

	ob_dir(l0, "p", 0700);
	FILE_S(l0, "p/below", "below");
	FILE_S(l1, "p", "a file");
	FILE_S(l1, "p/x", "x");
	t = tree_of(f);
	assert_int_equal(must(t, "/p")->type, DD_TYPE_DIR);
	assert_true(must(t, "/p")->flags & DD_ENTRY_IMPLICIT);
	assert_int_equal(must(t, "/p")->layer, 1);
	must(t, "/p/x");
	absent(t, "/p/below");
	assert_int_equal(dd_image_warning_count(f->img), 1);
}

/* Inode numbers of a layer read apart must not meet those of the layers below. */
static void test_read_apart_links_stay_in_layer(void **state)
{
	struct fx *f = *state;
	struct ob_layer *l0 = layer(f), *l1 = layer(f);
	const struct dd_tree *t;
	const char *lower[] = { "/a", "/b", "/c", "/d" };
	size_t i;

	for (i = 0; i < 4; i++)
		FILE_S(l0, lower[i] + 1, lower[i]);
	FILE_S(l1, "x", "x");
	ob_hardlink(l1, "y", "x");
	t = tree_of(f);
	assert_int_equal(must(t, "/x")->links, 2);
	assert_string_equal(must(t, "/y")->extra->hardlink, "/x");
	for (i = 0; i < 4; i++) {
		assert_int_equal(must(t, lower[i])->links, 1);
		assert_null(must(t, lower[i])->extra->hardlink);
		assert_true(must(t, lower[i])->ino != must(t, "/x")->ino);
	}
}

/* Two damaged layers: the lower one is the one named, however they were read. */
static void test_read_apart_first_error_named(void **state)
{
	struct fx *f = *state;
	struct ob_layer *l0 = layer(f), *l1 = layer(f), *l2 = layer(f), *l3 = layer(f);

	FILE_S(l0, "a", "a");
	FILE_S(l1, "b", "b");
	ob_corrupt(l1, OB_BAD_DIFF_ID);
	FILE_S(l2, "c", "c");
	FILE_S(l3, "d", "d");
	ob_corrupt(l3, OB_BAD_DIFF_ID);
	tree_fails(f, DD_EVERIFY);
	assert_non_null(strstr(dd_ctx_error(f->ctx), "layer 1 ("));
	assert_non_null(strstr(dd_ctx_error(f->ctx), "diff_id mismatch"));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown), \
	      cmocka_unit_test_setup_teardown(fn, setup_apart, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_whiteout_file),
		T(test_whiteout_directory),
		T(test_whiteout_same_layer_kept),
		T(test_whiteout_same_layer_directory),
		T(test_whiteout_not_through_symlink),
		T(test_opaque_marker_after_children),
		T(test_opaque_marker_first),
		T(test_opaque_root),
		T(test_aufs_metadata_skipped),
		T(test_bare_whiteout),
		T(test_bare_whiteout_at_root),
		T(test_whiteout_dotdot),
		T(test_whiteout_dotdotdot),
		T(test_entry_escapes_root),
		T(test_entry_escapes_root_midway),
		T(test_hardlink_to_lower),
		T(test_hardlink_same_layer),
		T(test_hardlink_missing_target),
		T(test_hardlink_to_directory),
		T(test_hardlink_outside_root),
		T(test_entry_beneath_symlink),
		T(test_entry_beneath_lower_symlink),
		T(test_file_dir_file),
		T(test_duplicate_entry_last_wins),
		T(test_missing_parents_implicit),
		T(test_directory_after_children),
		T(test_xattr_capability),
		T(test_content_and_attributes),
		T(test_gzip_layer_info),
		T(test_wrong_diff_id),
		T(test_many_chunks_gzip),
		T(test_many_chunks_plain),
		T(test_many_chunks_wrong_diff_id),
		T(test_wrong_diff_id_gzip),
		T(test_wrong_blob_digest_plain),
		T(test_wrong_blob_digest),
		T(test_size_plus_one),
		T(test_size_minus_one),
		T(test_index_malformed_digest),
		T(test_max_entries_limit),
		T(test_max_entries_rewritten),
		T(test_max_entries_two_layers),
		T(test_max_path_limit),
		T(test_root_as_file),
		T(test_owner_32_bits),
		T(test_owner_beyond_32_bits),
		T(test_read_apart_same_tree),
		T(test_whiteout_after_entry_beneath),
		T(test_file_then_directory_same_layer),
		T(test_entry_beneath_own_file),
		T(test_read_apart_links_stay_in_layer),
		T(test_read_apart_first_error_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
