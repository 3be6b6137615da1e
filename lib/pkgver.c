/*
 * Version ordering for each package ecosystem, so a changed version can be
 * told apart as an upgrade or a downgrade. Versions come from databases an
 * attacker may have written: every parser here accepts any bytes, and a
 * version outside its syntax falls back to strcmp.
 */
#include <string.h>

#include "pkgdb.h"

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int sign(int v)
{
	return v < 0 ? -1 : v > 0;
}

/* Two runs of decimal digits of any length, compared as numbers. */
static int numcmp(const char *a, size_t an, const char *b, size_t bn)
{
	while (an && *a == '0')
		a++, an--;
	while (bn && *b == '0')
		b++, bn--;
	if (an != bn)
		return an < bn ? -1 : 1;
	return sign(memcmp(a, b, an));
}

static size_t digits(const char *s, size_t i, size_t n)
{
	size_t k = i;

	while (k < n && is_digit((unsigned char)s[k]))
		k++;
	return k - i;
}

/* ---- dpkg: deb-version(7) ---- */

/* "~" sorts before everything, even the end; letters before other symbols. */
static int dpkg_order(int c)
{
	if (is_digit(c))
		return 0;
	if (is_alpha(c))
		return c;
	if (c == '~')
		return -1;
	if (c)
		return c + 256;
	return 0;
}

/* The comparison of deb-version(7): alternating non-digit and digit runs. */
static int verrevcmp(const char *a, size_t an, const char *b, size_t bn)
{
	size_t i = 0, j = 0;

	while (i < an || j < bn) {
		int first_diff = 0;

		while ((i < an && !is_digit((unsigned char)a[i])) || (j < bn && !is_digit((unsigned char)b[j]))) {
			int ac = i < an ? dpkg_order((unsigned char)a[i]) : 0;
			int bc = j < bn ? dpkg_order((unsigned char)b[j]) : 0;

			if (ac != bc)
				return sign(ac - bc);
			if (i < an)
				i++;
			if (j < bn)
				j++;
		}
		while (i < an && a[i] == '0')
			i++;
		while (j < bn && b[j] == '0')
			j++;
		while (i < an && j < bn && is_digit((unsigned char)a[i]) && is_digit((unsigned char)b[j])) {
			if (!first_diff)
				first_diff = a[i] - b[j];
			i++;
			j++;
		}
		if (i < an && is_digit((unsigned char)a[i]))
			return 1;
		if (j < bn && is_digit((unsigned char)b[j]))
			return -1;
		if (first_diff)
			return sign(first_diff);
	}
	return 0;
}

struct debver {
	const char *epoch, *upstream, *revision;
	size_t epoch_len, upstream_len, revision_len;
};

static bool debver_split(struct debver *v, const char *s)
{
	const char *colon = strchr(s, ':'), *dash;
	size_t n;

	if (colon) {
		v->epoch = s;
		v->epoch_len = (size_t)(colon - s);
		if (!v->epoch_len || digits(s, 0, v->epoch_len) != v->epoch_len)
			return false;
		s = colon + 1;
	} else {
		v->epoch = "0";
		v->epoch_len = 1;
	}
	n = strlen(s);
	/* The revision follows the last hyphen. */
	for (dash = s + n; dash > s && dash[-1] != '-'; dash--)
		;
	dash = dash > s ? dash - 1 : NULL;
	v->upstream = s;
	v->upstream_len = dash ? (size_t)(dash - s) : n;
	v->revision = dash ? dash + 1 : "";
	v->revision_len = dash ? n - v->upstream_len - 1 : 0;
	return v->upstream_len > 0;
}

int dd__ver_cmp_dpkg(const char *a, const char *b)
{
	struct debver x, y;
	int c;

	if (!debver_split(&x, a) || !debver_split(&y, b))
		return sign(strcmp(a, b));
	c = numcmp(x.epoch, x.epoch_len, y.epoch, y.epoch_len);
	if (!c)
		c = verrevcmp(x.upstream, x.upstream_len, y.upstream, y.upstream_len);
	if (!c)
		c = verrevcmp(x.revision, x.revision_len, y.revision, y.revision_len);
	return c;
}

