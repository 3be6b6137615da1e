/*
 * Findings: the changes a responder acts on first, each under a stable,
 * documented rule with a severity and, where one fits, the MITRE ATT&CK
 * technique. libmagic names what a new executable is.
 */
#include <stdlib.h>
#include <string.h>

#include <magic.h>

#include "private.h"

/* Indexes into rules[], in the same order. */
enum {
	R_BIN_ADDED, R_BIN_MODIFIED, R_PRIV_SETID, R_PRIV_CAPS, R_AF_STEALTH,
	R_DRIFT_ADDED, R_DRIFT_MODIFIED, R_DRIFT_DELETED, R_DRIFT_TYPE, R_DRIFT_UNREADABLE,
};

static const struct dd_rule rules[] = {
	{ "DD-BIN-001", "binary", DD_SEVERITY_HIGH, "Executable added",
	  "A file that is an ELF binary, a script with a #! line, or has an execute bit was added to the container; it is not part of the image.",
	  "Find out what dropped it (the container's processes, its entrypoint, an exploited service) and compare its hash with threat intelligence before anything else runs.",
	  "T1105" },
	{ "DD-BIN-002", "binary", DD_SEVERITY_HIGH, "Image executable modified or replaced",
	  "An executable that the image ships has different content, or a file became executable, or an executable replaced another type of file.",
	  "Treat the binary as compromised: collect it, compare it with the image's copy, and rebuild the container from the image.",
	  "T1554" },
	{ "DD-PRIV-001", "privilege", DD_SEVERITY_HIGH, "setuid or setgid bit added",
	  "A file gained the setuid or setgid bit, or a setuid/setgid file's content changed: a classic way to keep root.",
	  "Remove the bit, find who set it, and check the file's content against the image.",
	  "T1548.001" },
	{ "DD-PRIV-002", "privilege", DD_SEVERITY_HIGH, "File capabilities added or changed",
	  "The security.capability attribute of a file was added or changed, granting it privileges without setuid.",
	  "Compare the capabilities with the image's (getcap), and remove what the image does not set.",
	  "T1548" },
	{ "DD-AF-001", "anti-forensics", DD_SEVERITY_HIGH, "Content changed with size and mtime preserved",
	  "The file's content differs from the image while its size and modification time are unchanged: tools that compare only metadata (docker diff) miss this, which is why an attacker does it.",
	  "Treat as deliberate tampering; collect the file and look for timestomping of other files.",
	  "T1070.006" },
	{ "DD-DRIFT-001", "drift", DD_SEVERITY_LOW, "File added",
	  "A path exists in the container that the image does not have.",
	  "Expected runtime writes (logs, caches) belong in an ignore file; anything else is drift.",
	  NULL },
	{ "DD-DRIFT-002", "drift", DD_SEVERITY_MEDIUM, "File modified",
	  "A path from the image has different content or attributes in the container.",
	  "Check the attributes listed as changed; rebuild rather than patch a running container.",
	  NULL },
	{ "DD-DRIFT-003", "drift", DD_SEVERITY_LOW, "File deleted",
	  "A path from the image is missing from the container.",
	  "Deleted logs, history or tools can hide activity; check what was removed.",
	  "T1070.004" },
	{ "DD-DRIFT-004", "drift", DD_SEVERITY_MEDIUM, "File type changed",
	  "A path changed type (e.g. a file replaced by a symlink), which can redirect what the image's programs read or run.",
	  "Look at what the new entry points to or contains.",
	  NULL },
	{ "DD-DRIFT-005", "drift", DD_SEVERITY_MEDIUM, "File could not be read",
	  "driftdiff could not read the file's content, so it cannot tell whether it drifted.",
	  "Run again with enough privileges to read the whole root filesystem.",
	  NULL },
};

const struct dd_rule *dd_rules(size_t *n)
{
	*n = DD_ARRAY_SIZE(rules);
	return rules;
}


struct dd_findings {
	struct dd_ctx *ctx;
	struct dd_finding *f;
	size_t n, cap;
	struct dd__arena strings;
	magic_t magic;
};

