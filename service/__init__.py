"""portal-widgets: visit counters, view counts, hotlines and polls for portals."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from service.config import Settings


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: config, then extensions, then blueprints, then error handlers.

    `test_config` replaces the environment: PW_* keys are read as variables, other keys
    go into app.config.
    """
    from service import metrics, openapi, store
    from service.limiter import init_app as init_limiter
    from service.views import (
        admin,
        admin_content,
        admin_moving,
        admin_page,
        admin_pages,
        admin_ratings,
        body,
        errors,
        headers,
        health,
        pages,
        provinces,
        public,
        public_hotlines,
        public_polls,
        ratings,
        stats_page,
        widgets,
    )
    from service.views.fast_reads import FastReads

    source: Mapping[str, Any] = os.environ if test_config is None else test_config
    settings = Settings.from_env({k: str(v) for k, v in source.items() if k.startswith("PW_")})
    app = Flask(__name__)
    app.config.update(PW_SETTINGS=settings, MAX_CONTENT_LENGTH=64 * 1024)
    if test_config is not None:
        app.config.update({k: v for k, v in test_config.items() if not k.startswith("PW_")})
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    store.init_app(app, settings.redis_url, settings.key_prefix)
    metrics.init_app(app)
    init_limiter(app, settings)
    body.init_app(app)
    for blueprint in (health.bp, public.bp, public_hotlines.bp, public_polls.bp, admin.bp,
                      admin_content.bp, admin_moving.bp, admin_pages.bp, widgets.bp, pages.bp,
                      admin_page.bp, stats_page.bp, openapi.bp, provinces.admin_bp,
                      provinces.public_bp, ratings.bp, ratings.form_bp, admin_ratings.bp):
        app.register_blueprint(blueprint)
    errors.init_app(app)
    headers.init_app(app)
    # kept public read answers are served in front of the framework (after the proxy fix)
    app.wsgi_app = FastReads(app, app.wsgi_app)  # type: ignore[method-assign]
    if settings.trusted_proxies:
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]
    return app
