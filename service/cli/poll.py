"""`portal-widgets poll ...`: list, create, show, close, open, reset, current, delete."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from service import sites
from service.cli.common import open_store, print_json
from service.polls import rules as polls


def register(sub: Any) -> None:
    """Add the poll commands."""
    poll = sub.add_parser("poll", help="manage a site's polls")
    poll_sub = poll.add_subparsers(dest="action", required=True)
    poll_sub.add_parser("list", help="list a site's polls").add_argument("site", help="the site id")
    create = poll_sub.add_parser(
        "create", help="create a poll (a site's first poll becomes current)")
    create.add_argument("site", help="the site id")
    create.add_argument("--question", required=True, help="the question, 1-300 characters")
    create.add_argument("--option", action="append", required=True,
                        help="an option label (repeat, 2-20)")
    create.add_argument("--multiple", action="store_true", help="readers may tick several options")
    create.add_argument("--max-choices", dest="max_choices", type=int, metavar="N",
                        help="with --multiple: at most N options (default all)")
    create.add_argument("--results", default="always",
                        choices=("always", "after_vote", "after_close"),
                        help="when readers see the results (default always)")
    create.add_argument("--opens-at", dest="opens_at",
                        help="ISO 8601 with offset, e.g. 2026-12-01T08:00:00+07:00")
    create.add_argument("--closes-at", dest="closes_at",
                        help="ISO 8601 with offset, e.g. 2026-12-31T17:00:00+07:00")
    create.add_argument("--id", help="the poll id (a-z, 0-9, -); default from the question")
    for action, text in (("show", "print a poll and its votes"), ("close", "close a poll now"),
                         ("open", "open a poll again"), ("reset", "zero a poll's votes"),
                         ("current", "make the poll the one `current` shows"),
                         ("delete", "delete a poll")):
        one = poll_sub.add_parser(action, help=text)
        one.add_argument("site", help="the site id")
        one.add_argument("poll", help="the poll id (or `current`)")
    poll.set_defaults(func=cmd_poll)


def cmd_poll(args: argparse.Namespace) -> int:
    """poll list|create|show|close|open|reset|current|delete."""
    now = datetime.now(UTC)
    with open_store() as store:
        site = sites.get_site(store, args.site, cached=False)
        if args.action == "list":
            print_json(polls.list_polls(store, site, now=now))
            return 0
        if args.action == "create":
            body: dict[str, Any] = {"question": args.question, "options": args.option,
                                    "multiple": args.multiple, "results": args.results}
            for name in ("id", "opens_at", "closes_at", "max_choices"):
                if getattr(args, name) is not None:
                    body[name] = getattr(args, name)
            poll_id = polls.create(store, site, body, now=now)["id"]
        else:
            poll_id = args.poll
            if args.action in ("close", "open"):
                polls.update(store, site, poll_id, {"status": "closed" if args.action == "close"
                                                    else "open"}, now=now)
            elif args.action == "reset":
                polls.reset(store, site, poll_id)
            elif args.action == "current":
                polls.set_current(store, site, {"poll": poll_id})
            elif args.action == "delete":
                polls.delete(store, site, poll_id)
                print(f"deleted poll {poll_id}")
                return 0
        definition, tally = polls.load(store, site, poll_id)
        print_json(polls.view(definition, tally, now=now, admin=True))
    return 0
