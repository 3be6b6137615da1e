/*
 * Package drift: the package databases of the image and of the target are
 * read (dpkg, apk, Python dist-info/egg-info, npm package.json), compared
 * package by package, and the files a package owns are checked against
 * the diff: a changed file of an unchanged package was not changed by the
 * package manager. RPM databases are only detected (no sqlite/bdb reader).
 *
 * Every database is attacker-controlled input: parsers never trust a
 * length, never copy into fixed buffers, and stop at the limits below. A
 * malformed file contributes nothing but an error (DD-PKG-006 when it
 * changed), so a garbled database never reads as "every package removed".
 */
#include <stdlib.h>
#include <string.h>

#include "findings.h"
#include "json.h"
#include "pkgdb.h"

#define MAX_VALUE 4096          /* bytes of a name, version or architecture */
#define MAX_PKGS (1u << 20)     /* package records in one tree */
#define MAX_OWNED (1u << 23)    /* owned paths in one tree */
#define MAX_PATH 4096

struct owned {
	const char *path;
	size_t len;
	const struct dd__pkg *pkg;
	const unsigned char *sha256; /* from a RECORD, or NULL */
};

/* A dpkg file list (info/NAME[:ARCH].list, *.md5sums), read once packages are known. */
struct filelist {
	const struct dd_entry *e;
	const char *name, *arch;
	size_t name_len, arch_len;
	bool md5sums;
};

struct dd__pkgdb {
	struct dd_ctx *ctx;
	struct dd__arena arena;
	struct dd__ptrvec all;       /* struct dd__pkg *, every record */
	struct dd__ptrvec pkgs;      /* canonical records, sorted by key */
	struct owned *owned;
	size_t nowned, owned_cap;
	size_t *slots;               /* hash of owned paths: index + 1, 0 = empty */
	size_t nslots;
	struct filelist *lists;
	size_t nlists, lists_cap;
	struct dd__ptrvec errors;    /* struct dd__pkgdb_error * */
	struct dd__buf why;          /* the current parse error */
	size_t files;
	/* The last Python METADATA read, for the RECORD that follows in the same dir. */
	const struct dd__pkg *last_python;
};

/* ---- small helpers ---- */

static int grow(void **items, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 16;
	void *p;

	if (need <= *cap)
		return 0;
	while (n < need) {
		if (n > SIZE_MAX / 2 / size)
			return DD_ENOMEM;
		n *= 2;
	}
	p = realloc(*items, n * size);
	if (!p)
		return DD_ENOMEM;
	*items = p;
	*cap = n;
	return 0;
}

static bool has_prefix(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	return n >= k && !memcmp(s, prefix, k);
}

static bool has_suffix(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && !memcmp(s + n - k, suffix, k);
}

static bool eq(const char *s, size_t n, const char *lit)
{
	return n == strlen(lit) && !memcmp(s, lit, n);
}

static bool eq_nocase(const char *s, size_t n, const char *lit)
{
	size_t i;

	if (n != strlen(lit))
		return false;
	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != lit[i])
			return false;
	}
	return true;
}

static void trim(const char **s, size_t *n)
{
	while (*n && (**s == ' ' || **s == '\t'))
		(*s)++, (*n)--;
	while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\r'))
		(*n)--;
}

/* The parse error of the file being read; the caller records it. */
static int why(struct dd__pkgdb *db, const char *fmt, ...) DD_PRINTF(2, 3);
static int why(struct dd__pkgdb *db, const char *fmt, ...)
{
	va_list ap;
	int rc;

	db->why.len = 0;
	va_start(ap, fmt);
	rc = dd__buf_vprintf(&db->why, fmt, ap);
	va_end(ap);
	return rc ? DD_ENOMEM : DD_EFORMAT;
}

/*
 * Names, versions and architectures go into reports: refuse empty,
 * over-long, white space and control bytes rather than pass them on.
 */
static bool token_ok(const char *s, size_t n)
{
	size_t i;

	if (!n || n > MAX_VALUE)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] == 0x7f)
			return false;
	return true;
}

struct lines {
	const char *p, *end;
	size_t no;
};

/* The lines of E's kept content. */
static struct lines lines_of(const struct dd_entry *e)
{
	const char *p = (const char *)e->extra->content;

	return (struct lines){ p, p + e->extra->content_len, 0 };
}

static bool next_line(struct lines *l, const char **s, size_t *n)
{
	const char *eol;

	if (l->p >= l->end)
		return false;
	eol = memchr(l->p, '\n', (size_t)(l->end - l->p));
	if (!eol)
		eol = l->end;
	*s = l->p;
	*n = (size_t)(eol - l->p);
	if (*n && (*s)[*n - 1] == '\r')
		(*n)--;
	l->p = eol < l->end ? eol + 1 : l->end;
	l->no++;
	return true;
}

static bool blank(const char *s, size_t n)
{
	trim(&s, &n);
	return n == 0;
}

/* A new record of E's file: DD_EFORMAT past the limit, DD_ENOMEM. */
static int pkg_new(struct dd__pkg **out, struct dd__pkgdb *db, const struct dd_entry *e, enum dd__eco eco)
{
	struct dd__pkg *p;

	*out = NULL;
	/* why() is not inlined (it takes varargs): spelt out, the result is plainly not 0. */
	if (db->all.len >= MAX_PKGS)
		return why(db, "more than %u packages", MAX_PKGS) == DD_ENOMEM ? DD_ENOMEM : DD_EFORMAT;
	p = dd__arena_alloc(&db->arena, sizeof(*p));
	if (!p || dd__ptrvec_push(&db->all, p))
		return DD_ENOMEM;
	memset(p, 0, sizeof(*p));
	p->eco = eco;
	p->name = p->arch = p->scope = p->version = "";
	p->db = e->path;
	p->db_len = e->path_len;
	p->canon = p;
	*out = p;
	return 0;
}

static const char *dup(struct dd__pkgdb *db, const char *s, size_t n)
{
	return dd__arena_strndup(&db->arena, s, n);
}

static int own(struct dd__pkgdb *db, const char *path, size_t len, const struct dd__pkg *p,
	       const unsigned char *sha256)
{
	struct owned *o;

	if (db->nowned >= MAX_OWNED)
		return 0;  /* past the limit, files are simply not attributed */
	if (grow((void **)&db->owned, &db->owned_cap, db->nowned + 1, sizeof(*db->owned)))
		return DD_ENOMEM;
	o = &db->owned[db->nowned++];
	o->path = path;
	o->len = len;
	o->pkg = p;
	o->sha256 = sha256;
	return 0;
}

