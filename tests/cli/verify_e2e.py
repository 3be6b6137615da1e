#!/usr/bin/env python3
"""driftdiff verify: exit 0 and one line when the image's digest is approved,
exit 1 with the digest and DD-DIG-001 when it is not, exit 2 on any error
(a malformed approval file names FILE:LINE)."""
import json
import os
import tempfile

from ddtest import Checker, fixture, run

UMOCI = fixture("oci-umoci")
LATEST = "sha256:083610133b274846bad7bc38edd104b5f58974e9e3e77b72cd2e45d3bb7c865c"
V1 = "sha256:f2313b5ff31142fcf55f32b725ae17ef1014ed5f88b53be8682ee875ea4e37c2"
LEGACY = fixture("docker-legacy.tar")
LEGACY_ID = "sha256:98dc8af1071cb323a96104c4258b5f22f12fcc5e0d88b6eefacd4f8745f8307c"
OTHER = "sha256:" + "1" * 64
USAGE = ("usage: driftdiff verify [--ref NAME] [--platform OS/ARCH[/VARIANT]] "
         "(--expect DIGEST | --approved FILE) IMAGE\n")


def write(tmp, name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def error(c, what, args, needles):
    rc, out, err = run("verify", *args)
    lines = err.strip().splitlines()
    c.check(rc == 2, f"{what}: exit {rc}, want 2")
    c.check(out == b"", f"{what}: wrote to stdout on error: {out!r}")
    c.check(1 <= len(lines) <= 2, f"{what}: {len(lines)} stderr lines: {err!r}")
    for n in needles:
        c.check(n in err, f"{what}: stderr lacks {n!r}: {err!r}")


def main():
    c = Checker()
    with tempfile.TemporaryDirectory() as tmp:
        approved = write(tmp, "approved.txt",
                         f"# images approved for production\n\n{OTHER}\n  {LATEST}  # umoci:latest\n")

        # approved
        for what, args in [("--expect", ["--expect", LATEST]),
                           ("--expect twice", ["--expect", OTHER, "--expect", LATEST]),
                           ("--approved", ["--approved", approved])]:
            rc, out, err = run("verify", "--ref", "latest", *args, UMOCI)
            c.check(rc == 0, f"{what}: exit {rc}, want 0: {err}")
            c.check(out.decode() == f"{UMOCI}: approved ({LATEST})\n"
                    f"  low DD-DIG-002 Image reference without a digest: latest; pin it as latest@{LATEST}\n",
                    f"{what}: stdout {out!r}")
            c.check(err == "", f"{what}: stderr {err!r}")

        # not approved: another image of the same layout
        rc, out, err = run("verify", "--ref", "v1", "--approved", approved, UMOCI)
        text = out.decode()
        c.check(rc == 1, f"v1: exit {rc}, want 1: {err}")
        c.check(text.startswith(f"{UMOCI}: not approved ({V1})\n"), f"v1: stdout {text!r}")
        c.check("DD-DIG-001" in text and "manifest digest" in text and "is not among the 2 approved" in text,
                f"v1: stdout {text!r}")

        # a docker archive has no manifest digest: its image ID is checked, and said so
        rc, out, err = run("verify", "--expect", LEGACY_ID, LEGACY)
        text = out.decode()
        c.check(rc == 0, f"legacy: exit {rc}, want 0: {err}")
        c.check(text.startswith(f"{LEGACY}: approved ({LEGACY_ID})\n"), f"legacy: stdout {text!r}")
        c.check("no manifest digest" in text and "config digest" in text, f"legacy: stdout {text!r}")
        rc, out, err = run("verify", "--expect", LATEST, LEGACY)
        c.check(rc == 1 and f"not approved ({LEGACY_ID})" in out.decode(),
                f"legacy not approved: exit {rc}: {out!r}")

        # a tampered blob fails even with its manifest digest approved
        rc, out, _ = run("inspect", "--format", "json", "--no-verify", fixture("bad/blob-digest-mismatch"))
        bad = json.loads(out)["manifest_digest"] if rc == 0 else OTHER
        error(c, "tampered layer", ["--expect", bad, fixture("bad/blob-digest-mismatch")],
              ["blob-digest-mismatch", "blob digest mismatch"])

        # errors
        bad_line = write(tmp, "bad-line.txt", f"{LATEST}\n# ok\n\nsha256:0836101\n")
        error(c, "malformed approved line", ["--ref", "latest", "--approved", bad_line, UMOCI],
              [f"{bad_line}:4:", "malformed digest", "sha256:0836101"])
        upper = write(tmp, "upper.txt", LATEST.upper().replace("SHA256", "sha256") + "\n")
        error(c, "uppercase digest", ["--ref", "latest", "--approved", upper, UMOCI], [f"{upper}:1:"])
        empty = write(tmp, "empty.txt", "# nothing approved yet\n")
        error(c, "empty approved file", ["--ref", "latest", "--approved", empty, UMOCI],
              [empty, "no digests"])
        error(c, "missing approved file", ["--approved", os.path.join(tmp, "nope.txt"), UMOCI],
              ["nope.txt", "No such file"])
        error(c, "approved file is a directory", ["--approved", tmp, UMOCI],
              [tmp, "not a regular file"])
        error(c, "malformed --expect", ["--expect", "latest", UMOCI], ["--expect", "malformed digest"])
        error(c, "missing image", ["--expect", LATEST, fixture("does-not-exist")],
              ["does-not-exist", "No such file"])
        error(c, "several images", ["--expect", LATEST, UMOCI], ["several images"])
        error(c, "no IMAGE", ["--expect", LATEST], ["no IMAGE given", "verify --help"])
        error(c, "two IMAGEs", ["--expect", LATEST, UMOCI, UMOCI], ["more than one IMAGE"])
        error(c, "no digests", [UMOCI], ["--expect DIGEST or --approved FILE"])
        error(c, "unknown option", ["--frobnicate", UMOCI], ["unknown option '--frobnicate'"])
        error(c, "missing value", [UMOCI, "--expect"], ["needs a value"])

        # --help
        for args in (["verify", "--help"], ["help", "verify"]):
            rc, out, err = run(*args)
            text = out.decode()
            c.check(rc == 0 and text.startswith(USAGE), f"{' '.join(args)}: exit {rc}: {text[:120]!r}")
            c.check("Exit status" in text, f"{' '.join(args)}: no exit status in help")
    c.done()


if __name__ == "__main__":
    main()
