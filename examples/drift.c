/*
 * drift: the library in one screen. Open an image, read a container's
 * root filesystem, diff the two, classify, and print the findings.
 *
 *   cc drift.c $(pkg-config --cflags --libs driftdiff) -o drift
 *   ./drift IMAGE ROOTFS
 */
#include <stdio.h>

#include <driftdiff.h>

int main(int argc, char **argv)
{
	struct dd_ctx *ctx = NULL;
	struct dd_image *img = NULL;
	struct dd_tree *target = NULL;
	struct dd_diff *diff = NULL;
	struct dd_findings *findings = NULL;
	struct dd_classify_options copts = DD_CLASSIFY_OPTIONS_INIT;
	const struct dd_tree *image;
	size_t i;
	int rc = 2;

	if (argc != 3) {
		fprintf(stderr, "usage: %s IMAGE ROOTFS\n", argv[0]);
		return 2;
	}
	if (dd_ctx_new(&ctx))
		return 2;
	/* Every call returns 0 or a DD_E* code; the message is on the context. */
	if (dd_image_open(&img, ctx, argv[1], NULL) || dd_image_tree(&image, img) ||
	    dd_target_read_dir(&target, ctx, argv[2], NULL) ||
	    dd_diff_trees(&diff, ctx, image, target, NULL))
		goto out;
	copts.image_tree = image;
	copts.target_tree = target;
	if (dd_classify(&findings, ctx, diff, &copts))
		goto out;
	printf("%zu changes, %zu findings\n", dd_diff_count(diff), dd_findings_count(findings));
	for (i = 0; i < dd_findings_count(findings); i++) {
		const struct dd_finding *f = dd_findings_get(findings, i);

		printf("%-8s %s %s: %.*s\n", dd_severity_name(f->severity), f->rule->id, f->rule->title,
		       f->npaths ? (int)f->paths[0].len : 0, f->npaths ? f->paths[0].path : "");
	}
	rc = dd_diff_count(diff) ? 1 : 0;
out:
	if (rc == 2)
		fprintf(stderr, "drift: %s\n", dd_ctx_error(ctx));
	dd_findings_free(findings);
	dd_diff_free(diff);
	dd_tree_free(target);
	dd_image_free(img);
	dd_ctx_free(ctx);
	return rc;
}
