/*
 * Live container mode (lib/live.c, lib/live_classify.c, lib/container.c):
 * the /proc parsers on lines as the kernel writes them, and a whole
 * snapshot read from a fake procfs (dd_live_options.proc), classified
 * against the oci-umoci fixture: Entrypoint /usr/bin/tool, Cmd --serve
 * --verbose, ExposedPorts 8080/tcp 53/udp, Env PATH + APP_MODE=production.
 * The fake procfs needs no privileges, so this runs everywhere; the real
 * thing is tested end to end by tests/live.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cmocka.h>

#include "lib/live.h"
#include "lib/private.h"

static const char *fixtures(void)
{
	const char *f = getenv("DD_FIXTURES");

	return f && *f ? f : "fixtures";
}

/* ---- parsers ---- */

static void test_parse_stat(void **state)
{
	static const char line[] = "4242 (evil) (x) R 17 4242 4242 34816 4242 4194560 100 0 0 0 3 1 0 0 20 0 1 0 98765 "
				   "1000 200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
	struct dd__proc_stat ps;

	(void)state;
	assert_int_equal(dd__live_parse_stat(line, strlen(line), &ps), 0);
	/* The name runs to the last ')': a process may call itself "evil) (x". */
	assert_int_equal(ps.comm_len, strlen("evil) (x"));
	assert_memory_equal(ps.comm, "evil) (x", ps.comm_len);
	assert_int_equal(ps.state, 'R');
	assert_int_equal(ps.ppid, 17);
	assert_int_equal(ps.tty_nr, 34816);
	assert_int_equal(ps.starttime, 98765);
	assert_int_equal(dd__live_parse_stat("12 (x) S 1 2", 12, &ps), DD_EFORMAT);
	assert_int_equal(dd__live_parse_stat("12 x S 1", 8, &ps), DD_EFORMAT);
	assert_int_equal(dd__live_parse_stat("", 0, &ps), DD_EFORMAT);
}

static void test_parse_net(void **state)
{
	struct dd_live_socket s;

	(void)state;
	assert_int_equal(dd__live_parse_net("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
					    4, "tcp", &s), DD_EFORMAT);
	assert_int_equal(dd__live_parse_net("   0: 00000000:115C 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9001 1 0000000000000000 100 0 0 10 0",
					    4, "tcp", &s), 0);
	assert_string_equal(s.local, "0.0.0.0");
	assert_int_equal(s.local_port, 4444);
	assert_true(s.listening);
	assert_string_equal(s.state, "listen");
	assert_int_equal(s.inode, 9001);
	/* 127.0.0.1 is 0100007F: a 32-bit word printed from its in-memory value (little-endian here). */
	assert_int_equal(dd__live_parse_net("   1: 0100007F:C350 050071CB:01BB 01 00000000:00000000 00:00000000 00000000  1000        0 9003 1",
					    4, "tcp", &s), 0);
	if (htons(1) != 1) {
		assert_string_equal(s.local, "127.0.0.1");
		assert_string_equal(s.remote, "203.113.0.5");
	}
	assert_int_equal(s.remote_port, 443);
	assert_int_equal(s.uid, 1000);
	assert_false(s.listening);
	assert_string_equal(s.state, "established");
	assert_int_equal(dd__live_parse_net("   2: 00000000000000000000000000000000:115C 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9004 1",
					    6, "tcp", &s), 0);
	assert_string_equal(s.local, "::");
	assert_int_equal(s.family, 6);
	/* UDP: bound and unconnected (07) is the listening kind; connected (01) is not. */
	assert_int_equal(dd__live_parse_net(" 5: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 9005 2",
					    4, "udp", &s), 0);
	assert_true(s.listening);
	assert_string_equal(s.state, "unconnected");
	assert_int_equal(dd__live_parse_net(" 5: 00000000:0035 0100007F:0035 01 00000000:00000000 00:00000000 00000000 0 0 9006 2",
					    4, "udp", &s), 0);
	assert_false(s.listening);
	/* Malformed: wrong address width, port out of range, junk. */
	assert_int_equal(dd__live_parse_net(" 0: 000000:115C 00000000:0000 0A 0:0 0:0 0 0 0 1", 4, "tcp", &s), DD_EFORMAT);
	assert_int_equal(dd__live_parse_net(" 0: 00000000:1115C 00000000:0000 0A 0:0 0:0 0 0 0 1", 4, "tcp", &s), DD_EFORMAT);
	assert_int_equal(dd__live_parse_net("garbage", 4, "tcp", &s), DD_EFORMAT);
}

