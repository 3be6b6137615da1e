/*
 * Live container mode: a snapshot of a running container from /proc.
 *
 * Everything read here is written by the container: process names,
 * command lines, environments, and even the paths the kernel shows for
 * its files. So every file is read whole into a bounded buffer and parsed
 * there, executables are opened through /proc/N/exe (the kernel's own
 * reference to the file that runs, deleted or not) and only ever read, and
 * a process that exits while we look is simply left out.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "live.h"
#include "tree.h"

/* Far more than any real container; past these the snapshot says it stopped. */
#define MAX_PROCS 65536
#define MAX_SOCKETS 65536
#define MAX_MOUNTS 4096
#define MAX_FDS 65536          /* file descriptors looked at per process */
#define MAX_ARGS 4096
#define MAX_CMDLINE (256u << 10)
#define MAX_ENVIRON (1u << 20)
#define MAX_NETFILE (64u << 20)
#define MAX_SMALL (64u << 10)  /* stat, status, mountinfo lines of one process */
#define EXE_BUF (256u << 10)

struct sockowner {
	uint64_t inode;
	int pid;
};

struct exe_cache {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	unsigned char sha256[32];
};

struct dd_live {
	struct dd_ctx *ctx;
	int pid;
	char proc[256];
	char root_path[300];
	char *root_link;            /* readlink of root_path */
	struct dd__arena arena;     /* every string of the snapshot */
	struct dd_live_process *procs;
	size_t nprocs, cprocs;
	struct dd_live_socket *socks;
	size_t nsocks, csocks;
	struct dd_live_mount *mounts;
	size_t nmounts, cmounts;
	const char **env;
	size_t nenv;
	struct dd__ptrvec warnings;
	bool include_mounts;
	bool shared_netns;
	struct exe_cache *exes;
	size_t nexes, cexes;
	struct sockowner *owners;
	size_t nowners, cowners;
};

static void warn(struct dd_live *l, const char *fmt, ...) DD_PRINTF(2, 3);
static void warn(struct dd_live *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dd__warnings_push(&l->warnings, fmt, ap);
	va_end(ap);
}

/*
 * Read a whole procfs file (their size is 0 until read) into OUT, at most
 * MAX bytes; *TRUNCATED tells whether there was more. -1 with errno.
 */
static int slurp(const char *path, size_t max, struct dd__buf *out, bool *truncated)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	ssize_t r;

	out->len = 0;
	if (truncated)
		*truncated = false;
	if (fd < 0)
		return -1;
	for (;;) {
		if (dd__buf_grow(out, 16384)) {
			close(fd);
			errno = ENOMEM;
			return -1;
		}
		r = read(fd, out->data + out->len, out->cap - out->len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int saved = errno;

			close(fd);
			errno = saved;
			return -1;
		}
		if (r == 0)
			break;
		out->len += (size_t)r;
		if (out->len > max) {
			out->len = max;
			if (truncated)
				*truncated = true;
			break;
		}
	}
	out->data[out->len] = '\0';
	close(fd);
	return 0;
}

/* readlink into a fresh heap string; NULL with errno. */
static char *read_link(const char *path)
{
	size_t cap = 256;

	for (;;) {
		char *b = malloc(cap);
		ssize_t n;

		if (!b)
			return NULL;
		n = readlink(path, b, cap);
		if (n < 0) {
			free(b);
			return NULL;
		}
		if ((size_t)n < cap) {
			b[n] = '\0';
			return b;
		}
		free(b);
		if (cap >= 65536) {
			errno = ENAMETOOLONG;
			return NULL;
		}
		cap *= 4;
	}
}

static const char *arena_str(struct dd_live *l, const char *s, size_t n)
{
	return dd__arena_strndup(&l->arena, s, n);
}

/* ---- parsers ---- */

