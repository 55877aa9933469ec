"""The one in-process cache of the service: entries expire, and the whole is bounded by bytes.

Every cache a worker keeps (sites, groups, read answers, kept responses, salts, reports)
is one of these, so that what a worker may hold is a sum of known budgets whatever clients
ask: a key or a value is counted at its (estimated) size, stale entries are dropped as new
ones come in, and when the budget is full the oldest entries go first.

Readers take no lock (one dict lookup); writers take one. Entries are kept in insertion
order, which is also their order of expiry when a cache has one lifetime, so dropping the
stale ones on insert costs only what is dropped.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from dataclasses import fields, is_dataclass
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
_OVERHEAD = 160  # a dict slot, the entry tuple and its float, roughly


def approx_size(value: Any, _depth: int = 0) -> int:
    """Bytes a value holds, estimated (containers walked 6 levels deep, then sys.getsizeof)."""
    if isinstance(value, (str, bytes, bytearray)):
        return sys.getsizeof(value)
    if value is None or isinstance(value, (bool, int, float)):
        return 32
    if _depth > 6:
        return sys.getsizeof(value)
    if isinstance(value, dict):
        return sys.getsizeof(value) + sum(
            approx_size(k, _depth + 1) + approx_size(v, _depth + 1) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return sys.getsizeof(value) + sum(approx_size(v, _depth + 1) for v in value)
    if is_dataclass(value) and not isinstance(value, type):
        return 64 + sum(approx_size(getattr(value, f.name), _depth + 1) for f in fields(value))
    return sys.getsizeof(value)


class Cache(Generic[K, V]):
    """Values by key until a monotonic deadline, in at most `max_bytes`; typed by what it
    holds (`Cache[str, Site | None]`)."""

    def __init__(self, name: str, max_bytes: int) -> None:
        self.name = name
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries: dict[K, tuple[float, V, int]] = {}  # key: (until, value, size)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: K) -> bool:
        return self.entry(key) is not None

    def get(self, key: K, now: float | None = None) -> V | None:
        """The value while fresh, else None."""
        found = self.entry(key, now)
        return None if found is None else found[1]

    def entry(self, key: K, now: float | None = None) -> tuple[float, V] | None:
        """(until, value) while fresh, else None."""
        found = self._entries.get(key)
        if found is None or found[0] <= (time.monotonic() if now is None else now):
            return None
        return found[0], found[1]

    def put(self, key: K, value: V, until: float, *, size: int | None = None,
            now: float | None = None) -> None:
        """Keep `value` until `until` (monotonic); stale and, if need be, oldest entries go.

        A value larger than the whole budget is not kept.
        """
        size = (approx_size(key) + approx_size(value) if size is None else size) + _OVERHEAD
        now = time.monotonic() if now is None else now
        with self._lock:
            self._remove(key)
            if size > self.max_bytes:
                return
            entries = self._entries
            while entries:
                oldest = next(iter(entries))
                if entries[oldest][0] > now and self.bytes + size <= self.max_bytes:
                    break
                self._remove(oldest)
            entries[key] = (until, value, size)
            self.bytes += size

    def remember(self, key: K, seconds: float, compute: Callable[[], V]) -> V:
        """The fresh value, or `compute()` kept for `seconds`."""
        now = time.monotonic()
        found = self.entry(key, now)
        if found is not None:
            return found[1]
        value = compute()
        self.put(key, value, now + seconds, now=now)
        return value

    def pop(self, key: K) -> None:
        """Forget one key."""
        with self._lock:
            self._remove(key)

    def drop(self, unwanted: Callable[[K, V], bool]) -> None:
        """Forget every entry for which `unwanted(key, value)` is true."""
        with self._lock:
            for key in [k for k, v in self._entries.items() if unwanted(k, v[1])]:
                self._remove(key)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries = {}
            self.bytes = 0

    def keys(self) -> Iterator[K]:
        """The keys held now, fresh or not (a copy)."""
        return iter(list(self._entries))

    def _remove(self, key: K) -> None:
        found = self._entries.pop(key, None)
        if found is not None:
            self.bytes -= found[2]
