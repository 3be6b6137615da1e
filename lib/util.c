/* Small building blocks: arena, buffers, vectors. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <archive.h>

#include "private.h"

struct dd__arena_chunk {
	struct dd__arena_chunk *next;
	size_t cap;
	_Alignas(16) unsigned char data[];
};

#define ARENA_CHUNK (256u << 10)

void dd__arena_init(struct dd__arena *a)
{
	memset(a, 0, sizeof(*a));
}

void dd__arena_free(struct dd__arena *a)
{
	struct dd__arena_chunk *c, *next;

	for (c = a->head; c; c = next) {
		next = c->next;
		free(c);
	}
	memset(a, 0, sizeof(*a));
}

/* N bytes from A's head chunk (or a new one), no alignment added. */
static void *arena_take(struct dd__arena *a, size_t n)
{
	struct dd__arena_chunk *c;
	size_t cap;
	void *p;

	if (!a->head || a->cap - a->used < n) {
		/* An oversized request gets a chunk of its own behind the head. */
		cap = n > ARENA_CHUNK / 4 ? n : ARENA_CHUNK;
		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->cap = cap;
		a->total += cap;
		if (cap != ARENA_CHUNK && a->head) {
			c->next = a->head->next;
			a->head->next = c;
			return c->data;
		}
		c->next = a->head;
		a->head = c;
		a->used = 0;
		a->cap = cap;
	}
	p = a->head->data + a->used;
	a->used += n;
	return p;
}

void dd__arena_adopt(struct dd__arena *dst, struct dd__arena *src)
{
	struct dd__arena_chunk *last;

	if (!src->head)
		return;
	if (!dst->head) {
		*dst = *src;
	} else {
		/* Behind DST's head, which keeps serving new allocations. */
		for (last = src->head; last->next; last = last->next)
			;
		last->next = dst->head->next;
		dst->head->next = src->head;
		dst->total += src->total;
	}
	memset(src, 0, sizeof(*src));
}

void *dd__arena_alloc(struct dd__arena *a, size_t n)
{
	n = (n + 7) & ~(size_t)7; /* 8: every member of our structs; strings waste less */
	if (n == 0)
		n = 16;
	/* Chunks start aligned; a packed string before may have left the head unaligned. */
	if (a->head && (a->used & 7)) {
		size_t up = (a->used + 7) & ~(size_t)7;

		a->used = up > a->cap ? a->cap : up;
	}
	return arena_take(a, n);
}

/* The N bytes at S, NUL-terminated, into P (N + 1 bytes, or NULL: then NULL). */
static char *copy_string(char *p, const char *s, size_t n)
{
	if (!p)
		return NULL;
	if (n)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *dd__arena_string(struct dd__arena *a, const char *s, size_t n)
{
	return copy_string(arena_take(a, n + 1), s, n);
}

char *dd__arena_strndup(struct dd__arena *a, const char *s, size_t n)
{
	return copy_string(dd__arena_alloc(a, n + 1), s, n);
}

int dd__buf_grow(struct dd__buf *b, size_t extra)
{
	size_t want, cap;
	char *p;

	if (extra > SIZE_MAX - b->len - 1)
		return DD_ENOMEM;
	want = b->len + extra + 1;
	if (want <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < want)
		cap = cap > SIZE_MAX / 2 ? want : cap * 2;
	p = realloc(b->data, cap);
	if (!p)
		return DD_ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int dd__buf_put(struct dd__buf *b, const void *p, size_t n)
{
	if (dd__buf_grow(b, n))
		return DD_ENOMEM;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int dd__buf_puts(struct dd__buf *b, const char *s)
{
	return dd__buf_put(b, s, strlen(s));
}

int dd__buf_vprintf(struct dd__buf *b, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0 || dd__buf_grow(b, (size_t)n))
		return DD_ENOMEM;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int dd__buf_printf(struct dd__buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = dd__buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void dd__warnings_push(struct dd__ptrvec *w, const char *fmt, va_list ap)
{
	struct dd__buf b = DD__BUF_INIT;

	/* A hostile input could raise millions; the first thousand tell the story. */
	if (w->len >= 1000 || dd__buf_vprintf(&b, fmt, ap) || dd__ptrvec_push(w, b.data))
		dd__buf_free(&b);
}

void dd__warnings_free(struct dd__ptrvec *w)
{
	size_t i;

	for (i = 0; i < w->len; i++)
		free(w->items[i]);
	dd__ptrvec_free(w);
}

void dd__archive_support_filters(struct archive *a)
{
	/* The compressions container layers use; never an external program. */
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_bzip2(a);
}

void dd__buf_free(struct dd__buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *dd__buf_detach(struct dd__buf *b)
{
	char *s;

	if (!b->data && dd__buf_grow(b, 0))
		return NULL;
	s = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}

int dd__ptrvec_push(struct dd__ptrvec *v, void *p)
{
	if (dd__grow(&v->items, &v->cap, v->len, sizeof(*v->items)))
		return DD_ENOMEM;
	v->items[v->len++] = p;
	return 0;
}

void dd__ptrvec_free(struct dd__ptrvec *v)
{
	free(v->items);
	v->items = NULL;
	v->len = v->cap = 0;
}

/* The whole of PATH, a regular file (never a FIFO or device) of at most MAX bytes. */
int dd__read_regular(struct dd_ctx *ctx, const char *path, uint64_t max, struct dd__buf *out)
{
	struct stat st;
	ssize_t r;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return dd__error(ctx, errno == ENOENT ? DD_ENOTFOUND : DD_EIO, "%s: %s", path,
				 strerror(errno));
	/* Checked before any read: a FIFO or device must not hang us. */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = dd__error(ctx, DD_EFORMAT, "%s: not a regular file", path);
		goto out;
	}
	for (;;) {
		if (dd__buf_grow(out, 65536)) {
			rc = dd__error(ctx, DD_ENOMEM, "%s: out of memory", path);
			goto out;
		}
		r = read(fd, out->data + out->len, out->cap - out->len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = dd__error(ctx, DD_EIO, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		out->len += (size_t)r;
		if (out->len > max) {
			rc = dd__error(ctx, DD_ELIMIT, "%s: larger than the limit of %llu bytes (limit max-json)",
				       path, (unsigned long long)max);
			goto out;
		}
	}
	out->data[out->len] = '\0';
out:
	close(fd);
	return rc;
}

int dd__put_word(struct dd__buf *b, const char *s)
{
	size_t k, len = strlen(s), cut = len > 200 ? 200 : len;
	bool plain = len > 0 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					  "0123456789_@%+=:,./-") == len;
	int rc = 0;

	if (!plain)
		rc = dd__buf_puts(b, "'");
	for (k = 0; k < cut && rc == 0; k++)
		rc = s[k] == '\'' ? dd__buf_puts(b, "'\\''") : dd__buf_put(b, s + k, 1);
	if (!rc && cut < len)
		rc = dd__buf_puts(b, "...");
	if (!rc && !plain)
		rc = dd__buf_puts(b, "'");
	return rc;
}

int dd__grow(void *items, size_t *cap, size_t n, size_t size)
{
	void **pp = items;
	size_t c = *cap ? *cap * 2 : 16;
	void *p;

	if (n < *cap)
		return 0;
	if (c > SIZE_MAX / size)
		return DD_ENOMEM;
	p = realloc(*pp, c * size);
	if (!p)
		return DD_ENOMEM;
	*pp = p;
	*cap = c;
	return 0;
}
