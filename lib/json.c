/* Strict JSON parsing helpers. */
#include <string.h>

#include "json.h"

#define JSON_DEPTH 64

int dd__json_parse(struct dd_ctx *ctx, const char *what, const char *data, size_t len,
		   struct json_object **out)
{
	struct json_tokener *tok;
	struct json_object *obj;
	enum json_tokener_error jerr;
	size_t off;

	*out = NULL;
	if (len > ctx->limits.max_json || len > INT32_MAX)
		return dd__error(ctx, DD_ELIMIT, "%s: JSON document of %zu bytes is over the limit",
				 what, len);
	tok = json_tokener_new_ex(JSON_DEPTH);
	if (!tok)
		return dd__error(ctx, DD_ENOMEM, "%s: out of memory", what);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, data, (int)len);
	jerr = json_tokener_get_error(tok);
	off = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!obj || jerr != json_tokener_success) {
		json_object_put(obj);
		return dd__error(ctx, DD_EFORMAT, "%s: malformed JSON: %s", what,
				 jerr == json_tokener_continue ? "truncated document" :
				 json_tokener_error_desc(jerr));
	}
	while (off < len && strchr(" \t\r\n", data[off]) && data[off])
		off++;
	if (off != len) {
		json_object_put(obj);
		return dd__error(ctx, DD_EFORMAT, "%s: malformed JSON: trailing data after the document",
				 what);
	}
	*out = obj;
	return 0;
}

const char *dd__json_str(struct json_object *obj, const char *key)
{
	struct json_object *v;
	const char *s;

	if (!obj || !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) != strlen(s))
		return NULL; /* an embedded \u0000 would truncate what we check */
	return s;
}

static struct json_object *typed(struct json_object *obj, const char *key, enum json_type t)
{
	struct json_object *v;

	if (!obj || !json_object_is_type(obj, json_type_object) ||
	    !json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, t))
		return NULL;
	return v;
}

struct json_object *dd__json_obj(struct json_object *obj, const char *key)
{
	return typed(obj, key, json_type_object);
}

struct json_object *dd__json_arr(struct json_object *obj, const char *key)
{
	return typed(obj, key, json_type_array);
}

bool dd__json_int64(struct json_object *obj, const char *key, int64_t *out)
{
	struct json_object *v = typed(obj, key, json_type_int);

	if (!v)
		return false;
	*out = json_object_get_int64(v);
	/* json-c clamps out-of-range numbers to INT64_MIN/MAX. */
	return !(*out == INT64_MAX || *out == INT64_MIN);
}

bool dd__json_has(struct json_object *obj, const char *key)
{
	return obj && json_object_is_type(obj, json_type_object) &&
	       json_object_object_get_ex(obj, key, NULL);
}
