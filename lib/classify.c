/*
 * Classification: the changes a responder acts on first, each raised under
 * a rule of lib/rules.c. This file holds the path- and attribute-based
 * families (binary, privilege, persistence, interactive, anti-forensics);
 * package drift is in pkgdb.c, policies in policy.c.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <magic.h>

#include "findings.h"
#include "live.h"

/* ---- building findings ---- */

const char *dd__findings_strdup(struct dd_findings *fs, const char *s, size_t len)
{
	return s ? dd__arena_strndup(&fs->arena, s, len) : NULL;
}

struct dd_finding *dd__finding_add(struct dd_findings *fs, const char *rule_id,
				   const struct dd_change *c)
{
	const struct dd_rule *rule = dd_rule_find(rule_id);
	struct dd_finding *f;

	if (!rule) {
		dd__error(fs->ctx, DD_EINVAL, "internal error: no rule %s", rule_id);
		return NULL;
	}
	f = dd__arena_alloc(&fs->arena, sizeof(*f));
	if (!f || dd__ptrvec_push(&fs->items, f)) {
		dd__error(fs->ctx, DD_ENOMEM, "out of memory");
		return NULL;
	}
	memset(f, 0, sizeof(*f));
	f->rule = rule;
	f->severity = rule->severity;
	f->change = c;
	if (c && dd__finding_path(fs, f, c->path, c->path_len))
		return NULL;
	return f;
}

int dd__finding_path(struct dd_findings *fs, struct dd_finding *f, const char *path, size_t len)
{
	struct dd_finding_path *p;
	size_t i;

	for (i = 0; i < f->npaths; i++)
		if (f->paths[i].len == len && !memcmp(f->paths[i].path, path, len))
			return 0;
	/* Paths arrays are small; grow by copying within the arena. */
	p = dd__arena_alloc(&fs->arena, (f->npaths + 1) * sizeof(*p));
	if (!p)
		return dd__error(fs->ctx, DD_ENOMEM, "out of memory");
	if (f->npaths)
		memcpy(p, f->paths, f->npaths * sizeof(*p));
	p[f->npaths].path = path;
	p[f->npaths].len = len;
	f->paths = p;
	f->npaths++;
	return 0;
}

int dd__finding_detail(struct dd_findings *fs, struct dd_finding *f, const char *fmt, ...)
{
	struct dd__buf b = DD__BUF_INIT;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = dd__buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (rc == 0)
		f->detail = dd__findings_strdup(fs, b.data, b.len);
	dd__buf_free(&b);
	return rc || !f->detail ? dd__error(fs->ctx, DD_ENOMEM, "out of memory") : 0;
}

int dd__finding_package(struct dd_findings *fs, struct dd_finding *f, const char *ecosystem,
			const char *name, const char *version, const char *old_version)
{
	struct dd_package_ref *p = dd__arena_alloc(&fs->arena, sizeof(*p));

	if (!p)
		return dd__error(fs->ctx, DD_ENOMEM, "out of memory");
	p->ecosystem = dd__findings_strdup(fs, ecosystem, ecosystem ? strlen(ecosystem) : 0);
	p->name = dd__findings_strdup(fs, name, name ? strlen(name) : 0);
	p->version = dd__findings_strdup(fs, version, version ? strlen(version) : 0);
	p->old_version = dd__findings_strdup(fs, old_version, old_version ? strlen(old_version) : 0);
	f->package = p;
	return 0;
}

struct dd__described {
	unsigned char sha256[32];
	const char *text;       /* NULL: libmagic had no answer */
	bool used;
};

static uint64_t sha_key(const unsigned char *sha)
{
	uint64_t k;

	memcpy(&k, sha, sizeof(k));
	return k;
}

/* The slot for SHA in the memo: its own, or the free one where it goes. */
static struct dd__described *described_slot(struct dd_findings *fs, const unsigned char *sha)
{
	size_t mask = fs->described_cap - 1, i = (size_t)sha_key(sha) & mask;

	while (fs->described[i].used && memcmp(fs->described[i].sha256, sha, 32))
		i = (i + 1) & mask;
	return &fs->described[i];
}

/* Room for one more memo entry (kept under half full); false on ENOMEM. */
static bool described_room(struct dd_findings *fs)
{
	struct dd__described *old = fs->described;
	size_t i, cap = fs->described_cap;

	if (2 * (fs->ndescribed + 1) <= cap)
		return true;
	fs->described_cap = cap ? 2 * cap : 64;
	fs->described = calloc(fs->described_cap, sizeof(*fs->described));
	if (!fs->described) {
		fs->described = old;
		fs->described_cap = cap;
		return false;
	}
	for (i = 0; i < cap; i++)
		if (old[i].used)
			*described_slot(fs, old[i].sha256) = old[i];
	free(old);
	return true;
}

/*
 * The memo's entry for SHA, claimed (text NULL, *fresh true) if it had
 * none; NULL when the memo cannot grow.
 */
