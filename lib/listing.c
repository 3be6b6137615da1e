/*
 * Writing trees: the text listing for people and the JSONL form that the
 * saved manifest also uses. JSON is built with json-c, never by hand.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "listing.h"

static int put_bytes(struct json_object *o, const char *key, const char *bkey,
		     const char *s, size_t len)
{
	struct dd__buf b = DD__BUF_INIT;
	int rc = DD_ENOMEM;

	if (dd__utf8_valid(s, len) && !memchr(s, '\0', len)) {
		json_object_object_add(o, key, json_object_new_string_len(s, (int)len));
		return 0;
	}
	/* Not UTF-8: a readable escape, plus the exact bytes in base64. */
	if (dd__escape_invalid_utf8(&b, s, len) || !b.data)
		goto out;
	json_object_object_add(o, key, json_object_new_string_len(b.data, (int)b.len));
	b.len = 0;
	if (dd__base64(&b, (const unsigned char *)s, len) || !b.data)
		goto out;
	json_object_object_add(o, bkey, json_object_new_string_len(b.data, (int)b.len));
	rc = 0;
out:
	dd__buf_free(&b);
	return rc;
}

static struct json_object *caps_json(const struct dd_caps *c)
{
	struct json_object *o = json_object_new_object(), *p = json_object_new_array();
	struct json_object *in = json_object_new_array();
	unsigned i;

	for (i = 0; i < 64; i++) {
		const char *name = dd_cap_name(i);
		char num[24];

		if (!name) {
			snprintf(num, sizeof(num), "cap_%u", i);
			name = num;
		}
		if (c->permitted & ((uint64_t)1 << i))
			json_object_array_add(p, json_object_new_string(name));
		if (c->inheritable & ((uint64_t)1 << i))
			json_object_array_add(in, json_object_new_string(name));
	}
	json_object_object_add(o, "effective", json_object_new_boolean(c->effective));
	json_object_object_add(o, "permitted", p);
	json_object_object_add(o, "inheritable", in);
	if (c->has_rootid)
		json_object_object_add(o, "rootid", json_object_new_int64(c->rootid));
	return o;
}

int dd__entry_json(const struct dd_entry *e, bool with_content, struct json_object **out)
{
	struct json_object *o = json_object_new_object(), *x;
	struct dd__buf b = DD__BUF_INIT;
	char hex[65];
	uint32_t i;
	int rc = DD_ENOMEM;

	*out = NULL;
	if (!o)
		return DD_ENOMEM;
	if (put_bytes(o, "path", "path_bytes", e->path, e->path_len))
		goto out;
	json_object_object_add(o, "type", json_object_new_string(dd_type_name(e->type)));
	json_object_object_add(o, "mode", json_object_new_int64(e->mode));
	json_object_object_add(o, "uid", json_object_new_uint64(e->uid));
	json_object_object_add(o, "gid", json_object_new_uint64(e->gid));
	json_object_object_add(o, "size", json_object_new_uint64(e->size));
	json_object_object_add(o, "mtime", json_object_new_int64(e->mtime));
	if (e->mtime_nsec)
		json_object_object_add(o, "mtime_nsec", json_object_new_int64(e->mtime_nsec));
	if (e->has_sha256) {
		dd__hex(hex, e->sha256, 32);
		json_object_object_add(o, "sha256", json_object_new_string(hex));
	}
	/* What the content sniff saw: diffing against this entry needs it (diff.c's is_exec). */
	if (e->type == DD_TYPE_FILE && e->exec != DD_EXEC_NONE) {
		json_object_object_add(o, "exec", json_object_new_string(e->exec == DD_EXEC_ELF ? "elf"
												     : "script"));
		if (e->exec == DD_EXEC_ELF)
			json_object_object_add(o, "elf_machine", json_object_new_int(e->elf_machine));
	}
	if (e->target && put_bytes(o, "target", "target_bytes", e->target, e->target_len))
		goto out;
	if (e->extra->hardlink &&
	    put_bytes(o, "hardlink", "hardlink_bytes", e->extra->hardlink, e->extra->hardlink_len))
		goto out;
	if (e->type == DD_TYPE_CHAR || e->type == DD_TYPE_BLOCK) {
		json_object_object_add(o, "rdev_major", json_object_new_int64(e->extra->rdev_major));
		json_object_object_add(o, "rdev_minor", json_object_new_int64(e->extra->rdev_minor));
	}
	if (e->extra->nxattrs) {
		struct dd_caps caps;
		const struct dd_xattr *cap = dd_entry_xattr(e, "security.capability");

		x = json_object_new_object();
		json_object_object_add(o, "xattrs", x);
		for (i = 0; i < e->extra->nxattrs; i++) {
			b.len = 0;
			if (dd__base64(&b, e->extra->xattrs[i].value, e->extra->xattrs[i].len) ||
			    dd__buf_grow(&b, 0))
				goto out;
			json_object_object_add(x, e->extra->xattrs[i].name,
					       json_object_new_string_len(b.data, (int)b.len));
		}
		if (cap && dd_caps_decode(&caps, cap->value, cap->len) == 0)
			json_object_object_add(o, "capabilities", caps_json(&caps));
	}
	if (with_content && e->extra->content) {
		b.len = 0;
		if (dd__base64(&b, e->extra->content, e->extra->content_len) || dd__buf_grow(&b, 0))
			goto out;
		json_object_object_add(o, "content", json_object_new_string_len(b.data, (int)b.len));
	}
	json_object_object_add(o, "layer", json_object_new_int(e->layer));
	if (e->flags & DD_ENTRY_IMPLICIT)
		json_object_object_add(o, "implicit", json_object_new_boolean(1));
	*out = o;
	o = NULL;
	rc = 0;
out:
	dd__buf_free(&b);
	json_object_put(o);
	return rc;
}

