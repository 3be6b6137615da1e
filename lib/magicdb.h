/*
 * libmagic's database, mapped once per classification and shared by every
 * handle that describes files, on whatever thread.
 */
#ifndef DD_MAGICDB_H
#define DD_MAGICDB_H

#include <stdbool.h>
#include <stddef.h>

#include <magic.h>

struct dd__magic_db {
	void *map;      /* the compiled database, or NULL: each handle loads its own */
	size_t len;
	bool tried;
};

/*
 * Map the compiled database once, if libmagic's search path comes down to
 * it (see magicdb.c). Call before handing DB to other threads.
 */
void dd__magic_db_map(struct dd__magic_db *db);
/* A handle with FLAGS, its rules from DB's mapping or else from the search path; NULL on failure. */
magic_t dd__magic_open(const struct dd__magic_db *db, int flags);
void dd__magic_db_unmap(struct dd__magic_db *db);

#endif