/*
 * Lexically resolve REL against DIR ("." dropped, ".." pops) into an
 * absolute path in OUT. 1 when it climbs out of the root or is too long.
 */
static int resolve(struct dd__buf *out, const char *dir, size_t dlen, const char *rel, size_t rlen)
{
	size_t i = 0, k, pass;

	out->len = 0;
	if (dd__buf_grow(out, dlen + rlen + 2))
		return DD_ENOMEM;
	for (pass = 0; pass < 2; pass++) {
		const char *s = pass ? rel : dir;
		size_t n = pass ? rlen : dlen;

		if (pass && rlen && rel[0] == '/')
			out->len = 0;  /* an absolute RECORD path */
		for (i = 0; i < n;) {
			size_t start;

			while (i < n && s[i] == '/')
				i++;
			start = i;
			while (i < n && s[i] != '/')
				i++;
			if (i == start || (i - start == 1 && s[start] == '.'))
				continue;
			if (i - start == 2 && s[start] == '.' && s[start + 1] == '.') {
				if (!out->len)
					return 1;
				for (k = out->len; k > 0 && out->data[k - 1] != '/'; k--)
					;
				out->len = k - 1;
				continue;
			}
			out->data[out->len++] = '/';
			memcpy(out->data + out->len, s + start, i - start);
			out->len += i - start;
		}
	}
	if (!out->len || out->len > MAX_PATH)
		return 1;
	out->data[out->len] = '\0';
	return 0;
}

/* ---- dpkg: status, status.d/ ---- */

struct stanza {
	const char *v[4];    /* Package, Version, Architecture, Status */
	size_t n[4];
	size_t line;         /* where it starts */
};

static const char *const dpkg_fields[] = { "package", "version", "architecture", "status" };

/* Does a Status value leave the package's files on disk? */
static bool dpkg_installed(const char *s, size_t n, bool *ok)
{
	static const char *const on_disk[] = { "installed", "half-installed", "unpacked",
					       "half-configured", "triggers-awaited", "triggers-pending" };
	static const char *const off_disk[] = { "not-installed", "config-files" };
	const char *w = s + n;
	size_t i, words = 0, k;

	/* "WANT FLAG STATE": the last of three words is the state. */
	for (k = 0; k < n; k++)
		if (s[k] != ' ' && (k == 0 || s[k - 1] == ' '))
			words++;
	while (w > s && w[-1] != ' ')
		w--;
	*ok = words == 3;
	for (i = 0; i < DD_ARRAY_SIZE(on_disk); i++)
		if (eq(w, (size_t)(s + n - w), on_disk[i]))
			return true;
	for (i = 0; i < DD_ARRAY_SIZE(off_disk); i++)
		if (eq(w, (size_t)(s + n - w), off_disk[i]))
			return false;
	*ok = false;
	return false;
}

static int dpkg_stanza(struct dd__pkgdb *db, const struct dd_entry *e, const struct stanza *st,
		       bool status_d)
{
	struct dd__pkg *p;
	bool installed = status_d, ok = true;
	int rc;

	if (!st->v[0])
		return why(db, "line %zu: a stanza without a Package field", st->line);
	if (!token_ok(st->v[0], st->n[0]))
		return why(db, "line %zu: malformed Package field", st->line);
	if (st->v[3]) {
		installed = dpkg_installed(st->v[3], st->n[3], &ok);
		if (!ok)
			return why(db, "line %zu: malformed Status field", st->line);
	} else if (!status_d) {
		return why(db, "line %zu: package %.*s has no Status field", st->line,
			   (int)st->n[0], st->v[0]);
	}
	if (!installed)
		return 0;
	if (!st->v[1] || !token_ok(st->v[1], st->n[1]))
		return why(db, "line %zu: package %.*s has no valid Version field", st->line,
			   (int)st->n[0], st->v[0]);
	if (st->v[2] && !token_ok(st->v[2], st->n[2]))
		return why(db, "line %zu: malformed Architecture field", st->line);
	if ((rc = pkg_new(&p, db, e, DD__ECO_DPKG)))
		return rc;
	p->name = dup(db, st->v[0], st->n[0]);
	p->version = dup(db, st->v[1], st->n[1]);
	p->arch = st->v[2] ? dup(db, st->v[2], st->n[2]) : "";
	return p->name && p->version && p->arch ? 0 : DD_ENOMEM;
}

/* deb822 stanzas: "Field: value", continuation lines indented, blank lines between. */
static int dpkg_parse(struct dd__pkgdb *db, const struct dd_entry *e, bool status_d)
{
	struct lines l = lines_of(e);
	struct stanza st;
	bool in_field = false;
	const char *s;
	size_t n, f;
	int rc;

	memset(&st, 0, sizeof(st));
	while (next_line(&l, &s, &n)) {
		const char *colon, *v;
		size_t vn;

		if (blank(s, n)) {
			if (in_field && (rc = dpkg_stanza(db, e, &st, status_d)))
				return rc;
			memset(&st, 0, sizeof(st));
			in_field = false;
			continue;
		}
		if (s[0] == ' ' || s[0] == '\t') {
			if (!in_field)
				return why(db, "line %zu: continuation line outside a field", l.no);
			continue;
		}
		if (s[0] == '#')
			continue;
		colon = memchr(s, ':', n);
		if (!colon || colon == s || memchr(s, ' ', (size_t)(colon - s)))
			return why(db, "line %zu: not a \"Field: value\" line", l.no);
		if (!in_field)
			st.line = l.no;
		in_field = true;
		v = colon + 1;
		vn = n - (size_t)(v - s);
		trim(&v, &vn);
		for (f = 0; f < DD_ARRAY_SIZE(dpkg_fields); f++) {
			if (!eq_nocase(s, (size_t)(colon - s), dpkg_fields[f]))
				continue;
			if (st.v[f])
				return why(db, "line %zu: a second %.*s field in one stanza", l.no,
					   (int)(colon - s), s);
			st.v[f] = v;
			st.n[f] = vn;
		}
	}
	return in_field ? dpkg_stanza(db, e, &st, status_d) : 0;
}

