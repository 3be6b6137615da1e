/*
 * Walking a container's root filesystem. Every name is resolved relative
 * to an open directory fd with AT_SYMLINK_NOFOLLOW / O_NOFOLLOW, so a
 * symlink planted in the container can never lead the walk outside it;
 * only regular files and directories are ever opened, with O_NONBLOCK, so
 * a FIFO or device cannot block or be triggered.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include "digest.h"
#include "os.h"
#include "tree.h"

#define MAX_DEPTH 900 /* each level holds one fd open: below RLIMIT_NOFILE's usual 1024 */
#define READ_CHUNK (1024 * 1024)


/* Inode numbers are only unique per filesystem: an entry's carries the device. */
static uint64_t entry_ino(const struct stat *st)
{
	return ((uint64_t)st->st_dev << 40) ^ (uint64_t)st->st_ino;
}

/* E's attributes from ST; a device's numbers go in its extra fields, from arena A. */
static int set_attrs(struct dd__arena *a, struct dd_entry *e, const struct stat *st)
{
	struct dd_entry_extra *x;

	e->mode = (uint16_t)(st->st_mode & 07777);
	if (S_ISREG(st->st_mode))
		e->size = (uint64_t)st->st_size; /* replaced by the bytes read, when read */
	e->uid = st->st_uid;
	e->gid = st->st_gid;
	e->mtime = st->st_mtim.tv_sec;
	e->mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
	e->ino = entry_ino(st);
	if (!S_ISDIR(st->st_mode) && st->st_nlink == 1)
		e->links = 1; /* no other path has its inode: no hard-link group to look for */
	/* 0:0 is every overlay whiteout: nothing to keep. */
	if ((S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) && st->st_rdev != 0) {
		if (!(x = dd__entry_extra(a, e)))
			return DD_ENOMEM;
		x->rdev_major = major(st->st_rdev);
		x->rdev_minor = minor(st->st_rdev);
	}
	return 0;
}

static enum dd_type type_of(mode_t m)
{
	if (S_ISREG(m)) return DD_TYPE_FILE;
	if (S_ISDIR(m)) return DD_TYPE_DIR;
	if (S_ISLNK(m)) return DD_TYPE_SYMLINK;
	if (S_ISCHR(m)) return DD_TYPE_CHAR;
	if (S_ISBLK(m)) return DD_TYPE_BLOCK;
	if (S_ISFIFO(m)) return DD_TYPE_FIFO;
	return DD_TYPE_SOCKET;
}

static bool same_version(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/*
 * What one hashing thread owns. Nothing in it is shared: file contents are
 * kept in its own arena (adopted by the tree at the end) and warnings in
 * its own list, so workers never take a lock except for the queue.
 */
struct pool;

/* What every hashing thread is told. */
struct hash_config {
	uint32_t head_bytes;     /* of executables, kept for libmagic */
	uint64_t max_xattr;
	bool upper;              /* an upper dir: overlay's xattrs are kept */
	const struct dd_tree *reference; /* heads are kept only where the file differs from it */
	bool defer_heads;        /* none are kept: dd_target_load_head() reads them later */
	const unsigned char *fp_key; /* fingerprints, not digests (dd_target_settle()) */
};

struct hasher_state {
	struct pool *pool;       /* the pool this state's worker serves, or NULL */
	struct hash_config cfg;
	struct dd__hasher *h;
	struct dd__checksum *fp; /* with cfg.fp_key */
	unsigned char *buf;
	unsigned char *head;     /* the file's first bytes, until its hash says whether to keep them */
	struct dd__buf content;
	struct dd__arena arena;
	struct dd__ptrvec warnings;
	int rc;
};

static void hs_warn(struct hasher_state *hs, const char *fmt, ...) DD_PRINTF(2, 3);
static void hs_warn(struct hasher_state *hs, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dd__warnings_push(&hs->warnings, fmt, ap);
	va_end(ap);
}

static int hs_init(struct hasher_state *hs, const struct hash_config *cfg)
{
	memset(hs, 0, sizeof(*hs));
	dd__arena_init(&hs->arena);
	hs->cfg = *cfg;
	if (dd__hasher_new(&hs->h, DD__ALG_SHA256) || !(hs->buf = malloc(READ_CHUNK)) ||
	    (cfg->fp_key && dd__checksum_begin_keyed(&hs->fp, cfg->fp_key)) ||
	    (cfg->head_bytes && !(hs->head = malloc(cfg->head_bytes))))
		return DD_ENOMEM;
	return 0;
}

/* Hand the state's allocations and warnings to the tree, then free it. */
static void hs_finish(struct hasher_state *hs, struct dd_tree *t)
{
	size_t i;

	if (t)
		dd__arena_adopt(&t->arena, &hs->arena);
	for (i = 0; i < hs->warnings.len; i++)
		if (!t || t->warnings.len >= 1000 || dd__ptrvec_push(&t->warnings, hs->warnings.items[i]))
			free(hs->warnings.items[i]);
	dd__ptrvec_free(&hs->warnings);
	dd__hasher_free(hs->h);
	dd__checksum_free(hs->fp);
	dd__buf_free(&hs->content);
	dd__arena_free(&hs->arena);
	free(hs->buf);
	free(hs->head);
}

static bool skip_xattr(const char *name)
{
	/* Overlay's own bookkeeping is not the container's data. */
	return !strncmp(name, "trusted.overlay.", 16) || !strncmp(name, "user.overlay.", 13);
}

/*
 * Read the xattrs of an open fd, or, for a symlink or special file, of
 * NAME in the directory DIRFD through /proc/self/fd (the l* calls do not
 * follow the final symlink), into ARENA.
 */
static int xattrs_into(struct dd__arena *arena, uint64_t max_xattr, bool upper, struct dd_entry *e,
		       int fd, int dirfd, const char *name)
{
	char proc[64], *list = NULL, *p;
	ssize_t len, vlen;
	size_t count = 0, k = 0;
	struct dd_xattr *xs;
	struct dd__buf pathbuf = DD__BUF_INIT;
	int rc = 0;

	if (fd < 0) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d/", dirfd);
		if (dd__buf_puts(&pathbuf, proc) || dd__buf_puts(&pathbuf, name))
			return DD_ENOMEM;
	}
	len = fd >= 0 ? flistxattr(fd, NULL, 0) : llistxattr(pathbuf.data, NULL, 0);
	if (len <= 0)
		goto out; /* none, or not supported here: not an error */
	list = malloc((size_t)len + 1);
	if (!list) {
		rc = DD_ENOMEM;
		goto out;
	}
	len = fd >= 0 ? flistxattr(fd, list, (size_t)len) : llistxattr(pathbuf.data, list, (size_t)len);
	if (len <= 0)
		goto out;
	list[len] = '\0';
	for (p = list; p < list + len; p += strlen(p) + 1)
		count++;
	xs = dd__arena_alloc(arena, count * sizeof(*xs));
	if (!xs) {
		rc = DD_ENOMEM;
		goto out;
	}
	for (p = list; p < list + len; p += strlen(p) + 1) {
		unsigned char *v;

		if (!*p || (skip_xattr(p) && !upper))
			continue;
		vlen = fd >= 0 ? fgetxattr(fd, p, NULL, 0) : lgetxattr(pathbuf.data, p, NULL, 0);
		if (vlen < 0 || (uint64_t)vlen > max_xattr)
			continue;
		v = dd__arena_alloc(arena, (size_t)vlen + 1);
		if (!v) {
			rc = DD_ENOMEM;
			goto out;
		}
		vlen = fd >= 0 ? fgetxattr(fd, p, v, (size_t)vlen) : lgetxattr(pathbuf.data, p, v, (size_t)vlen);
		if (vlen < 0)
			continue;
		xs[k].name = dd__arena_strndup(arena, p, strlen(p));
		xs[k].value = v;
		xs[k].len = (size_t)vlen;
		if (!xs[k].name) {
			rc = DD_ENOMEM;
			goto out;
		}
		k++;
	}
	/* listxattr order is the filesystem's; entries are compared sorted. */
	for (size_t i = 1; i < k; i++) {
		struct dd_xattr x = xs[i];
		size_t j = i;

		while (j > 0 && strcmp(xs[j - 1].name, x.name) > 0) {
			xs[j] = xs[j - 1];
			j--;
		}
		xs[j] = x;
	}
	if (k) {
		struct dd_entry_extra *x = dd__entry_extra(arena, e);

		if (!x) {
			rc = DD_ENOMEM;
			goto out;
		}
		x->xattrs = xs;
		x->nxattrs = (uint32_t)k;
	}
out:
	free(list);
	dd__buf_free(&pathbuf);
	return rc;
}

