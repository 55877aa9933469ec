#!/usr/bin/env bash
# Make localhost/bookworm-python:local, a Debian bookworm base with python3 and venv, from
# the Debian mirror apt already uses (no image registry needed). Skips when it exists.
#   deploy/scripts/base-image.sh [IMAGE]
set -euo pipefail
image="${1:-${BASE_IMAGE:-localhost/bookworm-python:local}}"
podman="${PODMAN:-podman}"
if $podman image exists "$image"; then
  echo "base image $image exists"
  exit 0
fi
command -v debootstrap >/dev/null || { echo "needs debootstrap (apt-get install debootstrap)" >&2; exit 1; }
# The mirror apt uses here (deb822 sources, else sources.list), else Debian's.
mirror="$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)"
if [ -z "$mirror" ]; then
  mirror="$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)"
fi
mirror="${mirror:-http://deb.debian.org/debian}"
root="$(mktemp -d /var/tmp/bookworm-python.XXXXXX)"
trap 'rm -rf "$root" "$root.log"' EXIT
echo "debootstrap bookworm from $mirror into $root"
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
  bookworm "$root" "$mirror" >"$root.log" 2>&1 || { tail -n 30 "$root.log" >&2; exit 1; }
# Smaller and reproducible enough: no apt lists or caches in the layer.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
tar -C "$root" -c . | $podman import \
  --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' - "$image"
echo "made $image"
