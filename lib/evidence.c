/*
 * Evidence: copies of the executables a container gained, for later
 * analysis. Files are read the same way as the walk reads them (never
 * through a symlink, never a device or FIFO) or streamed again out of an
 * export tar, and written into the evidence directory under their SHA-256,
 * read-only, with O_EXCL|O_NOFOLLOW so nothing already there is touched.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include "digest.h"
#include "listing.h"
#include "os.h"

struct evidence {
	struct dd_ctx *ctx;
	const char *dir;
	int dirfd;
	struct dd__hasher *h;
	const struct dd_change **want;   /* sorted by path */
	size_t nwant;
	struct json_object *index;
	size_t copied;
	unsigned tmpseq;
};

/* A temporary name in the evidence dir, created exclusively. */
static int open_tmp(struct evidence *ev, char *name, size_t size)
{
	int fd, tries;

	for (tries = 0; tries < 100; tries++) {
		snprintf(name, size, ".tmp-%ld-%u", (long)getpid(), ev->tmpseq++);
		fd = openat(ev->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0400);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

/* Stream into the evidence dir through READ, then name the copy by its hash. */
typedef long (*reader_fn)(void *ctx, void *buf, size_t n);

/* Stream into the evidence dir through READ and name the copy by its hash (HEX, *SIZE). */
static int copy_stream(struct evidence *ev, reader_fn rd, void *rctx, struct dd__digest *d, char *hex,
		       uint64_t *size)
{
	char tmp[64];
	unsigned char buf[65536];
	long got;
	int fd, rc = 0;

	*size = 0;
	fd = open_tmp(ev, tmp, sizeof(tmp));
	if (fd < 0)
		return dd__error(ev->ctx, DD_EIO, "%s: cannot create a file: %s", ev->dir, strerror(errno));
	if (dd__hasher_reset(ev->h)) {
		rc = DD_ENOMEM;
		goto out;
	}
	while ((got = rd(rctx, buf, sizeof(buf))) > 0) {
		if (dd__hasher_update(ev->h, buf, (size_t)got) || write(fd, buf, (size_t)got) != got) {
			rc = dd__error(ev->ctx, DD_EIO, "%s: write error: %s", ev->dir, strerror(errno));
			goto out;
		}
		*size += (uint64_t)got;
	}
	if (got < 0) {
		rc = (int)got;
		goto out;
	}
	if (fsync(fd) != 0 || dd__hasher_final(ev->h, d)) {
		rc = dd__error(ev->ctx, DD_EIO, "%s: %s", ev->dir, strerror(errno));
		goto out;
	}
	dd__hex(hex, d->bin, 32);
	/*
	 * linkat never replaces: content collected already (under another
	 * path) keeps its first copy. The temporary name goes at "out".
	 */
	if (linkat(ev->dirfd, tmp, ev->dirfd, hex, 0) != 0 && errno != EEXIST)
		rc = dd__error(ev->ctx, DD_EIO, "%s/%s: %s", ev->dir, hex, strerror(errno));
	else
		ev->copied++;
out:
	close(fd);
	unlinkat(ev->dirfd, tmp, 0);
	return rc;
}

static int copy_one(struct evidence *ev, const struct dd_change *c, reader_fn rd, void *rctx)
{
	struct dd__digest d;
	struct json_object *o;
	char hex[65];
	uint64_t size;
	int rc = copy_stream(ev, rd, rctx, &d, hex, &size);

	if (rc == 0 && dd__entry_json(c->after, false, &o) == 0) {
		json_object_object_add(o, "evidence", json_object_new_string(hex));
		json_object_object_add(o, "evidence_size", json_object_new_uint64(size));
		/* The file may have changed since the walk hashed it: say so. */
		json_object_object_add(o, "matches_report", json_object_new_boolean(
					       c->after->has_sha256 && !memcmp(d.bin, c->after->sha256, 32)));
		json_object_object_add(o, "kind", json_object_new_string(dd_change_kind_name(c->kind)));
		json_object_array_add(ev->index, o);
	}
	return rc;
}

static long fd_reader(void *ctx, void *buf, size_t n)
{
	ssize_t got;

	do
		got = read(*(int *)ctx, buf, n);
	while (got < 0 && errno == EINTR);
	return got < 0 ? DD_EIO : (long)got;
}

static long archive_reader(void *ctx, void *buf, size_t n)
{
	la_ssize_t got = archive_read_data(ctx, buf, n);

	return got < 0 ? DD_EIO : (long)got;
}

static int from_dir(struct evidence *ev, const char *target)
{
	struct stat st;
	size_t i;
	int root, fd, rc = 0;

	root = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return dd__error(ev->ctx, DD_EIO, "%s: %s", target, strerror(errno));
	for (i = 0; i < ev->nwant && rc == 0; i++) {
		const struct dd_change *c = ev->want[i];

		if (memchr(c->path, '\0', c->path_len))
			continue;
		fd = dd__open_regular(root, c->path + 1, &st);
		if (fd < 0)
			continue; /* gone or replaced since the walk: nothing safe to copy */
		rc = copy_one(ev, c, fd_reader, &fd);
		close(fd);
	}
	close(root);
	return rc;
}

static int want_cmp(const void *key, const void *elem)
{
	const struct dd__buf *k = key;
	const struct dd_change *c = *(const struct dd_change *const *)elem;

	return dd_path_compare(k->data, k->len, c->path, c->path_len);
}

struct pending {
	char *target;      /* normalised path of the hard link's target */
	const struct dd_change *c;
};

/*
 * One pass over the tar, copying the wanted paths. A wanted path stored
 * as a hard link has its data under the link's target, earlier in the
 * tar: those are collected in PENDING and fetched by a second pass.
 */
static int tar_pass(struct evidence *ev, const char *target, struct pending *pend, size_t *npend,
		    bool second)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	struct dd__buf path = DD__BUF_INIT, link = DD__BUF_INIT;
	size_t k;
	int r, rc = 0;

	if (!a)
		return dd__error(ev->ctx, DD_ENOMEM, "out of memory");
	archive_read_support_format_tar(a);
	dd__archive_support_filters(a);
	if (archive_read_open_filename(a, target, 256 * 1024) != ARCHIVE_OK) {
		rc = dd__error(ev->ctx, DD_EIO, "%s: %s", target, archive_error_string(a));
		goto out;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *name = archive_entry_pathname(e), *hl = archive_entry_hardlink(e);
		const struct dd_change *const *hit;

		if (!name || dd__path_normalize(&path, name, strlen(name)))
			continue;
		if (second) {
			for (k = 0; k < *npend && rc == 0; k++)
				if (!hl && archive_entry_filetype(e) == AE_IFREG && pend[k].c &&
				    !strcmp(pend[k].target, path.data)) {
					rc = copy_one(ev, pend[k].c, archive_reader, a);
					pend[k].c = NULL;
					break;
				}
			if (rc)
				goto out;
			continue;
		}
		hit = bsearch(&path, ev->want, ev->nwant, sizeof(*ev->want), want_cmp);
		if (!hit)
			continue;
		if (hl) {
			if (dd__path_normalize(&link, hl, strlen(hl)) == 0 &&
			    (pend[*npend].target = strdup(link.data)) != NULL)
				pend[(*npend)++].c = *hit;
		} else if (archive_entry_filetype(e) == AE_IFREG &&
			   (rc = copy_one(ev, *hit, archive_reader, a))) {
			goto out;
		}
	}
	if (rc == 0 && r != ARCHIVE_EOF)
		rc = dd__error(ev->ctx, DD_EFORMAT, "%s: %s", target, archive_error_string(a));
out:
	dd__buf_free(&path);
	dd__buf_free(&link);
	archive_read_free(a);
	return rc;
}

static int from_tar(struct evidence *ev, const char *target)
{
	struct pending *pend = calloc(ev->nwant ? ev->nwant : 1, sizeof(*pend));
	size_t npend = 0, k;
	int rc;

	if (!pend)
		return dd__error(ev->ctx, DD_ENOMEM, "out of memory");
	rc = tar_pass(ev, target, pend, &npend, false);
	if (rc == 0 && npend)
		rc = tar_pass(ev, target, pend, &npend, true);
	for (k = 0; k < npend; k++)
		free(pend[k].target);
	free(pend);
	return rc;
}

static int ev_open(struct evidence *ev, struct dd_ctx *ctx, const char *dir)
{
	memset(ev, 0, sizeof(*ev));
	ev->ctx = ctx;
	ev->dir = dir;
	ev->dirfd = -1;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return dd__error(ctx, DD_EIO, "%s: %s", dir, strerror(errno));
	ev->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (ev->dirfd < 0)
		return dd__error(ctx, DD_EIO, "%s: %s", dir, strerror(errno));
	ev->index = json_object_new_array();
	if (!ev->index || dd__hasher_new(&ev->h, DD__ALG_SHA256))
		return dd__error(ctx, DD_ENOMEM, "out of memory");
	return 0;
}

static void ev_close(struct evidence *ev)
{
	json_object_put(ev->index);
	dd__hasher_free(ev->h);
	free(ev->want);
	if (ev->dirfd >= 0)
		close(ev->dirfd);
}

static int write_index(struct evidence *ev, const char *name)
{
	const char *s = json_object_to_json_string_ext(ev->index, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_NOSLASHESCAPE);
	int fd = openat(ev->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!f || fprintf(f, "%s\n", s) < 0 || fclose(f) != 0) {
		if (!f && fd >= 0)
			close(fd);
		return dd__error(ev->ctx, DD_EIO, "%s/%s: %s", ev->dir, name, strerror(errno));
	}
	return 0;
}

int dd_evidence_collect(struct dd_ctx *ctx, const struct dd_diff *diff, enum dd_target_kind kind,
			const char *target, const char *dir, size_t *copied)
{
	struct evidence ev;
	size_t i, n = dd_diff_count(diff);
	int rc;

	if (!ctx || !diff || !target || !dir)
		return DD_EINVAL;
	if (copied)
		*copied = 0;
	rc = ev_open(&ev, ctx, dir);
	if (rc)
		goto out;
	ev.want = calloc(n ? n : 1, sizeof(*ev.want));
	if (!ev.want) {
		rc = dd__error(ctx, DD_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct dd_change *c = dd_diff_change(diff, i);

		if (!(c->flags & DD_CHANGE_IGNORED) && (c->flags & DD_CHANGE_NEW_EXEC) && c->after &&
		    c->after->type == DD_TYPE_FILE)
			ev.want[ev.nwant++] = c; /* the diff is in path order already */
	}
	if (kind == DD_TARGET_ROOTFS || kind == DD_TARGET_UPPER)
		rc = from_dir(&ev, target);
	else if (kind == DD_TARGET_TAR)
		rc = from_tar(&ev, target);
	if (rc == 0)
		rc = write_index(&ev, "index.json");
	if (rc == 0 && copied)
		*copied = ev.copied;
out:
	ev_close(&ev);
	return rc;
}

/*
 * The executables that drifted processes run, read through /proc/N/exe:
 * the only copy there is of a deleted or in-memory one. Listed in
 * DIR/processes.json.
 */
int dd_evidence_collect_live(struct dd_ctx *ctx, const struct dd_live *live, const struct dd_tree *image,
			     const char *dir, size_t *copied)
{
	struct evidence ev;
	size_t i;
	int rc;

	if (!ctx || !live || !dir)
		return DD_EINVAL;
	if (copied)
		*copied = 0;
	rc = ev_open(&ev, ctx, dir);
	for (i = 0; rc == 0 && i < dd_live_process_count(live); i++) {
		const struct dd_live_process *p = dd_live_process(live, i);
		enum dd_live_exe_state st = dd_live_exe_check(p, image);
		struct json_object *o;
		struct dd__digest d;
		char hex[65];
		uint64_t size;
		int fd;

		if (st != DD_LIVE_EXE_ADDED && st != DD_LIVE_EXE_MODIFIED && st != DD_LIVE_EXE_GONE &&
		    st != DD_LIVE_EXE_FOREIGN)
			continue;
		fd = dd_live_open_exe(live, p);
		if (fd < 0)
			continue; /* exited since the snapshot */
		rc = copy_stream(&ev, fd_reader, &fd, &d, hex, &size);
		close(fd);
		if (rc)
			break;
		o = json_object_new_object();
		json_object_object_add(o, "pid", json_object_new_int(p->pid));
		json_object_object_add(o, "exe_link", json_object_new_string(p->exe_raw ? p->exe_raw : ""));
		json_object_object_add(o, "exe_state", json_object_new_string(dd_live_exe_state_name(st)));
		json_object_object_add(o, "evidence", json_object_new_string(hex));
		json_object_object_add(o, "evidence_size", json_object_new_uint64(size));
		json_object_object_add(o, "matches_report", json_object_new_boolean(
					       p->has_sha256 && !memcmp(d.bin, p->sha256, 32)));
		json_object_array_add(ev.index, o);
	}
	if (rc == 0)
		rc = write_index(&ev, "processes.json");
	if (rc == 0 && copied)
		*copied = ev.copied;
	ev_close(&ev);
	return rc;
}
