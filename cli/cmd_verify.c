/* driftdiff verify: is this image one of the approved ones? */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "cli.h"
#include "image_opts.h"

static const char help[] =
	"Check that IMAGE is one of the approved images: its manifest digest must\n"
	"be among the digests given with --expect or listed in an --approved file.\n"
	"A docker archive that records no manifest digest is checked by its config\n"
	"digest (the image ID). Every blob is read and verified first, so a\n"
	"tampered layer fails even when the digest is approved.\n"
	"\n"
	"  -r, --ref NAME        the image to use when IMAGE holds several\n"
	"  -p, --platform P      OS/ARCH[/VARIANT] of a multi-platform image (default: host)\n"
	"  -e, --expect DIGEST   an approved digest (sha256:...); may be repeated\n"
	"  -a, --approved FILE   a file of approved digests, one per line; blank lines\n"
	"                        and '#' comments are ignored; may be repeated\n"
	CLI_LIMIT_HELP
	"  -h, --help            show this help\n"
	"\n"
	"Exit status: 0 approved, 1 not approved (DD-DIG-001), 2 error.\n";

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		IMAGE_LONG_OPTIONS,
		{ "expect", required_argument, NULL, 'e' },
		{ "approved", required_argument, NULL, 'a' },
		{ "limit", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ref = NULL, *platform = NULL, *image, *digest;
	const char **expect = NULL, **approved = NULL;
	size_t nexpect = 0, napproved = 0, i;
	struct dd_ctx *ctx = NULL;
	struct dd_image *img = NULL;
	struct dd_digest_list *list = NULL;
	const struct dd_tree *tree;
	const struct dd_rule *rule;
	struct dd_limits limits = DD_LIMITS_INIT;
	bool by_config;
	int c, rc = EXIT_ERROR;

	/* Every option at most argc times: room for all of them up front. */
	expect = calloc((size_t)argc + 1, sizeof(*expect));
	approved = calloc((size_t)argc + 1, sizeof(*approved));
	if (!expect || !approved) {
		fprintf(stderr, "driftdiff: out of memory\n");
		goto out;
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":r:p:e:a:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': ref = optarg; break;
		case 'p': platform = optarg; break;
		case 'e': expect[nexpect++] = optarg; break;
		case 'a': approved[napproved++] = optarg; break;
		case 'L':
			if (cli_limit_option(&limits, "verify", optarg))
				goto out;
			break;
		case 'h':
			cli_print_usage(cli_find("verify"), stdout);
			printf("\n%s", help);
			rc = EXIT_OK;
			goto out;
		case ':':
			rc = cli_usage_error("verify", "option '%s' needs a value", argv[optind - 1]);
			goto out;
		default:
			rc = cli_usage_error("verify", "unknown option '%s'", argv[optind - 1]);
			goto out;
		}
	}
	if (optind != argc - 1) {
		rc = cli_usage_error("verify", optind == argc ? "no IMAGE given" : "more than one IMAGE given");
		goto out;
	}
	if (!nexpect && !napproved) {
		rc = cli_usage_error("verify", "no approved digests: give --expect DIGEST or --approved FILE");
		goto out;
	}
	image = argv[optind];
	if (dd_ctx_new(&ctx)) {
		fprintf(stderr, "driftdiff: out of memory\n");
		goto out;
	}
	if (cli_apply_limits(ctx, &limits))
		goto out;
	/* The list first: a bad approval file is reported before any image is read. */
	if (dd_digest_list_new(&list, ctx))
		goto fail;
	for (i = 0; i < nexpect; i++)
		if (dd_digest_list_add(list, expect[i], "--expect"))
			goto fail;
	for (i = 0; i < napproved; i++)
		if (dd_digest_list_load(list, approved[i]))
			goto fail;
	if (cli_open_image(ctx, &img, image, ref, platform))
		goto out;
	if (dd_image_tree(&tree, img))
		goto fail;
	digest = dd_image_manifest_digest(img);
	by_config = !digest;
	if (by_config)
		digest = dd_image_config_digest(img);
	if (!digest) {
		fprintf(stderr, "driftdiff: %s: the image records no digest to check\n", image);
		rc = EXIT_ERROR;
		goto out;
	}
	if (dd_digest_list_contains(list, digest)) {
		printf("%s: approved (%s)\n", image, digest);
		rc = EXIT_OK;
	} else {
		rule = dd_rule_find("DD-DIG-001");
		printf("%s: not approved (%s)\n", image, digest);
		/* The wording is driftdiff-verify(1)'s. */
		printf("  %s %s %s: the %s digest is not among the %zu approved\n",
		       dd_severity_name(rule->severity), rule->id, rule->title,
		       by_config ? "config" : "manifest", dd_digest_list_count(list));
		rc = EXIT_DRIFT;
	}
	if (by_config)
		printf("  the %s records no manifest digest: %s is its config digest (the image ID)\n",
		       dd_image_format_name(dd_image_format(img)), digest);
	/* A tag can be moved to other content: deployments should name the digest. */
	if (dd_image_ref(img) && !strchr(dd_image_ref(img), '@')) {
		const struct dd_rule *tag = dd_rule_find("DD-DIG-002");

		if (tag)
			printf("  %s %s %s: %s; pin it as %s@%s\n", dd_severity_name(tag->severity), tag->id,
			       tag->title, dd_image_ref(img), dd_image_ref(img), digest);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("driftdiff: write error on standard output");
		rc = EXIT_ERROR;
	}
	goto out;
fail:
	rc = cli_fail(ctx);
out:
	dd_image_free(img);
	dd_digest_list_free(list);
	dd_ctx_free(ctx);
	free(expect);
	free(approved);
	return rc;
}
