#!/usr/bin/env python3
"""End to end against the reference implementation: the manifest driftdiff
builds in memory must equal what `umoci unpack` extracts to disk for the
same image: path set, types, modes, owners, sizes, content hashes and
symlink targets. Skipped (77) when umoci is not installed."""
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile

from ddtest import SKIP, Checker, fixture, run

# (layout, tag): several layers with deletions, type changes, hard links,
# setuid bits and capabilities. umoci 0.4 cannot read zstd layers, so
# oci-zstd and oci-whiteouts are checked against their .expected listings
# (compare_expected.py) instead.
IMAGES = [("oci-umoci", "latest"), ("oci-umoci", "v1"), ("demo", "latest")]

TYPES = [(stat.S_ISREG, "file"), (stat.S_ISDIR, "dir"), (stat.S_ISLNK, "symlink"),
         (stat.S_ISCHR, "char"), (stat.S_ISBLK, "block"), (stat.S_ISFIFO, "fifo"),
         (stat.S_ISSOCK, "socket")]


def walk(rootfs, owners):
    """The unpacked tree as {path: (type, mode, uid, gid, size, sha256, target)}."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(rootfs):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            kind = next(k for f, k in TYPES if f(st.st_mode))
            sha = target = None
            if kind == "file":
                with open(full, "rb") as f:
                    sha = hashlib.sha256(f.read()).hexdigest()
            if kind == "symlink":
                target = os.readlink(full)
            path = "/" + os.path.relpath(full, rootfs)
            out[path] = (kind, stat.S_IMODE(st.st_mode),
                         st.st_uid if owners else None, st.st_gid if owners else None,
                         st.st_size if kind == "file" else 0, sha, target)
    return out


def manifest(layout, tag, owners):
    rc, out, err = run("manifest", "--format", "jsonl", "--ref", tag, layout)
    if rc != 0:
        sys.exit(f"driftdiff failed on {layout}:{tag}: {err}")
    res = {}
    for line in out.decode().splitlines():
        e = json.loads(line)
        if e["path"] == "/":
            continue  # the root's attributes are unspecified (manifest.md)
        res[e["path"]] = (e["type"], e["mode"], e["uid"] if owners else None,
                          e["gid"] if owners else None, e["size"] if e["type"] == "file" else 0,
                          e.get("sha256"), e.get("target"))
    return res


def main():
    umoci = shutil.which("umoci")
    if not umoci:
        print("umoci not installed: skipped")
        return SKIP
    owners = os.geteuid() == 0
    c = Checker()
    with tempfile.TemporaryDirectory() as d:
        for layout, tag in IMAGES:
            copy = os.path.join(d, layout)
            if not os.path.exists(copy):
                shutil.copytree(fixture(layout), copy)
            bundle = os.path.join(d, f"bundle-{layout}-{tag}")
            cmd = [umoci, "unpack", "--image", f"{copy}:{tag}", bundle]
            if not owners:
                cmd.insert(2, "--rootless")
            p = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if not c.check(p.returncode == 0, f"umoci unpack {layout}:{tag}: {p.stderr}"):
                continue
            want = walk(os.path.join(bundle, "rootfs"), owners)
            got = manifest(copy, tag, owners)
            for p in sorted(set(want) | set(got)):
                c.check(want.get(p) == got.get(p),
                        f"{layout}:{tag} {p}: umoci {want.get(p)} driftdiff {got.get(p)}")
            print(f"{layout}:{tag}: {len(want)} entries compared")
    c.done()


if __name__ == "__main__":
    sys.exit(main())
