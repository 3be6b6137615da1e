/*
 * Digest parsing and blob path building. A digest is the only thing in an
 * OCI document that becomes a file name, so: an accepted digest is
 * "sha256:" or "sha512:" and lowercase hex of exactly the right length,
 * equal to its input; its blob path is "blobs/<alg>/<hex>", relative,
 * without "..", "//" or any byte outside [a-z0-9/]. A refused digest
 * leaves nothing behind.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/digest.h"

static bool lower_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct dd__digest d;
	struct dd__buf b = DD__BUF_INIT;
	size_t hexlen, i;
	int rc;

	rc = dd__digest_parse(&d, s, size);
	if (rc != 0) {
		if (rc != DD_EFORMAT && rc != DD_EUNSUPPORTED)
			abort();
		return 0;
	}
	if (d.alg == DD__ALG_SHA256 && d.len == 32)
		hexlen = 64;
	else if (d.alg == DD__ALG_SHA512 && d.len == 64)
		hexlen = 128;
	else
		abort();
	/* Accepted: the canonical string is exactly the input. */
	if (strlen(d.str) != size || memcmp(d.str, s, size) != 0)
		abort();
	if (memcmp(s, d.alg == DD__ALG_SHA256 ? "sha256:" : "sha512:", 7) != 0 ||
	    size != 7 + hexlen || !lower_hex(s + 7, hexlen))
		abort();
	if (dd__digest_blob_path(&b, &d) != 0)
		abort();
	if (b.len != 13 + hexlen || b.data[0] == '/' || strstr(b.data, "..") ||
	    strstr(b.data, "//") || memcmp(b.data, "blobs/", 6) != 0 ||
	    memcmp(b.data + 6, s, 6) != 0 || b.data[12] != '/' ||
	    memcmp(b.data + 13, s + 7, hexlen) != 0)
		abort();
	for (i = 0; i < b.len; i++)
		if (!((b.data[i] >= 'a' && b.data[i] <= 'z') ||
		      (b.data[i] >= '0' && b.data[i] <= '9') || b.data[i] == '/'))
			abort();
	dd__buf_free(&b);
	return 0;
}