int dd__live_parse_stat(const char *s, size_t len, struct dd__proc_stat *out)
{
	const char *open = memchr(s, '(', len), *close = NULL, *p;
	unsigned long long v;
	int field;
	char *end;

	memset(out, 0, sizeof(*out));
	/* The name is everything between the first '(' and the last ')'. */
	for (p = s + len; p > s; p--)
		if (p[-1] == ')') {
			close = p - 1;
			break;
		}
	if (!open || !close || close < open || (size_t)(close - s) + 2 >= len)
		return DD_EFORMAT;
	out->comm = open + 1;
	out->comm_len = (size_t)(close - open - 1);
	p = close + 2;
	if (p >= s + len)
		return DD_EFORMAT;
	out->state = *p++;
	/* Fields 4 (ppid) to 22 (starttime), numbered as in proc(5). */
	for (field = 4; field <= 22; field++) {
		while (p < s + len && *p == ' ')
			p++;
		if (p >= s + len)
			return DD_EFORMAT;
		errno = 0;
		if (*p == '-') {
			long long sv = strtoll(p, &end, 10);

			v = (unsigned long long)sv;
		} else {
			v = strtoull(p, &end, 10);
		}
		if (end == p || errno)
			return DD_EFORMAT;
		p = end;
		if (field == 4)
			out->ppid = (int)v;
		else if (field == 7)
			out->tty_nr = (int)v;
		else if (field == 22)
			out->starttime = v;
	}
	return 0;
}

static const char *tcp_state(unsigned st)
{
	static const char *const names[] = {
		NULL, "established", "syn-sent", "syn-recv", "fin-wait1", "fin-wait2", "time-wait",
		"close", "close-wait", "last-ack", "listen", "closing", "new-syn-recv",
	};

	return st < DD_ARRAY_SIZE(names) && names[st] ? names[st] : "unknown";
}

/* An address as the kernel prints it: 32-bit words in %08X of their in-memory value. */
static int parse_addr(const char *hex, int family, char *out, size_t outlen)
{
	unsigned char bin[16];
	size_t words = family == 4 ? 1 : 4, i;

	if (strlen(hex) != words * 8)
		return DD_EFORMAT;
	for (i = 0; i < words; i++) {
		char w[9];
		uint32_t v;
		char *end;

		memcpy(w, hex + i * 8, 8);
		w[8] = '\0';
		v = (uint32_t)strtoul(w, &end, 16);
		if (*end)
			return DD_EFORMAT;
		memcpy(bin + i * 4, &v, 4);
	}
	if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, bin, out, (socklen_t)outlen))
		return DD_EFORMAT;
	return 0;
}

int dd__live_parse_net(const char *line, int family, const char *proto, struct dd_live_socket *out)
{
	char lhex[40], rhex[40];
	unsigned lport, rport, st, uid;
	unsigned long long inode;

	memset(out, 0, sizeof(*out));
	if (sscanf(line, " %*u: %39[0-9A-Fa-f]:%x %39[0-9A-Fa-f]:%x %x %*x:%*x %*x:%*x %*x %u %*d %llu",
		   lhex, &lport, rhex, &rport, &st, &uid, &inode) != 7)
		return DD_EFORMAT;
	if (lport > 65535 || rport > 65535 || parse_addr(lhex, family, out->local, sizeof(out->local)) ||
	    parse_addr(rhex, family, out->remote, sizeof(out->remote)))
		return DD_EFORMAT;
	out->proto = proto;
	out->family = family;
	out->local_port = (uint16_t)lport;
	out->remote_port = (uint16_t)rport;
	out->uid = uid;
	out->inode = inode;
	if (!strcmp(proto, "tcp")) {
		out->state = tcp_state(st);
		out->listening = st == 0x0A;
	} else {
		/* UDP has no listen state: a bound socket with no peer receives from anyone. */
		out->listening = st == 0x07 && rport == 0;
		out->state = st == 0x01 ? "established" : out->listening ? "unconnected" : tcp_state(st);
	}
	return 0;
}

