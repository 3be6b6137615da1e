#!/usr/bin/env python3
"""Golden CLI tests, in the style of curl's and zstd's: tests/cli/golden/NAME.cmd
holds the arguments (one per line, run from the source root), NAME.out the
exact expected standard output and NAME.exit the exit status.

usage: golden.py NAME...      compare
       golden.py --regen NAME  rewrite NAME.out/.exit from the current build
"""
import os
import sys

from ddtest import SOURCE_ROOT, run

HERE = os.path.join(SOURCE_ROOT, "tests", "cli", "golden")


def main(argv):
    regen = argv[:1] == ["--regen"]
    failed = 0
    for name in argv[1:] if regen else argv:
        with open(os.path.join(HERE, name + ".cmd")) as f:
            args = [l.rstrip("\n") for l in f if l.strip()]
        rc, out, err = run(*args, cwd=SOURCE_ROOT)
        if regen:
            with open(os.path.join(HERE, name + ".out"), "wb") as f:
                f.write(out)
            with open(os.path.join(HERE, name + ".exit"), "w") as f:
                f.write(f"{rc}\n")
            continue
        want = open(os.path.join(HERE, name + ".out"), "rb").read()
        want_rc = int(open(os.path.join(HERE, name + ".exit")).read())
        if out != want or rc != want_rc:
            failed += 1
            print(f"FAIL {name}: exit {rc} (want {want_rc}); stderr: {err}")
            for i, (a, b) in enumerate(zip(want.splitlines(), out.splitlines())):
                if a != b:
                    print(f"  first difference at line {i + 1}:\n  - {a!r}\n  + {b!r}")
                    break
            else:
                print(f"  {len(want.splitlines())} lines expected, {len(out.splitlines())} written")
        else:
            print(f"ok {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
