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
  2. JSON: against driftdiff-report.schema.json (draft-07), plus semantic
     checks the schema cannot express (summary counts, before/after vs
     "changed", sort order, path_bytes);
  3. SARIF: against the OASIS SARIF 2.1.0 schema (sarif-schema-2.1.0.json,
     draft-07) with python3-jsonschema;
  4. SARIF: GitHub code scanning's own requirements, written out below;
  5. SARIF vs JSON of the same run: the same changes, findings, ignores;
  6. optionally, @microsoft/sarif-multitool-linux `validate` (skipped when
     not installed; DD_SARIF_MULTITOOL names its executable).

Needs root and umoci (exit 77 otherwise) and python3-jsonschema (a failure
without it). Prints "N passed, N failed"; exits 1 on any failure.
"""
import base64
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

SEVERITIES = ["none", "info", "low", "medium", "high", "critical"]
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


def sarif_level(sev):
    """sarif_level() in lib/report_json.c."""
    i = sev_index(sev)
    return "error" if i >= sev_index("high") else "warning" if i == sev_index("medium") else "note"


def path_bytes(obj, key="path"):
    """The exact bytes of a path: *_bytes (base64) when present, else the UTF-8 string."""
    b = obj.get(key + "_bytes")
    return base64.b64decode(b) if b is not None else obj[key].encode("utf-8")


def path_key(p):
    """dd_path_compare() in lib/path.c: '/' ranks below every other byte."""
    return [0 if ch == 0x2F else ch + 1 for ch in p] + [-1]


class Validators:
    def __init__(self, jsonschema, c):
        self.js = jsonschema
        self.c = c
        self.fmt = jsonschema.FormatChecker()
        self.sarif = self._load(SARIF_SCHEMA)
        self.report = self._load(REPORT_SCHEMA)

    def _load(self, path):
        with open(path, encoding="utf-8") as f:
            schema = json.load(f)
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
    covered = {p for f in findings for p in f["paths"]}
    chk(s["changes"] == len(reported), f"summary.changes {s['changes']} != {len(reported)}")
    for k in KINDS:
        n = sum(1 for ch in reported if ch["kind"] == k)
        chk(s[k] == n, f"summary.{k} {s[k]} != {n}")
    chk(s["ignored"] == len(changes) - len(reported), "summary.ignored")
    chk(s["findings"] == len(findings), "summary.findings")
    by = {k: 0 for k in s["by_severity"]}
    for f in findings:
        by[f["severity"]] += 1
    for ch in reported:
        if ch["path"] not in covered:
            by[ch["severity"]] += 1
    chk(by == s["by_severity"], f"summary.by_severity {s['by_severity']} != {by}")
    sevs = [f["severity"] for f in findings] + [ch["severity"] for ch in reported]
    high = max(sevs, key=sev_index) if sevs else None
    chk(s["highest_severity"] == high, f"summary.highest_severity {s['highest_severity']} != {high}")
    chk(s["fail_on"] == doc["options"]["fail_on"], "summary.fail_on != options.fail_on")
    thr = 0 if s["fail_on"] == "any" else sev_index(s["fail_on"])
    drift = any(sev_index(x) >= thr for x in sevs)
    chk(s["drift"] == drift, f"summary.drift {s['drift']} != {drift}")
    reported_paths = {ch["path"] for ch in reported}
    for f in findings:
        for p in f["paths"]:
            chk(p in reported_paths, f"finding {f['rule']} on {p!r}: no reported change")
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
            elif any(seg in ("", ".", "..") for seg in uri.split("/")):
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

def cross_check(js, sarif, what, c):
    ok = True

    def chk(cond, msg):
        nonlocal ok
        if not cond:
            ok = False
            print(f"  {what}: {msg}")

    run_ = sarif["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    results = run_["results"]
    by_path = {path_bytes(ch): ch for ch in js["changes"]}

    def result_path(res):
        uri = res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        return b"/" + urllib.parse.unquote_to_bytes(uri)

    got = []
    for res in results:
        p = result_path(res)
        ch = by_path.get(p)
        chk(ch is not None, f"result {res['ruleId']} on {p!r}: no such change in the JSON")
        if ch is None:
            continue
        sup = res.get("suppressions")
        if "ignored" in ch:
            chk(sup == [{"kind": "external", "justification": ch["ignored"]}],
                f"{p!r}: ignored ({ch['ignored']!r}) but suppressions {sup!r}")
        else:
            chk(sup is None, f"{p!r}: not ignored but suppressed")
        got.append((res["ruleId"], p, res["level"]))
        chk(res["properties"]["kind"] == ch["kind"] and res["properties"]["changed"] == ch["changed"],
            f"{p!r}: properties kind/changed differ from the JSON")
    want = []
    covered = set()
    for f in js["findings"]:
        for i, p in enumerate(f["paths"]):
            raw = base64.b64decode(f["paths_bytes"][i]) if "paths_bytes" in f else p.encode()
            covered.add(raw)
            want.append((f["rule"], raw, sarif_level(f["severity"])))
    for ch in js["changes"]:
        p = path_bytes(ch)
        if p not in covered:
            want.append((DRIFT_RULE[ch["kind"]], p, sarif_level(ch["severity"])))
    chk(sorted(got) == sorted(want),
        f"SARIF results differ from the JSON findings + uncovered changes: "
        f"only SARIF {sorted(set(got) - set(want))[:5]}, only JSON {sorted(set(want) - set(got))[:5]}")
    unsuppressed = sum(1 for res in results if "suppressions" not in res)
    chk(unsuppressed == sum(js["summary"]["by_severity"].values()),
        f"{unsuppressed} unsuppressed results, summary.by_severity adds up to "
        f"{sum(js['summary']['by_severity'].values())}")
    chk(run_.get("properties", {}).get("summary") == js["summary"], "run.properties.summary != JSON summary")
    chk(run_.get("properties", {}).get("image") == js["image"], "run.properties.image != JSON image")
    ids = [r["id"] for r in rules]
    for f in js["findings"]:
        rule = rules[ids.index(f["rule"])] if f["rule"] in ids else None
        chk(rule is not None and rule["shortDescription"]["text"] == f["title"] and
            rule["help"]["text"] == f["remediation"], f"rule {f['rule']}: title/help differ from the JSON")
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
            if mt:
                path = os.path.join(tmp, "report.sarif")
                with open(path, "wb") as f:
                    f.write(out)
                multitool_validate(mt, path, label, c, tmp)
        docs[fmt] = doc
    if "json" in docs and "sarif" in docs:
        try:
            cross_check(docs["json"], docs["sarif"], what, c)
        except (KeyError, IndexError, TypeError, ValueError) as e:
            c.check(False, f"{what}: cross-check crashed on malformed output: {e!r}")
    return docs.get("json"), docs.get("sarif")


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
            ("json: no summary.drift", lambda d: d["summary"].pop("drift"))]:
        d = copy.deepcopy(js)
        mutate(d)
        cases.append((name, report_schema, d))
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


class KnownBugs(Checker):
    def check(self, cond, what):
        self.count += 1
        if not cond:
            self.failures += 1
            print("KNOWN BUG (not counted): " + what)
        return cond


def known_bugs(c, v, img_dir, target_dir, ignore, d):
    """Reported bugs: shown, not counted, unless DD_VALIDATE_KNOWN_BUGS=1."""
    strict = os.environ.get("DD_VALIDATE_KNOWN_BUGS") == "1"
    k = c if strict else KnownBugs()
    img = os.path.join(os.fsencode(d), b"image-caf\xe9")
    tgt = os.path.join(os.fsencode(d), b"target-caf\xe9")
    ign = os.path.join(os.fsencode(d), b"ignore-caf\xe9")
    os.symlink(os.fsencode(img_dir), img)
    os.symlink(os.fsencode(target_dir), tgt)
    shutil.copy(ignore, ign)
    what = "known bug: non-UTF-8 image, target and --ignore file names"
    print(f"{what} (lib/report_json.c copies them into the JSON unescaped):")
    report(k, what, ["--ignore", os.fsdecode(ign), "--ref", "latest", os.fsdecode(img), os.fsdecode(tgt)],
           v, None, d)
    what = "known bug: --fail-on never"
    rc, out, _ = run("report", "--format", "json", "--fail-on", "never", "--ref", "latest", img_dir, target_dir)
    if k.check(rc == 0, f"{what}: exit {rc}"):
        doc = json.loads(out)
        k.check(doc["options"]["fail_on"] == "never" and doc["summary"]["fail_on"] == "never",
                f"{what}: options.fail_on/summary.fail_on say {doc['options']['fail_on']!r} "
                "(cli/cmd_report.c clamps never to critical)")
    if not strict:
        print(f"known bugs: {k.failures} of {k.count} checks fail (not counted; DD_VALIDATE_KNOWN_BUGS=1 counts them)")


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
    v = Validators(jsonschema, c)
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

            known_bugs(c, v, layout, merged, ignore, d)

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
            what = "image vs image"
            report(c, what, ["--ref", "latest", "--target-ref", "v1", fixture("oci-umoci"), fixture("oci-umoci")],
                   v, mt, d)
        finally:
            if mounted:
                subprocess.run(["umount", merged], check=False)
    c.done()


if __name__ == "__main__":
    sys.exit(main())
