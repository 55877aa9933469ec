"""The allowances, declared once (service.allowances), and the one limiter API; time is the
app's clock, which the tests set: no test waits for a window to end."""

from __future__ import annotations

import ast
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from flask_limiter import Limiter

from service import allowances
from service.clock import Clock
from service.polls import votes
from service.sites import Site
from tests.conftest import SECRET, fresh_window, post_hit

SERVICE = Path(__file__).resolve().parent.parent.parent / "service"
# every module that answers requests: what the routes share, and each feature's routes
ROUTES = sorted([*SERVICE.glob("web/*.py"), *SERVICE.glob("*/views.py"),
                 *SERVICE.glob("*/admin_views.py")])


def test_each_allowance_is_declared_once_with_its_count_and_window() -> None:
    table = {a.name: (a.count, a.window_s, a.where, a.network_factor) for a in allowances.ALL}
    assert table == {
        "hit": (600, 60, "script", 4),
        "beat": (600, 60, "script", 0),
        "vote": (10, 60, "script", 4),
        "rating": (30, 60, "script", 0),
        "reads": (1200, 60, "process", 0),
        "clicks": (120, 60, "shared", 0),
        "admin-failures": (20, 60, "shared", 0),
    }
    assert len(table) == len(allowances.ALL)  # no name twice


def test_no_view_reads_the_machine_clock() -> None:
    """Views take the time from the app's clock (service.clock), so a test can set it."""
    assert len(ROUTES) >= 20  # the layout moved: a glob that finds nothing proves nothing
    found = []
    for path in ROUTES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("now", "utcnow", "today") \
                    and isinstance(node.value, ast.Name) and node.value.id in ("datetime",
                                                                                "date"):
                found.append(f"{path.name}:{node.lineno}")
    assert found == []


def test_a_window_is_aligned_to_the_clock_and_says_when_it_ends() -> None:
    reads = allowances.READS
    assert reads.window(120.0) == reads.window(179.9) == 2 and reads.window(180.0) == 3
    assert reads.retry_after(120.0) == 60 and reads.retry_after(179.2) == 1
    assert reads.retry_after(179.99) == 1  # never 0


def test_the_views_read_the_apps_clock(app: Flask, client: FlaskClient, site: Site) -> None:
    app.extensions["pw_clock"].set(datetime(2026, 3, 1, 5, 0, tzinfo=UTC))
    stats = client.get("/api/v1/sites/thanhxuan/stats").get_json()
    assert stats["as_of"].startswith("2026-03-01T12:00:00")  # +07:00


def test_reads_are_limited_in_process_memory(client: FlaskClient, site: Site,
                                             clock: Clock) -> None:
    ip = {"REMOTE_ADDR": "192.0.2.50"}
    codes = [client.get("/api/v1/sites/thanhxuan/stats", environ_base=ip).status_code
             for _ in range(1201)]
    assert codes[:1200] == [200] * 1200
    assert codes[1200] == 429
    other = client.get("/api/v1/sites/thanhxuan/stats", environ_base={"REMOTE_ADDR": "192.0.2.51"})
    assert other.status_code == 200
    clock.advance(59)
    late = client.get("/api/v1/sites/thanhxuan/stats", environ_base=ip)
    assert late.status_code == 429 and late.headers["Retry-After"] == "1"
    clock.advance(1)  # the next minute: a fresh allowance
    assert client.get("/api/v1/sites/thanhxuan/stats", environ_base=ip).status_code == 200


def test_the_widget_pages_share_the_read_allowance(client: FlaskClient, site: Site,
                                                   clock: Clock) -> None:
    ip = {"REMOTE_ADDR": "192.0.2.52"}
    for _ in range(1200):
        assert client.get("/api/v1/sites/thanhxuan/stats", environ_base=ip).status_code == 200
    for url in ("/widgets/thanhxuan/counter.html", "/widgets/thanhxuan/hotlines.html",
                "/widgets/thanhxuan/poll.html", "/stats/thanhxuan",
                "/api/v1/sites/thanhxuan/polls/current",
                "/api/v1/sites/thanhxuan/ratings?path=/a",
                "/widgets/thanhxuan/rating.html?path=/a"):
        limited = client.get(url, environ_base=ip)
        assert limited.status_code == 429, url
        assert limited.headers["Retry-After"] == "60", url
    clock.advance(60)
    assert client.get("/widgets/thanhxuan/counter.html", environ_base=ip).status_code == 200