/*
 * Is E's head worth keeping? Only an executable the diff may call new
 * needs libmagic's word on it: not one the reference (the image) holds at
 * the same path with the same content, already executable (diff.c's rule).
 * Most of an image's executables are unchanged, and their heads were most
 * of a walk's memory after the entries (22 MB over /usr).
 */
static bool head_wanted(const struct dd_tree *ref, const struct dd_entry *e)
{
	const struct dd_entry *r = ref ? dd_tree_find(ref, e->path, e->path_len) : NULL;

	return !r || r->type != DD_TYPE_FILE || !r->has_sha256 ||
	       memcmp(r->sha256, e->sha256, 32) != 0 ||
	       (r->exec == DD_EXEC_NONE && !(r->mode & 0111));
}

/*
 * Read the open regular file FD (PRE: the walk's stat of it; OWN: taken
 * of FD itself, not of its name) into E: its xattrs, and its content
 * hashed. A read error makes the entry unreadable, not the walk fail; a
 * file that changes while it is read is flagged. Runs on a pool thread,
 * so that the walk's own thread only finds and opens files. Closes FD.
 */
static int hash_file(struct hasher_state *hs, struct dd_entry *e, int fd, const struct stat *pre,
		     bool own, bool keep)
{
	struct dd__digest d;
	struct stat st, post;
	uint64_t total = 0;
	size_t head_len = 0;
	ssize_t got;
	int rc = 0;

	if (own)
		st = *pre;
	else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_ino != pre->st_ino ||
		 st.st_dev != pre->st_dev) {
		/* Swapped between lstat and open: the container is racing us. */
		e->flags |= DD_ENTRY_CHANGED | DD_ENTRY_UNREADABLE;
		goto out;
	}
	rc = xattrs_into(&hs->arena, hs->cfg.max_xattr, hs->cfg.upper, e, fd, -1, NULL);
	if (rc)
		goto out;
	hs->content.len = 0;
	if (st.st_size > READ_CHUNK)
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (hs->fp ? dd__checksum_restart(hs->fp) != 0 : dd__hasher_reset(hs->h) != 0) {
		rc = DD_ENOMEM;
		goto out;
	}
	for (;;) {
		got = read(fd, hs->buf, READ_CHUNK);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			e->flags |= DD_ENTRY_UNREADABLE;
			hs_warn(hs, "%s: read error: %s", e->path, strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		if (total == 0) {
			dd__exec_sniff(hs->buf, (size_t)got, &e->exec, &e->elf_machine);
			/* Heads feed libmagic's word on executables only: don't keep the rest. */
			if (hs->cfg.head_bytes && (e->exec != DD_EXEC_NONE || (e->mode & 0111))) {
				head_len = dd__head_len(hs->buf, (size_t)got < hs->cfg.head_bytes
								 ? (size_t)got : hs->cfg.head_bytes);
				memcpy(hs->head, hs->buf, head_len);
			}
		}
		if ((hs->fp ? dd__checksum_add(hs->fp, hs->buf, (size_t)got) != 0
			    : dd__hasher_update(hs->h, hs->buf, (size_t)got) != 0) ||
		    (keep && dd__buf_put(&hs->content, hs->buf, (size_t)got))) {
			rc = DD_ENOMEM;
			goto out;
		}
		total += (uint64_t)got;
		if (total > DD__CONTENT_MAX)
			keep = false;
		/*
		 * A short read that ends at the size fstat gave is the end: no
		 * read for the zero. A file that grows after it differs from the
		 * fstat below, and is flagged.
		 */
		if (total == (uint64_t)st.st_size && (size_t)got < READ_CHUNK)
			break;
	}
	/* A fingerprint stands in the digest's place until dd_target_settle(). */
	memset(&d, 0, sizeof(d));
	if (hs->fp ? dd__checksum_end(hs->fp, d.bin) != 0 : dd__hasher_final(hs->h, &d) != 0) {
		rc = DD_ENOMEM;
		goto out;
	}
	memcpy(e->sha256, d.bin, 32);
	if (hs->fp)
		e->flags |= DD__ENTRY_FINGERPRINT;
	else
		e->has_sha256 = true;
	e->size = total;
	if (head_len && !hs->cfg.defer_heads && head_wanted(hs->cfg.reference, e) &&
	    (rc = dd__entry_set_head(&hs->arena, e, hs->head, head_len)))
		goto out;
	if (keep && (rc = dd__entry_set_content(&hs->arena, e, hs->content.data, hs->content.len)))
		goto out;
	if (fstat(fd, &post) != 0 || !same_version(&st, &post) || total != (uint64_t)st.st_size) {
		e->flags |= DD_ENTRY_CHANGED;
		hs_warn(hs, "%s: changed while it was read", e->path);
	}
out:
	close(fd);
	return rc;
}

