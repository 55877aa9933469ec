"""The portal-widgets command: serve, site, token, hotline, poll, demo."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from service.config import ConfigError, Settings, StorageSettings
from service.embedded import EmbeddedError, EmbeddedRedis, redis_for_command
from service.errors import DomainError
from service.store import StorageUnavailable, Store


class CommandError(Exception):
    """A message for the operator; exit status 1."""


@contextlib.contextmanager
def open_store() -> Iterator[Store]:
    """The store that PW_REDIS_URL names, or the embedded Redis of PW_DATA_DIR."""
    storage = StorageSettings.from_env(os.environ)
    if storage.url is not None:
        yield Store.from_url(storage.url, storage.key_prefix)
        return
    with redis_for_command(storage.data_dir) as url:
        yield Store.from_url(url, storage.key_prefix)


def _print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


# serve -------------------------------------------------------------------------------------

def _prepare_metrics_dir(env: dict[str, str], data_dir: Path) -> None:
    """PROMETHEUS_MULTIPROC_DIR exists and is empty before any worker imports the client."""
    path = Path(env.get("PROMETHEUS_MULTIPROC_DIR") or data_dir / "prometheus")
    if path.exists():
        for child in path.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
    path.mkdir(parents=True, exist_ok=True)
    env["PROMETHEUS_MULTIPROC_DIR"] = str(path.resolve())


def _dev_secret(data_dir: Path) -> str:
    """A throw-away secret for --dev, kept in the data dir so a restart keeps visitor ids."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "dev-secret"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
        print(f"serve --dev: generated a throw-away PW_SECRET_KEY in {path}", file=sys.stderr)
    return path.read_text().strip()


def cmd_serve(args: argparse.Namespace) -> int:
    """Run gunicorn; without PW_REDIS_URL, start and stop the embedded Redis around it."""
    env = dict(os.environ)
    if args.dev and not env.get("PW_SECRET_KEY"):
        env["PW_SECRET_KEY"] = _dev_secret(StorageSettings.from_env(env).data_dir)
    settings = Settings.from_env(env)
    embedded: EmbeddedRedis | None = None
    if settings.embedded:
        embedded = EmbeddedRedis(settings.data_dir)
        embedded.lock()
        _prepare_metrics_dir(env, settings.data_dir)
        embedded.start()
        env["PW_REDIS_URL"] = embedded.url
        print(f"embedded redis on {embedded.socket}", file=sys.stderr)
    else:
        _prepare_metrics_dir(env, settings.data_dir)
    command = [
        sys.executable, "-m", "gunicorn", "-c", "python:service.gunicorn_conf",
        "--bind", f"{args.host}:{args.port}", "service:create_app()",
    ]
    if args.workers:
        command += ["--workers", str(args.workers)]
    if args.threads:
        command += ["--threads", str(args.threads)]
    gunicorn = subprocess.Popen(command, env=env)

    def forward(signum: int, _frame: Any) -> None:
        if gunicorn.poll() is None:
            gunicorn.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    try:
        code = gunicorn.wait()
    finally:
        if gunicorn.poll() is None:
            gunicorn.terminate()
            gunicorn.wait()
        if embedded is not None:
            embedded.stop()
            print("embedded redis stopped", file=sys.stderr)
    return code


# site --------------------------------------------------------------------------------------

def _site_changes(args: argparse.Namespace) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name in ("name", "timezone", "locale", "online_window_seconds",
                 "session_timeout_seconds", "pageview_dedupe_seconds", "max_pages"):
        value = getattr(args, name, None)
        if value is not None:
            changes[name] = value
    if args.origin is not None:
        changes["origins"] = args.origin
    return changes


def cmd_site(args: argparse.Namespace) -> int:
    """site create|update|list|delete|set-counters|show."""
    from service import sites, visits

    with open_store() as store:
        if args.action == "list":
            _print_json([s.to_json() for s in sites.list_sites(store)])
            return 0
        if args.action == "create":
            if store.redis.exists(store.keys.settings(args.site)):
                raise CommandError(f"site {args.site} exists; use `site update`")
            site, _ = sites.put_site(store, args.site, _site_changes(args))
            _print_json(site.to_json())
        elif args.action == "update":
            sites.get_site(store, args.site, cached=False)
            site, _ = sites.put_site(store, args.site, _site_changes(args))
            _print_json(site.to_json())
        elif args.action == "delete":
            sites.delete_site(store, args.site, purge=args.purge)
            print(f"deleted {args.site}" + (" and all its data" if args.purge else ""))
        elif args.action == "show":
            site = sites.get_site(store, args.site, cached=False)
            now = datetime.now(UTC)
            _print_json({"settings": site.to_json(),
                         "stats": visits.read_stats(store, site, now=now),
                         "counters": visits.counters(store, site, now=now)})
        elif args.action == "set-counters":
            site = sites.get_site(store, args.site, cached=False)
            try:
                values = json.loads(args.json)
            except ValueError:
                raise CommandError("--json is not valid JSON") from None
            visits.set_baselines(store, site, values, now=datetime.now(UTC))
            _print_json(visits.counters(store, site, now=datetime.now(UTC)))
    return 0


