/*
 * Building findings: classify.c and the rule families in other modules
 * (pkgdb.c, config.c) add findings through these calls.
 */
#ifndef DD_FINDINGS_PRIVATE_H
#define DD_FINDINGS_PRIVATE_H

#include "magicdb.h"
#include "private.h"

struct dd_findings {
	struct dd_ctx *ctx;
	struct dd__ptrvec items;     /* struct dd_finding *, in the arena */
	struct dd__arena arena;
	void *magic;                 /* libmagic cookie, opened on first use */
	struct dd__magic_db magic_db; /* its database, shared with the describing threads */
	/*
	 * libmagic's words by content (SHA-256): a call costs 0.1-1 ms, and a
	 * dropped binary is often copied to many places.
	 */
	struct dd__described *described;
	size_t ndescribed, described_cap;
};

/*
 * A new finding under RULE_ID (which must exist) at its default severity,
 * raised by change C (may be NULL; its path becomes the first path).
 * NULL on ENOMEM, with the error set on the context.
 */
struct dd_finding *dd__finding_add(struct dd_findings *fs, const char *rule_id,
				   const struct dd_change *c);
int dd__finding_path(struct dd_findings *fs, struct dd_finding *f, const char *path, size_t len);
int dd__finding_detail(struct dd_findings *fs, struct dd_finding *f, const char *fmt, ...)
	DD_PRINTF(3, 4);
int dd__finding_package(struct dd_findings *fs, struct dd_finding *f, const char *ecosystem,
			const char *name, const char *version, const char *old_version);
/* A string copied into the findings' arena. */
const char *dd__findings_strdup(struct dd_findings *fs, const char *s, size_t len);

/* Package drift (pkgdb.c): packages added, removed, changed; tampered files. */
int dd__classify_packages(struct dd_findings *fs, const struct dd_diff *diff,
			  const struct dd_tree *image, const struct dd_tree *target, bool target_is_upper);
/* Configuration drift (config.c): the runtime config against the image config. */
/* Environment drift is left to the live snapshot when there is one (SKIP_ENV): it is what runs. */
int dd__classify_config(struct dd_findings *fs, struct dd_image *img, const char *runtime_config,
			bool skip_env);
/* The image config's .config members (config.c), borrowed from the parsed document. */
struct json_object;
struct dd__imgcfg {
	struct json_object *env, *entrypoint, *cmd, *ports;
	const char *user, *cwd;
};
/* Parse IMG's config into *DOC (json_object_put it) and IC; all NULL without a config. */
int dd__image_config(struct dd_ctx *ctx, struct dd_image *img, struct json_object **doc,
		     struct dd__imgcfg *ic);
/*
 * DD-CFG-001: ENV (an array of "NAME=value") against the image's. Values
 * appear as hashes unless SHOW_VALUES; WHERE, when not NULL, starts the
 * detail ("/proc/42/environ").
 */
int dd__env_drift(struct dd_findings *fs, struct json_object *image_env, struct json_object *env,
		  const char *where, bool show_values);
/* Apply a policy (policy.c): severities, disabled rules, allowances. */
int dd__policy_apply(struct dd_findings *fs, const struct dd_policy *policy, int64_t now);

/* libmagic's description of an entry's kept head bytes, or NULL. */
const char *dd__describe(struct dd_findings *fs, const struct dd_entry *e);

#endif
