/*
 * Unit tests for the heads lib/walk.c keeps of executables: text is cut to
 * what libmagic is shown, binary kept to head_bytes, and with a reference
 * tree only the executables that differ from it keep theirs. Deferred heads
 * are read again later only from the very file that was hashed. Deferred
 * contents (defer_hashes) come out as a full walk's, whether a layer's
 * bytes matched them or they were hashed after.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "driftdiff.h"
#include "lib/tree.h"
#include "oci_builder.h"

#define HEAD 4096

struct fx {
	struct dd_ctx *ctx;
	char dir[64];
};

static void write_file(const char *dir, const char *name, const unsigned char *p, size_t n,
		       mode_t mode)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	unsigned char script[3000], elf[6000];

	if (!f || dd_ctx_new(&f->ctx))
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/dd-walk-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	/* A long script: text, so only the first KiB is worth keeping. */
	memset(script, 'x', sizeof(script));
	memcpy(script, "#!/bin/sh\n", 10);
	write_file(f->dir, "script", script, sizeof(script), 0755);
	write_file(f->dir, "same", script, sizeof(script) - 1, 0755);
	/* An ELF: binary, kept to the head size. */
	memset(elf, 0, sizeof(elf));
	memcpy(elf, "\177ELF\2\1\1", 7);
	write_file(f->dir, "elf", elf, sizeof(elf), 0644);
	write_file(f->dir, "data", (const unsigned char *)"plain\n", 6, 0644);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	const char *names[] = { "script", "same", "elf", "data" };
	char path[128];
	size_t i;

	for (i = 0; i < DD_ARRAY_SIZE(names); i++) {
		snprintf(path, sizeof(path), "%s/%s", f->dir, names[i]);
		unlink(path);
	}
	rmdir(f->dir);
	dd_ctx_free(f->ctx);
	free(f);
	return 0;
}

static const struct dd_entry *find(const struct dd_tree *t, const char *path)
{
	const struct dd_entry *e = dd_tree_find(t, path, strlen(path));

	assert_non_null(e);
	return e;
}

static struct dd_tree *walk_full(struct fx *f, const struct dd_tree *reference, unsigned jobs,
			       bool defer, bool borrow)
{
	struct dd_target_options o = DD_TARGET_OPTIONS_INIT;
	struct dd_tree *t = NULL;

	o.head_bytes = HEAD;
	o.jobs = jobs;
	o.reference = reference;
	o.defer_heads = defer;
	o.borrow_strings = borrow;
	assert_int_equal(dd_target_read_dir(&t, f->ctx, f->dir, &o), 0);
	return t;
}

static struct dd_tree *walk_opts(struct fx *f, const struct dd_tree *reference, unsigned jobs,
			       bool defer)
{
	return walk_full(f, reference, jobs, defer, false);
}

static struct dd_tree *walk(struct fx *f, const struct dd_tree *reference, unsigned jobs)
{
	return walk_opts(f, reference, jobs, false);
}

static void test_heads(void **state)
{
	struct fx *f = *state;
	unsigned jobs;

	for (jobs = 1; jobs <= 2; jobs++) {
		struct dd_tree *t = walk(f, NULL, jobs);

		assert_int_equal(find(t, "/script")->extra->head_len, 1024);
		assert_memory_equal(find(t, "/script")->extra->head, "#!/bin/sh\nxxx", 13);
		assert_int_equal(find(t, "/elf")->extra->head_len, HEAD);
		assert_int_equal(find(t, "/elf")->exec, DD_EXEC_ELF);
		assert_null(find(t, "/data")->extra->head);
		dd_tree_free(t);
	}
}

