/*
 * SHA-256 (FIPS 180-4) with the x86 SHA extensions, one state or two over
 * the same bytes (sha256x2.h says why).
 *
 * The extensions keep a state as two vectors, ABEF and CDGH; sha256rnds2
 * does two rounds, taking two schedule words plus constants from the low
 * half of its third operand. sha256msg1 and sha256msg2 compute the message
 * schedule four words at a time. One block is 32 sha256rnds2, each
 * waiting for the one before: one state leaves the unit idle between
 * them, which is what a second state's rounds fill.
 */
#include <string.h>

#include "sha256x2.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define DD_SHA_NI 1
#include <cpuid.h>
#include <immintrin.h>
#endif

static const uint32_t iv[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

void dd__sha256_init(struct dd__sha256 *s)
{
	memcpy(s->h, iv, sizeof(iv));
	s->len = 0;
}

#ifdef DD_SHA_NI

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define SHA_TARGET __attribute__((target("sha,sse4.1,ssse3")))

struct lanes {
	__m128i abef, cdgh;
};

/* H0..H7 as ABEF and CDGH. */
SHA_TARGET static struct lanes load_state(const uint32_t h[8])
{
	__m128i abcd = _mm_loadu_si128((const __m128i *)h);
	__m128i efgh = _mm_loadu_si128((const __m128i *)(h + 4));
	__m128i cdab = _mm_shuffle_epi32(abcd, 0xB1);
	__m128i hgfe = _mm_shuffle_epi32(efgh, 0x1B);
	struct lanes l = { _mm_alignr_epi8(cdab, hgfe, 8), _mm_blend_epi16(hgfe, cdab, 0xF0) };

	return l;
}

SHA_TARGET static void store_state(uint32_t h[8], struct lanes l)
{
	__m128i feba = _mm_shuffle_epi32(l.abef, 0x1B);
	__m128i dchg = _mm_shuffle_epi32(l.cdgh, 0xB1);

	_mm_storeu_si128((__m128i *)h, _mm_blend_epi16(feba, dchg, 0xF0));
	_mm_storeu_si128((__m128i *)(h + 4), _mm_alignr_epi8(dchg, feba, 8));
}

/* The 64 schedule words of block P, four to a vector, constants added. */
SHA_TARGET static void schedule(__m128i wk[16], const unsigned char *p)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
	__m128i w[16];
	int g;

	for (g = 0; g < 4; g++)
		w[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * g)), bswap);
	/* W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16], four t at a time. */
	for (g = 4; g < 16; g++) {
		__m128i t = _mm_sha256msg1_epu32(w[g - 4], w[g - 3]);

		t = _mm_add_epi32(t, _mm_alignr_epi8(w[g - 1], w[g - 2], 4));
		w[g] = _mm_sha256msg2_epu32(t, w[g - 1]);
	}
	for (g = 0; g < 16; g++)
		wk[g] = _mm_add_epi32(w[g], _mm_loadu_si128((const __m128i *)(K + 4 * g)));
}

SHA_TARGET static void blocks1(uint32_t h[8], const unsigned char *p, size_t n)
{
	struct lanes s = load_state(h);

	for (; n; n--, p += 64) {
		__m128i wk[16], abef = s.abef, cdgh = s.cdgh;
		int g;

		schedule(wk, p);
		for (g = 0; g < 16; g++) {
			cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk[g]);
			abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk[g], 0x0E));
		}
		s.abef = _mm_add_epi32(s.abef, abef);
		s.cdgh = _mm_add_epi32(s.cdgh, cdgh);
	}
	store_state(h, s);
}

