#!/usr/bin/env python3
"""Validate `driftdiff report` JSON and SARIF output with real validators.

A drifted container is built as tests/cli/drift_e2e.py does (umoci unpack
of fixtures/oci-umoci, an overlayfs on it when the kernel allows, and its
scripted changes: a new ELF binary, setuid, capabilities, a name with a
newline, a name that is not UTF-8, a deleted directory, ...). `report` is
run on it in json and sarif formats, with the default ignores, with
--ignore FILE, with --no-default-ignores, and on the tar export and the
--upper directory; the fixtures' tar and image-vs-image cases are added.
Each output is checked:

  1. it is strict UTF-8 JSON;
  2. JSON: against driftdiff-report.schema.json (draft-07), with the rule
     ids and families narrowed to the rule table of lib/rules.c (parsed from
     DD_SOURCE_ROOT, so the check follows the table), plus semantic checks
     the schema cannot express (summary counts, before/after vs "changed",
     sort order, path_bytes, paths_bytes, suppressed findings);
  3. SARIF: against the OASIS SARIF 2.1.0 schema (sarif-schema-2.1.0.json,
     draft-07) with python3-jsonschema;
  4. SARIF: GitHub code scanning's own requirements, written out below;
  5. SARIF vs JSON of the same run: one result per finding (multi-path,
     path-less, suppressed), then one per change no finding was raised
     from, the same ignores, the rule table, the automationDetails category;
  6. optionally, @microsoft/sarif-multitool-linux `validate` (skipped when
     not installed; DD_SARIF_MULTITOOL names its executable).

Needs root and umoci (exit 77 otherwise) and python3-jsonschema (a failure
without it), and lib/rules.c under DD_SOURCE_ROOT. Prints "N passed, N
failed"; exits 1 on any failure.
"""
import base64
import hashlib
import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ in tests/cli/
HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.environ.get("DD_SOURCE_ROOT", os.path.normpath(os.path.join(HERE, "..", "..")))
sys.path.insert(0, os.path.join(SOURCE_ROOT, "tests", "cli"))

from ddtest import SKIP, Checker, fixture, run  # noqa: E402
from drift_e2e import apply_changes  # noqa: E402

SARIF_SCHEMA = os.path.join(HERE, "sarif-schema-2.1.0.json")
REPORT_SCHEMA = os.path.join(HERE, "driftdiff-report.schema.json")
RULES_C = os.path.join(SOURCE_ROOT, "lib", "rules.c")

SEVERITIES = ["none", "info", "low", "medium", "high", "critical", "never"]  # severity_names, lib/diff.c
ATTRS = ["type", "content", "size", "mode", "setid", "uid", "gid", "target", "mtime", "xattrs",
         "capabilities", "rdev", "hardlink"]  # attr_table order, lib/diff.c
KINDS = ["added", "modified", "deleted", "type_changed", "unreadable"]
DRIFT_RULE = {"added": "DD-DRIFT-001", "modified": "DD-DRIFT-002", "deleted": "DD-DRIFT-003",
              "type_changed": "DD-DRIFT-004", "unreadable": "DD-DRIFT-005"}
GITHUB_MAX_RESULTS = 25000
GITHUB_MAX_RULES = 25000
GITHUB_MAX_TAGS = 20
GITHUB_MAX_LOCATIONS = 1000
URI_CHARS = re.compile(r"^(?:[A-Za-z0-9\-._~/]|%[0-9A-Fa-f]{2})+$")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
FINGERPRINT = re.compile(r"^[0-9a-f]{16}:[0-9]+$")
# Families whose findings may be raised from no change (lib/pkgdb.c, lib/config.c,
# driftdiff verify); every other finding comes from the change at its first path.
CHANGELESS_FAMILIES = {"package", "config", "digest"}


# ---- the rule table, lib/rules.c ----

RULE_CALL = re.compile(r'^[ \t]*R\(\s*"(DD-[A-Z]+-[0-9]{3})"\s*,\s*"([a-z][a-z-]*)"\s*,\s*([A-Z]+)\s*,', re.M)
C_TOKEN = re.compile(r'\s+|/\*.*?\*/|//[^\n]*|"((?:[^"\\\n]|\\.)*)"|([A-Za-z_][A-Za-z0-9_]*)|([,()])', re.S)
C_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "'": "'", "?": "?"}
RULE_FIELDS = ("id", "family", "severity", "title", "description", "help", "attack")
RULES = []  # load_rules(), in main()


def c_args(text, pos):
    """The arguments of the macro call whose '(' is at POS: string literals
    (adjacent ones joined, simple escapes undone), identifiers, NULL as None."""
    args, cur, depth = [], None, 0
    while pos < len(text):
        m = C_TOKEN.match(text, pos)
        if not m:
            raise ValueError(f"cannot read C at {text[pos:pos + 40]!r}")
        pos = m.end()
        if m.group(1) is not None:
            cur = (cur or "") + re.sub(r"\\(.)", lambda e: C_ESCAPES.get(e.group(1), e.group(0)), m.group(1))
        elif m.group(2):
            cur = None if m.group(2) == "NULL" else m.group(2)
        elif m.group(3) == "(":
            depth += 1
        elif m.group(3) == ")":
            depth -= 1
            if depth == 0:
                args.append(cur)
                return args
        elif m.group(3) == ",":
            args.append(cur)
            cur = None
    raise ValueError("unterminated R(")


def load_rules(path=RULES_C):
    """lib/rules.c's table, in order (SARIF's ruleIndex): a list of dicts with
    RULE_FIELDS, severity lower-cased. Each entry is an R("DD-...", "family",
    SEVERITY, title, description, help, attack) line."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    rules = []
    for m in RULE_CALL.finditer(text):
        args = c_args(text, text.index("(", m.start()))
        if len(args) != len(RULE_FIELDS) or tuple(args[:3]) != m.groups():
            raise ValueError(f"{path}: cannot read the R() of {m.group(1)}: {args!r}")
        rule = dict(zip(RULE_FIELDS, args))
        rule["severity"] = rule["severity"].lower()
        rules.append(rule)
    return rules


def check_rules(rules, c):
    ids = [r["id"] for r in rules]
    bad = [r["id"] for r in rules if r["severity"] not in SEVERITIES[1:-1] or not r["title"] or
           not r["description"] or not r["help"] or
           (r["attack"] is not None and not re.match(r"^T[0-9]{4}(?:\.[0-9]{3})?$", r["attack"]))]
    return c.check(rules and len(set(ids)) == len(ids) and not bad and
                   set(DRIFT_RULE.values()) <= set(ids),
                   f"{RULES_C}: {len(rules)} rules read, ids unique, drift rules present, fields sane "
                   f"(bad: {bad})")


def import_jsonschema():
    """jsonschema, from this interpreter or, via re-exec, Debian's /usr/bin/python3.

    meson may find a python3 (pyenv, a venv) other than the one that
    python3-jsonschema installs into.
    """
    try:
        import jsonschema  # noqa: F401
        return jsonschema
    except ImportError:
        pass
    alt = "/usr/bin/python3"
    if (not os.environ.get("DD_VALIDATE_REEXEC") and os.access(alt, os.X_OK) and
            os.path.realpath(alt) != os.path.realpath(sys.executable) and
            subprocess.run([alt, "-c", "import jsonschema"], capture_output=True).returncode == 0):
        os.environ["DD_VALIDATE_REEXEC"] = "1"
        sys.stdout.flush()
        os.execv(alt, [alt, os.path.abspath(__file__), *sys.argv[1:]])
    return None


def sev_index(name):
    return SEVERITIES.index(name)


SARIF_SCORE = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}  # sarif_score()


def sarif_level(sev):
    """sarif_level() in lib/report_json.c."""
    i = sev_index(sev)
    return "error" if i >= sev_index("high") else "warning" if i == sev_index("medium") else "note"


def path_bytes(obj, key="path"):
    """The exact bytes of a path: *_bytes (base64) when present, else the UTF-8 string."""
    b = obj.get(key + "_bytes")
    return base64.b64decode(b) if b is not None else obj[key].encode("utf-8")


def finding_paths(f):
    """A finding's paths as bytes: paths_bytes (base64, or null) aligned with paths."""
    pb = f.get("paths_bytes") or []
    return [base64.b64decode(pb[i]) if i < len(pb) and pb[i] is not None else p.encode("utf-8")
            for i, p in enumerate(f["paths"])]


