"""The framework's own ceiling: one trivial Flask route under the same gunicorn config."""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index() -> str:
    """The cheapest possible answer."""
    return "ok"
