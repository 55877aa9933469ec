"""What a site's export file holds: a registry of sections, one per kind of data.

A section is four small functions over one kind of a site's data (service.provinces.moving
writes and reads the file around them; docs/moving.md says how to add one):

- `export(store, site, now_ms)` yields the section's lines (JSON-able dicts, each with
  `"section": name`), reading in batches (SCAN, HSCAN, ZSCAN, SSCAN), so memory does not
  grow with the site's size;
- `check(line)` raises BadLine when a line is malformed; service.provinces.moving runs it over the
  whole file before anything is written;
- `apply(pipe, keys, site, line)` queues the line's writes on a pipeline. Every write is in
  the site's slot and sets an absolute value (HSET, ZADD, SADD, SET, PEXPIREAT), so a line
  applied twice changes nothing: an interrupted import replays from its last checkpoint;
- `finish(store, site, line)` (optional) writes outside the site's slot once the site
  exists (the groups it belongs to, its aliases); it too may run twice.

Left out on purpose: who is online and their open visits, reload guards, request markers,
rate-limit windows, the uniques cache, title proposals, used poll- and rating-ticket nonces
and the month's rating allowances per address (all short-lived), and merge/import progress
(the aliases section writes the merges' end markers again).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from service.store import Store
from service.store.documents import update_json
from service.store.keys import Keys

Line = dict[str, Any]
BATCH = 500  # members per line of a large key (pages, rank lists, voters)

_PERIOD_RE = re.compile(r"^[0-9A-Za-z-]{1,20}$")
_PAGE_ID_RE = re.compile(r"^[0-9a-f]{16}$")
_HLL_RE = re.compile(r"^48594c4c([0-9a-f]{2})*$")  # "HYLL", Redis's HyperLogLog magic
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
MAX_INT = 2**62
MAX_TEXT = 4096


class BadLine(ValueError):
    """A malformed line: the reason."""


@dataclass(frozen=True)
class Section:
    """One kind of a site's data in an export file."""

    name: str
    export: Callable[[Store, str, int], Iterator[Line]]
    check: Callable[[Line], None]
    apply: Callable[[Any, Keys, str, Line], None]
    finish: Callable[[Store, str, Line], None] | None = None


SECTIONS: dict[str, Section] = {}


def register(section: Section) -> Section:
    """Add a section (exported in registration order)."""
    SECTIONS[section.name] = section
    return section


# -- checks -------------------------------------------------------------------------------

def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < MAX_INT:
        raise BadLine(f"{what} must be a non-negative integer")
    return value


def _text(value: Any, what: str, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise BadLine(f"{what} must be a string of at most {limit} characters")
    return value


def _period(line: Line, name: str = "period") -> str:
    value = line.get(name)
    if not isinstance(value, str) or not _PERIOD_RE.match(value):
        raise BadLine(f"{name} must be a period id")
    return value


def _expires(line: Line) -> None:
    value = line.get("expires_at")
    if value is not None:
        _int(value, "expires_at")


def _int_map(value: Any, what: str) -> dict[str, int]:
    if not isinstance(value, dict):
        raise BadLine(f"{what} must be an object")
    for name, n in value.items():
        _text(name, f"{what} field", 200)
        _int(n, f"{what} value")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list) or len(value) > 10 * BATCH:
        raise BadLine(f"{what} must be a list of at most {10 * BATCH} items")
    return value


