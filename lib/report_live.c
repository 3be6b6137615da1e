/*
 * The live container section of the reports: the processes with how
 * their executables compare with the image, the sockets, the mounts left
 * out of the file diff and the environment (names and hashes unless the
 * values were asked for). Every string here comes from the container.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "digest.h"
#include "report.h"

const struct dd_live *dd__report_live(const struct dd__report *r)
{
	return r->opts->version >= 2 ? r->opts->live : NULL;
}

static const struct dd_tree *image_tree(const struct dd__report *r)
{
	const struct dd_tree *t = NULL;

	if (r->img && dd_image_tree(&t, r->img) != 0)
		t = NULL;
	return t;
}

static void iso_time(char *out, size_t n, int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0 || !gmtime_r(&tt, &tm) || !strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, n, "unknown");
}

/* A JSON string of N bytes from the container: invalid UTF-8 escaped as \\xHH. */
static struct json_object *jbytes(const char *s, size_t n)
{
	struct dd__buf b = DD__BUF_INIT;
	struct json_object *o;

	if (!s)
		return NULL;
	if (dd__utf8_valid(s, n))
		return json_object_new_string_len(s, (int)n);
	if (dd__escape_invalid_utf8(&b, s, n) || dd__buf_grow(&b, 0)) {
		dd__buf_free(&b);
		return NULL;
	}
	o = json_object_new_string_len(b.data, (int)b.len);
	dd__buf_free(&b);
	return o;
}

static struct json_object *jtext(const char *s)
{
	return s ? jbytes(s, strlen(s)) : NULL;
}

static struct json_object *sha_json(const unsigned char *sha)
{
	char hex[8 + 65];

	memcpy(hex, "sha256:", 7);
	dd__hex(hex + 7, sha, 32);
	return json_object_new_string(hex);
}

static struct json_object *process_json(const struct dd_live_process *p, const struct dd_tree *image)
{
	struct json_object *o = json_object_new_object(), *argv = json_object_new_array();
	char when[32];
	size_t i;

	json_object_object_add(o, "pid", json_object_new_int(p->pid));
	json_object_object_add(o, "nspid", p->nspid ? json_object_new_int(p->nspid) : NULL);
	json_object_object_add(o, "ppid", json_object_new_int(p->ppid));
	json_object_object_add(o, "uid", json_object_new_int64(p->uid));
	json_object_object_add(o, "euid", json_object_new_int64(p->euid));
	json_object_object_add(o, "gid", json_object_new_int64(p->gid));
	iso_time(when, sizeof(when), p->start_time);
	json_object_object_add(o, "start_time", json_object_new_string(when));
	json_object_object_add(o, "comm", jtext(p->comm));
	for (i = 0; i < p->argc; i++)
		json_object_array_add(argv, jtext(p->argv[i]));
	json_object_object_add(o, "argv", argv);
	json_object_object_add(o, "exe", p->exe ? jbytes(p->exe, p->exe_len) : NULL);
	json_object_object_add(o, "exe_link", jtext(p->exe_raw));
	json_object_object_add(o, "exe_sha256", p->has_sha256 ? sha_json(p->sha256) : NULL);
	json_object_object_add(o, "exe_size", p->has_sha256 ? json_object_new_uint64(p->exe_size) : NULL);
	json_object_object_add(o, "exe_state", json_object_new_string(dd_live_exe_state_name(dd_live_exe_check(p, image))));
	json_object_object_add(o, "init", json_object_new_boolean(p->flags & DD_LIVE_INIT));
	json_object_object_add(o, "tty", json_object_new_boolean(p->flags & DD_LIVE_TTY));
	json_object_object_add(o, "own_root", json_object_new_boolean(p->flags & DD_LIVE_OTHER_ROOT));
	json_object_object_add(o, "error", jtext(p->error));
	return o;
}

static struct json_object *socket_json(const struct dd_live_socket *s)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "proto", json_object_new_string(s->proto));
	json_object_object_add(o, "family", json_object_new_int(s->family));
	json_object_object_add(o, "local", json_object_new_string(s->local));
	json_object_object_add(o, "local_port", json_object_new_int(s->local_port));
	json_object_object_add(o, "remote", json_object_new_string(s->remote));
	json_object_object_add(o, "remote_port", json_object_new_int(s->remote_port));
	json_object_object_add(o, "state", json_object_new_string(s->state));
	json_object_object_add(o, "listening", json_object_new_boolean(s->listening));
	json_object_object_add(o, "uid", json_object_new_int64(s->uid));
	json_object_object_add(o, "pid", s->pid ? json_object_new_int(s->pid) : NULL);
	return o;
}