def escape_utf8(raw):
    """dd__escape_invalid_utf8() in lib/path.c: bytes that are not UTF-8 (and NUL) as \\xhh."""
    return raw.decode("utf-8", errors="backslashreplace").replace("\0", "\\x00")


def path_key(p):
    """dd_path_compare() in lib/path.c: '/' ranks below every other byte."""
    return [0 if ch == 0x2F else ch + 1 for ch in p] + [-1]


def narrow_to_rules(schema, rules):
    """The report schema with rule ids and families narrowed to the table,
    and each rule's family, title, attack and remediation fixed."""
    d = schema["definitions"]
    d["rule_id"] = {"enum": [r["id"] for r in rules]}
    d["family"] = {"enum": sorted({r["family"] for r in rules})}
    d["finding"]["allOf"] = [
        {"if": {"required": ["rule"], "properties": {"rule": {"const": r["id"]}}},
         "then": {"properties": {"family": {"const": r["family"]}, "title": {"const": r["title"]},
                                 "attack": {"const": r["attack"]}, "remediation": {"const": r["help"]}}}}
        for r in rules]
    return schema


class Validators:
    def __init__(self, jsonschema, c, rules):
        self.js = jsonschema
        self.c = c
        self.fmt = jsonschema.FormatChecker()
        self.sarif = self._load(SARIF_SCHEMA)
        self.report = self._load(REPORT_SCHEMA, lambda s: narrow_to_rules(s, rules))

    def _load(self, path, adapt=None):
        with open(path, encoding="utf-8") as f:
            schema = json.load(f)
        if adapt:
            schema = adapt(schema)
        cls = self.js.validators.validator_for(schema)
        ok = True
        try:
            cls.check_schema(schema)
        except self.js.exceptions.SchemaError as e:
            ok = False
            print(f"  {os.path.basename(path)}: {e.message}")
        self.c.check(ok and cls is self.js.Draft7Validator,
                     f"{os.path.basename(path)} is a valid draft-07 schema")
        return cls(schema, format_checker=self.fmt)

    @staticmethod
    def errors(validator, doc):
        return sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))

    def validate(self, validator, doc, what):
        errors = self.errors(validator, doc)
        for e in errors[:15]:
            loc = "/" + "/".join(map(str, e.absolute_path))
            print(f"  {what}: {loc}: {e.message[:300]}")
        if len(errors) > 15:
            print(f"  {what}: ... {len(errors) - 15} more")
        return self.c.check(not errors, f"{what}: {len(errors)} schema error(s)")


def parse(out, what, c):
    """Strict UTF-8 and JSON, or None."""
    try:
        text = out.decode("utf-8")
    except UnicodeDecodeError as e:
        c.check(False, f"{what}: output is not UTF-8 ({e}): {out[max(0, e.start - 60):e.end + 20]!r}")
        return None
    try:
        doc = json.loads(text)
    except ValueError as e:
        c.check(False, f"{what}: output is not JSON: {e}")
        return None
    c.check(True, f"{what}: parses")
    return doc


# ---- driftdiff's JSON: what the schema cannot say ----

