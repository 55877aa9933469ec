"""`portal-widgets demo`: the demo site with the seed page's hotlines and poll."""

from __future__ import annotations

import argparse
import os
from typing import Any

from service import demo
from service.cli.common import open_store
from service.config import ConfigError, parse_public_url


def register(sub: Any) -> None:
    """Add the demo command."""
    parser = sub.add_parser("demo", help="create the demo site with the seed page's content")
    parser.add_argument("--port", type=int, default=8000,
                        help="the port `serve` listens on (the demo page's origin; 8000)")
    parser.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    """Create the `demo` site with the seed page's hotlines and poll; its origins are the
    service's own (loopback on --port, and PW_PUBLIC_URL), so its pages are verified against
    the demo page the service serves."""
    try:
        public_url = parse_public_url(os.environ.get("PW_PUBLIC_URL") or None)
    except ConfigError as exc:
        print(f"error: {exc}")
        return 2
    with open_store() as store:
        demo.install(store, demo.origins_for(public_url, args.port))
    print(f"demo site ready: open http://127.0.0.1:{args.port}/demo after "
          "`portal-widgets serve --dev`")
    return 0
