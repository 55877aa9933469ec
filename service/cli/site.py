"""`portal-widgets site ...`: create, update, list, show, delete, restore, set-counters,
merge, export, import."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from service import sites
from service.cli.common import CommandError, open_store, print_json
from service.cli.moving import cmd_site_move, register_site
from service.counting import figures, visits
from service.provinces import merges


def _site_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("site", help="the site id: a-z, 0-9 and -, e.g. thanhxuan")
    parser.add_argument("--name", help='the portal\'s name, e.g. "Cổng TTĐT Quận Thanh Xuân"')
    parser.add_argument("--timezone",
                        help="IANA zone of its calendar periods (default Asia/Ho_Chi_Minh)")
    parser.add_argument("--locale", choices=("vi", "en"),
                        help="language of its widgets and public page (default vi)")
    parser.add_argument("--origin", action="append",
                        help="a page origin allowed to count, e.g. https://thanhxuan.hanoi.gov.vn "
                             "(repeat; the list replaces the old one; none: any origin)")
    parser.add_argument("--online-window", dest="online_window_seconds", type=int,
                        metavar="SECONDS", help='who counts as "Đang online" (default 300)')
    parser.add_argument("--session-timeout", dest="session_timeout_seconds", type=int,
                        metavar="SECONDS",
                        help="idle time after which a page load is a new visit (default 1800)")
    parser.add_argument("--dedupe", dest="pageview_dedupe_seconds", type=int, metavar="SECONDS",
                        help="a reload within this time is not another pageview (default 600)")
    parser.add_argument("--max-pages", dest="max_pages", type=int, metavar="N",
                        help="paths tracked for per-page views (default 50000)")
    parser.add_argument("--public-stats", dest="public_stats",
                        action=argparse.BooleanOptionalAction,
                        help="serve the public statistics page /stats/SITE")
    parser.add_argument("--verify-pages", dest="verify_pages",
                        action=argparse.BooleanOptionalAction,
                        help="check new paths against the portal (first origin) before they "
                             "are listed (default: on when the site has origins)")


def register(sub: Any) -> None:
    """Add the site commands."""
    site = sub.add_parser("site", help="manage sites")
    site_sub = site.add_subparsers(dest="action", required=True)
    for action, text in (("create", "create a site (a portal)"),
                         ("update", "change a site's settings; options not given stay")):
        _site_options(site_sub.add_parser(action, help=text, description=text))
    site_sub.add_parser("list", help="list the sites")
    delete = site_sub.add_parser(
        "delete", help="delete a site; its data is kept (and its id stays taken) unless --purge",
        description="Without --purge the site stops counting and answering, its data is kept "
                    "and the id cannot be created again (`site restore SITE` brings it back). "
                    "With --purge every key of the site is erased, also for a site deleted "
                    "earlier without it; the id is free again.")
    delete.add_argument("site", help="the site id")
    delete.add_argument("--purge", action="store_true",
                        help="erase all its data for good (figures, history, pages, polls, "
                             "hotlines, merge markers)")
    restore = site_sub.add_parser(
        "restore", help="bring back a site deleted without --purge, with all its data")
    restore.add_argument("site", help="the site id")
    show = site_sub.add_parser("show", help="print a site's settings and figures as JSON")
    show.add_argument("site", help="the site id")
    counters = site_sub.add_parser(
        "set-counters", help="set imported baselines (the old counter's figures)",
        description="Set the figures imported from the portal's old counter. `total` always "
                    "counts; today/week/month/year count only within the period they are set in.")
    counters.add_argument("site", help="the site id")
    counters.add_argument("--json", required=True,
                          help='e.g. {"visits": {"total": 12380046}, "pageviews": {"total": 0}}')
    merge = site_sub.add_parser(
        "merge", help="merge SITE into TARGET: its figures move there, it becomes an alias")
    merge.add_argument("site", help="the site that is merged away (becomes an alias)")
    merge.add_argument("--into", required=True, metavar="TARGET", help="the site that stays")
    register_site(site_sub)
    site.set_defaults(func=cmd_site)


def _site_changes(args: argparse.Namespace) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name in ("name", "timezone", "locale", "online_window_seconds",
                 "session_timeout_seconds", "pageview_dedupe_seconds", "max_pages",
                 "public_stats", "verify_pages"):
        value = getattr(args, name, None)
        if value is not None:
            changes[name] = value
    if args.origin is not None:
        changes["origins"] = args.origin
    return changes


def cmd_site(args: argparse.Namespace) -> int:
    """site create|update|list|delete|restore|set-counters|show|merge|export|import."""
    if args.action in ("export", "import"):
        return cmd_site_move(args)
    with open_store() as store:
        if args.action == "list":
            print_json([s.to_json() for s in sites.list_sites(store)])
            return 0
        if args.action == "create":
            if sites.exists(store, args.site):
                raise CommandError(f"site {args.site} exists; use `site update`")
            # a deleted id (data kept) is refused by put_site, naming --purge and restore
            site, _ = sites.put_site(store, args.site, _site_changes(args))
            print_json(site.to_json())
        elif args.action == "update":
            sites.get_site(store, args.site, cached=False)
            site, _ = sites.put_site(store, args.site, _site_changes(args))
            print_json(site.to_json())
        elif args.action == "delete":
            sites.delete_site(store, args.site, purge=args.purge)
            print(f"deleted {args.site} and erased all its data" if args.purge else
                  f"deleted {args.site}; its data is kept and the id stays taken "
                  f"(`site restore {args.site}` brings it back, `site delete {args.site} "
                  "--purge` erases it)")
        elif args.action == "restore":
            print_json(sites.restore_site(store, args.site).to_json())
        elif args.action == "show":
            site = sites.get_site(store, args.site, cached=False)
            now = datetime.now(UTC)
            print_json({"settings": site.to_json(),
                         "stats": visits.read_stats(store, site, now=now),
                         "counters": figures.counters(store, site, now=now)})
        elif args.action == "merge":
            # waits until running services see the alias (about 6 s), then copies; run it
            # again after an interruption: it finishes without adding anything twice
            print_json(merges.merge(store, args.site, args.into, now=datetime.now(UTC)))
        elif args.action == "set-counters":
            site = sites.get_site(store, args.site, cached=False)
            try:
                values = json.loads(args.json)
            except ValueError:
                raise CommandError("--json is not valid JSON") from None
            figures.set_baselines(store, site, values, now=datetime.now(UTC))
            print_json(figures.counters(store, site, now=datetime.now(UTC)))
    return 0
