#!/usr/bin/env python3
"""Package drift end to end: fixtures/pkg (see fixtures/README, "Package drift").

`driftdiff report --format json` of the drifted export against its image
must give exactly the package findings (family "package") listed in
fixtures/pkg/expected-findings.txt, and the DD-BIN-001 findings listed
there must carry the provenance text given in their third column.
"""
import json

from ddtest import Checker, fixture, run


def expected():
    rows = []
    with open(fixture("pkg/expected-findings.txt"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line and not line.startswith("#"):
                cols = line.split("\t")
                rows.append((cols[0], cols[1], cols[2] if len(cols) > 2 else None))
    return rows


def key(f):
    """RULE and the package name, or the main path for findings without a package."""
    pkg = f.get("package")
    return f["rule"], pkg["name"] if pkg and pkg.get("name") and f["rule"] != "DD-PKG-005" \
        else f["paths"][0]


def main():
    t = Checker()
    code, out, err = run("report", "--format", "json", fixture("pkg/image"),
                         fixture("pkg/drifted.tar"))
    t.check(code == 1, f"exit status 1 for drift, got {code}: {err}")
    findings = json.loads(out)["findings"] if out else []
    want = expected()
    got_pkg = sorted(key(f) for f in findings if f["family"] == "package")
    want_pkg = sorted((r, w) for r, w, _ in want if r.startswith("DD-PKG-"))
    t.check(got_pkg == want_pkg, f"package findings\n  got  {got_pkg}\n  want {want_pkg}")
    for rule, what, detail in want:
        if rule.startswith("DD-PKG-"):
            continue
        match = [f for f in findings if key(f) == (rule, what)]
        t.check(len(match) == 1, f"one {rule} finding for {what}, got {len(match)}")
        if match and detail:
            t.check(detail in (match[0].get("detail") or ""),
                    f"{rule} {what}: detail {match[0].get('detail')!r} lacks {detail!r}")
    nc = [f for f in findings if key(f) == ("DD-BIN-001", "/usr/bin/nc-tiny")]
    t.check(bool(nc) and nc[0]["severity"] == "medium",
            "an executable a new package installed is lowered to medium")
    t.done()


if __name__ == "__main__":
    main()
