"""Public reads (stats, page views, top pages, the hotline box, group stats): a per-process
cache of at most a second per site and question, and a per-address allowance checked in
process memory first."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from flask import current_app, request

from service import limits as limiter
from service.allowances import READS
from service.cache import Cache
from service.reports import gate as report_gate

CACHE_SECONDS = 1.0
# Per process: the answers (up to 100 paths each, keys included) and the finished responses
# web.kept keeps, each within its budget whatever URLs clients invent.
ANSWER_BYTES = 16 * 1024 * 1024
RESPONSE_BYTES = 16 * 1024 * 1024
# WSGI environ keys: when the answer's data stops being fresh, and the site (or group) it is
# about (an alias's requests are about the target); read by service.web.kept's mark
FRESH_UNTIL = "pw.fresh_until"
ABOUT = "pw.about"
# the outcome of this request's read allowance check (None, or seconds to wait): counted once
READ_CHECKED = "pw.read_checked"


@dataclass(frozen=True)
class Mark:
    """What Flask matched for a marked view's fresh answer (service.web.kept.kept)."""

    route: str  # the route template (metrics and access line)
    site: object  # the `site_id` view argument (None for a group)
    ids: frozenset[str]  # the ids in the path and the one the data is about (forget drops)
    origins: tuple[str, ...]  # the site's allowed origins (CORS); () for any


@dataclass(frozen=True)
class Kept:
    """A kept answer (service.web.kept): Flask's status, headers (less CORS) and
    body, with its mark."""

    status: str
    headers: list[tuple[str, str]]
    body: bytes
    mark: Mark


class ReadCache:
    """Answers by key for CACHE_SECONDS; Redis is asked at most once a second per key.

    Also keeps the finished responses of the reads that service.web.kept serves, by
    path (values: Kept). Both are service.cache.Cache: bounded by bytes, readers
    take no lock.
    """

    def __init__(self, seconds: float = CACHE_SECONDS) -> None:
        self.seconds = seconds
        self.answers: Cache[Hashable, Any] = Cache("answers", ANSWER_BYTES)
        self.responses: Cache[str, Kept] = Cache("responses", RESPONSE_BYTES)

    def forget(self, site_id: str) -> None:
        """Drop the answers about one site or group (keys are (kind, id, ...); a kept
        response names the ids in its path and the site it is about, for an alias's path)."""
        self.answers.drop(lambda key, _value: isinstance(key, tuple) and len(key) > 1
                          and key[1] == site_id)
        self.responses.drop(lambda _key, kept: site_id in kept.mark.ids)

    def get(self, key: Hashable, compute: Callable[[], Any]) -> tuple[float, Any]:
        """(until, answer): the cached answer, or `compute()` stored anew, and the
        monotonic time it stops being fresh."""
        now = time.monotonic()
        found = self.answers.entry(key, now)
        if found is not None:
            return found
        value = compute()
        self.answers.put(key, value, now + self.seconds, now=now)
        return now + self.seconds, value

    def keep_response(self, path: str, until: float, kept: Kept) -> None:
        """Keep a finished response until its data stops being fresh."""
        size = (len(path) + len(kept.body) + len(kept.status) + 512
                + sum(len(n) + len(v) + 64 for n, v in kept.headers)
                + sum(len(i) + 64 for i in kept.mark.ids)
                + sum(len(o) + 64 for o in kept.mark.origins))
        self.responses.put(path, kept, until, size=size)

    def response(self, key: str) -> Kept | None:
        """A kept response while its data is fresh, else None."""
        return self.responses.get(key)


def read_cache() -> ReadCache:
    """This app's read cache (one per process)."""
    cache: ReadCache | None = current_app.extensions.get("pw_reads")
    if cache is None:
        cache = current_app.extensions.setdefault("pw_reads", ReadCache())
    return cache


def kept_reports() -> Cache[Hashable, Any]:
    """This app's kept reports of ended periods (one per process)."""
    cache: Cache[Hashable, Any] = current_app.extensions.setdefault("pw_reports",
                                                      report_gate.kept_reports())
    return cache


def forget(site_id: str) -> None:
    """Drop this process's cached answers and kept reports about a site (after an admin
    changed it)."""
    read_cache().forget(site_id)
    report_gate.forget(kept_reports(), site_id)


def allowance(limits: limiter.Limits, ip: str) -> int | None:
    """Count one read of this address; the seconds to wait when it is over its allowance,
    else None. The one check of Flask's reads (`allow`, through limiter.spend) and the kept
    ones (web.kept), outside a request."""
    return limits.wait(READS, ip)


def allow() -> None:
    """Count this request in its address's read allowance (once), or refuse it: called
    before anything else a read does, so that unknown ids are limited too."""
    environ = request.environ
    if READ_CHECKED not in environ:  # the kept path may have counted it already
        environ[READ_CHECKED] = allowance(limiter.limits(), request.remote_addr or "")
    wait = environ[READ_CHECKED]
    if wait is not None:
        raise limiter.refusal(wait)


def cached(key: tuple[str, str, *tuple[Any, ...]], compute: Callable[[], Any]) -> Any:
    """A public read: refused past the address's allowance, else cached or computed."""
    allow()
    until, value = read_cache().get(key, compute)
    request.environ[FRESH_UNTIL] = until  # service.web.kept keeps the response
    request.environ[ABOUT] = key[1]
    return value
