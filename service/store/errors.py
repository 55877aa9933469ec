"""The store's own errors and its Redis-error counter (service.runtime.metrics only exports it)."""

from __future__ import annotations

import re

from prometheus_client import Counter

REDIS_ERRORS = Counter("pw_redis_errors_total", "Failed Redis operations", ["operation"])


class StorageUnavailable(Exception):
    """Redis did not answer in time; the request should be answered 503."""

    def __init__(self, operation: str) -> None:
        super().__init__(f"storage unavailable during {operation}")
        self.operation = operation


class VersionConflict(Exception):
    """A document changed under a compare-and-set too often; the caller may try again."""


# Redis's own error codes for refused writes, and what they mean to an operator.
REFUSALS = {"MISCONF": "disk full", "OOM": "memory budget reached"}
_CODE = re.compile(r"(?:^|[\s:-])(MISCONF|OOM) ")


class StorageRefused(StorageUnavailable):
    """Redis answers but refuses writes: its disk is full (MISCONF) or its memory budget
    is reached (OOM). An outage of writes only: reads go on, and it heals by itself."""

    def __init__(self, operation: str, reason: str) -> None:
        super().__init__(operation)
        self.reason = reason


def refusal_reason(exc: BaseException | None) -> str | None:
    """"disk full" or "memory budget reached" when `exc` (or its cause) is such a refusal.

    Redis prefixes the error with its code; from inside a script the code follows the
    script's own words ("... @user_script:1: -OOM command not allowed ..."), and redis-py
    puts its own words before a pipeline's ("Command # 1 (...) of pipeline caused error:
    MISCONF ...").
    """
    seen = 0
    while exc is not None and seen < 5:
        found = _CODE.search(str(exc))
        if found is not None:
            return REFUSALS[found.group(1)]
        if type(exc).__name__ == "OutOfMemoryError":  # redis-py strips the code here
            return REFUSALS["OOM"]
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None
