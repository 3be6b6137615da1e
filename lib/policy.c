/* Policies: placeholder until policy files are read. */
#include "findings.h"

int dd__policy_apply(struct dd_findings *fs, const struct dd_policy *policy, int64_t now)
{
	(void)fs;
	(void)policy;
	(void)now;
	return 0;
}

int dd_policy_load(struct dd_policy **out, struct dd_ctx *ctx, const char *path)
{
	*out = NULL;
	return dd__error(ctx, DD_EUNSUPPORTED, "%s: policies are not supported yet", path);
}

void dd_policy_free(struct dd_policy *policy)
{
	(void)policy;
}
