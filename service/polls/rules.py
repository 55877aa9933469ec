"""Polls: definitions, their status at `now`, what a reader sees, the admin's changes."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from service.counting.periods import local_iso, ms
from service.errors import Conflict, Invalid, NotFound
from service.ids import is_slug, slug
from service.sites import Site
from service.store import Store
from service.store import polls as db

RESULTS = ("always", "after_vote", "after_close")
MAX_OPTIONS = 20
EDITABLE = ("question", "options", "multiple", "max_choices", "opens_at", "closes_at",
            "results", "status")

def _instant(value: Any, name: str, tz: ZoneInfo) -> str | None:
    """An ISO 8601 time with any offset, written back in the site's offset."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid(f"{name} must be an ISO 8601 time with offset")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(f"{name} must be an ISO 8601 time with offset") from None
    if parsed.tzinfo is None:
        raise Invalid(f"{name} needs a timezone offset, e.g. +07:00")
    return local_iso(parsed, tz)


def _options(value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list) or not 2 <= len(value) <= MAX_OPTIONS:
        raise Invalid(f"options must be a list of 2 to {MAX_OPTIONS} labels")
    out: list[dict[str, str]] = []
    for i, item in enumerate(value):
        if isinstance(item, str):
            item = {"label": item}
        if not isinstance(item, dict) or not isinstance(item.get("label"), str):
            raise Invalid("each option is a label or {\"id\", \"label\"}")
        label = " ".join(item["label"].split())
        if not 1 <= len(label) <= 200:
            raise Invalid("option labels must be 1-200 characters")
        option_id = item.get("id") or f"o{i + 1}"
        if not is_slug(option_id):
            raise Invalid("option ids must be slugs (a-z, 0-9, -)")
        out.append({"id": option_id, "label": label})
    if len({o["id"] for o in out}) != len(out):
        raise Invalid("option ids must be unique")
    return out


