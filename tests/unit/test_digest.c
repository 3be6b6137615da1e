/*
 * Unit tests for lib/digest.c: strict parsing of OCI digests (image-spec
 * descriptor.md "Digests") and the streaming hashers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/digest.h"

#define HEX_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define HEX_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define HEX512_ABC "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a" \
		   "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"

/* ---- helpers ---- */

static int parse(const char *s)
{
	struct dd__digest d;

	return dd__digest_parse(&d, s, strlen(s));
}

static int parse_len(const char *s, size_t len)
{
	struct dd__digest d;

	return dd__digest_parse(&d, s, len);
}

/* Hash LEN bytes of P in chunks of STEP and return the canonical string. */
static void hash_str(enum dd__alg alg, const char *p, size_t len, size_t step, char *out,
		     size_t outlen)
{
	struct dd__hasher *h = NULL;
	struct dd__digest d;
	size_t i;

	assert_int_equal(dd__hasher_new(&h, alg), 0);
	for (i = 0; i < len; i += step)
		assert_int_equal(dd__hasher_update(h, p + i, len - i < step ? len - i : step), 0);
	assert_int_equal(dd__hasher_final(h, &d), 0);
	assert_true(strlen(d.str) < outlen);
	strcpy(out, d.str);
	dd__hasher_free(h);
}

/* ---- parsing ---- */

/* A lowercase sha256 of exactly 64 hex digits is accepted and decoded. */
static void test_parse_sha256(void **state)
{
	struct dd__digest d;
	const char *s = "sha256:" HEX_ABC;

	(void)state;
	assert_int_equal(dd__digest_parse(&d, s, strlen(s)), 0);
	assert_int_equal(d.alg, DD__ALG_SHA256);
	assert_int_equal(d.len, 32);
	assert_string_equal(d.str, s);
	assert_int_equal(d.bin[0], 0xba);
	assert_int_equal(d.bin[31], 0xad);
}

/* sha512 takes exactly 128 hex digits. */
static void test_parse_sha512(void **state)
{
	struct dd__digest d;
	const char *s = "sha512:" HEX512_ABC;

	(void)state;
	assert_int_equal(dd__digest_parse(&d, s, strlen(s)), 0);
	assert_int_equal(d.alg, DD__ALG_SHA512);
	assert_int_equal(d.len, 64);
	assert_string_equal(d.str, s);
	assert_int_equal(d.bin[63], 0x9f);
	/* A sha256-length value under the sha512 name is malformed. */
	assert_int_equal(parse("sha512:" HEX_ABC), DD_EFORMAT);
}