# token -------------------------------------------------------------------------------------

def cmd_token(args: argparse.Namespace) -> int:
    """token create|list|revoke."""
    from service import tokens

    with open_store() as store:
        if args.action == "create":
            secret = tokens.create(store, args.name, args.site or [], now=datetime.now(UTC))
            scope = ", ".join(args.site) if args.site else "all sites (*)"
            print(f"token {args.name} for {scope}; it is shown only this once:")
            print(secret)
        elif args.action == "list":
            _print_json([t.to_json() for t in tokens.list_tokens(store)])
        else:
            tokens.revoke(store, args.name)
            print(f"revoked {args.name}")
    return 0


# hotline -----------------------------------------------------------------------------------

def cmd_hotline(args: argparse.Namespace) -> int:
    """hotline list|add|remove|title."""
    from service import hotlines, sites

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
            _print_json(hotlines.add(store, site, item))
            return 0
        if args.action == "remove":
            hotlines.remove(store, site, args.id)
        elif args.action == "title":
            doc = hotlines.get(store, site)
            hotlines.replace(store, site, {"title": args.title, "hotlines": doc["hotlines"]})
        _print_json(hotlines.admin_view(store, site))
    return 0


# poll ----------------------------------------------------------------------------------------

def cmd_poll(args: argparse.Namespace) -> int:
    """poll list|create|show|close|open|reset|current|delete."""
    from service import polls, sites

    now = datetime.now(UTC)
    with open_store() as store:
        site = sites.get_site(store, args.site, cached=False)
        if args.action == "list":
            _print_json(polls.list_polls(store, site, now=now))
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
        _print_json(polls.view(definition, tally, now=now, admin=True))
    return 0


# demo --------------------------------------------------------------------------------------

def cmd_demo(args: argparse.Namespace) -> int:
    """Create the `demo` site with the seed page's hotlines and poll."""
    from service import demo

    with open_store() as store:
        demo.install(store)
    print("demo site ready: open http://127.0.0.1:8000/demo after `portal-widgets serve --dev`")
    return 0


# parser ------------------------------------------------------------------------------------

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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(prog="portal-widgets", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the service under gunicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int)
    serve.add_argument("--threads", type=int)
    serve.add_argument("--dev", action="store_true", help="allow a throw-away secret key")
    serve.set_defaults(func=cmd_serve)

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
    site.set_defaults(func=cmd_site)

    token = sub.add_parser("token", help="manage admin tokens")
    token_sub = token.add_subparsers(dest="action", required=True)
    create = token_sub.add_parser("create")
    create.add_argument("--name", required=True)
    create.add_argument("--site", action="append", help="limit to this site (repeat); default all")
    token_sub.add_parser("list")
    revoke = token_sub.add_parser("revoke")
    revoke.add_argument("name")
    token.set_defaults(func=cmd_token)

    hotline = sub.add_parser("hotline", help="manage a site's hotlines")
    hotline_sub = hotline.add_subparsers(dest="action", required=True)
    hl_list = hotline_sub.add_parser("list")
    hl_list.add_argument("site")
    hl_add = hotline_sub.add_parser("add")
    hl_add.add_argument("site")
    hl_add.add_argument("--label", required=True)
    hl_add.add_argument("--number", required=True)
    hl_add.add_argument("--group")
    hl_add.add_argument("--note")
    hl_add.add_argument("--id")
    hl_add.add_argument("--hours", help='JSON, e.g. {"mon": [["07:30", "11:30"]]}')
    hl_remove = hotline_sub.add_parser("remove")
    hl_remove.add_argument("site")
    hl_remove.add_argument("id")
    hl_title = hotline_sub.add_parser("title")
    hl_title.add_argument("site")
    hl_title.add_argument("title")
    hotline.set_defaults(func=cmd_hotline)

    poll = sub.add_parser("poll", help="manage a site's polls")
    poll_sub = poll.add_subparsers(dest="action", required=True)
    poll_sub.add_parser("list").add_argument("site")
    create_poll = poll_sub.add_parser("create")
    create_poll.add_argument("site")
    create_poll.add_argument("--question", required=True)
    create_poll.add_argument("--option", action="append", required=True,
                             help="an option label (repeat, 2-20)")
    create_poll.add_argument("--multiple", action="store_true")
    create_poll.add_argument("--max-choices", dest="max_choices", type=int)
    create_poll.add_argument("--results", default="always",
                             choices=("always", "after_vote", "after_close"))
    create_poll.add_argument("--opens-at", dest="opens_at", help="ISO 8601 with offset")
    create_poll.add_argument("--closes-at", dest="closes_at", help="ISO 8601 with offset")
    create_poll.add_argument("--id")
    for action in ("show", "close", "open", "reset", "current", "delete"):
        one = poll_sub.add_parser(action)
        one.add_argument("site")
        one.add_argument("poll")
    poll.set_defaults(func=cmd_poll)

    demo = sub.add_parser("demo", help="create the demo site with the seed page's content")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (CommandError, EmbeddedError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except DomainError as exc:
        print(f"error: {exc.reason}", file=sys.stderr)
        return 1
    except StorageUnavailable as exc:
        print(f"error: redis unavailable ({exc.operation})", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
