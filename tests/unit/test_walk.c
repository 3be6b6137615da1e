/*
 * Unit tests for the heads lib/walk.c keeps of executables: text is cut to
 * what libmagic is shown, binary kept to head_bytes, and with a reference
 * tree only the executables that differ from it keep theirs. Deferred heads
 * are read again later only from the very file that was hashed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static struct dd_tree *walk_keyed(struct fx *f, const struct dd_tree *reference, unsigned jobs,
				bool defer, bool borrow, const unsigned char *key)
{
	struct dd_target_options o = DD_TARGET_OPTIONS_INIT;
	struct dd_tree *t = NULL;

	o.head_bytes = HEAD;
	o.jobs = jobs;
	o.reference = reference;
	o.defer_heads = defer;
	o.borrow_strings = borrow;
	o.fingerprint_key = key;
	assert_int_equal(dd_target_read_dir(&t, f->ctx, f->dir, &o), 0);
	return t;
}

static struct dd_tree *walk_full(struct fx *f, const struct dd_tree *reference, unsigned jobs,
			       bool defer, bool borrow)
{
	return walk_keyed(f, reference, jobs, defer, borrow, NULL);
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

/* ---- fingerprints settled against an image ---- */

/* A walk of F's directory with fingerprints under KEY, not settled. */
static struct dd_tree *walk_fp(struct fx *f, const unsigned char *key, unsigned jobs)
{
	return walk_keyed(f, NULL, jobs, true, false, key);
}

/* Every entry of T as a plain walk of the same directory has it. */
static void expect_as_hashed(struct fx *f, const struct dd_tree *t)
{
	struct dd_tree *plain = walk(f, NULL, 1);
	size_t i;

	assert_int_equal(dd_tree_count(t), dd_tree_count(plain));
	for (i = 0; i < dd_tree_count(t); i++) {
		const struct dd_entry *a = dd_tree_entry(t, i), *b = dd_tree_entry(plain, i);

		assert_string_equal(a->path, b->path);
		assert_int_equal(a->has_sha256, b->has_sha256);
		assert_memory_equal(a->sha256, b->sha256, 32);
		assert_int_equal(a->flags, b->flags);
		assert_int_equal(a->size, b->size);
		assert_int_equal(a->exec, b->exec);
	}
	dd_tree_free(plain);
}

/*
 * The image holds "script" and "elf" as the directory does, "data" with
 * other bytes of the same size, "same" one byte longer, and "gone"; the
 * directory has "only" besides.
 */
static char *image_beside(struct fx *f, struct dd_image **img, bool keyed, const unsigned char **key,
			  const struct dd_tree **tree)
{
	struct ob_layer *l = ob_layer_new();
	unsigned char script[3000], elf[6000];
	char *dir;

	memset(script, 'x', sizeof(script));
	memcpy(script, "#!/bin/sh\n", 10);
	memset(elf, 0, sizeof(elf));
	memcpy(elf, "\177ELF\2\1\1", 7);
	ob_file_attrs(l, "script", script, sizeof(script), 0755, 0, 0);
	ob_file_attrs(l, "same", script, sizeof(script), 0755, 0, 0);
	ob_file(l, "elf", elf, sizeof(elf));
	ob_hardlink(l, "elf2", "elf");
	ob_file(l, "data", "PLAIN\n", 6);
	ob_file(l, "gone", "gone", 4);
	dir = ob_write_layout(&l, 1, NULL);
	ob_layer_free(l);
	write_file(f->dir, "only", (const unsigned char *)"only", 4, 0644);
	write_file(f->dir, "elf2", elf, sizeof(elf), 0644);
	assert_int_equal(dd_image_open(img, f->ctx, dir, NULL), 0);
	if (keyed) {
		*key = dd_image_fingerprint_key(*img);
		assert_non_null(*key);
	}
	assert_int_equal(dd_image_tree(tree, *img), 0);
	/* Once the tree is read, no key is given out. */
	assert_null(dd_image_fingerprint_key(*img));
	return dir;
}