def json_semantics(doc, what, c):
    ok = True

    def chk(cond, msg):
        nonlocal ok
        if not cond:
            ok = False
            print(f"  {what}: {msg}")

    changes, findings, s = doc["changes"], doc["findings"], doc["summary"]
    paths = [path_bytes(ch) for ch in changes]
    chk(len(set(paths)) == len(paths), "a path appears twice in changes[]")
    chk(paths == sorted(paths, key=path_key), "changes[] are not in dd_path_compare order")
    for ch in changes:
        p = ch["path"]
        if "path_bytes" in ch:
            raw = base64.b64decode(ch["path_bytes"])
            try:
                raw.decode("utf-8")
                chk(False, f"{p}: path_bytes given for a UTF-8 path")
            except UnicodeDecodeError:
                pass
        for side in ("before", "after"):
            if side in ch:
                chk(path_bytes(ch[side]) == path_bytes(ch), f"{p}: {side}.path differs from path")
        chk(ch["changed"] == [a for a in ATTRS if a in ch["changed"]], f"{p}: changed[] not in table order")
        if ch["executable"]:
            chk(ch.get("after", {}).get("type") == "file", f"{p}: executable but not a file")
        if ch["kind"] == "modified":
            b, a = ch["before"], ch["after"]
            want = set()
            for k in ("mode", "uid", "gid"):
                if b[k] != a[k]:
                    want.add(k)
            if (b["mode"] ^ a["mode"]) & 0o6000:
                want.add("setid")
            if b["type"] == "file":
                if b["size"] != a["size"]:
                    want.add("size")
                if "sha256" in b and "sha256" in a and b["sha256"] != a["sha256"]:
                    want.add("content")
            if (b["mtime"], b.get("mtime_nsec", 0)) != (a["mtime"], a.get("mtime_nsec", 0)):
                want.add("mtime")
            if b["type"] == "symlink" and path_bytes(b, "target") != path_bytes(a, "target"):
                want.add("target")
            got = set(ch["changed"]) - {"xattrs", "capabilities", "hardlink", "rdev"}
            # An overlay metacopy keeps the image's content and size: the
            # "after" entry may show the upper file's; skip those two there.
            if doc["target"]["kind"] == "upper":
                want -= {"size", "content"}
                got -= {"size", "content"}
            chk(got == want, f"{p}: changed {sorted(got)} but before/after differ in {sorted(want)}")
    reported = [ch for ch in changes if "ignored" not in ch]
    reported_by_path = {path_bytes(ch): ch for ch in reported}
    chk(s["changes"] == len(reported), f"summary.changes {s['changes']} != {len(reported)}")
    for k in KINDS:
        n = sum(1 for ch in reported if ch["kind"] == k)
        chk(s[k] == n, f"summary.{k} {s[k]} != {n}")
    chk(s["ignored"] == len(changes) - len(reported), "summary.ignored")
    active = [f for f in findings if "suppressed" not in f]
    chk(s["findings"] == len(active), f"summary.findings {s['findings']} != {len(active)} unsuppressed findings")
    # Which changes findings were raised from (those are counted in
    # by_severity through the finding, not on their own): the change at the
    # first path. A finding of a family that may have no change leaves it
    # open; every combination of those is tried below.
    covered, maybe = set(), set()
    for f in findings:
        fp = finding_paths(f)
        chk(len(set(fp)) == len(fp), f"finding {f['rule']}: a path appears twice in paths[]")
        if "paths_bytes" in f:
            chk(len(f["paths_bytes"]) == len(f["paths"]),
                f"finding {f['rule']}: paths_bytes has {len(f['paths_bytes'])} items, paths {len(f['paths'])}")
        for i, p in enumerate(f["paths"]):
            raw = fp[i]
            try:
                text = raw.decode("utf-8")
                chk(text == p and (f.get("paths_bytes") or [None] * (i + 1))[i] is None,
                    f"finding {f['rule']}: {p!r}: paths_bytes given for a UTF-8 path, or path mangled")
            except UnicodeDecodeError:
                chk(p == escape_utf8(raw), f"finding {f['rule']}: {p!r} is not the escaped form of {raw!r}")
        main = fp[0] if fp else None
        if f["family"] in CHANGELESS_FAMILIES:
            if main in reported_by_path:
                maybe.add(main)
        else:
            chk(main in reported_by_path, f"finding {f['rule']} on {f['paths'][:1]!r}: no reported change at its first path")
            if main in reported_by_path:
                covered.add(main)
        if f["family"] == "package" and f["rule"] != "DD-PKG-006":
            chk("package" in f, f"finding {f['rule']}: a package finding without its package")
    maybe -= covered
    base = {k: 0 for k in s["by_severity"]}
    for f in active:
        base[f["severity"]] += 1
    for p, ch in reported_by_path.items():
        if p not in covered and p not in maybe:
            base[ch["severity"]] += 1
    sevs_maybe = [reported_by_path[p]["severity"] for p in maybe]
    options = []
    for mask in range(1 << min(len(sevs_maybe), 12)):
        by = dict(base)
        for i, sv in enumerate(sevs_maybe):
            if not mask & (1 << i):
                by[sv] += 1
        options.append(by)
    chk(s["by_severity"] in options, f"summary.by_severity {s['by_severity']} != {options[0] if len(options) == 1 else options}")
    sevs = [f["severity"] for f in active] + [ch["severity"] for ch in reported]
    high = max(sevs, key=sev_index) if sevs else None
    chk(s["highest_severity"] == high, f"summary.highest_severity {s['highest_severity']} != {high}")
    chk(s["fail_on"] == doc["options"]["fail_on"], "summary.fail_on != options.fail_on")
    thr = 0 if s["fail_on"] == "any" else sev_index(s["fail_on"])
    drift = any(sev_index(x) >= thr for x in sevs)
    chk(s["drift"] == drift, f"summary.drift {s['drift']} != {drift}")
    order = [(-sev_index(f["severity"]), f["rule"], path_key(finding_paths(f)[0]) if f["paths"] else []) for f in findings]
    chk(order == sorted(order), "findings[] are not sorted by severity, rule, first path")
    chk(doc["options"]["default_ignores"] or not any(
        ch.get("ignored", "").startswith("default:") for ch in changes),
        "a built-in ignore applied with default_ignores false")
    return c.check(ok, f"{what}: semantics")


# ---- GitHub code scanning's requirements for uploaded SARIF ----

def github_checks(doc, what, c):
    """What code scanning reads (docs: 'SARIF support for code scanning')."""
    errs = []
    e = errs.append
    if doc.get("version") != "2.1.0":
        e("version is not 2.1.0")
    runs = doc.get("runs")
    if not isinstance(runs, list) or not runs:
        e("no runs")
        runs = []
    for ri, rn in enumerate(runs):
        r = f"runs[{ri}]"
        driver = rn.get("tool", {}).get("driver", {})
        if not isinstance(driver.get("name"), str) or not driver["name"]:
            e(f"{r}.tool.driver.name missing")
        aid = rn.get("automationDetails", {}).get("id")
        if not isinstance(aid, str) or not aid:
            e(f"{r}.automationDetails.id missing")
        bases = rn.get("originalUriBaseIds", {})
        for name, base in bases.items():
            u = base.get("uri", "")
            parts = urllib.parse.urlsplit(u)
            if not parts.scheme or not u.endswith("/"):
                e(f"{r}.originalUriBaseIds.{name}.uri {u!r} is not an absolute URI ending in '/'")
        rules = driver.get("rules", [])
        if len(rules) > GITHUB_MAX_RULES:
            e(f"{r}: {len(rules)} rules > {GITHUB_MAX_RULES}")
        ids = [rule.get("id") for rule in rules]
        if len(set(ids)) != len(ids):
            e(f"{r}: rule ids not unique")
        for i, rule in enumerate(rules):
            rp = f"{r}.rules[{i}] ({rule.get('id')})"
            if not isinstance(rule.get("id"), str) or not rule["id"]:
                e(f"{rp}: id missing")
            for k in ("shortDescription", "fullDescription", "help"):
                t = rule.get(k, {}).get("text")
                if not isinstance(t, str) or not t.strip():
                    e(f"{rp}: {k}.text missing")
            props = rule.get("properties", {})
            tags = props.get("tags")
            if not isinstance(tags, list) or "security" not in tags:
                e(f"{rp}: properties.tags lacks 'security'")
            elif len(tags) > GITHUB_MAX_TAGS or not all(isinstance(t, str) and t for t in tags):
                e(f"{rp}: properties.tags: more than {GITHUB_MAX_TAGS} or not strings")
            ss = props.get("security-severity")
            score = None
            if not isinstance(ss, str):
                e(f"{rp}: properties.security-severity is not a string: {ss!r}")
            else:
                try:
                    score = float(ss)
                except ValueError:
                    e(f"{rp}: security-severity {ss!r} is not a number")
                if score is not None and (not math.isfinite(score) or not 0.0 <= score <= 10.0):
                    e(f"{rp}: security-severity {ss!r} outside 0.0-10.0")
                    score = None
            lvl = rule.get("defaultConfiguration", {}).get("level")
            if lvl is not None and lvl not in ("error", "warning", "note", "none"):
                e(f"{rp}: defaultConfiguration.level {lvl!r}")
            # GitHub turns the score into the alert's severity: it should agree
            # with the level driftdiff gives the rule.
            if score is not None and lvl is not None:
                band = "error" if score >= 7.0 else "warning" if score >= 4.0 else "note"
                if band != lvl:
                    e(f"{rp}: security-severity {ss} (GitHub band {band}) disagrees with level {lvl}")
        results = rn.get("results", [])
        if len(results) > GITHUB_MAX_RESULTS:
            e(f"{r}: {len(results)} results > {GITHUB_MAX_RESULTS}")
        seen = set()
        for i, res in enumerate(results):
            rp = f"{r}.results[{i}]"
            rid, idx = res.get("ruleId"), res.get("ruleIndex")
            if not isinstance(rid, str) or not rid:
                e(f"{rp}: ruleId missing")
            if not isinstance(idx, int) or isinstance(idx, bool) or not 0 <= idx < len(rules):
                e(f"{rp}: ruleIndex {idx!r} out of range")
            elif rules[idx].get("id") != rid:
                e(f"{rp}: ruleIndex {idx} is {rules[idx].get('id')}, ruleId is {rid}")
            if res.get("level") not in ("error", "warning", "note", "none"):
                e(f"{rp}: level {res.get('level')!r}")
            t = res.get("message", {}).get("text")
            if not isinstance(t, str) or not t.strip():
                e(f"{rp}: message.text missing")
            locs = res.get("locations")
            if not isinstance(locs, list) or not locs:
                e(f"{rp}: no locations")
                continue
            if len(locs) > GITHUB_MAX_LOCATIONS:
                e(f"{rp}: more than {GITHUB_MAX_LOCATIONS} locations")
            pl = locs[0].get("physicalLocation", {})
            al = pl.get("artifactLocation", {})
            uri = al.get("uri")
            if not isinstance(uri, str) or not uri:
                e(f"{rp}: artifactLocation.uri missing")
                uri = ""
            elif uri.startswith("/") or SCHEME.match(uri):
                e(f"{rp}: uri {uri!r} is not relative")
            elif not URI_CHARS.match(uri):
                e(f"{rp}: uri {uri!r} is not percent-encoded (RFC 3986 unreserved, '/', %XX only)")
            elif uri != "." and any(seg in ("", ".", "..") for seg in uri.split("/")):
                # "." alone is the root itself: a finding about no path
                # (configuration) or a change of "/".
                e(f"{rp}: uri {uri!r} has an empty, '.' or '..' segment")
            base = al.get("uriBaseId")
            if base is not None and base not in bases:
                e(f"{rp}: uriBaseId {base!r} not in originalUriBaseIds")
            if base is None:
                e(f"{rp}: no uriBaseId: a relative uri is then relative to the repository")
            line = pl.get("region", {}).get("startLine")
            if not isinstance(line, int) or isinstance(line, bool) or line < 1:
                e(f"{rp}: region.startLine {line!r}")
            fp = res.get("partialFingerprints", {}).get("primaryLocationLineHash")
            if not isinstance(fp, str) or not fp:
                e(f"{rp}: partialFingerprints.primaryLocationLineHash missing")
            elif not FINGERPRINT.match(fp):
                e(f"{rp}: primaryLocationLineHash {fp!r} is not HEX16:N")
            key = (rid, uri, fp)
            if key in seen:
                e(f"{rp}: same rule, uri and fingerprint as an earlier result {key}")
            seen.add(key)
            for s in res.get("suppressions", []):
                if s.get("kind") not in ("inSource", "external"):
                    e(f"{rp}: suppression kind {s.get('kind')!r}")
    for msg in errs[:20]:
        print(f"  {what}: github: {msg}")
    if len(errs) > 20:
        print(f"  {what}: github: ... {len(errs) - 20} more")
    return c.check(not errs, f"{what}: {len(errs)} GitHub code scanning problem(s)")


