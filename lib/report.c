/*
 * Reports: the summary every format shares, the emitter table, and the
 * text and markdown emitters (JSON and SARIF are in report_json.c).
 */
#include <stdlib.h>
#include <string.h>

#include "report.h"

enum dd_report_format dd_report_format_parse(const char *name)
{
	if (!name)
		return (enum dd_report_format)0;
	if (!strcmp(name, "text"))
		return DD_REPORT_TEXT;
	if (!strcmp(name, "json"))
		return DD_REPORT_JSON;
	if (!strcmp(name, "sarif"))
		return DD_REPORT_SARIF;
	if (!strcmp(name, "markdown") || !strcmp(name, "md"))
		return DD_REPORT_MARKDOWN;
	return (enum dd_report_format)0;
}

const struct dd_layer_info *dd__change_layer(const struct dd__report *r, const struct dd_change *c)
{
	if (!r->img || !c->before || c->before->layer < 0)
		return NULL;
	return dd_image_layer(r->img, (size_t)c->before->layer);
}

int dd__change_attrs_text(struct dd__buf *b, const struct dd_change *c)
{
	const struct dd_attr_info *t;
	size_t i, n;
	bool first = true;

	t = dd_attr_table(&n);
	for (i = 0; i < n; i++) {
		if (!(c->attrs & t[i].bit))
			continue;
		if (dd__buf_printf(b, "%s%s", first ? "" : ", ", t[i].label))
			return DD_ENOMEM;
		first = false;
	}
	return 0;
}

bool dd_report_has_drift(const struct dd_diff *diff, const struct dd_findings *f,
			 enum dd_severity threshold)
{
	size_t i, n = dd_diff_count(diff);
	bool *covered = calloc(n ? n : 1, sizeof(*covered)), drift = false;

	/*
	 * A finding speaks for the changes it covers: when a policy
	 * suppresses it, its change does not fail the gate on its own.
	 */
	for (i = 0; i < dd_findings_count(f); i++) {
		const struct dd_finding *x = dd_findings_get(f, i);

		if (x->change && covered)
			covered[x->change - dd_diff_change(diff, 0)] = true;
		if (!x->suppressed_by && x->severity >= threshold)
			drift = true;
	}
	for (i = 0; i < n && !drift; i++) {
		const struct dd_change *c = dd_diff_change(diff, i);

		if (!(c->flags & DD_CHANGE_IGNORED) && !(covered && covered[i]) && c->severity >= threshold)
			drift = true;
	}
	free(covered);
	return drift;
}

static int summarize(struct dd__report *r)
{
	struct dd__summary *s = &r->sum;
	size_t i, n = dd_diff_count(r->diff);

	r->covered = calloc(n ? n : 1, sizeof(*r->covered));
	if (!r->covered)
		return DD_ENOMEM;
	for (i = 0; i < dd_findings_count(r->findings); i++) {
		const struct dd_finding *f = dd_findings_get(r->findings, i);
		size_t idx = f->change ? (size_t)(f->change - dd_diff_change(r->diff, 0)) : n;

		if (idx < n)
			r->covered[idx] = true;
		if (f->suppressed_by) {
			s->suppressed++;
			continue;
		}
		s->findings++;
		s->by_severity[f->severity]++;
		if (f->severity > s->max)
			s->max = f->severity;
	}
	for (i = 0; i < n; i++) {
		const struct dd_change *c = dd_diff_change(r->diff, i);

		if (c->flags & DD_CHANGE_IGNORED) {
			s->ignored++;
			continue;
		}
		s->reported++;
		s->kinds[c->kind]++;
		/* A covered change speaks through its findings (which a policy may have silenced). */
		if (r->covered[i])
			continue;
		s->by_severity[c->severity]++;
		if (c->severity > s->max)
			s->max = c->severity;
	}
	s->drift = dd_report_has_drift(r->diff, r->findings, r->opts->fail_on);
	return 0;
}

/* ---- text ---- */

