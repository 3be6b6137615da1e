/*
 * Findings from a live snapshot: executed binary drift (DD-PROC-001/002),
 * shells and package managers running (DD-PROC-003/004), listeners on
 * ports the image does not expose and open outbound connections
 * (DD-NET-001/002), and the first process's environment against the
 * image's (DD-CFG-001).
 *
 * Process names and command lines are chosen by whoever started the
 * process, so each check looks at the executable's own name as well as
 * argv[0] and the kernel's comm, and the image's entrypoint is recognised
 * only on the container's first process.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "live.h"

/* Names listed in one finding's detail before "and N more". */
#define MAX_LISTED 20

static const char *const shells[] = { "sh", "bash", "dash", "zsh", "ash", "ksh", "mksh", "csh", "tcsh",
				      "fish" };
static const char *const pkg_managers[] = { "apt", "apt-get", "aptitude", "dpkg", "yum", "dnf",
					    "microdnf", "rpm", "apk", "pip", "pip3", "npm", "yarn",
					    "gem", "cargo", "conda", "zypper" };

static const char *base_name(const char *s)
{
	const char *slash = s ? strrchr(s, '/') : NULL;

	return slash ? slash + 1 : s ? s : "";
}

static bool in_list(const char *name, const char *const *list, size_t n)
{
	size_t i;

	if (*name == '-')
		name++; /* a login shell's argv[0] is "-bash" */
	for (i = 0; i < n; i++)
		if (!strcmp(name, list[i]))
			return true;
	return false;
}

/* pip3.11, python3 -m pip: pip whatever it is called. */
static bool is_pip(const struct dd_live_process *p)
{
	const char *b = p->argc ? base_name(p->argv[0]) : "";
	size_t i;

	if (!strncmp(b, "pip", 3) && strspn(b + 3, "0123456789.") == strlen(b + 3))
		return true;
	for (i = 1; i + 1 < p->argc && i < 4; i++)
		if (!strcmp(p->argv[i], "-m") && (!strcmp(p->argv[i + 1], "pip") || !strcmp(p->argv[i + 1], "ensurepip")))
			return true;
	return false;
}

/* The name the process goes by that is in LIST: argv[0], comm, or the executable's. */
static const char *named(const struct dd_live_process *p, const char *const *list, size_t n)
{
	const char *a0 = p->argc ? base_name(p->argv[0]) : "";

	if (in_list(a0, list, n))
		return *a0 == '-' ? a0 + 1 : a0;
	if (p->comm && in_list(p->comm, list, n))
		return p->comm;
	if (p->exe && in_list(base_name(p->exe), list, n))
		return base_name(p->exe);
	return NULL;
}

static size_t jlen(struct json_object *a)
{
	return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

static const char *jat(struct json_object *a, size_t i)
{
	return json_object_get_string(json_object_array_get_idx(a, i));
}

/* Do ARGV[FROM..] start with WANT (the whole of it when EXACT)? */
static bool argv_has(const struct dd_live_process *p, size_t from, const char *const *want, size_t n,
		     bool exact)
{
	size_t i;

	if (n == 0 || p->argc < from + n || (exact && p->argc != from + n))
		return false;
	for (i = 0; i < n; i++)
		if (strcmp(p->argv[from + i], want[i]))
			return false;
	return true;
}

/*
 * Is P the image's own entrypoint? Only the first process can be. Its
 * argv is Entrypoint + Cmd, or starts with the Entrypoint (Cmd replaced at
 * run time), possibly behind the interpreter of a #! script.
 */
static bool is_entrypoint(const struct dd_live_process *p, const struct dd__imgcfg *ic)
{
	const char *want[64];
	size_t ne = jlen(ic->entrypoint), nc = jlen(ic->cmd), n = 0, i, from;

	if (!(p->flags & DD_LIVE_INIT) || ne + nc == 0 || ne + nc > DD_ARRAY_SIZE(want))
		return false;
	for (i = 0; i < ne; i++)
		want[n++] = jat(ic->entrypoint, i);
	for (i = 0; i < nc; i++)
		want[n++] = jat(ic->cmd, i);
	for (from = 0; from <= 1; from++) {
		if (argv_has(p, from, want, n, true) || (ne && argv_has(p, from, want, ne, false)))
			return true;
		/* A #! script runs as "interpreter script args": the script is argv[1]. */
		if (p->argc < 2)
			break;
	}
	return false;
}

static int put_cmd(struct dd__buf *b, const struct dd_live_process *p)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < p->argc && i < 32 && rc == 0; i++)
		rc = (i ? dd__buf_puts(b, " ") : 0) || dd__put_word(b, p->argv[i]);
	if (!rc && p->argc > 32)
		rc = dd__buf_printf(b, " ... (%zu more)", p->argc - 32);
	if (!rc && p->argc == 0)
		rc = dd__buf_printf(b, "[%s]", p->comm ? p->comm : "?");
	return rc;
}

