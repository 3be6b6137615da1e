/*
 * The report emitters with attacker-chosen names. The input is a list of
 * entries separated by NUL: a control byte (which tree, type, mode,
 * content) then the raw path bytes, which also serve as a symlink's
 * target. Two trees are built with the internal API (as
 * tests/unit/test_diff.c does), diffed and classified, and every report
 * format is written to memory.
 * Invariants: the JSON and SARIF reports are valid UTF-8 as a whole and
 * parse as one strict JSON document; the JSONL listing gives back every
 * path byte for byte (from "path", or from base64 "path_bytes").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "lib/tree.h"

static const enum dd_type types[4] = { DD_TYPE_FILE, DD_TYPE_DIR, DD_TYPE_SYMLINK, DD_TYPE_FILE };

static void add(struct dd_tree *t, unsigned ctl, const char *raw, size_t rawlen)
{
	struct dd__buf p = DD__BUF_INIT;
	struct dd__node *parent, *n;
	enum dd_type type = types[(ctl >> 1) & 3];

	if (dd__path_normalize(&p, raw, rawlen) || p.len == 1 ||
	    dd__tree_mkparents(t, &parent, p.data, p.len, 0, NULL) ||
	    dd__tree_put(t, &n, parent, p.data, p.len, type, 0))
		goto out;
	n->e.mode = (ctl & 0x80) ? 04755 : (ctl & 0x40) ? 0755 : 0644;
	n->e.mtime = 1700000000;
	n->e.uid = ctl & 0x20 ? 1000 : 0;
	if (type == DD_TYPE_FILE) {
		n->e.has_sha256 = true;
		memset(n->e.sha256, (int)(ctl & 0x18), 32);
		n->e.size = ctl & 0x18;
		n->e.exec = ctl & 0x08 ? DD_EXEC_ELF : DD_EXEC_NONE;
	} else if (type == DD_TYPE_SYMLINK) {
		n->e.target = dd__arena_strndup(&t->arena, raw, rawlen);
		n->e.target_len = strlen(n->e.target);
	}
out:
	dd__buf_free(&p);
}

/* Run FORMAT into memory; *out (malloc'd) and *len receive the bytes. */
static int report(struct dd_ctx *ctx, enum dd_report_format format, const struct dd_diff *d,
		  const struct dd_findings *fs, const struct dd_tree *tgt, char **out, size_t *len)
{
	struct dd_report_options o = DD_REPORT_OPTIONS_INIT;
	FILE *f = open_memstream(out, len);
	int rc;

	if (!f)
		abort();
	o.target = "fuzz";
	o.target_kind = "rootfs";
	o.target_uri = "file:///fuzz/";
	o.target_tree = tgt;
	rc = dd_report_write(ctx, format, NULL, d, fs, &o, f);
	fclose(f);
	return rc;
}

static void check_json(const char *what, const char *s, size_t len)
{
	struct json_tokener *tok;
	struct json_object *o;

	if (!dd__utf8_valid(s, len)) {
		fprintf(stderr, "%s report is not valid UTF-8\n", what);
		abort();
	}
	tok = json_tokener_new();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, s, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success) {
		fprintf(stderr, "%s report is not JSON: %s\n", what,
			json_tokener_error_desc(json_tokener_get_error(tok)));
		abort();
	}
	json_object_put(o);
	json_tokener_free(tok);
}

/* Each JSONL line's path (or path_bytes) is exactly the entry's path. */
static void check_listing(struct dd_ctx *ctx, const struct dd_tree *t)
{
	char *buf = NULL, *line, *nl;
	size_t len = 0, i = 0;
	FILE *f = open_memstream(&buf, &len);
	struct dd__buf dec = DD__BUF_INIT;

	if (!f || dd_tree_write(ctx, t, DD_LISTING_JSONL, f))
		abort();
	fclose(f);
	if (!dd__utf8_valid(buf, len))
		abort();
	for (line = buf; *line; line = nl + 1, i++) {
		struct json_object *o, *v;
		const struct dd_entry *e = dd_tree_entry(t, i);
		const char *p;
		size_t plen;

		nl = strchr(line, '\n');
		if (!nl || !e)
			abort();
		*nl = '\0';
		o = json_tokener_parse(line);
		if (!o)
			abort();
		if (json_object_object_get_ex(o, "path_bytes", &v)) {
			if (dd__base64_decode(&dec, json_object_get_string(v),
					      (size_t)json_object_get_string_len(v)))
				abort();
			p = dec.data;
			plen = dec.len;
		} else if (json_object_object_get_ex(o, "path", &v)) {
			p = json_object_get_string(v);
			plen = (size_t)json_object_get_string_len(v);
		} else {
			abort();
		}
		if (plen != e->path_len || memcmp(p, e->path, plen)) {
			fprintf(stderr, "JSONL path of entry %zu does not round-trip\n", i);
			abort();
		}
		json_object_put(o);
	}
	if (i != dd_tree_count(t))
		abort();
	dd__buf_free(&dec);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dd_classify_options co = DD_CLASSIFY_OPTIONS_INIT;
	struct dd_ctx *ctx = NULL;
	struct dd_tree *img = NULL, *tgt = NULL;
	struct dd_diff *d = NULL;
	struct dd_findings *fs = NULL;
	const char *s = (const char *)data, *end = s + size;
	char *out = NULL;
	size_t len = 0;

	if (dd_ctx_new(&ctx) || dd__tree_new(&img, ctx) || dd__tree_new(&tgt, ctx))
		abort();
	while (s < end) {
		const char *z = memchr(s, '\0', (size_t)(end - s));
		size_t n = z ? (size_t)(z - s) : (size_t)(end - s);

		if (n >= 1)
			add(((unsigned char)s[0] & 1) ? tgt : img, (unsigned char)s[0], s + 1, n - 1);
		s += n + 1;
	}
	if (dd__tree_finalize(img) || dd__tree_finalize(tgt))
		abort();
	check_listing(ctx, tgt);
	if (dd_diff_trees(&d, ctx, img, tgt, NULL))
		abort();
	co.image_tree = img;
	co.target_tree = tgt;
	if (dd_classify(&fs, ctx, d, &co))
		fs = NULL;
	if (report(ctx, DD_REPORT_JSON, d, fs, tgt, &out, &len))
		abort();
	check_json("JSON", out, len);
	free(out);
	if (report(ctx, DD_REPORT_SARIF, d, fs, tgt, &out, &len))
		abort();
	check_json("SARIF", out, len);
	free(out);
	if (report(ctx, DD_REPORT_TEXT, d, fs, tgt, &out, &len))
		abort();
	free(out);
	if (report(ctx, DD_REPORT_MARKDOWN, d, fs, tgt, &out, &len))
		abort();
	free(out);
	dd_findings_free(fs);
	dd_diff_free(d);
	dd_tree_free(img);
	dd_tree_free(tgt);
	dd_ctx_free(ctx);
	return 0;
}