static const char *kind_letter(enum dd_change_kind k)
{
	switch (k) {
	case DD_CHANGE_ADDED: return "A";
	case DD_CHANGE_MODIFIED: return "M";
	case DD_CHANGE_DELETED: return "D";
	case DD_CHANGE_TYPE_CHANGED: return "T";
	case DD_CHANGE_UNREADABLE: return "U";
	}
	return "?";
}

static const char *kind_color(enum dd_change_kind k)
{
	switch (k) {
	case DD_CHANGE_ADDED: return "\033[32m";
	case DD_CHANGE_DELETED: return "\033[31m";
	case DD_CHANGE_MODIFIED: return "\033[33m";
	case DD_CHANGE_TYPE_CHANGED: return "\033[35m";
	case DD_CHANGE_UNREADABLE: return "\033[1;31m";
	}
	return "";
}

static const char *sev_color(enum dd_severity s)
{
	return s >= DD_SEVERITY_HIGH ? "\033[1;31m" : s == DD_SEVERITY_MEDIUM ? "\033[33m" : "";
}

static int text_change(struct dd__report *r, struct dd__buf *b, const struct dd_change *c)
{
	bool color = r->opts->color;
	const struct dd_layer_info *l = dd__change_layer(r, c);

	b->len = 0;
	if (dd__buf_printf(b, "%s%s%s ", color ? kind_color(c->kind) : "", kind_letter(c->kind),
			   color ? "\033[0m" : "") ||
	    dd__quote_path(b, c->path, c->path_len))
		return DD_ENOMEM;
	if (c->kind == DD_CHANGE_TYPE_CHANGED &&
	    dd__buf_printf(b, "  %s -> %s", dd_type_name(c->before->type), dd_type_name(c->after->type)))
		return DD_ENOMEM;
	if (c->kind == DD_CHANGE_MODIFIED || c->kind == DD_CHANGE_UNREADABLE) {
		if (dd__buf_puts(b, "  ") || dd__change_attrs_text(b, c))
			return DD_ENOMEM;
		if (c->kind == DD_CHANGE_UNREADABLE && dd__buf_puts(b, c->attrs ? ", unreadable" : "unreadable"))
			return DD_ENOMEM;
	}
	if (c->after && c->after->type == DD_TYPE_SYMLINK && (c->kind != DD_CHANGE_MODIFIED ||
							      (c->attrs & DD_ATTR_TARGET))) {
		if (dd__buf_puts(b, "  -> ") || dd__quote_path(b, c->after->target, c->after->target_len))
			return DD_ENOMEM;
	}
	if (c->kind == DD_CHANGE_ADDED && c->after->extra->hardlink &&
	    (dd__buf_puts(b, "  => ") ||
	     dd__quote_path(b, c->after->extra->hardlink, c->after->extra->hardlink_len)))
		return DD_ENOMEM;
	if ((c->flags & DD_CHANGE_NEW_EXEC) && dd__buf_puts(b, "  [executable]"))
		return DD_ENOMEM;
	if ((c->flags & DD_CHANGE_RACED) && dd__buf_puts(b, "  [changed while read]"))
		return DD_ENOMEM;
	if (l && dd__buf_printf(b, "  (layer %d%s%s)", c->before->layer,
				l->created_by ? ": " : "", l->created_by ? l->created_by : ""))
		return DD_ENOMEM;
	return dd__buf_puts(b, "\n");
}

