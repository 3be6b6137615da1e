/*
 * driftdiff/report.h: the report emitters: text, JSON, SARIF 2.1.0 and
 * markdown, over a diff and its findings.
 */
#ifndef DRIFTDIFF_REPORT_H
#define DRIFTDIFF_REPORT_H

#include <stdio.h>
#include "common.h"
#include "diff.h"
#include "findings.h"
#include "image.h"

#ifdef __cplusplus
extern "C" {
#endif

enum dd_report_format {
	DD_REPORT_TEXT = 1,
	DD_REPORT_JSON,
	DD_REPORT_SARIF,
	DD_REPORT_MARKDOWN,
};
/* Parse "text", "json", "sarif", "markdown"; 0 when unknown. */
DD_API enum dd_report_format dd_report_format_parse(const char *name);

struct dd_report_options {
	unsigned version;
	const char *target;          /* as the user named it */
	const char *target_kind;     /* "rootfs", "upper", "tar", "image", "manifest" */
	const char *target_uri;      /* absolute file URI of the root, ending in '/'; or NULL */
	bool color;                  /* ANSI colour in the text report */
	enum dd_severity fail_on;    /* threshold reported in the summary */
	bool default_ignores;
	const char *const *ignore_files; /* NULL-terminated, may be NULL */
	bool all;
	const char *category;        /* SARIF automationDetails.id prefix; NULL: derived */
	const struct dd_tree *target_tree; /* for its warnings; may be NULL */
	/* Version 2. */
	const struct dd_live *live;  /* a running container: its processes, sockets, mounts */
	bool show_env_values;        /* the live environment's values, not their hashes */
};
#define DD_REPORT_OPTIONS_VERSION 2
#define DD_REPORT_OPTIONS_INIT { DD_REPORT_OPTIONS_VERSION, NULL, NULL, NULL, false, \
				 DD_SEVERITY_NONE, true, NULL, false, NULL, NULL, NULL, false }

/*
 * Would the report fail a CI gate? True when a finding that no policy
 * suppressed, or a change that is neither ignored nor covered by any
 * finding, reaches THRESHOLD. A finding speaks for the change that raised
 * it, so a change whose findings a policy suppressed does not count.
 */
DD_API bool dd_report_has_drift(const struct dd_diff *diff, const struct dd_findings *f,
				enum dd_severity threshold);

/* What kind of target a report's changes were read from (for evidence). */
enum dd_target_kind {
	DD_TARGET_ROOTFS = 1,  /* a directory walked with dd_target_read_dir() */
	DD_TARGET_UPPER,       /* an overlay upper dir */
	DD_TARGET_TAR,         /* a flat rootfs tar */
	DD_TARGET_IMAGE,       /* another image or a saved manifest: no file content to copy */
};

/*
 * Copy every added or modified executable of DIFF (not ignored) out of
 * TARGET into DIR: each file is named by its SHA-256, mode 0400, never
 * executed, opened without following symlinks; DIR/index.json lists them.
 * DIR is created (0700) if missing. *COPIED receives the number of files.
 */
DD_API int dd_evidence_collect(struct dd_ctx *ctx, const struct dd_diff *diff,
			       enum dd_target_kind kind, const char *target, const char *dir,
			       size_t *copied);

/*
 * Copy the executables of LIVE's processes that do not run the image's
 * files (added, modified, deleted, in memory, outside the root) into DIR,
 * read through /proc/N/exe: the only way to keep a deleted or memfd
 * payload. Named by SHA-256, mode 0400; DIR/processes.json lists them.
 */
DD_API int dd_evidence_collect_live(struct dd_ctx *ctx, const struct dd_live *live,
				    const struct dd_tree *image, const char *dir, size_t *copied);

/*
 * Write the report. IMG describes the image side. DIFF may be NULL when
 * OPTS has a live snapshot: the process view alone (driftdiff ps).
 */
DD_API int dd_report_write(struct dd_ctx *ctx, enum dd_report_format format,
			   struct dd_image *img, const struct dd_diff *diff,
			   const struct dd_findings *findings,
			   const struct dd_report_options *opts, FILE *f);

#ifdef __cplusplus
}
#endif
#endif
