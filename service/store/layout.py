"""The version of the data layout in Redis (and of export files, which carry it)."""

from __future__ import annotations

# 1: the first release (per-page keys pages, titles, top:<period>); 2: page ids (pv, paths,
# ptitle, rank:<period>); 3: explicit deletes; 4: pages checked against the portal. Each
# later layout is made from the one before by a step of service.store.migrations.
LAYOUT_VERSION = 4
