/*
 * Approved digest lists for `driftdiff verify`: every entry is validated
 * as an OCI digest when it is added, so a typo in an approval file fails
 * loudly instead of silently approving nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "private.h"

struct dd_digest_list {
	struct dd_ctx *ctx;
	struct dd__digest *v;
	size_t n, cap;
};

int dd_digest_list_new(struct dd_digest_list **out, struct dd_ctx *ctx)
{
	if (!out || !ctx)
		return DD_EINVAL;
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return dd__error(ctx, DD_ENOMEM, "out of memory");
	(*out)->ctx = ctx;
	return 0;
}

void dd_digest_list_free(struct dd_digest_list *list)
{
	if (!list)
		return;
	free(list->v);
	free(list);
}

/* Add the LEN bytes at S; errors start with SOURCE, or with the text itself. */
static int add_n(struct dd_digest_list *list, const char *s, size_t len, const char *source)
{
	struct dd__buf q = DD__BUF_INIT;
	struct dd__digest d;
	int rc;

	rc = dd__digest_parse(&d, s, len);
	if (rc) {
		/* Quoted and cut short: the line came from a file anyone could write. */
		if (dd__quote(&q, s, len > 140 ? 140 : len) || (len > 140 && dd__buf_puts(&q, "...")))
			rc = dd__error(list->ctx, DD_ENOMEM, "out of memory");
		else if (source)
			rc = dd__error(list->ctx, rc, "%s: %s digest '%s'", source,
				       rc == DD_EUNSUPPORTED ? "unsupported" : "malformed",
				       q.data ? q.data : "");
		else
			rc = dd__error(list->ctx, rc, "'%s': %s digest (expected sha256:<64 hex digits>)",
				       q.data ? q.data : "",
				       rc == DD_EUNSUPPORTED ? "unsupported" : "malformed");
		dd__buf_free(&q);
		return rc;
	}
	if (list->n == list->cap) {
		size_t cap = list->cap ? 2 * list->cap : 16;
		struct dd__digest *v = realloc(list->v, cap * sizeof(*v));

		if (!v)
			return dd__error(list->ctx, DD_ENOMEM, "out of memory");
		list->v = v;
		list->cap = cap;
	}
	list->v[list->n++] = d;
	return 0;
}

int dd_digest_list_add(struct dd_digest_list *list, const char *digest, const char *source)
{
	if (!list || !digest)
		return DD_EINVAL;
	return add_n(list, digest, strlen(digest), source);
}


static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

int dd_digest_list_load(struct dd_digest_list *list, const char *path)
{
	struct dd__buf data = DD__BUF_INIT, where = DD__BUF_INIT;
	size_t off = 0, lineno = 0, before;
	int rc;

	if (!list || !path)
		return DD_EINVAL;
	before = list->n;
	rc = dd__read_regular(list->ctx, path, list->ctx->limits.max_json, &data);
	while (rc == 0 && off < data.len) {
		const char *line = data.data + off, *nl = memchr(line, '\n', data.len - off);
		size_t len = nl ? (size_t)(nl - line) : data.len - off;
		const char *hash = memchr(line, '#', len);
		size_t b = 0, e = hash ? (size_t)(hash - line) : len;

		off += len + 1;
		lineno++;
		while (b < e && blank(line[b]))
			b++;
		while (e > b && blank(line[e - 1]))
			e--;
		if (b == e)
			continue;
		where.len = 0;
		if (dd__buf_printf(&where, "%s:%zu", path, lineno))
			rc = dd__error(list->ctx, DD_ENOMEM, "out of memory");
		else
			rc = add_n(list, line + b, e - b, where.data);
	}
	if (rc == 0 && list->n == before)
		rc = dd__error(list->ctx, DD_EFORMAT, "%s: no digests (one sha256:... per line)", path);
	if (rc)
		list->n = before; /* all of the file or none of it */
	dd__buf_free(&data);
	dd__buf_free(&where);
	return rc;
}

size_t dd_digest_list_count(const struct dd_digest_list *list)
{
	return list ? list->n : 0;
}

bool dd_digest_list_contains(const struct dd_digest_list *list, const char *digest)
{
	struct dd__digest d;
	size_t i;

	if (!list || !digest || dd__digest_parse(&d, digest, strlen(digest)) != 0)
		return false;
	for (i = 0; i < list->n; i++)
		if (dd__digest_equal(&list->v[i], &d))
			return true;
	return false;
}
