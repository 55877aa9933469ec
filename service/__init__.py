"""portal-widgets: visit counters, view counts, hotlines and polls for portals."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: config, then extensions, then blueprints, then error handlers (the
    steps are in service.web.setup).

    `test_config` replaces the environment: PW_* keys are read as variables, other keys
    go into app.config.
    """
    from service.web import setup as web

    app = Flask(__name__)
    settings = web.configure(app, test_config)
    web.init_extensions(app, settings)
    web.register_blueprints(app)
    web.init_handlers(app)
    web.wrap(app, settings)
    return app
