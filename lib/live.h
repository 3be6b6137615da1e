/*
 * Live container mode, internals: the /proc parsers (unit-tested on their
 * own) and the classification of a snapshot (classify.c calls it).
 */
#ifndef DD_LIVE_PRIVATE_H
#define DD_LIVE_PRIVATE_H

#include "private.h"
#include "findings.h"

/* What /proc/N/stat says that we use. COMM points into the input. */
struct dd__proc_stat {
	const char *comm;
	size_t comm_len;
	char state;
	int ppid;
	int tty_nr;
	unsigned long long starttime;  /* clock ticks after boot */
};
/* Parse a /proc/N/stat line; the command name may hold spaces and ')'. */
int dd__live_parse_stat(const char *s, size_t len, struct dd__proc_stat *out);

/*
 * Parse one data line of /proc/net/tcp, tcp6, udp or udp6 (FAMILY 4 or
 * 6, PROTO "tcp" or "udp") into OUT. DD_EFORMAT for a line that is not a
 * socket (the header).
 */
int dd__live_parse_net(const char *line, int family, const char *proto, struct dd_live_socket *out);

/* One line of /proc/PID/mountinfo, split in place; octal escapes decoded. */
struct dd__mountinfo {
	char *root, *path, *options, *fstype, *source;
};
int dd__live_parse_mountinfo(char *line, struct dd__mountinfo *out);

/*
 * Where the executable link EXE (as readlink shows /proc/N/exe) lies in a
 * process whose root directory link is ROOT: *OFF receives the offset of
 * the container path in EXE and *LEN its length. *FLAGS gets
 * DD_LIVE_EXE_MEMFD, DD_LIVE_EXE_OUTSIDE, or DD_LIVE_EXE_DELETED when the
 * link ends in " (deleted)" and DELETED (the file has no links left) says
 * it really was.
 */
void dd__live_map_exe(const char *exe, const char *root, bool deleted, size_t *off, size_t *len,
		      uint32_t *flags);

/* Process, network and environment drift of LIVE against the image (DD-PROC-*, DD-NET-*, DD-CFG-001). */
int dd__classify_live(struct dd_findings *fs, const struct dd_live *live, struct dd_image *img,
		      const struct dd_tree *image_tree, bool show_env_values);

#endif
