/*
 * Index graph walking (oci.c): the input is several documents separated by
 * a line "--" ("\n--\n"). Part 0 is index.json; parts 1..9 are blobs,
 * stored under their real SHA-256. A part may name a later part N with
 * "@DN" (replaced by "sha256:<hex>" of that part's final bytes) and
 * "@SN" (its size), so the fuzzer can build nested indexes, manifests,
 * configs and layers whose digests verify, and then break them one field
 * at a time. References to an earlier part (or itself) stay as written:
 * content addressing cannot express a loop, so those test the refusal of
 * malformed digests instead.
 * Invariants: no crash, leak, hang or sanitizer report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/private.h"
#include "fuzz_common.h"

#define MAX_PARTS 10
static const char sep[] = "\n--\n";

static char *layout;

static void cleanup(void)
{
	fz_rmtree(layout, true);
	free(layout);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	layout = fz_mkdtemp("index");
	atexit(cleanup);
	return 0;
}

struct part {
	const char *raw;
	size_t rawlen;
	struct dd__buf out;     /* with references resolved */
	char hex[65];
};

static void resolve(struct part *parts, size_t n, size_t i)
{
	struct part *p = &parts[i];
	size_t k = 0;

	p->out.len = 0;
	if (dd__buf_grow(&p->out, p->rawlen))
		abort();
	while (k < p->rawlen) {
		const char *c = p->raw + k;

		if (p->rawlen - k >= 3 && c[0] == '@' && (c[1] == 'D' || c[1] == 'S') &&
		    c[2] >= '1' && c[2] <= '9' && (size_t)(c[2] - '0') > i &&
		    (size_t)(c[2] - '0') < n) {
			const struct part *t = &parts[c[2] - '0'];

			if (c[1] == 'D' ? dd__buf_printf(&p->out, "sha256:%s", t->hex)
					: dd__buf_printf(&p->out, "%zu", t->out.len))
				abort();
			k += 3;
			continue;
		}
		if (dd__buf_put(&p->out, c, 1))
			abort();
		k++;
	}
	fz_sha256_hex(p->hex, p->out.data ? p->out.data : "", p->out.len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct part parts[MAX_PARTS];
	const char *s = (const char *)data, *end = s + size, *hit;
	struct dd_ctx *ctx = NULL;
	struct dd_image *img = NULL;
	const struct dd_tree *t;
	char name[96], blobs[4096];
	size_t n = 0, i;

	memset(parts, 0, sizeof(parts));
	while (n < MAX_PARTS) {
		hit = n + 1 < MAX_PARTS ? memmem(s, (size_t)(end - s), sep, sizeof(sep) - 1) : NULL;
		parts[n].raw = s;
		parts[n].rawlen = hit ? (size_t)(hit - s) : (size_t)(end - s);
		n++;
		if (!hit)
			break;
		s = hit + sizeof(sep) - 1;
	}
	for (i = n; i-- > 0;)
		resolve(parts, n, i);

	snprintf(blobs, sizeof(blobs), "%s/blobs", layout);
	fz_rmtree(blobs, false);
	fz_layout_write(layout, NULL, 0, "", NULL); /* oci-layout and an empty blobs/sha256 */
	for (i = 1; i < n; i++) {
		snprintf(name, sizeof(name), "blobs/sha256/%s", parts[i].hex);
		fz_write(layout, name, parts[i].out.data ? parts[i].out.data : "", parts[i].out.len);
	}
	fz_write(layout, "index.json", parts[0].out.data ? parts[0].out.data : "", parts[0].out.len);

	if (dd_ctx_new(&ctx))
		fz_die("dd_ctx_new");
	if (dd_image_open(&img, ctx, layout, NULL) == 0) {
		dd_image_layer_count(img);
		dd_image_tree(&t, img);
	}
	/* DD_FUZZ_VERBOSE=1 shows where a seed stops, to check that it walks. */
	if (getenv("DD_FUZZ_VERBOSE"))
		fprintf(stderr, "fuzz_index: %zu parts: %s\n", n,
			*dd_ctx_error(ctx) ? dd_ctx_error(ctx) : "tree built");
	dd_image_free(img);
	dd_ctx_free(ctx);
	for (i = 0; i < n; i++)
		dd__buf_free(&parts[i].out);
	return 0;
}
