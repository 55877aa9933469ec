"""The public statistics page /stats/{site}: server-rendered, no JavaScript, strict CSP."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, render_template, request

from service import limits as limiter
from service.allowances import READS
from service.reports import statspage
from service.store import get_store
from service.web import common, headers
from service.web.widgets import number_format

bp = Blueprint("stats_page", __name__, url_prefix="/stats",
               static_folder=str(Path(__file__).parent.parent / "static"),
               static_url_path="/static")

LABELS = {
    "vi": {
        "title": "Thống kê truy cập", "online": "Đang online", "today": "Hôm nay",
        "week": "Trong tuần", "month": "Trong tháng", "year": "Trong năm",
        "total": "Tổng số truy cập", "visits": "Lượt truy cập", "pageviews": "Lượt xem trang",
        "days": "Lượt truy cập 30 ngày qua", "months": "Lượt truy cập 12 tháng qua",
        "day": "Ngày", "month_col": "Tháng", "table": "Bảng số liệu",
        "top": "Trang xem nhiều trong tháng", "path": "Trang", "views": "Lượt xem",
        "view_one": "lượt xem", "view_many": "lượt xem",
        "no_pages": "Chưa có lượt xem nào trong tháng này.", "poll": "Kết quả bình chọn",
        "votes": "phiếu", "vote_one": "phiếu", "total_votes": "Tổng số phiếu",
        "imported": "Trong tổng số {total} lượt truy cập, {imported} lượt được chuyển từ "
                    "bộ đếm cũ của cổng; {measured} lượt được đo từ khi dùng bộ đếm này.",
        "split": "{imported} chuyển từ bộ đếm cũ + {measured} đo được",
        "charts_note": "Biểu đồ chỉ gồm lượt truy cập đo được từ khi dùng bộ đếm này; số "
                       "chuyển từ bộ đếm cũ không chia theo ngày nên không có trên biểu đồ.",
        "zone_vn": "giờ Việt Nam", "zone_other": "múi giờ {tz}",
        "portal": "Cổng", "ranking": "Các cổng, xếp theo lượt truy cập trong tháng",
        "as_of": "Số liệu lúc", "other_lang": "English", "other_code": "en",
        "week_note": "Tuần tính từ thứ Hai; ngày, tuần, tháng, năm tính theo {zone}.",
        "chart_desc": "Biểu đồ cột; số liệu ghi trên mỗi cột và trong bảng bên dưới.",
    },
    "en": {
        "title": "Visit statistics", "online": "Online now", "today": "Today",
        "week": "This week", "month": "This month", "year": "This year",
        "total": "Total visits", "visits": "Visits", "pageviews": "Page views",
        "days": "Visits in the last 30 days", "months": "Visits in the last 12 months",
        "day": "Day", "month_col": "Month", "table": "Data table",
        "top": "Most read this month", "path": "Page", "views": "Views",
        "view_one": "view", "view_many": "views",
        "no_pages": "No page views this month yet.", "poll": "Poll results",
        "votes": "votes", "vote_one": "vote", "total_votes": "Total votes",
        "imported": "Of the {total} visits in all, {imported} were imported from the portal's "
                    "previous counter; {measured} have been measured since this counter began.",
        "split": "{imported} from the old counter + {measured} measured",
        "charts_note": "The charts hold only the visits measured since this counter began; "
                       "figures imported from the old counter are not split by day, so they "
                       "are not on the charts.",
        "zone_vn": "Vietnam time (Asia/Ho_Chi_Minh)", "zone_other": "the {tz} time zone",
        "portal": "Portal", "ranking": "Portals, ranked by visits this month",
        "as_of": "Figures as of", "other_lang": "Tiếng Việt", "other_code": "vi",
        "week_note": "Weeks start on Monday; days, weeks, months and years in {zone}.",
        "chart_desc": "Bar chart; each bar's value is written on it and in the table below.",
    },
}


@bp.get("/<site_id>")
def site_page(site_id: str) -> Response:
    """A site's public statistics; 404 unless its public_stats setting is on."""
    limiter.spend(READS)
    site = common.load_site(site_id)
    content = statspage.page(get_store(), site, now=common.now())
    lang = "en" if request.args.get("lang") == "en" else "vi"
    response = Response(render_template("stats.html", site=site, lang=lang, t=LABELS[lang],
                                        number=number_format(lang), **content))
    response.headers["Content-Security-Policy"] = headers.stats_policy(site.origins)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "public, max-age=60"
    response.vary.add("Accept-Encoding")
    return response