# ---- the same run in both formats ----

def dd_quote(raw):
    """dd__quote() in lib/path.c, as sarif_message() writes paths."""
    out, i = [], 0
    while i < len(raw):
        c = raw[i]
        simple = {0x5C: "\\\\", 0x22: '\\"', 0x0A: "\\n", 0x09: "\\t"}.get(c)
        if simple:
            out.append(simple)
            i += 1
            continue
        n = 0
        for k in range(1, 5):
            try:
                raw[i:i + k].decode("utf-8")
                n = k
                break
            except UnicodeDecodeError:
                pass
        ch = raw[i:i + n].decode("utf-8") if n else ""
        if (n == 0 or c < 0x20 or c == 0x7F or 0x80 <= ord(ch or "a") < 0xA0 or
                ch in "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069" and ch):
            out.extend(f"\\{b:03o}" for b in raw[i:i + (n or 1)])
            i += n or 1
            continue
        out.append(ch)
        i += n
    return "".join(out)


def fingerprint(rule, path, what, detail=None):
    """fingerprint() in lib/report_json.c: rule, path, kind or package, and the detail."""
    data = rule.encode() + b"\0" + path + b"\0" + what.encode("utf-8")
    if detail:
        data += b"\0" + detail.encode("utf-8")
    return f"{hashlib.sha256(data).hexdigest()[:16]}:1"


def sarif_rules_check(sarif, what, c):
    """driver.rules is lib/rules.c's table, in its order, as sarif_rule() writes it."""
    errs = []
    rules = sarif["runs"][0]["tool"]["driver"].get("rules", [])
    if [r.get("id") for r in rules] != [r["id"] for r in RULES]:
        errs.append(f"rule ids {[r.get('id') for r in rules][:8]}... != lib/rules.c's table")
    for got, want in zip(rules, RULES):
        tags = got.get("properties", {}).get("tags", [])
        exp_tags = ["security", want["family"]] + ([f"external/mitre-attack/{want['attack']}"] if want["attack"] else [])
        if (got.get("shortDescription", {}).get("text") != want["title"] or
                got.get("fullDescription", {}).get("text") != want["description"] or
                got.get("help", {}).get("text") != want["help"] or
                got.get("defaultConfiguration", {}).get("level") != sarif_level(want["severity"]) or
                got.get("properties", {}).get("security-severity") != SARIF_SCORE[want["severity"]] or
                tags != exp_tags):
            errs.append(f"rule {want['id']} differs from lib/rules.c: {json.dumps(got)[:300]}")
    for e in errs[:10]:
        print(f"  {what}: {e}")
    return c.check(not errs, f"{what}: SARIF rules are lib/rules.c's table ({len(errs)} problem(s))")


