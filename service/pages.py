"""Per-page views for "Lượt xem", top lists for "Tin xem nhiều", and their moderation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from service.errors import Invalid, NotFound
from service.periods import periods_of
from service.sites import Site
from service.store import Store
from service.store import pages as db
from service.store.counters import PERIODS
from service.text import text

MAX_TITLE = 200


def views(store: Store, site: Site, paths: list[str]) -> dict[str, dict[str, Any]]:
    """Views and title of each path."""
    return {page.path: {"views": page.views, "title": page.title}
            for page in db.views(store, site.id, paths)}


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
    # read more than asked: pages ranked before a page_prefixes change are left out here
    found = db.top(store, site.id, period_id, limit * 4 + 20)
    listed = [page for page in found if site.listable(page.path)][:limit]
    return [{"path": page.path, "title": page.title, "views": page.views} for page in listed]


def admin_list(store: Store, site: Site, *, period: str, limit: int,
               now: datetime) -> list[dict[str, Any]]:
    """The most viewed pages of a period for the admin: hidden ones included, flagged."""
    found = db.top(store, site.id, _period_id(site, period, now), limit, include_hidden=True)
    return [{"path": page.path, "title": page.title, "views": page.views,
             "hidden": page.hidden, "title_locked": page.title_locked} for page in found]


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
