"""Clean text fields from clients and admins: one line, no control characters, bounded."""

from __future__ import annotations

import re
from typing import Any

from service.errors import Invalid

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
# Zero-width characters and bidirectional overrides and isolates: invisible, and able to
# reorder or disguise what a reader sees (a title, a label).
_INVISIBLE_RE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\u2060\ufeff]")


def has_control(value: str) -> bool:
    """Whether the text holds a control character."""
    return _CONTROL_RE.search(value) is not None


def check_unicode(value: str, name: str) -> None:
    """Refuse lone surrogates (they cannot be stored or encoded as UTF-8)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid(f"{name} is not valid unicode") from None


def text(value: Any, name: str, *, max_len: int, required: bool = False,
         truncate: bool = False) -> str | None:
    """A clean single-line string field, or None when absent (or empty and optional).

    Control characters become spaces; zero-width and bidirectional control characters are
    removed; runs of white space become one space.

    Longer text is cut to `max_len` with `truncate` (what a page reports about itself),
    refused without it (what an admin types).
    """
    if value is None or (value == "" and not required):
        if required:
            raise Invalid(f"{name} is required")
        return None
    if not isinstance(value, str):
        raise Invalid(f"{name} must be a string")
    check_unicode(value, name)
    cleaned = " ".join(_CONTROL_RE.sub(" ", _INVISIBLE_RE.sub("", value)).split())
    if required and not cleaned:
        raise Invalid(f"{name} is required")
    if len(cleaned) > max_len:
        if not truncate:
            raise Invalid(f"{name} must be at most {max_len} characters")
        cleaned = cleaned[:max_len]
    return cleaned
