/* driftdiff report: diff a container against its image and report the drift. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "cli.h"
#include "image_opts.h"
#include "live_opts.h"
#include "progress.h"

static const char help[] =
	"Compare TARGET with the image it was started from and report the drift:\n"
	"what was added, modified (and exactly which attributes), deleted, changed\n"
	"type or could not be read, plus findings such as new executables, setuid\n"
	"bits, file capabilities and content changed with size and mtime kept.\n"
	"\n"
	"TARGET is a root filesystem directory (/proc/PID/root, an overlay merged\n"
	"dir, an unpacked rootfs), a docker export tar (plain or compressed with\n"
	"gzip, zstd, xz or bzip2), a second image or a saved manifest (image\n"
	"against image); or use --upper, or name a running container with --pid or\n"
	"--container-id: its root filesystem is walked through /proc/PID/root and\n"
	"its processes, sockets and environment are compared with the image too.\n"
	"\n"
	"  -r, --ref NAME            the image to use when IMAGE holds several\n"
	"  -p, --platform P          OS/ARCH[/VARIANT] of a multi-platform image\n"
	"      --target-ref NAME     the image to use when TARGET holds several\n"
	"  -u, --upper DIR           TARGET is an overlayfs upper dir (only the changes)\n"
	"  -t, --target-type TYPE    auto (default), rootfs, upper, tar or image\n"
	"  -f, --format FORMAT       text (default), json, sarif or markdown\n"
	"  -o, --output FILE         write the report to FILE (default standard output)\n"
	"      --fail-on SEVERITY    exit 1 only for drift at or above SEVERITY: any\n"
	"                            (default), info, low, medium, high, critical, never\n"
	"  -i, --ignore FILE         gitignore-style patterns of expected changes (repeatable)\n"
	"      --no-default-ignores  also report what every container runtime writes\n"
	"  -a, --all                 also report directories whose only change is mtime\n"
	"      --cross-mounts        walk into filesystems mounted inside the rootfs\n"
	"      --color WHEN          auto (default), always or never; NO_COLOR is honoured\n"
	"      --sarif-category ID   SARIF automationDetails.id (default driftdiff/TARGET)\n"
	"      --config FILE         the container's runtime config (docker inspect JSON or\n"
	"                            OCI config.json): configuration drift and risky settings\n"
	"      --policy FILE         rule severities, disabled rules and allowances (JSON)\n"
	"      --evidence DIR        copy added or modified executables and the JSON report\n"
	"                            into DIR (named by hash, never executed)\n"
	"      --no-cache            neither read nor store the image's tree in the manifest\n"
	"                            cache ($XDG_CACHE_HOME/driftdiff)\n"
	"  -j, --jobs N              threads to use (default: the number of CPUs)\n"
	CLI_PROGRESS_HELP
	CLI_LIVE_HELP
	CLI_LIMIT_HELP
	"  -h, --help                show this help\n"
	"\n"
	"Exit status: 0 no drift at or above --fail-on, 1 drift, 2 error.\n";

enum { OPT_TARGET_REF = 256, OPT_FAIL_ON, OPT_NO_DEFAULTS, OPT_CROSS, OPT_COLOR, OPT_CATEGORY,
       OPT_CONFIG, OPT_POLICY, OPT_EVIDENCE, OPT_NO_CACHE, OPT_JOBS, OPT_LIMIT };

struct report_args {
	const char *ref, *platform, *target_ref, *upper, *type, *format, *output;
	const char *fail_on, *color, *category, *config, *policy, *evidence;
	const char *ignores[64];
	size_t nignores;
	bool no_defaults, all, cross_mounts, no_cache, quiet, verbose;
	int progress;                /* -1 --no-progress, 1 --progress, 0 on a terminal */
	long jobs;
	struct dd_limits limits;
	struct cli_live live;
};

/* "file:///abs/path/" for SARIF's originalUriBaseIds. */
static char *file_uri(const char *path)
{
	char *real = realpath(path, NULL), *out;
	size_t i, n, k = 0;

	if (!real)
		return NULL;
	n = strlen(real);
	out = malloc(n * 3 + 16);
	if (out) {
		k = (size_t)sprintf(out, "file://");
		for (i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)real[i];

			if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
			    strchr("-._~/", ch))
				out[k++] = (char)ch;
			else
				k += (size_t)sprintf(out + k, "%%%02X", ch);
		}
		if (k == 0 || out[k - 1] != '/')
			out[k++] = '/';
		out[k] = '\0';
	}
	free(real);
	return out;
}