/* "pid 812 (7 in the container), uid 0: CMD" */
static int put_process(struct dd__buf *b, const struct dd_live_process *p)
{
	if (dd__buf_printf(b, "pid %d", p->pid) ||
	    (p->nspid && p->nspid != p->pid && dd__buf_printf(b, " (%d in the container)", p->nspid)) ||
	    dd__buf_printf(b, ", uid %u: ", p->euid))
		return DD_ENOMEM;
	return put_cmd(b, p);
}

static int put_sha(struct dd__buf *b, const unsigned char *sha)
{
	char hex[65];

	dd__hex(hex, sha, 32);
	return dd__buf_printf(b, "sha256:%s", hex);
}

/* ---- DD-PROC-001/002: what runs is not the image's ---- */

struct exe_group {
	const struct dd_live_process *first;
	enum dd_live_exe_state state;
	struct dd__buf pids;
	size_t n;
};

/* A drifted process and how its executable compares with the image. */
struct drifted {
	const struct dd_live_process *p;
	enum dd_live_exe_state state;
};

/* Same executable (state, content, link) together; pid order within. */
static int drifted_cmp(const void *x, const void *y)
{
	const struct drifted *a = x, *b = y;
	int c;

	if (a->state != b->state)
		return a->state < b->state ? -1 : 1;
	if (a->p->has_sha256 != b->p->has_sha256)
		return a->p->has_sha256 ? 1 : -1;
	c = memcmp(a->p->sha256, b->p->sha256, 32);
	if (!c)
		c = strcmp(a->p->exe_raw, b->p->exe_raw);
	return c ? c : (a->p->pid > b->p->pid) - (a->p->pid < b->p->pid);
}

/* The image's hashed files by content, first in path order among equals. */
static int by_sha_cmp(const void *x, const void *y)
{
	const struct dd_entry *a = *(const struct dd_entry *const *)x, *b = *(const struct dd_entry *const *)y;
	int c = memcmp(a->sha256, b->sha256, 32);

	return c ? c : dd_path_compare(a->path, a->path_len, b->path, b->path_len);
}

/* The first file of BY_SHA (N entries) with content SHA other than NOT, or NULL. */
static const struct dd_entry *same_content(const struct dd_entry *const *by_sha, size_t n,
					   const unsigned char *sha, const struct dd_entry *not)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(by_sha[mid]->sha256, sha, 32) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < n && !memcmp(by_sha[lo]->sha256, sha, 32); lo++)
		if (by_sha[lo] != not)
			return by_sha[lo];
	return NULL;
}

