/*
 * Unit tests for lib/cache.c: an image read back from the manifest cache
 * is the tree its layers make; the part an upper dir needs holds every
 * entry an upper-dir comparison looks at, and the comparison made with it
 * equals the one made with the whole tree; a damaged entry is a miss.
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

#include "lib/tree.h"
#include "oci_builder.h"

struct fx {
	struct dd_ctx *ctx;
	struct ob_layer *layers[2];
	char *dir;           /* the layout */
	char cache[64];      /* the cache directory */
	struct dd_image *first, *second;
	struct dd_tree *upper;
	struct dd_diff *whole, *part;
};

#define FILE_S(l, path, s) ob_file((l), (path), (s), strlen(s))
#define BIG (3u << 20)

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct ob_layer *l0, *l1;
	char *big;
	size_t i;

	if (!f || dd_ctx_new(&f->ctx))
		return -1;
	l0 = f->layers[0] = ob_layer_new();
	l1 = f->layers[1] = ob_layer_new();
	FILE_S(l0, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
	FILE_S(l0, "etc/group", "root:x:0:\n");
	FILE_S(l0, "etc/hostname", "box\n");
	FILE_S(l0, "var/lib/dpkg/status", "Package: foo\nStatus: install ok installed\nVersion: 1.0\n\n");
	FILE_S(l0, "var/lib/dpkg/info/foo.list", "/usr/bin/a\n");
	FILE_S(l0, "usr/bin/a", "\177ELF a");
	FILE_S(l0, "usr/bin/b", "\177ELF b");
	ob_hardlink(l0, "usr/bin/c", "usr/bin/a");
	ob_symlink(l0, "usr/bin/sh", "a");
	FILE_S(l0, "usr/lib/x/1", "1");
	FILE_S(l0, "usr/lib/x/2/3", "3");
	FILE_S(l0, "usr/lib/xy", "not below usr/lib/x");
	FILE_S(l0, "opt/d/e", "e");
	FILE_S(l0, "opt/d/f/g", "g");
	ob_dir(l0, "srv/data", 0700);
	FILE_S(l0, "srv/data/keep", "k");
	FILE_S(l0, "usr/lib/python3/dist-packages/bar-2.0.dist-info/METADATA",
	       "Metadata-Version: 2.1\nName: bar\nVersion: 2.0\n");
	ob_dir(l0, "zz", 0700); /* last in path order, and a short entry */
	FILE_S(l1, "usr/bin/b", "\177ELF b2"); /* a second layer, so layers are tracked */
	/* A kept content larger than the reading window and the writing buffer (1 MiB). */
	big = malloc(BIG);
	if (!big)
		return -1;
	for (i = 0; i < BIG; i++)
		big[i] = (char)('a' + i % 26);
	ob_file(l1, "var/lib/dpkg/info/big.list", big, BIG);
	free(big);
	f->dir = ob_write_layout(f->layers, 2, NULL);
	snprintf(f->cache, sizeof(f->cache), "/tmp/dd-cache-test-XXXXXX");
	if (!mkdtemp(f->cache))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	dd_diff_free(f->whole);
	dd_diff_free(f->part);
	dd_tree_free(f->upper);
	dd_image_free(f->first);
	dd_image_free(f->second);
	ob_layer_free(f->layers[0]);
	ob_layer_free(f->layers[1]);
	ob_rmtree(f->dir);
	ob_rmtree(f->cache);
	free(f->dir);
	dd_ctx_free(f->ctx);
	free(f);
	return 0;
}

static struct dd_image *open_image(struct fx *f, bool cached)
{
	struct dd_image_options o = DD_IMAGE_OPTIONS_INIT;
	struct dd_image *img = NULL;

	o.cache_dir = cached ? f->cache : NULL;
	if (dd_image_open(&img, f->ctx, f->dir, &o))
		fail_msg("dd_image_open: %s", dd_ctx_error(f->ctx));
	return img;
}

