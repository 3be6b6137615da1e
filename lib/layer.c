/*
 * Applying one layer (image-spec layer.md): the stored blob is streamed
 * once through two libarchive readers, a "raw" one that only decompresses
 * and a tar one that reads the decompressed bytes. Both read callbacks
 * hash what passes through them, so the blob digest, the diff_id and
 * every file's SHA-256 come out of a single pass, with nothing on disk.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include "dd_config.h"
#ifdef DD_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif
#include "image_private.h"
#include "os.h"
#include "tree.h"

#define BUFSZ (256 * 1024)

struct stream {
	struct dd_ctx *ctx;
	const char *src;        /* the image or tar named in messages */
	struct dd_image *img;   /* image layers only; NULL for a flat tar */
	struct dd__layer *l;
	size_t idx;
	int layer;              /* recorded in entries; -1 for a flat tar */
	bool whiteouts;         /* apply .wh. names (image layers only) */
	uint32_t head_bytes;    /* leading bytes of each file to keep (targets) */
	struct dd__rd *rd;
	struct dd__hasher *blob_h, *diff_h, *file_h;
	struct dd__checksum *fp;  /* files' fingerprints, when the image takes them */
	uint64_t blob_bytes, tar_bytes, logical_bytes;
	uint64_t blob_seen;     /* compressed bytes behind the data parsed so far (consumer side) */
	unsigned char *buf;
	struct archive *outer, *inner;
	int err;                /* an error raised inside a callback, message on ctx */
	struct dd__buf path, target;
	struct dd__buf content; /* a kept file's content while it streams */
	struct dd_tree *tree;   /* being built, for its arena */
	char where[160];        /* "layer 2 (sha256:abcd...)" */
	struct pipeline *pipe;  /* decompression on its own thread, or NULL */
	struct dd__layer_part *part; /* read apart (dd__layer_read_part()), or NULL */
	bool one_hash;          /* an uncompressed blob: its digest is the diff_id */
	size_t pushback;        /* bytes of buf read ahead (and hashed), not yet given out */
	/*
	 * The tar stream libarchive reads now, hashed into the diff_id up to
	 * DPOS: the rest goes in with the file data in it (hash_data()) or
	 * before the next chunk is fetched (diff_catch_up()).
	 */
	const unsigned char *chunk;
	size_t chunk_len, dpos;
};

/*
 * The pipeline: one thread reads the blob, hashes it and inflates it (or,
 * uncompressed, reads it straight) into a ring of chunks; the caller's
 * thread hashes the tar stream (unless that is the blob), parses it,
 * hashes every file and builds the tree. The producing side has its own
 * context, so the two never write the same error message. A third stage,
 * the diff_id's hash on a thread of its own, was measured: no faster on
 * two CPUs (the image alone 15.3 against 15.1-15.6 s over /usr).
 */
#define NCHUNK 8
#define CHUNK (256 * 1024)
_Static_assert(CHUNK >= BUFSZ, "producer_plain() reads a buffer of the blob into a chunk");

struct chunk {
	unsigned char *data;
	size_t len;
	uint64_t blob_bytes;    /* compressed bytes read when this chunk was made */
};

struct pipeline {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct chunk ring[NCHUNK];
	size_t head, count;     /* filled chunks waiting for the consumer */
	bool eof, stop, held;   /* held: the consumer still uses ring[head] */
	int err;                /* the producer's error code; message on pctx */
	struct dd_ctx *pctx;
	uint64_t blob_bytes;
};

static const unsigned char zeros[65536];

static int serr(struct stream *s, int code, const char *fmt, ...) DD_PRINTF(3, 4);
static int serr(struct stream *s, int code, const char *fmt, ...)
{
	struct dd__buf b = DD__BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	if (dd__buf_vprintf(&b, fmt, ap))
		dd__buf_free(&b);
	va_end(ap);
	if (*s->where)
		dd__error(s->ctx, code, "%s: %s: %s", s->src, s->where, b.data ? b.data : "out of memory");
	else
		dd__error(s->ctx, code, "%s: %s", s->src, b.data ? b.data : "out of memory");
	dd__buf_free(&b);
	if (!s->err)
		s->err = code;
	return code;
}

/* A warning on the image, or kept for it by a layer read apart. */
static void layer_warn(struct stream *s, const char *fmt, ...) DD_PRINTF(2, 3);
static void layer_warn(struct stream *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (s->part)
		dd__warnings_push(&s->part->warnings, fmt, ap);
	else if (s->img)
		dd__warnings_push(&s->img->warnings, fmt, ap);
	else
		dd__warnings_push(&s->tree->warnings, fmt, ap);
	va_end(ap);
}

/*
 * Read the next bytes of the blob into BUF (BUFSZ bytes), counted against
 * the descriptor's size and, when HASH, hashed (else the caller has them
 * hashed, in order). Returns the count, 0 at the end, -1 on an error (on
 * the producer's context when there is one).
 */
static long blob_read_only(struct stream *s, unsigned char *buf, bool hash)
{
	long n = dd__rd_read(s->rd, buf, BUFSZ);

	if (n < 0) {
		if (s->pipe)
			s->pipe->err = (int)n;
		else
			s->err = (int)n;
		return -1;
	}
	if (s->l->has_size && s->blob_bytes + (uint64_t)n > (uint64_t)s->l->info.size) {
		if (s->pipe)
			s->pipe->err = dd__error(s->pipe->pctx, DD_EVERIFY,
						 "blob is larger than the %lld bytes its descriptor says",
						 (long long)s->l->info.size);
		else
			serr(s, DD_EVERIFY, "blob is larger than the %lld bytes its descriptor says",
			     (long long)s->l->info.size);
		return -1;
	}
	if (hash && dd__hasher_update(s->blob_h, buf, (size_t)n)) {
		if (s->pipe)
			s->pipe->err = dd__error(s->pipe->pctx, DD_ENOMEM, "out of memory");
		else
			serr(s, DD_ENOMEM, "out of memory");
		return -1;
	}
	s->blob_bytes += (uint64_t)n;
	return n;
}

static long blob_read(struct stream *s, unsigned char *buf)
{
	return blob_read_only(s, buf, true);
}

/* libarchive's read callback for the blob: what was read ahead first. */
static la_ssize_t outer_read(struct archive *a, void *ud, const void **buf)
{
	struct stream *s = ud;
	long n;

	(void)a;
	if (s->pushback) {
		n = (long)s->pushback;
		s->pushback = 0;
	} else {
		n = blob_read(s, s->buf);
		if (n < 0)
			return -1;
	}
	*buf = s->buf;
	return n;
}

/* The next free chunk of the ring, waiting for one; NULL when told to stop. */
static struct chunk *slot_wait(struct pipeline *p)
{
	struct chunk *c = NULL;

	pthread_mutex_lock(&p->mu);
	while (p->count == NCHUNK - 1 && !p->stop)
		pthread_cond_wait(&p->cv, &p->mu);
	if (!p->stop)
		c = &p->ring[(p->head + p->count) % NCHUNK];
	pthread_mutex_unlock(&p->mu);
	return c;
}