/* info/NAME[:ARCH].list, info/NAME[:ARCH].md5sums, status.d/NAME.md5sums */
static int dpkg_list(struct dd__pkgdb *db, const struct dd_entry *e, size_t base_off, bool md5sums)
{
	const char *name = e->path + base_off, *colon;
	size_t n = e->path_len - base_off - (md5sums ? 8 : 5);
	struct filelist *fl;

	if (grow((void **)&db->lists, &db->lists_cap, db->nlists + 1, sizeof(*db->lists)))
		return DD_ENOMEM;
	fl = &db->lists[db->nlists++];
	fl->e = e;
	fl->md5sums = md5sums;
	colon = memchr(name, ':', n);
	fl->name = name;
	fl->name_len = colon ? (size_t)(colon - name) : n;
	fl->arch = colon ? colon + 1 : "";
	fl->arch_len = colon ? n - fl->name_len - 1 : 0;
	return 0;
}

/* ---- apk: lib/apk/db/installed ---- */

static int apk_parse(struct dd__pkgdb *db, const struct dd_entry *e)
{
	struct lines l = lines_of(e);
	struct dd__buf path = DD__BUF_INIT;
	struct dd__pkg *p = NULL;
	const char *dir = NULL, *s;
	size_t dir_len = 0, n, start = 0;
	int rc = 0;

	for (;;) {
		bool more = next_line(&l, &s, &n);

		if (!more || blank(s, n)) {
			if (p && (!*p->name || !*p->version)) {
				rc = why(db, "line %zu: package without P: or V:", start);
				goto out;
			}
			p = NULL;
			dir = NULL;
			dir_len = 0;
			if (!more)
				break;
			continue;
		}
		if (n < 2 || s[1] != ':') {
			rc = why(db, "line %zu: not a \"K:value\" line", l.no);
			goto out;
		}
		if (!p) {
			if ((rc = pkg_new(&p, db, e, DD__ECO_APK)))
				goto out;
			start = l.no;
		}
		switch (s[0]) {
		case 'P':
		case 'V':
			if ((s[0] == 'P' ? *p->name : *p->version) || !token_ok(s + 2, n - 2)) {
				rc = why(db, "line %zu: repeated or malformed %c: field", l.no, s[0]);
				goto out;
			}
			if (s[0] == 'P')
				p->name = dup(db, s + 2, n - 2);
			else
				p->version = dup(db, s + 2, n - 2);
			if (!p->name || !p->version) {
				rc = DD_ENOMEM;
				goto out;
			}
			break;
		case 'F':
			dir = s + 2;
			dir_len = n - 2;
			break;
		case 'R':
			/* R: names a file in the last F: directory. */
			rc = resolve(&path, dir ? dir : "", dir_len, s + 2, n - 2);
			if (rc < 0)
				goto out;
			if (rc == 0) {
				const char *copy = dup(db, path.data, path.len);

				if (!copy || own(db, copy, path.len, p, NULL)) {
					rc = DD_ENOMEM;
					goto out;
				}
			}
			rc = 0;
			break;
		default:
			break;
		}
	}
out:
	dd__buf_free(&path);
	return rc;
}

/* ---- Python: METADATA, PKG-INFO, RECORD ---- */

/* PEP 503: lower case, runs of "-", "_" and "." become one "-". */
static const char *pep503(struct dd__pkgdb *db, const char *s, size_t n)
{
	char *out = dd__arena_alloc(&db->arena, n + 1);
	size_t i, k = 0;

	if (!out)
		return NULL;
	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '-' || c == '_' || c == '.') {
			if (!k || out[k - 1] != '-')
				out[k++] = '-';
		} else {
			out[k++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		}
	}
	out[k] = '\0';
	return out;
}

/* RFC 822 headers up to the first blank line: Name and Version. */
static int python_parse(struct dd__pkgdb *db, const struct dd_entry *e)
{
	struct lines l = lines_of(e);
	const char *name = NULL, *version = NULL, *s;
	size_t name_n = 0, version_n = 0, n, dir, site;
	struct dd__pkg *p;
	int rc;

	while (next_line(&l, &s, &n) && !blank(s, n)) {
		const char *colon, *v;
		size_t vn;

		if (s[0] == ' ' || s[0] == '\t')
			continue;
		colon = memchr(s, ':', n);
		if (!colon || colon == s)
			return why(db, "line %zu: not a \"Header: value\" line", l.no);
		v = colon + 1;
		vn = n - (size_t)(v - s);
		trim(&v, &vn);
		if (!name && eq_nocase(s, (size_t)(colon - s), "name")) {
			name = v;
			name_n = vn;
		} else if (!version && eq_nocase(s, (size_t)(colon - s), "version")) {
			version = v;
			version_n = vn;
		}
	}
	if (!name || !token_ok(name, name_n))
		return why(db, "no valid Name header");
	if (!version || !token_ok(version, version_n))
		return why(db, "no valid Version header");
	if ((rc = pkg_new(&p, db, e, DD__ECO_PYTHON)))
		return rc;
	dir = dd__path_parent_len(e->path, e->path_len);
	site = dd__path_parent_len(e->path, dir);
	p->name = pep503(db, name, name_n);
	p->version = dup(db, version, version_n);
	p->scope = dup(db, e->path, site);
	if (!p->name || !p->version || !p->scope)
		return DD_ENOMEM;
	db->last_python = p;
	return 0;
}