/* "  high     DD-BIN-001  Executable added: /tmp/x (ELF ...)" */
static int text_finding(struct dd__report *r, struct dd__buf *b, const struct dd_finding *f)
{
	bool color = r->opts->color;
	size_t k;

	if (dd__buf_printf(b, "  %s%-8s%s %-11s %s", color ? sev_color(f->severity) : "",
			   dd_severity_name(f->severity), color ? "\033[0m" : "", f->rule->id,
			   f->rule->title))
		return DD_ENOMEM;
	for (k = 0; k < f->npaths && k < 3; k++)
		if (dd__buf_puts(b, k ? ", " : ": ") || dd__quote_path(b, f->paths[k].path, f->paths[k].len))
			return DD_ENOMEM;
	if (f->npaths > 3 && dd__buf_printf(b, " and %zu more", f->npaths - 3))
		return DD_ENOMEM;
	if (f->package && dd__buf_printf(b, "%s%s%s%s%s%s", f->npaths ? " " : ": ", f->package->name,
					 f->package->old_version || f->package->version ? " " : "",
					 f->package->old_version ? f->package->old_version : "",
					 f->package->old_version && f->package->version ? " -> " : "",
					 f->package->version ? f->package->version : ""))
		return DD_ENOMEM;
	if (f->package && f->package->ecosystem && dd__buf_printf(b, " [%s]", f->package->ecosystem))
		return DD_ENOMEM;
	if (f->detail && (dd__buf_puts(b, " (") || dd__quote(b, f->detail, strlen(f->detail)) ||
			  dd__buf_puts(b, ")")))
		return DD_ENOMEM;
	return dd__buf_puts(b, "\n");
}

static int text_write(struct dd__report *r)
{
	struct dd__buf b = DD__BUF_INIT;
	const struct dd__summary *s = &r->sum;
	size_t i, n = dd_diff_count(r->diff);
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		const struct dd_change *c = dd_diff_change(r->diff, i);

		if (c->flags & DD_CHANGE_IGNORED)
			continue;
		rc = text_change(r, &b, c);
		if (rc == 0 && fwrite(b.data, 1, b.len, r->f) != b.len)
			rc = DD_EIO;
	}
	if (rc == 0 && dd__report_live(r)) {
		b.len = 0;
		rc = dd__live_text(r, &b);
		if (rc == 0 && fwrite(b.data, 1, b.len, r->f) != b.len)
			rc = DD_EIO;
	}
	if (rc == 0 && s->findings)
		fprintf(r->f, "\nfindings:\n");
	for (i = 0; rc == 0 && i < dd_findings_count(r->findings); i++) {
		const struct dd_finding *f = dd_findings_get(r->findings, i);

		if (f->suppressed_by)
			continue;
		b.len = 0;
		rc = text_finding(r, &b, f);
		if (rc == 0 && fwrite(b.data, 1, b.len, r->f) != b.len)
			rc = DD_EIO;
	}
	if (rc == 0 && ((r->img && dd_image_warning_count(r->img)) ||
			(r->opts->target_tree && dd_tree_warning_count(r->opts->target_tree))))
		fprintf(r->f, "\nwarnings:\n");
	for (i = 0; rc == 0 && r->img && i < dd_image_warning_count(r->img); i++) {
		const char *w = dd_image_warning(r->img, i);

		b.len = 0;
		if (dd__quote(&b, w, strlen(w)))
			rc = DD_ENOMEM;
		else
			fprintf(r->f, "  image: %s\n", b.data ? b.data : "");
	}
	if (rc == 0 && r->opts->target_tree && dd_tree_warning_count(r->opts->target_tree)) {
		for (i = 0; i < dd_tree_warning_count(r->opts->target_tree); i++) {
			const char *w = dd_tree_warning(r->opts->target_tree, i);

			b.len = 0;
			if (dd__quote(&b, w, strlen(w)))
				rc = DD_ENOMEM;
			else
				fprintf(r->f, "  %s\n", b.data ? b.data : "");
		}
	}
	if (rc == 0 && !r->diff) {
		/* The process view alone: no files were compared. */
		fprintf(r->f, "\n%zu finding%s", s->findings, s->findings == 1 ? "" : "s");
		if (s->findings)
			fprintf(r->f, ", highest severity %s", dd_severity_name(s->max));
		fprintf(r->f, "\n");
	} else if (rc == 0) {
		fprintf(r->f, "\n%zu change%s: %zu added, %zu modified, %zu deleted, %zu type changed, %zu unreadable",
			s->reported, s->reported == 1 ? "" : "s", s->kinds[DD_CHANGE_ADDED],
			s->kinds[DD_CHANGE_MODIFIED], s->kinds[DD_CHANGE_DELETED],
			s->kinds[DD_CHANGE_TYPE_CHANGED], s->kinds[DD_CHANGE_UNREADABLE]);
		if (s->ignored)
			fprintf(r->f, "; %zu ignored", s->ignored);
		if (s->suppressed)
			fprintf(r->f, "; %zu findings suppressed by policy", s->suppressed);
		fprintf(r->f, "; %zu finding%s", s->findings, s->findings == 1 ? "" : "s");
		if (s->reported || s->findings)
			fprintf(r->f, ", highest severity %s", dd_severity_name(s->max));
		fprintf(r->f, "\n");
	}
	dd__buf_free(&b);
	return rc;
}

