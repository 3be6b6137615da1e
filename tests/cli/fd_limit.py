#!/usr/bin/env python3
"""Out of file descriptors: a walk holds one per directory level plus one
per file queued for hashing, so a deep tree with a big directory at the
bottom can reach RLIMIT_NOFILE. The walk must then wait for the queue to
drain and open the file again, not record it unreadable."""
import json
import os
import resource
import subprocess
import sys
import tempfile

import ddtest
from ddtest import Checker, fixture

DEPTH, FILES, LIMIT = 40, 300, 100


def main():
    c = Checker()
    with tempfile.TemporaryDirectory() as d:
        root = os.path.join(d, "rootfs")
        deep = os.path.join(root, *(["d"] * DEPTH))
        os.makedirs(deep)
        for i in range(FILES):
            with open(os.path.join(deep, f"f{i}"), "w") as f:
                f.write(f"file {i}\n")

        def low_limit():
            resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, LIMIT))

        p = subprocess.run([ddtest.EXE, "report", "--no-cache", "--format", "json", "--all",
                            fixture("demo"), root], capture_output=True, preexec_fn=low_limit,
                           timeout=120)
        c.check(p.returncode == 1, f"exit {p.returncode}, want 1: {p.stderr.decode(errors='replace')}")
        doc = json.loads(p.stdout or b"{}")
        warnings = [w for w in doc.get("warnings", []) if "open" in w]
        c.check(not warnings, f"files left unopened: {warnings[:3]}")
        hashed = [ch for ch in doc.get("changes", [])
                  if ch["path"].startswith("/d/") and ch.get("after", {}).get("sha256")]
        c.check(len(hashed) == FILES, f"{len(hashed)} of {FILES} files hashed")
    c.done()


if __name__ == "__main__":
    sys.exit(main())
