/*
 * The JSON report (schema in man/driftdiff-json.5) and SARIF 2.1.0 (OASIS
 * sarif-schema-2.1.0, with what GitHub code scanning requires). Both are
 * made with json-c; the JSON report is written as it is made.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "digest.h"
#include "listing.h"
#include "report.h"

#define SCHEMA_VERSION 1
#define SARIF_MAX_RESULTS 25000 /* GitHub code scanning's limit per run */

/* A JSON string of S; bytes that are not UTF-8 become \\xHH, as in paths. */
static struct json_object *jstr(const char *s)
{
	struct dd__buf b = DD__BUF_INIT;
	struct json_object *o;

	if (!s)
		return NULL;
	if (dd__utf8_valid(s, strlen(s)))
		return json_object_new_string(s);
	if (dd__escape_invalid_utf8(&b, s, strlen(s)) || dd__buf_grow(&b, 0)) {
		dd__buf_free(&b);
		return NULL;
	}
	o = json_object_new_string_len(b.data, (int)b.len);
	dd__buf_free(&b);
	return o;
}

/* "path" (escaped if need be) and, for non-UTF-8 bytes, "path_bytes". */
static int add_path(struct json_object *o, const char *path, size_t len)
{
	struct dd__buf b = DD__BUF_INIT;
	int rc = 0;

	if (dd__utf8_valid(path, len)) {
		json_object_object_add(o, "path", json_object_new_string_len(path, (int)len));
		return 0;
	}
	if (dd__escape_invalid_utf8(&b, path, len) || dd__buf_grow(&b, 0)) {
		rc = DD_ENOMEM;
		goto out;
	}
	json_object_object_add(o, "path", json_object_new_string_len(b.data, (int)b.len));
	b.len = 0;
	if (dd__base64(&b, (const unsigned char *)path, len) || dd__buf_grow(&b, 0)) {
		rc = DD_ENOMEM;
		goto out;
	}
	json_object_object_add(o, "path_bytes", json_object_new_string_len(b.data, (int)b.len));
out:
	dd__buf_free(&b);
	return rc;
}

static struct json_object *attrs_array(uint32_t attrs)
{
	struct json_object *a = json_object_new_array();
	const struct dd_attr_info *t;
	size_t i, n;

	t = dd_attr_table(&n);
	for (i = 0; i < n; i++)
		if (attrs & t[i].bit)
			json_object_array_add(a, json_object_new_string(t[i].key));
	return a;
}

static struct json_object *layer_json(const struct dd__report *r, const struct dd_change *c)
{
	const struct dd_layer_info *l = dd__change_layer(r, c);
	struct json_object *o;

	if (!l)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "index", json_object_new_int(c->before->layer));
	json_object_object_add(o, "digest", jstr(l->digest));
	json_object_object_add(o, "diff_id", jstr(l->diff_id));
	json_object_object_add(o, "created_by", jstr(l->created_by));
	return o;
}

static int change_json(const struct dd__report *r, const struct dd_change *c,
		       struct json_object **out)
{
	struct json_object *o = json_object_new_object(), *e;
	int rc;

	*out = NULL;
	rc = add_path(o, c->path, c->path_len);
	if (rc)
		goto fail;
	json_object_object_add(o, "kind", json_object_new_string(dd_change_kind_name(c->kind)));
	json_object_object_add(o, "changed", attrs_array(c->attrs));
	json_object_object_add(o, "severity", json_object_new_string(dd_severity_name(c->severity)));
	json_object_object_add(o, "executable", json_object_new_boolean(!!(c->flags & DD_CHANGE_NEW_EXEC)));
	if (c->flags & DD_CHANGE_STEALTH)
		json_object_object_add(o, "size_and_mtime_kept", json_object_new_boolean(1));
	if (c->flags & DD_CHANGE_RACED)
		json_object_object_add(o, "changed_while_read", json_object_new_boolean(1));
	if (c->flags & DD_CHANGE_IGNORED)
		json_object_object_add(o, "ignored", jstr(c->ignored_by));
	json_object_object_add(o, "layer", layer_json(r, c));
	if (c->before) {
		if ((rc = dd__entry_json(c->before, false, &e)))
			goto fail;
		json_object_object_add(o, "before", e);
	}
	if (c->after) {
		if ((rc = dd__entry_json(c->after, false, &e)))
			goto fail;
		json_object_object_add(o, "after", e);
	}
	*out = o;
	return 0;
fail:
	json_object_put(o);
	return rc;
}

