"""The demo: the seed portal page's hotline box, visit box and poll, a second portal and a
group of both, so every page of the service can be seen after `make run`."""

from __future__ import annotations

from datetime import UTC, datetime

from service import sites
from service.counting import figures
from service.errors import Conflict
from service.hotlines import rules as hotlines
from service.polls import rules as polls
from service.provinces import groups
from service.store import Store

DEMO_SITE = "demo"
DEMO_PATH = "/demo"  # the demo portal page, served by the service itself
SECOND_SITE = "demo-2"
DEMO_GROUP = "demo"
# The seed portal's old counter ("Lượt truy cập trong tuần: 47519 ... Tổng số truy cập:
# 12380046"), imported as baselines so the demo's counter reads like the seed page.
SEED_VISITS = {"week": 47_519, "month": 106_288, "year": 1_754_427, "total": 12_380_046}
SECOND_VISITS = {"week": 8_214, "month": 19_530, "year": 301_877, "total": 2_004_315}


def origins_for(public_url: str | None, port: int) -> list[str]:
    """The demo site's origins: the service itself, since it serves the demo page. Its own
    loopback address first (where its verifier fetches the page from), then PW_PUBLIC_URL."""
    found = [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]
    if public_url:
        found.append(public_url)
    return found


def install(store: Store, origins: list[str] | None = None) -> None:
    """Create (or refresh) the demo sites and group; keeps counts that already exist.

    With `origins` (the service's own), the demo page's paths are verified against the demo
    page the service serves, like a real portal's.
    """
    now = datetime.now(UTC)
    settings: dict[str, object] = {"name": "Cổng TTĐT Quận Thanh Xuân", "public_stats": True}
    if origins is not None:
        settings["origins"] = origins
    site, _ = sites.put_site(store, DEMO_SITE, settings)
    figures.set_baselines(store, site, {"visits": SEED_VISITS}, now=now)
    second, _ = sites.put_site(store, SECOND_SITE, {"name": "Cổng TTĐT Phường Thanh Xuân Trung",
                                                    "public_stats": True})
    figures.set_baselines(store, second, {"visits": SECOND_VISITS}, now=now)
    groups.put_group(store, DEMO_GROUP, {"name": "Quận Thanh Xuân (minh hoạ)",
                                         "sites": [DEMO_SITE, SECOND_SITE]})
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
    poll = {
        "id": "kha-nang-dap-ung",
        "question": "Khả năng đáp ứng thông tin của Cổng TTĐT ?",
        "options": [
            {"id": "day-du", "label": "Đầy đủ, kịp thời"},
            {"id": "co-ban", "label": "Cơ bản đáp ứng"},
            {"id": "chua-dap-ung", "label": "Chưa đáp ứng"},
            {"id": "y-kien-khac", "label": "Ý kiến khác"},
        ],
        "multiple": False,
        "results": "always",
    }
    try:
        polls.create(store, site, poll, now=now)
    except Conflict:
        pass  # already there, with its votes
    polls.set_current(store, site, {"poll": poll["id"]})
