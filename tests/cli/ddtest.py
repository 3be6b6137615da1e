"""Helpers shared by the CLI tests: where things are, and running driftdiff."""
import atexit
import os
import shlex
import subprocess
import sys
import tempfile

EXE = os.environ.get("DD_EXE", "build/cli/driftdiff")


def _wrapped(exe):
    """With DD_WRAPPER set (the valgrind test setup), driftdiff runs under it:
    a small script stands in for the executable, so every test that runs
    EXE, directly or through another program, runs the wrapped one."""
    wrapper = os.environ.get("DD_WRAPPER")
    if not wrapper:
        return exe
    fd, path = tempfile.mkstemp(prefix="dd-wrapped-")
    # The wrapper's own chatter (valgrind's notes about syscalls it does not
    # know, such as openat2) goes to a log, shown only when it found errors,
    # so the tests still see driftdiff's exact output.
    with os.fdopen(fd, "w") as f:
        f.write("#!/bin/sh\n"
                "log=$(mktemp)\n"
                "%s --log-file=\"$log\" %s \"$@\"\n"
                "rc=$?\n"
                "[ $rc -eq 99 ] && cat \"$log\" >&2\n"
                "rm -f \"$log\"\n"
                "exit $rc\n" % (wrapper, shlex.quote(os.path.abspath(exe))))
    os.chmod(path, 0o755)
    atexit.register(os.unlink, path)
    return path


EXE = _wrapped(EXE)
FIXTURES = os.environ.get("DD_FIXTURES", "fixtures")
SOURCE_ROOT = os.environ.get("DD_SOURCE_ROOT", ".")
SKIP = 77  # meson's exit code for a skipped test


def run(*args, cwd=None, timeout=120):
    """Run driftdiff; returns (exit status, stdout bytes, stderr text)."""
    p = subprocess.run([EXE, *args], capture_output=True, cwd=cwd, timeout=timeout,
                       check=False)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def fixture(name):
    return os.path.join(FIXTURES, name)


class Checker:
    """Collects failures so one run reports all of them."""

    def __init__(self):
        self.failures = 0
        self.count = 0

    def check(self, cond, what):
        self.count += 1
        if not cond:
            self.failures += 1
            print("FAIL: " + what)
        return cond

    def done(self):
        print(f"{self.count - self.failures} passed, {self.failures} failed")
        sys.exit(1 if self.failures else 0)
