"""The version of the data layout in Redis (and of export files, which carry it)."""

from __future__ import annotations

# 1: the first release (per-page keys pages, titles, top:<period>); 2: page ids (pv, paths,
# ptitle, rank:<period>); 3: this one (explicit deletes, export and import markers)
LAYOUT_VERSION = 3
