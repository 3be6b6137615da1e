#!/bin/sh
# Install what driftdiff needs to build and test on Debian 12 (bookworm).
# Runs apt-get as root, through sudo when started by another user.
set -eu
PACKAGES="gcc pkg-config meson ninja-build python3
  libarchive-dev libssl-dev libjson-c-dev libmagic-dev libcmocka-dev
  libisal-dev umoci mandoc python3-jsonschema python3-yaml jq valgrind"
if [ "$(id -u)" -ne 0 ]; then
	exec sudo "$0" "$@"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null