/* ---- apk: digit{.digit}...{letter}{_suffix{N}}...{~hash}{-rN} ---- */

/* Token kinds in the order they may appear; at a difference, earlier is newer. */
enum apk_tok { AT_NUM, AT_LETTER, AT_SUFFIX, AT_HASH, AT_REV, AT_END, AT_BAD };

struct apk_lex {
	const char *s;
	size_t i, n;
	enum apk_tok kind;
	const char *p;       /* the token's digits (NUM, SUFFIX, REV) or letter */
	size_t len;
	int rank;            /* suffixes: <0 before a release, >0 after */
	bool first;          /* the first number */
};

static const struct {
	const char *name;
	int rank;
} apk_suffixes[] = {
	/* Longest first where one is a prefix of another ("pre" / "p"). */
	{ "alpha", -4 }, { "beta", -3 }, { "pre", -2 }, { "rc", -1 },
	{ "cvs", 1 }, { "svn", 2 }, { "git", 3 }, { "hg", 4 }, { "p", 5 },
};

static void apk_next(struct apk_lex *l)
{
	enum apk_tok prev = l->kind;
	const char *s = l->s;
	size_t i = l->i, k;

	l->first = false;
	l->len = 0;
	if (i >= l->n) {
		l->kind = AT_END;
		return;
	}
	l->kind = AT_BAD;
	if (prev == AT_BAD && i == 0) {
		l->first = true;
		l->kind = AT_NUM;
		l->p = s;
		l->len = digits(s, 0, l->n);
		l->i = l->len;
		if (!l->len)
			l->kind = AT_BAD;
		return;
	}
	if (s[i] == '.' && prev == AT_NUM && (k = digits(s, i + 1, l->n))) {
		l->kind = AT_NUM;
		l->p = s + i + 1;
		l->len = k;
		l->i = i + 1 + k;
	} else if (s[i] >= 'a' && s[i] <= 'z' && prev == AT_NUM) {
		l->kind = AT_LETTER;
		l->p = s + i;
		l->len = 1;
		l->i = i + 1;
	} else if (s[i] == '_' && prev <= AT_SUFFIX) {
		size_t t;

		for (t = 0; t < DD_ARRAY_SIZE(apk_suffixes); t++) {
			size_t m = strlen(apk_suffixes[t].name);

			if (l->n - i - 1 >= m && !memcmp(s + i + 1, apk_suffixes[t].name, m)) {
				l->kind = AT_SUFFIX;
				l->rank = apk_suffixes[t].rank;
				l->p = s + i + 1 + m;
				l->len = digits(s, i + 1 + m, l->n);
				l->i = i + 1 + m + l->len;
				break;
			}
		}
	} else if (s[i] == '~' && prev < AT_HASH) {
		k = i + 1;
		while (k < l->n && (is_digit((unsigned char)s[k]) || (s[k] >= 'a' && s[k] <= 'f')))
			k++;
		if (k > i + 1) {
			l->kind = AT_HASH;
			l->i = k;
		}
	} else if (s[i] == '-' && i + 1 < l->n && s[i + 1] == 'r' && prev < AT_REV &&
		   (k = digits(s, i + 2, l->n))) {
		l->kind = AT_REV;
		l->p = s + i + 2;
		l->len = k;
		l->i = i + 2 + k;
	}
}

static bool apk_valid(const char *s)
{
	struct apk_lex l = { s, 0, strlen(s), AT_BAD, NULL, 0, 0, false };

	do
		apk_next(&l);
	while (l.kind != AT_END && l.kind != AT_BAD);
	return l.kind == AT_END;
}

