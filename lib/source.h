/*
 * Where an image's files come from: a directory (an OCI layout) or a tar
 * archive (oci-archive, docker save). A tar is indexed once; members are
 * then read by position (pread on an uncompressed tar), so nothing is ever
 * extracted to disk.
 */
#ifndef DD_SOURCE_H
#define DD_SOURCE_H

#include "private.h"

struct dd__src;
struct dd__rd;

/* PATH is a directory: its files are opened beneath it, never through a symlink. */
int dd__src_open_dir(struct dd__src **out, struct dd_ctx *ctx, const char *path);
/* PATH is a tar (optionally compressed): index its members. */
int dd__src_open_tar(struct dd__src **out, struct dd_ctx *ctx, const char *path);
void dd__src_free(struct dd__src *src);
bool dd__src_is_tar(const struct dd__src *src);
/* Can blobs be opened and read side by side without rereading the source (not a compressed tar)? */
bool dd__src_random_access(const struct dd__src *src);
/* Does REL name a regular file (or a member resolving to one)? */
bool dd__src_exists(struct dd__src *src, const char *rel);
/*
 * The same, telling why not: 0 when it does, DD_ENOTFOUND when nothing is
 * there, another code (message on the context) when something is there
 * but is refused: a symlink, a FIFO, a directory, two members of one name.
 */
int dd__src_check(struct dd__src *src, const char *rel);

/* Open REL for reading. Errors name REL and the source path. */
int dd__src_open(struct dd__src *src, struct dd__rd **out, const char *rel);
/* Bytes the file holds. */
uint64_t dd__rd_size(const struct dd__rd *rd);
/* Read up to N bytes; 0 at the end, a negative DD_E* code on error. */
long dd__rd_read(struct dd__rd *rd, void *buf, size_t n);
void dd__rd_close(struct dd__rd *rd);
/* Send RD's read errors to CTX (a reader running on another thread has its own). */
void dd__rd_set_ctx(struct dd__rd *rd, struct dd_ctx *ctx);

/* Read all of REL, refusing more than MAX bytes. */
int dd__src_read_all(struct dd__src *src, const char *rel, uint64_t max, struct dd__buf *out);

#endif
