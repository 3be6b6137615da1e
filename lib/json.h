/* Strict JSON reading on top of json-c, for documents an attacker wrote. */
#ifndef DD_JSON_H
#define DD_JSON_H

#include <json-c/json.h>

#include "private.h"

/*
 * Parse exactly one JSON value from DATA: trailing bytes other than white
 * space, NaN/Infinity and nesting deeper than 64 are refused. WHAT names
 * the document in the error.
 */
int dd__json_parse(struct dd_ctx *ctx, const char *what, const char *data, size_t len,
		   struct json_object **out);

/* The string at KEY, or NULL if absent, not a string, or holding a NUL byte. */
const char *dd__json_str(struct json_object *obj, const char *key);
/* The object/array at KEY, or NULL when absent or of another type. */
struct json_object *dd__json_obj(struct json_object *obj, const char *key);
struct json_object *dd__json_arr(struct json_object *obj, const char *key);
/* An integer at KEY: false when absent, not an integer, or out of range. */
bool dd__json_int64(struct json_object *obj, const char *key, int64_t *out);
/* The object's member NAME exists with any value. */
bool dd__json_has(struct json_object *obj, const char *key);

#endif
