/* Options every image-reading command shares: --ref and --platform. */
#ifndef DD_CLI_IMAGE_OPTS_H
#define DD_CLI_IMAGE_OPTS_H

#include <getopt.h>

#include "cli.h"

#define IMAGE_LONG_OPTIONS \
	{ "ref", required_argument, NULL, 'r' }, \
	{ "platform", required_argument, NULL, 'p' }

/* Open IMAGE with the parsed options; on failure prints the error. */
int cli_open_image(struct dd_ctx *ctx, struct dd_image **out, const char *path,
		   const char *ref, const char *platform);
/* The same, with a manifest cache directory (or NULL). */
int cli_open_image_cached(struct dd_ctx *ctx, struct dd_image **out, const char *path,
			  const char *ref, const char *platform, const char *cache_dir);

#endif
