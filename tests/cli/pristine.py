#!/usr/bin/env python3
"""No false positives: a container that is exactly its image reports no
change and no finding, exit 0, for every image fixture umoci can unpack,
as a rootfs directory and as an export tar. Needs root and umoci."""
import os
import shutil
import subprocess
import sys
import tempfile
import json

from ddtest import SKIP, Checker, fixture, run

# fixtures/pkg/image is made of real Debian packages (dpkg database, .list,
# .md5sums), so package rules get a pristine run too.
IMAGES = [("oci-umoci", "latest"), ("oci-umoci", "v1"), ("demo", "latest"), ("pkg/image", "latest")]


def main():
    if os.geteuid() != 0 or not shutil.which("umoci"):
        print("needs root and umoci: skipped")
        return SKIP
    c = Checker()
    with tempfile.TemporaryDirectory() as d:
        for name, tag in IMAGES:
            layout = os.path.join(d, name.replace("/", "-"))
            if not os.path.exists(layout):
                shutil.copytree(fixture(name), layout)
            bundle = os.path.join(d, f"{name.replace('/', '-')}-{tag}")
            subprocess.run(["umoci", "unpack", "--image", f"{layout}:{tag}", bundle], check=True,
                           capture_output=True)
            rootfs = os.path.join(bundle, "rootfs")
            export = bundle + ".tar"
            subprocess.run(["tar", "--xattrs", "--xattrs-include=*", "--numeric-owner", "-C", rootfs,
                            "-cf", export, "."], check=True)
            for form, target in (("rootfs", rootfs), ("tar", export)):
                rc, out, err = run("report", "--format", "json", "--all", "--ref", tag, layout, target)
                rep = json.loads(out) if rc in (0, 1) else {"changes": [], "findings": []}
                c.check(rc == 0, f"{name}:{tag} {form}: exit {rc} {err}")
                c.check(rep["changes"] == [], f"{name}:{tag} {form}: changes {[x['path'] for x in rep['changes']]}")
                c.check(rep["findings"] == [], f"{name}:{tag} {form}: findings {rep['findings']}")
            print(f"{name}:{tag}: pristine")
    c.done()


if __name__ == "__main__":
    sys.exit(main())
