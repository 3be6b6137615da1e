/* driftdiff: the command table and the top-level options. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <archive.h>
#include <json-c/json.h>
#include <magic.h>
#include <openssl/crypto.h>

#include "cli.h"

const struct cli_cmd cli_commands[] = {
	{ "report", cmd_report, "diff a container against its image and report the drift",
	  "driftdiff report [options] IMAGE TARGET | driftdiff report [options] --upper DIR IMAGE | driftdiff report [options] (--pid PID | --container-id ID) IMAGE" },
	{ "ps", cmd_ps, "list a running container's processes against its image",
	  "driftdiff ps [options] (--pid PID | --container-id ID) IMAGE" },
	{ "verify", cmd_verify, "check an image's digest against the approved ones",
	  "driftdiff verify [--ref NAME] [--platform OS/ARCH[/VARIANT]] (--expect DIGEST | --approved FILE) IMAGE" },
	{ "rules", cmd_rules, "list the rules findings are raised under",
	  "driftdiff rules [--format text|json]" },
	{ "manifest", cmd_manifest, "print the hashed manifest of an image's final filesystem",
	  "driftdiff manifest [--ref NAME] [--platform OS/ARCH[/VARIANT]] [--format text|jsonl|manifest] [-o FILE] IMAGE" },
	{ "inspect", cmd_inspect, "show an image's manifest, config, layers and verification",
	  "driftdiff inspect [--ref NAME] [--platform OS/ARCH[/VARIANT]] [--format text|json] [--no-verify] IMAGE" },
	{ NULL, NULL, NULL, NULL },
};

const struct cli_cmd *cli_find(const char *name)
{
	const struct cli_cmd *c;

	for (c = cli_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "driftdiff%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'driftdiff %s%s--help'.\n", cmd ? cmd : "", cmd ? " " : "");
	return EXIT_ERROR;
}

int cli_report_choices(const char *cmd, const char *format, const char *fail_on,
		       enum dd_report_format *fmt, int *threshold)
{
	*fmt = dd_report_format_parse(format ? format : "text");
	if (!*fmt)
		return cli_usage_error(cmd, "unknown format '%s' (text, json, sarif, markdown)", format);
	if (!fail_on || !strcmp(fail_on, "any"))
		*threshold = DD_SEVERITY_NONE;
	else if ((*threshold = dd_severity_parse(fail_on)) <= 0)
		return cli_usage_error(cmd, "unknown severity '%s' (any, info, low, medium, high, critical, never)",
				       fail_on);
	return 0;
}

int cli_fail(struct dd_ctx *ctx)
{
	const char *msg = dd_ctx_error(ctx);

	fprintf(stderr, "driftdiff: %s\n", *msg ? msg : dd_strerror(dd_ctx_error_code(ctx)));
	return EXIT_ERROR;
}

void cli_print_usage(const struct cli_cmd *cmd, FILE *f)
{
	fprintf(f, "usage: %s\n", cmd->usage);
}

int cli_output_open(struct cli_output *out, const char *path)
{
	struct stat st;
	int fd;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!path || strcmp(path, "-") == 0) {
		out->f = stdout;
		return 0;
	}
	out->path = strdup(path);
	if (!out->path)
		goto fail;
	/*
	 * Only a regular file is replaced by renaming a finished temporary
	 * over it. Anything else that exists, /dev/null or a FIFO or a
	 * terminal, is written in place: renaming over it would replace the
	 * device node itself (as root, /dev/null for the whole machine).
	 */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
		if (fd < 0 || !(out->f = fdopen(fd, "w"))) {
			if (fd >= 0)
				close(fd);
			goto fail;
		}
		return 0;
	}
	n = strlen(path) + sizeof(".tmpXXXXXX");
	out->tmp = malloc(n);
	if (!out->tmp)
		goto fail;
	snprintf(out->tmp, n, "%s.tmpXXXXXX", path);
	fd = mkstemp(out->tmp);
	if (fd < 0)
		goto fail;
	out->f = fdopen(fd, "w");
	if (!out->f) {
		close(fd);
		unlink(out->tmp);
		goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "driftdiff: %s: %s\n", path, strerror(errno));
	free(out->path);
	free(out->tmp);
	memset(out, 0, sizeof(*out));
	return EXIT_ERROR;
}

int cli_output_close(struct cli_output *out, int ok)
{
	int rc = EXIT_OK;

	if (!out->f)
		return EXIT_OK;
	if (out->f == stdout) {
		if (fflush(stdout) != 0 || ferror(stdout)) {
			fprintf(stderr, "driftdiff: write error on standard output: %s\n",
				strerror(errno));
			rc = EXIT_ERROR;
		}
		return rc;
	}
	if (fclose(out->f) != 0 && ok) {
		fprintf(stderr, "driftdiff: %s: %s\n", out->path, strerror(errno));
		ok = 0;
		rc = EXIT_ERROR;
	}
	if (ok && out->tmp && rename(out->tmp, out->path) != 0) {
		fprintf(stderr, "driftdiff: %s: %s\n", out->path, strerror(errno));
		rc = EXIT_ERROR;
		ok = 0;
	}
	if (!ok && out->tmp)
		unlink(out->tmp);
	free(out->path);
	free(out->tmp);
	memset(out, 0, sizeof(*out));
	return rc;
}

static void print_help(FILE *f)
{
	const struct cli_cmd *c;

	fprintf(f, "usage: driftdiff [--version] [--help] COMMAND [ARGS]\n\n"
		   "Container drift forensics: compare a container with the image it came from.\n\n"
		   "Commands:\n");
	for (c = cli_commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\nRun 'driftdiff help COMMAND' or 'driftdiff COMMAND --help' for details.\n"
		   "Exit status: 0 success (no drift), 1 drift found, 2 error.\n");
}

static void print_version(void)
{
	printf("driftdiff %s\n", dd_version());
	printf("  %s\n", archive_version_details());
	printf("  %s\n", OpenSSL_version(OPENSSL_VERSION));
	printf("  json-c %s\n", json_c_version());
	printf("  libmagic %d\n", magic_version());
}

int main(int argc, char **argv)
{
	const struct cli_cmd *cmd;

#ifdef __GLIBC__
	/*
	 * glibc raises its mmap threshold to the size of each large block
	 * freed (up to 32 MB): once a layer's 256 KB buffers are gone, big
	 * blocks come from the per-thread heaps instead, which hold on to
	 * them. Fixed at glibc's default: report over /usr, cached, peak RSS
	 * 91 -> 79 MB; cold, with the walk niced, 92 -> 87 MB.
	 */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
	if (argc < 2) {
		print_help(stderr);
		return EXIT_ERROR;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		print_help(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		print_version();
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "help")) {
		if (argc < 3) {
			print_help(stdout);
			return EXIT_OK;
		}
		cmd = cli_find(argv[2]);
		if (!cmd)
			return cli_usage_error(NULL, "unknown command '%s'", argv[2]);
		{
			char *args[] = { argv[2], "--help", NULL };
			return cmd->fn(2, args);
		}
	}
	cmd = cli_find(argv[1]);
	if (!cmd)
		return cli_usage_error(NULL, "unknown command '%s'", argv[1]);
	return cmd->fn(argc - 1, argv + 1);
}
