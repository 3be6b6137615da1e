/* Package drift: placeholder until the package databases are parsed. */
#include "findings.h"

int dd__classify_packages(struct dd_findings *fs, const struct dd_diff *diff,
			  const struct dd_tree *image, const struct dd_tree *target)
{
	(void)fs;
	(void)diff;
	(void)image;
	(void)target;
	return 0;
}
