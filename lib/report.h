/* Shared state of the report emitters (report.c, report_json.c). */
#ifndef DD_REPORT_PRIVATE_H
#define DD_REPORT_PRIVATE_H

#include <stdio.h>

#include "private.h"

struct dd__summary {
	size_t kinds[DD_CHANGE_UNREADABLE + 1]; /* reported (not ignored) changes by kind */
	size_t reported, ignored, findings, suppressed;
	size_t by_severity[DD_SEVERITY_CRITICAL + 1]; /* findings and uncovered changes */
	enum dd_severity max;
	bool drift;                   /* at or above opts->fail_on */
};

struct dd__report {
	struct dd_ctx *ctx;
	struct dd_image *img;
	const struct dd_diff *diff;
	const struct dd_findings *findings;
	const struct dd_report_options *opts;
	FILE *f;
	struct dd__summary sum;
	bool *covered;                /* per change: a finding covers it */
};

struct dd__emitter {
	const char *name;
	int (*write)(struct dd__report *r);
};

int dd__report_json(struct dd__report *r);
int dd__report_sarif(struct dd__report *r);

/* The layer that last wrote a change's path in the image, or NULL. */
const struct dd_layer_info *dd__change_layer(const struct dd__report *r, const struct dd_change *c);
/* "content, size, mtime" into B. */
int dd__change_attrs_text(struct dd__buf *b, const struct dd_change *c);

/* A table cell of markdown: quoted, with markdown's specials escaped. */
int dd__md_cell(struct dd__buf *b, const char *s, size_t len);

/* The live snapshot of the report options (version 2), or NULL (report_live.c). */
const struct dd_live *dd__report_live(const struct dd__report *r);
struct json_object;
struct json_object *dd__live_json(const struct dd__report *r);
int dd__live_text(const struct dd__report *r, struct dd__buf *b);
int dd__live_markdown(const struct dd__report *r, struct dd__buf *b);

#endif