static int parse(struct report_args *a, int argc, char **argv)
{
	static const struct option opts[] = {
		IMAGE_LONG_OPTIONS,
		LIVE_LONG_OPTIONS,
		{ "target-ref", required_argument, NULL, OPT_TARGET_REF },
		{ "upper", required_argument, NULL, 'u' },
		{ "target-type", required_argument, NULL, 't' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "fail-on", required_argument, NULL, OPT_FAIL_ON },
		{ "ignore", required_argument, NULL, 'i' },
		{ "no-default-ignores", no_argument, NULL, OPT_NO_DEFAULTS },
		{ "all", no_argument, NULL, 'a' },
		{ "cross-mounts", no_argument, NULL, OPT_CROSS },
		{ "color", required_argument, NULL, OPT_COLOR },
		{ "colour", required_argument, NULL, OPT_COLOR },
		{ "sarif-category", required_argument, NULL, OPT_CATEGORY },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "evidence", required_argument, NULL, OPT_EVIDENCE },
		{ "no-cache", no_argument, NULL, OPT_NO_CACHE },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "jobs", required_argument, NULL, 'j' },
		PROGRESS_LONG_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":r:p:u:t:f:o:i:aj:qvh", opts, NULL)) != -1) {
		int taken = cli_live_option(&a->live, "report", c, optarg);

		if (taken == 1)
			continue;
		if (taken)
			return taken;
		switch (c) {
		case 'r': a->ref = optarg; break;
		case 'p': a->platform = optarg; break;
		case OPT_TARGET_REF: a->target_ref = optarg; break;
		case 'u': a->upper = optarg; break;
		case 't': a->type = optarg; break;
		case 'f': a->format = optarg; break;
		case 'o': a->output = optarg; break;
		case OPT_FAIL_ON: a->fail_on = optarg; break;
		case 'i':
			if (a->nignores == sizeof(a->ignores) / sizeof(a->ignores[0]) - 1)
				return cli_usage_error("report", "too many --ignore files");
			a->ignores[a->nignores++] = optarg;
			break;
		case OPT_NO_DEFAULTS: a->no_defaults = true; break;
		case 'a': a->all = true; break;
		case OPT_CROSS: a->cross_mounts = true; break;
		case OPT_COLOR: a->color = optarg; break;
		case OPT_CATEGORY: a->category = optarg; break;
		case OPT_CONFIG: a->config = optarg; break;
		case OPT_POLICY: a->policy = optarg; break;
		case OPT_EVIDENCE: a->evidence = optarg; break;
		case OPT_NO_CACHE: a->no_cache = true; break;
		case OPT_LIMIT:
			if (cli_limit_option(&a->limits, "report", optarg))
				return EXIT_ERROR;
			break;
		case 'P': a->progress = 1; break;
		case 'N': a->progress = -1; break;
		case 'q': a->quiet = true; break;
		case 'v': a->verbose = true; break;
		case 'j': {
			char *end;

			a->jobs = strtol(optarg, &end, 10);
			if (*end || a->jobs < 1 || a->jobs > 256)
				return cli_usage_error("report", "--jobs takes a number from 1 to 256");
			break;
		}
		case 'h':
			cli_print_usage(cli_find("report"), stdout);
			printf("\n%s", help);
			return -1;
		case ':':
			return cli_usage_error("report", "option '%s' needs a value", argv[optind - 1]);
		default:
			return cli_usage_error("report", "unknown option '%s'", argv[optind - 1]);
		}
	}
	return 0;
}

