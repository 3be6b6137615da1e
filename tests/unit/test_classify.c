/*
 * Unit tests for lib/classify.c and lib/policy.c: every path and attribute
 * rule fires on the change it is about, and nothing fires when the target
 * equals the image.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/tree.h"

struct fx {
	struct dd_ctx *ctx;
	struct dd_tree *img, *tgt;
	struct dd_diff *d;
	struct dd_findings *f;
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

	dd_findings_free(f->f);
	dd_diff_free(f->d);
	dd_tree_free(f->img);
	dd_tree_free(f->tgt);
	dd_ctx_free(f->ctx);
	free(f);
	return 0;
}

static struct dd__node *put(struct dd_tree *t, const char *path, enum dd_type type, uint32_t mode,
			    const char *content)
{
	struct dd__node *parent, *n = NULL;
	size_t len = strlen(path);

	assert_int_equal(dd__tree_mkparents(t, &parent, path, len, 0, NULL), 0);
	assert_int_equal(dd__tree_put(t, &n, parent, path, len, type, 0), 0);
	n->e.mode = mode;
	n->e.mtime = 1700000000;
	if (type == DD_TYPE_FILE) {
		/* A stand-in for SHA-256: equal contents, equal digests. */
		uint64_t h = 1469598103934665603ull;

		for (const char *p = content ? content : ""; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
		n->e.has_sha256 = true;
		for (int k = 0; k < 32; k++)
			n->e.sha256[k] = (unsigned char)(h >> (8 * (k % 8)));
		n->e.size = content ? strlen(content) : 0;
		if (content) {
			struct dd_entry_extra *x = dd__entry_extra(&t->arena, &n->e);

			assert_non_null(x);
			x->content = (const unsigned char *)content;
			x->content_len = strlen(content);
		}
		if (content && !strncmp(content, "#!", 2))
			n->e.exec = DD_EXEC_SCRIPT;
		if (content && !strncmp(content, "\177ELF", 4))
			n->e.exec = DD_EXEC_ELF;
	}
	return n;
}

/* Give N the one xattr X. */
static void set_xattr(struct dd_tree *t, struct dd__node *n, const struct dd_xattr *x)
{
	struct dd_entry_extra *e = dd__entry_extra(&t->arena, &n->e);

	assert_non_null(e);
	e->xattrs = x;
	e->nxattrs = 1;
}

/* Both sides get the same file. */
static void both(struct fx *f, const char *path, enum dd_type type, uint32_t mode, const char *content)
{
	put(f->img, path, type, mode, content);
	put(f->tgt, path, type, mode, content);
}

static void classify(struct fx *f, const struct dd_policy *policy)
{
	struct dd_classify_options o = DD_CLASSIFY_OPTIONS_INIT;

	assert_int_equal(dd__tree_finalize(f->img), 0);
	assert_int_equal(dd__tree_finalize(f->tgt), 0);
	assert_int_equal(dd_diff_trees(&f->d, f->ctx, f->img, f->tgt, NULL), 0);
	o.image_tree = f->img;
	o.target_tree = f->tgt;
	o.policy = policy;
	assert_int_equal(dd_classify(&f->f, f->ctx, f->d, &o), 0);
}

static const struct dd_finding *finding(struct fx *f, const char *rule, const char *path)
{
	size_t i;

	for (i = 0; i < dd_findings_count(f->f); i++) {
		const struct dd_finding *x = dd_findings_get(f->f, i);

		if (!strcmp(x->rule->id, rule) && x->npaths && x->paths[0].len == strlen(path) &&
		    !memcmp(x->paths[0].path, path, x->paths[0].len))
			return x;
	}
	return NULL;
}

static void expect(struct fx *f, const char *rule, const char *path, enum dd_severity sev)
{
	const struct dd_finding *x = finding(f, rule, path);

	if (!x)
		fail_msg("no %s on %s", rule, path);
	assert_int_equal(x->severity, sev);
}

/* A pristine copy raises nothing at all, whatever the image holds. */
static void test_no_false_positives(void **state)
{
	struct fx *f = *state;

	both(f, "/etc/passwd", DD_TYPE_FILE, 0644, "root:x:0:0::/root:/bin/sh\n");
	both(f, "/usr/bin/su", DD_TYPE_FILE, 04755, "\177ELF.........................");
	both(f, "/etc/cron.d/job", DD_TYPE_FILE, 0644, "* * * * * root true\n");
	both(f, "/root/.bash_history", DD_TYPE_FILE, 0600, "ls\n");
	both(f, "/tmp", DD_TYPE_DIR, 01777, NULL);
	both(f, "/var/log/app.log", DD_TYPE_FILE, 0644, "x\n");
	classify(f, NULL);
	assert_int_equal(dd_diff_count(f->d), 0);
	assert_int_equal(dd_findings_count(f->f), 0);
}

