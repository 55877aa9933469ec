"""Sites: one portal each, with validated settings and a short in-process cache."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from service.counting.periods import ms
from service.errors import Conflict, Invalid, NotFound
from service.store import Store
from service.store import checks as checks_db
from service.store import imports as imports_db
from service.store import merges as merges_db
from service.store import sites as db

SITE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
# Settings change rarely; caching them keeps a hit at one Redis round trip. A change made
# by the admin (a site created, imported, merged or deleted, too) reaches every worker
# within this many seconds: public reads may lag a write by at most a second. Admin reads
# never use the cache.
CACHE_SECONDS = 1.0
MAX_ORIGINS = 50
MAX_PREFIXES = 50

_INT_RANGES = {
    "online_window_seconds": (30, 3600),
    "session_timeout_seconds": (60, 86400),
    "pageview_dedupe_seconds": (0, 86400),
    "max_pages": (1, 200_000),  # about 0.8 GB of Redis at most for one site
}


@dataclass(frozen=True)
class Site:
    """A site's settings; every field has its documented default (OpenAPI `Site`)."""

    id: str
    name: str = ""
    timezone: str = "Asia/Ho_Chi_Minh"
    origins: tuple[str, ...] = field(default_factory=tuple)
    online_window_seconds: int = 300
    session_timeout_seconds: int = 1800
    pageview_dedupe_seconds: int = 600
    max_pages: int = 50000
    locale: str = "vi"
    page_prefixes: tuple[str, ...] = field(default_factory=tuple)
    public_stats: bool = False  # whether /stats/{site}, the public statistics page, is served
    # whether new paths are checked against the portal's own page before they are listed
    # (service.pages.check); None: the default, true when the site has origins
    verify_pages: bool | None = None
    # set by a merge (service.provinces.merges), never by the settings API: public routes addressed
    # to this site act on that one
    merged_into: str = ""
    # set only on what resolve_public answers for an alias: the id the request addressed.
    # Its readers keep visitor ids of that id, so a visit open at the merge goes on.
    alias_of: str = ""

    @property
    def tz(self) -> ZoneInfo:
        """The site's timezone."""
        return ZoneInfo(self.timezone)

    @property
    def verifies(self) -> bool:
        """Whether the site's pages are checked against its portal (it needs origins)."""
        return bool(self.origins) and self.verify_pages is not False

    def to_json(self) -> dict[str, Any]:
        """The settings as the API shows them."""
        data = asdict(self)
        if self.verify_pages is None:
            data["verify_pages"] = bool(self.origins)
        data["name"] = self.name or self.id
        data["origins"] = list(self.origins)
        data["page_prefixes"] = list(self.page_prefixes)
        del data["alias_of"]
        if not self.merged_into:
            del data["merged_into"]
        return data

    def listable(self, path: str) -> bool:
        """Whether the path may appear in top lists (page_prefixes; all when empty)."""
        return not self.page_prefixes or path.startswith(self.page_prefixes)


SETTING_NAMES = tuple(name for name in Site.__dataclass_fields__
                      if name not in ("id", "merged_into", "alias_of"))


def check_site_id(site_id: str) -> str:
    """The id, or NotFound: a malformed id can name no site."""
    if not SITE_ID_RE.match(site_id):
        raise NotFound("unknown site")
    return site_id


