"""The version of the data layout in Redis (and of export files, which carry it)."""

from __future__ import annotations

# 1: the first release (per-page keys pages, titles, top:<period>); 2: page ids (pv, paths,
# ptitle, rank:<period>); 3: explicit deletes; 4: pages checked against the portal; 5: one
# entry per visitor for "seen" (the online set keeps each visit's last activity; no session
# keys). Each later layout is made from the one before by a step of
# service.store.migrations.
LAYOUT_VERSION = 5
# Export files carry the layout they were written in. Layouts 4 and 5 export the same
# sections (who is online and open visits are never exported), so a file of either is read.
EXPORTS_READ_FROM = 4
