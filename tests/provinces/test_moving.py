"""Moving a portal: export files, imports (new site or into one), backups and restores,
between two deployments (a second redis-server; on the cluster, a second key prefix)."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service import ratings, sites, tickets, tokens
from service.cli import main
from service.counting import figures, visits
from service.counting.sources import Source
from service.errors import Conflict, Invalid
from service.hotlines import rules as hotlines
from service.pages import rules as pages
from service.polls import rules as polls
from service.provinces import groups, merges, moving
from service.ratings import summary as rating_summary
from service.reports import build as reports
from service.sites import Site
from service.store import Store, get_store, sections
from service.store import sites as sites_db
from service.store.layout import LAYOUT_VERSION
from service.store.pages import page_id
from tests.conftest import SECRET, at, make_app
from tests.redis_proc import RedisProcess

T0 = at("2026-11-26T10:00:00+07:00")
PATHS = [f"/tin-tuc/bai-{i}" for i in range(23)]
PERIODS = ("today", "week", "month", "year")


class Stop(Exception):
    """The injected failure: the import process dies here."""


@dataclasses.dataclass
class Deployment:
    app: Flask
    url: str
    prefix: str
    client: Any  # a raw Redis client (decoded) of its server

    @property
    def store(self) -> Store:
        with self.app.app_context():
            return get_store()

    def dump(self) -> bytes:
        """Every key of this deployment, its type and its value."""
        keys = sorted(self.client.scan_iter(match=f"{self.prefix}:*"))
        return b"\n".join(key.encode() + b" " + _value(self.client, key) for key in keys)


def _value(client: Any, key: str) -> bytes:
    kind = client.type(key)
    if kind == "hash":
        value: Any = sorted(client.hgetall(key).items())
    elif kind == "zset":
        value = client.zrange(key, 0, -1, withscores=True)
    elif kind == "set":
        value = sorted(client.smembers(key))
    elif kind == "string":
        try:
            value = client.get(key)
        except UnicodeDecodeError:  # a HyperLogLog
            value = ["binary", client.strlen(key)]
    else:
        value = kind
    return json.dumps([kind, value]).encode()


@pytest.fixture
def src(app: Flask, redis_server: Any) -> Iterator[Deployment]:
    with redis_server.client() as client:
        yield Deployment(app, redis_server.url, "pw", client)


@pytest.fixture
def dest(tmp_path: Path, redis_server: Any,
         pytestconfig: pytest.Config) -> Iterator[Deployment]:
    """Another deployment: its own redis-server (on the cluster: its own key prefix)."""
    if pytestconfig.getoption("--redis-cluster"):
        made = make_app(redis_server.url, PW_KEY_PREFIX="dest")
        with redis_server.client() as client:
            yield Deployment(made, redis_server.url, "dest", client)
        made.extensions["pw_store"].redis.close()
        return
    server = RedisProcess(tmp_path / "dest").start()
    made = make_app(server.url)
    try:
        with server.client() as client:
            yield Deployment(made, server.url, "pw", client)
    finally:
        made.extensions["pw_store"].redis.close()
        server.stop()


def hit(store: Store, site: Site, visitor: str, path: str, title: str, now: datetime,
        source: Source | None = None) -> None:
    assert visits.record_hit(store, site, visitor=visitor, path=path, title=title, now=now,
                             source=source or Source("direct")) is not None


def populate(store: Store, site_id: str = "phuongcu", *, alias: bool = True) -> Site:
    """A ward portal with a bit of everything: visits on several days and last year, pages
    (one hidden, one with a locked title), sources and hosts, baselines, hotlines with
    clicks, a poll with votes, a group, and an old portal merged into it."""
    site, _ = sites.put_site(store, site_id, {"name": "Phường Cũ", "origins": [
        "https://phuongcu.gov.vn"], "verify_pages": False, "public_stats": True})
    days = [T0 - timedelta(days=d) for d in (0, 1, 2, 9, 40)] + [
        at("2025-12-30T09:00:00+07:00")]
    n = 0
    for day in days:
        for i, path in enumerate(PATHS[: 5 + days.index(day) * 3]):
            n += 1
            source = [Source("search", "coccoc.com"), Source("social", "zalo.me"),
                      Source("gov", "dichvucong.gov.vn"), None][n % 4]
            hit(store, site, f"v{n % 17}-{day:%j}", path, f"Bài số {i}",
                day + timedelta(seconds=7 * n), source)
    pages.moderate(store, site, {"path": PATHS[1], "hidden": True})
    pages.moderate(store, site, {"path": PATHS[2], "title": "=Tiêu đề khoá"})
    figures.set_baselines(store, site, {"visits": {"total": 12380046, "month": 40},
                                        "pageviews": {"total": 30000000}}, now=T0)
    hotlines.replace(store, site, {"title": "Đường dây nóng", "hotlines": [
        {"label": "Tiếp công dân", "number": "1022"}, {"label": "Công an", "number": "113"}]})
    box = hotlines.admin_view(store, site)
    for item in box["hotlines"][:1] * 3:
        hotlines.click(store, site, item["id"])
    polls.create(store, site, {"id": "dap-ung", "question": "Khả năng đáp ứng?",
                               "options": ["Tốt", "Kém"]}, now=at("2026-11-01T00:00:00+07:00"))
    k = store.keys
    with store.guard("test"):
        store.redis.hset(k.poll_tally(site_id, "dap-ung"), mapping={"o1": 3, "o2": 1,
                                                                     "_total": 4})
        store.redis.sadd(k.poll_voters(site_id, "dap-ung"), "aa", "bb", "cc", "dd")
        store.redis.hset(k.poll_ips(site_id, "dap-ung"), mapping={"ip1": 3, "ip2": 1})
    polls.set_current(store, site, {"poll": "dap-ung"})
    rated = [(PATHS[0], True, [], T0), (PATHS[0], False, ["sai", "cu"], T0),
             (PATHS[3], False, ["thieu"], T0 - timedelta(days=40)), (PATHS[3], True, [], T0)]
    for n, (path, useful, reasons, when) in enumerate(rated):
        ratings.rate(store, site, path, useful=useful, reasons=reasons,
                     ticket=tickets.issue(SECRET, "rating", site_id, page_id(path), now=when),
                     token=f"rater-{n:04d}", ip=f"10.1.0.{n}", secret=SECRET, per_ip=20,
                     now=when, lang="vi")
    if alias:
        old, _ = sites.put_site(store, f"{site_id}-xa", {"name": "Xã cũ"})
        hit(store, old, "x1", "/tin-tuc/xa", "Tin xã", T0 - timedelta(days=3))
        hit(store, old, "x2", PATHS[0], "Bài số 0", T0 - timedelta(days=3))
        merges.merge(store, old.id, site_id, now=T0, settle_seconds=0)
    return sites.get_site(store, site_id, cached=False)


def snapshot(store: Store, site_id: str) -> dict[str, Any]:
    """What the public and the admin see of a site, at T0 (who is online left out)."""
    site = sites.get_site(store, site_id, cached=False)
    stats = visits.read_stats(store, site, now=T0)
    stats.pop("online", None)
    out: dict[str, Any] = {
        "settings": site.to_json(), "stats": stats,
        "counters": figures.counters(store, site, now=T0),
        "history": figures.history(store, site, date(2025, 12, 1), T0.date()),
        "top": {p: pages.top(store, site, period=p, limit=50, now=T0) for p in PERIODS},
        "views": pages.views(store, site, [*PATHS, "/tin-tuc/xa"]),
        "hotlines": hotlines.admin_view(store, site),
        "polls": polls.list_polls(store, site, now=T0),
        "tally": polls.load(store, site, "dap-ung")[1] if polls.list_polls(
            store, site, now=T0) else None,
        "ratings": {p: rating_summary.admin_view(store, site, period=p, sort="most_rated",
                                                 limit=100, now=T0)
                    for p in ("month", "year", "total")},
        "raters": store.redis.zcard(store.keys.raters(site_id)),
    }
    for month, year in (("2026-11", None), ("2026-10", None), (None, "2025")):
        period = reports.period_from(month, year, today=T0.date())
        report = dataclasses.asdict(reports.site_report(store, site, period, now=T0))
        report.pop("generated")
        report.pop("name_id")
        out[f"report:{month or year}"] = report
    return out


def api(client: FlaskClient, token: str, site_id: str) -> dict[str, Any]:
    """The admin API's answers that do not depend on today: history, report rows."""
    auth = {"Authorization": f"Bearer {token}"}
    history = client.get(f"/api/v1/admin/sites/{site_id}/history?from=2025-12-01&to=2026-11-26",
                         headers=auth)
    report = client.get(f"/api/v1/admin/sites/{site_id}/report?month=2026-11",
                        headers={**auth, "Accept": "text/csv"})
    views = client.get(f"/api/v1/sites/{site_id}/pages?" + "&".join(
        f"path={p}" for p in PATHS[:5]))
    assert history.status_code == report.status_code == views.status_code == 200
    return {"history": history.get_json(), "report": report.get_data(as_text=True),
            "views": views.get_json()}