static struct dd__described *described_claim(struct dd_findings *fs, const unsigned char *sha,
					     bool *fresh)
{
	struct dd__described *d;

	if (!described_room(fs))
		return NULL;
	d = described_slot(fs, sha);
	*fresh = !d->used;
	if (*fresh) {
		memcpy(d->sha256, sha, 32);
		d->text = NULL;
		d->used = true;
		fs->ndescribed++;
	}
	return d;
}

/*
 * A libmagic handle with its database loaded, or NULL. Handles are not
 * shared between threads; the mapped database is (magicdb.c).
 */
static magic_t magic_handle(const struct dd__magic_db *db)
{
	return dd__magic_open(db, MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_TAR | MAGIC_ERROR);
}

/* How much of a head to show libmagic (the walk keeps no more; a caller's tree may). */
static size_t magic_len(const struct dd_entry *e)
{
	return dd__head_len(e->extra->head, e->extra->head_len);
}

/* ---- describing ahead, on several threads ---- */

struct describe_job {
	const struct dd_entry *e;
	char *text;             /* malloc'd by a worker; NULL: no answer */
};

struct describe_pool {
	const struct dd__magic_db *db;
	struct describe_job *jobs;
	size_t n;
	atomic_size_t next;
};

static void *describe_worker(void *arg)
{
	struct describe_pool *p = arg;
	magic_t m = magic_handle(p->db);
	size_t i;

	while (m && (i = atomic_fetch_add(&p->next, 1)) < p->n) {
		const char *s = magic_buffer(m, p->jobs[i].e->extra->head, magic_len(p->jobs[i].e));

		p->jobs[i].text = s ? strdup(s) : NULL;
	}
	if (m)
		magic_close(m);
	return NULL;
}

/* Will the rules describe C's file (binary())? */
static bool describes(const struct dd_change *c)
{
	return !(c->flags & DD_CHANGE_IGNORED) && (c->flags & DD_CHANGE_NEW_EXEC) && c->after;
}

/* ... and is there a head to describe it from, ahead of the rules? */
static bool wants_description(const struct dd_change *c)
{
	const struct dd_entry *a = c->after;

	return describes(c) && a->extra->head && a->extra->head_len && a->has_sha256;
}

/*
 * A target walked with defer_heads left its executables' heads on disk:
 * read those of the files the rules will describe, before anything asks.
 */
static int load_heads(const struct dd_diff *diff, const struct dd_tree *target)
{
	size_t i, n = dd_diff_count(diff);
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		const struct dd_change *c = dd_diff_change(diff, i);

		if (describes(c) && !c->after->extra->head)
			rc = dd_target_load_head(target, c->after);
	}
	return rc;
}

/*
 * Describe, once per content, every file the rules will describe, on
 * JOBS threads, into the memo that dd__describe() reads. With few files
 * (or one thread) dd__describe() does it as the rules go.
 */
static int describe_ahead(struct dd_findings *fs, const struct dd_diff *diff, unsigned jobs)
{
	struct describe_pool p = { &fs->magic_db, NULL, 0, 0 };
	pthread_t threads[4];
	size_t i, n = dd_diff_count(diff), started = 0;
	int rc = 0;

	if (jobs == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		jobs = cpus > 0 ? (unsigned)cpus : 1;
	}
	if (jobs > DD_ARRAY_SIZE(threads))
		jobs = DD_ARRAY_SIZE(threads);
	if (jobs < 2)
		return 0;
	for (i = 0; i < n; i++)
		p.n += wants_description(dd_diff_change(diff, i));
	/*
	 * Each thread loads libmagic's rules for itself (a few ms, and 6-7 MB
	 * resident when the database cannot be shared): worth it for a
	 * package's worth of new files, not for a handful.
	 */
	if (p.n < 8 * jobs)
		return 0;
	dd__magic_db_map(&fs->magic_db);
	p.jobs = calloc(p.n, sizeof(*p.jobs));
	if (!p.jobs)
		return DD_ENOMEM;
	p.n = 0;
	for (i = 0; i < n; i++) {
		const struct dd_change *c = dd_diff_change(diff, i);
		bool fresh;

		if (!wants_description(c))
			continue;
		if (!described_claim(fs, c->after->sha256, &fresh)) {
			rc = DD_ENOMEM;
			goto out;
		}
		if (fresh) /* else a copy of one already queued */
			p.jobs[p.n++].e = c->after;
	}
	for (started = 0; started < jobs; started++)
		if (pthread_create(&threads[started], NULL, describe_worker, &p))
			break;
	if (!started)
		describe_worker(&p);
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	for (i = 0; i < p.n; i++) {
		struct dd__described *d = described_slot(fs, p.jobs[i].e->sha256);
		const char *t = p.jobs[i].text;

		d->text = t ? dd__findings_strdup(fs, t, strlen(t)) : NULL;
		if (t && !d->text)
			rc = DD_ENOMEM;
	}
out:
	for (i = 0; i < p.n; i++)
		free(p.jobs[i].text);
	free(p.jobs);
	return rc;
}

