/*
 * Unit tests for lib/pkgver.c and lib/pkgdb.c: version ordering in each
 * ecosystem, the database parsers on good and hostile input, and package
 * drift end to end through dd_classify() on trees built in memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/pkgdb.h"
#include "lib/tree.h"

/* ---- version ordering ---- */

/* Each list is strictly increasing; every pair is checked both ways. */
static void increasing(int (*cmp)(const char *, const char *), const char *const *v, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			int c = cmp(v[i], v[j]);

			if ((i < j && c >= 0) || (i > j && c <= 0) || (i == j && c != 0))
				fail_msg("%s vs %s gave %d", v[i], v[j], c);
		}
}

static void test_ver_dpkg(void **state)
{
	/* deb-version(7): "~" sorts before anything, even the end of the part. */
	static const char *const v[] = {
		"1.0~~", "1.0~~a", "1.0~", "1.0~rc1", "1.0", "1.0-1", "1.0-1.1", "1.0a", "1.0+dfsg",
		"1.2.3", "1.2.10", "2.30-1", "2.30-1+deb12u1", "2.30-2", "9.99", "1:0.1", "1:1.0~beta",
		"2:0",
	};

	(void)state;
	increasing(dd__ver_cmp_dpkg, v, DD_ARRAY_SIZE(v));
	assert_int_equal(dd__ver_cmp_dpkg("0:1.0", "1.0"), 0);
	assert_int_equal(dd__ver_cmp_dpkg("1.00", "1.0"), 0);
	assert_int_equal(dd__ver_cmp_dpkg("1.0-0", "1.0"), 0);
	assert_true(dd__ver_cmp_dpkg("1:1.0", "2.0") > 0);
	assert_true(dd__ver_cmp_dpkg("10:1", "9:99") > 0);
	assert_true(dd__ver_cmp_dpkg("99999999999999999999999:1", "99999999999999999999998:2") > 0);
	/* Malformed epochs fall back to strcmp, without crashing. */
	assert_true(dd__ver_cmp_dpkg("x:1", "y:1") < 0);
	assert_true(dd__ver_cmp_dpkg(":1", "1") != 0);
	assert_int_equal(dd__ver_cmp_dpkg("", ""), 0);
}

static void test_ver_apk(void **state)
{
	static const char *const v[] = {
		"0.9", "1.0_alpha", "1.0_alpha2", "1.0_beta1", "1.0_pre1", "1.0_rc1", "1.0_rc2",
		"1.0", "1.0-r1", "1.0-r10", "1.0_p1", "1.0a", "1.0b", "1.0.1", "1.2.9", "1.2.10", "2",
	};

	(void)state;
	increasing(dd__ver_cmp_apk, v, DD_ARRAY_SIZE(v));
	assert_int_equal(dd__ver_cmp_apk("1.2.3-r0", "1.2.3-r0"), 0);
	assert_true(dd__ver_cmp_apk("3.1.4-r5", "3.1.4-r4") > 0);
	assert_true(dd__ver_cmp_apk("1.0_git20230101", "1.0") > 0);
	assert_true(dd__ver_cmp_apk("1.0~abc123-r1", "1.0~abc123-r2") < 0);
	/* Not apk syntax: strcmp, consistently. */
	assert_true(dd__ver_cmp_apk("abc", "abd") < 0);
	assert_true(dd__ver_cmp_apk("1.0-x", "1.0-y") < 0);
	assert_int_equal(dd__ver_cmp_apk("", ""), 0);
}

static void test_ver_pep440(void **state)
{
	static const char *const v[] = {
		"0.9", "1.0.dev1", "1.0a1.dev1", "1.0a1", "1.0a2", "1.0b1", "1.0rc1", "1.0rc2.post1",
		"1.0", "1.0+local.1", "1.0.post1.dev1", "1.0.post1", "1.0.post2", "1.1", "1.9", "1.10",
		"2.0.0rc1", "2.0.0", "1!0.1",
	};

	(void)state;
	increasing(dd__ver_cmp_pep440, v, DD_ARRAY_SIZE(v));
	assert_int_equal(dd__ver_cmp_pep440("1.0", "1.0.0"), 0);
	assert_int_equal(dd__ver_cmp_pep440("1.0-1", "1.0.post1"), 0);
	assert_int_equal(dd__ver_cmp_pep440("1.0ALPHA1", "1.0a1"), 0);
	assert_int_equal(dd__ver_cmp_pep440("v1.0", "1.0"), 0);
	assert_int_equal(dd__ver_cmp_pep440("1.0.c1", "1.0rc1"), 0);
	/* Not PEP 440: strcmp. */
	assert_true(dd__ver_cmp_pep440("banana", "cherry") < 0);
	assert_true(dd__ver_cmp_pep440("1.0+", "1.0") != 0);
}

static void test_ver_semver(void **state)
{
	/* The precedence example of SemVer 2.0.0, item 11. */
	static const char *const v[] = {
		"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
		"1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.9.0", "1.10.0", "2.0.0",
	};

	(void)state;
	increasing(dd__ver_cmp_semver, v, DD_ARRAY_SIZE(v));
	assert_int_equal(dd__ver_cmp_semver("1.0.0+build.5", "1.0.0"), 0);
	assert_int_equal(dd__ver_cmp_semver("v1.2.3", "1.2.3"), 0);
	assert_true(dd__ver_cmp_semver("1.0.0-1", "1.0.0-a") < 0);
	assert_true(dd__ver_cmp_semver("1.0", "1.0.0") != 0);   /* not semver: strcmp */
	assert_true(dd__ver_cmp_semver("1.0.0-", "1.0.0") != 0);
	assert_true(dd__ver_cmp_semver("1.0.0-a..b", "1.0.0-a.b") != 0);
	assert_true(dd__ver_cmp(DD__ECO_NPM, "4.17.21", "4.17.4") > 0);
	assert_true(dd__ver_cmp(DD__ECO_DPKG, "1.0~rc1", "1.0") < 0);
}

