"""Visit counting rules: which hits count, hits, heartbeats, stats, per-page views."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crawlerdetect import CrawlerDetect

from service import figures as stats_of
from service.errors import Invalid, NotFound
from service.periods import Periods, ms, periods_of
from service.sites import Site
from service.store import Store
from service.store import counters as db
from service.store import pages as pages_db
from service.store.counters import PERIODS, HitWrite
from service.visitor import visitor_id

_CRAWLERS = CrawlerDetect()


@dataclass(frozen=True)
class HitFacts:
    """What a request says about a page load, as plain values (the view reads HTTP)."""

    ip: str
    user_agent: str
    purpose: str  # Sec-Purpose or Purpose header ('' when absent)
    token: str  # the browser token ('' when absent)
    path: str
    title: str


@dataclass(frozen=True)
class HitOutcome:
    """What recording one hit did: its result, the stats after it and the page's views."""

    result: str  # counted, duplicate, bot, prefetch
    stats: dict[str, Any]
    views: int
    dropped: bool = False  # counted, but not tracked per page (max_pages)

    @property
    def counted(self) -> bool:
        """Whether the hit was counted as a page view."""
        return self.result == "counted"


def not_counted_reason(user_agent: str, purpose: str) -> str | None:
    """'prefetch' for prefetch/prerender, 'bot' for crawlers and no User-Agent, else None."""
    purpose = purpose.lower()
    if "prefetch" in purpose or "prerender" in purpose:
        return "prefetch"
    agent = user_agent.strip()
    if not agent or _CRAWLERS.is_crawler(agent[:1024]):
        return "bot"
    return None


def _window_ms(site: Site) -> int:
    return site.online_window_seconds * 1000


def hit(store: Store, secret: str, site: Site, facts: HitFacts, *, now: datetime,
        request_id: str | None = None) -> HitOutcome:
    """Record one page load (or not, for bots and prefetches) in one Redis round trip."""
    p = periods_of(now, site.tz)
    reason = not_counted_reason(facts.user_agent, facts.purpose)
    if reason is not None:
        found, views = db.figures(store, site.id, p, now_ms=ms(now),
                                  window_ms=_window_ms(site), path=facts.path)
        return HitOutcome(reason, stats_of.stats_object(site, found, p, now), views)
    # an alias's readers keep the visitor ids they had before the merge (service.merges)
    visitor = visitor_id(store, secret, site.alias_of or site.id, p.day, ip=facts.ip,
                         user_agent=facts.user_agent[:1024], token=facts.token)
    result = _record(store, site, p, visitor=visitor, path=facts.path, title=facts.title,
                     now=now, request_id=request_id)
    if result is None:
        raise NotFound("unknown site")
    return result


def record_hit(store: Store, site: Site, *, visitor: str, path: str, title: str,
               now: datetime, request_id: str | None = None) -> HitOutcome | None:
    """Count one page load of a known visitor; None when the site vanished meanwhile."""
    return _record(store, site, periods_of(now, site.tz), visitor=visitor, path=path,
                   title=title, now=now, request_id=request_id)


def _record(store: Store, site: Site, p: Periods, *, visitor: str, path: str, title: str,
            now: datetime, request_id: str | None) -> HitOutcome | None:
    reply = db.hit(store, HitWrite(
        site=site.id, periods=p, now_ms=ms(now), window_ms=_window_ms(site), visitor=visitor,
        request_id=request_id or uuid.uuid4().hex,
        path=path, path_hash=hashlib.sha256(path.encode()).hexdigest()[:16], title=title,
        session_s=site.session_timeout_seconds, dedupe_s=site.pageview_dedupe_seconds,
        max_pages=site.max_pages,
    ))
    if reply is None:
        return None
    return HitOutcome("counted" if reply.counted else "duplicate",
                      stats_of.stats_object(site, reply.figures, p, now), reply.views,
                      reply.dropped)


def beat(store: Store, secret: str, site: Site, facts: HitFacts, *, now: datetime) -> None:
    """A heartbeat of the page's reader (nothing for bots and prefetches); counts nothing."""
    if not_counted_reason(facts.user_agent, facts.purpose) is not None:
        return
    visitor = visitor_id(store, secret, site.alias_of or site.id,
                         periods_of(now, site.tz).day, ip=facts.ip,
                         user_agent=facts.user_agent[:1024], token=facts.token)
    heartbeat(store, site, visitor=visitor, now=now)


def heartbeat(store: Store, site: Site, *, visitor: str, now: datetime) -> None:
    """Keep a visitor already online (never adds one) in `online`, and their visit open."""
    db.heartbeat(store, site.id, visitor, now_ms=ms(now), window_ms=_window_ms(site),
                 session_s=site.session_timeout_seconds)


def read_stats(store: Store, site: Site, *, now: datetime) -> dict[str, Any]:
    """The stats object, uniques counted afresh."""
    p = periods_of(now, site.tz)
    found, _ = db.figures(store, site.id, p, now_ms=ms(now), window_ms=_window_ms(site))
    return stats_of.stats_object(site, found, p, now)


def online(store: Store, site: Site, *, now: datetime) -> int:
    """Visitors online now."""
    return db.online_count(store, site.id, now_ms=ms(now), window_ms=_window_ms(site))


def pages(store: Store, site: Site, paths: list[str]) -> dict[str, dict[str, Any]]:
    """Views and last title of each path."""
    return {page.path: {"views": page.views, "title": page.title}
            for page in pages_db.views(store, site.id, paths)}


def top_pages(store: Store, site: Site, *, period: str, limit: int,
              now: datetime) -> list[dict[str, Any]]:
    """The most viewed pages of a period."""
    if period not in PERIODS:
        raise Invalid("period must be one of today, week, month, year")
    period_id = periods_of(now, site.tz).ids()[period]
    return [{"path": page.path, "title": page.title, "views": page.views}
            for page in pages_db.top(store, site.id, period_id, limit)]