def kinds(deployment: Deployment, site_id: str) -> set[str]:
    """The kinds of key a site has (`hist` for pw:{site}:hist:2026, ...)."""
    pattern = f"{deployment.prefix}:{{{site_id}}}:*"
    return {key.split("}:", 1)[1].split(":")[0]
            for key in deployment.client.scan_iter(match=pattern)}


def export_bytes(store: Store, site_id: str) -> bytes:
    return b"".join(moving.export(store, site_id, now=T0))


def import_bytes(store: Store, data: bytes, **kwargs: Any) -> dict[str, Any]:
    chunks = (data[i:i + 1000] for i in range(0, len(data), 1000))
    return moving.import_stream(store, chunks, now=T0, **kwargs)


def resign(lines: list[bytes]) -> bytes:
    """Lines (header first, no trailer) with a correct trailer."""
    body = b"".join(lines)
    trailer = {"trailer": True, "lines": len(lines), "sha256": hashlib.sha256(body).hexdigest()}
    return body + json.dumps(trailer).encode() + b"\n"


def star_token(store: Store) -> str:
    return tokens.create(store, "tinh", [], now=datetime.now(UTC))


# -- the file ----------------------------------------------------------------------------

def test_the_export_file_has_a_header_every_section_and_a_checksum(src: Deployment) -> None:
    store = src.store
    populate(store)
    sites.put_site(store, "khac", {})
    groups.put_group(store, "hanoi", {"name": "Hà Nội", "sites": ["phuongcu", "khac"]})
    groups.put_group(store, "khac", {"name": "Khác", "sites": ["khac"]})
    data = export_bytes(store, "phuongcu")
    lines = data.splitlines(keepends=True)
    header = json.loads(lines[0])
    assert header["format"] == "portal-widgets-export"
    assert header["version"] == LAYOUT_VERSION == 5
    assert header["site"] == "phuongcu" and len(header["export_id"]) == 32
    assert header["exported_at"] == T0.isoformat()
    trailer = json.loads(lines[-1])
    assert trailer == {"trailer": True, "lines": len(lines) - 1,
                       "sha256": hashlib.sha256(b"".join(lines[:-1])).hexdigest()}
    found = {json.loads(line)["section"] for line in lines[1:-1]}
    assert found == set(sections.SECTIONS) - {"checks"}  # this site does not verify its pages
    by_section = [json.loads(line) for line in lines[1:-1]]
    assert next(x for x in by_section if x["section"] == "groups")["groups"] == ["hanoi"]
    aliases = next(x for x in by_section if x["section"] == "aliases")
    assert [a["id"] for a in aliases["aliases"]] == ["phuongcu-xa"]
    # a second export is another file (another export id): it may be imported once more
    assert json.loads(export_bytes(store, "phuongcu").splitlines()[0])["export_id"] != \
        header["export_id"]


