/*
 * OCI and docker JSON documents: the input is
 *  - parsed by dd__json_parse() (strict: RFC 8259 tokens only, one value,
 *    nesting at most 64, finite numbers);
 *  - the index.json of an OCI layout whose blobs come from the fixtures
 *    (docker-25 and oci-whiteouts), so a seed that names them walks on into
 *    the manifest, config and layers;
 *  - the manifest.json of an unpacked docker save (docker-25);
 *  - the config blob of a layout whose manifest names it by its real
 *    digest (no layers), so dd__image_load_config() sees it.
 * Invariants: no crash, leak or sanitizer report; a parse that succeeds
 * consumed a document json-c itself accepts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "lib/json.h"
#include "fuzz_common.h"

#ifndef DD_FUZZ_FIXTURES
#error "DD_FUZZ_FIXTURES must name the fixtures directory"
#endif

static char *oci_dir, *docker_dir, *config_dir;

static void cleanup(void)
{
	fz_rmtree(oci_dir, true);
	fz_rmtree(docker_dir, true);
	fz_rmtree(config_dir, true);
	free(oci_dir);
	free(docker_dir);
	free(config_dir);
}

static void run(const char *cmd)
{
	if (system(cmd) != 0)
		fz_die(cmd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *cmd;

	(void)argc;
	(void)argv;
	oci_dir = fz_mkdtemp("json-oci");
	docker_dir = fz_mkdtemp("json-docker");
	config_dir = fz_mkdtemp("json-config");
	atexit(cleanup);
	if (asprintf(&cmd, "tar -xf '%s/docker-25.tar' -C '%s' && tar -xf '%s/docker-25.tar' -C '%s' && "
		     "cp '%s'/oci-whiteouts/blobs/sha256/* '%s/blobs/sha256/' && "
		     "rm -f '%s/manifest.json' '%s/index.json'",
		     DD_FUZZ_FIXTURES, oci_dir, DD_FUZZ_FIXTURES, docker_dir,
		     DD_FUZZ_FIXTURES, oci_dir, oci_dir, docker_dir) < 0)
		fz_die("asprintf");
	run(cmd);
	free(cmd);
	return 0;
}

static void open_image(struct dd_ctx *ctx, const char *dir)
{
	struct dd_image *img = NULL;
	const struct dd_tree *t;

	if (dd_image_open(&img, ctx, dir, NULL) == 0)
		dd_image_tree(&t, img);
	dd_image_free(img);
	dd_ctx_clear_error(ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dd_ctx *ctx = NULL;
	struct json_object *obj = NULL, *again;
	struct fz_blob config = { data, size };

	if (dd_ctx_new(&ctx))
		fz_die("dd_ctx_new");
	if (dd__json_parse(ctx, "fuzz", (const char *)data, size, &obj) == 0) {
		/*
		 * What strict parsing accepts, json-c's serialisation must
		 * round-trip, read back as deep as the strict parser allows
		 * (json_tokener_parse() stops at json-c's default of 32).
		 */
		const char *text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
		struct json_tokener *tok;
		struct dd_limits limits;

		dd_ctx_get_limits(ctx, &limits);
		tok = json_tokener_new_ex((int)limits.max_json_depth);

		if (!tok)
			fz_die("json_tokener_new_ex");
		again = json_tokener_parse_ex(tok, text, (int)strlen(text));
		if (!again || json_tokener_get_error(tok) != json_tokener_success)
			abort();
		json_tokener_free(tok);
		json_object_put(again);
		json_object_put(obj);
	} else if (dd_ctx_error_code(ctx) == 0 || !*dd_ctx_error(ctx)) {
		abort(); /* a refusal always says why */
	}
	dd_ctx_clear_error(ctx);

	fz_write(oci_dir, "index.json", data, size);
	open_image(ctx, oci_dir);
	fz_write(docker_dir, "manifest.json", data, size);
	open_image(ctx, docker_dir);
	fz_layout_write(config_dir, NULL, 0, "application/vnd.oci.image.layer.v1.tar", &config);
	open_image(ctx, config_dir);
	dd_ctx_free(ctx);
	return 0;
}