/* ---- parsers ---- */

struct pfx {
	struct dd_ctx *ctx;
	struct dd__pkgdb *db;
	struct dd_entry e[16];
	struct dd_entry_extra x[16];
	size_t n;
};

static int psetup(void **state)
{
	struct pfx *f = calloc(1, sizeof(*f));

	if (!f || dd_ctx_new(&f->ctx) || dd__pkgdb_new(&f->db, f->ctx))
		return -1;
	*state = f;
	return 0;
}

static int pteardown(void **state)
{
	struct pfx *f = *state;

	dd__pkgdb_free(f->db);
	dd_ctx_free(f->ctx);
	free(f);
	return 0;
}

/* Read one file of LEN bytes (strlen when LEN is -1) into the database. */
static void feed(struct pfx *f, const char *path, const void *content, long len)
{
	struct dd_entry_extra *x = &f->x[f->n];
	struct dd_entry *e = &f->e[f->n++];

	assert_true(f->n <= DD_ARRAY_SIZE(f->e));
	e->path = path;
	e->path_len = strlen(path);
	e->type = DD_TYPE_FILE;
	x->content = content;
	x->content_len = len < 0 ? strlen(content) : (size_t)len;
	e->extra = x;
	e->size = x->content_len;
	assert_int_equal(dd__pkgdb_add(f->db, e), 0);
}

static const struct dd__pkg *pkg(struct pfx *f, enum dd__eco eco, const char *name)
{
	size_t i;

	for (i = 0; i < dd__pkgdb_count(f->db); i++) {
		const struct dd__pkg *p = dd__pkgdb_get(f->db, i);

		if (p->eco == eco && !strcmp(p->name, name))
			return p;
	}
	return NULL;
}

static const struct dd__pkg *owner(struct pfx *f, const char *path, const unsigned char **sha)
{
	return dd__pkgdb_owner(f->db, path, strlen(path), sha);
}

static void assert_error(struct pfx *f, const char *path, const char *needle)
{
	size_t i;

	for (i = 0; i < dd__pkgdb_error_count(f->db); i++) {
		const struct dd__pkgdb_error *err = dd__pkgdb_error(f->db, i);

		if (err->len == strlen(path) && !memcmp(err->path, path, err->len)) {
			if (!strstr(err->msg, needle))
				fail_msg("%s: \"%s\" lacks \"%s\"", path, err->msg, needle);
			return;
		}
	}
	fail_msg("no error for %s", path);
}

static const char dpkg_status[] =
	"Package: hostname\n"
	"Status: install ok installed\n"
	"Priority: required\n"
	"Architecture: amd64\n"
	"Version: 3.23+nmu1\n"
	"Description: utility to set/show the host name or domain name\n"
	" This package provides commands which can be used to display the system's\n"
	" .\n"
	" DNS name.\n"
	"\n"
	"Package: oldpkg\n"
	"Status: deinstall ok config-files\n"
	"Architecture: amd64\n"
	"Version: 1.0\n"
	"\n"
	"Package: libc6\n"
	"Status: install ok installed\n"
	"Architecture: i386\n"
	"Version: 2.36-9+deb12u4\n"
	"\n\n\n"
	"package: libc6\r\n"
	"status: hold ok half-installed\r\n"
	"architecture: amd64\r\n"
	"version: 2.36-9+deb12u4\r\n";

static void test_parse_dpkg(void **state)
{
	struct pfx *f = *state;
	const struct dd__pkg *p;

	feed(f, "/var/lib/dpkg/status", dpkg_status, -1);
	feed(f, "/var/lib/dpkg/info/hostname.list", "/.\n/bin\n/bin/hostname\n/usr/share/doc/hostname\n", -1);
	feed(f, "/var/lib/dpkg/info/hostname.md5sums", "0123456789abcdef0123456789abcdef  usr/share/man/man1/hostname.1.gz\n", -1);
	feed(f, "/var/lib/dpkg/info/libc6:i386.list", "/lib/i386-linux-gnu/libc.so.6\n", -1);
	feed(f, "/var/lib/dpkg/info/oldpkg.list", "/etc/oldpkg.conf\n", -1);
	assert_int_equal(dd__pkgdb_finish(f->db), 0);
	assert_int_equal(dd__pkgdb_error_count(f->db), 0);
	/* hostname, libc6:amd64 and libc6:i386; oldpkg has only config files left. */
	assert_int_equal(dd__pkgdb_count(f->db), 3);
	p = pkg(f, DD__ECO_DPKG, "hostname");
	assert_non_null(p);
	assert_string_equal(p->version, "3.23+nmu1");
	assert_string_equal(p->arch, "amd64");
	assert_null(pkg(f, DD__ECO_DPKG, "oldpkg"));
	assert_ptr_equal(owner(f, "/bin/hostname", NULL), p);
	assert_ptr_equal(owner(f, "/usr/share/man/man1/hostname.1.gz", NULL), p);
	p = owner(f, "/lib/i386-linux-gnu/libc.so.6", NULL);
	assert_non_null(p);
	assert_string_equal(p->arch, "i386");
	assert_null(owner(f, "/etc/oldpkg.conf", NULL));
	assert_null(owner(f, "/bin/hostnam", NULL));
}