/* The cache file's path. */
static void entry_file(struct fx *f, char *out, size_t size)
{
	char cmd[128];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ls %s/*.tree", f->cache);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(out, (int)size, p));
	out[strcspn(out, "\n")] = '\0';
	pclose(p);
}

static void same_entry(const struct dd_entry *a, const struct dd_entry *b)
{
	assert_string_equal(a->path, b->path);
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->mode, b->mode);
	assert_int_equal(a->uid, b->uid);
	assert_int_equal(a->size, b->size);
	assert_int_equal(a->layer, b->layer);
	assert_int_equal(a->ino, b->ino);
	assert_int_equal(a->has_sha256, b->has_sha256);
	assert_memory_equal(a->sha256, b->sha256, 32);
	assert_int_equal(a->target_len, b->target_len);
	assert_int_equal(a->extra->content_len, b->extra->content_len);
	if (a->extra->content_len)
		assert_memory_equal(a->extra->content, b->extra->content, a->extra->content_len);
}

/* A whole tree read back from the cache is the tree the layers made. */
static void test_round_trip(void **state)
{
	struct fx *f = *state;
	const struct dd_tree *built, *cached;
	size_t i;

	f->first = open_image(f, true);
	assert_false(dd_image_cached(f->first));
	assert_int_equal(dd_image_tree(&built, f->first), 0);
	assert_false(dd_image_from_cache(f->first));
	f->second = open_image(f, true);
	assert_true(dd_image_cached(f->second));
	assert_int_equal(dd_image_tree(&cached, f->second), 0);
	assert_true(dd_image_from_cache(f->second));
	assert_int_equal(dd_tree_count(cached), dd_tree_count(built));
	for (i = 0; i < dd_tree_count(built); i++)
		same_entry(dd_tree_entry(cached, i), dd_tree_entry(built, i));
	/* Hard links are settled again from the inode numbers. */
	assert_non_null(dd_tree_find(cached, "/usr/bin/c", 10)->extra->hardlink);
	assert_string_equal(dd_tree_find(cached, "/usr/bin/c", 10)->extra->hardlink, "/usr/bin/a");
	assert_int_equal(dd_tree_find(cached, "/var/lib/dpkg/info/big.list", 27)->extra->content_len,
			 BIG);

	/* The same without dd_image_cached(): the entry is read in windows. */
	dd_image_free(f->second);
	f->second = open_image(f, true);
	assert_int_equal(dd_image_tree(&cached, f->second), 0);
	assert_true(dd_image_from_cache(f->second));
	assert_int_equal(dd_image_warning_count(f->second), 0);
	assert_int_equal(dd_tree_count(cached), dd_tree_count(built));
	for (i = 0; i < dd_tree_count(built); i++)
		same_entry(dd_tree_entry(cached, i), dd_tree_entry(built, i));
}

static struct dd__node *up(struct dd_tree *t, const char *path, enum dd_type type, uint32_t flags)
{
	struct dd__node *parent, *n = NULL;
	size_t len = strlen(path);

	assert_int_equal(dd__tree_mkparents(t, &parent, path, len, -1, NULL), 0);
	assert_int_equal(dd__tree_put(t, &n, parent, path, len, type, -1), 0);
	n->e.mode = type == DD_TYPE_DIR ? 0755 : 0644;
	n->e.flags = flags;
	if (type == DD_TYPE_FILE) {
		n->e.has_sha256 = true;
		memset(n->e.sha256, 'u', 32);
		n->e.size = 3;
	}
	return n;
}

static void change_list(const struct dd_diff *d, struct dd__buf *out)
{
	size_t i;

	for (i = 0; i < dd_diff_count(d); i++) {
		const struct dd_change *c = dd_diff_change(d, i);

		assert_int_equal(dd__buf_printf(out, "%d %x %s\n", (int)c->kind, (unsigned)c->attrs, c->path), 0);
	}
}

/*
 * The part an upper dir needs: its paths, what is below its whiteouts,
 * opaque directories and files over directories, the parsed files; and
 * the comparison equals the one with the whole tree.
 */
static void test_upper_part(void **state)
{
	struct fx *f = *state;
	const struct dd_tree *whole, *part;
	struct dd__buf a = DD__BUF_INIT, b = DD__BUF_INIT;
	static const char *const needed[] = {
		"/", "/usr", "/usr/bin", "/usr/bin/a", "/usr/lib", "/usr/lib/x", "/usr/lib/x/1",
		"/usr/lib/x/2", "/usr/lib/x/2/3", "/opt", "/opt/d", "/opt/d/e", "/opt/d/f", "/opt/d/f/g",
		"/srv", "/srv/data", "/srv/data/keep", "/etc", "/etc/passwd", "/etc/group",
		"/var/lib/dpkg/status", "/var/lib/dpkg/info/foo.list",
		"/usr/lib/python3/dist-packages/bar-2.0.dist-info/METADATA", "/zz",
	};
	size_t i;

	f->first = open_image(f, true);
	assert_int_equal(dd_image_tree(&whole, f->first), 0);
	assert_int_equal(dd__tree_new(&f->upper, f->ctx), 0);
	up(f->upper, "/usr/bin/a", DD_TYPE_FILE, 0);            /* modified */
	up(f->upper, "/usr/lib/x", DD_TYPE_CHAR, DD_ENTRY_WHITEOUT); /* deleted with its subtree */
	up(f->upper, "/opt/d", DD_TYPE_DIR, DD_ENTRY_OPAQUE);    /* lower children hidden */
	up(f->upper, "/opt/d/new", DD_TYPE_FILE, 0);
	up(f->upper, "/srv/data", DD_TYPE_FILE, 0);               /* a file over a directory */
	up(f->upper, "/etc/passwd", DD_TYPE_FILE, 0);
	up(f->upper, "/tmp/dropped", DD_TYPE_FILE, 0);            /* added, parent absent too */
	up(f->upper, "/zz", DD_TYPE_DIR, 0);                       /* the last entry: mode changed */
	assert_int_equal(dd__tree_finalize(f->upper), 0);

	f->second = open_image(f, true);
	assert_true(dd_image_cached(f->second));
	assert_int_equal(dd_image_tree_for_upper(&part, f->second, f->upper), 0);
	assert_true(dd_image_from_cache(f->second));
	for (i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		const struct dd_entry *w = dd_tree_find(whole, needed[i], strlen(needed[i]));
		const struct dd_entry *p = dd_tree_find(part, needed[i], strlen(needed[i]));

		if (!p)
			fail_msg("%s is missing from the upper dir's part", needed[i]);
		same_entry(p, w);
	}
	/* What the upper dir does not touch is not read. */
	assert_null(dd_tree_find(part, "/usr/bin/b", 10));
	assert_null(dd_tree_find(part, "/usr/lib/xy", 11));
	assert_null(dd_tree_find(part, "/etc/hostname", 13));
	assert_true(dd_tree_count(part) < dd_tree_count(whole));

	assert_int_equal(dd_diff_upper(&f->whole, f->ctx, whole, f->upper, NULL), 0);
	assert_int_equal(dd_diff_upper(&f->part, f->ctx, part, f->upper, NULL), 0);
	change_list(f->whole, &a);
	change_list(f->part, &b);
	assert_non_null(strstr(a.data, " /usr/lib/x/2/3\n"));
	assert_non_null(strstr(a.data, " /srv/data/keep\n"));
	assert_non_null(strstr(a.data, "2 104 /zz\n")); /* modified: mode and mtime */
	assert_string_equal(b.data, a.data);
	/* The whole tree can still be had, from the cache. */
	assert_int_equal(dd_image_tree(&part, f->second), 0);
	assert_int_equal(dd_tree_count(part), dd_tree_count(whole));
	assert_true(dd_image_from_cache(f->second));
	dd__buf_free(&a);
	dd__buf_free(&b);
}

/* Flip some bits of the byte at AT in the file PATH. */
static void damage(const char *path, long at)
{
	FILE *fp = fopen(path, "r+b");
	int c;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, at, SEEK_SET), 0);
	c = fgetc(fp);
	assert_int_equal(fseek(fp, at, SEEK_SET), 0);
	fputc(0x5a ^ c, fp);
	fclose(fp);
}

