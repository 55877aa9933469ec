"""Reports cannot starve the service: one built at a time per process, ended periods kept.

A group's year report reads and sums every member site's year, day by day: seconds of CPU.
Built side by side they would take every worker thread and most of the CPU, and public
requests would wait behind them. So each process builds one report at a time; a request
for another waits for it (at most `WAIT_SECONDS`, and only `MAX_WAITING` of them, since a
waiting request holds a worker thread too) and is otherwise refused with 429 and
Retry-After. A report of a period that has ended is built once and kept (`KEEP_SECONDS`,
within `KEPT_BYTES`): asked again, it costs nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any, TypeVar

from service.cache import Cache
from service.errors import TooMany

WAIT_SECONDS = 30.0
MAX_WAITING = 2  # of gunicorn's 4 threads per worker, one stays for everything else
KEEP_SECONDS = 3600.0  # the figures of an ended period change only by an import or merge
KEPT_BYTES = 32 * 1024 * 1024
RETRY_SECONDS = 30

T = TypeVar("T")

_building = threading.Lock()
_counting = threading.Lock()
_waiting = 0


def kept_reports() -> Cache[Hashable, Any]:
    """A new cache for kept reports (one per app: the views keep it)."""
    return Cache("reports", KEPT_BYTES)


def _busy() -> TooMany:
    return TooMany("another report is being built; try again later",
                   {"Retry-After": str(RETRY_SECONDS)})


@contextmanager
def one_at_a_time(wait: float | None = None) -> Iterator[None]:
    """Hold this process's report builder, waiting for it at most `wait` seconds
    (WAIT_SECONDS by default)."""
    global _waiting
    with _counting:
        if _waiting >= MAX_WAITING:
            raise _busy()
        _waiting += 1
    try:
        got = _building.acquire(timeout=WAIT_SECONDS if wait is None else wait)
    finally:
        with _counting:
            _waiting -= 1
    if not got:
        raise _busy()
    try:
        yield
    finally:
        _building.release()


def kept_or_built(kept: Cache[Hashable, Any], key: Hashable, *, ended: bool,
                  build: Callable[[], T]) -> T:
    """The kept result of `key` when its period has ended, else `build()` (one at a time),
    kept when the period has ended."""
    if ended:
        found: T | None = kept.get(key)
        if found is not None:
            return found
    with one_at_a_time():
        if ended:
            again: T | None = kept.get(key)  # built by the request we waited for
            if again is not None:
                return again
        value = build()
    if ended:
        kept.put(key, value, time.monotonic() + KEEP_SECONDS)
    return value


def has_ended(end: date, today: date) -> bool:
    """Whether a period whose last day is `end` is over (`today` in the site's zone)."""
    return end < today


def forget(kept: Cache[Hashable, Any], name_id: str) -> None:
    """Drop the kept reports of a site or group (keys are (kind, id, ...))."""
    kept.drop(lambda key, _value: isinstance(key, tuple) and len(key) > 1
              and key[1] == name_id)
