/*
 * Unit tests for lib/saved.c: dd_image_save() writes a manifest that
 * dd_image_open() reads back into the same tree, byte for byte, including
 * names and link targets that are not UTF-8; a truncated file is an error.
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
#include "lib/tree.h"
#include "oci_builder.h"

struct fx {
	struct dd_ctx *ctx;
	struct ob_layer *l0, *l1;
	char *dir;               /* the OCI layout */
	char tmp[32];            /* a scratch dir for saved files */
	char saved[64];
	struct dd_image *img, *back;
};

static const unsigned char cap[20] = {
	0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* An image with every kind of field the saved format must carry. */
static void build_layers(struct fx *f)
{
	f->l0 = ob_layer_new();
	f->l1 = ob_layer_new();
	ob_dir(f->l0, "etc/", 0755);
	ob_file_attrs(f->l0, "etc/passwd", "root:x:0:0::/root:/bin/sh\n", 26, 0644, 0, 0);
	ob_file_attrs(f->l0, "bin/ping", "ping", 4, 04755, 0, 0);
	ob_xattr(f->l0, "security.capability", cap, sizeof(cap));
	ob_xattr(f->l0, "user.bin", "\0\x01\xff\n\"", 5);
	ob_file(f->l0, "\xff\xfe", "bad name", 8);                /* not UTF-8 */
	ob_file(f->l0, "dir/caf\xc3\xa9", "ok name", 7);          /* UTF-8 */
	ob_file(f->l0, "dir/new\nline\t\"q\"", "ctl", 3);         /* JSON escapes */
	ob_symlink(f->l0, "badlink", "\xff\xfetarget/\x80");     /* target not UTF-8 */
	ob_symlink(f->l0, "goodlink", "/etc/passwd");
	/* Content that is an executable's, mode that is not: the diff needs to know. */
	ob_file_attrs(f->l0, "lib/x.o", "\x7f" "ELF\2\1\1\0\0\0\0\0\0\0\0\0\1\0\x3e\0", 20, 0644, 0, 0);
	ob_file_attrs(f->l0, "lib/run.sh", "#!/bin/sh\n", 10, 0644, 0, 0);
	ob_empty(f->l0, "empty");
	ob_file_attrs(f->l1, "home/user/.profile", "export A=1\n", 11, 0600, 1000, 1000);
	ob_hardlink(f->l1, "bin/ping6", "bin/ping");
	ob_empty(f->l1, "etc/.wh.passwd");
	ob_gzip(f->l1);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || dd_ctx_new(&f->ctx))
		return -1;
	strcpy(f->tmp, "/tmp/dd-unit-XXXXXX");
	if (!mkdtemp(f->tmp))
		return -1;
	snprintf(f->saved, sizeof(f->saved), "%s/image.ddm", f->tmp);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	dd_image_free(f->img);
	dd_image_free(f->back);
	ob_layer_free(f->l0);
	ob_layer_free(f->l1);
	if (f->dir) {
		ob_rmtree(f->dir);
		free(f->dir);
	}
	ob_rmtree(f->tmp);
	dd_ctx_free(f->ctx);
	free(f);
	return 0;
}

/* ---- helpers ---- */

/* Build the layout, open it and save it to f->saved. */
static void save_image(struct fx *f)
{
	struct ob_layer *layers[2];
	FILE *out;
	int rc;

	build_layers(f);
	layers[0] = f->l0;
	layers[1] = f->l1;
	f->dir = ob_write_layout(layers, 2, NULL);
	rc = dd_image_open(&f->img, f->ctx, f->dir, NULL);
	if (rc)
		fail_msg("dd_image_open: %s", dd_ctx_error(f->ctx));
	out = fopen(f->saved, "we");
	assert_non_null(out);
	rc = dd_image_save(f->img, out);
	if (rc)
		fail_msg("dd_image_save: %s", dd_ctx_error(f->ctx));
	assert_int_equal(fclose(out), 0);
}

static void expect_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
	assert_int_equal(alen, blen);
	if (alen)
		assert_memory_equal(a, b, alen);
	if (a || b) {
		assert_non_null(a);
		assert_non_null(b);
		assert_int_equal(a[alen], '\0');
	}
}