static struct json_object *image_json(const struct dd__report *r)
{
	struct json_object *o = json_object_new_object();

	if (!r->img)
		return o;
	json_object_object_add(o, "source", jstr(dd_image_path(r->img)));
	json_object_object_add(o, "format", jstr(dd_image_format_name(dd_image_format(r->img))));
	json_object_object_add(o, "ref", jstr(dd_image_ref(r->img)));
	json_object_object_add(o, "manifest_digest", jstr(dd_image_manifest_digest(r->img)));
	json_object_object_add(o, "config_digest", jstr(dd_image_config_digest(r->img)));
	json_object_object_add(o, "platform", jstr(dd_image_platform(r->img)));
	return o;
}

static struct json_object *summary_json(const struct dd__report *r)
{
	const struct dd__summary *s = &r->sum;
	struct json_object *o = json_object_new_object(), *sev = json_object_new_object();
	int k;

	json_object_object_add(o, "changes", json_object_new_uint64(s->reported));
	for (k = DD_CHANGE_ADDED; k <= DD_CHANGE_UNREADABLE; k++)
		json_object_object_add(o, dd_change_kind_name((enum dd_change_kind)k),
				       json_object_new_uint64(s->kinds[k]));
	json_object_object_add(o, "ignored", json_object_new_uint64(s->ignored));
	json_object_object_add(o, "findings", json_object_new_uint64(s->findings));
	for (k = DD_SEVERITY_INFO; k <= DD_SEVERITY_CRITICAL; k++)
		json_object_object_add(sev, dd_severity_name((enum dd_severity)k),
				       json_object_new_uint64(s->by_severity[k]));
	json_object_object_add(o, "by_severity", sev);
	json_object_object_add(o, "highest_severity", s->reported || s->findings
				       ? jstr(dd_severity_name(s->max)) : NULL);
	json_object_object_add(o, "fail_on", jstr(r->opts->fail_on == DD_SEVERITY_NONE ? "any" : dd_severity_name(r->opts->fail_on)));
	json_object_object_add(o, "drift", json_object_new_boolean(s->drift));
	return o;
}

/*
 * The JSON report is written as it is made, member by member and one
 * change or finding at a time, not built whole and then printed: the
 * objects of every change would be the largest thing a cached report
 * holds (7 MB of 60 for 130,000 entries). json-c still prints every value;
 * the writer lays them out as json-c lays out a whole document (pretty,
 * spaced, two spaces a level), so the bytes are the same.
 */
#define JSON_FLAGS (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)

struct jout {
	FILE *f;
	int rc;
	int level;      /* open containers */
	bool empty;     /* nothing written yet in the innermost one */
};

static void jout_raw(struct jout *w, const char *s, size_t n)
{
	if (w->rc == 0 && n && fwrite(s, 1, n, w->f) != n)
		w->rc = DD_EIO;
}

static void jout_indent(struct jout *w, int level)
{
	static const char spaces[] = "                                ";

	for (level *= 2; level > 0; level -= (int)sizeof(spaces) - 1)
		jout_raw(w, spaces, level < (int)sizeof(spaces) - 1 ? (size_t)level : sizeof(spaces) - 1);
}

/* Start a member of the innermost container: the comma, the line, the key. */
static void jout_member(struct jout *w, const char *key)
{
	jout_raw(w, w->empty ? "\n" : ",\n", w->empty ? 1 : 2);
	w->empty = false;
	jout_indent(w, w->level);
	if (key) {
		jout_raw(w, "\"", 1);
		jout_raw(w, key, strlen(key));
		jout_raw(w, "\": ", 3);
	}
}

/* Open an object ('{') or array ('['), as member KEY (NULL in an array or at the top). */
static void jout_open(struct jout *w, const char *key, char c)
{
	if (w->level)
		jout_member(w, key);
	jout_raw(w, &c, 1);
	w->level++;
	w->empty = true;
}