const char *dd__describe(struct dd_findings *fs, const struct dd_entry *e)
{
	struct dd__described *memo = NULL;
	const char *s;
	bool fresh = true;

	if (!e || !e->extra->head || !e->extra->head_len)
		return NULL;
	if (e->has_sha256 && (memo = described_claim(fs, e->sha256, &fresh)) && !fresh)
		return memo->text;
	if (!fs->magic) {
		dd__magic_db_map(&fs->magic_db);
		if (!(fs->magic = magic_handle(&fs->magic_db)))
			return NULL;
	}
	s = magic_buffer(fs->magic, e->extra->head, magic_len(e));
	s = s ? dd__findings_strdup(fs, s, strlen(s)) : NULL;
	if (memo)
		memo->text = s;
	return s;
}

/* ---- path tests ---- */

static bool has_prefix(const struct dd_change *c, const char *prefix)
{
	size_t n = strlen(prefix);

	return c->path_len >= n && !memcmp(c->path, prefix, n);
}

static bool is_path(const struct dd_change *c, const char *path)
{
	return c->path_len == strlen(path) && !memcmp(c->path, path, c->path_len);
}

static const char *base_of(const struct dd_change *c, size_t *len)
{
	size_t off = dd__path_base_off(c->path, c->path_len);

	*len = c->path_len - off;
	return c->path + off;
}

static bool base_is(const struct dd_change *c, const char *const *names, size_t n)
{
	size_t blen, i;
	const char *b = base_of(c, &blen);

	for (i = 0; i < n; i++)
		if (blen == strlen(names[i]) && !memcmp(b, names[i], blen))
			return true;
	return false;
}

/* Any component starting with '.' (other than the path's own "." parts). */
static bool hidden(const struct dd_change *c)
{
	size_t i;

	for (i = 0; i + 1 < c->path_len; i++)
		if (c->path[i] == '/' && c->path[i + 1] == '.')
			return true;
	return false;
}

/* A home directory's file: /root/NAME or /home/USER/NAME. */
static bool home_file(const struct dd_change *c, const char *const *names, size_t n)
{
	size_t off = dd__path_base_off(c->path, c->path_len);

	if (!base_is(c, names, n))
		return false;
	if (off == 6 && has_prefix(c, "/root/"))
		return true;
	return has_prefix(c, "/home/") && off > 7 && !memchr(c->path + 6, '/', off - 7);
}

/* ---- binary drift ---- */

static const char *machine_name(uint16_t m)
{
	switch (m) {
	case 3: return "i386";
	case 8: return "MIPS";
	case 20: return "PowerPC";
	case 21: return "PowerPC64";
	case 22: return "s390";
	case 40: return "ARM";
	case 62: return "x86-64";
	case 183: return "AArch64";
	case 243: return "RISC-V";
	default: return NULL;
	}
}

/* Names that blend in: system daemons and kernel threads seen in ps. */
static const char *const imitated[] = {
	"sh", "bash", "dash", "ps", "ls", "top", "sshd", "cron", "crond", "init", "systemd",
	"kthreadd", "kworker", "kswapd0", "ksoftirqd", "migration", "rsyslogd", "dbus-daemon",
	"containerd", "dockerd", "kubelet", "kube-proxy", "nginx", "httpd", "php-fpm", "java",
	"python", "python3", "node", "sleep", "login", "getty", "agetty", "udevd", "irqbalance",
};
static const char *const bin_dirs[] = {
	"/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", "/usr/local/bin/", "/usr/local/sbin/",
};

static bool in_bin_dir(const struct dd_change *c)
{
	size_t i, off = dd__path_base_off(c->path, c->path_len);

	for (i = 0; i < DD_ARRAY_SIZE(bin_dirs); i++)
		if (off == strlen(bin_dirs[i]) && has_prefix(c, bin_dirs[i]))
			return true;
	return false;
}

static bool imitates(const struct dd_change *c)
{
	size_t blen, i;
	const char *b = base_of(c, &blen);

	if (in_bin_dir(c))
		return false;
	for (i = 0; i < DD_ARRAY_SIZE(imitated); i++) {
		size_t n = strlen(imitated[i]);

		/* "kworker/0:1" style names are cut at the first non-name byte. */
		if (blen >= n && !memcmp(b, imitated[i], n) &&
		    (blen == n || b[n] == 'd' || b[n] == '/' || b[n] == ':' || b[n] == '-' ||
		     (b[n] >= '0' && b[n] <= '9')))
			return true;
	}
	return false;
}

static bool staging_dir(const struct dd_change *c)
{
	return has_prefix(c, "/tmp/") || has_prefix(c, "/var/tmp/") || has_prefix(c, "/dev/shm/") ||
	       has_prefix(c, "/run/") || has_prefix(c, "/var/run/");
}

static int exec_detail(struct dd_findings *fs, struct dd_finding *f, const struct dd_entry *a,
		       const char *why)
{
	const char *magic = dd__describe(fs, a);
	const char *arch = a->exec == DD_EXEC_ELF ? machine_name(a->elf_machine) : NULL;

	return dd__finding_detail(fs, f, "%s%s%s%s%s%s", magic ? magic : a->exec == DD_EXEC_ELF ? "ELF" :
				  a->exec == DD_EXEC_SCRIPT ? "script" : "execute bit set",
				  arch && !magic ? ", " : "", arch && !magic ? arch : "",
				  why ? "; " : "", why ? why : "", "");
}

