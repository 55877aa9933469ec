"""Public poll routes: read a poll (with a fresh ticket) and vote."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from service import limits as limiter
from service.allowances import READS, VOTES
from service.polls import rules as polls
from service.polls import votes
from service.store import get_store
from service.web import common

bp = Blueprint("public_polls", __name__, url_prefix="/api/v1/sites/<site_id>/polls")
bp.after_request(common.add_cors)


@bp.get("/<poll_id>")
def read(site_id: str, poll_id: str) -> Response:
    """The poll object with a fresh ticket; never cached."""
    limiter.spend(READS)
    site = common.load_site(site_id)
    definition, tally = polls.load(get_store(), site, poll_id)
    ticket = votes.issue_ticket(common.settings().secret_key, site, definition["id"],
                                common.now())
    response = jsonify(polls.view(definition, tally, now=common.now(), ticket=ticket))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/<poll_id>/votes")
def vote(site_id: str, poll_id: str) -> Response:
    """One ballot: 201 with the poll, 409 already voted / poll closed, 400, 429."""
    with limiter.refusals_of(VOTES):
        site = common.load_site(site_id)
        common.check_origin(site, own_allowed=True)
        body = common.json_body()
        token = common.browser_token(body.get("token"))
    try:
        result = common.cast_vote(site, poll_id, options=body.get("options"),
                                  ticket=body.get("ticket"), token=token)
    except votes.VoteRefused as refused:
        raise refused.error from None
    response = jsonify(result)
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    return response
