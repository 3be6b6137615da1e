/*
 * A whole live snapshot from a fuzzed procfs: everything a container can
 * choose about its processes goes through dd_live_open(), the process,
 * network and environment findings, and the JSON and text reports.
 *
 * The input is split at "\n--\n" into up to eight parts, written as the
 * files of a fake /proc (dd_live_options.proc) holding two processes of
 * one PID namespace, 100 (the container's first) and 101:
 *   0 100/stat   1 100/cmdline   2 100/environ   3 100/status
 *   4 100/net/tcp (also tcp6, udp, udp6)   5 100/mountinfo
 *   6 101/stat   7 101/cmdline
 * Executables are links to files of a small rootfs (one the image has,
 * one it does not), the image is the oci-umoci fixture.
 * Invariants: dd_live_open either succeeds or fails with a message; the
 * JSON report is one strict JSON document; nothing leaks or crashes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "fuzz_common.h"
#include "lib/private.h"

#ifndef DD_FUZZ_FIXTURES
#error "DD_FUZZ_FIXTURES must name the fixtures directory"
#endif

static char *top, *proc, *root;
static struct dd_ctx *ctx;
static struct dd_image *img;
static const struct dd_tree *itree;

static void cleanup(void)
{
	dd_image_free(img);
	dd_ctx_free(ctx);
	if (top)
		fz_rmtree(top, true);
	free(top);
	free(proc);
	free(root);
}

static char *join(const char *a, const char *b)
{
	char *s;

	if (asprintf(&s, "%s/%s", a, b) < 0)
		fz_die("asprintf");
	return s;
}

static void link_at(const char *target, const char *dir, const char *name)
{
	char *p = join(dir, name);

	unlink(p);
	if (symlink(target, p) != 0)
		fz_die("symlink");
	free(p);
}

static void setup(void)
{
	struct dd_image_options o = DD_IMAGE_OPTIONS_INIT;
	const char *dirs[] = { "proc", "proc/100", "proc/100/ns", "proc/100/fd", "proc/100/net", "proc/101",
			       "proc/101/ns", "proc/101/fd", "rootfs", "rootfs/usr", "rootfs/usr/bin", "rootfs/tmp" };
	char *p, *tool, *evil;
	size_t i;

	top = fz_mkdtemp("live");
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		p = join(top, dirs[i]);
		if (mkdir(p, 0755) != 0)
			fz_die("mkdir");
		free(p);
	}
	proc = join(top, "proc");
	root = join(top, "rootfs");
	p = join(root, "usr/bin");
	fz_write(p, "tool", "#!/bin/sh\necho tool\n", 20);
	free(p);
	p = join(root, "tmp");
	fz_write(p, "evil", "\177ELF\2\1\1", 7);
	free(p);
	tool = join(root, "usr/bin/tool");
	evil = join(root, "tmp/evil");
	fz_write(proc, "stat", "cpu 1\nbtime 1700000000\n", 23);
	for (i = 100; i <= 101; i++) {
		char d[16];
		char *pd;

		snprintf(d, sizeof(d), "%zu", i);
		pd = join(proc, d);
		link_at(root, pd, "root");
		link_at(i == 100 ? tool : evil, pd, "exe");
		link_at("pid:[4026531999]", pd, "ns/pid");
		link_at("socket:[9001]", pd, "fd/3");
		free(pd);
	}
	free(tool);
	free(evil);
	if (dd_ctx_new(&ctx))
		fz_die("dd_ctx_new");
	o.ref = "latest";
	if (dd_image_open(&img, ctx, DD_FUZZ_FIXTURES "/oci-umoci", &o) || dd_image_tree(&itree, img))
		fz_die(dd_ctx_error(ctx));
	atexit(cleanup);
}

static void run_report(enum dd_report_format fmt, const struct dd_live *live, const struct dd_findings *fs)
{
	struct dd_report_options ro = DD_REPORT_OPTIONS_INIT;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		fz_die("open_memstream");
	ro.target = "pid 100";
	ro.target_kind = "live";
	ro.live = live;
	if (dd_report_write(ctx, fmt, img, NULL, fs, &ro, f) != 0)
		fz_die(dd_ctx_error(ctx));
	fclose(f);
	if (fmt == DD_REPORT_JSON) {
		struct json_tokener *tok = json_tokener_new();
		struct json_object *doc;

		json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
		doc = json_tokener_parse_ex(tok, buf, (int)len);
		if (!doc || !dd__utf8_valid(buf, len)) {
			fprintf(stderr, "invalid JSON report:\n%s\n", buf);
			abort();
		}
		json_object_put(doc);
		json_tokener_free(tok);
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const files[] = { "100/stat", "100/cmdline", "100/environ", "100/status",
					     "100/net/tcp", "100/mountinfo", "101/stat", "101/cmdline" };
	static const char sep[] = "\n--\n";
	struct dd_live_options lo = DD_LIVE_OPTIONS_INIT;
	struct dd_classify_options co = DD_CLASSIFY_OPTIONS_INIT;
	struct dd_live *live = NULL;
	struct dd_findings *fs = NULL;
	const char *p = (const char *)data, *end = p + size;
	size_t i;

	if (!top)
		setup();
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		const char *q = p < end ? memmem(p, (size_t)(end - p), sep, 4) : NULL;
		size_t n = p < end ? (size_t)((q ? q : end) - p) : 0;

		fz_write(proc, files[i], p < end ? p : "", n);
		if (i == 4) {
			fz_write(proc, "100/net/tcp6", p < end ? p : "", n);
			fz_write(proc, "100/net/udp", p < end ? p : "", n);
			fz_write(proc, "100/net/udp6", p < end ? p : "", n);
		}
		p = q ? q + 4 : end;
	}
	lo.proc = proc;
	if (dd_live_open(&live, ctx, 100, &lo) != 0) {
		if (!*dd_ctx_error(ctx))
			abort(); /* a refusal always says why */
		return 0;
	}
	co.image = img;
	co.image_tree = itree;
	co.live = live;
	co.show_env_values = size & 1;
	if (dd_classify(&fs, ctx, NULL, &co) == 0) {
		run_report(DD_REPORT_JSON, live, fs);
		run_report(DD_REPORT_TEXT, live, fs);
		run_report(DD_REPORT_MARKDOWN, live, fs);
		dd_findings_free(fs);
	} else if (!*dd_ctx_error(ctx)) {
		abort();
	}
	dd_live_free(live);
	return 0;
}
