/*
 * driftdiff/verify.h: is this image one of the approved ones?
 *
 * A digest list holds the digests a deployment approved ("sha256:<hex>"
 * or "sha512:<hex>", as OCI descriptors write them). `driftdiff verify`
 * checks an image's manifest digest against it; a docker archive that
 * records no manifest digest is checked by its config digest, the image
 * ID. An image not on the list is finding DD-DIG-001.
 */
#ifndef DRIFTDIFF_VERIFY_H
#define DRIFTDIFF_VERIFY_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct dd_digest_list;

DD_API int dd_digest_list_new(struct dd_digest_list **out, struct dd_ctx *ctx);
/* Accepts NULL. */
DD_API void dd_digest_list_free(struct dd_digest_list *list);

/*
 * Add DIGEST. Only sha256 and sha512 with lowercase hex of the right
 * length are accepted; anything else is DD_EFORMAT (DD_EUNSUPPORTED for a
 * well-formed digest of another algorithm), with a message that starts
 * with SOURCE ("--expect", "approved.txt:3"), or with the digest when
 * SOURCE is NULL.
 */
DD_API int dd_digest_list_add(struct dd_digest_list *list, const char *digest, const char *source);

/*
 * Add every digest in the file PATH: one per line, surrounding white space
 * ignored, blank lines and everything from a '#' to the end of its line
 * ignored. A malformed line fails the whole load with a message naming
 * PATH:LINE; a file with no digest at all is DD_EFORMAT too, since an
 * empty approval list is a mistake rather than a policy. PATH must be a
 * regular file no larger than the context's JSON limit.
 */
DD_API int dd_digest_list_load(struct dd_digest_list *list, const char *path);

DD_API size_t dd_digest_list_count(const struct dd_digest_list *list);
/* Is DIGEST on the list? A malformed DIGEST never is. */
DD_API bool dd_digest_list_contains(const struct dd_digest_list *list, const char *digest);

#ifdef __cplusplus
}
#endif
#endif
