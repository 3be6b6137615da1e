/*
 * The image's layers into one tree, several read at once. Each layer's
 * blob is hashed, inflated and its files hashed on threads of its own
 * (layer.c), so one layer keeps two CPUs busy; more CPUs read more layers.
 *
 * The calling thread lays the layers in order, bottom first. Workers read
 * layers from the top down, each into a tree apart (dd__layer_read_part());
 * the calling thread reads a layer no worker has taken itself, into the
 * tree, and lays one a worker read over the tree when it comes to it
 * (dd__layer_merge()). Taking from opposite ends, the two meet without
 * waiting more than the one layer they meet on. Base layers, the big ones
 * in most images, are read in place and never copied.
 *
 * Errors are reported as a serial read would report them: the first
 * failing layer from the bottom, with its own message.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image_private.h"
#include "tree.h"

#define MAX_APART 32

enum part_state {
	QUEUED,       /* for whoever comes first */
	IN_PLACE,     /* the calling thread's: its blob could not be opened ahead, or it took it */
	READING,      /* a worker has it */
	READ,         /* a worker is done with it */
};

struct layers {
	struct dd_image *img;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct dd__layer_part *parts;
	enum part_state *state;
	size_t at;                    /* the layer the calling thread is laying */
	_Atomic bool stop;
	_Atomic uint64_t held;        /* entries in the parts' trees */
};

/*
 * The highest queued layer above the one being laid (or from it, when the
 * calling thread leaves every layer it can to the workers), or 0: none.
 */
static size_t take_from_top(struct layers *ls)
{
	size_t j, low = ls->img->read_apart ? ls->at : ls->at + 1;

	for (j = ls->img->nlayers - 1; j >= low && j > 0; j--)
		if (ls->state[j] == QUEUED)
			return j;
	return 0;
}

static void *worker(void *arg)
{
	struct layers *ls = arg;
	size_t j;

	pthread_mutex_lock(&ls->mu);
	while (!atomic_load(&ls->stop) && (j = take_from_top(ls)) != 0) {
		ls->state[j] = READING;
		pthread_mutex_unlock(&ls->mu);
		dd__layer_read_part(ls->img, j, &ls->parts[j]);
		pthread_mutex_lock(&ls->mu);
		ls->state[j] = READ;
		pthread_cond_broadcast(&ls->cv);
	}
	pthread_mutex_unlock(&ls->mu);
	return NULL;
}

/*
 * Set up layer I to be read apart: a context of its own and its blob open
 * (opening touches the image's source and context, which are not shared).
 * A blob that does not open stays with the calling thread, which then
 * reports the failure in its place.
 */
static enum part_state part_prepare(struct layers *ls, size_t i)
{
	struct dd_image *img = ls->img;
	struct dd__layer_part *p = &ls->parts[i];
	struct dd__rd *rd = NULL;

	if (dd_ctx_new(&p->ctx))
		return IN_PLACE;
	dd_ctx_set_limits(p->ctx, &img->ctx->limits);
	if (dd__src_open(img->src, &rd, img->layers[i].info.location)) {
		dd_ctx_clear_error(img->ctx);
		return IN_PLACE;
	}
	p->rd = rd;
	p->held = &ls->held;
	p->stop = &ls->stop;
	return QUEUED;
}

/* How many workers: CPUs (or jobs) beyond the calling thread's, one per layer above the first. */
static size_t worker_count(const struct dd_image *img)
{
	long cpus = img->jobs ? (long)img->jobs : sysconf(_SC_NPROCESSORS_ONLN);

	if (cpus <= 1 || img->nlayers < 2 || !dd__src_random_access(img->src))
		return 0;
	return (size_t)cpus - 1 < img->nlayers - 1 ? (size_t)cpus - 1 : img->nlayers - 1;
}