int dd__ver_cmp_apk(const char *a, const char *b)
{
	struct apk_lex x = { a, 0, strlen(a), AT_BAD, NULL, 0, 0, false };
	struct apk_lex y = { b, 0, strlen(b), AT_BAD, NULL, 0, 0, false };
	int c;

	if (!apk_valid(a) || !apk_valid(b))
		return sign(strcmp(a, b));
	for (;;) {
		apk_next(&x);
		apk_next(&y);
		if (x.kind != y.kind) {
			/* A pre-release suffix makes a version older than whatever the other has. */
			if (x.kind == AT_SUFFIX && x.rank < 0)
				return -1;
			if (y.kind == AT_SUFFIX && y.rank < 0)
				return 1;
			return x.kind < y.kind ? 1 : -1;
		}
		switch (x.kind) {
		case AT_NUM:
			/* After a dot, a leading zero makes the part a decimal fraction. */
			if (!x.first && (x.p[0] == '0' || y.p[0] == '0')) {
				c = memcmp(x.p, y.p, x.len < y.len ? x.len : y.len);
				c = c ? c : (int)(x.len > y.len) - (int)(x.len < y.len);
			} else {
				c = numcmp(x.p, x.len, y.p, y.len);
			}
			break;
		case AT_LETTER:
			c = x.p[0] - y.p[0];
			break;
		case AT_SUFFIX:
			c = x.rank != y.rank ? x.rank - y.rank : numcmp(x.p, x.len, y.p, y.len);
			break;
		case AT_REV:
			c = numcmp(x.p, x.len, y.p, y.len);
			break;
		case AT_HASH:
			c = 0;
			break;
		default:
			return 0;
		}
		if (c)
			return sign(c);
	}
}

/* ---- Python: PEP 440 ---- */

struct pepver {
	const char *epoch, *release, *pre, *post, *dev, *local;
	size_t epoch_len, release_len, pre_len, post_len, dev_len, local_len;
	int pre_kind;       /* 0 none, 1 a, 2 b, 3 rc */
	bool has_post, has_dev;
};

/* Match WORD case-insensitively at S[*i]; advance past it. */
static bool word_at(const char *s, size_t n, size_t *i, const char *word)
{
	size_t m = strlen(word), k;

	if (n - *i < m)
		return false;
	for (k = 0; k < m; k++)
		if (lower((unsigned char)s[*i + k]) != word[k])
			return false;
	*i += m;
	return true;
}

static bool pep_sep(const char *s, size_t n, size_t *i)
{
	if (*i < n && (s[*i] == '.' || s[*i] == '-' || s[*i] == '_')) {
		(*i)++;
		return true;
	}
	return false;
}

/* An optional separator and number after a pre/post/dev word. */
static void pep_num(const char *s, size_t n, size_t *i, const char **p, size_t *len)
{
	size_t save = *i;

	pep_sep(s, n, i);
	*len = digits(s, *i, n);
	if (!*len) {
		*i = save;
		*p = "0";
		*len = 1;
		return;
	}
	*p = s + *i;
	*i += *len;
}

