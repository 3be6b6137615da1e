/* driftdiff ps: the process view of a running container, without the file diff. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "image_opts.h"
#include "live_opts.h"

static const char help[] =
	"List the processes of a running container with how each one's executable\n"
	"compares with IMAGE (image, modified, added, gone, foreign), its listening\n"
	"sockets, connections and mounts, and report the process findings: binaries\n"
	"executed that the image does not have, deleted or in-memory executables,\n"
	"shells and package managers running, listeners on ports the image does not\n"
	"expose, and environment drift. Reads /proc only (as root); runs nothing.\n"
	"\n"
	"  -r, --ref NAME            the image to use when IMAGE holds several\n"
	"  -p, --platform P          OS/ARCH[/VARIANT] of a multi-platform image\n"
	"  -f, --format FORMAT       text (default), json, sarif or markdown\n"
	"  -o, --output FILE         write to FILE (default standard output)\n"
	"      --fail-on SEVERITY    exit 1 only for findings at or above SEVERITY\n"
	"      --policy FILE         rule severities, disabled rules and allowances (JSON)\n"
	"      --no-cache            do not use the manifest cache\n"
	CLI_LIVE_HELP
	CLI_LIMIT_HELP
	"  -h, --help                show this help\n"
	"\n"
	"Exit status: 0 no finding at or above --fail-on, 1 findings, 2 error.\n";

enum { OPT_FAIL_ON = 256, OPT_POLICY, OPT_NO_CACHE, OPT_LIMIT };

int cmd_ps(int argc, char **argv)
{
	static const struct option opts[] = {
		IMAGE_LONG_OPTIONS,
		LIVE_LONG_OPTIONS,
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "fail-on", required_argument, NULL, OPT_FAIL_ON },
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "no-cache", no_argument, NULL, OPT_NO_CACHE },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ref = NULL, *platform = NULL, *format = "text", *output = NULL, *fail_on = NULL;
	const char *policy_path = NULL;
	struct dd_limits limits = DD_LIMITS_INIT;
	struct dd_classify_options copts = DD_CLASSIFY_OPTIONS_INIT;
	struct dd_report_options ro = DD_REPORT_OPTIONS_INIT;
	struct cli_live live_opts = { 0 };
	struct dd_ctx *ctx = NULL;
	struct dd_image *img = NULL;
	struct dd_live *live = NULL;
	struct dd_findings *findings = NULL;
	struct dd_policy *policy = NULL;
	const struct dd_tree *itree;
	enum dd_report_format fmt;
	struct cli_output out;
	char *cache = NULL, *config = NULL, name[160];
	bool no_cache = false;
	int c, rc, threshold, ok;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":r:p:f:o:h", opts, NULL)) != -1) {
		int taken = cli_live_option(&live_opts, "ps", c, optarg);

		if (taken == 1)
			continue;
		if (taken)
			return taken;
		switch (c) {
		case 'r': ref = optarg; break;
		case 'p': platform = optarg; break;
		case 'f': format = optarg; break;
		case 'o': output = optarg; break;
		case OPT_FAIL_ON: fail_on = optarg; break;
		case OPT_POLICY: policy_path = optarg; break;
		case OPT_NO_CACHE: no_cache = true; break;
		case OPT_LIMIT:
			if (cli_limit_option(&limits, "ps", optarg))
				return EXIT_ERROR;
			break;
		case 'h':
			cli_print_usage(cli_find("ps"), stdout);
			printf("\n%s", help);
			return EXIT_OK;
		case ':':
			return cli_usage_error("ps", "option '%s' needs a value", argv[optind - 1]);
		default:
			return cli_usage_error("ps", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("ps", "expected IMAGE");
	if (!cli_live_wanted(&live_opts))
		return cli_usage_error("ps", "name the running container with --pid PID or --container-id ID");
	if ((rc = cli_live_conflict(&live_opts, "ps")))
		return rc;
	if ((rc = cli_report_choices("ps", format, fail_on, &fmt, &threshold)))
		return rc;
	if (dd_ctx_new(&ctx)) {
		fprintf(stderr, "driftdiff: out of memory\n");
		return EXIT_ERROR;
	}
	rc = EXIT_ERROR;
	if (cli_apply_limits(ctx, &limits))
		goto out;
	if (!no_cache)
		cache = dd_default_cache_dir();
	if (cli_open_image_cached(ctx, &img, argv[optind], ref, platform, cache))
		goto out;
	if (cli_live_open(ctx, &live_opts, &live, &config))
		goto out;
	if (dd_image_tree(&itree, img))
		goto fail;
	if (policy_path && dd_policy_load(&policy, ctx, policy_path))
		goto fail;
	copts.image = img;
	copts.image_tree = itree;
	copts.policy = policy;
	copts.live = live;
	copts.show_env_values = live_opts.show_env_values;
	if (dd_classify(&findings, ctx, NULL, &copts))
		goto fail;
	ro.target = cli_live_name(&live_opts, name, sizeof(name));
	ro.target_kind = "live";
	ro.fail_on = (enum dd_severity)threshold;
	ro.live = live;
	ro.show_env_values = live_opts.show_env_values;
	ro.color = fmt == DD_REPORT_TEXT && (!output || !strcmp(output, "-")) && isatty(STDOUT_FILENO) &&
		   !(getenv("NO_COLOR") && *getenv("NO_COLOR"));
	if (cli_output_open(&out, output))
		goto out;
	ok = dd_report_write(ctx, fmt, img, NULL, findings, &ro, out.f) == 0;
	if (!ok)
		cli_fail(ctx);
	if (cli_output_close(&out, ok) || !ok)
		goto out;
	rc = dd_report_has_drift(NULL, findings, (enum dd_severity)threshold) ? EXIT_DRIFT : EXIT_OK;
	goto out;
fail:
	rc = cli_fail(ctx);
out:
	free(config);
	dd_findings_free(findings);
	dd_policy_free(policy);
	dd_live_free(live);
	dd_image_free(img);
	dd_ctx_free(ctx);
	free(cache);
	return rc;
}