static int exe_finding(struct dd_findings *fs, const struct exe_group *g, const struct dd_tree *image,
		       const struct dd_entry *const *by_sha, size_t nsha)
{
	const struct dd_live_process *p = g->first;
	const char *rule = g->state == DD_LIVE_EXE_GONE ? "DD-PROC-002" : "DD-PROC-001";
	const struct dd_entry *e = NULL, *same = NULL;
	struct dd__buf b = DD__BUF_INIT;
	struct dd_finding *f;
	const char *path = p->exe ? p->exe : p->exe_raw;
	size_t len = p->exe ? p->exe_len : strlen(p->exe_raw);
	int rc;

	/* "/memfd:payload (deleted)" is the memfd's name, not a path: keep the name. */
	if (!p->exe && len > 10 && !memcmp(path + len - 10, " (deleted)", 10))
		len -= 10;
	if (p->exe)
		e = dd_tree_find(image, p->exe, p->exe_len);
	/* A renamed copy of an image binary is still drift, but worth saying. */
	if (p->has_sha256)
		same = same_content(by_sha, nsha, p->sha256, e);
	rc = put_process(&b, p);
	if (!rc && g->n > 1)
		rc = dd__buf_printf(&b, "; %zu processes run it: pids %s", g->n, g->pids.data);
	if (!rc)
		rc = dd__buf_puts(&b, "; ");
	if (!rc && p->has_sha256)
		rc = put_sha(&b, p->sha256) || dd__buf_printf(&b, ", %llu bytes; ", (unsigned long long)p->exe_size);
	if (rc)
		goto out;
	switch (g->state) {
	case DD_LIVE_EXE_GONE:
		rc = (p->flags & DD_LIVE_EXE_MEMFD) ? dd__buf_printf(&b, "runs from memory (%s)", p->exe_raw)
						     : dd__buf_puts(&b, "the file was deleted after it started");
		if (!rc && e && e->has_sha256 && p->has_sha256)
			rc = dd__buf_puts(&b, memcmp(e->sha256, p->sha256, 32) ? "; the image's file at that path differs"
									   : "; it was the image's file at that path");
		break;
	case DD_LIVE_EXE_FOREIGN:
		rc = dd__buf_printf(&b, "outside the container's root (%s)", p->exe_raw);
		break;
	case DD_LIVE_EXE_MODIFIED:
		if (e && e->type == DD_TYPE_FILE && e->has_sha256)
			rc = dd__buf_puts(&b, "the image's file has ") || put_sha(&b, e->sha256);
		else
			rc = dd__buf_puts(&b, "the image has that path, but not as a regular file");
		break;
	default:
		rc = dd__buf_puts(&b, "not in the image");
		break;
	}
	if (!rc && same)
		rc = dd__buf_puts(&b, "; same content as ") || dd__buf_put(&b, same->path, same->path_len) ||
		     dd__buf_puts(&b, " in the image");
	if (!rc && (p->flags & DD_LIVE_OTHER_ROOT))
		rc = dd__buf_puts(&b, "; the process has its own root directory");
	if (rc)
		goto out;
	f = dd__finding_add(fs, rule, NULL);
	if (!f || dd__finding_path(fs, f, path, len) || dd__finding_detail(fs, f, "%s", b.data))
		rc = DD_ENOMEM;
out:
	dd__buf_free(&b);
	return rc;
}

static int executables(struct dd_findings *fs, const struct dd_live *live, const struct dd_tree *image)
{
	const struct dd_entry **by_sha = NULL;
	struct drifted *d = NULL;
	struct exe_group g;
	size_t i, j, nd = 0, nsha = 0, np = dd_live_process_count(live), ni = dd_tree_count(image);
	int rc = 0;

	d = malloc((np ? np : 1) * sizeof(*d));
	if (!d)
		return DD_ENOMEM;
	for (i = 0; i < np; i++) {
		const struct dd_live_process *p = dd_live_process(live, i);
		enum dd_live_exe_state st = dd_live_exe_check(p, image);

		if (st == DD_LIVE_EXE_ADDED || st == DD_LIVE_EXE_MODIFIED || st == DD_LIVE_EXE_GONE ||
		    st == DD_LIVE_EXE_FOREIGN) {
			d[nd].p = p;
			d[nd++].state = st;
		}
	}
	/* Sorted once, so that neither the grouping nor the content lookup goes quadratic. */
	if (nd) {
		qsort(d, nd, sizeof(*d), drifted_cmp);
		by_sha = malloc((ni ? ni : 1) * sizeof(*by_sha));
		if (!by_sha) {
			rc = DD_ENOMEM;
			goto out;
		}
		for (i = 0; i < ni; i++) {
			const struct dd_entry *x = dd_tree_entry(image, i);

			if (x->type == DD_TYPE_FILE && x->has_sha256)
				by_sha[nsha++] = x;
		}
		qsort(by_sha, nsha, sizeof(*by_sha), by_sha_cmp);
	}
	/* One finding per executable, however many processes run it. */
	for (i = 0; i < nd && rc == 0; i = j) {
		memset(&g, 0, sizeof(g));
		g.first = d[i].p;
		g.state = d[i].state;
		for (j = i; j < nd && rc == 0 && (j == i || (d[j].state == d[i].state &&
				d[j].p->has_sha256 == d[i].p->has_sha256 &&
				!memcmp(d[j].p->sha256, d[i].p->sha256, 32) &&
				!strcmp(d[j].p->exe_raw, d[i].p->exe_raw))); j++) {
			g.n++;
			if (g.n <= MAX_LISTED)
				rc = dd__buf_printf(&g.pids, "%s%d", g.n > 1 ? ", " : "", d[j].p->pid);
			else if (g.n == MAX_LISTED + 1)
				rc = dd__buf_puts(&g.pids, ", ...");
		}
		if (rc == 0)
			rc = exe_finding(fs, &g, image, by_sha, nsha);
		dd__buf_free(&g.pids);
	}
out:
	free(by_sha);
	free(d);
	return rc;
}