def test_the_hit_allowance_is_per_site_and_address(client: FlaskClient, site: Site,
                                                   clock: Clock) -> None:
    codes = [post_hit(client, ip="192.0.2.60", token=f"t-{i:08d}").status_code
             for i in range(600)]
    assert codes == [200] * 600
    clock.advance(45)
    refused = post_hit(client, ip="192.0.2.60", token="t-over-000")
    # the rest of the clock's window, not a minute from the window's first hit
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "15"
    assert post_hit(client, ip="192.0.2.61").status_code == 200
    heartbeat = client.post("/api/v1/sites/thanhxuan/heartbeat", data="{}",
                            content_type="text/plain", headers={"User-Agent": "Mozilla/5.0"},
                            environ_base={"REMOTE_ADDR": "192.0.2.60"})
    assert heartbeat.status_code == 204  # heartbeats have their own allowance
    clock.advance(15)  # hit.lua's window follows the app's clock too
    assert post_hit(client, ip="192.0.2.60", token="t-next-000").status_code == 200


def test_clicks_are_limited_in_redis_across_workers(redis_server: Any) -> None:
    from tests.conftest import make_app

    workers = [make_app(redis_server.url), make_app(redis_server.url)]
    for worker in workers:
        fresh_window(worker).set(workers[0].extensions["pw_clock"].time())
    ip = {"REMOTE_ADDR": "192.0.2.80"}
    codes = [workers[i % 2].test_client().post("/api/v1/sites/thanhxuan/hotlines/h/clicks",
                                               environ_base=ip).status_code
             for i in range(121)]
    assert codes[:120] == [404] * 120 and codes[120] == 429  # 120 a minute, both together
    workers[0].extensions["pw_clock"].advance(45)
    refused = workers[0].test_client().post("/api/v1/sites/thanhxuan/hotlines/h/clicks",
                                            environ_base=ip)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "15"  # until the window of the app's clock ends
    for worker in workers:
        worker.extensions["pw_clock"].advance(60)
    assert workers[1].test_client().post("/api/v1/sites/thanhxuan/hotlines/h/clicks",
                                         environ_base=ip).status_code == 404
    for worker in workers:
        worker.extensions["pw_store"].redis.close()


def _from_flask_limiter(hook: Any) -> bool:
    return str(getattr(getattr(hook, "func", hook), "__module__", "")).startswith("flask_limiter")


def test_each_app_has_its_own_flask_limiter_and_other_routes_do_not_run_it(
        redis_server: Any) -> None:
    """The shared allowances go through flask-limiter, one Limiter per app (one app's
    settings or outage never reach another's), without its app-wide hooks."""
    from tests.conftest import make_app

    on, off = make_app(redis_server.url), make_app(redis_server.url, RATELIMIT_ENABLED=False)
    assert isinstance(on.extensions["pw_limits"].flask, Limiter)
    assert on.extensions["pw_limits"].flask is not off.extensions["pw_limits"].flask
    for app in (on, off):
        hooks = [*app.before_request_funcs.get(None, []), *app.after_request_funcs.get(None, []),
                 *app.teardown_request_funcs.get(None, [])]
        assert hooks and not [h for h in hooks if _from_flask_limiter(h)]
    fresh_window(on)
    ip = {"REMOTE_ADDR": "192.0.2.81"}
    codes = {app: [app.test_client().post("/api/v1/sites/thanhxuan/hotlines/h/clicks",
                                          environ_base=ip).status_code for _ in range(121)]
             for app in (off, on)}
    assert codes[off] == [404] * 121  # its limits are off
    assert codes[on][:120] == [404] * 120 and codes[on][120] == 429  # not the other's
    for app in (on, off):
        app.extensions["pw_store"].redis.close()


