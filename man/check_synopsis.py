#!/usr/bin/env python3
"""Check that the manual pages agree with what `driftdiff --help` says.

usage: check_synopsis.py [--skip COMMAND]... DRIFTDIFF [MANDIR]

For the top level and for every command that `driftdiff --help` lists:

  * the `usage:` line of `driftdiff --help` is one of the SYNOPSIS lines of
    driftdiff.1, and driftdiff.1 refers to driftdiff-COMMAND(1);
  * driftdiff-COMMAND.1 exists and its SYNOPSIS, as mandoc renders it, reads
    exactly like the `usage:` line of `driftdiff COMMAND --help` (a usage
    line "A | driftdiff ..." is several forms, one SYNOPSIS line each);
  * every option that `driftdiff COMMAND --help` lists appears in the page.

MANDIR defaults to the directory of this script. --skip leaves out a
command whose page is not written yet. Exit 0 when all agree, 1 with a
list of the differences otherwise, 77 (skipped) when mandoc is missing.
"""
import os
import re
import shutil
import subprocess
import sys


def fail(msg):
    sys.exit("check_synopsis: " + msg)


def render(mandoc, page):
    """The page as plain text, one SYNOPSIS form per line."""
    out = subprocess.run([mandoc, "-T", "ascii", "-O", "width=1000", page],
                         capture_output=True, check=False)
    if out.returncode > 1:  # 1 is only style notes, which the lint suite covers
        fail(f"{page}: mandoc exited {out.returncode}:\n"
             + out.stderr.decode(errors="replace"))
    text = out.stdout.decode(errors="replace")
    # Drop the overstrike that marks bold and underlined text.
    return re.sub(r".\x08", "", text)


def synopsis(text):
    """The SYNOPSIS section as a list of forms, white space collapsed."""
    forms, indent, inside = [], None, False
    for line in text.splitlines():
        if not line.strip():
            continue
        if not line[0].isspace():
            if inside:
                break
            inside = line.strip() == "SYNOPSIS"
            continue
        if not inside:
            continue
        ind = len(line) - len(line.lstrip())
        if indent is None or ind <= indent:
            indent = ind
            forms.append(line.strip())
        else:  # a continuation line of a long form
            forms[-1] += " " + line.strip()
    return [" ".join(f.split()) for f in forms]


def run_help(exe, args):
    out = subprocess.run([exe, *args], capture_output=True, check=False)
    if out.returncode != 0:
        fail(f"`{' '.join(['driftdiff', *args])}` exited {out.returncode}")
    text = out.stdout.decode()
    first = text.splitlines()[0] if text else ""
    if not first.startswith("usage: "):
        fail(f"`{' '.join(['driftdiff', *args])}` does not start with 'usage: '")
    return " ".join(first[len("usage: "):].split()), text


def usage_forms(usage):
    return [f.strip() for f in re.split(r"\s\|\s(?=driftdiff\s)", usage)]


def main():
    args = sys.argv[1:]
    skip = set()
    while len(args) >= 2 and args[0] == "--skip":
        skip.add(args[1])
        args = args[2:]
    if len(args) not in (1, 2):
        sys.exit(__doc__.strip().splitlines()[2])
    exe = args[0]
    mandir = args[1] if len(args) == 2 else os.path.dirname(os.path.abspath(__file__))
    mandoc = os.environ.get("MANDOC") or shutil.which("mandoc")
    if not mandoc:
        print("check_synopsis: mandoc not found; skipped")
        sys.exit(77)

    errors = []
    top_usage, top_help = run_help(exe, ["--help"])
    commands = []
    listing = False
    for line in top_help.splitlines():
        if line.strip() == "Commands:":
            listing = True
        elif listing and line.startswith("  ") and line.strip():
            commands.append(line.split()[0])
        elif listing:
            break
    if not commands:
        fail("`driftdiff --help` lists no commands")

    main_page = os.path.join(mandir, "driftdiff.1")
    main_text = render(mandoc, main_page)
    if top_usage not in synopsis(main_text):
        errors.append(f"driftdiff.1: SYNOPSIS {synopsis(main_text)} lacks the usage line "
                      f"{top_usage!r}")

    for cmd in commands:
        if cmd in skip:
            print(f"check_synopsis: {cmd}: skipped")
            continue
        page = os.path.join(mandir, f"driftdiff-{cmd}.1")
        if f"driftdiff-{cmd}(1)" not in main_text:
            errors.append(f"driftdiff.1 does not refer to driftdiff-{cmd}(1)")
        usage, helptext = run_help(exe, [cmd, "--help"])
        if not os.path.exists(page):
            errors.append(f"{cmd}: no manual page {page}")
            continue
        text = render(mandoc, page)
        got, want = synopsis(text), usage_forms(usage)
        if got != want:
            errors.append(f"driftdiff-{cmd}.1: SYNOPSIS does not match `driftdiff {cmd} --help`:\n"
                          f"    page: {' | '.join(got)}\n    help: {' | '.join(want)}")
        # Every option in the help text (the lines that start with '-').
        for line in helptext.splitlines():
            if not line.lstrip().startswith("-"):
                continue
            spec = re.split(r"\s{2,}", line.strip())[0]
            for opt in re.findall(r"(?<![\w-])--?[A-Za-z][\w-]*", spec):
                if not re.search(r"(?<![\w-])" + re.escape(opt) + r"(?![\w-])", text):
                    errors.append(f"driftdiff-{cmd}.1 does not mention {opt}")
        print(f"check_synopsis: {cmd}: {usage}")

    if errors:
        print("\n".join(errors), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
