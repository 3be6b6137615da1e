/*
 * SHA-256 of the same bytes under two states at once, with the x86 SHA
 * extensions. A layer's tar stream is hashed for its diff_id while each
 * file in it is hashed for the tree: the file's bytes go through both. The
 * message schedule depends only on the bytes, so it is worked out once,
 * and the two states' rounds, each a chain of dependent instructions,
 * interleave. Used only where dd__sha256x2_available() says the CPU can;
 * dd__hasher falls back to OpenSSL otherwise.
 */
#ifndef DD_SHA256X2_H
#define DD_SHA256X2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dd__sha256 {
	uint32_t h[8];
	uint64_t len;           /* bytes hashed so far */
	unsigned char buf[64];  /* the last len % 64 of them */
};

/* Does this CPU have the SHA extensions (and this build the code for them)? */
bool dd__sha256x2_available(void);
void dd__sha256_init(struct dd__sha256 *s);
void dd__sha256_update(struct dd__sha256 *s, const void *p, size_t n);
/*
 * The same as dd__sha256_update(A, P, N) then dd__sha256_update(B, P, N).
 * Whole blocks run in step when A and B are at the same offset within a
 * block, as a tar stream and a file in it are (tar data is 512-aligned).
 */
void dd__sha256_update2(struct dd__sha256 *a, struct dd__sha256 *b, const void *p, size_t n);
void dd__sha256_final(struct dd__sha256 *s, unsigned char out[32]);

#endif
