/*
 * Configuration drift: the container's runtime configuration (a `docker
 * inspect` document or an OCI runtime config.json) against the config of
 * the image it was started from, and the settings that let drift happen
 * or let it out of the container (DD-CFG-001 to DD-CFG-011).
 *
 * Both documents are untrusted: every member is type-checked, a value of
 * the wrong type is an error naming the file and the member, and arrays
 * are bounded so that no comparison goes quadratic on a hostile input.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "findings.h"
#include "json.h"

/* Far more env vars, ports or capabilities than any real container has. */
#define MAX_ITEMS 65536
/* Mounts are compared pairwise (a few dozen is typical). */
#define MAX_MOUNTS 4096
/* Names listed per kind in a finding's detail before "and N more". */
#define MAX_LISTED 20

/* What the runtimes put in PATH when the image sets none. */
static const char default_path[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/* Docker's default capability set (moby oci/caps/defaults.go). */
static const char *const default_caps[] = {
	"CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
	"NET_BIND_SERVICE", "NET_RAW", "SYS_CHROOT", "MKNOD", "AUDIT_WRITE", "SETFCAP",
};
/* Each of these alone is a way out of the container. */
static const char *const critical_caps[] = {
	"ALL", "SYS_ADMIN", "SYS_PTRACE", "SYS_MODULE", "DAC_READ_SEARCH", "BPF",
};

/* A document being read: the context and its name for messages. */
struct doc {
	struct dd_ctx *ctx;
	const char *what;
};

struct mount {
	const char *source, *dest;
	bool ro;
};

/* The runtime config in one shape; strings are borrowed from the parsed JSON. */
struct runtime {
	bool oci;
	/* Which members the document has: a partial one compares only those. */
	bool has_env, has_argv, has_ports;
	struct json_object *env;                /* array of "NAME=value" */
	struct json_object *entrypoint, *cmd;   /* docker */
	struct json_object *args;               /* OCI process.args */
	const char *user;                       /* docker Config.User; NULL when absent */
	bool has_uid, has_gid;                  /* OCI process.user */
	int64_t uid, gid;
	const char *cwd;
	struct json_object *ports, *bindings;   /* docker: objects keyed "80/tcp" */
	bool privileged;
	struct json_object *caps;               /* docker CapAdd, OCI bounding set */
	const char *caps_what;
	const char *host_ns[4];                 /* names of the host namespaces shared */
	size_t nhost_ns;
	struct mount *mounts;
	size_t nmounts;
	bool ro_root, nnp;
	const char *ref;                        /* the image reference as given */
	const char *image_id;                   /* docker's top-level Image */
};


/* ---- typed members ---- */

static const char *type_name(enum json_type t)
{
	switch (t) {
	case json_type_object: return "an object";
	case json_type_array: return "an array";
	case json_type_string: return "a string";
	case json_type_boolean: return "true or false";
	case json_type_int: return "an integer";
	default: return "of the expected type";
	}
}

/*
 * OBJ's member KEY as type T into *OUT. Absent and null read as absent
 * (docker writes null for unset lists); another type is an error naming
 * NAME, the member's path in the document.
 */
static int member(const struct doc *d, struct json_object *obj, const char *key, enum json_type t,
		  const char *name, struct json_object **out)
{
	struct json_object *v = NULL;

	*out = NULL;
	if (!obj || !json_object_object_get_ex(obj, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, t))
		return dd__error(d->ctx, DD_EFORMAT, "%s: %s is not %s", d->what, name, type_name(t));
	if (t == json_type_array && json_object_array_length(v) > MAX_ITEMS)
		return dd__error(d->ctx, DD_EFORMAT, "%s: %s has %zu entries, more than %d", d->what,
				 name, json_object_array_length(v), MAX_ITEMS);
	if (t == json_type_string &&
	    (size_t)json_object_get_string_len(v) != strlen(json_object_get_string(v)))
		return dd__error(d->ctx, DD_EFORMAT, "%s: %s holds a NUL byte", d->what, name);
	*out = v;
	return 0;
}

static int str_member(const struct doc *d, struct json_object *obj, const char *key,
		      const char *name, const char **out)
{
	struct json_object *v;
	int rc = member(d, obj, key, json_type_string, name, &v);

	*out = v ? json_object_get_string(v) : NULL;
	return rc;
}

static int bool_member(const struct doc *d, struct json_object *obj, const char *key,
		       const char *name, bool *out)
{
	struct json_object *v;
	int rc = member(d, obj, key, json_type_boolean, name, &v);

	*out = v && json_object_get_boolean(v);
	return rc;
}

/* An array whose every element is a string without NUL bytes. */
static int strs_member(const struct doc *d, struct json_object *obj, const char *key,
		       const char *name, struct json_object **out)
{
	size_t i, n;
	int rc = member(d, obj, key, json_type_array, name, out);

	n = *out ? json_object_array_length(*out) : 0;
	for (i = 0; rc == 0 && i < n; i++) {
		struct json_object *e = json_object_array_get_idx(*out, i);

		if (!json_object_is_type(e, json_type_string) ||
		    (size_t)json_object_get_string_len(e) != strlen(json_object_get_string(e)))
			rc = dd__error(d->ctx, DD_EFORMAT, "%s: %s[%zu] is not a string", d->what,
				       name, i);
	}
	if (rc)
		*out = NULL;
	return rc;
}

static const char *str_at(struct json_object *arr, size_t i)
{
	return json_object_get_string(json_object_array_get_idx(arr, i));
}

static size_t len_of(struct json_object *arr)
{
	return arr ? json_object_array_length(arr) : 0;
}

/* ---- reading the runtime config ---- */


static int add_mount(const struct doc *d, struct runtime *rt, const char *source, const char *dest,
		     bool ro)
{
	struct mount *m;
	size_t i;

	if (!source || !dest || source[0] != '/')
		return 0; /* a named volume, not a host path */
	for (i = 0; i < rt->nmounts; i++)
		if (!strcmp(rt->mounts[i].dest, dest))
			return 0; /* docker lists a bind in Mounts and in HostConfig.Binds */
	if (rt->nmounts >= MAX_MOUNTS)
		return dd__error(d->ctx, DD_EFORMAT, "%s: more than %d mounts", d->what, MAX_MOUNTS);
	m = realloc(rt->mounts, (rt->nmounts + 1) * sizeof(*m));
	if (!m)
		return dd__error(d->ctx, DD_ENOMEM, "out of memory");
	rt->mounts = m;
	m[rt->nmounts].source = source;
	m[rt->nmounts].dest = dest;
	m[rt->nmounts].ro = ro;
	rt->nmounts++;
	return 0;
}

/* Does the comma-separated option list OPTS hold OPT? */
static bool has_option(const char *opts, size_t len, const char *opt)
{
	size_t n = strlen(opt), i = 0;

	while (i <= len) {
		const char *comma = memchr(opts + i, ',', len - i);
		size_t end = comma ? (size_t)(comma - opts) : len;

		if (end - i == n && !memcmp(opts + i, opt, n))
			return true;
		i = end + 1;
	}
	return false;
}

/* "src:dst[:opts]"; the strings are split into the arena, which outlives the scan. */
static int docker_bind(const struct doc *d, struct dd_findings *fs, struct runtime *rt,
		       const char *bind)
{
	const char *c1 = strchr(bind, ':'), *c2;
	const char *src, *dst;
	bool ro = false;

	if (!c1)
		return 0; /* an anonymous volume */
	c2 = strchr(c1 + 1, ':');
	if (c2)
		ro = has_option(c2 + 1, strlen(c2 + 1), "ro");
	src = dd__findings_strdup(fs, bind, (size_t)(c1 - bind));
	dst = dd__findings_strdup(fs, c1 + 1, c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1));
	if (!src || !dst)
		return dd__error(d->ctx, DD_ENOMEM, "out of memory");
	return add_mount(d, rt, src, dst, ro);
}