def test_vote_attempts_are_one_allowance_whichever_form_they_take(
        app: Flask, client: FlaskClient, site: Site, clock: Clock) -> None:
    """A JSON vote and a form vote spend the same allowance, inside vote.lua; a vote
    refused before the script (a bad ticket) is limited in process memory."""
    from service.polls import rules as polls
    from service.store import get_store

    with app.app_context():
        polls.create(get_store(), site, {"id": "p1", "question": "Q?", "options": ["A", "B"]},
                     now=clock.now())
    ip = {"REMOTE_ADDR": "192.0.2.90"}
    codes = []
    for i in range(11):
        ticket = votes.issue_ticket(SECRET, site, "p1", clock.now())
        if i % 2:
            codes.append(client.post("/widgets/thanhxuan/poll.html", environ_base=ip,
                                     data={"poll": "p1", "option": "o1", "ticket": ticket}
                                     ).status_code)
        else:
            codes.append(client.post("/api/v1/sites/thanhxuan/polls/p1/votes", environ_base=ip,
                                     json={"options": ["o1"], "ticket": ticket,
                                           "token": f"tok-{i:06d}"}).status_code)
    # the per-IP ballot allowance (20) is not reached: 10 attempts a minute are
    assert codes[:10] == [201, 200] * 5 and codes[10] == 429
    junk = [client.post("/api/v1/sites/thanhxuan/polls/p1/votes", environ_base={
        "REMOTE_ADDR": "192.0.2.91"}, json={"options": ["o1"], "ticket": "forged"}).status_code
        for _ in range(11)]
    assert junk == [400] * 10 + [429]
    clock.advance(60)
    assert client.post("/api/v1/sites/thanhxuan/polls/p1/votes", environ_base=ip, json={
        "options": ["o1"], "ticket": votes.issue_ticket(SECRET, site, "p1", clock.now()),
        "token": "tok-next-01"}).status_code == 201


def test_a_read_is_cached_for_a_second_per_process(client: FlaskClient, site: Site) -> None:
    first = client.get("/api/v1/sites/thanhxuan/stats").get_json()
    post_hit(client, path="/a")
    assert client.get("/api/v1/sites/thanhxuan/stats").get_json() == first  # cached
    time.sleep(1.05)  # the per-process read cache runs on the monotonic clock
    assert client.get("/api/v1/sites/thanhxuan/stats").get_json()["pageviews"]["total"] == 1


def test_a_site_created_after_a_miss_answers_from_another_worker_within_a_second(
        redis_server: Any) -> None:
    """Public reads may lag a write by at most a second, unknown ids included: a site
    created (or imported) right after another worker answered 404 for it is served there
    within a second; admin reads are current at once."""
    from service import sites as sites_mod
    from tests.conftest import make_app

    worker_a, worker_b = make_app(redis_server.url), make_app(redis_server.url)
    a = worker_a.test_client()
    assert a.get("/api/v1/sites/moi/stats").status_code == 404  # remembered as unknown
    with worker_b.app_context():
        sites_mod.put_site(worker_b.extensions["pw_store"], "moi", {})
    time.sleep(sites_mod.CACHE_SECONDS + 0.05)
    assert sites_mod.CACHE_SECONDS <= 1.0
    assert a.get("/api/v1/sites/moi/stats").status_code == 200


