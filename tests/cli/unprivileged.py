#!/usr/bin/env python3
"""driftdiff run by an unprivileged user on a root-owned rootfs: what it
cannot read is reported as unreadable, the image's files below an
unreadable directory are not called deleted, and it never crashes. Needs
root to set the scene (umoci unpack, setpriv); skipped (77) otherwise."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from ddtest import EXE, SKIP, Checker, fixture


def main():
    if os.geteuid() != 0 or not shutil.which("umoci") or not shutil.which("setpriv"):
        print("needs root, umoci and setpriv: skipped")
        return SKIP
    c = Checker()
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)
        layout = os.path.join(d, "image")
        shutil.copytree(fixture("oci-umoci"), layout)
        subprocess.run(["chmod", "-R", "a+rX", layout], check=True)
        bundle = os.path.join(d, "bundle")
        subprocess.run(["umoci", "unpack", "--image", layout + ":latest", bundle], check=True,
                       capture_output=True)
        rootfs = os.path.join(bundle, "rootfs")
        os.chmod(bundle, 0o755)
        # A private directory with image content below it, and an unreadable file.
        os.chmod(os.path.join(rootfs, "usr/share/zoneinfo"), 0o700)
        exe = os.path.realpath(EXE)
        p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            exe, "report", "--format", "json", "--ref", "latest", layout, rootfs],
                           capture_output=True, timeout=120)
        c.check(p.returncode in (0, 1), f"exit {p.returncode}: {p.stderr.decode(errors='replace')}")
        if p.returncode in (0, 1):
            rep = json.loads(p.stdout)
            kinds = {ch["path"]: ch["kind"] for ch in rep["changes"]}
            c.check(kinds.get("/usr/bin/tool") == "unreadable", f"/usr/bin/tool (0700 root): {kinds.get('/usr/bin/tool')}")
            c.check(kinds.get("/usr/share/zoneinfo") == "unreadable", f"/usr/share/zoneinfo: {kinds.get('/usr/share/zoneinfo')}")
            c.check(not any(k.startswith("/usr/share/zoneinfo/") for k in kinds),
                    "entries below an unreadable directory reported: %s" %
                    [k for k in kinds if k.startswith("/usr/share/zoneinfo/")])
            c.check(not any(v == "deleted" for v in kinds.values()), f"deletions invented: {kinds}")
            c.check(any("/usr/share/zoneinfo" in w for w in rep["warnings"]), "warning for the unreadable dir")
        p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            exe, "report", layout + "-nope", rootfs], capture_output=True, timeout=60)
        c.check(p.returncode == 2, f"missing image as nobody: exit {p.returncode}")
    c.done()


if __name__ == "__main__":
    sys.exit(main())
