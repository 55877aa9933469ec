"""Hotlines: an ordered list per site, numbers normalised with phonenumbers, weekly hours."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import phonenumbers
from phonenumbers import PhoneNumberType

from service.errors import Conflict, Invalid, NotFound
from service.hotlines import hours
from service.ids import is_slug, slug
from service.sites import Site
from service.store import Store
from service.store import hotlines as db
from service.text import text

DEFAULT_TITLE = "Đường dây nóng"
MAX_HOTLINES = 50
_SHORT_RE = re.compile(r"^1\d{2,4}$")  # 113, 114, 115, 1022, 18001 ...
_SEPARATORS = re.compile(r"[\s.\-()/]")
# Toll-free and shared-cost numbers (1800 xxxx, 1900 xxxx) only work dialled nationally.
_NATIONAL_ONLY = (PhoneNumberType.TOLL_FREE, PhoneNumberType.PREMIUM_RATE,
                  PhoneNumberType.SHARED_COST, PhoneNumberType.UAN)
FIELDS = ("id", "label", "number", "group", "note", "hours")


def tel_of(number: str, region: str = "VN") -> str:
    """The dialable form: E.164, or the digits of a short code or national-only number."""
    compact = _SEPARATORS.sub("", number)
    if _SHORT_RE.match(compact):
        return compact
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        raise Invalid(f"number is not a phone number: {number[:40]}") from None
    if not phonenumbers.is_valid_number(parsed):
        raise Invalid(f"number is not a valid phone number: {number[:40]}")
    if phonenumbers.number_type(parsed) in _NATIONAL_ONLY:
        return phonenumbers.national_significant_number(parsed)
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def validate(item: Any, *, partial: bool = False) -> dict[str, Any]:
    """A checked hotline (all fields, or only those given when partial)."""
    if not isinstance(item, dict):
        raise Invalid("a hotline must be an object")
    unknown = set(item) - set(FIELDS) - {"tel", "open_now", "clicks"}
    if unknown:
        raise Invalid(f"unknown field: {sorted(unknown)[0][:30]}")
    out: dict[str, Any] = {}
    if "id" in item or not partial:
        raw_id = item.get("id")
        if raw_id is not None and not is_slug(raw_id):
            raise Invalid("id must be a slug: a-z, 0-9 and -, at most 40 characters")
        out["id"] = raw_id
    if "label" in item or not partial:
        out["label"] = text(item.get("label"), "label", max_len=100, required=True)
    if "number" in item or not partial:
        number = text(item.get("number"), "number", max_len=40, required=True)
        assert number is not None
        out["number"] = number
        out["tel"] = tel_of(number)
    for name, limit in (("group", 100), ("note", 300)):
        if name in item or not partial:
            out[name] = text(item.get(name), name, max_len=limit)
    if "hours" in item or not partial:
        out["hours"] = hours.validate(item.get("hours"))
    return out


def _doc(raw: Any) -> dict[str, Any]:
    return raw if isinstance(raw, dict) else {"title": DEFAULT_TITLE, "hotlines": []}


def _with_ids(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    for item in items:
        if item["id"] is None:
            base = slug(item["label"], "hotline")
            candidate, n = base, 2
            while candidate in seen:
                candidate = f"{base[:36]}-{n}"
                n += 1
            item["id"] = candidate
        elif item["id"] in seen:
            raise Conflict(f"duplicate hotline id: {item['id']}")
        seen.add(item["id"])
    return items


def get(store: Store, site: Site) -> dict[str, Any]:
    """The stored box: {"title", "hotlines": [...]} (with tel)."""
    return _doc(db.load(store, site.id))


def replace(store: Store, site: Site, body: Any) -> dict[str, Any]:
    """Replace the whole ordered list (and the title when given)."""
    if not isinstance(body, dict) or not isinstance(body.get("hotlines"), list):
        raise Invalid("body must be {\"title\": ..., \"hotlines\": [...]}")
    if len(body["hotlines"]) > MAX_HOTLINES:
        raise Invalid(f"at most {MAX_HOTLINES} hotlines")
    title = text(body.get("title"), "title", max_len=100) if "title" in body else None
    items = _with_ids([validate(item) for item in body["hotlines"]])

    def change(old: Any) -> dict[str, Any]:
        return {"title": title or _doc(old)["title"], "hotlines": items}

    new: dict[str, Any] = db.update(store, site.id, change)
    return new


def add(store: Store, site: Site, body: Any) -> dict[str, Any]:
    """Append one hotline; 409 when its id exists."""
    item = validate(body)

    def change(old: Any) -> dict[str, Any]:
        doc = _doc(old)
        if len(doc["hotlines"]) >= MAX_HOTLINES:
            raise Invalid(f"at most {MAX_HOTLINES} hotlines")
        # stored ids are unique; this names the new one or refuses a taken one (409)
        doc["hotlines"] = _with_ids([*doc["hotlines"], dict(item)])
        return doc

    doc = db.update(store, site.id, change)
    added: dict[str, Any] = doc["hotlines"][-1]
    return added


def patch(store: Store, site: Site, hotline_id: str, body: Any) -> dict[str, Any]:
    """Change the named fields of one hotline; the others keep their value."""
    changes = validate(body, partial=True)
    if changes.get("id") is None:
        changes.pop("id", None)
    found: dict[str, Any] = {}

    def change(old: Any) -> dict[str, Any]:
        doc = _doc(old)
        ids = [h["id"] for h in doc["hotlines"]]
        if hotline_id not in ids:
            raise NotFound("unknown hotline")
        if "id" in changes and changes["id"] != hotline_id and changes["id"] in ids:
            raise Conflict(f"hotline {changes['id']} exists")
        items = []
        for h in doc["hotlines"]:
            if h["id"] == hotline_id:
                h = {**h, **changes}
                found.clear()
                found.update(h)
            items.append(h)
        doc["hotlines"] = items
        return doc

    db.update(store, site.id, change)
    return found


def remove(store: Store, site: Site, hotline_id: str) -> None:
    """Delete one hotline."""

    def change(old: Any) -> dict[str, Any]:
        doc = _doc(old)
        kept = [h for h in doc["hotlines"] if h["id"] != hotline_id]
        if len(kept) == len(doc["hotlines"]):
            raise NotFound("unknown hotline")
        doc["hotlines"] = kept
        return doc

    db.update(store, site.id, change)


def public(store: Store, site: Site, now: datetime) -> dict[str, Any]:
    """The public box: every hotline with tel and open_now, and the site's name (what
    search engines are told the numbers belong to)."""
    doc = get(store, site)
    return {
        "title": doc["title"],
        "site_name": site.name or site.id,
        "hotlines": [
            {**{f: h.get(f) for f in FIELDS}, "tel": h["tel"],
             "open_now": hours.open_now(h.get("hours"), site.tz, now)}
            for h in doc["hotlines"]
        ],
    }


def admin_view(store: Store, site: Site) -> dict[str, Any]:
    """The admin's box: stored fields plus tel and click counts."""
    doc = get(store, site)
    clicks = db.clicks(store, site.id)
    return {
        "title": doc["title"],
        "hotlines": [{**{f: h.get(f) for f in FIELDS}, "tel": h["tel"],
                      "clicks": clicks.get(h["id"], 0)} for h in doc["hotlines"]],
    }


def click(store: Store, site: Site, hotline_id: str) -> None:
    """Count a tap on a hotline number; 404 for an unknown id."""
    doc = get(store, site)
    if hotline_id not in {h["id"] for h in doc["hotlines"]}:
        raise NotFound("unknown hotline")
    db.add_click(store, site.id, hotline_id)
