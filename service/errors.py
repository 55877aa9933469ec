"""Domain errors: a refused request's status and short lowercase reason (no HTTP here)."""

from __future__ import annotations


class DomainError(Exception):
    """A refused request; `status` and a short lowercase reason."""

    status = 400

    def __init__(self, reason: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.headers = headers or {}


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
    """A limit other than the rate limiter's (429)."""

    status = 429