/* Decode mountinfo's \ooo escapes (space, tab, newline, backslash) in place. */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)(((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

int dd__live_parse_mountinfo(char *line, struct dd__mountinfo *out)
{
	char *f[10], *save = NULL, *tok;
	int n = 0;
	bool dash = false;

	memset(out, 0, sizeof(*out));
	/* id parent maj:min root mountpoint options [optional...] - fstype source superoptions */
	for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (n < 6) {
			f[n++] = tok;
		} else if (!dash) {
			if (!strcmp(tok, "-"))
				dash = true;
		} else if (n < 8) {
			f[n++] = tok;
		} else {
			break;
		}
	}
	if (n < 7 || !dash)
		return DD_EFORMAT;
	out->root = f[3];
	out->path = f[4];
	out->options = f[5];
	out->fstype = f[6];
	/* No source field: an empty one, inside the line (unescape writes to it). */
	out->source = n > 7 ? f[7] : f[6] + strlen(f[6]);
	unescape(out->root);
	unescape(out->path);
	unescape(out->source);
	return out->path[0] == '/' ? 0 : DD_EFORMAT;
}

void dd__live_map_exe(const char *exe, const char *root, bool deleted, size_t *off, size_t *len,
		      uint32_t *flags)
{
	static const char suffix[] = " (deleted)";
	size_t n = strlen(exe), rl = strlen(root), sl = sizeof(suffix) - 1;

	*off = 0;
	*flags = 0;
	if (!strncmp(exe, "/memfd:", 7)) {
		*flags |= DD_LIVE_EXE_MEMFD;
		deleted = true;
	}
	if (deleted && n > sl && !memcmp(exe + n - sl, suffix, sl)) {
		*flags |= DD_LIVE_EXE_DELETED;
		n -= sl;
	}
	*len = n;
	if (*flags & DD_LIVE_EXE_MEMFD)
		return;
	while (rl > 1 && root[rl - 1] == '/')
		rl--;
	if (rl <= 1)
		return;                       /* the root is "/": the path is the container's */
	if (n > rl && !memcmp(exe, root, rl) && exe[rl] == '/') {
		*off = rl;
		*len = n - rl;
	} else {
		*flags |= DD_LIVE_EXE_OUTSIDE;
	}
}

/* ---- processes ---- */

static int exe_hash(struct dd_live *l, int fd, const struct stat *st, unsigned char *out)
{
	struct dd__hasher *h = NULL;
	unsigned char *buf;
	struct dd__digest d;
	size_t i;
	ssize_t r;
	int rc;

	for (i = 0; i < l->nexes; i++) {
		const struct exe_cache *e = &l->exes[i];

		if (e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
		    e->mtime.tv_sec == st->st_mtim.tv_sec && e->mtime.tv_nsec == st->st_mtim.tv_nsec) {
			memcpy(out, e->sha256, 32);
			return 0;
		}
	}
	buf = malloc(EXE_BUF);
	rc = buf ? dd__hasher_new(&h, DD__ALG_SHA256) : DD_ENOMEM;
	while (rc == 0) {
		r = read(fd, buf, EXE_BUF);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = DD_EIO;
			break;
		}
		if (r == 0)
			break;
		rc = dd__hasher_update(h, buf, (size_t)r);
	}
	if (rc == 0)
		rc = dd__hasher_final(h, &d);
	dd__hasher_free(h);
	free(buf);
	if (rc)
		return rc;
	memcpy(out, d.bin, 32);
	if (dd__grow(&l->exes, &l->cexes, l->nexes, sizeof(*l->exes)) == 0) {
		struct exe_cache *e = &l->exes[l->nexes++];

		e->dev = st->st_dev;
		e->ino = st->st_ino;
		e->size = st->st_size;
		e->mtime = st->st_mtim;
		memcpy(e->sha256, out, 32);
	}
	return 0;
}

/* The executable of process P: where it is in the container, and its hash. */
static int read_exe(struct dd_live *l, struct dd_live_process *p, const char *dir)
{
	char path[320];
	char *link = NULL, *root = NULL;
	struct stat st;
	size_t off, len;
	uint32_t flags;
	int fd;

	snprintf(path, sizeof(path), "%s/exe", dir);
	link = read_link(path);
	if (!link) {
		/* Kernel threads have none; a process that just exited has none either. */
		p->error = arena_str(l, strerror(errno), strlen(strerror(errno)));
		return p->error ? 0 : DD_ENOMEM;
	}
	snprintf(path, sizeof(path), "%s/root", dir);
	root = read_link(path);
	if (root && l->root_link && strcmp(root, l->root_link))
		p->flags |= DD_LIVE_OTHER_ROOT;
	/* The magic link leads to the very file that runs, even a deleted one. It is only read. */
	fd = dd_live_open_exe(l, p);
	if (fd >= 0 && fstat(fd, &st) == 0) {
		p->exe_size = (uint64_t)st.st_size;
		if (exe_hash(l, fd, &st, p->sha256) == 0)
			p->has_sha256 = true;
		else
			p->error = "read error";
	} else {
		p->error = errno == EINVAL ? "not a regular file" : arena_str(l, strerror(errno), strlen(strerror(errno)));
		st.st_nlink = 1;
	}
	if (fd >= 0)
		close(fd);
	dd__live_map_exe(link, root ? root : "/", p->has_sha256 ? st.st_nlink == 0 : true, &off, &len,
			 &flags);
	p->flags |= flags;
	p->exe_raw = arena_str(l, link, strlen(link));
	if (!(flags & (DD_LIVE_EXE_MEMFD | DD_LIVE_EXE_OUTSIDE))) {
		p->exe = arena_str(l, link + off, len);
		p->exe_len = len;
	}
	free(link);
	free(root);
	return p->exe_raw ? 0 : DD_ENOMEM;
}

static int read_cmdline(struct dd_live *l, struct dd_live_process *p, const char *dir,
			struct dd__buf *b)
{
	char path[320];
	const char **argv;
	size_t i, n = 0, start;
	bool trunc;

	snprintf(path, sizeof(path), "%s/cmdline", dir);
	if (slurp(path, MAX_CMDLINE, b, &trunc) != 0)
		return 0;
	for (i = 0; i < b->len; i++)
		n += b->data[i] == '\0';
	if (b->len && b->data[b->len - 1] != '\0')
		n++;
	if (n > MAX_ARGS)
		n = MAX_ARGS;
	argv = dd__arena_alloc(&l->arena, (n + 1) * sizeof(*argv));
	if (!argv)
		return DD_ENOMEM;
	for (i = 0, start = 0; p->argc < n && start < b->len; i++) {
		if (i == b->len || b->data[i] == '\0') {
			argv[p->argc] = arena_str(l, b->data + start, i - start);
			if (!argv[p->argc])
				return DD_ENOMEM;
			p->argc++;
			start = i + 1;
		}
	}
	argv[p->argc] = NULL;
	p->argv = argv;
	return 0;
}

/* Uid:, Gid: and the innermost NSpid: of /proc/N/status. */
static void parse_status(struct dd_live_process *p, const char *s)
{
	const char *line;

	for (line = s; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		unsigned a, b;

		if (!strncmp(line, "Uid:", 4) && sscanf(line + 4, "%u %u", &a, &b) == 2) {
			p->uid = a;
			p->euid = b;
		} else if (!strncmp(line, "Gid:", 4) && sscanf(line + 4, "%u", &a) == 1) {
			p->gid = a;
		} else if (!strncmp(line, "NSpid:", 6)) {
			const char *q = line + 6, *e = strchr(q, '\n');
			int last = 0;

			while (q && (!e || q < e)) {
				char *end;
				long v = strtol(q, &end, 10);

				if (end == q)
					break;
				last = (int)v;
				q = end;
			}
			p->nspid = last;
		}
	}
}

static int add_owner(struct dd_live *l, uint64_t inode, int pid)
{
	if (dd__grow(&l->owners, &l->cowners, l->nowners, sizeof(*l->owners)))
		return DD_ENOMEM;
	l->owners[l->nowners].inode = inode;
	l->owners[l->nowners].pid = pid;
	l->nowners++;
	return 0;
}

/* The sockets process PID holds, by inode, to name who listens. */
static int read_fds(struct dd_live *l, int pid, const char *dir)
{
	char path[320], link[64];
	struct dirent *de;
	size_t n = 0;
	DIR *d;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/fd", dir);
	d = opendir(path);
	if (!d)
		return 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		unsigned long long inode;
		ssize_t k;

		if (de->d_name[0] == '.')
			continue;
		if (++n > MAX_FDS) {
			warn(l, "process %d: more than %d open files; the rest not looked at", pid, MAX_FDS);
			break;
		}
		k = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
		if (k <= 0)
			continue;
		link[k] = '\0';
		if (sscanf(link, "socket:[%llu]", &inode) == 1)
			rc = add_owner(l, inode, pid);
	}
	closedir(d);
	return rc;
}

