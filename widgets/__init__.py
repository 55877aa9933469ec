"""The embed script and its assets, shipped as package data.

`widgets/labels.json` is the one table of widget labels (vi, en): the no-JavaScript pages
read it, and it is inlined into `embed.js` where the source says `{/*labels*/}`, so the
script stays one dependency-free file. The source is kept readable and served minified
(rjsmin: comments and blanks out, the `/*!` header kept). Hashes, ETag and SRI are computed
on the built bytes. `embed.css` is the tiny stylesheet the snippet links so that each
widget's box is reserved before the script fills it (no layout shift).
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

import rjsmin

PLACEHOLDER = b"{/*labels*/}"


@cache
def labels() -> dict[str, dict[str, str]]:
    """The label table: language -> key -> text."""
    table: dict[str, dict[str, str]] = json.loads(
        resources.files(__name__).joinpath("labels.json").read_text("utf-8"))
    return table


@cache
def embed_js() -> bytes:
    """embed.js as served: the source with the label table inlined, minified."""
    source = resources.files(__name__).joinpath("embed.js").read_text("utf-8")
    if source.count(PLACEHOLDER.decode()) != 1:
        raise RuntimeError("embed.js must contain the labels placeholder exactly once")
    table = json.dumps(labels(), ensure_ascii=False, separators=(",", ":"))
    built: str = rjsmin.jsmin(source.replace(PLACEHOLDER.decode(), table),
                                   keep_bang_comments=True)
    return built.encode("utf-8")


@cache
def embed_css() -> bytes:
    """embed.css: the space each widget takes, reserved before embed.js runs."""
    return resources.files(__name__).joinpath("embed.css").read_bytes()
