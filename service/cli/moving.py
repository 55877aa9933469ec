"""`portal-widgets site export|import`, `backup`, `restore`: moving portals, backups."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from service.cli.common import CommandError, open_store, print_json
from service.provinces import moving


def register_site(site_sub: Any) -> None:
    """Add `site export` and `site import` (service.cli.site dispatches to them)."""
    export = site_sub.add_parser(
        "export", help="write one site's data as an export file (JSON Lines)",
        description="Write everything SITE has (settings, baselines, figures of every kept "
        "period, daily history, uniques, pages and titles, top lists, sources, hotlines, "
        "polls, groups and aliases) as one JSON Lines file with a SHA-256 trailer.")
    export.add_argument("site", help="the site id")
    export.add_argument("-o", "--output", metavar="FILE",
                        help="write to FILE (default: standard output)")
    imp = site_sub.add_parser(
        "import", help="create a site (or add it to one) from an export file",
        description="Create the site of an export file with everything as exported, or with "
        "--into add it to an existing site exactly as `site merge` would (the imported id "
        "becomes an alias). A file is imported once; a truncated, altered or newer-version "
        "file is refused and changes nothing; an interrupted import run again finishes.")
    imp.add_argument("file", metavar="FILE", help="the export file ('-': standard input)")
    imp.add_argument("--as", dest="site_as", metavar="SITE",
                     help="create it under this id (default: the exported id)")
    imp.add_argument("--into", metavar="TARGET", help="add it to this existing site")


def register(sub: Any) -> None:
    """Add `backup` and `restore`."""
    backup = sub.add_parser(
        "backup", help="write every site, token and group into DIR",
        description="Write every site's export file, the admin tokens (as stored: digests, "
        "never secrets) and the groups into DIR (new or empty). manifest.json is written "
        "last; a directory without it is an incomplete backup.")
    backup.add_argument("directory", metavar="DIR",
                        help="where the backup is written (created if missing)")
    backup.set_defaults(func=cmd_backup)
    restore = sub.add_parser(
        "restore", help="recreate a backup's sites, tokens and groups",
        description="Recreate every site (figures, history, pages, polls, hotlines), token "
        "and group of a backup in a deployment that has none of its own. Run it again after "
        "an interruption: it finishes.")
    restore.add_argument("directory", metavar="DIR",
                         help="a directory written by `portal-widgets backup`")
    restore.set_defaults(func=cmd_restore)


def _chunks(name: str) -> Any:
    if name == "-":
        stream = sys.stdin.buffer
        return iter(lambda: stream.read(moving.CHUNK), b"")
    path = Path(name)
    if not path.is_file():
        raise CommandError(f"no such file: {name}")
    return moving.read_chunks(path)


def cmd_site_move(args: argparse.Namespace) -> int:
    """site export|import."""
    with open_store() as store:
        now = datetime.now(UTC)
        if args.action == "export":
            chunks = moving.export(store, args.site, now=now)
            if args.output:
                partial = Path(args.output + ".part")
                with partial.open("wb") as handle:
                    for chunk in chunks:
                        handle.write(chunk)
                partial.replace(args.output)  # no half-written file under the real name
                print(f"exported {args.site} to {args.output}", file=sys.stderr)
            else:
                for chunk in chunks:
                    sys.stdout.buffer.write(chunk)
                sys.stdout.buffer.flush()
            return 0
        checked = moving.check(_chunks(args.file))
        try:
            print_json(moving.import_file(store, checked, now=now, site_as=args.site_as,
                                          into=args.into))
        finally:
            checked.close()
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    """backup DIR."""
    with open_store() as store:
        print_json(moving.backup(store, Path(args.directory), now=datetime.now(UTC)))
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """restore DIR."""
    with open_store() as store:
        print_json(moving.restore(store, Path(args.directory), now=datetime.now(UTC)))
    return 0
