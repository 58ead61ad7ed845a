#!/usr/bin/env bash
# Build the gateway's image from the Dockerfile with podman (as root), its base made from
# Debian packages when missing (tools/image_base.sh), never pulled. Prints the build time
# and the image's size.
# Usage: tools/build_image.sh [TAG]   (default graphrestore-gateway)
set -euo pipefail
cd "$(dirname "$0")/.."
TAG=${1:-graphrestore-gateway}

tools/image_base.sh
# The build's pip trusts what this machine trusts (a proxy's CA, where there is one): the
# host's CA bundle and a pip.conf naming it are mounted into each RUN, not copied into
# the image.
pip_conf=$(mktemp)
build_log=$(mktemp)
trap 'rm -f "$pip_conf" "$build_log"' EXIT
printf '[global]\ncert = /run/host-ca-certificates.crt\n' >"$pip_conf"
started=$SECONDS
# runc with cgroupfs, and modest explicit ulimits: crun, systemd's cgroups and podman's
# default limits (above what a container may set itself) fail on some kernels. Docker's
# image format: the OCI format has no HEALTHCHECK, and podman would drop it.
podman --runtime runc --cgroup-manager cgroupfs build --format docker --pull=never \
    --network host \
    --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 \
    --volume /etc/ssl/certs/ca-certificates.crt:/run/host-ca-certificates.crt:ro \
    --volume "$pip_conf:/etc/pip.conf:ro" \
    --tag "$TAG" . >"$build_log" 2>&1 || { cat "$build_log"; exit 1; }
size=$(podman image inspect --format '{{ .Size }}' "$TAG")
echo "image: $TAG built in $((SECONDS - started)) s, $((size / 1000000)) MB"