static void test_parse_dpkg_hostile(void **state)
{
	struct pfx *f = *state;
	static unsigned char garbage[4096];
	char *huge;
	size_t i, k;

	/* A megabyte-long continuation line is fine: nothing is copied. */
	huge = malloc((1 << 20) + 128);
	assert_non_null(huge);
	k = (size_t)snprintf(huge, 128, "Package: big\nStatus: install ok installed\nVersion: 1\nDescription: x\n ");
	memset(huge + k, 'x', 1 << 20);
	huge[k + (1 << 20)] = '\0';
	feed(f, "/var/lib/dpkg/status.d/big", huge, -1);
	/* Cut in the middle of a field name. */
	feed(f, "/var/lib/dpkg/status.d/cut", "Package: cut\nStatus: install ok installed\nVers", -1);
	feed(f, "/var/lib/dpkg/status.d/nover", "Package: nover\nStatus: install ok installed\n", -1);
	feed(f, "/var/lib/dpkg/status.d/nopkg", "Version: 1\nStatus: install ok installed\n", -1);
	feed(f, "/var/lib/dpkg/status.d/cont", " leading continuation\nPackage: x\n", -1);
	feed(f, "/var/lib/dpkg/status.d/twice", "Package: a\nPackage: b\nVersion: 1\n", -1);
	feed(f, "/var/lib/dpkg/status.d/badstatus", "Package: a\nVersion: 1\nStatus: installed\n", -1);
	feed(f, "/var/lib/dpkg/status.d/ctrl", "Package: evil\x1b[2J\nVersion: 1\n", -1);
	for (i = 0; i < sizeof(garbage); i++)
		garbage[i] = (unsigned char)(i * 7919u >> 3);
	feed(f, "/var/lib/dpkg/status", garbage, sizeof(garbage));
	/* The same bytes without a NUL still parse to an error, not a crash. */
	for (i = 0; i < sizeof(garbage); i++)
		garbage[i] = garbage[i] ? garbage[i] : 'A';
	feed(f, "/var/lib/dpkg/status.d/garbage", garbage, sizeof(garbage));
	assert_int_equal(dd__pkgdb_finish(f->db), 0);
	assert_int_equal(dd__pkgdb_count(f->db), 1);
	assert_non_null(pkg(f, DD__ECO_DPKG, "big"));
	assert_error(f, "/var/lib/dpkg/status.d/cut", "line 3: not a \"Field: value\" line");
	assert_error(f, "/var/lib/dpkg/status.d/nover", "no valid Version");
	assert_error(f, "/var/lib/dpkg/status.d/nopkg", "without a Package");
	assert_error(f, "/var/lib/dpkg/status.d/cont", "continuation line outside a field");
	assert_error(f, "/var/lib/dpkg/status.d/twice", "a second Package field");
	assert_error(f, "/var/lib/dpkg/status.d/badstatus", "malformed Status");
	assert_error(f, "/var/lib/dpkg/status.d/ctrl", "malformed Package");
	assert_error(f, "/var/lib/dpkg/status", "binary data");
	assert_error(f, "/var/lib/dpkg/status.d/garbage", "");
	free(huge);
}

static void test_parse_apk(void **state)
{
	struct pfx *f = *state;
	const struct dd__pkg *p;

	feed(f, "/lib/apk/db/installed",
	     "C:Q1hqbgs0uqBZgmvCKWUQc/lZb6Zpc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nF:lib\nR:ld-musl-x86_64.so.1\n"
	     "a:0:0:755\nZ:Q1Dqz4o3bWqSOP+jXOQlGa24v0ZDg=\nR:libc.musl-x86_64.so.1\n\n"
	     "C:Q1abc=\nP:busybox\nV:1.36.1-r5\nF:bin\nR:busybox\nF:etc/../etc/busybox\nR:paths\nF:../../x\nR:escape\n", -1);
	feed(f, "/lib/apk/db/../db/installed", "", -1);  /* not the database path: ignored */
	assert_int_equal(dd__pkgdb_finish(f->db), 0);
	assert_int_equal(dd__pkgdb_error_count(f->db), 0);
	assert_int_equal(dd__pkgdb_count(f->db), 2);
	p = pkg(f, DD__ECO_APK, "musl");
	assert_string_equal(p->version, "1.2.4-r2");
	assert_ptr_equal(owner(f, "/lib/ld-musl-x86_64.so.1", NULL), p);
	p = pkg(f, DD__ECO_APK, "busybox");
	assert_ptr_equal(owner(f, "/bin/busybox", NULL), p);
	assert_ptr_equal(owner(f, "/etc/busybox/paths", NULL), p);
	assert_null(owner(f, "/x/escape", NULL));
}

static void test_parse_apk_hostile(void **state)
{
	struct pfx *f = *state;
	struct dd__pkgdb *db2;

	feed(f, "/lib/apk/db/installed", "P:musl\nV:1.2.4-r2\nR:x\n\nP:nover\nF:usr\nR:y\n", -1);
	assert_int_equal(dd__pkgdb_finish(f->db), 0);
	/* One bad package spoils the file: none of its packages or files count. */
	assert_int_equal(dd__pkgdb_count(f->db), 0);
	assert_null(owner(f, "/x", NULL));
	assert_error(f, "/lib/apk/db/installed", "without P: or V:");

	assert_int_equal(dd__pkgdb_new(&db2, f->ctx), 0);
	dd__pkgdb_free(f->db);
	f->db = db2;
	f->n = 0;
	feed(f, "/lib/apk/db/installed", "P:a\nV:1\nthis is not apk\n", -1);
	assert_int_equal(dd__pkgdb_finish(f->db), 0);
	assert_error(f, "/lib/apk/db/installed", "line 3: not a \"K:value\" line");
}

/* A RECORD hash for 32 bytes of B: urlsafe base64 without padding. */
static const char *record_sha(unsigned char b)
{
	static char out[64];
	unsigned char raw[32];
	struct dd__buf buf = DD__BUF_INIT;
	size_t i;

	memset(raw, b, sizeof(raw));
	assert_int_equal(dd__base64(&buf, raw, sizeof(raw)), 0);
	assert_int_equal(buf.len, 44);
	for (i = 0; i < 43; i++)
		out[i] = buf.data[i] == '+' ? '-' : buf.data[i] == '/' ? '_' : buf.data[i];
	out[43] = '\0';
	dd__buf_free(&buf);
	return out;
}