def cross_check(js, sarif, what, c, category=None):
    ok = True

    def chk(cond, msg):
        nonlocal ok
        if not cond:
            ok = False
            print(f"  {what}: {msg}")

    run_ = sarif["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    results = run_["results"]
    findings, changes = js["findings"], js["changes"]
    by_path = {path_bytes(ch): ch for ch in changes}
    ids = [r["id"] for r in rules]

    def result_path(res):
        uri = res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        return b"/" if uri == "." else b"/" + urllib.parse.unquote_to_bytes(uri)

    def common(res, label, rule, sev, path, fp_what, sup, props_change, detail=None):
        chk(res["ruleId"] == rule, f"{label}: ruleId {res['ruleId']} != {rule}")
        chk(res["ruleIndex"] == (ids.index(rule) if rule in ids else -1), f"{label}: ruleIndex {res['ruleIndex']}")
        chk(res["level"] == sarif_level(sev), f"{label}: level {res['level']} for severity {sev}")
        chk(result_path(res) == path, f"{label}: location {result_path(res)!r} != {path!r}")
        fp = res["partialFingerprints"]["primaryLocationLineHash"]
        chk(fp == fingerprint(rule, path, fp_what, detail),
            f"{label}: fingerprint {fp} is not over rule, path, {fp_what!r} and the detail")
        got_sup = res.get("suppressions")
        chk(got_sup == ([{"kind": "external", "justification": sup}] if sup is not None else None),
            f"{label}: suppressions {got_sup!r}, want justification {sup!r}")
        props = res["properties"]
        want_props = {"severity": sev}
        if props_change is not None:
            want_props.update(kind=props_change["kind"], changed=props_change["changed"])
        chk(props == want_props, f"{label}: properties {props} != {want_props}")

    # One result per finding, in the JSON's order.
    covered = set()
    nf = min(len(findings), len(results))
    chk(len(results) >= len(findings), f"{len(results)} results for {len(findings)} findings")
    for i, f in enumerate(findings[:nf]):
        res = results[i]
        fp = finding_paths(f)
        label = f"result {i} (finding {f['rule']} on {f['paths'][:2]!r})"
        # The finding's change, if it has one: SARIF says so (properties.kind).
        ch = None
        if "kind" in res.get("properties", {}):
            ch = by_path.get(fp[0]) if fp else None
            chk(ch is not None and "ignored" not in ch, f"{label}: raised from a change the JSON does not report")
            if ch is not None:
                covered.add(fp[0])
        else:
            chk(f["family"] in CHANGELESS_FAMILIES, f"{label}: a {f['family']} finding without a change")
        chk(res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] != "." or not fp or fp[0] == b"/",
            f"{label}: uri '.' for a finding with paths")
        fp_what = ch["kind"] if ch else f["package"]["name"] if f.get("package") else ""
        common(res, label, f["rule"], f["severity"], fp[0] if fp else b"/", fp_what, f.get("suppressed"), ch,
               f.get("detail"))
        text = res["message"]["text"]
        want = f["title"]
        if fp:
            want += ": " + ", ".join(dd_quote(p) for p in fp[:3])
            if len(fp) > 3:
                want += f" and {len(fp) - 3} more"
        chk(text.startswith(want), f"{label}: message {text[:200]!r} does not start with {want[:200]!r}")
        pk = f.get("package")
        if pk:
            pw = f"; {pk['ecosystem']} package {pk['name']} {pk['old_version'] or ''}" \
                 f"{' -> ' if pk['old_version'] and pk['version'] else ''}{pk['version'] or ''}"
            chk(pw in text, f"{label}: message {text[:200]!r} lacks {pw!r}")
        if f["detail"] is not None:
            chk(text.endswith(": " + f["detail"]), f"{label}: message {text[:200]!r} does not end with the detail")
    # Then one per change no finding was raised from, in the JSON's order.
    rest = [ch for ch in changes if path_bytes(ch) not in covered]
    omitted = run_.get("properties", {}).get("results_omitted", 0)
    chk(len(results) + omitted == len(findings) + len(rest),
        f"{len(results)} results (+{omitted} omitted) != {len(findings)} findings + {len(rest)} changes no finding covers")
    for i, (res, ch) in enumerate(zip(results[len(findings):], rest)):
        p = path_bytes(ch)
        label = f"result {len(findings) + i} (change {ch['kind']} {ch['path']!r})"
        rule = DRIFT_RULE[ch["kind"]]
        common(res, label, rule, ch["severity"], p, ch["kind"], ch.get("ignored"), ch)
        title = next((r["title"] for r in RULES if r["id"] == rule), "")
        want = f"{title}: {dd_quote(p)}"
        chk(res["message"]["text"].startswith(want), f"{label}: message {res['message']['text'][:200]!r} does not start with {want!r}")
    unsuppressed = sum(1 for res in results if "suppressions" not in res)
    chk(unsuppressed == sum(js["summary"]["by_severity"].values()),
        f"{unsuppressed} unsuppressed results, summary.by_severity adds up to "
        f"{sum(js['summary']['by_severity'].values())}")
    chk(run_.get("properties", {}).get("summary") == js["summary"], "run.properties.summary != JSON summary")
    chk(run_.get("properties", {}).get("image") == js["image"], "run.properties.image != JSON image")
    for f in findings:
        rule = rules[ids.index(f["rule"])] if f["rule"] in ids else None
        chk(rule is not None and rule["shortDescription"]["text"] == f["title"] and
            rule["help"]["text"] == f["remediation"], f"rule {f['rule']}: title/help differ from the JSON")
    # The category (automationDetails.id): --sarif-category's, else the
    # target's last path component.
    if category is None:
        src = js["target"]["source"] or "target"
        while len(src) > 1 and src.endswith("/"):
            src = src[:-1]
        category = "driftdiff/" + src[src.rfind("/") + 1:]
    aid = run_.get("automationDetails", {}).get("id")
    chk(aid == category + "/", f"automationDetails.id {aid!r} != {category + '/'!r}")
    return c.check(ok, f"{what}: SARIF agrees with the JSON")


# ---- optional: Microsoft's SARIF multitool ----

def find_multitool():
    exe = os.environ.get("DD_SARIF_MULTITOOL")
    if exe:
        return exe
    for name in ("sarif-multitool-linux", "sarif-multitool", "Sarif.Multitool"):
        if shutil.which(name):
            return shutil.which(name)
    if shutil.which("npm"):
        try:
            root = subprocess.run(["npm", "root", "-g"], capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            root = ""
        cand = os.path.join(root, "@microsoft", "sarif-multitool-linux", "Sarif.Multitool")
        if root and os.access(cand, os.X_OK):
            return cand
    return None


def multitool_validate(exe, path, what, c, tmp):
    out = os.path.join(tmp, "multitool-out.sarif")
    if os.path.exists(out):
        os.remove(out)
    p = subprocess.run([exe, "validate", path, "-o", out, "--log", "ForceOverwrite"],
                       capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, DOTNET_CLI_TELEMETRY_OPTOUT="1"))
    if not os.path.exists(out):
        return c.check(False, f"{what}: sarif-multitool validate exit {p.returncode}: {p.stdout[-500:]}{p.stderr[-500:]}")
    with open(out, encoding="utf-8-sig") as f:
        log = json.load(f)
    bad = [res for run_ in log.get("runs", []) for res in run_.get("results", [])
           if res.get("level", "warning") in ("error", "warning")]
    for res in bad[:10]:
        print(f"  {what}: multitool {res.get('level', 'warning')} {res.get('ruleId')}: "
              f"{res.get('message', {}).get('arguments')}")
    for line in p.stdout.splitlines():
        if ": error " in line or ": warning " in line:
            print(f"  {what}: {line.strip()[:300]}")
    return c.check(not bad and p.returncode == 0,
                   f"{what}: sarif-multitool validate: {len(bad)} error/warning(s), exit {p.returncode}")


# ---- driving it ----

def report(c, what, args, v, mt, tmp):
    """Run one report in json and sarif and check both; returns (json, sarif)."""
    docs = {}
    for fmt in ("json", "sarif"):
        label = f"{what} [{fmt}]"
        rc, out, err = run("report", "--format", fmt, *args)
        if not c.check(rc in (0, 1) and out, f"{label}: exit {rc}: {err.strip()[:500]}"):
            continue
        doc = parse(out, label, c)
        if doc is None:
            continue
        if fmt == "json":
            if v.validate(v.report, doc, label):
                json_semantics(doc, label, c)
        else:
            v.validate(v.sarif, doc, label)
            github_checks(doc, label, c)
            sarif_rules_check(doc, label, c)
            if mt:
                path = os.path.join(tmp, "report.sarif")
                with open(path, "wb") as f:
                    f.write(out)
                multitool_validate(mt, path, label, c, tmp)
        docs[fmt] = doc
    if "json" in docs and "sarif" in docs:
        try:
            cat = args[args.index("--sarif-category") + 1] if "--sarif-category" in args else None
            cross_check(docs["json"], docs["sarif"], what, c, cat)
        except (KeyError, IndexError, TypeError, ValueError) as e:
            c.check(False, f"{what}: cross-check crashed on malformed output: {e!r}")
    return docs.get("json"), docs.get("sarif")


