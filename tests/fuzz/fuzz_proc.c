/*
 * The /proc parsers of live mode (lib/live.c). A container chooses its
 * processes' names (the "(comm)" of /proc/N/stat may hold spaces, ')' and
 * newlines), its mount points and the paths its executables have, so each
 * parser gets arbitrary bytes. The first byte picks the parser:
 *   0 stat, 1 tcp (IPv4), 2 udp6, 3 mountinfo, 4 the exe-to-container-path
 *   mapping (the rest split at the first NUL into the link and the root).
 * Invariants on success: stat's name lies inside the input; a socket's
 * addresses are what inet_pton accepts back and its ports fit 16 bits; a
 * mount's path is absolute; a mapped executable path lies inside the link
 * and starts with '/' unless the link was refused as memfd or outside.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "lib/live.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	size_t n;

	if (size < 1)
		return 0;
	n = size - 1;
	s = malloc(n + 1);
	if (!s)
		return 0;
	memcpy(s, data + 1, n);
	s[n] = '\0';
	switch (data[0] % 5) {
	case 0: {
		struct dd__proc_stat ps;

		if (dd__live_parse_stat(s, n, &ps) == 0 &&
		    (ps.comm < s || ps.comm + ps.comm_len > s + n))
			abort();
		break;
	}
	case 1:
	case 2: {
		struct dd_live_socket k;
		unsigned char bin[16];
		int fam = data[0] % 5 == 1 ? 4 : 6;

		if (dd__live_parse_net(s, fam, fam == 4 ? "tcp" : "udp", &k) == 0) {
			int af = fam == 4 ? AF_INET : AF_INET6;

			if (inet_pton(af, k.local, bin) != 1 || inet_pton(af, k.remote, bin) != 1 || !k.state ||
			    k.family != fam || strlen(k.local) >= sizeof(k.local))
				abort();
		}
		break;
	}
	case 3: {
		struct dd__mountinfo mi;

		if (dd__live_parse_mountinfo(s, &mi) == 0 &&
		    (mi.path[0] != '/' || !mi.root || !mi.fstype || !mi.source || !mi.options))
			abort();
		break;
	}
	default: {
		const char *exe = s, *root = s + strlen(s) + 1 <= s + n ? s + strlen(s) + 1 : "/";
		size_t off, len;
		uint32_t flags;

		dd__live_map_exe(exe, root, n & 1, &off, &len, &flags);
		if (off + len > strlen(exe))
			abort();
		if ((flags & DD_LIVE_EXE_MEMFD) && strncmp(exe, "/memfd:", 7))
			abort();
		if (!(flags & (DD_LIVE_EXE_MEMFD | DD_LIVE_EXE_OUTSIDE)) && off > 0 && exe[off] != '/')
			abort();
		break;
	}
	}
	free(s);
	return 0;
}
