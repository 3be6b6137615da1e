#!/usr/bin/env python3
"""--policy (severities, disabled rules, allowances with expiry, suppressed
findings still reported) and --evidence (executables copied by hash,
read-only, with an index and the JSON report)."""
import hashlib
import json
import os
import stat
import sys
import tempfile

from ddtest import SOURCE_ROOT, Checker, fixture, run

IMAGE, TARGET = fixture("demo"), fixture("demo-container.tar.gz")


def findings(out):
    return {(f["rule"], f["paths"][0] if f["paths"] else ""): f for f in json.loads(out)["findings"]}


def write(d, name, obj):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(obj if isinstance(obj, str) else json.dumps(obj))
    return path


def main():
    c = Checker()
    with tempfile.TemporaryDirectory() as d:
        pol = write(d, "policy.json", {
            "version": 1,
            "rules": {"DD-AF-001": {"severity": "low"},
                      "DD-PERS-001": {"enabled": False, "justification": "accounts are managed by the app"}},
            "allow": [
                {"rule": "DD-BIN-001", "paths": ["/app/*.sh"], "justification": "the app writes its own updater"},
                {"rule": "DD-BIN-001", "paths": ["/tmp/**"], "justification": "expired", "expires": "2020-01-01"},
            ]})
        rc, out, err = run("report", "--format", "json", "--policy", pol, IMAGE, TARGET)
        c.check(rc == 1, f"policy run: exit {rc} {err}")
        f = findings(out)
        c.check(f[("DD-BIN-001", "/app/update.sh")].get("suppressed") == "the app writes its own updater",
                "allowance suppresses with its justification")
        c.check("suppressed" not in f[("DD-BIN-001", "/tmp/.X11-unix/.x/kworkerd")], "expired allowance still applied")
        c.check(f[("DD-AF-001", "/etc/motd")]["severity"] == "low", "severity override")
        c.check(f[("DD-PERS-001", "/etc/passwd")].get("suppressed") == "accounts are managed by the app",
                "disabled rule is reported as suppressed")
        rc, out, _ = run("report", "--format", "sarif", "--policy", pol, IMAGE, TARGET)
        res = json.loads(out)["runs"][0]["results"]
        sup = [r for r in res if r["ruleId"] == "DD-BIN-001" and r.get("suppressions")]
        c.check(len(sup) == 1 and sup[0]["suppressions"][0]["justification"] == "the app writes its own updater",
                "SARIF carries the suppression")
        rc, out, _ = run("report", "--policy", pol, IMAGE, TARGET)
        c.check(b"/app/update.sh  [executable]" in out and b"DD-BIN-001  Executable added: /app/update.sh" not in out
                and b"suppressed by policy" in out, "text hides suppressed findings and counts them")
        # Everything allowed: the gate at high passes, the report still lists the changes.
        allow_all = write(d, "all.json", {"version": 1, "allow": [
            {"rule": "*", "paths": ["/**"], "justification": "lab container"}]})
        rc, out, err = run("report", "--fail-on", "high", "--policy", allow_all, IMAGE, TARGET)
        c.check(rc == 0 and b"/tmp/.X11-unix/.x/kworkerd" in out, f"allow-all policy at --fail-on high: exit {rc} {err}")
        # The shipped default policy loads.
        rc, _, err = run("report", "--policy", os.path.join(SOURCE_ROOT, "contrib", "policy-default.json"), IMAGE, TARGET)
        c.check(rc == 1, f"default policy: exit {rc} {err}")
        # Broken policies: exit 2, the file named, the problem said.
        for body, needle in [({"version": 1, "rules": {"DD-NOPE-001": {"severity": "low"}}}, "unknown rule id"),
                             ({"version": 1, "rules": {"DD-AF-001": {"enabled": False}}}, "justification"),
                             ({"version": 1, "allow": [{"rule": "DD-BIN-001", "paths": ["/x"]}]}, "justification"),
                             ({"version": 1, "allow": [{"rule": "DD-BIN-001", "paths": ["/x"], "justification": "j",
                                                        "expires": "next week"}]}, "YYYY-MM-DD"),
                             ({"version": 2}, "version"), ({"version": 1, "rulez": {}}, "unknown key"),
                             ('{"version": 1,', "malformed JSON")]:
            p = write(d, "bad.json", body)
            rc, out, err = run("report", "--policy", p, IMAGE, TARGET)
            c.check(rc == 2 and p in err and needle in err and out == b"", f"bad policy {body}: {rc} {err}")
        # Evidence.
        ev = os.path.join(d, "evidence")
        rc, _, err = run("report", "--evidence", ev, IMAGE, TARGET)
        c.check(rc == 1 and "3 files" in err, f"evidence run: {rc} {err}")
        index = json.load(open(os.path.join(ev, "index.json")))
        c.check(sorted(e["path"] for e in index) ==
                ["/app/update.sh", "/tmp/.X11-unix/.x/kworkerd", "/tmp/.X11-unix/.x/sh"], f"index {index}")
        for e in index:
            p = os.path.join(ev, e["evidence"])
            data = open(p, "rb").read()
            c.check(hashlib.sha256(data).hexdigest() == e["evidence"] == e["sha256"] and e["matches_report"],
                    f"{e['path']}: copy named by its hash")
            c.check(stat.S_IMODE(os.lstat(p).st_mode) == 0o400, f"{e['path']}: copy is read-only")
        rep = json.load(open(os.path.join(ev, "report.json")))
        c.check(rep["schema_version"] == 1 and rep["summary"]["drift"], "report.json beside the evidence")
    c.done()


if __name__ == "__main__":
    sys.exit(main())
