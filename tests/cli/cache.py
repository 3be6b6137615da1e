#!/usr/bin/env python3
"""The manifest cache: filled on first use, read afterwards with the same
report, a damaged entry ignored and rewritten, concurrent runs safe, a
directory writable by others never used, --no-cache bypassing it."""
import glob
import os
import subprocess
import sys
import tempfile

import ddtest
from ddtest import Checker, fixture

IMAGE, TARGET = fixture("demo"), fixture("demo-container.tar.gz")


def run(cache, *args):
    env = dict(os.environ, XDG_CACHE_HOME=cache)
    p = subprocess.run([ddtest.EXE, "report", "--format", "json", *args, IMAGE, TARGET],
                       capture_output=True, env=env, timeout=120)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def main():
    c = Checker()
    with tempfile.TemporaryDirectory() as d:
        cache = os.path.join(d, "c")
        rc, first, err = run(cache)
        entries = glob.glob(os.path.join(cache, "driftdiff", "sha256-*.tree"))
        c.check(rc == 1 and len(entries) == 1, f"first run fills the cache: {rc} {entries} {err}")
        rc, second, _ = run(cache)
        c.check(rc == 1 and second == first, "a cached run reports the same")
        rc, third, _ = run(cache, "--no-cache")
        c.check(third == first, "--no-cache reports the same")
        # Damage the entry: the run must still be right, and repair it.
        with open(entries[0], "r+b") as f:
            f.seek(os.path.getsize(entries[0]) // 2)
            f.write(b"\x00garbage\x00")
        rc, out, _ = run(cache)
        c.check(rc == 1 and out.replace(b'"manifest cache', b"") and b'"changes"' in out, "damaged entry: still a report")
        rc, again, _ = run(cache)
        c.check(again == first, "damaged entry replaced by a good one")
        # Concurrent runs on an empty cache.
        os.remove(entries[0])
        env = dict(os.environ, XDG_CACHE_HOME=cache)
        procs = [subprocess.Popen([ddtest.EXE, "report", "--format", "json", IMAGE, TARGET],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) for _ in range(4)]
        outs = [p.communicate(timeout=120) for p in procs]
        c.check(all(p.returncode == 1 for p in procs) and all(o == first for o, _ in outs),
                "four concurrent runs agree")
        c.check(not glob.glob(os.path.join(cache, "driftdiff", "*.tmp*")), "no temporary files left")
        # A cache directory others can write is not trusted.
        shared = os.path.join(d, "shared")
        os.makedirs(os.path.join(shared, "driftdiff"))
        os.chmod(os.path.join(shared, "driftdiff"), 0o777)
        rc, out, _ = run(shared)
        c.check(rc == 1 and out == first and not os.listdir(os.path.join(shared, "driftdiff")),
                "world-writable cache dir left alone")
    c.done()


if __name__ == "__main__":
    sys.exit(main())
