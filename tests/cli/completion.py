#!/usr/bin/env python3
"""The bash and zsh completions offer exactly the options that each
command's --help lists, and every command."""
import os
import re
import sys

from ddtest import SOURCE_ROOT, Checker, run

COMMANDS = ["report", "ps", "verify", "rules", "manifest", "inspect"]


def main():
    c = Checker()
    bash = open(os.path.join(SOURCE_ROOT, "contrib", "completion", "driftdiff.bash")).read()
    zsh = open(os.path.join(SOURCE_ROOT, "contrib", "completion", "_driftdiff")).read()
    for cmd in COMMANDS:
        rc, out, _ = run(cmd, "--help")
        want = set(re.findall(r"--[a-z][a-z-]*", out.decode()))
        m = re.search(r"^\s*%s\) opts=\"([^\"]*)\"" % cmd, bash, re.M)
        got = set(m.group(1).split()) if m else set()
        c.check(got == want, f"bash {cmd}: missing {sorted(want - got)}, extra {sorted(got - want)}")
        block = re.search(r"^\s*%s\) _arguments(.*?);;" % cmd, zsh, re.M | re.S)
        zgot = set(re.findall(r"'(--[a-z][a-z-]*)", block.group(1))) if block else set()
        c.check(zgot == want, f"zsh {cmd}: missing {sorted(want - zgot)}, extra {sorted(zgot - want)}")
        c.check(cmd in bash.split("compgen -W \"")[1].split('"')[0], f"bash: command {cmd} not offered")
    c.done()


if __name__ == "__main__":
    sys.exit(main())