/* urlsafe base64 without padding, as RECORD writes a sha256: 43 chars -> 32 bytes. */
static unsigned char *record_hash(struct dd__pkgdb *db, const char *s, size_t n, bool *bad)
{
	struct dd__buf std = DD__BUF_INIT, raw = DD__BUF_INIT;
	unsigned char *out = NULL;
	size_t i;

	*bad = false;
	if (!has_prefix(s, n, "sha256="))
		return NULL;  /* another algorithm, or none: nothing to check */
	s += 7;
	n -= 7;
	*bad = true;
	if (n != 43)
		return NULL;
	if (dd__buf_grow(&std, 45)) {
		*bad = false;
		goto out;
	}
	for (i = 0; i < n; i++)
		std.data[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	std.data[43] = '=';
	std.len = 44;
	if (dd__base64_decode(&raw, std.data, std.len) || raw.len != 32)
		goto out;
	out = dd__arena_alloc(&db->arena, 32);
	if (out)
		memcpy(out, raw.data, 32);
	*bad = false;
out:
	dd__buf_free(&std);
	dd__buf_free(&raw);
	return out;
}

/*
 * One CSV record from S at *I into the first three fields; RFC 4180
 * quoting ("" inside quotes, newlines allowed there). 0 at the end of the
 * input, 1 for a record, DD_EFORMAT / DD_ENOMEM.
 */
static int csv_record(const char *s, size_t n, size_t *i, struct dd__buf f[3], size_t *nf)
{
	size_t k;

	for (k = 0; k < 3; k++)
		f[k].len = 0;
	*nf = 0;
	if (*i >= n)
		return 0;
	for (;;) {
		struct dd__buf *out = *nf < 3 ? &f[*nf] : NULL;
		bool quoted = *i < n && s[*i] == '"';

		if (quoted)
			(*i)++;
		for (;;) {
			char c;

			if (*i >= n) {
				if (quoted)
					return DD_EFORMAT;
				break;
			}
			c = s[*i];
			if (quoted && c == '"') {
				if (*i + 1 < n && s[*i + 1] == '"') {
					*i += 2;
					if (out && dd__buf_put(out, "\"", 1))
						return DD_ENOMEM;
					continue;
				}
				(*i)++;
				quoted = false;
				if (*i < n && s[*i] != ',' && s[*i] != '\n' && s[*i] != '\r')
					return DD_EFORMAT;
				continue;
			}
			if (!quoted && (c == ',' || c == '\n'))
				break;
			if (!quoted && c == '\r' && (*i + 1 >= n || s[*i + 1] == '\n')) {
				(*i)++;
				continue;
			}
			if (out && out->len >= MAX_PATH)
				return DD_EFORMAT;
			if (out && dd__buf_put(out, &c, 1))
				return DD_ENOMEM;
			(*i)++;
		}
		(*nf)++;
		if (*i >= n || s[*i] == '\n') {
			if (*i < n)
				(*i)++;
			return 1;
		}
		(*i)++;  /* the comma */
	}
}

/* RECORD: path,sha256=...,size; paths relative to the site dir. */
static int record_parse(struct dd__pkgdb *db, const struct dd_entry *e)
{
	struct dd__buf f[3] = { DD__BUF_INIT, DD__BUF_INIT, DD__BUF_INIT }, path = DD__BUF_INIT;
	const struct dd__pkg *p = db->last_python;
	const char *s = (const char *)e->extra->content;
	size_t i = 0, nf, dir = dd__path_parent_len(e->path, e->path_len), rows = 0;
	int rc;

	/* The METADATA of the same .dist-info dir was read just before. */
	if (!p || p->db_len <= dir || memcmp(p->db, e->path, dir) || p->db[dir] != '/' ||
	    memchr(p->db + dir + 1, '/', p->db_len - dir - 1))
		return 0;
	while ((rc = csv_record(s, e->extra->content_len, &i, f, &nf)) == 1) {
		unsigned char *sha;
		const char *copy;
		bool bad;

		rows++;
		if (rows > MAX_PKGS) {
			rc = why(db, "more than %u rows", MAX_PKGS);
			goto out;
		}
		if (!f[0].len)
			continue;
		if (memchr(f[0].data, '\0', f[0].len)) {
			rc = why(db, "row %zu: a NUL byte in a path", rows);
			goto out;
		}
		sha = nf > 1 ? record_hash(db, f[1].data, f[1].len, &bad) : NULL;
		if (nf > 1 && bad) {
			rc = why(db, "row %zu: malformed sha256", rows);
			goto out;
		}
		rc = resolve(&path, p->scope, strlen(p->scope), f[0].data, f[0].len);
		if (rc < 0)
			goto out;
		if (rc == 1)
			continue;  /* outside the root: nothing of the tree */
		copy = dup(db, path.data, path.len);
		if (!copy || own(db, copy, path.len, p, sha)) {
			rc = DD_ENOMEM;
			goto out;
		}
	}
	if (rc == DD_EFORMAT)
		rc = why(db, "row %zu: unterminated quote or junk after a quoted field", rows + 1);
out:
	for (i = 0; i < 3; i++)
		dd__buf_free(&f[i]);
	dd__buf_free(&path);
	return rc;
}

/* ---- npm: node_modules/[@SCOPE/]NAME/package.json ---- */

static int npm_parse(struct dd__pkgdb *db, const struct dd_entry *e)
{
	struct json_object *obj = NULL;
	const char *name, *version;
	size_t dir = dd__path_parent_len(e->path, e->path_len), nm;
	struct dd__pkg *p;
	int rc;

	rc = dd__json_parse(db->ctx, "package.json", (const char *)e->extra->content,
			    e->extra->content_len, &obj);
	if (rc) {
		if (rc != DD_ENOMEM)
			rc = why(db, "%s", dd_ctx_error(db->ctx));
		dd_ctx_clear_error(db->ctx);
		goto out;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		rc = why(db, "not a JSON object");
		goto out;
	}
	name = dd__json_str(obj, "name");
	version = dd__json_str(obj, "version");
	/* Without both it is no installed package (a workspace, a test fixture). */
	if (!name || !version)
		goto out;
	if (!token_ok(name, strlen(name)) || !token_ok(version, strlen(version))) {
		rc = why(db, "malformed \"name\" or \"version\"");
		goto out;
	}
	if ((rc = pkg_new(&p, db, e, DD__ECO_NPM)))
		goto out;
	/* The scope is the node_modules dir: one level up, two for @scope/name. */
	nm = dd__path_parent_len(e->path, dir);
	if (e->path[dd__path_base_off(e->path, nm)] == '@')
		nm = dd__path_parent_len(e->path, nm);
	p->name = dup(db, name, strlen(name));
	p->version = dup(db, version, strlen(version));
	p->scope = dup(db, e->path, nm);
	if (!p->name || !p->version || !p->scope)
		rc = DD_ENOMEM;
out:
	json_object_put(obj);
	return rc;
}

/* ---- which files are databases ---- */

enum db_kind {
	DB_NONE,
	DB_DPKG_STATUS,
	DB_DPKG_STATUS_D,
	DB_DPKG_LIST,
	DB_DPKG_MD5SUMS,
	DB_APK,
	DB_PY_META,
	DB_PY_RECORD,
	DB_NPM,
};

static enum db_kind db_kind(const char *path, size_t len, size_t *base_off)
{
	size_t off = dd__path_base_off(path, len), dir;

	*base_off = off;
	if (eq(path, len, "/var/lib/dpkg/status"))
		return DB_DPKG_STATUS;
	if (eq(path, len, "/lib/apk/db/installed"))
		return DB_APK;
	if (off == 23 && has_prefix(path, len, "/var/lib/dpkg/status.d/") && len > off)
		return has_suffix(path, len, ".md5sums") ? DB_DPKG_MD5SUMS : DB_DPKG_STATUS_D;
	if (off == 19 && has_prefix(path, len, "/var/lib/dpkg/info/")) {
		if (has_suffix(path, len, ".list") && len > off + 5)
			return DB_DPKG_LIST;
		if (has_suffix(path, len, ".md5sums") && len > off + 8)
			return DB_DPKG_MD5SUMS;
		return DB_NONE;
	}
	if (!dd_entry_content_kept(path, len))
		return DB_NONE;
	dir = off ? off - 1 : 0;
	if (has_suffix(path, dir, ".dist-info"))
		return eq(path + off, len - off, "RECORD") ? DB_PY_RECORD : DB_PY_META;
	if (has_suffix(path, dir, ".egg-info"))
		return DB_PY_META;
	if (eq(path + off, len - off, "package.json")) {
		size_t name = dd__path_base_off(path, dir);

		/* Hidden entries of node_modules (.bin, .cache) hold no package. */
		return path[name] == '.' ? DB_NONE : DB_NPM;
	}
	return DB_NONE;
}

bool dd__pkgdb_is_db_path(const char *path, size_t len)
{
	size_t off;

	return db_kind(path, len, &off) != DB_NONE;
}

static int record_error(struct dd__pkgdb *db, const struct dd_entry *e, const char *msg)
{
	struct dd__pkgdb_error *err = dd__arena_alloc(&db->arena, sizeof(*err));

	if (!err || dd__ptrvec_push(&db->errors, err))
		return DD_ENOMEM;
	err->path = e->path;
	err->len = e->path_len;
	err->msg = dup(db, msg, strlen(msg));
	return err->msg ? 0 : DD_ENOMEM;
}

int dd__pkgdb_add(struct dd__pkgdb *db, const struct dd_entry *e)
{
	size_t off, npkgs = db->all.len, nowned = db->nowned;
	enum db_kind kind = db_kind(e->path, e->path_len, &off);
	const struct dd__pkg *last_python = db->last_python;
	int rc;

	if (kind == DB_NONE || e->type != DD_TYPE_FILE)
		return 0;
	db->files++;
	if (kind == DB_DPKG_LIST || kind == DB_DPKG_MD5SUMS)
		return dpkg_list(db, e, off, kind == DB_DPKG_MD5SUMS);
	if (!e->extra->content && e->size > 0) {
		rc = why(db, "content not available (unreadable, or over %u bytes)", DD__CONTENT_MAX);
	} else if (e->extra->content && memchr(e->extra->content, '\0', e->extra->content_len)) {
		rc = why(db, "binary data (a NUL byte)");
	} else {
		/* An empty file may have no content buffer: parse "" instead. */
		struct dd_entry view = *e;
		struct dd_entry_extra x = *e->extra;

		if (!x.content) {
			x.content = (const unsigned char *)"";
			x.content_len = 0;
		}
		view.extra = &x;
		switch (kind) {
		case DB_DPKG_STATUS: rc = dpkg_parse(db, &view, false); break;
		case DB_DPKG_STATUS_D: rc = dpkg_parse(db, &view, true); break;
		case DB_APK: rc = apk_parse(db, &view); break;
		case DB_PY_META: rc = python_parse(db, &view); break;
		case DB_PY_RECORD: rc = record_parse(db, &view); break;
		case DB_NPM: rc = npm_parse(db, &view); break;
		default: rc = 0; break;
		}
	}
	if (rc != DD_EFORMAT)
		return rc;
	/* A malformed file counts for nothing: drop what it had added. */
	db->all.len = npkgs;
	db->nowned = nowned;
	db->last_python = last_python;
	return record_error(db, e, db->why.data ? db->why.data : "malformed");
}

/* ---- finishing: sort, merge duplicates, ownership ---- */

static int key_cmp(const struct dd__pkg *a, const struct dd__pkg *b)
{
	int c;

	if (a->eco != b->eco)
		return a->eco < b->eco ? -1 : 1;
	if ((c = strcmp(a->scope, b->scope)) || (c = strcmp(a->name, b->name)) ||
	    (c = strcmp(a->arch, b->arch)))
		return c;
	return 0;
}

static int sort_cmp(const void *x, const void *y)
{
	const struct dd__pkg *a = *(const struct dd__pkg *const *)x, *b = *(const struct dd__pkg *const *)y;
	int c = key_cmp(a, b);

	return c ? c : dd_path_compare(a->db, a->db_len, b->db, b->db_len);
}

static uint64_t hash_path(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
	return h;
}

static size_t *slot_of(const struct dd__pkgdb *db, const char *path, size_t len)
{
	size_t mask = db->nslots - 1, i = (size_t)hash_path(path, len) & mask;

	while (db->slots[i]) {
		const struct owned *o = &db->owned[db->slots[i] - 1];

		if (o->len == len && !memcmp(o->path, path, len))
			break;
		i = (i + 1) & mask;
	}
	return &db->slots[i];
}

/* The dpkg package NAME (of any architecture when ARCH_LEN is 0), or NULL. */
static const struct dd__pkg *dpkg_by_name(const struct dd__pkgdb *db, const char *name, size_t name_len,
					  const char *arch, size_t arch_len)
{
	size_t lo = 0, hi = db->pkgs.len;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct dd__pkg *p = db->pkgs.items[mid];
		int c = p->eco != DD__ECO_DPKG ? (p->eco < DD__ECO_DPKG ? -1 : 1) : strcmp(p->scope, "");
		size_t k;

		if (!c) {
			k = strlen(p->name);
			c = memcmp(p->name, name, k < name_len ? k : name_len);
			if (!c)
				c = (int)(k > name_len) - (int)(k < name_len);
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < db->pkgs.len; lo++) {
		const struct dd__pkg *p = db->pkgs.items[lo];

		if (p->eco != DD__ECO_DPKG || strlen(p->name) != name_len || memcmp(p->name, name, name_len))
			break;
		if (!arch_len || (strlen(p->arch) == arch_len && !memcmp(p->arch, arch, arch_len)))
			return p;
	}
	return NULL;
}

/* A .list has one absolute path a line; a .md5sums "MD5  relative/path". */
static int read_filelist(struct dd__pkgdb *db, const struct filelist *fl)
{
	const struct dd_entry *e = fl->e;
	struct lines l = lines_of(e);
	const struct dd__pkg *p = dpkg_by_name(db, fl->name, fl->name_len, fl->arch, fl->arch_len);
	const char *s;
	size_t n;

	if (!p)
		return 0;  /* a list of a package not installed */
	if (!e->extra->content || memchr(e->extra->content, '\0', e->extra->content_len)) {
		if (e->size == 0)
			return 0;
		return record_error(db, e, e->extra->content ? "binary data (a NUL byte)"
							     : "content not available");
	}
	while (next_line(&l, &s, &n)) {
		if (fl->md5sums) {
			const char *sp = memchr(s, ' ', n), *path;
			size_t k;
			char *copy;

			if (!sp)
				continue;
			path = sp;
			while (path < s + n && *path == ' ')
				path++;
			k = (size_t)(s + n - path);
			if (!k || k > MAX_PATH)
				continue;
			copy = dd__arena_alloc(&db->arena, k + 2);
			if (!copy)
				return DD_ENOMEM;
			copy[0] = '/';
			memcpy(copy + 1, path, k);
			copy[k + 1] = '\0';
			if (own(db, copy, k + 1, p, NULL))
				return DD_ENOMEM;
		} else if (n > 1 && s[0] == '/' && n <= MAX_PATH) {
			/* Borrowed: the tree that holds the list outlives the database. */
			if (own(db, s, n, p, NULL))
				return DD_ENOMEM;
		}
	}
	return 0;
}

int dd__pkgdb_finish(struct dd__pkgdb *db)
{
	size_t i;

	if (db->all.len) {
		void **sorted = malloc(db->all.len * sizeof(void *));

		if (!sorted)
			return DD_ENOMEM;
		memcpy(sorted, db->all.items, db->all.len * sizeof(void *));
		qsort(sorted, db->all.len, sizeof(void *), sort_cmp);
		for (i = 0; i < db->all.len; i++) {
			struct dd__pkg *p = sorted[i];
			const struct dd__pkg *prev = db->pkgs.len ? db->pkgs.items[db->pkgs.len - 1] : NULL;

			/* The same package recorded twice (status and status.d, two dist-infos): one. */
			if (prev && !key_cmp(prev, p)) {
				p->canon = prev;
				continue;
			}
			if (dd__ptrvec_push(&db->pkgs, p)) {
				free(sorted);
				return DD_ENOMEM;
			}
		}
		free(sorted);
	}
	for (i = 0; i < db->nlists; i++)
		if (read_filelist(db, &db->lists[i]))
			return DD_ENOMEM;
	if (!db->nowned)
		return 0;
	for (db->nslots = 16; db->nslots < db->nowned * 2; db->nslots *= 2)
		;
	db->slots = calloc(db->nslots, sizeof(*db->slots));
	if (!db->slots)
		return DD_ENOMEM;
	for (i = 0; i < db->nowned; i++) {
		size_t *slot = slot_of(db, db->owned[i].path, db->owned[i].len);

		if (!*slot)
			*slot = i + 1;  /* the first owner of a path wins */
	}
	return 0;
}

/* ---- queries ---- */

int dd__pkgdb_new(struct dd__pkgdb **out, struct dd_ctx *ctx)
{
	struct dd__pkgdb *db = calloc(1, sizeof(*db));

	*out = NULL;
	if (!db)
		return DD_ENOMEM;
	db->ctx = ctx;
	dd__arena_init(&db->arena);
	*out = db;
	return 0;
}

void dd__pkgdb_free(struct dd__pkgdb *db)
{
	if (!db)
		return;
	dd__ptrvec_free(&db->all);
	dd__ptrvec_free(&db->pkgs);
	dd__ptrvec_free(&db->errors);
	free(db->owned);
	free(db->slots);
	free(db->lists);
	dd__buf_free(&db->why);
	dd__arena_free(&db->arena);
	free(db);
}

size_t dd__pkgdb_count(const struct dd__pkgdb *db)
{
	return db->pkgs.len;
}

const struct dd__pkg *dd__pkgdb_get(const struct dd__pkgdb *db, size_t i)
{
	return i < db->pkgs.len ? db->pkgs.items[i] : NULL;
}

const struct dd__pkg *dd__pkgdb_find(const struct dd__pkgdb *db, const struct dd__pkg *p)
{
	size_t lo = 0, hi = db->pkgs.len;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_cmp(db->pkgs.items[mid], p);

		if (!c)
			return db->pkgs.items[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct dd__pkg *dd__pkgdb_owner(const struct dd__pkgdb *db, const char *path, size_t len,
				      const unsigned char **record_sha256)
{
	size_t *slot;
	const struct owned *o;

	if (record_sha256)
		*record_sha256 = NULL;
	if (!db->nslots)
		return NULL;
	slot = slot_of(db, path, len);
	if (!*slot)
		return NULL;
	o = &db->owned[*slot - 1];
	if (record_sha256)
		*record_sha256 = o->sha256;
	return o->pkg->canon;
}

size_t dd__pkgdb_error_count(const struct dd__pkgdb *db)
{
	return db->errors.len;
}

const struct dd__pkgdb_error *dd__pkgdb_error(const struct dd__pkgdb *db, size_t i)
{
	return i < db->errors.len ? db->errors.items[i] : NULL;
}

size_t dd__pkgdb_files(const struct dd__pkgdb *db)
{
	return db->files;
}

/* ---- classification ---- */


static const struct dd_change *live_change(const struct dd_diff *diff, const char *path, size_t len)
{
	const struct dd_change *c = dd_diff_find(diff, path, len);

	return c && !(c->flags & DD_CHANGE_IGNORED) ? c : NULL;
}

static int load_image(struct dd__pkgdb *db, const struct dd_tree *image)
{
	size_t i, n = dd_tree_count(image);
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++)
		rc = dd__pkgdb_add(db, dd_tree_entry(image, i));
	return rc;
}

/*
 * The target's databases as the container sees them. A change that is
 * ignored did not happen, so the image's file stands; in an upper dir a
 * file that is absent and not deleted by the diff is the image's. (In a
 * whole tree an absent file always has a deletion, unless it was below an
 * unreadable directory: unknown, so again the image's.)
 */
static int load_target(struct dd__pkgdb *db, const struct dd_diff *diff, const struct dd_tree *image,
		       const struct dd_tree *target)
{
	size_t i, n = dd_tree_count(target);
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		const struct dd_entry *e = dd_tree_entry(target, i);
		const struct dd_change *c;

		if ((e->flags & DD_ENTRY_WHITEOUT) || !dd__pkgdb_is_db_path(e->path, e->path_len))
			continue;
		c = dd_diff_find(diff, e->path, e->path_len);
		if (c && (c->flags & DD_CHANGE_IGNORED))
			e = dd_tree_find(image, e->path, e->path_len);
		if (e)
			rc = dd__pkgdb_add(db, e);
	}
	n = dd_tree_count(image);
	for (i = 0; i < n && rc == 0; i++) {
		const struct dd_entry *e = dd_tree_entry(image, i), *t;

		if (!dd__pkgdb_is_db_path(e->path, e->path_len))
			continue;
		t = dd_tree_find(target, e->path, e->path_len);
		if ((t && !(t->flags & DD_ENTRY_WHITEOUT)) || live_change(diff, e->path, e->path_len))
			continue;
		rc = dd__pkgdb_add(db, e);
	}
	return rc;
}

/* A finding for package P, attached to the change of its database file if there is one. */
static struct dd_finding *pkg_finding(struct dd_findings *fs, const struct dd_diff *diff, const char *rule,
				      const struct dd__pkg *p, const struct dd__pkg *old)
{
	const struct dd__pkg *where = p ? p : old;
	const struct dd_change *c = live_change(diff, where->db, where->db_len);
	struct dd_finding *f = dd__finding_add(fs, rule, c);

	if (!f)
		return NULL;
	if ((!c && dd__finding_path(fs, f, where->db, where->db_len)) ||
	    (p && old && dd__finding_path(fs, f, old->db, old->db_len)) ||
	    dd__finding_package(fs, f, dd__eco_name(where->eco), where->name, p ? p->version : NULL,
				old ? old->version : NULL) ||
	    (*where->arch && dd__finding_detail(fs, f, "architecture %s", where->arch)))
		return NULL;
	return f;
}

/* Was P's database file unreadable on the other side? Then P cannot be compared. */
static bool unreadable_there(const struct dd__pkgdb *other, const struct dd__pkg *p)
{
	size_t i;

	for (i = 0; i < other->errors.len; i++) {
		const struct dd__pkgdb_error *err = other->errors.items[i];

		if (err->len == p->db_len && !memcmp(err->path, p->db, p->db_len))
			return true;
	}
	return false;
}

/* DD-PKG-001..004: a merge walk over both sorted package sets. */
static int drift(struct dd_findings *fs, const struct dd_diff *diff, const struct dd__pkgdb *img,
		 const struct dd__pkgdb *tgt)
{
	size_t i = 0, j = 0;

	while (i < img->pkgs.len || j < tgt->pkgs.len) {
		const struct dd__pkg *a = i < img->pkgs.len ? img->pkgs.items[i] : NULL;
		const struct dd__pkg *b = j < tgt->pkgs.len ? tgt->pkgs.items[j] : NULL;
		int c = !a ? 1 : !b ? -1 : key_cmp(a, b), v;
		struct dd_finding *f;

		if (c < 0) {
			i++;
			if (!unreadable_there(tgt, a) && !pkg_finding(fs, diff, "DD-PKG-002", NULL, a))
				return DD_ENOMEM;
		} else if (c > 0) {
			j++;
			if (!unreadable_there(img, b) && !pkg_finding(fs, diff, "DD-PKG-001", b, NULL))
				return DD_ENOMEM;
		} else {
			i++;
			j++;
			if (!strcmp(a->version, b->version))
				continue;
			v = dd__ver_cmp(a->eco, b->version, a->version);
			f = pkg_finding(fs, diff, v < 0 ? "DD-PKG-004" : "DD-PKG-003", b, a);
			if (!f || (v == 0 && dd__finding_detail(fs, f, "%s%sthe versions differ in spelling only",
								f->detail ? f->detail : "",
								f->detail ? "; " : "")))
				return DD_ENOMEM;
		}
	}
	return 0;
}

/* DD-PKG-006 for a database that changed and could not be read, once per path. */
static int unreadable(struct dd_findings *fs, const struct dd_diff *diff, const struct dd__pkgdb *img,
		      const struct dd__pkgdb *tgt)
{
	size_t i;

	for (i = 0; i < tgt->errors.len + img->errors.len; i++) {
		const struct dd__pkgdb_error *err = i < tgt->errors.len ? tgt->errors.items[i] :
						    img->errors.items[i - tgt->errors.len];
		const struct dd_change *c = live_change(diff, err->path, err->len);
		struct dd_finding *f;
		size_t k;
		bool seen = false;

		if (!c)
			continue;  /* unchanged: nothing drifted, whatever it holds */
		for (k = 0; k < fs->items.len && !seen; k++) {
			const struct dd_finding *g = fs->items.items[k];

			seen = g->change == c && !strcmp(g->rule->id, "DD-PKG-006");
		}
		if (seen)
			continue;
		f = dd__finding_add(fs, "DD-PKG-006", c);
		if (!f || dd__finding_detail(fs, f, "%s%s", i < tgt->errors.len ? "" : "the image's copy: ",
					     err->msg))
			return DD_ENOMEM;
	}
	return 0;
}

static int rpm(struct dd_findings *fs, const struct dd_diff *diff)
{
	static const char *const paths[] = { "/var/lib/rpm/rpmdb.sqlite", "/usr/lib/sysimage/rpm/rpmdb.sqlite",
					     "/var/lib/rpm/Packages" };
	size_t i;

	for (i = 0; i < DD_ARRAY_SIZE(paths); i++) {
		const struct dd_change *c = live_change(diff, paths[i], strlen(paths[i]));
		struct dd_finding *f;

		if (!c)
			continue;
		f = dd__finding_add(fs, "DD-PKG-006", c);
		if (!f || dd__finding_detail(fs, f, "rpm database changed; not parsed (no sqlite/bdb reader)"))
			return DD_ENOMEM;
	}
	return 0;
}

static bool under_etc(const struct dd_change *c)
{
	return has_prefix(c->path, c->path_len, "/etc/");
}

/*
 * DD-PKG-005: a file the image's packages own changed although its package
 * did not. A Python RECORD hash that the new content matches is the
 * package's own content, so that is no tampering.
 */
static int tampering(struct dd_findings *fs, const struct dd_diff *diff, const struct dd__pkgdb *img,
		     const struct dd__pkgdb *tgt)
{
	size_t i, n = dd_diff_count(diff);

	for (i = 0; i < n; i++) {
		const struct dd_change *c = dd_diff_change(diff, i);
		const struct dd_entry *a = c->after;
		const unsigned char *sha;
		const struct dd__pkg *p, *q;
		struct dd_finding *f;
		bool record_mismatch;

		if (c->flags & DD_CHANGE_IGNORED)
			continue;
		if (!((c->kind == DD_CHANGE_MODIFIED && (c->attrs & DD_ATTR_CONTENT)) ||
		      c->kind == DD_CHANGE_TYPE_CHANGED || c->kind == DD_CHANGE_ADDED))
			continue;
		p = dd__pkgdb_owner(img, c->path, c->path_len, &sha);
		q = p ? dd__pkgdb_find(tgt, p) : NULL;
		if (!q || strcmp(p->version, q->version))
			continue;
		record_mismatch = sha && a && a->type == DD_TYPE_FILE && a->has_sha256 &&
				  memcmp(sha, a->sha256, 32);
		/* An added file counts only against a RECORD hash: a .list has none. */
		if (c->kind == DD_CHANGE_ADDED && !record_mismatch)
			continue;
		/* Bytecode caches have no RECORD hash and are rewritten by the interpreter. */
		if (q->eco == DD__ECO_PYTHON && !sha && has_suffix(c->path, c->path_len, ".pyc"))
			continue;
		if (sha && a && a->type == DD_TYPE_FILE && a->has_sha256 && !record_mismatch)
			continue;
		f = dd__finding_add(fs, "DD-PKG-005", c);
		if (!f)
			return DD_ENOMEM;
		if (under_etc(c))
			f->severity = DD_SEVERITY_MEDIUM;
		if (dd__finding_path(fs, f, q->db, q->db_len) ||
		    dd__finding_package(fs, f, dd__eco_name(q->eco), q->name, q->version, p->version) ||
		    dd__finding_detail(fs, f, "owned by %s package %s %s, which is unchanged%s%s",
				       dd__eco_name(q->eco), q->name, q->version,
				       record_mismatch ? "; the sha256 differs from its RECORD entry" : "",
				       under_etc(c) ? "; a configuration file under /etc/, which "
						      "administrators edit" : ""))
			return DD_ENOMEM;
	}
	return 0;
}

/*
 * A new executable that a package installed in the target explains itself:
 * its DD-BIN-001 finding drops to medium and says which package. One no
 * package owns says so, when the target has package databases at all.
 */
static int provenance(struct dd_findings *fs, const struct dd__pkgdb *img, const struct dd__pkgdb *tgt)
{
	size_t i, n = fs->items.len;

	for (i = 0; i < n; i++) {
		struct dd_finding *f = fs->items.items[i];
		const struct dd_change *c = f->change;
		const struct dd__pkg *q, *p;
		const char *pre = f->detail ? f->detail : "", *sep = f->detail ? "; " : "";
		int rc;

		if (!c || strcmp(f->rule->id, "DD-BIN-001") || c->kind != DD_CHANGE_ADDED ||
		    !(c->flags & DD_CHANGE_NEW_EXEC) || (c->flags & DD_CHANGE_IGNORED))
			continue;
		q = dd__pkgdb_owner(tgt, c->path, c->path_len, NULL);
		if (!q) {
			if (!dd__pkgdb_files(tgt))
				continue;
			rc = dd__finding_detail(fs, f, "%s%snot owned by any package", pre, sep);
		} else if (!(p = dd__pkgdb_find(img, q)) || strcmp(p->version, q->version)) {
			if (f->severity > DD_SEVERITY_MEDIUM)
				f->severity = DD_SEVERITY_MEDIUM;
			rc = dd__finding_detail(fs, f, "%s%sinstalled by %s package %s %s%s%s%s", pre, sep,
						dd__eco_name(q->eco), q->name, q->version,
						p ? " (" : "", p ? p->version : "", p ? " in the image)" : "");
		} else {
			rc = dd__finding_detail(fs, f, "%s%slisted in the files of %s package %s %s, "
						"which is unchanged", pre, sep, dd__eco_name(q->eco), q->name,
						q->version);
		}
		if (rc)
			return rc;
	}
	return 0;
}

int dd__classify_packages(struct dd_findings *fs, const struct dd_diff *diff, const struct dd_tree *image,
			  const struct dd_tree *target, bool target_is_upper)
{
	struct dd__pkgdb *img = NULL, *tgt = NULL;
	int rc;

	/* An upper dir and a whole tree read the same way: see load_target(). */
	(void)target_is_upper;
	if (!image || !target)
		return 0;
	rc = dd__pkgdb_new(&img, fs->ctx);
	if (rc == 0)
		rc = dd__pkgdb_new(&tgt, fs->ctx);
	if (rc == 0)
		rc = load_image(img, image);
	if (rc == 0)
		rc = load_target(tgt, diff, image, target);
	if (rc == 0)
		rc = dd__pkgdb_finish(img);
	if (rc == 0)
		rc = dd__pkgdb_finish(tgt);
	if (rc == 0)
		rc = provenance(fs, img, tgt);
	if (rc == 0)
		rc = drift(fs, diff, img, tgt);
	if (rc == 0)
		rc = unreadable(fs, diff, img, tgt);
	if (rc == 0)
		rc = rpm(fs, diff);
	if (rc == 0)
		rc = tampering(fs, diff, img, tgt);
	dd__pkgdb_free(img);
	dd__pkgdb_free(tgt);
	return rc ? dd__error(fs->ctx, DD_ENOMEM, "out of memory") : 0;
}
