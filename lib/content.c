/*
 * What a file is, judged by its first bytes; and which files are worth
 * keeping whole because findings parse them.
 */
#include <string.h>

#include "private.h"

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

static bool is(const char *s, size_t len, const char *lit)
{
	return len == strlen(lit) && memcmp(s, lit, len) == 0;
}

/* The component of PATH that ends at END (exclusive), as pointer and length. */
static const char *component_before(const char *path, size_t end, size_t *len)
{
	size_t start = end;

	while (start > 0 && path[start - 1] != '/')
		start--;
	*len = end - start;
	return path + start;
}

bool dd_entry_content_kept(const char *path, size_t len)
{
	static const char *const exact[] = {
		"/var/lib/dpkg/status", "/lib/apk/db/installed", "/etc/passwd", "/etc/group",
		"/etc/ld.so.preload", "/etc/sudoers",
	};
	size_t i, blen, plen, gplen, ggplen;
	const char *base, *parent, *gp, *ggp;

	for (i = 0; i < DD_ARRAY_SIZE(exact); i++)
		if (is(path, len, exact[i]))
			return true;
	if (len > 26 && !memcmp(path, "/var/lib/dpkg/status.d/", 23))
		return true;
	if (len > 19 && !memcmp(path, "/var/lib/dpkg/info/", 19) && !memchr(path + 19, '/', len - 19))
		return ends_with(path, len, ".md5sums") || ends_with(path, len, ".list");
	base = component_before(path, len, &blen);
	if (base == path)
		return false;
	parent = component_before(path, (size_t)(base - path) - 1, &plen);
	/* Python: site-packages/NAME.dist-info/{METADATA,RECORD}, NAME.egg-info/PKG-INFO */
	if (ends_with(parent, plen, ".dist-info") && (is(base, blen, "METADATA") || is(base, blen, "RECORD")))
		return true;
	if (ends_with(parent, plen, ".egg-info") && is(base, blen, "PKG-INFO"))
		return true;
	/*
	 * npm: node_modules/NAME/package.json and node_modules/@SCOPE/NAME/package.json.
	 * "/package.json" has no parent and "/NAME/package.json" no grandparent
	 * to look at (PARENT is then PATH itself, or the first component).
	 */
	if (!is(base, blen, "package.json") || parent <= path + 1)
		return false;
	gp = component_before(path, (size_t)(parent - path) - 1, &gplen);
	if (is(gp, gplen, "node_modules"))
		return true;
	if (gplen && gp[0] == '@' && gp > path + 1) {
		ggp = component_before(path, (size_t)(gp - path) - 1, &ggplen);
		return is(ggp, ggplen, "node_modules");
	}
	return false;
}

size_t dd__head_len(const unsigned char *p, size_t n)
{
	return n > DD__TEXT_HEAD && !memchr(p, '\0', DD__TEXT_HEAD) ? DD__TEXT_HEAD : n;
}

void dd__exec_sniff(const void *data, size_t n, uint8_t *exec, uint16_t *machine)
{
	const unsigned char *p = data;

	*exec = DD_EXEC_NONE;
	*machine = 0;
	if (n >= 4 && p[0] == 0x7f && p[1] == 'E' && p[2] == 'L' && p[3] == 'F') {
		*exec = DD_EXEC_ELF;
		/* e_machine at offset 18, in the byte order EI_DATA (offset 5) names. */
		if (n >= 20)
			*machine = p[5] == 2 ? (uint16_t)(p[18] << 8 | p[19])
					     : (uint16_t)(p[19] << 8 | p[18]);
	} else if (n >= 2 && p[0] == '#' && p[1] == '!') {
		*exec = DD_EXEC_SCRIPT;
	}
}
