#!/usr/bin/env bash
# Make the Dockerfile's base image, python:3.11-slim-bookworm, where images cannot be
# pulled: a debootstrap bookworm minbase with Debian's Python 3.11, venv and CA
# certificates, imported into podman's store under the name the Dockerfile's FROM uses.
# It is made only when missing, or when it was made by another version of this script
# (its label holds the script's hash); an image of that name from elsewhere (the real one,
# pulled) is left alone. Needs root, debootstrap and podman.
set -euo pipefail
BASE=docker.io/library/python:3.11-slim-bookworm
RECIPE=$(sha256sum "$0" | cut -d' ' -f1)
LABEL=graphrestore.base-recipe
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

# One at a time: builds started together wait for the first to make it, then use it.
exec 9>/run/lock/graphrestore-image-base.lock
flock 9
if podman image exists "$BASE"; then
    made_by=$(podman image inspect --format "{{ index .Labels \"$LABEL\" }}" "$BASE")
    if [ "$made_by" = "$RECIPE" ] || [ -z "$made_by" ] || [ "$made_by" = "<no value>" ]; then
        exit 0
    fi
fi

started=$SECONDS
rootfs=$(mktemp -d)
log=$(mktemp)
trap 'rm -rf "$rootfs" "$log"' EXIT
debootstrap --variant=minbase --include=python3.11,python3-venv,python-is-python3,ca-certificates \
    bookworm "$rootfs" "$MIRROR" >"$log" 2>&1 || { cat "$log"; exit 1; }
# What the slim images leave out too: downloaded packages, package lists, docs, translations.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
    "$rootfs"/usr/share/locale/*
tar -C "$rootfs" -c . | podman import \
    --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change "ENV LANG=C.UTF-8" \
    --change "LABEL $LABEL=$RECIPE" \
    --change 'CMD ["python3"]' \
    --quiet - "$BASE" >/dev/null
echo "base: $BASE made from Debian packages in $((SECONDS - started)) s"