static bool pep_parse(struct pepver *v, const char *s)
{
	static const struct {
		const char *word;
		int kind;
	} pres[] = { { "alpha", 1 }, { "a", 1 }, { "beta", 2 }, { "b", 2 }, { "preview", 3 },
		     { "pre", 3 }, { "rc", 3 }, { "c", 3 } };
	size_t n = strlen(s), i = 0, k, save, t;

	memset(v, 0, sizeof(*v));
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i < n && lower((unsigned char)s[i]) == 'v')
		i++;
	k = digits(s, i, n);
	if (k && i + k < n && s[i + k] == '!') {
		v->epoch = s + i;
		v->epoch_len = k;
		i += k + 1;
	} else {
		v->epoch = "0";
		v->epoch_len = 1;
	}
	v->release = s + i;
	for (;;) {
		k = digits(s, i, n);
		if (!k)
			return false;
		i += k;
		if (i + 1 < n && s[i] == '.' && is_digit((unsigned char)s[i + 1]))
			i++;
		else
			break;
	}
	v->release_len = (size_t)(s + i - v->release);
	save = i;
	pep_sep(s, n, &i);
	for (t = 0; t < DD_ARRAY_SIZE(pres); t++)
		if (word_at(s, n, &i, pres[t].word)) {
			v->pre_kind = pres[t].kind;
			pep_num(s, n, &i, &v->pre, &v->pre_len);
			break;
		}
	if (!v->pre_kind)
		i = save;
	save = i;
	if (i < n && s[i] == '-' && digits(s, i + 1, n)) {
		v->has_post = true;
		v->post = s + i + 1;
		v->post_len = digits(s, i + 1, n);
		i += 1 + v->post_len;
	} else {
		pep_sep(s, n, &i);
		if (word_at(s, n, &i, "post") || word_at(s, n, &i, "rev") || word_at(s, n, &i, "r")) {
			v->has_post = true;
			pep_num(s, n, &i, &v->post, &v->post_len);
		} else {
			i = save;
		}
	}
	save = i;
	pep_sep(s, n, &i);
	if (word_at(s, n, &i, "dev")) {
		v->has_dev = true;
		pep_num(s, n, &i, &v->dev, &v->dev_len);
	} else {
		i = save;
	}
	if (i < n && s[i] == '+') {
		v->local = s + i + 1;
		v->local_len = n - i - 1;
		if (!v->local_len)
			return false;
		for (k = i + 1; k < n; k++)
			if (!is_digit((unsigned char)s[k]) && !is_alpha((unsigned char)s[k]) &&
			    s[k] != '.' && s[k] != '-' && s[k] != '_')
				return false;
		i = n;
	}
	return i == n;
}

/* Release segments, the shorter padded with zeros ("1.0" == "1.0.0"). */
static int release_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	size_t i = 0, j = 0;

	while (i < an || j < bn) {
		size_t x = digits(a, i, an), y = digits(b, j, bn);
		int c = numcmp(a + i, x, b + j, y);

		if (c)
			return c;
		i += x + (i + x < an);
		j += y + (j + y < bn);
	}
	return 0;
}

static int local_cmp(const struct pepver *x, const struct pepver *y)
{
	size_t k;

	if (!x->local_len || !y->local_len)
		return (int)(x->local_len > 0) - (int)(y->local_len > 0);
	for (k = 0; k < x->local_len && k < y->local_len; k++)
		if (lower((unsigned char)x->local[k]) != lower((unsigned char)y->local[k]))
			return lower((unsigned char)x->local[k]) < lower((unsigned char)y->local[k]) ? -1 : 1;
	return (int)(x->local_len > y->local_len) - (int)(x->local_len < y->local_len);
}

int dd__ver_cmp_pep440(const char *a, const char *b)
{
	struct pepver x, y;
	int c, xp, yp;

	if (!pep_parse(&x, a) || !pep_parse(&y, b))
		return sign(strcmp(a, b));
	c = numcmp(x.epoch, x.epoch_len, y.epoch, y.epoch_len);
	if (!c)
		c = release_cmp(x.release, x.release_len, y.release, y.release_len);
	if (c)
		return c;
	/* A bare .devN comes before the pre-releases of its release; no pre-release after them all. */
	xp = x.pre_kind ? x.pre_kind : (x.has_dev && !x.has_post) ? 0 : 4;
	yp = y.pre_kind ? y.pre_kind : (y.has_dev && !y.has_post) ? 0 : 4;
	if (xp != yp)
		return xp < yp ? -1 : 1;
	if (x.pre_kind && (c = numcmp(x.pre, x.pre_len, y.pre, y.pre_len)))
		return c;
	if (x.has_post != y.has_post)
		return x.has_post ? 1 : -1;
	if (x.has_post && (c = numcmp(x.post, x.post_len, y.post, y.post_len)))
		return c;
	if (x.has_dev != y.has_dev)
		return x.has_dev ? -1 : 1;
	if (x.has_dev && (c = numcmp(x.dev, x.dev_len, y.dev, y.dev_len)))
		return c;
	return local_cmp(&x, &y);
}

/* ---- npm: SemVer 2.0.0 ---- */

