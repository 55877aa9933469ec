"""`portal-widgets demo`: the demo site with the seed page's hotlines and poll."""

from __future__ import annotations

import argparse
from typing import Any

from service import demo
from service.cli.common import open_store


def register(sub: Any) -> None:
    """Add the demo command."""
    sub.add_parser("demo", help="create the demo site with the seed page's content").set_defaults(
        func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    """Create the `demo` site with the seed page's hotlines and poll."""
    with open_store() as store:
        demo.install(store)
    print("demo site ready: open http://127.0.0.1:8000/demo after `portal-widgets serve --dev`")
    return 0
