"""`portal-widgets hotline ...`: list, add, remove, title."""

from __future__ import annotations

import argparse
import json
from typing import Any

from service import sites
from service.cli.common import CommandError, open_store, print_json
from service.hotlines import rules as hotlines


def register(sub: Any) -> None:
    """Add the hotline commands."""
    hotline = sub.add_parser("hotline", help="manage a site's hotlines")
    hotline_sub = hotline.add_subparsers(dest="action", required=True)
    hotline_sub.add_parser("list", help="list a site's hotlines").add_argument(
        "site", help="the site id")
    add = hotline_sub.add_parser("add", help="add a hotline to the box")
    add.add_argument("site", help="the site id")
    add.add_argument("--label", required=True, help='what it is for, e.g. "Tiếp công dân"')
    add.add_argument("--number", required=True, help="the phone number, e.g. 024.62933647")
    add.add_argument("--group", help='a heading it is listed under, e.g. "UBND Quận"')
    add.add_argument("--note", help="a short note about the number")
    add.add_argument("--id", help="its id (a-z, 0-9, -); default from the label")
    add.add_argument("--hours", help='opening hours as JSON, e.g. {"mon": [["07:30", "11:30"]]}')
    remove = hotline_sub.add_parser("remove", help="remove a hotline")
    remove.add_argument("site", help="the site id")
    remove.add_argument("id", help="the hotline id")
    title = hotline_sub.add_parser("title", help="set the box's title")
    title.add_argument("site", help="the site id")
    title.add_argument("title", help='e.g. "Đường dây nóng"')
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