static void test_settled(void **state)
{
	struct fx *f = *state;
	struct dd_image *img = NULL, *other = NULL;
	const struct dd_tree *it = NULL, *ot = NULL;
	const unsigned char *key = NULL, *okey = NULL;
	char *dir = image_beside(f, &img, true, &key, &it), *odir;
	struct dd_tree *t = walk_fp(f, key, 2);
	char path[128];

	/* Before settling, files carry a fingerprint and no digest. */
	assert_false(find(t, "/script")->has_sha256);
	assert_true(find(t, "/script")->flags & DD__ENTRY_FINGERPRINT);
	assert_int_equal(dd_target_settle(t, it, 2), 0);
	/* The image's bytes took its digest; the rest were hashed: as a walk gives. */
	assert_memory_equal(find(t, "/script")->sha256, dd_tree_find(it, "/script", 7)->sha256, 32);
	expect_as_hashed(f, t);
	assert_int_equal(dd_target_settle(t, it, 2), 0); /* once only */
	dd_tree_free(t);

	/* No image, or one read without the key, or under another key: every file hashed. */
	t = walk_fp(f, key, 1);
	assert_int_equal(dd_target_settle(t, NULL, 1), 0);
	expect_as_hashed(f, t);
	dd_tree_free(t);
	odir = image_beside(f, &other, false, &okey, &ot);
	t = walk_fp(f, key, 2);
	assert_int_equal(dd_target_settle(t, ot, 2), 0);
	expect_as_hashed(f, t);
	dd_tree_free(t);
	dd_image_free(other);
	ob_rmtree(odir);
	free(odir);
	odir = image_beside(f, &other, true, &okey, &ot);
	t = walk_fp(f, key, 2);
	assert_int_equal(dd_target_settle(t, ot, 2), 0);
	expect_as_hashed(f, t);
	dd_tree_free(t);

	/* A file that is not the image's, replaced after the walk: flagged, not hashed. */
	t = walk_fp(f, key, 1);
	snprintf(path, sizeof(path), "%s/data", f->dir);
	assert_int_equal(unlink(path), 0);
	write_file(f->dir, "data", (const unsigned char *)"plain\n", 6, 0644);
	assert_int_equal(dd_target_settle(t, it, 1), 0);
	assert_false(find(t, "/data")->has_sha256);
	assert_int_equal(find(t, "/data")->flags, DD_ENTRY_UNREADABLE | DD_ENTRY_CHANGED);
	assert_true(warned(t, "/data: replaced after the walk read it"));
	assert_true(find(t, "/script")->has_sha256);
	dd_tree_free(t);

	/*
	 * One whose bytes were the image's is settled without being opened
	 * again, replaced or not: a hard link's fingerprint is its target's.
	 */
	t = walk_fp(f, key, 1);
	snprintf(path, sizeof(path), "%s/elf2", f->dir);
	{
		unsigned char elf[6000];

		memset(elf, 0, sizeof(elf));
		memcpy(elf, "\177ELF\2\1\1", 7);
		assert_int_equal(unlink(path), 0);
		write_file(f->dir, "elf2", elf, sizeof(elf), 0644);
	}
	assert_int_equal(dd_target_settle(t, it, 1), 0);
	assert_true(find(t, "/elf2")->has_sha256);
	assert_int_equal(find(t, "/elf2")->flags & DD_ENTRY_CHANGED, 0);
	dd_tree_free(t);

	dd_image_free(other);
	ob_rmtree(odir);
	free(odir);
	dd_image_free(img);
	ob_rmtree(dir);
	free(dir);
	snprintf(path, sizeof(path), "%s/only", f->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/elf2", f->dir);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_heads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reference, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deferred, setup, teardown),
		cmocka_unit_test_setup_teardown(test_borrowed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_settled, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
