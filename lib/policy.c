/*
 * Policies (driftdiff-policy(5)): a JSON file that changes rule
 * severities, disables rules, and allows paths or packages per rule, each
 * allowance with a justification and an optional expiry date. Findings a
 * policy silences are kept, marked suppressed with the justification, so
 * JSON and SARIF still show them.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "findings.h"
#include "json.h"

struct allowance {
	char *rule;              /* a rule id, or "*" */
	struct dd_ignore *paths; /* gitignore-style patterns, or NULL */
	char **packages;         /* fnmatch patterns, NULL-terminated, or NULL */
	char *justification;
	int64_t expires;         /* seconds since the epoch; 0 never */
};

struct rule_setting {
	const struct dd_rule *rule;
	int severity;            /* -1 unchanged */
	bool disabled;
	char *justification;
};

struct dd_policy {
	char *path;
	struct rule_setting *rules;
	size_t nrules;
	struct allowance *allow;
	size_t nallow;
};

void dd_policy_free(struct dd_policy *p)
{
	size_t i, k;

	if (!p)
		return;
	for (i = 0; i < p->nrules; i++)
		free(p->rules[i].justification);
	for (i = 0; i < p->nallow; i++) {
		free(p->allow[i].rule);
		dd_ignore_free(p->allow[i].paths);
		for (k = 0; p->allow[i].packages && p->allow[i].packages[k]; k++)
			free(p->allow[i].packages[k]);
		free(p->allow[i].packages);
		free(p->allow[i].justification);
	}
	free(p->rules);
	free(p->allow);
	free(p->path);
	free(p);
}

/* "YYYY-MM-DD", the end of that day in UTC. */
static bool parse_date(const char *s, int64_t *out)
{
	struct tm tm;
	char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (!end || *end)
		return false;
	*out = (int64_t)timegm(&tm) + 86399;
	return true;
}

static int load_rules(struct dd_policy *p, struct dd_ctx *ctx, struct json_object *rules)
{
	size_t n = (size_t)json_object_object_length(rules), i = 0;

	p->rules = calloc(n ? n : 1, sizeof(*p->rules));
	if (!p->rules)
		return dd__error(ctx, DD_ENOMEM, "out of memory");
	json_object_object_foreach(rules, id, val) {
		struct rule_setting *r = &p->rules[i];
		struct json_object *en;
		const char *sev = dd__json_str(val, "severity"), *why = dd__json_str(val, "justification");

		r->rule = dd_rule_find(id);
		r->severity = -1;
		if (!r->rule)
			return dd__error(ctx, DD_EFORMAT, "%s: rules: unknown rule id '%s'", p->path, id);
		if (!json_object_is_type(val, json_type_object))
			return dd__error(ctx, DD_EFORMAT, "%s: rules.%s: not an object", p->path, id);
		json_object_object_foreach(val, k, unused) {
			(void)unused;
			/* A misspelt key would silently do nothing: refuse it. */
			if (strcmp(k, "severity") && strcmp(k, "enabled") && strcmp(k, "justification"))
				return dd__error(ctx, DD_EFORMAT, "%s: rules.%s: unknown key '%s'", p->path, id, k);
		}
		if (sev && ((r->severity = dd_severity_parse(sev)) <= 0 || r->severity > DD_SEVERITY_CRITICAL))
			return dd__error(ctx, DD_EFORMAT, "%s: rules.%s: unknown severity '%s'", p->path, id, sev);
		if (!sev)
			r->severity = -1;
		if (json_object_object_get_ex(val, "enabled", &en)) {
			if (!json_object_is_type(en, json_type_boolean))
				return dd__error(ctx, DD_EFORMAT, "%s: rules.%s.enabled: not a boolean", p->path, id);
			r->disabled = !json_object_get_boolean(en);
		}
		if (r->disabled && (!why || !*why))
			return dd__error(ctx, DD_EFORMAT, "%s: rules.%s: disabling a rule needs a justification",
					 p->path, id);
		if (why && !(r->justification = strdup(why)))
			return dd__error(ctx, DD_ENOMEM, "out of memory");
		i++;
		p->nrules = i;
	}
	return 0;
}

