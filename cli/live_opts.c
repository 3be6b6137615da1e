/* --pid, --container-id and friends, shared by report and ps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live_opts.h"

int cli_live_option(struct cli_live *l, const char *cmd, int c, const char *arg)
{
	switch (c) {
	case OPT_LIVE_PID: {
		char *end;
		long v = strtol(arg, &end, 10);

		if (*end || end == arg || v < 1 || v > 0x3fffffff)
			return cli_usage_error(cmd, "--pid takes a process ID");
		l->pid = arg;
		return 1;
	}
	case OPT_LIVE_ID: l->container_id = arg; return 1;
	case OPT_LIVE_RUNTIME_ROOT: l->runtime_root = arg; return 1;
	case OPT_LIVE_PROC: l->proc = arg; return 1;
	case OPT_LIVE_MOUNTS: l->include_mounts = true; return 1;
	case OPT_LIVE_SHOW_ENV: l->show_env_values = true; return 1;
	default: return 0;
	}
}

bool cli_live_wanted(const struct cli_live *l)
{
	return l->pid || l->container_id;
}

int cli_live_conflict(const struct cli_live *l, const char *cmd)
{
	if (l->pid && l->container_id)
		return cli_usage_error(cmd, "--pid and --container-id name the same thing: give one");
	return 0;
}

const char *cli_live_name(const struct cli_live *l, char *buf, size_t n)
{
	if (l->container_id)
		snprintf(buf, n, "container %s", l->container_id);
	else
		snprintf(buf, n, "pid %s", l->pid ? l->pid : "?");
	return buf;
}

int cli_live_open(struct dd_ctx *ctx, const struct cli_live *l, struct dd_live **out, char **config)
{
	struct dd_live_options o = DD_LIVE_OPTIONS_INIT;
	char *bundle = NULL;
	int pid;

	*config = NULL;
	if (l->container_id) {
		if (dd_container_resolve(ctx, l->container_id, l->runtime_root, &pid, &bundle))
			return cli_fail(ctx);
		if (bundle && asprintf(config, "%s/config.json", bundle) < 0)
			*config = NULL;
		free(bundle);
	} else {
		pid = atoi(l->pid);
	}
	o.proc = l->proc;
	o.include_mounts = l->include_mounts;
	if (dd_live_open(out, ctx, pid, &o)) {
		free(*config);
		*config = NULL;
		return cli_fail(ctx);
	}
	return 0;
}

const char *cli_live_category(const struct cli_live *l, char *buf, size_t n)
{
	const char *id = l->container_id, *sep = id ? strstr(id, "://") : NULL;

	snprintf(buf, n, "driftdiff/container/%.12s", sep ? sep + 3 : id ? id : "");
	return buf;
}
