/* Path normalisation, ordering and the byte-exact encodings of names. */
#include <string.h>

#include "private.h"

int dd__path_normalize(struct dd__buf *out, const char *name, size_t len)
{
	size_t i = 0, start;

	out->len = 0;
	if (dd__buf_grow(out, len + 1))
		return DD_ENOMEM;
	while (i < len) {
		while (i < len && name[i] == '/')
			i++;
		start = i;
		while (i < len && name[i] != '/')
			i++;
		if (i == start)
			break;
		if (i - start == 1 && name[start] == '.')
			continue;
		if (i - start == 2 && name[start] == '.' && name[start + 1] == '.') {
			/*
			 * "a/../b" is "b", as containerd and Go's filepath.Clean
			 * read it; only a ".." that would climb above the root is
			 * refused.
			 */
			if (out->len == 0)
				return DD_EFORMAT;
			while (out->len > 0 && out->data[out->len - 1] != '/')
				out->len--;
			out->len--; /* the '/' that led to the popped component */
			continue;
		}
		if (memchr(name + start, '\0', i - start))
			return DD_EFORMAT;
		out->data[out->len++] = '/';
		memcpy(out->data + out->len, name + start, i - start);
		out->len += i - start;
	}
	if (out->len == 0)
		out->data[out->len++] = '/';
	out->data[out->len] = '\0';
	return 0;
}

size_t dd__path_parent_len(const char *path, size_t len)
{
	size_t i = dd__path_base_off(path, len);

	return i <= 1 ? 1 : i - 1;
}

size_t dd__path_base_off(const char *path, size_t len)
{
	size_t i = len;

	while (i > 0 && path[i - 1] != '/')
		i--;
	return i;
}

int dd_path_compare(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i, n = alen < blen ? alen : blen;
	unsigned ca, cb;

	for (i = 0; i < n; i++) {
		if (a[i] == b[i])
			continue;
		/* '/' ranks below every byte so a directory's subtree follows it. */
		ca = a[i] == '/' ? 0 : (unsigned char)a[i] + 1u;
		cb = b[i] == '/' ? 0 : (unsigned char)b[i] + 1u;
		return ca < cb ? -1 : 1;
	}
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* Length of the valid UTF-8 sequence at S, or 0 if it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
	uint32_t cp;
	size_t n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Reject overlong forms, surrogates and code points past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

bool dd__utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		n = utf8_seq(p + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

int dd__quote(struct dd__buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	int rc = 0;

	while (i < len && rc == 0) {
		unsigned char c = p[i];

		switch (c) {
		case '\\': rc = dd__buf_puts(out, "\\\\"); i++; continue;
		case '"': rc = dd__buf_puts(out, "\\\""); i++; continue;
		case '\n': rc = dd__buf_puts(out, "\\n"); i++; continue;
		case '\t': rc = dd__buf_puts(out, "\\t"); i++; continue;
		default: break;
		}
		n = utf8_seq(p + i, len - i);
		/*
		 * Control characters, DEL, the C1 range and bidi controls could
		 * rewrite what a terminal shows; escape them like invalid bytes.
		 */
		if (n == 0 || c < 0x20 || c == 0x7f ||
		    (n == 2 && c == 0xc2 && p[i + 1] < 0xa0) ||
		    (n == 3 && c == 0xe2 && p[i + 1] == 0x80 &&
		     (p[i + 2] == 0x8e || p[i + 2] == 0x8f ||
		      (p[i + 2] >= 0xaa && p[i + 2] <= 0xae))) ||
		    (n == 3 && c == 0xe2 && p[i + 1] == 0x81 &&
		     p[i + 2] >= 0xa6 && p[i + 2] <= 0xa9)) {
			size_t k, m = n ? n : 1;

			for (k = 0; k < m && rc == 0; k++)
				rc = dd__buf_printf(out, "\\%03o", p[i + k]);
			i += m;
			continue;
		}
		rc = dd__buf_put(out, p + i, n);
		i += n;
	}
	return rc;
}

int dd__quote_path(struct dd__buf *out, const char *s, size_t len)
{
	size_t start = out->len;
	bool wrap;

	if (dd__quote(out, s, len))
		return DD_ENOMEM;
	/*
	 * As git does, a name that needed escapes is shown in double quotes;
	 * so is one whose spaces could pass for the report's own separators.
	 */
	wrap = out->len - start != len || memmem(s, len, "  ", 2) || memmem(s, len, " -> ", 4) ||
	       memmem(s, len, " => ", 4) || (len && (s[len - 1] == ' ' || s[0] == ' '));
	if (!wrap)
		return 0;
	if (dd__buf_grow(out, 2))
		return DD_ENOMEM;
	memmove(out->data + start + 1, out->data + start, out->len - start);
	out->data[start] = '"';
	out->len++;
	out->data[out->len++] = '"';
	out->data[out->len] = '\0';
	return 0;
}

int dd__escape_invalid_utf8(struct dd__buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	int rc = 0;

	while (i < len && rc == 0) {
		n = utf8_seq(p + i, len - i);
		if (n == 0 || p[i] == 0) {
			rc = dd__buf_printf(out, "\\x%02x", p[i]);
			i++;
		} else {
			rc = dd__buf_put(out, p + i, n);
			i += n;
		}
	}
	return rc;
}

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int dd__base64(struct dd__buf *out, const unsigned char *p, size_t len)
{
	size_t i;
	char q[4];
	uint32_t v;

	for (i = 0; i < len; i += 3) {
		v = (uint32_t)p[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		q[0] = b64[(v >> 18) & 63];
		q[1] = b64[(v >> 12) & 63];
		q[2] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		q[3] = i + 2 < len ? b64[v & 63] : '=';
		if (dd__buf_put(out, q, 4))
			return DD_ENOMEM;
	}
	return 0;
}

static int b64val(char c)
{
	const char *p = c ? strchr(b64, c) : NULL;

	return p ? (int)(p - b64) : -1;
}

int dd__base64_decode(struct dd__buf *out, const char *s, size_t len)
{
	size_t i;
	int v[4], k;
	unsigned char o[3];

	out->len = 0;
	if (len % 4)
		return -1;
	for (i = 0; i < len; i += 4) {
		int pad = 0;

		for (k = 0; k < 4; k++) {
			if (s[i + k] == '=' && i + 4 == len && k >= 2) {
				v[k] = 0;
				pad++;
			} else if (pad || (v[k] = b64val(s[i + k])) < 0) {
				return -1;
			}
		}
		o[0] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		o[1] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		o[2] = (unsigned char)((v[2] & 3) << 6 | v[3]);
		if (dd__buf_put(out, o, 3 - (size_t)pad))
			return DD_ENOMEM;
	}
	if (dd__buf_grow(out, 0))
		return DD_ENOMEM;
	return 0;
}

void dd__hex(char *out, const unsigned char *p, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * len] = '\0';
}

int dd__unhex(unsigned char *out, const char *hex, size_t len)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < len; i++) {
		char a = hex[2 * i], b = hex[2 * i + 1];

		hi = a >= '0' && a <= '9' ? a - '0' : a >= 'a' && a <= 'f' ? a - 'a' + 10 : -1;
		lo = b >= '0' && b <= '9' ? b - '0' : b >= 'a' && b <= 'f' ? b - 'a' + 10 : -1;
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}
