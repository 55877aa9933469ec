"""Admin-chosen ids of hotlines, polls and options: short ASCII slugs."""

from __future__ import annotations

import re
import unicodedata

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


def is_slug(value: object) -> bool:
    """Whether `value` is a valid id."""
    return isinstance(value, str) and SLUG_RE.match(value) is not None


def slug(text: str, default: str = "item") -> str:
    """An id from a Vietnamese label: `Tiếp công dân` -> `tiep-cong-dan`."""
    text = text.replace("đ", "d").replace("Đ", "D")
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:40] or default
