"""The storage layer: the only code that talks to Redis."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import redis
from flask import Flask, current_app

from service.cache import Cache
from service.store.client import make_client
from service.store.errors import (
    REDIS_ERRORS,
    REFUSALS,
    StorageRefused,
    StorageUnavailable,
    VersionConflict,
    refusal_reason,
)
from service.store.keys import Keys
from service.store.scripts import Scripts

if TYPE_CHECKING:  # the domain's types, for the caches it keeps here (no import at run time)
    from service.sites import Site

__all__ = ["Store", "StorageRefused", "StorageUnavailable", "VersionConflict", "get_store",
           "init_app", "refusal_reason"]


# Per process (each gunicorn worker): every cached site and group answer fits in these.
SITE_CACHE_BYTES = 4 * 1024 * 1024
GROUP_CACHE_BYTES = 16 * 1024 * 1024


class Store:
    """A Redis client, the key builder and the registered scripts."""

    def __init__(self, client: Any, keys: Keys) -> None:
        self.redis = client
        self.keys = keys
        self.scripts = Scripts(client)
        # site id -> site (None: unknown); see service.sites.get_site
        self.site_cache: Cache[str, Site | None] = Cache("sites", SITE_CACHE_BYTES)
        # day -> the day's visitor salt
        self.salt_cache: Cache[str, str] = Cache("salts", 64 * 1024)
        # group id -> roll-up, "page:<id>" -> public page; see service.provinces.groups.stats
        self.group_cache: Cache[str, dict[str, Any]] = Cache("groups", GROUP_CACHE_BYTES)

    @classmethod
    def from_url(cls, url: str, prefix: str = "pw") -> Store:
        """A store for PW_REDIS_URL."""
        return cls(make_client(url), Keys(prefix))

    @contextlib.contextmanager
    def guard(self, operation: str) -> Iterator[None]:
        """Turn any Redis failure into StorageUnavailable(operation), and count it."""
        try:
            yield
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
                redis.exceptions.BusyLoadingError, redis.exceptions.ReadOnlyError,
                redis.exceptions.ClusterDownError, redis.exceptions.TryAgainError,
                redis.exceptions.MasterDownError, redis.exceptions.NoPermissionError) as exc:
            # NoPermissionError: a Redis ACL that refuses the service's keys or commands is
            # an operator's mistake to fix; answer 503 and count it, never a 500
            REDIS_ERRORS.labels(operation=operation).inc()
            raise StorageUnavailable(operation) from exc
        except redis.exceptions.ResponseError as exc:
            # A full disk (MISCONF) or a full memory budget (OOM): writes answer 503 with
            # the reason; anything else is a bug and stays one.
            reason = refusal_reason(exc)
            if reason is None:
                raise
            REDIS_ERRORS.labels(operation=operation).inc()
            raise StorageRefused(operation, reason) from exc

    def ping(self) -> float:
        """Round-trip time of a PING in seconds (an ECHO while a full disk refuses PING)."""
        start = time.perf_counter()
        with self.guard("ping"):
            try:
                self.redis.ping()
            except redis.exceptions.ResponseError as exc:
                if refusal_reason(exc) is None:
                    raise
                self.redis.echo("ping")  # Redis refuses PING with writes, not reads
        return time.perf_counter() - start

    def memory(self) -> tuple[int, int] | None:
        """Redis's used_memory and maxmemory in bytes (maxmemory 0: no budget), summed over
        the nodes of a cluster; None when INFO is not allowed or Redis does not answer."""
        try:
            with self.guard("info"):
                try:
                    info = self.redis.info("memory")
                except redis.exceptions.NoPermissionError:
                    return None  # an ACL user without +info: no figure, and no error counted
        except (StorageUnavailable, redis.exceptions.ResponseError):
            return None
        nodes = [v for v in info.values() if isinstance(v, dict)] or [info]
        return (sum(int(node.get("used_memory", 0)) for node in nodes),
                sum(int(node.get("maxmemory", 0)) for node in nodes))

    def write_refusal(self) -> str | None:
        """Why Redis refuses writes right now, or None: a full disk refuses PING, a memory
        budget shows in INFO."""
        with self.guard("ping"):
            try:
                self.redis.ping()
            except redis.exceptions.ResponseError as exc:
                reason = refusal_reason(exc)
                if reason is None:
                    raise
                return reason
        memory = self.memory()
        return REFUSALS["OOM"] if memory and memory[1] and memory[0] >= memory[1] else None

    def eviction_policy(self) -> str | None:
        """Redis's maxmemory-policy, or None when CONFIG is not allowed."""
        try:
            with self.guard("config"):
                value = self.redis.config_get("maxmemory-policy")
        except redis.exceptions.ResponseError:
            return None
        if isinstance(value, dict):
            found = value.get("maxmemory-policy")
            if found is None:  # cluster: {node: {...}}
                nested = [v for v in value.values() if isinstance(v, dict)]
                found = nested[0].get("maxmemory-policy") if nested else None
            return str(found) if found is not None else None
        return None


def init_app(app: Flask, url: str, prefix: str) -> Store:
    """Create the app's store and keep it in app.extensions."""
    store = Store.from_url(url, prefix)
    app.extensions["pw_store"] = store
    return store


def get_store() -> Store:
    """The current app's store."""
    store: Store = current_app.extensions["pw_store"]
    return store