/* ---- the hashing pool: the walk queues open files, workers hash them ---- */

#define QUEUE_LEN 256
/*
 * Idle workers are woken for a batch of small files, or for a file big
 * enough to be worth a thread at once: not per file, each wake-up being
 * two context switches.
 */
#define WAKE_FILES 8
#define WAKE_BYTES (1u << 20)

/*
 * Each queued file holds a descriptor: the queue takes at most a quarter
 * of RLIMIT_NOFILE, so that the image read beside the walk can still
 * open its blobs when the limit is low.
 */
static size_t queue_cap(void)
{
	struct rlimit rl;
	size_t cap = QUEUE_LEN;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur / 4 < QUEUE_LEN)
		cap = rl.rlim_cur / 4 < WAKE_FILES ? WAKE_FILES : (size_t)(rl.rlim_cur / 4);
	return cap;
}

struct job {
	struct dd_entry *e;
	int fd;
	struct stat st;           /* the walk's stat */
	bool own;                 /* ST is FD's own fstat */
	bool keep;
};

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t not_empty, not_full;
	struct job ring[QUEUE_LEN];
	size_t head, count, cap; /* CAP: at most QUEUE_LEN, see queue_cap() */
	uint64_t queued_bytes;   /* of the files in the ring */
	unsigned idle;           /* workers waiting for a job */
	bool full_wait;          /* the walk waits for room */
	bool done;
	pthread_t *threads;
	struct hasher_state *states;
	unsigned nthreads;
};

static void *worker(void *arg)
{
	struct hasher_state *hs = arg;
	struct pool *p = hs->pool;
	struct job j;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (!p->count && !p->done) {
			p->idle++;
			pthread_cond_wait(&p->not_empty, &p->mu);
			p->idle--;
		}
		if (!p->count) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		j = p->ring[p->head];
		p->head = (p->head + 1) % QUEUE_LEN;
		p->count--;
		p->queued_bytes -= (uint64_t)j.st.st_size;
		/*
		 * Wake only who sleeps, and the walk only once there is room for
		 * many files: a wake-up per file costs two context switches per
		 * file when files are small.
		 */
		if (p->full_wait && p->count <= p->cap / 2)
			pthread_cond_signal(&p->not_full);
		pthread_mutex_unlock(&p->mu);
		if (hs->rc)
			close(j.fd);
		else
			hs->rc = hash_file(hs, j.e, j.fd, &j.st, j.own, j.keep);
	}
	return NULL;
}

static int pool_start(struct pool *p, unsigned n, const struct hash_config *cfg)
{
	unsigned i;

	memset(p, 0, sizeof(*p));
	p->cap = queue_cap();
	if (pthread_mutex_init(&p->mu, NULL) || pthread_cond_init(&p->not_empty, NULL) ||
	    pthread_cond_init(&p->not_full, NULL))
		return DD_ENOMEM;
	p->threads = calloc(n, sizeof(*p->threads));
	p->states = calloc(n, sizeof(*p->states));
	if (!p->threads || !p->states)
		return DD_ENOMEM;
	for (i = 0; i < n; i++) {
		if (hs_init(&p->states[i], cfg))
			return DD_ENOMEM;
		p->states[i].pool = p;
		if (pthread_create(&p->threads[i], NULL, worker, &p->states[i])) {
			hs_finish(&p->states[i], NULL);
			break;
		}
		p->nthreads++;
	}
	return p->nthreads ? 0 : DD_ENOMEM;
}

