"""The embed script and its assets, shipped as package data.

`widgets/labels.json` is the one table of widget labels (vi, en): the no-JavaScript pages
read it, and it is inlined into `embed.js` where the source says `{/*labels*/}`, so the
script stays one dependency-free file. Hashes, ETag and SRI are computed on the built bytes.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

PLACEHOLDER = b"{/*labels*/}"


@cache
def labels() -> dict[str, dict[str, str]]:
    """The label table: language -> key -> text."""
    table: dict[str, dict[str, str]] = json.loads(
        resources.files(__name__).joinpath("labels.json").read_text("utf-8"))
    return table


@cache
def embed_js() -> bytes:
    """embed.js as served: the source with the label table inlined."""
    source = resources.files(__name__).joinpath("embed.js").read_bytes()
    if source.count(PLACEHOLDER) != 1:
        raise RuntimeError("embed.js must contain the labels placeholder exactly once")
    table = json.dumps(labels(), ensure_ascii=False, separators=(",", ":"))
    return source.replace(PLACEHOLDER, table.encode("utf-8"))
