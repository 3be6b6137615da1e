/*
 * The tar readers, fed attacker bytes three ways:
 *  1. as a flat root filesystem tar (docker export): dd_target_read_tar();
 *  2. as the only layer of an OCI layout whose digests are computed from
 *     the input, so verification passes and the whiteout and layer code
 *     runs to the end: dd_image_open() + dd_image_tree();
 *  3. as an image archive (oci-archive or docker save): dd_image_open().
 * Invariants: no crash, leak or sanitizer report; a tree that comes back
 * has absolute, normalised, sorted paths.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/private.h"
#include "fuzz_common.h"

static char *layout;

static void cleanup(void)
{
	fz_rmtree(layout, true);
	free(layout);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	layout = fz_mkdtemp("layer");
	atexit(cleanup);
	return 0;
}

/* Every path is "/" or "/x[/y...]" without empty, "." or ".." parts, in dd_path_compare order. */
static void check_tree(const struct dd_tree *t)
{
	size_t i, n = dd_tree_count(t);
	const struct dd_entry *prev = NULL;

	for (i = 0; i < n; i++) {
		const struct dd_entry *e = dd_tree_entry(t, i);
		struct dd__buf b = DD__BUF_INIT;

		if (e->path_len == 0 || e->path[0] != '/')
			abort();
		if (dd__path_normalize(&b, e->path, e->path_len) != 0 || b.len != e->path_len ||
		    memcmp(b.data, e->path, b.len) != 0)
			abort();
		dd__buf_free(&b);
		if (prev && dd_path_compare(prev->path, prev->path_len, e->path, e->path_len) >= 0)
			abort();
		if (e->type == DD_TYPE_SYMLINK && !e->target)
			abort();
		prev = e;
	}
}

static void write_listing(struct dd_ctx *ctx, const struct dd_tree *t)
{
	char *p = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&p, &n);

	if (!f)
		fz_die("open_memstream");
	dd_tree_write(ctx, t, DD_LISTING_JSONL, f);
	fclose(f);
	free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dd_target_options topts = DD_TARGET_OPTIONS_INIT;
	struct dd_ctx *ctx = NULL;
	struct dd_tree *tree = NULL;
	struct dd_image *img = NULL;
	const struct dd_tree *itree = NULL;
	struct fz_blob layer = { data, size };
	char path[64];
	int fd;

	if (dd_ctx_new(&ctx))
		fz_die("dd_ctx_new");

	/* 1. docker export tar, keeping file heads as the CLI does for libmagic. */
	fd = fz_memfd(data, size, path);
	topts.head_bytes = 512;
	if (dd_target_read_tar(&tree, ctx, path, &topts) == 0) {
		check_tree(tree);
		write_listing(ctx, tree);
	}
	dd_tree_free(tree);

	/* 3. an image archive. */
	if (dd_image_open(&img, ctx, path, NULL) == 0 && dd_image_tree(&itree, img) == 0)
		check_tree(itree);
	dd_image_free(img);
	img = NULL;
	close(fd);

	/* 2. the only layer of an OCI layout. */
	fz_layout_write(layout, &layer, 1, "application/vnd.oci.image.layer.v1.tar", NULL);
	if (dd_image_open(&img, ctx, layout, NULL) != 0)
		abort(); /* the layout around the layer is well-formed */
	if (dd_image_tree(&itree, img) == 0) {
		check_tree(itree);
		write_listing(ctx, itree);
	}
	dd_image_free(img);
	dd_ctx_free(ctx);
	return 0;
}