static void jout_close(struct jout *w, char c)
{
	w->level--;
	jout_raw(w, "\n", 1);
	jout_indent(w, w->level);
	jout_raw(w, &c, 1);
	w->empty = false;
}

/* Write V (taken, may be NULL for null) as member KEY, indented to its depth. */
static void jout_value(struct jout *w, const char *key, struct json_object *v)
{
	const char *s = json_object_to_json_string_ext(v, JSON_FLAGS), *nl;

	jout_member(w, key);
	if (!s && w->rc == 0)
		w->rc = DD_ENOMEM;
	/* json-c escapes newlines inside strings: every one in S is layout. */
	for (; s && (nl = strchr(s, '\n')); s = nl + 1) {
		jout_raw(w, s, (size_t)(nl - s) + 1);
		jout_indent(w, w->level);
	}
	if (s)
		jout_raw(w, s, strlen(s));
	json_object_put(v);
}

static struct json_object *finding_json(const struct dd_finding *f, int *rc)
{
	struct json_object *o = json_object_new_object(), *pa = json_object_new_array(), *pb = NULL;
	size_t k;

	json_object_object_add(o, "rule", jstr(f->rule->id));
	json_object_object_add(o, "family", jstr(f->rule->family));
	json_object_object_add(o, "severity", jstr(dd_severity_name(f->severity)));
	json_object_object_add(o, "title", jstr(f->rule->title));
	for (k = 0; *rc == 0 && k < f->npaths; k++) {
		struct json_object *p = json_object_new_object();

		*rc = add_path(p, f->paths[k].path, f->paths[k].len);
		json_object_array_add(pa, json_object_get(json_object_object_get(p, "path")));
		if (json_object_object_get(p, "path_bytes") && !pb) {
			size_t j;

			/* Aligned with "paths": null where the path is valid UTF-8. */
			pb = json_object_new_array();
			for (j = 0; j < k; j++)
				json_object_array_add(pb, NULL);
		}
		if (pb)
			json_object_array_add(pb, json_object_get(json_object_object_get(p, "path_bytes")));
		json_object_put(p);
	}
	json_object_object_add(o, "paths", pa);
	if (pb)
		json_object_object_add(o, "paths_bytes", pb);
	if (f->package) {
		struct json_object *pk = json_object_new_object();

		json_object_object_add(pk, "ecosystem", jstr(f->package->ecosystem));
		json_object_object_add(pk, "name", jstr(f->package->name));
		json_object_object_add(pk, "version", jstr(f->package->version));
		json_object_object_add(pk, "old_version", jstr(f->package->old_version));
		json_object_object_add(o, "package", pk);
	}
	if (f->suppressed_by)
		json_object_object_add(o, "suppressed", jstr(f->suppressed_by));
	json_object_object_add(o, "attack", jstr(f->rule->attack));
	json_object_object_add(o, "detail", jstr(f->detail));
	json_object_object_add(o, "remediation", jstr(f->rule->help));
	return o;
}

