"""Signed single-use tickets (itsdangerous) for votes and ratings.

A public GET hands out a ticket for one thing (a poll, a page); the POST that uses it must
bring it back within an hour. The signature proves the service issued it; its random nonce
is recorded as used by the write's own script (vote.lua, rating.lua), so each ticket counts
at most once whatever the client retries.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
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


def _serializer(secret: str, kind: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=f"pw-{kind}-ticket")


def issue(secret: str, kind: str, site_id: str, subject: str,
          now: datetime | None = None) -> str:
    """A signed ticket for one write of `kind` (poll, rating) on `subject`, valid an hour
    from `now` (default: the clock)."""
    if now is None:
        serializer = _serializer(secret, kind)
    else:
        at = int(now.timestamp())

        class Signer(TimestampSigner):
            def get_timestamp(self) -> int:
                return at

        serializer = URLSafeTimedSerializer(secret, salt=f"pw-{kind}-ticket", signer=Signer)
    return serializer.dumps({"s": site_id, "p": subject, "n": secrets.token_hex(12)})


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