def _origin(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 200:
        raise Invalid("origins must be a list of origins like https://example.gov.vn")
    parts = urlsplit(value.strip().lower())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise Invalid(f"invalid origin: {value[:80]}")
    if parts.query or parts.fragment or parts.username:
        raise Invalid(f"invalid origin: {value[:80]}")
    return f"{parts.scheme}://{parts.netloc}"


def _prefixes(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or len(value) > MAX_PREFIXES or not all(
            isinstance(v, str) and v.startswith("/") and 1 <= len(v) <= 200 for v in value):
        raise Invalid(f"page_prefixes must be a list of at most {MAX_PREFIXES} paths "
                      "starting with /")
    return tuple(dict.fromkeys(value))


def validate(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Checked settings from `changes`; Invalid names the first bad one."""
    if not isinstance(changes, Mapping):
        raise Invalid("settings must be an object")
    clean: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in SETTING_NAMES:
            raise Invalid(f"unknown setting: {str(name)[:40]}")
        if name == "name":
            if not isinstance(value, str) or not 1 <= len(value.strip()) <= 200:
                raise Invalid("name must be 1-200 characters")
            clean[name] = value.strip()
        elif name == "timezone":
            try:
                if not isinstance(value, str) or not value or ".." in value:
                    raise ValueError
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise Invalid("timezone must be an IANA zone such as Asia/Ho_Chi_Minh") from None
            clean[name] = value
        elif name == "origins":
            if not isinstance(value, list | tuple) or len(value) > MAX_ORIGINS:
                raise Invalid(f"origins must be a list of at most {MAX_ORIGINS} origins")
            clean[name] = tuple(dict.fromkeys(_origin(v) for v in value))
        elif name == "page_prefixes":
            clean[name] = _prefixes(value)
        elif name in ("public_stats", "verify_pages"):
            if not isinstance(value, bool):
                raise Invalid(f"{name} must be true or false")
            clean[name] = value
        elif name == "locale":
            if value not in ("vi", "en"):
                raise Invalid("locale must be vi or en")
            clean[name] = value
        else:
            low, high = _INT_RANGES[name]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise Invalid(f"{name} must be an integer from {low} to {high}")
            clean[name] = value
    return clean


def put_site(store: Store, site_id: str, changes: Mapping[str, Any]) -> tuple[Site, bool]:
    """Create the site or update the settings named in `changes`; (site, created)."""
    if not SITE_ID_RE.match(site_id):
        raise Invalid("site id must match ^[a-z0-9][a-z0-9-]{0,62}$")
    clean = validate(changes)
    existing = db.load(store, site_id)
    if existing is None:
        if db.tombstone(store, site_id) is not None:
            raise Conflict(deleted_message(site_id))
        if imports_db.progress(store, site_id):
            # its keys are the import's lines so far: clearing them would lose them
            raise Conflict(f"an import of site {site_id} is unfinished: import the same "
                           "file again to finish it")
        db.clear_strays(store, site_id)  # a hit that raced a purge of the id (hit.lua)
    merged = {**(existing or {}), **clean}
    site = _build(site_id, merged)
    before = _build(site_id, existing) if existing is not None else None
    db.save(store, site_id, _stored(site, clean, existing))
    store.site_cache.pop(site_id)
    if site.verifies and before is not None and not before.verifies:
        # its paths were tracked unchecked: each is listed again once the portal confirms it
        checks_db.queue_unchecked(store, site_id, now_ms=int(time.time() * 1000))
    return site, existing is None


def build(site_id: str, data: Mapping[str, Any]) -> Site:
    """A site from stored (or checked) settings."""
    return _build(site_id, data)


def _stored(site: Site, clean: Mapping[str, Any], existing: Mapping[str, Any] | None
            ) -> dict[str, Any]:
    """What is saved: the settings, with verify_pages only once an admin has set it (so its
    default keeps following the origins)."""
    data = site.to_json()
    if "verify_pages" not in clean and "verify_pages" not in (existing or {}):
        del data["verify_pages"]
    return data


def _build(site_id: str, data: Mapping[str, Any]) -> Site:
    known = {k: v for k, v in data.items() if k in SETTING_NAMES or k == "merged_into"}
    for name in ("origins", "page_prefixes"):
        if name in known:
            known[name] = tuple(known[name])
    if known.get("name") == site_id:
        known["name"] = ""
    if isinstance(known.get("max_pages"), int):  # stored before the bound: held to it
        known["max_pages"] = min(known["max_pages"], _INT_RANGES["max_pages"][1])
    return Site(id=site_id, **known)


def get_site(store: Store, site_id: str, *, cached: bool = True) -> Site:
    """The site, or NotFound; public requests may read it from the cache, admin requests
    (`cached=False`) read Redis, and refresh the cache with what they found."""
    check_site_id(site_id)
    now = time.monotonic()
    if cached:
        # unknown ids are cached too (as None): public requests name any id they like
        hit = store.site_cache.entry(site_id, now)
        if hit is not None:
            site: Site | None = hit[1]
            if site is None:
                raise NotFound("unknown site")
            return site
    data = db.load(store, site_id)
    found = _build(site_id, data) if data is not None else None
    store.site_cache.put(site_id, found, now + CACHE_SECONDS, now=now)
    if found is None:
        raise NotFound("unknown site")
    return found


def resolve_public(store: Store, site_id: str) -> Site:
    """The site a public request addressed to `site_id` acts on: the site itself, or for an
    alias (a site merged into another) its target, allowed on the alias's origins too, so
    old embed snippets keep counting, into the target. The one place aliases are followed."""
    site = get_site(store, site_id)
    if not site.merged_into:
        return site
    target = get_site(store, site.merged_into)
    if target.merged_into:  # never made by a merge (it refuses chains); stop, do not loop
        raise NotFound("unknown site")
    if site.origins and target.origins:
        origins = tuple(dict.fromkeys((*target.origins, *site.origins)))
    else:
        origins = ()
    return replace(target, origins=origins, alias_of=site.id)


def get_many(store: Store, site_ids: list[str], *, cached: bool) -> dict[str, Site]:
    """Known sites among `site_ids`, the rest in one pipelined read: from the cache for
    public requests (`cached`), never for admin ones (their answers are current)."""
    now = time.monotonic()
    found: dict[str, Site] = {}
    missing = []
    for site_id in dict.fromkeys(site_ids):
        hit = store.site_cache.entry(site_id, now) if cached else None
        if hit is not None:
            if hit[1] is not None:
                found[site_id] = hit[1]
        elif SITE_ID_RE.match(site_id):
            missing.append(site_id)
    for site_id, data in zip(missing, db.load_many(store, missing), strict=True):
        site = _build(site_id, data) if data is not None else None
        store.site_cache.put(site_id, site, now + CACHE_SECONDS, now=now)
        if site is not None:
            found[site_id] = site
    return found


def exists(store: Store, site_id: str) -> bool:
    """Whether a site of this id exists (read from Redis, not the cache)."""
    return SITE_ID_RE.match(site_id) is not None and db.exists(store, site_id)


def list_sites(store: Store) -> list[Site]:
    """Every site, sorted by id."""
    return [_build(sid, data) for sid, data in db.load_all(store)]


def deleted_message(site_id: str) -> str:
    """Why a deleted id cannot be created again, and the two ways out."""
    return (f"site {site_id} was deleted and its data is kept: erase it for good with "
            f"`portal-widgets site delete {site_id} --purge` (DELETE "
            f"/api/v1/admin/sites/{site_id}?purge=1), or bring the site back with "
            f"`portal-widgets site restore {site_id}`")


def delete_site(store: Store, site_id: str, *, purge: bool = False,
                now: datetime | None = None) -> None:
    """Delete the site. Without purge its data is kept and the id cannot be created again
    (a tombstone); with purge every key of the site goes, and the merge progress naming it,
    also for a site deleted earlier without purge. A site that others were merged into is
    kept (409): deleting it would break their old embed snippets."""
    now_ms = ms(now or datetime.now(UTC))
    check_site_id(site_id)
    store.site_cache.pop(site_id)
    settings = db.load(store, site_id)
    if settings is None:
        # deleted before (tombstone), or by a release without tombstones (data left)
        if not purge or (db.tombstone(store, site_id) is None
                         and not db.has_data(store, site_id)):
            raise NotFound("unknown site")
        db.purge(store, site_id, None, now_ms)
        return
    site = _build(site_id, settings)
    if db.aliases(store, site_id):
        raise Conflict("other sites were merged into this site")
    if purge:
        db.purge(store, site_id, settings, now_ms)
    else:
        db.mark_deleted(store, site_id, settings, now_ms)
    if site.merged_into:
        merges_db.forget_alias(store, site_id, site.merged_into)
    store.site_cache.pop(site_id)


def restore_site(store: Store, site_id: str) -> Site:
    """Bring back a site deleted without purge, with its settings and all its data."""
    check_site_id(site_id)
    record = db.tombstone(store, site_id)
    if record is None:
        raise NotFound("no deleted site of this id")
    if db.load(store, site_id) is not None:
        raise Conflict(f"site {site_id} exists")
    site = _build(site_id, record.get("settings") or {})
    if site.merged_into and not exists(store, site.merged_into):
        site = replace(site, merged_into="")
    db.restore(store, site_id, site.to_json())
    if site.merged_into:
        merges_db.relist_alias(store, site_id, site.merged_into)
    store.site_cache.pop(site_id)
    return site