static const char *const tools[] = {
	"gcc", "cc", "g++", "c++", "clang", "tcc", "make", "as", "ld", "gdb", "strace", "ltrace",
	"nc", "ncat", "netcat", "socat", "nmap", "masscan", "zmap", "curl", "wget", "tcpdump",
	"tshark", "ssh", "scp", "sftp", "telnet", "ftp", "proxychains", "chisel", "frpc",
};

static int binary(struct dd_findings *fs, const struct dd_change *c)
{
	const struct dd_entry *a = c->after;
	struct dd_finding *f;
	const char *why = NULL;

	if (!(c->flags & DD_CHANGE_NEW_EXEC))
		return 0;
	if (c->kind == DD_CHANGE_ADDED) {
		f = dd__finding_add(fs, "DD-BIN-001", c);
		if (!f)
			return DD_ENOMEM;
		if (staging_dir(c))
			why = "in a world-writable staging directory";
		else if (hidden(c))
			why = "under a hidden name";
		else if (imitates(c))
			why = "named like a system program outside the system directories";
		if (why)
			f->severity = DD_SEVERITY_CRITICAL;
		if (exec_detail(fs, f, a, why))
			return DD_ENOMEM;
		if (base_is(c, tools, DD_ARRAY_SIZE(tools)) && !dd__finding_add(fs, "DD-INT-003", c))
			return DD_ENOMEM;
		return 0;
	}
	f = dd__finding_add(fs, "DD-BIN-002", c);
	if (!f)
		return DD_ENOMEM;
	return exec_detail(fs, f, a, c->kind == DD_CHANGE_TYPE_CHANGED ? "replaced a non-executable entry" :
				     (c->attrs & DD_ATTR_CONTENT) ? "content differs from the image" :
				     "became executable");
}

/* Resolve a symlink's target lexically against its directory; NULL if it escapes. */
static int link_target(struct dd__buf *out, const struct dd_entry *e)
{
	struct dd__buf joined = DD__BUF_INIT;
	size_t dir = dd__path_parent_len(e->path, e->path_len), i = 0, k;
	int rc = DD_ENOMEM;

	out->len = 0;
	if (e->target_len && e->target[0] != '/' && dd__buf_put(&joined, e->path, dir))
		goto out;
	if (dd__buf_puts(&joined, "/") || dd__buf_put(&joined, e->target, e->target_len))
		goto out;
	/* Components, with ".." popping; the root's parent is the root. */
	if (dd__buf_grow(out, joined.len + 1))
		goto out;
	while (i < joined.len) {
		size_t start;

		while (i < joined.len && joined.data[i] == '/')
			i++;
		start = i;
		while (i < joined.len && joined.data[i] != '/')
			i++;
		if (i - start == 0 || (i - start == 1 && joined.data[start] == '.'))
			continue;
		if (i - start == 2 && joined.data[start] == '.' && joined.data[start + 1] == '.') {
			for (k = out->len; k > 0 && out->data[k - 1] != '/'; k--)
				;
			out->len = k ? k - 1 : 0;
			continue;
		}
		out->data[out->len++] = '/';
		memcpy(out->data + out->len, joined.data + start, i - start);
		out->len += i - start;
	}
	if (!out->len)
		out->data[out->len++] = '/';
	out->data[out->len] = '\0';
	rc = 0;
out:
	dd__buf_free(&joined);
	return rc;
}


static int redirect(struct dd_findings *fs, const struct dd_diff *diff, const struct dd_change *c)
{
	const struct dd_entry *a = c->after;
	const struct dd_change *t;
	struct dd__buf target = DD__BUF_INIT;
	struct dd_finding *f;
	int rc = 0;

	if (!a || a->type != DD_TYPE_SYMLINK || !a->target ||
	    !(c->kind != DD_CHANGE_MODIFIED || (c->attrs & DD_ATTR_TARGET)))
		return 0;
	if (link_target(&target, a)) {
		rc = dd__error(fs->ctx, DD_ENOMEM, "out of memory");
		goto out;
	}
	t = dd_diff_find(diff, target.data, target.len);
	if (!t || t->kind == DD_CHANGE_DELETED || !(t->flags & DD_CHANGE_NEW_EXEC))
		goto out;
	f = dd__finding_add(fs, "DD-BIN-003", c);
	if (!f || dd__finding_path(fs, f, t->path, t->path_len))
		rc = DD_ENOMEM;
out:
	dd__buf_free(&target);
	return rc;
}

/* ---- privilege drift ---- */

static bool system_path(const struct dd_change *c)
{
	static const char *const sys[] = { "/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/",
					   "/libx32/", "/usr/", "/etc/", "/boot/" };
	size_t i;

	for (i = 0; i < DD_ARRAY_SIZE(sys); i++)
		if (has_prefix(c, sys[i]))
			return true;
	return false;
}