/* ---- DD-PROC-003/004: shells and package managers ---- */

static int process_finding(struct dd_findings *fs, const char *rule, const struct dd_live_process *p,
			   const char *what, const char *name, enum dd_severity sev)
{
	struct dd__buf b = DD__BUF_INIT;
	struct dd_finding *f;
	int rc;

	rc = dd__buf_printf(&b, "%s %s, ", what, name);
	if (!rc)
		rc = put_process(&b, p);
	if (!rc && (p->flags & DD_LIVE_TTY))
		rc = dd__buf_puts(&b, "; it has a terminal (interactive)");
	if (!rc && p->ppid)
		rc = dd__buf_printf(&b, "; parent pid %d", p->ppid);
	if (rc)
		goto out;
	f = dd__finding_add(fs, rule, NULL);
	if (!f || (p->exe && dd__finding_path(fs, f, p->exe, p->exe_len)) ||
	    dd__finding_detail(fs, f, "%s", b.data))
		rc = DD_ENOMEM;
	else if (sev)
		f->severity = sev;
out:
	dd__buf_free(&b);
	return rc;
}

static int commands(struct dd_findings *fs, const struct dd_live *live, const struct dd__imgcfg *ic)
{
	size_t i, np = dd_live_process_count(live);
	int rc = 0;

	for (i = 0; i < np && rc == 0; i++) {
		const struct dd_live_process *p = dd_live_process(live, i);
		const char *name;

		if (is_entrypoint(p, ic))
			continue;
		name = named(p, shells, DD_ARRAY_SIZE(shells));
		if (name)
			rc = process_finding(fs, "DD-PROC-003", p, "shell", name,
					     (p->flags & DD_LIVE_TTY) ? DD_SEVERITY_HIGH : DD_SEVERITY_NONE);
		name = named(p, pkg_managers, DD_ARRAY_SIZE(pkg_managers));
		if (!name && is_pip(p))
			name = "pip";
		if (!rc && name)
			rc = process_finding(fs, "DD-PROC-004", p, "package manager", name, DD_SEVERITY_NONE);
	}
	return rc;
}

/* ---- DD-NET-001/002: sockets ---- */

static bool loopback(const struct dd_live_socket *s, bool remote)
{
	const char *a = remote ? s->remote : s->local;

	return !strncmp(a, "127.", 4) || !strcmp(a, "::1") || !strncmp(a, "::ffff:127.", 11);
}

/* Is PORT/PROTO among the image config's ExposedPorts ("80/tcp", "53/udp", "8080")? */
static bool exposed(struct json_object *ports, unsigned port, const char *proto)
{
	char key[32];

	if (!ports || !json_object_is_type(ports, json_type_object))
		return false;
	snprintf(key, sizeof(key), "%u/%s", port, proto);
	if (json_object_object_get_ex(ports, key, NULL))
		return true;
	snprintf(key, sizeof(key), "%u", port);
	return !strcmp(proto, "tcp") && json_object_object_get_ex(ports, key, NULL);
}

static int pid_cmp(const void *key, const void *elem)
{
	int pid = *(const int *)key, other = ((const struct dd_live_process *)elem)->pid;

	return (pid > other) - (pid < other);
}