int dd__report_json(struct dd__report *r)
{
	struct jout w = { r->f, 0, 0, true };
	struct json_object *o, *arr, *opts;
	size_t i, n = dd_diff_count(r->diff);
	int rc = 0;

	jout_open(&w, NULL, '{');
	jout_value(&w, "schema_version", json_object_new_int(SCHEMA_VERSION));
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string("driftdiff"));
	json_object_object_add(o, "version", json_object_new_string(dd_version()));
	jout_value(&w, "tool", o);
	jout_value(&w, "image", image_json(r));
	o = json_object_new_object();
	json_object_object_add(o, "source", jstr(r->opts->target));
	json_object_object_add(o, "kind", jstr(r->opts->target_kind));
	jout_value(&w, "target", o);
	opts = json_object_new_object();
	json_object_object_add(opts, "all", json_object_new_boolean(r->opts->all));
	json_object_object_add(opts, "default_ignores", json_object_new_boolean(r->opts->default_ignores));
	arr = json_object_new_array();
	for (i = 0; r->opts->ignore_files && r->opts->ignore_files[i]; i++)
		json_object_array_add(arr, jstr(r->opts->ignore_files[i]));
	json_object_object_add(opts, "ignore_files", arr);
	json_object_object_add(opts, "fail_on", jstr(r->opts->fail_on == DD_SEVERITY_NONE ? "any" : dd_severity_name(r->opts->fail_on)));
	jout_value(&w, "options", opts);
	jout_open(&w, "changes", '[');
	for (i = 0; i < n && rc == 0 && w.rc == 0; i++) {
		rc = change_json(r, dd_diff_change(r->diff, i), &o);
		if (rc == 0)
			jout_value(&w, NULL, o);
	}
	jout_close(&w, ']');
	jout_open(&w, "findings", '[');
	for (i = 0; rc == 0 && w.rc == 0 && i < dd_findings_count(r->findings); i++) {
		o = finding_json(dd_findings_get(r->findings, i), &rc);
		if (rc == 0)
			jout_value(&w, NULL, o);
		else
			json_object_put(o);
	}
	jout_close(&w, ']');
	arr = json_object_new_array();
	for (i = 0; r->img && i < dd_image_warning_count(r->img); i++)
		json_object_array_add(arr, jstr(dd_image_warning(r->img, i)));
	for (i = 0; r->opts->target_tree && i < dd_tree_warning_count(r->opts->target_tree); i++) {
		const char *wn = dd_tree_warning(r->opts->target_tree, i);
		struct dd__buf b = DD__BUF_INIT;

		if (dd__escape_invalid_utf8(&b, wn, strlen(wn)) == 0 && b.data)
			json_object_array_add(arr, json_object_new_string_len(b.data, (int)b.len));
		dd__buf_free(&b);
	}
	jout_value(&w, "warnings", arr);
	if (dd__report_live(r))
		jout_value(&w, "live", dd__live_json(r));
	jout_value(&w, "summary", summary_json(r));
	jout_close(&w, '}');
	jout_raw(&w, "\n", 1);
	return rc ? rc : w.rc;
}

/* ---- SARIF ---- */

static int emit(struct dd__report *r, struct json_object *root)
{
	const char *s = json_object_to_json_string_ext(root, JSON_FLAGS);

	if (!s)
		return DD_ENOMEM;
	return fputs(s, r->f) < 0 || fputc('\n', r->f) == EOF ? DD_EIO : 0;
}

static const char *sarif_level(enum dd_severity s)
{
	return s >= DD_SEVERITY_HIGH ? "error" : s == DD_SEVERITY_MEDIUM ? "warning" : "note";
}

/* GitHub reads security-severity as a CVSS-like score, as a string. */
static const char *sarif_score(enum dd_severity s)
{
	switch (s) {
	case DD_SEVERITY_CRITICAL: return "9.5";
	case DD_SEVERITY_HIGH: return "8.0";
	case DD_SEVERITY_MEDIUM: return "5.5";
	case DD_SEVERITY_LOW: return "3.0";
	default: return "1.0";
	}
}

/* A relative URI reference (RFC 3986): unreserved bytes and '/' as is, the rest %XX. */
static int uri_encode(struct dd__buf *b, const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)p[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '.' || ch == '_' || ch == '~' || ch == '/') {
			if (dd__buf_put(b, &ch, 1))
				return DD_ENOMEM;
		} else if (dd__buf_printf(b, "%%%02X", ch)) {
			return DD_ENOMEM;
		}
	}
	return dd__buf_grow(b, 0);
}

static struct json_object *sarif_rule(const struct dd_rule *rule)
{
	struct json_object *o = json_object_new_object(), *t, *props, *tags;