static void test_parse_python(void **state)
{
	struct pfx *f = *state;
	const struct dd__pkg *p;
	const unsigned char *sha;
	char record[512];
	size_t k;

	k = (size_t)snprintf(record, sizeof(record),
			     "foo_bar/__init__.py,sha256=%s,12\r\n"
			     "\"foo_bar/odd,name.py\",,\n"
			     "\"foo_bar/quote\"\"d.py\",sha512=abc,1\n", record_sha('a'));
	snprintf(record + k, sizeof(record) - k,
		 "../../../bin/foo,sha256=%s,3\n"
		 "../../../../../../../../etc/escape,,\n"
		 "foo_bar-1.0.dist-info/RECORD,,\n", record_sha('b'));
	feed(f, "/usr/lib/python3/dist-packages/Foo_Bar.Baz-1.0.dist-info/METADATA",
	     "Metadata-Version: 2.1\nName: Foo_Bar.Baz\nVersion: 1.0\nSummary: x\n  continued\n\nName: body\n", -1);
	feed(f, "/usr/lib/python3/dist-packages/Foo_Bar.Baz-1.0.dist-info/RECORD", record, -1);
	feed(f, "/usr/lib/python3/dist-packages/old.egg-info/PKG-INFO", "Name: old\nVersion: 0.1\n", -1);
	feed(f, "/usr/lib/python3/dist-packages/bad-1.0.dist-info/METADATA", "Name: bad\n\nVersion: 1.0\n", -1);
	feed(f, "/usr/lib/python3/dist-packages/bad-1.0.dist-info/RECORD", "bad/x.py,,\n", -1);
	assert_int_equal(dd__pkgdb_finish(f->db), 0);
	assert_int_equal(dd__pkgdb_count(f->db), 2);
	p = pkg(f, DD__ECO_PYTHON, "foo-bar-baz");
	assert_non_null(p);
	assert_string_equal(p->version, "1.0");
	assert_string_equal(p->scope, "/usr/lib/python3/dist-packages");
	assert_non_null(pkg(f, DD__ECO_PYTHON, "old"));
	assert_ptr_equal(owner(f, "/usr/lib/python3/dist-packages/foo_bar/__init__.py", &sha), p);
	assert_non_null(sha);
	assert_int_equal(sha[0], 'a');
	assert_ptr_equal(owner(f, "/usr/lib/python3/dist-packages/foo_bar/odd,name.py", &sha), p);
	assert_null(sha);
	assert_non_null(owner(f, "/usr/lib/python3/dist-packages/foo_bar/quote\"d.py", NULL));
	assert_ptr_equal(owner(f, "/usr/bin/foo", &sha), p);
	assert_int_equal(sha[31], 'b');
	assert_null(owner(f, "/etc/escape", NULL));
	/* The METADATA of bad-1.0 has its Version after the headers; its RECORD is ignored. */
	assert_error(f, "/usr/lib/python3/dist-packages/bad-1.0.dist-info/METADATA", "no valid Version");
	assert_null(owner(f, "/usr/lib/python3/dist-packages/bad/x.py", NULL));
}

static void test_parse_python_hostile(void **state)
{
	struct pfx *f = *state;
	char *big;

	feed(f, "/s/a-1.dist-info/METADATA", "Name: a\nVersion: 1\n", -1);
	feed(f, "/s/a-1.dist-info/RECORD", "a/x.py,sha256=AAAA,1\n", -1);
	feed(f, "/s/b-1.dist-info/METADATA", "Name: b\nVersion: 1\n", -1);
	feed(f, "/s/b-1.dist-info/RECORD", "\"b/x.py,,\n", -1);
	feed(f, "/s/c-1.dist-info/METADATA", "Name: c\nVersion: 1\n", -1);
	feed(f, "/s/c-1.dist-info/RECORD", "\"c/x.py\"junk,,\n", -1);
	feed(f, "/s/d-1.dist-info/METADATA", "Name: d\nVersion 1\n", -1);
	feed(f, "/s/e-1.dist-info/METADATA", "Name: e\nVersion: 1\n", -1);
	big = malloc(100000);
	assert_non_null(big);
	memset(big, 'p', 99999);
	big[99999] = '\0';
	feed(f, "/s/e-1.dist-info/RECORD", big, -1);
	feed(f, "/s/f-1.dist-info/METADATA", "\x7f" "ELF\x02\x01\x01", 7);
	assert_int_equal(dd__pkgdb_finish(f->db), 0);
	assert_error(f, "/s/a-1.dist-info/RECORD", "row 1: malformed sha256");
	assert_error(f, "/s/b-1.dist-info/RECORD", "unterminated quote");
	assert_error(f, "/s/c-1.dist-info/RECORD", "junk after a quoted field");
	assert_error(f, "/s/d-1.dist-info/METADATA", "line 2: not a \"Header: value\" line");
	assert_error(f, "/s/e-1.dist-info/RECORD", "");
	assert_error(f, "/s/f-1.dist-info/METADATA", "");
	/* A broken RECORD keeps its package; a broken METADATA does not. */
	assert_non_null(pkg(f, DD__ECO_PYTHON, "a"));
	assert_null(pkg(f, DD__ECO_PYTHON, "d"));
	assert_null(owner(f, "/s/a/x.py", NULL));
	free(big);
}

