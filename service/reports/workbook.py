"""A report as an Excel workbook (openpyxl): Vietnamese headers, numeric and date cells,
column widths set and the header row frozen on every sheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from service.ratings import REASON_LABELS
from service.reports.build import Report

MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SOURCE_LABELS = {"direct": "Truy cập trực tiếp", "search": "Công cụ tìm kiếm",
                 "social": "Mạng xã hội", "gov": "Cổng, trang cơ quan nhà nước (.gov.vn)",
                 "other": "Trang web khác"}
RATING_REASONS = REASON_LABELS["vi"]  # reason id -> column header, in the readers' order
POLL_STATUS = {"open": "Đang mở", "closed": "Đã đóng", "scheduled": "Chưa mở"}
NUMBER = "#,##0"
PERCENT = "0.0%"
DATE = "dd/mm/yyyy"
DATETIME = "dd/mm/yyyy hh:mm"
# What a spreadsheet would take for the start of a formula (or a DDE command) in a CSV cell
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="A4161A")


def _sheet(book: Workbook, title: str, headers: Sequence[str], widths: Sequence[int],
           first: bool = False) -> Worksheet:
    sheet: Worksheet = book.active if first else book.create_sheet()  # type: ignore[assignment]
    sheet.title = title
    sheet.append(list(headers))
    for i, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
        cell = sheet.cell(row=1, column=i)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    sheet.freeze_panes = "A2"
    return sheet


def _formats(sheet: Worksheet, formats: dict[int, str]) -> None:
    """Number formats by column (1-based) for every row below the header."""
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            fmt = formats.get(int(cell.column or 0))
            if fmt and isinstance(cell.value, int | float | date):
                cell.number_format = fmt


def _change(current: int, previous: int) -> float | None:
    return (current - previous) / previous if previous else None


def _summary(book: Workbook, r: Report) -> None:
    s = _sheet(book, "Tổng hợp", ["Chỉ số", r.period.label(), r.period.previous().label(),
                                  "Thay đổi"], [44, 18, 18, 12], first=True)
    rows: list[tuple[str, int, int]] = []
    for kind, label in (("visits", "Lượt truy cập"), ("pageviews", "Lượt xem trang")):
        measured, imported = r.measured[kind], r.imported[kind]
        rows += [
            (f"{label} (đo được)", measured["current"], measured["previous"]),
            (f"{label} chuyển từ bộ đếm cũ", imported["current"], imported["previous"]),
            (f"{label} (cộng)", measured["current"] + imported["current"],
             measured["previous"] + imported["previous"]),
        ]
    rows.append(("Khách (số lượt người khác nhau theo ngày)", r.measured["uniques"]["current"],
                 r.measured["uniques"]["previous"]))
    for label, current, previous in rows:
        s.append([label, current, previous, _change(current, previous)])
    s.append([])
    s.append(["Cổng", r.name])
    s.append(["Kỳ báo cáo", r.period.label()])
    s.append(["Từ ngày", r.period.start])
    s.append(["Đến ngày", r.period.end])
    if r.days:  # the current period is counted up to today
        s.append(["Số liệu đến hết ngày", date.fromisoformat(r.days[-1]["date"])])
    s.append(["Tổng số truy cập từ trước đến nay", r.total["visits"]])
    s.append(["Trong đó chuyển từ bộ đếm cũ", r.total_imported["visits"]])
    # a date cell in the site's local time (a spreadsheet stores no time zone)
    s.append(["Lập lúc", datetime.fromisoformat(r.generated).replace(tzinfo=None)])
    _formats(s, {2: NUMBER, 3: NUMBER, 4: PERCENT})
    for row in s.iter_rows(min_row=2, min_col=2, max_col=2):
        if isinstance(row[0].value, datetime):
            row[0].number_format = DATETIME
        elif isinstance(row[0].value, date):
            row[0].number_format = DATE


def _days(book: Workbook, r: Report) -> None:
    s = _sheet(book, "Theo ngày", ["Ngày", "Lượt truy cập", "Lượt xem trang", "Khách"],
               [14, 16, 16, 12])
    for day in r.days:
        s.append([date.fromisoformat(day["date"]), day["visits"], day["pageviews"],
                  day["uniques"]])
    _formats(s, {1: DATE, 2: NUMBER, 3: NUMBER, 4: NUMBER})


def _pages(book: Workbook, r: Report, group: bool) -> None:
    headers = ["Hạng", "Đường dẫn", "Tiêu đề", "Lượt xem"]
    widths = [8, 50, 60, 14]
    if group:
        headers.insert(1, "Cổng")
        widths.insert(1, 24)
    s = _sheet(book, "Trang xem nhiều", headers, widths)
    for rank, page in enumerate(r.top_pages, start=1):
        row: list[Any] = [rank, page["path"], page["title"] or "", page["views"]]
        if group:
            row.insert(1, page["site"])
        s.append(row)
    _formats(s, {len(headers): NUMBER})


def _sources(book: Workbook, r: Report) -> None:
    s = _sheet(book, "Nguồn truy cập", ["Nguồn", "Lượt truy cập", "Tỉ lệ"], [44, 16, 10])
    total = sum(r.sources.values())
    for category, label in SOURCE_LABELS.items():
        visits = r.sources.get(category, 0)
        s.append([label, visits, visits / total if total else 0.0])
    s.append(["Cộng", total, 1.0 if total else 0.0])
    s.append([])
    s.append(["Trang giới thiệu (tên miền)", "Lượt truy cập"])
    s.cell(row=s.max_row, column=1).font = Font(bold=True)
    s.cell(row=s.max_row, column=2).font = Font(bold=True)
    for host in r.hosts:
        s.append([host["host"], host["visits"]])
    _formats(s, {2: NUMBER, 3: PERCENT})


def _polls(book: Workbook, r: Report, group: bool) -> None:
    headers = ["Câu hỏi", "Trạng thái", "Phương án", "Số phiếu", "Tỉ lệ"]
    widths = [50, 12, 40, 12, 10]
    if group:
        headers.insert(0, "Cổng")
        widths.insert(0, 24)
    s = _sheet(book, "Bình chọn", headers, widths)
    for poll in r.polls:
        for option in poll["options"]:
            row: list[Any] = [poll["question"], POLL_STATUS.get(poll["status"], poll["status"]),
                              option["label"], option["votes"], option["share"]]
            if group:
                row.insert(0, poll["site"])
            s.append(row)
        total: list[Any] = [poll["question"], "", "Tổng số phiếu", poll["total"], None]
        if group:
            total.insert(0, poll["site"])
        s.append(total)
    n = len(headers)
    _formats(s, {n - 1: NUMBER, n: PERCENT})


def _by_site(book: Workbook, r: Report) -> None:
    s = _sheet(book, "Theo cổng", ["Hạng", "Cổng", "Mã", "Lượt truy cập", "Lượt xem trang",
                                   "Khách", "Lượt đánh giá", "Tỉ lệ hữu ích"],
               [8, 36, 20, 16, 16, 12, 14, 14])
    for rank, row in enumerate(r.sites, start=1):
        s.append([rank, row["name"], row["site"], row["visits"], row["pageviews"],
                  row["uniques"], row.get("ratings", 0), row.get("share_useful")])
    _formats(s, {4: NUMBER, 5: NUMBER, 6: NUMBER, 7: NUMBER, 8: PERCENT})


def _ratings(book: Workbook, r: Report, group: bool) -> None:
    """Đánh giá thông tin: the total first, then each rated page, most rated first."""
    headers = ["Đường dẫn", "Tiêu đề", "Hữu ích", "Không hữu ích", "Tỉ lệ hữu ích",
               *RATING_REASONS.values()]
    widths = [50, 60, 10, 14, 14, *([16] * len(RATING_REASONS))]
    if group:
        headers.insert(0, "Cổng")
        widths.insert(0, 24)
    s = _sheet(book, "Đánh giá thông tin", headers, widths)

    def row(first: list[Any], counts: dict[str, Any]) -> None:
        s.append([*first, counts["useful"], counts["not_useful"], counts["share"],
                  *(counts["reasons"].get(reason, 0) for reason in RATING_REASONS)])
        for cell in s[s.max_row][:len(first)]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # a title is text, never a formula

    row(([r.name] if group else []) + ["Tổng cộng", ""], r.rating_totals)
    for page in r.rated_pages:
        row(([page["site"]] if group else []) + [page["path"], page["title"] or ""], page)
    start = 4 if group else 3
    _formats(s, {start: NUMBER, start + 1: NUMBER, start + 2: PERCENT,
                 **{start + 3 + i: NUMBER for i in range(len(RATING_REASONS))}})


def _literal_text(book: Workbook) -> None:
    """Every text cell a literal string: openpyxl takes text that begins with `=` for a
    formula, so a page title, path, host, poll or site name that does is stored as text."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"


def csv_cell(value: Any) -> Any:
    """A CSV value no spreadsheet evaluates: text beginning with =, +, -, @, tab or CR gets a
    leading `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(fieldnames: Sequence[str], rows: Iterable[Mapping[str, Any]],
             header: Sequence[str] | None = None) -> str:
    """Rows as CSV with a header line (the field names, or `header`'s labels), every value
    made safe by `csv_cell`."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(fieldnames), extrasaction="ignore")
    if header is None:
        writer.writeheader()
    else:
        csv.writer(out).writerow([csv_cell(label) for label in header])
    writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in rows)
    return out.getvalue()


def render(report: Report) -> bytes:
    """The .xlsx bytes: Tổng hợp, Theo ngày, Trang xem nhiều, Nguồn truy cập, Bình chọn,
    Đánh giá thông tin, and Theo cổng for a group."""
    book = Workbook()
    group = bool(report.sites)
    _summary(book, report)
    _days(book, report)
    _pages(book, report, group)
    _sources(book, report)
    _polls(book, report, group)
    _ratings(book, report, group)
    if group:
        _by_site(book, report)
    _literal_text(book)
    book.properties.title = f"Báo cáo {report.name} — {report.period.label()}"
    book.properties.creator = "portal-widgets"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
