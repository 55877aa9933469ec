"""Domain errors: a refused request's status and short lowercase reason (no HTTP here)."""

from __future__ import annotations

import math


class DomainError(Exception):
    """A refused request; `status` and a short lowercase reason."""

    status = 400

    def __init__(self, reason: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.headers = headers or {}


class WriteRefused(Exception):
    """A vote or rating that was not recorded: `result` for the metric, `error` for the
    answer; `checked`: its script ran (and counted the attempt in the address's allowance)."""

    def __init__(self, result: str, error: DomainError, *, checked: bool = True) -> None:
        super().__init__(error.reason)
        self.result = result
        self.error = error
        self.checked = checked


class Invalid(DomainError):
    """Bad input (400)."""


class Unauthorized(DomainError):
    """No or unknown credentials (401)."""

    status = 401


class Forbidden(DomainError):
    """Not allowed for this caller (403)."""

    status = 403


class NotFound(DomainError):
    """Unknown site, poll, hotline or page (404)."""

    status = 404


class Conflict(DomainError):
    """The state forbids it (409)."""

    status = 409


class TooLarge(DomainError):
    """Body too large (413)."""

    status = 413


class Unsupported(DomainError):
    """Wrong content type (415)."""

    status = 415


class TooMany(DomainError):
    """Over an allowance or a limit (429)."""

    status = 429

    @classmethod
    def rate_limited(cls, retry_after_ms: int) -> TooMany:
        """Over a rate allowance: Retry-After in whole seconds (at least 1)."""
        seconds = max(1, math.ceil(retry_after_ms / 1000))
        return cls("rate limited", {"Retry-After": str(seconds)})