/* ---- markdown ---- */

/* A path or text inside a table cell: quoted, with markdown's specials escaped. */
int dd__md_cell(struct dd__buf *b, const char *s, size_t len)
{
	struct dd__buf q = DD__BUF_INIT;
	size_t i;
	int rc = dd__quote(&q, s, len);

	for (i = 0; rc == 0 && i < q.len; i++) {
		char ch = q.data[i];

		if (strchr("|`*_[]<>#\\!~", ch))
			rc = dd__buf_printf(b, "&#%d;", ch);
		else
			rc = dd__buf_put(b, &ch, 1);
	}
	dd__buf_free(&q);
	return rc;
}

static int md_write(struct dd__report *r)
{
	struct dd__buf b = DD__BUF_INIT;
	const struct dd__summary *s = &r->sum;
	const char *ref = r->img ? dd_image_ref(r->img) : NULL;
	const char *dig = r->img ? dd_image_manifest_digest(r->img) : NULL;
	size_t i, n = dd_diff_count(r->diff), shown = 0;
	int rc = 0;

	if (dd__buf_printf(&b, "## driftdiff: %s\n\n", s->drift ? "drift found" : "no drift") ||
	    dd__buf_puts(&b, "**Image:** ") ||
	    dd__md_cell(&b, r->img ? dd_image_path(r->img) : "-", strlen(r->img ? dd_image_path(r->img) : "-")) ||
	    (ref && (dd__buf_puts(&b, " ref ") || dd__md_cell(&b, ref, strlen(ref)))) ||
	    (dig && dd__buf_printf(&b, " (%.19s…)", dig)) ||
	    dd__buf_puts(&b, "  \n**Target:** ") ||
	    dd__md_cell(&b, r->opts->target ? r->opts->target : "-", strlen(r->opts->target ? r->opts->target : "-")) ||
	    dd__buf_printf(&b, " (%s)\n\n", r->opts->target_kind ? r->opts->target_kind : "-") ||
	    dd__buf_printf(&b, "| added | modified | deleted | type changed | unreadable | ignored | findings | highest |\n"
			       "|---:|---:|---:|---:|---:|---:|---:|---|\n"
			       "| %zu | %zu | %zu | %zu | %zu | %zu | %zu | %s |\n\n",
			   s->kinds[DD_CHANGE_ADDED], s->kinds[DD_CHANGE_MODIFIED], s->kinds[DD_CHANGE_DELETED],
			   s->kinds[DD_CHANGE_TYPE_CHANGED], s->kinds[DD_CHANGE_UNREADABLE], s->ignored,
			   s->findings, s->reported || s->findings ? dd_severity_name(s->max) : "-"))
		rc = DD_ENOMEM;
	if (rc == 0 && s->findings &&
	    dd__buf_puts(&b, "### Findings\n\n| severity | rule | finding | path |\n|---|---|---|---|\n"))
		rc = DD_ENOMEM;
	for (i = 0; rc == 0 && i < dd_findings_count(r->findings); i++) {
		const struct dd_finding *f = dd_findings_get(r->findings, i);

		if (f->suppressed_by)
			continue;
		if (dd__buf_printf(&b, "| %s | %s | %s | ", dd_severity_name(f->severity), f->rule->id,
				   f->rule->title) ||
		    (f->npaths && dd__md_cell(&b, f->paths[0].path, f->paths[0].len)) ||
		    (f->npaths > 1 && dd__buf_printf(&b, " (+%zu)", f->npaths - 1)) ||
		    (f->package && (dd__buf_puts(&b, f->npaths ? " " : "") ||
				    dd__md_cell(&b, f->package->name, strlen(f->package->name)))) ||
		    dd__buf_puts(&b, " |\n"))
			rc = DD_ENOMEM;
	}
	if (rc == 0 && dd__report_live(r) && ((s->findings && dd__buf_puts(&b, "\n")) ||
					       dd__live_markdown(r, &b)))
		rc = DD_ENOMEM;
	if (rc == 0 && s->reported &&
	    dd__buf_printf(&b, "%s<details><summary>Changes (%zu)</summary>\n\n| | path | what changed |\n|---|---|---|\n",
			   s->findings ? "\n" : "", s->reported))
		rc = DD_ENOMEM;
	for (i = 0; rc == 0 && i < n; i++) {
		const struct dd_change *c = dd_diff_change(r->diff, i);

		if (c->flags & DD_CHANGE_IGNORED)
			continue;
		if (++shown > 1000) {
			rc = dd__buf_printf(&b, "| | … %zu more: see the JSON report | |\n", s->reported - 1000);
			break;
		}
		if (dd__buf_printf(&b, "| %s | ", kind_letter(c->kind)) ||
		    dd__md_cell(&b, c->path, c->path_len) || dd__buf_puts(&b, " | ") ||
		    (c->attrs ? dd__change_attrs_text(&b, c) : dd__buf_puts(&b, dd_change_kind_name(c->kind))) ||
		    dd__buf_puts(&b, " |\n"))
			rc = DD_ENOMEM;
	}
	if (rc == 0 && s->reported && dd__buf_puts(&b, "\n</details>\n"))
		rc = DD_ENOMEM;
	if (rc == 0 && b.len && fwrite(b.data, 1, b.len, r->f) != b.len)
		rc = DD_EIO;
	dd__buf_free(&b);
	return rc;
}