static struct json_object *mount_json(const struct dd_live_mount *m)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "path", jbytes(m->path, m->path_len));
	json_object_object_add(o, "fstype", jtext(m->fstype));
	json_object_object_add(o, "source", jtext(m->source));
	json_object_object_add(o, "root", jtext(m->root));
	json_object_object_add(o, "read_only", json_object_new_boolean(m->ro));
	json_object_object_add(o, "pseudo", json_object_new_boolean(m->pseudo));
	json_object_object_add(o, "walked", json_object_new_boolean(m->walked));
	return o;
}

/* "NAME" and the value's SHA-256, or with show_env_values the value itself. */
static struct json_object *env_json(const char *var, bool show)
{
	struct json_object *o = json_object_new_object();
	const char *eq = strchr(var, '=');
	size_t nlen = eq ? (size_t)(eq - var) : strlen(var);
	struct dd__hasher *h = NULL;
	struct dd__digest d;

	json_object_object_add(o, "name", jbytes(var, nlen));
	if (show) {
		json_object_object_add(o, "value", eq ? jtext(eq + 1) : NULL);
	} else if (eq && dd__hasher_new(&h, DD__ALG_SHA256) == 0 &&
		   dd__hasher_update(h, eq + 1, strlen(eq + 1)) == 0 && dd__hasher_final(h, &d) == 0) {
		json_object_object_add(o, "sha256", json_object_new_string(d.str));
	} else {
		json_object_object_add(o, "sha256", NULL);
	}
	dd__hasher_free(h);
	return o;
}

struct json_object *dd__live_json(const struct dd__report *r)
{
	const struct dd_live *l = dd__report_live(r);
	const struct dd_tree *image = image_tree(r);
	struct json_object *o, *a;
	const char *const *env;
	size_t i, n;

	if (!l)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "pid", json_object_new_int(dd_live_pid(l)));
	json_object_object_add(o, "root", json_object_new_string(dd_live_root_path(l)));
	a = json_object_new_array();
	for (i = 0; i < dd_live_process_count(l); i++)
		json_object_array_add(a, process_json(dd_live_process(l, i), image));
	json_object_object_add(o, "processes", a);
	a = json_object_new_array();
	for (i = 0; i < dd_live_socket_count(l); i++)
		json_object_array_add(a, socket_json(dd_live_socket(l, i)));
	json_object_object_add(o, "sockets", a);
	a = json_object_new_array();
	for (i = 0; i < dd_live_mount_count(l); i++)
		json_object_array_add(a, mount_json(dd_live_mount(l, i)));
	json_object_object_add(o, "mounts", a);
	a = json_object_new_array();
	env = dd_live_environ(l, &n);
	for (i = 0; env && i < n; i++)
		json_object_array_add(a, env_json(env[i], r->opts->show_env_values));
	json_object_object_add(o, "environment", a);
	a = json_object_new_array();
	for (i = 0; i < dd_live_warning_count(l); i++)
		json_object_array_add(a, jtext(dd_live_warning(l, i)));
	json_object_object_add(o, "warnings", a);
	return o;
}

/* ---- text ---- */

static int put_quoted(struct dd__buf *b, const char *s, size_t n, size_t width)
{
	size_t start = b->len;

	if (dd__quote(b, s, n))
		return DD_ENOMEM;
	while (b->len - start < width)
		if (dd__buf_puts(b, " "))
			return DD_ENOMEM;
	return 0;
}

static int text_process(struct dd__buf *b, const struct dd_live_process *p, const struct dd_tree *image)
{
	size_t i;
	int rc;

	rc = dd__buf_printf(b, "  %-7d %-6d %-6u %-9s ", p->pid, p->nspid, p->euid,
			    dd_live_exe_state_name(dd_live_exe_check(p, image)));
	if (!rc)
		rc = p->exe ? put_quoted(b, p->exe, p->exe_len, 24)
			    : put_quoted(b, p->exe_raw ? p->exe_raw : "-", strlen(p->exe_raw ? p->exe_raw : "-"), 24);
	for (i = 0; rc == 0 && i < p->argc && i < 16; i++)
		rc = dd__buf_puts(b, " ") || dd__quote(b, p->argv[i], strlen(p->argv[i]));
	if (!rc && p->argc > 16)
		rc = dd__buf_printf(b, " ... (%zu more)", p->argc - 16);
	if (!rc && !p->argc)
		rc = dd__buf_puts(b, " [") || dd__quote(b, p->comm, strlen(p->comm)) || dd__buf_puts(b, "]");
	if (!rc && (p->flags & DD_LIVE_TTY))
		rc = dd__buf_puts(b, "  (tty)");
	return rc ? rc : dd__buf_puts(b, "\n");
}

