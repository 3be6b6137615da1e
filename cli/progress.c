/* The progress line on standard error. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "progress.h"

void cli_progress_init(struct cli_progress *p, bool on)
{
	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->mu, NULL);
	p->on = on;
	p->tty = isatty(STDERR_FILENO);
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	/* Nothing for the first moment: quick runs show no progress at all. */
	p->last = p->start;
}

static double since(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* "312.4 MB" */
static void human(char *out, size_t n, double bytes)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB" };
	size_t u = 0;

	while (bytes >= 1000 && u + 1 < sizeof(units) / sizeof(units[0])) {
		bytes /= 1000;
		u++;
	}
	snprintf(out, n, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
}

static void draw(struct cli_progress *p, const struct timespec *now)
{
	double t = since(&p->start, now);
	char line[512], a[32], b[32], r[32];
	size_t k = 0;

	if (p->image) {
		uint64_t done = p->layers_done_bytes + p->layer_bytes;

		human(a, sizeof(a), (double)done);
		human(b, sizeof(b), (double)(p->image_total ? p->image_total : p->layer_total));
		human(r, sizeof(r), t > 0 ? (double)done / t : 0);
		k += (size_t)snprintf(line + k, sizeof(line) - k, "image: layer %zu/%zu, %s of %s, %s/s",
				      p->layer + 1, p->layers, a, b, r);
		if (p->image_total > done && done > 0 && t > 1) {
			double eta = (double)(p->image_total - done) * t / (double)done;

			k += (size_t)snprintf(line + k, sizeof(line) - k, ", ETA %d:%02d", (int)eta / 60, (int)eta % 60);
		}
	}
	if (p->walk && k < sizeof(line)) {
		human(a, sizeof(a), (double)p->walk_bytes);
		human(r, sizeof(r), t > 0 ? (double)p->walk_bytes / t : 0);
		k += (size_t)snprintf(line + k, sizeof(line) - k, "%starget: %llu entries, %s, %s/s",
				      p->image ? " | " : "", (unsigned long long)p->walk_entries, a, r);
		if (p->walk_estimate > p->walk_bytes && p->walk_bytes > 0 && t > 1 && k < sizeof(line)) {
			double eta = (double)(p->walk_estimate - p->walk_bytes) * t / (double)p->walk_bytes;

			k += (size_t)snprintf(line + k, sizeof(line) - k, ", ETA ~%d:%02d", (int)eta / 60,
					      (int)eta % 60);
		}
	}
	/* On a terminal the line is redrawn in place; elsewhere (--progress to a log) one line each time. */
	if (p->tty)
		fprintf(stderr, "\r\033[K%s", line);
	else
		fprintf(stderr, "%s\n", line);
	fflush(stderr);
	p->drawn = true;
}

static void on_progress(const struct dd_progress *e, void *user)
{
	struct cli_progress *p = user;
	struct timespec now;

	pthread_mutex_lock(&p->mu);
	if (!p->on) {
		pthread_mutex_unlock(&p->mu);
		return;
	}
	if (e->kind == DD_PROGRESS_LAYER) {
		if (e->layer != p->layer && p->image) {
			p->layers_done_bytes += p->layer_total;
			p->layer_bytes = 0;
		}
		p->image = true;
		p->layer = e->layer;
		p->layers = e->layers;
		p->layer_bytes = e->done;
		p->layer_total = e->total;
	} else {
		p->walk = true;
		p->walk_entries = e->entries;
		p->walk_bytes = e->done;
	}
	/* Looking at the clock every entry costs little; drawing does, so at most 5 Hz. */
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (since(&p->last, &now) >= (p->tty ? 0.2 : 1.0)) {
		p->last = now;
		draw(p, &now);
	}
	pthread_mutex_unlock(&p->mu);
}

void cli_progress_attach(struct cli_progress *p, struct dd_ctx *ctx)
{
	if (p->on)
		dd_ctx_set_progress(ctx, on_progress, p);
}

void cli_progress_image(struct cli_progress *p, const struct dd_image *img)
{
	size_t i;

	pthread_mutex_lock(&p->mu);
	p->image_total = 0;
	for (i = 0; i < dd_image_layer_count(img); i++)
		if (dd_image_layer(img, i)->size > 0)
			p->image_total += (uint64_t)dd_image_layer(img, i)->size;
	pthread_mutex_unlock(&p->mu);
}

void cli_progress_end(struct cli_progress *p)
{
	pthread_mutex_lock(&p->mu);
	if (p->drawn && p->tty) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
		p->drawn = false;
	}
	p->on = false;
	pthread_mutex_unlock(&p->mu);
}

bool cli_progress_wanted(int progress, bool quiet)
{
	return !quiet && (progress > 0 || (progress == 0 && isatty(STDERR_FILENO)));
}

void cli_progress_walk_estimate(struct cli_progress *p, const struct dd_tree *tree)
{
	uint64_t total = 0;
	size_t i;

	for (i = 0; i < dd_tree_count(tree); i++) {
		const struct dd_entry *e = dd_tree_entry(tree, i);

		if (e->type == DD_TYPE_FILE)
			total += e->size;
	}
	pthread_mutex_lock(&p->mu);
	p->walk_estimate = total;
	pthread_mutex_unlock(&p->mu);
}
