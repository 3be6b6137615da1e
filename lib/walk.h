/*
 * What a defer_hashes walk left to read (walk.c), for the layers that
 * compare the image's bytes with it (layer.c). A file the walk saw is
 * opened again only if it is still that file, and never through a
 * symlink; a file's directory stays open for the next file, as a layer's
 * entries come in directory order.
 */
#ifndef DD_WALK_H
#define DD_WALK_H

#include <sys/stat.h>

#include "tree.h"

struct dd__reopen {
	int dirfd;              /* the last file's directory, or -1 */
	struct dd__buf dir;     /* its path below the root */
};

void dd__reopen_init(struct dd__reopen *r);
void dd__reopen_free(struct dd__reopen *r);
/* T's entry at PATH when it is a regular file whose content is still unread; else NULL. */
struct dd_entry *dd__walk_deferred(struct dd_tree *t, const char *path, size_t len);
/*
 * Open E below T's root: an fd and *ST its fstat when it is the inode,
 * size and mtime the walk recorded; else -1 (errno ESTALE when it is not).
 */
int dd__walk_reopen(struct dd_tree *t, struct dd__reopen *r, const struct dd_entry *e, struct stat *st);
/*
 * E's content (FD, opened with ST) was read whole and is the same as
 * bytes that hash to SHA, with EXEC and ELF_MACHINE: take them, and E's
 * xattrs from FD, unless the file changed since ST. 0 or DD_ENOMEM.
 */
int dd__walk_adopt(struct dd_tree *t, struct dd_entry *e, int fd, const struct stat *st,
		   const unsigned char sha[32], uint8_t exec, uint16_t elf_machine);

#endif