static void pool_push(struct pool *p, const struct job *j)
{
	pthread_mutex_lock(&p->mu);
	if (p->count == p->cap) {
		p->full_wait = true;
		while (p->count > p->cap / 2)
			pthread_cond_wait(&p->not_full, &p->mu);
		p->full_wait = false;
	}
	p->ring[(p->head + p->count) % QUEUE_LEN] = *j;
	p->count++;
	p->queued_bytes += (uint64_t)j->st.st_size;
	if (p->idle && (p->count >= WAKE_FILES || p->queued_bytes >= WAKE_BYTES))
		pthread_cond_signal(&p->not_empty);
	pthread_mutex_unlock(&p->mu);
}

/*
 * Wait until the workers have taken every queued file. Each queued file
 * holds a descriptor: a deep tree (a descriptor per level) and a full
 * queue can reach RLIMIT_NOFILE, and draining gives the queue's back.
 */
static void pool_drain(struct pool *p)
{
	pthread_mutex_lock(&p->mu);
	pthread_cond_broadcast(&p->not_empty); /* a short batch may not have woken anyone */
	while (p->count) {
		p->full_wait = true;
		pthread_cond_wait(&p->not_full, &p->mu);
	}
	p->full_wait = false;
	pthread_mutex_unlock(&p->mu);
}

/* Drain, join, and hand everything the workers made to the tree. */
static int pool_finish(struct pool *p, struct dd_tree *t)
{
	unsigned i;
	int rc = 0;

	if (!p->threads)
		return 0;
	pthread_mutex_lock(&p->mu);
	p->done = true;
	pthread_cond_broadcast(&p->not_empty);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nthreads; i++) {
		pthread_join(p->threads[i], NULL);
		if (p->states[i].rc && !rc)
			rc = p->states[i].rc;
		hs_finish(&p->states[i], t); /* with no tree, everything is freed */
	}
	free(p->threads);
	free(p->states);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->not_empty);
	pthread_cond_destroy(&p->not_full);
	memset(p, 0, sizeof(*p));
	return rc;
}

struct walk {
	struct dd_ctx *ctx;
	struct dd_tree *t;
	const char *root;
	dev_t root_dev;
	bool cross_mounts;
	bool upper;              /* overlay upper dir: whiteouts and opaque dirs */
	const char *const *exclude; /* mount points not walked, in path order */
	struct dd_progress progress;
	size_t nexclude;
	struct hash_config cfg;
	struct hasher_state self; /* hashing on the walk's own thread */
	struct pool pool;         /* or on these */
	struct dd__buf path;     /* absolute path of the current entry inside the root */
	struct dd__buf tmp;
	/*
	 * Borrowing strings from the reference: its entries are met in the
	 * walk's own (path) order, so one cursor finds each path's twin.
	 */
	const struct dd_tree *lender;
	size_t lend_pos;
	const struct dd_entry *twin; /* the current path's entry in LENDER, or NULL */
};

/* Append the current path, its string borrowed from the reference when it has it. */
static int append_current(struct walk *w, struct dd_entry **e, enum dd_type type)
{
	w->twin = w->lender ? dd__tree_seek(w->lender, &w->lend_pos, w->path.data, w->path.len) : NULL;
	if (w->twin)
		return dd__tree_append_borrowed(w->t, e, w->twin->path, w->twin->path_len, type, -1);
	return dd__tree_append(w->t, e, w->path.data, w->path.len, type, -1);
}

/* openat(), and once more when out of descriptors, after the hashing queue has drained. */
static int walk_openat(struct walk *w, int dirfd, const char *name, int flags)
{
	int fd = openat(dirfd, name, flags);

	if (fd < 0 && (errno == EMFILE || errno == ENFILE) && w->pool.nthreads) {
		pool_drain(&w->pool);
		fd = openat(dirfd, name, flags);
	}
	return fd;
}

/*
 * Open NAME to read it, never following a symlink nor waiting on a FIFO;
 * -1 and errno on failure.
 */