static int add(struct dd_findings *fs, int rule, const struct dd_change *c,
	       const char *detail)
{
	struct dd_finding *f;

	if (fs->n == fs->cap) {
		size_t cap = fs->cap ? fs->cap * 2 : 32;

		f = realloc(fs->f, cap * sizeof(*f));
		if (!f)
			return dd__error(fs->ctx, DD_ENOMEM, "out of memory");
		fs->f = f;
		fs->cap = cap;
	}
	f = &fs->f[fs->n++];
	f->rule = &rules[rule];
	f->severity = f->rule->severity;
	f->change = c;
	f->detail = detail;
	return 0;
}

/* libmagic's description of a file's first bytes, when they were kept. */
static const char *describe(struct dd_findings *fs, const struct dd_entry *e)
{
	const char *s;

	if (!e || !e->head || !e->head_len)
		return NULL;
	if (!fs->magic) {
		fs->magic = magic_open(MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_TAR |
				       MAGIC_ERROR);
		if (!fs->magic || magic_load(fs->magic, NULL) != 0) {
			if (fs->magic)
				magic_close(fs->magic);
			fs->magic = NULL;
			return NULL;
		}
	}
	s = magic_buffer(fs->magic, e->head, e->head_len);
	return s ? dd__arena_strndup(&fs->strings, s, strlen(s)) : NULL;
}

static int classify_one(struct dd_findings *fs, const struct dd_change *c)
{
	const struct dd_entry *a = c->after, *b = c->before;
	int rc = 0;

	if (c->flags & DD_CHANGE_NEW_EXEC) {
		const char *what = describe(fs, a);

		rc = add(fs, c->kind == DD_CHANGE_ADDED ? R_BIN_ADDED : R_BIN_MODIFIED, c, what);
	}
	if (rc == 0 && a && a->type == DD_TYPE_FILE && (a->mode & 06000) &&
	    (!b || b->type != DD_TYPE_FILE || !(b->mode & 06000) || (c->attrs & DD_ATTR_CONTENT) ||
	     ((a->mode ^ b->mode) & 06000)))
		rc = add(fs, R_PRIV_SETID, c, NULL);
	if (rc == 0 && a && dd_entry_xattr(a, "security.capability") &&
	    (c->kind == DD_CHANGE_ADDED || (c->attrs & DD_ATTR_CAPS)))
		rc = add(fs, R_PRIV_CAPS, c, NULL);
	if (rc == 0 && (c->flags & DD_CHANGE_STEALTH))
		rc = add(fs, R_AF_STEALTH, c, NULL);
	return rc;
}

int dd_classify(struct dd_findings **out, struct dd_ctx *ctx, const struct dd_diff *diff)
{
	struct dd_findings *fs;
	size_t i, n = dd_diff_count(diff);
	int rc = 0;

	if (!out || !ctx)
		return DD_EINVAL;
	*out = NULL;
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return dd__error(ctx, DD_ENOMEM, "out of memory");
	fs->ctx = ctx;
	dd__arena_init(&fs->strings);
	for (i = 0; i < n && rc == 0; i++) {
		const struct dd_change *c = dd_diff_change(diff, i);

		if (!(c->flags & DD_CHANGE_IGNORED))
			rc = classify_one(fs, c);
	}
	if (rc) {
		dd_findings_free(fs);
		return rc;
	}
	*out = fs;
	return 0;
}

void dd_findings_free(struct dd_findings *fs)
{
	if (!fs)
		return;
	if (fs->magic)
		magic_close(fs->magic);
	dd__arena_free(&fs->strings);
	free(fs->f);
	free(fs);
}

size_t dd_findings_count(const struct dd_findings *fs)
{
	return fs ? fs->n : 0;
}

const struct dd_finding *dd_findings_get(const struct dd_findings *fs, size_t i)
{
	return fs && i < fs->n ? &fs->f[i] : NULL;
}

/* The generic rule a change falls under when no finding covers it. */
const struct dd_rule *dd__change_rule(const struct dd_change *c)
{
	switch (c->kind) {
	case DD_CHANGE_ADDED: return &rules[R_DRIFT_ADDED];
	case DD_CHANGE_MODIFIED: return &rules[R_DRIFT_MODIFIED];
	case DD_CHANGE_DELETED: return &rules[R_DRIFT_DELETED];
	case DD_CHANGE_TYPE_CHANGED: return &rules[R_DRIFT_TYPE];
	case DD_CHANGE_UNREADABLE: return &rules[R_DRIFT_UNREADABLE];
	}
	return &rules[R_DRIFT_MODIFIED];
}
