"""The app's wiring, step by step, for service.create_app: config, extensions, blueprints,
handlers, and the WSGI layers in front of Flask."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from service import openapi as openapi_views
from service import store
from service.counting import views as _counting
from service.hotlines import admin_views as _hotlines_admin
from service.hotlines import views as _hotlines
from service.limits import init_app as init_limiter
from service.pages import admin_views as _pages_admin
from service.polls import admin_views as _polls_admin
from service.polls import views as _polls
from service.provinces import admin_views as _provinces_admin
from service.provinces import views as _provinces
from service.ratings import admin_views as _ratings_admin
from service.ratings import views as _ratings
from service.reports import views as _reports
from service.runtime import metrics
from service.runtime.config import Settings
from service.store import migrations
from service.web import admin, admin_page, body, errors, headers, health, home, widgets
from service.web.kept import KeptReads

# Every route: what all features share (web/), then each feature's own routes.
BLUEPRINTS = (
    health.bp, home.bp, widgets.bp, admin.bp, admin_page.bp, openapi_views.bp,
    _counting.bp, _hotlines.bp, _hotlines_admin.bp, _polls.bp, _polls_admin.bp,
    _pages_admin.bp, _ratings.bp, _ratings.form_bp, _ratings_admin.bp,
    _provinces.public_bp, _provinces.admin_bp, _provinces_admin.bp, _reports.bp,
)


def configure(app: Flask, test_config: Mapping[str, Any] | None) -> Settings:
    """Settings from the environment (from `test_config` instead when given: its PW_* keys
    are read as variables, other keys go into app.config), and Flask's JSON options."""
    source: Mapping[str, Any] = os.environ if test_config is None else test_config
    settings = Settings.from_env({k: str(v) for k, v in source.items() if k.startswith("PW_")})
    app.config.update(PW_SETTINGS=settings, MAX_CONTENT_LENGTH=64 * 1024)
    if test_config is not None:
        app.config.update({k: v for k, v in test_config.items() if not k.startswith("PW_")})
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    return settings


def init_extensions(app: Flask, settings: Settings) -> None:
    """The store (its data layout checked), metrics, the rate limiter, the body check."""
    app_store = store.init_app(app, settings.redis_url, settings.key_prefix)
    try:
        # data of another layout is refused (an empty deployment gets this one's); `serve`
        # checks before gunicorn starts, this guards any other way of running the app
        migrations.check_layout(app_store)
    except store.StorageUnavailable:
        pass  # Redis is not up yet: /readyz says so
    metrics.init_app(app)
    init_limiter(app, settings)
    body.init_app(app)


def register_blueprints(app: Flask) -> None:
    """Every route of the service."""
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)


def init_handlers(app: Flask) -> None:
    """The JSON error handlers and the security headers of every response."""
    errors.init_app(app)
    headers.init_app(app)


def wrap(app: Flask, settings: Settings) -> None:
    """The WSGI layers in front of Flask: kept public reads (service.web.kept),
    then, outermost, the proxy fix for PW_TRUSTED_PROXIES."""
    app.wsgi_app = KeptReads(app, app.wsgi_app)  # type: ignore[method-assign]
    if settings.trusted_proxies:
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]