static void test_binary(void **state)
{
	struct fx *f = *state;

	both(f, "/usr/bin/ls", DD_TYPE_FILE, 0755, "\177ELF-ls");
	put(f->img, "/usr/bin/ls2", DD_TYPE_FILE, 0755, "\177ELF-old");
	put(f->tgt, "/usr/bin/ls2", DD_TYPE_FILE, 0755, "\177ELF-new");
	put(f->tgt, "/usr/local/bin/tool", DD_TYPE_FILE, 0755, "\177ELF-tool");
	put(f->tgt, "/tmp/x", DD_TYPE_FILE, 0755, "\177ELF-x");
	put(f->tgt, "/opt/.hidden/y", DD_TYPE_FILE, 0755, "#!/bin/sh\n");
	put(f->tgt, "/opt/app/kworkerd", DD_TYPE_FILE, 0755, "\177ELF-k");
	put(f->tgt, "/usr/local/bin/nc", DD_TYPE_FILE, 0755, "\177ELF-nc");
	put(f->img, "/usr/bin/uname", DD_TYPE_SYMLINK, 0777, NULL)->e.target = "ls";
	put(f->tgt, "/usr/bin/uname", DD_TYPE_SYMLINK, 0777, NULL)->e.target = "../../tmp/x";
	f->img->root->e.type = DD_TYPE_DIR;
	/* target_len of the literals above */
	((struct dd_entry *)dd__tree_lookup(f->img, "/usr/bin/uname", 14))->target_len = 2;
	((struct dd_entry *)dd__tree_lookup(f->tgt, "/usr/bin/uname", 14))->target_len = 11;
	classify(f, NULL);
	expect(f, "DD-BIN-001", "/usr/local/bin/tool", DD_SEVERITY_HIGH);
	expect(f, "DD-BIN-001", "/tmp/x", DD_SEVERITY_CRITICAL);
	expect(f, "DD-BIN-001", "/opt/.hidden/y", DD_SEVERITY_CRITICAL);
	expect(f, "DD-BIN-001", "/opt/app/kworkerd", DD_SEVERITY_CRITICAL);
	expect(f, "DD-BIN-002", "/usr/bin/ls2", DD_SEVERITY_HIGH);
	expect(f, "DD-BIN-003", "/usr/bin/uname", DD_SEVERITY_HIGH);
	expect(f, "DD-INT-003", "/usr/local/bin/nc", DD_SEVERITY_MEDIUM);
	assert_null(finding(f, "DD-BIN-001", "/usr/bin/ls"));
}

static void test_privilege(void **state)
{
	struct fx *f = *state;
	static const unsigned char cap[20] = { 0, 0, 0, 2, 0, 0, 0x20, 0 }; /* cap_sys_admin (21), rev 2 */
	static struct dd_xattr x = { "security.capability", cap, 20 };
	struct dd__node *n;

	put(f->img, "/usr/bin/tool", DD_TYPE_FILE, 0755, "\177ELF-t");
	put(f->tgt, "/usr/bin/tool", DD_TYPE_FILE, 04755, "\177ELF-t");
	put(f->img, "/usr/bin/ping", DD_TYPE_FILE, 0755, "\177ELF-p");
	n = put(f->tgt, "/usr/bin/ping", DD_TYPE_FILE, 0755, "\177ELF-p");
	set_xattr(f->tgt, n, &x);
	put(f->img, "/usr/lib/data", DD_TYPE_DIR, 0755, NULL);
	put(f->tgt, "/usr/lib/data", DD_TYPE_DIR, 0777, NULL);
	put(f->img, "/etc/conf", DD_TYPE_FILE, 0644, "c");
	put(f->tgt, "/etc/conf", DD_TYPE_FILE, 0644, "c")->e.uid = 1000;
	both(f, "/bin/busybox", DD_TYPE_FILE, 04755, "\177ELF-b");
	n = put(f->tgt, "/tmp/sh", DD_TYPE_FILE, 04755, "\177ELF-b");
	/* Same inode as /bin/busybox in the target. */
	n->e.ino = dd__tree_lookup(f->tgt, "/bin/busybox", 12)->e.ino;
	classify(f, NULL);
	expect(f, "DD-PRIV-001", "/usr/bin/tool", DD_SEVERITY_HIGH);
	expect(f, "DD-PRIV-002", "/usr/bin/ping", DD_SEVERITY_HIGH);
	assert_string_equal(finding(f, "DD-PRIV-002", "/usr/bin/ping")->detail, "cap_sys_admin+p");
	expect(f, "DD-PRIV-003", "/tmp/sh", DD_SEVERITY_HIGH);
	assert_int_equal(finding(f, "DD-PRIV-003", "/tmp/sh")->npaths, 2);
	expect(f, "DD-PRIV-004", "/usr/lib/data", DD_SEVERITY_MEDIUM);
	expect(f, "DD-PRIV-005", "/etc/conf", DD_SEVERITY_MEDIUM);
	/* The setuid hard link is not also a setuid file of its own. */
	assert_null(finding(f, "DD-PRIV-001", "/tmp/sh"));
}

