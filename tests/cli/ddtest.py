"""Helpers shared by the CLI tests: where things are, and running driftdiff."""
import os
import subprocess
import sys

EXE = os.environ.get("DD_EXE", "build/cli/driftdiff")
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