static int64_t boot_time(const char *proc)
{
	struct dd__buf b = DD__BUF_INIT;
	char path[300];
	const char *p;
	long long bt = 0;

	snprintf(path, sizeof(path), "%s/stat", proc);
	if (slurp(path, MAX_SMALL * 16, &b, NULL) == 0 && (p = strstr(b.data, "\nbtime ")) != NULL)
		bt = strtoll(p + 7, NULL, 10);
	dd__buf_free(&b);
	return bt;
}

static int read_process(struct dd_live *l, int pid, int64_t btime, long hz, struct dd__buf *b)
{
	struct dd_live_process *p;
	struct dd__proc_stat ps;
	char dir[300], path[320];
	int rc;

	snprintf(dir, sizeof(dir), "%s/%d", l->proc, pid);
	snprintf(path, sizeof(path), "%s/stat", dir);
	if (slurp(path, MAX_SMALL, b, NULL) != 0 || dd__live_parse_stat(b->data, b->len, &ps) != 0)
		return 0; /* exited */
	if (dd__grow(&l->procs, &l->cprocs, l->nprocs, sizeof(*l->procs)))
		return DD_ENOMEM;
	p = &l->procs[l->nprocs];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->ppid = ps.ppid;
	p->start_time = btime + (int64_t)(ps.starttime / (unsigned long long)hz);
	if (ps.tty_nr)
		p->flags |= DD_LIVE_TTY;
	p->comm = arena_str(l, ps.comm, ps.comm_len);
	if (!p->comm)
		return DD_ENOMEM;
	snprintf(path, sizeof(path), "%s/status", dir);
	if (slurp(path, MAX_SMALL, b, NULL) == 0)
		parse_status(p, b->data);
	rc = read_cmdline(l, p, dir, b);
	if (rc == 0)
		rc = read_exe(l, p, dir);
	if (rc == 0)
		rc = read_fds(l, pid, dir);
	if (rc == 0)
		l->nprocs++;
	return rc;
}