static void test_persistence(void **state)
{
	struct fx *f = *state;
	static const struct { const char *rule, *path; } cases[] = {
		{ "DD-PERS-003", "/etc/sudoers.d/x" }, { "DD-PERS-004", "/etc/cron.d/job" },
		{ "DD-PERS-004", "/etc/systemd/system/evil.service" }, { "DD-PERS-005", "/root/.ssh/authorized_keys" },
		{ "DD-PERS-005", "/home/app/.ssh/authorized_keys" }, { "DD-PERS-006", "/etc/ld.so.preload" },
		{ "DD-PERS-007", "/root/.bashrc" }, { "DD-PERS-007", "/etc/profile.d/x.sh" },
		{ "DD-PERS-008", "/etc/pam.d/sshd" }, { "DD-PERS-008", "/usr/lib/x86_64-linux-gnu/security/pam_evil.so" },
		{ "DD-PERS-009", "/etc/nsswitch.conf" }, { "DD-INT-001", "/root/.bash_history" },
		{ "DD-AF-003", "/var/.wh.secret" },
	};
	size_t i;

	put(f->img, "/etc/passwd", DD_TYPE_FILE, 0644, "root:x:0:0::/root:/bin/sh\n");
	put(f->tgt, "/etc/passwd", DD_TYPE_FILE, 0644,
	    "root:x:0:0::/root:/bin/sh\nsysupdate:x:0:0::/:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/sh\n");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		put(f->tgt, cases[i].path, DD_TYPE_FILE, 0644, "data\n");
	put(f->tgt, "/var/lib/dev", DD_TYPE_CHAR, 0600, NULL);
	put(f->tgt, "/var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease", DD_TYPE_FILE, 0644, "x");
	put(f->tgt, "/var/cache/apt/pkgcache.bin", DD_TYPE_FILE, 0644, "x");
	put(f->img, "/home/u/.bash_history", DD_TYPE_FILE, 0600, "ls\n");
	put(f->img, "/var/log/auth.log", DD_TYPE_FILE, 0640, "log\n");
	put(f->img, "/etc/app.conf", DD_TYPE_FILE, 0644, "a\n");
	put(f->tgt, "/etc/app.conf", DD_TYPE_FILE, 0644, "b\n")->e.mtime = 1600000000;
	put(f->img, "/etc/motd", DD_TYPE_FILE, 0644, "hello\n");
	put(f->tgt, "/etc/motd", DD_TYPE_FILE, 0644, "HELLO\n");
	classify(f, NULL);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (!finding(f, cases[i].rule, cases[i].path))
			fail_msg("no %s on %s", cases[i].rule, cases[i].path);
	expect(f, "DD-PERS-001", "/etc/passwd", DD_SEVERITY_HIGH);
	expect(f, "DD-PERS-002", "/etc/passwd", DD_SEVERITY_CRITICAL);
	assert_string_equal(finding(f, "DD-PERS-002", "/etc/passwd")->detail, "account sysupdate");
	expect(f, "DD-AF-003", "/var/lib/dev", DD_SEVERITY_MEDIUM);
	expect(f, "DD-AF-004", "/home/u/.bash_history", DD_SEVERITY_MEDIUM);
	expect(f, "DD-AF-004", "/var/log/auth.log", DD_SEVERITY_MEDIUM);
	expect(f, "DD-AF-002", "/etc/app.conf", DD_SEVERITY_MEDIUM);
	expect(f, "DD-AF-001", "/etc/motd", DD_SEVERITY_HIGH);
	/* One finding for all of apt's traces, with every path. */
	expect(f, "DD-INT-002", "/var/cache/apt/pkgcache.bin", DD_SEVERITY_LOW);
	assert_int_equal(finding(f, "DD-INT-002", "/var/cache/apt/pkgcache.bin")->npaths, 2);
	/* An account that is not uid 0 is no DD-PERS-002. */
	for (i = 0; i < dd_findings_count(f->f); i++) {
		const struct dd_finding *x = dd_findings_get(f->f, i);

		if (!strcmp(x->rule->id, "DD-PERS-002"))
			assert_null(strstr(x->detail, "bob"));
	}
}

