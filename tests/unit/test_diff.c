/*
 * Unit tests for lib/diff.c: the merge walk, the attribute bits, directory
 * mtime noise, new executables, stealthy edits, unreadable and mounted
 * directories, and the overlay upper-dir rules.
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
	struct dd_tree *img, *tgt;
	struct dd_diff *d;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || dd_ctx_new(&f->ctx) || dd__tree_new(&f->img, f->ctx) || dd__tree_new(&f->tgt, f->ctx))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	dd_diff_free(f->d);
	dd_tree_free(f->img);
	dd_tree_free(f->tgt);
	dd_ctx_free(f->ctx);
	free(f);
	return 0;
}

static struct dd__node *add(struct dd_tree *t, const char *path, enum dd_type type, uint32_t mode)
{
	struct dd__node *parent, *n = NULL;
	size_t len = strlen(path);

	assert_int_equal(dd__tree_mkparents(t, &parent, path, len, 0, NULL), 0);
	assert_int_equal(dd__tree_put(t, &n, parent, path, len, type, 0), 0);
	n->e.mode = mode;
	n->e.mtime = 1700000000;
	return n;
}

static struct dd__node *file(struct dd_tree *t, const char *path, uint32_t mode, char content)
{
	struct dd__node *n = add(t, path, DD_TYPE_FILE, mode);

	n->e.has_sha256 = true;
	memset(n->e.sha256, content, 32);
	n->e.size = 10;
	return n;
}

/* Give N the one xattr X. */
static void set_xattr(struct dd_tree *t, struct dd__node *n, const struct dd_xattr *x)
{
	struct dd_entry_extra *e = dd__entry_extra(&t->arena, &n->e);

	assert_non_null(e);
	e->xattrs = x;
	e->nxattrs = 1;
}

/* Both trees get the same implicit parents, so only what a test sets differs. */
static void run(struct fx *f, bool upper, bool all)
{
	struct dd_diff_options o = DD_DIFF_OPTIONS_INIT;

	o.all = all;
	assert_int_equal(dd__tree_finalize(f->img), 0);
	assert_int_equal(dd__tree_finalize(f->tgt), 0);
	if (upper)
		assert_int_equal(dd_diff_upper(&f->d, f->ctx, f->img, f->tgt, &o), 0);
	else
		assert_int_equal(dd_diff_trees(&f->d, f->ctx, f->img, f->tgt, &o), 0);
}

static const struct dd_change *change(struct fx *f, const char *path)
{
	size_t i;

	for (i = 0; i < dd_diff_count(f->d); i++)
		if (!strcmp(dd_diff_change(f->d, i)->path, path))
			return dd_diff_change(f->d, i);
	return NULL;
}

static void test_added_deleted_modified(void **state)
{
	struct fx *f = *state;
	const struct dd_change *c;

	file(f->img, "/etc/passwd", 0644, 'a');
	file(f->img, "/etc/gone", 0644, 'g');
	file(f->tgt, "/etc/passwd", 0644, 'b');
	file(f->tgt, "/etc/new", 0644, 'n');
	run(f, false, false);
	assert_int_equal(dd_diff_count(f->d), 3);
	c = change(f, "/etc/passwd");
	assert_int_equal(c->kind, DD_CHANGE_MODIFIED);
	assert_int_equal(c->attrs, DD_ATTR_CONTENT);
	/* Same size and mtime, different content: what docker diff misses. */
	assert_true(c->flags & DD_CHANGE_STEALTH);
	assert_int_equal(change(f, "/etc/gone")->kind, DD_CHANGE_DELETED);
	assert_int_equal(change(f, "/etc/new")->kind, DD_CHANGE_ADDED);
	/* The root is never reported. */
	assert_null(change(f, "/"));
}

static void test_attribute_bits(void **state)
{
	struct fx *f = *state;
	struct dd__node *a, *b;
	const struct dd_change *c;

	file(f->img, "/bin/su", 0755, 's');
	a = file(f->tgt, "/bin/su", 04755, 's');
	a->e.uid = 5;
	b = add(f->img, "/l", DD_TYPE_SYMLINK, 0777);
	b->e.target = "a";
	b->e.target_len = 1;
	a = add(f->tgt, "/l", DD_TYPE_SYMLINK, 0777);
	a->e.target = "b";
	a->e.target_len = 1;
	run(f, false, false);
	c = change(f, "/bin/su");
	assert_int_equal(c->attrs, DD_ATTR_MODE | DD_ATTR_SETID | DD_ATTR_UID);
	assert_int_equal(c->severity, DD_SEVERITY_HIGH);
	assert_int_equal(change(f, "/l")->attrs, DD_ATTR_TARGET);
}

