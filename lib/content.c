/* What a file is, judged by its first bytes. */
#include "private.h"

void dd__exec_sniff(const void *data, size_t n, enum dd_exec *exec, uint16_t *machine)
{
	const unsigned char *p = data;

	*exec = DD_EXEC_NONE;
	*machine = 0;
	if (n >= 4 && p[0] == 0x7f && p[1] == 'E' && p[2] == 'L' && p[3] == 'F') {
		*exec = DD_EXEC_ELF;
		/* e_machine at offset 18, in the byte order EI_DATA (offset 5) names. */
		if (n >= 20)
			*machine = p[5] == 2 ? (uint16_t)(p[18] << 8 | p[19])
					     : (uint16_t)(p[19] << 8 | p[18]);
	} else if (n >= 2 && p[0] == '#' && p[1] == '!') {
		*exec = DD_EXEC_SCRIPT;
	}
}
