/*
 * Unit tests for lib/json.c: strict parsing of documents an attacker
 * wrote, and the typed accessors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/json.h"

static int setup(void **state)
{
	struct dd_ctx *ctx;

	if (dd_ctx_new(&ctx))
		return -1;
	*state = ctx;
	return 0;
}

static int teardown(void **state)
{
	dd_ctx_free(*state);
	return 0;
}

/* ---- helpers ---- */

static int parse_len(struct dd_ctx *ctx, const char *s, size_t len)
{
	struct json_object *o = (struct json_object *)1;
	int rc = dd__json_parse(ctx, "doc.json", s, len, &o);

	if (rc)
		assert_null(o);
	json_object_put(o);
	return rc;
}

static int parse(struct dd_ctx *ctx, const char *s)
{
	return parse_len(ctx, s, strlen(s));
}

/* "[[[...]]]" or "{"a":{"a":...}}" nested DEPTH levels (malloc'd). */
static char *nested(int depth, bool objects)
{
	char *s = malloc((size_t)depth * 6 + 8), *p = s;
	int i;

	assert_non_null(s);
	for (i = 0; i < depth; i++)
		p += objects ? (memcpy(p, "{\"a\":", 5), 5) : (*p = '[', 1);
	*p++ = '1';
	for (i = 0; i < depth; i++)
		*p++ = objects ? '}' : ']';
	*p = '\0';
	return s;
}

static struct json_object *doc(const char *s)
{
	struct json_object *o = json_tokener_parse(s);

	assert_non_null(o);
	return o;
}

/* ---- dd__json_parse ---- */

/* One value, optionally surrounded by white space, is accepted. */
static void test_parse_ok(void **state)
{
	struct dd_ctx *ctx = *state;

	assert_int_equal(parse(ctx, "{\"a\":1}"), 0);
	assert_int_equal(parse(ctx, "  {\"a\":[1,2,\"x\"]} \r\n\t"), 0);
	assert_int_equal(parse(ctx, "[]"), 0);
	assert_int_equal(parse(ctx, "\"s\""), 0);
	assert_int_equal(dd_ctx_error_code(ctx), 0);
}

/* Exactly one value: anything but white space after it is refused. */
static void test_trailing_garbage(void **state)
{
	struct dd_ctx *ctx = *state;

	assert_int_equal(parse(ctx, "{}x"), DD_EFORMAT);
	assert_non_null(strstr(dd_ctx_error(ctx), "doc.json"));
	assert_non_null(strstr(dd_ctx_error(ctx), "malformed JSON"));
	assert_int_equal(parse(ctx, "{} {}"), DD_EFORMAT);
	assert_int_equal(parse(ctx, "[1]]"), DD_EFORMAT);
	assert_int_equal(parse(ctx, "{}\n,"), DD_EFORMAT);
	/* A NUL after the document (counted in LEN) is not white space. */
	assert_int_equal(parse_len(ctx, "{}\0", 3), DD_EFORMAT);
	assert_int_equal(parse_len(ctx, "{} \0 ", 5), DD_EFORMAT);
}

/* A document cut short is an error, not a partial object. */
static void test_truncated(void **state)
{
	struct dd_ctx *ctx = *state;

	assert_int_equal(parse(ctx, "{\"a\":"), DD_EFORMAT);
	assert_int_equal(dd_ctx_error_code(ctx), DD_EFORMAT);
	assert_non_null(strstr(dd_ctx_error(ctx), "doc.json"));
	assert_int_equal(parse(ctx, "{\"a\":[1,2"), DD_EFORMAT);
	assert_int_equal(parse(ctx, "\"abc"), DD_EFORMAT);
	assert_int_equal(parse(ctx, "tru"), DD_EFORMAT);
	assert_int_equal(parse(ctx, ""), DD_EFORMAT);
	assert_int_equal(parse(ctx, "   "), DD_EFORMAT);
	/* LEN bounds the input even if more follows in memory. */
	assert_int_equal(parse_len(ctx, "{\"a\":1}", 6), DD_EFORMAT);
}

/*
 * NaN and Infinity are not JSON (RFC 8259 section 6), and json.h promises
 * they are refused.
 *
 * LIBRARY BUG (lib/json.c:20-23): JSON_TOKENER_STRICT in json-c 0.16 still
 * accepts the literals NaN, Infinity and -Infinity inside a document, so
 * "[NaN]" parses. The lowercase and top-level forms are refused already.
 */
static void test_nan_infinity(void **state)
{
	struct dd_ctx *ctx = *state;

	assert_int_equal(parse(ctx, "{\"size\":nan}"), DD_EFORMAT);
	assert_int_equal(parse(ctx, "[-nan]"), DD_EFORMAT);
	assert_int_equal(parse(ctx, "NaN"), DD_EFORMAT);
	assert_int_equal(parse(ctx, "[NaN]"), DD_EFORMAT);          /* fails: the bug */
	assert_int_equal(parse(ctx, "{\"size\":NaN}"), DD_EFORMAT);  /* fails: the bug */
	assert_int_equal(parse(ctx, "[Infinity]"), DD_EFORMAT);     /* fails: the bug */
	assert_int_equal(parse(ctx, "[-Infinity]"), DD_EFORMAT);    /* fails: the bug */
}

