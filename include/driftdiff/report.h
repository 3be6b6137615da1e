/*
 * driftdiff/report.h: findings (what a responder should look at first)
 * and the report emitters: text, JSON, SARIF 2.1.0 and markdown.
 */
#ifndef DRIFTDIFF_REPORT_H
#define DRIFTDIFF_REPORT_H

#include <stdio.h>
#include "common.h"
#include "diff.h"
#include "image.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A documented rule; ids are stable across versions. */
struct dd_rule {
	const char *id;          /* "DD-BIN-001" */
	const char *family;      /* binary, privilege, anti-forensics, drift, ... */
	enum dd_severity severity;
	const char *title;
	const char *description;
	const char *help;        /* what to do about it */
	const char *attack;      /* MITRE ATT&CK technique id, or NULL */
};
/* Every rule, in a fixed order (SARIF ruleIndex is the position here). */
DD_API const struct dd_rule *dd_rules(size_t *n);

struct dd_finding {
	const struct dd_rule *rule;
	enum dd_severity severity;
	const struct dd_change *change;  /* the change that raised it */
	const char *detail;              /* e.g. libmagic's description, or NULL */
};

struct dd_findings;
/*
 * Classify the changes of DIFF. IMG (may be NULL) gives layer context.
 * Findings borrow from DIFF, which must outlive them.
 */
DD_API int dd_classify(struct dd_findings **out, struct dd_ctx *ctx, const struct dd_diff *diff);
DD_API void dd_findings_free(struct dd_findings *f);
DD_API size_t dd_findings_count(const struct dd_findings *f);
DD_API const struct dd_finding *dd_findings_get(const struct dd_findings *f, size_t i);

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
};
#define DD_REPORT_OPTIONS_VERSION 1
#define DD_REPORT_OPTIONS_INIT { DD_REPORT_OPTIONS_VERSION, NULL, NULL, NULL, false, \
				 DD_SEVERITY_INFO, true, NULL, false, NULL, NULL }

/*
 * Would the report fail a CI gate? True when a change or finding that is
 * not ignored reaches THRESHOLD.
 */
DD_API bool dd_report_has_drift(const struct dd_diff *diff, const struct dd_findings *f,
				enum dd_severity threshold);

/* Write the report. IMG describes the image side. */
DD_API int dd_report_write(struct dd_ctx *ctx, enum dd_report_format format,
			   struct dd_image *img, const struct dd_diff *diff,
			   const struct dd_findings *findings,
			   const struct dd_report_options *opts, FILE *f);

#ifdef __cplusplus
}
#endif
#endif