/* --evidence DIR: the executables, and the whole JSON report beside them. */
static int collect_evidence(struct dd_ctx *ctx, const struct report_args *a, const char *type,
			    const char *target, struct dd_image *img, const struct dd_live *live,
			    const struct dd_diff *diff,
			    const struct dd_findings *findings, const struct dd_report_options *ro)
{
	enum dd_target_kind kind = !strcmp(type, "rootfs") || !strcmp(type, "live") ? DD_TARGET_ROOTFS :
				   !strcmp(type, "upper") ? DD_TARGET_UPPER :
				   !strcmp(type, "tar") ? DD_TARGET_TAR : DD_TARGET_IMAGE;
	struct dd_report_options jo = *ro;
	struct cli_output out;
	char *path = NULL;
	size_t n = 0;
	int ok;

	if (dd_evidence_collect(ctx, diff, kind, target, a->evidence, &n))
		return cli_fail(ctx);
	if (live) {
		const struct dd_tree *itree = NULL;
		size_t np = 0;

		if (dd_image_tree(&itree, img) || dd_evidence_collect_live(ctx, live, itree, a->evidence, &np))
			return cli_fail(ctx);
		n += np;
	}
	if (asprintf(&path, "%s/report.json", a->evidence) < 0)
		return EXIT_ERROR;
	jo.color = false;
	if (cli_output_open(&out, path)) {
		free(path);
		return EXIT_ERROR;
	}
	ok = dd_report_write(ctx, DD_REPORT_JSON, img, diff, findings, &jo, out.f) == 0;
	if (!ok)
		cli_fail(ctx);
	free(path);
	if (cli_output_close(&out, ok) || !ok)
		return EXIT_ERROR;
	if (!a->quiet)
		fprintf(stderr, "driftdiff: evidence: %zu file%s and report.json in %s%s\n", n, n == 1 ? "" : "s",
			a->evidence, kind == DD_TARGET_IMAGE ? " (an image target has no files to copy)" : "");
	return EXIT_OK;
}

/*
 * A running container's mount points are not its image's files: each one
 * the walk left out is ignored, with the mount as the reason.
 */
static int ignore_mounts(struct dd_ignore *ign, const struct dd_live *live)
{
	size_t i;

	for (i = 0; i < dd_live_mount_count(live); i++) {
		const struct dd_live_mount *m = dd_live_mount(live, i);
		char why[512];

		if (m->walked)
			continue;
		snprintf(why, sizeof(why), "mount: %s %s%s", m->fstype, m->source,
			 m->pseudo ? " (the runtime's)" : " (a volume or bind mount: not walked without --include-mounts)");
		if (dd_ignore_add_path(ign, m->path, m->path_len, true, why))
			return -1;
	}
	return 0;
}

/* The target is read on its own thread, with its own context, while the image's layers stream. */
struct target_job {
	struct dd_ctx *ctx;
	const char *type, *target;
	const struct dd_target_options *to;
	struct dd_image *img2;       /* type "image" */
	const struct dd_live *live;  /* type "live" */
	const struct dd_tree *tree;
	struct dd_tree *owned;
	int rc;
	double seconds;
	bool yield;                  /* walk at a lower priority (see cmd_report()) */
};

/*
 * A runtime bundle given where its root filesystem was meant (umoci unpack
 * and runc write config.json beside rootfs/): everything would be drift.
 */
static bool looks_like_bundle(const struct dd_tree *image, const struct dd_tree *target)
{
	const struct dd_entry *cfg = dd_tree_find(target, "/config.json", 12);
	const struct dd_entry *root = dd_tree_find(target, "/rootfs", 7);

	return cfg && cfg->type == DD_TYPE_FILE && root && root->type == DD_TYPE_DIR &&
	       !dd_tree_find(image, "/rootfs", 7) && !dd_tree_find(image, "/config.json", 12);
}

static double now_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/*
 * Run the calling thread, and the threads it starts, at nice 10. Linux
 * keeps a nice value per thread and new threads inherit it; elsewhere it
 * would be the whole process's, so nothing is done.
 */
static void yield_cpu(void)
{
#ifdef __linux__
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), 10);
#endif
}

static void *read_target(void *arg)
{
	struct target_job *j = arg;
	double t0 = now_seconds();

	if (j->yield)
		yield_cpu();

	if (!strcmp(j->type, "image"))
		j->rc = dd_image_tree(&j->tree, j->img2);
	else if (!strcmp(j->type, "live"))
		j->rc = dd_live_read_root(&j->owned, j->ctx, j->live, j->to);
	else if (!strcmp(j->type, "rootfs"))
		j->rc = dd_target_read_dir(&j->owned, j->ctx, j->target, j->to);
	else if (!strcmp(j->type, "upper"))
		j->rc = dd_target_read_upper(&j->owned, j->ctx, j->target, j->to);
	else
		j->rc = dd_target_read_tar(&j->owned, j->ctx, j->target, j->to);
	if (j->owned)
		j->tree = j->owned;
	j->seconds = now_seconds() - t0;
	return NULL;
}