	json_object_object_add(o, "id", jstr(rule->id));
	t = json_object_new_object();
	json_object_object_add(t, "text", jstr(rule->title));
	json_object_object_add(o, "shortDescription", t);
	t = json_object_new_object();
	json_object_object_add(t, "text", jstr(rule->description));
	json_object_object_add(o, "fullDescription", t);
	t = json_object_new_object();
	json_object_object_add(t, "text", jstr(rule->help));
	json_object_object_add(o, "help", t);
	t = json_object_new_object();
	json_object_object_add(t, "level", jstr(sarif_level(rule->severity)));
	json_object_object_add(o, "defaultConfiguration", t);
	props = json_object_new_object();
	tags = json_object_new_array();
	json_object_array_add(tags, json_object_new_string("security"));
	json_object_array_add(tags, jstr(rule->family));
	if (rule->attack) {
		struct dd__buf b = DD__BUF_INIT;

		if (dd__buf_printf(&b, "external/mitre-attack/%s", rule->attack) == 0)
			json_object_array_add(tags, json_object_new_string(b.data));
		dd__buf_free(&b);
	}
	json_object_object_add(props, "tags", tags);
	json_object_object_add(props, "security-severity", jstr(sarif_score(rule->severity)));
	json_object_object_add(props, "precision", json_object_new_string("high"));
	json_object_object_add(o, "properties", props);
	return o;
}

/* A stable fingerprint so code scanning tracks one alert across runs. */
static int fingerprint(struct dd__buf *out, const struct dd_rule *rule, const char *path, size_t len,
		       const char *what, const char *detail)
{
	struct dd__hasher *h = NULL;
	struct dd__digest d;
	int rc;

	rc = dd__hasher_new(&h, DD__ALG_SHA256);
	if (rc == 0)
		rc = dd__hasher_update(h, rule->id, strlen(rule->id) + 1);
	if (rc == 0)
		rc = dd__hasher_update(h, path, len);
	if (rc == 0)
		rc = dd__hasher_update(h, "", 1);
	if (rc == 0)
		rc = dd__hasher_update(h, what, strlen(what));
	if (rc == 0 && *detail)
		rc = dd__hasher_update(h, "", 1) || dd__hasher_update(h, detail, strlen(detail));
	if (rc == 0)
		rc = dd__hasher_final(h, &d);
	dd__hasher_free(h);
	out->len = 0;
	/* The same shape GitHub computes: 16 hex digits and an occurrence count. */
	if (rc == 0)
		rc = dd__buf_printf(out, "%.16s:1", d.str + 7);
	return rc;
}

/* A result's message: title, paths, what changed, package, detail. */
static int sarif_message(struct dd__buf *b, const struct dd_rule *rule, const struct dd_change *c,
			 const struct dd_finding *fnd, const char *path, size_t len)
{
	size_t k;

	if (dd__buf_puts(b, rule->title))
		return DD_ENOMEM;
	if (fnd) {
		for (k = 0; k < fnd->npaths && k < 3; k++)
			if (dd__buf_puts(b, k ? ", " : ": ") ||
			    dd__quote(b, fnd->paths[k].path, fnd->paths[k].len))
				return DD_ENOMEM;
		if (fnd->npaths > 3 && dd__buf_printf(b, " and %zu more", fnd->npaths - 3))
			return DD_ENOMEM;
	} else if (dd__buf_puts(b, ": ") || dd__quote(b, path, len)) {
		return DD_ENOMEM;
	}
	if (c && (c->kind == DD_CHANGE_MODIFIED || c->kind == DD_CHANGE_UNREADABLE) &&
	    (dd__buf_puts(b, " (") || dd__change_attrs_text(b, c) || dd__buf_puts(b, ")")))
		return DD_ENOMEM;
	if (fnd && fnd->package &&
	    dd__buf_printf(b, "; %s package %s %s%s%s", fnd->package->ecosystem ? fnd->package->ecosystem : "",
			   fnd->package->name ? fnd->package->name : "",
			   fnd->package->old_version ? fnd->package->old_version : "",
			   fnd->package->old_version && fnd->package->version ? " -> " : "",
			   fnd->package->version ? fnd->package->version : ""))
		return DD_ENOMEM;
	if (fnd && fnd->detail && (dd__buf_puts(b, ": ") || dd__buf_puts(b, fnd->detail)))
		return DD_ENOMEM;
	return 0;
}

/*
 * One SARIF result: for a finding (FND, maybe with its change C) or for a
 * change no finding covers (C alone).
 */