static int load_docker(const struct doc *d, struct dd_findings *fs, struct json_object *top,
		       struct runtime *rt)
{
	static const struct {
		const char *key, *ns;
	} modes[] = {
		{ "PidMode", "pid" }, { "IpcMode", "ipc" }, { "NetworkMode", "network" },
		{ "UTSMode", "uts" },
	};
	struct json_object *cfg, *host, *mounts, *hmounts, *binds, *secopt, *drop;
	const char *s;
	size_t i;
	int rc;

	rc = member(d, top, "Config", json_type_object, "Config", &cfg);
	if (!rc)
		rc = member(d, top, "HostConfig", json_type_object, "HostConfig", &host);
	if (!rc)
		rc = str_member(d, top, "Image", "Image", &rt->image_id);
	if (!rc)
		rc = strs_member(d, cfg, "Env", "Config.Env", &rt->env);
	if (!rc)
		rc = strs_member(d, cfg, "Entrypoint", "Config.Entrypoint", &rt->entrypoint);
	if (!rc)
		rc = strs_member(d, cfg, "Cmd", "Config.Cmd", &rt->cmd);
	if (!rc)
		rc = str_member(d, cfg, "User", "Config.User", &rt->user);
	if (!rc)
		rc = str_member(d, cfg, "WorkingDir", "Config.WorkingDir", &rt->cwd);
	if (!rc)
		rc = member(d, cfg, "ExposedPorts", json_type_object, "Config.ExposedPorts", &rt->ports);
	if (!rc)
		rc = str_member(d, cfg, "Image", "Config.Image", &rt->ref);
	if (!rc)
		rc = bool_member(d, host, "Privileged", "HostConfig.Privileged", &rt->privileged);
	if (!rc)
		rc = strs_member(d, host, "CapAdd", "HostConfig.CapAdd", &rt->caps);
	/* Only type-checked: a drop never widens what the container can do. */
	if (!rc)
		rc = strs_member(d, host, "CapDrop", "HostConfig.CapDrop", &drop);
	if (!rc)
		rc = member(d, host, "PortBindings", json_type_object, "HostConfig.PortBindings",
			    &rt->bindings);
	if (!rc)
		rc = bool_member(d, host, "ReadonlyRootfs", "HostConfig.ReadonlyRootfs", &rt->ro_root);
	if (!rc)
		rc = strs_member(d, host, "SecurityOpt", "HostConfig.SecurityOpt", &secopt);
	if (!rc)
		rc = strs_member(d, host, "Binds", "HostConfig.Binds", &binds);
	if (!rc)
		rc = member(d, host, "Mounts", json_type_array, "HostConfig.Mounts", &hmounts);
	if (!rc)
		rc = member(d, top, "Mounts", json_type_array, "Mounts", &mounts);
	if (rc)
		return rc;
	rt->has_env = dd__json_has(cfg, "Env");
	rt->has_argv = dd__json_has(cfg, "Entrypoint") || dd__json_has(cfg, "Cmd");
	rt->has_ports = dd__json_has(cfg, "ExposedPorts") || dd__json_has(host, "PortBindings");
	rt->caps_what = "HostConfig.CapAdd";
	for (i = 0; i < DD_ARRAY_SIZE(modes) && rc == 0; i++) {
		rc = str_member(d, host, modes[i].key, modes[i].key, &s);
		if (s && !strcmp(s, "host"))
			rt->host_ns[rt->nhost_ns++] = modes[i].ns;
	}
	for (i = 0; i < len_of(secopt); i++) {
		s = str_at(secopt, i);
		if (!strcmp(s, "no-new-privileges") || !strcmp(s, "no-new-privileges:true") ||
		    !strcmp(s, "no-new-privileges=true"))
			rt->nnp = true;
	}
	/* The resolved list first: it has RW; Binds and HostConfig.Mounts repeat it. */
	for (i = 0; i < len_of(mounts) && rc == 0; i++) {
		struct json_object *m = json_object_array_get_idx(mounts, i), *rw;
		const char *type, *src, *dst, *mode;

		if (!json_object_is_type(m, json_type_object))
			return dd__error(d->ctx, DD_EFORMAT, "%s: Mounts[%zu] is not an object",
					 d->what, i);
		rc = str_member(d, m, "Type", "Mounts[].Type", &type);
		if (!rc)
			rc = str_member(d, m, "Source", "Mounts[].Source", &src);
		if (!rc)
			rc = str_member(d, m, "Destination", "Mounts[].Destination", &dst);
		if (!rc)
			rc = str_member(d, m, "Mode", "Mounts[].Mode", &mode);
		if (!rc)
			rc = member(d, m, "RW", json_type_boolean, "Mounts[].RW", &rw);
		if (!rc && (!type || !strcmp(type, "bind")))
			rc = add_mount(d, rt, src, dst, rw ? !json_object_get_boolean(rw) :
					       mode && has_option(mode, strlen(mode), "ro"));
	}
	for (i = 0; i < len_of(binds) && rc == 0; i++)
		rc = docker_bind(d, fs, rt, str_at(binds, i));
	for (i = 0; i < len_of(hmounts) && rc == 0; i++) {
		struct json_object *m = json_object_array_get_idx(hmounts, i);
		const char *type, *src, *dst;
		bool ro;

		if (!json_object_is_type(m, json_type_object))
			return dd__error(d->ctx, DD_EFORMAT, "%s: HostConfig.Mounts[%zu] is not an object",
					 d->what, i);
		rc = str_member(d, m, "Type", "HostConfig.Mounts[].Type", &type);
		if (!rc)
			rc = str_member(d, m, "Source", "HostConfig.Mounts[].Source", &src);
		if (!rc)
			rc = str_member(d, m, "Target", "HostConfig.Mounts[].Target", &dst);
		if (!rc)
			rc = bool_member(d, m, "ReadOnly", "HostConfig.Mounts[].ReadOnly", &ro);
		if (!rc && type && !strcmp(type, "bind"))
			rc = add_mount(d, rt, src, dst, ro);
	}
	return rc;
}

