/*
 * dd__path_normalize(): every tar member name and document path goes
 * through it before it touches the tree. Invariants on success: the result
 * starts with '/', has no empty, "." or ".." component (so it never climbs
 * out of the root) and no NUL; normalising it again gives it back; its
 * components are the input's non-empty, non-"." components in order, each
 * ".." removing the one before it. A ".." with nothing left to remove (it
 * would climb above the root), or a NUL inside a component, is refused.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct dd__buf out = DD__BUF_INIT, again = DD__BUF_INIT, ref = DD__BUF_INIT;
	bool refuse = false;
	size_t i = 0, start;
	int rc;

	/* The reference: split on '/', drop "" and ".", let ".." pop (refuse at the root), refuse a NUL. */
	while (i < size) {
		while (i < size && s[i] == '/')
			i++;
		start = i;
		while (i < size && s[i] != '/')
			i++;
		if (i == start || (i - start == 1 && s[start] == '.'))
			continue;
		if (i - start == 2 && s[start] == '.' && s[start + 1] == '.') {
			if (ref.len == 0) {
				refuse = true;
				break;
			}
			while (ref.len > 0 && ref.data[ref.len - 1] != '/')
				ref.len--;
			ref.len--;
			continue;
		}
		if (memchr(s + start, '\0', i - start)) {
			refuse = true;
			break;
		}
		if (dd__buf_puts(&ref, "/") || dd__buf_put(&ref, s + start, i - start))
			abort();
	}
	if (!refuse && ref.len == 0 && dd__buf_puts(&ref, "/"))
		abort();

	rc = dd__path_normalize(&out, s, size);
	if (refuse) {
		if (rc != DD_EFORMAT)
			abort();
		goto out;
	}
	if (rc != 0 || out.len != ref.len || memcmp(out.data, ref.data, ref.len) != 0)
		abort();
	if (out.data[0] != '/' || out.data[out.len] != '\0' || strlen(out.data) != out.len ||
	    strstr(out.data, "//") || strstr(out.data, "/./") || strstr(out.data, "/../") ||
	    (out.len >= 2 && !memcmp(out.data + out.len - 2, "/.", 2)) ||
	    (out.len >= 3 && !memcmp(out.data + out.len - 3, "/..", 3)) ||
	    (out.len > 1 && out.data[out.len - 1] == '/'))
		abort();
	/* Idempotent. */
	if (dd__path_normalize(&again, out.data, out.len) != 0 || again.len != out.len ||
	    memcmp(again.data, out.data, out.len) != 0)
		abort();
	/* The parent and base helpers agree with the string. */
	if (out.len > 1) {
		size_t base = dd__path_base_off(out.data, out.len);
		size_t parent = dd__path_parent_len(out.data, out.len);

		if (base < 1 || base >= out.len || out.data[base - 1] != '/' ||
		    memchr(out.data + base, '/', out.len - base) ||
		    parent != (base == 1 ? 1 : base - 1))
			abort();
	}
out:
	dd__buf_free(&out);
	dd__buf_free(&again);
	dd__buf_free(&ref);
	return 0;
}
