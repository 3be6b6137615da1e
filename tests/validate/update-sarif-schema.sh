#!/bin/sh
# Regenerate sarif-schema-2.1.0.json (the OASIS SARIF 2.1.0 schema, JSON Schema
# draft-07) from the copy that the npm package @datadog/datadog-ci-plugin-sarif
# bundles (src/json-schema/sarif-schema-2.1.0.json, inlined into
# dist/bundle.js). Needs npm and node; writes next to this script.
set -eu
VERSION=${1:-5.25.0}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
npm pack --silent "@datadog/datadog-ci-plugin-sarif@$VERSION" >/dev/null
tar xzf datadog-datadog-ci-plugin-sarif-"$VERSION".tgz
# The schema is one object literal: from its 'var' line to the first '};' after it.
awk '/^var sarif_schema_2_1_0_default = \{/ {p=1} p {print} p && /^\};/ {exit}' \
	package/dist/bundle.js > schema.js
node -e '
const fs = require("fs");
const o = new Function(fs.readFileSync("schema.js", "utf8") + "\nreturn sarif_schema_2_1_0_default;")();
if (o.$schema !== "http://json-schema.org/draft-07/schema#" || !o.definitions || !o.definitions.run)
	throw new Error("unexpected schema: " + o.$schema);
fs.writeFileSync(process.argv[1], JSON.stringify(o, null, 2) + "\n");
' "$here/sarif-schema-2.1.0.json"
echo "wrote $here/sarif-schema-2.1.0.json"