int dd__json_write_line(struct json_object *o, FILE *f)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE);

	if (!s || fputs(s, f) < 0 || fputc('\n', f) == EOF)
		return DD_EIO;
	return 0;
}

void dd__mode_string(char out[11], enum dd_type type, uint32_t mode)
{
	static const char types[] = "?-dlcbps";
	const char *rwx = "rwxrwxrwx";
	int i;

	out[0] = (unsigned)type < sizeof(types) - 1 ? types[type] : '?';
	for (i = 0; i < 9; i++)
		out[1 + i] = (mode & (0400u >> i)) ? rwx[i] : '-';
	if (mode & 04000)
		out[3] = (mode & 0100) ? 's' : 'S';
	if (mode & 02000)
		out[6] = (mode & 0010) ? 's' : 'S';
	if (mode & 01000)
		out[9] = (mode & 0001) ? 't' : 'T';
	out[10] = '\0';
}

static int text_line(const struct dd_entry *e, struct dd__buf *b)
{
	char mode[11], hex[65];
	struct dd_caps caps;
	const struct dd_xattr *cap = dd_entry_xattr(e, "security.capability");
	int rc;

	b->len = 0;
	dd__mode_string(mode, e->type, e->mode);
	if (e->has_sha256)
		dd__hex(hex, e->sha256, 32);
	else
		strcpy(hex, "-");
	rc = dd__buf_printf(b, "%s %5llu %5llu %10llu %3d %-64s ", mode,
			    (unsigned long long)e->uid, (unsigned long long)e->gid,
			    (unsigned long long)e->size, e->layer, hex);
	if (!rc)
		rc = dd__quote_path(b, e->path, e->path_len);
	if (!rc && e->target) {
		rc = dd__buf_puts(b, " -> ");
		if (!rc)
			rc = dd__quote_path(b, e->target, e->target_len);
	}
	if (!rc && e->extra->hardlink) {
		rc = dd__buf_puts(b, " => ");
		if (!rc)
			rc = dd__quote_path(b, e->extra->hardlink, e->extra->hardlink_len);
	}
	if (!rc && (e->type == DD_TYPE_CHAR || e->type == DD_TYPE_BLOCK))
		rc = dd__buf_printf(b, " [%u,%u]", e->extra->rdev_major, e->extra->rdev_minor);
	if (!rc && cap && dd_caps_decode(&caps, cap->value, cap->len) == 0) {
		unsigned i;
		bool first = true;

		rc = dd__buf_puts(b, " [");
		for (i = 0; !rc && i < 64; i++) {
			if (!(caps.permitted & ((uint64_t)1 << i)))
				continue;
			rc = dd__buf_printf(b, "%s%s", first ? "" : ",",
					    dd_cap_name(i) ? dd_cap_name(i) : "cap_?");
			first = false;
		}
		if (!rc)
			rc = dd__buf_printf(b, "%s]", caps.effective ? "+ep" : "+p");
	}
	if (!rc)
		rc = dd__buf_puts(b, "\n");
	return rc;
}

int dd__tree_write(struct dd_ctx *ctx, const struct dd_tree *tree, enum dd_listing format,
		   bool with_content, FILE *f)
{
	struct dd__buf b = DD__BUF_INIT;
	struct json_object *o;
	size_t i, n = dd_tree_count(tree);
	int rc = 0;

	if (!tree || !f)
		return dd__error(ctx, DD_EINVAL, "dd_tree_write: no tree or stream");
	if (format != DD_LISTING_TEXT && format != DD_LISTING_JSONL)
		return dd__error(ctx, DD_EINVAL, "dd_tree_write: unknown format %d", (int)format);
	for (i = 0; i < n && rc == 0; i++) {
		const struct dd_entry *e = dd_tree_entry(tree, i);

		if (format == DD_LISTING_TEXT) {
			rc = text_line(e, &b);
			if (!rc && fwrite(b.data, 1, b.len, f) != b.len)
				rc = DD_EIO;
			continue;
		}
		rc = dd__entry_json(e, with_content, &o);
		if (!rc)
			rc = dd__json_write_line(o, f);
		json_object_put(o);
	}
	dd__buf_free(&b);
	if (rc == DD_ENOMEM)
		return dd__error(ctx, rc, "out of memory");
	if (rc || fflush(f) != 0 || ferror(f))
		return dd__error(ctx, DD_EIO, "write error");
	return 0;
}

int dd_tree_write(struct dd_ctx *ctx, const struct dd_tree *tree, enum dd_listing format, FILE *f)
{
	return dd__tree_write(ctx, tree, format, false, f);
}
