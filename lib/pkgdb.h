/*
 * Package databases (pkgdb.c) and version ordering (pkgver.c): internal to
 * lib/, exposed here for the classifier and the unit tests.
 */
#ifndef DD_PKGDB_H
#define DD_PKGDB_H

#include "private.h"

enum dd__eco {
	DD__ECO_DPKG,
	DD__ECO_APK,
	DD__ECO_PYTHON,
	DD__ECO_NPM,
};
/* "dpkg", "apk", "python", "npm". */
const char *dd__eco_name(enum dd__eco eco);

/*
 * Version ordering, <0, 0 or >0 like strcmp. Each accepts any bytes: a
 * version that does not follow its ecosystem's syntax is compared with
 * strcmp against anything (so the order is still total and stable).
 *   dpkg:   deb-version(7): epoch, upstream and revision, '~' before all
 *   apk:    apk-tools: digit{.digit}{letter}{_suffix{N}}{-rN}
 *   python: PEP 440: epoch, release, a/b/rc, .post, .dev, +local
 *   npm:    SemVer 2.0.0, prerelease identifiers included
 */
int dd__ver_cmp_dpkg(const char *a, const char *b);
int dd__ver_cmp_apk(const char *a, const char *b);
int dd__ver_cmp_pep440(const char *a, const char *b);
int dd__ver_cmp_semver(const char *a, const char *b);
int dd__ver_cmp(enum dd__eco eco, const char *a, const char *b);

/* One installed package as one tree's database records it. */
struct dd__pkg {
	enum dd__eco eco;
	const char *name;     /* Python names normalised as PEP 503 says */
	const char *arch;     /* dpkg Architecture; "" elsewhere */
	const char *scope;    /* where it is installed: the Python site dir, the
				 npm node_modules dir; "" for dpkg and apk */
	const char *version;
	const char *db;       /* the database file that records it */
	size_t db_len;
	const struct dd__pkg *canon; /* itself, or the first record of a duplicate */
};

/* A database file that exists but could not be read. */
struct dd__pkgdb_error {
	const char *path;
	size_t len;
	const char *msg;
};

/* One tree's packages, ownership of paths and unreadable databases. */
struct dd__pkgdb;

int dd__pkgdb_new(struct dd__pkgdb **out, struct dd_ctx *ctx);
void dd__pkgdb_free(struct dd__pkgdb *db);
/*
 * Read E if it is a package database file (by its path), else do nothing.
 * E must outlive DB. A malformed file becomes an error of the database
 * (with none of its packages); only ENOMEM fails.
 */
int dd__pkgdb_add(struct dd__pkgdb *db, const struct dd_entry *e);
/* Is PATH a file dd__pkgdb_add() reads? */
bool dd__pkgdb_is_db_path(const char *path, size_t len);
/* Sort, merge duplicates, resolve dpkg file lists. Before any query. */
int dd__pkgdb_finish(struct dd__pkgdb *db);

size_t dd__pkgdb_count(const struct dd__pkgdb *db);   /* duplicates excluded */
const struct dd__pkg *dd__pkgdb_get(const struct dd__pkgdb *db, size_t i);
/* The package with the key of P (ecosystem, scope, name, arch), or NULL. */
const struct dd__pkg *dd__pkgdb_find(const struct dd__pkgdb *db, const struct dd__pkg *p);
/* The package owning PATH, and the sha256 its RECORD gives (or NULL). */
const struct dd__pkg *dd__pkgdb_owner(const struct dd__pkgdb *db, const char *path, size_t len,
				      const unsigned char **record_sha256);
size_t dd__pkgdb_error_count(const struct dd__pkgdb *db);
const struct dd__pkgdb_error *dd__pkgdb_error(const struct dd__pkgdb *db, size_t i);
/* Files read (malformed ones included): does the tree have any package database? */
size_t dd__pkgdb_files(const struct dd__pkgdb *db);

#endif