static int proc_cmp(const void *a, const void *b)
{
	const struct dd_live_process *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* Every process whose PID namespace is the container's. */
static int read_processes(struct dd_live *l)
{
	struct dd__buf b = DD__BUF_INIT;
	char path[320], *ns, *mine, *other;
	struct dirent *de;
	int64_t btime = boot_time(l->proc);
	long hz = sysconf(_SC_CLK_TCK);
	size_t i, denied = 0;
	bool found_init = false;
	DIR *d;
	int rc = 0;

	if (hz <= 0)
		hz = 100;
	snprintf(path, sizeof(path), "%s/%d/ns/pid", l->proc, l->pid);
	ns = read_link(path);
	if (!ns)
		return dd__error(l->ctx, DD_EIO, "%s: %s (reading another process's namespaces needs root)", path,
				 strerror(errno));
	mine = read_link("/proc/self/ns/pid");
	if (mine && !strcmp(mine, ns))
		warn(l, "process %d is in driftdiff's own PID namespace: it is not in a container, and every process of this namespace is listed",
		     l->pid);
	free(mine);
	d = opendir(l->proc);
	if (!d) {
		rc = dd__error(l->ctx, DD_EIO, "%s: %s", l->proc, strerror(errno));
		goto out;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0 || pid > 0x7fffffff)
			continue;
		snprintf(path, sizeof(path), "%s/%ld/ns/pid", l->proc, pid);
		other = read_link(path);
		if (!other) {
			denied += errno == EACCES || errno == EPERM;
			continue;
		}
		if (!strcmp(other, ns)) {
			if (l->nprocs >= MAX_PROCS) {
				warn(l, "more than %d processes; the rest not looked at", MAX_PROCS);
				free(other);
				break;
			}
			rc = read_process(l, (int)pid, btime, hz, &b);
		}
		free(other);
	}
	closedir(d);
	if (rc) {
		rc = dd__error(l->ctx, rc, "%s: out of memory", l->proc);
		goto out;
	}
	if (denied)
		warn(l, "%zu processes could not be looked at (permission denied): some of the container's may be missing",
		     denied);
	if (l->nprocs > 1)
		qsort(l->procs, l->nprocs, sizeof(*l->procs), proc_cmp);
	if (l->nprocs == 0)
		warn(l, "no process of the container could be read (it may have exited)");
	/* The container's first process: PID 1 of its namespace, else the one named. */
	for (i = 0; i < l->nprocs; i++)
		if (l->procs[i].nspid == 1) {
			l->procs[i].flags |= DD_LIVE_INIT;
			found_init = true;
		}
	for (i = 0; !found_init && i < l->nprocs; i++)
		if (l->procs[i].pid == l->pid)
			l->procs[i].flags |= DD_LIVE_INIT;
out:
	free(ns);
	dd__buf_free(&b);
	return rc;
}

/* ---- sockets ---- */

static int owner_cmp(const void *a, const void *b)
{
	const struct sockowner *x = a, *y = b;

	return (x->inode > y->inode) - (x->inode < y->inode);
}

static int read_net(struct dd_live *l, const char *file, int family, const char *proto,
		    struct dd__buf *b)
{
	char path[320];
	const char *line;
	bool trunc;