static void test_reference(void **state)
{
	struct fx *f = *state;
	unsigned char script[3000];
	struct dd_tree *ref = walk(f, NULL, 1), *t;

	/* Change one executable: only it keeps its head. */
	memset(script, 'y', sizeof(script));
	memcpy(script, "#!/bin/sh\n", 10);
	write_file(f->dir, "script", script, sizeof(script), 0755);
	t = walk(f, ref, 2);
	assert_int_equal(find(t, "/script")->extra->head_len, 1024);
	assert_null(find(t, "/same")->extra->head);
	assert_null(find(t, "/elf")->extra->head);
	dd_tree_free(t);
	/* Executable now, not in the reference: the diff calls it new. */
	write_file(f->dir, "data", (const unsigned char *)"plain\n", 6, 0755);
	t = walk(f, ref, 1);
	assert_non_null(find(t, "/data")->extra->head);
	assert_null(find(t, "/same")->extra->head);
	dd_tree_free(t);
	dd_tree_free(ref);
}

static bool warned(const struct dd_tree *t, const char *what)
{
	size_t i;

	for (i = 0; i < dd_tree_warning_count(t); i++)
		if (strstr(dd_tree_warning(t, i), what))
			return true;
	return false;
}

static void test_deferred(void **state)
{
	struct fx *f = *state;
	unsigned char script[3000];
	char path[128], moved[128];
	struct dd_tree *t = walk_opts(f, NULL, 2, true);
	const struct dd_entry *e;

	/* Nothing kept while walking; read on demand, cut by the same rule. */
	assert_null(find(t, "/script")->extra->head);
	assert_null(find(t, "/elf")->extra->head);
	assert_int_equal(dd_target_load_head(t, find(t, "/script")), 0);
	assert_int_equal(find(t, "/script")->extra->head_len, 1024);
	assert_memory_equal(find(t, "/script")->extra->head, "#!/bin/sh\nxxx", 13);
	assert_int_equal(dd_target_load_head(t, find(t, "/elf")), 0);
	assert_int_equal(find(t, "/elf")->extra->head_len, HEAD);
	/* Not an executable: nothing to read. */
	assert_int_equal(dd_target_load_head(t, find(t, "/data")), 0);
	assert_null(find(t, "/data")->extra->head);
	/* Same size and inode, other bytes: the hash tells, and no head is given. */
	e = find(t, "/same");
	memset(script, 'y', sizeof(script));
	memcpy(script, "#!/bin/sh\n", 10);
	snprintf(path, sizeof(path), "%s/same", f->dir);
	FILE *w = fopen(path, "r+b");
	assert_non_null(w);
	assert_int_equal(fwrite(script, 1, sizeof(script) - 1, w), sizeof(script) - 1);
	assert_int_equal(fclose(w), 0);
	assert_int_equal(dd_target_load_head(t, e), 0);
	assert_null(e->extra->head);
	assert_true(warned(t, "/same: changed after it was hashed"));
	dd_tree_free(t);

	/* A file put in the hashed one's place is another inode. */
	t = walk_opts(f, NULL, 1, true);
	snprintf(path, sizeof(path), "%s/script", f->dir);
	snprintf(moved, sizeof(moved), "%s/script.new", f->dir);
	write_file(f->dir, "script.new", script, sizeof(script), 0755);
	assert_int_equal(rename(moved, path), 0);
	assert_int_equal(dd_target_load_head(t, find(t, "/script")), 0);
	assert_null(find(t, "/script")->extra->head);
	assert_true(warned(t, "/script: replaced after it was hashed"));
	/* A symlink in its place is never followed. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink("elf", path), 0);
	assert_int_equal(dd_target_load_head(t, find(t, "/script")), 0);
	assert_null(find(t, "/script")->extra->head);
	assert_true(warned(t, "/script: cannot open again"));
	dd_tree_free(t);

	/* Not deferred: the walk keeps the head itself, as before. */
	t = walk_opts(f, NULL, 1, false);
	e = find(t, "/elf");
	assert_non_null(e->extra->head);
	dd_tree_free(t);
}