static const struct dd__emitter emitters[] = {
	[DD_REPORT_TEXT] = { "text", text_write },
	[DD_REPORT_JSON] = { "json", dd__report_json },
	[DD_REPORT_SARIF] = { "sarif", dd__report_sarif },
	[DD_REPORT_MARKDOWN] = { "markdown", md_write },
};

int dd_report_write(struct dd_ctx *ctx, enum dd_report_format format, struct dd_image *img,
		    const struct dd_diff *diff, const struct dd_findings *findings,
		    const struct dd_report_options *opts, FILE *f)
{
	struct dd_report_options defaults = DD_REPORT_OPTIONS_INIT;
	struct dd__report r;
	int rc;

	if (!ctx || !f)
		return DD_EINVAL;
	/* Without a diff, only the process view of a live snapshot can be reported. */
	if (!diff && !(opts && opts->version >= 2 && opts->live))
		return DD_EINVAL;
	if ((unsigned)format >= DD_ARRAY_SIZE(emitters) || !emitters[format].write)
		return dd__error(ctx, DD_EINVAL, "unknown report format %d", (int)format);
	memset(&r, 0, sizeof(r));
	r.ctx = ctx;
	r.img = img;
	r.diff = diff;
	r.findings = findings;
	r.opts = opts ? opts : &defaults;
	r.f = f;
	rc = summarize(&r);
	if (rc == 0)
		rc = emitters[format].write(&r);
	free(r.covered);
	if (rc == DD_ENOMEM)
		return dd__error(ctx, rc, "out of memory");
	if (rc || fflush(f) != 0 || ferror(f))
		return dd__error(ctx, DD_EIO, "write error");
	return 0;
}
