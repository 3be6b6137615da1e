/*
 * driftdiff/findings.h: what a responder should look at first.
 *
 * Classification turns a diff into findings, each under a documented rule
 * with a stable id, a family, a severity and, where one fits, a MITRE
 * ATT&CK technique. A policy can change a rule's severity, disable it, or
 * allow paths and packages with a justification (suppressed findings are
 * still reported, marked as such).
 */
#ifndef DRIFTDIFF_FINDINGS_H
#define DRIFTDIFF_FINDINGS_H

#include "common.h"
#include "diff.h"
#include "tree.h"
#include "live.h"

#ifdef __cplusplus
extern "C" {
#endif

struct dd_rule {
	const char *id;          /* "DD-BIN-001"; stable */
	const char *family;      /* binary, package, privilege, persistence, interactive,
				    anti-forensics, config, digest, process, network, drift */
	enum dd_severity severity; /* the default */
	const char *title;
	const char *description;
	const char *help;        /* what to do about it */
	const char *attack;      /* MITRE ATT&CK technique id, or NULL */
};
/* Every rule, in a fixed order (SARIF ruleIndex is the position here). */
DD_API const struct dd_rule *dd_rules(size_t *n);
/* The rule with ID, or NULL. */
DD_API const struct dd_rule *dd_rule_find(const char *id);

struct dd_finding_path {
	const char *path;        /* absolute container path, bytes */
	size_t len;
};

struct dd_package_ref {
	const char *ecosystem;   /* "dpkg", "apk", "python", "npm", "rpm" */
	const char *name;
	const char *version;     /* in the target; NULL when removed */
	const char *old_version; /* in the image; NULL when added */
};

struct dd_finding {
	const struct dd_rule *rule;
	enum dd_severity severity;
	const struct dd_change *change;      /* the change that raised it, or NULL */
	const struct dd_finding_path *paths; /* the paths involved, the main one first */
	size_t npaths;
	const char *detail;                  /* evidence in words, or NULL */
	const struct dd_package_ref *package; /* package findings, else NULL */
	const char *suppressed_by;           /* the policy's justification, when suppressed */
};

struct dd_policy;

/* Load a policy file (JSON, see driftdiff-policy(5)). */
DD_API int dd_policy_load(struct dd_policy **out, struct dd_ctx *ctx, const char *path);
DD_API void dd_policy_free(struct dd_policy *policy);

struct dd_classify_options {
	unsigned version;
	const struct dd_tree *image_tree;   /* for package databases and accounts; may be NULL */
	const struct dd_tree *target_tree;  /* likewise */
	bool target_is_upper;               /* target_tree is an overlay upper dir: a path
					       missing from it is the image's */
	const struct dd_policy *policy;     /* may be NULL */
	int64_t now;                        /* for policy expiry; 0 = the current time */
	/*
	 * Configuration drift: the image (its config is the reference) and
	 * the container's runtime configuration, a `docker inspect` JSON or an
	 * OCI runtime config.json. Both may be NULL.
	 */
	struct dd_image *image;
	const char *runtime_config;
	/* Version 2. */
	/*
	 * A running container (dd_live_open()): its processes, sockets and
	 * environment against the image (needs image and image_tree). With a
	 * live snapshot, DIFF may be NULL: the process view alone.
	 */
	const struct dd_live *live;
	bool show_env_values;               /* print environment values, not their hashes */
	/* Version 3. */
	unsigned jobs;                      /* threads describing files with libmagic; 0: the CPUs */
};
#define DD_CLASSIFY_OPTIONS_VERSION 3
#define DD_CLASSIFY_OPTIONS_INIT { DD_CLASSIFY_OPTIONS_VERSION, NULL, NULL, false, NULL, 0, NULL, NULL, \
				   NULL, false, 0 }

struct dd_findings;
/* Classify the changes of DIFF (and the live snapshot, when given). Findings borrow from DIFF, the trees and the policy. */
DD_API int dd_classify(struct dd_findings **out, struct dd_ctx *ctx, const struct dd_diff *diff,
		       const struct dd_classify_options *opts);
DD_API void dd_findings_free(struct dd_findings *f);
DD_API size_t dd_findings_count(const struct dd_findings *f);
DD_API const struct dd_finding *dd_findings_get(const struct dd_findings *f, size_t i);

#ifdef __cplusplus
}
#endif
#endif