static void test_parse_npm(void **state)
{
	struct pfx *f = *state;
	const struct dd__pkg *p;

	feed(f, "/app/node_modules/lodash/package.json", "{\"name\":\"lodash\",\"version\":\"4.17.21\",\"x\":[1,2]}", -1);
	feed(f, "/app/node_modules/@types/node/package.json", "{\"name\":\"@types/node\",\"version\":\"20.1.0\"}\n", -1);
	feed(f, "/app/node_modules/a/node_modules/lodash/package.json", "{\"name\":\"lodash\",\"version\":\"3.0.0\"}", -1);
	feed(f, "/app/node_modules/noversion/package.json", "{\"name\":\"noversion\"}", -1);
	feed(f, "/app/node_modules/trailing/package.json", "{\"name\":\"t\",\"version\":\"1.0.0\"}\n{}", -1);
	feed(f, "/app/node_modules/array/package.json", "[1]", -1);
	feed(f, "/app/node_modules/trunc/package.json", "{\"name\":\"t\",\"vers", -1);
	feed(f, "/app/node_modules/nan/package.json", "{\"name\":\"n\",\"version\":NaN}", -1);
	feed(f, "/app/node_modules/nl/package.json", "{\"name\":\"a\\nb\",\"version\":\"1.0.0\"}", -1);
	feed(f, "/app/node_modules/.bin/package.json", "garbage", -1);
	assert_int_equal(dd__pkgdb_finish(f->db), 0);
	assert_int_equal(dd__pkgdb_count(f->db), 3);
	p = pkg(f, DD__ECO_NPM, "@types/node");
	assert_non_null(p);
	assert_string_equal(p->scope, "/app/node_modules");
	assert_string_equal(dd__pkgdb_get(f->db, 0)->scope, "/app/node_modules");
	assert_string_equal(dd__pkgdb_get(f->db, 2)->scope, "/app/node_modules/a/node_modules");
	assert_string_equal(dd__pkgdb_get(f->db, 2)->version, "3.0.0");
	assert_int_equal(dd__pkgdb_error_count(f->db), 5);
	assert_error(f, "/app/node_modules/trailing/package.json", "malformed JSON");
	assert_error(f, "/app/node_modules/array/package.json", "not a JSON object");
	assert_error(f, "/app/node_modules/trunc/package.json", "malformed JSON");
	assert_error(f, "/app/node_modules/nan/package.json", "malformed JSON");
	assert_error(f, "/app/node_modules/nl/package.json", "malformed \"name\"");
	/* The context carries no leftover error. */
	assert_int_equal(dd_ctx_error_code(f->ctx), 0);
}

/* ---- end to end ---- */

struct fx {
	struct dd_ctx *ctx;
	struct dd_tree *img, *tgt;
	struct dd_diff *d;
	struct dd_findings *fs;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || dd_ctx_new(&f->ctx) || dd__tree_new(&f->img, f->ctx) || dd__tree_new(&f->tgt, f->ctx))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	dd_findings_free(f->fs);
	dd_diff_free(f->d);
	dd_tree_free(f->img);
	dd_tree_free(f->tgt);
	dd_ctx_free(f->ctx);
	free(f);
	return 0;
}

static struct dd__node *add(struct dd_tree *t, const char *path, enum dd_type type, uint32_t mode)
{
	struct dd__node *parent, *n = NULL;
	size_t len = strlen(path);

	assert_int_equal(dd__tree_mkparents(t, &parent, path, len, 0, NULL), 0);
	assert_int_equal(dd__tree_put(t, &n, parent, path, len, type, 0), 0);
	n->e.mode = mode;
	n->e.mtime = 1700000000;
	return n;
}

/* A regular file whose sha256 is 32 bytes of B. */
static struct dd__node *file(struct dd_tree *t, const char *path, uint32_t mode, unsigned char b)
{
	struct dd__node *n = add(t, path, DD_TYPE_FILE, mode);

	n->e.has_sha256 = true;
	memset(n->e.sha256, b, 32);
	n->e.size = 10 + b;
	return n;
}

/* A kept file with CONTENT; its sha256 follows the content. */
static struct dd__node *db(struct dd_tree *t, const char *path, const char *content)
{
	struct dd__node *n = add(t, path, DD_TYPE_FILE, 0644);
	uint64_t h = 1469598103934665603ull;
	size_t i;

	struct dd_entry_extra *x = dd__entry_extra(&t->arena, &n->e);

	assert_non_null(x);
	x->content = (const unsigned char *)content;
	x->content_len = n->e.size = strlen(content);
	for (i = 0; i < x->content_len; i++)
		h = (h ^ (unsigned char)content[i]) * 1099511628211ull;
	n->e.has_sha256 = true;
	for (i = 0; i < 32; i++)
		n->e.sha256[i] = (unsigned char)(h >> (8 * (i % 8))) ^ (unsigned char)i;
	return n;
}

static void both(struct fx *f, const char *path, const char *content)
{
	db(f->img, path, content);
	db(f->tgt, path, content);
}

static void classify(struct fx *f, bool upper)
{
	struct dd_classify_options o = DD_CLASSIFY_OPTIONS_INIT;

	assert_int_equal(dd__tree_finalize(f->img), 0);
	assert_int_equal(dd__tree_finalize(f->tgt), 0);
	if (upper)
		assert_int_equal(dd_diff_upper(&f->d, f->ctx, f->img, f->tgt, NULL), 0);
	else
		assert_int_equal(dd_diff_trees(&f->d, f->ctx, f->img, f->tgt, NULL), 0);
	o.image_tree = f->img;
	o.target_tree = f->tgt;
	o.target_is_upper = upper;
	o.now = 1700000000;
	assert_int_equal(dd_classify(&f->fs, f->ctx, f->d, &o), 0);
}

static size_t count_pkg(struct fx *f)
{
	size_t i, n = 0;

	for (i = 0; i < dd_findings_count(f->fs); i++)
		n += !strcmp(dd_findings_get(f->fs, i)->rule->family, "package");
	return n;
}

/* The finding of RULE about package NAME (or at path NAME). */
static const struct dd_finding *finding(struct fx *f, const char *rule, const char *name)
{
	size_t i;

	for (i = 0; i < dd_findings_count(f->fs); i++) {
		const struct dd_finding *g = dd_findings_get(f->fs, i);

		if (strcmp(g->rule->id, rule))
			continue;
		if ((g->package && g->package->name && !strcmp(g->package->name, name)) ||
		    (g->npaths && !strcmp(g->paths[0].path, name)))
			return g;
	}
	fail_msg("no %s finding for %s", rule, name);
	return NULL;
}

