"""Public reads (stats, page views, top pages, the hotline box, group stats): a per-process
cache of at most a second per site and question, and a per-address allowance checked in
process memory first."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any

from flask import current_app, request

from service import limiter, report_gate
from service.allowances import READS
from service.cache import Cache
from service.clock import Clock

CACHE_SECONDS = 1.0
# Per process: the answers (up to 100 paths each, keys included) and the finished responses
# fast_reads keeps, each within its budget whatever URLs clients invent.
ANSWER_BYTES = 16 * 1024 * 1024
RESPONSE_BYTES = 16 * 1024 * 1024
# WSGI environ keys: when the answer's data stops being fresh, and the site (or group) it is
# about (an alias's requests are about the target); read by service.views.fast_reads
FRESH_UNTIL = "pw.fresh_until"
ABOUT = "pw.about"
_COUNTED = "pw.read_counted"


class ReadCache:
    """Answers by key for CACHE_SECONDS; Redis is asked at most once a second per key.

    Also keeps the finished responses of the reads that service.views.fast_reads serves
    (`response` values: (status, headers, body, the id they are about)). Both are
    service.cache.Cache: bounded by bytes, readers take no lock.
    """

    def __init__(self, seconds: float = CACHE_SECONDS,
                 limit: limiter.LocalLimit | None = None) -> None:
        self.seconds = seconds
        # the app's read allowance (service.limiter), which fast_reads checks too
        self.limit = limit or limiter.LocalLimit(READS, Clock())
        self.answers = Cache("answers", ANSWER_BYTES)
        self.responses = Cache("responses", RESPONSE_BYTES)

    def forget(self, site_id: str) -> None:
        """Drop the answers about one site or group (keys are (kind, id, ...); a kept
        response also names the site it is about, for an alias's path)."""
        def about(key: Hashable) -> bool:
            return isinstance(key, tuple) and len(key) > 1 and key[1] == site_id

        self.answers.drop(lambda key, _value: about(key))
        self.responses.drop(lambda key, value: about(key) or value[3] == site_id)

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

    def keep_response(self, key: Hashable, until: float, response: Any) -> None:
        """Keep a finished response until its data stops being fresh."""
        status, headers, body, _about = response
        size = len(body) + sum(len(n) + len(v) + 64 for n, v in headers) + len(status) + 256
        self.responses.put(key, response, until, size=size)

    def response(self, key: Hashable) -> Any:
        """A kept response while its data is fresh, else None."""
        return self.responses.get(key)


def read_cache() -> ReadCache:
    """This app's read cache (one per process)."""
    cache: ReadCache | None = current_app.extensions.get("pw_reads")
    if cache is None:
        cache = current_app.extensions.setdefault(
            "pw_reads", ReadCache(limit=limiter.limits().local(READS)))
    return cache


def kept_reports() -> Cache:
    """This app's kept reports of ended periods (one per process)."""
    cache: Cache = current_app.extensions.setdefault("pw_reports",
                                                      report_gate.kept_reports())
    return cache


def forget(site_id: str) -> None:
    """Drop this process's cached answers and kept reports about a site (after an admin
    changed it)."""
    read_cache().forget(site_id)
    report_gate.forget(kept_reports(), site_id)


def allow() -> None:
    """Count this request in its address's read allowance (once), or refuse it: called
    before anything else a read does, so that unknown ids are limited too."""
    if request.environ.get(_COUNTED):
        return
    request.environ[_COUNTED] = True
    limiter.spend(READS)


def cached(key: tuple[str, str, *tuple[Any, ...]], compute: Callable[[], Any]) -> Any:
    """A public read: refused past the address's allowance, else cached or computed."""
    allow()
    until, value = read_cache().get(key, compute)
    request.environ[FRESH_UNTIL] = until  # service.views.fast_reads keeps the response
    request.environ[ABOUT] = key[1]
    return value
