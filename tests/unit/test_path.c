/*
 * Unit tests for lib/path.c: path normalisation and ordering, UTF-8
 * validation, quoting, and the byte-exact encodings (base64, hex).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/private.h"

/* ---- helpers ---- */

/* Normalise NAME (LEN bytes) and check the result is EXPECT. */
static void expect_norm(const char *name, size_t len, const char *expect)
{
	struct dd__buf b = DD__BUF_INIT;

	assert_int_equal(dd__path_normalize(&b, name, len), 0);
	assert_int_equal(b.len, strlen(expect));
	assert_string_equal(b.data, expect);
	dd__buf_free(&b);
}

static void expect_norm_fails(const char *name, size_t len)
{
	struct dd__buf b = DD__BUF_INIT;

	assert_int_equal(dd__path_normalize(&b, name, len), DD_EFORMAT);
	dd__buf_free(&b);
}

#define NORM(s, e) expect_norm((s), sizeof(s) - 1, (e))
#define NORM_FAILS(s) expect_norm_fails((s), sizeof(s) - 1)

static int cmp(const char *a, const char *b)
{
	int r = dd_path_compare(a, strlen(a), b, strlen(b));

	return r < 0 ? -1 : r > 0 ? 1 : 0;
}

static bool utf8(const char *s, size_t len)
{
	return dd__utf8_valid(s, len);
}
#define UTF8(s) utf8((s), sizeof(s) - 1)

/* Quote LEN bytes of S and compare with EXPECT. */
static void expect_quote(const char *s, size_t len, const char *expect)
{
	struct dd__buf b = DD__BUF_INIT;

	assert_int_equal(dd__quote(&b, s, len), 0);
	assert_string_equal(b.data ? b.data : "", expect);
	assert_int_equal(b.len, strlen(expect));
	dd__buf_free(&b);
}
#define QUOTE(s, e) expect_quote((s), sizeof(s) - 1, (e))

static void expect_b64(const char *in, const char *expect)
{
	struct dd__buf b = DD__BUF_INIT;

	assert_int_equal(dd__base64(&b, (const unsigned char *)in, strlen(in)), 0);
	assert_string_equal(b.data ? b.data : "", expect);
	b.len = 0;
	assert_int_equal(dd__base64_decode(&b, expect, strlen(expect)), 0);
	assert_int_equal(b.len, strlen(in));
	assert_memory_equal(b.data, in, strlen(in));
	dd__buf_free(&b);
}

static void expect_b64_bad(const char *s, size_t len)
{
	struct dd__buf b = DD__BUF_INIT;

	assert_int_equal(dd__base64_decode(&b, s, len), -1);
	dd__buf_free(&b);
}
#define B64_BAD(s) expect_b64_bad((s), sizeof(s) - 1)

/* ---- dd__path_normalize ---- */

/* "./a//b/", "/a/b" and "a/b" all become "/a/b"; "." components are dropped. */
static void test_normalize_forms(void **state)
{
	(void)state;
	NORM("./a//b/", "/a/b");
	NORM("/a/b", "/a/b");
	NORM("a/b", "/a/b");
	NORM("a/./b/.", "/a/b");
	NORM("//a///b//", "/a/b");
	NORM("./etc/passwd", "/etc/passwd");
	/* Names that merely start with dots are ordinary. */
	NORM("...", "/...");
	NORM(".a/..b/b..", "/.a/..b/b..");
	NORM(".wh..wh..opq", "/.wh..wh..opq");
}

/* The root itself is "/". */
static void test_normalize_root(void **state)
{
	(void)state;
	NORM("", "/");
	NORM("./", "/");
	NORM(".", "/");
	NORM("/", "/");
	NORM("//", "/");
	NORM("./././", "/");
}

/* ".." removes the component before it; one that would climb above the root is refused. */
static void test_normalize_dotdot(void **state)
{
	(void)state;
	NORM_FAILS("..");
	NORM_FAILS("../x");
	NORM_FAILS("/../x");
	NORM_FAILS("./..");
	NORM_FAILS("a/../..");
	NORM_FAILS("a/../../etc/passwd");
	NORM_FAILS("a/b/../../../x");
	NORM("a/../b", "/b");
	NORM("a/b/..", "/a");
	NORM("a/b/../", "/a");
	NORM("a/..", "/");
	NORM("etc/../x", "/x");
	NORM("a/./b/../../c", "/c");
	NORM("a/b/c/../../d", "/a/d");
}