static void test_parse_mountinfo(void **state)
{
	char l1[] = "612 580 0:52 / / rw,relatime master:300 - overlay overlay rw,lowerdir=/a,upperdir=/b";
	char l2[] = "640 612 253:1 /var/lib/kubelet/pods/x/volumes/my\\040vol /data\\040dir rw,relatime - ext4 /dev/vda1 rw";
	char l3[] = "700 612 0:5 / /proc ro,nosuid - proc proc rw";
	char l4[] = "701 612 0:5 / /proc ro,nosuid proc proc rw";
	char l5[] = "702 612 0:6 / /x\\134 rw - tmpfs"; /* no source: found by fuzz_proc */
	struct dd__mountinfo mi;

	(void)state;
	assert_int_equal(dd__live_parse_mountinfo(l1, &mi), 0);
	assert_string_equal(mi.path, "/");
	assert_string_equal(mi.fstype, "overlay");
	assert_int_equal(dd__live_parse_mountinfo(l2, &mi), 0);
	assert_string_equal(mi.path, "/data dir");
	assert_string_equal(mi.root, "/var/lib/kubelet/pods/x/volumes/my vol");
	assert_string_equal(mi.source, "/dev/vda1");
	assert_int_equal(dd__live_parse_mountinfo(l3, &mi), 0);
	assert_string_equal(mi.options, "ro,nosuid");
	assert_int_equal(dd__live_parse_mountinfo(l4, &mi), DD_EFORMAT); /* no " - " separator */
	assert_int_equal(dd__live_parse_mountinfo(l5, &mi), 0);
	assert_string_equal(mi.path, "/x\\");
	assert_string_equal(mi.source, "");
}

static void test_map_exe(void **state)
{
	size_t off, len;
	uint32_t fl;

	(void)state;
	/* A container in its own mount namespace: the kernel shows its own paths. */
	dd__live_map_exe("/usr/bin/nginx", "/", false, &off, &len, &fl);
	assert_int_equal(off, 0);
	assert_int_equal(len, 14);
	assert_int_equal(fl, 0);
	/* A chroot: the host path, below the root's. */
	dd__live_map_exe("/srv/ctr/rootfs/bin/sh", "/srv/ctr/rootfs", false, &off, &len, &fl);
	assert_int_equal(fl, 0);
	assert_int_equal(off, strlen("/srv/ctr/rootfs"));
	assert_int_equal(len, strlen("/bin/sh"));
	dd__live_map_exe("/srv/ctr/rootfs2/bin/sh", "/srv/ctr/rootfs", false, &off, &len, &fl);
	assert_int_equal(fl, DD_LIVE_EXE_OUTSIDE);
	dd__live_map_exe("/srv/ctr/rootfs/tmp/x (deleted)", "/srv/ctr/rootfs/", true, &off, &len, &fl);
	assert_int_equal(fl, DD_LIVE_EXE_DELETED);
	assert_int_equal(len, strlen("/tmp/x"));
	/* A file really named "x (deleted)" that still has its links. */
	dd__live_map_exe("/tmp/x (deleted)", "/", false, &off, &len, &fl);
	assert_int_equal(fl, 0);
	assert_int_equal(len, strlen("/tmp/x (deleted)"));
	dd__live_map_exe("/memfd:payload (deleted)", "/srv/ctr/rootfs", false, &off, &len, &fl);
	assert_int_equal(fl, DD_LIVE_EXE_MEMFD | DD_LIVE_EXE_DELETED);
}

