/*
 * The manifest cache: the saved-manifest form of an image's tree, keyed by
 * its manifest digest (the config digest for docker archives that record
 * no manifest) and the driftdiff version, so platform teams that scan many
 * containers of one image read its layers once. Entries are written to a
 * temporary file and renamed into place, so concurrent runs never see half
 * an entry; one that fails to load is ignored and replaced.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "image_private.h"

char *dd_default_cache_dir(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	struct dd__buf b = DD__BUF_INIT;

	if (xdg && xdg[0] == '/') {
		if (dd__buf_printf(&b, "%s/driftdiff", xdg))
			goto fail;
	} else if (home && home[0] == '/') {
		if (dd__buf_printf(&b, "%s/.cache/driftdiff", home))
			goto fail;
	} else {
		return NULL;
	}
	return dd__buf_detach(&b);
fail:
	dd__buf_free(&b);
	return NULL;
}

/* The cache file's name for IMG, or false when the image has no stable key. */
static bool entry_name(struct dd_image *img, struct dd__buf *out)
{
	const char *key = img->manifest_digest ? img->manifest_digest : img->config_digest;
	const char *colon;

	if (!key || !(colon = strchr(key, ':')) || img->format == DD_IMAGE_SAVED_MANIFEST)
		return false;
	out->len = 0;
	return dd__buf_printf(out, "%s/%.*s-%s.v%s.manifest", img->cache_dir, (int)(colon - key), key,
			      colon + 1, dd_version()) == 0;
}

/*
 * Only a directory of the caller's own, writable by nobody else: a cache
 * another user can write would let them decide what the image "contains".
 */
static bool safe_dir(const char *dir, bool create)
{
	struct stat st;

	if (create && mkdir(dir, 0700) != 0 && errno != EEXIST) {
		/* ~/.cache itself may be missing. */
		char *parent = strdup(dir), *slash = parent ? strrchr(parent, '/') : NULL;

		if (slash && slash != parent) {
			*slash = '\0';
			mkdir(parent, 0700);
		}
		free(parent);
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return false;
	}
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022))
		return false;
	return true;
}

struct dd_tree *dd__cache_load(struct dd_image *img)
{
	struct dd__buf name = DD__BUF_INIT;
	struct dd_tree *tree = NULL;
	struct stat st;
	FILE *f = NULL;
	int fd, code = img->ctx->code;
	char *msg = img->ctx->msg;

	img->ctx->msg = NULL;
	if (!safe_dir(img->cache_dir, false) || !entry_name(img, &name))
		goto out;
	fd = open(name.data, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		goto out;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || !(f = fdopen(fd, "r"))) {
		close(fd);
		goto out;
	}
	if (dd__saved_read(img, f, name.data, false, &tree) != 0) {
		/* Damaged or foreign: treat as a miss; the rebuilt tree replaces it. */
		dd__image_warn(img, "manifest cache: %s", img->ctx->msg ? img->ctx->msg : "unreadable entry");
		tree = NULL;
	}
out:
	if (f)
		fclose(f);
	dd__buf_free(&name);
	free(img->ctx->msg);
	img->ctx->msg = msg;
	img->ctx->code = code;
	return tree;
}

void dd__cache_store(struct dd_image *img)
{
	struct dd__buf name = DD__BUF_INIT, tmp = DD__BUF_INIT;
	FILE *f = NULL;
	int fd = -1, code = img->ctx->code, ok = 0;
	char *msg = img->ctx->msg;

	img->ctx->msg = NULL;
	if (!safe_dir(img->cache_dir, true) || !entry_name(img, &name) ||
	    dd__buf_printf(&tmp, "%s.tmpXXXXXX", name.data))
		goto out;
	fd = mkstemp(tmp.data);
	if (fd < 0 || !(f = fdopen(fd, "w")))
		goto out;
	fd = -1;
	ok = dd_image_save(img, f) == 0;
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		ok = 0;
	if (fclose(f) != 0)
		ok = 0;
	f = NULL;
	if (!ok || rename(tmp.data, name.data) != 0)
		unlink(tmp.data);
out:
	if (fd >= 0)
		close(fd);
	if (f)
		fclose(f);
	dd__buf_free(&name);
	dd__buf_free(&tmp);
	/* A cache that cannot be written costs time, never the result. */
	free(img->ctx->msg);
	img->ctx->msg = msg;
	img->ctx->code = code;
}