static int open_regular(struct walk *w, int dirfd, const char *name)
{
	int fd;

	fd = walk_openat(w, dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOATIME);
	if (fd < 0 && errno == EPERM) /* O_NOATIME needs ownership */
		fd = walk_openat(w, dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	return fd;
}

/*
 * Open a regular file for hashing; failures make it unreadable. -1 when
 * there is nothing to hash. hash_file() checks that it is still the file
 * lstat saw.
 */
static int open_file(struct walk *w, struct dd_entry *e, int dirfd, const char *name)
{
	int fd = open_regular(w, dirfd, name);

	if (fd < 0) {
		e->flags |= DD_ENTRY_UNREADABLE;
		dd__tree_warn(w->t, "%s: cannot open: %s", w->path.data, strerror(errno));
		return -1;
	}
	return fd;
}

/* FD: NAME already open, PRE its fstat; or -1, and PRE is NAME's lstat. */
static int read_file(struct walk *w, struct dd_entry *e, int dirfd, const char *name,
		     const struct stat *pre, int fd)
{
	struct job j;

	/*
	 * A sparse file reads as zeros for its whole size: one that holds far
	 * less than it claims would cost hashing time without end (a 1 TiB
	 * hole). Like a decompression bomb, it is refused by max-ratio.
	 */
	if (pre->st_size > (16 << 20) &&
	    (uint64_t)pre->st_size / ((uint64_t)pre->st_blocks * 512 + 4096) > w->ctx->limits.max_ratio) {
		e->flags |= DD_ENTRY_UNREADABLE;
		dd__tree_warn(w->t, "%s: a sparse file of %lld bytes with %lld allocated; not read (limit max-ratio)",
			      w->path.data, (long long)pre->st_size, (long long)pre->st_blocks * 512);
		if (fd >= 0)
			close(fd);
		return 0;
	}
	j.own = fd >= 0;
	j.fd = j.own ? fd : open_file(w, e, dirfd, name);
	if (j.fd < 0)
		return 0;
	j.st = *pre;
	j.e = e;
	j.keep = (uint64_t)pre->st_size <= DD__CONTENT_MAX &&
		 dd_entry_content_kept(w->path.data, w->path.len);
	if (w->pool.nthreads) {
		pool_push(&w->pool, &j);
		return 0;
	}
	return hash_file(&w->self, e, j.fd, &j.st, j.own, j.keep);
}

static int read_link(struct walk *w, struct dd_entry *e, int dirfd, const char *name,
		     const struct stat *st)
{
	size_t cap = (size_t)st->st_size + 2;
	ssize_t got;

	if (cap < 64)
		cap = 64;
	for (;;) {
		if (cap > w->ctx->limits.max_path + 2) {
			e->flags |= DD_ENTRY_UNREADABLE;
			return 0;
		}
		w->tmp.len = 0;
		if (dd__buf_grow(&w->tmp, cap))
			return DD_ENOMEM;
		got = readlinkat(dirfd, name, w->tmp.data, cap);
		if (got < 0) {
			e->flags |= DD_ENTRY_UNREADABLE;
			return 0;
		}
		if ((size_t)got < cap)
			break;
		cap *= 2; /* the link grew since lstat */
	}
	/* The reference's own string when the target is the same. */
	e->target = dd__string_lent(&w->t->strings, w->tmp.data, (size_t)got,
				    w->twin ? w->twin->target : NULL, w->twin ? w->twin->target_len : 0);
	e->target_len = (size_t)got;
	return e->target ? 0 : DD_ENOMEM;
}

static int read_xattrs(struct walk *w, struct dd_entry *e, int fd, int dirfd, const char *name)
{
	return xattrs_into(&w->t->arena, w->ctx->limits.max_xattr, w->upper, e, fd, dirfd, name);
}

static int walk_dir(struct walk *w, int dirfd, struct dd_entry *dir, unsigned depth);

static int excluded_cmp(const void *key, const void *elem)
{
	const struct dd__buf *p = key;
	const char *e = *(const char *const *)elem;

	return dd_path_compare(p->data, p->len, e, strlen(e));
}

/* Is the current path one of the mount points left out? */
static bool excluded(const struct walk *w)
{
	return bsearch(&w->path, w->exclude, w->nexclude, sizeof(*w->exclude), excluded_cmp) != NULL;
}

/* One directory entry NAME in DIRFD; w->path already ends with it. */
static int visit(struct walk *w, int dirfd, const char *name, enum dd_type dtype, unsigned depth)
{
	struct dd_entry *e;
	struct stat st;
	enum dd_type type;
	bool mount = w->nexclude && excluded(w);
	int rc, fd = -1;

	/*
	 * What readdir calls a regular file is opened and its descriptor
	 * stat'ed: one path lookup, not two. Anything else, a mount point
	 * (never opened), or a name that changed type since readdir
	 * (O_NOFOLLOW and O_NONBLOCK make opening a symlink fail and a FIFO
	 * return at once), takes the lstat path.
	 */
	if (dtype == DD_TYPE_FILE && !mount) {
		fd = open_regular(w, dirfd, name);
		if (fd < 0 && errno == ENOENT)
			return 0; /* deleted since readdir */
		if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0 && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT)
			return 0; /* deleted since readdir */
		/* Record it as unreadable, with the type readdir gave, if any. */
		dd__tree_warn(w->t, "%s: cannot stat: %s", w->path.data, strerror(errno));
		rc = append_current(w, &e, dtype ? dtype : DD_TYPE_FILE);
		if (rc == 0)
			e->flags |= DD_ENTRY_UNREADABLE;
		return rc;
	}
	type = type_of(st.st_mode);
	/* Each directory's names are walked in byte order: appended in path order. */
	rc = append_current(w, &e, type);
	if (rc == 0)
		rc = set_attrs(&w->t->arena, e, &st);
	if (rc) {
		if (fd >= 0)
			close(fd);
		return rc;
	}
	if (w->ctx->progress) {
		w->progress.entries++;
		if (type == DD_TYPE_FILE)
			w->progress.done += (uint64_t)st.st_size;
		w->ctx->progress(&w->progress, w->ctx->progress_user);
	}
	if (w->upper && type == DD_TYPE_CHAR && st.st_rdev == makedev(0, 0))
		e->flags |= DD_ENTRY_WHITEOUT;
	if (mount) {
		/* A mount point: its attributes are the mounted root's; nothing below is read. */
		e->flags |= DD_ENTRY_MOUNTPOINT;
		return 0;
	}
	switch (type) {
	case DD_TYPE_FILE:
		return read_file(w, e, dirfd, name, &st, fd);
	case DD_TYPE_SYMLINK:
		rc = read_link(w, e, dirfd, name, &st);
		return rc ? rc : read_xattrs(w, e, -1, dirfd, name);
	case DD_TYPE_DIR:
		if (st.st_dev != w->root_dev && !w->cross_mounts) {
			e->flags |= DD_ENTRY_MOUNTPOINT;
			dd__tree_warn(w->t, "%s: another filesystem is mounted here; not walked (--cross-mounts)",
				      w->path.data);
			return 0;
		}
		if (depth + 1 >= w->ctx->limits.max_depth || depth + 1 >= MAX_DEPTH) {
			e->flags |= DD_ENTRY_UNREADABLE;
			dd__tree_warn(w->t, "%s: deeper than %llu levels; not walked (limit max-depth)", w->path.data,
				      (unsigned long long)(w->ctx->limits.max_depth < MAX_DEPTH ? w->ctx->limits.max_depth
												: MAX_DEPTH));
			return 0;
		}
		fd = walk_openat(w, dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			e->flags |= DD_ENTRY_UNREADABLE;
			dd__tree_warn(w->t, "%s: cannot open directory: %s", w->path.data, strerror(errno));
			return 0;
		}
		rc = read_xattrs(w, e, fd, -1, NULL);
		if (rc == 0 && w->upper) {
			const struct dd_xattr *o = dd_entry_xattr(e, "trusted.overlay.opaque");

			if (!o)
				o = dd_entry_xattr(e, "user.overlay.opaque");
			if (o && o->len == 1 && o->value[0] == 'y')
				e->flags |= DD_ENTRY_OPAQUE;
			if (dd_entry_xattr(e, "trusted.overlay.redirect") ||
			    dd_entry_xattr(e, "user.overlay.redirect"))
				dd__tree_warn(w->t, "%s: overlay redirect_dir: the directory was renamed; its lower contents are not in the upper dir",
					      w->path.data);
		}
		if (rc == 0)
			rc = walk_dir(w, fd, e, depth + 1); /* closes fd */
		else
			close(fd);
		return rc;
	default:
		/* FIFOs, sockets, devices: never opened, attributes only. */
		return read_xattrs(w, e, -1, dirfd, name);
	}
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a + 1, *(char *const *)b + 1);
}