struct semver {
	const char *part[3];
	size_t part_len[3];
	const char *pre;      /* prerelease identifiers, or NULL */
	size_t pre_len;
};

static bool ident_char(int c)
{
	return is_digit(c) || is_alpha(c) || c == '-';
}

/* Dot-separated non-empty identifiers of [0-9A-Za-z-]. */
static bool idents(const char *s, size_t n)
{
	size_t i, run = 0;

	for (i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (!run)
				return false;
			run = 0;
		} else if (ident_char((unsigned char)s[i])) {
			run++;
		} else {
			return false;
		}
	}
	return run > 0;
}

static bool semver_parse(struct semver *v, const char *s)
{
	size_t n = strlen(s), i = 0, k, p;
	const char *plus;

	memset(v, 0, sizeof(*v));
	if (i < n && (s[i] == 'v' || s[i] == '='))
		i++;
	for (p = 0; p < 3; p++) {
		k = digits(s, i, n);
		if (!k)
			return false;
		v->part[p] = s + i;
		v->part_len[p] = k;
		i += k;
		if (p < 2) {
			if (i >= n || s[i] != '.')
				return false;
			i++;
		}
	}
	plus = memchr(s + i, '+', n - i);
	if (plus) {
		if (!idents(plus + 1, (size_t)(s + n - plus - 1)))
			return false;
		n = (size_t)(plus - s);
	}
	if (i < n) {
		if (s[i] != '-' || !idents(s + i + 1, n - i - 1))
			return false;
		v->pre = s + i + 1;
		v->pre_len = n - i - 1;
	}
	return true;
}

int dd__ver_cmp_semver(const char *a, const char *b)
{
	struct semver x, y;
	size_t p, i = 0, j = 0;
	int c;

	if (!semver_parse(&x, a) || !semver_parse(&y, b))
		return sign(strcmp(a, b));
	for (p = 0; p < 3; p++)
		if ((c = numcmp(x.part[p], x.part_len[p], y.part[p], y.part_len[p])))
			return c;
	/* A prerelease has lower precedence than its release. */
	if (!x.pre || !y.pre)
		return (int)(!x.pre && y.pre) - (int)(x.pre && !y.pre);
	while (i < x.pre_len && j < y.pre_len) {
		const char *xe = memchr(x.pre + i, '.', x.pre_len - i), *ye = memchr(y.pre + j, '.', y.pre_len - j);
		size_t xl = xe ? (size_t)(xe - x.pre - i) : x.pre_len - i;
		size_t yl = ye ? (size_t)(ye - y.pre - j) : y.pre_len - j;
		bool xn = digits(x.pre, i, i + xl) == xl, yn = digits(y.pre, j, j + yl) == yl;

		if (xn && yn)
			c = numcmp(x.pre + i, xl, y.pre + j, yl);
		else if (xn != yn)
			c = xn ? -1 : 1;   /* numeric identifiers sort first */
		else if (!(c = sign(memcmp(x.pre + i, y.pre + j, xl < yl ? xl : yl))))
			c = (int)(xl > yl) - (int)(xl < yl);
		if (c)
			return c;
		i += xl + 1;
		j += yl + 1;
	}
	/* Equal so far: more identifiers is higher. */
	return (int)(i < x.pre_len) - (int)(j < y.pre_len);
}

int dd__ver_cmp(enum dd__eco eco, const char *a, const char *b)
{
	switch (eco) {
	case DD__ECO_DPKG: return dd__ver_cmp_dpkg(a, b);
	case DD__ECO_APK: return dd__ver_cmp_apk(a, b);
	case DD__ECO_PYTHON: return dd__ver_cmp_pep440(a, b);
	case DD__ECO_NPM: return dd__ver_cmp_semver(a, b);
	}
	return sign(strcmp(a, b));
}

const char *dd__eco_name(enum dd__eco eco)
{
	static const char *const names[] = { "dpkg", "apk", "python", "npm" };

	return (unsigned)eco < DD_ARRAY_SIZE(names) ? names[eco] : "?";
}