/* Hand the chunk slot_wait() gave to the consumer. */
static void slot_publish(struct pipeline *p)
{
	pthread_mutex_lock(&p->mu);
	p->count++;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* The blob digest covers bytes after the compressed stream's end too. */
static void drain_blob(struct stream *s)
{
	while (blob_read(s, s->buf) > 0)
		;
}

static void producer_done(struct stream *s)
{
	struct pipeline *p = s->pipe;

	pthread_mutex_lock(&p->mu);
	p->eof = true;
	p->blob_bytes = s->blob_bytes;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

/* The producer: inflate into the ring until the end, an error, or a stop. */
static void *producer(void *arg)
{
	struct stream *s = arg;
	struct pipeline *p = s->pipe;
	const void *data;
	size_t size, off;
	la_int64_t aoff;
	int r;

	for (;;) {
		r = archive_read_data_block(s->outer, &data, &size, &aoff);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			if (!p->err)
				p->err = dd__error(p->pctx, DD_EFORMAT, "damaged layer: %s",
						   archive_error_string(s->outer));
			goto done;
		}
		for (off = 0; off < size;) {
			size_t k = size - off > CHUNK ? CHUNK : size - off;
			struct chunk *c = slot_wait(p);

			if (!c)
				goto done;
			memcpy(c->data, (const unsigned char *)data + off, k);
			c->len = k;
			c->blob_bytes = s->blob_bytes;
			slot_publish(p);
			off += k;
		}
	}
	drain_blob(s);
done:
	producer_done(s);
	return NULL;
}

/*
 * An uncompressed tar blob, read and hashed on its own thread all the same:
 * parsing and hashing its files then has the other CPU. What was read
 * ahead to see what the blob is goes first.
 */
static void *producer_plain(void *arg)
{
	struct stream *s = arg;
	struct pipeline *p = s->pipe;
	struct chunk *c;
	long n;

	for (;;) {
		if (!(c = slot_wait(p)))
			break;
		if (s->pushback) {
			memcpy(c->data, s->buf, s->pushback);
			n = (long)s->pushback;
			s->pushback = 0;
		} else if ((n = blob_read(s, c->data)) <= 0) {
			break;
		}
		c->len = (size_t)n;
		c->blob_bytes = s->blob_bytes;
		slot_publish(p);
	}
	producer_done(s);
	return NULL;
}

/* A tar header at the start: the ustar magic, and no compressor's magic. */
static bool plain_tar(const unsigned char *b, size_t n)
{
	static const unsigned char zstd[] = { 0x28, 0xb5, 0x2f, 0xfd }, xz[] = { 0xfd, '7', 'z', 'X', 'Z' };

	if (n < 512 || memcmp(b, zstd, sizeof(zstd)) == 0 || memcmp(b, xz, sizeof(xz)) == 0 ||
	    memcmp(b, "BZh", 3) == 0 || (b[0] == 0x1f && (b[1] == 0x8b || b[1] == 0x9d)))
		return false;
	return memcmp(b + 257, "ustar", 5) == 0;
}

#ifdef DD_HAVE_ISAL
/*
 * The compressed blob's digest on a thread of its own: inflating is the
 * longest stage of a cold report, and hashing what it reads was a fifth
 * of that thread (2.5 of 12.7 CPU-s over /usr). The producer reads into
 * one of NBLOB buffers and inflates from it while the hasher takes the
 * buffers in order; a buffer is read into again only once it is hashed.
 */
#define NBLOB 8

struct blob_hasher {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct dd__hasher *h;
	unsigned char *buf[NBLOB];
	size_t len[NBLOB];
	size_t head, count;     /* read and waiting to be hashed, from HEAD */
	bool done, started;
	int err;
};

static void *blob_hasher_main(void *arg)
{
	struct blob_hasher *b = arg;
	size_t i;

	/* Behind inflating and parsing, the critical path: its 2 MB of buffers let it wait. */
	dd__thread_nice(10);
	pthread_mutex_lock(&b->mu);
	for (;;) {
		while (!b->count && !b->done)
			pthread_cond_wait(&b->cv, &b->mu);
		if (!b->count)
			break;
		i = b->head;
		pthread_mutex_unlock(&b->mu);
		if (!b->err && dd__hasher_update(b->h, b->buf[i], b->len[i]))
			b->err = DD_ENOMEM;
		pthread_mutex_lock(&b->mu);
		b->head = (b->head + 1) % NBLOB;
		b->count--;
		pthread_cond_broadcast(&b->cv);
	}
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

/* Start hashing into H; false (nothing to undo) when there is no thread for it. */
static bool bh_start(struct blob_hasher *b, struct dd__hasher *h)
{
	size_t i;

	memset(b, 0, sizeof(*b));
	b->h = h;
	for (i = 0; i < NBLOB; i++)
		if (!(b->buf[i] = malloc(BUFSZ)))
			goto fail;
	if (pthread_mutex_init(&b->mu, NULL))
		goto fail;
	if (pthread_cond_init(&b->cv, NULL)) {
		pthread_mutex_destroy(&b->mu);
		goto fail;
	}
	if (pthread_create(&b->thread, NULL, blob_hasher_main, b)) {
		pthread_cond_destroy(&b->cv);
		pthread_mutex_destroy(&b->mu);
		goto fail;
	}
	b->started = true;
	return true;
fail:
	for (i = 0; i < NBLOB; i++)
		free(b->buf[i]);
	return false;
}

/* The buffer to read the blob's next bytes into, once it is free. */
static unsigned char *bh_next(struct blob_hasher *b)
{
	unsigned char *buf;

	pthread_mutex_lock(&b->mu);
	while (b->count == NBLOB)
		pthread_cond_wait(&b->cv, &b->mu);
	buf = b->buf[(b->head + b->count) % NBLOB];
	pthread_mutex_unlock(&b->mu);
	return buf;
}

/* Queue the N bytes read into bh_next()'s buffer for hashing. */
static void bh_submit(struct blob_hasher *b, size_t n)
{
	pthread_mutex_lock(&b->mu);
	b->len[(b->head + b->count) % NBLOB] = n;
	b->count++;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
}

/* Hash what is queued, stop the thread, and free. DD_ENOMEM or 0. */
static int bh_finish(struct blob_hasher *b)
{
	size_t i;

	if (!b->started)
		return 0;
	pthread_mutex_lock(&b->mu);
	b->done = true;
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
	pthread_join(b->thread, NULL);
	pthread_cond_destroy(&b->cv);
	pthread_mutex_destroy(&b->mu);
	for (i = 0; i < NBLOB; i++)
		free(b->buf[i]);
	b->started = false;
	return b->err;
}

/*
 * gzip with ISA-L's inflate, two to three times zlib's speed on x86-64:
 * the cold path's floor. Every member of a multi-member stream (RFC 1952)
 * is read; bytes after the last member that are not a gzip member are
 * left to the blob digest, as gzip -d does; each member's CRC-32 and
 * length trailer are checked (libarchive's zlib path does not).
 */
static void *producer_isal(void *arg)
{
	struct stream *s = arg;
	struct pipeline *p = s->pipe;
	struct inflate_state *st = malloc(sizeof(*st));
	struct blob_hasher bh;
	bool eof_in = false, member_done = false, finished = false;
	bool hashing = bh_start(&bh, s->blob_h);
	size_t members = 0;
	uint32_t room;
	long n;
	int ret;

	if (!st) {
		p->err = dd__error(p->pctx, DD_ENOMEM, "out of memory");
		goto done;
	}
	isal_inflate_init(st);
	st->crc_flag = ISAL_GZIP;
	st->next_in = (uint8_t *)s->buf;
	st->avail_in = (uint32_t)s->pushback;
	s->pushback = 0;
	while (!finished) {
		struct chunk *c = slot_wait(p);

		if (!c)
			goto done;
		st->next_out = c->data;
		st->avail_out = CHUNK;
		while (st->avail_out > 0 && !finished) {
			if (st->avail_in == 0 && !eof_in) {
				unsigned char *in = hashing ? bh_next(&bh) : s->buf;

				n = blob_read_only(s, in, !hashing);
				if (n < 0)
					goto done;
				if (hashing && n > 0)
					bh_submit(&bh, (size_t)n);
				eof_in = n == 0;
				st->next_in = in;
				st->avail_in = (uint32_t)n;
			}
			if (member_done) {
				uint8_t *in = st->next_in;
				uint32_t avail = st->avail_in;

				/* Nothing more, or bytes that do not start a gzip member. */
				if ((avail == 0 && eof_in) || (avail >= 1 && in[0] != 0x1f) ||
				    (avail >= 2 && in[1] != 0x8b)) {
					finished = true;
					break;
				}
				/* Another member follows, or what follows is not ours to read. */
				isal_inflate_reset(st);
				st->crc_flag = ISAL_GZIP;
				st->next_in = in;
				st->avail_in = avail;
				member_done = false;
			}
			room = st->avail_out;
			ret = isal_inflate(st);
			if (ret == ISAL_INVALID_WRAPPER && members > 0 && st->total_out == 0) {
				finished = true; /* trailing bytes that are not a gzip member */
				break;
			}
			if (ret == ISAL_INCORRECT_CHECKSUM) {
				p->err = dd__error(p->pctx, DD_EFORMAT,
						   "damaged layer: gzip CRC-32 or length trailer does not match the data");
				goto done;
			}
			if (ret < 0 || ret == ISAL_NEED_DICT) {
				p->err = dd__error(p->pctx, DD_EFORMAT, "damaged layer: invalid gzip data (ISA-L error %d)",
						   ret);
				goto done;
			}
			if (st->block_state == ISAL_BLOCK_FINISH) {
				member_done = true;
				members++;
			} else if (st->avail_in == 0 && eof_in && st->avail_out == room) {
				/* No input left and nothing more to give: the stream was cut short. */
				p->err = dd__error(p->pctx, DD_EFORMAT,
						   "damaged layer: truncated gzip stream (unexpected end of the blob)");
				goto done;
			}
		}
		c->len = CHUNK - st->avail_out;
		c->blob_bytes = s->blob_bytes;
		if (c->len)
			slot_publish(p);
	}
	/* In order: what the hasher holds, then the rest of the blob. */
	if (bh_finish(&bh)) {
		p->err = dd__error(p->pctx, DD_ENOMEM, "out of memory");
		goto done;
	}
	drain_blob(s);
done:
	if (bh_finish(&bh) && !p->err)
		p->err = dd__error(p->pctx, DD_ENOMEM, "out of memory");
	free(st);
	producer_done(s);
	return NULL;
}
#endif

/*
 * The next chunk for the consumer, releasing the one it held. Returns its
 * length, 0 at the end, -1 when the producer failed.
 */
static long pipe_next(struct pipeline *p, const unsigned char **data, uint64_t *blob_bytes)
{
	long len;

	pthread_mutex_lock(&p->mu);
	if (p->held) {
		p->head = (p->head + 1) % NCHUNK;
		p->count--;
		p->held = false;
		pthread_cond_broadcast(&p->cv);
	}
	while (!p->count && !p->eof)
		pthread_cond_wait(&p->cv, &p->mu);
	if (p->count) {
		*data = p->ring[p->head].data;
		*blob_bytes = p->ring[p->head].blob_bytes;
		len = (long)p->ring[p->head].len;
		p->held = true;
	} else {
		len = p->err ? -1 : 0;
	}
	pthread_mutex_unlock(&p->mu);
	return len;
}

static void pipe_stop(struct stream *s)
{
	struct pipeline *p = s->pipe;
	size_t i;

	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	for (i = 0; i < NCHUNK; i++)
		free(p->ring[i].data);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	dd_ctx_free(p->pctx);
	free(p);
	s->pipe = NULL;
}

static int pipe_start(struct stream *s, void *(*fn)(void *))
{
	struct pipeline *p = calloc(1, sizeof(*p));
	size_t i;

	if (!p)
		return DD_ENOMEM;
	for (i = 0; i < NCHUNK; i++)
		if (!(p->ring[i].data = malloc(CHUNK)))
			goto fail;
	if (dd_ctx_new(&p->pctx))
		goto fail;
	dd_ctx_set_limits(p->pctx, &s->ctx->limits);
	if (pthread_mutex_init(&p->mu, NULL) || pthread_cond_init(&p->cv, NULL))
		goto fail;
	s->pipe = p;
	dd__rd_set_ctx(s->rd, p->pctx);
	if (pthread_create(&p->thread, NULL, fn, s) != 0) {
		dd__rd_set_ctx(s->rd, s->ctx);
		s->pipe = NULL;
		goto fail;
	}
	return 0;
fail:
	for (i = 0; i < NCHUNK; i++)
		free(p->ring[i].data);
	dd_ctx_free(p->pctx);
	free(p);
	return DD_ENOMEM;
}

/* The producer's error, moved onto the caller's context with the layer named. */
static int pipe_error(struct stream *s)
{
	const char *msg = dd_ctx_error(s->pipe->pctx);

	return serr(s, s->pipe->err, "%s", *msg ? msg : dd_strerror(s->pipe->err));
}

/* Compressed bytes read so far: the denominator of the decompression ratio. */
static uint64_t compressed_seen(struct stream *s)
{
	la_int64_t n;

	if (s->img)
		return s->blob_seen;
	/* A flat tar: the bytes libarchive read from the file itself. */
	n = archive_filter_bytes(s->inner, -1);
	return n > 0 ? (uint64_t)n : 0;
}

/*
 * What a small input may expand to: data decompressed, and the zeros of
 * sparse holes, which cost hashing time just as much (a 1 TiB hole in a
 * 1 KiB layer is a bomb too).
 */
static int check_expansion(struct stream *s, uint64_t expanded)
{
	const struct dd_limits *lim = &s->ctx->limits;
	uint64_t in = compressed_seen(s);

	if (expanded > lim->max_layer_bytes)
		return serr(s, DD_ELIMIT, "expands past %llu bytes (limit max-layer-bytes)",
			    (unsigned long long)lim->max_layer_bytes);
	if (expanded > (16u << 20) && expanded / (in ? in : 1) > lim->max_ratio)
		return serr(s, DD_ELIMIT, "expands more than %llu times its size, a decompression or sparse-file bomb? (limit max-ratio)",
			    (unsigned long long)lim->max_ratio);
	return 0;
}

/* Hash what is left of the current chunk into the diff_id, before it goes. */
static int diff_catch_up(struct stream *s)
{
	size_t n = s->chunk_len - s->dpos;

	if (s->one_hash || !n)
		return 0;
	s->dpos = s->chunk_len;
	return dd__hasher_update(s->diff_h, s->chunk + s->chunk_len - n, n) ?
	       serr(s, DD_ENOMEM, "out of memory") : 0;
}

/*
 * A file's data: into the file's hash, and into the diff_id in the same
 * pass when it lies in the current chunk, after the stream's bytes before
 * it. It nearly always does: libarchive hands tar data out in place, and
 * copies only what straddles two chunks (which the diff_id gets with the
 * chunk, as it gets the headers).
 */
static int hash_data(struct stream *s, const unsigned char *p, size_t n)
{
	uintptr_t c = (uintptr_t)s->chunk, at = (uintptr_t)p;

	if (s->fp && dd__checksum_add(s->fp, p, n))
		return serr(s, DD_ENOMEM, "out of memory");
	if (s->one_hash || !c || at < c + s->dpos || at - c > s->chunk_len ||
	    n > s->chunk_len - (at - c))
		return dd__hasher_update(s->file_h, p, n) ? serr(s, DD_ENOMEM, "out of memory") : 0;
	if (dd__hasher_update(s->diff_h, s->chunk + s->dpos, at - c - s->dpos) ||
	    dd__hasher_update2(s->diff_h, s->file_h, p, n))
		return serr(s, DD_ENOMEM, "out of memory");
	s->dpos = at - c + n;
	return 0;
}

/* Decompressed bytes: the diff_id covers exactly these. */
static la_ssize_t inner_read(struct archive *a, void *ud, const void **buf)
{
	struct stream *s = ud;
	const void *p;
	size_t size;
	la_int64_t off;
	uint64_t blob_bytes;
	int r;

	(void)a;
	if (s->err || diff_catch_up(s))
		return -1;
	if (s->pipe) {
		const unsigned char *data;
		long len = pipe_next(s->pipe, &data, &blob_bytes);

		if (len < 0) {
			pipe_error(s);
			return -1;
		}
		if (len == 0)
			return 0;
		p = data;
		size = (size_t)len;
	} else {
		r = archive_read_data_block(s->outer, &p, &size, &off);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN) {
			if (!s->err)
				serr(s, DD_EFORMAT, "damaged layer: %s", archive_error_string(s->outer));
			return -1;
		}
		blob_bytes = s->blob_bytes;
	}
	s->tar_bytes += size;
	s->blob_seen = blob_bytes;
	if (check_expansion(s, s->tar_bytes))
		return -1;
	s->chunk = p;
	s->chunk_len = size;
	s->dpos = 0;
	*buf = p;
	return (la_ssize_t)size;
}

static const char *qpath(struct stream *s, const char *p, size_t n)
{
	s->target.len = 0;
	if (dd__quote(&s->target, p, n) || !s->target.data)
		return "?";
	return s->target.data;
}

/* A flat tar reads through libarchive's own filters: check what they produced. */
static int flat_limits(struct stream *s)
{
	la_int64_t out;

	if (s->img)
		return 0;
	out = archive_filter_bytes(s->inner, 0);
	return check_expansion(s, out > 0 ? (uint64_t)out : 0);
}

static int hash_zeros(struct stream *s, uint64_t n)
{
	s->logical_bytes += n;
	if (check_expansion(s, s->logical_bytes))
		return s->err;
	while (n) {
		size_t k = n > sizeof(zeros) ? sizeof(zeros) : (size_t)n;

		if (dd__hasher_update(s->file_h, zeros, k) || (s->fp && dd__checksum_add(s->fp, zeros, k)))
			return serr(s, DD_ENOMEM, "out of memory");
		n -= k;
	}
	return 0;
}

/* Hash a regular file's content; holes of sparse entries count as zeros. */
static int read_content(struct stream *s, struct archive_entry *e, struct dd__node *n)
{
	struct dd__digest d;
	const void *p;
	size_t size;
	la_int64_t off;
	uint64_t pos = 0, want = (uint64_t)archive_entry_size(e);
	int r;

	bool keep = want <= DD__CONTENT_MAX && dd_entry_content_kept(n->e.path, n->e.path_len);

	if (dd__hasher_reset(s->file_h) || (s->fp && dd__checksum_restart(s->fp)))
		return serr(s, DD_ENOMEM, "out of memory");
	s->content.len = 0;
	for (;;) {
		r = archive_read_data_block(s->inner, &p, &size, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			if (!s->err)
				serr(s, DD_EFORMAT, "entry '%s': %s", qpath(s, n->e.path, n->e.path_len),
				     archive_error_string(s->inner));
			return s->err;
		}
		if (off < 0 || (uint64_t)off < pos)
			return serr(s, DD_EFORMAT, "entry '%s': data blocks out of order",
				    qpath(s, n->e.path, n->e.path_len));
		if ((uint64_t)off > pos && hash_zeros(s, (uint64_t)off - pos))
			return s->err;
		pos = (uint64_t)off;
		if (pos == 0) {
			dd__exec_sniff(p, size, &n->e.exec, &n->e.elf_machine);
			/* Heads feed libmagic's word on executables only: don't keep the rest. */
			if (s->head_bytes && size && (n->e.exec != DD_EXEC_NONE || (n->e.mode & 0111))) {
				size_t k = dd__head_len(p, size < s->head_bytes ? size : s->head_bytes);

				if (dd__entry_set_head(&s->tree->arena, &n->e, p, k))
					return serr(s, DD_ENOMEM, "out of memory");
			}
		}
		if (hash_data(s, p, size))
			return s->err;
		if (keep) {
			/* The holes of a sparse entry read as zeros. */
			size_t gap = (size_t)(pos - s->content.len);

			if (dd__buf_grow(&s->content, gap + size))
				return serr(s, DD_ENOMEM, "out of memory");
			memset(s->content.data + s->content.len, 0, gap);
			s->content.len += gap;
			if (dd__buf_put(&s->content, p, size))
				return serr(s, DD_ENOMEM, "out of memory");
		}
		pos += size;
		s->logical_bytes += size;
		if (flat_limits(s))
			return s->err;
	}
	if (keep && pos == want &&
	    dd__entry_set_content(&s->tree->arena, &n->e, s->content.data, s->content.len))
		return serr(s, DD_ENOMEM, "out of memory");
	if (pos < want && hash_zeros(s, want - pos))
		return s->err;
	if (pos > want)
		want = pos;
	if (dd__hasher_final(s->file_h, &d))
		return serr(s, DD_ENOMEM, "out of memory");
	memcpy(n->e.sha256, d.bin, 32);
	n->e.has_sha256 = true;
	n->e.size = want;
	if (s->fp) {
		unsigned char tag[16];

		if (dd__checksum_end(s->fp, tag))
			return serr(s, DD_ENOMEM, "out of memory");
		memcpy(n->fp, tag, DD__FP_LEN);
	}
	return 0;
}

static int xattr_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dd_xattr *)a)->name, ((const struct dd_xattr *)b)->name);
}

