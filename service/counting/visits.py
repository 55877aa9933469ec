"""Visit counting rules: which hits count, hits, heartbeats, stats, per-page views."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crawlerdetect import CrawlerDetect

from service.allowances import HEARTBEATS, HITS
from service.cache import Cache
from service.counting import figures as stats_of
from service.counting import sources
from service.counting.periods import Periods, ms, periods_of
from service.counting.visitor import address_rate, network_key, visitor_id
from service.errors import TooMany
from service.sites import Site
from service.store import Store
from service.store import counters as db
from service.store.counters import HitWrite, Limited, Rate
from service.store.pages import PageWrite, page_id

_CRAWLERS = CrawlerDetect()
_AGENTS: Cache[str, bool] = Cache("user-agents", 512 * 1024)


@dataclass(frozen=True)
class HitFacts:
    """What a request says about a page load, as plain values (the view reads HTTP)."""

    ip: str  # the client address (kept only inside keyed hashes)
    user_agent: str
    purpose: str  # Sec-Purpose or Purpose header ('' when absent)
    token: str  # the browser token ('' when absent)
    path: str
    title: str
    referrer: str = ""  # the page's document.referrer, classified and never stored
    page_origin: str = ""  # the page's origin (Origin or Referer header), '' when unknown


@dataclass(frozen=True)
class HitOutcome:
    """What recording one hit did: its result, the stats after it and the page's views."""

    result: str  # counted, duplicate, bot, prefetch
    stats: dict[str, Any]
    views: int
    evicted: int = 0  # tracked pages that made room for this one (max_pages)
    queued: bool = False  # a check of the page against the portal was queued

    @property
    def counted(self) -> bool:
        """Whether the hit was counted as a page view."""
        return self.result == "counted"


def not_counted_reason(user_agent: str, purpose: str) -> str | None:
    """'prefetch' for prefetch/prerender, 'bot' for crawlers and no User-Agent, else None."""
    purpose = purpose.lower()
    if "prefetch" in purpose or "prerender" in purpose:
        return "prefetch"
    agent = user_agent.strip()[:1024]
    if not agent or _is_crawler(agent):
        return "bot"
    return None


def _is_crawler(agent: str) -> bool:
    """crawlerdetect's verdict, kept an hour per User-Agent (a few hundred agents make most
    of the traffic; the cache is bounded by bytes, so odd ones only push out old ones)."""
    verdict: bool = _AGENTS.remember(agent, 3600, lambda: _CRAWLERS.is_crawler(agent))
    return verdict


def _window_ms(site: Site) -> int:
    return site.online_window_seconds * 1000


def _refuse(limited: Limited) -> TooMany:
    return TooMany.rate_limited(limited.retry_after_ms)


def hit(store: Store, secret: str, site: Site, facts: HitFacts, *, now: datetime,
        request_id: str | None = None) -> HitOutcome:
    """Record one page load (or not, for bots and prefetches) in one Redis round trip.

    TooMany when the client's address is over its allowance. The site is not checked again
    in Redis: a hit that races a purge writes what a hit writes, and a site created again
    under that id clears it (service.sites.put_site).
    """
    p = periods_of(now, site.tz)
    rate = address_rate(HITS, secret, facts.ip)
    reason = not_counted_reason(facts.user_agent, facts.purpose)
    if reason is not None:
        peeked = db.peek(store, site.id, p, now_ms=ms(now), window_ms=_window_ms(site),
                         page_id=page_id(facts.path), rate=rate)
        if isinstance(peeked, Limited):
            raise _refuse(peeked)
        found, views = peeked
        return HitOutcome(reason, stats_of.stats_object(site, found, p, now), views)
    # an alias's readers keep the visitor ids they had before the merge (service.provinces.merges)
    visitor = visitor_id(store, secret, site.alias_of or site.id, p.day, ip=facts.ip,
                         user_agent=facts.user_agent[:1024], token=facts.token)
    source = sources.classify(facts.referrer, sources.page_hosts(site, facts.page_origin))
    page = PageWrite(path=facts.path, title=facts.title,
                     address=network_key(secret, facts.ip), listable=site.listable(facts.path),
                     max_pages=site.max_pages, verify=site.verifies)
    return _record(store, site, p, visitor=visitor, page=page, rate=rate, now=now,
                   request_id=request_id, source=source)


def record_hit(store: Store, site: Site, *, visitor: str, path: str, title: str,
               now: datetime, request_id: str | None = None,
               address: str | None = None,
               source: sources.Source = sources.DIRECT) -> HitOutcome:
    """Count one page load of a known visitor.

    `address` stands for the client's address unit in the rate limit and the title rule
    (by default one per visitor); `source` is where the visit came from.
    """
    address = address or visitor
    page = PageWrite(path=path, title=title, address=address, listable=site.listable(path),
                     max_pages=site.max_pages, verify=site.verifies)
    rate = Rate(HITS.name, address, HITS.count, HITS.window_ms)
    return _record(store, site, periods_of(now, site.tz), visitor=visitor, page=page,
                   rate=rate, now=now, request_id=request_id, source=source)


def _record(store: Store, site: Site, p: Periods, *, visitor: str, page: PageWrite,
            rate: Rate, now: datetime, request_id: str | None,
            source: sources.Source = sources.DIRECT) -> HitOutcome:
    reply = db.hit(store, HitWrite(
        site=site.id, periods=p, now_ms=ms(now), window_ms=_window_ms(site), visitor=visitor,
        request_id=request_id or uuid.uuid4().hex, page=page,
        session_s=site.session_timeout_seconds, dedupe_s=site.pageview_dedupe_seconds,
        rate=rate,
        source="" if source.category == "internal" else source.category,
        source_host=source.host,
    ))
    if isinstance(reply, Limited):
        raise _refuse(reply)
    return HitOutcome("counted" if reply.counted else "duplicate",
                      stats_of.stats_object(site, reply.figures, p, now), reply.views,
                      reply.evicted, reply.queued)


def beat(store: Store, secret: str, site: Site, facts: HitFacts, *, now: datetime) -> None:
    """A heartbeat of the page's reader (nothing for bots and prefetches); counts nothing."""
    if not_counted_reason(facts.user_agent, facts.purpose) is not None:
        return
    visitor = visitor_id(store, secret, site.alias_of or site.id,
                         periods_of(now, site.tz).day, ip=facts.ip,
                         user_agent=facts.user_agent[:1024], token=facts.token)
    heartbeat(store, site, visitor=visitor, now=now,
              rate=address_rate(HEARTBEATS, secret, facts.ip))


def heartbeat(store: Store, site: Site, *, visitor: str, now: datetime,
              rate: Rate | None = None) -> None:
    """Keep a visitor already online (never adds one) in `online`, and their visit open."""
    limited = db.heartbeat(store, site.id, visitor, now_ms=ms(now), window_ms=_window_ms(site),
                           session_s=site.session_timeout_seconds,
                           rate=rate or Rate(HEARTBEATS.name, "test-address",
                                             HEARTBEATS.count, HEARTBEATS.window_ms))
    if limited is not None:
        raise _refuse(limited)


def read_stats(store: Store, site: Site, *, now: datetime) -> dict[str, Any]:
    """The stats object, uniques counted afresh."""
    p = periods_of(now, site.tz)
    found = db.figures(store, site.id, p, now_ms=ms(now), window_ms=_window_ms(site))
    return stats_of.stats_object(site, found, p, now)


def online(store: Store, site: Site, *, now: datetime) -> int:
    """Visitors online now."""
    return db.online_count(store, site.id, now_ms=ms(now), window_ms=_window_ms(site))