/* The walk with contents left for later (defer_hashes). */
static struct dd_tree *walk_deferred_contents(struct fx *f)
{
	struct dd_target_options o = DD_TARGET_OPTIONS_INIT;
	struct dd_tree *t = NULL;

	o.head_bytes = HEAD;
	o.jobs = 1;
	o.defer_hashes = true;
	assert_int_equal(dd_target_read_dir(&t, f->ctx, f->dir, &o), 0);
	return t;
}

/* E and the full walk's entry for the same path agree on content, kind and xattrs. */
static void same_as(const struct dd_tree *full, const struct dd_entry *e)
{
	const struct dd_entry *w = find(full, e->path);

	assert_true(e->has_sha256);
	assert_memory_equal(e->sha256, w->sha256, 32);
	assert_int_equal(e->size, w->size);
	assert_int_equal(e->exec, w->exec);
	assert_int_equal(e->elf_machine, w->elf_machine);
	assert_int_equal(e->extra->nxattrs, w->extra->nxattrs);
}

/*
 * The rootfs's files compared with the image's as its layers stream: the
 * same bytes take the image file's digest (a later layer's when an earlier
 * one differed), the rest are hashed after; every file ends as a full
 * walk has it. A file replaced after the walk is never read as the file
 * it replaced.
 */
static void test_matching(void **state)
{
	struct fx *f = *state;
	unsigned char *big = malloc(600000), script[3000], elf[6000], other[3000];
	struct ob_layer *l[2] = { ob_layer_new(), ob_layer_new() };
	struct dd_tree *full, *t;
	struct dd_image *img = NULL;
	const struct dd_tree *it;
	char *layout, path[128], moved[160];
	uint32_t x = 5;
	bool xattrs;
	size_t i;

	assert_non_null(big);
	for (i = 0; i < 600000; i++) {
		x = x * 1103515245u + 12345u;
		big[i] = (unsigned char)(x >> 16);
	}
	write_file(f->dir, "big", big, 600000, 0644);
	write_file(f->dir, "differs", big, 5000, 0644);
	write_file(f->dir, "only", (const unsigned char *)"only\n", 5, 0644);
	snprintf(path, sizeof(path), "%s/elf", f->dir);
	xattrs = setxattr(path, "user.test", "v", 1, 0) == 0;
	full = walk(f, NULL, 1);

	/* The image: the same script in its second layer only; "differs" one byte off. */
	memset(script, 'x', sizeof(script));
	memcpy(script, "#!/bin/sh\n", 10);
	memcpy(other, script, sizeof(other));
	other[2000] = 'y';
	memset(elf, 0, sizeof(elf));
	memcpy(elf, "\177ELF\2\1\1", 7);
	ob_file(l[0], "script", other, sizeof(other));
	ob_file(l[0], "elf", elf, sizeof(elf));
	ob_file(l[0], "big", big, 600000);
	big[4999] ^= 1;
	ob_file(l[0], "differs", big, 5000);
	big[4999] ^= 1;
	ob_file(l[0], "data", "plain\n", 6);
	ob_file(l[1], "script", script, sizeof(script));
	ob_gzip(l[1]);
	layout = ob_write_layout(l, 2, NULL);
	assert_int_equal(dd_image_open(&img, f->ctx, layout, NULL), 0);

	t = walk_deferred_contents(f);
	assert_false(find(t, "/big")->has_sha256);
	assert_false(find(t, "/script")->has_sha256);
	assert_int_equal(dd_image_tree_matching(&it, img, t), 0);
	/* Matched: equal bytes, in whichever layer. */
	same_as(full, find(t, "/big"));
	same_as(full, find(t, "/elf"));
	same_as(full, find(t, "/data"));
	same_as(full, find(t, "/script"));
	assert_memory_equal(find(t, "/big")->sha256, find(it, "/big")->sha256, 32);
	/* Not matched: other bytes, or nothing in the image. */
	assert_false(find(t, "/differs")->has_sha256);
	assert_false(find(t, "/only")->has_sha256);
	assert_false(find(t, "/same")->has_sha256);
	assert_int_equal(dd_target_hash_deferred(t, 2), 0);
	for (i = 0; i < dd_tree_count(t); i++)
		if (dd_tree_entry(t, i)->type == DD_TYPE_FILE)
			same_as(full, dd_tree_entry(t, i));
	if (xattrs)
		assert_non_null(dd_entry_xattr(find(t, "/elf"), "user.test"));
	assert_int_equal(dd_tree_warning_count(t), 0);
	dd_tree_free(t);

	/* Replaced after the walk: not compared, not hashed, flagged. */
	t = walk_deferred_contents(f);
	snprintf(path, sizeof(path), "%s/data", f->dir);
	snprintf(moved, sizeof(moved), "%s/data.new", f->dir);
	write_file(f->dir, "data.new", (const unsigned char *)"plain\n", 6, 0644);
	assert_int_equal(rename(moved, path), 0);
	dd_image_free(img);
	assert_int_equal(dd_image_open(&img, f->ctx, layout, NULL), 0);
	assert_int_equal(dd_image_tree_matching(&it, img, t), 0);
	assert_false(find(t, "/data")->has_sha256);
	assert_int_equal(dd_target_hash_deferred(t, 1), 0);
	assert_false(find(t, "/data")->has_sha256);
	assert_true(find(t, "/data")->flags & DD_ENTRY_CHANGED);
	assert_true(warned(t, "/data: replaced after the walk saw it"));
	same_as(full, find(t, "/big"));
	dd_tree_free(t);

	dd_image_free(img);
	dd_tree_free(full);
	ob_rmtree(layout);
	free(layout);
	ob_layer_free(l[0]);
	ob_layer_free(l[1]);
	free(big);
	for (i = 0; i < 3; i++) {
		static const char *const names[] = { "big", "differs", "only" };

		snprintf(path, sizeof(path), "%s/%s", f->dir, names[i]);
		unlink(path);
	}
}