static int read_xattrs(struct stream *s, struct dd_tree *t, struct archive_entry *e,
		       struct dd__node *n)
{
	const struct dd_limits *lim = &s->ctx->limits;
	struct dd_xattr *xs;
	const char *name;
	const void *value;
	size_t size, i, k = 0, count = (size_t)archive_entry_xattr_reset(e);

	if (count == 0)
		return 0;
	if (count > 1024)
		return serr(s, DD_ELIMIT, "entry '%s': %zu xattrs", qpath(s, n->e.path, n->e.path_len),
			    count);
	xs = dd__arena_alloc(&t->arena, count * sizeof(*xs));
	if (!xs)
		return serr(s, DD_ENOMEM, "out of memory");
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK && k < count) {
		if (!name || !*name)
			continue;
		if (size > lim->max_xattr)
			return serr(s, DD_ELIMIT, "entry '%s': xattr %s of %zu bytes (limit max-xattr)",
				    qpath(s, n->e.path, n->e.path_len), name, size);
		xs[k].name = dd__arena_strndup(&t->arena, name, strlen(name));
		xs[k].value = (const unsigned char *)dd__arena_strndup(&t->arena, value, size);
		xs[k].len = size;
		if (!xs[k].name || !xs[k].value)
			return serr(s, DD_ENOMEM, "out of memory");
		k++;
	}
	qsort(xs, k, sizeof(*xs), xattr_cmp);
	/* A name given twice keeps its last value. */
	for (i = 1; i < k; i++) {
		if (strcmp(xs[i].name, xs[i - 1].name) == 0) {
			memmove(&xs[i - 1], &xs[i], (k - i) * sizeof(*xs));
			k--;
			i--;
		}
	}
	if (k) {
		struct dd_entry_extra *x = dd__entry_extra(&t->arena, &n->e);

		if (!x)
			return serr(s, DD_ENOMEM, "out of memory");
		x->xattrs = xs;
		x->nxattrs = (uint32_t)k;
	}
	return 0;
}

