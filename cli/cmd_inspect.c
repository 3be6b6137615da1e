/* driftdiff inspect: what an image is made of and whether it verified. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"
#include "image_opts.h"

static const char help[] =
	"Show what IMAGE holds: its format, the selected manifest and config\n"
	"digests, each layer's media type, digest, diff_id, sizes and compression,\n"
	"whether every digest verified, the config (user, entrypoint, command,\n"
	"environment, ports, labels) and the history.\n"
	"\n"
	"  -r, --ref NAME        the image to use when IMAGE holds several\n"
	"  -p, --platform P      OS/ARCH[/VARIANT] of a multi-platform image (default: host)\n"
	"  -f, --format FORMAT   text (default) or json\n"
	"      --no-verify       do not read the layers (faster; nothing is verified)\n"
	CLI_LIMIT_HELP
	"  -h, --help            show this help\n";

static const char *verify_name(enum dd_verify v, int read)
{
	if (!read)
		return "not verified";
	switch (v) {
	case DD_VERIFY_OK: return "verified";
	case DD_VERIFY_PARTIAL: return "verified (diff_id only)";
	default: return "not verified";
	}
}

static struct json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* Join a JSON array of strings with spaces, for a one-line summary. */
static void print_strings(const char *label, struct json_object *arr)
{
	size_t i, n;

	if (!arr || !json_object_is_type(arr, json_type_array))
		return;
	n = json_object_array_length(arr);
	printf("  %-11s", label);
	for (i = 0; i < n; i++)
		printf(" %s", json_object_get_string(json_object_array_get_idx(arr, i)));
	printf("\n");
}

static void print_text(struct dd_image *img, const struct dd_tree *tree, int read)
{
	struct json_object *cfg = NULL, *c = NULL, *v;
	const char *cj = dd_image_config_json(img);
	size_t i, n, counts[8] = { 0 };
	unsigned long long bytes = 0;

	printf("image:      %s (%s)\n", dd_image_path(img), dd_image_format_name(dd_image_format(img)));
	printf("ref:        %s\n", dd_image_ref(img) ? dd_image_ref(img) : "-");
	printf("platform:   %s\n", dd_image_platform(img) ? dd_image_platform(img) : "-");
	printf("manifest:   %s\n", dd_image_manifest_digest(img) ? dd_image_manifest_digest(img) : "-");
	printf("config:     %s\n", dd_image_config_digest(img) ? dd_image_config_digest(img) : "-");
	n = dd_image_layer_count(img);
	printf("layers:     %zu\n", n);
	for (i = 0; i < n; i++) {
		const struct dd_layer_info *l = dd_image_layer(img, i);

		printf("  [%zu] %s\n", i, l->digest ? l->digest : l->location);
		printf("      media type:  %s\n", l->media_type ? l->media_type : "-");
		printf("      diff_id:     %s\n", l->diff_id ? l->diff_id : "-");
		printf("      size:        %lld bytes stored", (long long)l->size);
		if (read)
			printf(", %llu uncompressed, %s", (unsigned long long)l->uncompressed_size,
			       dd_compression_name(l->compression));
		printf("\n      status:      %s\n", verify_name(l->verified, read));
		if (l->created_by)
			printf("      created by:  %s\n", l->created_by);
	}
	if (cj)
		cfg = json_tokener_parse(cj);
	if (cfg && json_object_object_get_ex(cfg, "config", &c) && json_object_is_type(c, json_type_object)) {
		printf("runtime config:\n");
		if (json_object_object_get_ex(c, "User", &v))
			printf("  %-11s %s\n", "user", json_object_get_string(v));
		if (json_object_object_get_ex(c, "WorkingDir", &v))
			printf("  %-11s %s\n", "workdir", json_object_get_string(v));
		if (json_object_object_get_ex(c, "Entrypoint", &v))
			print_strings("entrypoint", v);
		if (json_object_object_get_ex(c, "Cmd", &v))
			print_strings("cmd", v);
		if (json_object_object_get_ex(c, "Env", &v) && json_object_is_type(v, json_type_array))
			for (i = 0; i < json_object_array_length(v); i++)
				printf("  %-11s %s\n", i ? "" : "env",
				       json_object_get_string(json_object_array_get_idx(v, i)));
		if (json_object_object_get_ex(c, "ExposedPorts", &v) && json_object_is_type(v, json_type_object)) {
			printf("  %-11s", "ports");
			json_object_object_foreach(v, port, unused) {
				(void)unused;
				printf(" %s", port);
			}
			printf("\n");
		}
		if (json_object_object_get_ex(c, "Labels", &v) && json_object_is_type(v, json_type_object)) {
			json_object_object_foreach(v, key, val)
				printf("  %-11s %s=%s\n", "label", key, json_object_get_string(val));
		}
	}
	json_object_put(cfg);
	n = dd_image_history_count(img);
	if (n)
		printf("history:\n");
	for (i = 0; i < n; i++) {
		const struct dd_history_info *h = dd_image_history(img, i);

		printf("  %s %s%s\n", h->created ? h->created : "-",
		       h->created_by ? h->created_by : "-", h->empty_layer ? "  (no layer)" : "");
	}
	if (tree) {
		for (i = 0; i < dd_tree_count(tree); i++) {
			const struct dd_entry *e = dd_tree_entry(tree, i);

			counts[e->type < 8 ? e->type : 0]++;
			bytes += e->size;
		}
		printf("filesystem: %zu entries: %zu files (%llu bytes), %zu directories, %zu symlinks, %zu other\n",
		       dd_tree_count(tree), counts[DD_TYPE_FILE], bytes, counts[DD_TYPE_DIR],
		       counts[DD_TYPE_SYMLINK],
		       dd_tree_count(tree) - counts[DD_TYPE_FILE] - counts[DD_TYPE_DIR] - counts[DD_TYPE_SYMLINK]);
	}
	n = dd_image_warning_count(img);
	if (n)
		printf("warnings:\n");
	for (i = 0; i < n; i++)
		printf("  %s\n", dd_image_warning(img, i));
}

