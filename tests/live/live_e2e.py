#!/usr/bin/env python3
"""Live container mode, end to end, on a real "container".

As root: the demo image (busybox from Debian's busybox-static) is unpacked
with umoci, and started with `unshare --pid --mount --net --fork` plus
chroot, with its own /dev (tmpfs) and a bind-mounted volume at /data. Its
entrypoint script is extended to do what an intruder would: run a dropped
binary that listens on a port the image does not expose and connects to
it, run a package manager's name, run a binary and delete it, run a
payload from a memfd, and leave a shell running; the environment is
changed. driftdiff report --pid, ps --pid and report --container-id (with
a containerd state directory made for the test) must report each with the
right evidence, and nothing else.

Skips (77) when not root, when the kernel or a sandbox refuses namespaces,
or when umoci or a static C toolchain is missing.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from ddtest import EXE, SKIP, SOURCE_ROOT, Checker, fixture, run  # noqa: E402

HELLO_EXTRA = """
ip link set lo up
/tmp/.x/kworkerd listen 8081 &
/bin/busybox sleep 0.3
/tmp/.x/kworkerd connect 8081 &
/usr/local/bin/pip pause &
/tmp/gone pause &
/tmp/.x/kworkerd memfd /tmp/.x/kworkerd kthreadd pause &
sh -c "/bin/busybox sleep 1000; true" &
/bin/busybox sleep 0.3
rm -f /tmp/gone
echo ready > /app/ready
wait
"""


def skip(why):
    print("SKIP: " + why)
    sys.exit(SKIP)


def prepare(tmp):
    if os.geteuid() != 0:
        skip("needs root (namespaces, chroot, reading other processes' /proc)")
    for tool in ("unshare", "chroot", "umoci", "mount"):
        if not shutil.which(tool):
            skip(f"{tool} not found")
    # Everything the container's start needs, tried once in a throwaway namespace.
    pdir = os.path.join(tmp, "probe")
    os.makedirs(os.path.join(pdir, "dev"))
    os.makedirs(os.path.join(pdir, "vol"))
    os.makedirs(os.path.join(pdir, "data"))
    probe = subprocess.run(["unshare", "--pid", "--mount", "--net", "--fork", "/bin/sh", "-c",
                            f"mount -t tmpfs none {pdir}/dev && mknod {pdir}/dev/null c 1 3 && "
                            f"mount --bind {pdir}/vol {pdir}/data"],
                           capture_output=True, check=False)
    if probe.returncode != 0:
        skip("this machine does not allow PID, mount and network namespaces, mounts or mknod: "
             + probe.stderr.decode(errors="replace").strip())
    cc = os.environ.get("CC", "cc")
    helper = os.path.join(tmp, "ddproc")
    build = subprocess.run([cc, "-static", "-O2", "-o", helper,
                            os.path.join(SOURCE_ROOT, "tests", "live", "ddproc.c")],
                           capture_output=True, check=False)
    if build.returncode != 0:
        skip("cannot link a static helper: " + build.stderr.decode(errors="replace")[-300:])
    bundle = os.path.join(tmp, "bundle")
    unpack = subprocess.run(["umoci", "unpack", "--image", fixture("demo") + ":latest", bundle],
                            capture_output=True, check=False)
    if unpack.returncode != 0:
        sys.exit("umoci unpack failed: " + unpack.stderr.decode(errors="replace"))
    root = os.path.join(bundle, "rootfs")
    for d in ("dev", "data", "tmp/.x", "usr/local/bin"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    for dest in ("tmp/.x/kworkerd", "usr/local/bin/pip", "tmp/gone"):
        shutil.copy(helper, os.path.join(root, dest))
    with open(os.path.join(root, "app", "hello.sh"), "a") as f:
        f.write(HELLO_EXTRA)
    vol = os.path.join(tmp, "vol")
    os.makedirs(vol)
    with open(os.path.join(vol, "volume-data.txt"), "w") as f:
        f.write("belongs to the volume, not the image\n")
    return bundle, root, vol


def start(root, vol, pivot=False):
    """chroot, as simple runtimes do; or pivot_root into a bind mount of the
    rootfs, as runc does, so that the kernel shows the container's own paths."""
    setup = (f"mount -t tmpfs none {root}/dev && mknod {root}/dev/null c 1 3 && "
             f"chmod 666 {root}/dev/null && mount --bind {vol} {root}/data && ")
    if pivot:
        # The rootfs becomes a mount point first, then its /dev and /data are mounted inside it.
        script = f"mount --bind {root} {root} && " + setup + (
                          f"cd {root} && mkdir -p .oldroot && "
                          f"pivot_root . .oldroot && exec /bin/busybox sh -c "
                          f"'umount -l /.oldroot && exec /bin/sh /app/hello.sh'")
    else:
        script = setup + f"exec chroot {root} /bin/sh /app/hello.sh"
    env = {"PATH": "/bin:/usr/bin:/sbin:/usr/sbin", "APP_MODE": "tampered",
           "SECRET_TOKEN": "hunter2"}
    # chroot and the mounts are the host's; the container's PATH is set by hello.sh's caller.
    outer = subprocess.Popen(["unshare", "--pid", "--mount", "--net", "--fork", "/bin/sh", "-c", script],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             start_new_session=True)
    deadline = time.time() + 15
    init = None
    while time.time() < deadline:
        try:
            with open(f"/proc/{outer.pid}/task/{outer.pid}/children") as f:
                kids = f.read().split()
            init = int(kids[0]) if kids else None
        except OSError:
            init = None
        if init and os.path.exists(os.path.join(root, "app", "ready")):
            return outer, init
        if outer.poll() is not None:
            break
        time.sleep(0.1)
    err = outer.stderr.read().decode(errors="replace") if outer.poll() is not None else ""
    stop(outer)
    sys.exit("the container did not start: " + err)


