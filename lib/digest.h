/* Content digests as OCI writes them ("sha256:<hex>") and streaming hashers. */
#ifndef DD_DIGEST_H
#define DD_DIGEST_H

#include "private.h"

enum dd__alg { DD__ALG_SHA256 = 1, DD__ALG_SHA512 };

struct dd__digest {
	enum dd__alg alg;
	size_t len;                /* bytes of bin */
	unsigned char bin[64];
	char str[8 + 128 + 1];     /* canonical "sha256:..." */
};

/*
 * Parse an OCI digest. Only sha256 and sha512 with lowercase hex of exactly
 * the right length are accepted (image-spec descriptor.md); anything else is
 * refused before a path is ever built from it. Returns 0, DD_EFORMAT for a
 * malformed digest or DD_EUNSUPPORTED for a well-formed unknown algorithm.
 */
int dd__digest_parse(struct dd__digest *out, const char *s, size_t len);
/* "blobs/sha256/<hex>". */
int dd__digest_blob_path(struct dd__buf *out, const struct dd__digest *d);

struct dd__hasher;
int dd__hasher_new(struct dd__hasher **out, enum dd__alg alg);
/*
 * A hasher meant to run in step with another over the same bytes
 * (dd__hasher_update2): for SHA-256 on a CPU with the SHA extensions, our
 * own code, which hashes two states for little more than the price of one.
 */
int dd__hasher_new_paired(struct dd__hasher **out, enum dd__alg alg);
void dd__hasher_free(struct dd__hasher *h);
int dd__hasher_reset(struct dd__hasher *h);
int dd__hasher_update(struct dd__hasher *h, const void *p, size_t n);
/* dd__hasher_update(A, P, N) and dd__hasher_update(B, P, N), together when both are paired. */
int dd__hasher_update2(struct dd__hasher *a, struct dd__hasher *b, const void *p, size_t n);
/* Finish into D (alg and str filled in). */
int dd__hasher_final(struct dd__hasher *h, struct dd__digest *d);
bool dd__digest_equal(const struct dd__digest *a, const struct dd__digest *b);

/*
 * A 16-byte checksum of our own files (the manifest cache) that catches
 * damage, several times faster than SHA-256: GMAC (NIST SP 800-38D,
 * GHASH with carry-less multiplication) under a fixed, public key. It is
 * not a MAC here: the cache is trusted for being the user's own. It is
 * taken in pieces, as the cache is written and read in windows.
 */
struct dd__checksum;
int dd__checksum_begin(struct dd__checksum **out);
int dd__checksum_add(struct dd__checksum *k, const void *p, size_t n);
int dd__checksum_end(struct dd__checksum *k, unsigned char out[16]);
void dd__checksum_free(struct dd__checksum *k);

/*
 * Fingerprints: the same GMAC under a secret random key (16 bytes from
 * OpenSSL's generator, a new one for each image read), to tell whether a
 * target's file holds the same bytes as the image's without hashing it
 * with SHA-256 (four times slower). GHASH under an unknown key is
 * almost-XOR-universal: two different messages of at most L 16-byte
 * blocks give the same 96 bits with probability at most about L/2^96,
 * whatever the container's author chose to write, as the key is never
 * shown. The fingerprint is the tag's first DD__FP_LEN bytes.
 */
#define DD__FP_KEY 16
int dd__fingerprint_key(unsigned char key[DD__FP_KEY]);
int dd__checksum_begin_keyed(struct dd__checksum **out, const unsigned char key[16]);
/* Start a new message under the same key. */
int dd__checksum_restart(struct dd__checksum *k);

#endif
