#!/bin/sh
# meson install into a scratch root, then build examples/drift.c against the
# installed library with pkg-config alone, and run it on the demo fixture.
set -eu
build=$1
src=$2
# A sanitizer build's library needs the sanitizer runtime in every program
# linked to it: what this test checks is the plain install.
if meson introspect --buildoptions "$build" | python3 -c 'import json,sys; sys.exit(0 if [o for o in json.load(sys.stdin) if o["name"] == "b_sanitize" and o["value"] not in ("none", "")] else 1)'; then
	echo "sanitizer build: skipped"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
meson install -C "$build" --destdir "$tmp" --quiet >/dev/null
pc=$(find "$tmp" -name driftdiff.pc | head -n 1)
[ -n "$pc" ] || { echo "no driftdiff.pc installed"; exit 1; }
prefix=$(sed -n 's/^prefix=//p' "$pc")
# pkg-config sees the scratch root as the system root.
cflags=$(PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$tmp pkg-config --cflags driftdiff)
libs=$(PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$tmp pkg-config --libs driftdiff)
${CC:-cc} -std=c11 -Wall -Werror "$src/examples/drift.c" $cflags $libs -o "$tmp/drift"
libdir=$(dirname "$(find "$tmp" -name 'libdriftdiff.so' | head -n 1)")
for f in "$tmp$prefix/bin/driftdiff" "$tmp$prefix/include/driftdiff.h"; do
	[ -e "$f" ] || { echo "not installed: $f"; exit 1; }
done
[ -n "$(find "$tmp" -name 'driftdiff-report.1*')" ] || { echo "man pages not installed"; exit 1; }
[ -n "$(find "$tmp" -name 'libdriftdiff.a')" ] || { echo "static library not installed"; exit 1; }
[ -n "$(find "$tmp" -path '*bash-completion/completions/driftdiff')" ] || { echo "bash completion not installed"; exit 1; }
[ -n "$(find "$tmp" -name '_driftdiff')" ] || { echo "zsh completion not installed"; exit 1; }
# Every page of the manual is installed and renders: what `man driftdiff` shows.
for page in $(sed -n "s/^  '\(.*\.[0-9]\)',\$/\1/p" "$src/man/meson.build"); do
	f=$(find "$tmp" -name "$page" | head -n 1)
	[ -n "$f" ] || { echo "man page not installed: $page"; exit 1; }
done
man1=$(dirname "$(find "$tmp" -name 'driftdiff.1' | head -n 1)")
if command -v man >/dev/null 2>&1; then
	MANPAGER=cat man -M "$(dirname "$man1")" driftdiff > "$tmp/man.txt" 2>/dev/null ||
		mandoc -T utf8 "$man1/driftdiff.1" > "$tmp/man.txt"
else
	mandoc -T utf8 "$man1/driftdiff.1" > "$tmp/man.txt"
fi
grep -q "container drift" "$tmp/man.txt" || { echo "man driftdiff does not render"; exit 1; }
# The installed command runs from the installed library.
LD_LIBRARY_PATH=$libdir "$tmp$prefix/bin/driftdiff" --version | grep -q "^driftdiff " ||
	{ echo "the installed driftdiff does not run"; exit 1; }
# An empty directory as the container: every file of the image is deleted.
mkdir "$tmp/rootfs"
set +e
LD_LIBRARY_PATH=$libdir "$tmp/drift" "$src/fixtures/demo" "$tmp/rootfs" > "$tmp/out"
rc=$?
set -e
cat "$tmp/out"
[ "$rc" -eq 1 ] && grep -q "changes, " "$tmp/out" || { echo "drift exited $rc"; exit 1; }
echo "1 passed, 0 failed"
