# driftdiff JSON report (driftdiff-json(5), schema_version 1) -> GitLab Code
# Quality report (a JSON array of CodeClimate issues):
#
#   driftdiff report --format json -o report.json IMAGE TARGET
#   jq -f contrib/gitlab/codequality.jq report.json > gl-code-quality-report.json
#
# One issue per finding that a policy did not suppress, then one per change
# that is not ignored and that no finding covers, under its drift rule
# (DD-DRIFT-001 added ... DD-DRIFT-005 unreadable), as the SARIF report does
# it. A change is covered when a finding raised on it names it first (the
# findings of the config, process and network families are raised on no
# change). Ignored changes and suppressed findings are left out: Code Quality
# has no place for them; the JSON and SARIF reports keep them.
#
# Severities: info -> info, low -> minor, medium -> major, high -> critical,
# critical -> blocker. location.path is the container path without its
# leading "/" ("." for a finding about no path). The fingerprint is a 64-bit
# hash (16 hex digits) of the rule, the change's kind, every path, the
# package and the detail, so an issue keeps it from run to run and two
# findings of one rule on one path stay apart; a repeat gets "-N" appended,
# so fingerprints are unique within a report. Works with jq 1.6 and later.

def cq_severity:
  {"info": "info", "low": "minor", "medium": "major", "high": "critical",
   "critical": "blocker"}[.] // "major";

# x mod m for 0 <= x < 2^53, exact in doubles (jq 1.6's % casts to int).
def _mod($m):
  (. - $m * ((. / $m) | floor))
  | if . < 0 then . + $m elif . >= $m then . - $m else . end;

def _hex8:
  reduce range(8) as $_ ({n: ., s: ""};
    (.n | _mod(16)) as $d
    | {n: ((.n - $d) / 16), s: ("0123456789abcdef"[$d:$d + 1] + .s)})
  | .s;

# Two polynomial hashes over the code points, modulo the two largest primes
# below 2^32: every intermediate stays below 2^53.
def fp_hash:
  explode
  | reduce .[] as $c ([5381, 5381];
      [((.[0] * 257 + $c) | _mod(4294967291)),
       ((.[1] * 65599 + $c) | _mod(4294967279))])
  | map(_hex8) | add;

def relpath: if . == null then "." else (ltrimstr("/") | if . == "" then "." else . end) end;

def drift_rule:
  {"added": ["DD-DRIFT-001", "File added"],
   "modified": ["DD-DRIFT-002", "File modified"],
   "deleted": ["DD-DRIFT-003", "File deleted"],
   "type_changed": ["DD-DRIFT-004", "File type changed"],
   "unreadable": ["DD-DRIFT-005", "File could not be read"]}[.]
  // ["DD-DRIFT-002", "File changed"];

def paths_text:
  if length == 0 then ""
  elif length <= 3 then ": " + join(", ")
  else ": " + (.[0:3] | join(", ")) + " and \(length - 3) more"
  end;

def package_text:
  if . == null then ""
  else "; \(.ecosystem) package \(.name) "
    + (if .old_version != null and .version != null then "\(.old_version) -> \(.version)"
       else (.version // .old_version // "") end)
  end;

(.findings // []) as $findings
| ([$findings[] | select((.family | IN("config", "process", "network")) | not)
    | .paths[0] // empty] | map({key: ., value: true}) | from_entries) as $covered
| [
    ($findings[] | select(.suppressed == null)
     | {
         type: "issue",
         check_name: .rule,
         description: (.title + (.paths | paths_text) + (.package | package_text)
                       + (if .detail != null then " (\(.detail))" else "" end)),
         content: {body: .remediation},
         categories: ["Security"],
         severity: (.severity | cq_severity),
         fingerprint: ([.rule, "finding"] + .paths
                       + [(.package // {} | "\(.ecosystem) \(.name) \(.old_version) \(.version)"),
                          (.detail // "")]
                       | join("\u0000") | fp_hash),
         location: {path: (.paths[0] | relpath), lines: {begin: 1}}
       }),
    (.changes // [] | .[] | select(.ignored == null and ($covered[.path] | not))
     | (.kind | drift_rule) as $r
     | {
         type: "issue",
         check_name: $r[0],
         description: ($r[1] + ": " + .path
                       + (if (.changed | length) > 0 and (.kind | IN("modified", "unreadable"))
                          then " (" + (.changed | join(", ")) + ")" else "" end)),
         categories: ["Security"],
         severity: (.severity | cq_severity),
         fingerprint: ([$r[0], .kind, .path] | join("\u0000") | fp_hash),
         location: {path: (.path | relpath), lines: {begin: 1}}
       })
  ]
| reduce .[] as $issue ({seen: {}, out: []};
    (.seen[$issue.fingerprint] // 0) as $n
    | .seen[$issue.fingerprint] = $n + 1
    | .out += [if $n == 0 then $issue else $issue | .fingerprint += "-\($n)" end])
| .out
| map(del(.content | select(.body == null)))