def stop(outer):
    try:
        os.killpg(outer.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    outer.wait(timeout=10)


def rules(report):
    out = {}
    for f in report["findings"]:
        out.setdefault(f["rule"], []).append(f)
    return out


def check_report(c, report, label):
    by = rules(report)
    c.check(report["target"]["kind"] == "live", f"{label}: target kind live")
    proc1 = sorted(f["paths"][0] for f in by.get("DD-PROC-001", []))
    c.check(proc1 == ["/tmp/.x/kworkerd", "/usr/local/bin/pip"],
            f"{label}: executed binaries not in the image: {proc1}")
    k = [f for f in by.get("DD-PROC-001", []) if f["paths"][0] == "/tmp/.x/kworkerd"]
    c.check(k and "2 processes run it" in k[0]["detail"] and k[0]["severity"] == "critical",
            f"{label}: one finding for the two kworkerd processes, critical: {k}")
    proc2 = sorted(f["paths"][0] for f in by.get("DD-PROC-002", []))
    c.check(proc2 == ["/memfd:payload", "/tmp/gone"], f"{label}: deleted and memfd executables: {proc2}")
    shells = by.get("DD-PROC-003", [])
    c.check(len(shells) == 1 and "sh -c" in shells[0]["detail"],
            f"{label}: the shell, and not the entrypoint's: {[s['detail'] for s in shells]}")
    pkg = by.get("DD-PROC-004", [])
    c.check(len(pkg) == 1 and "package manager pip" in pkg[0]["detail"],
            f"{label}: the package manager: {[p['detail'] for p in pkg]}")
    net = by.get("DD-NET-001", [])
    c.check(len(net) == 1 and "tcp port 8081 on 0.0.0.0" in net[0]["detail"]
            and net[0]["paths"] == ["/tmp/.x/kworkerd"] and net[0]["severity"] == "high",
            f"{label}: the listener on 8081 held by kworkerd: {net}")
    env = by.get("DD-CFG-001", [])
    c.check(len(env) == 1 and "SECRET_TOKEN (sha256:" in env[0]["detail"]
            and "APP_MODE" in env[0]["detail"] and "hunter2" not in json.dumps(report),
            f"{label}: environment drift without the secret: {env}")
    live = report.get("live", {})
    states = {p["exe"] or p["exe_link"]: p["exe_state"] for p in live.get("processes", [])}
    c.check(states.get("/tmp/.x/kworkerd") == "added" and states.get("/bin/busybox") == "image"
            and states.get("/tmp/gone") == "gone", f"{label}: process states {states}")
    init = [p for p in live.get("processes", []) if p["init"]]
    c.check(len(init) == 1 and init[0]["argv"] == ["/bin/sh", "/app/hello.sh"] and init[0]["nspid"] == 1,
            f"{label}: the first process: {init}")
    mounts = {m["path"]: m for m in live.get("mounts", [])}
    c.check("/data" in mounts and not mounts["/data"]["walked"] and mounts["/dev"]["pseudo"],
            f"{label}: mounts {mounts}")
    paths = {ch["path"]: ch for ch in report["changes"]}
    c.check("/tmp/.x/kworkerd" in paths and paths["/tmp/.x/kworkerd"]["kind"] == "added",
            f"{label}: the dropped file is in the file diff")
    c.check(not any(p.startswith("/data/") for p in paths),
            f"{label}: nothing of the volume in the file diff")
    c.check("/data" not in paths or paths["/data"].get("ignored", "").startswith("mount: "),
            f"{label}: the volume's mount point is ignored as a mount: {paths.get('/data')}")


def validate(c, report):
    try:
        import jsonschema
    except ImportError:
        return
    with open(os.path.join(SOURCE_ROOT, "tests", "validate", "driftdiff-report.schema.json")) as f:
        schema = json.load(f)
    try:
        jsonschema.validate(report, schema)
        c.check(True, "schema")
    except jsonschema.ValidationError as e:
        c.check(False, f"the live JSON report does not follow the schema: {e.message} at {list(e.path)}")


def main():
    c = Checker()
    tmp = tempfile.mkdtemp(prefix="dd-live-")
    outer = None
    try:
        bundle, root, vol = prepare(tmp)
        outer, init = start(root, vol)
        demo = fixture("demo")

        rc, out, err = run("report", demo, "--pid", str(init), "-f", "json")
        c.check(rc == 1, f"report --pid exits 1 (drift), got {rc}: {err}")
        report = json.loads(out)
        check_report(c, report, "report --pid")
        validate(c, report)

        rc, out, err = run("report", demo, "--pid", str(init), "-f", "json", "--show-env-values")
        c.check(rc == 1 and "SECRET_TOKEN ('hunter2')" in out.decode(),
                "--show-env-values prints the values")

        ev = os.path.join(tmp, "evidence")
        rc, out, err = run("report", demo, "--pid", str(init), "-f", "json", "--evidence", ev)
        try:
            with open(os.path.join(ev, "processes.json")) as f:
                procs = json.load(f)
        except OSError:
            procs = []
        kept = {p["exe_link"]: p for p in procs}
        c.check(rc == 1 and "/memfd:payload (deleted)" in kept and
                any(k.endswith("/tmp/gone (deleted)") or k == "/tmp/gone (deleted)" for k in kept) and
                all(p["matches_report"] and os.path.isfile(os.path.join(ev, p["evidence"])) for p in procs),
                f"--evidence keeps the deleted and in-memory executables from /proc/N/exe: {procs} {err}")

        rc, out, err = run("report", demo, "--pid", str(init), "-f", "sarif")
        sarif = json.loads(out) if rc == 1 else {}
        uris = {(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
                for run_ in sarif.get("runs", []) for r in run_["results"]}
        c.check(("DD-PROC-001", "tmp/.x/kworkerd") in uris and ("DD-NET-001", "tmp/.x/kworkerd") in uris,
                f"SARIF locates the process findings at the executable: {sorted(uris)[:8]}")

        rc, out, err = run("ps", demo, "--pid", str(init))
        text = out.decode(errors="replace")
        c.check(rc == 1, f"ps exits 1, got {rc}: {err}")
        c.check("added     /tmp/.x/kworkerd" in text and "listen  tcp 0.0.0.0:8081" in text
                and "DD-PROC-001" in text and " changes:" not in text,
                "ps lists the processes, the listener and the findings, and no file changes:\n" + text)
        rc, out, err = run("ps", demo, "--pid", str(init), "-f", "json")
        ps = json.loads(out)
        c.check(ps["changes"] == [] and rules(ps).keys() >= {"DD-PROC-001", "DD-PROC-002", "DD-NET-001"},
                "ps JSON: no changes, the process findings")
        validate(c, ps)

        # --container-id through a containerd v2 state directory, as on a node.
        cid = "4d1f0c0ffee0123456789abcdef0123456789abcdef0123456789abcdef01234"
        state = os.path.join(tmp, "host", "run", "containerd", "io.containerd.runtime.v2.task", "k8s.io", cid)
        os.makedirs(state)
        with open(os.path.join(state, "init.pid"), "w") as f:
            f.write(f"{init}\n")
        shutil.copy(os.path.join(bundle, "config.json"), os.path.join(state, "config.json"))
        rc, out, err = run("report", demo, "--container-id", "containerd://" + cid[:12],
                           "--runtime-root", os.path.join(tmp, "host"), "-f", "json")
        c.check(rc == 1, f"report --container-id exits 1, got {rc}: {err}")
        if rc == 1:
            byid = json.loads(out)
            check_report(c, byid, "report --container-id")
            c.check(byid["live"]["pid"] == init, "the ID resolves to the container's first process")
            c.check(any(f["rule"] == "DD-CFG-009" for f in byid["findings"]),
                    "the bundle's config.json is read as the runtime config")
        rc, out, err = run("report", demo, "--container-id", "feedbeef", "--runtime-root",
                           os.path.join(tmp, "host"))
        c.check(rc == 2 and "container feedbeef: not found" in err and "io.containerd.runtime.v2.task" in err,
                f"an unknown ID is a clear error: {rc} {err}")
        rc, out, err = run("report", demo, "--pid", "999999999")
        c.check(rc == 2 and "999999999/root: no such process" in err, f"no such process: {rc} {err}")
        rc, out, err = run("report", demo, "--pid", str(init), "fixtures/demo")
        c.check(rc == 2 and "expected IMAGE only" in err, f"--pid takes no TARGET: {err}")
        rc, out, err = run("ps", demo)
        c.check(rc == 2 and "--pid PID or --container-id" in err, f"ps without a container: {err}")
        # Nothing in the container ran because of driftdiff: the same processes are there.
        c.check(outer.poll() is None, "the container is still running")
        stop(outer)
        outer = None

        # The same container started the way runc does it: pivot_root in its own mount namespace.
        shutil.copy(os.path.join(tmp, "ddproc"), os.path.join(root, "tmp", "gone"))
        os.unlink(os.path.join(root, "app", "ready"))
        outer, init = start(root, vol, pivot=True)
        rc, out, err = run("report", demo, "--pid", str(init), "-f", "json")
        c.check(rc == 1, f"pivot_root: report --pid exits 1, got {rc}: {err}")
        if rc == 1:
            check_report(c, json.loads(out), "pivot_root")
    finally:
        if outer:
            stop(outer)
        shutil.rmtree(tmp, ignore_errors=True)
    c.done()


if __name__ == "__main__":
    main()