static bool has_aufs_component(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i + 9 <= len; i++)
		if (p[i] == '/' && memcmp(p + i + 1, ".wh..wh.", 8) == 0)
			return true;
	return false;
}

/* Nodes a part looks at for directories it made as parents: past this, it gives up. */
#define PART_LOOK 65536

/* The node after N in a pre-order walk of the subtree at ROOT; NULL at the end. */
static struct dd__node *preorder_next(const struct dd__node *root, struct dd__node *n)
{
	if (n->child)
		return n->child;
	while (n != root && !n->next)
		n = n->parent;
	return n == root ? NULL : n->next;
}

/*
 * A whiteout of a layer read apart, kept in tar order in its tree's
 * strings for dd__layer_merge(), unless the part holds at PATH (below it
 * only, with CHILDREN) a directory made only as a parent: then the part
 * gives up (image_private.h says why). *S's budget bounds the looking.
 */
static int lower_op(struct stream *s, int kind, const char *path, size_t len)
{
	struct dd__layer_part *p = s->part;
	struct dd__node *root = dd__tree_lookup(s->tree, path, len), *n;
	struct dd__lower_op *op;

	for (n = root; n; n = preorder_next(root, n)) {
		if (++p->looked > PART_LOOK || ((n->e.flags & DD_ENTRY_IMPLICIT) &&
						 (n != root || kind == DD__HIDE)))
			return DD__EPART_IN_PLACE;
	}
	if (dd__grow(&p->ops, &p->ops_cap, p->nops, sizeof(*p->ops)))
		return serr(s, DD_ENOMEM, "out of memory");
	op = &p->ops[p->nops];
	op->kind = kind;
	op->len = len;
	op->path = dd__arena_string(&s->tree->strings, path, len);
	if (!op->path)
		return serr(s, DD_ENOMEM, "out of memory");
	p->nops++;
	return 0;
}