static int sarif_result(const struct dd__report *r, const struct dd_rule *rule, size_t rule_index,
			enum dd_severity sev, const struct dd_change *c, const struct dd_finding *fnd,
			struct json_object **out)
{
	struct json_object *o = json_object_new_object(), *t, *loc, *pl, *al, *props;
	struct dd__buf b = DD__BUF_INIT;
	const char *path = c ? c->path : "/", *why = NULL;
	size_t len = c ? c->path_len : 1;
	int rc = DD_ENOMEM;

	(void)r;
	*out = NULL;
	if (fnd && fnd->npaths) {
		path = fnd->paths[0].path;
		len = fnd->paths[0].len;
	}
	json_object_object_add(o, "ruleId", jstr(rule->id));
	json_object_object_add(o, "ruleIndex", json_object_new_uint64(rule_index));
	json_object_object_add(o, "level", jstr(sarif_level(sev)));
	if (sarif_message(&b, rule, c, fnd, path, len))
		goto out;
	t = json_object_new_object();
	json_object_object_add(t, "text", json_object_new_string_len(b.data, (int)b.len));
	json_object_object_add(o, "message", t);
	if (!dd__utf8_valid(b.data, b.len)) {
		struct dd__buf v = DD__BUF_INIT;

		if (dd__escape_invalid_utf8(&v, b.data, b.len) || dd__buf_grow(&v, 0)) {
			dd__buf_free(&v);
			goto out;
		}
		json_object_object_add(t, "text", json_object_new_string_len(v.data, (int)v.len));
		dd__buf_free(&v);
	}
	b.len = 0;
	/* A finding without a path (configuration) points at the root itself. */
	if (len > 1 ? uri_encode(&b, path + 1, len - 1) : dd__buf_puts(&b, "."))
		goto out;
	al = json_object_new_object();
	json_object_object_add(al, "uri", json_object_new_string(b.data));
	json_object_object_add(al, "uriBaseId", json_object_new_string("ROOTFS"));
	pl = json_object_new_object();
	json_object_object_add(pl, "artifactLocation", al);
	t = json_object_new_object();
	json_object_object_add(t, "startLine", json_object_new_int(1));
	json_object_object_add(pl, "region", t);
	loc = json_object_new_object();
	json_object_object_add(loc, "physicalLocation", pl);
	t = json_object_new_array();
	json_object_array_add(t, loc);
	json_object_object_add(o, "locations", t);
	/* Two findings of one rule on one path (two new accounts) differ in their detail. */
	if (fingerprint(&b, rule, path, len, c ? dd_change_kind_name(c->kind) :
			fnd && fnd->package ? fnd->package->name : "",
			fnd && fnd->detail ? fnd->detail : ""))
		goto out;
	t = json_object_new_object();
	json_object_object_add(t, "primaryLocationLineHash", json_object_new_string(b.data));
	json_object_object_add(o, "partialFingerprints", t);
	if (c && (c->flags & DD_CHANGE_IGNORED))
		why = c->ignored_by;
	else if (fnd && fnd->suppressed_by)
		why = fnd->suppressed_by;
	if (why) {
		struct json_object *s = json_object_new_object(), *arr = json_object_new_array();

		json_object_object_add(s, "kind", json_object_new_string("external"));
		json_object_object_add(s, "justification", jstr(why));
		json_object_array_add(arr, s);
		json_object_object_add(o, "suppressions", arr);
	}
	props = json_object_new_object();
	if (c) {
		json_object_object_add(props, "kind", jstr(dd_change_kind_name(c->kind)));
		json_object_object_add(props, "changed", attrs_array(c->attrs));
	}
	json_object_object_add(props, "severity", jstr(dd_severity_name(sev)));
	json_object_object_add(o, "properties", props);
	*out = o;
	o = NULL;
	rc = 0;
out:
	json_object_put(o);
	dd__buf_free(&b);
	return rc;
}

