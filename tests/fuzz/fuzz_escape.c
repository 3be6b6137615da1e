/*
 * The byte-exact encodings that put attacker-chosen names into reports:
 *  - dd__quote() / dd__quote_path(): unquoting (written here, from the
 *    documented escapes \\ \" \n \t \ooo) gives back the original bytes;
 *    the output is valid UTF-8 without control characters;
 *  - dd__escape_invalid_utf8(): the output is valid UTF-8 without NUL;
 *  - dd__base64() then dd__base64_decode() is the identity;
 *  - dd__utf8_valid() agrees with a reference decoder (RFC 3629).
 */
#include <stdlib.h>
#include <string.h>

#include "lib/private.h"

/* RFC 3629 validity, written independently of lib/path.c. */
static bool ref_utf8(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		unsigned char lo = 0x80, hi = 0xbf;

		if (c <= 0x7f) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
		} else if (c == 0xe0) {
			n = 2, lo = 0xa0;
		} else if (c == 0xed) {
			n = 2, hi = 0x9f;
		} else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef) {
			n = 2;
		} else if (c == 0xf0) {
			n = 3, lo = 0x90;
		} else if (c >= 0xf1 && c <= 0xf3) {
			n = 3;
		} else if (c == 0xf4) {
			n = 3, hi = 0x8f;
		} else {
			return false;
		}
		if (len - i - 1 < n)
			return false;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t k = 2; k <= n; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return false;
		i += n + 1;
	}
	return true;
}

static int oct(char c)
{
	return c >= '0' && c <= '7' ? c - '0' : -1;
}

/* Undo dd__quote(); abort on anything it could not have written. */
static void unquote(struct dd__buf *out, const char *s, size_t len)
{
	size_t i = 0;

	out->len = 0;
	while (i < len) {
		char c = s[i];

		if (c == '"')
			abort(); /* a quote is always escaped */
		if (c != '\\') {
			if (dd__buf_put(out, &c, 1))
				abort();
			i++;
			continue;
		}
		if (i + 1 >= len)
			abort();
		c = s[i + 1];
		if (c == '\\' || c == '"' || c == 'n' || c == 't') {
			char v = c == 'n' ? '\n' : c == 't' ? '\t' : c;

			if (dd__buf_put(out, &v, 1))
				abort();
			i += 2;
		} else if (i + 3 < len && oct(s[i + 1]) >= 0 && oct(s[i + 2]) >= 0 &&
			   oct(s[i + 3]) >= 0) {
			int v = oct(s[i + 1]) * 64 + oct(s[i + 2]) * 8 + oct(s[i + 3]);
			unsigned char b = (unsigned char)v;

			if (v > 255 || dd__buf_put(out, &b, 1))
				abort();
			i += 4;
		} else {
			abort();
		}
	}
}

static void check_quote(const char *s, size_t len)
{
	struct dd__buf q = DD__BUF_INIT, p = DD__BUF_INIT, u = DD__BUF_INIT;
	size_t i;

	if (dd__quote(&q, s, len))
		abort();
	if (len && !q.data)
		abort();
	if (q.len) {
		if (!ref_utf8((const unsigned char *)q.data, q.len))
			abort();
		for (i = 0; i < q.len; i++)
			if ((unsigned char)q.data[i] < 0x20 || q.data[i] == 0x7f)
				abort(); /* nothing that drives a terminal */
	}
	unquote(&u, q.data, q.len);
	if (u.len != len || (len && memcmp(u.data, s, len) != 0))
		abort();

	/* The path form: either the bytes as they are, or "..." around dd__quote(). */
	if (dd__buf_puts(&p, "x") || dd__quote_path(&p, s, len))
		abort(); /* appended after a prefix, as reports do */
	if (p.data[0] != 'x')
		abort();
	if (p.len >= 2 && p.data[1] == '"') {
		if (p.len < 3 || p.data[p.len - 1] != '"' || p.data[p.len] != '\0')
			abort();
		if (p.len - 3 != q.len || memcmp(p.data + 2, q.data, q.len) != 0)
			abort();
	} else if (p.len - 1 != len || memcmp(p.data + 1, s, len) != 0) {
		abort();
	}
	dd__buf_free(&q);
	dd__buf_free(&p);
	dd__buf_free(&u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct dd__buf e = DD__BUF_INIT, b = DD__BUF_INIT, d = DD__BUF_INIT;

	if (dd__utf8_valid(s, size) != ref_utf8(data, size))
		abort();
	check_quote(s, size);

	if (dd__escape_invalid_utf8(&e, s, size))
		abort();
	if (e.len && (!ref_utf8((const unsigned char *)e.data, e.len) || memchr(e.data, 0, e.len)))
		abort();
	if (ref_utf8(data, size) && !memchr(s, 0, size) &&
	    (e.len != size || (size && memcmp(e.data, s, size))))
		abort(); /* valid UTF-8 passes unchanged */

	if (dd__base64(&b, data, size) || b.len != (size + 2) / 3 * 4)
		abort();
	if (dd__base64_decode(&d, b.data ? b.data : "", b.len) != 0 || d.len != size ||
	    (size && memcmp(d.data, data, size) != 0))
		abort();
	/* Decoding arbitrary text never crashes; a success is re-encodable. */
	if (dd__base64_decode(&d, s, size) == 0) {
		b.len = 0;
		if (dd__base64(&b, (const unsigned char *)d.data, d.len) || b.len != size)
			abort();
	}
	dd__buf_free(&e);
	dd__buf_free(&b);
	dd__buf_free(&d);
	return 0;
}
