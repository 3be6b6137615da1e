#!/usr/bin/env python3
"""Where -o writes: a regular file is replaced whole, and only when the run
succeeded; anything else that exists (a FIFO, /dev/null) is written in
place and stays what it was; a directory is an error."""
import os
import stat
import tempfile
import threading

from ddtest import Checker, fixture, run


def main():
    c = Checker()
    image = fixture("demo")
    rc, want, err = run("manifest", image)
    c.check(rc == 0 and want, f"manifest demo: exit {rc}: {err!r}")
    with tempfile.TemporaryDirectory() as d:
        # A new file, then the same path again over an older file.
        path = os.path.join(d, "out.txt")
        for _ in range(2):
            rc, out, err = run("manifest", "-f", "text", "-o", path, image)
            with open(path, "rb") as f:
                got = f.read()
            c.check(rc == 0 and out == b"" and got == want, f"-o {path}: exit {rc}, {err!r}")
        c.check(sorted(os.listdir(d)) == ["out.txt"], f"-o left files: {os.listdir(d)}")

        # A FIFO: renaming a finished temporary over it would replace the
        # node. It stands for /dev/null, which is not tried: were this to
        # regress, a run as root would replace the machine's /dev/null.
        fifo = os.path.join(d, "fifo")
        os.mkfifo(fifo)
        got = []
        reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()), daemon=True)
        reader.start()
        rc, out, err = run("manifest", "-f", "text", "-o", fifo, image)
        reader.join(10)
        c.check(rc == 0 and got == [want], f"-o FIFO: exit {rc}, read {len(got[0]) if got else None} bytes: {err!r}")
        c.check(stat.S_ISFIFO(os.lstat(fifo).st_mode), "-o FIFO: the FIFO was replaced")
        c.check(sorted(os.listdir(d)) == ["fifo", "out.txt"], f"-o FIFO left files: {os.listdir(d)}")

        rc, out, err = run("manifest", "-o", d, image)
        c.check(rc == 2 and d in err and out == b"", f"-o DIRECTORY: exit {rc}: {err!r}")
    c.done()


if __name__ == "__main__":
    main()
