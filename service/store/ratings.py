"""Redis side of ratings: the rating script, counts per page and bucket, the rated pages.

A bucket is a month (YYYY-MM), a year (YYYY) or `all`. Its counts hash holds the site's
totals (`u`, `n`, `r:<reason>`) and each page's (`<page id>:u`, ...); its sorted set lists
the rated pages by number of ratings. Nothing else about a rating is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from service.store import Store
from service.store.counters import Rate
from service.store.pages import page_id
from service.store.scripts import Call, run

ALL = "all"


@dataclass(frozen=True)
class Counts:
    """Ratings of a page or a site in one bucket."""

    useful: int = 0
    not_useful: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Ratings in all."""
        return self.useful + self.not_useful


@dataclass(frozen=True)
class RatingWrite:
    """One rating as rating.lua checks and records it (every allowance decided there)."""

    site: str
    path: str
    useful: bool
    reasons: list[str]
    all_reasons: tuple[str, ...]
    now_ms: int
    nonce: str
    forget_ms: int
    rater: str  # keyed hash of (site, page, browser token); '' without a token
    rater_until_ms: int
    address: str  # keyed hash of (site, page, address unit)
    network: str  # keyed hash of (site, page, IPv6 /48); '' for IPv4
    per_address: int
    per_network: int
    month: str
    year: str
    month_expire_ms: int
    year_expire_ms: int
    allowance_expire_ms: int
    rate: Rate


@dataclass(frozen=True)
class RatingReply:
    """rating.lua's outcome; the page's all-time counts when the rating was recorded."""

    outcome: str  # ok, missing, duplicate, used, limited, ratelimited
    counts: Counts | None = None
    retry_after_ms: int = 0


def _counts(values: list[Any], reasons: tuple[str, ...]) -> Counts:
    return Counts(int(values[0] or 0), int(values[1] or 0),
                  {r: int(v or 0) for r, v in zip(reasons, values[2:], strict=True)})


def _fields(prefix: str, reasons: tuple[str, ...]) -> list[str]:
    return [f"{prefix}u", f"{prefix}n", *(f"{prefix}r:{r}" for r in reasons)]


def rate(store: Store, w: RatingWrite) -> RatingReply:
    """Run rating.lua: check and record one rating in one round trip (its names: the
    script's header)."""
    k = store.keys
    args = {
        "now": w.now_ms, "page": page_id(w.path), "nonce": w.nonce, "forget_ms": w.forget_ms,
        "rater": w.rater, "rater_until": w.rater_until_ms, "address": w.address,
        "network": w.network, "per_address": w.per_address, "per_network": w.per_network,
        "useful": w.useful, "reasons": w.reasons, "all_reasons": list(w.all_reasons),
        "rate_allowed": w.rate.allowed, "rate_window_ms": w.rate.window_ms,
        "month_expire_at": w.month_expire_ms, "year_expire_at": w.year_expire_ms,
        "allowance_expire_at": w.allowance_expire_ms,
    }
    keys = {"paths": k.page_paths(w.site), "raters": k.raters(w.site),
            "nonces": k.rating_nonces(w.site), "allowance": k.rating_allowance(w.site, w.month),
            "rate": w.rate.key(store, w.site, w.now_ms),
            "counts_month": k.ratings(w.site, w.month), "counts_year": k.ratings(w.site, w.year),
            "counts_all": k.ratings(w.site, ALL), "pages_month": k.rated_pages(w.site, w.month),
            "pages_year": k.rated_pages(w.site, w.year), "pages_all": k.rated_pages(w.site, ALL)}
    with store.guard("rating"):
        result = run(store.scripts.rating, Call(keys=keys, args=args))
    if result[0] == "ratelimited":
        return RatingReply("ratelimited", retry_after_ms=int(result[1]))
    if result[0] != "ok":
        return RatingReply(str(result[0]))
    return RatingReply("ok", _counts(list(result[1]), w.all_reasons))


def page_counts(store: Store, site: str, path: str, reasons: tuple[str, ...],
                bucket: str = ALL) -> Counts:
    """One page's counts in a bucket."""
    with store.guard("ratings"):
        values = store.redis.hmget(store.keys.ratings(site, bucket),
                                   _fields(f"{page_id(path)}:", reasons))
    return _counts(values, reasons)


def totals(store: Store, site: str, bucket: str, reasons: tuple[str, ...]) -> Counts:
    """The site's counts in a bucket."""
    with store.guard("ratings"):
        values = store.redis.hmget(store.keys.ratings(site, bucket), _fields("", reasons))
    return _counts(values, reasons)


@dataclass(frozen=True)
class RatedPage:
    """A rated page: its path and title (None once the page table dropped it) and counts."""

    id: str
    path: str | None
    title: str | None
    counts: Counts


def rated(store: Store, site: str, bucket: str, reasons: tuple[str, ...], *,
          limit: int, min_ratings: int = 1) -> list[RatedPage]:
    """Up to `limit` pages with at least `min_ratings` ratings in the bucket, most rated
    first, with their counts, paths and titles (two round trips)."""
    k = store.keys
    with store.guard("ratings"):
        ids = [str(i) for i in store.redis.zrevrangebyscore(
            k.rated_pages(site, bucket), "+inf", min_ratings, start=0, num=limit)]
        if not ids:
            return []
        pipe = store.redis.pipeline(transaction=False)
        pipe.hmget(k.page_paths(site), ids)
        pipe.hmget(k.page_titles(site), ids)
        pipe.hmget(k.ratings(site, bucket), [f for i in ids for f in _fields(f"{i}:", reasons)])
        paths, titles, values = pipe.execute()
    width = 2 + len(reasons)
    return [RatedPage(pid, path, title, _counts(values[n * width:(n + 1) * width], reasons))
            for n, (pid, path, title) in enumerate(zip(ids, paths, titles, strict=True))]


def buckets(store: Store, site: str) -> list[str]:
    """The site's rating buckets that exist (months, years, all), for merges and exports."""
    prefix = store.keys.ratings(site, "")
    with store.guard("ratings"):
        return sorted(str(key)[len(prefix):]
                      for key in store.redis.scan_iter(match=prefix + "*", count=1000))
