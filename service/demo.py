"""The demo site: the seed portal page's hotline box, visit box and poll."""

from __future__ import annotations

from service import sites
from service.store import Store

DEMO_SITE = "demo"


def install(store: Store) -> None:
    """Create (or refresh) the demo site; keeps counts that already exist."""
    sites.put_site(store, DEMO_SITE, {"name": "Cổng TTĐT Quận Thanh Xuân (demo)"})
