"""Per-page views for "Lượt xem", top lists for "Tin xem nhiều", and their moderation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from service.counting.periods import ms, periods_of
from service.errors import Conflict, Invalid, NotFound
from service.sites import Site
from service.store import Store
from service.store import checks as checks_db
from service.store import pages as db
from service.store.counters import PERIODS
from service.text import text

MAX_TITLE = 200
STATES = ("verified", "unverified", "rejected", "unchecked")


def views(store: Store, site: Site, paths: list[str]) -> dict[str, dict[str, Any]]:
    """Views and title of each path (no title until the portal has confirmed the page, for a
    site that verifies its pages)."""
    return {page.path: {"views": page.views, "title": page.title}
            for page in db.views(store, site.id, paths, verify=site.verifies)}


def _period_id(site: Site, period: str, now: datetime) -> str:
    if period not in PERIODS:
        raise Invalid("period must be one of today, week, month, year")
    return periods_of(now, site.tz).ids()[period]


def top(store: Store, site: Site, *, period: str, limit: int,
        now: datetime) -> list[dict[str, Any]]:
    """The most viewed pages of a period: hidden pages and paths outside page_prefixes left out."""
    return top_of(store, site, _period_id(site, period, now), limit)


def top_of(store: Store, site: Site, period_id: str, limit: int) -> list[dict[str, Any]]:
    """The most viewed public pages of a period given by its id (2026-11-27, 2026-W48, ...)."""
    # read more than asked: pages ranked before a page_prefixes change are left out here;
    # a site that verifies its pages lists verified ones only
    found = db.top(store, site.id, period_id, db.PAGE_SCAN_LIMIT, want=limit * 4 + 20,
                   verified_only=site.verifies)
    listed = [page for page in found if site.listable(page.path)][:limit]
    return [{"path": page.path, "title": page.title, "views": page.views} for page in listed]


def admin_list(store: Store, site: Site, *, period: str, limit: int, now: datetime,
               state: str | None = None) -> list[dict[str, Any]]:
    """The most viewed pages of a period for the admin: hidden ones included, flagged, each
    with its state; `state` keeps only pages in that state.

    Verified pages (and every page of a site that does not verify: `unchecked`) come with
    their views of the period; unverified and rejected pages are not ranked by period, so
    they come with their views since they were first seen.
    """
    if state is not None and state not in STATES:
        raise Invalid("state must be one of verified, unverified, rejected, unchecked")
    period_id = _period_id(site, period, now)
    if not site.verifies:
        if state not in (None, "unchecked"):
            return []
        found = db.top(store, site.id, period_id, limit, include_hidden=True)
        return [_admin_row(page, "unchecked") for page in found]
    rows: list[db.Page] = []
    if state in (None, "verified"):
        rows += [page for page in db.top(store, site.id, period_id, db.PAGE_SCAN_LIMIT,
                                         include_hidden=True, verified_only=True, want=limit)]
    if state in (None, "unverified", "rejected"):
        rows += [page for page in db.unlisted(store, site.id, db.PAGE_SCAN_LIMIT)
                 if state is None or page.state == state]
    rows.sort(key=lambda page: -page.views)
    return [_admin_row(page, page.state) for page in rows[:limit]]


def _admin_row(page: db.Page, state: str) -> dict[str, Any]:
    return {"path": page.path, "title": page.title, "views": page.views,
            "hidden": page.hidden, "title_locked": page.title_locked, "state": state}


def check_now(store: Store, site: Site, path: str, *, now: datetime) -> None:
    """Queue a check of a tracked path against the portal, due now."""
    if not site.verifies:
        raise Conflict("this site does not verify its pages (it needs origins and "
                       "verify_pages)")
    if not checks_db.check_now(store, site.id, path, now_ms=ms(now)):
        raise NotFound("unknown page")


def moderate(store: Store, site: Site, body: Any) -> None:
    """{"path", "hidden": bool} hides or shows a path; {"path", "title": str|null} sets and
    locks its title, or unlocks it."""
    if not isinstance(body, dict) or not isinstance(body.get("path"), str):
        raise Invalid("body must be {\"path\": ..., \"hidden\": bool} or {\"path\", \"title\"}")
    unknown = set(body) - {"path", "hidden", "title"}
    if unknown:
        raise Invalid(f"unknown field: {sorted(unknown)[0][:30]}")
    if "hidden" not in body and "title" not in body:
        raise Invalid("give hidden or title")
    path = body["path"]
    if "hidden" in body and not isinstance(body["hidden"], bool):
        raise Invalid("hidden must be true or false")
    title = text(body["title"], "title", max_len=MAX_TITLE, required=True) \
        if body.get("title") is not None else None
    if not db.tracked(store, site.id, path):
        raise NotFound("unknown page")
    if "hidden" in body:
        db.set_hidden(store, site.id, path, body["hidden"])
    if "title" in body:
        db.set_title(store, site.id, path, title)


def forget(store: Store, site: Site, path: str, *, now: datetime) -> None:
    """Forget a path: its views, title and top-list entries (site totals are kept)."""
    if not db.tracked(store, site.id, path):
        raise NotFound("unknown page")
    db.forget(store, site.id, path, periods_of(now, site.tz))