/* The process PID (dd_live_open() lists them in pid order), or NULL. */
static const struct dd_live_process *owner(const struct dd_live *live, int pid)
{
	size_t n = dd_live_process_count(live);

	return pid && n ? bsearch(&pid, dd_live_process(live, 0), n, sizeof(struct dd_live_process), pid_cmp)
			: NULL;
}

static int exposed_list(struct dd__buf *b, struct json_object *ports)
{
	size_t n = 0;

	if (ports && json_object_is_type(ports, json_type_object)) {
		json_object_object_foreach(ports, key, val) {
			(void)val;
			if (dd__buf_printf(b, "%s%s", n++ ? ", " : "the image exposes ", key))
				return DD_ENOMEM;
		}
	}
	return n ? 0 : dd__buf_puts(b, "the image exposes no ports");
}

/*
 * The listening sockets in (protocol, port) order, so that each port's v4
 * and v6 sockets are one run and a port is found by binary search: a
 * container may hold tens of thousands of sockets.
 */
static int listen_cmp(const void *x, const void *y)
{
	const struct dd_live_socket *a = *(const struct dd_live_socket *const *)x;
	const struct dd_live_socket *b = *(const struct dd_live_socket *const *)y;
	int c = strcmp(a->proto, b->proto);

	if (c)
		return c;
	if (a->local_port != b->local_port)
		return a->local_port < b->local_port ? -1 : 1;
	return (a > b) - (a < b); /* the snapshot's order within a port */
}

static bool listens(const struct dd_live_socket *const *ls, size_t n, const char *proto, uint16_t port)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(ls[mid]->proto, proto);

		if (!c)
			c = ls[mid]->local_port < port ? -1 : ls[mid]->local_port > port;
		if (!c)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* DD-NET-001 for one port: the run LS[0..N) of its listening sockets. */
static int listener(struct dd_findings *fs, const struct dd_live *live, const struct dd_live_socket *const *ls,
		    size_t n, struct json_object *ports)
{
	const struct dd_live_socket *s0 = ls[0];
	const struct dd_live_process *who = NULL;
	struct dd__buf b = DD__BUF_INIT;
	struct dd_finding *f;
	bool all_loop = true;
	size_t i;
	int rc;

	rc = dd__buf_printf(&b, "%s port %u on ", s0->proto, s0->local_port);
	for (i = 0; i < n && rc == 0; i++) {
		const struct dd_live_socket *s = ls[i];

		all_loop = all_loop && loopback(s, false);
		if (i < 4)
			rc = dd__buf_printf(&b, "%s%s%s%s", i ? ", " : "", s->family == 6 ? "[" : "",
					    s->local, s->family == 6 ? "]" : "");
		if (!who)
			who = owner(live, s->pid);
	}
	if (!rc)
		rc = dd__buf_puts(&b, who ? ", held by " : ", held by a process not seen (uid ");
	if (!rc)
		rc = who ? put_process(&b, who) : dd__buf_printf(&b, "%u)", s0->uid);
	if (!rc)
		rc = dd__buf_puts(&b, "; ") || exposed_list(&b, ports);
	if (!rc && all_loop)
		rc = dd__buf_puts(&b, "; loopback only");
	if (!rc && !strcmp(s0->proto, "udp") && s0->local_port >= 32768)
		rc = dd__buf_puts(&b, "; an ephemeral port: possibly a client's socket");
	if (rc)
		goto out;
	f = dd__finding_add(fs, "DD-NET-001", NULL);
	if (!f || (who && who->exe && dd__finding_path(fs, f, who->exe, who->exe_len)) ||
	    dd__finding_detail(fs, f, "%s", b.data))
		rc = DD_ENOMEM;
	else if (all_loop || (!strcmp(s0->proto, "udp") && s0->local_port >= 32768))
		f->severity = DD_SEVERITY_LOW;
out:
	dd__buf_free(&b);
	return rc;
}

