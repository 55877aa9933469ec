"""Votes: signed single-use tickets, one ballot per browser, a per-address allowance."""

from __future__ import annotations

import math
import secrets
from datetime import datetime
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from service import polls
from service.errors import Conflict, DomainError, Invalid, NotFound, TooMany
from service.periods import ms
from service.sites import Site
from service.store import Store
from service.store import polls as db
from service.store.counters import Rate
from service.text import check_unicode
from service.visitor import address_units, keyed

TICKET_SECONDS = 3600
# Vote attempts per site and client address unit (IPv6: its /64) a minute, checked inside
# vote.lua; the per-poll ballot allowance (PW_POLL_MAX_VOTES_PER_IP) is apart.
VOTES_PER_MINUTE = 10

# Outcomes of vote.lua -> (metric result, error class, reason)
OUTCOMES: dict[str, tuple[str, type[DomainError] | None, str]] = {
    "ok": ("accepted", None, ""),
    "missing": ("invalid", NotFound, "unknown poll"),
    "scheduled": ("closed", Conflict, "poll not open yet"),
    "closed": ("closed", Conflict, "poll closed"),
    "duplicate": ("duplicate", Conflict, "already voted"),
    "used": ("duplicate", Conflict, "ticket already used"),
    "limited": ("limited", TooMany, "too many votes from this address"),
    "unknown": ("invalid", Invalid, "unknown option"),
    "toomany": ("invalid", Invalid, "too many options"),
}


class VoteRefused(Exception):
    """A vote that was not recorded: `result` for the metric, `error` for the answer."""

    def __init__(self, result: str, error: DomainError) -> None:
        super().__init__(error.reason)
        self.result = result
        self.error = error


def _serializer(secret: str, now: datetime | None) -> URLSafeTimedSerializer:
    """The ticket serializer, its clock at `now` (tickets are signed and aged on it)."""
    if now is None:
        return URLSafeTimedSerializer(secret, salt="pw-poll-ticket")
    at = int(now.timestamp())

    class Signer(TimestampSigner):
        def get_timestamp(self) -> int:
            return at

    return URLSafeTimedSerializer(secret, salt="pw-poll-ticket", signer=Signer)


def issue_ticket(secret: str, site: Site, poll_id: str, now: datetime | None = None) -> str:
    """A signed single-use ticket for one vote on this poll, valid an hour from `now`."""
    return _serializer(secret, now).dumps({"s": site.id, "p": poll_id,
                                           "n": secrets.token_hex(12)})


def _nonce(secret: str, site: Site, poll_id: str, ticket: Any, now: datetime) -> tuple[str, int]:
    """The ticket's nonce and when it may be forgotten; Invalid when forged or expired."""
    if not isinstance(ticket, str) or not ticket or len(ticket) > 300:
        raise Invalid("ticket is required")
    check_unicode(ticket, "ticket")
    try:
        data, issued = _serializer(secret, now).loads(ticket, max_age=TICKET_SECONDS,
                                                 return_timestamp=True)
    except SignatureExpired:
        raise Invalid("ticket expired") from None
    except BadSignature:
        raise Invalid("invalid ticket") from None
    if not isinstance(data, dict) or data.get("s") != site.id or data.get("p") != poll_id:
        raise Invalid("invalid ticket")
    if issued.timestamp() > now.timestamp() + 60:
        raise Invalid("invalid ticket")
    forget_ms = int((issued.timestamp() + TICKET_SECONDS + 60) * 1000)
    return str(data.get("n", "")), forget_ms


def _options(options: Any) -> list[str]:
    if not isinstance(options, list) or not options or len(options) > polls.MAX_OPTIONS \
            or not all(isinstance(o, str) and len(o) <= 40 for o in options):
        raise Invalid("options must be a non-empty list of option ids")
    for option in options:
        check_unicode(option, "options")
    return options


def vote(store: Store, site: Site, poll_id: str, *, options: Any, ticket: Any, token: str,
         ip: str, secret: str, max_per_ip: int, now: datetime) -> dict[str, Any]:
    """Record one ballot; VoteRefused (with metric result and HTTP error) when not.

    One round trip: vote.lua checks the poll, the options and every allowance, and answers
    with the tally and the definition; only `current` needs its pointer read first. An
    unknown poll is 404 before the ticket is looked at.
    """
    try:
        poll = polls.resolve(store, site, poll_id)
        try:
            chosen = _options(options)
            nonce, forget_ms = _nonce(secret, site, poll, ticket, now)
        except Invalid:
            if not db.exists(store, site.id, poll):  # read only on this refusal path
                raise NotFound("unknown poll") from None
            raise
    except (Invalid, NotFound) as exc:
        raise VoteRefused("invalid", exc) from None
    # the address unit (IPv6: its /64) and, together, its /48 (4 times the allowance)
    units, per_poll = address_units(secret, ip), address_units(secret, ip, site.id, poll)
    reply = db.vote(store, db.Ballot(
        site=site.id, poll=poll, now_ms=ms(now), nonce=nonce, forget_ms=forget_ms,
        voter=keyed(secret, "voter", site.id, poll, token) if token else "",
        ip=per_poll.unit, max_per_ip=max_per_ip, aggregate=per_poll.aggregate,
        max_per_aggregate=per_poll.aggregate_allowance(max_per_ip), options=chosen,
        rate=Rate("vote", units.unit[:16], VOTES_PER_MINUTE, 60_000,
                  aggregate=units.aggregate[:16],
                  aggregate_allowed=units.aggregate_allowance(VOTES_PER_MINUTE)),
    ))
    if reply.outcome == "ratelimited":
        wait = str(max(1, math.ceil(reply.retry_after_ms / 1000)))
        raise VoteRefused("limited", TooMany("rate limited", {"Retry-After": wait}))
    result, error, reason = OUTCOMES.get(reply.outcome, ("invalid", Invalid, "vote refused"))
    if error is not None or reply.definition is None:
        raise VoteRefused(result, (error or Invalid)(reason))
    return polls.view(reply.definition, reply.tally, now=now, voted=True)