/* Strict mode: no comments, unquoted names or trailing commas. */
static void test_strict_syntax(void **state)
{
	struct dd_ctx *ctx = *state;

	assert_int_equal(parse(ctx, "[1,]"), DD_EFORMAT);
	assert_int_equal(parse(ctx, "/* c */ {}"), DD_EFORMAT);
	assert_int_equal(parse(ctx, "{\"a\":1} // c"), DD_EFORMAT);
	assert_int_equal(parse(ctx, "{a:1}"), DD_EFORMAT);
}

/*
 * JSON strings are double-quoted (RFC 8259 section 7).
 *
 * LIBRARY BUG (lib/json.c:20-23): json-c 0.16's strict mode accepts
 * single-quoted strings, so "{'a':1}" parses as {"a":1}.
 */
static void test_single_quotes(void **state)
{
	struct dd_ctx *ctx = *state;

	assert_int_equal(parse(ctx, "{'a':1}"), DD_EFORMAT);
	assert_int_equal(parse(ctx, "[\"ok\",'no']"), DD_EFORMAT);
}

/* Nesting deeper than max-json-depth (64) is refused by that limit (a stack-exhaustion guard). */
static void test_deep_nesting(void **state)
{
	struct dd_ctx *ctx = *state;
	struct dd_limits lim = DD_LIMITS_INIT;
	char *s;

	s = nested(100, false);
	assert_int_equal(parse(ctx, s), DD_ELIMIT);
	assert_non_null(strstr(dd_ctx_error(ctx), "max-json-depth"));
	/* Raised, the same document parses. */
	lim.max_json_depth = 200;
	assert_int_equal(dd_ctx_set_limits(ctx, &lim), 0);
	assert_int_equal(parse(ctx, s), 0);
	lim.max_json_depth = 64;
	assert_int_equal(dd_ctx_set_limits(ctx, &lim), 0);
	free(s);
	s = nested(100, true);
	assert_int_equal(parse(ctx, s), DD_ELIMIT);
	free(s);
	s = nested(10000, false);
	assert_int_equal(parse(ctx, s), DD_ELIMIT);
	free(s);
	/* Ordinary depths pass. */
	s = nested(20, true);
	assert_int_equal(parse(ctx, s), 0);
	free(s);
}

/* A document over max_json is refused before it is parsed. */
static void test_size_limit(void **state)
{
	struct dd_ctx *ctx = *state;
	struct dd_limits lim = DD_LIMITS_INIT;

	lim.max_json = 8;
	assert_int_equal(dd_ctx_set_limits(ctx, &lim), 0);
	assert_int_equal(parse(ctx, "[1,2,3]"), 0);
	assert_int_equal(parse(ctx, "[1,2,3,4]"), DD_ELIMIT);
	assert_non_null(strstr(dd_ctx_error(ctx), "doc.json"));
}

/* ---- accessors ---- */

/* dd__json_str refuses a string with \u0000: the C string would be cut short. */
static void test_str(void **state)
{
	struct json_object *o = doc("{\"a\":\"xy\",\"nul\":\"x\\u0000y\",\"n\":1,\"e\":\"\","
				    "\"lead\":\"\\u0000\"}");

	(void)state;
	assert_string_equal(dd__json_str(o, "a"), "xy");
	assert_string_equal(dd__json_str(o, "e"), "");
	assert_null(dd__json_str(o, "nul"));
	assert_null(dd__json_str(o, "lead"));
	assert_null(dd__json_str(o, "n"));
	assert_null(dd__json_str(o, "missing"));
	assert_null(dd__json_str(NULL, "a"));
	json_object_put(o);
	o = doc("[\"a\"]");
	assert_null(dd__json_str(o, "a"));
	json_object_put(o);
}

/* Integers: only in-range integers count; floats, strings and clamped values do not. */
static void test_int64(void **state)
{
	struct json_object *o = doc("{\"i\":42,\"neg\":-7,\"f\":1.5,\"s\":\"3\","
				    "\"big\":99999999999999999999,\"max\":9223372036854775806}");
	int64_t v = 0;

	(void)state;
	assert_true(dd__json_int64(o, "i", &v));
	assert_int_equal(v, 42);
	assert_true(dd__json_int64(o, "neg", &v));
	assert_int_equal(v, -7);
	assert_true(dd__json_int64(o, "max", &v));
	assert_true(v == INT64_MAX - 1);
	assert_false(dd__json_int64(o, "f", &v));
	assert_false(dd__json_int64(o, "s", &v));
	assert_false(dd__json_int64(o, "big", &v));
	assert_false(dd__json_int64(o, "missing", &v));
	json_object_put(o);
}

static void test_typed(void **state)
{
	struct json_object *o = doc("{\"o\":{},\"a\":[],\"n\":null}");

	(void)state;
	assert_non_null(dd__json_obj(o, "o"));
	assert_null(dd__json_obj(o, "a"));
	assert_non_null(dd__json_arr(o, "a"));
	assert_null(dd__json_arr(o, "o"));
	assert_true(dd__json_has(o, "n"));
	assert_false(dd__json_has(o, "x"));
	assert_false(dd__json_has(NULL, "n"));
	json_object_put(o);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_parse_ok),
		T(test_trailing_garbage),
		T(test_truncated),
		T(test_nan_infinity),
		T(test_strict_syntax),
		T(test_single_quotes),
		T(test_deep_nesting),
		T(test_size_limit),
		T(test_str),
		T(test_int64),
		T(test_typed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
