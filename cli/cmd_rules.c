/* driftdiff rules: every rule a finding can be raised under. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"

static const char help[] =
	"List every rule driftdiff raises findings under: its stable id, family,\n"
	"default severity, MITRE ATT&CK technique and title; --format json adds\n"
	"the description and the remediation.\n"
	"\n"
	"  -f, --format FORMAT   text (default) or json\n"
	"  -h, --help            show this help\n";

static struct json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

int cmd_rules(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct dd_rule *rules;
	const char *format = "text";
	struct json_object *arr;
	size_t i, n;
	int c, rc = EXIT_OK;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': format = optarg; break;
		case 'h':
			cli_print_usage(cli_find("rules"), stdout);
			printf("\n%s", help);
			return EXIT_OK;
		case ':':
			return cli_usage_error("rules", "option '%s' needs a value", argv[optind - 1]);
		default:
			return cli_usage_error("rules", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return cli_usage_error("rules", "no arguments expected");
	if (strcmp(format, "text") && strcmp(format, "json"))
		return cli_usage_error("rules", "unknown format '%s' (text, json)", format);
	rules = dd_rules(&n);
	if (!strcmp(format, "text")) {
		for (i = 0; i < n; i++)
			printf("%-12s %-14s %-8s %-10s %s\n", rules[i].id, rules[i].family,
			       dd_severity_name(rules[i].severity), rules[i].attack ? rules[i].attack : "-",
			       rules[i].title);
	} else {
		arr = json_object_new_array();
		for (i = 0; i < n; i++) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "id", jstr(rules[i].id));
			json_object_object_add(o, "family", jstr(rules[i].family));
			json_object_object_add(o, "severity", jstr(dd_severity_name(rules[i].severity)));
			json_object_object_add(o, "attack", jstr(rules[i].attack));
			json_object_object_add(o, "title", jstr(rules[i].title));
			json_object_object_add(o, "description", jstr(rules[i].description));
			json_object_object_add(o, "remediation", jstr(rules[i].help));
			json_object_array_add(arr, o);
		}
		if (printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)) < 0)
			rc = EXIT_ERROR;
		json_object_put(arr);
	}
	if (fflush(stdout) != 0)
		rc = EXIT_ERROR;
	return rc;
}