static int text_socket(struct dd__buf *b, const struct dd_live_socket *s)
{
	const char *lb = s->family == 6 ? "[" : "", *rb = s->family == 6 ? "]" : "";

	if (s->listening)
		return dd__buf_printf(b, "  listen  %s %s%s%s:%u", s->proto, lb, s->local, rb, s->local_port) ||
		       (s->pid ? dd__buf_printf(b, " (pid %d)\n", s->pid) : dd__buf_puts(b, "\n"));
	return dd__buf_printf(b, "  %-7s %s %s%s%s:%u -> %s%s%s:%u", s->state, s->proto, lb, s->local, rb,
			      s->local_port, lb, s->remote, rb, s->remote_port) ||
	       (s->pid ? dd__buf_printf(b, " (pid %d)\n", s->pid) : dd__buf_puts(b, "\n"));
}

int dd__live_text(const struct dd__report *r, struct dd__buf *b)
{
	const struct dd_live *l = dd__report_live(r);
	const struct dd_tree *image = image_tree(r);
	size_t i, nl = 0, nw = 0;
	int rc;

	for (i = 0; i < dd_live_socket_count(l); i++)
		nl += dd_live_socket(l, i)->listening;
	for (i = 0; i < dd_live_mount_count(l); i++)
		nw += !dd_live_mount(l, i)->walked;
	rc = dd__buf_printf(b, "\ncontainer: pid %d (%s), %zu process%s, %zu listening socket%s, %zu mount%s not walked\n",
			    dd_live_pid(l), dd_live_root_path(l), dd_live_process_count(l),
			    dd_live_process_count(l) == 1 ? "" : "es", nl, nl == 1 ? "" : "s", nw, nw == 1 ? "" : "s");
	if (!rc && dd_live_process_count(l))
		rc = dd__buf_printf(b, "  %-7s %-6s %-6s %-9s %-24s %s\n", "PID", "NSPID", "EUID", "EXE", "PATH",
				    "COMMAND");
	for (i = 0; rc == 0 && i < dd_live_process_count(l); i++)
		rc = text_process(b, dd_live_process(l, i), image);
	for (i = 0; rc == 0 && i < dd_live_socket_count(l); i++) {
		const struct dd_live_socket *s = dd_live_socket(l, i);

		if (s->listening || !strcmp(s->state, "established"))
			rc = text_socket(b, s);
	}
	for (i = 0; rc == 0 && i < dd_live_mount_count(l); i++) {
		const struct dd_live_mount *m = dd_live_mount(l, i);

		if (m->pseudo)
			continue;
		rc = dd__buf_puts(b, "  mount   ") || dd__quote(b, m->path, m->path_len) ||
		     dd__buf_printf(b, " %s ", m->fstype) || dd__quote(b, m->source, strlen(m->source)) ||
		     dd__buf_printf(b, "%s%s\n", m->ro ? " ro" : "", m->walked ? "" : " (not walked)");
	}
	for (i = 0; rc == 0 && i < dd_live_warning_count(l); i++) {
		const char *w = dd_live_warning(l, i);

		rc = dd__buf_puts(b, "  warning: ") || dd__quote(b, w, strlen(w)) || dd__buf_puts(b, "\n");
	}
	return rc;
}

/* ---- markdown ---- */

int dd__live_markdown(const struct dd__report *r, struct dd__buf *b)
{
	const struct dd_live *l = dd__report_live(r);
	const struct dd_tree *image = image_tree(r);
	size_t i;
	int rc;

	rc = dd__buf_printf(b, "<details><summary>Container processes (%zu), pid %d</summary>\n\n"
			       "| pid | uid | executable | state | command |\n|---:|---:|---|---|---|\n",
			    dd_live_process_count(l), dd_live_pid(l));
	for (i = 0; rc == 0 && i < dd_live_process_count(l) && i < 1000; i++) {
		const struct dd_live_process *p = dd_live_process(l, i);
		struct dd__buf cmd = DD__BUF_INIT;
		size_t k;

		for (k = 0; rc == 0 && k < p->argc && k < 16; k++)
			rc = (k ? dd__buf_puts(&cmd, " ") : 0) || dd__buf_puts(&cmd, p->argv[k]);
		if (!rc)
			rc = dd__buf_printf(b, "| %d | %u | ", p->pid, p->euid) ||
			     (p->exe ? dd__md_cell(b, p->exe, p->exe_len)
				     : dd__md_cell(b, p->exe_raw ? p->exe_raw : "-", strlen(p->exe_raw ? p->exe_raw : "-"))) ||
			     dd__buf_printf(b, " | %s | ", dd_live_exe_state_name(dd_live_exe_check(p, image))) ||
			     dd__md_cell(b, cmd.data ? cmd.data : "", cmd.len) || dd__buf_puts(b, " |\n");
		dd__buf_free(&cmd);
	}
	return rc ? rc : dd__buf_puts(b, "\n</details>\n\n");
}