/* An embedded NUL would make the C string differ from the tar name: refused. */
static void test_normalize_nul(void **state)
{
	(void)state;
	NORM_FAILS("a\0b");
	NORM_FAILS("a/\0/b");
	NORM_FAILS("\0");
}

/* OUT is reset first, and only LEN bytes of the name are read. */
static void test_normalize_resets_and_respects_len(void **state)
{
	struct dd__buf b = DD__BUF_INIT;

	(void)state;
	assert_int_equal(dd__buf_puts(&b, "/stale/content"), 0);
	assert_int_equal(dd__path_normalize(&b, "x/yz", 3), 0);
	assert_string_equal(b.data, "/x/y");
	assert_int_equal(b.len, 4);
	dd__buf_free(&b);
}

/* ---- dd_path_compare ---- */

/* '/' sorts before every byte, so a directory's subtree follows it. */
static void test_compare_slash_first(void **state)
{
	(void)state;
	assert_int_equal(cmp("/a/b", "/a.b"), -1);
	assert_int_equal(cmp("/a.b", "/a0"), -1);
	assert_int_equal(cmp("/a/b", "/a0"), -1);
	assert_int_equal(cmp("/a0", "/a/b"), 1);
	assert_int_equal(cmp("/a/z", "/a-"), -1);
	assert_int_equal(cmp("/a/b", "/a\x01"), -1);
	/* '/' ranks even below a NUL byte. */
	assert_int_equal(dd_path_compare("/a/", 3, "/a\0", 3) < 0, 1);
	assert_int_equal(dd_path_compare("/a\0", 3, "/a/", 3) > 0, 1);
}

/* Prefix rules: a path sorts before every longer path that starts with it. */
static void test_compare_prefix(void **state)
{
	(void)state;
	assert_int_equal(cmp("/", "/a"), -1);
	assert_int_equal(cmp("/a", "/a/b"), -1);
	assert_int_equal(cmp("/a/b", "/a"), 1);
	assert_int_equal(cmp("/a", "/ab"), -1);
	assert_int_equal(cmp("/a/b", "/a/b"), 0);
	assert_int_equal(cmp("", ""), 0);
	/* Only LEN bytes are compared. */
	assert_int_equal(dd_path_compare("/abc", 2, "/axy", 2), 0);
}

/* Bytes compare unsigned: a high byte sorts after ASCII. */
static void test_compare_unsigned(void **state)
{
	(void)state;
	assert_int_equal(cmp("/\xff", "/a"), 1);
	assert_int_equal(cmp("/a", "/\xc3\xa9"), -1);
	assert_int_equal(cmp("/\x7f", "/\x80"), -1);
}

/* A whole sorted listing stays sorted under the comparison (a transitivity check). */
static void test_compare_listing_order(void **state)
{
	static const char *const sorted[] = {
		"/", "/a", "/a/b", "/a/b/c", "/a/c", "/a-b", "/a.b", "/a0", "/aa", "/b",
		"/b/\xff", "/b\x01", "/\xc3\xa9",
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < DD_ARRAY_SIZE(sorted); i++)
		for (j = 0; j < DD_ARRAY_SIZE(sorted); j++)
			assert_int_equal(cmp(sorted[i], sorted[j]), i < j ? -1 : i > j ? 1 : 0);
}

/* ---- parent and base ---- */

static void test_parent_and_base(void **state)
{
	(void)state;
	assert_int_equal(dd__path_parent_len("/a/b", 4), 2);
	assert_int_equal(dd__path_parent_len("/a", 2), 1);
	assert_int_equal(dd__path_parent_len("/", 1), 1);
	assert_int_equal(dd__path_parent_len("/a/b/cde", 8), 4);
	assert_int_equal(dd__path_parent_len("/abc/d", 6), 4);
	assert_int_equal(dd__path_base_off("/a/b", 4), 3);
	assert_int_equal(dd__path_base_off("/a", 2), 1);
	assert_int_equal(dd__path_base_off("/", 1), 1);
	assert_int_equal(dd__path_base_off("/a/b/cde", 8), 5);
}

