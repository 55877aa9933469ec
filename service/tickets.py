"""Signed single-use tickets (itsdangerous) for votes and ratings.

A public GET hands out a ticket for one thing (a poll, a page); the POST that uses it must
bring it back within an hour. The signature proves the service issued it; its random nonce
is recorded as used by the write's own script (vote.lua, rating.lua), so each ticket counts
at most once whatever the client retries.
"""

from __future__ import annotations

import secrets
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer

from service.errors import Invalid
from service.text import check_unicode

TICKET_SECONDS = 3600
MAX_TICKET = 300


@dataclass(frozen=True)
class Redeemed:
    """A valid ticket: its nonce, and when the used nonce may be forgotten (ms)."""

    nonce: str
    forget_ms: int


class _Signer(TimestampSigner):
    """itsdangerous's signer; the timestamp it signs is `_AT` when set (issue(now=...))."""

    def get_timestamp(self) -> int:
        at = _AT.get()
        return super().get_timestamp() if at is None else at


_AT: ContextVar[int | None] = ContextVar("pw_ticket_at", default=None)


@lru_cache(maxsize=16)
def _serializer(secret: str, kind: str) -> URLSafeTimedSerializer:
    """One serializer per secret and kind (building one derives its key: not per request)."""
    return URLSafeTimedSerializer(secret, salt=f"pw-{kind}-ticket", signer=_Signer)


def issue(secret: str, kind: str, site_id: str, subject: str,
          now: datetime | None = None) -> str:
    """A signed ticket for one write of `kind` (poll, rating) on `subject`, valid an hour
    from `now` (default: the machine's clock)."""
    token = _AT.set(None if now is None else int(now.timestamp()))
    try:
        return str(_serializer(secret, kind).dumps(
            {"s": site_id, "p": subject, "n": secrets.token_hex(12)}))
    finally:
        _AT.reset(token)


def redeem(secret: str, kind: str, site_id: str, subject: str, ticket: Any,
           now: datetime) -> Redeemed:
    """The ticket's nonce; Invalid when missing, forged, expired or for something else."""
    if not isinstance(ticket, str) or not ticket or len(ticket) > MAX_TICKET:
        raise Invalid("ticket is required")
    check_unicode(ticket, "ticket")
    try:
        # the age is judged against `now`, not the machine's clock, so time stays a parameter
        data, issued = _serializer(secret, kind).loads(ticket, return_timestamp=True)
    except BadSignature:
        raise Invalid("invalid ticket") from None
    if not isinstance(data, dict) or data.get("s") != site_id or data.get("p") != subject:
        raise Invalid("invalid ticket")
    if issued.timestamp() > now.timestamp() + 60:
        raise Invalid("invalid ticket")
    if now.timestamp() - issued.timestamp() > TICKET_SECONDS:
        raise Invalid("ticket expired")
    forget_ms = int((issued.timestamp() + TICKET_SECONDS + 60) * 1000)
    return Redeemed(str(data.get("n", "")), forget_ms)
