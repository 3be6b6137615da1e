/* --limit NAME=N, shared by every command that reads untrusted input. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_limit_option(struct dd_limits *limits, const char *cmd, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char name[64], *end;
	unsigned long long v;
	uint64_t *field;
	size_t n;

	if (!eq || (n = (size_t)(eq - arg)) == 0 || n >= sizeof(name))
		return cli_usage_error(cmd, "--limit takes NAME=N (see 'driftdiff %s --help')", cmd);
	memcpy(name, arg, n);
	name[n] = '\0';
	field = dd_limits_field(limits, name);
	if (!field) {
		fprintf(stderr, "driftdiff %s: unknown limit '%s'; the limits are:", cmd, name);
		for (n = 0; dd_limits_name(n); n++)
			fprintf(stderr, " %s", dd_limits_name(n));
		fprintf(stderr, "\n");
		return EXIT_ERROR;
	}
	errno = 0;
	v = strtoull(eq + 1, &end, 10);
	if (errno || end == eq + 1 || *end || v == 0 || eq[1] == '-')
		return cli_usage_error(cmd, "--limit %s: '%s' is not a positive number", name, eq + 1);
	*field = v;
	return EXIT_OK;
}

int cli_apply_limits(struct dd_ctx *ctx, const struct dd_limits *limits)
{
	if (dd_ctx_set_limits(ctx, limits)) {
		fprintf(stderr, "driftdiff: invalid limits\n");
		return EXIT_ERROR;
	}
	return EXIT_OK;
}