static int load_oci(const struct doc *d, struct json_object *top, struct runtime *rt)
{
	static const char *const shared[] = { "pid", "ipc", "network", "uts" };
	struct json_object *proc, *user, *caps, *root, *lnx, *ns, *mounts, *ann, *v;
	size_t i, k;
	int rc;

	rc = member(d, top, "process", json_type_object, "process", &proc);
	if (!rc)
		rc = strs_member(d, proc, "env", "process.env", &rt->env);
	if (!rc)
		rc = strs_member(d, proc, "args", "process.args", &rt->args);
	if (!rc)
		rc = str_member(d, proc, "cwd", "process.cwd", &rt->cwd);
	if (!rc)
		rc = bool_member(d, proc, "noNewPrivileges", "process.noNewPrivileges", &rt->nnp);
	if (!rc)
		rc = member(d, proc, "user", json_type_object, "process.user", &user);
	if (!rc)
		rc = member(d, user, "uid", json_type_int, "process.user.uid", &v);
	if (!rc && v) {
		rt->has_uid = true;
		rt->uid = json_object_get_int64(v);
	}
	if (!rc)
		rc = member(d, user, "gid", json_type_int, "process.user.gid", &v);
	if (!rc && v) {
		rt->has_gid = true;
		rt->gid = json_object_get_int64(v);
	}
	if (!rc && ((rt->has_uid && (rt->uid < 0 || rt->uid > UINT32_MAX)) ||
		    (rt->has_gid && (rt->gid < 0 || rt->gid > UINT32_MAX))))
		rc = dd__error(d->ctx, DD_EFORMAT, "%s: process.user: uid or gid out of range", d->what);
	if (!rc)
		rc = member(d, proc, "capabilities", json_type_object, "process.capabilities", &caps);
	/* The bounding set limits everything the process can ever gain. */
	if (!rc)
		rc = strs_member(d, caps, "bounding", "process.capabilities.bounding", &rt->caps);
	rt->caps_what = "process.capabilities.bounding";
	if (!rc && caps && !rt->caps) {
		rc = strs_member(d, caps, "permitted", "process.capabilities.permitted", &rt->caps);
		rt->caps_what = "process.capabilities.permitted";
	}
	if (!rc)
		rc = member(d, top, "root", json_type_object, "root", &root);
	if (!rc)
		rc = bool_member(d, root, "readonly", "root.readonly", &rt->ro_root);
	if (!rc)
		rc = member(d, top, "linux", json_type_object, "linux", &lnx);
	if (!rc)
		rc = member(d, lnx, "namespaces", json_type_array, "linux.namespaces", &ns);
	if (!rc)
		rc = member(d, top, "mounts", json_type_array, "mounts", &mounts);
	if (!rc)
		rc = member(d, top, "annotations", json_type_object, "annotations", &ann);
	if (!rc)
		rc = str_member(d, ann, "io.kubernetes.cri.image-name",
				"annotations.io.kubernetes.cri.image-name", &rt->ref);
	if (!rc && !rt->ref)
		rc = str_member(d, ann, "org.opencontainers.image.ref.name",
				"annotations.org.opencontainers.image.ref.name", &rt->ref);
	if (rc)
		return rc;
	rt->has_env = dd__json_has(proc, "env");
	rt->has_argv = dd__json_has(proc, "args");
	/*
	 * runtime-spec config-linux.md: a namespace type that is not listed
	 * is inherited from the runtime, i.e. the host's; a path joins an
	 * existing namespace, and /proc/1/ns/ holds the host init's.
	 */
	for (k = 0; k < DD_ARRAY_SIZE(shared); k++) {
		bool own = false;

		for (i = 0; i < len_of(ns) && rc == 0; i++) {
			struct json_object *n = json_object_array_get_idx(ns, i);
			const char *type, *path;

			if (!json_object_is_type(n, json_type_object))
				return dd__error(d->ctx, DD_EFORMAT,
						 "%s: linux.namespaces[%zu] is not an object", d->what, i);
			rc = str_member(d, n, "type", "linux.namespaces[].type", &type);
			if (!rc)
				rc = str_member(d, n, "path", "linux.namespaces[].path", &path);
			if (!rc && type && !strcmp(type, shared[k]))
				own = !path || strncmp(path, "/proc/1/ns/", 11) != 0;
		}
		if (rc)
			return rc;
		if (!own)
			rt->host_ns[rt->nhost_ns++] = shared[k];
	}
	for (i = 0; i < len_of(mounts) && rc == 0; i++) {
		struct json_object *m = json_object_array_get_idx(mounts, i), *opts;
		const char *type, *src, *dst;
		bool bind, ro = false;
		size_t j;

		if (!json_object_is_type(m, json_type_object))
			return dd__error(d->ctx, DD_EFORMAT, "%s: mounts[%zu] is not an object", d->what, i);
		rc = str_member(d, m, "type", "mounts[].type", &type);
		if (!rc)
			rc = str_member(d, m, "source", "mounts[].source", &src);
		if (!rc)
			rc = str_member(d, m, "destination", "mounts[].destination", &dst);
		if (!rc)
			rc = strs_member(d, m, "options", "mounts[].options", &opts);
		if (rc)
			break;
		/* proc, sysfs, tmpfs... carry a dummy source; only binds show host paths. */
		bind = type && !strcmp(type, "bind");
		for (j = 0; j < len_of(opts); j++) {
			const char *o = str_at(opts, j);

			bind = bind || !strcmp(o, "bind") || !strcmp(o, "rbind");
			ro = ro || !strcmp(o, "ro");
		}
		if (bind)
			rc = add_mount(d, rt, src, dst, ro);
	}
	return rc;
}

static int load_runtime(const struct doc *d, struct dd_findings *fs, struct json_object *doc,
			struct runtime *rt)
{
	if (json_object_is_type(doc, json_type_array)) {
		/* `docker inspect` prints an array, one object per container asked for. */
		if (json_object_array_length(doc) != 1)
			return dd__error(d->ctx, DD_EFORMAT,
					 "%s: an array of %zu documents; inspect one container",
					 d->what, json_object_array_length(doc));
		doc = json_object_array_get_idx(doc, 0);
	}
	if (!json_object_is_type(doc, json_type_object))
		return dd__error(d->ctx, DD_EFORMAT,
				 "%s: neither a docker inspect document nor an OCI runtime config", d->what);
	if (dd__json_has(doc, "ociVersion") ||
	    (dd__json_has(doc, "process") && !dd__json_has(doc, "Config"))) {
		rt->oci = true;
		return load_oci(d, doc, rt);
	}
	if (dd__json_has(doc, "Config") || dd__json_has(doc, "HostConfig"))
		return load_docker(d, fs, doc, rt);
	return dd__error(d->ctx, DD_EFORMAT,
			 "%s: neither a docker inspect document nor an OCI runtime config", d->what);
}