static int privilege(struct dd_findings *fs, const struct dd_tree *target, const struct dd_change *c)
{
	const struct dd_entry *a = c->after, *b = c->before;
	uint32_t added_setid;
	struct dd_finding *f;

	if (!a)
		return 0;
	added_setid = a->type == DD_TYPE_FILE ? (a->mode & 06000) & ~(b && b->type == DD_TYPE_FILE ? b->mode : 0) : 0;
	if (a->type == DD_TYPE_FILE && (a->mode & 06000) && a->links > 1 && c->kind == DD_CHANGE_ADDED) {
		/* A new name for a setuid binary: name the other one too. */
		const struct dd_entry *partner = NULL;
		size_t i;

		if (a->extra->hardlink)
			partner = dd_tree_find(target, a->extra->hardlink, a->extra->hardlink_len);
		for (i = 0; !partner && target && i < dd_tree_count(target); i++) {
			const struct dd_entry *e = dd_tree_entry(target, i);

			if (e != a && e->ino == a->ino)
				partner = e;
		}
		f = dd__finding_add(fs, "DD-PRIV-003", c);
		if (!f || (partner && dd__finding_path(fs, f, partner->path, partner->path_len)))
			return DD_ENOMEM;
	} else if (added_setid || (a->type == DD_TYPE_FILE && (a->mode & 06000) &&
				   (c->attrs & DD_ATTR_CONTENT))) {
		f = dd__finding_add(fs, "DD-PRIV-001", c);
		if (!f || dd__finding_detail(fs, f, "%s%s%s", added_setid ? "" : "content changed; ",
					     (a->mode & 04000) ? "setuid" : "",
					     (a->mode & 06000) == 06000 ? "+setgid" : (a->mode & 02000) ? "setgid" : ""))
			return DD_ENOMEM;
	}
	if (c->attrs & DD_ATTR_CAPS || (c->kind == DD_CHANGE_ADDED && dd_entry_xattr(a, "security.capability"))) {
		const struct dd_xattr *xa = dd_entry_xattr(a, "security.capability");
		const struct dd_xattr *xb = b ? dd_entry_xattr(b, "security.capability") : NULL;
		struct dd_caps ca, cb;
		uint64_t wider;
		struct dd__buf names = DD__BUF_INIT;
		unsigned i;

		memset(&cb, 0, sizeof(cb));
		if (xa && dd_caps_decode(&ca, xa->value, xa->len) == 0 &&
		    (!xb || dd_caps_decode(&cb, xb->value, xb->len) == 0)) {
			wider = (ca.permitted & ~cb.permitted) | (ca.inheritable & ~cb.inheritable);
			if (wider || (ca.effective && !cb.effective)) {
				for (i = 0; i < 64; i++)
					if (ca.permitted & ((uint64_t)1 << i) &&
					    dd__buf_printf(&names, "%s%s", names.len ? "," : "",
							   dd_cap_name(i) ? dd_cap_name(i) : "cap_?"))
						return DD_ENOMEM;
				f = dd__finding_add(fs, "DD-PRIV-002", c);
				if (!f || dd__finding_detail(fs, f, "%s%s", names.data ? names.data : "",
							     ca.effective ? "+ep" : "+p")) {
					dd__buf_free(&names);
					return DD_ENOMEM;
				}
			}
		}
		dd__buf_free(&names);
	}
	if (a->type == DD_TYPE_DIR && (a->mode & 0002) && !(a->mode & 01000) &&
	    (!b || b->type != DD_TYPE_DIR || !(b->mode & 0002) || (b->mode & 01000)) &&
	    !dd__finding_add(fs, "DD-PRIV-004", c))
		return DD_ENOMEM;
	if (c->kind == DD_CHANGE_MODIFIED && (c->attrs & (DD_ATTR_UID | DD_ATTR_GID)) && system_path(c)) {
		f = dd__finding_add(fs, "DD-PRIV-005", c);
		if (!f || dd__finding_detail(fs, f, "%llu:%llu -> %llu:%llu", (unsigned long long)b->uid,
					     (unsigned long long)b->gid, (unsigned long long)a->uid,
					     (unsigned long long)a->gid))
			return DD_ENOMEM;
	}
	return 0;
}

/* ---- persistence, interactive, anti-forensics ---- */

struct path_rule {
	const char *rule;
	const char *prefix;   /* or an exact path when exact */
	bool exact;
};

