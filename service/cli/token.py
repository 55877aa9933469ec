"""`portal-widgets token ...`: create (printed once), list, revoke."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from service import tokens
from service.cli.common import open_store, print_json


def register(sub: Any) -> None:
    """Add the token commands."""
    token = sub.add_parser("token", help="manage admin tokens")
    token_sub = token.add_subparsers(dest="action", required=True)
    create = token_sub.add_parser("create", help="create a token; it is printed once, last line")
    create.add_argument("--name", required=True, help="a name to list and revoke it by")
    create.add_argument("--site", action="append", help="limit to this site (repeat); default all")
    token_sub.add_parser("list", help="list the tokens (never their secrets)")
    revoke = token_sub.add_parser("revoke", help="revoke a token")
    revoke.add_argument("name", help="the token's name")
    token.set_defaults(func=cmd_token)


def cmd_token(args: argparse.Namespace) -> int:
    """token create|list|revoke."""
    with open_store() as store:
        if args.action == "create":
            secret = tokens.create(store, args.name, args.site or [], now=datetime.now(UTC))
            scope = ", ".join(args.site) if args.site else "all sites (*)"
            print(f"token {args.name} for {scope}; it is shown only this once:")
            print(secret)
        elif args.action == "list":
            print_json([t.to_json() for t in tokens.list_tokens(store)])
        else:
            tokens.revoke(store, args.name)
            print(f"revoked {args.name}")
    return 0
