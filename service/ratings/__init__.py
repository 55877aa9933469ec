"""Ratings of information: "Thông tin này có hữu ích với bạn không?" on every article.

Decree 224/2026/NĐ-CP art. 10(3)(b) asks portals to let readers rate the information and to
keep raters private. A rating is Có / Không plus, after Không, reasons from a fixed list (no
free text). Only counts are stored with the page: per month, per year and all time. What
stops a second rating is a keyed hash of (site, page, browser token), forgotten after 90
days; an address's allowance is a keyed hash too, forgotten when its month ends.
"""

from __future__ import annotations

from service.ratings.rules import (
    GUARD_DAYS,
    MIN_RATINGS,
    NETWORK_FACTOR,
    QUESTION,
    REASON_LABELS,
    REASONS,
    RatingRefused,
    parse,
    rate,
    read,
    share,
)

__all__ = ["GUARD_DAYS", "MIN_RATINGS", "NETWORK_FACTOR", "QUESTION", "REASONS",
           "REASON_LABELS", "RatingRefused", "parse", "rate", "read", "share"]
