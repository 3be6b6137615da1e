/*
 * Ignore patterns, gitignore-style, over absolute container paths. A path
 * is ignored when the last pattern that matches it (or a directory above
 * it) is not a "!" pattern; as in git, nothing below an ignored directory
 * can be re-included.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

struct pattern {
	char **segs;       /* the pattern split at '/'; "**" is its own segment */
	size_t nsegs;
	bool negate;
	bool dir_only;
	bool exact;        /* built-in: the path itself, not what lies below it */
	bool literal;      /* segments are names, not globs (dd_ignore_add_path) */
	char *reason;      /* "FILE:LINE: PATTERN" or the built-in reason */
};

struct dd_ignore {
	struct dd_ctx *ctx;
	struct pattern *p;
	size_t n, cap;
};

int dd_ignore_new(struct dd_ignore **out, struct dd_ctx *ctx)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return dd__error(ctx, DD_ENOMEM, "out of memory");
	(*out)->ctx = ctx;
	return 0;
}

void dd_ignore_free(struct dd_ignore *ign)
{
	size_t i, j;

	if (!ign)
		return;
	for (i = 0; i < ign->n; i++) {
		for (j = 0; j < ign->p[i].nsegs; j++)
			free(ign->p[i].segs[j]);
		free(ign->p[i].segs);
		free(ign->p[i].reason);
	}
	free(ign->p);
	free(ign);
}

static int add_segment(struct pattern *p, const char *s, size_t n)
{
	char **segs = realloc(p->segs, (p->nsegs + 1) * sizeof(*segs));

	if (!segs)
		return DD_ENOMEM;
	p->segs = segs;
	if (!(segs[p->nsegs] = strndup(s, n)))
		return DD_ENOMEM;
	p->nsegs++;
	return 0;
}

int dd_ignore_add(struct dd_ignore *ign, const char *pattern, const char *source)
{
	struct pattern p = { 0 };
	const char *s = pattern, *slash;
	size_t len = strlen(pattern), i;
	bool anchored;
	int rc = DD_ENOMEM;

	while (len && (s[len - 1] == '\n' || s[len - 1] == '\r' ||
		       (s[len - 1] == ' ' && (len < 2 || s[len - 2] != '\\'))))
		len--;
	if (len == 0 || s[0] == '#')
		return 0;
	if (s[0] == '!') {
		p.negate = true;
		s++;
		len--;
	}
	if (len && s[len - 1] == '/') {
		p.dir_only = true;
		len--;
	}
	if (len == 0)
		return dd__error(ign->ctx, DD_EINVAL, "%s: empty ignore pattern", source);
	/* A '/' at the start or in the middle anchors the pattern at the root. */
	anchored = memchr(s, '/', len) != NULL;
	if (!anchored && add_segment(&p, "**", 2))
		goto out;
	while (len) {
		while (len && *s == '/')
			s++, len--;
		if (!len)
			break;
		slash = memchr(s, '/', len);
		i = slash ? (size_t)(slash - s) : len;
		if (add_segment(&p, s, i))
			goto out;
		s += i;
		len -= i;
	}
	if (dd__grow(&ign->p, &ign->cap, ign->n, sizeof(*ign->p)))
		goto out;
	if (!(p.reason = strdup(source)))
		goto out;
	ign->p[ign->n++] = p;
	return 0;
out:
	for (i = 0; i < p.nsegs; i++)
		free(p.segs[i]);
	free(p.segs);
	return dd__error(ign->ctx, rc, "out of memory");
}

int dd_ignore_load(struct dd_ignore *ign, const char *path)
{
	struct dd__buf src = DD__BUF_INIT;
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	int rc = 0;

	if (!f)
		return dd__error(ign->ctx, errno == ENOENT ? DD_ENOTFOUND : DD_EIO, "%s: %s", path,
				 strerror(errno));
	while (rc == 0 && getline(&line, &cap, f) >= 0) {
		lineno++;
		src.len = 0;
		if (dd__buf_printf(&src, "%s:%zu: %s", path, lineno, line)) {
			rc = dd__error(ign->ctx, DD_ENOMEM, "out of memory");
			break;
		}
		while (src.len && strchr("\n\r \t", src.data[src.len - 1]))
			src.data[--src.len] = '\0';
		rc = dd_ignore_add(ign, line, src.data);
	}
	if (rc == 0 && ferror(f))
		rc = dd__error(ign->ctx, DD_EIO, "%s: %s", path, strerror(errno));
	free(line);
	dd__buf_free(&src);
	fclose(f);
	return rc;
}

/*
 * What the runtime itself puts in every container. Mount points are
 * ignored as entries only ("exact"): a file dropped into /dev/shm of an
 * exported container is still reported.
 */