/* ---- a fake procfs ---- */

struct fx {
	char dir[64];
	char root[128];    /* the container's rootfs */
	char proc[128];
	struct dd_ctx *ctx;
	struct dd_image *img;
	const struct dd_tree *tree;
};

static void put(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void puts_(const char *path, const char *s)
{
	put(path, s, strlen(s));
}

static void putf(const struct fx *f, int pid, const char *name, const char *data, size_t len)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%d/%s", f->proc, pid, name);
	put(path, data, len);
}

static void link_to(const char *target, const char *fmt, ...)
{
	char path[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	assert_int_equal(symlink(target, path), 0);
}

/* Process PID: /proc/PID as the kernel would show it, in PID namespace NS. */
static void proc_add(const struct fx *f, int pid, int nspid, int ppid, int tty, const char *comm,
		     const char *argv, size_t argv_len, const char *exe, const char *ns)
{
	char path[512], buf[1024];

	snprintf(path, sizeof(path), "%s/%d", f->proc, pid);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/%d/ns", f->proc, pid);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/%d/fd", f->proc, pid);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(buf, sizeof(buf), "%d (%s) S %d %d %d %d -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 %d 1 1\n", pid, comm,
		 ppid, pid, pid, tty, 100 * pid);
	putf(f, pid, "stat", buf, strlen(buf));
	snprintf(buf, sizeof(buf), "Name:\t%s\nUid:\t0\t%d\t0\t0\nGid:\t0\t0\t0\t0\nNSpid:\t%d\t%d\n", comm,
		 pid == 103 ? 1000 : 0, pid, nspid);
	putf(f, pid, "status", buf, strlen(buf));
	putf(f, pid, "cmdline", argv, argv_len);
	link_to(ns, "%s/%d/ns/pid", f->proc, pid);
	link_to(f->root, "%s/%d/root", f->proc, pid);
	if (exe)
		link_to(exe, "%s/%d/exe", f->proc, pid);
}

#define ARGV(s) s, sizeof(s) - 1