def test_large_keys_are_exported_in_batches(src: Deployment,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sections, "BATCH", 4)
    store = src.store
    populate(store, alias=False)
    lines = [json.loads(x) for x in export_bytes(store, "phuongcu").splitlines()[1:-1]]
    page_lines = [x for x in lines if x["section"] == "pages"]
    assert len(page_lines) >= 5
    with store.guard("test"):
        tracked = store.redis.zcard(store.keys.page_views("phuongcu"))
    assert tracked == 20
    assert sorted(p[1] for x in page_lines for p in x["pages"]) == sorted(PATHS[:20])
    assert all(len(x["pages"]) <= 4 for x in page_lines)
    voters = [x for x in lines if x.get("part") == "voters"]
    assert sorted(v for x in voters for v in x["voters"]) == ["aa", "bb", "cc", "dd"]


# -- import: a new site --------------------------------------------------------------------

def test_an_imported_site_shows_what_the_source_shows(src: Deployment,
                                                      dest: Deployment) -> None:
    """Export from one deployment, import into another through the admin routes: the same
    stats, history, pages, polls, hotlines and reports."""
    populate(src.store)
    with src.app.app_context():
        src_token = star_token(src.store)
    with dest.app.app_context():
        dest_token = star_token(dest.store)
    exported = src.app.test_client().get("/api/v1/admin/sites/phuongcu/export",
                                         headers={"Authorization": f"Bearer {src_token}"})
    assert exported.status_code == 200
    assert exported.mimetype == "application/x-ndjson"
    assert "attachment" in exported.headers["Content-Disposition"]
    data = exported.get_data()
    answer = dest.app.test_client().post(
        "/api/v1/admin/sites/phuongcu/import", data=data,
        headers={"Authorization": f"Bearer {dest_token}",
                 "Content-Type": "application/x-ndjson"})
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["site"] == "phuongcu"
    before = snapshot(src.store, "phuongcu")
    after = snapshot(dest.store, "phuongcu")
    assert after == before
    assert before["stats"]["visits"]["total"] > 12380046
    assert api(dest.app.test_client(), dest_token, "phuongcu") == api(
        src.app.test_client(), src_token, "phuongcu")
    # every kind of key the site has came along, but the short-lived ones
    short_lived = {"once", "session", "seen", "online", "rl", "ucache", "ptitle-next",
                   "merge", "merge-tmp", "import", "rt-nonces", "rt-ip"}
    assert kinds(src, "phuongcu") - short_lived == kinds(dest, "phuongcu") - short_lived
    assert kinds(src, "phuongcu") >= {"settings", "total", "c", "hist", "hll", "imported", "pv",
                                      "paths", "ptitle", "ptitle-locked", "phidden", "rank",
                                      "hotlines", "hotline-clicks", "polls", "poll-current",
                                      "poll", "src", "src-hosts", "aliases", "rt", "rt-pages",
                                      "rt-raters"}
    # the alias came along: old snippets addressed to it count into the imported site
    alias = sites.get_site(dest.store, "phuongcu-xa", cached=False)
    assert alias.merged_into == "phuongcu"
    assert not merges.pending(dest.store, alias)
    assert sites.resolve_public(dest.store, "phuongcu-xa").id == "phuongcu"
    # the HyperLogLogs came as they are: uniques equal to the last digit
    assert after["stats"]["uniques"] == before["stats"]["uniques"]
    # and the imported site counts on
    site = sites.get_site(dest.store, "phuongcu", cached=False)
    hit(dest.store, site, "new-reader", PATHS[0], "Bài số 0", T0 + timedelta(minutes=5))
    grown = visits.read_stats(dest.store, site, now=T0 + timedelta(minutes=5))
    assert grown["visits"]["total"] == before["stats"]["visits"]["total"] + 1