/* The same blocks through two states: one schedule, the rounds interleaved. */
SHA_TARGET static void blocks2(uint32_t ha[8], uint32_t hb[8], const unsigned char *p, size_t n)
{
	struct lanes a = load_state(ha), b = load_state(hb);

	for (; n; n--, p += 64) {
		__m128i wk[16], a0 = a.abef, a1 = a.cdgh, b0 = b.abef, b1 = b.cdgh;
		int g;

		schedule(wk, p);
		for (g = 0; g < 16; g++) {
			__m128i hi = _mm_shuffle_epi32(wk[g], 0x0E);

			a1 = _mm_sha256rnds2_epu32(a1, a0, wk[g]);
			b1 = _mm_sha256rnds2_epu32(b1, b0, wk[g]);
			a0 = _mm_sha256rnds2_epu32(a0, a1, hi);
			b0 = _mm_sha256rnds2_epu32(b0, b1, hi);
		}
		a.abef = _mm_add_epi32(a.abef, a0);
		a.cdgh = _mm_add_epi32(a.cdgh, a1);
		b.abef = _mm_add_epi32(b.abef, b0);
		b.cdgh = _mm_add_epi32(b.cdgh, b1);
	}
	store_state(ha, a);
	store_state(hb, b);
}

bool dd__sha256x2_available(void)
{
	unsigned a, b, c, d;

	/* SSSE3 and SSE4.1 (leaf 1, ECX bits 9 and 19), SHA (leaf 7, EBX bit 29). */
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 9)) || !(c & (1u << 19)))
		return false;
	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29));
}

#else /* no SHA extensions to use: dd__hasher never asks for these */

bool dd__sha256x2_available(void)
{
	return false;
}

static void blocks1(uint32_t h[8], const unsigned char *p, size_t n)
{
	(void)h, (void)p, (void)n;
}

static void blocks2(uint32_t ha[8], uint32_t hb[8], const unsigned char *p, size_t n)
{
	(void)ha, (void)hb, (void)p, (void)n;
}

#endif

/* Fill S's partial block from P; the bytes taken. */
static size_t top_up(struct dd__sha256 *s, const unsigned char *p, size_t n)
{
	size_t have = (size_t)(s->len % 64), take;

	if (!have)
		return 0;
	take = 64 - have < n ? 64 - have : n;
	memcpy(s->buf + have, p, take);
	s->len += take;
	if ((s->len % 64) == 0)
		blocks1(s->h, s->buf, 1);
	return take;
}

void dd__sha256_update(struct dd__sha256 *s, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t k = top_up(s, p, n);

	p += k;
	n -= k;
	if (n >= 64) {
		blocks1(s->h, p, n / 64);
		s->len += n - n % 64;
		p += n - n % 64;
		n %= 64;
	}
	if (n) {
		memcpy(s->buf, p, n);
		s->len += n;
	}
}

void dd__sha256_update2(struct dd__sha256 *a, struct dd__sha256 *b, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t k, whole;

	if (a->len % 64 != b->len % 64) {
		dd__sha256_update(a, p, n);
		dd__sha256_update(b, p, n);
		return;
	}
	k = top_up(a, p, n);
	top_up(b, p, n);
	p += k;
	n -= k;
	whole = n - n % 64;
	if (whole) {
		blocks2(a->h, b->h, p, whole / 64);
		a->len += whole;
		b->len += whole;
	}
	if (n % 64) {
		memcpy(a->buf, p + whole, n % 64);
		memcpy(b->buf, p + whole, n % 64);
		a->len += n % 64;
		b->len += n % 64;
	}
}

void dd__sha256_final(struct dd__sha256 *s, unsigned char out[32])
{
	unsigned char pad[72] = { 0x80 };
	uint64_t bits = s->len * 8;
	size_t padlen = 64 - (size_t)((s->len + 8) % 64), i;

	/* 0x80, zeros, then the length in bits, big-endian: to a block's end. */
	for (i = 0; i < 8; i++)
		pad[padlen + i] = (unsigned char)(bits >> (56 - 8 * i));
	dd__sha256_update(s, pad, padlen + 8);
	for (i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(s->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(s->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(s->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)s->h[i];
	}
}
