/*
 * Saved manifests (lib/saved.c), read whole and read for an upper dir.
 * The input is the file's text. When the whole read succeeds, the part an
 * upper dir asks for must succeed too and hold only entries of the whole
 * tree, each with the same attributes: the line filter may skip lines,
 * never change what it keeps. The upper dir is fixed and touches the
 * paths the seeds use (an opaque /a, a whiteout /w, a file at /h2, /b/c).
 *
 * Entry lines as the writer writes them are read without json-c; a space
 * after each entry line's brace sends every line to json-c. The two
 * readings must agree: the same entries, or the same error.
 */
#include <stdbool.h>
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

static void same(const struct dd_entry *a, const struct dd_entry *b, const char *what)
{
	if (a->type != b->type || a->mode != b->mode || a->uid != b->uid || a->gid != b->gid ||
	    a->size != b->size || a->mtime != b->mtime || a->has_sha256 != b->has_sha256 ||
	    memcmp(a->sha256, b->sha256, 32) || a->exec != b->exec || a->flags != b->flags ||
	    a->target_len != b->target_len ||
	    (a->target && memcmp(a->target, b->target, a->target_len))) {
		fprintf(stderr, "fuzz_saved: %s differs between %s\n", a->path, what);
		abort();
	}
}

/* DATA with a space after the brace of every line but the header. */
static char *spaced(const uint8_t *data, size_t size, size_t *out)
{
	char *s = malloc(2 * size + 1);
	size_t i, n = 0;
	bool first = true, bol = true;

	if (!s)
		fz_die("malloc");
	for (i = 0; i < size; i++) {
		s[n++] = (char)data[i];
		if (bol && data[i] == '{' && !first)
			s[n++] = ' ';
		if (data[i] == '\n')
			first = false;
		bol = data[i] == '\n';
	}
	*out = n;
	return s;
}

/* The whole tree from json-c alone agrees with W (RW: its result, ERR its error). */
static void json_agrees(struct dd_ctx *ctx, const char *dir, const uint8_t *data, size_t size, int rw,
			const char *err, const struct dd_tree *w)
{
	struct dd_image *img = NULL;
	const struct dd_tree *t = NULL;
	char path[4096], *text;
	size_t n, i;
	int rc;

	text = spaced(data, size, &n);
	fz_write(dir, "m", text, n);
	free(text);
	snprintf(path, sizeof(path), "%s/m", dir);
	rc = dd_image_open(&img, ctx, path, NULL);
	if (rc == 0)
		rc = dd_image_tree(&t, img);
	if (rc != rw || (rc && strcmp(err, dd_ctx_error(ctx)))) {
		fprintf(stderr, "fuzz_saved: read quickly %d (%s), through json-c %d (%s)\n", rw, err, rc,
			dd_ctx_error(ctx));
		abort();
	}
	if (rc == 0) {
		if (dd_tree_count(t) != dd_tree_count(w))
			abort();
		for (i = 0; i < dd_tree_count(w); i++)
			same(dd_tree_entry(w, i), dd_tree_entry(t, i), "the quick reading and json-c's");
	}
	dd_image_free(img);
	dd_ctx_clear_error(ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *dir;
	static struct dd_ctx *ctx;
	static struct dd_tree *upper;
	struct dd_image *whole = NULL, *part = NULL;
	const struct dd_tree *w = NULL, *p = NULL;
	char path[4096], err[1024];
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
	snprintf(err, sizeof(err), "%s", rw ? dd_ctx_error(ctx) : "");
	dd_ctx_clear_error(ctx);
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
			same(e, f, "the whole tree and the upper part");
		}
	}
	dd_ctx_clear_error(ctx);
	json_agrees(ctx, dir, data, size, rw, err, w);
	dd_image_free(whole);
	dd_image_free(part);
	return 0;
}
