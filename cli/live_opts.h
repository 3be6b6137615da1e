/* Options of the commands that read a running container: report and ps. */
#ifndef DD_CLI_LIVE_OPTS_H
#define DD_CLI_LIVE_OPTS_H

#include <getopt.h>
#include <stdbool.h>

#include "cli.h"

enum { OPT_LIVE_PID = 400, OPT_LIVE_ID, OPT_LIVE_RUNTIME_ROOT, OPT_LIVE_PROC, OPT_LIVE_MOUNTS,
       OPT_LIVE_SHOW_ENV };

#define LIVE_LONG_OPTIONS \
	{ "pid", required_argument, NULL, OPT_LIVE_PID }, \
	{ "container-id", required_argument, NULL, OPT_LIVE_ID }, \
	{ "runtime-root", required_argument, NULL, OPT_LIVE_RUNTIME_ROOT }, \
	{ "proc", required_argument, NULL, OPT_LIVE_PROC }, \
	{ "include-mounts", no_argument, NULL, OPT_LIVE_MOUNTS }, \
	{ "show-env-values", no_argument, NULL, OPT_LIVE_SHOW_ENV }

#define CLI_LIVE_HELP \
	"      --pid PID             a running container: one of its processes (as root)\n" \
	"      --container-id ID     a running container by its ID (containerd, Docker,\n" \
	"                            CRI-O, Podman; \"containerd://ID\" as kubectl shows it)\n" \
	"      --runtime-root DIR    where the host's / is mounted (default /), for\n" \
	"                            --container-id from inside a pod\n" \
	"      --proc DIR            the host's procfs (default /proc)\n" \
	"      --include-mounts      also walk the container's volumes and bind mounts\n" \
	"      --show-env-values     print environment values, not their hashes\n"

struct cli_live {
	const char *pid, *container_id, *runtime_root, *proc;
	bool include_mounts, show_env_values;
};

/* Take option C if it is one of these: 1 taken, 0 not, EXIT_ERROR bad. */
int cli_live_option(struct cli_live *l, const char *cmd, int c, const char *arg);
/* Was a running container named? */
bool cli_live_wanted(const struct cli_live *l);
/* Both --pid and --container-id: a usage error of CMD (EXIT_ERROR); else 0. */
int cli_live_conflict(const struct cli_live *l, const char *cmd);
/*
 * Resolve the container and take its snapshot; on failure prints the
 * error. *CONFIG receives the runtime's config.json for --container-id
 * when the runtime keeps one (free() it), else NULL.
 */
int cli_live_open(struct dd_ctx *ctx, const struct cli_live *l, struct dd_live **out, char **config);
/* SARIF's category for --container-id: "driftdiff/container/ID" (12 characters of it). */
const char *cli_live_category(const struct cli_live *l, char *buf, size_t n);
/* What the report calls the target: "pid 42" or "container ID". */
const char *cli_live_name(const struct cli_live *l, char *buf, size_t n);

#endif
