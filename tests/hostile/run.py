#!/usr/bin/python3
"""Run driftdiff on every hostile case of gen.py and check its safe outcome.

For each case: the exit status is 0, 1 or 2 and never a signal; it is one
of the statuses the case allows, and the output carries that status's
needles; exit 2 means an empty stdout and exactly one line on stderr; the
run ends within the case's time limit under an address-space limit
(RLIMIT_AS); it runs in a fresh empty directory that must stay empty; the
case's inputs, the canary directory (targets of every "../" and symlink
escape) and a few well-known escape destinations are unchanged; and the
canary secret's SHA-256 never appears in the output.

    run.py [-k SUBSTRING] [--keep] [-v]

Env: DD_EXE, DD_FIXTURES, DD_SOURCE_ROOT (as the CLI tests), TMPDIR.
Prints one line per failing (and, with -v, passing) case, then
"N passed, N failed, N skipped"; exits 1 on failures.
"""
import hashlib
import json
import os
import resource
import signal
import stat
import shlex
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen  # noqa: E402

EXE = os.path.abspath(os.environ.get("DD_EXE", "build/cli/driftdiff"))
# The valgrind test setup: every case runs under it, with its log kept
# apart (valgrind's own notes must not count as driftdiff's stderr), its
# error exit (99) a failure, time limits stretched and no address-space limit.
WRAPPER = shlex.split(os.environ.get("DD_WRAPPER", ""))
SLOWDOWN = 20 if WRAPPER else 1


def snapshot(path, limit=5000):
    """lstat (and hash small files) of everything under PATH."""
    out = {}
    if not os.path.lexists(path):
        return out
    todo = [path]
    while todo and len(out) < limit:
        p = todo.pop()
        try:
            st = os.lstat(p)
        except OSError as e:
            out[p] = ("error", e.errno)
            continue
        h = None
        if stat.S_ISREG(st.st_mode) and st.st_size <= 1 << 20:
            try:
                with open(p, "rb") as f:
                    h = hashlib.sha256(f.read()).hexdigest()
            except OSError:
                h = "unreadable"
        out[p] = (st.st_mode, st.st_size, st.st_mtime_ns, st.st_ino, h)
        if stat.S_ISDIR(st.st_mode):
            try:
                todo.extend(os.path.join(p, n) for n in os.listdir(p))
            except OSError:
                pass
    return out


def diff_snap(a, b):
    changed = [p for p in set(a) | set(b) if a.get(p) != b.get(p)]
    return sorted(changed)[:5]


