"""Storage errors as the rest of the service sees them."""

from __future__ import annotations


class StorageUnavailable(Exception):
    """Redis did not answer in time; the request should be answered 503."""

    def __init__(self, operation: str) -> None:
        super().__init__(f"storage unavailable during {operation}")
        self.operation = operation
