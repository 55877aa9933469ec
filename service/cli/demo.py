"""`portal-widgets demo`: the demo portals and group, and the addresses to open."""

from __future__ import annotations

import argparse
import os
from typing import Any

from service.cli.common import open_store
from service.runtime import demo
from service.runtime.config import ConfigError, parse_public_url


def register(sub: Any) -> None:
    """Add the demo command."""
    parser = sub.add_parser(
        "demo",
        help="create the demo portals (demo, demo-2), their group and the seed page's content",
        description="Create or refresh the demo sites `demo` and `demo-2` (hotlines, poll, the "
                    "seed portal's figures as imported baselines) and the group `demo`; counts "
                    "already there are kept. The demo site's origins are the service's own "
                    "(loopback on --port, and PW_PUBLIC_URL), so its pages are verified against "
                    "the demo page the service serves. Prints the addresses to open.")
    parser.add_argument("--port", type=int, default=8000,
                        help="the port `serve` listens on (the demo page's origin; 8000)")
    parser.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    """Create the demo sites and group, then print every address a newcomer needs."""
    try:
        public_url = parse_public_url(os.environ.get("PW_PUBLIC_URL") or None)
    except ConfigError as exc:
        print(f"error: {exc}")
        return 2
    with open_store() as store:
        demo.install(store, demo.origins_for(public_url, args.port))
    base = public_url or f"http://127.0.0.1:{args.port}"
    print(f"""demo ready. Once `portal-widgets serve --dev` runs (make run starts it):
  demo portal page        {base}/demo
  admin page              {base}/admin/
    a token for it:       .venv/bin/portal-widgets token create --name me   (in another terminal)
  public statistics       {base}/stats/{demo.DEMO_SITE}
  group statistics        {base}/stats/groups/{demo.DEMO_GROUP}
  privacy notice          {base}/privacy
  API description         {base}/api/v1/openapi.json""")
    return 0