/* Every field of two entries is equal. */
static void expect_same_entry(const struct dd_entry *a, const struct dd_entry *b)
{
	const struct dd_entry_extra *ax = a->extra, *bx = b->extra;
	uint32_t i;

	expect_bytes(a->path, a->path_len, b->path, b->path_len);
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->mode, b->mode);
	assert_int_equal(a->uid, b->uid);
	assert_int_equal(a->gid, b->gid);
	assert_int_equal(a->size, b->size);
	assert_int_equal(a->mtime, b->mtime);
	assert_int_equal(a->mtime_nsec, b->mtime_nsec);
	assert_int_equal(ax->rdev_major, bx->rdev_major);
	assert_int_equal(ax->rdev_minor, bx->rdev_minor);
	assert_int_equal(a->has_sha256, b->has_sha256);
	assert_memory_equal(a->sha256, b->sha256, 32);
	assert_int_equal(a->exec, b->exec);
	assert_int_equal(a->elf_machine, b->elf_machine);
	expect_bytes(a->target, a->target_len, b->target, b->target_len);
	expect_bytes(ax->hardlink, ax->hardlink_len, bx->hardlink, bx->hardlink_len);
	assert_int_equal(a->layer, b->layer);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(ax->nxattrs, bx->nxattrs);
	for (i = 0; i < ax->nxattrs; i++) {
		assert_string_equal(ax->xattrs[i].name, bx->xattrs[i].name);
		assert_int_equal(ax->xattrs[i].len, bx->xattrs[i].len);
		assert_memory_equal(ax->xattrs[i].value, bx->xattrs[i].value, ax->xattrs[i].len);
	}
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *s;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	s = malloc((size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return s;
}

static void write_file(const char *path, const char *s, size_t len)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	assert_int_equal(fwrite(s, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Open the saved file and read its entries (they are read on demand): the first error, or 0. */
static int open_and_read(struct fx *f, struct dd_image **img)
{
	const struct dd_tree *t;
	int rc;

	*img = NULL;
	rc = dd_image_open(img, f->ctx, f->saved, NULL);
	if (rc)
		return rc;
	rc = dd_image_tree(&t, *img);
	if (rc) {
		dd_image_free(*img);
		*img = NULL;
	}
	return rc;
}

/* ---- tests ---- */

/* The original image has what the round trip is meant to prove. */
static void test_source_tree_as_expected(void **state)
{
	struct fx *f = *state;
	const struct dd_tree *t;
	const struct dd_entry *e;

	save_image(f);
	assert_int_equal(dd_image_tree(&t, f->img), 0);
	e = dd_tree_find(t, "/\xff\xfe", 3);
	assert_non_null(e);
	e = dd_tree_find(t, "/badlink", 8);
	assert_non_null(e);
	expect_bytes(e->target, e->target_len, "\xff\xfetarget/\x80", 10);
	assert_null(dd_tree_find(t, "/etc/passwd", 11));
	e = dd_tree_find(t, "/bin/ping6", 10);
	assert_non_null(e);
	assert_string_equal(e->extra->hardlink, "/bin/ping");
	assert_int_equal(e->extra->nxattrs, 2);
	e = dd_tree_find(t, "/lib/x.o", 8);
	assert_non_null(e);
	assert_int_equal(e->exec, DD_EXEC_ELF);
	assert_int_equal(e->elf_machine, 62);
	assert_int_equal(dd_tree_find(t, "/lib/run.sh", 11)->exec, DD_EXEC_SCRIPT);
}

/* save, then open the saved file: the same entries, every field equal. */
static void test_roundtrip_same_entries(void **state)
{
	struct fx *f = *state;
	const struct dd_tree *a, *b;
	size_t i;
	int rc;

	save_image(f);
	rc = dd_image_open(&f->back, f->ctx, f->saved, NULL);
	if (rc)
		fail_msg("reopen: %s", dd_ctx_error(f->ctx));
	assert_int_equal(dd_image_format(f->back), DD_IMAGE_SAVED_MANIFEST);
	assert_int_equal(dd_image_tree(&a, f->img), 0);
	assert_int_equal(dd_image_tree(&b, f->back), 0);
	assert_int_equal(dd_tree_count(b), dd_tree_count(a));
	for (i = 0; i < dd_tree_count(a); i++)
		expect_same_entry(dd_tree_entry(a, i), dd_tree_entry(b, i));
	/* Lookups work on the reloaded tree, also for the non-UTF-8 name. */
	assert_non_null(dd_tree_find(b, "/\xff\xfe", 3));
	assert_non_null(dd_tree_find(b, "/dir/new\nline\t\"q\"", 17));
}

/* Names and targets that are not UTF-8 are carried exactly, in base64. */
static void test_saved_uses_byte_fields(void **state)
{
	struct fx *f = *state;
	char *s;
	size_t n;

	save_image(f);
	s = read_file(f->saved, &n);
	assert_non_null(strstr(s, "\"path_bytes\":\"L//+\""));      /* "/\xff\xfe" */
	assert_non_null(strstr(s, "\"target_bytes\":\""));
	/* Valid UTF-8 needs no byte form. */
	assert_non_null(strstr(s, "\"path\":\"/dir/caf\xc3\xa9\""));
	free(s);
}

/* The header carries the image's identity and layers. */
static void test_roundtrip_header(void **state)
{
	struct fx *f = *state;
	size_t i;

	save_image(f);
	assert_int_equal(dd_image_open(&f->back, f->ctx, f->saved, NULL), 0);
	assert_string_equal(dd_image_manifest_digest(f->back), dd_image_manifest_digest(f->img));
	assert_string_equal(dd_image_config_digest(f->back), dd_image_config_digest(f->img));
	assert_string_equal(dd_image_platform(f->back), "linux/amd64");
	assert_string_equal(dd_image_ref(f->back), "test");
	assert_int_equal(dd_image_layer_count(f->back), 2);
	for (i = 0; i < 2; i++) {
		const struct dd_layer_info *x = dd_image_layer(f->img, i);
		const struct dd_layer_info *y = dd_image_layer(f->back, i);

		assert_string_equal(y->digest, x->digest);
		assert_string_equal(y->diff_id, x->diff_id);
		assert_string_equal(y->media_type, x->media_type);
		assert_int_equal(y->size, x->size);
		assert_int_equal(y->compression, x->compression);
		assert_int_equal(y->uncompressed_size, x->uncompressed_size);
		assert_int_equal(y->verified, DD_VERIFY_OK);
	}
	assert_int_equal(dd_image_history_count(f->back), 2);
	assert_string_equal(dd_image_history(f->back, 1)->created_by, "layer 1");
}

/* Saving the reloaded image gives the same entry lines (a fixed point). */
static void test_resave_identical_entries(void **state)
{
	struct fx *f = *state;
	char second[80];
	char *s1, *s2, *e1, *e2;
	size_t n1, n2;
	FILE *out;

	save_image(f);
	assert_int_equal(dd_image_open(&f->back, f->ctx, f->saved, NULL), 0);
	snprintf(second, sizeof(second), "%s/again.ddm", f->tmp);
	out = fopen(second, "we");
	assert_non_null(out);
	assert_int_equal(dd_image_save(f->back, out), 0);
	assert_int_equal(fclose(out), 0);
	s1 = read_file(f->saved, &n1);
	s2 = read_file(second, &n2);
	/* The headers differ ("source"); everything after the first line must not. */
	e1 = strchr(s1, '\n');
	e2 = strchr(s2, '\n');
	assert_non_null(e1);
	assert_non_null(e2);
	assert_string_equal(e2, e1);
	free(s1);
	free(s2);
}

/* The header states the entry count: a file missing its last line is refused. */
static void test_truncated_file(void **state)
{
	struct fx *f = *state;
	struct dd_image *img = (struct dd_image *)1;
	char *s;
	size_t n;

	save_image(f);
	s = read_file(f->saved, &n);
	assert_true(n > 2 && s[n - 1] == '\n');
	n--;
	while (n > 0 && s[n - 1] != '\n')
		n--;
	write_file(f->saved, s, n);
	free(s);
	assert_int_equal(open_and_read(f, &img), DD_EFORMAT);
	assert_null(img);
	assert_non_null(strstr(dd_ctx_error(f->ctx), f->saved));
	assert_non_null(strstr(dd_ctx_error(f->ctx), "truncated"));
}

/* A line cut in the middle is malformed JSON, also an error. */
static void test_cut_mid_line(void **state)
{
	struct fx *f = *state;
	struct dd_image *img = (struct dd_image *)1;
	char *s;
	size_t n;

	save_image(f);
	s = read_file(f->saved, &n);
	write_file(f->saved, s, n - 10);
	free(s);
	assert_int_equal(open_and_read(f, &img), DD_EFORMAT);
	assert_null(img);
}

/* An extra entry line beyond the header's count is refused too. */
static void test_extra_line(void **state)
{
	struct fx *f = *state;
	struct dd_image *img = (struct dd_image *)1;
	static const char extra[] =
		"{\"path\":\"/zzz\",\"type\":\"file\",\"mode\":420,\"uid\":0,\"gid\":0,"
		"\"size\":0,\"mtime\":0,\"layer\":0}\n";
	char *s, *t;
	size_t n;

	save_image(f);
	s = read_file(f->saved, &n);
	t = malloc(n + sizeof(extra));
	assert_non_null(t);
	memcpy(t, s, n);
	memcpy(t + n, extra, sizeof(extra) - 1);
	write_file(f->saved, t, n + sizeof(extra) - 1);
	free(s);
	free(t);
	assert_int_equal(open_and_read(f, &img), DD_EFORMAT);
	assert_null(img);
}

/* A saved manifest of the entry lines LINES (NULL-terminated), opened; its error or 0. */
static int open_lines(struct fx *f, const char *const *lines, struct dd_image **img)
{
	char buf[4096];
	size_t n, i, count = 0;

	for (i = 0; lines[i]; i++)
		count++;
	n = (size_t)snprintf(buf, sizeof(buf), "{\"driftdiff_manifest\":1,\"entries\":%zu}\n", count);
	for (i = 0; lines[i]; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
				      "{\"path\":\"%s\",\"mode\":420,\"uid\":0,\"gid\":0,"
				      "\"size\":0,\"mtime\":0,\"layer\":0}\n", lines[i]);
	assert_true(n < sizeof(buf));
	write_file(f->saved, buf, n);
	return open_and_read(f, img);
}

#define DIR_(p) p "\",\"type\":\"dir"
#define FILE_(p) p "\",\"type\":\"file"

/* Entries come in path order; missing parents are made, implicit. */
static void test_parents_made(void **state)
{
	struct fx *f = *state;
	const char *const lines[] = { DIR_("/"), FILE_("/a/b/c"), FILE_("/a/b/d"), FILE_("/a-x"), NULL };
	const struct dd_tree *t;
	const struct dd_entry *e;
	struct dd_image *img;

	assert_int_equal(open_lines(f, lines, &img), 0);
	assert_int_equal(dd_image_tree(&t, img), 0);
	assert_int_equal(dd_tree_count(t), 6);
	e = dd_tree_find(t, "/a/b", 4);
	assert_non_null(e);
	assert_int_equal(e->type, DD_TYPE_DIR);
	assert_int_equal(e->mode, 0755);
	assert_true(e->flags & DD_ENTRY_IMPLICIT);
	assert_string_equal(dd_tree_entry(t, 4)->path, "/a/b/d");
	assert_string_equal(dd_tree_entry(t, 5)->path, "/a-x");
	dd_image_free(img);
}

/* Out of order, twice listed, or beneath a file: refused, with the line named. */
static void test_bad_order_refused(void **state)
{
	struct fx *f = *state;
	const char *const unsorted[] = { DIR_("/"), FILE_("/b"), FILE_("/a"), NULL };
	const char *const twice[] = { DIR_("/"), FILE_("/a"), FILE_("/a"), NULL };
	const char *const beneath[] = { DIR_("/"), FILE_("/a"), FILE_("/a/b"), NULL };
	const char *const deeper[] = { DIR_("/"), FILE_("/a"), FILE_("/a/b/c"), NULL };
	const char *const *cases[] = { unsorted, twice, beneath, deeper };
	struct dd_image *img;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(open_lines(f, cases[i], &img), DD_EFORMAT);
		assert_null(img);
		assert_non_null(strstr(dd_ctx_error(f->ctx), ":4: out of path order"));
	}
}

/* "exec" is "elf" or "script", and only on a regular file. */
static void test_bad_exec_refused(void **state)
{
	struct fx *f = *state;
	const char *const on_dir[] = { DIR_("/") "\",\"exec\":\"elf", NULL };
	const char *const unknown[] = { DIR_("/"), FILE_("/a") "\",\"exec\":\"pe", NULL };
	const char *const good[] = { DIR_("/"), FILE_("/a") "\",\"exec\":\"script", NULL };
	struct dd_image *img;
	const struct dd_tree *t;

	assert_int_equal(open_lines(f, on_dir, &img), DD_EFORMAT);
	assert_non_null(strstr(dd_ctx_error(f->ctx), ":2: invalid exec"));
	assert_int_equal(open_lines(f, unknown, &img), DD_EFORMAT);
	assert_non_null(strstr(dd_ctx_error(f->ctx), ":3: invalid exec"));
	assert_int_equal(open_lines(f, good, &img), 0);
	assert_int_equal(dd_image_tree(&t, img), 0);
	assert_int_equal(dd_tree_find(t, "/a", 2)->exec, DD_EXEC_SCRIPT);
	dd_image_free(img);
}

/* Owners are 32-bit IDs, as on Linux. */
static void test_owner_beyond_32_bits(void **state)
{
	struct fx *f = *state;
	static const char text[] =
		"{\"driftdiff_manifest\":1,\"entries\":2}\n"
		"{\"path\":\"/\",\"type\":\"dir\",\"mode\":493,\"uid\":0,\"gid\":0,\"size\":0,\"mtime\":0,\"layer\":0}\n"
		"{\"path\":\"/a\",\"type\":\"file\",\"mode\":420,\"uid\":4294967296,\"gid\":0,\"size\":0,\"mtime\":0,\"layer\":0}\n";
	struct dd_image *img = NULL;

	write_file(f->saved, text, sizeof(text) - 1);
	assert_int_equal(open_and_read(f, &img), DD_EFORMAT);
	assert_non_null(strstr(dd_ctx_error(f->ctx), ":3: invalid uid"));
}

/*
 * Lines as dd_image_save() writes them are read without json-c; anything
 * else goes through it. A space after the brace sends a line to json-c:
 * both readings must give the same entries, or the same error.
 */
static void test_quick_reader_agrees(void **state)
{
	struct fx *f = *state;
	static const char *const lines[] = {
		/* read quickly */
		"{\"path\":\"/a\",\"type\":\"file\",\"mode\":420,\"uid\":7,\"gid\":8,\"size\":5,\"mtime\":-3,\"mtime_nsec\":9,"
		"\"sha256\":\"" "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03" "\","
		"\"exec\":\"elf\",\"elf_machine\":62,\"layer\":2}",
		"{\"path\":\"/a\",\"type\":\"symlink\",\"mode\":511,\"uid\":0,\"gid\":0,\"size\":0,\"mtime\":0,"
		"\"target\":\"../b c\",\"layer\":0}",
		"{\"path\":\"/a\",\"type\":\"char\",\"mode\":0,\"uid\":0,\"gid\":0,\"size\":0,\"mtime\":0,"
		"\"rdev_major\":1,\"rdev_minor\":3,\"layer\":-1,\"implicit\":false}",
		"{\"path\":\"/a\",\"type\":\"dir\",\"mode\":493,\"uid\":0,\"gid\":0,\"size\":0,\"mtime\":0,\"layer\":0,"
		"\"implicit\":true,\"future_key\":1}",
		"{\"path\":\"/a\",\"type\":\"file\",\"mode\":420,\"uid\":4294967295,\"gid\":0,\"size\":999999999999999999,"
		"\"mtime\":0,\"layer\":0}",
		/* left to json-c: -0 is JSON, and json-c reads it as 0 */
		"{\"path\":\"/a\",\"type\":\"file\",\"mode\":-0,\"uid\":0,\"gid\":0,\"size\":0,\"mtime\":0,\"layer\":0}",
		/* refused, or left to json-c, by the quick reader: the same result either way */
		"{\"path\":\"/a\",\"type\":\"file\",\"mode\":0420,\"uid\":0,\"gid\":0,\"size\":0,\"mtime\":0,\"layer\":0}",
		"{\"path\":\"/a\",\"type\":\"file\",\"mode\":420,\"uid\":0,\"gid\":0,\"size\":1e3,\"mtime\":0,\"layer\":0}",
		"{\"path\":\"/a\",\"type\":\"file\",\"mode\":420,\"uid\":0,\"gid\":0,\"size\":9223372036854775807,\"mtime\":0}",
		"{\"path\":\"/a\",\"type\":\"file\",\"mode\":420,\"uid\":0,\"gid\":0,\"size\":0,\"mtime\":0,\"mode\":421}",
		"{\"path\":\"/a\",\"type\":\"file\",\"mode\":\"420\",\"uid\":0,\"gid\":0,\"size\":0,\"mtime\":0}",
		"{\"path\":\"/a\",\"type\":\"file\",\"mode\":420,\"uid\":0,\"gid\":0,\"size\":0,\"mtime\":0,\"sha256\":7}",
		"{\"path\":\"/a\",\"type\":\"file\",\"mode\":420,\"uid\":0,\"gid\":0,\"size\":0,\"mtime\":0,\"implicit\":1}",
		"{\"path\":\"/a\",\"type\":\"file\",\"mode\":420,\"uid\":0,\"gid\":0,\"size\":0,\"mtime\":0,\"exec\":null}",
		"{\"path\":\"/\\u0061\",\"type\":\"file\",\"mode\":420,\"uid\":0,\"gid\":0,\"size\":0,\"mtime\":0}",
		"{\"path\":\"/\xc3\xa9\",\"type\":\"file\",\"mode\":420,\"uid\":0,\"gid\":0,\"size\":0,\"mtime\":0}",
		"{\"path\":\"/\xc3\",\"type\":\"file\",\"mode\":420,\"uid\":0,\"gid\":0,\"size\":0,\"mtime\":0}",
		"{\"path\":\"/a\",\"type\":\"file\",\"mode\":420,\"uid\":0,\"gid\":0,\"size\":0,\"mtime\":0,}",
		"{\"path\":\"/a\",\"type\":\"file\",\"mode\":420,\"uid\":0,\"gid\":0,\"size\":0,\"mtime\":0}x",
		"{\"path\":\"/a\",\"type\":\"file\",\"mode\":420 ,\"uid\":0,\"gid\":0,\"size\":0,\"mtime\":0}",
		"{\"path\":\"/a\",\"type\":\"file\",\"mode\":420,\"uid\":0,\"gid\":0,\"size\":0,\"mtime\":tru}",
		"{\"path\":\"/a\",\"type\":\"file\",\"mode\":420,\"uid\":0,\"gid\":0,\"size\":0,\"mtime\":0,\"implicit\":truex}",
		"{\"path\":\"/a\",\"type\":\"file\",\"mode\":420,\"uid\":0,\"gid\":0,\"size\":0,\"mtime\":0,\"path\":\"/b\"}",
		"{\"path\":\"a\",\"type\":\"file\",\"mode\":420,\"uid\":0,\"gid\":0,\"size\":0,\"mtime\":0}",
		"{\"path\":\"/a\",\"type\":\"file\",\"mode\":420,\"uid\":0,\"gid\":0,\"size\":0,\"mtime\":0,\"sha256\":\"00\"}",
		"{}",
	};
	static const char head[] = "{\"driftdiff_manifest\":1,\"entries\":2}\n"
				   "{\"path\":\"/\",\"type\":\"dir\",\"mode\":493,\"uid\":0,\"gid\":0,\"size\":0,\"mtime\":0,\"layer\":0}\n";
	struct dd_image *quick, *slow;
	char buf[1024], err[512];
	size_t i, j, n;
	int rq, rs;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		n = (size_t)snprintf(buf, sizeof(buf), "%s%s\n", head, lines[i]);
		write_file(f->saved, buf, n);
		rq = open_and_read(f, &quick);
		snprintf(err, sizeof(err), "%s", dd_ctx_error(f->ctx));
		dd_ctx_clear_error(f->ctx);
		n = (size_t)snprintf(buf, sizeof(buf), "%s{ %s\n", head, lines[i] + 1);
		write_file(f->saved, buf, n);
		rs = open_and_read(f, &slow);
		assert_int_equal(rq, rs);
		assert_string_equal(err, dd_ctx_error(f->ctx));
		if (rq == 0) {
			const struct dd_tree *a, *b;

			assert_int_equal(dd_image_tree(&a, quick), 0);
			assert_int_equal(dd_image_tree(&b, slow), 0);
			assert_int_equal(dd_tree_count(a), dd_tree_count(b));
			for (j = 0; j < dd_tree_count(a); j++)
				expect_same_entry(dd_tree_entry(a, j), dd_tree_entry(b, j));
		}
		if (i < 6) /* the first six are good */
			assert_int_equal(rq, 0);
		dd_image_free(quick);
		dd_image_free(slow);
		dd_ctx_clear_error(f->ctx);
	}
}

/* An entry of the upper tree T. */
static struct dd_entry *upper_add(struct dd_tree *t, const char *path, enum dd_type type, uint32_t flags)
{
	struct dd_entry *e;

	assert_int_equal(dd__tree_append(t, &e, path, strlen(path), type, -1), 0);
	e->flags |= flags;
	return e;
}

/*
 * With an upper dir, only what it needs is read: its paths, all below an
 * opaque directory or a whiteout, what classification parses, hard-link
 * leads, and the parents of these with their own attributes.
 */
static void test_upper_part(void **state)
{
	struct fx *f = *state;
#define D(p) "{\"path\":\"" p "\",\"type\":\"dir\",\"mode\":448,\"uid\":0,\"gid\":0,\"size\":0,\"mtime\":0,\"layer\":0}\n"
#define F(p, more) "{\"path\":\"" p "\",\"type\":\"file\",\"mode\":420,\"uid\":0,\"gid\":0,\"size\":0,\"mtime\":0" more ",\"layer\":0}\n"
	static const char text[] =
		"{\"driftdiff_manifest\":1,\"entries\":16}\n"
		D("/") D("/a") F("/a/x", "") F("/a/y", "") D("/b") D("/b/c") F("/b/c/d", "")
		D("/etc") F("/etc/passwd", "") F("/h1", "") F("/h2", ",\"hardlink\":\"/h1\"")
		D("/w") D("/w/deep") F("/w/deep/f", "") D("/z") F("/z/q", "");
#undef D
#undef F
	static const char *const want[] = {
		"/", "/a", "/a/x", "/a/y", "/b", "/b/c", "/etc", "/etc/passwd", "/h1", "/h2",
		"/w", "/w/deep", "/w/deep/f",
	};
	struct dd_tree *upper;
	const struct dd_tree *t, *whole;
	struct dd_image *img;
	size_t i;

	write_file(f->saved, text, sizeof(text) - 1);
	assert_int_equal(dd__tree_new(&upper, f->ctx), 0);
	upper_add(upper, "/a", DD_TYPE_DIR, DD_ENTRY_OPAQUE);
	upper_add(upper, "/b", DD_TYPE_DIR, 0);
	upper_add(upper, "/b/c", DD_TYPE_DIR, 0);
	upper_add(upper, "/b/c/new", DD_TYPE_FILE, 0);
	upper_add(upper, "/h2", DD_TYPE_FILE, 0);
	upper_add(upper, "/w", DD_TYPE_CHAR, DD_ENTRY_WHITEOUT);
	assert_int_equal(dd__tree_finalize_appended(upper), 0);

	assert_int_equal(dd_image_open(&img, f->ctx, f->saved, NULL), 0);
	assert_int_equal(dd_image_tree_for_upper(&t, img, upper), 0);
	for (i = 0; i < dd_tree_count(t) && i < DD_ARRAY_SIZE(want); i++)
		assert_string_equal(dd_tree_entry(t, i)->path, want[i]);
	assert_int_equal(dd_tree_count(t), DD_ARRAY_SIZE(want));
	/* A parent read because a child was wanted has its own line's attributes. */
	assert_int_equal(dd_tree_find(t, "/etc", 4)->mode, 0700);
	assert_false(dd_tree_find(t, "/etc", 4)->flags & DD_ENTRY_IMPLICIT);
	assert_string_equal(dd_tree_find(t, "/h2", 3)->extra->hardlink, "/h1");
	/* The whole tree is still there to be read, from the same file. */
	assert_int_equal(dd_image_tree(&whole, img), 0);
	assert_int_equal(dd_tree_count(whole), 16);
	dd_image_free(img);

	/* Order is checked on every line, wanted or not. */
	{
		static const char bad[] =
			"{\"driftdiff_manifest\":1,\"entries\":3}\n"
			"{\"path\":\"/\",\"type\":\"dir\",\"mode\":493,\"uid\":0,\"gid\":0,\"size\":0,\"mtime\":0,\"layer\":0}\n"
			"{\"path\":\"/q\",\"type\":\"file\",\"mode\":420,\"uid\":0,\"gid\":0,\"size\":0,\"mtime\":0,\"layer\":0}\n"
			"{\"path\":\"/p\",\"type\":\"file\",\"mode\":420,\"uid\":0,\"gid\":0,\"size\":0,\"mtime\":0,\"layer\":0}\n";

		write_file(f->saved, bad, sizeof(bad) - 1);
		assert_int_equal(dd_image_open(&img, f->ctx, f->saved, NULL), 0);
		assert_int_equal(dd_image_tree_for_upper(&t, img, upper), DD_EFORMAT);
		assert_non_null(strstr(dd_ctx_error(f->ctx), ":4: out of path order"));
		dd_image_free(img);
	}
	dd_tree_free(upper);
}

/* The line limit holds in the upper dir's pass over the lines as in the whole read. */
static void test_upper_line_too_long(void **state)
{
	struct fx *f = *state;
	struct dd_limits lim = DD_LIMITS_INIT;
	char text[512];
	struct dd_tree *upper;
	const struct dd_tree *t;
	struct dd_image *img;
	int n;

	n = snprintf(text, sizeof(text),
		     "{\"driftdiff_manifest\":1,\"entries\":2}\n"
		     "{\"path\":\"/\",\"type\":\"dir\",\"mode\":493,\"uid\":0,\"gid\":0,\"size\":0,\"mtime\":0,\"layer\":0}\n"
		     "{\"path\":\"/%0200d\",\"type\":\"file\",\"mode\":420,\"uid\":0,\"gid\":0,\"size\":0,\"mtime\":0,\"layer\":0}\n",
		     0);
	assert_true(n > 0 && (size_t)n < sizeof(text));
	write_file(f->saved, text, (size_t)n);
	lim.max_json = 150;
	assert_int_equal(dd_ctx_set_limits(f->ctx, &lim), 0);
	assert_int_equal(dd__tree_new(&upper, f->ctx), 0);
	upper_add(upper, "/x", DD_TYPE_FILE, 0);
	assert_int_equal(dd__tree_finalize_appended(upper), 0);
	assert_int_equal(dd_image_open(&img, f->ctx, f->saved, NULL), 0);
	assert_int_equal(dd_image_tree_for_upper(&t, img, upper), DD_ELIMIT);
	assert_non_null(strstr(dd_ctx_error(f->ctx), f->saved));
	assert_non_null(strstr(dd_ctx_error(f->ctx), ":3: line too long"));
	dd_image_free(img);
	dd_tree_free(upper);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_source_tree_as_expected),
		T(test_roundtrip_same_entries),
		T(test_saved_uses_byte_fields),
		T(test_roundtrip_header),
		T(test_resave_identical_entries),
		T(test_truncated_file),
		T(test_cut_mid_line),
		T(test_extra_line),
		T(test_parents_made),
		T(test_bad_order_refused),
		T(test_bad_exec_refused),
		T(test_owner_beyond_32_bits),
		T(test_quick_reader_agrees),
		T(test_upper_part),
		T(test_upper_line_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
