"""`portal-widgets demo`: the demo portals and group, and the addresses to open."""

from __future__ import annotations

import argparse
from typing import Any

from service import demo
from service.cli.common import open_store

BASE = "http://127.0.0.1:8000"


def register(sub: Any) -> None:
    """Add the demo command."""
    sub.add_parser(
        "demo",
        help="create the demo portals (demo, demo-2), their group and the seed page's content",
        description="Create or refresh the demo sites `demo` and `demo-2` (hotlines, poll, the "
                    "seed portal's figures as imported baselines) and the group `demo`; counts "
                    "already there are kept. Prints the addresses to open.",
    ).set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    """Create the demo sites and group, then print every address a newcomer needs."""
    with open_store() as store:
        demo.install(store)
    print(f"""demo ready. Once `portal-widgets serve --dev` runs (make run starts it):
  demo portal page        {BASE}/demo
  admin page              {BASE}/admin/
    a token for it:       .venv/bin/portal-widgets token create --name me   (in another terminal)
  public statistics       {BASE}/stats/{demo.DEMO_SITE}
  group statistics        {BASE}/stats/groups/{demo.DEMO_GROUP}
  privacy notice          {BASE}/privacy
  API description         {BASE}/api/v1/openapi.json""")
    return 0