	snprintf(path, sizeof(path), "%s/%d/net/%s", l->proc, l->pid, file);
	if (slurp(path, MAX_NETFILE, b, &trunc) != 0) {
		/* No IPv6 in the kernel is normal; anything else is worth a line. */
		if (errno != ENOENT)
			warn(l, "%s: %s", path, strerror(errno));
		return 0;
	}
	if (trunc)
		warn(l, "%s: larger than %u bytes; the rest not read", path, MAX_NETFILE);
	for (line = b->data; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		struct dd_live_socket s;
		struct sockowner key, *o;

		if (dd__live_parse_net(line, family, proto, &s) != 0)
			continue;
		key.inode = s.inode;
		o = l->nowners ? bsearch(&key, l->owners, l->nowners, sizeof(key), owner_cmp) : NULL;
		s.pid = o ? o->pid : 0;
		/* In the host's network namespace, only the container's own sockets are its. */
		if (l->shared_netns && !s.pid)
			continue;
		if (s.state && !strcmp(s.state, "time-wait"))
			continue;
		if (l->nsocks >= MAX_SOCKETS) {
			warn(l, "more than %d sockets; the rest not looked at", MAX_SOCKETS);
			break;
		}
		if (dd__grow(&l->socks, &l->csocks, l->nsocks, sizeof(*l->socks)))
			return DD_ENOMEM;
		l->socks[l->nsocks++] = s;
	}
	return 0;
}

static int read_sockets(struct dd_live *l)
{
	struct dd__buf b = DD__BUF_INIT;
	char path[320], *ns, *mine;
	int rc;

	snprintf(path, sizeof(path), "%s/%d/ns/net", l->proc, l->pid);
	ns = read_link(path);
	mine = read_link("/proc/self/ns/net");
	if (ns && mine && !strcmp(ns, mine)) {
		l->shared_netns = true;
		warn(l, "the container shares driftdiff's network namespace (host network?): only sockets its processes hold are listed");
	}
	free(ns);
	free(mine);
	if (l->nowners)
		qsort(l->owners, l->nowners, sizeof(*l->owners), owner_cmp);
	rc = read_net(l, "tcp", 4, "tcp", &b);
	if (rc == 0)
		rc = read_net(l, "tcp6", 6, "tcp", &b);
	if (rc == 0)
		rc = read_net(l, "udp", 4, "udp", &b);
	if (rc == 0)
		rc = read_net(l, "udp6", 6, "udp", &b);
	dd__buf_free(&b);
	if (rc)
		return dd__error(l->ctx, rc, "%s/%d/net: out of memory", l->proc, l->pid);
	return 0;
}

/* ---- mounts and environment ---- */

static bool pseudo_fs(const char *fstype, const char *path)
{
	static const char *const types[] = {
		"proc", "sysfs", "devpts", "devtmpfs", "mqueue", "cgroup", "cgroup2", "securityfs",
		"debugfs", "tracefs", "pstore", "bpf", "hugetlbfs", "fusectl", "configfs",
		"binfmt_misc", "autofs", "rpc_pipefs", "nsfs", "selinuxfs", "efivarfs",
	};
	size_t i;

	for (i = 0; i < DD_ARRAY_SIZE(types); i++)
		if (!strcmp(fstype, types[i]))
			return true;
	/* /dev and /sys are the runtime's whatever their type (a tmpfs /dev). */
	return !strcmp(path, "/dev") || !strncmp(path, "/dev/", 5) || !strcmp(path, "/sys") ||
	       !strncmp(path, "/sys/", 5) || !strcmp(path, "/proc") || !strncmp(path, "/proc/", 6);
}

static int read_mounts(struct dd_live *l)
{
	struct dd__buf b = DD__BUF_INIT;
	char path[320];
	char *line, *next;
	bool trunc;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/%d/mountinfo", l->proc, l->pid);
	if (slurp(path, MAX_NETFILE, &b, &trunc) != 0) {
		warn(l, "%s: %s; mount points inside the container are walked like directories", path,
		     strerror(errno));
		return 0;
	}
	for (line = b.data; line && *line && rc == 0; line = next) {
		struct dd__mountinfo mi;
		struct dd_live_mount *m;
		struct dd__buf norm = DD__BUF_INIT;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (dd__live_parse_mountinfo(line, &mi) != 0)
			continue;
		/* mountinfo paths are the kernel's: normalise anyway, they are compared with walked ones. */
		if (dd__path_normalize(&norm, mi.path, strlen(mi.path)) != 0 || norm.len <= 1) {
			dd__buf_free(&norm);
			continue;
		}
		if (l->nmounts >= MAX_MOUNTS) {
			warn(l, "%s: more than %d mounts; the rest walked like directories", path, MAX_MOUNTS);
			dd__buf_free(&norm);
			break;
		}
		if (dd__grow(&l->mounts, &l->cmounts, l->nmounts, sizeof(*l->mounts))) {
			dd__buf_free(&norm);
			rc = DD_ENOMEM;
			break;
		}
		m = &l->mounts[l->nmounts];
		m->path = arena_str(l, norm.data, norm.len);
		m->path_len = norm.len;
		m->fstype = arena_str(l, mi.fstype, strlen(mi.fstype));
		m->source = arena_str(l, mi.source, strlen(mi.source));
		m->root = arena_str(l, mi.root, strlen(mi.root));
		m->ro = !strncmp(mi.options, "ro", 2) && (mi.options[2] == ',' || !mi.options[2]);
		m->pseudo = pseudo_fs(mi.fstype, norm.data);
		m->walked = l->include_mounts && !m->pseudo;
		dd__buf_free(&norm);
		if (!m->path || !m->fstype || !m->source || !m->root)
			rc = DD_ENOMEM;
		else
			l->nmounts++;
	}
	dd__buf_free(&b);
	if (rc)
		return dd__error(l->ctx, rc, "%s: out of memory", path);
	return 0;
}

