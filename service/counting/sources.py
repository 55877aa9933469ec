"""Sources of visits ("Nguồn truy cập"): a referrer's category and host, never its path.

A hit's `referrer` (the page's `document.referrer`) is classified here, before anything is
stored: only the category and, for search, social, gov and other, the host name are kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from service.counting.periods import periods_of
from service.errors import Invalid
from service.sites import Site
from service.store import Store
from service.store import sources as db

CATEGORIES = ("direct", "search", "social", "gov", "other")
# Each category's registrable domains; a host matches a domain or any subdomain of it.
# The host kept for the top-hosts list is the matched domain (l.facebook.com -> facebook.com).
_SEARCH = ("bing.com", "coccoc.com", "yahoo.com", "duckduckgo.com", "baidu.com",
           "ecosia.org", "naver.com", "search.brave.com", "startpage.com", "qwant.com",
           "yahoo.co.jp", "seznam.cz", "sogou.com", "so.com", "ask.com", "aol.com")
_SOCIAL = ("facebook.com", "fb.com", "fb.me", "messenger.com", "zalo.me", "zaloapp.com",
           "zalo.vn", "youtube.com", "youtu.be", "tiktok.com", "x.com", "twitter.com", "t.co",
           "linkedin.com", "lnkd.in", "instagram.com", "threads.net", "reddit.com",
           "pinterest.com", "t.me", "telegram.org", "vk.com", "lotus.vn", "viber.com")
# google.com, google.com.vn, google.co.uk ...; yandex.ru, yandex.com ...
_SEARCH_RE = re.compile(r"^(?:.+\.)?(?P<d>(?:google|yandex)\.[a-z]{2,3}(?:\.[a-z]{2})?)$")
# Android apps send android-app://<package>/ as the referrer.
_APPS = {"com.google.android.googlequicksearchbox": ("search", "google.com"),
         "com.google.android.gm": ("other", "mail.google.com"),
         "com.facebook.katana": ("social", "facebook.com"),
         "com.facebook.orca": ("social", "messenger.com"),
         "com.zing.zalo": ("social", "zalo.me"),
         "com.ss.android.ugc.trill": ("social", "tiktok.com"),
         "com.zhiliaoapp.musically": ("social", "tiktok.com"),
         "com.google.android.youtube": ("social", "youtube.com"),
         "com.coccoc.trinhduyet": ("search", "coccoc.com")}
_HOST_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}\.?)*$")
MAX_HOST = 253
PERIODS = ("today", "week", "month", "year")
MAX_HOSTS_SHOWN = 200


@dataclass(frozen=True)
class Source:
    """A visit's source: a category of CATEGORIES or `internal`, and a host ('' for none)."""

    category: str
    host: str = ""


DIRECT = Source("direct")
INTERNAL = Source("internal")


def host_of(url: str) -> str:
    """The lowercased host name of an http(s) URL or an origin, '' when it has none."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https"):
        return ""
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return ""
    host = host.rstrip(".").lower()
    if not host or len(host) > MAX_HOST or not _HOST_RE.match(host):
        return ""
    return host


def _bare(host: str) -> str:
    return host[4:] if host.startswith("www.") else host


def _matches(host: str, domains: Iterable[str]) -> str | None:
    for domain in domains:
        if host == domain or host.endswith("." + domain):
            return domain
    return None


def classify(referrer: str, page_hosts: Iterable[str]) -> Source:
    """The source of a visit that came from `referrer` to a page on one of `page_hosts`."""
    referrer = referrer.strip()
    if not referrer:
        return DIRECT
    if referrer.startswith("android-app://"):
        package = referrer[len("android-app://"):].split("/", 1)[0].lower()
        category, host = _APPS.get(package, ("other", ""))
        return Source(category, host)
    host = host_of(referrer)
    if not host:
        # not an http(s) URL with a host name: nothing useful to count but the visit itself
        return Source("other")
    bare = _bare(host)
    if bare in {_bare(h) for h in page_hosts if h}:
        return INTERNAL
    found = _SEARCH_RE.match(bare)
    if found:
        return Source("search", found.group("d"))
    domain = _matches(bare, _SEARCH)
    if domain:
        return Source("search", domain)
    domain = _matches(bare, _SOCIAL)
    if domain:
        return Source("social", domain)
    if bare == "gov.vn" or bare.endswith(".gov.vn"):
        return Source("gov", bare)
    return Source("other", bare)


def page_hosts(site: Site, page_origin: str | None) -> list[str]:
    """Hosts that are the site itself: the requesting page's and the allowed origins'."""
    hosts = [host_of(origin) for origin in site.origins]
    if page_origin:
        hosts.append(host_of(page_origin))
    return [h for h in hosts if h]


def _days(site: Site, period: str, now: datetime) -> tuple[date, date]:
    p = periods_of(now, site.tz)
    today = date.fromisoformat(p.day)
    if period == "today":
        return today, today
    if period == "week":
        return today - timedelta(days=today.isoweekday() - 1), today
    if period == "month":
        return today.replace(day=1), today
    return today.replace(month=1, day=1), today


def months_between(start: date, end: date) -> list[str]:
    """Month ids (YYYY-MM) from start's month to end's month."""
    out, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        out.append(f"{year}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def counts_between(store: Store, site_id: str, start: date, end: date) -> dict[str, int]:
    """Visits by source (the five categories) from start to end inclusive."""
    years = [str(y) for y in range(start.year, end.year + 1)]
    stored = db.daily(store, site_id, years)
    out = dict.fromkeys(CATEGORIES, 0)
    low, high = start.strftime("%m-%d"), end.strftime("%m-%d")
    for year, row in stored.items():
        for field, value in row.items():
            day, _, category = field.partition(":")
            if category not in out:
                continue
            if (year == years[0] and day < low) or (year == years[-1] and day > high):
                continue
            out[category] += int(value)
    return out


def hosts_between(store: Store, site_id: str, start: date, end: date,
                  limit: int = MAX_HOSTS_SHOWN) -> list[dict[str, Any]]:
    """Referring hosts of the months from start to end, most visits first."""
    summed: dict[str, int] = {}
    for counts in db.hosts(store, site_id, months_between(start, end)):
        for host, visits in counts.items():
            summed[host] = summed.get(host, 0) + visits
    ranked = sorted(summed.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [{"host": host, "visits": visits} for host, visits in ranked]


def sources(store: Store, site: Site, *, period: str, now: datetime) -> dict[str, Any]:
    """{"sources": {category: visits}, "hosts": [...]} of today, this week, month or year;
    hosts are counted per month, so they are listed for month and year only."""
    if period not in PERIODS:
        raise Invalid("period must be one of today, week, month, year")
    start, end = _days(site, period, now)
    found = counts_between(store, site.id, start, end)
    hosts = hosts_between(store, site.id, start, end) if period in ("month", "year") else []
    return {"period": period, "sources": found, "hosts": hosts}