static void assert_pkg(const struct dd_finding *g, const char *eco, const char *version, const char *old)
{
	assert_non_null(g->package);
	assert_string_equal(g->package->ecosystem, eco);
	if (version)
		assert_string_equal(g->package->version, version);
	else
		assert_null(g->package->version);
	if (old)
		assert_string_equal(g->package->old_version, old);
	else
		assert_null(g->package->old_version);
}

#define STANZA(name, version) \
	"Package: " name "\nStatus: install ok installed\nArchitecture: amd64\nVersion: " version "\n\n"

static const char *const meta_foo1 = "Metadata-Version: 2.1\nName: foo\nVersion: 1.0\n";
static const char *const apk_db = "P:musl\nV:1.2.4-r2\nF:lib\nR:libc.so\n\nP:zlib\nV:1.3-r0\nF:lib\nR:libz.so.1\n\n";

/* The same databases on both sides, and files of every kind: no finding at all. */
static void test_identical(void **state)
{
	struct fx *f = *state;

	both(f, "/var/lib/dpkg/status", STANZA("hostname", "3.23") STANZA("dash", "0.5.12-2"));
	both(f, "/var/lib/dpkg/info/hostname.list", "/bin/hostname\n");
	both(f, "/lib/apk/db/installed", apk_db);
	both(f, "/usr/lib/python3/site-packages/foo-1.0.dist-info/METADATA", meta_foo1);
	both(f, "/usr/lib/python3/site-packages/foo-1.0.dist-info/RECORD", "foo.py,,\n");
	both(f, "/app/node_modules/left-pad/package.json", "{\"name\":\"left-pad\",\"version\":\"1.3.0\"}");
	file(f->img, "/bin/hostname", 0755, 'h');
	file(f->tgt, "/bin/hostname", 0755, 'h');
	classify(f, false);
	assert_int_equal(dd_diff_count(f->d), 0);
	assert_int_equal(dd_findings_count(f->fs), 0);
}

static void test_installed_removed_upgraded_downgraded(void **state)
{
	struct fx *f = *state;
	const struct dd_finding *g;

	db(f->img, "/var/lib/dpkg/status",
	   STANZA("keep", "1.0") STANZA("up", "2.36-9") STANZA("gone", "1.0") STANZA("epoch", "1:1.0"));
	db(f->tgt, "/var/lib/dpkg/status",
	   STANZA("keep", "1.0") STANZA("up", "2.36-9+deb12u4") STANZA("epoch", "2.0") STANZA("new", "0.1"));
	db(f->img, "/lib/apk/db/installed", apk_db);
	db(f->tgt, "/lib/apk/db/installed", "P:musl\nV:1.2.4-r10\nF:lib\nR:libc.so\n\n");
	db(f->img, "/usr/lib/python3/site-packages/foo-1.0.dist-info/METADATA", meta_foo1);
	db(f->tgt, "/usr/lib/python3/site-packages/foo-1.0rc1.dist-info/METADATA", "Name: Foo\nVersion: 1.0rc1\n");
	db(f->tgt, "/app/node_modules/@scope/x/package.json", "{\"name\":\"@scope/x\",\"version\":\"1.0.0-beta.2\"}");
	classify(f, false);
	assert_int_equal(count_pkg(f), 8);
	g = finding(f, "DD-PKG-003", "up");
	assert_pkg(g, "dpkg", "2.36-9+deb12u4", "2.36-9");
	assert_string_equal(g->paths[0].path, "/var/lib/dpkg/status");
	assert_non_null(g->change);
	assert_string_equal(g->detail, "architecture amd64");
	assert_pkg(finding(f, "DD-PKG-002", "gone"), "dpkg", NULL, "1.0");
	g = finding(f, "DD-PKG-004", "epoch");
	assert_pkg(g, "dpkg", "2.0", "1:1.0");
	assert_int_equal(g->severity, DD_SEVERITY_HIGH);
	g = finding(f, "DD-PKG-001", "new");
	assert_pkg(g, "dpkg", "0.1", NULL);
	assert_int_equal(g->severity, DD_SEVERITY_MEDIUM);
	assert_pkg(finding(f, "DD-PKG-003", "musl"), "apk", "1.2.4-r10", "1.2.4-r2");
	assert_pkg(finding(f, "DD-PKG-002", "zlib"), "apk", NULL, "1.3-r0");
	/* A Python package found in another dist-info dir: both paths, and a downgrade by PEP 440. */
	g = finding(f, "DD-PKG-004", "foo");
	assert_pkg(g, "python", "1.0rc1", "1.0");
	assert_int_equal(g->npaths, 2);
	assert_string_equal(g->paths[0].path, "/usr/lib/python3/site-packages/foo-1.0rc1.dist-info/METADATA");
	assert_string_equal(g->paths[1].path, "/usr/lib/python3/site-packages/foo-1.0.dist-info/METADATA");
	assert_pkg(finding(f, "DD-PKG-001", "@scope/x"), "npm", "1.0.0-beta.2", NULL);
}

