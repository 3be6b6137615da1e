/*
 * libmagic's database, mapped once. magic_load() maps the compiled
 * database anew for every handle, and every mapping of it counts its
 * 6-8 MB in the resident set: with two threads describing ahead and the
 * rules' own handle, three copies, more than the image tree of a small
 * image. Loaded with magic_load_buffers() from one mapping, the handles
 * share it.
 *
 * That is only the same as magic_load() when libmagic's search path comes
 * down to that one compiled file: Debian's default is "/etc/magic" (a
 * file of comments, for local rules) then "/usr/share/misc/magic", whose
 * ".mgc" libmagic prefers. Anything else (rules in a text file, a magic
 * directory, two compiled files, a byte order to swap) and every handle
 * loads the path itself, as before.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "magicdb.h"

#define MGC_MAGIC 0xF11E041Cu          /* first word of a compiled database, native order */
#define MGC_MAX ((size_t)256 << 20)    /* no real database comes near */
#define TEXT_MAX ((off_t)64 << 10)     /* a local rules file we are willing to read */

/* Is the text magic file at PATH absent or only comments and blank lines? */
static bool holds_no_rules(const char *path)
{
	struct stat st;
	char *buf = NULL;
	bool none = false;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return errno == ENOENT;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > TEXT_MAX ||
	    !(buf = malloc((size_t)st.st_size + 1)))
		goto out;
	n = read(fd, buf, (size_t)st.st_size);
	if (n != st.st_size)
		goto out;
	buf[n] = '\0';
	if (memchr(buf, '\0', (size_t)n))
		goto out;
	none = true;
	for (const char *line = buf, *end; none; line = end + 1) {
		line += strspn(line, " \t\r");
		none = *line == '#' || *line == '\n' || *line == '\0';
		if (!(end = strchr(line, '\n')))
			break;
	}
out:
	free(buf);
	close(fd);
	return none;
}

/* An open descriptor on ELEM's compiled form (ELEM.mgc, or ELEM itself if so named), or -1. */
static int open_compiled(const char *elem)
{
	size_t n = strlen(elem);
	char *name = malloc(n + 5);
	int fd;

	if (!name)
		return -1;
	memcpy(name, elem, n + 1);
	if (n < 4 || strcmp(elem + n - 4, ".mgc"))
		memcpy(name + n, ".mgc", 5);
	fd = open(name, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	free(name);
	return fd;
}

void dd__magic_db_map(struct dd__magic_db *db)
{
	const char *path;
	char *list = NULL, *elem, *save = NULL;
	struct stat st;
	uint32_t word;
	void *p;
	int fd = -1;

	if (db->tried)
		return;
	db->tried = true;
	path = magic_getpath(NULL, 0);
	if (!path || !(list = strdup(path)))
		return;
	for (elem = strtok_r(list, ":", &save); elem; elem = strtok_r(NULL, ":", &save)) {
		int c = open_compiled(elem);

		if (c >= 0 && fd < 0) {
			fd = c;
		} else if (c >= 0 || !holds_no_rules(elem)) {
			if (c >= 0)
				close(c);
			goto out; /* two compiled files, or rules we would miss */
		}
	}
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 8 ||
	    (uint64_t)st.st_size > MGC_MAX)
		goto out;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		goto out;
	memcpy(&word, p, sizeof(word));
	if (word != MGC_MAGIC) {
		/* Another byte order: libmagic would swap it in place, in a shared buffer. */
		munmap(p, (size_t)st.st_size);
		goto out;
	}
	db->map = p;
	db->len = (size_t)st.st_size;
out:
	if (fd >= 0)
		close(fd);
	free(list);
}

magic_t dd__magic_open(const struct dd__magic_db *db, int flags)
{
	magic_t m = magic_open(flags);

	if (!m)
		return NULL;
	if (db && db->map) {
		void *bufs[1] = { db->map };
		size_t sizes[1] = { db->len };

		if (magic_load_buffers(m, bufs, sizes, 1) == 0)
			return m;
		magic_close(m); /* start again clean */
		if (!(m = magic_open(flags)))
			return NULL;
	}
	if (magic_load(m, NULL) == 0)
		return m;
	magic_close(m);
	return NULL;
}

void dd__magic_db_unmap(struct dd__magic_db *db)
{
	if (db->map)
		munmap(db->map, db->len);
	db->map = NULL;
	db->len = 0;
}
