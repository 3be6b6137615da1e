/*
 * Unit tests for lib/sha256x2.c: our SHA-256 against FIPS 180-4's
 * examples and against OpenSSL (through dd__hasher) on every length up to
 * a few blocks, and two states in step against each hashed on its own,
 * at every kind of offset a tar stream and a file in it can have.
 * Only the hashers' test runs on a CPU without the SHA extensions, or
 * under valgrind, which hides them (nothing calls the code there); a
 * skipped cmocka test would count as failed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/digest.h"
#include "lib/sha256x2.h"
#include "lib/private.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static void fill(unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)next();
}

/* OpenSSL's digest of P, as hex. */
static void reference(const unsigned char *p, size_t n, char hex[65])
{
	struct dd__hasher *h;
	struct dd__digest d;

	assert_int_equal(dd__hasher_new(&h, DD__ALG_SHA256), 0);
	assert_int_equal(dd__hasher_update(h, p, n), 0);
	assert_int_equal(dd__hasher_final(h, &d), 0);
	dd__hex(hex, d.bin, 32);
	dd__hasher_free(h);
}

static void ours(struct dd__sha256 *s, char hex[65])
{
	unsigned char out[32];

	dd__sha256_final(s, out);
	dd__hex(hex, out, 32);
}

static void expect(const char *msg, size_t n, size_t times, const char *hex)
{
	struct dd__sha256 s;
	char got[65];
	size_t i;

	dd__sha256_init(&s);
	for (i = 0; i < times; i++)
		dd__sha256_update(&s, msg, n);
	ours(&s, got);
	assert_string_equal(got, hex);
}

/* FIPS 180-4's examples (NIST's "Example Algorithms" for SHA-256). */
static void test_known_values(void **state)
{
	char a[1000];

	(void)state;
	expect("", 0, 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	expect("abc", 3, 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	expect("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, 1,
	       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	expect("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
	       112, 1, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
	memset(a, 'a', sizeof(a));
	expect(a, sizeof(a), 1000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* Every length across the padding's edges (55, 56, 63, 64...), in one call and byte by byte. */
static void test_every_length(void **state)
{
	unsigned char buf[300];
	char want[65], got[65];
	size_t n, i;

	(void)state;
	fill(buf, sizeof(buf));
	for (n = 0; n <= sizeof(buf); n++) {
		struct dd__sha256 one, bytes;

		reference(buf, n, want);
		dd__sha256_init(&one);
		dd__sha256_update(&one, buf, n);
		ours(&one, got);
		assert_string_equal(got, want);
		dd__sha256_init(&bytes);
		for (i = 0; i < n; i++)
			dd__sha256_update(&bytes, buf + i, 1);
		ours(&bytes, got);
		assert_string_equal(got, want);
	}
}

/*
 * A stream (a tar: headers, then file data in step) and a file: the two
 * states must come out as if each had been hashed alone, whether the
 * pieces leave them at the same offset in a block or not.
 */
static void test_in_step(void **state)
{
	enum { MAX = 1 << 16 };
	unsigned char *stream = malloc(4 * MAX), *file = malloc(MAX);
	int round;

	(void)state;
	assert_non_null(stream);
	assert_non_null(file);
	for (round = 0; round < 400; round++) {
		struct dd__sha256 a, b;
		char want_a[65], want_b[65], got[65];
		size_t slen = 0, flen = 0, lead = next() % 2048, total = next() % MAX, done = 0;

		/* Mostly tar-like leads (whole 512-byte headers), some at odd offsets. */
		if (round % 3)
			lead -= lead % 512;
		dd__sha256_init(&a);
		dd__sha256_init(&b);
		fill(stream, lead);
		dd__sha256_update(&a, stream, lead);
		slen = lead;
		while (done < total) {
			size_t k = 1 + next() % (round % 2 ? 8192 : 200);

			if (k > total - done)
				k = total - done;
			fill(stream + slen, k);
			memcpy(file + flen, stream + slen, k);
			if (next() % 16 == 0) {
				/* Only the file: as a sparse entry's holes are. */
				dd__sha256_update(&b, stream + slen, k);
				flen += k;
			} else {
				dd__sha256_update2(&a, &b, stream + slen, k);
				slen += k;
				flen += k;
			}
			done += k;
		}
		reference(stream, slen, want_a);
		reference(file, flen, want_b);
		ours(&a, got);
		assert_string_equal(got, want_a);
		ours(&b, got);
		assert_string_equal(got, want_b);
	}
	free(stream);
	free(file);
}

/* The hashers built on it: paired or not, update2 is two updates. */
static void test_paired_hashers(void **state)
{
	unsigned char buf[5000];
	struct dd__hasher *a, *b;
	struct dd__digest da, db;
	char want_a[65], want_b[65];

	(void)state;
	fill(buf, sizeof(buf));
	reference(buf, sizeof(buf), want_a);
	reference(buf + 512, sizeof(buf) - 512, want_b);
	assert_int_equal(dd__hasher_new_paired(&a, DD__ALG_SHA256), 0);
	assert_int_equal(dd__hasher_new_paired(&b, DD__ALG_SHA256), 0);
	assert_int_equal(dd__hasher_update(a, buf, 512), 0);
	assert_int_equal(dd__hasher_update2(a, b, buf + 512, 1000), 0);
	assert_int_equal(dd__hasher_update2(a, b, buf + 1512, sizeof(buf) - 1512), 0);
	assert_int_equal(dd__hasher_final(a, &da), 0);
	assert_int_equal(dd__hasher_final(b, &db), 0);
	assert_string_equal(da.str + 7, want_a);
	assert_string_equal(db.str + 7, want_b);
	/* reset starts over */
	assert_int_equal(dd__hasher_reset(b), 0);
	assert_int_equal(dd__hasher_update(b, buf + 512, sizeof(buf) - 512), 0);
	assert_int_equal(dd__hasher_final(b, &db), 0);
	assert_string_equal(db.str + 7, want_b);
	dd__hasher_free(a);
	dd__hasher_free(b);
}

int main(void)
{
	const struct CMUnitTest hashers[] = {
		cmocka_unit_test(test_paired_hashers),
	};
	const struct CMUnitTest all[] = {
		cmocka_unit_test(test_paired_hashers),
		cmocka_unit_test(test_known_values),
		cmocka_unit_test(test_every_length),
		cmocka_unit_test(test_in_step),
	};

	if (!dd__sha256x2_available()) {
		printf("no SHA extensions here: the code is not used, only the hashers are tested\n");
		return cmocka_run_group_tests(hashers, NULL, NULL);
	}
	return cmocka_run_group_tests(all, NULL, NULL);
}
