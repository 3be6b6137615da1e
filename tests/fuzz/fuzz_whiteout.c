/*
 * Whiteout application (image-spec layer.md), checked against a reference
 * model. The input is a list of 3-byte ops (kind, path, mode) over paths
 * made of the components a, b, c (depth 1..3), split into up to three
 * layers: add a file, directory, symlink or hard link, white a path out
 * (".wh.NAME"), make a directory opaque (".wh..wh..opq"), or start the
 * next layer. The layers are written as tars with libarchive, applied
 * through an OCI layout (dd_image_open + dd_image_tree), and the final
 * tree is compared with the model below, which states the rules directly:
 *
 *  - a whiteout hides its path and everything beneath it that lower
 *    layers wrote; what this layer wrote stays, with the directories that
 *    lead to it ("whiteout files MUST only apply to resources in
 *    lower/parent layers");
 *  - an opaque marker does the same to every child of its directory;
 *  - an entry replaces what was at its path, except that a directory over
 *    a directory keeps its children and takes the new attributes;
 *  - missing parents appear as implicit directories (0755); a
 *    non-directory where a parent should be is replaced by one, never
 *    followed;
 *  - a hard link copies its target's attributes; one to a missing path,
 *    a directory or itself fails the whole image.
 * Any difference aborts with both trees printed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "lib/private.h"
#include "fuzz_common.h"

#define MAX_OPS 96
#define MAX_LAYERS 3
#define MAX_ENT 64

enum op_kind { OP_FILE, OP_DIR, OP_SYMLINK, OP_WHITEOUT, OP_OPAQUE, OP_NEXT, OP_HARDLINK, OP_FILE2 };

/* ---- the reference model ---- */

struct ment {
	char path[16];          /* "/a/b/c" */
	enum dd_type type;
	unsigned mode;
	int layer;
	bool implicit;
	char target[16];        /* symlink */
	unsigned char content;  /* file bytes: SIZE copies of CONTENT */
	unsigned size;
};

struct model {
	struct ment e[MAX_ENT];
	size_t n;
	bool failed;
};

static struct ment *m_find(struct model *m, const char *p)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->e[i].path, p))
			return &m->e[i];
	return NULL;
}

/* Is Q at or beneath P? ("/" holds everything.) */
static bool under(const char *q, const char *p)
{
	size_t n = strlen(p);

	if (!strcmp(p, "/"))
		return true;
	return !strncmp(q, p, n) && (q[n] == '\0' || q[n] == '/');
}

static void m_del(struct model *m, size_t i)
{
	m->e[i] = m->e[--m->n];
}

static void m_remove_subtree(struct model *m, const char *p)
{
	for (size_t i = m->n; i-- > 0;)
		if (under(m->e[i].path, p))
			m_del(m, i);
}

static struct ment *m_new(struct model *m, const char *p, enum dd_type type, int layer)
{
	struct ment *e;

	if (m->n == MAX_ENT)
		abort(); /* cannot happen: 39 paths */
	e = &m->e[m->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->path, sizeof(e->path), "%s", p);
	e->type = type;
	e->layer = layer;
	return e;
}

static void m_mkparents(struct model *m, const char *p, int layer)
{
	char anc[16];

	for (size_t i = 1; p[i]; i++) {
		struct ment *e;

		if (p[i] != '/')
			continue;
		memcpy(anc, p, i);
		anc[i] = '\0';
		e = m_find(m, anc);
		if (e && e->type != DD_TYPE_DIR) {
			m_remove_subtree(m, anc);
			e = NULL;
		}
		if (!e) {
			e = m_new(m, anc, DD_TYPE_DIR, layer);
			e->mode = 0755;
			e->implicit = true;
		}
	}
}

static struct ment *m_put(struct model *m, const char *p, enum dd_type type, int layer)
{
	struct ment *e;

	m_mkparents(m, p, layer);
	e = m_find(m, p);
	if (e && e->type == DD_TYPE_DIR && type == DD_TYPE_DIR) {
		memset(e, 0, sizeof(*e));
		snprintf(e->path, sizeof(e->path), "%s", p);
		e->type = type;
		e->layer = layer;
		return e;
	}
	if (e)
		m_remove_subtree(m, p);
	return m_new(m, p, type, layer);
}

/*
 * Hide what lower layers wrote at and beneath P (with children_only, only
 * beneath). An entry stays if this layer wrote it or anything below it.
 */
static void m_hide(struct model *m, const char *p, int layer, bool children_only)
{
	bool keep[MAX_ENT];
	size_t i, j;

	for (i = 0; i < m->n; i++) {
		keep[i] = !under(m->e[i].path, p) || (children_only && !strcmp(m->e[i].path, p)) ||
			  m->e[i].layer >= layer;
		for (j = 0; !keep[i] && j < m->n; j++)
			if (j != i && under(m->e[j].path, m->e[i].path) && under(m->e[j].path, p) &&
			    m->e[j].layer >= layer)
				keep[i] = true;
	}
	for (i = m->n; i-- > 0;)
		if (!keep[i])
			m_del(m, i);
}

