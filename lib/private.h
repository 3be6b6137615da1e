/*
 * Internal declarations shared by the modules of lib/. Nothing here is
 * part of the public API; internal names are dd__*.
 */
#ifndef DD_PRIVATE_H
#define DD_PRIVATE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "driftdiff.h"

#define DD_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define DD_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define DD_PRINTF(f, a)
#endif

struct dd_ctx {
	int code;
	char *msg;          /* heap; "" when no error */
	struct dd_limits limits;
	dd_progress_fn progress;
	void *progress_user;
};

/* Record an error on CTX and return CODE, so callers can write `return dd__error(...)`. */
int dd__error(struct dd_ctx *ctx, int code, const char *fmt, ...) DD_PRINTF(3, 4);
/* Prefix the current message with "PREFIX: " (used to add a file name on the way up). */
void dd__error_prefix(struct dd_ctx *ctx, const char *fmt, ...) DD_PRINTF(2, 3);

/* The generic drift rule for a change that no specific finding covers. */
const struct dd_rule *dd__change_rule(const struct dd_change *c);

/* Bytes of a file's fingerprint (digest.h) kept by trees. */
#define DD__FP_LEN 12

/* ---- bump arena: many small allocations freed together ---- */
struct dd__arena_chunk;
struct dd__arena {
	struct dd__arena_chunk *head;
	size_t used, cap;   /* of the head chunk */
	size_t total;       /* bytes allocated from the system, for accounting */
};
void dd__arena_init(struct dd__arena *a);
void dd__arena_free(struct dd__arena *a);
/* Aligned to 8; NULL on ENOMEM. */
void *dd__arena_alloc(struct dd__arena *a, size_t n);
/* A NUL-terminated copy of N bytes. */
char *dd__arena_strndup(struct dd__arena *a, const char *s, size_t n);
/* The same, packed: not aligned, for arenas of many small strings. */
char *dd__arena_string(struct dd__arena *a, const char *s, size_t n);
/* Move every allocation of SRC into DST (freed with DST); SRC is left empty. */
void dd__arena_adopt(struct dd__arena *dst, struct dd__arena *src);

/* ---- growable byte buffer ---- */
struct dd__buf {
	char *data;
	size_t len, cap;
};
#define DD__BUF_INIT { NULL, 0, 0 }
int dd__buf_grow(struct dd__buf *b, size_t extra);
int dd__buf_put(struct dd__buf *b, const void *p, size_t n);
int dd__buf_puts(struct dd__buf *b, const char *s);
int dd__buf_printf(struct dd__buf *b, const char *fmt, ...) DD_PRINTF(2, 3);
int dd__buf_vprintf(struct dd__buf *b, const char *fmt, va_list ap);
void dd__buf_free(struct dd__buf *b);
/* Detach the NUL-terminated string; the buffer becomes empty. */
char *dd__buf_detach(struct dd__buf *b);

/* ---- growable array of pointers ---- */
struct dd__ptrvec {
	void **items;
	size_t len, cap;
};
int dd__ptrvec_push(struct dd__ptrvec *v, void *p);

/*
 * Room for element N of the array *ITEMS (ITEMS is the address of the
 * array pointer) of SIZE-byte elements and capacity *CAP: doubled when
 * full (16 to start). DD_ENOMEM leaves the array as it was.
 */
int dd__grow(void *items, size_t *cap, size_t n, size_t size);
void dd__ptrvec_free(struct dd__ptrvec *v);

/*
 * Read the whole of PATH, a file the user named (a config, a policy, a
 * list of digests): refused unless it is a regular file, checked before a
 * byte is read so a FIFO cannot hang us, and no larger than MAX bytes.
 */
int dd__read_regular(struct dd_ctx *ctx, const char *path, uint64_t max, struct dd__buf *out);

/*
 * One word of a command line as a shell would show it: plain words bare,
 * others in single quotes, cut after 200 bytes. Details hold raw text;
 * the emitters escape what a terminal or a document must not see.
 */
int dd__put_word(struct dd__buf *b, const char *s);

/* Warning lists (image, tree): heap strings, kept to the first thousand. */
void dd__warnings_push(struct dd__ptrvec *w, const char *fmt, va_list ap);
void dd__warnings_free(struct dd__ptrvec *w);

/* gzip, zstd, xz and bzip2 decompression on a libarchive reader. */
struct archive;
void dd__archive_support_filters(struct archive *a);

/* ---- paths ---- */
/*
 * Normalise a name from a tar header or a document into an absolute path:
 * "./a//b/", "/a/b" and "a/b" all become "/a/b"; "." components are
 * dropped and ".." removes the component before it ("a/../b" is "/b"). A
 * ".." that would climb above the root is refused (DD_EFORMAT): nothing
 * may leave it. The root itself is "/". OUT is reset first.
 */
int dd__path_normalize(struct dd__buf *out, const char *name, size_t len);
/* Length of the parent of an absolute path ("/a/b" -> 2, "/a" -> 1). */
size_t dd__path_parent_len(const char *path, size_t len);
/* Offset of the last component ("/a/b" -> 3). */
size_t dd__path_base_off(const char *path, size_t len);
bool dd__utf8_valid(const char *s, size_t len);
/*
 * A printable, lossless quoting of bytes in the style of git: printable
 * ASCII and valid UTF-8 stay, \\ \" \n \t and \ooo octal for the rest.
 */
int dd__quote(struct dd__buf *out, const char *s, size_t len);
/* dd__quote(), in double quotes when escapes were needed or spaces could mislead. */
int dd__quote_path(struct dd__buf *out, const char *s, size_t len);
/* The JSON string form of bytes: UTF-8 as is, an invalid byte as "\\xHH". */
int dd__escape_invalid_utf8(struct dd__buf *out, const char *s, size_t len);
int dd__base64(struct dd__buf *out, const unsigned char *p, size_t len);
/* Decode base64; -1 on a malformed input. */
int dd__base64_decode(struct dd__buf *out, const char *s, size_t len);
/* Files larger than this are never kept whole, whatever their name. */
#define DD__CONTENT_MAX (32u << 20)

/* Classify a regular file by its first bytes: ELF (with e_machine) or #! script. */
void dd__exec_sniff(const void *p, size_t n, uint8_t *exec, uint16_t *machine);
/*
 * How much of an executable's first N bytes (at P) libmagic is shown, so
 * how much is worth keeping: its text tests run regexes over the whole
 * buffer (4 KiB of plain text costs 3-4 ms, 1 KiB a third of that) and
 * the first KiB says what kind of text it is, so text (no NUL in the first
 * KiB) is cut to DD__TEXT_HEAD. Binary heads are kept whole: an ELF's
 * interpreter and notes may lie further.
 */
#define DD__TEXT_HEAD 1024
size_t dd__head_len(const unsigned char *p, size_t n);
void dd__hex(char *out, const unsigned char *p, size_t len);
int dd__unhex(unsigned char *out, const char *hex, size_t len);

#endif
