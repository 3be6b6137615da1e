#!/bin/sh
# No false positives on a real Debian: debootstrap a minbase bookworm, make
# an OCI image of it with umoci, unpack that image again, and check that
# `driftdiff report` finds nothing: no change, no finding, exit 0; then
# that a runtime `apt-get`-style change is found. Needs root and network
# access to the Debian mirror; takes a few minutes. Not part of the test
# suite (it downloads); its last result is in the README.
#
#   sudo scripts/debootstrap-pristine.sh [DRIFTDIFF] [WORKDIR]
set -eu
DD=${1:-build/cli/driftdiff}
W=${2:-/var/tmp/dd-debootstrap-check}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
DD=$(realpath "$DD")
mkdir -p "$W"
cd "$W"
[ -d minbase ] || debootstrap --variant=minbase bookworm minbase "$MIRROR"
rm -rf image bundle unpacked
umoci init --layout image
umoci new --image image:debian
umoci unpack --image image:debian bundle >/dev/null
# The rootfs as debootstrap left it, files, owners, modes and xattrs.
tar -C minbase --xattrs --xattrs-include='*' --numeric-owner -cf - . | tar -C bundle/rootfs --xattrs --xattrs-include='*' --numeric-owner -xpf -
umoci repack --image image:debian bundle
umoci unpack --image image:debian unpacked >/dev/null
entries=$(find unpacked/rootfs | wc -l)
echo "pristine: $entries entries"
set +e
"$DD" report --no-cache --all --format json -o pristine.json image unpacked/rootfs
rc=$?
set -e
changes=$(python3 -c 'import json,sys; d=json.load(open("pristine.json")); print(len(d["changes"]), len(d["findings"]))')
echo "pristine: exit $rc, changes and findings: $changes"
[ "$rc" -eq 0 ] && [ "$changes" = "0 0" ] || { echo "FALSE POSITIVES"; exit 1; }
# A runtime change must still be seen: a package installed by hand.
cp unpacked/rootfs/usr/bin/true unpacked/rootfs/usr/local/bin/xmrig
printf 'Package: xmrig\nStatus: install ok installed\nVersion: 6.0\nArchitecture: amd64\n\n' >> unpacked/rootfs/var/lib/dpkg/status
set +e
"$DD" report --no-cache image unpacked/rootfs
rc=$?
set -e
echo "drifted: exit $rc"
[ "$rc" -eq 1 ]
