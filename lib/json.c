/* Strict JSON parsing helpers. */
#include <math.h>
#include <string.h>

#include "json.h"


/*
 * json-c's strict mode still takes NaN, Infinity, single-quoted strings
 * and comments. A pass over the text outside strings admits only what
 * RFC 8259 allows there: structure, numbers, true, false and null.
 */
static bool rfc8259_tokens(const char *p, size_t len, uint64_t *keys, bool *nul)
{
	size_t i = 0;

	*keys = 0;
	*nul = false;
	while (i < len) {
		char c = p[i];

		if (c == '"') {
			for (i++; i < len && p[i] != '"'; i++) {
				if (p[i] != '\\')
					continue;
				/* A \u0000 would cut the string short for every C reader. */
				if (len - i >= 6 && p[i + 1] == 'u' && !memcmp(p + i + 2, "0000", 4))
					*nul = true;
				i++;
			}
			if (i >= len)
				return false;
			i++;
		} else if (c == ':') {
			(*keys)++; /* outside strings, one per object member */
			i++;
		} else if (strchr(" \t\r\n{}[],-+.0123456789eE", c) && c) {
			i++;
		} else if (len - i >= 4 && (!memcmp(p + i, "true", 4) || !memcmp(p + i, "null", 4))) {
			i += 4;
		} else if (len - i >= 5 && !memcmp(p + i, "false", 5)) {
			i += 5;
		} else {
			return false;
		}
	}
	return true;
}

/* Members in the parsed tree: fewer than the text's means a key was given twice. */
static uint64_t count_keys(struct json_object *o, int depth)
{
	uint64_t n = 0;
	size_t i, len;

	if (depth > 4096)
		return 0;
	if (json_object_is_type(o, json_type_array)) {
		len = json_object_array_length(o);
		for (i = 0; i < len; i++)
			n += count_keys(json_object_array_get_idx(o, i), depth + 1);
	} else if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, key, val) {
			(void)key;
			n += 1 + count_keys(val, depth + 1);
		}
	}
	return n;
}

/* Numbers too large for a double become infinities: refuse them too. */
static bool finite_numbers(struct json_object *o, int depth)
{
	size_t i, n;

	if (depth > 4096)
		return false; /* json-c already bounded the nesting (max-json-depth) */
	switch (json_object_get_type(o)) {
	case json_type_double:
		return isfinite(json_object_get_double(o));
	case json_type_array:
		n = json_object_array_length(o);
		for (i = 0; i < n; i++)
			if (!finite_numbers(json_object_array_get_idx(o, i), depth + 1))
				return false;
		return true;
	case json_type_object: {
		json_object_object_foreach(o, key, val) {
			(void)key;
			if (!finite_numbers(val, depth + 1))
				return false;
		}
		return true;
	}
	default:
		return true;
	}
}

int dd__json_parse(struct dd_ctx *ctx, const char *what, const char *data, size_t len,
		   struct json_object **out)
{
	struct json_tokener *tok;
	struct json_object *obj;
	uint64_t keys;
	bool nul;
	enum json_tokener_error jerr;
	size_t off;

	*out = NULL;
	if (len > ctx->limits.max_json || len > INT32_MAX)
		return dd__error(ctx, DD_ELIMIT, "%s: JSON document of %zu bytes is over the limit (limit max-json)",
				 what, len);
	tok = json_tokener_new_ex(ctx->limits.max_json_depth > 4096 ? 4096 : (int)ctx->limits.max_json_depth);
	if (!tok)
		return dd__error(ctx, DD_ENOMEM, "%s: out of memory", what);
	if (!rfc8259_tokens(data, len, &keys, &nul)) {
		json_tokener_free(tok);
		return dd__error(ctx, DD_EFORMAT, "%s: malformed JSON: not RFC 8259 (NaN, Infinity, quotes or comments)",
				 what);
	}
	if (nul) {
		json_tokener_free(tok);
		return dd__error(ctx, DD_EFORMAT, "%s: malformed JSON: a NUL (\\u0000) inside a string", what);
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, data, (int)len);
	jerr = json_tokener_get_error(tok);
	off = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!obj || jerr != json_tokener_success) {
		json_object_put(obj);
		return dd__error(ctx, jerr == json_tokener_error_depth ? DD_ELIMIT : DD_EFORMAT,
				 "%s: malformed JSON: %s%s", what,
				 jerr == json_tokener_continue ? "truncated document" :
				 json_tokener_error_desc(jerr),
				 jerr == json_tokener_error_depth ? " (limit max-json-depth)" : "");
	}
	while (off < len && strchr(" \t\r\n", data[off]) && data[off])
		off++;
	if (off != len) {
		json_object_put(obj);
		return dd__error(ctx, DD_EFORMAT, "%s: malformed JSON: trailing data after the document",
				 what);
	}
	/*
	 * json-c keeps the last of two equal keys; another parser may keep the
	 * first. Two readers must never see two different documents.
	 */
	if (count_keys(obj, 0) != keys) {
		json_object_put(obj);
		return dd__error(ctx, DD_EFORMAT, "%s: malformed JSON: a duplicate key (given twice in one object)", what);
	}
	if (!finite_numbers(obj, 0)) {
		json_object_put(obj);
		return dd__error(ctx, DD_EFORMAT, "%s: malformed JSON: a number out of range", what);
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
