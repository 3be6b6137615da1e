/*
 * Unit tests for lib/ignore.c: gitignore-style patterns over absolute
 * container paths, and the built-in list of what runtimes write.
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

#include "driftdiff.h"

struct fx {
	struct dd_ctx *ctx;
	struct dd_ignore *ign;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || dd_ctx_new(&f->ctx) || dd_ignore_new(&f->ign, f->ctx))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	dd_ignore_free(f->ign);
	dd_ctx_free(f->ctx);
	free(f);
	return 0;
}

static bool ignored(struct fx *f, const char *path, bool dir)
{
	return dd_ignore_match(f->ign, path, strlen(path), dir) != NULL;
}

static void add(struct fx *f, const char *pattern)
{
	assert_int_equal(dd_ignore_add(f->ign, pattern, pattern), 0);
}

/* An anchored double-star pattern covers everything below /tmp, not /tmp itself. */
static void test_anchored_double_star(void **state)
{
	struct fx *f = *state;

	add(f, "/tmp/**");
	assert_true(ignored(f, "/tmp/a", false));
	assert_true(ignored(f, "/tmp/a/b/c", false));
	assert_false(ignored(f, "/tmp", true));
	assert_false(ignored(f, "/var/tmp/a", false));
}

/* A pattern without '/' matches a name at any depth. */
static void test_unanchored(void **state)
{
	struct fx *f = *state;

	add(f, "*.log");
	assert_true(ignored(f, "/var/log/app.log", false));
	assert_true(ignored(f, "/x.log", false));
	assert_false(ignored(f, "/var/log/app.log.1", false));
}

/* "!" re-includes, the last matching pattern wins. */
static void test_negation(void **state)
{
	struct fx *f = *state;

	add(f, "/var/log/*");
	add(f, "!/var/log/auth.log");
	assert_true(ignored(f, "/var/log/syslog", false));
	assert_false(ignored(f, "/var/log/auth.log", false));
}

/* As in git, nothing below an ignored directory comes back. */
static void test_ignored_dir_hides_below(void **state)
{
	struct fx *f = *state;

	add(f, "/cache/");
	add(f, "!/cache/keep");
	assert_true(ignored(f, "/cache", true));
	assert_true(ignored(f, "/cache/keep", false));
	/* A trailing slash matches directories only. */
	assert_false(ignored(f, "/cache", false));
}

/* "**" in the middle spans zero or more directories. */
static void test_middle_double_star(void **state)
{
	struct fx *f = *state;

	add(f, "/usr/**/__pycache__/");
	assert_true(ignored(f, "/usr/__pycache__/x.pyc", false));
	assert_true(ignored(f, "/usr/lib/python3/dist-packages/a/__pycache__/x.pyc", false));
	assert_false(ignored(f, "/opt/__pycache__/x.pyc", false));
}

static void test_comments_and_blank(void **state)
{
	struct fx *f = *state;

	add(f, "# /etc/passwd");
	add(f, "");
	add(f, "   ");
	assert_false(ignored(f, "/etc/passwd", false));
}

/* The built-in list: runtime files, and mount points only as themselves. */
static void test_defaults(void **state)
{
	struct fx *f = *state;

	assert_int_equal(dd_ignore_add_defaults(f->ign), 0);
	assert_true(ignored(f, "/.dockerenv", false));
	assert_true(ignored(f, "/etc/resolv.conf", false));
	assert_true(ignored(f, "/proc", true));
	assert_true(ignored(f, "/proc/1/status", false));
	assert_true(ignored(f, "/dev/shm", true));
	/* A file dropped into /dev/shm is still drift. */
	assert_false(ignored(f, "/dev/shm/payload", false));
	assert_false(ignored(f, "/etc/passwd", false));
	assert_non_null(strstr(dd_ignore_match(f->ign, "/.dockerenv", 11, false), "Docker"));
}

static void test_load_file(void **state)
{
	struct fx *f = *state;
	char path[] = "/tmp/dd-ignore-XXXXXX";
	int fd = mkstemp(path);
	const char *text = "# runtime writes\n/var/log/**\n!/var/log/wtmp\n*.pid\n";
	const char *why;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(dd_ignore_load(f->ign, path), 0);
	why = dd_ignore_match(f->ign, "/run/nginx.pid", 14, false);
	assert_non_null(why);
	/* The reason names the file and the line. */
	assert_non_null(strstr(why, ":4: *.pid"));
	assert_false(ignored(f, "/var/log/wtmp", false));
	unlink(path);
	assert_int_equal(dd_ignore_load(f->ign, "/nonexistent/ignore"), DD_ENOTFOUND);
	assert_non_null(strstr(dd_ctx_error(f->ctx), "/nonexistent/ignore"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_anchored_double_star, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unanchored, setup, teardown),
		cmocka_unit_test_setup_teardown(test_negation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ignored_dir_hides_below, setup, teardown),
		cmocka_unit_test_setup_teardown(test_middle_double_star, setup, teardown),
		cmocka_unit_test_setup_teardown(test_comments_and_blank, setup, teardown),
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
