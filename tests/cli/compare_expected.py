#!/usr/bin/env python3
"""Compare `driftdiff manifest --format jsonl` with a fixture's .expected listing.

usage: compare_expected.py DRIFTDIFF EXPECTED IMAGE [driftdiff options...]

The .expected files are produced independently of driftdiff (umoci unpack
plus a walk, or the generator's own model of the final tree); see
fixtures/README. Exit 0 when path set, types, modes, owners, sizes, content
hashes and symlink targets all agree, 1 with a diff otherwise.
"""
import base64
import json
import os
import subprocess
import sys


def listing_from_driftdiff(exe, image, opts):
    out = subprocess.run([exe, "manifest", "--format", "jsonl", *opts, image],
                         capture_output=True, check=False)
    if out.returncode != 0:
        sys.stderr.write(out.stderr.decode(errors="replace"))
        sys.exit(f"driftdiff exited {out.returncode}")
    rows = []
    for line in out.stdout.decode().splitlines():
        e = json.loads(line)
        path = base64.b64decode(e["path_bytes"]).decode(errors="surrogateescape") \
            if "path_bytes" in e else e["path"]
        rows.append("\t".join([
            path, e["type"], "%04o" % e["mode"], str(e["uid"]), str(e["gid"]),
            str(e["size"] if e["type"] == "file" else 0),
            e.get("sha256", "-"), e.get("target", "-")]))
    return rows


def main():
    exe, expected, image, *opts = sys.argv[1:]
    if os.environ.get("DD_WRAPPER"):
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import ddtest  # noqa: E402  (the wrapped executable, for the valgrind setup)
        exe = ddtest.EXE
    want = [l.rstrip("\n") for l in open(expected, encoding="utf-8",
                                          errors="surrogateescape") if l.strip()]
    got = listing_from_driftdiff(exe, image, opts)
    # The root's attributes are unspecified by the OCI spec (manifest.md);
    # only its presence is compared.
    strip_root = lambda rows: [r for r in rows if not r.startswith("/\t")]
    if strip_root(want) == strip_root(got) and got and got[0].startswith("/\t"):
        print(f"ok: {len(got)} entries match {expected}")
        return 0
    ws, gs = set(strip_root(want)), set(strip_root(got))
    for r in sorted(ws - gs):
        print("- " + r)
    for r in sorted(gs - ws):
        print("+ " + r)
    if ws == gs:
        print("same entries, different order")
    return 1


if __name__ == "__main__":
    sys.exit(main())
