"""`portal-widgets site ...`: create, update, list, show, delete, set-counters, merge,
export, import."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from service import figures, merges, sites, visits
from service.cli.common import CommandError, open_store, print_json
from service.cli.moving import cmd_site_move, register_site


def _site_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("site")
    parser.add_argument("--name")
    parser.add_argument("--timezone")
    parser.add_argument("--locale", choices=("vi", "en"))
    parser.add_argument("--origin", action="append", help="allowed page origin (repeat)")
    parser.add_argument("--online-window", dest="online_window_seconds", type=int)
    parser.add_argument("--session-timeout", dest="session_timeout_seconds", type=int)
    parser.add_argument("--dedupe", dest="pageview_dedupe_seconds", type=int)
    parser.add_argument("--max-pages", dest="max_pages", type=int)
    parser.add_argument("--public-stats", dest="public_stats",
                        action=argparse.BooleanOptionalAction,
                        help="serve the public statistics page /stats/SITE")


def register(sub: Any) -> None:
    """Add the site commands."""
    site = sub.add_parser("site", help="manage sites")
    site_sub = site.add_subparsers(dest="action", required=True)
    for action in ("create", "update"):
        _site_options(site_sub.add_parser(action))
    site_sub.add_parser("list")
    delete = site_sub.add_parser("delete")
    delete.add_argument("site")
    delete.add_argument("--purge", action="store_true", help="also erase all its data")
    show = site_sub.add_parser("show")
    show.add_argument("site")
    counters = site_sub.add_parser("set-counters", help="set imported baselines")
    counters.add_argument("site")
    counters.add_argument("--json", required=True,
                          help='e.g. {"visits": {"total": 12380046}, "pageviews": {"total": 0}}')
    merge = site_sub.add_parser(
        "merge", help="merge SITE into TARGET: its figures move there, it becomes an alias")
    merge.add_argument("site")
    merge.add_argument("--into", required=True, metavar="TARGET")
    register_site(site_sub)
    site.set_defaults(func=cmd_site)


def _site_changes(args: argparse.Namespace) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name in ("name", "timezone", "locale", "online_window_seconds",
                 "session_timeout_seconds", "pageview_dedupe_seconds", "max_pages",
                 "public_stats"):
        value = getattr(args, name, None)
        if value is not None:
            changes[name] = value
    if args.origin is not None:
        changes["origins"] = args.origin
    return changes


def cmd_site(args: argparse.Namespace) -> int:
    """site create|update|list|delete|set-counters|show|merge|export|import."""
    if args.action in ("export", "import"):
        return cmd_site_move(args)
    with open_store() as store:
        if args.action == "list":
            print_json([s.to_json() for s in sites.list_sites(store)])
            return 0
        if args.action == "create":
            if sites.exists(store, args.site):
                raise CommandError(f"site {args.site} exists; use `site update`")
            site, _ = sites.put_site(store, args.site, _site_changes(args))
            print_json(site.to_json())
        elif args.action == "update":
            sites.get_site(store, args.site, cached=False)
            site, _ = sites.put_site(store, args.site, _site_changes(args))
            print_json(site.to_json())
        elif args.action == "delete":
            sites.delete_site(store, args.site, purge=args.purge)
            print(f"deleted {args.site}" + (" and all its data" if args.purge else ""))
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
