/*
 * Unit tests for lib/magicdb.c: the compiled database is mapped and shared
 * only when libmagic's search path ($MAGIC here) comes down to it, and a
 * handle loaded from the mapping describes as one loaded by libmagic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/magicdb.h"

#define TEXT(s) (s), sizeof(s) - 1
#define FLAGS (MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_TAR | MAGIC_ERROR)

/* The system's compiled database, without ".mgc" as search paths name it. */
static const char *system_db(void)
{
	static const char *const candidates[] = { "/usr/share/misc/magic", "/usr/lib/file/magic" };
	static char name[64];
	size_t i;

	for (i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		snprintf(name, sizeof(name), "%s.mgc", candidates[i]);
		if (access(name, R_OK) == 0)
			return candidates[i];
	}
	return NULL;
}

/* A text magic file holding the LEN bytes of TEXT, its name in NAME. */
static void local_file(char *name, size_t n, const char *text, size_t len)
{
	int fd;

	snprintf(name, n, "/tmp/dd-magicdb-XXXXXX");
	fd = mkstemp(name);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

/* Map with $MAGIC set to PATH; true if the database was mapped. */
static bool maps_with(const char *path)
{
	struct dd__magic_db db = { 0 };
	bool mapped;

	assert_int_equal(setenv("MAGIC", path, 1), 0);
	dd__magic_db_map(&db);
	mapped = db.map != NULL;
	dd__magic_db_unmap(&db);
	return mapped;
}

static const unsigned char elf_head[64] = {
	0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	3, 0, 62, 0, 1, 0, 0, 0, /* ET_DYN, x86-64, version 1 */
};

static void test_compiled_alone_is_shared(void **state)
{
	const char *sys = system_db();
	struct dd__magic_db db = { 0 }, none = { 0 };
	magic_t a, b;
	const char *sa, *sb;

	(void)state;
	if (!sys)
		skip();
	assert_int_equal(setenv("MAGIC", sys, 1), 0);
	dd__magic_db_map(&db);
	assert_non_null(db.map);
	dd__magic_db_map(&db); /* once */
	a = dd__magic_open(&db, FLAGS);
	b = dd__magic_open(&none, FLAGS); /* libmagic's own load */
	assert_non_null(a);
	assert_non_null(b);
	sa = magic_buffer(a, elf_head, sizeof(elf_head));
	sb = magic_buffer(b, elf_head, sizeof(elf_head));
	assert_non_null(sa);
	assert_non_null(sb);
	assert_string_equal(sa, sb);
	assert_memory_equal(sa, "ELF 64-bit LSB", 14);
	magic_close(a);
	magic_close(b);
	dd__magic_db_unmap(&db);
	assert_null(db.map);
}

static void test_comments_and_missing_files_ignored(void **state)
{
	const char *sys = system_db();
	char local[64], path[256];

	(void)state;
	if (!sys)
		skip();
	local_file(local, sizeof(local), TEXT("# Magic local data for file(1) command.\n\n   # indented\n"));
	snprintf(path, sizeof(path), "%s:/nonexistent/dd-magic:%s", local, sys);
	assert_true(maps_with(path));
	unlink(local);
}

static void test_local_rules_are_kept(void **state)
{
	const char *sys = system_db();
	struct dd__magic_db db = { 0 };
	char local[64], path[256];
	magic_t m;
	const char *s;

	(void)state;
	if (!sys)
		skip();
	local_file(local, sizeof(local), TEXT("# local\n0\tstring\tDDMAGICTEST\tdriftdiff test rule\n"));
	snprintf(path, sizeof(path), "%s:%s", local, sys);
	assert_int_equal(setenv("MAGIC", path, 1), 0);
	dd__magic_db_map(&db);
	assert_null(db.map); /* sharing would drop the local rule */
	m = dd__magic_open(&db, FLAGS);
	assert_non_null(m);
	s = magic_buffer(m, "DDMAGICTEST\n", 12);
	assert_non_null(s);
	assert_string_equal(s, "driftdiff test rule");
	magic_close(m);
	unlink(local);
}

static void test_not_shared_otherwise(void **state)
{
	const char *sys = system_db();
	char local[64], path[256];

	(void)state;
	if (!sys)
		skip();
	snprintf(path, sizeof(path), "%s:%s", sys, sys);
	assert_false(maps_with(path));            /* two compiled files */
	assert_false(maps_with("/tmp"));          /* a directory of rules */
	local_file(local, sizeof(local), TEXT("0\tstring\tX\tx\n\0 # binary\n"));
	snprintf(path, sizeof(path), "%s:%s", local, sys);
	assert_false(maps_with(path));            /* rules, and a NUL */
	unlink(local);
	local_file(local, sizeof(local), TEXT("not a database at all, long enough\n"));
	snprintf(path, sizeof(path), "%s.mgc", local);
	assert_int_equal(rename(local, path), 0);
	assert_false(maps_with(local));           /* not a compiled database */
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_compiled_alone_is_shared),
		cmocka_unit_test(test_comments_and_missing_files_ignored),
		cmocka_unit_test(test_local_rules_are_kept),
		cmocka_unit_test(test_not_shared_otherwise),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
