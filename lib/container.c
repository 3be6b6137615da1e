/*
 * Naming a container by its ID: the PID of its first process, from the
 * state the runtimes keep on the host (no engine API is called).
 *
 *   containerd (v2 shims; Docker 20.10+, Kubernetes):
 *     /run/containerd/io.containerd.runtime.v2.task/<namespace>/<id>/init.pid,
 *     beside the bundle's config.json
 *   containerd v1 runtime (older Docker):
 *     /run/docker/containerd/daemon/io.containerd.runtime.v1.linux/<namespace>/<id>/init.pid
 *     /run/containerd/io.containerd.runtime.v1.linux/<namespace>/<id>/init.pid
 *   runc's own state:  /run/docker/runtime-runc/<namespace>/<id>/state.json,
 *     /run/containerd/runc/<namespace>/<id>/state.json, /run/runc/<id>/state.json
 *   CRI-O and Podman: /run/containers/storage/overlay-containers/<id>/userdata/pidfile
 *
 * Only /run is searched, never /var/run: below a host root mounted in a
 * pod, /var/run is usually an absolute symlink that would lead back into
 * the pod's own /run.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "json.h"
#include "private.h"

#define MAX_ID 128

/* Where a runtime keeps one directory per container. */
struct place {
	const char *dir;      /* below the host root */
	bool namespaced;      /* one more level: <namespace>/<id> */
	const char *pidfile;  /* inside the container's directory */
	bool json;            /* PIDFILE is runc's state.json */
	bool bundle;          /* the container's directory is the OCI bundle (config.json) */
};

static const struct place places[] = {
	{ "run/containerd/io.containerd.runtime.v2.task", true, "init.pid", false, true },
	{ "run/docker/containerd/daemon/io.containerd.runtime.v1.linux", true, "init.pid", false, true },
	{ "run/containerd/io.containerd.runtime.v1.linux", true, "init.pid", false, true },
	{ "run/docker/runtime-runc", true, "state.json", true, false },
	{ "run/containerd/runc", true, "state.json", true, false },
	{ "run/runc", false, "state.json", true, false },
	{ "run/containers/storage/overlay-containers", false, "userdata/pidfile", false, false },
};

struct match {
	char *id;
	char *dir;            /* the container's state directory */
	const struct place *place;
};

struct search {
	struct dd_ctx *ctx;
	const char *want;
	size_t want_len;
	struct match *m;
	size_t n, cap;
};

static int add_match(struct search *s, const char *id, const char *dir, const struct place *pl)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->m[i].id, id))
			return 0; /* the same container in another runtime's state: the first place wins */
	if (dd__grow(&s->m, &s->cap, s->n, sizeof(*s->m)))
		return DD_ENOMEM;
	s->m[s->n].id = strdup(id);
	s->m[s->n].dir = strdup(dir);
	s->m[s->n].place = pl;
	if (!s->m[s->n].id || !s->m[s->n].dir) {
		free(s->m[s->n].id);
		free(s->m[s->n].dir);
		return DD_ENOMEM;
	}
	s->n++;
	return 0;
}

/* Every entry of DIR named WANT or starting with it. */
static int scan(struct search *s, const char *dir, const struct place *pl)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int rc = 0;

	if (!d)
		return 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		char *path;

		if (de->d_name[0] == '.' || strncmp(de->d_name, s->want, s->want_len))
			continue;
		if (asprintf(&path, "%s/%s", dir, de->d_name) < 0) {
			rc = DD_ENOMEM;
			break;
		}
		rc = add_match(s, de->d_name, path, pl);
		free(path);
	}
	closedir(d);
	return rc;
}

static int search_place(struct search *s, const char *root, const struct place *pl)
{
	struct dirent *de;
	char *base;
	DIR *d;
	int rc = 0;

	if (asprintf(&base, "%s/%s", root, pl->dir) < 0)
		return DD_ENOMEM;
	if (!pl->namespaced) {
		rc = scan(s, base, pl);
		free(base);
		return rc;
	}
	d = opendir(base);
	while (d && rc == 0 && (de = readdir(d)) != NULL) {
		char *ns;

		if (de->d_name[0] == '.')
			continue;
		if (asprintf(&ns, "%s/%s", base, de->d_name) < 0) {
			rc = DD_ENOMEM;
			break;
		}
		rc = scan(s, ns, pl);
		free(ns);
	}
	if (d)
		closedir(d);
	free(base);
	return rc;
}