int cmd_report(int argc, char **argv)
{
	struct report_args a = { .limits = DD_LIMITS_INIT };
	struct dd_report_options ro = DD_REPORT_OPTIONS_INIT;
	struct dd_target_options to = DD_TARGET_OPTIONS_INIT;
	struct dd_diff_options dopts = DD_DIFF_OPTIONS_INIT;
	struct dd_classify_options copts = DD_CLASSIFY_OPTIONS_INIT;
	struct dd_ctx *ctx = NULL, *tctx = NULL;
	struct target_job job = { 0 };
	struct cli_progress prog;
	double t0, t1, image_seconds;
	pthread_t thread;
	bool threaded, upper_cached;
	char *cache = NULL;
	int irc;
	struct dd_image *img = NULL, *img2 = NULL;
	struct dd_tree *owned = NULL;
	const struct dd_tree *itree, *ttree = NULL;
	struct dd_ignore *ign = NULL;
	struct dd_diff *diff = NULL;
	struct dd_findings *findings = NULL;
	struct dd_policy *policy = NULL;
	struct dd_live *live = NULL;
	char *live_config = NULL, live_name[160], category[160];
	enum dd_report_format fmt;
	const char *image_path, *target, *type;
	char *uri = NULL;
	struct cli_output out;
	struct stat st;
	int rc, threshold, ok;
	size_t i;

	rc = parse(&a, argc, argv);
	if (rc)
		return rc < 0 ? EXIT_OK : rc;
	if (cli_live_wanted(&a.live)) {
		if ((rc = cli_live_conflict(&a.live, "report")))
			return rc;
		if (a.upper || a.type)
			return cli_usage_error("report", "a running container (--pid, --container-id) is the target: no --upper or --target-type");
		if (optind != argc - 1)
			return cli_usage_error("report", "expected IMAGE only (the target is the running container)");
	} else if (a.upper ? optind != argc - 1 : optind != argc - 2) {
		return cli_usage_error("report", a.upper ? "expected IMAGE (the target is --upper DIR)"
							 : "expected IMAGE and TARGET");
	}
	image_path = argv[optind];
	target = cli_live_wanted(&a.live) ? cli_live_name(&a.live, live_name, sizeof(live_name))
	       : a.upper ? a.upper : argv[optind + 1];
	type = cli_live_wanted(&a.live) ? "live" : a.upper ? "upper" : a.type ? a.type : "auto";
	if (strcmp(type, "auto") && strcmp(type, "rootfs") && strcmp(type, "upper") && strcmp(type, "live") &&
	    strcmp(type, "tar") && strcmp(type, "image"))
		return cli_usage_error("report", "unknown target type '%s' (auto, rootfs, upper, tar, image)", type);
	if ((rc = cli_report_choices("report", a.format, a.fail_on, &fmt, &threshold)))
		return rc;
	if (a.color && strcmp(a.color, "auto") && strcmp(a.color, "always") && strcmp(a.color, "never"))
		return cli_usage_error("report", "--color takes auto, always or never");
	if (dd_ctx_new(&ctx)) {
		fprintf(stderr, "driftdiff: out of memory\n");
		return EXIT_ERROR;
	}
	rc = EXIT_ERROR;
	if (cli_apply_limits(ctx, &a.limits))
		goto out;
	if (!a.no_cache)
		cache = dd_default_cache_dir();
	if (cli_open_image_cached(ctx, &img, image_path, a.ref, a.platform, cache))
		goto out;
	dd_image_set_jobs(img, (unsigned)a.jobs);
	/* The snapshot first, so the processes are seen as close as possible to the walk. */
	if (!strcmp(type, "live") && cli_live_open(ctx, &a.live, &live, &live_config))
		goto out;
	if (!strcmp(type, "auto")) {
		if (stat(target, &st) != 0) {
			fprintf(stderr, "driftdiff: %s: %s\n", target, strerror(errno));
			goto out;
		}
		type = dd_image_probe(ctx, target) ? "image" : S_ISDIR(st.st_mode) ? "rootfs" : "tar";
	}
	to.cross_mounts = a.cross_mounts;
	to.head_bytes = 4096;
	to.jobs = (unsigned)a.jobs;
	if (dd_ctx_new(&tctx) || cli_apply_limits(tctx, &a.limits)) {
		fprintf(stderr, "driftdiff: out of memory\n");
		goto out;
	}
	job.ctx = tctx;
	job.type = type;
	job.target = target;
	job.to = &to;
	if (!strcmp(type, "image") &&
	    cli_open_image_cached(tctx, &img2, target, a.target_ref, a.platform, cache))
		goto out;
	if (img2)
		dd_image_set_jobs(img2, (unsigned)a.jobs);
	job.img2 = img2;
	job.live = live;
	cli_progress_init(&prog, cli_progress_wanted(a.progress, a.quiet));
	cli_progress_attach(&prog, ctx);
	cli_progress_attach(&prog, tctx);
	cli_progress_image(&prog, img);
	t0 = now_seconds();
	/*
	 * The image is read beside the walk, whatever it is: layers, a saved
	 * manifest or a cached tree (reading it first, so that the walk could
	 * borrow its paths, kept the walk waiting for it: 2-4 % slower). The
	 * walk's executables' heads are read again when the diff names them;
	 * an upper dir's are few, and all new.
	 */
	itree = NULL;
	irc = 0;
	image_seconds = 0;
	/* A cached image, or a saved manifest, can give only the part the upper dir needs. */
	upper_cached = !strcmp(type, "upper") &&
		       (dd_image_cached(img) || dd_image_format(img) == DD_IMAGE_SAVED_MANIFEST);
	to.defer_heads = strcmp(type, "upper") != 0;
	/*
	 * Read from its layers, the image is the longer side (inflating, and
	 * hashing the blob, the tar and every file): it keeps the CPUs, and
	 * the walk's hashing takes what they leave, instead of both finishing
	 * late. Not at the lowest priority: a walk reading a rootfs that is
	 * not in the page cache must get the CPU as each read completes, or
	 * the disk idles. Cold report over /usr (8.9 GB), rootfs cached:
	 * 16.3-16.8 s as before, 15.8-17.1 at nice 10, 15.0-15.1 at nice 19;
	 * rootfs not cached: 25.8-27.1, 26.6-27.6 and 28.4-30.6 s.
	 */
	job.yield = (!strcmp(type, "rootfs") || !strcmp(type, "live")) && !dd_image_cached(img) &&
		    dd_image_format(img) != DD_IMAGE_SAVED_MANIFEST;
	/*
	 * The same case: the image fingerprints its files as they stream, and
	 * the walk fingerprints the container's (a GMAC under a secret key,
	 * several times cheaper than SHA-256); the files holding the image's
	 * bytes then take its digests, and only the others are hashed
	 * (dd_target_settle()). Cold report over /usr: 15.5 -> 14 s.
	 */
	if (job.yield)
		to.fingerprint_key = dd_image_fingerprint_key(img);
	/* Both sides at once: the image is bound by decompression, the target by reading. */
	threaded = a.jobs != 1 && pthread_create(&thread, NULL, read_target, &job) == 0;
	if (!threaded) {
		job.yield = false; /* the one thread would stay at the lower priority */
		read_target(&job);
	}
	/*
	 * An upper dir needs only its own part of a cached image, known once
	 * the dir is read: meanwhile the entry is read and checked.
	 */
	if (!upper_cached) {
		irc = dd_image_tree(&itree, img);
		image_seconds = now_seconds() - t0;
	}
	/* The image's files are what the walk is likely to find: an estimate for its ETA. */
	if (!irc && itree && threaded)
		cli_progress_walk_estimate(&prog, itree);
	if (threaded)
		pthread_join(thread, NULL);
	if (upper_cached && !job.rc) {
		irc = dd_image_tree_for_upper(&itree, img, job.tree);
		image_seconds = now_seconds() - t0;
	}
	cli_progress_end(&prog);
	dd_ctx_set_progress(ctx, NULL, NULL);
	dd_ctx_set_progress(tctx, NULL, NULL);
	pthread_mutex_destroy(&prog.mu);
	if (a.verbose && !irc && itree)
		fprintf(stderr, "driftdiff: image %s: %zu entries%s, %zu layers, in %.3f s\n", image_path,
			dd_tree_count(itree), upper_cached ? " (what the upper dir needs, from the cache)" : "",
			dd_image_layer_count(img), image_seconds);
	if (a.verbose && !job.rc)
		fprintf(stderr, "driftdiff: target %s (%s): %zu entries in %.3f s%s\n", target, type,
			dd_tree_count(job.tree), job.seconds, threaded ? ", read alongside the image" : "");
	owned = job.owned;
	ttree = job.tree;
	if (irc)
		goto fail;
	if (job.rc) {
		rc = cli_fail(tctx);
		goto out;
	}
	if (to.fingerprint_key) {
		double ts = now_seconds();

		if (dd_target_settle(owned, itree, (unsigned)a.jobs)) {
			rc = cli_fail(tctx);
			goto out;
		}
		if (a.verbose)
			fprintf(stderr, "driftdiff: target's digests settled against the image's in %.3f s\n",
				now_seconds() - ts);
	}
	if (!a.quiet && !strcmp(type, "rootfs") && looks_like_bundle(itree, ttree))
		fprintf(stderr, "driftdiff: note: %s looks like a runtime bundle (config.json beside rootfs/, "
				"neither in the image): its root filesystem is %s/rootfs\n", target, target);
	/*
	 * Read side by side, the two trees hold the same paths twice: the
	 * target's are dropped for the image's (which outlives it).
	 */
	if (owned && strcmp(type, "upper") && dd_tree_share_strings(owned, itree))
		goto fail;
	if (dd_ignore_new(&ign, ctx) || (!a.no_defaults && dd_ignore_add_defaults(ign)))
		goto fail;
	for (i = 0; i < a.nignores; i++)
		if (dd_ignore_load(ign, a.ignores[i]))
			goto fail;
	if (live && ignore_mounts(ign, live))
		goto fail;
	dopts.all = a.all;
	dopts.ignore = ign;
	copts.image_tree = itree;
	copts.target_tree = ttree;
	copts.target_is_upper = !strcmp(type, "upper");
	copts.jobs = (unsigned)a.jobs;
	copts.image = img;
	copts.runtime_config = a.config ? a.config : live_config;
	copts.live = live;
	copts.show_env_values = a.live.show_env_values;
	if (a.policy && dd_policy_load(&policy, ctx, a.policy))
		goto fail;
	copts.policy = policy;
	t1 = now_seconds();
	if ((!strcmp(type, "upper") ? dd_diff_upper(&diff, ctx, itree, ttree, &dopts)
				    : dd_diff_trees(&diff, ctx, itree, ttree, &dopts)) ||
	    dd_classify(&findings, ctx, diff, &copts))
		goto fail;
	if (a.verbose)
		fprintf(stderr, "driftdiff: compared and classified in %.3f s\n", now_seconds() - t1);
	ro.target = target;
	ro.target_kind = type;
	if (live) {
		if (asprintf(&uri, "file://%s/", dd_live_root_path(live)) < 0)
			uri = NULL;
		ro.target_uri = uri;
	} else if (strcmp(type, "tar") && strcmp(type, "image")) {
		ro.target_uri = uri = file_uri(target);
	}
	ro.live = live;
	ro.show_env_values = a.live.show_env_values;
	ro.fail_on = (enum dd_severity)threshold;
	ro.default_ignores = !a.no_defaults;
	ro.ignore_files = a.ignores;
	ro.all = a.all;
	ro.category = a.category;
	/* A PID changes with every restart: a live target's category must not. */
	if (live && !a.category)
		ro.category = a.live.container_id ? cli_live_category(&a.live, category, sizeof(category)) : "driftdiff/live";
	ro.target_tree = owned;
	ro.color = a.color && !strcmp(a.color, "always");
	if ((!a.color || !strcmp(a.color, "auto")) && fmt == DD_REPORT_TEXT &&
	    (!a.output || !strcmp(a.output, "-")) && isatty(STDOUT_FILENO) &&
	    !(getenv("NO_COLOR") && *getenv("NO_COLOR")))
		ro.color = true;
	if (cli_output_open(&out, a.output))
		goto out;
	t1 = now_seconds();
	ok = dd_report_write(ctx, fmt, img, diff, findings, &ro, out.f) == 0;
	if (!ok)
		cli_fail(ctx);
	if (cli_output_close(&out, ok) || !ok)
		goto out;
	if (a.verbose)
		fprintf(stderr, "driftdiff: report written in %.3f s\n", now_seconds() - t1);
	if (a.evidence && collect_evidence(ctx, &a, type, live ? dd_live_root_path(live) : target, img, live, diff,
					   findings, &ro))
		goto out;
	rc = dd_report_has_drift(diff, findings, (enum dd_severity)threshold) ? EXIT_DRIFT : EXIT_OK;
	if (a.verbose)
		fprintf(stderr, "driftdiff: %zu changes, %zu findings, exit %d, %.3f s in all\n", dd_diff_count(diff),
			dd_findings_count(findings), rc, now_seconds() - t0);
	goto out;
fail:
	rc = cli_fail(ctx);
out:
	free(uri);
	free(live_config);
	dd_findings_free(findings);
	dd_policy_free(policy);
	dd_diff_free(diff);
	dd_ignore_free(ign);
	dd_tree_free(owned);
	dd_image_free(img2);
	dd_image_free(img);
	dd_live_free(live);
	dd_ctx_free(tctx);
	dd_ctx_free(ctx);
	free(cache);
	return rc;
}