static void warn_replaced(struct stream *s, const char *path, size_t len)
{
	if (s->img)
		layer_warn(s, "%s: '%s' was written beneath a non-directory, which was replaced by a directory",
			   s->where, qpath(s, path, len));
	else
		layer_warn(s, "'%s' was written beneath a non-directory, which was replaced by a directory",
			   qpath(s, path, len));
}

/*
 * Make the parents of PATH in T for the entry S lays there (a non-directory
 * in the way replaced, with a warning); its parent in *PARENT.
 */
static int make_parents(struct stream *s, struct dd_tree *t, struct dd__node **parent,
			 const char *path, size_t len)
{
	bool replaced = false;
	int rc = dd__tree_mkparents(t, parent, path, len, s->layer, &replaced);

	if (rc)
		return serr(s, rc, "entry '%s': %s", qpath(s, path, len),
			    rc == DD_ELIMIT ? "too many entries (limit max-entries)" : "out of memory");
	if (replaced)
		warn_replaced(s, path, len);
	return 0;
}

/*
 * Whiteouts (layer.md "Whiteouts"): ".wh.NAME" removes NAME from lower
 * layers only; "DIR/.wh..wh..opq" removes every lower child of DIR. Both
 * act on the in-memory tree alone and never resolve through a symlink;
 * entries of this same layer survive whatever the order in the tar,
 * because dd__tree_hide_lower() keeps what this layer wrote.
 */
static int whiteout(struct stream *s, struct dd_tree *t, const char *path, size_t len,
		    size_t base)
{
	struct dd__buf victim = DD__BUF_INIT;
	const char *name = path + base + 4;
	size_t nlen = len - base - 4, plen = dd__path_parent_len(path, len);
	struct dd__node *n;
	int layer = s->layer;
	int rc = 0;

	if (len - base == 12 && memcmp(path + base, ".wh..wh..opq", 12) == 0) {
		if (s->part)
			return lower_op(s, DD__HIDE_CHILDREN, path, plen);
		n = dd__tree_lookup(t, path, plen);
		if (n && n->e.type == DD_TYPE_DIR)
			dd__tree_hide_lower(t, n, layer, true);
		return 0;
	}
	if (nlen >= 4 && memcmp(name, ".wh.", 4) == 0)
		return 0; /* other .wh..wh.* names are AUFS metadata */
	if (nlen == 0)
		return serr(s, DD_EFORMAT, "bare whiteout '%s' names nothing", qpath(s, path, len));
	if ((nlen == 1 && name[0] == '.') || (nlen == 2 && name[0] == '.' && name[1] == '.'))
		return serr(s, DD_EFORMAT, "malformed whiteout '%s'", qpath(s, path, len));
	if (dd__buf_put(&victim, path, plen == 1 ? 0 : plen) || dd__buf_puts(&victim, "/") ||
	    dd__buf_put(&victim, name, nlen)) {
		rc = serr(s, DD_ENOMEM, "out of memory");
		goto out;
	}
	if (s->part) {
		rc = lower_op(s, DD__HIDE, victim.data, victim.len);
		goto out;
	}
	n = dd__tree_lookup(t, victim.data, victim.len);
	if (n)
		dd__tree_hide_lower(t, n, layer, false);
out:
	dd__buf_free(&victim);
	return rc;
}

static enum dd_type entry_type(struct archive_entry *e)
{
	switch (archive_entry_filetype(e)) {
	case AE_IFREG: return DD_TYPE_FILE;
	case AE_IFDIR: return DD_TYPE_DIR;
	case AE_IFLNK: return DD_TYPE_SYMLINK;
	case AE_IFCHR: return DD_TYPE_CHAR;
	case AE_IFBLK: return DD_TYPE_BLOCK;
	case AE_IFIFO: return DD_TYPE_FIFO;
	case AE_IFSOCK: return DD_TYPE_SOCKET;
	default: return (enum dd_type)0;
	}
}

/* A hard link takes its target's inode: content, mode, owner, xattrs. */
static int apply_hardlink(struct stream *s, struct dd_tree *t, const char *raw,
			  const char *path, size_t len, struct dd__node *parent)
{
	struct dd__buf tp = DD__BUF_INIT;
	struct dd__node *target, *n;
	struct dd_entry copy;
	unsigned char fp[DD__FP_LEN];
	int rc;

	if (dd__path_normalize(&tp, raw, strlen(raw))) {
		rc = serr(s, DD_EFORMAT, "hard link '%s' points outside the root: '%s'",
			  qpath(s, path, len), raw);
		goto out;
	}
	target = dd__tree_lookup(t, tp.data, tp.len);
	if (!target && s->part) {
		rc = DD__EPART_IN_PLACE; /* a file of a layer below */
		goto out;
	}
	if (!target) {
		rc = serr(s, DD_EFORMAT, "hard link '%s' to missing '%s'", qpath(s, path, len), raw);
		goto out;
	}
	if (target->e.type == DD_TYPE_DIR || target == t->root) {
		rc = serr(s, DD_EFORMAT, "hard link '%s' to directory '%s'", qpath(s, path, len), raw);
		goto out;
	}
	if (tp.len == len && memcmp(tp.data, path, len) == 0) {
		rc = serr(s, DD_EFORMAT, "hard link '%s' to itself", qpath(s, path, len));
		goto out;
	}
	copy = target->e;
	memcpy(fp, target->fp, sizeof(fp));
	rc = dd__tree_put(t, &n, parent, path, len, copy.type, s->layer);
	if (rc) {
		rc = serr(s, rc, "entry '%s': cannot add", qpath(s, path, len));
		goto out;
	}
	/* The target node may have been replaced by the put; COPY holds its values. */
	copy.path = n->e.path;
	copy.path_len = n->e.path_len;
	copy.layer = s->layer;
	copy.flags = 0;
	copy.links = 0; /* shared now: both are looked at when links are settled */
	n->e = copy; /* same ino: dd__tree_finalize() records the link */
	memcpy(n->fp, fp, sizeof(fp));
	target = dd__tree_lookup(t, tp.data, tp.len);
	if (target && target->e.ino == copy.ino)
		target->e.links = 0;
out:
	dd__buf_free(&tp);
	return rc;
}

