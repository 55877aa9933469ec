"""The demo site: the seed portal page's hotline box, visit box and poll."""

from __future__ import annotations

from service import hotlines, sites
from service.store import Store

DEMO_SITE = "demo"


def install(store: Store) -> None:
    """Create (or refresh) the demo site; keeps counts that already exist."""
    site, _ = sites.put_site(store, DEMO_SITE, {"name": "Cổng TTĐT Quận Thanh Xuân (demo)"})
    office_hours = {day: [["07:30", "11:30"], ["13:30", "17:00"]]
                    for day in ("mon", "tue", "wed", "thu", "fri")}
    hotlines.replace(store, site, {"title": hotlines.DEFAULT_TITLE, "hotlines": [
        {"id": "tiep-cong-dan", "label": "Tiếp công dân", "number": "024.62933647",
         "group": "UBND Quận", "hours": office_hours},
        {"id": "giai-quyet-tthc", "label": "Giải quyết TTHC", "number": "024.38585652",
         "group": "UBND Quận", "hours": office_hours},
        {"id": "an-toan-thuc-pham", "label": "An toàn thực phẩm", "number": "0868216873",
         "group": "UBND Quận"},
    ]})
