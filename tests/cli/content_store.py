#!/usr/bin/env python3
"""Images read from a bare blob store (containerd's content store) by digest.

containerd keeps pulled images as content-addressed blobs, with no
index.json: /var/lib/containerd/io.containerd.content.v1.content/blobs/sha256/.
Given --ref DIGEST (or NAME@DIGEST, as Kubernetes reports imageID), that
directory is an image: the manifest or index blob is verified and read as
if index.json named it. A store holding the blobs of two fixtures must give
exactly the trees the fixtures' own layouts give.
"""
import json
import os
import shutil
import tempfile

from ddtest import Checker, fixture, run


def main():
    c = Checker()
    tmp = tempfile.mkdtemp(prefix="dd-store-")
    try:
        store = os.path.join(tmp, "io.containerd.content.v1.content")
        for name in ("oci-multi", "oci-umoci"):
            shutil.copytree(os.path.join(fixture(name), "blobs"), os.path.join(store, "blobs"),
                            dirs_exist_ok=True)
        with open(os.path.join(fixture("oci-multi"), "index.json")) as f:
            multi = json.load(f)["manifests"][0]["digest"]
        rc, out, err = run("inspect", "--format", "json", "--ref", "latest", fixture("oci-umoci"))
        umoci = json.loads(out)["manifest_digest"] if rc == 0 else None
        c.check(umoci is not None, f"inspect of the layout: {err}")

        for ref, layout, extra in ((umoci, fixture("oci-umoci"), ["--ref", "latest"]),
                                   ("docker.io/library/multi@" + multi, fixture("oci-multi"),
                                    ["--platform", "linux/arm64"])):
            plat = extra[1:] if extra[0] == "--platform" else []
            rc1, want, err1 = run("manifest", "--format", "jsonl", *extra, layout)
            rc2, got, err2 = run("manifest", "--format", "jsonl", "--ref", ref,
                                 *(["--platform"] + plat if plat else []), store)
            c.check(rc1 == 0 and rc2 == 0 and want == got and len(got) > 100,
                    f"{ref}: the store gives the layout's tree ({rc1} {rc2} {err2})")

        rc, out, err = run("manifest", "--ref", "sha256:" + "0" * 64, store)
        c.check(rc == 2 and "no index.json, and no blob sha256:000" in err, f"a missing blob: {err}")
        rc, out, err = run("manifest", "--ref", "sha256:../../etc/passwd", store)
        c.check(rc == 2 and "malformed digest" in err, f"a malformed digest: {err}")
        rc, out, err = run("manifest", store)
        c.check(rc == 2 and "not an image" in err, f"no digest, no index.json: {err}")
        # A blob that is not what its name says.
        victim = os.path.join(store, "blobs", "sha256", umoci.split(":")[1])
        os.chmod(victim, 0o644)
        with open(victim, "ab") as f:
            f.write(b" ")
        rc, out, err = run("manifest", "--ref", umoci, store)
        c.check(rc == 2 and "digest mismatch" in err, f"a tampered manifest blob: {err}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