/* ---- dd__utf8_valid ---- */

static void test_utf8_valid(void **state)
{
	(void)state;
	assert_true(utf8("", 0));
	assert_true(UTF8("plain ascii"));
	assert_true(UTF8("\xc3\xa9"));             /* U+00E9 */
	assert_true(UTF8("\xc2\x80"));             /* U+0080, smallest 2-byte */
	assert_true(UTF8("\xe0\xa0\x80"));         /* U+0800, smallest 3-byte */
	assert_true(UTF8("\xe2\x82\xac"));         /* U+20AC */
	assert_true(UTF8("\xed\x9f\xbf"));         /* U+D7FF, just below the surrogates */
	assert_true(UTF8("\xee\x80\x80"));         /* U+E000, just above */
	assert_true(UTF8("\xef\xbf\xbf"));         /* U+FFFF */
	assert_true(UTF8("\xf0\x90\x80\x80"));     /* U+10000 */
	assert_true(UTF8("\xf0\x9d\x84\x9e"));     /* U+1D11E */
	assert_true(UTF8("\xf4\x8f\xbf\xbf"));     /* U+10FFFF, the last code point */
}

/* Overlong forms could smuggle '/' or NUL past a byte check: rejected. */
static void test_utf8_overlong(void **state)
{
	(void)state;
	assert_false(UTF8("\xc0\xaf"));            /* '/' in 2 bytes */
	assert_false(UTF8("\xc0\x80"));            /* NUL in 2 bytes */
	assert_false(UTF8("\xc1\xbf"));
	assert_false(UTF8("\xe0\x80\xaf"));        /* '/' in 3 bytes */
	assert_false(UTF8("\xe0\x9f\xbf"));        /* U+07FF in 3 bytes */
	assert_false(UTF8("\xf0\x80\x80\xaf"));    /* '/' in 4 bytes */
	assert_false(UTF8("\xf0\x8f\xbf\xbf"));    /* U+FFFF in 4 bytes */
}

/* UTF-16 surrogates are not scalar values. */
static void test_utf8_surrogates(void **state)
{
	(void)state;
	assert_false(UTF8("\xed\xa0\x80"));        /* U+D800 */
	assert_false(UTF8("\xed\xbf\xbf"));        /* U+DFFF */
	assert_false(UTF8("\xed\xa0\xbd\xed\xb2\xa9")); /* CESU-8 pair */
}

/* Past U+10FFFF, and bytes that never start a sequence. */
static void test_utf8_out_of_range(void **state)
{
	(void)state;
	assert_false(UTF8("\xf4\x90\x80\x80"));    /* U+110000 */
	assert_false(UTF8("\xf5\x80\x80\x80"));
	assert_false(UTF8("\xf7\xbf\xbf\xbf"));
	assert_false(UTF8("\xf8\x88\x80\x80\x80")); /* old 5-byte form */
	assert_false(UTF8("\xff"));
	assert_false(UTF8("\xfe"));
	assert_false(UTF8("\x80"));                /* lone continuation */
	assert_false(UTF8("a\xbf"));
}

/* Truncated and broken sequences, also at the end of the buffer. */
static void test_utf8_truncated(void **state)
{
	(void)state;
	assert_false(UTF8("\xc3"));
	assert_false(UTF8("\xe2\x82"));
	assert_false(UTF8("\xf0\x9d\x84"));
	assert_false(UTF8("\xe2\x28\xa1"));        /* second byte not a continuation */
	assert_false(UTF8("\xc3\xa9\xc3"));
	/* The length bounds the check: the valid prefix alone passes. */
	assert_true(utf8("\xc3\xa9\xc3", 2));
	assert_false(utf8("\xe2\x82\xac", 2));
}

/* ---- dd__quote ---- */

/* Printable ASCII and valid UTF-8 stay as they are. */
static void test_quote_plain(void **state)
{
	(void)state;
	QUOTE("", "");
	QUOTE("/usr/bin/env", "/usr/bin/env");
	QUOTE("caf\xc3\xa9", "caf\xc3\xa9");
	QUOTE("\xe6\x97\xa5\xe6\x9c\xac", "\xe6\x97\xa5\xe6\x9c\xac");
	QUOTE("\xc2\xa0", "\xc2\xa0");             /* U+00A0 is printable */
	QUOTE("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80");
	QUOTE("a b~", "a b~");
}

