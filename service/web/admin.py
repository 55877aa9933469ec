"""Admin API under /api/v1/admin/: sites, counters, history, sources, reports (Bearer
tokens); hotlines, polls, pages, ratings: each feature's admin_views.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from service import sites
from service.counting import figures, sources
from service.errors import Invalid
from service.reports import build as reports
from service.reports import gate as report_gate
from service.reports import workbook
from service.sites import Site
from service.store import get_store
from service.web import common, reads
from service.web.auth import admin_required

ADMIN_BODY = 64 * 1024


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    site_id = (request.view_args or {}).get("site_id")
    if request.method != "GET" and site_id is not None:
        reads.forget(site_id)  # this process answers the admin's change at once
    return response


def admin_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint of admin API routes: never cached."""
    blueprint = Blueprint(name, import_name, url_prefix="/api/v1/admin")
    # failed tokens are limited per address by service.web.auth, after the token check
    blueprint.after_request(_no_store)
    return blueprint


bp = admin_blueprint("admin", __name__)


def admin_site(site_id: str) -> Site:
    return sites.get_site(get_store(), site_id, cached=False)


def admin_body() -> Any:
    return common.json_body(ADMIN_BODY)


@bp.get("/sites")
@admin_required
def list_sites() -> Response:
    """Sites this token may see."""
    token = g.pw_token
    found = [s.to_json() for s in sites.list_sites(get_store()) if token.allows(s.id)]
    return jsonify(sites=found)


@bp.get("/sites/<site_id>")
@admin_required
def get_site(site_id: str) -> Response:
    """One site's settings."""
    return jsonify(admin_site(site_id).to_json())


@bp.put("/sites/<site_id>")
@admin_required
def put_site(site_id: str) -> Response:
    """Create the site or update the settings the body names."""
    site, created = sites.put_site(get_store(), site_id, admin_body())
    response = jsonify(site.to_json())
    response.status_code = 201 if created else 200
    return response


@bp.delete("/sites/<site_id>")
@admin_required
def delete_site(site_id: str) -> Response:
    """Delete the site, its data kept and its id taken; `?purge=1` erases every key of it."""
    purge = request.args.get("purge", "").lower() in ("1", "true", "yes")
    sites.delete_site(get_store(), site_id, purge=purge)
    return Response(status=204)


@bp.get("/sites/<site_id>/counters")
@admin_required
def get_counters(site_id: str) -> Response:
    """Imported baselines and measured counts, apart."""
    return jsonify(figures.counters(get_store(), admin_site(site_id), now=common.now()))


@bp.put("/sites/<site_id>/counters")
@admin_required
def put_counters(site_id: str) -> Response:
    """Set baselines (the public figure becomes imported + measured)."""
    site = admin_site(site_id)
    now = common.now()
    figures.set_baselines(get_store(), site, admin_body(), now=now)
    return jsonify(figures.counters(get_store(), site, now=now))


def _date_arg(name: str, default: date) -> date:
    raw = request.args.get(name)
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Invalid(f"{name} must be a date YYYY-MM-DD") from None


@bp.get("/sites/<site_id>/history")
@admin_required
def history(site_id: str) -> Response:
    """Daily visits, pageviews, uniques; CSV with Accept: text/csv."""
    site = admin_site(site_id)
    today = common.now().astimezone(site.tz).date()
    end = _date_arg("to", today)
    start = _date_arg("from", date.fromordinal(end.toordinal() - 29))
    days = figures.history(get_store(), site, start, end, now=common.now())
    if request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv":
        response = Response(workbook.csv_text(["date", "visits", "pageviews", "uniques"],
                                              days), mimetype="text/csv")
        response.headers["Content-Disposition"] = (
            f'attachment; filename="{site.id}-{start}-{end}.csv"'
        )
        return response
    return jsonify(days=days)


@bp.get("/sites/<site_id>/sources")
@admin_required
def get_sources(site_id: str) -> Response:
    """New visits by source of today, this week, month or year; referring hosts."""
    site = admin_site(site_id)
    period = request.args.get("period", "month")
    return jsonify(sources.sources(get_store(), site, period=period, now=common.now()))


def _wants_csv() -> bool:
    return request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv"


# The report's CSV speaks the report's language; a BOM lets Excel read it as UTF-8.
REPORT_CSV_HEADER = ["Ngày", "Lượt truy cập", "Lượt xem trang", "Khách (ước tính)"]


def report_response(key: tuple[str, ...], period: reports.ReportPeriod, today: date,
                    build: Callable[[], reports.Report]) -> Response:
    """The workbook, or the daily rows as CSV with Accept: text/csv: built one at a time
    per process, and kept when the period has ended (service.reports.gate)."""
    extension = "csv" if _wants_csv() else "xlsx"

    def render() -> tuple[bytes, str]:
        report = build()
        if extension == "csv":
            text = workbook.csv_text(["date", "visits", "pageviews", "uniques"], report.days,
                                     header=REPORT_CSV_HEADER)
            # a byte-order mark, so that Excel reads the Vietnamese headers as UTF-8
            body = ("\ufeff" + text).encode()
        else:
            body = workbook.render(report)
        return body, f"bao-cao-{report.name_id}-{report.period.id}.{extension}"

    body, filename = report_gate.kept_or_built(
        reads.kept_reports(), (*key, period.id, extension),
        ended=report_gate.has_ended(period.end, today), build=render)
    mimetype = "text/csv; charset=utf-8" if extension == "csv" else workbook.MIMETYPE
    response = Response(body, content_type=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/sites/<site_id>/report")
@admin_required
def site_report(site_id: str) -> Response:
    """The month's (?month=YYYY-MM) or year's (?year=YYYY) report: Excel, or CSV days."""
    site = admin_site(site_id)
    now = common.now()
    today = common.now().astimezone(site.tz).date()
    period = reports.period_from(request.args.get("month"), request.args.get("year"),
                                 today=today)
    return report_response(("site", site.id), period, today,
                           lambda: reports.site_report(get_store(), site, period, now=now))