def test_import_as_another_id_and_into_a_group(src: Deployment, dest: Deployment) -> None:
    populate(src.store, alias=False)
    groups.put_group(src.store, "hanoi", {"name": "Hà Nội", "sites": ["phuongcu"]})
    data = export_bytes(src.store, "phuongcu")
    sites.put_site(dest.store, "khac", {})
    groups.put_group(dest.store, "hanoi", {"name": "Hà Nội", "sites": ["khac"]})
    result = import_bytes(dest.store, data, site_as="phuongmoi")
    assert result["site"] == "phuongmoi" and result["source"] == "phuongcu"
    before = snapshot(src.store, "phuongcu")
    after = snapshot(dest.store, "phuongmoi")
    assert after["settings"]["id"] == "phuongmoi"
    for name in ("settings", "report:2026-11", "report:2026-10", "report:2025"):
        before[name].pop("id", None)
        after[name].pop("id", None)
    before["stats"].pop("site")
    after["stats"].pop("site")
    assert after == before
    # it joined the group of that id that exists here
    assert groups.get_group(dest.store, "hanoi").sites == ("khac", "phuongmoi")


def test_a_file_is_imported_once_and_an_existing_id_is_refused(src: Deployment,
                                                               dest: Deployment) -> None:
    populate(src.store, alias=False)
    data = export_bytes(src.store, "phuongcu")
    import_bytes(dest.store, data)
    before = dest.dump()
    with pytest.raises(Conflict, match="already imported"):
        import_bytes(dest.store, data)
    with pytest.raises(Conflict, match="already imported"):
        import_bytes(dest.store, data, site_as="other")
    # another export of the same site: the id exists
    with pytest.raises(Conflict, match="site phuongcu exists"):
        import_bytes(dest.store, export_bytes(src.store, "phuongcu"))
    assert dest.dump() == before
    token = star_token(dest.store)
    again = dest.app.test_client().post(
        "/api/v1/admin/sites/phuongcu/import", data=data,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"})
    assert again.status_code == 409 and again.get_json()["error"] == "already imported"


def test_data_left_under_a_deleted_id_is_refused(src: Deployment, dest: Deployment) -> None:
    populate(src.store, alias=False)
    data = export_bytes(src.store, "phuongcu")
    old, _ = sites.put_site(dest.store, "phuongcu", {})
    hit(dest.store, old, "z", "/", "", T0)
    sites.delete_site(dest.store, "phuongcu")  # without purge: its figures stay
    before = dest.dump()
    with pytest.raises(Conflict, match="--purge"):
        import_bytes(dest.store, data)
    assert dest.dump() == before


# -- refused files change nothing ----------------------------------------------------------

def _bad_files(data: bytes) -> dict[str, bytes]:
    lines = data.splitlines(keepends=True)
    header = json.loads(lines[0])
    newer = json.dumps({**header, "version": LAYOUT_VERSION + 1}).encode() + b"\n"
    altered = lines[:]
    altered[3] = altered[3].replace(b"1", b"2", 1) if b"1" in altered[3] else b"{}\n"
    unknown = [*lines[:-1], json.dumps({"section": "ratings-v9"}).encode() + b"\n"]
    bad_hll = [*lines[:-1], json.dumps({"section": "uniques", "period": "2026",
                                        "hll": "00ff"}).encode() + b"\n"]
    return {
        "truncated (no trailer)": b"".join(lines[:-1]),
        "truncated mid-line": data[: len(data) // 2],
        "altered": b"".join(altered),
        "a line dropped": b"".join(lines[:2] + lines[3:]),
        "newer version": resign([newer, *lines[1:-1]]),
        "unknown section": resign(unknown),
        "not a HyperLogLog": resign(bad_hll),
        "not JSON": resign([lines[0], b"{nope\n"]),
        "no header": resign(lines[1:-1]),
        "empty": b"",
        "after the trailer": data + b'{"section": "settings"}\n',
    }


def test_truncated_altered_or_newer_files_are_refused_and_change_nothing(
        src: Deployment, dest: Deployment) -> None:
    populate(src.store, alias=False)
    data = export_bytes(src.store, "phuongcu")
    sites.put_site(dest.store, "khac", {"name": "Khác"})
    token = star_token(dest.store)
    client = dest.app.test_client()
    before = dest.dump()
    reasons = {}
    for name, bad in _bad_files(data).items():
        with pytest.raises(Invalid) as refused:
            import_bytes(dest.store, bad)
        reasons[name] = refused.value.reason
        answer = client.post("/api/v1/admin/sites/phuongcu/import", data=bad,
                             headers={"Authorization": f"Bearer {token}",
                                      "Content-Type": "application/x-ndjson"})
        assert answer.status_code == 400, name
        assert answer.get_json()["error"] == refused.value.reason
        into = client.post("/api/v1/admin/sites/khac/import?into=1", data=bad,
                           headers={"Authorization": f"Bearer {token}",
                                    "Content-Type": "application/x-ndjson"})
        assert into.status_code == 400, name
        assert dest.dump() == before, name
    assert f"newer than this deployment's {LAYOUT_VERSION}" in reasons["newer version"]
    assert "checksum" in reasons["altered"] and "checksum" in reasons["a line dropped"]
    assert "truncated" in reasons["truncated (no trailer)"]
    assert "unknown section" in reasons["unknown section"]
    # and the good file still imports
    assert import_bytes(dest.store, data)["site"] == "phuongcu"


# -- interrupted imports -------------------------------------------------------------------

def _stop_at(n: int) -> Any:
    def after(applied: int) -> None:
        if applied >= n:
            raise Stop(applied)
    return after


@pytest.mark.parametrize("stop_at", [1, 3, 10_000])
def test_an_interrupted_import_completes_exactly_once(src: Deployment, dest: Deployment,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      stop_at: int) -> None:
    monkeypatch.setattr(moving, "APPLY_BATCH", 2)
    monkeypatch.setattr(sections, "BATCH", 5)
    populate(src.store)
    data = export_bytes(src.store, "phuongcu")
    checked = moving.check([data])
    total = checked.lines
    with pytest.raises(Stop):
        moving.import_file(dest.store, checked, now=T0,
                           after_lines=_stop_at(min(stop_at, total)))
    # the site does not exist yet: its settings come last
    assert not sites.exists(dest.store, "phuongcu")
    assert sites.exists(dest.store, "phuongcu-xa") is False
    result = moving.import_file(dest.store, checked, now=T0)
    assert result["resumed"] is True
    checked.close()
    assert snapshot(dest.store, "phuongcu") == snapshot(src.store, "phuongcu")
    with pytest.raises(Conflict, match="already imported"):
        import_bytes(dest.store, data)


def test_an_import_killed_during_its_merge_finishes_the_merge_once(
        src: Deployment, dest: Deployment, monkeypatch: pytest.MonkeyPatch) -> None:
    populate(src.store, alias=False)
    populate(src.store, "phuongmoi", alias=False)
    target_file = export_bytes(src.store, "phuongmoi")
    data = export_bytes(src.store, "phuongcu")
    import_bytes(dest.store, target_file)
    real = merges.merge

    def dying(*args: Any, **kwargs: Any) -> Any:
        def after(step: str) -> None:
            if step.startswith("hist:"):
                raise Stop(step)
        return real(*args, **kwargs, after_step=after)

    monkeypatch.setattr(merges, "merge", dying)
    with pytest.raises(Stop):
        import_bytes(dest.store, data, into="phuongmoi")
    monkeypatch.setattr(merges, "merge", real)
    assert import_bytes(dest.store, data, into="phuongmoi")["resumed"] is True
    merges.merge(src.store, "phuongcu", "phuongmoi", now=T0, settle_seconds=0)
    assert snapshot(dest.store, "phuongmoi") == snapshot(src.store, "phuongmoi")


# -- import into an existing site: a merge ---------------------------------------------------

def test_import_into_a_site_is_a_merge(src: Deployment, dest: Deployment) -> None:
    populate(src.store, alias=False)
    populate(src.store, "phuongmoi", alias=False)
    import_bytes(dest.store, export_bytes(src.store, "phuongmoi"))
    data = export_bytes(src.store, "phuongcu")
    token = star_token(dest.store)
    # (the route merges at today's date; here the periods of T0 are compared)
    answer = import_bytes(dest.store, data, into="phuongmoi")
    assert answer["merged_into"] == "phuongmoi" and answer["site"] == "phuongcu"
    # the same merge on the source deployment
    merges.merge(src.store, "phuongcu", "phuongmoi", now=T0, settle_seconds=0)
    assert snapshot(dest.store, "phuongmoi") == snapshot(src.store, "phuongmoi")
    alias = sites.get_site(dest.store, "phuongcu", cached=False)
    assert alias.merged_into == "phuongmoi"
    assert sites.resolve_public(dest.store, "phuongcu").id == "phuongmoi"
    # hotlines and polls stay with the imported id, as after a merge
    assert hotlines.admin_view(dest.store, alias) == hotlines.admin_view(src.store, alias)
    again = dest.app.test_client().post(
        "/api/v1/admin/sites/phuongmoi/import?into=1", data=data,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"})
    assert again.status_code == 409
    # through the route, under another id (`as`)
    other = dest.app.test_client().post(
        "/api/v1/admin/sites/phuongmoi/import?into=1&as=phuong-ba",
        data=export_bytes(src.store, "phuongcu"),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"})
    assert other.status_code == 201, other.get_json()
    assert other.get_json()["site"] == "phuong-ba"
    assert sites.get_site(dest.store, "phuong-ba", cached=False).merged_into == "phuongmoi"
    assert sites_db.aliases(dest.store, "phuongmoi") == {"phuongcu", "phuong-ba"}


def test_import_into_is_refused_where_a_merge_would_be(src: Deployment,
                                                       dest: Deployment) -> None:
    populate(src.store)  # phuongcu has an alias: it cannot be merged into another
    data = export_bytes(src.store, "phuongcu")
    sites.put_site(dest.store, "tinh", {})
    sites.put_site(dest.store, "bidanh", {})
    merges.merge(dest.store, "bidanh", "tinh", now=T0, settle_seconds=0)
    before = dest.dump()
    with pytest.raises(Conflict, match="other sites were merged"):
        import_bytes(dest.store, data, into="tinh")
    with pytest.raises(Conflict, match="target is an alias"):
        import_bytes(dest.store, data, into="bidanh")
    with pytest.raises(Invalid, match="unknown site"):
        import_bytes(dest.store, data, into="khongco")
    assert dest.dump() == before


# -- admin routes ----------------------------------------------------------------------------

def test_admin_routes_need_the_right_token_and_send_no_cors_headers(src: Deployment) -> None:
    store = src.store
    populate(store, alias=False)
    sites.put_site(store, "khac", {})
    own = tokens.create(store, "phuong", ["phuongcu"], now=datetime.now(UTC))
    star = star_token(store)
    client = src.app.test_client()
    origin = {"Origin": "https://phuongcu.gov.vn"}
    url = "/api/v1/admin/sites/phuongcu/export"
    assert client.get(url, headers=origin).status_code == 401
    mine = client.get(url, headers={**origin, "Authorization": f"Bearer {own}"})
    assert mine.status_code == 200
    assert "Access-Control-Allow-Origin" not in mine.headers
    assert mine.headers["Cache-Control"] == "no-store"
    assert client.get("/api/v1/admin/sites/khac/export",
                      headers={"Authorization": f"Bearer {own}"}).status_code == 403
    assert client.get("/api/v1/admin/sites/nope/export",
                      headers={"Authorization": f"Bearer {star}"}).status_code == 404
    data = mine.get_data()
    before = src.dump()
    post = "/api/v1/admin/sites/moi/import"
    ndjson = {"Content-Type": "application/x-ndjson", **origin}
    assert client.post(post, data=data, headers=ndjson).status_code == 401
    scoped = client.post(post, data=data, headers={**ndjson, "Authorization": f"Bearer {own}"})
    assert scoped.status_code == 403
    wrong = client.post(post, data=data, headers={"Authorization": f"Bearer {star}",
                                                  "Content-Type": "application/json"})
    assert wrong.status_code == 415
    preflight = client.options(post, headers={**origin,
                                              "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert src.dump() == before
    done = client.post(post, data=data, headers={**ndjson, "Authorization": f"Bearer {star}"})
    assert done.status_code == 201
    assert "Access-Control-Allow-Origin" not in done.headers
    assert snapshot(store, "moi")["history"] == snapshot(store, "phuongcu")["history"]


def test_the_import_route_streams_a_body_far_over_64_kib(src: Deployment,
                                                         dest: Deployment) -> None:
    store = src.store
    site, _ = sites.put_site(store, "lon", {})
    with store.guard("test"):
        pipe = store.redis.pipeline(transaction=False)
        for i in range(3000):
            path = f"/van-ban/so-{i:05d}-quyet-dinh-ve-viec-phe-duyet"
            pid = hashlib.sha256(path.encode()).hexdigest()[:16]
            pipe.zadd(store.keys.page_views("lon"), {pid: i + 1})
            pipe.hset(store.keys.page_paths("lon"), pid, path)
            pipe.hset(store.keys.page_titles("lon"), pid, f"Quyết định số {i}")
        pipe.execute()
    data = export_bytes(store, "lon")
    assert len(data) > 4 * 64 * 1024
    token = star_token(dest.store)

    answer = dest.app.test_client().post(  # sent chunked: no Content-Length
        "/api/v1/admin/sites/lon/import", input_stream=io.BytesIO(data),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson",
                 "Transfer-Encoding": "chunked"}, environ_base={"wsgi.input_terminated": True})
    assert answer.status_code == 201, answer.get_json()
    got = pages.top_of(dest.store, sites.get_site(dest.store, "lon"), "x", 1)
    assert got == []  # no rank list was written: none existed
    found = pages.views(dest.store, sites.get_site(dest.store, "lon"),
                        ["/van-ban/so-02999-quyet-dinh-ve-viec-phe-duyet"])
    assert found["/van-ban/so-02999-quyet-dinh-ve-viec-phe-duyet"] == {
        "views": 3000, "title": "Quyết định số 2999"}
    # other routes keep their 64 KiB limit
    big = dest.app.test_client().put(
        "/api/v1/admin/sites/lon", data=b"{" + b" " * (70 * 1024) + b"}",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    assert big.status_code == 413


# -- backup and restore ----------------------------------------------------------------------

def _cli(monkeypatch: pytest.MonkeyPatch, deployment: Deployment, *argv: str,
         capsys: pytest.CaptureFixture[str]) -> Any:
    monkeypatch.setenv("PW_REDIS_URL", deployment.url)
    monkeypatch.setenv("PW_KEY_PREFIX", deployment.prefix)
    code = main(list(argv))
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out) if out.out.strip().startswith("{") else out.out


def test_backup_and_restore_recreate_a_deployment(src: Deployment, dest: Deployment,
                                                  tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    populate(src.store)
    populate(src.store, "phuongmoi", alias=False)
    groups.put_group(src.store, "hanoi", {"name": "Hà Nội",
                                          "sites": ["phuongcu", "phuongmoi"]})
    secret = tokens.create(src.store, "phuong", ["phuongcu"], now=datetime.now(UTC))
    made = _cli(monkeypatch, src, "backup", str(tmp_path / "bk"), capsys=capsys)
    assert made["sites"] == ["phuongcu", "phuongmoi", "phuongcu-xa"]
    assert made["tokens"] == 1 and made["groups"] == 1
    assert sorted(p.name for p in (tmp_path / "bk").iterdir()) == [
        "groups.json", "manifest.json", "sites", "tokens.json"]
    assert secret not in (tmp_path / "bk" / "tokens.json").read_text()
    done = _cli(monkeypatch, dest, "restore", str(tmp_path / "bk"), capsys=capsys)
    assert done == {"sites": 3, "skipped": 0, "tokens": 1, "groups": 1}
    for site_id in ("phuongcu", "phuongmoi", "phuongcu-xa"):
        if site_id == "phuongcu-xa":
            a = sites.get_site(src.store, site_id, cached=False)
            b = sites.get_site(dest.store, site_id, cached=False)
            assert a == b and b.merged_into == "phuongcu"
            continue
        assert snapshot(dest.store, site_id) == snapshot(src.store, site_id), site_id
    assert [t.to_json() for t in tokens.list_tokens(dest.store)] == [
        t.to_json() for t in tokens.list_tokens(src.store)]
    assert tokens.authenticate(dest.store, secret) is not None
    assert groups.list_groups(dest.store) == groups.list_groups(src.store)
    assert groups.stats(dest.store, "hanoi", now=T0)["visits"] == groups.stats(
        src.store, "hanoi", now=T0)["visits"]
    # the same restore again changes nothing (every site is already imported)
    before = dest.dump()
    again = _cli(monkeypatch, dest, "restore", str(tmp_path / "bk"), capsys=capsys)
    assert again["skipped"] == 3 and dest.dump() == before
    # into a deployment with sites of its own: refused
    monkeypatch.setenv("PW_REDIS_URL", src.url)
    monkeypatch.setenv("PW_KEY_PREFIX", src.prefix)
    sites.put_site(src.store, "rieng", {})
    assert main(["restore", str(tmp_path / "bk")]) == 1
    assert "empty deployment" in capsys.readouterr().err


def test_a_backup_directory_must_be_new_or_empty_and_complete(
        src: Deployment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    populate(src.store, alias=False)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    monkeypatch.setenv("PW_REDIS_URL", src.url)
    monkeypatch.setenv("PW_KEY_PREFIX", src.prefix)
    assert main(["backup", str(tmp_path / "full")]) == 1
    assert "not empty" in capsys.readouterr().err
    assert main(["restore", str(tmp_path / "full")]) == 1
    assert "not a complete backup" in capsys.readouterr().err


def test_the_command_line_exports_and_imports(src: Deployment, dest: Deployment,
                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    populate(src.store, alias=False)
    out = tmp_path / "phuongcu.jsonl"
    _cli(monkeypatch, src, "site", "export", "phuongcu", "-o", str(out), capsys=capsys)
    assert json.loads(out.read_bytes().splitlines()[0])["site"] == "phuongcu"
    result = _cli(monkeypatch, dest, "site", "import", str(out), "--as", "phuongmoi",
                  capsys=capsys)
    assert result["site"] == "phuongmoi" and result["resumed"] is False
    assert snapshot(dest.store, "phuongmoi")["history"] == snapshot(src.store,
                                                                   "phuongcu")["history"]
    assert main(["site", "import", str(out), "--as", "phuongmoi"]) == 1
    assert "already imported" in capsys.readouterr().err
    out.write_bytes(out.read_bytes()[:-40])
    assert main(["site", "import", str(out), "--as", "ba"]) == 1
    assert "truncated" in capsys.readouterr().err or "checksum" in capsys.readouterr().err


def test_an_unfinished_import_keeps_its_id_from_other_files(src: Deployment, dest: Deployment,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    monkeypatch.setattr(moving, "APPLY_BATCH", 2)
    populate(src.store, alias=False)
    first = moving.check([export_bytes(src.store, "phuongcu")])
    second = export_bytes(src.store, "phuongcu")
    with pytest.raises(Stop):
        moving.import_file(dest.store, first, now=T0, after_lines=_stop_at(2))
    before = dest.dump()
    with pytest.raises(Conflict, match="another import is writing site phuongcu"):
        import_bytes(dest.store, second)
    with pytest.raises(Conflict, match="being imported as phuongcu"):
        moving.import_file(dest.store, first, now=T0, site_as="khac")
    with pytest.raises(Conflict, match="an import of site phuongcu is unfinished"):
        sites.put_site(dest.store, "phuongcu", {})  # would clear the lines applied so far
    assert dest.dump() == before
    assert moving.import_file(dest.store, first, now=T0)["resumed"] is True
    first.close()
    assert snapshot(dest.store, "phuongcu") == snapshot(src.store, "phuongcu")


def test_an_id_purged_after_an_import_takes_another_file(src: Deployment,
                                                         dest: Deployment) -> None:
    populate(src.store, alias=False)
    import_bytes(dest.store, export_bytes(src.store, "phuongcu"))
    sites.delete_site(dest.store, "phuongcu", purge=True)
    assert not sites.exists(dest.store, "phuongcu")
    import_bytes(dest.store, export_bytes(src.store, "phuongcu"))
    assert snapshot(dest.store, "phuongcu") == snapshot(src.store, "phuongcu")


def test_a_line_over_the_limit_is_refused(src: Deployment, dest: Deployment,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    populate(src.store, alias=False)
    data = export_bytes(src.store, "phuongcu")
    longest = max(len(line) for line in data.splitlines())
    monkeypatch.setattr(moving, "MAX_LINE", longest - 1)
    before = dest.dump()
    with pytest.raises(Invalid, match="longer than"):
        import_bytes(dest.store, data)
    assert dest.dump() == before
    monkeypatch.setattr(moving, "MAX_LINE", longest + 1)
    assert import_bytes(dest.store, data)["site"] == "phuongcu"
