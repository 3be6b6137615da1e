/* The context: last error message and limits. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dd_config.h"
#include "private.h"

static const struct dd_limits default_limits = {
	.version = DD_LIMITS_VERSION,
	.max_entries = 10000000,
	.max_path = 4096,
	.max_json = 64u << 20,
	.max_layer_bytes = (uint64_t)1 << 40,
	.max_ratio = 1000,
	.max_xattr = 64u << 10,
	.max_link_hops = 8,
	.max_index_depth = 8,
	.max_layers = 500,
	.max_json_depth = 64,
	.max_depth = 256,
};

static const struct {
	const char *name;
	size_t offset;
} limit_names[] = {
	{ "max-entries", offsetof(struct dd_limits, max_entries) },
	{ "max-path", offsetof(struct dd_limits, max_path) },
	{ "max-json", offsetof(struct dd_limits, max_json) },
	{ "max-json-depth", offsetof(struct dd_limits, max_json_depth) },
	{ "max-layer-bytes", offsetof(struct dd_limits, max_layer_bytes) },
	{ "max-ratio", offsetof(struct dd_limits, max_ratio) },
	{ "max-xattr", offsetof(struct dd_limits, max_xattr) },
	{ "max-link-hops", offsetof(struct dd_limits, max_link_hops) },
	{ "max-index-depth", offsetof(struct dd_limits, max_index_depth) },
	{ "max-layers", offsetof(struct dd_limits, max_layers) },
	{ "max-depth", offsetof(struct dd_limits, max_depth) },
};

uint64_t *dd_limits_field(struct dd_limits *limits, const char *name)
{
	size_t i;

	for (i = 0; limits && name && i < DD_ARRAY_SIZE(limit_names); i++)
		if (!strcmp(limit_names[i].name, name))
			return (uint64_t *)((char *)limits + limit_names[i].offset);
	return NULL;
}

const char *dd_limits_name(size_t i)
{
	return i < DD_ARRAY_SIZE(limit_names) ? limit_names[i].name : NULL;
}

int dd_ctx_new(struct dd_ctx **out)
{
	struct dd_ctx *ctx;

	if (!out)
		return DD_EINVAL;
	*out = NULL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return DD_ENOMEM;
	ctx->limits = default_limits;
	*out = ctx;
	return 0;
}

void dd_ctx_free(struct dd_ctx *ctx)
{
	if (!ctx)
		return;
	free(ctx->msg);
	free(ctx);
}

const char *dd_ctx_error(const struct dd_ctx *ctx)
{
	return ctx && ctx->msg ? ctx->msg : "";
}

int dd_ctx_error_code(const struct dd_ctx *ctx)
{
	return ctx ? ctx->code : 0;
}

void dd_ctx_clear_error(struct dd_ctx *ctx)
{
	if (!ctx)
		return;
	free(ctx->msg);
	ctx->msg = NULL;
	ctx->code = 0;
}

#define TAKE(f) (limits->f ? limits->f : default_limits.f)
int dd_ctx_set_limits(struct dd_ctx *ctx, const struct dd_limits *limits)
{
	if (!ctx || !limits || limits->version != DD_LIMITS_VERSION)
		return DD_EINVAL;
	ctx->limits.max_entries = TAKE(max_entries);
	ctx->limits.max_path = TAKE(max_path);
	ctx->limits.max_json = TAKE(max_json);
	ctx->limits.max_layer_bytes = TAKE(max_layer_bytes);
	ctx->limits.max_ratio = TAKE(max_ratio);
	ctx->limits.max_xattr = TAKE(max_xattr);
	ctx->limits.max_link_hops = TAKE(max_link_hops);
	ctx->limits.max_index_depth = TAKE(max_index_depth);
	ctx->limits.max_layers = TAKE(max_layers);
	ctx->limits.max_json_depth = TAKE(max_json_depth);
	ctx->limits.max_depth = TAKE(max_depth);
	return 0;
}
#undef TAKE

void dd_ctx_get_limits(const struct dd_ctx *ctx, struct dd_limits *out)
{
	*out = ctx ? ctx->limits : default_limits;
}

const char *dd_version(void)
{
	return DD_VERSION;
}

const char *dd_strerror(int code)
{
	switch (code) {
	case DD_OK: return "success";
	case DD_ENOMEM: return "out of memory";
	case DD_EIO: return "input/output error";
	case DD_EFORMAT: return "malformed input";
	case DD_EVERIFY: return "verification failed";
	case DD_ENOTFOUND: return "not found";
	case DD_EINVAL: return "invalid argument";
	case DD_ELIMIT: return "safety limit exceeded";
	case DD_EAMBIGUOUS: return "ambiguous";
	case DD_EUNSUPPORTED: return "unsupported";
	default: return "unknown error";
	}
}

static char *vformat(const char *fmt, va_list ap)
{
	va_list aq;
	int n;
	char *s;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return NULL;
	s = malloc((size_t)n + 1);
	if (s)
		vsnprintf(s, (size_t)n + 1, fmt, ap);
	return s;
}

int dd__error(struct dd_ctx *ctx, int code, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (!ctx)
		return code;
	va_start(ap, fmt);
	msg = vformat(fmt, ap);
	va_end(ap);
	free(ctx->msg);
	ctx->msg = msg; /* NULL on ENOMEM: the code still tells what happened */
	ctx->code = code;
	return code;
}

void dd__error_prefix(struct dd_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	char *prefix, *msg;
	size_t n;

	if (!ctx)
		return;
	va_start(ap, fmt);
	prefix = vformat(fmt, ap);
	va_end(ap);
	if (!prefix)
		return;
	n = strlen(prefix) + 2 + (ctx->msg ? strlen(ctx->msg) : 0) + 1;
	msg = malloc(n);
	if (msg) {
		snprintf(msg, n, "%s: %s", prefix, ctx->msg ? ctx->msg : dd_strerror(ctx->code));
		free(ctx->msg);
		ctx->msg = msg;
	}
	free(prefix);
}

void dd_ctx_set_progress(struct dd_ctx *ctx, dd_progress_fn fn, void *user)
{
	if (!ctx)
		return;
	ctx->progress = fn;
	ctx->progress_user = user;
}