/* ---- decoding ---- */

static const char comps[3] = { 'a', 'b', 'c' };

/* DEPTH components chosen by P: "/a", "/b/c", ... */
static void path_of(char out[16], unsigned p, unsigned depth)
{
	size_t k = 0;

	for (unsigned d = 0; d < depth; d++) {
		out[k++] = '/';
		out[k++] = comps[p % 3];
		p /= 3;
	}
	out[k] = '\0';
	if (k == 0)
		strcpy(out, "/");
}

struct tarbuf {
	struct archive *a;
	unsigned char *buf;
	size_t cap, used;
};

static void tar_open(struct tarbuf *t)
{
	t->cap = 1 << 20;
	t->buf = malloc(t->cap);
	t->a = archive_write_new();
	if (!t->buf || !t->a || archive_write_set_format_pax_restricted(t->a) != ARCHIVE_OK ||
	    archive_write_add_filter_none(t->a) != ARCHIVE_OK ||
	    archive_write_open_memory(t->a, t->buf, t->cap, &t->used) != ARCHIVE_OK)
		fz_die("archive_write");
}

/* NAME as the tar spells it: relative, optionally "./"-prefixed or with a trailing '/'. */
static void tar_add(struct tarbuf *t, const char *path, unsigned filetype, unsigned mode,
		    const char *link, bool hard, const void *data, size_t len, unsigned style)
{
	struct archive_entry *e = archive_entry_new();
	char name[32];

	snprintf(name, sizeof(name), "%s%s%s", style & 1 ? "./" : "", path + 1,
		 (style & 2) && filetype == AE_IFDIR ? "/" : "");
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, filetype);
	archive_entry_set_perm(e, mode);
	archive_entry_set_mtime(e, 1700000000, 0);
	archive_entry_set_size(e, (la_int64_t)len);
	if (link && hard)
		archive_entry_set_hardlink(e, link + 1);
	else if (link)
		archive_entry_set_symlink(e, link);
	if (archive_write_header(t->a, e) != ARCHIVE_OK)
		fz_die("archive_write_header");
	if (len && archive_write_data(t->a, data, len) != (la_ssize_t)len)
		fz_die("archive_write_data");
	archive_entry_free(e);
}

static void tar_close(struct tarbuf *t)
{
	if (archive_write_close(t->a) != ARCHIVE_OK)
		fz_die("archive_write_close");
	archive_write_free(t->a);
	t->a = NULL;
}

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
	layout = fz_mkdtemp("whiteout");
	atexit(cleanup);
	return 0;
}

static void dump(const struct model *m, const struct dd_tree *t)
{
	fprintf(stderr, "model (%zu entries%s):\n", m->n, m->failed ? ", image fails" : "");
	for (size_t i = 0; i < m->n; i++)
		fprintf(stderr, "  %-8s %s mode %04o layer %d%s%s%s\n", m->e[i].path,
			dd_type_name(m->e[i].type), m->e[i].mode, m->e[i].layer,
			m->e[i].implicit ? " implicit" : "", *m->e[i].target ? " -> " : "",
			m->e[i].target);
	if (!t)
		return;
	fprintf(stderr, "library tree:\n");
	for (size_t i = 0; i < dd_tree_count(t); i++) {
		const struct dd_entry *e = dd_tree_entry(t, i);

		fprintf(stderr, "  %-8s %s mode %04o layer %d%s%s%s\n", e->path, dd_type_name(e->type),
			e->mode, e->layer, e->flags & DD_ENTRY_IMPLICIT ? " implicit" : "",
			e->target ? " -> " : "", e->target ? e->target : "");
	}
}

static void mismatch(const struct model *m, const struct dd_tree *t, const char *what,
		     const char *path)
{
	fprintf(stderr, "whiteout model mismatch: %s at %s\n", what, path);
	dump(m, t);
	abort();
}