def has_asan(exe):
    try:
        with open(exe, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


def run_case(c, tmp, state, asan):
    """Returns (status, [problems]); status is 'pass', 'fail' or 'skip'."""
    if c.root and os.geteuid() != 0:
        return "skip", ["needs root"]
    cwd = tempfile.mkdtemp(prefix="cwd-", dir=os.path.join(tmp, "cwd"))
    os.chmod(cwd, 0o755)
    watched = [state["canary"]] + c.inputs
    before = {w: snapshot(w) for w in watched}
    escapes = [os.path.join(d, state["escape"]) for d in
               ("/tmp", "/", tmp, os.path.join(tmp, "in"), os.path.dirname(cwd), "/tmp/tmp")]
    argv = [EXE, *c.args]
    vglog = None
    if WRAPPER:
        fd, vglog = tempfile.mkstemp(prefix="ddvg-", suffix=".log", dir="/tmp")
        os.close(fd)
        os.chmod(vglog, 0o666)
        argv = [*WRAPPER, "--log-file=" + vglog, *argv]
    if c.user:
        argv = ["setpriv", "--reuid=%d" % c.user[0], "--regid=%d" % c.user[1],
                "--clear-groups", *argv]
    mem = c.mem

    def limits():
        if not asan and not WRAPPER:  # ASan and valgrind reserve far more address space
            resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    out_path = os.path.join(tmp, "stdout")
    err_path = os.path.join(tmp, "stderr")
    stop_race = c.race() if c.race else None
    t0 = time.monotonic()
    timed_out = []
    with open(out_path, "wb") as fo, open(err_path, "wb") as fe:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=fo, stderr=fe, cwd=cwd,
                             preexec_fn=limits, start_new_session=True)

        def kill():
            timed_out.append(True)
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
        timer = threading.Timer(c.timeout * SLOWDOWN, kill)
        timer.start()
        _, status, ru = os.wait4(p.pid, 0)
        timer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.monotonic() - t0
    if stop_race:
        stop_race()
    with open(out_path, "rb") as f:
        out = f.read()
    with open(err_path, "rb") as f:
        err = f.read()
    text = out.decode(errors="replace") + err.decode(errors="replace")
    rc = p.returncode
    problems = []
    errline = err.decode(errors="replace").strip().splitlines()
    errshow = (errline[0][:300] if errline else "")
    if vglog:
        with open(vglog, errors="replace") as f:
            vgtext = f.read()
        os.unlink(vglog)
        if rc == 99:
            problems.append("valgrind found errors: " + " | ".join(vgtext.strip().splitlines()[:6]))
            rc = -1000
    if timed_out:
        problems.append("killed after the %d s time limit" % (c.timeout * SLOWDOWN))
    elif rc == -1000:
        pass
    elif rc < 0:
        problems.append("killed by signal %d (%s)" % (-rc, signal.Signals(-rc).name))
    elif rc not in (0, 1, 2):
        problems.append("exit status %d is not 0, 1 or 2" % rc)
    elif rc not in c.outcomes:
        problems.append("exit %d, want %s" % (rc, "/".join(map(str, sorted(c.outcomes)))))
    else:
        # Problem words are looked for with the case's own paths masked, so
        # that "checksum" cannot be found in ".../bad-checksum-middle".
        msg = text
        for a in sorted(c.args, key=len, reverse=True):
            if os.sep in a:
                msg = msg.replace(a, "<ARG>")
        for n in c.outcomes[rc]:
            if isinstance(n, tuple):
                if not any(a in msg for a in n):
                    problems.append("output lacks any of %r" % (n,))
            elif n.startswith("!"):
                if n[1:] in msg:
                    problems.append("output contains %r" % n[1:])
            elif n not in (text if os.sep in n or n == c.name or
                           any(os.path.basename(a).startswith(n) for a in c.args) else msg):
                problems.append("output lacks %r" % n)
        if rc == 2:
            if out:
                problems.append("exit 2 but %d bytes on stdout (partial result)" % len(out))
            if len(errline) != 1:
                problems.append("exit 2 with %d stderr lines" % len(errline))
        elif c.json:
            try:
                json.loads(out)
            except ValueError as e:
                problems.append("stdout is not JSON: %s" % e)
        elif c.jsonl:
            try:
                for line in out.splitlines():
                    json.loads(line.decode("utf-8"))
            except ValueError as e:
                problems.append("stdout is not UTF-8 JSON lines: %s" % e)
    for f in c.forbid:
        if f in out or f in err:
            problems.append("output contains the host canary's content hash (a file outside the root was read)")
    # nothing outside the output
    left = os.listdir(cwd)
    if left:
        problems.append("created in the working directory: %s" % left[:5])
    for w in watched:
        d = diff_snap(before[w], snapshot(w))
        if d:
            problems.append("changed outside the output: %s" % d)
    for e in escapes:
        if os.path.lexists(e):
            problems.append("escape created %s" % e)
            try:
                os.unlink(e)
            except OSError:
                pass
    # ru_maxrss starts from the parent's RSS at fork: an upper bound.
    if ru.ru_maxrss * 1024 > mem and not WRAPPER:
        problems.append("peak RSS %d MiB over the limit" % (ru.ru_maxrss >> 10))
    c.result = dict(rc=rc, elapsed=elapsed, maxrss=ru.ru_maxrss >> 10, err=errshow)
    return ("fail" if problems else "pass"), problems


def main(argv):
    keep = "--keep" in argv
    verbose = "-v" in argv
    only = argv[argv.index("-k") + 1] if "-k" in argv else None
    if not os.access(EXE, os.X_OK):
        print("driftdiff not found: %s (set DD_EXE)" % EXE)
        return 2
    tmp = tempfile.mkdtemp(prefix="dd-hostile-")
    os.chmod(tmp, 0o755)  # the unprivileged cases must reach their inputs
    os.makedirs(os.path.join(tmp, "cwd"))
    os.chmod(os.path.join(tmp, "cwd"), 0o755)
    asan = has_asan(EXE)
    counts = {"pass": 0, "fail": 0, "skip": 0}
    try:
        t0 = time.monotonic()
        cases, state = gen.generate(os.path.join(tmp, "corpus"))
        # inputs must be readable by the unprivileged cases
        os.chmod(os.path.join(tmp, "corpus"), 0o755)
        if verbose:
            print("generated %d cases in %.1f s under %s" % (len(cases), time.monotonic() - t0, tmp))
        for c in cases:
            if only and only not in c.name:
                continue
            status, problems = run_case(c, tmp, state, asan)
            counts[status] += 1
            r = getattr(c, "result", {})
            line = "%s %s [%s]: driftdiff %s" % (status.upper(), c.name, c.family, " ".join(c.args))
            if status == "fail":
                print(line)
                for pr in problems:
                    print("    " + pr)
                print("    exit %s in %.1f s, %s MiB; stderr: %s" % (
                    r.get("rc"), r.get("elapsed", 0), r.get("maxrss"), r.get("err")))
            elif verbose:
                print("%s  (exit %s, %.2f s, %s MiB) %s" % (line, r.get("rc"), r.get("elapsed", 0),
                                                          r.get("maxrss"), r.get("err", "")[:160]))
            elif status == "skip":
                print("SKIP %s: %s" % (c.name, problems[0]))
            sys.stdout.flush()
    finally:
        if keep:
            print("kept " + tmp)
        else:
            # rm copes with the 2000-deep tree and the mode-000 dirs
            subprocess.run(["chmod", "-R", "u+rwx", tmp], stderr=subprocess.DEVNULL, check=False)
            subprocess.run(["rm", "-rf", "--one-file-system", tmp], check=False)
    print("%d passed, %d failed, %d skipped" % (counts["pass"], counts["fail"], counts["skip"]))
    return 1 if counts["fail"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
