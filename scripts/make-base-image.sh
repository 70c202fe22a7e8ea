#!/usr/bin/env bash
# Builds the Dockerfile's base image (python:3.11-slim-bookworm) locally from Debian
# bookworm packages, for a machine that cannot pull from a container registry.
#
# The official image compiles CPython 3.11 into /usr/local; this one installs Debian's
# python3.11 (the same minor version, which is what the wheels in uv.lock are built
# for) and links /usr/local/bin/python{,3,3.11} to it, so a Dockerfile written for the
# official image builds unchanged on either. Where the registry is reachable, pull the
# official image instead and skip this script.
#
#   scripts/make-base-image.sh            # tags docker.io/library/python:3.11-slim-bookworm
#   scripts/make-base-image.sh my/tag:1   # another tag
#
# Needs root (mmdebstrap's root mode); installs mmdebstrap and podman with apt-get when
# they are missing. DEBIAN_MIRROR picks the mirror (default deb.debian.org).
#
# The certificate authorities this machine adds to its trust store
# (/usr/local/share/ca-certificates/*.crt) are added to the image's, so that builds
# on it reach PyPI behind a TLS-inspecting proxy; HOST_CAS=0 leaves them out. An
# image built from this base trusts them too: push it nowhere.
set -euo pipefail

TAG="${1:-docker.io/library/python:3.11-slim-bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=bookworm

missing=()
command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
command -v podman >/dev/null || missing+=(podman)
if ((${#missing[@]})); then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# minbase: dpkg, apt and essential packages only (what "slim" means). python3-venv
# brings ensurepip, so `python -m venv` works as in the official image; tzdata and
# ca-certificates are there too. Docs, man pages and apt lists are dropped.
mmdebstrap \
    --variant=minbase \
    --include=python3.11,python3.11-venv,ca-certificates,tzdata,netbase \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook='for name in python python3 python3.11; do ln -sf /usr/bin/python3.11 "$1/usr/local/bin/$name"; done' \
    --customize-hook='if [ "${HOST_CAS:-1}" = 1 ] && ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then cp /usr/local/share/ca-certificates/*.crt "$1/usr/local/share/ca-certificates/" && chroot "$1" update-ca-certificates; fi' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
    "$SUITE" "$work/rootfs.tar" "$MIRROR"

podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    "$work/rootfs.tar" "$TAG"

podman run --rm "$TAG" python -c 'import sqlite3, ssl, sys, venv; print(sys.version)'
echo "Built $TAG"