/* The PID in the container's pid file or runc state. */
static int read_pid(struct dd_ctx *ctx, const struct match *m, int *pid)
{
	struct dd__buf b = DD__BUF_INIT;
	struct json_object *doc = NULL, *v;
	char *path, *end;
	long long n = 0;
	int rc;

	if (asprintf(&path, "%s/%s", m->dir, m->place->pidfile) < 0)
		return dd__error(ctx, DD_ENOMEM, "out of memory");
	rc = dd__read_regular(ctx, path, m->place->json ? (1u << 20) : 64, &b);
	if (rc)
		goto out;
	if (m->place->json) {
		rc = dd__json_parse(ctx, path, b.data, b.len, &doc);
		if (rc)
			goto out;
		if (!json_object_object_get_ex(doc, "init_process_pid", &v) ||
		    !json_object_is_type(v, json_type_int)) {
			rc = dd__error(ctx, DD_EFORMAT, "%s: no init_process_pid", path);
			goto out;
		}
		n = json_object_get_int64(v);
	} else {
		errno = 0;
		n = strtoll(b.data, &end, 10);
		while (*end == '\n' || *end == ' ')
			end++;
		if (errno || end == b.data || *end) {
			rc = dd__error(ctx, DD_EFORMAT, "%s: not a process ID", path);
			goto out;
		}
	}
	if (n <= 0 || n > 0x7fffffff) {
		rc = dd__error(ctx, DD_EFORMAT, "%s: %lld is not a process ID", path, n);
		goto out;
	}
	*pid = (int)n;
out:
	json_object_put(doc);
	dd__buf_free(&b);
	free(path);
	return rc;
}

int dd_container_resolve(struct dd_ctx *ctx, const char *id, const char *host_root, int *pid,
			 char **bundle)
{
	static const char *const schemes[] = { "containerd://", "docker://", "cri-o://", "podman://" };
	struct search s;
	struct dd__buf looked = DD__BUF_INIT;
	char root[4096];
	size_t i, rl;
	int rc = 0;

	if (!ctx || !id || !pid)
		return DD_EINVAL;
	*pid = 0;
	if (bundle)
		*bundle = NULL;
	for (i = 0; i < DD_ARRAY_SIZE(schemes); i++)
		if (!strncmp(id, schemes[i], strlen(schemes[i])))
			id += strlen(schemes[i]);
	memset(&s, 0, sizeof(s));
	s.ctx = ctx;
	s.want = id;
	s.want_len = strlen(id);
	/* The ID becomes a path component: nothing that could climb out of one. */
	if (s.want_len < 4 || s.want_len > MAX_ID || strspn(id, "abcdefghijklmnopqrstuvwxyz"
							      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") != s.want_len ||
	    id[0] == '.')
		return dd__error(ctx, DD_EINVAL, "container ID '%s': expected 4 to %d letters, digits, '_', '-' or '.'",
				 id, MAX_ID);
	/* "" for the host itself, else the prefix without trailing slashes. */
	rl = host_root ? strlen(host_root) : 0;
	if (rl >= sizeof(root))
		return dd__error(ctx, DD_EINVAL, "%s: path too long", host_root);
	while (rl > 0 && host_root[rl - 1] == '/')
		rl--;
	memcpy(root, host_root ? host_root : "", rl);
	root[rl] = '\0';
	for (i = 0; i < DD_ARRAY_SIZE(places) && rc == 0; i++) {
		rc = search_place(&s, root, &places[i]);
		if (rc == 0 && dd__buf_printf(&looked, "%s%s/%s", i ? ", " : "", root, places[i].dir))
			rc = DD_ENOMEM;
	}
	if (rc) {
		rc = dd__error(ctx, rc, "out of memory");
		goto out;
	}
	if (s.n == 0) {
		rc = dd__error(ctx, DD_ENOTFOUND,
			       "container %s: not found in the runtime state on this host (looked in %s); run driftdiff on the node that runs it, or give --runtime-root where the host's / is mounted",
			       id, looked.data);
		goto out;
	}
	if (s.n > 1) {
		struct dd__buf b = DD__BUF_INIT;

		for (i = 0; i < s.n && i < 5; i++)
			if (dd__buf_printf(&b, "%s%.12s", i ? ", " : "", s.m[i].id))
				break;
		rc = dd__error(ctx, DD_EAMBIGUOUS, "container %s: %zu containers start with it (%s%s); give more of the ID",
			       id, s.n, b.data ? b.data : "", s.n > 5 ? ", ..." : "");
		dd__buf_free(&b);
		goto out;
	}
	rc = read_pid(ctx, &s.m[0], pid);
	if (rc == 0 && bundle && s.m[0].place->bundle) {
		char *cfg;
		struct stat st;

		if (asprintf(&cfg, "%s/config.json", s.m[0].dir) < 0) {
			rc = dd__error(ctx, DD_ENOMEM, "out of memory");
			goto out;
		}
		if (stat(cfg, &st) == 0 && S_ISREG(st.st_mode)) {
			*bundle = s.m[0].dir;
			s.m[0].dir = NULL;
		}
		free(cfg);
	}
out:
	for (i = 0; i < s.n; i++) {
		free(s.m[i].id);
		free(s.m[i].dir);
	}
	free(s.m);
	dd__buf_free(&looked);
	return rc;
}