def _doc(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadLine(f"{what} must be an object")
    return value


def check_line(line: Any) -> Line:
    """The line, checked by its section; BadLine when it is malformed or of no section."""
    if not isinstance(line, dict):
        raise BadLine("a line must be a JSON object")
    section = SECTIONS.get(line.get("section"))  # type: ignore[arg-type]
    if section is None:
        raise BadLine(f"unknown section: {str(line.get('section'))[:40]}")
    section.check(line)
    return line


# -- reading helpers ----------------------------------------------------------------------

def _expiry(ttl_ms: int, now_ms: int) -> int | None:
    return now_ms + int(ttl_ms) if int(ttl_ms) > 0 else None


def _scan(store: Store, pattern: str) -> list[str]:
    """Keys matching a pattern of one site's keys, sorted (a site has few such keys)."""
    with store.guard("export"):
        return sorted(store.redis.scan_iter(match=pattern, count=1000))


def _expire(pipe: Any, key: str, line: Line) -> None:
    if line.get("expires_at") is not None:
        pipe.pexpireat(key, int(line["expires_at"]))


def _hashes(store: Store, pattern: str, prefix: str, name: str, field: str,
            now_ms: int) -> Iterator[Line]:
    """One line per hash key matching the pattern: its fields as integers, its expiry."""
    for key in _scan(store, pattern):
        with store.guard("export"):
            pipe = store.redis.pipeline(transaction=False)
            pipe.hgetall(key)
            pipe.pttl(key)
            fields, ttl = pipe.execute()
        if fields:
            yield {"section": name, field: key[len(prefix):],
                   "fields": {f: int(v) for f, v in sorted(fields.items())},
                   "expires_at": _expiry(ttl, now_ms)}


# -- settings, baselines, counters, history, uniques ----------------------------------------

def _export_settings(store: Store, site: str, now_ms: int) -> Iterator[Line]:
    with store.guard("export"):
        raw = store.redis.get(store.keys.settings(site))
    yield {"section": "settings", "settings": json.loads(raw) if raw else {}}


def _check_settings(line: Line) -> None:
    _doc(line.get("settings"), "settings")


def _apply_nothing(pipe: Any, keys: Keys, site: str, line: Line) -> None:
    """Settings are written last, when the site becomes visible (service.provinces.moving)."""


def _export_baselines(store: Store, site: str, now_ms: int) -> Iterator[Line]:
    with store.guard("export"):
        found = store.redis.hgetall(store.keys.imported(site))
    if found:
        yield {"section": "baselines", "fields": dict(sorted(found.items()))}


def _check_baselines(line: Line) -> None:
    for name, value in _doc(line.get("fields"), "fields").items():
        _text(name, "baseline field", 100)
        _text(value, "baseline value", 100)


def _apply_baselines(pipe: Any, keys: Keys, site: str, line: Line) -> None:
    pipe.hset(keys.imported(site), mapping=line["fields"])


def _export_counters(store: Store, site: str, now_ms: int) -> Iterator[Line]:
    k = store.keys
    with store.guard("export"):
        total = store.redis.hgetall(k.total(site))
    if total:
        yield {"section": "counters", "period": "total",
               "fields": {f: int(v) for f, v in sorted(total.items())}, "expires_at": None}
    yield from _hashes(store, k.counter(site, "*"), k.counter(site, ""), "counters", "period",
                       now_ms)


def _check_counters(line: Line) -> None:
    _period(line)
    _int_map(line.get("fields"), "fields")
    _expires(line)


def _apply_counters(pipe: Any, keys: Keys, site: str, line: Line) -> None:
    period = line["period"]
    key = keys.total(site) if period == "total" else keys.counter(site, period)
    if line["fields"]:
        pipe.hset(key, mapping=line["fields"])
        _expire(pipe, key, line)


def _export_history(store: Store, site: str, now_ms: int) -> Iterator[Line]:
    k = store.keys
    yield from _hashes(store, k.history(site, "*"), k.history(site, ""), "history", "year",
                       now_ms)


def _apply_history(pipe: Any, keys: Keys, site: str, line: Line) -> None:
    if line["fields"]:
        pipe.hset(keys.history(site, line["year"]), mapping=line["fields"])
        _expire(pipe, keys.history(site, line["year"]), line)


def _check_year(line: Line) -> None:
    _period(line, "year")
    _int_map(line.get("fields"), "fields")
    _expires(line)


def _export_uniques(store: Store, site: str, now_ms: int) -> Iterator[Line]:
    """Each HyperLogLog as its raw string (hex), so counts are exact after an import."""
    k = store.keys
    prefix = k.uniques(site, "")
    found = _scan(store, k.uniques(site, "*"))
    for start in range(0, len(found), 50):
        chunk = found[start:start + 50]
        with store.guard("export"):
            hexes = store.scripts.merge_read_hll(keys=chunk)
            pipe = store.redis.pipeline(transaction=False)
            for key in chunk:
                pipe.pttl(key)
            ttls = pipe.execute()
        for key, hex_value, ttl in zip(chunk, hexes, ttls, strict=True):
            if hex_value:
                yield {"section": "uniques", "period": key[len(prefix):], "hll": str(hex_value),
                       "expires_at": _expiry(ttl, now_ms)}


def _check_uniques(line: Line) -> None:
    _period(line)
    value = line.get("hll")
    if not isinstance(value, str) or len(value) > 40_000 or not _HLL_RE.match(value):
        raise BadLine("hll must be a HyperLogLog in hex")
    _expires(line)


def _apply_uniques(pipe: Any, keys: Keys, site: str, line: Line) -> None:
    key = keys.uniques(site, line["period"])
    pipe.set(key, bytes.fromhex(line["hll"]))
    _expire(pipe, key, line)


# -- pages and rank lists -------------------------------------------------------------------

def _export_pages(store: Store, site: str, now_ms: int) -> Iterator[Line]:
    """Pages in batches: [id, path, views, title or null, title locked, hidden]."""
    k = store.keys
    batch: list[tuple[str, int]] = []

    def line(batch: list[tuple[str, int]]) -> Line:
        ids = [pid for pid, _ in batch]
        with store.guard("export"):
            pipe = store.redis.pipeline(transaction=False)
            pipe.hmget(k.page_paths(site), ids)
            pipe.hmget(k.page_titles(site), ids)
            pipe.smismember(k.titles_locked(site), ids)
            pipe.smismember(k.pages_hidden(site), ids)
            paths, titles, locked, hidden = pipe.execute()
        return {"section": "pages", "pages": [
            [pid, path, views, title, bool(lock), bool(hide)]
            for (pid, views), path, title, lock, hide
            in zip(batch, paths, titles, locked, hidden, strict=True) if path is not None]}

    with store.guard("export"):
        for pid, views in store.redis.zscan_iter(k.page_views(site), count=BATCH):
            batch.append((pid, int(views)))
            if len(batch) >= BATCH:
                yield line(batch)
                batch = []
    if batch:
        yield line(batch)


def _check_pages(line: Line) -> None:
    for page in _list(line.get("pages"), "pages"):
        if not isinstance(page, list) or len(page) != 6:
            raise BadLine("a page must be [id, path, views, title, locked, hidden]")
        pid, path, views, title, locked, hidden = page
        if not isinstance(pid, str) or not _PAGE_ID_RE.match(pid):
            raise BadLine("a page id must be 16 hex digits")
        _text(path, "path")
        _int(views, "views")
        if title is not None:
            _text(title, "title")
        if not isinstance(locked, bool) or not isinstance(hidden, bool):
            raise BadLine("locked and hidden must be true or false")


def _apply_pages(pipe: Any, keys: Keys, site: str, line: Line) -> None:
    pages = line["pages"]
    if not pages:
        return
    pipe.zadd(keys.page_views(site), {p[0]: p[2] for p in pages})
    pipe.hset(keys.page_paths(site), mapping={p[0]: p[1] for p in pages})
    titles = {p[0]: p[3] for p in pages if p[3] is not None}
    if titles:
        pipe.hset(keys.page_titles(site), mapping=titles)
    for flag, key in ((4, keys.titles_locked(site)), (5, keys.pages_hidden(site))):
        marked = [p[0] for p in pages if p[flag]]
        if marked:
            pipe.sadd(key, *marked)


def _export_ranks(store: Store, site: str, now_ms: int) -> Iterator[Line]:
    """Every kept top list (today's ... this year's, and past months' for reports)."""
    k = store.keys
    prefix = k.rank(site, "")
    for key in _scan(store, k.rank(site, "*")):
        with store.guard("export"):
            ttl = store.redis.pttl(key)
            entries: list[list[Any]] = []
            for pid, score in store.redis.zscan_iter(key, count=BATCH):
                entries.append([pid, int(score)])
                if len(entries) >= BATCH:
                    yield {"section": "ranks", "period": key[len(prefix):], "entries": entries,
                           "expires_at": _expiry(ttl, now_ms)}
                    entries = []
        if entries:
            yield {"section": "ranks", "period": key[len(prefix):], "entries": entries,
                   "expires_at": _expiry(ttl, now_ms)}


def _check_ranks(line: Line) -> None:
    _period(line)
    _expires(line)
    for entry in _list(line.get("entries"), "entries"):
        if not isinstance(entry, list) or len(entry) != 2 or not isinstance(
                entry[0], str) or not _PAGE_ID_RE.match(entry[0]):
            raise BadLine("a rank entry must be [page id, views]")
        _int(entry[1], "views")


def _apply_ranks(pipe: Any, keys: Keys, site: str, line: Line) -> None:
    key = keys.rank(site, line["period"])
    if line["entries"]:
        pipe.zadd(key, {pid: score for pid, score in line["entries"]})
        _expire(pipe, key, line)


# -- sources and referring hosts --------------------------------------------------------------

def _export_sources(store: Store, site: str, now_ms: int) -> Iterator[Line]:
    k = store.keys
    yield from _hashes(store, k.sources(site, "*"), k.sources(site, ""), "sources", "year",
                       now_ms)


def _apply_sources(pipe: Any, keys: Keys, site: str, line: Line) -> None:
    if line["fields"]:
        pipe.hset(keys.sources(site, line["year"]), mapping=line["fields"])
        _expire(pipe, keys.sources(site, line["year"]), line)


def _export_hosts(store: Store, site: str, now_ms: int) -> Iterator[Line]:
    k = store.keys
    prefix = k.source_hosts(site, "")
    for key in _scan(store, k.source_hosts(site, "*")):
        with store.guard("export"):
            pipe = store.redis.pipeline(transaction=False)
            pipe.zrange(key, 0, -1, withscores=True)  # at most MAX_HOSTS
            pipe.pttl(key)
            hosts, ttl = pipe.execute()
        if hosts:
            yield {"section": "hosts", "month": key[len(prefix):],
                   "hosts": [[h, int(n)] for h, n in hosts], "expires_at": _expiry(ttl, now_ms)}


def _check_hosts(line: Line) -> None:
    _period(line, "month")
    _expires(line)
    for entry in _list(line.get("hosts"), "hosts"):
        if not isinstance(entry, list) or len(entry) != 2:
            raise BadLine("a host must be [host, visits]")
        _text(entry[0], "host", 255)
        _int(entry[1], "visits")


def _apply_hosts(pipe: Any, keys: Keys, site: str, line: Line) -> None:
    key = keys.source_hosts(site, line["month"])
    if line["hosts"]:
        pipe.zadd(key, {h: n for h, n in line["hosts"]})
        _expire(pipe, key, line)


# -- hotlines and polls -----------------------------------------------------------------------

def _export_hotlines(store: Store, site: str, now_ms: int) -> Iterator[Line]:
    k = store.keys
    with store.guard("export"):
        pipe = store.redis.pipeline(transaction=False)
        pipe.get(k.hotlines(site))
        pipe.hgetall(k.hotline_clicks(site))
        box, clicks = pipe.execute()
    if box or clicks:
        yield {"section": "hotlines", "box": json.loads(box) if box else None,
               "clicks": {h: int(n) for h, n in sorted(clicks.items())}}


def _check_hotlines(line: Line) -> None:
    if line.get("box") is not None:
        _doc(line["box"], "box")
    _int_map(line.get("clicks"), "clicks")


def _apply_hotlines(pipe: Any, keys: Keys, site: str, line: Line) -> None:
    if line["box"] is not None:
        pipe.set(keys.hotlines(site), json.dumps(line["box"], ensure_ascii=False))
    if line["clicks"]:
        pipe.hset(keys.hotline_clicks(site), mapping=line["clicks"])


def _export_polls(store: Store, site: str, now_ms: int) -> Iterator[Line]:
    """Each poll (definition, creation time, tally), then its voters and addresses in
    batches (keyed hashes: a browser that voted cannot vote again), then the current poll."""
    k = store.keys
    with store.guard("export"):
        polls = store.redis.zrange(k.polls(site), 0, -1, withscores=True)
        current = store.redis.get(k.current_poll(site))
    for poll, created in polls:
        with store.guard("export"):
            pipe = store.redis.pipeline(transaction=False)
            pipe.get(k.poll(site, poll))
            pipe.hgetall(k.poll_tally(site, poll))
            definition, tally = pipe.execute()
        if not definition:
            continue
        yield {"section": "polls", "part": "poll", "id": poll, "created": int(created),
               "definition": json.loads(definition),
               "tally": {o: int(n) for o, n in sorted(tally.items())}}
        with store.guard("export"):
            voters: list[str] = []
            for voter in store.redis.sscan_iter(k.poll_voters(site, poll), count=BATCH):
                voters.append(voter)
                if len(voters) >= BATCH:
                    yield {"section": "polls", "part": "voters", "id": poll, "voters": voters}
                    voters = []
            if voters:
                yield {"section": "polls", "part": "voters", "id": poll, "voters": voters}
            ips: dict[str, int] = {}
            for ip, n in store.redis.hscan_iter(k.poll_ips(site, poll), count=BATCH):
                ips[ip] = int(n)
                if len(ips) >= BATCH:
                    yield {"section": "polls", "part": "ips", "id": poll, "ips": ips}
                    ips = {}
            if ips:
                yield {"section": "polls", "part": "ips", "id": poll, "ips": ips}
    if current:
        yield {"section": "polls", "part": "current", "id": current}


def _check_polls(line: Line) -> None:
    poll = line.get("id")
    if not isinstance(poll, str) or not _ID_RE.match(poll):
        raise BadLine("a poll id must be a slug")
    part = line.get("part")
    if part == "poll":
        _int(line.get("created"), "created")
        _doc(line.get("definition"), "definition")
        _int_map(line.get("tally"), "tally")
    elif part == "voters":
        for voter in _list(line.get("voters"), "voters"):
            _text(voter, "voter", 200)
    elif part == "ips":
        if len(_int_map(line.get("ips"), "ips")) > 10 * BATCH:
            raise BadLine("too many ips in one line")
    elif part != "current":
        raise BadLine("part must be poll, voters, ips or current")


def _apply_polls(pipe: Any, keys: Keys, site: str, line: Line) -> None:
    poll, part = line["id"], line["part"]
    if part == "poll":
        pipe.set(keys.poll(site, poll), json.dumps(line["definition"], ensure_ascii=False))
        pipe.zadd(keys.polls(site), {poll: line["created"]})
        if line["tally"]:
            pipe.hset(keys.poll_tally(site, poll), mapping=line["tally"])
    elif part == "voters" and line["voters"]:
        pipe.sadd(keys.poll_voters(site, poll), *line["voters"])
    elif part == "ips" and line["ips"]:
        pipe.hset(keys.poll_ips(site, poll), mapping=line["ips"])
    elif part == "current":
        pipe.set(keys.current_poll(site), poll)


# -- groups and aliases (outside the site's slot: written by finish) --------------------------

def _export_groups(store: Store, site: str, now_ms: int) -> Iterator[Line]:
    k = store.keys
    with store.guard("export"):
        ids = sorted(store.redis.smembers(k.groups()))
    member = []
    for group in ids:
        with store.guard("export"):
            raw = store.redis.get(k.group(group))
        if raw and site in (json.loads(raw).get("sites") or []):
            member.append(group)
    if member:
        yield {"section": "groups", "groups": member}


def _check_groups(line: Line) -> None:
    for group in _list(line.get("groups"), "groups"):
        if not isinstance(group, str) or not _ID_RE.match(group):
            raise BadLine("a group id must be an id")


def _finish_groups(store: Store, site: str, line: Line) -> None:
    """Join the groups of these ids that exist here (a restore creates them later, whole)."""
    for group in line["groups"]:
        key = store.keys.group(group)
        with store.guard("import"):
            if not store.redis.exists(key):
                continue

        def join(doc: Any) -> Any:
            if doc is None or site in doc.get("sites", []):
                return doc
            return {**doc, "sites": [*doc.get("sites", []), site]}

        update_json(store, key, join, "import")


def _export_aliases(store: Store, site: str, now_ms: int) -> Iterator[Line]:
    k = store.keys
    with store.guard("export"):
        ids = sorted(store.redis.smembers(k.aliases(site)))
    found = []
    for alias in ids:
        with store.guard("export"):
            raw = store.redis.get(k.settings(alias))
        settings = json.loads(raw) if raw else {}
        found.append({"id": alias, "settings": settings})
    if found:
        yield {"section": "aliases", "aliases": found}


def _check_aliases(line: Line) -> None:
    for alias in _list(line.get("aliases"), "aliases"):
        if not isinstance(alias, dict) or not isinstance(alias.get("id"), str) or not (
                _ID_RE.match(alias["id"])):
            raise BadLine("an alias must be {id, settings}")
        _doc(alias.get("settings"), "alias settings")


def _finish_aliases(store: Store, site: str, line: Line) -> None:
    """Each alias id keeps counting into the site: created here as an alias when it does not
    exist (its settings as exported), listed with its merge marked done. An id that exists
    here as another site is left alone."""
    k = store.keys
    for alias in line["aliases"]:
        alias_id = alias["id"]
        settings = {**alias["settings"], "id": alias_id, "merged_into": site}
        with store.guard("import"):
            created = store.redis.set(k.settings(alias_id),
                                      json.dumps(settings, ensure_ascii=False), nx=True)
            if created:
                store.redis.sadd(k.sites(), alias_id)
            raw = store.redis.get(k.settings(alias_id))
        if not raw or json.loads(raw).get("merged_into") != site:
            continue
        with store.guard("import"):
            pipe = store.redis.pipeline(transaction=False)
            pipe.sadd(k.aliases(site), alias_id)
            pipe.hsetnx(k.merge_progress(site, alias_id), "done", 0)
            pipe.execute()


# -- verification of pages (what the portal confirmed, rejected, or is still to check) -----

# kind of each key: a hash of page id -> text, or a sorted set of page id -> integer score
_CHECK_KEYS: dict[str, tuple[str, Callable[[Keys, str], str]]] = {
    "states": ("hash", Keys.page_states),
    "unlisted": ("zset", Keys.pages_unlisted),
    "candidates": ("hash", Keys.page_candidates),
    "candidates-rejected": ("zset", Keys.candidates_rejected),
    "queue": ("zset", Keys.check_queue),
    "tries": ("hash", Keys.check_tries),
}


def _export_checks(store: Store, site: str, now_ms: int) -> Iterator[Line]:
    """Each page's state, the unlisted and waiting pages, and the check queue with its
    backoff: an imported site goes on verifying where the exported one was."""
    for part, (kind, key_of) in _CHECK_KEYS.items():
        key = key_of(store.keys, site)
        entries: list[list[Any]] = []
        with store.guard("export"):
            scan = (store.redis.hscan_iter(key, count=BATCH) if kind == "hash"
                    else store.redis.zscan_iter(key, count=BATCH))
            for member, value in scan:
                entries.append([member, value if kind == "hash" else int(value)])
                if len(entries) >= BATCH:
                    yield {"section": "checks", "part": part, "entries": entries}
                    entries = []
        if entries:
            yield {"section": "checks", "part": part, "entries": entries}


def _check_checks(line: Line) -> None:
    part = line.get("part")
    if part not in _CHECK_KEYS:
        raise BadLine("part must be one of " + ", ".join(_CHECK_KEYS))
    kind = _CHECK_KEYS[str(part)][0]
    for entry in _list(line.get("entries"), "entries"):
        if not isinstance(entry, list) or len(entry) != 2 or not isinstance(
                entry[0], str) or not _PAGE_ID_RE.match(entry[0]):
            raise BadLine("a check entry must be [page id, value]")
        if kind == "hash":
            _text(entry[1], "value", 1024)
        else:
            _int(entry[1], "score")


def _apply_checks(pipe: Any, keys: Keys, site: str, line: Line) -> None:
    kind, key_of = _CHECK_KEYS[line["part"]]
    entries = line["entries"]
    if not entries:
        return
    if kind == "hash":
        pipe.hset(key_of(keys, site), mapping=dict(entries))
    else:
        pipe.zadd(key_of(keys, site), dict(entries))


# -- ratings of information -------------------------------------------------------------------
# Counts per bucket (`rt:<month|year|all>`), the rated pages of each bucket, and the raters'
# guards (keyed hashes of site, page and browser token, each with its forget-at instant). The
# per-address allowances (`rt-ip:<month>`) and used rating-ticket nonces are short-lived.

_RATING_FIELD_RE = re.compile(r"^(?:[0-9a-f]{16}:)?(?:u|n|r:[a-z-]{1,20})$")
_RATER_RE = re.compile(r"^[0-9a-f]{32}$")


def _export_ratings(store: Store, site: str, now_ms: int) -> Iterator[Line]:
    k = store.keys
    for kind, prefix in (("counts", k.ratings(site, "")), ("pages", k.rated_pages(site, ""))):
        for key in _scan(store, prefix + "*"):
            with store.guard("export"):
                expires = _expiry(store.redis.pttl(key), now_ms)
                if kind == "counts":
                    items = ((f, int(v)) for f, v in store.redis.hscan_iter(key, count=BATCH))
                else:
                    items = ((m, int(v)) for m, v in store.redis.zscan_iter(key, count=BATCH))
                batch: list[list[Any]] = []
                for name, value in items:
                    batch.append([name, value])
                    if len(batch) >= BATCH:
                        yield {"section": "ratings", "part": kind, "bucket": key[len(prefix):],
                               "items": batch, "expires_at": expires}
                        batch = []
            if batch:
                yield {"section": "ratings", "part": kind, "bucket": key[len(prefix):],
                       "items": batch, "expires_at": expires}
    with store.guard("export"):
        batch = []
        for rater, until in store.redis.zscan_iter(k.raters(site), count=BATCH):
            if int(until) > now_ms:
                batch.append([rater, int(until)])
            if len(batch) >= BATCH:
                yield {"section": "ratings", "part": "raters", "items": batch}
                batch = []
    if batch:
        yield {"section": "ratings", "part": "raters", "items": batch}


def _check_ratings(line: Line) -> None:
    part = line.get("part")
    if part not in ("counts", "pages", "raters"):
        raise BadLine("part must be counts, pages or raters")
    if part != "raters":
        _period(line, "bucket")
        _expires(line)
    pattern = {"counts": _RATING_FIELD_RE, "pages": _PAGE_ID_RE, "raters": _RATER_RE}[part]
    for entry in _list(line.get("items"), "items"):
        if not isinstance(entry, list) or len(entry) != 2 or not isinstance(entry[0], str) \
                or not pattern.match(entry[0]):
            raise BadLine(f"a ratings {part} item must be [id, integer]")
        _int(entry[1], "count")


def _apply_ratings(pipe: Any, keys: Keys, site: str, line: Line) -> None:
    items = {name: value for name, value in line["items"]}
    if not items:
        return
    if line["part"] == "raters":
        pipe.zadd(keys.raters(site), items)
        return
    if line["part"] == "counts":
        key = keys.ratings(site, line["bucket"])
        pipe.hset(key, mapping=items)
    else:
        key = keys.rated_pages(site, line["bucket"])
        pipe.zadd(key, items)
    _expire(pipe, key, line)


for _section in (
    Section("settings", _export_settings, _check_settings, _apply_nothing),
    Section("baselines", _export_baselines, _check_baselines, _apply_baselines),
    Section("counters", _export_counters, _check_counters, _apply_counters),
    Section("history", _export_history, _check_year, _apply_history),
    Section("uniques", _export_uniques, _check_uniques, _apply_uniques),
    Section("pages", _export_pages, _check_pages, _apply_pages),
    Section("ranks", _export_ranks, _check_ranks, _apply_ranks),
    Section("checks", _export_checks, _check_checks, _apply_checks),
    Section("sources", _export_sources, _check_year, _apply_sources),
    Section("hosts", _export_hosts, _check_hosts, _apply_hosts),
    Section("hotlines", _export_hotlines, _check_hotlines, _apply_hotlines),
    Section("polls", _export_polls, _check_polls, _apply_polls),
    Section("ratings", _export_ratings, _check_ratings, _apply_ratings),
    Section("groups", _export_groups, _check_groups, _apply_nothing, _finish_groups),
    Section("aliases", _export_aliases, _check_aliases, _apply_nothing, _finish_aliases),
):
    register(_section)


def export_site(store: Store, site: str, now_ms: int) -> Iterator[Line]:
    """Every section's lines, in registration order."""
    for section in SECTIONS.values():
        yield from section.export(store, site, now_ms)