/* Layer I, which a worker has or had: waited for, then laid over TREE, or read in place. */
static int lay_part(struct layers *ls, size_t i, struct dd_tree *tree)
{
	struct dd_image *img = ls->img;
	struct dd__layer_part *p = &ls->parts[i];
	int rc;

	pthread_mutex_lock(&ls->mu);
	while (ls->state[i] != READ)
		pthread_cond_wait(&ls->cv, &ls->mu);
	pthread_mutex_unlock(&ls->mu);
	if (p->rc == DD__EPART_IN_PLACE) {
		/* Order mattered, or the parts held too much: read again, in place. */
		dd__layer_part_free(p);
		return dd__layer_apply(img, i, tree);
	}
	if (p->rc)
		rc = dd__error(img->ctx, p->rc, "%s", dd_ctx_error(p->ctx));
	else if ((rc = dd__layer_merge(img, i, p, tree)) == 0)
		img->parts_merged++;
	if (rc == 0 && img->ctx->progress) {
		const struct dd_layer_info *l = &img->layers[i].info;
		struct dd_progress pr = { DD_PROGRESS_LAYER, i, img->nlayers, (uint64_t)l->size,
					  (uint64_t)l->size, dd_tree_count(p->tree) };

		img->ctx->progress(&pr, img->ctx->progress_user);
	}
	dd__layer_part_free(p);
	return rc;
}

int dd__image_read_layers(struct dd_image *img, struct dd_tree *tree)
{
	struct layers ls;
	pthread_t *threads = NULL;
	size_t i, nthreads = 0, nworkers = worker_count(img);
	bool locks = false;
	int rc = 0;

	if (nworkers == 0) {
		for (i = 0; i < img->nlayers && rc == 0; i++)
			rc = dd__layer_apply(img, i, tree);
		return rc;
	}
	memset(&ls, 0, sizeof(ls));
	ls.img = img;
	if (!(ls.parts = calloc(img->nlayers, sizeof(*ls.parts))) ||
	    !(ls.state = calloc(img->nlayers, sizeof(*ls.state))) ||
	    !(threads = calloc(nworkers, sizeof(*threads))) ||
	    pthread_mutex_init(&ls.mu, NULL)) {
		rc = dd__error(img->ctx, DD_ENOMEM, "%s: out of memory", img->path);
		goto out;
	}
	if (pthread_cond_init(&ls.cv, NULL)) {
		pthread_mutex_destroy(&ls.mu);
		rc = dd__error(img->ctx, DD_ENOMEM, "%s: out of memory", img->path);
		goto out;
	}
	locks = true;
	/* Each waiting part holds its blob open: the top MAX_APART may be read apart. */
	for (i = 0; i < img->nlayers; i++)
		ls.state[i] = i > 0 && i + MAX_APART >= img->nlayers ? part_prepare(&ls, i) : IN_PLACE;
	while (nthreads < nworkers && pthread_create(&threads[nthreads], NULL, worker, &ls) == 0)
		nthreads++;
	for (i = 0; i < img->nlayers && rc == 0; i++) {
		bool mine;

		pthread_mutex_lock(&ls.mu);
		ls.at = i;
		/* With no worker running, every layer is the calling thread's. */
		if (ls.state[i] == QUEUED && (!img->read_apart || nthreads == 0))
			ls.state[i] = IN_PLACE;
		mine = ls.state[i] == IN_PLACE;
		pthread_mutex_unlock(&ls.mu);
		if (mine) {
			dd__layer_part_free(&ls.parts[i]);
			rc = dd__layer_apply(img, i, tree);
		} else {
			rc = lay_part(&ls, i, tree);
		}
	}
	atomic_store(&ls.stop, true);
out:
	for (i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	if (ls.parts)
		for (i = 0; i < img->nlayers; i++)
			dd__layer_part_free(&ls.parts[i]);
	if (locks) {
		pthread_cond_destroy(&ls.cv);
		pthread_mutex_destroy(&ls.mu);
	}
	free(ls.parts);
	free(ls.state);
	free(threads);
	return rc;
}