static int load_image(const struct doc *d, struct json_object *doc, struct dd__imgcfg *ic)
{
	struct json_object *cfg;
	int rc;

	rc = member(d, doc, "config", json_type_object, "config", &cfg);
	if (!rc)
		rc = strs_member(d, cfg, "Env", "config.Env", &ic->env);
	if (!rc)
		rc = strs_member(d, cfg, "Entrypoint", "config.Entrypoint", &ic->entrypoint);
	if (!rc)
		rc = strs_member(d, cfg, "Cmd", "config.Cmd", &ic->cmd);
	if (!rc)
		rc = member(d, cfg, "ExposedPorts", json_type_object, "config.ExposedPorts", &ic->ports);
	if (!rc)
		rc = str_member(d, cfg, "User", "config.User", &ic->user);
	if (!rc)
		rc = str_member(d, cfg, "WorkingDir", "config.WorkingDir", &ic->cwd);
	return rc;
}

/* ---- detail text ---- */

/* A list item: ", " between items, "and N more" after MAX_LISTED. */
struct list {
	struct dd__buf b;
	size_t n;
};

static int list_next(struct list *l, bool *show)
{
	l->n++;
	*show = l->n <= MAX_LISTED;
	if (!*show)
		return 0;
	return l->n > 1 ? dd__buf_puts(&l->b, ", ") : 0;
}

static int list_end(struct list *l, struct dd__buf *out, size_t head, const char *label)
{
	if (!l->n)
		return 0;
	if ((out->len > head && dd__buf_puts(out, "; ")) || dd__buf_printf(out, "%s ", label) ||
	    dd__buf_put(out, l->b.data, l->b.len) ||
	    (l->n > MAX_LISTED && dd__buf_printf(out, " and %zu more", l->n - MAX_LISTED)))
		return DD_ENOMEM;
	return 0;
}

/* A value never appears in a report; its hash tells equal from different. */
static int put_hash(struct dd__buf *b, const char *value)
{
	struct dd__hasher *h = NULL;
	struct dd__digest dg;
	int rc;

	if (!value)
		return dd__buf_puts(b, "no value");
	rc = dd__hasher_new(&h, DD__ALG_SHA256);
	if (!rc)
		rc = dd__hasher_update(h, value, strlen(value));
	if (!rc)
		rc = dd__hasher_final(h, &dg);
	dd__hasher_free(h);
	if (rc)
		return DD_ENOMEM;
	return dd__buf_printf(b, "%.19s", dg.str); /* "sha256:" and 12 hex digits */
}

/* The command line as a shell would show it (dd__put_word), at most 32 words. */
static int put_argv(struct dd__buf *b, struct json_object *a, struct json_object *c)
{
	size_t i, n = len_of(a) + len_of(c);
	int rc = 0;

	for (i = 0; i < n && i < 32 && rc == 0; i++) {
		if (i)
			rc = dd__buf_puts(b, " ");
		if (!rc)
			rc = dd__put_word(b, i < len_of(a) ? str_at(a, i) : str_at(c, i - len_of(a)));
	}
	if (!rc && n > 32)
		rc = dd__buf_printf(b, " ... (%zu more)", n - 32);
	if (!rc && n == 0)
		rc = dd__buf_puts(b, "nothing");
	return rc;
}

static struct dd_finding *add_detail(struct dd_findings *fs, const char *rule,
				     const struct dd__buf *b)
{
	struct dd_finding *f = dd__finding_add(fs, rule, NULL);

	if (f && dd__finding_detail(fs, f, "%s", b->data ? b->data : ""))
		return NULL;
	return f;
}

/* ---- DD-CFG-001: environment ---- */

struct var {
	const char *name;
	size_t nlen;
	const char *value;   /* NULL for an entry without '=' */
	size_t idx;
};

static int name_cmp(const struct var *a, const struct var *b)
{
	size_t n = a->nlen < b->nlen ? a->nlen : b->nlen;
	int c = memcmp(a->name, b->name, n);

	if (c)
		return c;
	return a->nlen < b->nlen ? -1 : a->nlen > b->nlen;
}