static int load_allowance(struct dd_policy *p, struct dd_ctx *ctx, struct json_object *o, size_t idx)
{
	struct allowance *a = &p->allow[idx];
	struct json_object *paths = dd__json_arr(o, "paths"), *pkgs = dd__json_arr(o, "packages");
	const char *rule = dd__json_str(o, "rule"), *why = dd__json_str(o, "justification");
	const char *exp = dd__json_str(o, "expires");
	struct dd__buf src = DD__BUF_INIT;
	size_t i, n;
	int rc = 0;

	if (!json_object_is_type(o, json_type_object))
		return dd__error(ctx, DD_EFORMAT, "%s: allow[%zu]: not an object", p->path, idx);
	json_object_object_foreach(o, k, unused) {
		(void)unused;
		if (strcmp(k, "rule") && strcmp(k, "paths") && strcmp(k, "packages") &&
		    strcmp(k, "justification") && strcmp(k, "expires"))
			return dd__error(ctx, DD_EFORMAT, "%s: allow[%zu]: unknown key '%s'", p->path, idx, k);
	}
	if (!rule || (strcmp(rule, "*") && !dd_rule_find(rule)))
		return dd__error(ctx, DD_EFORMAT, "%s: allow[%zu]: unknown or missing rule '%s'", p->path, idx,
				 rule ? rule : "");
	if (!why || !*why)
		return dd__error(ctx, DD_EFORMAT, "%s: allow[%zu]: an allowance needs a justification",
				 p->path, idx);
	if (!paths && !pkgs)
		return dd__error(ctx, DD_EFORMAT, "%s: allow[%zu]: give \"paths\" or \"packages\"", p->path, idx);
	if (exp && !parse_date(exp, &a->expires))
		return dd__error(ctx, DD_EFORMAT, "%s: allow[%zu]: expires '%s' is not YYYY-MM-DD", p->path,
				 idx, exp);
	if (!(a->rule = strdup(rule)) || !(a->justification = strdup(why)))
		return dd__error(ctx, DD_ENOMEM, "out of memory");
	n = paths ? json_object_array_length(paths) : 0;
	if (n && dd_ignore_new(&a->paths, ctx))
		return DD_ENOMEM;
	for (i = 0; i < n && rc == 0; i++) {
		struct json_object *v = json_object_array_get_idx(paths, i);

		src.len = 0;
		if (!json_object_is_type(v, json_type_string) || !*json_object_get_string(v) ||
		    dd__buf_printf(&src, "%s: allow[%zu]: %s", p->path, idx, why))
			rc = dd__error(ctx, DD_EFORMAT, "%s: allow[%zu].paths[%zu]: not a pattern", p->path, idx, i);
		else
			rc = dd_ignore_add(a->paths, json_object_get_string(v), src.data);
	}
	dd__buf_free(&src);
	if (rc)
		return rc;
	n = pkgs ? json_object_array_length(pkgs) : 0;
	if (n) {
		a->packages = calloc(n + 1, sizeof(*a->packages));
		if (!a->packages)
			return dd__error(ctx, DD_ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(pkgs, i);

		if (!json_object_is_type(v, json_type_string))
			return dd__error(ctx, DD_EFORMAT, "%s: allow[%zu].packages[%zu]: not a string", p->path,
					 idx, i);
		if (!(a->packages[i] = strdup(json_object_get_string(v))))
			return dd__error(ctx, DD_ENOMEM, "out of memory");
	}
	return 0;
}

int dd_policy_load(struct dd_policy **out, struct dd_ctx *ctx, const char *path)
{
	struct dd_policy *p = NULL;
	struct json_object *doc = NULL, *rules, *allow;
	struct dd__buf data = DD__BUF_INIT;
	int64_t version;
	size_t i, n;
	int rc;

	if (!out || !ctx || !path)
		return DD_EINVAL;
	*out = NULL;
	rc = dd__read_regular(ctx, path, ctx->limits.max_json, &data);
	if (rc)
		goto out;
	rc = dd__json_parse(ctx, path, data.data, data.len, &doc);
	if (rc)
		goto out;
	rc = DD_ENOMEM;
	p = calloc(1, sizeof(*p));
	if (!p || !(p->path = strdup(path))) {
		dd__error(ctx, rc, "out of memory");
		goto out;
	}
	if (!json_object_is_type(doc, json_type_object) || !dd__json_int64(doc, "version", &version) ||
	    version != 1) {
		rc = dd__error(ctx, DD_EFORMAT, "%s: not a driftdiff policy (\"version\": 1 expected)", path);
		goto out;
	}
	json_object_object_foreach(doc, key, val) {
		(void)val;
		if (strcmp(key, "version") && strcmp(key, "rules") && strcmp(key, "allow") &&
		    strcmp(key, "description")) {
			rc = dd__error(ctx, DD_EFORMAT, "%s: unknown key '%s'", path, key);
			goto out;
		}
	}
	if ((dd__json_has(doc, "rules") && !dd__json_obj(doc, "rules")) ||
	    (dd__json_has(doc, "allow") && !dd__json_arr(doc, "allow"))) {
		rc = dd__error(ctx, DD_EFORMAT, "%s: \"rules\" must be an object and \"allow\" an array", path);
		goto out;
	}
	rules = dd__json_obj(doc, "rules");
	if (rules && (rc = load_rules(p, ctx, rules)))
		goto out;
	allow = dd__json_arr(doc, "allow");
	n = allow ? json_object_array_length(allow) : 0;
	p->allow = calloc(n ? n : 1, sizeof(*p->allow));
	if (!p->allow) {
		rc = dd__error(ctx, DD_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		p->nallow = i + 1;
		rc = load_allowance(p, ctx, json_object_array_get_idx(allow, i), i);
		if (rc)
			goto out;
	}
	*out = p;
	p = NULL;
	rc = 0;
out:
	json_object_put(doc);
	dd__buf_free(&data);
	dd_policy_free(p);
	return rc;
}

static bool allows(const struct allowance *a, const struct dd_finding *f, int64_t now)
{
	size_t i, k;

	if (a->expires && now > a->expires)
		return false;
	if (strcmp(a->rule, "*") && strcmp(a->rule, f->rule->id))
		return false;
	if (a->packages && f->package && f->package->name)
		for (k = 0; a->packages[k]; k++)
			if (fnmatch(a->packages[k], f->package->name, 0) == 0)
				return true;
	/* Every path of the finding must be allowed, or one bad path hides behind a good one. */
	if (!a->paths || !f->npaths)
		return false;
	for (i = 0; i < f->npaths; i++)
		if (!dd_ignore_match(a->paths, f->paths[i].path, f->paths[i].len,
				     f->change && f->change->after && f->change->after->type == DD_TYPE_DIR))
			return false;
	return true;
}

int dd__policy_apply(struct dd_findings *fs, const struct dd_policy *policy, int64_t now)
{
	size_t i, k;

	if (!policy)
		return 0;
	for (i = 0; i < fs->items.len; i++) {
		struct dd_finding *f = fs->items.items[i];

		for (k = 0; k < policy->nrules; k++) {
			const struct rule_setting *r = &policy->rules[k];

			if (r->rule != f->rule)
				continue;
			if (r->severity > 0)
				f->severity = (enum dd_severity)r->severity;
			if (r->disabled)
				f->suppressed_by = r->justification;
		}
		for (k = 0; !f->suppressed_by && k < policy->nallow; k++)
			if (allows(&policy->allow[k], f, now))
				f->suppressed_by = policy->allow[k].justification;
	}
	return 0;
}
