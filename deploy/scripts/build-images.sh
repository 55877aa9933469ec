#!/usr/bin/env bash
# Build the app image and the compose stack's Redis, nginx and Prometheus images on the local
# Debian base (deploy/scripts/base-image.sh). PyPI and the Debian mirror are reached with
# --network host; the host's CA bundle is mounted read-only for a TLS-inspecting proxy.
#   deploy/scripts/build-images.sh [app|stack|all]
set -euo pipefail
cd "$(dirname "$0")/../.."
what="${1:-all}"
base="${BASE_IMAGE:-localhost/bookworm-python:local}"
podman="${PODMAN:-podman}"
ca="${HOST_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
ca_args=()
if [ -r "$ca" ]; then
  ca_args=(--volume "$ca:/run/host-ca.crt:ro" --build-arg PIP_CERT=/run/host-ca.crt)
fi
# --format docker keeps HEALTHCHECK (the OCI format has no such field).
build=($podman build --quiet --format docker --network host --build-arg "BASE=$base")
if [ "$what" != stack ]; then
  "${build[@]}" "${ca_args[@]}" --tag localhost/portal-widgets:latest .
fi
if [ "$what" != app ]; then
  for name in redis nginx prometheus; do
    "${build[@]}" --tag "localhost/pw-$name:bookworm" "deploy/images/$name"
  done
fi