static int var_cmp(const void *x, const void *y)
{
	const struct var *a = x, *b = y;
	int c = name_cmp(a, b);

	return c ? c : a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Sorted by name; of repeated names the last one counts, as in execve's users. */
static int vars_load(struct var **out, size_t *n, struct json_object *env)
{
	size_t i, k = 0, len = len_of(env);
	struct var *v;

	*out = NULL;
	*n = 0;
	if (!len)
		return 0;
	v = calloc(len, sizeof(*v));
	if (!v)
		return DD_ENOMEM;
	for (i = 0; i < len; i++) {
		const char *s = str_at(env, i), *eq = strchr(s, '=');

		v[i].name = s;
		v[i].nlen = eq ? (size_t)(eq - s) : strlen(s);
		v[i].value = eq ? eq + 1 : NULL;
		v[i].idx = i;
	}
	qsort(v, len, sizeof(*v), var_cmp);
	for (i = 0; i < len; i++) {
		if (i + 1 < len && v[i].nlen == v[i + 1].nlen && !memcmp(v[i].name, v[i + 1].name, v[i].nlen))
			continue;
		v[k++] = v[i];
	}
	*out = v;
	*n = k;
	return 0;
}

static bool name_is(const struct var *v, const char *s)
{
	return v->nlen == strlen(s) && !memcmp(v->name, s, v->nlen);
}

static bool name_ends(const struct var *v, const char *s)
{
	size_t n = strlen(s);

	return v->nlen > n && !memcmp(v->name + v->nlen - n, s, n);
}

static const char *name_find(const struct var *v, const char *s)
{
	size_t n = strlen(s), i;

	for (i = 0; i + n <= v->nlen; i++)
		if (!memcmp(v->name + i, s, n))
			return v->name + i;
	return NULL;
}

/*
 * Variables the runtime sets in every container: HOSTNAME, HOME, TERM,
 * container=, and the service links Kubernetes injects (KUBERNETES_*,
 * X_SERVICE_HOST, X_SERVICE_PORT[_NAME], X_PORT=tcp://..., X_PORT_80_TCP*).
 */
static bool runtime_var(const struct var *v)
{
	const char *p;

	if (name_is(v, "HOSTNAME") || name_is(v, "HOME") || name_is(v, "TERM") ||
	    name_is(v, "container") || (v->nlen > 11 && !memcmp(v->name, "KUBERNETES_", 11)) ||
	    name_ends(v, "_SERVICE_HOST"))
		return true;
	p = name_find(v, "_SERVICE_PORT");
	if (p && p > v->name && (p + 13 == v->name + v->nlen || p[13] == '_'))
		return true;
	if (name_ends(v, "_PORT") && v->value &&
	    (!strncmp(v->value, "tcp://", 6) || !strncmp(v->value, "udp://", 6) ||
	     !strncmp(v->value, "sctp://", 7)))
		return true;
	p = name_find(v, "_PORT_");
	if (p && p > v->name) {
		const char *e = v->name + v->nlen, *q = p + 6;

		while (q < e && *q >= '0' && *q <= '9')
			q++;
		if (q > p + 6 && q < e && *q == '_') {
			size_t rest = (size_t)(e - q - 1);

			q++;
			if ((rest >= 3 && (!memcmp(q, "TCP", 3) || !memcmp(q, "UDP", 3))) ||
			    (rest >= 4 && !memcmp(q, "SCTP", 4)))
				return true;
		}
	}
	return false;
}

/* A value: its hash, or with SHOW the value itself. */
static int put_value(struct dd__buf *b, const char *value, bool show)
{
	if (!show || !value)
		return put_hash(b, value);
	return dd__buf_printf(b, "'%s'", value);
}

int dd__env_drift(struct dd_findings *fs, struct json_object *image_env, struct json_object *env,
		  const char *where, bool show_values)
{
	struct list added = { DD__BUF_INIT, 0 }, removed = { DD__BUF_INIT, 0 };
	struct list changed = { DD__BUF_INIT, 0 };
	struct dd__buf detail = DD__BUF_INIT;
	struct var *a = NULL, *b = NULL;
	size_t na, nb, i = 0, j = 0, head = 0;
	bool show;
	int rc;

	rc = vars_load(&a, &na, image_env);
	if (!rc)
		rc = vars_load(&b, &nb, env);
	while (rc == 0 && (i < na || j < nb)) {
		int c = i == na ? 1 : j == nb ? -1 : name_cmp(&a[i], &b[j]);
		const struct var *v = c <= 0 ? &a[i] : &b[j];

		if (runtime_var(v)) {
			/* skipped */
		} else if (c < 0) {
			rc = list_next(&removed, &show);
			if (!rc && show)
				rc = dd__buf_put(&removed.b, v->name, v->nlen);
		} else if (c > 0) {
			/* The runtime's PATH when the image sets none is no drift. */
			if (!(name_is(v, "PATH") && v->value && !strcmp(v->value, default_path))) {
				rc = list_next(&added, &show);
				if (!rc && show && !(rc = dd__buf_put(&added.b, v->name, v->nlen)) &&
				    !(rc = dd__buf_puts(&added.b, " (")) &&
				    !(rc = put_value(&added.b, v->value, show_values)))
					rc = dd__buf_puts(&added.b, ")");
			}
		} else if ((a[i].value == NULL) != (b[j].value == NULL) ||
			   (a[i].value && strcmp(a[i].value, b[j].value))) {
			rc = list_next(&changed, &show);
			if (!rc && show && !(rc = dd__buf_put(&changed.b, v->name, v->nlen)) &&
			    !(rc = dd__buf_puts(&changed.b, " (")) && !(rc = put_value(&changed.b, a[i].value, show_values)) &&
			    !(rc = dd__buf_puts(&changed.b, " -> ")) &&
			    !(rc = put_value(&changed.b, b[j].value, show_values)))
				rc = dd__buf_puts(&changed.b, ")");
		}
		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
	}
	if (!rc && where)
		rc = dd__buf_printf(&detail, "%s: ", where);
	head = detail.len;
	if (!rc)
		rc = list_end(&added, &detail, head, "added");
	if (!rc)
		rc = list_end(&removed, &detail, head, "removed");
	if (!rc)
		rc = list_end(&changed, &detail, head, "changed");
	if (!rc && (added.n || removed.n || changed.n) && !add_detail(fs, "DD-CFG-001", &detail))
		rc = DD_ENOMEM;
	free(a);
	free(b);
	dd__buf_free(&added.b);
	dd__buf_free(&removed.b);
	dd__buf_free(&changed.b);
	dd__buf_free(&detail);
	return rc;
}

/* ---- DD-CFG-002..004: command, user, directory, ports ---- */

/* A then B, element by element, against C then D. */
static bool argv_equal(struct json_object *a, struct json_object *b, struct json_object *c,
		       struct json_object *d)
{
	size_t i, n = len_of(a) + len_of(b);

	if (n != len_of(c) + len_of(d))
		return false;
	for (i = 0; i < n; i++) {
		const char *x = i < len_of(a) ? str_at(a, i) : str_at(b, i - len_of(a));
		const char *y = i < len_of(c) ? str_at(c, i) : str_at(d, i - len_of(c));

		if (strcmp(x, y))
			return false;
	}
	return true;
}

static int command_drift(struct dd_findings *fs, const struct runtime *rt, const struct dd__imgcfg *ic)
{
	struct dd__buf b = DD__BUF_INIT;
	int rc = 0;

	/* What runs is the concatenation; where the split falls does not matter. */
	if (!rt->has_argv)
		return 0;
	if (rt->oci ? argv_equal(rt->args, NULL, ic->entrypoint, ic->cmd)
		    : argv_equal(rt->entrypoint, rt->cmd, ic->entrypoint, ic->cmd))
		return 0;
	if (dd__buf_puts(&b, "runs ") ||
	    (rt->oci ? put_argv(&b, rt->args, NULL) : put_argv(&b, rt->entrypoint, rt->cmd)) ||
	    dd__buf_puts(&b, "; the image runs ") || put_argv(&b, ic->entrypoint, ic->cmd) ||
	    !add_detail(fs, "DD-CFG-002", &b))
		rc = DD_ENOMEM;
	dd__buf_free(&b);
	return rc;
}

/* Root spelled every way a Dockerfile USER line can spell it ("" is the default). */
static bool user_is_root(const char *u)
{
	return !u || !*u || !strcmp(u, "0") || !strcmp(u, "root") || !strcmp(u, "0:0") ||
	       !strcmp(u, "root:root") || !strcmp(u, "root:0") || !strcmp(u, "0:root");
}

static bool parse_id(const char *s, size_t len, int64_t *out)
{
	size_t i;

	if (!len || len > 10)
		return false;
	*out = 0;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*out = *out * 10 + (s[i] - '0');
	}
	return *out <= UINT32_MAX;
}

