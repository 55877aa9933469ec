"""Votes: signed single-use tickets, one ballot per browser, a per-address allowance."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from service import tickets
from service.allowances import VOTES
from service.counting.periods import ms
from service.counting.visitor import address_rate, address_units, keyed
from service.errors import Conflict, DomainError, Invalid, NotFound, TooMany, WriteRefused
from service.polls import rules as polls
from service.sites import Site
from service.store import Store
from service.store import polls as db
from service.text import check_unicode

TICKET_SECONDS = tickets.TICKET_SECONDS
# Vote attempts per site and client address unit: service.allowances.VOTES, checked inside
# vote.lua; the per-poll ballot allowance (PW_POLL_MAX_VOTES_PER_IP) is apart.

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


class VoteRefused(WriteRefused):
    """A vote that was not recorded (service.errors.WriteRefused)."""


def issue_ticket(secret: str, site: Site, poll_id: str, now: datetime | None = None) -> str:
    """A signed single-use ticket for one vote on this poll, valid an hour from `now`."""
    return tickets.issue(secret, "poll", site.id, poll_id, now)


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
            redeemed = tickets.redeem(secret, "poll", site.id, poll, ticket, now)
        except Invalid:
            if not db.exists(store, site.id, poll):  # read only on this refusal path
                raise NotFound("unknown poll") from None
            raise
    except (Invalid, NotFound) as exc:
        raise VoteRefused("invalid", exc, checked=False) from None
    # the address unit (IPv6: its /64) and, together, its /48 (4 times the allowance)
    per_poll = address_units(secret, ip, site.id, poll)
    reply = db.vote(store, db.Ballot(
        site=site.id, poll=poll, now_ms=ms(now), nonce=redeemed.nonce,
        forget_ms=redeemed.forget_ms,
        voter=keyed(secret, "voter", site.id, poll, token) if token else "",
        ip=per_poll.unit, max_per_ip=max_per_ip, aggregate=per_poll.aggregate,
        max_per_aggregate=per_poll.aggregate_allowance(max_per_ip), options=chosen,
        rate=address_rate(VOTES, secret, ip),
    ))
    if reply.outcome == "ratelimited":
        raise VoteRefused("limited", TooMany.rate_limited(reply.retry_after_ms))
    result, error, reason = OUTCOMES.get(reply.outcome, ("invalid", Invalid, "vote refused"))
    if error is not None or reply.definition is None:
        raise VoteRefused(result, (error or Invalid)(reason))
    return polls.view(reply.definition, reply.tally, now=now, voted=True)