static const struct {
	const char *pattern;
	bool exact;
	const char *reason;
} defaults[] = {
	{ "/.dockerenv", true, "default: created by Docker in every container" },
	{ "/run/.containerenv", true, "default: created by Podman in every container" },
	{ "/etc/hosts", true, "default: bind-mounted by the container runtime" },
	{ "/etc/hostname", true, "default: bind-mounted by the container runtime" },
	{ "/etc/resolv.conf", true, "default: bind-mounted by the container runtime" },
	{ "/etc/mtab", true, "default: link created by the container runtime" },
	{ "/proc/", false, "default: kernel filesystem mounted by the runtime" },
	{ "/sys/", false, "default: kernel filesystem mounted by the runtime" },
	{ "/dev", true, "default: device directory set up by the runtime" },
	{ "/dev/console", true, "default: device set up by the runtime" },
	{ "/dev/pts", true, "default: mount point set up by the runtime" },
	{ "/dev/shm", true, "default: mount point set up by the runtime" },
	{ "/dev/mqueue", true, "default: mount point set up by the runtime" },
	{ "/run/secrets", true, "default: mount point for Docker or Kubernetes secrets" },
};

int dd_ignore_add_defaults(struct dd_ignore *ign)
{
	size_t i;
	int rc;

	for (i = 0; i < DD_ARRAY_SIZE(defaults); i++) {
		rc = dd_ignore_add(ign, defaults[i].pattern, defaults[i].reason);
		if (rc)
			return rc;
		ign->p[ign->n - 1].exact = defaults[i].exact;
	}
	return 0;
}

int dd_ignore_add_path(struct dd_ignore *ign, const char *path, size_t len, bool subtree,
		       const char *reason)
{
	struct pattern *p;
	size_t i = 0, start;
	char **segs;

	if (dd__grow(&ign->p, &ign->cap, ign->n, sizeof(*ign->p)))
		return dd__error(ign->ctx, DD_ENOMEM, "out of memory");
	p = &ign->p[ign->n];
	memset(p, 0, sizeof(*p));
	p->literal = true;
	p->exact = !subtree;
	while (i < len) {
		while (i < len && path[i] == '/')
			i++;
		start = i;
		while (i < len && path[i] != '/')
			i++;
		if (i > start && add_segment(p, path + start, i - start))
			goto fail;
	}
	/* The root itself is never a mount point to ignore. */
	if (!p->nsegs || !(p->reason = strdup(reason)))
		goto fail;
	ign->n++;
	return 0;
fail:
	segs = p->segs;
	for (i = 0; i < p->nsegs; i++)
		free(segs[i]);
	free(segs);
	if (!p->nsegs)
		return dd__error(ign->ctx, DD_EINVAL, "%s: not a path below the root", reason);
	return dd__error(ign->ctx, DD_ENOMEM, "out of memory");
}

/* Match pattern segments against path components; "**" takes any number. */
static bool match_segs(char *const *segs, size_t ns, const char *const *comps, const size_t *lens,
		       size_t nc, bool literal)
{
	char name[4097]; /* no component of a path within max_path is longer */
	size_t k;

	while (ns) {
		if (!literal && !strcmp(segs[0], "**")) {
			/* A trailing "**" is everything inside: at least one component. */
			for (k = ns == 1 ? 1 : 0; k <= nc; k++)
				if (match_segs(segs + 1, ns - 1, comps + k, lens + k, nc - k, literal))
					return true;
			return false;
		}
		if (!nc || lens[0] >= sizeof(name))
			return false;
		if (literal) {
			if (strlen(segs[0]) != lens[0] || memcmp(segs[0], comps[0], lens[0]))
				return false;
			segs++, ns--;
			comps++, lens++, nc--;
			continue;
		}
		memcpy(name, comps[0], lens[0]);
		name[lens[0]] = '\0';
		if (fnmatch(segs[0], name, 0) != 0)
			return false;
		segs++, ns--;
		comps++, lens++, nc--;
	}
	return nc == 0;
}

const char *dd_ignore_match(const struct dd_ignore *ign, const char *path, size_t len,
			    bool is_dir)
{
	const char *comps[512];
	size_t lens[512], nc = 0, i = 0, depth, k;

	if (!ign || !ign->n)
		return NULL;
	while (i < len && nc < DD_ARRAY_SIZE(comps)) {
		size_t start;

		while (i < len && path[i] == '/')
			i++;
		start = i;
		while (i < len && path[i] != '/')
			i++;
		if (i > start) {
			comps[nc] = path + start;
			lens[nc++] = i - start;
		}
	}
	/* Each ancestor first, as git does: an ignored directory hides all below it. */
	for (depth = 1; depth <= nc; depth++) {
		bool dir = depth < nc || is_dir;
		const char *hit = NULL;

		for (k = ign->n; k-- > 0;) {
			const struct pattern *p = &ign->p[k];

			if ((p->dir_only && !dir) || (p->exact && depth < nc))
				continue;
			if (match_segs(p->segs, p->nsegs, comps, lens, depth, p->literal)) {
				/* The last matching pattern decides. */
				hit = p->negate ? NULL : p->reason;
				break;
			}
		}
		if (hit)
			return hit;
	}
	return NULL;
}