static int apply_entry(struct stream *s, struct dd_tree *t, struct archive_entry *e)
{
	struct dd_ctx *ctx = s->ctx;
	const char *raw = archive_entry_pathname(e);
	struct dd__node *parent, *n;
	enum dd_type type;
	size_t base, len;
	int rc;

	if (!raw)
		raw = archive_entry_pathname_utf8(e);
	if (!raw)
		return serr(s, DD_EFORMAT, "entry without a name");
	rc = dd__path_normalize(&s->path, raw, strlen(raw));
	if (rc == DD_EFORMAT)
		return serr(s, DD_EFORMAT, "entry '%s' escapes the root", qpath(s, raw, strlen(raw)));
	if (rc)
		return serr(s, DD_ENOMEM, "out of memory");
	len = s->path.len;
	if (len > ctx->limits.max_path)
		return serr(s, DD_ELIMIT, "entry name of %zu bytes is longer than %llu (limit max-path)", len,
			    (unsigned long long)ctx->limits.max_path);
	base = dd__path_base_off(s->path.data, len);
	if (s->whiteouts && len - base >= 4 && memcmp(s->path.data + base, ".wh.", 4) == 0)
		return whiteout(s, t, s->path.data, len, base);
	if (s->whiteouts && has_aufs_component(s->path.data, len))
		return 0;
	type = archive_entry_hardlink(e) ? DD_TYPE_FILE : entry_type(e);
	if (!type)
		return serr(s, DD_EUNSUPPORTED, "entry '%s' has an unsupported type (0%o)",
			    qpath(s, s->path.data, len), (unsigned)archive_entry_filetype(e));
	if (archive_entry_uid(e) < 0 || archive_entry_gid(e) < 0)
		return serr(s, DD_EFORMAT, "entry '%s' has a negative owner",
			    qpath(s, s->path.data, len));
	rc = make_parents(s, t, &parent, s->path.data, len);
	if (rc)
		return rc;
	if (archive_entry_hardlink(e))
		return apply_hardlink(s, t, archive_entry_hardlink(e), s->path.data, len, parent);
	if (len == 1 && type != DD_TYPE_DIR)
		return serr(s, DD_EFORMAT, "the root is not a directory");
	/* Linux IDs are 32 bits: no runtime could give a file any other owner. */
	if (archive_entry_uid(e) < 0 || archive_entry_uid(e) > UINT32_MAX ||
	    archive_entry_gid(e) < 0 || archive_entry_gid(e) > UINT32_MAX)
		return serr(s, DD_EFORMAT, "entry '%s': owner %lld:%lld is not a pair of 32-bit IDs",
			    qpath(s, s->path.data, len), (long long)archive_entry_uid(e),
			    (long long)archive_entry_gid(e));
	rc = dd__tree_put(t, &n, parent, s->path.data, len, type, s->layer);
	if (rc)
		return serr(s, rc, "entry '%s': %s", qpath(s, s->path.data, len),
			    rc == DD_ELIMIT ? "too many entries (limit max-entries)" : "cannot add");
	n->e.links = 1; /* a new inode of its own, until a hard link names it */
	n->e.mode = (uint16_t)(archive_entry_perm(e) & 07777);
	n->e.uid = (uint32_t)archive_entry_uid(e);
	n->e.gid = (uint32_t)archive_entry_gid(e);
	n->e.mtime = archive_entry_mtime(e);
	n->e.mtime_nsec = (uint32_t)archive_entry_mtime_nsec(e);
	if ((type == DD_TYPE_CHAR || type == DD_TYPE_BLOCK) &&
	    (archive_entry_rdevmajor(e) || archive_entry_rdevminor(e))) {
		struct dd_entry_extra *x = dd__entry_extra(&t->arena, &n->e);

		if (!x)
			return serr(s, DD_ENOMEM, "out of memory");
		x->rdev_major = (uint32_t)archive_entry_rdevmajor(e);
		x->rdev_minor = (uint32_t)archive_entry_rdevminor(e);
	}
	if (type == DD_TYPE_SYMLINK) {
		const char *target = archive_entry_symlink(e);

		if (!target)
			target = archive_entry_symlink_utf8(e);
		if (!target)
			return serr(s, DD_EFORMAT, "symlink '%s' without a target",
				    qpath(s, s->path.data, len));
		if (strlen(target) > ctx->limits.max_path)
			return serr(s, DD_ELIMIT, "symlink '%s': target longer than %llu bytes (limit max-path)",
				    qpath(s, s->path.data, len), (unsigned long long)ctx->limits.max_path);
		n->e.target_len = strlen(target);
		n->e.target = dd__arena_string(&t->strings, target, n->e.target_len);
		if (!n->e.target)
			return serr(s, DD_ENOMEM, "out of memory");
	}
	rc = read_xattrs(s, t, e, n);
	if (rc)
		return rc;
	if (type == DD_TYPE_FILE)
		return read_content(s, e, n);
	return 0;
}

static enum dd_compression compression_of(int code)
{
	switch (code) {
	case ARCHIVE_FILTER_NONE: return DD_COMPRESSION_NONE;
	case ARCHIVE_FILTER_GZIP: return DD_COMPRESSION_GZIP;
	case ARCHIVE_FILTER_ZSTD: return DD_COMPRESSION_ZSTD;
	default: return DD_COMPRESSION_OTHER;
	}
}

/* Does the media type promise the compression that the magic bytes show? */
static void check_media_type(struct stream *s)
{
	const char *mt = s->l->info.media_type;
	enum dd_compression c = s->l->info.compression, said;

	if (!mt)
		return;
	if (strstr(mt, "gzip"))
		said = DD_COMPRESSION_GZIP;
	else if (strstr(mt, "zstd"))
		said = DD_COMPRESSION_ZSTD;
	else
		said = DD_COMPRESSION_NONE;
	if (said != c)
		layer_warn(s, "%s: media type %s but the data is %s", s->where, mt,
			   dd_compression_name(c));
}

static int finish_verify(struct stream *s)
{
	struct dd__layer *l = s->l;
	struct dd__digest got;

	if (l->has_size && s->blob_bytes != (uint64_t)l->info.size)
		return serr(s, DD_EVERIFY, "size mismatch: descriptor says %lld bytes, blob has %llu",
			    (long long)l->info.size, (unsigned long long)s->blob_bytes);
	if (dd__hasher_final(s->blob_h, &got))
		return serr(s, DD_ENOMEM, "out of memory");
	if (l->has_digest && !dd__digest_equal(&got, &l->digest))
		return serr(s, DD_EVERIFY, "blob digest mismatch: expected %s, got %s",
			    l->digest.str, got.str);
	if (!s->one_hash && dd__hasher_final(s->diff_h, &got))
		return serr(s, DD_ENOMEM, "out of memory");
	if (!dd__digest_equal(&got, &l->diff_id))
		return serr(s, DD_EVERIFY, "diff_id mismatch: config says %s, uncompressed layer is %s",
			    l->diff_id.str, got.str);
	l->info.uncompressed_size = s->tar_bytes;
	l->info.verified = l->has_digest ? DD_VERIFY_OK : DD_VERIFY_PARTIAL;
	return 0;
}

/* S set up for layer I of IMG, its messages on CTX. */
static void stream_init(struct stream *s, struct dd_image *img, size_t i, struct dd_ctx *ctx)
{
	struct dd__layer *l = &img->layers[i];

	memset(s, 0, sizeof(*s));
	s->ctx = ctx;
	s->src = img->path;
	s->img = img;
	s->l = l;
	s->idx = i;
	s->layer = (int)i;
	s->whiteouts = true;
	snprintf(s->where, sizeof(s->where), "layer %zu (%s)", i,
		 l->info.digest ? l->info.digest : l->info.location);
}

/*
 * Is a part to stop: the image's thread gave up, or the parts between them
 * hold max-entries entries? Counted per entry, so the parts can never hold
 * more than one image could.
 */
static int part_check(struct stream *s)
{
	struct dd__layer_part *p = s->part;

	if (atomic_load(p->stop))
		return DD__EPART_IN_PLACE;
	p->entries++;
	if (atomic_fetch_add(p->held, 1) + 1 > s->ctx->limits.max_entries)
		return DD__EPART_IN_PLACE;
	return 0;
}