def _check(definition: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    """Fill derived fields and check the whole definition."""
    question = definition.get("question")
    if not isinstance(question, str) or not 1 <= len(" ".join(question.split())) <= 300:
        raise Invalid("question must be 1-300 characters")
    definition["question"] = " ".join(question.split())
    if not isinstance(definition.get("multiple"), bool):
        raise Invalid("multiple must be true or false")
    n = len(definition["options"])
    max_choices = definition.get("max_choices")
    if not definition["multiple"]:
        max_choices = 1
    elif max_choices is None:
        max_choices = n
    if isinstance(max_choices, bool) or not isinstance(max_choices, int) \
            or not 1 <= max_choices <= n:
        raise Invalid(f"max_choices must be from 1 to {n}")
    definition["max_choices"] = max_choices
    if definition.get("results") not in RESULTS:
        raise Invalid("results must be always, after_vote or after_close")
    for name in ("opens_at", "closes_at"):
        definition[name] = _instant(definition.get(name), name, tz)
        at = definition[name]
        definition[name.replace("_at", "_ms")] = ms(datetime.fromisoformat(at)) if at else None
    if definition["opens_ms"] and definition["closes_ms"] \
            and definition["opens_ms"] >= definition["closes_ms"]:
        raise Invalid("closes_at must be after opens_at")
    return definition


def create(store: Store, site: Site, body: Any, *, now: datetime) -> dict[str, Any]:
    """Create a poll from the admin's body."""
    if not isinstance(body, dict):
        raise Invalid("body must be an object")
    unknown = set(body) - {"id", *EDITABLE} - {"status"}
    if unknown:
        raise Invalid(f"unknown field: {sorted(unknown)[0][:30]}")
    poll_id = body.get("id")
    if poll_id is None:
        poll_id = f"{slug(str(body.get('question', 'poll')), 'poll')[:30]}-{secrets.token_hex(3)}"
    if not is_slug(poll_id) or poll_id == "current":
        raise Invalid("id must be a slug: a-z, 0-9 and -, at most 40 characters")
    definition = _check({
        "id": poll_id, "question": body.get("question"), "options": _options(body.get("options")),
        "multiple": body.get("multiple", False), "max_choices": body.get("max_choices"),
        "opens_at": body.get("opens_at"), "closes_at": body.get("closes_at"),
        "results": body.get("results", "always"),
        "created": local_iso(now, site.tz),
    }, site.tz)
    if not db.create(store, site.id, poll_id, definition, ms(now)):
        raise Conflict(f"poll {poll_id} exists")
    db.set_current_if_none(store, site.id, poll_id)  # a site's first poll is its current one
    return definition


def resolve(store: Store, site: Site, poll_id: str) -> str:
    """The id, with `current` followed; NotFound when there is no current poll."""
    if poll_id == "current":
        found = db.current(store, site.id)
        if found is None:
            raise NotFound("no current poll")
        return found
    if not is_slug(poll_id):
        raise NotFound("unknown poll")
    return poll_id


def load(store: Store, site: Site, poll_id: str) -> tuple[dict[str, Any], dict[str, int]]:
    """(definition, tally); NotFound when missing."""
    definition, tally = db.load(store, site.id, resolve(store, site, poll_id))
    if definition is None:
        raise NotFound("unknown poll")
    return definition, tally


def status(definition: dict[str, Any], now: datetime) -> str:
    """scheduled, open or closed at `now`."""
    at = ms(now)
    if definition.get("opens_ms") and at < definition["opens_ms"]:
        return "scheduled"
    if definition.get("closes_ms") and at >= definition["closes_ms"]:
        return "closed"
    return "open"


def view(definition: dict[str, Any], tally: dict[str, int], *, now: datetime,
         voted: bool = False, admin: bool = False, ticket: str | None = None) -> dict[str, Any]:
    """The poll object; votes are null while results are hidden from this reader."""
    state = status(definition, now)
    mode = definition["results"]
    visible = admin or mode == "always" or state == "closed" or (mode == "after_vote" and voted)
    out: dict[str, Any] = {
        "id": definition["id"],
        "question": definition["question"],
        "options": [{"id": o["id"], "label": o["label"],
                     "votes": tally.get(o["id"], 0) if visible else None}
                    for o in definition["options"]],
        "multiple": definition["multiple"],
        "max_choices": definition["max_choices"],
        "status": state,
        "results_visible": visible,
        "total_votes": tally.get("_total", 0) if visible else None,
        "opens_at": definition["opens_at"],
        "closes_at": definition["closes_at"],
        "results": mode,
    }
    if ticket is not None:
        out["ticket"] = ticket
    if admin:
        out["created"] = definition.get("created")
    return out


def list_polls(store: Store, site: Site, *, now: datetime) -> list[dict[str, Any]]:
    """Every poll of the site with results (admin), newest first."""
    out = []
    for poll_id in db.ids(store, site.id):
        definition, tally = db.load(store, site.id, poll_id)
        if definition is not None:
            out.append(view(definition, tally, now=now, admin=True))
    return out


def update(store: Store, site: Site, poll_id: str, body: Any, *, now: datetime) -> None:
    """PATCH: edit fields; `status` open/closed; options only while there are no votes."""
    if not isinstance(body, dict) or not body:
        raise Invalid("body must be a non-empty object")
    unknown = set(body) - set(EDITABLE)
    if unknown:
        raise Invalid(f"unknown field: {sorted(unknown)[0][:30]}")
    poll = resolve(store, site, poll_id)
    _, tally = load(store, site, poll)
    new_options = _options(body["options"]) if "options" in body else None

    def change(old: Any) -> dict[str, Any]:
        if old is None:
            raise NotFound("unknown poll")
        definition = dict(old)
        if new_options is not None:
            if tally.get("_total", 0) > 0 and new_options != definition["options"]:
                raise Conflict("options cannot change once votes exist; reset the poll first")
            definition["options"] = new_options
        for name in ("question", "multiple", "max_choices", "opens_at", "closes_at", "results"):
            if name in body:
                definition[name] = body[name]
        if "multiple" in body and "max_choices" not in body:
            definition["max_choices"] = None
        wanted = body.get("status")
        if wanted == "closed":
            definition["closes_at"] = local_iso(now, site.tz)
        elif wanted == "open":
            if definition.get("opens_ms") and definition["opens_ms"] > ms(now):
                definition["opens_at"] = None
            if definition.get("closes_ms") and definition["closes_ms"] <= ms(now):
                definition["closes_at"] = None
        elif wanted is not None:
            raise Invalid("status must be open or closed")
        return _check(definition, site.tz)

    db.update(store, site.id, poll, change)


def delete(store: Store, site: Site, poll_id: str) -> None:
    """Delete a poll and its votes; `current` no longer points at it."""
    poll = resolve(store, site, poll_id)
    load(store, site, poll)
    db.delete(store, site.id, poll)
    if db.current(store, site.id) == poll:
        db.set_current(store, site.id, None)


def reset(store: Store, site: Site, poll_id: str) -> None:
    """Zero the votes."""
    poll = resolve(store, site, poll_id)
    load(store, site, poll)
    db.reset(store, site.id, poll)


def set_current(store: Store, site: Site, body: Any) -> str:
    """Make `current` mean the named poll."""
    if not isinstance(body, dict) or not isinstance(body.get("poll"), str):
        raise Invalid("body must be {\"poll\": \"<id>\"}")
    poll = resolve(store, site, body["poll"])
    load(store, site, poll)
    db.set_current(store, site.id, poll)
    return poll