static int user_drift(struct dd_findings *fs, const struct runtime *rt, const struct dd__imgcfg *ic)
{
	struct dd__buf b = DD__BUF_INIT;
	struct dd_finding *f;
	const char *iu = ic->user && *ic->user ? ic->user : NULL;
	bool differs = false, root = false;
	int rc = 0;

	if (rt->oci && rt->has_uid) {
		const char *colon = iu ? strchr(iu, ':') : NULL;
		size_t ulen = iu ? (colon ? (size_t)(colon - iu) : strlen(iu)) : 0;
		int64_t id;

		root = rt->uid == 0;
		if (!iu || user_is_root(iu))
			differs = !root;
		else if (parse_id(iu, ulen, &id))
			differs = id != rt->uid ||
				  (colon && rt->has_gid && parse_id(colon + 1, strlen(colon + 1), &id) &&
				   id != rt->gid);
		else
			differs = root; /* a name: without the image's passwd only root is certain */
	} else if (!rt->oci && rt->user) {
		root = user_is_root(rt->user);
		differs = user_is_root(rt->user) != user_is_root(iu) ||
			  (!root && strcmp(rt->user, iu));
	}
	if (differs) {
		char id[48];
		const char *cu = id;

		if (rt->oci && rt->has_gid)
			snprintf(id, sizeof(id), "%lld:%lld", (long long)rt->uid, (long long)rt->gid);
		else if (rt->oci)
			snprintf(id, sizeof(id), "%lld", (long long)rt->uid);
		else
			cu = *rt->user ? rt->user : "root";
		if (root && iu && !user_is_root(iu))
			rc = dd__buf_printf(&b, "runs as root (user %.200s) while the image sets USER %.200s",
					    cu, iu);
		else
			rc = dd__buf_printf(&b, "user %.200s, the image's %.200s", cu, iu ? iu : "root");
	}
	{
		const char *cw = rt->cwd && *rt->cwd ? rt->cwd : "/";
		const char *iw = ic->cwd && *ic->cwd ? ic->cwd : "/";

		/* An empty WorkingDir is "/" to both Docker and the image spec. */
		if (!rc && rt->cwd && strcmp(cw, iw))
			rc = dd__buf_printf(&b, "%sworking directory %.200s, the image's %.200s",
					    b.len ? "; " : "", cw, iw);
	}
	if (rc) {
		rc = DD_ENOMEM;
	} else if (b.len) {
		f = add_detail(fs, "DD-CFG-003", &b);
		if (!f)
			rc = DD_ENOMEM;
		else if (root && iu && !user_is_root(iu))
			f->severity = DD_SEVERITY_HIGH;
	}
	dd__buf_free(&b);
	return rc;
}

/* Port keys ("80/tcp") of up to two objects, normalised, sorted and unique. */
struct portset {
	struct dd__arena arena;
	char **v;
	size_t n;
};

static int str_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* "80" is "80/tcp"; protocols compare without case. */
static int portset_load(struct portset *ps, struct json_object *o1, struct json_object *o2)
{
	struct json_object *objs[2] = { o1, o2 };
	size_t i, k, n = 0;

	dd__arena_init(&ps->arena);
	ps->n = 0;
	for (i = 0; i < 2; i++)
		n += objs[i] ? (size_t)json_object_object_length(objs[i]) : 0;
	ps->v = calloc(n ? n : 1, sizeof(*ps->v));
	if (!ps->v)
		return DD_ENOMEM;
	for (i = 0; i < 2; i++) {
		if (!objs[i])
			continue;
		json_object_object_foreach(objs[i], key, val) {
			size_t len = strlen(key);
			bool proto = strchr(key, '/') != NULL;
			char *p = dd__arena_alloc(&ps->arena, len + 5);

			(void)val;
			if (!p)
				return DD_ENOMEM;
			memcpy(p, key, len);
			memcpy(p + len, proto ? "" : "/tcp", proto ? 1 : 5);
			for (k = 0; p[k]; k++)
				if (p[k] >= 'A' && p[k] <= 'Z')
					p[k] = (char)(p[k] - 'A' + 'a');
			ps->v[ps->n++] = p;
		}
	}
	qsort(ps->v, ps->n, sizeof(*ps->v), str_cmp);
	for (i = k = 0; i < ps->n; i++)
		if (!k || strcmp(ps->v[k - 1], ps->v[i]))
			ps->v[k++] = ps->v[i];
	ps->n = k;
	return 0;
}

static void portset_free(struct portset *ps)
{
	free(ps->v);
	dd__arena_free(&ps->arena);
}

static bool portset_has(const struct portset *ps, const char *key)
{
	return ps->n && bsearch(&key, ps->v, ps->n, sizeof(*ps->v), str_cmp) != NULL;
}

/* The keys of A that B lacks, into L (MARK: a set whose keys get " (published)"). */
static int port_list(struct list *l, const struct portset *a, const struct portset *b,
		     const struct portset *mark)
{
	size_t i;
	bool show;
	int rc = 0;

	for (i = 0; i < a->n && rc == 0; i++) {
		if (portset_has(b, a->v[i]))
			continue;
		rc = list_next(l, &show);
		if (!rc && show)
			rc = dd__buf_put(&l->b, a->v[i], strlen(a->v[i]));
		if (!rc && show && mark && portset_has(mark, a->v[i]))
			rc = dd__buf_puts(&l->b, " (published)");
	}
	return rc;
}

static int ports_drift(struct dd_findings *fs, const struct runtime *rt, const struct dd__imgcfg *ic)
{
	struct list added = { DD__BUF_INIT, 0 }, removed = { DD__BUF_INIT, 0 };
	struct dd__buf detail = DD__BUF_INIT;
	struct portset img, ctr, pub;
	int rc;

	memset(&img, 0, sizeof(img));
	memset(&ctr, 0, sizeof(ctr));
	memset(&pub, 0, sizeof(pub));
	/* OCI runtime configs have no ports. */
	if (rt->oci || !rt->has_ports)
		return 0;
	rc = portset_load(&img, ic->ports, NULL);
	rc = rc ? rc : portset_load(&ctr, rt->ports, rt->bindings);
	rc = rc ? rc : portset_load(&pub, rt->bindings, NULL);
	if (!rc)
		rc = port_list(&added, &ctr, &img, &pub);
	if (!rc)
		rc = port_list(&removed, &img, &ctr, NULL);
	if (!rc)
		rc = list_end(&added, &detail, 0, "added");
	if (!rc)
		rc = list_end(&removed, &detail, 0, "removed");
	if (!rc && detail.len && !add_detail(fs, "DD-CFG-004", &detail))
		rc = DD_ENOMEM;
	portset_free(&img);
	portset_free(&ctr);
	portset_free(&pub);
	dd__buf_free(&added.b);
	dd__buf_free(&removed.b);
	dd__buf_free(&detail);
	return rc;
}