static int read_environ(struct dd_live *l)
{
	struct dd__buf b = DD__BUF_INIT;
	char path[320];
	size_t i, start, n = 0;
	int pid = l->pid, rc = 0;
	bool trunc;

	for (i = 0; i < l->nprocs; i++)
		if (l->procs[i].flags & DD_LIVE_INIT)
			pid = l->procs[i].pid;
	snprintf(path, sizeof(path), "%s/%d/environ", l->proc, pid);
	if (slurp(path, MAX_ENVIRON, &b, &trunc) != 0) {
		warn(l, "%s: %s; the environment is not compared", path, strerror(errno));
		goto out;
	}
	if (trunc)
		warn(l, "%s: larger than %u bytes; the rest not read", path, MAX_ENVIRON);
	for (i = 0; i < b.len; i++)
		n += b.data[i] == '\0';
	l->env = dd__arena_alloc(&l->arena, (n + 2) * sizeof(*l->env));
	if (!l->env) {
		rc = DD_ENOMEM;
		goto out;
	}
	for (i = 0, start = 0; i <= b.len; i++) {
		if (i == b.len || b.data[i] == '\0') {
			if (i > start && l->nenv <= n) {
				l->env[l->nenv] = arena_str(l, b.data + start, i - start);
				if (!l->env[l->nenv++]) {
					rc = DD_ENOMEM;
					break;
				}
			}
			start = i + 1;
		}
	}
out:
	dd__buf_free(&b);
	return rc ? dd__error(l->ctx, rc, "%s: out of memory", path) : 0;
}

/* ---- the public API ---- */

int dd_live_open(struct dd_live **out, struct dd_ctx *ctx, int pid, const struct dd_live_options *opts)
{
	struct dd_live_options defaults = DD_LIVE_OPTIONS_INIT;
	struct dd_live *l;
	struct stat st;
	int rc;

	if (!out || !ctx)
		return DD_EINVAL;
	*out = NULL;
	if (!opts)
		opts = &defaults;
	if (pid <= 0)
		return dd__error(ctx, DD_EINVAL, "PID %d: not a process ID", pid);
	l = calloc(1, sizeof(*l));
	if (!l)
		return dd__error(ctx, DD_ENOMEM, "out of memory");
	l->ctx = ctx;
	l->pid = pid;
	l->include_mounts = opts->include_mounts;
	dd__arena_init(&l->arena);
	if (snprintf(l->proc, sizeof(l->proc), "%s", opts->proc ? opts->proc : "/proc") >= (int)sizeof(l->proc)) {
		rc = dd__error(ctx, DD_EINVAL, "%s: path too long", opts->proc);
		goto fail;
	}
	snprintf(l->root_path, sizeof(l->root_path), "%s/%d/root", l->proc, pid);
	/* The root is opened on purpose through its magic link, once, by the walk. */
	if (stat(l->root_path, &st) != 0) {
		rc = dd__error(ctx, errno == ENOENT ? DD_ENOTFOUND : DD_EIO, "%s: %s", l->root_path,
			       errno == ENOENT ? "no such process" : errno == EACCES ? "permission denied (needs root)"
											: strerror(errno));
		goto fail;
	}
	l->root_link = read_link(l->root_path);
	rc = read_processes(l);
	if (rc == 0)
		rc = read_sockets(l);
	if (rc == 0)
		rc = read_mounts(l);
	if (rc == 0)
		rc = read_environ(l);
	if (rc)
		goto fail;
	*out = l;
	return 0;
fail:
	dd_live_free(l);
	return rc;
}