/* A damaged entry is a miss: the layers are read and the entry rewritten. */
static void test_damaged(void **state)
{
	struct fx *f = *state;
	const struct dd_tree *t;
	char path[256];
	struct stat st;

	f->first = open_image(f, true);
	assert_int_equal(dd_image_tree(&t, f->first), 0);
	entry_file(f, path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	damage(path, st.st_size / 2);

	/* Read in windows, the damage is found at the end: no tree from it. */
	f->second = open_image(f, true);
	assert_int_equal(dd_image_tree(&t, f->second), 0);
	assert_false(dd_image_from_cache(f->second));
	assert_non_null(strstr(dd_image_warning(f->second, 0), "manifest cache"));
	dd_image_free(f->second);
	f->second = open_image(f, true);
	assert_true(dd_image_cached(f->second)); /* rewritten */
	dd_image_free(f->second);
	damage(path, st.st_size / 3);

	f->second = open_image(f, true);
	assert_false(dd_image_cached(f->second));
	assert_true(dd_image_warning_count(f->second) > 0);
	assert_non_null(strstr(dd_image_warning(f->second, 0), "manifest cache"));
	assert_int_equal(dd_image_tree(&t, f->second), 0);
	assert_false(dd_image_from_cache(f->second));
	assert_non_null(dd_tree_find(t, "/usr/bin/b", 10));
	dd_image_free(f->second);
	f->second = open_image(f, true);
	assert_true(dd_image_cached(f->second)); /* rewritten */

	/* A truncated entry too, by either reader. */
	assert_int_equal(truncate(path, st.st_size / 2), 0);
	dd_image_free(f->second);
	f->second = open_image(f, true);
	assert_int_equal(dd_image_tree(&t, f->second), 0);
	assert_false(dd_image_from_cache(f->second));
	assert_int_equal(truncate(path, 100), 0);
	dd_image_free(f->second);
	f->second = open_image(f, true);
	assert_false(dd_image_cached(f->second));
}

/* With no cache entry, the upper dir gets the whole tree. */
static void test_upper_without_cache(void **state)
{
	struct fx *f = *state;
	const struct dd_tree *t;

	f->first = open_image(f, false);
	assert_int_equal(dd__tree_new(&f->upper, f->ctx), 0);
	up(f->upper, "/usr/bin/a", DD_TYPE_FILE, 0);
	assert_int_equal(dd__tree_finalize(f->upper), 0);
	assert_false(dd_image_cached(f->first));
	assert_int_equal(dd_image_tree_for_upper(&t, f->first, f->upper), 0);
	assert_non_null(dd_tree_find(t, "/usr/bin/b", 10));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upper_part, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upper_without_cache, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
