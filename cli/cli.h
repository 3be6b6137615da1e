/* The driftdiff command line: shared helpers and the command table. */
#ifndef DD_CLI_H
#define DD_CLI_H

#include <stdio.h>

#include "driftdiff.h"

#define EXIT_OK 0
#define EXIT_DRIFT 1
#define EXIT_ERROR 2

struct cli_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
	const char *usage;  /* the synopsis, as in the man page */
};

extern const struct cli_cmd cli_commands[];
const struct cli_cmd *cli_find(const char *name);

int cmd_report(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_manifest(int argc, char **argv);
int cmd_inspect(int argc, char **argv);

/* "driftdiff CMD: MESSAGE" plus a hint on one more line; returns EXIT_ERROR. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Print the library's error for CTX; returns EXIT_ERROR. */
int cli_fail(struct dd_ctx *ctx);
/*
 * --format FORMAT (NULL: text) and --fail-on SEVERITY (NULL or "any":
 * every finding) of CMD, parsed; 0, or a usage error's EXIT_ERROR.
 */
int cli_report_choices(const char *cmd, const char *format, const char *fail_on,
		       enum dd_report_format *fmt, int *threshold);
/* Parse one --limit NAME=N into LIMITS; an error message and EXIT_ERROR when bad. */
int cli_limit_option(struct dd_limits *limits, const char *cmd, const char *arg);
/* Install LIMITS (fields left 0 keep their defaults) on CTX. */
int cli_apply_limits(struct dd_ctx *ctx, const struct dd_limits *limits);

/* The --limit line of every command's --help. */
#define CLI_LIMIT_HELP \
	"      --limit NAME=N        change a safety limit (max-entries, max-path, max-json,\n" \
	"                            max-json-depth, max-layer-bytes, max-ratio, max-xattr,\n" \
	"                            max-link-hops, max-index-depth, max-layers, max-depth)\n"

/* Print the usage of CMD to F. */
void cli_print_usage(const struct cli_cmd *cmd, FILE *f);

/*
 * Output to PATH ("-" or NULL: stdout) written atomically: to a temporary
 * file beside PATH that cli_output_close() renames into place only when
 * everything was written, so a failed run never leaves half a file. A
 * PATH that exists and is not a regular file (/dev/null, a FIFO) is
 * written in place.
 */
struct cli_output {
	FILE *f;
	char *path;
	char *tmp; /* NULL when PATH is written in place (a device, a FIFO) */
};
int cli_output_open(struct cli_output *out, const char *path);
/* Commit (ok) or discard; returns EXIT_ERROR on a write error. */
int cli_output_close(struct cli_output *out, int ok);

#endif
