#!/usr/bin/env python3
"""A saved manifest stands in for its image: the listing read back is the
same, byte for byte, including paths and link targets that are not UTF-8;
a truncated or corrupted saved manifest is an error."""
import os
import sys
import tempfile

from ddtest import Checker, SOURCE_ROOT, fixture, run

sys.path.insert(0, os.path.join(SOURCE_ROOT, "fixtures"))
import gen_images as g  # noqa: E402  (the fixture generator's tar and layout builders)


def nonutf8_layout(path):
    bad = b"caf\xe9-\xff".decode("utf-8", "surrogateescape")
    entries = [g.D("d"), g.F("d/" + bad, "x"), g.F("d/h\u00e9llo", "y"), g.L("d/link", bad),
               g.F("d/ctrl\x1b[31m", "z"), g.F("d/bidi\u202etxt.exe", "w"), g.F("d/back\\slash", "v")]
    blobs = g.Blobs()
    mdesc, *_ = g.build_image(blobs, [(g.make_tar(entries), "gzip")])
    g.write_layout(path, blobs, g.index_of(mdesc))


def main():
    c = Checker()
    with tempfile.TemporaryDirectory() as d:
        nonutf8 = os.path.join(d, "nonutf8")
        nonutf8_layout(nonutf8)
        images = [(nonutf8, []), (fixture("oci-umoci"), ["--ref", "latest"]),
                  (fixture("oci-whiteouts"), []), (fixture("docker-legacy.tar"), []),
                  (fixture("demo"), [])]
        for i, (img, opts) in enumerate(images):
            saved = os.path.join(d, f"m{i}.manifest")
            rc, _, err = run("manifest", *opts, "-o", saved, img)
            if not c.check(rc == 0, f"save {img}: exit {rc}: {err}"):
                continue
            for fmt in ("jsonl", "text"):
                rc1, direct, _ = run("manifest", *opts, "--format", fmt, img)
                rc2, again, err = run("manifest", "--format", fmt, saved)
                c.check(rc1 == 0 and rc2 == 0 and direct == again,
                        f"{img}: {fmt} listing from the saved manifest differs ({err})")
            rc, a, _ = run("inspect", "--format", "json", saved)
            c.check(rc == 0 and b'"driftdiff-manifest"' in a, f"inspect of saved {img}")
            # Drop the last entry: the header's count exposes the truncation.
            with open(saved, "rb") as f:
                lines = f.read().splitlines(keepends=True)
            cut = os.path.join(d, f"cut{i}.manifest")
            with open(cut, "wb") as f:
                f.writelines(lines[:-1])
            rc, out, err = run("manifest", cut)
            c.check(rc == 2 and "truncated" in err and out == b"", f"truncated saved manifest: {rc} {err}")
            bad = os.path.join(d, f"bad{i}.manifest")
            with open(bad, "wb") as f:
                f.writelines(lines[:1] + [b'{"path":"../etc","type":"dir"}\n'] + lines[2:])
            rc, out, err = run("manifest", bad)
            c.check(rc == 2 and bad in err, f"corrupted saved manifest: {rc} {err}")
        # The non-UTF-8 bytes survive exactly.
        rc, out, _ = run("manifest", "--format", "jsonl", nonutf8)
        c.check(b'"path_bytes":"L2QvY2Fm6S3/"' in out, "path_bytes of /d/caf\\xe9-\\xff")
        c.check(b'"target_bytes":"Y2Fm6S3/"' in out, "target_bytes of the symlink")
        rc, out, _ = run("manifest", nonutf8)
        c.check(b'"/d/caf\\351-\\377"' in out and b'"/d/ctrl\\033[31m"' in out
                and b'"/d/bidi\\342\\200\\256txt.exe"' in out and b'"/d/back\\\\slash"' in out
                and b' /d/h\xc3\xa9llo\n' in out,
                "text listing quotes control, bidi and invalid bytes, in double quotes like git")
    c.done()


if __name__ == "__main__":
    main()