static void test_tampered(void **state)
{
	struct fx *f = *state;
	const struct dd_finding *g;

	both(f, "/var/lib/dpkg/status", STANZA("coreutils", "9.1-1") STANZA("bumped", "1.0"));
	both(f, "/var/lib/dpkg/info/coreutils.list", "/.\n/usr\n/usr/bin\n/usr/bin/ls\n/etc/default/cu\n/usr/bin/mv\n");
	both(f, "/var/lib/dpkg/info/bumped.list", "/usr/bin/bumped\n");
	file(f->img, "/usr/bin/ls", 0755, 'l');
	file(f->tgt, "/usr/bin/ls", 0755, 'L');
	file(f->img, "/etc/default/cu", 0644, 'c');
	file(f->tgt, "/etc/default/cu", 0644, 'C');
	file(f->img, "/usr/bin/mv", 0755, 'm');
	file(f->tgt, "/usr/bin/mv", 0700, 'm');       /* mode only: not tampering */
	file(f->img, "/usr/bin/bumped", 0755, 'b');
	file(f->tgt, "/usr/bin/bumped", 0755, 'B');   /* a second owned file */
	classify(f, false);
	assert_int_equal(count_pkg(f), 3);
	g = finding(f, "DD-PKG-005", "/usr/bin/ls");
	assert_int_equal(g->severity, DD_SEVERITY_HIGH);
	assert_pkg(g, "dpkg", "9.1-1", "9.1-1");
	assert_string_equal(g->detail, "owned by dpkg package coreutils 9.1-1, which is unchanged");
	assert_int_equal(g->npaths, 2);
	assert_string_equal(g->paths[1].path, "/var/lib/dpkg/status");
	g = finding(f, "DD-PKG-005", "/etc/default/cu");
	assert_int_equal(g->severity, DD_SEVERITY_MEDIUM);
	assert_non_null(strstr(g->detail, "under /etc/"));
	finding(f, "DD-PKG-005", "/usr/bin/bumped");
}

static void test_tampered_changed_package(void **state)
{
	struct fx *f = *state;

	/* The package itself was upgraded: its files changing is expected. */
	db(f->img, "/var/lib/dpkg/status", STANZA("coreutils", "9.1-1"));
	db(f->tgt, "/var/lib/dpkg/status", STANZA("coreutils", "9.1-2"));
	both(f, "/var/lib/dpkg/info/coreutils.list", "/usr/bin/ls\n");
	file(f->img, "/usr/bin/ls", 0755, 'l');
	file(f->tgt, "/usr/bin/ls", 0755, 'L');
	classify(f, false);
	assert_int_equal(count_pkg(f), 1);
	finding(f, "DD-PKG-003", "coreutils");
}

static void test_record_mismatch(void **state)
{
	struct fx *f = *state;
	static char record[256];
	const struct dd_finding *g;

	size_t k;

	/* record_sha() returns a static buffer: one call per statement. */
	k = (size_t)snprintf(record, sizeof(record), "foo/__init__.py,sha256=%s,10\n", record_sha('i'));
	snprintf(record + k, sizeof(record) - k, "foo/util.py,sha256=%s,10\n"
		 "foo/__pycache__/util.cpython-311.pyc,,\n", record_sha('u'));
	both(f, "/usr/lib/python3/site-packages/foo-1.0.dist-info/METADATA", meta_foo1);
	both(f, "/usr/lib/python3/site-packages/foo-1.0.dist-info/RECORD", record);
	/* Tampered: differs from the image and from RECORD. */
	file(f->img, "/usr/lib/python3/site-packages/foo/__init__.py", 0644, 'i');
	file(f->tgt, "/usr/lib/python3/site-packages/foo/__init__.py", 0644, 'X');
	/* The image's copy had drifted from RECORD; the target's matches it again. */
	file(f->img, "/usr/lib/python3/site-packages/foo/util.py", 0644, 'q');
	file(f->tgt, "/usr/lib/python3/site-packages/foo/util.py", 0644, 'u');
	/* Rewritten bytecode. */
	file(f->img, "/usr/lib/python3/site-packages/foo/__pycache__/util.cpython-311.pyc", 0644, 'p');
	file(f->tgt, "/usr/lib/python3/site-packages/foo/__pycache__/util.cpython-311.pyc", 0644, 'P');
	classify(f, false);
	assert_int_equal(count_pkg(f), 1);
	g = finding(f, "DD-PKG-005", "/usr/lib/python3/site-packages/foo/__init__.py");
	assert_pkg(g, "python", "1.0", "1.0");
	assert_string_equal(g->detail, "owned by python package foo 1.0, which is unchanged; "
				       "the sha256 differs from its RECORD entry");
	assert_string_equal(g->paths[1].path, "/usr/lib/python3/site-packages/foo-1.0.dist-info/METADATA");
}

static void test_new_executables(void **state)
{
	struct fx *f = *state;
	struct dd__node *n;
	const struct dd_finding *g;

	db(f->img, "/var/lib/dpkg/status", STANZA("base", "1"));
	db(f->tgt, "/var/lib/dpkg/status", STANZA("base", "1") STANZA("netcat", "1.10-47"));
	db(f->tgt, "/var/lib/dpkg/info/netcat.list", "/bin\n/bin/nc.traditional\n");
	n = file(f->tgt, "/bin/nc.traditional", 0755, 'n');
	n->e.exec = DD_EXEC_ELF;
	n->e.elf_machine = 62;
	n = file(f->tgt, "/usr/local/bin/miner", 0755, 'm');
	n->e.exec = DD_EXEC_ELF;
	n->e.elf_machine = 62;
	n = file(f->tgt, "/tmp/.x/run", 0755, 'r');
	n->e.exec = DD_EXEC_SCRIPT;
	classify(f, false);
	g = finding(f, "DD-BIN-001", "/bin/nc.traditional");
	assert_int_equal(g->severity, DD_SEVERITY_MEDIUM);
	assert_string_equal(g->detail, "ELF, x86-64; installed by dpkg package netcat 1.10-47");
	g = finding(f, "DD-BIN-001", "/usr/local/bin/miner");
	assert_int_equal(g->severity, DD_SEVERITY_HIGH);
	assert_string_equal(g->detail, "ELF, x86-64; not owned by any package");
	g = finding(f, "DD-BIN-001", "/tmp/.x/run");
	assert_int_equal(g->severity, DD_SEVERITY_CRITICAL);
	assert_string_equal(g->detail, "script; in a world-writable staging directory; not owned by any package");
	assert_int_equal(count_pkg(f), 1);
	finding(f, "DD-PKG-001", "netcat");
}

