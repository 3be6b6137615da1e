/*
 * The progress display: one line on standard error, redrawn at most five
 * times a second, for the image being read and the target being walked at
 * the same time. Only on a terminal unless --progress; never on stdout.
 */
#ifndef DD_CLI_PROGRESS_H
#define DD_CLI_PROGRESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "cli.h"

struct cli_progress {
	pthread_mutex_t mu;
	bool on, drawn, tty;
	struct timespec start, last;
	/* The image: the layer being read, and the compressed bytes of all of them. */
	size_t layer, layers;
	uint64_t layers_done_bytes;  /* the sizes of the layers finished */
	uint64_t layer_bytes, layer_total, image_total, image_entries;
	bool image;
	/* The target walk. */
	uint64_t walk_entries, walk_bytes, walk_estimate;
	bool walk;
};

/* ON: draw at all (the caller decided from --progress, --quiet and isatty). */
void cli_progress_init(struct cli_progress *p, bool on);
/*
 * The options every long-running command takes, and whether to draw:
 * --progress forces it, --no-progress and --quiet forbid it, otherwise
 * only on a terminal.
 */
#define PROGRESS_LONG_OPTIONS \
	{ "progress", no_argument, NULL, 'P' }, \
	{ "no-progress", no_argument, NULL, 'N' }, \
	{ "quiet", no_argument, NULL, 'q' }, \
	{ "verbose", no_argument, NULL, 'v' }
#define CLI_PROGRESS_HELP \
	"      --progress            show progress on standard error even when it is\n" \
	"                            not a terminal (one line a second)\n" \
	"      --no-progress         never show progress\n" \
	"  -q, --quiet               no progress and no notes on standard error\n" \
	"  -v, --verbose             say on standard error what was read and how long it took\n"
bool cli_progress_wanted(int progress, bool quiet);
/* Report CTX's work in the display. */
void cli_progress_attach(struct cli_progress *p, struct dd_ctx *ctx);
/* The compressed size of IMG's layers, for the ETA. */
void cli_progress_image(struct cli_progress *p, const struct dd_image *img);
/* The bytes of TREE's regular files: what a walk of its container will about read. */
void cli_progress_walk_estimate(struct cli_progress *p, const struct dd_tree *tree);
/* Erase the line, before anything else is printed on standard error. */
void cli_progress_end(struct cli_progress *p);

#endif