def synthetic_findings(js, sarif):
    """JSON and SARIF of the same run with two findings no real run raises yet:
    a path-less configuration finding and a suppressed package finding
    (lib/config.c and lib/policy.c are placeholders). Built as
    lib/report_json.c would write them, so the checks must accept them."""
    import copy
    js, sarif = copy.deepcopy(js), copy.deepcopy(sarif)
    rules = {r["id"]: r for r in RULES}
    ids = [r["id"] for r in RULES]
    run_ = sarif["runs"][0]

    def add(f, path, fp_what, sup):
        rule = rules[f["rule"]]
        f.update(family=rule["family"], title=rule["title"], attack=rule["attack"], remediation=rule["help"])
        key = lambda g: (-sev_index(g["severity"]), g["rule"], path_key(finding_paths(g)[0]) if g["paths"] else [])
        i = sum(1 for g in js["findings"] if key(g) <= key(f))
        js["findings"].insert(i, f)
        msg = rule["title"] + (": " + dd_quote(path) if path else "")
        if f.get("package"):
            pk = f["package"]
            msg += f"; {pk['ecosystem']} package {pk['name']} {pk['old_version'] or ''}" \
                   f"{' -> ' if pk['old_version'] and pk['version'] else ''}{pk['version'] or ''}"
        if f["detail"]:
            msg += ": " + f["detail"]
        res = {"ruleId": f["rule"], "ruleIndex": ids.index(f["rule"]), "level": sarif_level(f["severity"]),
               "message": {"text": msg},
               "locations": [{"physicalLocation": {
                   "artifactLocation": {"uri": urllib.parse.quote(path[1:], safe="/") if path and len(path) > 1 else ".",
                                        "uriBaseId": "ROOTFS"},
                   "region": {"startLine": 1}}}],
               "partialFingerprints": {"primaryLocationLineHash": fingerprint(f["rule"], path or b"/", fp_what,
                                                                              f.get("detail"))}}
        if sup:
            res["suppressions"] = [{"kind": "external", "justification": sup}]
        res["properties"] = {"severity": f["severity"]}
        run_["results"].insert(i, res)
        if not sup:
            s = js["summary"]
            s["findings"] += 1
            s["by_severity"][f["severity"]] += 1
            if s["highest_severity"] is None or sev_index(f["severity"]) > sev_index(s["highest_severity"]):
                s["highest_severity"] = f["severity"]
            thr = 0 if s["fail_on"] == "any" else sev_index(s["fail_on"])
            s["drift"] = s["drift"] or sev_index(f["severity"]) >= thr

    add({"rule": "DD-CFG-005", "severity": "critical", "paths": [], "detail": "privileged"}, None, "", None)
    add({"rule": "DD-PKG-001", "severity": "medium", "paths": ["/usr/lib/python3/dist-packages/caf\\xe9"],
         "paths_bytes": [base64.b64encode(b"/usr/lib/python3/dist-packages/caf\xe9").decode()],
         "package": {"ecosystem": "python", "name": "requests", "version": "2.31.0", "old_version": None},
         "suppressed": "approved: CHG-1234", "detail": None},
        b"/usr/lib/python3/dist-packages/caf\xe9", "requests", "approved: CHG-1234")
    run_["properties"]["summary"] = js["summary"]
    return js, sarif