static const struct path_rule persistence[] = {
	{ "DD-PERS-001", "/etc/passwd", true }, { "DD-PERS-001", "/etc/shadow", true },
	{ "DD-PERS-001", "/etc/group", true }, { "DD-PERS-001", "/etc/gshadow", true },
	{ "DD-PERS-003", "/etc/sudoers", true }, { "DD-PERS-003", "/etc/sudoers.d/", false },
	{ "DD-PERS-004", "/etc/crontab", true }, { "DD-PERS-004", "/etc/anacrontab", true },
	{ "DD-PERS-004", "/etc/cron.d/", false }, { "DD-PERS-004", "/etc/cron.hourly/", false },
	{ "DD-PERS-004", "/etc/cron.daily/", false }, { "DD-PERS-004", "/etc/cron.weekly/", false },
	{ "DD-PERS-004", "/etc/cron.monthly/", false }, { "DD-PERS-004", "/var/spool/cron/", false },
	{ "DD-PERS-004", "/var/spool/at/", false }, { "DD-PERS-004", "/etc/systemd/system/", false },
	{ "DD-PERS-004", "/lib/systemd/system/", false }, { "DD-PERS-004", "/usr/lib/systemd/system/", false },
	{ "DD-PERS-004", "/etc/init.d/", false }, { "DD-PERS-004", "/etc/rc.local", true },
	{ "DD-PERS-004", "/etc/supervisor/", false },
	{ "DD-PERS-006", "/etc/ld.so.preload", true }, { "DD-PERS-006", "/etc/ld.so.conf", true },
	{ "DD-PERS-006", "/etc/ld.so.conf.d/", false },
	{ "DD-PERS-007", "/etc/profile", true }, { "DD-PERS-007", "/etc/profile.d/", false },
	{ "DD-PERS-007", "/etc/bash.bashrc", true }, { "DD-PERS-007", "/etc/bashrc", true },
	{ "DD-PERS-007", "/etc/environment", true }, { "DD-PERS-007", "/etc/zsh/", false },
	{ "DD-PERS-008", "/etc/pam.d/", false }, { "DD-PERS-008", "/etc/pam.conf", true },
	{ "DD-PERS-008", "/etc/security/", false },
	{ "DD-PERS-009", "/etc/nsswitch.conf", true }, { "DD-PERS-009", "/etc/hosts", true },
	{ "DD-PERS-009", "/etc/resolv.conf", true }, { "DD-PERS-009", "/etc/host.conf", true },
	{ "DD-PERS-009", "/etc/gai.conf", true },
};

static const char *const shell_rc[] = {
	".bashrc", ".bash_profile", ".bash_login", ".bash_logout", ".profile", ".zshrc",
	".zprofile", ".zshenv", ".cshrc", ".tcshrc", ".kshrc",
};
static const char *const histories[] = {
	".bash_history", ".zsh_history", ".ash_history", ".sh_history", ".history",
	".python_history", ".mysql_history", ".psql_history", ".lesshst", ".viminfo",
	".node_repl_history", ".wget-hsts",
};

/* PAM modules live in .../security/pam_*.so below a lib directory. */
static bool pam_module(const struct dd_change *c)
{
	size_t blen, off = dd__path_base_off(c->path, c->path_len);
	const char *b = base_of(c, &blen);

	return blen > 7 && !memcmp(b, "pam_", 4) && !memcmp(b + blen - 3, ".so", 3) && off > 10 &&
	       !memcmp(c->path + off - 10, "/security/", 10) &&
	       (has_prefix(c, "/lib") || has_prefix(c, "/usr/lib"));
}

static bool content_event(const struct dd_change *c)
{
	/* Metadata-only changes of these files are not persistence. */
	return c->kind != DD_CHANGE_MODIFIED || (c->attrs & (DD_ATTR_CONTENT | DD_ATTR_TARGET));
}

static int paths(struct dd_findings *fs, const struct dd_change *c)
{
	const struct dd_entry *a = c->after, *b = c->before;
	size_t i, blen;
	const char *base = base_of(c, &blen);

	if (content_event(c) && c->kind != DD_CHANGE_UNREADABLE) {
		for (i = 0; i < DD_ARRAY_SIZE(persistence); i++) {
			const struct path_rule *r = &persistence[i];

			if (r->exact ? is_path(c, r->prefix) : has_prefix(c, r->prefix)) {
				if (!dd__finding_add(fs, r->rule, c))
					return DD_ENOMEM;
				break;
			}
		}
		if ((base_is(c, (const char *const[]){ "authorized_keys", "authorized_keys2" }, 2) &&
		     c->path_len > blen + 6 && !memcmp(base - 6, "/.ssh/", 6)) &&
		    !dd__finding_add(fs, "DD-PERS-005", c))
			return DD_ENOMEM;
		if (home_file(c, shell_rc, DD_ARRAY_SIZE(shell_rc)) && !dd__finding_add(fs, "DD-PERS-007", c))
			return DD_ENOMEM;
		if (pam_module(c) && !dd__finding_add(fs, "DD-PERS-008", c))
			return DD_ENOMEM;
	}
	if (c->kind != DD_CHANGE_DELETED && base_is(c, histories, DD_ARRAY_SIZE(histories)) &&
	    a && a->type == DD_TYPE_FILE && a->size > 0 && !dd__finding_add(fs, "DD-INT-001", c))
		return DD_ENOMEM;
	/* Anti-forensics: logs and histories removed or emptied. */
	if (b && b->type == DD_TYPE_FILE && b->size > 0 &&
	    (has_prefix(c, "/var/log/") || base_is(c, histories, DD_ARRAY_SIZE(histories))) &&
	    (c->kind == DD_CHANGE_DELETED || (a && a->type == DD_TYPE_FILE && a->size == 0)) &&
	    !dd__finding_add(fs, "DD-AF-004", c))
		return DD_ENOMEM;
	if (c->flags & DD_CHANGE_STEALTH && !dd__finding_add(fs, "DD-AF-001", c))
		return DD_ENOMEM;
	if (c->kind == DD_CHANGE_MODIFIED && a->type == DD_TYPE_FILE && (c->attrs & DD_ATTR_CONTENT) &&
	    (a->mtime < b->mtime || (a->mtime == b->mtime && a->mtime_nsec < b->mtime_nsec))) {
		struct dd_finding *f = dd__finding_add(fs, "DD-AF-002", c);

		if (!f || dd__finding_detail(fs, f, "mtime %lld, the image's copy has %lld",
					     (long long)a->mtime, (long long)b->mtime))
			return DD_ENOMEM;
	}
	if ((c->kind == DD_CHANGE_ADDED || c->kind == DD_CHANGE_TYPE_CHANGED) && a &&
	    ((blen > 4 && !memcmp(base, ".wh.", 4)) ||
	     ((a->type == DD_TYPE_CHAR || a->type == DD_TYPE_BLOCK) && !has_prefix(c, "/dev/"))) &&
	    !dd__finding_add(fs, "DD-AF-003", c))
		return DD_ENOMEM;
	return 0;
}

