/*
 * Saved manifests (lib/saved.c), read whole and read for an upper dir.
 * The input is the file's text. When the whole read succeeds, the part an
 * upper dir asks for must succeed too and hold only entries of the whole
 * tree, each with the same attributes: the line filter may skip lines,
 * never change what it keeps. The upper dir is fixed and touches the
 * paths the seeds use (an opaque /a, a whiteout /w, a file at /h2, /b/c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/tree.h"
#include "fuzz_common.h"

static struct dd_tree *upper_tree(struct dd_ctx *ctx)
{
	static const struct {
		const char *path;
		enum dd_type type;
		uint16_t flags;
	} ents[] = {
		{ "/a", DD_TYPE_DIR, DD_ENTRY_OPAQUE },
		{ "/b", DD_TYPE_DIR, 0 },
		{ "/b/c", DD_TYPE_DIR, 0 },
		{ "/b/c/new", DD_TYPE_FILE, 0 },
		{ "/h2", DD_TYPE_FILE, 0 },
		{ "/w", DD_TYPE_CHAR, DD_ENTRY_WHITEOUT },
	};
	struct dd_tree *t;
	struct dd_entry *e;
	size_t i;

	if (dd__tree_new(&t, ctx))
		fz_die("tree");
	for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
		if (dd__tree_append(t, &e, ents[i].path, strlen(ents[i].path), ents[i].type, -1))
			fz_die("append");
		e->flags = ents[i].flags;
	}
	if (dd__tree_finalize_appended(t))
		fz_die("finalize");
	return t;
}

static void same(const struct dd_entry *a, const struct dd_entry *b)
{
	if (a->type != b->type || a->mode != b->mode || a->uid != b->uid || a->gid != b->gid ||
	    a->size != b->size || a->mtime != b->mtime || a->has_sha256 != b->has_sha256 ||
	    memcmp(a->sha256, b->sha256, 32) || a->exec != b->exec || a->flags != b->flags ||
	    a->target_len != b->target_len ||
	    (a->target && memcmp(a->target, b->target, a->target_len))) {
		fprintf(stderr, "fuzz_saved: %s differs between the whole tree and the upper part\n",
			a->path);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *dir;
	static struct dd_ctx *ctx;
	static struct dd_tree *upper;
	struct dd_image *whole = NULL, *part = NULL;
	const struct dd_tree *w = NULL, *p = NULL;
	char path[4096];
	size_t i;
	int rw, rp;

	if (!dir) {
		dir = fz_mkdtemp("saved");
		if (dd_ctx_new(&ctx))
			fz_die("ctx");
		upper = upper_tree(ctx);
	}
	fz_write(dir, "m", data, size);
	snprintf(path, sizeof(path), "%s/m", dir);
	rw = dd_image_open(&whole, ctx, path, NULL);
	if (rw == 0)
		rw = dd_image_tree(&w, whole);
	rp = dd_image_open(&part, ctx, path, NULL);
	if (rp == 0)
		rp = dd_image_tree_for_upper(&p, part, upper);
	if (rw == 0 && (rp != 0 || !p)) {
		fprintf(stderr, "fuzz_saved: read whole, but not for the upper dir: %s\n", dd_ctx_error(ctx));
		abort();
	}
	if (rw == 0) {
		for (i = 0; i < dd_tree_count(p); i++) {
			const struct dd_entry *e = dd_tree_entry(p, i);
			const struct dd_entry *f = dd_tree_find(w, e->path, e->path_len);

			if (!f) {
				fprintf(stderr, "fuzz_saved: %s is in the upper part only\n", e->path);
				abort();
			}
			same(e, f);
		}
	}
	dd_image_free(whole);
	dd_image_free(part);
	dd_ctx_clear_error(ctx);
	return 0;
}