/* Backslash, quote, newline and tab get their short escapes. */
static void test_quote_short_escapes(void **state)
{
	(void)state;
	QUOTE("a\\b", "a\\\\b");
	QUOTE("say \"hi\"", "say \\\"hi\\\"");
	QUOTE("a\nb", "a\\nb");
	QUOTE("\t", "\\t");
}

/* Other control characters and DEL become three-digit octal. */
static void test_quote_controls(void **state)
{
	(void)state;
	QUOTE("\x01", "\\001");
	QUOTE("a\rb", "a\\015b");
	QUOTE("\x1b[31m", "\\033[31m");            /* a terminal escape sequence */
	QUOTE("\x7f", "\\177");
	QUOTE("a\0b", "a\\000b");
	QUOTE("\xc2\x85", "\\302\\205");          /* C1 control U+0085 */
	QUOTE("\xc2\x9b", "\\302\\233");          /* C1 CSI */
}

/* Bytes that are not UTF-8 are escaped one by one. */
static void test_quote_invalid_bytes(void **state)
{
	(void)state;
	QUOTE("\xff\xfe", "\\377\\376");
	QUOTE("a\xc0\xaf", "a\\300\\257");        /* overlong '/' */
	QUOTE("\xed\xa0\x80", "\\355\\240\\200"); /* surrogate */
	QUOTE("\xe2\x82", "\\342\\202");          /* truncated at the end */
	QUOTE("\xe2\x82x", "\\342\\202x");
}

/* Bidi controls could make a name read differently on screen (Trojan Source). */
static void test_quote_bidi(void **state)
{
	(void)state;
	QUOTE("\xe2\x80\xae", "\\342\\200\\256"); /* U+202E RIGHT-TO-LEFT OVERRIDE */
	QUOTE("evil\xe2\x80\xaetxt.exe", "evil\\342\\200\\256txt.exe");
	QUOTE("\xe2\x80\xaa", "\\342\\200\\252"); /* U+202A LRE */
	QUOTE("\xe2\x80\x8e", "\\342\\200\\216"); /* U+200E LRM */
	QUOTE("\xe2\x80\x8f", "\\342\\200\\217"); /* U+200F RLM */
	QUOTE("\xe2\x81\xa6", "\\342\\201\\246"); /* U+2066 LRI */
	QUOTE("\xe2\x81\xa9", "\\342\\201\\251"); /* U+2069 PDI */
	/* Neighbours of the bidi range are ordinary punctuation. */
	QUOTE("\xe2\x80\x94", "\xe2\x80\x94");     /* U+2014 EM DASH */
	QUOTE("\xe2\x80\xaf", "\xe2\x80\xaf");     /* U+202F NNBSP */
}

/* dd__quote appends to what the buffer already holds. */
static void test_quote_appends(void **state)
{
	struct dd__buf b = DD__BUF_INIT;

	(void)state;
	assert_int_equal(dd__buf_puts(&b, "x="), 0);
	assert_int_equal(dd__quote(&b, "\n", 1), 0);
	assert_string_equal(b.data, "x=\\n");
	dd__buf_free(&b);
}

/* ---- dd__escape_invalid_utf8 ---- */

static void test_escape_invalid_utf8(void **state)
{
	struct dd__buf b = DD__BUF_INIT;

	(void)state;
	assert_int_equal(dd__escape_invalid_utf8(&b, "a\xff\xc3\xa9\0z", 6), 0);
	assert_string_equal(b.data, "a\\xff\xc3\xa9\\x00z");
	dd__buf_free(&b);
}

/* ---- base64 ---- */

/* The RFC 4648 section 10 test vectors, both ways. */
static void test_base64_vectors(void **state)
{
	(void)state;
	expect_b64("", "");
	expect_b64("f", "Zg==");
	expect_b64("fo", "Zm8=");
	expect_b64("foo", "Zm9v");
	expect_b64("foob", "Zm9vYg==");
	expect_b64("fooba", "Zm9vYmE=");
	expect_b64("foobar", "Zm9vYmFy");
	expect_b64("\xff\xfe", "//4=");
	expect_b64("\xfb\xef\xbe", "++++");
}

