/*
 * Unit tests for lib/content.c: which files trees keep whole (the package
 * databases and account files findings parse), down to paths with too few
 * components to have the parents a rule looks at.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "driftdiff.h"

static bool kept(const char *path)
{
	return dd_entry_content_kept(path, strlen(path));
}

static void test_exact_and_package_databases(void **state)
{
	(void)state;
	assert_true(kept("/etc/passwd"));
	assert_true(kept("/etc/group"));
	assert_true(kept("/var/lib/dpkg/status"));
	assert_true(kept("/lib/apk/db/installed"));
	assert_true(kept("/var/lib/dpkg/status.d/libc6"));
	assert_true(kept("/var/lib/dpkg/info/libc6:amd64.list"));
	assert_true(kept("/var/lib/dpkg/info/libc6:amd64.md5sums"));
	assert_false(kept("/var/lib/dpkg/info/libc6:amd64.postinst"));
	assert_false(kept("/var/lib/dpkg/info/sub/x.list"));
	assert_false(kept("/etc/passwd-"));
	assert_false(kept("/etc/passwdx"));
	assert_false(kept("/etc"));
}

static void test_language_packages(void **state)
{
	(void)state;
	assert_true(kept("/usr/lib/python3/dist-packages/requests-2.28.1.dist-info/METADATA"));
	assert_true(kept("/usr/lib/python3/dist-packages/requests-2.28.1.dist-info/RECORD"));
	assert_true(kept("/usr/lib/python3/dist-packages/six.egg-info/PKG-INFO"));
	assert_false(kept("/usr/lib/python3/dist-packages/six.egg-info/METADATA"));
	assert_true(kept("/app/node_modules/left-pad/package.json"));
	assert_true(kept("/app/node_modules/@babel/core/package.json"));
	assert_false(kept("/app/src/package.json"));
	assert_false(kept("/app/node_modules/left-pad/lib/package.json"));
}

/*
 * Paths near the root have no parent or grandparent: nothing is read
 * before the path's start (a fuzzer's "/package.json" once was).
 */
static void test_short_paths(void **state)
{
	(void)state;
	assert_false(kept("/package.json"));
	assert_false(kept("/x/package.json"));
	assert_false(kept("/@s/package.json"));
	assert_false(kept("/@s/x/package.json"));
	assert_true(kept("/node_modules/x/package.json"));
	assert_true(kept("/node_modules/@s/x/package.json"));
	assert_false(kept("/METADATA"));
	assert_true(kept("/a.dist-info/METADATA"));
	assert_false(kept("/"));
	assert_false(kept(""));
	assert_false(kept("package.json"));
	assert_false(kept("//package.json"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_and_package_databases),
		cmocka_unit_test(test_language_packages),
		cmocka_unit_test(test_short_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