/* ---- DD-CFG-005..009: risky settings ---- */

static bool name_in(const char *s, size_t len, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(names[i]) == len && !strncasecmp(s, names[i], len))
			return true;
	return false;
}

static int caps_drift(struct dd_findings *fs, const struct runtime *rt)
{
	struct list added = { DD__BUF_INIT, 0 };
	struct dd__buf detail = DD__BUF_INIT;
	struct dd_finding *f;
	bool critical = false, show;
	size_t i;
	int rc = 0;

	for (i = 0; i < len_of(rt->caps) && rc == 0; i++) {
		const char *c = str_at(rt->caps, i);
		size_t len = strlen(c);

		/* Docker takes "SYS_ADMIN", "CAP_SYS_ADMIN" and "cap_sys_admin" alike. */
		if (len > 4 && !strncasecmp(c, "CAP_", 4)) {
			c += 4;
			len -= 4;
		}
		if (name_in(c, len, default_caps, DD_ARRAY_SIZE(default_caps)))
			continue;
		critical = critical || name_in(c, len, critical_caps, DD_ARRAY_SIZE(critical_caps));
		rc = list_next(&added, &show);
		if (!rc && show)
			rc = dd__buf_put(&added.b, str_at(rt->caps, i), strlen(str_at(rt->caps, i)));
	}
	if (!rc && added.n) {
		rc = list_end(&added, &detail, 0, rt->caps_what);
		if (!rc)
			rc = dd__buf_puts(&detail, " beyond the default set");
		f = rc ? NULL : add_detail(fs, "DD-CFG-006", &detail);
		if (!f)
			rc = DD_ENOMEM;
		else if (critical)
			f->severity = DD_SEVERITY_CRITICAL;
	}
	dd__buf_free(&added.b);
	dd__buf_free(&detail);
	return rc;
}

static const struct {
	const char *path;
	bool below;       /* its descendants are sensitive too */
	const char *why;
} sensitive[] = {
	{ "/etc", true, "the host's configuration" },
	{ "/proc", true, "the host's processes" },
	{ "/sys", true, "the host's kernel interfaces" },
	{ "/root", true, "root's home directory" },
	{ "/home", true, "users' home directories" },
	{ "/dev", false, "the host's devices" },
	{ "/run", false, "the host's runtime sockets" },
	{ "/var/run", false, "the host's runtime sockets" },
	{ "/run/containerd", false, "containerd's state and socket" },
	{ "/var/run/containerd", false, "containerd's state and socket" },
	{ "/var/lib/docker", false, "Docker's storage" },
	{ "/var/lib/containerd", false, "containerd's storage" },
	{ "/var/lib/kubelet", false, "the kubelet's state and pod secrets" },
};

static const char *const sockets[] = {
	"docker.sock", "containerd.sock", "crio.sock", "podman.sock", "dockershim.sock",
};

/*
 * Why mounting host path P (normalised) is dangerous, or NULL. An ancestor
 * of a sensitive path exposes it too ("/" and "/var/lib" hold
 * /var/lib/docker). Runtime-managed files such as /etc/hosts come from
 * below /var/lib/docker or /var/lib/kubelet, which only match exactly.
 */
static const char *sensitive_why(const char *p, size_t len, bool *socket)
{
	size_t i, n, off = dd__path_base_off(p, len);

	*socket = name_in(p + off, len - off, sockets, DD_ARRAY_SIZE(sockets));
	if (*socket)
		return "a container runtime's API socket: root on the host";
	if (len == 1)
		return "the host's root filesystem";
	for (i = 0; i < DD_ARRAY_SIZE(sensitive); i++) {
		n = strlen(sensitive[i].path);
		if (len == n && !memcmp(p, sensitive[i].path, n))
			return sensitive[i].why;
		if (len < n && !memcmp(p, sensitive[i].path, len) && sensitive[i].path[len] == '/')
			return sensitive[i].why;
		if (sensitive[i].below && len > n && !memcmp(p, sensitive[i].path, n) && p[n] == '/')
			return sensitive[i].why;
	}
	return NULL;
}

/* Read-only host files that images routinely get: the time zone. */
static bool benign(const char *p, size_t len)
{
	static const char *const files[] = { "/etc/localtime", "/etc/timezone" };
	size_t i;

	for (i = 0; i < DD_ARRAY_SIZE(files); i++)
		if (len == strlen(files[i]) && !memcmp(p, files[i], len))
			return true;
	return false;
}

static int mounts_drift(struct dd_findings *fs, const struct runtime *rt)
{
	struct dd__buf src = DD__BUF_INIT, dst = DD__BUF_INIT, b = DD__BUF_INIT;
	struct dd_finding *f;
	const char *why, *path;
	bool socket;
	size_t i;
	int rc = 0;

	for (i = 0; i < rt->nmounts && rc == 0; i++) {
		const struct mount *m = &rt->mounts[i];

		rc = dd__path_normalize(&src, m->source, strlen(m->source));
		if (rc == DD_ENOMEM)
			break;
		socket = false;
		if (rc) /* ".." could dress /etc up as anything: treat the mount as sensitive */
			why = "a source path that climbs with \"..\"";
		else if (m->ro && benign(src.data, src.len))
			why = NULL;
		else
			why = sensitive_why(src.data, src.len, &socket);
		rc = 0;
		if (!why)
			continue;
		if (dd__path_normalize(&dst, m->dest, strlen(m->dest)) == DD_ENOMEM)
			break;
		path = dst.len ? dd__findings_strdup(fs, dst.data, dst.len) : NULL;
		if (!path)
			path = dd__findings_strdup(fs, m->dest, strlen(m->dest));
		b.len = 0;
		if (!path || dd__buf_puts(&b, "host ") || dd__buf_put(&b, m->source, strlen(m->source)) ||
		    dd__buf_printf(&b, " mounted %s at ", m->ro ? "read-only" : "read-write") ||
		    dd__buf_put(&b, m->dest, strlen(m->dest)) || dd__buf_printf(&b, ": %s", why) ||
		    (socket && m->ro && dd__buf_puts(&b, " (read-only does not stop connect(2))"))) {
			rc = DD_ENOMEM;
			break;
		}
		f = dd__finding_add(fs, "DD-CFG-008", NULL);
		if (!f || dd__finding_path(fs, f, path, strlen(path)) ||
		    dd__finding_detail(fs, f, "%s", b.data)) {
			rc = DD_ENOMEM;
			break;
		}
		f->severity = m->ro && !socket ? DD_SEVERITY_HIGH : DD_SEVERITY_CRITICAL;
	}
	dd__buf_free(&src);
	dd__buf_free(&dst);
	dd__buf_free(&b);
	return rc;
}