static int print_json(struct dd_image *img, const struct dd_tree *tree, int read)
{
	struct json_object *o = json_object_new_object(), *arr, *cfg;
	const char *cj = dd_image_config_json(img), *s;
	size_t i, n;
	int rc;

	json_object_object_add(o, "path", jstr(dd_image_path(img)));
	json_object_object_add(o, "format", jstr(dd_image_format_name(dd_image_format(img))));
	json_object_object_add(o, "ref", jstr(dd_image_ref(img)));
	json_object_object_add(o, "platform", jstr(dd_image_platform(img)));
	json_object_object_add(o, "manifest_digest", jstr(dd_image_manifest_digest(img)));
	json_object_object_add(o, "config_digest", jstr(dd_image_config_digest(img)));
	json_object_object_add(o, "verified", json_object_new_boolean(read));
	arr = json_object_new_array();
	json_object_object_add(o, "layers", arr);
	n = dd_image_layer_count(img);
	for (i = 0; i < n; i++) {
		const struct dd_layer_info *l = dd_image_layer(img, i);
		struct json_object *lo = json_object_new_object();

		json_object_object_add(lo, "media_type", jstr(l->media_type));
		json_object_object_add(lo, "digest", jstr(l->digest));
		json_object_object_add(lo, "diff_id", jstr(l->diff_id));
		json_object_object_add(lo, "size", json_object_new_int64(l->size));
		json_object_object_add(lo, "location", jstr(l->location));
		if (read) {
			json_object_object_add(lo, "compression", jstr(dd_compression_name(l->compression)));
			json_object_object_add(lo, "uncompressed_size",
					       json_object_new_uint64(l->uncompressed_size));
		}
		json_object_object_add(lo, "status", jstr(verify_name(l->verified, read)));
		json_object_object_add(lo, "created_by", jstr(l->created_by));
		json_object_array_add(arr, lo);
	}
	cfg = cj ? json_tokener_parse(cj) : NULL;
	json_object_object_add(o, "config", cfg);
	if (tree)
		json_object_object_add(o, "entries", json_object_new_uint64(dd_tree_count(tree)));
	arr = json_object_new_array();
	json_object_object_add(o, "warnings", arr);
	for (i = 0; i < dd_image_warning_count(img); i++)
		json_object_array_add(arr, jstr(dd_image_warning(img, i)));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	rc = s && printf("%s\n", s) >= 0 ? EXIT_OK : EXIT_ERROR;
	json_object_put(o);
	return rc;
}

int cmd_inspect(int argc, char **argv)
{
	static const struct option opts[] = {
		IMAGE_LONG_OPTIONS,
		{ "format", required_argument, NULL, 'f' },
		{ "no-verify", no_argument, NULL, 'N' },
		{ "limit", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dd_limits limits = DD_LIMITS_INIT;
	const char *ref = NULL, *platform = NULL, *format = "text";
	struct dd_ctx *ctx = NULL;
	struct dd_image *img = NULL;
	const struct dd_tree *tree = NULL;
	int c, rc, verify = 1;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":r:p:f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r': ref = optarg; break;
		case 'p': platform = optarg; break;
		case 'f': format = optarg; break;
		case 'N': verify = 0; break;
		case 'L':
			if (cli_limit_option(&limits, "inspect", optarg))
				return EXIT_ERROR;
			break;
		case 'h':
			cli_print_usage(cli_find("inspect"), stdout);
			printf("\n%s", help);
			return EXIT_OK;
		case ':':
			return cli_usage_error("inspect", "option '%s' needs a value", argv[optind - 1]);
		default:
			return cli_usage_error("inspect", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cli_usage_error("inspect", optind == argc ? "no IMAGE given"
							       : "more than one IMAGE given");
	if (strcmp(format, "text") && strcmp(format, "json"))
		return cli_usage_error("inspect", "unknown format '%s' (text, json)", format);
	if (dd_ctx_new(&ctx)) {
		fprintf(stderr, "driftdiff: out of memory\n");
		return EXIT_ERROR;
	}
	if (cli_apply_limits(ctx, &limits)) {
		dd_ctx_free(ctx);
		return EXIT_ERROR;
	}
	rc = cli_open_image(ctx, &img, argv[optind], ref, platform);
	if (rc)
		goto out;
	if (verify && dd_image_tree(&tree, img)) {
		rc = cli_fail(ctx);
		goto out;
	}
	if (!strcmp(format, "json"))
		rc = print_json(img, tree, verify);
	else
		print_text(img, tree, verify);
	if (fflush(stdout) != 0)
		rc = EXIT_ERROR;
out:
	dd_image_free(img);
	dd_ctx_free(ctx);
	return rc;
}
