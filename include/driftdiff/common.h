/*
 * driftdiff/common.h: the context, error codes and limits shared by every
 * part of the library.
 */
#ifndef DRIFTDIFF_COMMON_H
#define DRIFTDIFF_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(DD_BUILDING_LIBRARY) && defined(__GNUC__)
#define DD_API __attribute__((visibility("default")))
#else
#define DD_API
#endif

/* Return codes. 0 is success; every failure is negative. */
enum dd_error {
	DD_OK = 0,
	DD_ENOMEM = -1,     /* out of memory */
	DD_EIO = -2,        /* a read or open failed */
	DD_EFORMAT = -3,    /* the input is malformed or not what it claims */
	DD_EVERIFY = -4,    /* a size or digest did not match */
	DD_ENOTFOUND = -5,  /* a file, blob, ref or platform is not there */
	DD_EINVAL = -6,     /* a bad argument from the caller */
	DD_ELIMIT = -7,     /* a safety limit was exceeded */
	DD_EAMBIGUOUS = -8, /* several candidates and nothing to choose by */
	DD_EUNSUPPORTED = -9, /* valid input this version cannot handle */
};

/*
 * Safety limits applied to untrusted input. Zero in a field means "use the
 * default" (documented next to each field).
 */
struct dd_limits {
	unsigned version;
	uint64_t max_entries;      /* entries in one tree; 10,000,000 */
	uint64_t max_path;         /* bytes in one path; 4096 (Linux PATH_MAX) */
	uint64_t max_json;         /* bytes of one JSON document; 64 MiB */
	uint64_t max_layer_bytes;  /* uncompressed bytes of one layer; 1 TiB */
	uint64_t max_ratio;        /* uncompressed / compressed bytes; 1000 */
	uint64_t max_xattr;        /* bytes of one xattr value; 64 KiB */
	uint64_t max_link_hops;    /* symlinks followed inside an archive; 8 */
	uint64_t max_index_depth;  /* nested OCI indexes; 8 */
	uint64_t max_layers;       /* layers of one image; 500 */
	uint64_t max_json_depth;   /* nesting of a JSON document; 64 */
	uint64_t max_depth;        /* directory levels walked in a root filesystem; 256 */
};
#define DD_LIMITS_VERSION 1
#define DD_LIMITS_INIT { DD_LIMITS_VERSION, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }

/*
 * The limits by name, as the command line's --limit NAME=N spells them
 * ("max-ratio"...): the field of struct dd_limits NAME sets, or NULL.
 */
DD_API uint64_t *dd_limits_field(struct dd_limits *limits, const char *name);
/* The I-th limit's name; NULL past the end. */
DD_API const char *dd_limits_name(size_t i);

/*
 * A context carries the last error message and the limits. It is cheap;
 * use one per thread. Handles keep a pointer to the context they were
 * created with, so it must outlive them.
 */
struct dd_ctx;

DD_API int dd_ctx_new(struct dd_ctx **out);
DD_API void dd_ctx_free(struct dd_ctx *ctx);

/* The last error as one line, naming the file and what was wrong; "" if none. */
DD_API const char *dd_ctx_error(const struct dd_ctx *ctx);
/* The DD_E* code of the last error, 0 if none. */
DD_API int dd_ctx_error_code(const struct dd_ctx *ctx);
DD_API void dd_ctx_clear_error(struct dd_ctx *ctx);

/* Replace the limits; fields left 0 keep their defaults. */
DD_API int dd_ctx_set_limits(struct dd_ctx *ctx, const struct dd_limits *limits);
DD_API void dd_ctx_get_limits(const struct dd_ctx *ctx, struct dd_limits *out);

/*
 * Progress of long work, for a progress display. The callback runs on the
 * thread doing the work, often (once per entry read): it should only note
 * the numbers and return.
 */
enum dd_progress_kind {
	DD_PROGRESS_LAYER = 1,   /* reading an image layer */
	DD_PROGRESS_WALK,        /* walking a target root filesystem */
};
struct dd_progress {
	enum dd_progress_kind kind;
	size_t layer, layers;    /* LAYER: which layer (from 0) of how many */
	uint64_t done;           /* LAYER: compressed bytes of the blob consumed; WALK: bytes of files seen */
	uint64_t total;          /* LAYER: the blob's size; WALK: 0 (unknown) */
	uint64_t entries;        /* entries read so far in this layer, or in the walk */
};
typedef void (*dd_progress_fn)(const struct dd_progress *p, void *user);
/* Report progress on CTX's work to FN (NULL to stop). */
DD_API void dd_ctx_set_progress(struct dd_ctx *ctx, dd_progress_fn fn, void *user);

/* The library version, e.g. "0.1.0". */
DD_API const char *dd_version(void);

/* A short name for an error code, e.g. "verification failed". */
DD_API const char *dd_strerror(int code);

#ifdef __cplusplus
}
#endif
#endif
