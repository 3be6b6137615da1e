/* driftdiff verify: is this image one of the approved ones? (in progress) */
#include <stdio.h>

#include "cli.h"

int cmd_verify(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return cli_usage_error("verify", "not implemented yet");
}