/* Runtime package-manager activity: one finding per manager, with its paths. */
static const struct {
	const char *prefix;
	const char *manager;
} pm_paths[] = {
	{ "/var/lib/apt/lists/", "apt" }, { "/var/cache/apt/", "apt" }, { "/var/log/apt/", "apt" },
	{ "/var/log/dpkg.log", "dpkg" }, { "/var/cache/debconf/", "dpkg" },
	{ "/var/cache/apk/", "apk" }, { "/etc/apk/world", "apk" },
	{ "/var/cache/yum/", "yum" }, { "/var/cache/dnf/", "dnf" }, { "/var/log/yum.log", "yum" },
	{ "/var/log/dnf.log", "dnf" }, { "/root/.cache/pip/", "pip" }, { "/root/.npm/", "npm" },
};

static int package_managers(struct dd_findings *fs, const struct dd_diff *diff)
{
	struct dd_finding *found[DD_ARRAY_SIZE(pm_paths)] = { 0 };
	size_t i, k, n = dd_diff_count(diff);

	for (i = 0; i < n; i++) {
		const struct dd_change *c = dd_diff_change(diff, i);

		if (c->flags & DD_CHANGE_IGNORED || c->kind == DD_CHANGE_DELETED ||
		    (c->after && c->after->type == DD_TYPE_DIR))
			continue;
		for (k = 0; k < DD_ARRAY_SIZE(pm_paths); k++) {
			size_t j;

			if (!has_prefix(c, pm_paths[k].prefix))
				continue;
			/* One finding per manager name, whichever of its paths came first. */
			for (j = 0; j < DD_ARRAY_SIZE(pm_paths) && !found[k]; j++)
				if (!strcmp(pm_paths[j].manager, pm_paths[k].manager) && found[j]) {
					found[k] = found[j];
					break;
				}
			if (!found[k]) {
				found[k] = dd__finding_add(fs, "DD-INT-002", c);
				if (!found[k] || dd__finding_detail(fs, found[k], "%s", pm_paths[k].manager))
					return DD_ENOMEM;
			} else if (found[k]->npaths < 20 && dd__finding_path(fs, found[k], c->path, c->path_len)) {
				return DD_ENOMEM;
			}
			break;
		}
	}
	return 0;
}

/* ---- accounts ---- */

/* uid of NAME in a passwd file's content; -1 when absent. */
static long passwd_uid(const unsigned char *content, size_t len, const char *name, size_t nlen)
{
	const char *p = (const char *)content, *end = p + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *c1, *c2, *c3;

		if (!eol)
			eol = end;
		c1 = memchr(p, ':', (size_t)(eol - p));
		if (c1 && (size_t)(c1 - p) == nlen && !memcmp(p, name, nlen) &&
		    (c2 = memchr(c1 + 1, ':', (size_t)(eol - c1 - 1))) &&
		    (c3 = memchr(c2 + 1, ':', (size_t)(eol - c2 - 1)))) {
			char num[16];
			size_t k = (size_t)(c3 - c2 - 1);

			if (k == 0 || k >= sizeof(num))
				return -1;
			memcpy(num, c2 + 1, k);
			num[k] = '\0';
			return strspn(num, "0123456789") == k ? strtol(num, NULL, 10) : -1;
		}
		p = eol + 1;
	}
	return -1;
}