/* Layer I into TREE, or into PART's tree (read apart). */
static int layer_read(struct dd_image *img, size_t i, struct dd_tree *tree, struct dd__layer_part *part)
{
	struct dd__layer *l = &img->layers[i];
	struct stream s;
	struct archive_entry *e;
	const void *p;
	size_t size;
	la_int64_t off;
	uint64_t entries = 0;
	long n;
	int r, rc;

	stream_init(&s, img, i, part ? part->ctx : img->ctx);
	s.part = part;
	if (dd__hasher_new(&s.blob_h, l->has_digest ? l->digest.alg : DD__ALG_SHA256) ||
	    dd__hasher_new_paired(&s.diff_h, l->diff_id.alg) ||
	    dd__hasher_new_paired(&s.file_h, DD__ALG_SHA256) ||
	    (img->fingerprint && dd__checksum_begin_keyed(&s.fp, img->fp_key)) ||
	    !(s.buf = malloc(BUFSZ)) || !(s.outer = archive_read_new()) ||
	    !(s.inner = archive_read_new())) {
		rc = serr(&s, DD_ENOMEM, "out of memory");
		goto out;
	}
	if (part) {
		s.rd = part->rd;
		part->rd = NULL;
		dd__rd_set_ctx(s.rd, s.ctx);
	} else if ((rc = dd__src_open(img->src, &s.rd, l->info.location))) {
		if (rc == DD_ENOTFOUND)
			serr(&s, rc, "blob %s is missing", l->info.location);
		goto out;
	}
	/* Size first: a blob of the wrong size is refused before it is read. */
	if (l->has_size && dd__rd_size(s.rd) != (uint64_t)l->info.size) {
		rc = serr(&s, DD_EVERIFY, "size mismatch: descriptor says %lld bytes, blob has %llu",
			  (long long)l->info.size, (unsigned long long)dd__rd_size(s.rd));
		goto out;
	}
	if (!l->has_size)
		l->info.size = (int64_t)dd__rd_size(s.rd);
	/* The first bytes say what the blob is; they are handed on, not read twice. */
	n = blob_read(&s, s.buf);
	if (n < 0) {
		rc = s.err;
		goto out;
	}
	s.pushback = (size_t)n;
	if (plain_tar(s.buf, (size_t)n)) {
		/*
		 * The tar is the blob: the diff_id is the blob's digest, when it
		 * is of the same algorithm, and each byte is hashed once.
		 */
		l->info.compression = DD_COMPRESSION_NONE;
		check_media_type(&s);
		s.one_hash = (l->has_digest ? l->digest.alg : DD__ALG_SHA256) == l->diff_id.alg;
		if (pipe_start(&s, producer_plain)) {
			rc = serr(&s, DD_ENOMEM, "out of memory");
			goto out;
		}
		goto tar;
	}
#ifdef DD_HAVE_ISAL
	if (n >= 2 && s.buf[0] == 0x1f && s.buf[1] == 0x8b) {
		/* gzip: ISA-L inflates on its own thread, whatever the CPU count. */
		l->info.compression = DD_COMPRESSION_GZIP;
		check_media_type(&s);
		if (pipe_start(&s, producer_isal)) {
			rc = serr(&s, DD_ENOMEM, "out of memory");
			goto out;
		}
		goto tar;
	}
#endif
	dd__archive_support_filters(s.outer);
	archive_read_support_format_raw(s.outer);
	if (archive_read_open(s.outer, &s, NULL, outer_read, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(s.outer, &e) != ARCHIVE_OK) {
		rc = s.err ? s.err : serr(&s, DD_EFORMAT, "cannot read the blob: %s",
					  archive_error_string(s.outer));
		goto out;
	}
	l->info.compression = compression_of(archive_filter_code(s.outer, 0));
	check_media_type(&s);
	/* Inflating is worth a thread of its own when there is a CPU for it. */
	if (l->info.compression != DD_COMPRESSION_NONE && sysconf(_SC_NPROCESSORS_ONLN) > 1 &&
	    pipe_start(&s, producer)) {
		rc = serr(&s, DD_ENOMEM, "out of memory");
		goto out;
	}
tar:
	archive_read_support_format_tar(s.inner);
	if (archive_read_open(s.inner, &s, NULL, inner_read, NULL) != ARCHIVE_OK) {
		rc = s.err ? s.err : serr(&s, DD_EFORMAT, "not a tar archive: %s",
					  archive_error_string(s.inner));
		goto out;
	}
	for (;;) {
		r = archive_read_next_header(s.inner, &e);
		if (r == ARCHIVE_EOF)
			break;
		s.tree = tree;
		/*
		 * ARCHIVE_RETRY is a header libarchive could not make sense of:
		 * the input is refused all the same, with the entry's own fault
		 * when it has one to tell (an unknown type, a root that is a file).
		 */
		if (r == ARCHIVE_RETRY && !s.err && archive_entry_pathname(e) &&
		    (rc = apply_entry(&s, tree, e)) == 0)
			rc = serr(&s, DD_EFORMAT, "damaged layer: %s", archive_error_string(s.inner));
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			if (r != ARCHIVE_RETRY || !rc)
				rc = s.err ? s.err : serr(&s, DD_EFORMAT, "damaged layer: %s",
							  archive_error_string(s.inner));
			goto out;
		}
		if (part && (rc = part_check(&s)))
			goto out;
		rc = apply_entry(&s, tree, e);
		/* The layer took out an entry of its own: what it removed below, a part cannot say. */
		if (rc == 0 && part && tree->nremoved)
			rc = DD__EPART_IN_PLACE;
		if (rc)
			goto out;
		if (!part && s.ctx->progress) {
			struct dd_progress pr = { DD_PROGRESS_LAYER, i, img->nlayers, compressed_seen(&s),
						  (uint64_t)l->info.size, ++entries };

			s.ctx->progress(&pr, s.ctx->progress_user);
		}
	}
	/* The digests cover every byte, including what follows the tar's end marker. */
	if (diff_catch_up(&s)) {
		rc = s.err;
		goto out;
	}
	s.chunk = NULL;
	if (s.pipe) {
		const unsigned char *data;
		uint64_t bb;
		long len;

		while ((len = pipe_next(s.pipe, &data, &bb)) > 0) {
			if (!s.one_hash && dd__hasher_update(s.diff_h, data, (size_t)len)) {
				rc = serr(&s, DD_ENOMEM, "out of memory");
				goto out;
			}
			s.tar_bytes += (uint64_t)len;
		}
		if (len < 0) {
			rc = pipe_error(&s);
			goto out;
		}
		/* The producer has read the blob to its end and is done. */
		pipe_stop(&s);
		rc = finish_verify(&s);
		goto out;
	}
	while ((r = archive_read_data_block(s.outer, &p, &size, &off)) == ARCHIVE_OK ||
	       r == ARCHIVE_WARN) {
		if (dd__hasher_update(s.diff_h, p, size)) {
			rc = serr(&s, DD_ENOMEM, "out of memory");
			goto out;
		}
		s.tar_bytes += size;
	}
	if (r != ARCHIVE_EOF) {
		rc = s.err ? s.err : serr(&s, DD_EFORMAT, "damaged layer: %s",
					  archive_error_string(s.outer));
		goto out;
	}
	drain_blob(&s);
	rc = s.err ? s.err : finish_verify(&s);
out:
	pipe_stop(&s);
	if (s.inner)
		archive_read_free(s.inner);
	if (s.outer)
		archive_read_free(s.outer);
	dd__rd_close(s.rd);
	dd__hasher_free(s.blob_h);
	dd__hasher_free(s.diff_h);
	dd__hasher_free(s.file_h);
	dd__checksum_free(s.fp);
	dd__buf_free(&s.path);
	dd__buf_free(&s.target);
	dd__buf_free(&s.content);
	free(s.buf);
	return rc;
}

int dd__layer_apply(struct dd_image *img, size_t i, struct dd_tree *tree)
{
	return layer_read(img, i, tree, NULL);
}