static int sockets(struct dd_findings *fs, const struct dd_live *live, struct json_object *ports)
{
	const struct dd_live_socket **ls;
	struct dd__buf b = DD__BUF_INIT;
	size_t i, j, n = dd_live_socket_count(live), nl = 0, nout = 0;
	int rc = 0;

	ls = malloc((n ? n : 1) * sizeof(*ls));
	if (!ls)
		return DD_ENOMEM;
	for (i = 0; i < n; i++)
		if (dd_live_socket(live, i)->listening)
			ls[nl++] = dd_live_socket(live, i);
	if (nl > 1)
		qsort(ls, nl, sizeof(*ls), listen_cmp);
	/* One finding per port not exposed, over its IPv4 and IPv6 sockets. */
	for (i = 0; i < nl && rc == 0; i = j) {
		for (j = i + 1; j < nl && ls[j]->local_port == ls[i]->local_port && !strcmp(ls[j]->proto, ls[i]->proto);)
			j++;
		if (!exposed(ports, ls[i]->local_port, ls[i]->proto))
			rc = listener(fs, live, ls + i, j - i, ports);
	}
	/* Outbound: established TCP to another host, from a port nobody listens on. */
	for (i = 0; i < n && rc == 0; i++) {
		const struct dd_live_socket *s = dd_live_socket(live, i);
		const struct dd_live_process *who;

		if (strcmp(s->proto, "tcp") || strcmp(s->state, "established") || loopback(s, true) ||
		    listens(ls, nl, "tcp", s->local_port) || ++nout > MAX_LISTED)
			continue;
		who = owner(live, s->pid);
		rc = dd__buf_printf(&b, "%s%s%s%s:%u", nout > 1 ? ", " : "", s->family == 6 ? "[" : "", s->remote,
				    s->family == 6 ? "]" : "", s->remote_port);
		if (!rc && who)
			rc = dd__buf_printf(&b, " (pid %d %s)", who->pid,
					    who->argc ? base_name(who->argv[0]) : who->comm ? who->comm : "?");
	}
	if (!rc && nout) {
		struct dd_finding *f = dd__finding_add(fs, "DD-NET-002", NULL);

		if (!f || dd__finding_detail(fs, f, "%zu established to %s%s", nout, b.data,
					     nout > MAX_LISTED ? " and more" : ""))
			rc = DD_ENOMEM;
	}
	free(ls);
	dd__buf_free(&b);
	return rc;
}

/* ---- DD-CFG-001: the first process's environment ---- */

static int environment(struct dd_findings *fs, const struct dd_live *live, const struct dd__imgcfg *ic,
		       bool show_values)
{
	struct json_object *arr;
	const char *const *env;
	char where[64];
	size_t i, n;
	int pid = dd_live_pid(live), rc;

	env = dd_live_environ(live, &n);
	if (!env)
		return 0;
	for (i = 0; i < dd_live_process_count(live); i++)
		if (dd_live_process(live, i)->flags & DD_LIVE_INIT)
			pid = dd_live_process(live, i)->pid;
	arr = json_object_new_array();
	if (!arr)
		return DD_ENOMEM;
	for (i = 0; i < n; i++)
		if (json_object_array_add(arr, json_object_new_string(env[i]))) {
			json_object_put(arr);
			return DD_ENOMEM;
		}
	snprintf(where, sizeof(where), "/proc/%d/environ", pid);
	rc = dd__env_drift(fs, ic->env, arr, where, show_values);
	json_object_put(arr);
	return rc;
}

int dd__classify_live(struct dd_findings *fs, const struct dd_live *live, struct dd_image *img,
		      const struct dd_tree *image_tree, bool show_env_values)
{
	struct json_object *doc = NULL;
	struct dd__imgcfg ic;
	int rc = 0;

	memset(&ic, 0, sizeof(ic));
	if (img)
		rc = dd__image_config(fs->ctx, img, &doc, &ic);
	if (rc)
		return rc;
	if (image_tree)
		rc = executables(fs, live, image_tree);
	if (rc == 0)
		rc = commands(fs, live, &ic);
	if (rc == 0)
		rc = sockets(fs, live, ic.ports);
	if (rc == 0 && doc)
		rc = environment(fs, live, &ic, show_env_values);
	json_object_put(doc);
	if (rc == DD_ENOMEM)
		rc = dd__error(fs->ctx, rc, "out of memory");
	return rc;
}
