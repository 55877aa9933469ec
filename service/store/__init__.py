"""The storage layer: the only code that talks to Redis."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import redis
from flask import Flask, current_app

from service.store.client import make_client
from service.store.errors import REDIS_ERRORS, StorageUnavailable, VersionConflict
from service.store.keys import Keys
from service.store.scripts import Scripts

__all__ = ["Store", "StorageUnavailable", "VersionConflict", "get_store", "init_app"]


class Store:
    """A Redis client, the key builder and the registered scripts."""

    def __init__(self, client: Any, keys: Keys) -> None:
        self.redis = client
        self.keys = keys
        self.scripts = Scripts(client)
        # site id -> (expires at monotonic, site); see service.sites.get_site
        self.site_cache: dict[str, tuple[float, Any]] = {}
        self.salt_cache: dict[str, str] = {}
        # group id -> (expires at monotonic, roll-up); see service.groups.stats
        self.group_cache: dict[str, tuple[float, Any]] = {}

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

    def ping(self) -> float:
        """Round-trip time of a PING in seconds."""
        start = time.perf_counter()
        with self.guard("ping"):
            self.redis.ping()
        return time.perf_counter() - start

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