def test_an_ipv6_48_makes_at_most_four_times_the_vote_attempts(
        app: Flask, client: FlaskClient, site: Site, clock: Clock) -> None:
    """Each /64 may try 10 votes a minute; a /48 together 40 (inside vote.lua)."""
    from service.polls import rules as polls
    from service.store import get_store

    with app.app_context():
        polls.create(get_store(), site, {"id": "p1", "question": "Q?", "options": ["A", "B"]},
                     now=clock.now())
    codes = []
    for i in range(45):  # 5 /64s of one /48, 9 attempts each: each /64 within its 10
        response = client.post(
            "/api/v1/sites/thanhxuan/polls/p1/votes",
            environ_base={"REMOTE_ADDR": f"2001:db8:7:{i % 5}::{i + 1:x}"},
            json={"options": ["o1"], "ticket": votes.issue_ticket(SECRET, site, "p1", clock.now()),
                  "token": f"tok6-{i:06d}"})
        codes.append(response.status_code)
    assert codes[:40] == [201] * 40 and set(codes[40:]) == {429}
    clock.advance(60)
    assert client.post("/api/v1/sites/thanhxuan/polls/p1/votes",
                       environ_base={"REMOTE_ADDR": "2001:db8:7:9::1"},
                       json={"options": ["o1"], "token": "tok6-next-1",
                             "ticket": votes.issue_ticket(SECRET, site, "p1", clock.now())}
                       ).status_code == 201


def test_a_vote_is_one_redis_command_json_or_form(app: Flask, client: FlaskClient, site: Site,
                                                  clock: Clock, redis_server: Any) -> None:
    """The limit is checked inside vote.lua: no limiter round trip in front of it."""
    from service.polls import rules as polls
    from service.store import get_store

    with app.app_context():
        polls.create(get_store(), site, {"id": "p1", "question": "Q?", "options": ["A", "B"]},
                     now=clock.now())
    client.get("/api/v1/sites/thanhxuan/polls/p1")  # the site lookup is cached from here
    client.post("/api/v1/sites/thanhxuan/polls/p1/votes", json={  # vote.lua is loaded
        "options": ["o1"], "ticket": votes.issue_ticket(SECRET, site, "p1", clock.now())})

    def scripts_run() -> dict[str, int]:
        """Script calls since the reset (a limiter's counter would be one more: the limits
        storage increments with a script too); the commands inside them are vote.lua's."""
        with redis_server.client() as r:
            stats = r.info("commandstats")
        return {name: int(v["calls"]) for name, v in stats.items()
                if name in ("cmdstat_eval", "cmdstat_evalsha", "cmdstat_script")}

    for post in (
        lambda t: client.post("/api/v1/sites/thanhxuan/polls/p1/votes",
                              json={"options": ["o1"], "ticket": t, "token": "tok-one-cmd"}),
        lambda t: client.post("/widgets/thanhxuan/poll.html",
                              data={"poll": "p1", "option": "o2", "ticket": t}),
    ):
        ticket = votes.issue_ticket(SECRET, site, "p1", clock.now())
        with redis_server.client() as r:
            r.config_resetstat()
        assert post(ticket).status_code in (200, 201)
        assert scripts_run() == {"cmdstat_evalsha": 1}


def test_writes_refused_before_their_script_count_in_their_allowance(
        client: FlaskClient, site: Site, clock: Clock) -> None:
    """Unknown sites, refused origins and malformed bodies cost no script, so the script's
    allowance cannot count them: they are counted in process memory (limits.refusals_of)."""
    def vote(i: int) -> int:
        if i % 2:
            return client.post("/widgets/nowhere/poll.html", data={"poll": "p"},
                               environ_base={"REMOTE_ADDR": "192.0.2.90"}).status_code
        return client.post("/api/v1/sites/nowhere/polls/p/votes", data="{}",
                           content_type="text/plain",
                           environ_base={"REMOTE_ADDR": "192.0.2.90"}).status_code

    codes = [vote(i) for i in range(allowances.VOTES.count + 1)]
    assert codes[:-1] == [404] * allowances.VOTES.count and codes[-1] == 429
    rating = client.post("/api/v1/sites/thanhxuan/ratings", data="not json",
                         content_type="text/plain", environ_base={"REMOTE_ADDR": "192.0.2.91"})
    assert rating.status_code == 400
    junk = [post_hit(client, "nowhere", ip="192.0.2.92").status_code
            for _ in range(allowances.HITS.count + 1)]
    assert junk[:-1] == [404] * allowances.HITS.count and junk[-1] == 429
    clock.advance(60)
    assert post_hit(client, "nowhere", ip="192.0.2.92").status_code == 404  # a new window
