"""`portal-widgets hotline ...`: list, add, remove, title."""

from __future__ import annotations

import argparse
import json
from typing import Any

from service import hotlines, sites
from service.cli.common import CommandError, open_store, print_json


def register(sub: Any) -> None:
    """Add the hotline commands."""
    hotline = sub.add_parser("hotline", help="manage a site's hotlines")
    hotline_sub = hotline.add_subparsers(dest="action", required=True)
    hotline_sub.add_parser("list").add_argument("site")
    add = hotline_sub.add_parser("add")
    add.add_argument("site")
    add.add_argument("--label", required=True)
    add.add_argument("--number", required=True)
    for name in ("--group", "--note", "--id"):
        add.add_argument(name)
    add.add_argument("--hours", help='JSON, e.g. {"mon": [["07:30", "11:30"]]}')
    remove = hotline_sub.add_parser("remove")
    remove.add_argument("site")
    remove.add_argument("id")
    title = hotline_sub.add_parser("title")
    title.add_argument("site")
    title.add_argument("title")
    hotline.set_defaults(func=cmd_hotline)


def cmd_hotline(args: argparse.Namespace) -> int:
    """hotline list|add|remove|title."""
    with open_store() as store:
        site = sites.get_site(store, args.site, cached=False)
        if args.action == "add":
            item = {"label": args.label, "number": args.number, "group": args.group,
                    "note": args.note, "id": args.id}
            if args.hours:
                try:
                    item["hours"] = json.loads(args.hours)
                except ValueError:
                    raise CommandError("--hours is not valid JSON") from None
            print_json(hotlines.add(store, site, item))
            return 0
        if args.action == "remove":
            hotlines.remove(store, site, args.id)
        elif args.action == "title":
            doc = hotlines.get(store, site)
            hotlines.replace(store, site, {"title": args.title, "hotlines": doc["hotlines"]})
        print_json(hotlines.admin_view(store, site))
    return 0