static void test_type_change_and_exec(void **state)
{
	struct fx *f = *state;
	struct dd__node *n;

	add(f->img, "/usr/bin/tool", DD_TYPE_SYMLINK, 0777)->e.target = "x";
	n = file(f->tgt, "/usr/bin/tool", 0755, 't');
	n->e.exec = DD_EXEC_SCRIPT;
	file(f->img, "/app/run", 0644, 'r');
	file(f->tgt, "/app/run", 0755, 'r'); /* gained an execute bit */
	run(f, false, false);
	assert_int_equal(change(f, "/usr/bin/tool")->kind, DD_CHANGE_TYPE_CHANGED);
	assert_true(change(f, "/usr/bin/tool")->flags & DD_CHANGE_NEW_EXEC);
	assert_true(change(f, "/app/run")->flags & DD_CHANGE_NEW_EXEC);
}

/* A directory whose only change is its mtime is noise unless --all. */
static void test_dir_mtime(void **state)
{
	struct fx *f = *state;

	add(f->img, "/var", DD_TYPE_DIR, 0755);
	add(f->tgt, "/var", DD_TYPE_DIR, 0755)->e.mtime = 1800000000;
	run(f, false, false);
	assert_null(change(f, "/var"));
	dd_diff_free(f->d);
	f->d = NULL;
	assert_int_equal(dd_diff_trees(&f->d, f->ctx, f->img, f->tgt,
				       &(struct dd_diff_options){ DD_DIFF_OPTIONS_VERSION, true, NULL }), 0);
	assert_non_null(change(f, "/var"));
	assert_true(change(f, "/var")->flags & DD_CHANGE_DIR_MTIME);
}

/* What lies below an unreadable directory is unknown, not deleted. */
static void test_unreadable_dir(void **state)
{
	struct fx *f = *state;

	file(f->img, "/root/.ssh/authorized_keys", 0600, 'k');
	add(f->tgt, "/root", DD_TYPE_DIR, 0755)->e.flags |= DD_ENTRY_UNREADABLE;
	add(f->img, "/root", DD_TYPE_DIR, 0755);
	run(f, false, false);
	assert_int_equal(change(f, "/root")->kind, DD_CHANGE_UNREADABLE);
	assert_null(change(f, "/root/.ssh"));
	assert_null(change(f, "/root/.ssh/authorized_keys"));
}

/* Overlay upper dir: whiteouts delete subtrees, opaque dirs hide lower children. */
static void test_upper(void **state)
{
	struct fx *f = *state;
	struct dd__node *n;

	file(f->img, "/etc/a", 0644, 'a');
	file(f->img, "/opt/x/1", 0644, '1');
	file(f->img, "/opt/x/2", 0644, '2');
	file(f->img, "/srv/keep", 0644, 'k');
	file(f->img, "/srv/old", 0644, 'o');
	file(f->img, "/untouched", 0644, 'u');
	n = add(f->tgt, "/opt/x", DD_TYPE_CHAR, 0);
	n->e.flags |= DD_ENTRY_WHITEOUT;
	add(f->tgt, "/srv", DD_TYPE_DIR, 0755)->e.flags |= DD_ENTRY_OPAQUE;
	add(f->img, "/srv", DD_TYPE_DIR, 0755);
	file(f->tgt, "/srv/keep", 0644, 'K');
	file(f->tgt, "/etc/a", 0644, 'b');
	run(f, true, false);
	assert_int_equal(change(f, "/opt/x")->kind, DD_CHANGE_DELETED);
	assert_int_equal(change(f, "/opt/x/1")->kind, DD_CHANGE_DELETED);
	assert_int_equal(change(f, "/opt/x/2")->kind, DD_CHANGE_DELETED);
	assert_int_equal(change(f, "/srv/old")->kind, DD_CHANGE_DELETED);
	assert_int_equal(change(f, "/srv/keep")->kind, DD_CHANGE_MODIFIED);
	assert_int_equal(change(f, "/etc/a")->attrs, DD_ATTR_CONTENT);
	/* Not in the upper dir: unchanged, whatever the image holds. */
	assert_null(change(f, "/untouched"));
	/* Path order, as from a merge walk. */
	for (size_t i = 1; i < dd_diff_count(f->d); i++) {
		const struct dd_change *p = dd_diff_change(f->d, i - 1), *q = dd_diff_change(f->d, i);

		assert_true(dd_path_compare(p->path, p->path_len, q->path, q->path_len) < 0);
	}
}

/* Capabilities are compared; SELinux labels and overlay xattrs are not. */
static void test_xattrs(void **state)
{
	struct fx *f = *state;
	static const struct dd_xattr selinux = { "security.selinux", (const unsigned char *)"x", 1 };
	static const struct dd_xattr cap = { "security.capability",
					     (const unsigned char *)"\1\0\0\2\0\x20\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 20 };
	struct dd__node *n;

	file(f->img, "/a", 0644, 'a');
	n = file(f->tgt, "/a", 0644, 'a');
	set_xattr(f->tgt, n, &selinux);
	file(f->img, "/b", 0755, 'b');
	n = file(f->tgt, "/b", 0755, 'b');
	set_xattr(f->tgt, n, &cap);
	run(f, false, false);
	assert_null(change(f, "/a"));
	assert_int_equal(change(f, "/b")->attrs, DD_ATTR_XATTRS | DD_ATTR_CAPS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_added_deleted_modified, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attribute_bits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_type_change_and_exec, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dir_mtime, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upper, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xattrs, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