/* Every byte value, at every length from 0 to 256: decode(encode(x)) == x. */
static void test_base64_roundtrip_all_bytes(void **state)
{
	unsigned char all[256];
	struct dd__buf enc = DD__BUF_INIT, dec = DD__BUF_INIT;
	size_t i, n;

	(void)state;
	for (i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	for (n = 0; n <= 256; n++) {
		enc.len = 0;
		assert_int_equal(dd__base64(&enc, all + (256 - n), n), 0);
		assert_int_equal(enc.len, (n + 2) / 3 * 4);
		assert_int_equal(dd__base64_decode(&dec, enc.data ? enc.data : "", enc.len), 0);
		assert_int_equal(dec.len, n);
		if (n)
			assert_memory_equal(dec.data, all + (256 - n), n);
	}
	dd__buf_free(&enc);
	dd__buf_free(&dec);
}

/* Malformed input is refused, never decoded to something approximate. */
static void test_base64_malformed(void **state)
{
	(void)state;
	B64_BAD("Zg=");          /* not a multiple of 4 */
	B64_BAD("Z");
	B64_BAD("Zm9vY");
	B64_BAD("Zm9*");         /* not in the alphabet */
	B64_BAD("Zm-_");         /* the URL alphabet is not accepted */
	B64_BAD("Zm9v\n");
	B64_BAD("Zm 9");
	B64_BAD("Z===");         /* too much padding */
	B64_BAD("====");
	B64_BAD("Zg=v");         /* data after padding */
	B64_BAD("Zg==Zm8=");     /* padding before the end */
	B64_BAD("Zm\0v");        /* an embedded NUL */
}

/* ---- hex ---- */

static void test_hex(void **state)
{
	static const unsigned char bytes[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
	unsigned char back[sizeof(bytes)];
	char out[2 * sizeof(bytes) + 1];

	(void)state;
	dd__hex(out, bytes, sizeof(bytes));
	assert_string_equal(out, "00017f80abff");
	assert_int_equal(dd__unhex(back, out, sizeof(bytes)), 0);
	assert_memory_equal(back, bytes, sizeof(bytes));
	dd__hex(out, bytes, 0);
	assert_string_equal(out, "");
}

/* Digests are lowercase hex: uppercase and non-hex digits are refused. */
static void test_unhex_rejects(void **state)
{
	unsigned char b[2];

	(void)state;
	assert_int_equal(dd__unhex(b, "AB", 1), -1);
	assert_int_equal(dd__unhex(b, "0g", 1), -1);
	assert_int_equal(dd__unhex(b, "ab:d", 2), -1);
	assert_int_equal(dd__unhex(b, " 1", 1), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize_forms),
		cmocka_unit_test(test_normalize_root),
		cmocka_unit_test(test_normalize_dotdot),
		cmocka_unit_test(test_normalize_nul),
		cmocka_unit_test(test_normalize_resets_and_respects_len),
		cmocka_unit_test(test_compare_slash_first),
		cmocka_unit_test(test_compare_prefix),
		cmocka_unit_test(test_compare_unsigned),
		cmocka_unit_test(test_compare_listing_order),
		cmocka_unit_test(test_parent_and_base),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_utf8_overlong),
		cmocka_unit_test(test_utf8_surrogates),
		cmocka_unit_test(test_utf8_out_of_range),
		cmocka_unit_test(test_utf8_truncated),
		cmocka_unit_test(test_quote_plain),
		cmocka_unit_test(test_quote_short_escapes),
		cmocka_unit_test(test_quote_controls),
		cmocka_unit_test(test_quote_invalid_bytes),
		cmocka_unit_test(test_quote_bidi),
		cmocka_unit_test(test_quote_appends),
		cmocka_unit_test(test_escape_invalid_utf8),
		cmocka_unit_test(test_base64_vectors),
		cmocka_unit_test(test_base64_roundtrip_all_bytes),
		cmocka_unit_test(test_base64_malformed),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_unhex_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