static int settings_drift(struct dd_findings *fs, const struct runtime *rt)
{
	struct dd__buf b = DD__BUF_INIT;
	size_t i;
	int rc = 0;

	if (rt->privileged) {
		struct dd_finding *f = dd__finding_add(fs, "DD-CFG-005", NULL);

		if (!f || dd__finding_detail(fs, f, "HostConfig.Privileged is true"))
			return DD_ENOMEM;
	}
	rc = caps_drift(fs, rt);
	if (!rc && rt->nhost_ns) {
		rc = dd__buf_puts(&b, "shares the host's");
		for (i = 0; i < rt->nhost_ns && rc == 0; i++)
			rc = dd__buf_printf(&b, "%s %s", i ? (i + 1 == rt->nhost_ns ? " and" : ",") : "",
					    rt->host_ns[i]);
		if (!rc)
			rc = dd__buf_puts(&b, rt->nhost_ns > 1 ? " namespaces" : " namespace");
		if (rc || !add_detail(fs, "DD-CFG-007", &b))
			rc = DD_ENOMEM;
	}
	if (!rc)
		rc = mounts_drift(fs, rt);
	if (!rc && (!rt->ro_root || !rt->nnp)) {
		b.len = 0;
		rc = dd__buf_printf(&b, "%s%s%s", rt->ro_root ? "" : "writable root filesystem",
				    !rt->ro_root && !rt->nnp ? "; " : "",
				    rt->nnp ? "" : "no-new-privileges not set");
		if (rc || !add_detail(fs, "DD-CFG-009", &b))
			rc = DD_ENOMEM;
	}
	dd__buf_free(&b);
	return rc;
}

/* ---- DD-CFG-010, DD-CFG-011: which image ---- */

static bool pinned(const char *ref)
{
	struct dd__digest d;
	size_t i, n = strlen(ref);

	if (strstr(ref, "@sha256:") || strstr(ref, "@sha512:") || dd__digest_parse(&d, ref, n) == 0)
		return true;
	/* A bare image ID, as `docker run <id>` records it. */
	for (i = 0; i < n; i++)
		if (!((ref[i] >= '0' && ref[i] <= '9') || (ref[i] >= 'a' && ref[i] <= 'f')))
			return false;
	return n == 64;
}

static int image_drift(struct dd_findings *fs, struct dd_image *img, const struct runtime *rt)
{
	struct dd__buf b = DD__BUF_INIT;
	struct dd_finding *f;
	struct dd__digest d;
	const char *md = img ? dd_image_manifest_digest(img) : NULL;
	const char *cd = img ? dd_image_config_digest(img) : NULL;
	int rc = 0;

	if (rt->ref && !pinned(rt->ref)) {
		if (dd__buf_puts(&b, "image referenced as ") || dd__buf_put(&b, rt->ref, strlen(rt->ref)) ||
		    !add_detail(fs, "DD-CFG-010", &b))
			rc = DD_ENOMEM;
	}
	/*
	 * Docker records the image ID (the config digest); with the containerd
	 * image store it is the manifest digest. Either one names this image.
	 */
	if (!rc && img && rt->image_id &&
	    dd__digest_parse(&d, rt->image_id, strlen(rt->image_id)) == 0 &&
	    !(cd && !strcmp(d.str, cd)) && !(md && !strcmp(d.str, md))) {
		b.len = 0;
		if (dd__buf_printf(&b, "the container runs image %s, not the image given (%s)", d.str,
				   md ? md : cd ? cd : "no digest"))
			rc = DD_ENOMEM;
		f = rc ? NULL : add_detail(fs, "DD-CFG-011", &b);
		if (!f)
			rc = DD_ENOMEM;
	}
	dd__buf_free(&b);
	return rc;
}

int dd__image_config(struct dd_ctx *ctx, struct dd_image *img, struct json_object **doc,
		     struct dd__imgcfg *ic)
{
	struct dd__buf what = DD__BUF_INIT;
	struct doc di = { ctx, NULL };
	const char *icfg = dd_image_config_json(img);
	int rc;

	*doc = NULL;
	memset(ic, 0, sizeof(*ic));
	if (!icfg)
		return 0;
	if (dd__buf_printf(&what, "%s: image config", dd_image_path(img)))
		return dd__error(ctx, DD_ENOMEM, "out of memory");
	di.what = what.data;
	rc = dd__json_parse(ctx, di.what, icfg, strlen(icfg), doc);
	if (!rc)
		rc = load_image(&di, *doc, ic);
	if (rc) {
		json_object_put(*doc);
		*doc = NULL;
	}
	dd__buf_free(&what);
	return rc;
}

int dd__classify_config(struct dd_findings *fs, struct dd_image *img, const char *runtime_config,
			bool skip_env)
{
	struct dd__buf data = DD__BUF_INIT, what = DD__BUF_INIT;
	struct json_object *doc = NULL, *idoc = NULL;
	struct runtime rt;
	struct dd__imgcfg ic;
	struct doc d = { fs->ctx, runtime_config };
	struct doc di = { fs->ctx, NULL };
	const char *icfg = img ? dd_image_config_json(img) : NULL;
	int rc;

	memset(&rt, 0, sizeof(rt));
	memset(&ic, 0, sizeof(ic));
	rc = dd__read_regular(fs->ctx, runtime_config, fs->ctx->limits.max_json, &data);
	if (!rc)
		rc = dd__json_parse(fs->ctx, runtime_config, data.data, data.len, &doc);
	if (!rc)
		rc = load_runtime(&d, fs, doc, &rt);
	if (!rc && icfg) {
		if (dd__buf_printf(&what, "%s: image config", dd_image_path(img))) {
			rc = dd__error(fs->ctx, DD_ENOMEM, "out of memory");
			goto out;
		}
		di.what = what.data;
		rc = dd__json_parse(fs->ctx, di.what, icfg, strlen(icfg), &idoc);
		if (!rc)
			rc = load_image(&di, idoc, &ic);
	}
	if (rc)
		goto out;
	/* Without the image there is nothing to compare: only the settings count. */
	if (icfg) {
		rc = rt.has_env && !skip_env ? dd__env_drift(fs, ic.env, rt.env, NULL, false) : 0;
		if (!rc)
			rc = command_drift(fs, &rt, &ic);
		if (!rc)
			rc = user_drift(fs, &rt, &ic);
		if (!rc)
			rc = ports_drift(fs, &rt, &ic);
	}
	if (!rc)
		rc = settings_drift(fs, &rt);
	if (!rc)
		rc = image_drift(fs, img, &rt);
	if (rc == DD_ENOMEM)
		rc = dd__error(fs->ctx, DD_ENOMEM, "%s: out of memory", runtime_config);
out:
	json_object_put(doc);
	json_object_put(idoc);
	free(rt.mounts);
	dd__buf_free(&data);
	dd__buf_free(&what);
	return rc;
}