/* Without any package database, nothing is said about ownership. */
static void test_new_executable_no_db(void **state)
{
	struct fx *f = *state;
	struct dd__node *n;

	n = file(f->tgt, "/usr/local/bin/miner", 0755, 'm');
	n->e.exec = DD_EXEC_ELF;
	n->e.elf_machine = 62;
	classify(f, false);
	assert_string_equal(finding(f, "DD-BIN-001", "/usr/local/bin/miner")->detail, "ELF, x86-64");
}

static void test_unreadable_db(void **state)
{
	struct fx *f = *state;
	const struct dd_finding *g;

	db(f->img, "/var/lib/dpkg/status", STANZA("a", "1") STANZA("b", "1"));
	db(f->tgt, "/var/lib/dpkg/status", STANZA("a", "1") "Package b\n");
	both(f, "/var/lib/dpkg/status.d/garbled", "\x01\x02 not a stanza");   /* unchanged: silent */
	db(f->img, "/app/node_modules/x/package.json", "{\"name\":\"x\",\"version\":\"1.0.0\"}");
	db(f->tgt, "/app/node_modules/x/package.json", "{\"name\":\"x\",");
	db(f->tgt, "/var/lib/rpm/rpmdb.sqlite", "SQLite format 3");
	classify(f, false);
	/* No "removed" flood for a garbled database: only DD-PKG-006. */
	assert_int_equal(count_pkg(f), 3);
	g = finding(f, "DD-PKG-006", "/var/lib/dpkg/status");
	assert_string_equal(g->detail, "line 6: not a \"Field: value\" line");
	g = finding(f, "DD-PKG-006", "/app/node_modules/x/package.json");
	assert_non_null(strstr(g->detail, "malformed JSON"));
	g = finding(f, "DD-PKG-006", "/var/lib/rpm/rpmdb.sqlite");
	assert_string_equal(g->detail, "rpm database changed; not parsed (no sqlite/bdb reader)");
}

/* The same package in status and in status.d/: one record, one finding. */
static void test_duplicates(void **state)
{
	struct fx *f = *state;

	db(f->img, "/var/lib/dpkg/status", STANZA("tzdata", "2024a-0"));
	db(f->tgt, "/var/lib/dpkg/status", STANZA("tzdata", "2024a-0"));
	db(f->tgt, "/var/lib/dpkg/status.d/tzdata", STANZA("tzdata", "2024a-0"));
	db(f->tgt, "/var/lib/dpkg/status.d/libssl3", STANZA("libssl3", "3.0.11-1"));
	db(f->tgt, "/var/lib/dpkg/status.d/libssl3.md5sums", "d41d8cd98f00b204e9800998ecf8427e  usr/lib/libssl.so.3\n");
	db(f->tgt, "/var/lib/dpkg/status.d/libssl4", STANZA("libssl3", "3.0.12-1"));
	classify(f, false);
	assert_int_equal(count_pkg(f), 1);
	/* The first record in path order wins. */
	assert_pkg(finding(f, "DD-PKG-001", "libssl3"), "dpkg", "3.0.11-1", NULL);
}

/* An upper dir holds only what changed: a database absent from it is the image's. */
static void test_upper(void **state)
{
	struct fx *f = *state;
	struct dd__node *n;

	db(f->img, "/var/lib/dpkg/status", STANZA("coreutils", "9.1-1"));
	db(f->img, "/var/lib/dpkg/info/coreutils.list", "/usr/bin/ls\n");
	file(f->img, "/usr/bin/ls", 0755, 'l');
	db(f->img, "/usr/lib/python3/site-packages/gone-1.0.dist-info/METADATA", "Name: gone\nVersion: 1.0\n");
	db(f->img, "/usr/lib/python3/site-packages/foo-1.0.dist-info/METADATA", meta_foo1);
	file(f->tgt, "/usr/bin/ls", 0755, 'L');
	n = add(f->tgt, "/usr/lib/python3/site-packages/gone-1.0.dist-info", DD_TYPE_CHAR, 0);
	n->e.flags |= DD_ENTRY_WHITEOUT;
	db(f->tgt, "/usr/lib/python3/site-packages/foo-1.0.dist-info/METADATA", "Name: foo\nVersion: 1.0.post1\n");
	classify(f, true);
	assert_int_equal(count_pkg(f), 3);
	finding(f, "DD-PKG-005", "/usr/bin/ls");
	assert_pkg(finding(f, "DD-PKG-002", "gone"), "python", NULL, "1.0");
	assert_pkg(finding(f, "DD-PKG-003", "foo"), "python", "1.0.post1", "1.0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ver_dpkg),
		cmocka_unit_test(test_ver_apk),
		cmocka_unit_test(test_ver_pep440),
		cmocka_unit_test(test_ver_semver),
		cmocka_unit_test_setup_teardown(test_parse_dpkg, psetup, pteardown),
		cmocka_unit_test_setup_teardown(test_parse_dpkg_hostile, psetup, pteardown),
		cmocka_unit_test_setup_teardown(test_parse_apk, psetup, pteardown),
		cmocka_unit_test_setup_teardown(test_parse_apk_hostile, psetup, pteardown),
		cmocka_unit_test_setup_teardown(test_parse_python, psetup, pteardown),
		cmocka_unit_test_setup_teardown(test_parse_python_hostile, psetup, pteardown),
		cmocka_unit_test_setup_teardown(test_parse_npm, psetup, pteardown),
		cmocka_unit_test_setup_teardown(test_identical, setup, teardown),
		cmocka_unit_test_setup_teardown(test_installed_removed_upgraded_downgraded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered_changed_package, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_executables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_executable_no_db, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_db, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upper, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