static void compare(const struct model *m, const struct dd_tree *t)
{
	if (dd_tree_count(t) != m->n + 1)
		mismatch(m, t, "entry count", "/");
	for (size_t i = 0; i < m->n; i++) {
		const struct ment *x = &m->e[i];
		const struct dd_entry *e = dd_tree_find(t, x->path, strlen(x->path));
		unsigned char want[4];
		char hex[65], got[65];

		if (!e)
			mismatch(m, t, "missing entry", x->path);
		if (e->type != x->type)
			mismatch(m, t, "type", x->path);
		if (e->mode != x->mode)
			mismatch(m, t, "mode", x->path);
		if (e->layer != x->layer)
			mismatch(m, t, "layer", x->path);
		if (!!(e->flags & DD_ENTRY_IMPLICIT) != x->implicit)
			mismatch(m, t, "implicit flag", x->path);
		if (x->type == DD_TYPE_SYMLINK &&
		    (!e->target || strcmp(e->target, x->target) || e->target_len != strlen(x->target)))
			mismatch(m, t, "symlink target", x->path);
		if (x->type == DD_TYPE_FILE) {
			memset(want, x->content, sizeof(want));
			fz_sha256_hex(hex, want, x->size);
			dd__hex(got, e->sha256, 32);
			if (!e->has_sha256 || e->size != x->size || strcmp(hex, got))
				mismatch(m, t, "file content", x->path);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct model m;
	struct tarbuf tars[MAX_LAYERS];
	struct fz_blob blobs[MAX_LAYERS];
	struct dd_ctx *ctx = NULL;
	struct dd_image *img = NULL;
	const struct dd_tree *tree = NULL;
	int layer = 0, rc;
	size_t i, nops = size / 3;

	if (nops > MAX_OPS)
		nops = MAX_OPS;
	memset(&m, 0, sizeof(m));
	memset(tars, 0, sizeof(tars));
	tar_open(&tars[0]);
	for (i = 0; i < nops; i++) {
		unsigned k = data[3 * i], p = data[3 * i + 1], mode = data[3 * i + 2];
		unsigned style = k >> 3;
		struct tarbuf *t = &tars[layer];
		char path[16], other[16], wh[32];
		unsigned char content[4];
		struct ment *e, copy;

		path_of(path, p / 3, 1 + p % 3);
		switch ((enum op_kind)(k & 7)) {
		case OP_FILE:
		case OP_FILE2:
			memset(content, (int)i, sizeof(content));
			tar_add(t, path, AE_IFREG, mode, NULL, false, content, 1 + mode % 3, style);
			if (!m.failed) {
				e = m_put(&m, path, DD_TYPE_FILE, layer);
				e->mode = mode;
				e->content = (unsigned char)i;
				e->size = 1 + mode % 3;
			}
			break;
		case OP_DIR:
			tar_add(t, path, AE_IFDIR, mode, NULL, false, NULL, 0, style);
			if (!m.failed)
				m_put(&m, path, DD_TYPE_DIR, layer)->mode = mode;
			break;
		case OP_SYMLINK:
			snprintf(other, sizeof(other), "t%zu", i);
			tar_add(t, path, AE_IFLNK, mode, other, false, NULL, 0, style);
			if (!m.failed) {
				e = m_put(&m, path, DD_TYPE_SYMLINK, layer);
				e->mode = mode;
				snprintf(e->target, sizeof(e->target), "%s", other);
			}
			break;
		case OP_HARDLINK:
			path_of(other, mode / 3, 1 + mode % 3);
			tar_add(t, path, AE_IFREG, 0644, other, true, NULL, 0, style);
			if (m.failed)
				break;
			m_mkparents(&m, path, layer);
			e = m_find(&m, other);
			if (!e || e->type == DD_TYPE_DIR || !strcmp(other, path)) {
				m.failed = true;
				break;
			}
			copy = *e;
			e = m_put(&m, path, copy.type, layer);
			snprintf(copy.path, sizeof(copy.path), "%s", path);
			copy.layer = layer;
			copy.implicit = false;
			*e = copy;
			break;
		case OP_WHITEOUT: {
			size_t base = strrchr(path, '/') - path;

			snprintf(wh, sizeof(wh), "%.*s/.wh.%s", (int)base, path, path + base + 1);
			tar_add(t, wh, AE_IFREG, 0644, NULL, false, NULL, 0, style & 1);
			if (!m.failed && m_find(&m, path))
				m_hide(&m, path, layer, false);
			break;
		}
		case OP_OPAQUE:
			path_of(path, p / 4, p % 4);
			snprintf(wh, sizeof(wh), "%s/.wh..wh..opq", strcmp(path, "/") ? path : "");
			tar_add(t, wh, AE_IFREG, 0644, NULL, false, NULL, 0, style & 1);
			e = m_find(&m, path);
			if (!m.failed && (!strcmp(path, "/") || (e && e->type == DD_TYPE_DIR)))
				m_hide(&m, path, layer, true);
			break;
		case OP_NEXT:
			if (layer + 1 < MAX_LAYERS)
				tar_open(&tars[++layer]);
			break;
		}
	}
	for (i = 0; i <= (size_t)layer; i++) {
		tar_close(&tars[i]);
		blobs[i].data = tars[i].buf;
		blobs[i].len = tars[i].used;
	}
	fz_layout_write(layout, blobs, (size_t)layer + 1, "application/vnd.oci.image.layer.v1.tar", NULL);

	if (dd_ctx_new(&ctx))
		fz_die("dd_ctx_new");
	if (dd_image_open(&img, ctx, layout, NULL) != 0) {
		fprintf(stderr, "dd_image_open: %s\n", dd_ctx_error(ctx));
		abort();
	}
	rc = dd_image_tree(&tree, img);
	if (m.failed != (rc != 0)) {
		fprintf(stderr, "whiteout model mismatch: model %s, library %s (%s)\n",
			m.failed ? "fails" : "succeeds", rc ? "fails" : "succeeds", dd_ctx_error(ctx));
		dump(&m, tree);
		abort();
	}
	if (rc == 0)
		compare(&m, tree);
	dd_image_free(img);
	dd_ctx_free(ctx);
	for (i = 0; i <= (size_t)layer; i++)
		free(tars[i].buf);
	return 0;
}
