"""Which routes pay for flask-limiter, and the allowances kept elsewhere (pinned)."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from flask_limiter.util import get_qualified_name

from service.limiter import limiter
from service.sites import Site
from tests.conftest import post_hit

# Every route limited by flask-limiter (a decorator on the view); nothing else pays for it.
# Hits, heartbeats, JSON votes and JSON ratings are limited inside their own Redis scripts
# (votes and ratings in process memory first); stats, page views, top pages and the hotline
# box first in process memory and by flask-limiter only when they miss the per-process
# cache; failed admin tokens in service.views.auth.
LIMITED = {
    "public_hotlines.click", "public_polls.read",
    "widgets.counter_page", "widgets.hotlines_page", "widgets.poll_page", "widgets.poll_vote",
    "stats_page.site_page",  # the public statistics page: several reads per request
    # ratings: the read (a fresh ticket) and the no-JS form, like the poll's
    "ratings.read", "rating_form.form_page", "rating_form.form_rate",
}


def test_only_the_pinned_routes_carry_a_flask_limiter_decorator(app: Flask) -> None:
    limited = {endpoint for endpoint, view in app.view_functions.items()
               if get_qualified_name(view) in limiter._marked_for_limiting}
    assert limited == LIMITED


def test_flask_limiter_adds_no_hook_to_every_request(app: Flask) -> None:
    from service.limiter import _is_limiters

    hooks = [*app.before_request_funcs.get(None, []), *app.after_request_funcs.get(None, []),
             *app.teardown_request_funcs.get(None, [])]
    assert hooks and not any(_is_limiters(hook) for hook in hooks)
    assert limiter._check_request_limit not in app.before_request_funcs.get(None, [])


def test_reads_are_limited_in_process_memory(client: FlaskClient, site: Site) -> None:
    if time.time() % 60 > 45:
        time.sleep(60 - time.time() % 60 + 0.1)
    codes = [client.get("/api/v1/sites/thanhxuan/stats",
                        environ_base={"REMOTE_ADDR": "192.0.2.50"}).status_code
             for _ in range(1201)]
    assert codes[:1200] == [200] * 1200
    assert codes[1200] == 429
    other = client.get("/api/v1/sites/thanhxuan/stats", environ_base={"REMOTE_ADDR": "192.0.2.51"})
    assert other.status_code == 200


def test_a_read_is_cached_for_a_second_per_process(client: FlaskClient, site: Site) -> None:
    first = client.get("/api/v1/sites/thanhxuan/stats").get_json()
    post_hit(client, path="/a")
    assert client.get("/api/v1/sites/thanhxuan/stats").get_json() == first  # cached
    time.sleep(1.05)
    assert client.get("/api/v1/sites/thanhxuan/stats").get_json()["pageviews"]["total"] == 1


def test_the_hit_allowance_is_per_site_and_address(client: FlaskClient, site: Site) -> None:
    if time.time() % 60 > 45:
        time.sleep(60 - time.time() % 60 + 0.1)
    codes = [post_hit(client, ip="192.0.2.60", token=f"t-{i:08d}").status_code
             for i in range(601)]
    assert codes[:600] == [200] * 600 and codes[600] == 429
    assert post_hit(client, ip="192.0.2.61").status_code == 200
    heartbeat = client.post("/api/v1/sites/thanhxuan/heartbeat", data="{}",
                            content_type="text/plain", headers={"User-Agent": "Mozilla/5.0"},
                            environ_base={"REMOTE_ADDR": "192.0.2.60"})
    assert heartbeat.status_code == 204  # heartbeats have their own allowance


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