static enum dd_type dtype_of(unsigned char t)
{
	switch (t) {
	case DT_REG: return DD_TYPE_FILE;
	case DT_DIR: return DD_TYPE_DIR;
	case DT_LNK: return DD_TYPE_SYMLINK;
	case DT_CHR: return DD_TYPE_CHAR;
	case DT_BLK: return DD_TYPE_BLOCK;
	case DT_FIFO: return DD_TYPE_FIFO;
	case DT_SOCK: return DD_TYPE_SOCKET;
	default: return (enum dd_type)0;
	}
}

/* Walk the open directory FD (consumed) whose node is DIR. */
static int walk_dir(struct walk *w, int fd, struct dd_entry *dir, unsigned depth)
{
	struct dd__ptrvec names = { 0 };
	struct dirent *de;
	size_t i, base = w->path.len;
	DIR *d;
	int rc = 0;

	d = fdopendir(fd);
	if (!d) {
		close(fd);
		dir->flags |= DD_ENTRY_UNREADABLE;
		return 0;
	}
	/* Read the names first, so only one directory stream is open at a time. */
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		char *s;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		/* The name, behind one byte of readdir's type (used if lstat fails). */
		s = malloc(strlen(de->d_name) + 2);
		if (s) {
			s[0] = (char)dtype_of(de->d_type);
			strcpy(s + 1, de->d_name);
		}
		if (!s || dd__ptrvec_push(&names, s)) {
			free(s);
			rc = DD_ENOMEM;
			goto out;
		}
	}
	if (errno) {
		dir->flags |= DD_ENTRY_UNREADABLE;
		dd__tree_warn(w->t, "%s: cannot list: %s", base > 1 ? w->path.data : "/", strerror(errno));
	}
	if (names.len)
		qsort(names.items, names.len, sizeof(char *), name_cmp);
	for (i = 0; i < names.len && rc == 0; i++) {
		const char *name = (const char *)names.items[i] + 1;
		enum dd_type dtype = (enum dd_type)((const char *)names.items[i])[0];

		w->path.len = base == 1 ? 0 : base;
		if (dd__buf_puts(&w->path, "/") || dd__buf_puts(&w->path, name)) {
			rc = DD_ENOMEM;
			break;
		}
		if (w->path.len > w->ctx->limits.max_path) {
			dd__tree_warn(w->t, "%.64s...: path longer than %llu bytes; skipped", w->path.data,
				      (unsigned long long)w->ctx->limits.max_path);
			continue;
		}
		rc = visit(w, dirfd(d), name, dtype, depth);
	}
	w->path.len = base;
	if (w->path.data)
		w->path.data[base] = '\0';
out:
	for (i = 0; i < names.len; i++)
		free(names.items[i]);
	dd__ptrvec_free(&names);
	closedir(d);
	return rc;
}