int dd__report_sarif(struct dd__report *r)
{
	struct json_object *root = json_object_new_object(), *run = json_object_new_object();
	struct json_object *driver = json_object_new_object(), *tool = json_object_new_object();
	struct json_object *rules_arr = json_object_new_array(), *results = json_object_new_array();
	struct json_object *o, *bases, *runs;
	const struct dd_rule *rules;
	struct dd__buf b = DD__BUF_INIT;
	size_t nrules, i, n = dd_diff_count(r->diff), emitted = 0, dropped = 0;
	const char *target = r->opts->target ? r->opts->target : "target";
	int rc = 0;

	rules = dd_rules(&nrules);
	json_object_object_add(root, "$schema",
			       json_object_new_string("https://json.schemastore.org/sarif-2.1.0.json"));
	json_object_object_add(root, "version", json_object_new_string("2.1.0"));
	runs = json_object_new_array();
	json_object_object_add(root, "runs", runs);
	json_object_array_add(runs, run);
	json_object_object_add(driver, "name", json_object_new_string("driftdiff"));
	json_object_object_add(driver, "version", json_object_new_string(dd_version()));
	json_object_object_add(driver, "semanticVersion", json_object_new_string(dd_version()));
	json_object_object_add(driver, "informationUri",
			       json_object_new_string("https://github.com/driftdiff/driftdiff"));
	for (i = 0; i < nrules; i++)
		json_object_array_add(rules_arr, sarif_rule(&rules[i]));
	json_object_object_add(driver, "rules", rules_arr);
	json_object_object_add(tool, "driver", driver);
	json_object_object_add(run, "tool", tool);
	/*
	 * The category: several targets per commit must not replace each
	 * other's alerts, and one target must keep its category across runs:
	 * by default the target's last path component.
	 */
	if (r->opts->category) {
		rc = dd__buf_printf(&b, "%s/", r->opts->category);
	} else {
		size_t tl = strlen(target);

		while (tl > 1 && target[tl - 1] == '/')
			tl--;
		i = dd__path_base_off(target, tl);
		rc = dd__buf_puts(&b, "driftdiff/") || dd__escape_invalid_utf8(&b, target + i, tl - i) ||
		     dd__buf_puts(&b, "/");
	}
	if (rc)
		goto out;
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(b.data));
	json_object_object_add(run, "automationDetails", o);
	bases = json_object_new_object();
	o = json_object_new_object();
	json_object_object_add(o, "uri", json_object_new_string(r->opts->target_uri ? r->opts->target_uri
										    : "file:///"));
	{
		struct json_object *d = json_object_new_object();

		json_object_object_add(d, "text", json_object_new_string("the container's root filesystem"));
		json_object_object_add(o, "description", d);
	}
	json_object_object_add(bases, "ROOTFS", o);
	json_object_object_add(run, "originalUriBaseIds", bases);
	/* Findings first, then every change no finding covers under its drift rule. */
	for (i = 0; rc == 0 && i < dd_findings_count(r->findings); i++) {
		const struct dd_finding *f = dd_findings_get(r->findings, i);

		if (emitted >= SARIF_MAX_RESULTS) {
			dropped++;
			continue;
		}
		rc = sarif_result(r, f->rule, (size_t)(f->rule - rules), f->severity, f->change, f, &o);
		if (rc == 0) {
			json_object_array_add(results, o);
			emitted++;
		}
	}
	for (i = 0; rc == 0 && i < n; i++) {
		const struct dd_change *c = dd_diff_change(r->diff, i);
		const struct dd_rule *rule = dd__change_rule(c);

		if (r->covered[i])
			continue;
		if (emitted >= SARIF_MAX_RESULTS) {
			dropped++;
			continue;
		}
		if (!rule)
			continue;
		rc = sarif_result(r, rule, (size_t)(rule - rules), c->severity, c, NULL, &o);
		if (rc == 0) {
			json_object_array_add(results, o);
			emitted++;
		}
	}
	json_object_object_add(run, "results", results);
	results = NULL;
	o = json_object_new_object();
	json_object_object_add(o, "image", image_json(r));
	json_object_object_add(o, "summary", summary_json(r));
	if (dropped)
		json_object_object_add(o, "results_omitted", json_object_new_uint64(dropped));
	json_object_object_add(run, "properties", o);
	if (rc == 0)
		rc = emit(r, root);
out:
	json_object_put(results);
	json_object_put(root);
	dd__buf_free(&b);
	return rc;
}