static void test_findings_sorted_by_severity(void **state)
{
	struct fx *f = *state;
	size_t i;

	put(f->tgt, "/tmp/x", DD_TYPE_FILE, 0755, "\177ELF-x");
	put(f->tgt, "/etc/cron.d/a", DD_TYPE_FILE, 0644, "x");
	put(f->tgt, "/var/lib/apt/lists/a", DD_TYPE_FILE, 0644, "x");
	classify(f, NULL);
	for (i = 1; i < dd_findings_count(f->f); i++)
		assert_true(dd_findings_get(f->f, i - 1)->severity >= dd_findings_get(f->f, i)->severity);
}

/*
 * Many new executables are described by libmagic on several threads: the
 * words must be the ones one thread gives, for every file, copies included.
 */
static void describe_all(unsigned jobs, char **details, size_t n)
{
	static char contents[48][64];
	struct dd_classify_options o = DD_CLASSIFY_OPTIONS_INIT;
	struct dd_ctx *ctx;
	struct dd_tree *img, *tgt;
	struct dd_diff *d;
	struct dd_findings *fs;
	size_t i, k = 0;

	assert_int_equal(dd_ctx_new(&ctx), 0);
	assert_int_equal(dd__tree_new(&img, ctx), 0);
	assert_int_equal(dd__tree_new(&tgt, ctx), 0);
	put(img, "/opt", DD_TYPE_DIR, 0755, NULL);
	put(tgt, "/opt", DD_TYPE_DIR, 0755, NULL);
	for (i = 0; i < n; i++) {
		char path[32];
		struct dd__node *x;
		struct dd_entry_extra *xx;

		/* Scripts and text, every fourth a copy of the one before. */
		if (i % 4 == 3)
			memcpy(contents[i], contents[i - 1], sizeof(contents[i]));
		else
			snprintf(contents[i], sizeof(contents[i]), i % 2 ? "#!/bin/sh\necho %zu\n" :
				 "plain text number %zu\n", i);
		snprintf(path, sizeof(path), "/opt/x%02zu", i);
		x = put(tgt, path, DD_TYPE_FILE, 0755, contents[i]);
		xx = dd__entry_extra(&tgt->arena, &x->e);
		assert_non_null(xx);
		xx->head = (const unsigned char *)contents[i];
		xx->head_len = (uint32_t)strlen(contents[i]);
	}
	assert_int_equal(dd__tree_finalize(img), 0);
	assert_int_equal(dd__tree_finalize(tgt), 0);
	assert_int_equal(dd_diff_trees(&d, ctx, img, tgt, NULL), 0);
	o.image_tree = img;
	o.target_tree = tgt;
	o.jobs = jobs;
	assert_int_equal(dd_classify(&fs, ctx, d, &o), 0);
	for (i = 0; i < dd_findings_count(fs); i++) {
		const struct dd_finding *x = dd_findings_get(fs, i);

		if (!strcmp(x->rule->id, "DD-BIN-001")) {
			assert_true(k < n);
			assert_non_null(x->detail);
			details[k++] = strdup(x->detail);
		}
	}
	assert_int_equal(k, n);
	dd_findings_free(fs);
	dd_diff_free(d);
	dd_tree_free(img);
	dd_tree_free(tgt);
	dd_ctx_free(ctx);
}

static void test_describe_on_threads(void **state)
{
	char *one[48], *four[48];
	size_t i, scripts = 0;

	(void)state;
	describe_all(1, one, 48);
	describe_all(4, four, 48);
	for (i = 0; i < 48; i++) {
		assert_string_equal(four[i], one[i]);
		/* libmagic's words, not the fallback ("script", "execute bit set"). */
		assert_non_null(strstr(one[i], "text"));
		scripts += strstr(one[i], "shell script") != NULL;
		free(one[i]);
		free(four[i]);
	}
	assert_int_equal(scripts, 12); /* i % 4 == 1 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_false_positives, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_privilege, setup, teardown),
		cmocka_unit_test_setup_teardown(test_persistence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_findings_sorted_by_severity, setup, teardown),
		cmocka_unit_test(test_describe_on_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