/* Borrowed strings are the reference's own, where they are the same. */
static void test_borrowed(void **state)
{
	struct fx *f = *state;
	char path[128];
	struct dd_tree *ref, *t;

	snprintf(path, sizeof(path), "%s/link", f->dir);
	assert_int_equal(symlink("elf", path), 0);
	ref = walk(f, NULL, 1);
	/* A path only the target has, and a link whose target moved. */
	write_file(f->dir, "only", (const unsigned char *)"x", 1, 0644);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink("script", path), 0);
	t = walk_full(f, ref, 2, false, true);
	assert_ptr_equal(find(t, "/script")->path, find(ref, "/script")->path);
	assert_ptr_equal(find(t, "/link")->path, find(ref, "/link")->path);
	assert_ptr_not_equal(find(t, "/link")->target, find(ref, "/link")->target);
	assert_string_equal(find(t, "/link")->target, "script");
	assert_string_equal(find(t, "/only")->path, "/only");
	assert_int_equal(dd_tree_count(t), dd_tree_count(ref) + 1);
	dd_tree_free(t);
	/* Same link target: borrowed too. */
	dd_tree_free(ref);
	ref = walk(f, NULL, 1);
	t = walk_full(f, ref, 1, false, true);
	assert_ptr_equal(find(t, "/link")->target, find(ref, "/link")->target);
	/* Without borrow_strings, copies. */
	dd_tree_free(t);
	t = walk_full(f, ref, 1, false, false);
	assert_ptr_not_equal(find(t, "/script")->path, find(ref, "/script")->path);
	dd_tree_free(t);
	dd_tree_free(ref);
	unlink(path);
	snprintf(path, sizeof(path), "%s/only", f->dir);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_heads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reference, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deferred, setup, teardown),
		cmocka_unit_test_setup_teardown(test_borrowed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_matching, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