static int setup(void **state)
{
	struct dd_image_options o = DD_IMAGE_OPTIONS_INIT;
	struct fx *f = calloc(1, sizeof(*f));
	char path[512], exe[512];
	static const char tcp[] =
		"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
		"   0: 00000000:115C 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 9001 1\n"
		"   1: 0100007F:15B3 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9002 1\n"
		"   2: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9007 1\n"
		"   3: 0200000A:9C40 050071CB:01BB 01 00000000:00000000 00:00000000 00000000  1000        0 9003 1\n"
		"   4: 0200000A:9C41 050071CB:01BB 06 00000000:00000000 00:00000000 00000000     0        0 0 1\n";
	static const char tcp6[] =
		"  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
		"   0: 00000000000000000000000000000000:115C 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 9004 1\n";
	static const char udp[] =
		"   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
		"  1: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 9005 2 0 0\n"
		"  2: 00000000:9CBB 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 9006 2 0 0\n";
	static const char environ[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\0"
				      "APP_MODE=debug\0SECRET_TOKEN=hunter2\0HOSTNAME=ctr\0";
	static const char *const ns = "pid:[4026531111]";

	if (!f || dd_ctx_new(&f->ctx))
		return -1;
	snprintf(path, sizeof(path), "%s/oci-umoci", fixtures());
	o.ref = "latest";
	if (dd_image_open(&f->img, f->ctx, path, &o) || dd_image_tree(&f->tree, f->img)) {
		fprintf(stderr, "setup: %s\n", dd_ctx_error(f->ctx));
		return -1;
	}
	strcpy(f->dir, "/tmp/dd-test-live-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->root, sizeof(f->root), "%s/rootfs", f->dir);
	snprintf(f->proc, sizeof(f->proc), "%s/proc", f->dir);
	mkdir(f->root, 0755);
	mkdir(f->proc, 0755);
	snprintf(path, sizeof(path), "%s/usr", f->root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/usr/bin", f->root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/tmp", f->root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/tmp/.x", f->root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/data", f->root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/data/volume-file", f->root);
	put(path, "v\n", 2);
	/* A file bind-mounted over, as a runtime mounts /etc/hosts. */
	snprintf(path, sizeof(path), "%s/hosts", f->root);
	put(path, "127.0.0.1 localhost\n", 20);
	/* The image's own /usr/bin/tool, byte for byte. */
	snprintf(path, sizeof(path), "%s/usr/bin/tool", f->root);
	put(path, "#!/bin/sh\necho tool\n", 20);
	snprintf(path, sizeof(path), "%s/tmp/.x/evil", f->root);
	put(path, "\177ELF dropped\n", 13);
	/* A renamed copy of the image's own tool. */
	snprintf(path, sizeof(path), "%s/tmp/copy", f->root);
	put(path, "#!/bin/sh\necho tool\n", 20);
	snprintf(path, sizeof(path), "%s/stat", f->proc);
	puts_(path, "cpu  1 2 3\nbtime 1700000000\nprocesses 9\n");

	snprintf(exe, sizeof(exe), "%s/usr/bin/tool", f->root);
	proc_add(f, 100, 1, 0, 0, "tool", ARGV("/usr/bin/tool\0--serve\0--verbose\0"), exe, ns);
	proc_add(f, 101, 2, 100, 34816, "bash", ARGV("-bash\0"), exe, ns);
	proc_add(f, 102, 3, 101, 0, "apt-get", ARGV("apt-get\0install\0-y\0nmap\0"), exe, ns);
	snprintf(exe, sizeof(exe), "%s/tmp/.x/evil", f->root);
	proc_add(f, 103, 4, 1, 0, "kworker", ARGV("[kworker/0:1]\0"), exe, ns);
	link_to("socket:[9001]", "%s/103/fd/3", f->proc);
	link_to("socket:[9004]", "%s/103/fd/4", f->proc);
	link_to("socket:[9003]", "%s/103/fd/5", f->proc);
	link_to("/dev/null", "%s/103/fd/0", f->proc);
	snprintf(exe, sizeof(exe), "%s/tmp/gone (deleted)", f->root);
	proc_add(f, 104, 5, 100, 0, "gone", ARGV("/tmp/gone\0"), exe, ns);
	proc_add(f, 105, 6, 100, 0, "kthreadd", ARGV("kthreadd\0"), "/memfd:x (deleted)", ns);
	snprintf(exe, sizeof(exe), "%s/usr/bin/tool", f->root);
	proc_add(f, 106, 7, 100, 0, "python3", ARGV("python3\0-m\0pip\0install\0requests\0"), exe, ns);
	snprintf(exe, sizeof(exe), "%s/tmp/copy", f->root);
	proc_add(f, 108, 8, 100, 0, "copy", ARGV("/tmp/copy\0"), exe, ns);
	snprintf(exe, sizeof(exe), "%s/usr/bin/tool", f->root);
	/* Another container's process: not listed. */
	proc_add(f, 107, 1, 0, 0, "sh", ARGV("sh\0"), exe, "pid:[4026532222]");
	snprintf(path, sizeof(path), "%s/100/net", f->proc);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/100/net/tcp", f->proc);
	put(path, tcp, strlen(tcp));
	snprintf(path, sizeof(path), "%s/100/net/tcp6", f->proc);
	put(path, tcp6, strlen(tcp6));
	snprintf(path, sizeof(path), "%s/100/net/udp", f->proc);
	put(path, udp, strlen(udp));
	snprintf(path, sizeof(path), "%s/100/mountinfo", f->proc);
	puts_(path, "1 0 0:50 / / rw - overlay overlay rw\n"
		    "2 1 253:1 /vols/data /data rw - ext4 /dev/vda1 rw\n"
		    "3 1 0:5 / /proc rw - proc proc rw\n"
		    "4 1 253:1 /containers/x/hosts /hosts rw - ext4 /dev/vda1 rw\n");
	putf(f, 100, "environ", environ, sizeof(environ) - 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	dd_image_free(f->img);
	dd_ctx_free(f->ctx);
	free(f);
	return 0;
}

static struct dd_live *open_fake(struct fx *f, bool include_mounts)
{
	struct dd_live_options o = DD_LIVE_OPTIONS_INIT;
	struct dd_live *l = NULL;

	o.proc = f->proc;
	o.include_mounts = include_mounts;
	if (dd_live_open(&l, f->ctx, 100, &o))
		fail_msg("dd_live_open: %s", dd_ctx_error(f->ctx));
	return l;
}

static const struct dd_live_process *maybe_pid(const struct dd_live *l, int pid)
{
	size_t i;

	for (i = 0; i < dd_live_process_count(l); i++) {
		const struct dd_live_process *p = dd_live_process(l, i);

		if (p && p->pid == pid)
			return p;
	}
	return NULL;
}

static const struct dd_live_process *by_pid(const struct dd_live *l, int pid)
{
	const struct dd_live_process *p = maybe_pid(l, pid);

	if (!p) {
		fail_msg("process %d not in the snapshot", pid);
		abort();
	}
	return p;
}

static void test_snapshot(void **state)
{
	struct fx *f = *state;
	struct dd_live *l = open_fake(f, false);
	const struct dd_live_process *p;
	const char *const *env;
	size_t n, i, listening = 0;

	assert_int_equal(dd_live_process_count(l), 8); /* 107 is in another namespace */
	assert_null(maybe_pid(l, 107));
	p = by_pid(l, 100);
	assert_true(p->flags & DD_LIVE_INIT);
	assert_int_equal(p->argc, 3);
	assert_string_equal(p->argv[1], "--serve");
	assert_int_equal(p->start_time, 1700000000 + 100 * 100 / sysconf(_SC_CLK_TCK));
	assert_int_equal(dd_live_exe_check(p, f->tree), DD_LIVE_EXE_IMAGE);
	assert_int_equal(p->exe_len, strlen("/usr/bin/tool"));
	assert_memory_equal(p->exe, "/usr/bin/tool", p->exe_len);
	p = by_pid(l, 101);
	assert_true(p->flags & DD_LIVE_TTY);
	assert_false(p->flags & DD_LIVE_INIT);
	p = by_pid(l, 103);
	assert_int_equal(p->euid, 1000);
	assert_int_equal(dd_live_exe_check(p, f->tree), DD_LIVE_EXE_ADDED);
	assert_true(p->has_sha256);
	assert_int_equal(dd_live_exe_check(by_pid(l, 104), f->tree), DD_LIVE_EXE_GONE);
	assert_int_equal(dd_live_exe_check(by_pid(l, 105), f->tree), DD_LIVE_EXE_GONE);
	assert_true(by_pid(l, 105)->flags & DD_LIVE_EXE_MEMFD);
	/* time-wait sockets are history, not state. */
	assert_int_equal(dd_live_socket_count(l), 7);
	for (i = 0; i < dd_live_socket_count(l); i++) {
		const struct dd_live_socket *s = dd_live_socket(l, i);

		listening += s->listening;
		if (s->inode == 9001 || s->inode == 9004 || s->inode == 9003)
			assert_int_equal(s->pid, 103);
	}
	assert_int_equal(listening, 6);
	assert_int_equal(dd_live_mount_count(l), 3);
	assert_string_equal(dd_live_mount(l, 0)->path, "/data");
	assert_false(dd_live_mount(l, 0)->pseudo);
	assert_true(dd_live_mount(l, 1)->pseudo);
	assert_string_equal(dd_live_mount(l, 2)->path, "/hosts");
	assert_false(dd_live_mount(l, 2)->pseudo);
	env = dd_live_environ(l, &n);
	assert_int_equal(n, 4);
	assert_string_equal(env[1], "APP_MODE=debug");
	dd_live_free(l);
}

/* The finding under RULE whose detail holds NEEDLE (or the first when NULL). */
static const struct dd_finding *find(const struct dd_findings *fs, const char *rule, const char *needle)
{
	size_t i;

	for (i = 0; i < dd_findings_count(fs); i++) {
		const struct dd_finding *x = dd_findings_get(fs, i);

		if (!strcmp(x->rule->id, rule) && (!needle || (x->detail && strstr(x->detail, needle))))
			return x;
	}
	return NULL;
}

static size_t count(const struct dd_findings *fs, const char *rule)
{
	size_t i, n = 0;

	for (i = 0; i < dd_findings_count(fs); i++)
		n += !strcmp(dd_findings_get(fs, i)->rule->id, rule);
	return n;
}

static struct dd_findings *classify(struct fx *f, struct dd_live *l, bool show)
{
	struct dd_classify_options o = DD_CLASSIFY_OPTIONS_INIT;
	struct dd_findings *fs = NULL;

	o.image = f->img;
	o.image_tree = f->tree;
	o.live = l;
	o.show_env_values = show;
	if (dd_classify(&fs, f->ctx, NULL, &o))
		fail_msg("dd_classify: %s", dd_ctx_error(f->ctx));
	return fs;
}

static void test_findings(void **state)
{
	struct fx *f = *state;
	struct dd_live *l = open_fake(f, false);
	struct dd_findings *fs = classify(f, l, false);
	const struct dd_finding *x;

	/* The dropped binary, run by one process, and a renamed copy of an image file. */
	assert_int_equal(count(fs, "DD-PROC-001"), 2);
	x = find(fs, "DD-PROC-001", "same content as /usr/bin/tool in the image");
	assert_non_null(x);
	assert_memory_equal(x->paths[0].path, "/tmp/copy", x->paths[0].len);
	x = find(fs, "DD-PROC-001", "not in the image");
	assert_non_null(x);
	assert_int_equal(x->severity, DD_SEVERITY_CRITICAL);
	assert_memory_equal(x->paths[0].path, "/tmp/.x/evil", x->paths[0].len);
	/* Deleted and in memory. */
	assert_int_equal(count(fs, "DD-PROC-002"), 2);
	assert_non_null(find(fs, "DD-PROC-002", "runs from memory"));
	/* The login shell with a terminal; not the entrypoint (tool). */
	assert_int_equal(count(fs, "DD-PROC-003"), 1);
	x = find(fs, "DD-PROC-003", "shell bash");
	assert_non_null(x);
	assert_int_equal(x->severity, DD_SEVERITY_HIGH);
	/* apt-get, and pip behind python3 -m. */
	assert_int_equal(count(fs, "DD-PROC-004"), 2);
	assert_non_null(find(fs, "DD-PROC-004", "package manager apt-get"));
	assert_non_null(find(fs, "DD-PROC-004", "package manager pip"));
	/* 4444 on v4 and v6 as one finding, held by the dropped binary; 5555 loopback, low;
	 * 8080/tcp and 53/udp are exposed; 40123/udp is an ephemeral port, low. */
	assert_int_equal(count(fs, "DD-NET-001"), 3);
	x = find(fs, "DD-NET-001", "tcp port 4444 on 0.0.0.0, [::]");
	assert_non_null(x);
	assert_int_equal(x->severity, DD_SEVERITY_HIGH);
	assert_memory_equal(x->paths[0].path, "/tmp/.x/evil", x->paths[0].len);
	assert_non_null(strstr(x->detail, "the image exposes"));
	x = find(fs, "DD-NET-001", "tcp port 5555");
	assert_non_null(x);
	assert_int_equal(x->severity, DD_SEVERITY_LOW);
	x = find(fs, "DD-NET-001", "udp port 40123");
	assert_non_null(x);
	assert_int_equal(x->severity, DD_SEVERITY_LOW);
	assert_null(find(fs, "DD-NET-001", "port 8080"));
	assert_null(find(fs, "DD-NET-001", "port 53 "));
	x = find(fs, "DD-NET-002", "203.113.0.5:443");
	if (htons(1) != 1)
		assert_non_null(x);
	/* The environment: names and hashes, never the secret itself. */
	x = find(fs, "DD-CFG-001", "/proc/100/environ");
	assert_non_null(x);
	assert_non_null(strstr(x->detail, "SECRET_TOKEN (sha256:"));
	assert_non_null(strstr(x->detail, "changed APP_MODE"));
	assert_null(strstr(x->detail, "hunter2"));
	assert_null(strstr(x->detail, "HOSTNAME"));
	dd_findings_free(fs);
	fs = classify(f, l, true);
	x = find(fs, "DD-CFG-001", "/proc/100/environ");
	assert_non_null(x);
	assert_non_null(strstr(x->detail, "SECRET_TOKEN ('hunter2')"));
	assert_non_null(strstr(x->detail, "APP_MODE ('production' -> 'debug')"));
	dd_findings_free(fs);
	dd_live_free(l);
}

static void test_read_root(void **state)
{
	struct fx *f = *state;
	struct dd_live *l = open_fake(f, false);
	struct dd_tree *t = NULL;
	const struct dd_entry *e;

	/* The fake /proc/100/root is a symlink to the rootfs, followed once like the magic link. */
	assert_int_equal(dd_live_read_root(&t, f->ctx, l, NULL), 0);
	e = dd_tree_find(t, "/data", 5);
	assert_non_null(e);
	assert_true(e->flags & DD_ENTRY_MOUNTPOINT);
	assert_null(dd_tree_find(t, "/data/volume-file", 17));
	/* A file mount point: recorded, never opened nor hashed. */
	e = dd_tree_find(t, "/hosts", 6);
	assert_non_null(e);
	assert_true(e->flags & DD_ENTRY_MOUNTPOINT);
	assert_false(e->has_sha256);
	assert_non_null(dd_tree_find(t, "/tmp/.x/evil", 12));
	dd_tree_free(t);
	dd_live_free(l);
	/* --include-mounts: the volume is walked. */
	l = open_fake(f, true);
	assert_true(dd_live_mount(l, 0)->walked);
	assert_int_equal(dd_live_read_root(&t, f->ctx, l, NULL), 0);
	assert_non_null(dd_tree_find(t, "/data/volume-file", 17));
	dd_tree_free(t);
	dd_live_free(l);
}

static void test_open_errors(void **state)
{
	struct fx *f = *state;
	struct dd_live_options o = DD_LIVE_OPTIONS_INIT;
	struct dd_live *l = NULL;

	o.proc = f->proc;
	assert_int_equal(dd_live_open(&l, f->ctx, 999999, &o), DD_ENOTFOUND);
	assert_non_null(strstr(dd_ctx_error(f->ctx), "/999999/root: no such process"));
	assert_null(l);
	assert_int_equal(dd_live_open(&l, f->ctx, 0, &o), DD_EINVAL);
}

/* ---- naming a container by its ID ---- */

static void mkdirs(const char *base, const char *rel)
{
	char path[512], *p;

	mkdir(base, 0755);
	snprintf(path, sizeof(path), "%s/%s", base, rel);
	for (p = path + strlen(base) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	mkdir(path, 0755);
}

static void test_container_resolve(void **state)
{
	struct fx *f = *state;
	char host[256], path[512], *bundle = NULL;
	int pid = 0;

	snprintf(host, sizeof(host), "%s/host", f->dir);
	mkdirs(host, "run/containerd/io.containerd.runtime.v2.task/k8s.io/abcdef0123456789");
	snprintf(path, sizeof(path), "%s/run/containerd/io.containerd.runtime.v2.task/k8s.io/abcdef0123456789/init.pid", host);
	puts_(path, "4242");
	snprintf(path, sizeof(path), "%s/run/containerd/io.containerd.runtime.v2.task/k8s.io/abcdef0123456789/config.json", host);
	puts_(path, "{}");
	mkdirs(host, "run/docker/runtime-runc/moby/0123aaaa5555");
	snprintf(path, sizeof(path), "%s/run/docker/runtime-runc/moby/0123aaaa5555/state.json", host);
	puts_(path, "{\"id\":\"0123aaaa5555\",\"init_process_pid\":777}");
	mkdirs(host, "run/docker/runtime-runc/moby/0123bbbb6666");

	assert_int_equal(dd_container_resolve(f->ctx, "containerd://abcdef0123456789", host, &pid, &bundle), 0);
	assert_int_equal(pid, 4242);
	assert_non_null(bundle);
	assert_non_null(strstr(bundle, "/k8s.io/abcdef0123456789"));
	free(bundle);
	/* A unique prefix, as docker ps prints IDs. */
	assert_int_equal(dd_container_resolve(f->ctx, "abcdef", host, &pid, &bundle), 0);
	assert_int_equal(pid, 4242);
	free(bundle);
	/* runc's state.json; no bundle there. */
	assert_int_equal(dd_container_resolve(f->ctx, "docker://0123aaaa", host, &pid, &bundle), 0);
	assert_int_equal(pid, 777);
	assert_null(bundle);
	assert_int_equal(dd_container_resolve(f->ctx, "0123", host, &pid, NULL), DD_EAMBIGUOUS);
	assert_non_null(strstr(dd_ctx_error(f->ctx), "2 containers start with it"));
	/* Present but without its state file: an error naming the file. */
	assert_int_equal(dd_container_resolve(f->ctx, "0123bbbb", host, &pid, NULL), DD_ENOTFOUND);
	assert_non_null(strstr(dd_ctx_error(f->ctx), "0123bbbb6666/state.json"));
	assert_int_equal(dd_container_resolve(f->ctx, "ffff0000", host, &pid, NULL), DD_ENOTFOUND);
	assert_non_null(strstr(dd_ctx_error(f->ctx), "run/containerd/io.containerd.runtime.v2.task"));
	/* An ID is one path component, never a way out of one. */
	assert_int_equal(dd_container_resolve(f->ctx, "../../etc", host, &pid, NULL), DD_EINVAL);
	assert_int_equal(dd_container_resolve(f->ctx, "ab", host, &pid, NULL), DD_EINVAL);
	assert_int_equal(dd_container_resolve(f->ctx, ".hidden", host, &pid, NULL), DD_EINVAL);
}

static void test_ignore_path(void **state)
{
	struct fx *f = *state;
	struct dd_ignore *ign = NULL;

	assert_int_equal(dd_ignore_new(&ign, f->ctx), 0);
	/* A mount point whose name has glob characters is matched as bytes. */
	assert_int_equal(dd_ignore_add_path(ign, "/data/[v]*", 10, true, "mount: ext4"), 0);
	assert_int_equal(dd_ignore_add_path(ign, "/etc/hosts", 10, false, "mount: bind"), 0);
	assert_string_equal(dd_ignore_match(ign, "/data/[v]*", 10, true), "mount: ext4");
	assert_string_equal(dd_ignore_match(ign, "/data/[v]*/x", 12, false), "mount: ext4");
	assert_null(dd_ignore_match(ign, "/data/v", 7, true));
	assert_null(dd_ignore_match(ign, "/data/vx", 8, true));
	assert_string_equal(dd_ignore_match(ign, "/etc/hosts", 10, false), "mount: bind");
	assert_int_equal(dd_ignore_add_path(ign, "/", 1, true, "root"), DD_EINVAL);
	dd_ignore_free(ign);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_stat),
		cmocka_unit_test(test_parse_net),
		cmocka_unit_test(test_parse_mountinfo),
		cmocka_unit_test(test_map_exe),
		cmocka_unit_test_setup_teardown(test_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_findings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_container_resolve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ignore_path, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