/* New uid-0 accounts: in the target's /etc/passwd with uid 0, not so in the image's. */
static int accounts(struct dd_findings *fs, const struct dd_diff *diff, const struct dd_tree *image,
		    const struct dd_tree *target)
{
	const struct dd_change *c = dd_diff_find(diff, "/etc/passwd", 11);
	const struct dd_entry *tp, *ip;
	const char *p, *end;

	if (!c || (c->flags & DD_CHANGE_IGNORED) || !target)
		return 0;
	tp = dd_tree_find(target, "/etc/passwd", 11); /* changed, so in an upper dir too */
	ip = image ? dd_tree_find(image, "/etc/passwd", 11) : NULL;
	if (!tp || !tp->extra->content)
		return 0;
	p = (const char *)tp->extra->content;
	end = p + tp->extra->content_len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p)), *c1;

		if (!eol)
			eol = end;
		c1 = memchr(p, ':', (size_t)(eol - p));
		if (c1 && c1 > p &&
		    passwd_uid(tp->extra->content, tp->extra->content_len, p, (size_t)(c1 - p)) == 0 &&
		    !(ip && ip->extra->content &&
		      passwd_uid(ip->extra->content, ip->extra->content_len, p, (size_t)(c1 - p)) == 0)) {
			struct dd_finding *f = dd__finding_add(fs, "DD-PERS-002", c);
			struct dd__buf q = DD__BUF_INIT;

			if (!f || dd__quote(&q, p, (size_t)(c1 - p)) ||
			    dd__finding_detail(fs, f, "account %s", q.data ? q.data : "")) {
				dd__buf_free(&q);
				return DD_ENOMEM;
			}
			dd__buf_free(&q);
		}
		p = eol + 1;
	}
	return 0;
}

/* ---- the classifier ---- */

static int finding_cmp(const void *x, const void *y)
{
	const struct dd_finding *a = *(const struct dd_finding *const *)x;
	const struct dd_finding *b = *(const struct dd_finding *const *)y;
	int c;

	if (a->severity != b->severity)
		return a->severity > b->severity ? -1 : 1;
	c = strcmp(a->rule->id, b->rule->id);
	if (c)
		return c;
	if (!a->npaths || !b->npaths)
		return (int)a->npaths - (int)b->npaths;
	return dd_path_compare(a->paths[0].path, a->paths[0].len, b->paths[0].path, b->paths[0].len);
}

int dd_classify(struct dd_findings **out, struct dd_ctx *ctx, const struct dd_diff *diff,
		const struct dd_classify_options *opts)
{
	struct dd_classify_options defaults = DD_CLASSIFY_OPTIONS_INIT;
	struct dd_findings *fs;
	const struct dd_live *live;
	size_t i, n;
	int rc = 0;

	if (!out || !ctx)
		return DD_EINVAL;
	*out = NULL;
	if (!opts)
		opts = &defaults;
	/* Options of version 1 end before the live snapshot. */
	live = opts->version >= 2 ? opts->live : NULL;
	if (!diff && !live)
		return DD_EINVAL;
	n = diff ? dd_diff_count(diff) : 0;
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return dd__error(ctx, DD_ENOMEM, "out of memory");
	fs->ctx = ctx;
	dd__arena_init(&fs->arena);
	if (diff && opts->target_tree)
		rc = load_heads(diff, opts->target_tree);
	if (diff && rc == 0)
		rc = describe_ahead(fs, diff, opts->version >= 3 ? opts->jobs : 0);
	for (i = 0; i < n && rc == 0; i++) {
		const struct dd_change *c = dd_diff_change(diff, i);

		if (c->flags & DD_CHANGE_IGNORED)
			continue;
		rc = binary(fs, c);
		if (rc == 0)
			rc = redirect(fs, diff, c);
		if (rc == 0)
			rc = privilege(fs, opts->target_tree, c);
		if (rc == 0)
			rc = paths(fs, c);
	}
	if (rc == 0 && diff)
		rc = package_managers(fs, diff);
	if (rc == 0 && diff)
		rc = accounts(fs, diff, opts->image_tree, opts->target_tree);
	if (rc == 0 && diff)
		rc = dd__classify_packages(fs, diff, opts->image_tree, opts->target_tree,
					   opts->target_is_upper);
	if (rc == 0 && opts->runtime_config)
		rc = dd__classify_config(fs, opts->image, opts->runtime_config, live != NULL);
	if (rc == 0 && live)
		rc = dd__classify_live(fs, live, opts->image, opts->image_tree, opts->show_env_values);
	if (rc == 0)
		rc = dd__policy_apply(fs, opts->policy, opts->now ? opts->now : (int64_t)time(NULL));
	/* Every description is made: libmagic's database (6-7 MB resident) can go before the report. */
	if (fs->magic) {
		magic_close(fs->magic);
		fs->magic = NULL;
	}
	dd__magic_db_unmap(&fs->magic_db);
	free(fs->described);
	fs->described = NULL;
	fs->ndescribed = fs->described_cap = 0;
	if (rc) {
		dd_findings_free(fs);
		return rc == DD_ENOMEM ? dd__error(ctx, rc, "out of memory") : rc;
	}
	if (fs->items.len)
		qsort(fs->items.items, fs->items.len, sizeof(void *), finding_cmp);
	*out = fs;
	return 0;
}

void dd_findings_free(struct dd_findings *fs)
{
	if (!fs)
		return;
	if (fs->magic)
		magic_close(fs->magic);
	dd__magic_db_unmap(&fs->magic_db);
	free(fs->described);
	dd__ptrvec_free(&fs->items);
	dd__arena_free(&fs->arena);
	free(fs);
}

size_t dd_findings_count(const struct dd_findings *fs)
{
	return fs ? fs->items.len : 0;
}

const struct dd_finding *dd_findings_get(const struct dd_findings *fs, size_t i)
{
	return fs && i < fs->items.len ? fs->items.items[i] : NULL;
}
