/* Configuration drift: placeholder until runtime configs are read. */
#include "findings.h"

int dd__classify_config(struct dd_findings *fs, struct dd_image *img, const char *runtime_config)
{
	(void)img;
	return dd__error(fs->ctx, DD_EUNSUPPORTED, "%s: runtime configurations are not supported yet",
			 runtime_config);
}
