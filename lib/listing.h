/* Entry serialisation shared by the listings and the saved manifest. */
#ifndef DD_LISTING_H
#define DD_LISTING_H

#include <stdio.h>
#include <json-c/json.h>

#include "private.h"

/*
 * The JSON object of one entry (the "jsonl" listing and manifest lines).
 * WITH_CONTENT adds the kept content (base64), for saved manifests.
 */
int dd__entry_json(const struct dd_entry *e, bool with_content, struct json_object **out);
/* dd_tree_write(), optionally with kept contents. */
int dd__tree_write(struct dd_ctx *ctx, const struct dd_tree *tree, enum dd_listing format,
		   bool with_content, FILE *f);
/* One JSON value on one line. */
int dd__json_write_line(struct json_object *o, FILE *f);
/* "-rwsr-xr-x" */
void dd__mode_string(char out[11], enum dd_type type, uint32_t mode);

#endif
