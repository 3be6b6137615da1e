#!/usr/bin/env python3
"""Check that driftdiff-rules(7) documents every rule of `driftdiff rules`.

usage: check_rules.py DRIFTDIFF [PAGE]

Renders PAGE (default: driftdiff-rules.7 beside this script) with mandoc
and compares it with `driftdiff rules --format json`: every rule id must
head an entry of the page, with its title, and the entry must state the
rule's family, default severity and ATT&CK technique in the form

    Family FAMILY, default severity SEVERITY, ATT&CK technique ID.
    Family FAMILY, default severity SEVERITY, no ATT&CK technique.

and the page must document no rule that the program does not have.
Exit 0 when they agree, 1 with the differences otherwise, 77 (skipped)
when mandoc is missing.
"""
import json
import os
import re
import shutil
import subprocess
import sys

ID = r"DD-[A-Z]+-\d{3}"


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.strip().splitlines()[2])
    exe = sys.argv[1]
    page = sys.argv[2] if len(sys.argv) == 3 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "driftdiff-rules.7")
    mandoc = os.environ.get("MANDOC") or shutil.which("mandoc")
    if not mandoc:
        print("check_rules: mandoc not found; skipped")
        sys.exit(77)

    out = subprocess.run([exe, "rules", "--format", "json"], capture_output=True, check=False)
    if out.returncode != 0:
        sys.exit(f"check_rules: `driftdiff rules --format json` exited {out.returncode}")
    rules = json.loads(out.stdout)
    out = subprocess.run([mandoc, "-T", "ascii", "-O", "width=1000", page],
                         capture_output=True, check=False)
    if out.returncode > 1:
        sys.exit(f"check_rules: {page}: mandoc exited {out.returncode}:\n"
                 + out.stderr.decode(errors="replace"))
    text = re.sub(r".\x08", "", out.stdout.decode(errors="replace"))

    # Each entry: a heading line "ID -- TITLE", then its body up to the next heading.
    heads = list(re.finditer(r"^\s+(" + ID + r") -- (.*?)\s*$", text, re.M))
    entries = {}
    errors = []
    for k, m in enumerate(heads):
        end = heads[k + 1].start() if k + 1 < len(heads) else len(text)
        if m.group(1) in entries:
            errors.append(f"{m.group(1)}: documented twice")
        entries[m.group(1)] = (m.group(2), " ".join(text[m.end():end].split()))

    for r in rules:
        rid = r["id"]
        if rid not in entries:
            errors.append(f"{rid}: not documented")
            continue
        title, body = entries.pop(rid)
        if title != r["title"]:
            errors.append(f"{rid}: title {title!r}, the program says {r['title']!r}")
        att = f"ATT&CK technique {r['attack']}." if r.get("attack") else "no ATT&CK technique."
        want = f"Family {r['family']}, default severity {r['severity']}, {att}"
        if want not in body:
            m = re.search(r"Family [^.]*\.", body)
            errors.append(f"{rid}: the page says {m.group(0) if m else 'nothing'!r}, "
                          f"expected {want!r}")
    for rid in entries:
        errors.append(f"{rid}: documented, but `driftdiff rules` does not list it")

    if errors:
        print("\n".join(f"check_rules: {e}" for e in errors), file=sys.stderr)
        sys.exit(1)
    print(f"check_rules: {len(rules)} rules documented")


if __name__ == "__main__":
    main()