void dd_live_free(struct dd_live *l)
{
	if (!l)
		return;
	free(l->root_link);
	free(l->procs);
	free(l->socks);
	free(l->mounts);
	free(l->exes);
	free(l->owners);
	dd__warnings_free(&l->warnings);
	dd__arena_free(&l->arena);
	free(l);
}

int dd_live_pid(const struct dd_live *l) { return l->pid; }
const char *dd_live_root_path(const struct dd_live *l) { return l->root_path; }
size_t dd_live_process_count(const struct dd_live *l) { return l->nprocs; }
size_t dd_live_socket_count(const struct dd_live *l) { return l->nsocks; }
size_t dd_live_mount_count(const struct dd_live *l) { return l->nmounts; }
size_t dd_live_warning_count(const struct dd_live *l) { return l->warnings.len; }

const struct dd_live_process *dd_live_process(const struct dd_live *l, size_t i)
{
	return i < l->nprocs ? &l->procs[i] : NULL;
}

const struct dd_live_socket *dd_live_socket(const struct dd_live *l, size_t i)
{
	return i < l->nsocks ? &l->socks[i] : NULL;
}

const struct dd_live_mount *dd_live_mount(const struct dd_live *l, size_t i)
{
	return i < l->nmounts ? &l->mounts[i] : NULL;
}

const char *const *dd_live_environ(const struct dd_live *l, size_t *n)
{
	*n = l->nenv;
	return l->env;
}

const char *dd_live_warning(const struct dd_live *l, size_t i)
{
	return i < l->warnings.len ? l->warnings.items[i] : NULL;
}

const char *dd_live_exe_state_name(enum dd_live_exe_state s)
{
	switch (s) {
	case DD_LIVE_EXE_IMAGE: return "image";
	case DD_LIVE_EXE_MODIFIED: return "modified";
	case DD_LIVE_EXE_ADDED: return "added";
	case DD_LIVE_EXE_GONE: return "gone";
	case DD_LIVE_EXE_FOREIGN: return "foreign";
	default: return "unknown";
	}
}

enum dd_live_exe_state dd_live_exe_check(const struct dd_live_process *p, const struct dd_tree *image)
{
	const struct dd_entry *e;

	if (p->flags & (DD_LIVE_EXE_DELETED | DD_LIVE_EXE_MEMFD))
		return DD_LIVE_EXE_GONE;
	if (p->flags & DD_LIVE_EXE_OUTSIDE)
		return DD_LIVE_EXE_FOREIGN;
	if (!p->exe)
		return DD_LIVE_EXE_UNKNOWN;
	e = image ? dd_tree_find(image, p->exe, p->exe_len) : NULL;
	if (!e)
		return DD_LIVE_EXE_ADDED;
	if (e->type != DD_TYPE_FILE)
		return DD_LIVE_EXE_MODIFIED;
	if (!p->has_sha256 || !e->has_sha256)
		return DD_LIVE_EXE_UNKNOWN;
	return memcmp(e->sha256, p->sha256, 32) ? DD_LIVE_EXE_MODIFIED : DD_LIVE_EXE_IMAGE;
}

int dd_live_open_exe(const struct dd_live *l, const struct dd_live_process *p)
{
	char path[320];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/%d/exe", l->proc, p->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

static int str_path_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;

	return dd_path_compare(x, strlen(x), y, strlen(y));
}

int dd_live_read_root(struct dd_tree **out, struct dd_ctx *ctx, const struct dd_live *l,
		      const struct dd_target_options *opts)
{
	const char **ex = NULL;
	size_t i, n = 0;
	int rc;

	if (!out || !ctx || !l)
		return DD_EINVAL;
	if (l->nmounts) {
		ex = calloc(l->nmounts, sizeof(*ex));
		if (!ex)
			return dd__error(ctx, DD_ENOMEM, "out of memory");
	}
	for (i = 0; i < l->nmounts; i++)
		if (!l->include_mounts || l->mounts[i].pseudo)
			ex[n++] = l->mounts[i].path;
	if (n)
		qsort(ex, n, sizeof(*ex), str_path_cmp);
	if (l->include_mounts) {
		struct dd_target_options o = opts ? *opts : (struct dd_target_options)DD_TARGET_OPTIONS_INIT;

		o.cross_mounts = true;
		rc = dd__walk_excluding(out, ctx, l->root_path, &o, ex, n);
	} else {
		rc = dd__walk_excluding(out, ctx, l->root_path, opts, ex, n);
	}
	free(ex);
	return rc;
}