static int read_root(struct dd_tree **out, struct dd_ctx *ctx, const char *path,
		     const struct dd_target_options *opts, bool upper, const char *const *exclude,
		     size_t nexclude)
{
	struct dd_target_options defaults = DD_TARGET_OPTIONS_INIT;
	struct walk w;
	struct stat st;
	struct dd_entry *root;
	unsigned jobs;
	int fd = -1, rc, prc;

	if (!out || !ctx || !path)
		return DD_EINVAL;
	*out = NULL;
	if (!opts)
		opts = &defaults;
	memset(&w, 0, sizeof(w));
	w.ctx = ctx;
	w.root = path;
	w.upper = upper;
	w.exclude = exclude;
	w.nexclude = nexclude;
	w.progress.kind = DD_PROGRESS_WALK;
	w.cross_mounts = opts->cross_mounts;
	w.cfg.head_bytes = opts->head_bytes > 65536 ? 65536 : opts->head_bytes;
	w.cfg.max_xattr = ctx->limits.max_xattr;
	w.cfg.upper = upper;
	w.cfg.reference = opts->version >= 2 ? opts->reference : NULL;
	w.cfg.defer_heads = opts->version >= 3 && opts->defer_heads && !w.cfg.reference &&
			    w.cfg.head_bytes;
	w.lender = opts->version >= 3 && opts->borrow_strings ? w.cfg.reference : NULL;
	w.cfg.fp_key = opts->version >= 4 && !upper ? opts->fingerprint_key : NULL;
	/* The root itself may be a magic link such as /proc/PID/root: follow it once. */
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		return dd__error(ctx, errno == ENOENT ? DD_ENOTFOUND : DD_EIO, "%s: %s", path,
				 errno == ENOTDIR ? "not a directory" : strerror(errno));
	}
	if (fstat(fd, &st) != 0) {
		rc = dd__error(ctx, DD_EIO, "%s: %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	w.root_dev = st.st_dev;
	jobs = opts->jobs ? opts->jobs : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	rc = dd__tree_new(&w.t, ctx);
	if (rc == 0)
		rc = hs_init(&w.self, &w.cfg);
	/* With more than one CPU, files are hashed by a pool while the walk goes on. */
	if (rc == 0 && jobs > 1 && jobs < 1024 && pool_start(&w.pool, jobs, &w.cfg))
		pool_finish(&w.pool, NULL);
	if (rc || dd__buf_puts(&w.path, "/")) {
		close(fd);
		rc = dd__error(ctx, DD_ENOMEM, "%s: out of memory", path);
		goto out;
	}
	if (dd__tree_append(w.t, &root, "/", 1, DD_TYPE_DIR, -1)) {
		close(fd);
		rc = dd__error(ctx, DD_ENOMEM, "%s: out of memory", path);
		goto out;
	}
	rc = set_attrs(&w.t->arena, root, &st);
	root->flags = 0;
	if (rc == 0 && (w.cfg.defer_heads || w.cfg.fp_key)) {
		/* The heads, or the files a fingerprint will not settle, are read again from the root. */
		w.t->rootfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		w.t->head_bytes = w.cfg.defer_heads ? w.cfg.head_bytes : 0;
		w.t->fp_pending = w.cfg.fp_key != NULL;
		if (w.t->rootfd < 0)
			rc = DD_ENOMEM;
	}
	if (rc == 0)
		rc = read_xattrs(&w, root, fd, -1, NULL);
	if (rc == 0)
		rc = walk_dir(&w, fd, root, 0);
	else
		close(fd);
	/* Every queued file is hashed before the tree is sorted. */
	prc = pool_finish(&w.pool, w.t);
	if (rc == 0)
		rc = prc;
	if (rc == 0)
		rc = w.self.rc;
	if (rc == 0)
		rc = dd__tree_finalize_appended(w.t);
	if (rc) {
		rc = dd__error(ctx, rc, "%s: %s", path,
			       rc == DD_ELIMIT ? "more entries than the limit (limit max-entries)" : "out of memory");
		goto out;
	}
	*out = w.t;
	w.t = NULL;
out:
	pool_finish(&w.pool, w.t);
	if (w.t)
		hs_finish(&w.self, w.t);
	else
		hs_finish(&w.self, *out);
	dd_tree_free(w.t);
	dd__buf_free(&w.path);
	dd__buf_free(&w.tmp);
	return rc;
}

/*
 * Read the regular file REL below T's root again: its first T->head_bytes
 * into HEAD (*HEAD_LEN), and its whole content hashed into D. False, with
 * a warning on T, when it cannot be read or is no longer E's inode.
 */
static bool reread(struct dd_tree *t, const struct dd_entry *e, unsigned char *buf,
		   unsigned char *head, size_t *head_len, struct dd__digest *d, int *rc)
{
	struct dd__hasher *h = NULL;
	struct stat st;
	bool ok = false;
	ssize_t got;
	int fd;

	*head_len = 0;
	fd = dd__open_regular(t->rootfd, e->path + 1, &st);
	if (fd < 0) {
		dd__tree_warn(t, "%s: cannot open again to describe it: %s", e->path, strerror(errno));
		return false;
	}
	if (entry_ino(&st) != e->ino || (uint64_t)st.st_size != e->size) {
		dd__tree_warn(t, "%s: replaced after it was hashed; not described", e->path);
		goto out;
	}
	if (dd__hasher_new(&h, DD__ALG_SHA256)) {
		*rc = DD_ENOMEM;
		goto out;
	}
	for (;;) {
		got = read(fd, buf, READ_CHUNK);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			dd__tree_warn(t, "%s: read error while describing it: %s", e->path, strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		if (*head_len < t->head_bytes) {
			size_t k = t->head_bytes - *head_len < (size_t)got ? t->head_bytes - *head_len
									   : (size_t)got;

			memcpy(head + *head_len, buf, k);
			*head_len += k;
		}
		if (dd__hasher_update(h, buf, (size_t)got)) {
			*rc = DD_ENOMEM;
			goto out;
		}
	}
	if (dd__hasher_final(h, d)) {
		*rc = DD_ENOMEM;
		goto out;
	}
	ok = true;
out:
	dd__hasher_free(h);
	close(fd);
	return ok;
}

int dd_target_load_head(const struct dd_tree *target, const struct dd_entry *e)
{
	struct dd_tree *t = (struct dd_tree *)target; /* heads are a cache: loading one is not a change */
	struct dd_entry *own;
	struct dd__digest d;
	unsigned char *buf = NULL, *head = NULL;
	size_t head_len;
	int rc = 0;

	if (!t || !e || t->rootfd < 0 || !t->head_bytes || e->type != DD_TYPE_FILE || !e->has_sha256 ||
	    (e->exec == DD_EXEC_NONE && !(e->mode & 0111)))
		return 0;
	/* Only the tree's own entry is changed, found again by its path. */
	own = (struct dd_entry *)dd_tree_find(t, e->path, e->path_len);
	if (own != e)
		return 0;
	pthread_mutex_lock(&t->head_mu);
	if (e->extra->head)
		goto out;
	if (!(buf = malloc(READ_CHUNK)) || !(head = malloc(t->head_bytes))) {
		rc = DD_ENOMEM;
		goto out;
	}
	if (!reread(t, e, buf, head, &head_len, &d, &rc))
		goto out;
	if (memcmp(d.bin, e->sha256, 32) != 0) {
		dd__tree_warn(t, "%s: changed after it was hashed; not described", e->path);
		goto out;
	}
	head_len = dd__head_len(head, head_len);
	if (head_len)
		rc = dd__entry_set_head(&t->arena, own, head, head_len);
out:
	pthread_mutex_unlock(&t->head_mu);
	free(head);
	free(buf);
	return rc;
}

/* ---- fingerprints settled against the image (dd_target_settle()) ---- */

/* IMAGE's regular file at E's path (IMAGE met in path order) when it has E's size and fingerprint. */
static const struct dd_entry *same_as_image(const struct dd_tree *image, size_t *pos,
					    const struct dd_entry *e)
{
	const struct dd_entry *ie;

	if (!image || !image->fingerprinted)
		return NULL;
	ie = dd__tree_seek(image, pos, e->path, e->path_len);
	if (!ie || ie->type != DD_TYPE_FILE || !ie->has_sha256 || ie->size != e->size)
		return NULL;
	/* A tree built of nodes: the entry is its node's first member. */
	return memcmp(((const struct dd__node *)ie)->fp, e->sha256, DD__FP_LEN) == 0 ? ie : NULL;
}

/*
 * E below T's root again, as a job for hash_file(): only if it is still
 * the inode, size and mtime the walk saw (errno ESTALE when it is not).
 */
static int reopen(struct dd_tree *t, const struct dd_entry *e, struct stat *st)
{
	int fd = dd__open_regular(t->rootfd, e->path + 1, st);

	if (fd >= 0 && (entry_ino(st) != e->ino || (uint64_t)st->st_size != e->size ||
			st->st_mtim.tv_sec != e->mtime || (uint32_t)st->st_mtim.tv_nsec != e->mtime_nsec)) {
		close(fd);
		errno = ESTALE;
		return -1;
	}
	return fd;
}

int dd_target_settle(struct dd_tree *t, const struct dd_tree *image, unsigned jobs)
{
	struct hash_config cfg = { 0 };
	struct hasher_state self;
	struct pool pool = { 0 };
	size_t i, n, pos = 0;
	int rc, prc;

	if (!t || !t->fp_pending)
		return 0;
	cfg.head_bytes = t->head_bytes;
	cfg.max_xattr = t->ctx->limits.max_xattr;
	cfg.defer_heads = t->head_bytes != 0; /* dd_target_load_head() reads them, as before */
	if (jobs == 0)
		jobs = (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	rc = hs_init(&self, &cfg);
	if (rc == 0 && jobs > 1 && jobs < 1024 && pool_start(&pool, jobs, &cfg))
		pool_finish(&pool, NULL);
	n = dd_tree_count(t);
	for (i = 0; i < n && rc == 0; i++) {
		struct dd_entry *e = (struct dd_entry *)dd_tree_entry(t, i);
		const struct dd_entry *ie;
		struct job j = { e, -1, { 0 }, true, false };

		if (!(e->flags & DD__ENTRY_FINGERPRINT))
			continue;
		e->flags &= (uint16_t)~DD__ENTRY_FINGERPRINT;
		if ((ie = same_as_image(image, &pos, e))) {
			memcpy(e->sha256, ie->sha256, 32);
			e->has_sha256 = true;
			continue;
		}
		/* Not the image's bytes (or no image file to be): hashed, as a walk hashes. */
		memset(e->sha256, 0, 32);
		j.fd = reopen(t, e, &j.st);
		if (j.fd < 0 && (errno == EMFILE || errno == ENFILE) && pool.nthreads) {
			pool_drain(&pool);
			j.fd = reopen(t, e, &j.st);
		}
		if (j.fd < 0) {
			bool gone = errno == ESTALE || errno == ENOENT;

			e->flags |= DD_ENTRY_UNREADABLE | (gone ? DD_ENTRY_CHANGED : 0);
			dd__tree_warn(t, "%s: %s", e->path,
				      gone ? "replaced after the walk read it; not hashed" : strerror(errno));
			continue;
		}
		if (pool.nthreads)
			pool_push(&pool, &j);
		else
			rc = hash_file(&self, e, j.fd, &j.st, j.own, j.keep);
	}
	prc = pool_finish(&pool, t);
	if (rc == 0)
		rc = prc ? prc : self.rc;
	hs_finish(&self, t);
	t->fp_pending = false;
	if (!t->head_bytes && t->rootfd >= 0) {
		close(t->rootfd);
		t->rootfd = -1;
	}
	return rc ? dd__error(t->ctx, rc, "out of memory") : 0;
}

int dd_target_read_dir(struct dd_tree **out, struct dd_ctx *ctx, const char *path,
		       const struct dd_target_options *opts)
{
	return read_root(out, ctx, path, opts, false, NULL, 0);
}

int dd_target_read_upper(struct dd_tree **out, struct dd_ctx *ctx, const char *path,
			 const struct dd_target_options *opts)
{
	return read_root(out, ctx, path, opts, true, NULL, 0);
}

int dd__walk_excluding(struct dd_tree **out, struct dd_ctx *ctx, const char *path,
		       const struct dd_target_options *opts, const char *const *exclude, size_t n)
{
	return read_root(out, ctx, path, opts, false, exclude, n);
}
