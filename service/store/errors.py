"""The store's own errors and its Redis-error counter (service.metrics only exports it)."""

from __future__ import annotations

from prometheus_client import Counter

REDIS_ERRORS = Counter("pw_redis_errors_total", "Failed Redis operations", ["operation"])


class StorageUnavailable(Exception):
    """Redis did not answer in time; the request should be answered 503."""

    def __init__(self, operation: str) -> None:
        super().__init__(f"storage unavailable during {operation}")
        self.operation = operation


class VersionConflict(Exception):
    """A document changed under a compare-and-set too often; the caller may try again."""
