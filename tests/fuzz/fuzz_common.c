/* Helpers shared by the fuzz targets (see fuzz_common.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>
#include <json-c/json.h>

#include "lib/digest.h"
#include "fuzz_common.h"

void fz_die(const char *msg)
{
	fprintf(stderr, "fuzz harness: %s: %s\n", msg, strerror(errno));
	abort();
}

char *fz_mkdtemp(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char *p;
	struct stat st;

	if (!base || !*base)
		base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
	if (asprintf(&p, "%s/ddfuzz-%s-XXXXXX", base, tag) < 0)
		fz_die("asprintf");
	if (!mkdtemp(p))
		fz_die("mkdtemp");
	return p;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static int rm_below(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (ftw->level == 0)
		return 0;
	return rm_one(path, st, flag, ftw);
}

void fz_rmtree(const char *dir, bool self)
{
	nftw(dir, self ? rm_one : rm_below, 16, FTW_DEPTH | FTW_PHYS);
}

void fz_write(const char *dir, const char *name, const void *data, size_t len)
{
	char *p;
	int fd;
	const char *c = data;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		fz_die("asprintf");
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		fz_die(p);
	while (len) {
		ssize_t n = write(fd, c, len);

		if (n <= 0)
			fz_die("write");
		c += n;
		len -= (size_t)n;
	}
	close(fd);
	free(p);
}

void fz_clear_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

void fz_sha256_hex(char out[65], const void *data, size_t len)
{
	struct dd__hasher *h = NULL;
	struct dd__digest d;

	if (dd__hasher_new(&h, DD__ALG_SHA256) || dd__hasher_update(h, data, len) ||
	    dd__hasher_final(h, &d))
		fz_die("sha256");
	dd__hasher_free(h);
	memcpy(out, d.str + 7, 65);
}

void fz_diff_id_hex(char out[65], const void *data, size_t len)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	struct dd__hasher *h = NULL;
	struct dd__digest d;
	const void *p;
	size_t size;
	la_int64_t off;
	uint64_t total = 0;
	int r;

	fz_sha256_hex(out, data, len);
	if (!a || dd__hasher_new(&h, DD__ALG_SHA256))
		fz_die("diff_id");
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK ||
	    archive_filter_code(a, 0) == ARCHIVE_FILTER_NONE)
		goto out;
	while ((r = archive_read_data_block(a, &p, &size, &off)) == ARCHIVE_OK ||
	       r == ARCHIVE_WARN) {
		total += size;
		if (total > (64u << 20))
			goto out; /* a bomb: the library's limits decide, not us */
		dd__hasher_update(h, p, size);
	}
	if (r == ARCHIVE_EOF && dd__hasher_final(h, &d) == 0)
		memcpy(out, d.str + 7, 65);
out:
	dd__hasher_free(h);
	archive_read_free(a);
}

static const char *json_text(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* Write DATA as a blob; its "sha256:..." digest into digest[72]. */
static void put_blob(const char *dir, const void *data, size_t len, char digest[72])
{
	char hex[65], name[96];

	fz_sha256_hex(hex, data, len);
	snprintf(name, sizeof(name), "blobs/sha256/%s", hex);
	fz_write(dir, name, data, len);
	snprintf(digest, 72, "sha256:%s", hex);
}

static struct json_object *desc(const char *mt, const char *digest, size_t size)
{
	struct json_object *d = json_object_new_object();

	json_object_object_add(d, "mediaType", json_object_new_string(mt));
	json_object_object_add(d, "digest", json_object_new_string(digest));
	json_object_object_add(d, "size", json_object_new_int64((int64_t)size));
	return d;
}

void fz_layout_write(const char *dir, const struct fz_blob *layers, size_t n,
		     const char *layer_mt, const struct fz_blob *config)
{
	struct json_object *cfg, *rootfs, *ids, *man, *ldescs, *index, *list;
	char blobs[4096], digest[72], cdigest[72], hex[65];
	const char *text;
	size_t i, clen;

	snprintf(blobs, sizeof(blobs), "%s/blobs", dir);
	mkdir(blobs, 0755);
	snprintf(blobs, sizeof(blobs), "%s/blobs/sha256", dir);
	mkdir(blobs, 0755);
	fz_clear_dir(blobs);
	fz_write(dir, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30);

	ids = json_object_new_array();
	ldescs = json_object_new_array();
	for (i = 0; i < n; i++) {
		put_blob(dir, layers[i].data, layers[i].len, digest);
		json_object_array_add(ldescs, desc(layer_mt, digest, layers[i].len));
		fz_diff_id_hex(hex, layers[i].data, layers[i].len);
		snprintf(digest, sizeof(digest), "sha256:%s", hex);
		json_object_array_add(ids, json_object_new_string(digest));
	}
	cfg = json_object_new_object();
	json_object_object_add(cfg, "architecture", json_object_new_string("amd64"));
	json_object_object_add(cfg, "os", json_object_new_string("linux"));
	rootfs = json_object_new_object();
	json_object_object_add(rootfs, "type", json_object_new_string("layers"));
	json_object_object_add(rootfs, "diff_ids", ids);
	json_object_object_add(cfg, "rootfs", rootfs);
	if (config) {
		put_blob(dir, config->data, config->len, cdigest);
		clen = config->len;
	} else {
		text = json_text(cfg);
		clen = strlen(text);
		put_blob(dir, text, clen, cdigest);
	}
	json_object_put(cfg);

	man = json_object_new_object();
	json_object_object_add(man, "schemaVersion", json_object_new_int(2));
	json_object_object_add(man, "mediaType",
			       json_object_new_string("application/vnd.oci.image.manifest.v1+json"));
	json_object_object_add(man, "config",
			       desc("application/vnd.oci.image.config.v1+json", cdigest, clen));
	json_object_object_add(man, "layers", ldescs);
	text = json_text(man);
	put_blob(dir, text, strlen(text), digest);
	index = json_object_new_object();
	json_object_object_add(index, "schemaVersion", json_object_new_int(2));
	list = json_object_new_array();
	json_object_array_add(list, desc("application/vnd.oci.image.manifest.v1+json", digest,
					 strlen(text)));
	json_object_object_add(index, "manifests", list);
	json_object_put(man);
	text = json_text(index);
	fz_write(dir, "index.json", text, strlen(text));
	json_object_put(index);
}

int fz_memfd(const void *data, size_t len, char path[64])
{
	int fd = memfd_create("ddfuzz", MFD_CLOEXEC);
	const char *c = data;

	if (fd < 0)
		fz_die("memfd_create");
	while (len) {
		ssize_t n = write(fd, c, len);

		if (n <= 0)
			fz_die("write memfd");
		c += n;
		len -= (size_t)n;
	}
	snprintf(path, 64, "/proc/self/fd/%d", fd);
	return fd;
}
