/*
 * Helpers shared by the libFuzzer targets: scratch directories on a tmpfs,
 * files written whole, SHA-256 in hex, and small OCI image layouts whose
 * digests are computed on the fly so that verification passes and the
 * code behind it runs. A failure of the harness itself (not of the
 * library) aborts with a message: it must never pass for a finding.
 */
#ifndef DD_FUZZ_COMMON_H
#define DD_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Abort with MSG and errno's text: a harness failure, not a finding. */
void fz_die(const char *msg) __attribute__((noreturn));

/* A new private directory on /dev/shm (or $TMPDIR); malloc'd path. */
char *fz_mkdtemp(const char *tag);
/* Remove everything below DIR, and DIR itself when self is true. */
void fz_rmtree(const char *dir, bool self);
/* Write DIR/NAME (created or truncated) with LEN bytes. */
void fz_write(const char *dir, const char *name, const void *data, size_t len);
/* Unlink every file in DIR (not recursive). */
void fz_clear_dir(const char *dir);

/* Lowercase hex SHA-256 of DATA into out[65]. */
void fz_sha256_hex(char out[65], const void *data, size_t len);

/*
 * The SHA-256 (hex) of the bytes that libarchive's gzip/zstd/xz/bzip2
 * filters produce from DATA, as layer.c hashes them for the diff_id; the
 * plain SHA-256 when DATA is not compressed or cannot be decompressed
 * (verification then fails, which is fine: the tree code ran first).
 */
void fz_diff_id_hex(char out[65], const void *data, size_t len);

struct fz_blob {
	const void *data;
	size_t len;
};

/*
 * (Re)write an OCI layout in DIR: oci-layout, blobs/sha256/ (emptied
 * first), one manifest listing LAYERS with LAYER_MT, a config whose
 * diff_ids match (or CONFIG itself when not NULL), index.json.
 */
void fz_layout_write(const char *dir, const struct fz_blob *layers, size_t n,
		     const char *layer_mt, const struct fz_blob *config);

/* A memfd holding DATA; *path receives "/proc/self/fd/N". Close the fd after. */
int fz_memfd(const void *data, size_t len, char path[64]);

#endif