def self_test(v, js, sarif, c):
    """The checks must reject broken documents, not only accept good ones."""
    import copy
    quiet = Checker()
    cases = []

    def bad_sarif(name, mutate, check):
        d = copy.deepcopy(sarif)
        mutate(d)
        cases.append((name, check, d))

    def res0(d):
        return d["runs"][0]["results"][0]

    def loc0(d):
        return res0(d)["locations"][0]["physicalLocation"]

    schema = lambda d: not v.errors(v.sarif, d)
    github = lambda d: github_checks(d, "self-test", quiet)
    report_schema = lambda d: not v.errors(v.report, d)
    bad_sarif("sarif: unknown result key", lambda d: res0(d).update(bogus=1), schema)
    bad_sarif("sarif: level 'fatal'", lambda d: res0(d).update(level="fatal"), schema)
    bad_sarif("sarif: startLine 0", lambda d: loc0(d)["region"].update(startLine=0), schema)
    bad_sarif("github: absolute uri", lambda d: loc0(d)["artifactLocation"].update(uri="/etc/passwd"), github)
    bad_sarif("github: scheme", lambda d: loc0(d)["artifactLocation"].update(uri="file:etc/passwd"), github)
    bad_sarif("github: raw space", lambda d: loc0(d)["artifactLocation"].update(uri="a b"), github)
    bad_sarif("github: undeclared uriBaseId", lambda d: loc0(d)["artifactLocation"].update(uriBaseId="X"), github)
    bad_sarif("github: ruleIndex off by one", lambda d: res0(d).update(ruleIndex=res0(d)["ruleIndex"] + 1), github)
    bad_sarif("github: no fingerprint", lambda d: res0(d).pop("partialFingerprints"), github)
    bad_sarif("github: no automationDetails", lambda d: d["runs"][0].pop("automationDetails"), github)
    bad_sarif("github: security-severity 11",
              lambda d: d["runs"][0]["tool"]["driver"]["rules"][0]["properties"].update({"security-severity": "11"}),
              github)
    bad_sarif("github: no security tag",
              lambda d: d["runs"][0]["tool"]["driver"]["rules"][0]["properties"].update(tags=["drift"]), github)
    bad_sarif("github: base without '/'",
              lambda d: d["runs"][0]["originalUriBaseIds"]["ROOTFS"].update(uri="file:///x"), github)
    for name, mutate in [
            ("json: extra top-level key", lambda d: d.update(extra=1)),
            ("json: unknown kind", lambda d: d["changes"][0].update(kind="renamed")),
            ("json: unknown attribute", lambda d: d["changes"][0].update(changed=["colour"])),
            ("json: extra entry key", lambda d: d["changes"][0]["before"].update(inode=1)),
            ("json: severity 'none'", lambda d: d["changes"][0].update(severity="none")),
            ("json: no summary.drift", lambda d: d["summary"].pop("drift")),
            ("json: rule not in lib/rules.c", lambda d: d["findings"][0].update(rule="DD-BIN-999")),
            ("json: family not the rule's", lambda d: d["findings"][0].update(family="drift")),
            ("json: family not in lib/rules.c", lambda d: d["findings"][0].update(family="process")),
            ("json: title not the rule's", lambda d: d["findings"][0].update(title="Something")),
            ("json: attack not the rule's", lambda d: d["findings"][0].update(attack="T9999")),
            ("json: empty suppressed", lambda d: d["findings"][0].update(suppressed="")),
            ("json: paths_bytes all null", lambda d: d["findings"][0].update(paths_bytes=[None])),
            ("json: package without version",
             lambda d: d["findings"][0].update(package={"ecosystem": "dpkg", "name": "x", "version": None,
                                                        "old_version": None})),
            ("json: package ecosystem 'pip'",
             lambda d: d["findings"][0].update(package={"ecosystem": "pip", "name": "x", "version": "1",
                                                        "old_version": None})),
            ("json: fail_on 'sometimes'", lambda d: d["options"].update(fail_on="sometimes"))]:
        d = copy.deepcopy(js)
        mutate(d)
        cases.append((name, report_schema, d))

    # What only json_semantics() and cross_check() can see.
    semantics = lambda d: json_semantics(d, "self-test", quiet)
    agree = lambda j, s: cross_check(j, s, "self-test", quiet)
    multi = next((i for i, f in enumerate(js["findings"]) if len(f["paths"]) > 1), None)
    c.check(multi is not None, "self-test: the rootfs run has a finding with several paths")
    sjs, ssa = synthetic_findings(js, sarif)
    for name, ok in [("schema", lambda: report_schema(sjs)), ("semantics", lambda: semantics(sjs)),
                     ("SARIF schema", lambda: schema(ssa)), ("github", lambda: github(ssa)),
                     ("cross-check", lambda: agree(sjs, ssa))]:
        saved = sys.stdout
        sys.stdout = open(os.devnull, "w")
        try:
            passed = ok()
        except (KeyError, IndexError, TypeError, ValueError) as e:
            passed = False
            name += f" (crashed: {e!r})"
        finally:
            sys.stdout.close()
            sys.stdout = saved
        if not c.check(passed, f"self-test: a path-less config finding and a suppressed package finding, "
                               f"written as lib/report_json.c would, are rejected by the {name} check"):
            ok_verbose = {"semantics": lambda: json_semantics(sjs, "self-test", Checker()),
                          "cross-check": lambda: cross_check(sjs, ssa, "self-test", Checker())}.get(name)
            if ok_verbose:
                ok_verbose()

    def bad_json(name, mutate, check=semantics, base=js):
        d = copy.deepcopy(base)
        mutate(d)
        cases.append((name, check, d))

    def bad_pair(name, mutate_js, mutate_sarif, base=(js, sarif)):
        j, s = copy.deepcopy(base[0]), copy.deepcopy(base[1])
        mutate_js(j)
        mutate_sarif(s)
        cases.append((name, lambda d: agree(*d), (j, s)))

    nop = lambda d: None
    bad_json("semantics: suppressed finding still counted",
             lambda d: d["findings"][0].update(suppressed="ok"))
    bad_json("semantics: paths_bytes not aligned with paths",
             lambda d: d["findings"][0].update(paths_bytes=[None] * len(d["findings"][0]["paths"]) + ["/w=="]))
    bad_json("semantics: finding on a path that did not change",
             lambda d: d["findings"][0].update(paths=["/no/such/change"]))
    bad_json("semantics: findings out of order", lambda d: d["findings"].reverse())
    bad_json("semantics: fail_on never but drift true",
             lambda d: (d["options"].update(fail_on="never"), d["summary"].update(fail_on="never", drift=True)))
    bad_pair("cross: a finding's result missing", nop, lambda s: s["runs"][0]["results"].pop(0))
    bad_pair("cross: a suppressed finding unsuppressed in SARIF", nop,
             lambda s: next(r for r in s["runs"][0]["results"] if r["ruleId"] == "DD-PKG-001").pop("suppressions"),
             base=(sjs, ssa))
    bad_pair("cross: a path-less finding located at a path", nop,
             lambda s: next(r for r in s["runs"][0]["results"] if r["ruleId"] == "DD-CFG-005")["locations"][0]
             ["physicalLocation"]["artifactLocation"].update(uri="etc/passwd"), base=(sjs, ssa))
    bad_pair("cross: wrong automationDetails category", nop,
             lambda s: s["runs"][0]["automationDetails"].update(id="driftdiff/"))
    bad_pair("cross: a change no finding covers left out", nop, lambda s: s["runs"][0]["results"].pop())
    bad_sarif("sarif rules: table reordered", lambda d: d["runs"][0]["tool"]["driver"]["rules"].reverse(),
              lambda d: sarif_rules_check(d, "self-test", quiet))
    bad_sarif("sarif rules: a rule's help not the table's",
              lambda d: d["runs"][0]["tool"]["driver"]["rules"][0]["help"].update(text="Reboot."),
              lambda d: sarif_rules_check(d, "self-test", quiet))
    if multi is not None:
        def second_path(s):
            f = js["findings"][multi]
            loc = s["runs"][0]["results"][multi]["locations"][0]["physicalLocation"]["artifactLocation"]
            loc["uri"] = urllib.parse.quote(finding_paths(f)[1][1:], safe="/")
        bad_pair("cross: a multi-path finding located at its second path", nop, second_path)
    saved = sys.stdout
    for name, check, d in cases:
        sys.stdout = open(os.devnull, "w")
        try:
            passed = check(d)
        except (KeyError, IndexError, TypeError) as e:
            passed = False
            name += f" (crashed: {e!r})"
        finally:
            sys.stdout.close()
            sys.stdout = saved
        c.check(not passed, f"self-test: the validators accepted a broken document: {name}")


def expect(c, what, doc, cond, msg):
    """That the drift exercised what the validators are meant to see."""
    if doc is not None:
        c.check(cond(doc), f"{what}: {msg}")


def non_utf8_names(c, v, mt, img_dir, target_dir, ignore, d):
    """Image, target and --ignore file names that are not UTF-8: escaped
    (\\xhh) in the JSON and in SARIF's category, never copied raw."""
    img = os.path.join(os.fsencode(d), b"image-caf\xe9")
    tgt = os.path.join(os.fsencode(d), b"target-caf\xe9")
    ign = os.path.join(os.fsencode(d), b"ignore-caf\xe9")
    os.symlink(os.fsencode(img_dir), img)
    os.symlink(os.fsencode(target_dir), tgt)
    shutil.copy(ignore, ign)
    what = "non-UTF-8 image, target and --ignore file names"
    js, sa = report(c, what, ["--ignore", os.fsdecode(ign), "--ref", "latest", os.fsdecode(img), os.fsdecode(tgt)],
                    v, mt, d)
    expect(c, what, js, lambda j: (j["image"]["source"], j["target"]["source"], j["options"]["ignore_files"]) ==
           (escape_utf8(img), escape_utf8(tgt), [escape_utf8(ign)]),
           "image.source, target.source and options.ignore_files are the escaped names")
    expect(c, what, js, lambda j: any(ch.get("ignored", "").startswith(escape_utf8(ign) + ":") for ch in j["changes"]),
           "ignored changes name the escaped ignore file")
    expect(c, what, sa, lambda s: s["runs"][0]["automationDetails"]["id"] == "driftdiff/target-caf\\xe9/",
           "the SARIF category is the escaped target name")


def fail_on_never(c, v, mt, img, target, d):
    """--fail-on never: reported as given, no drift, exit 0 whatever changed."""
    what = "--fail-on never"
    js, sa = report(c, what, ["--fail-on", "never", *img, target], v, mt, d)
    expect(c, what, js, lambda j: (j["options"]["fail_on"], j["summary"]["fail_on"], j["summary"]["drift"]) ==
           ("never", "never", False), "options.fail_on and summary.fail_on are 'never', summary.drift false")
    expect(c, what, js, lambda j: j["summary"]["changes"] > 0 and j["summary"]["highest_severity"] == "critical",
           "there was critical drift to not fail on")
    rc, _, err = run("report", "--format", "json", "--fail-on", "never", *img, target)
    c.check(rc == 0, f"{what}: exit {rc} (want 0): {err.strip()[:300]}")


