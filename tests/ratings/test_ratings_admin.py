"""Ratings for the admin (least useful pages, totals, a group's sites), in reports, on the
public statistics pages, and through merges."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from openpyxl import load_workbook

from service import ratings, sites, tokens
from service.counting import visits
from service.provinces import groups, merges
from service.ratings import summary
from service.reports import build as reports
from service.reports import workbook
from service.sites import Site
from service.store import Store
from service.store.pages import page_id
from tests.conftest import SECRET, at

NOW = at("2026-10-20T10:00:00+07:00")
REASONS = ("thieu", "kho-hieu", "sai", "cu", "khac")
_n = 0


def track(store: Store, site: Site, path: str, title: str, now: datetime = NOW) -> None:
    global _n
    _n += 1
    assert visits.record_hit(store, site, visitor=f"v{_n}", path=path, title=title,
                             now=now) is not None


def rate(store: Store, site: Site, path: str, useful: bool, reasons: list[str] | None = None,
         *, now: datetime = NOW, n: int = 1) -> None:
    """`n` ratings from distinct browsers and addresses at `now` (tickets issued then)."""
    global _n

    class Then(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(now.timestamp())

    serializer = URLSafeTimedSerializer(SECRET, salt="pw-rating-ticket", signer=Then)
    for _ in range(n):
        _n += 1
        ticket = serializer.dumps({"s": site.id, "p": page_id(path), "n": f"nonce-{_n}"})
        ratings.rate(store, site, path, useful=useful, reasons=reasons or [], ticket=ticket,
                     token=f"browser-{_n:06d}", ip=f"10.0.{_n // 250}.{_n % 250}",
                     secret=SECRET, per_ip=20, now=now, lang="vi")


@pytest.fixture
def october(store: Store, site: Site) -> Site:
    """Five pages rated in October 2026 (and one in September)."""
    for path, title in (("/a", "Bài A"), ("/b", "Bài B"), ("/c", "=Bài C"), ("/d", "Bài D"),
                        ("/e", "Bài E")):
        track(store, site, path, title)
    rate(store, site, "/a", True, n=4)
    rate(store, site, "/a", False, ["sai"], n=1)  # 5 ratings, 80 %
    rate(store, site, "/b", False, ["thieu", "cu"], n=4)
    rate(store, site, "/b", True, n=2)  # 6 ratings, 33 %
    rate(store, site, "/c", False, ["kho-hieu"], n=5)  # 5 ratings, 0 %
    rate(store, site, "/d", False, ["khac"], n=4)  # 4 ratings: too few to be "least useful"
    rate(store, site, "/e", True, n=7)  # 7 ratings, 100 %
    rate(store, site, "/e", True, now=at("2026-09-30T23:59:00+07:00"))
    return site


@pytest.fixture
def admin(store: Store) -> dict[str, str]:
    return {"Authorization": "Bearer " + tokens.create(store, "root", [], now=datetime.now(UTC))}


def test_least_useful_pages_with_reasons_and_totals(store: Store, october: Site) -> None:
    found = summary.admin_view(store, october, period="month", sort="least_useful",
                                       limit=100, now=NOW)
    assert [(p["path"], p["share_useful"]) for p in found["pages"]] == [
        ("/c", 0.0), ("/b", 0.3333), ("/a", 0.8), ("/e", 1.0)]
    assert found["pages"][1] == {
        "path": "/b", "title": "Bài B", "useful": 2, "not_useful": 4, "share_useful": 0.3333,
        "reasons": {"thieu": 4, "kho-hieu": 0, "sai": 0, "cu": 4, "khac": 0}}
    assert found["totals"] == {
        "useful": 13, "not_useful": 14, "share_useful": round(13 / 27, 4),
        "reasons": {"thieu": 4, "kho-hieu": 5, "sai": 1, "cu": 4, "khac": 4}}
    assert (found["period"], found["bucket"], found["min_ratings"]) == ("month", "2026-10", 5)
    most = summary.admin_view(store, october, period="month", sort="most_rated",
                                      limit=2, now=NOW)
    assert [(p["path"], p["useful"] + p["not_useful"]) for p in most["pages"]] == [
        ("/e", 7), ("/b", 6)]
    total = summary.admin_view(store, october, period="total", sort="most_rated",
                                       limit=1, now=NOW)
    assert total["pages"][0]["useful"] == 8  # September's rating counts in all time
    year = summary.admin_view(store, october, period="year", sort="most_rated",
                                      limit=10, now=NOW)
    assert year["totals"]["useful"] == 14


def test_the_admin_route(client: FlaskClient, store: Store, site: Site,
                         admin: dict[str, str]) -> None:
    track(store, site, "/a", "Bài A", now=datetime.now(UTC))
    rate(store, site, "/a", False, ["sai"], now=datetime.now(UTC), n=5)
    response = client.get("/api/v1/admin/sites/thanhxuan/ratings?period=month"
                          "&sort=least_useful&limit=100", headers=admin)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["pages"] == [{"path": "/a", "title": "Bài A", "useful": 0, "not_useful": 5,
                              "share_useful": 0.0, "reasons": {
                                  "thieu": 0, "kho-hieu": 0, "sai": 5, "cu": 0, "khac": 0}}]
    assert body["totals"]["not_useful"] == 5
    assert client.get("/api/v1/admin/sites/thanhxuan/ratings").status_code == 401
    other = tokens.create(store, "cg", ["caugiay"], now=datetime.now(UTC))
    assert client.get("/api/v1/admin/sites/thanhxuan/ratings",
                      headers={"Authorization": f"Bearer {other}"}).status_code == 403


@pytest.mark.parametrize(("query", "reason"), [
    ("period=week", "period must be one of month, year, total"),
    ("sort=best", "sort must be least_useful or most_rated"),
    ("limit=0", "limit must be from 1 to 1000, got 0"),
    ("limit=x", "limit must be an integer, got 'x'"),
])
def test_bad_admin_queries_are_400(client: FlaskClient, site: Site, admin: dict[str, str],
                                   query: str, reason: str) -> None:
    response = client.get(f"/api/v1/admin/sites/thanhxuan/ratings?{query}", headers=admin)
    assert response.status_code == 400
    assert response.get_json() == {"error": reason}


def test_the_group_view_ranks_sites_by_share(client: FlaskClient, store: Store, site: Site,
                                             admin: dict[str, str]) -> None:
    now = datetime.now(UTC)
    other, _ = sites.put_site(store, "caugiay", {"name": "Quận Cầu Giấy"})
    sites.put_site(store, "empty", {})
    for s, useful in ((site, 3), (other, 1)):
        track(store, s, "/a", "A", now=now)
        rate(store, s, "/a", True, now=now, n=useful)
        rate(store, s, "/a", False, ["cu"], now=now, n=1)
    groups.put_group(store, "hanoi", {"name": "Hà Nội",
                                      "sites": ["thanhxuan", "caugiay", "empty"]})
    response = client.get("/api/v1/admin/groups/hanoi/ratings?period=month", headers=admin)
    assert response.status_code == 200
    body = response.get_json()
    assert [(s["site"], s["share_useful"]) for s in body["sites"]] == [
        ("caugiay", 0.5), ("thanhxuan", 0.75), ("empty", None)]
    assert body["totals"]["useful"] == 4 and body["totals"]["not_useful"] == 2
    assert body["totals"]["reasons"]["cu"] == 2
    scoped = tokens.create(store, "tx", ["thanhxuan"], now=now)
    assert client.get("/api/v1/admin/groups/hanoi/ratings",
                      headers={"Authorization": f"Bearer {scoped}"}).status_code == 403


def test_the_report_sheet_reads_back_cell_by_cell(store: Store, october: Site) -> None:
    period = reports.period_from("2026-10", None, today=NOW.date())
    book = load_workbook(io.BytesIO(workbook.render(
        reports.site_report(store, october, period, now=NOW + timedelta(days=20)))))
    assert "Đánh giá thông tin" in book.sheetnames
    sheet = book["Đánh giá thông tin"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["Đường dẫn", "Tiêu đề", "Hữu ích", "Không hữu ích", "Tỉ lệ hữu ích",
                       "Thiếu thông tin", "Khó hiểu", "Không chính xác", "Đã lỗi thời", "Khác"]
    assert rows[1] == ["Tổng cộng", None, 13, 14, pytest.approx(13 / 27), 4, 5, 1, 4, 4]
    assert rows[2:] == [
        ["/e", "Bài E", 7, 0, 1.0, 0, 0, 0, 0, 0],
        ["/b", "Bài B", 2, 4, pytest.approx(2 / 6), 4, 0, 0, 4, 0],
        ["/c", "=Bài C", 0, 5, 0.0, 0, 5, 0, 0, 0],
        ["/a", "Bài A", 4, 1, 0.8, 0, 0, 1, 0, 0],
        ["/d", "Bài D", 0, 4, 0.0, 0, 0, 0, 0, 4],
    ]
    assert sheet["B5"].data_type == "s"  # a title that looks like a formula stays text
    assert sheet["E2"].number_format == "0.0%"
    assert sheet["C2"].number_format == "#,##0"
    assert sheet.freeze_panes == "A2"


def test_the_group_report_adds_the_share_to_theo_cong(store: Store, october: Site) -> None:
    other, _ = sites.put_site(store, "caugiay", {"name": "Quận Cầu Giấy"})
    track(store, other, "/x", "X")
    rate(store, other, "/x", False, ["sai"], n=2)
    period = reports.period_from("2026-10", None, today=NOW.date())
    report = reports.group_report(store, "hanoi", "Hà Nội", [october, other], period,
                                  now=NOW + timedelta(days=20))
    book = load_workbook(io.BytesIO(workbook.render(report)))
    by_site = [[c.value for c in row] for row in book["Theo cổng"].iter_rows()]
    assert by_site[0][-2:] == ["Lượt đánh giá", "Tỉ lệ hữu ích"]
    shares = {row[2]: row[-2:] for row in by_site[1:]}
    assert shares["thanhxuan"] == [27, pytest.approx(13 / 27)]
    assert shares["caugiay"] == [2, 0.0]
    sheet = [[c.value for c in row] for row in book["Đánh giá thông tin"].iter_rows()]
    assert sheet[0][0] == "Cổng"
    assert sheet[1][:5] == ["Hà Nội", "Tổng cộng", None, 13, 16]
    assert ["Quận Cầu Giấy", "/x", "X", 0, 2] in [row[:5] for row in sheet]


def test_the_public_pages_show_the_share_of_useful_ratings(client: FlaskClient, store: Store,
                                                           site: Site) -> None:
    sites.put_site(store, "thanhxuan", {"public_stats": True})
    empty = client.get("/stats/thanhxuan").get_data(as_text=True)
    assert "Chưa có lượt đánh giá nào." in empty
    now = datetime.now(UTC)
    track(store, site, "/a", "A", now=now)
    rate(store, site, "/a", True, now=now, n=3)
    rate(store, site, "/a", False, now=now, n=1)
    html = client.get("/stats/thanhxuan").get_data(as_text=True)
    assert "Đánh giá thông tin" in html
    assert "<strong>75%</strong> người đánh giá thấy thông tin hữu ích (4 lượt đánh giá)" \
        in html
    english = client.get("/stats/thanhxuan?lang=en").get_data(as_text=True)
    assert "<strong>75%</strong> of ratings found the information useful (4 ratings)" \
        in english
    sites.put_site(store, "caugiay", {"public_stats": True})
    other = sites.get_site(store, "caugiay", cached=False)
    track(store, other, "/b", "B", now=now)
    rate(store, other, "/b", False, now=now, n=4)
    groups.put_group(store, "hanoi", {"name": "Hà Nội", "sites": ["thanhxuan", "caugiay"]})
    group = client.get("/stats/groups/hanoi").get_data(as_text=True)
    assert "<strong>38%</strong> người đánh giá thấy thông tin hữu ích (8 lượt đánh giá)" \
        in group


def test_a_merge_carries_ratings_once(store: Store) -> None:
    source, _ = sites.put_site(store, "phuong-a", {})
    target, _ = sites.put_site(store, "phuong-b", {})
    for s in (source, target):
        track(store, s, "/chung", "Chung")
    track(store, source, "/rieng", "Riêng")
    rate(store, source, "/chung", False, ["sai"], n=2)
    rate(store, source, "/rieng", True, n=1)
    rate(store, target, "/chung", True, n=3)
    rate(store, source, "/chung", True, now=at("2025-06-01T10:00:00+07:00"))

    def stop_after_first_rating_step(step: str) -> None:
        if step.startswith("rt"):
            raise RuntimeError(step)

    with pytest.raises(RuntimeError):
        merges.merge(store, "phuong-a", "phuong-b", now=NOW, settle_seconds=0,
                     after_step=stop_after_first_rating_step)
    merges.merge(store, "phuong-a", "phuong-b", now=NOW, settle_seconds=0)
    month = summary.admin_view(store, target, period="month", sort="most_rated",
                                       limit=10, now=NOW)
    assert [(p["path"], p["useful"], p["not_useful"], p["reasons"]["sai"])
            for p in month["pages"]] == [("/chung", 3, 2, 2), ("/rieng", 1, 0, 0)]
    assert month["totals"]["useful"] == 4 and month["totals"]["not_useful"] == 2
    total = summary.admin_view(store, target, period="total", sort="most_rated",
                                       limit=10, now=NOW)
    assert total["totals"]["useful"] == 5
    kept = store.redis.pttl(store.keys.ratings("phuong-b", "2026-10"))
    assert kept > 0  # the month's counts still expire
    assert store.redis.pttl(store.keys.ratings("phuong-b", "all")) == -1