/* image-spec: sha256 and sha512 encodings MUST be lowercase hex. */
static void test_parse_rejects_uppercase(void **state)
{
	(void)state;
	assert_int_equal(parse("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"),
			 DD_EFORMAT);
	assert_int_equal(parse("sha256:Ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
			 DD_EFORMAT);
	/* The algorithm is lowercase too. */
	assert_int_equal(parse("SHA256:" HEX_ABC), DD_EFORMAT);
}

/* The encoded part must have exactly the algorithm's length. */
static void test_parse_rejects_wrong_length(void **state)
{
	(void)state;
	assert_int_equal(parse("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a"),
			 DD_EFORMAT);
	assert_int_equal(parse("sha256:" HEX_ABC "0"), DD_EFORMAT);
	assert_int_equal(parse("sha256:" HEX_ABC HEX_ABC), DD_EFORMAT);
	assert_int_equal(parse("sha256:ab"), DD_EFORMAT);
}

/* A digest becomes a file name: anything path-like is refused before that. */
static void test_parse_rejects_traversal(void **state)
{
	(void)state;
	assert_int_equal(parse("sha256:../../etc/passwd"), DD_EFORMAT);
	assert_int_equal(parse("sha256:/etc/passwd"), DD_EFORMAT);
	assert_int_equal(parse("../sha256:" HEX_ABC), DD_EFORMAT);
	/* Even under an unknown algorithm, '/' and '.' are not in the encoded alphabet. */
	assert_int_equal(parse("md5:../../etc/passwd"), DD_EFORMAT);
	assert_int_equal(parse("foo:a/b"), DD_EFORMAT);
}

/* The colon and both parts are required. */
static void test_parse_rejects_missing_parts(void **state)
{
	(void)state;
	assert_int_equal(parse("sha256" HEX_ABC), DD_EFORMAT);
	assert_int_equal(parse(HEX_ABC), DD_EFORMAT);
	assert_int_equal(parse(":" HEX_ABC), DD_EFORMAT);
	assert_int_equal(parse("sha256:"), DD_EFORMAT);
	assert_int_equal(parse("foo:"), DD_EFORMAT);
	assert_int_equal(parse(":"), DD_EFORMAT);
	assert_int_equal(parse(""), DD_EFORMAT);
	assert_int_equal(parse("sha256:" HEX_ABC ":x"), DD_EFORMAT);
}

/* A NUL counted in LEN (a string from JSON with \u0000) is not ignored. */
static void test_parse_rejects_nul(void **state)
{
	const char *s = "sha256:" HEX_ABC;
	char buf[80];

	(void)state;
	assert_int_equal(parse_len(s, strlen(s) + 1), DD_EFORMAT);
	/* A NUL in place of the last digit, with the right length. */
	strcpy(buf, s);
	buf[strlen(s) - 1] = '\0';
	assert_int_equal(parse_len(buf, strlen(s)), DD_EFORMAT);
	/* Only LEN bytes are read: a valid digest followed by junk parses. */
	strcpy(buf, s);
	strcat(buf, "zz");
	assert_int_equal(parse_len(buf, strlen(s)), 0);
}

/* A well-formed digest of an algorithm we do not implement is "unsupported". */
static void test_parse_unknown_algorithm(void **state)
{
	(void)state;
	assert_int_equal(parse("md5:d41d8cd98f00b204e9800998ecf8427e"), DD_EUNSUPPORTED);
	assert_int_equal(parse("sha384:" HEX_ABC), DD_EUNSUPPORTED);
	assert_int_equal(parse("blake3:" HEX_ABC), DD_EUNSUPPORTED);
	assert_int_equal(parse("multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8"),
			 DD_EUNSUPPORTED);
	assert_int_equal(parse("sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564"),
			 DD_EUNSUPPORTED);
	assert_int_equal(parse("x.y_z-1:abc="), DD_EUNSUPPORTED);
}

/*
 * descriptor.md: algorithm := algorithm-component (algorithm-separator
 * algorithm-component)*, component := [a-z0-9]+, separator := [+._-].
 * A separator must sit between two components.
 *
 * LIBRARY BUG (lib/digest.c:43-50): the algorithm is checked only against
 * the character set, not the grammar, so these malformed digests come back
 * DD_EUNSUPPORTED instead of DD_EFORMAT.
 */
static void test_parse_algorithm_grammar(void **state)
{
	(void)state;
	assert_int_equal(parse("-:abc"), DD_EFORMAT);
	assert_int_equal(parse("sha256+:abc"), DD_EFORMAT);
	assert_int_equal(parse("+sha:abc"), DD_EFORMAT);
	assert_int_equal(parse("a..b:abc"), DD_EFORMAT);
}

/* ---- blob path ---- */

static void test_blob_path(void **state)
{
	struct dd__buf b = DD__BUF_INIT;
	struct dd__digest d;

	(void)state;
	assert_int_equal(dd__buf_puts(&b, "stale"), 0);
	assert_int_equal(dd__digest_parse(&d, "sha256:" HEX_ABC, 71), 0);
	assert_int_equal(dd__digest_blob_path(&b, &d), 0);
	assert_string_equal(b.data, "blobs/sha256/" HEX_ABC);
	assert_int_equal(dd__digest_parse(&d, "sha512:" HEX512_ABC, 135), 0);
	assert_int_equal(dd__digest_blob_path(&b, &d), 0);
	assert_string_equal(b.data, "blobs/sha512/" HEX512_ABC);
	dd__buf_free(&b);
}

/* ---- hashing ---- */

/* FIPS 180-2 test vectors. */
static void test_hasher_known_values(void **state)
{
	char s[160];

	(void)state;
	hash_str(DD__ALG_SHA256, "abc", 3, 3, s, sizeof(s));
	assert_string_equal(s, "sha256:" HEX_ABC);
	hash_str(DD__ALG_SHA256, "", 0, 1, s, sizeof(s));
	assert_string_equal(s, "sha256:" HEX_EMPTY);
	hash_str(DD__ALG_SHA512, "abc", 3, 3, s, sizeof(s));
	assert_string_equal(s, "sha512:" HEX512_ABC);
	/* Streaming byte by byte gives the same result. */
	hash_str(DD__ALG_SHA256, "abc", 3, 1, s, sizeof(s));
	assert_string_equal(s, "sha256:" HEX_ABC);
	hash_str(DD__ALG_SHA256, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, 7,
		 s, sizeof(s));
	assert_string_equal(s, "sha256:248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

/* A reset hasher forgets what it saw; a computed digest equals the parsed one. */
static void test_hasher_reset_and_equal(void **state)
{
	struct dd__hasher *h = NULL;
	struct dd__digest got, want, other;

	(void)state;
	assert_int_equal(dd__hasher_new(&h, DD__ALG_SHA256), 0);
	assert_int_equal(dd__hasher_update(h, "garbage", 7), 0);
	assert_int_equal(dd__hasher_reset(h), 0);
	assert_int_equal(dd__hasher_update(h, "ab", 2), 0);
	assert_int_equal(dd__hasher_update(h, NULL, 0), 0);
	assert_int_equal(dd__hasher_update(h, "c", 1), 0);
	assert_int_equal(dd__hasher_final(h, &got), 0);
	assert_int_equal(got.alg, DD__ALG_SHA256);
	assert_int_equal(got.len, 32);
	assert_int_equal(dd__digest_parse(&want, "sha256:" HEX_ABC, 71), 0);
	assert_true(dd__digest_equal(&got, &want));
	assert_int_equal(dd__digest_parse(&other, "sha256:" HEX_EMPTY, 71), 0);
	assert_false(dd__digest_equal(&got, &other));
	dd__hasher_free(h);
	dd__hasher_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_sha256),
		cmocka_unit_test(test_parse_sha512),
		cmocka_unit_test(test_parse_rejects_uppercase),
		cmocka_unit_test(test_parse_rejects_wrong_length),
		cmocka_unit_test(test_parse_rejects_traversal),
		cmocka_unit_test(test_parse_rejects_missing_parts),
		cmocka_unit_test(test_parse_rejects_nul),
		cmocka_unit_test(test_parse_unknown_algorithm),
		cmocka_unit_test(test_parse_algorithm_grammar),
		cmocka_unit_test(test_blob_path),
		cmocka_unit_test(test_hasher_known_values),
		cmocka_unit_test(test_hasher_reset_and_equal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