def add_uid0_account(src, dst, line):
    """A copy of the container tar SRC with LINE appended to /etc/passwd:
    one change raising two findings of the same rule on the same path."""
    import tarfile
    with tarfile.open(src) as tin, tarfile.open(dst, "w", format=tarfile.PAX_FORMAT) as tout:
        for m in tin:
            data = tin.extractfile(m).read() if m.isfile() else None
            if m.isfile() and m.name.lstrip("./") == "etc/passwd":
                data += line
                m.size = len(data)
            tout.addfile(m, io.BytesIO(data) if data is not None else None)


def changes_named(doc, raw):
    return [ch for ch in doc["changes"] if path_bytes(ch) == raw]


def main():
    if os.geteuid() != 0 or not shutil.which("umoci"):
        print("needs root and umoci: skipped")
        return SKIP
    jsonschema = import_jsonschema()
    c = Checker()
    if not c.check(jsonschema is not None,
                   "python jsonschema is not installed (Debian: apt-get install python3-jsonschema)"):
        c.done()
    print(f"python {sys.version.split()[0]} ({sys.executable}), jsonschema from {jsonschema.__file__}")
    try:
        RULES[:] = load_rules()
    except (OSError, ValueError) as e:
        print(f"  {e}")
    if not check_rules(RULES, c):
        c.done()
    print(f"{len(RULES)} rules from {RULES_C}")
    v = Validators(jsonschema, c, RULES)
    mt = find_multitool()
    print(f"sarif-multitool: {mt}" if mt else "sarif-multitool not installed: that optional step skipped")
    with tempfile.TemporaryDirectory() as d:
        layout = os.path.join(d, "image")
        shutil.copytree(fixture("oci-umoci"), layout)
        subprocess.run(["umoci", "unpack", "--image", layout + ":latest", os.path.join(d, "bundle")],
                       check=True, capture_output=True)
        lower = os.path.join(d, "bundle", "rootfs")
        upper, work, merged = (os.path.join(d, n) for n in ("upper", "work", "merged"))
        for x in (upper, work, merged):
            os.mkdir(x)
        mounted = subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                                  f"lowerdir={lower},upperdir={upper},workdir={work}", merged],
                                 capture_output=True).returncode == 0
        if not mounted:
            print("overlayfs not available: changing a copy, --upper not tested")
            os.rmdir(merged)
            shutil.copytree(lower, merged, symlinks=True)
        try:
            apply_changes(merged)
            export = os.path.join(d, "export.tar")
            subprocess.run(["tar", "--xattrs", "--xattrs-include=*", "--numeric-owner", "-C", merged,
                            "-cf", export, "."], check=True)
            ignore = os.path.join(d, "drift.ignore")
            with open(ignore, "w", encoding="utf-8") as f:
                f.write("# runtime noise\n/tmp/.cache/**\n/tmp/caf*\n/etc/motd\n")
            saved = os.path.join(d, "saved.ddm")
            rc, _, err = run("manifest", "--ref", "latest", "-o", saved, layout)
            c.check(rc == 0, f"manifest -o: exit {rc}: {err}")
            img = ["--ref", "latest", layout]

            what = "rootfs"
            js, sa = report(c, what, [*img, merged], v, mt, d)
            if js and sa:
                self_test(v, js, sa, c)
            expect(c, what, js, lambda j: any("path_bytes" in ch for ch in changes_named(j, b"/tmp/caf\xe9")),
                   "the non-UTF-8 name is reported with path_bytes")
            expect(c, what, js, lambda j: changes_named(j, b"/tmp/new\nline"), "the name with a newline is reported")
            expect(c, what, js, lambda j: any(ch["executable"] for ch in changes_named(j, b"/tmp/.cache/miner")),
                   "the ELF binary is reported as executable")
            expect(c, what, js, lambda j: any(f["rule"] == "DD-PRIV-001" for f in j["findings"]),
                   "a setuid finding")
            expect(c, what, js, lambda j: any(ch["kind"] == "deleted" for ch in changes_named(j, b"/srv/data")),
                   "the deleted directory")

            what = "rootfs --ignore"
            js, sa = report(c, what, ["--ignore", ignore, *img, merged], v, mt, d)
            expect(c, what, js, lambda j: any("ignored" in ch for ch in changes_named(j, b"/tmp/caf\xe9")),
                   "the non-UTF-8 name is ignored")
            if sa:
                sup = sorted(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                             for r in sa["runs"][0]["results"] if r.get("suppressions"))
                c.check({"etc/motd", "tmp/.cache/miner", "tmp/caf%E9"} <= set(sup),
                        f"{what}: suppressed results for the ignored changes: {sup}")

            what = "rootfs --no-default-ignores"
            report(c, what, ["--no-default-ignores", *img, merged], v, mt, d)

            what = "rootfs --ignore --no-default-ignores --all --fail-on high --sarif-category"
            report(c, what, ["--ignore", ignore, "--no-default-ignores", "--all", "--fail-on", "high",
                             "--sarif-category", "containers/web", *img, merged], v, mt, d)

            what = "tar export"
            report(c, what, [*img, export], v, mt, d)

            what = "saved manifest vs rootfs"
            report(c, what, ["--ignore", ignore, saved, merged], v, mt, d)

            non_utf8_names(c, v, mt, layout, merged, ignore, d)
            fail_on_never(c, v, mt, img, merged, d)

            if mounted:
                what = "--upper"
                report(c, what, [*img, "--upper", upper], v, mt, d)
                report(c, what + " --ignore", ["--ignore", ignore, *img, "--upper", upper], v, mt, d)

            what = "demo container tar"
            js, _ = report(c, what, [fixture("demo"), fixture("demo-container.tar.gz")], v, mt, d)
            expect(c, what, js, lambda j: any(ch.get("ignored", "").startswith("default:") for ch in j["changes"]),
                   "default ignores applied")
            what = "demo container tar --no-default-ignores --all"
            report(c, what, ["--no-default-ignores", "--all", fixture("demo"), fixture("demo-container.tar.gz")],
                   v, mt, d)
            what = "demo container tar, two new uid-0 accounts"
            two = os.path.join(d, "two-root-accounts.tar")
            add_uid0_account(fixture("demo-container.tar.gz"), two, b"backup:x:0:0::/root:/bin/sh\n")
            js, sa = report(c, what, [fixture("demo"), two], v, mt, d)
            expect(c, what, js, lambda j: sum(f["rule"] == "DD-PERS-002" for f in j["findings"]) == 2,
                   "two DD-PERS-002 findings on /etc/passwd")
            what = "image vs image"
            report(c, what, ["--ref", "latest", "--target-ref", "v1", fixture("oci-umoci"), fixture("oci-umoci")],
                   v, mt, d)
        finally:
            if mounted:
                subprocess.run(["umount", merged], check=False)
    c.done()


if __name__ == "__main__":
    sys.exit(main())
