#!/usr/bin/env python3
"""Broken and hostile inputs: exit status 2, one clear line on stderr that
names the file and what was wrong, never a crash and never output."""
import os
import tempfile

from ddtest import Checker, fixture, run

# (input, extra args, substrings the one-line error must contain)
CASES = [
    ("bad/blob-digest-mismatch", [], ["blob-digest-mismatch", "layer 1", "blob digest mismatch", "expected sha256:", "got sha256:"]),
    ("bad/diffid-mismatch", [], ["diffid-mismatch", "diff_id mismatch", "config says sha256:"]),
    ("bad/size-mismatch", [], ["size-mismatch", "size mismatch", "descriptor says"]),
    ("bad/truncated.tar", [], ["truncated.tar", "truncated"]),
    ("bad/truncated-layer", [], ["truncated-layer", "truncated gzip"]),
    ("bad/not-an-image.tar", [], ["not-an-image.tar", "not an image"]),
    ("bad/bad-digest", [], ["bad-digest", "malformed digest", "sha256:../../etc/passwd"]),
    ("bad/missing-blob", [], ["missing-blob", "missing"]),
    ("bad/bare-whiteout", [], ["bare-whiteout", "bare whiteout"]),
    ("does-not-exist", [], ["does-not-exist", "No such file"]),
    ("README", [], ["README", "not an image"]),
    ("oci-umoci", [], ["oci-umoci", "several images", "--ref", "latest", "v1"]),
    ("oci-umoci", ["--ref", "nope"], ["oci-umoci", "no image named 'nope'"]),
    ("oci-multi", ["--platform", "linux/s390x"], ["oci-multi", "no image for platform linux/s390x", "linux/arm64"]),
    ("docker-multi.tar", [], ["docker-multi.tar", "--ref", "example/multi:a"]),
    ("oci-archive.tar", ["--platform", "linux/arm64"], ["oci-archive.tar", "linux/amd64", "not linux/arm64"]),
]


def main():
    c = Checker()
    for name, extra, needles in CASES:
        for cmd in ("manifest", "inspect"):
            rc, out, err = run(cmd, *extra, fixture(name))
            lines = err.strip().splitlines()
            c.check(rc == 2, f"{cmd} {name}: exit {rc}, want 2")
            c.check(out == b"", f"{cmd} {name}: wrote to stdout on error")
            c.check(len(lines) == 1, f"{cmd} {name}: {len(lines)} stderr lines: {err!r}")
            for n in needles:
                c.check(n in err, f"{cmd} {name}: stderr lacks {n!r}: {err!r}")
    # A failed run must not leave a half-written output file behind.
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "m.manifest")
        rc, _, _ = run("manifest", "-o", out, fixture("bad/diffid-mismatch"))
        c.check(rc == 2 and os.listdir(d) == [], "manifest -o on a bad image left files: %s" % os.listdir(d))
    # Usage errors: exit 2, the problem and a hint.
    for args, needle in [(["manifest"], "no IMAGE"), (["manifest", "--bogus", "x"], "unknown option"),
                         (["manifest", "--format", "xml", "x"], "unknown format"),
                         (["nosuchcmd"], "unknown command"), (["inspect", "a", "b"], "more than one IMAGE"),
                         (["manifest", "--platform", "amd64", fixture("demo")], "invalid platform")]:
        rc, out, err = run(*args)
        c.check(rc == 2 and needle in err, f"{args}: exit {rc}, stderr {err!r}")
    c.done()


if __name__ == "__main__":
    main()
