/* driftdiff manifest: the hashed manifest of an image's final filesystem. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "image_opts.h"
#include "progress.h"

int cli_open_image_cached(struct dd_ctx *ctx, struct dd_image **out, const char *path,
			  const char *ref, const char *platform, const char *cache_dir)
{
	struct dd_image_options o = DD_IMAGE_OPTIONS_INIT;

	o.ref = ref;
	o.platform = platform;
	o.cache_dir = cache_dir;
	if (dd_image_open(out, ctx, path, &o) != 0)
		return cli_fail(ctx);
	return EXIT_OK;
}

int cli_open_image(struct dd_ctx *ctx, struct dd_image **out, const char *path,
		   const char *ref, const char *platform)
{
	return cli_open_image_cached(ctx, out, path, ref, platform, NULL);
}

static const char help[] =
	"Print the hashed manifest of IMAGE's final filesystem: every path with its\n"
	"type, mode, owner, size, SHA-256, link target, xattrs and the layer that\n"
	"wrote it. Every blob is verified while it is read; nothing touches disk.\n"
	"\n"
	"IMAGE is an OCI layout directory, an oci-archive, a docker save tar, or a\n"
	"manifest saved with --format manifest.\n"
	"\n"
	"  -r, --ref NAME            the image to use when IMAGE holds several\n"
	"  -p, --platform P          OS/ARCH[/VARIANT] of a multi-platform image (default: host)\n"
	"  -f, --format FORMAT       text (default), jsonl, or manifest (the saved form)\n"
	"  -o, --output FILE         write to FILE (default standard output); implies\n"
	"                            --format manifest unless --format is given\n"
	CLI_PROGRESS_HELP
	CLI_LIMIT_HELP
	"  -h, --help                show this help\n";

int cmd_manifest(int argc, char **argv)
{
	static const struct option opts[] = {
		IMAGE_LONG_OPTIONS,
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "limit", required_argument, NULL, 'L' },
		PROGRESS_LONG_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dd_limits limits = DD_LIMITS_INIT;
	const char *ref = NULL, *platform = NULL, *format = NULL, *output = NULL;
	struct dd_ctx *ctx = NULL;
	struct dd_image *img = NULL;
	const struct dd_tree *tree;
	struct cli_output out;
	struct cli_progress prog;
	struct timespec t0, t1;
	int c, rc = EXIT_ERROR, ok = 0, progress = 0;
	bool quiet = false, verbose = false;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":r:p:f:o:qvh", opts, NULL)) != -1) {
		switch (c) {
		case 'P': progress = 1; break;
		case 'N': progress = -1; break;
		case 'q': quiet = true; break;
		case 'v': verbose = true; break;
		case 'r': ref = optarg; break;
		case 'p': platform = optarg; break;
		case 'f': format = optarg; break;
		case 'o': output = optarg; break;
		case 'L':
			if (cli_limit_option(&limits, "manifest", optarg))
				return EXIT_ERROR;
			break;
		case 'h':
			cli_print_usage(cli_find("manifest"), stdout);
			printf("\n%s", help);
			return EXIT_OK;
		case ':':
			return cli_usage_error("manifest", "option '%s' needs a value", argv[optind - 1]);
		default:
			return cli_usage_error("manifest", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("manifest", optind == argc ? "no IMAGE given"
								: "more than one IMAGE given");
	if (!format)
		format = output && strcmp(output, "-") ? "manifest" : "text";
	if (strcmp(format, "text") && strcmp(format, "jsonl") && strcmp(format, "manifest"))
		return cli_usage_error("manifest", "unknown format '%s' (text, jsonl, manifest)", format);
	if (dd_ctx_new(&ctx)) {
		fprintf(stderr, "driftdiff: out of memory\n");
		return EXIT_ERROR;
	}
	if (cli_apply_limits(ctx, &limits)) {
		dd_ctx_free(ctx);
		return EXIT_ERROR;
	}
	rc = cli_open_image(ctx, &img, argv[optind], ref, platform);
	if (rc)
		goto out;
	/* Read and verify everything before the output file is created. */
	cli_progress_init(&prog, cli_progress_wanted(progress, quiet));
	cli_progress_attach(&prog, ctx);
	cli_progress_image(&prog, img);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = dd_image_tree(&tree, img);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cli_progress_end(&prog);
	dd_ctx_set_progress(ctx, NULL, NULL);
	pthread_mutex_destroy(&prog.mu);
	if (rc) {
		rc = cli_fail(ctx);
		goto out;
	}
	if (verbose)
		fprintf(stderr, "driftdiff: image %s: %zu entries, %zu layers, in %.2f s\n", argv[optind],
			dd_tree_count(tree), dd_image_layer_count(img),
			(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	rc = cli_output_open(&out, output);
	if (rc)
		goto out;
	if (!strcmp(format, "manifest"))
		ok = dd_image_save(img, out.f) == 0;
	else
		ok = dd_tree_write(ctx, tree, !strcmp(format, "jsonl") ? DD_LISTING_JSONL
									: DD_LISTING_TEXT, out.f) == 0;
	rc = ok ? EXIT_OK : cli_fail(ctx);
	if (cli_output_close(&out, ok))
		rc = EXIT_ERROR;
out:
	dd_image_free(img);
	dd_ctx_free(ctx);
	return rc;
}