int dd__layer_read_part(struct dd_image *img, size_t i, struct dd__layer_part *part)
{
	if (dd__tree_new(&part->tree, part->ctx))
		part->rc = dd__error(part->ctx, DD_ENOMEM, "%s: out of memory", img->path);
	else
		part->rc = layer_read(img, i, part->tree, part);
	return part->rc;
}

void dd__layer_part_free(struct dd__layer_part *part)
{
	dd_tree_free(part->tree);
	free(part->ops);
	dd__warnings_free(&part->warnings);
	dd__rd_close(part->rd);
	dd_ctx_free(part->ctx);
	if (part->held)
		atomic_fetch_sub(part->held, part->entries);
	memset(part, 0, sizeof(*part));
}

/* The part's whiteouts, done to T (the layers below only, so in any order). */
static void merge_lower_ops(struct stream *s, struct dd__layer_part *part, struct dd_tree *t)
{
	size_t k;

	for (k = 0; k < part->nops; k++) {
		const struct dd__lower_op *op = &part->ops[k];
		struct dd__node *n = dd__tree_lookup(t, op->path, op->len);

		if (n && (op->kind == DD__HIDE || n->e.type == DD_TYPE_DIR))
			dd__tree_hide_lower(t, n, s->layer, op->kind == DD__HIDE_CHILDREN);
	}
}

/* M's attributes onto N, T's directory at the same path, which keeps its children. */
static void take_attrs(struct dd__node *n, const struct dd__node *m, uint64_t ino_base)
{
	const char *path = n->e.path;
	uint32_t len = n->e.path_len;

	n->e = m->e;
	n->e.path = path;
	n->e.path_len = len;
	n->e.ino += ino_base;
	memcpy(n->fp, m->fp, sizeof(n->fp));
}

/*
 * The part's entries laid over T, parents first, as dd__tree_put() lays an
 * entry of the tar. Directories the part only made to hold others are made
 * again in T by dd__tree_mkparents(), which keeps a directory T has. The
 * part's nodes themselves move into T, its arenas with them, so nothing is
 * copied; a directory over one of T's gives T's node its attributes.
 * Inode numbers move past T's, so hard links stay within the part.
 */
static int merge_entries(struct stream *s, struct dd__layer_part *part, struct dd_tree *t)
{
	struct dd_tree *from = part->tree;
	struct dd__node **order, *m, *n, *parent;
	uint64_t base = t->next_ino;
	size_t k, count = 0;
	int rc = 0;

	/* The order first: a node moved into T leaves the part's tree behind. */
	if (!(order = malloc((from->count + 1) * sizeof(*order))))
		return serr(s, DD_ENOMEM, "out of memory");
	for (m = preorder_next(from->root, from->root); m; m = preorder_next(from->root, m))
		order[count++] = m;
	t->next_ino += from->next_ino;
	if (!(from->root->e.flags & DD_ENTRY_IMPLICIT)) {
		rc = dd__tree_put(t, &n, NULL, "/", 1, DD_TYPE_DIR, s->layer);
		if (rc == 0)
			take_attrs(n, from->root, base);
	}
	for (k = 0; k < count && rc == 0; k++) {
		const char *path;
		uint32_t len;

		m = order[k];
		if (m->e.flags & DD_ENTRY_IMPLICIT)
			continue;
		path = m->e.path;
		len = m->e.path_len;
		if ((rc = make_parents(s, t, &parent, path, len)))
			break;
		n = dd__tree_lookup(t, path, len);
		if (n && n->e.type == DD_TYPE_DIR && m->e.type == DD_TYPE_DIR) {
			take_attrs(n, m, base);
			continue;
		}
		if (n)
			dd__tree_remove(t, n);
		m->e.ino += base;
		rc = dd__tree_attach(t, parent, m);
		if (rc)
			rc = serr(s, rc, "entry '%s': %s", qpath(s, path, len),
				  rc == DD_ELIMIT ? "too many entries (limit max-entries)" : "out of memory");
	}
	free(order);
	/* The moved nodes, their strings and extra fields live on in T's arenas. */
	dd__arena_adopt(&t->arena, &from->arena);
	dd__arena_adopt(&t->strings, &from->strings);
	return rc;
}

int dd__layer_merge(struct dd_image *img, size_t i, struct dd__layer_part *part, struct dd_tree *tree)
{
	struct stream s;
	size_t k;
	int rc;

	stream_init(&s, img, i, img->ctx);
	s.tree = tree;
	for (k = 0; k < part->warnings.len; k++)
		dd__image_warn(img, "%s", (const char *)part->warnings.items[k]);
	merge_lower_ops(&s, part, tree);
	rc = merge_entries(&s, part, tree);
	dd__buf_free(&s.path);
	dd__buf_free(&s.target);
	return rc;
}

/*
 * A flat root filesystem tar, as `docker export` writes it. Names are taken
 * literally: a file the container named ".wh.x" is a file, not a whiteout.
 */
int dd_target_read_tar(struct dd_tree **out, struct dd_ctx *ctx, const char *path,
		       const struct dd_target_options *opts)
{
	struct stream s;
	struct dd_tree *t = NULL;
	struct archive_entry *e;
	struct stat st;
	int fd = -1, r, rc;

	if (!out || !ctx || !path)
		return DD_EINVAL;
	*out = NULL;
	memset(&s, 0, sizeof(s));
	s.ctx = ctx;
	s.src = path;
	s.layer = -1;
	s.head_bytes = opts && opts->head_bytes < 65536 ? opts->head_bytes : opts ? 65536 : 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return dd__error(ctx, errno == ENOENT ? DD_ENOTFOUND : DD_EIO, "%s: %s", path,
				 strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return dd__error(ctx, DD_EFORMAT, "%s: not a regular file", path);
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if (dd__tree_new(&t, ctx) || dd__hasher_new(&s.file_h, DD__ALG_SHA256) ||
	    !(s.inner = archive_read_new())) {
		rc = dd__error(ctx, DD_ENOMEM, "%s: out of memory", path);
		goto out;
	}
	dd__archive_support_filters(s.inner);
	archive_read_support_format_tar(s.inner);
	if (archive_read_open_fd(s.inner, fd, 256 * 1024) != ARCHIVE_OK) {
		rc = dd__error(ctx, DD_EFORMAT, "%s: not a tar archive: %s", path,
			       archive_error_string(s.inner));
		goto out;
	}
	for (;;) {
		r = archive_read_next_header(s.inner, &e);
		if (r == ARCHIVE_EOF)
			break;
		s.tree = t;
		/* ARCHIVE_RETRY: refused, with the entry's own fault when it has one (see above). */
		if (r == ARCHIVE_RETRY && !s.err && archive_entry_pathname(e) &&
		    (rc = apply_entry(&s, t, e)) == 0)
			rc = dd__error(ctx, DD_EFORMAT, "%s: damaged or truncated archive: %s", path,
				       archive_error_string(s.inner));
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			if (r != ARCHIVE_RETRY || !rc)
				rc = dd__error(ctx, DD_EFORMAT, "%s: damaged or truncated archive: %s", path,
					       archive_error_string(s.inner));
			goto out;
		}
		rc = flat_limits(&s);
		if (rc == 0)
			rc = apply_entry(&s, t, e);
		if (rc)
			goto out;
	}
	rc = dd__tree_finalize(t);
	if (rc) {
		rc = dd__error(ctx, rc, "%s: out of memory", path);
		goto out;
	}
	*out = t;
	t = NULL;
out:
	if (s.inner)
		archive_read_free(s.inner);
	if (fd >= 0)
		close(fd);
	dd_tree_free(t);
	dd__hasher_free(s.file_h);
	dd__buf_free(&s.path);
	dd__buf_free(&s.target);
	dd__buf_free(&s.content);
	return rc;
}
