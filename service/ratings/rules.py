"""What a rating is, who may rate, and the one write (rating.lua does every check)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service import tickets
from service.allowances import RATINGS
from service.counting.periods import ms, periods_of
from service.counting.visitor import AGGREGATE_FACTOR, address_rate, address_units, keyed
from service.errors import Conflict, DomainError, Invalid, NotFound, TooMany, WriteRefused
from service.sites import Site
from service.store import Store
from service.store import ratings as db
from service.store.counters import KEEP_SECONDS
from service.store.pages import page_id

# The fixed reasons, in the order readers see them (ids are part of the public API).
REASONS = ("thieu", "kho-hieu", "sai", "cu", "khac")
REASON_LABELS = {
    "vi": {"thieu": "Thiếu thông tin", "kho-hieu": "Khó hiểu", "sai": "Không chính xác",
           "cu": "Đã lỗi thời", "khac": "Khác"},
    "en": {"thieu": "Missing information", "kho-hieu": "Hard to understand",
           "sai": "Inaccurate", "cu": "Out of date", "khac": "Other"},
}
QUESTION = {"vi": "Thông tin này có hữu ích với bạn không?",
            "en": "Was this information useful?"}
GUARD_DAYS = 90  # how long the keyed hash of (site, page, browser token) is kept
# Rating attempts per site and client address unit: service.allowances.RATINGS, checked
# inside rating.lua; the per-page allowance PW_RATINGS_PER_IP is apart.
NETWORK_FACTOR = AGGREGATE_FACTOR  # an IPv6 /48 together: 4 times one address's allowance
MIN_RATINGS = 5  # a page is in the "least useful" list from this many ratings
KIND = "rating"  # the tickets' kind

# Outcomes of rating.lua -> (metric result, error class, reason)
OUTCOMES: dict[str, tuple[str, type[DomainError], str]] = {
    "missing": ("invalid", NotFound, "unknown page"),
    "duplicate": ("duplicate", Conflict, "already rated"),
    "used": ("duplicate", Conflict, "already rated"),
    "limited": ("limited", TooMany, "too many ratings from this address"),
}


class RatingRefused(WriteRefused):
    """A rating that was not recorded (service.errors.WriteRefused)."""


@dataclass(frozen=True)
class Rating:
    """A reader's answer, checked."""

    useful: bool
    reasons: list[str]


def parse(useful: Any, reasons: Any) -> Rating:
    """Check `useful` (true|false) and `reasons` (known ids, only with false); Invalid."""
    if not isinstance(useful, bool):
        raise Invalid("useful must be true or false")
    if reasons is None:
        reasons = []
    if not isinstance(reasons, list) or len(reasons) > len(REASONS) \
            or not all(isinstance(r, str) for r in reasons):
        raise Invalid("reasons must be a list of reason ids")
    if any(r not in REASONS for r in reasons):
        raise Invalid("unknown reason")
    if len(set(reasons)) != len(reasons):
        raise Invalid("reasons must not repeat")
    if useful and reasons:
        raise Invalid("reasons only with useful false")
    return Rating(useful, [r for r in REASONS if r in reasons])


def share(counts: db.Counts) -> float | None:
    """The share of useful ratings (0..1), None without ratings."""
    return counts.useful / counts.total if counts.total else None


def view(path: str, counts: db.Counts, lang: str) -> dict[str, Any]:
    """The page's rating as the public API answers it."""
    return {"path": path, "question": QUESTION.get(lang, QUESTION["vi"]),
            "useful": counts.useful, "not_useful": counts.not_useful,
            "reasons": {r: counts.reasons.get(r, 0) for r in REASONS}}


def read(store: Store, site: Site, path: str, *, secret: str, lang: str,
         now: datetime | None = None) -> dict[str, Any]:
    """The page's all-time rating and a fresh single-use ticket for rating it (issued at
    `now`, default the machine's clock)."""
    out = view(path, db.page_counts(store, site.id, path, REASONS), lang)
    out["ticket"] = tickets.issue(secret, KIND, site.id, page_id(path), now)
    return out


def rate(store: Store, site: Site, path: str, *, useful: Any, reasons: Any, ticket: Any,
         token: str, ip: str, secret: str, per_ip: int, now: datetime,
         lang: str) -> dict[str, Any]:
    """Record one rating; RatingRefused (with metric result and HTTP error) when not.

    One round trip: rating.lua checks that the page is tracked, the browser's guard, the
    ticket, the address's and the /48's allowances and the attempt rate, then counts.
    """
    pid = page_id(path)
    try:
        rating = parse(useful, reasons)
        redeemed = tickets.redeem(secret, KIND, site.id, pid, ticket, now)
    except Invalid as exc:
        raise RatingRefused("invalid", exc, checked=False) from None
    p = periods_of(now, site.tz)
    now_ms = ms(now)
    units = address_units(secret, ip, "rating", site.id, pid)
    reply = db.rate(store, db.RatingWrite(
        site=site.id, path=path, useful=rating.useful, reasons=rating.reasons,
        all_reasons=REASONS, now_ms=now_ms, nonce=redeemed.nonce,
        forget_ms=redeemed.forget_ms,
        rater=keyed(secret, "rater", site.id, pid, token) if token else "",
        rater_until_ms=now_ms + GUARD_DAYS * 86_400_000,
        address=units.unit, network=units.aggregate,
        per_address=per_ip, per_network=units.aggregate_allowance(per_ip),
        month=p.month, year=p.year,
        month_expire_ms=(p.expire_month + KEEP_SECONDS) * 1000,
        year_expire_ms=(p.expire_year + KEEP_SECONDS) * 1000,
        allowance_expire_ms=p.expire_month * 1000,
        rate=address_rate(RATINGS, secret, ip),
    ))
    if reply.outcome == "ratelimited":
        raise RatingRefused("limited", TooMany.rate_limited(reply.retry_after_ms))
    if reply.counts is None:
        result, error, reason = OUTCOMES.get(reply.outcome, ("invalid", Invalid,
                                                             "rating refused"))
        raise RatingRefused(result, error(reason))
    return view(path, reply.counts, lang)
