"""Live servers for browser tests: the service on one origin, host pages on another."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@contextmanager
def live_service(app: Flask) -> Iterator[str]:
    """The Flask app on 127.0.0.1:<free port>; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


class HostPages:
    """A portal on http://localhost:<port>, serving pages the test writes."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[str, dict[str, str]]] = {}
        pages = self.pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                found = pages.get(self.path.split("?", 1)[0])
                if found is None:
                    self.send_error(404)
                    return
                body, headers = found
                data = body.encode()
                self.send_response(200)
                if "Content-Type" not in headers:
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://localhost:{self.server.server_port}"

    def add(self, path: str, html: str, headers: dict[str, str] | None = None) -> str:
        self.pages[path] = (html, headers or {})
        return self.base + path

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def portal(service: str, *, title: str = "Tin tức", attrs: str = "", widgets: str = "") -> str:
    """A host page with README's embed snippet."""
    body = widgets or (
        '<div data-pw-widget="counter"></div>\n'
        '<div data-pw-widget="views"></div>\n'
        '<div data-pw-widget="hotlines"></div>\n'
        '<div data-pw-widget="poll" data-poll="current"></div>\n'
        '<div data-pw-widget="top-pages" data-limit="5"></div>\n'
    )
    return (
        f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{title}</title>'
        f'</head><body><main><h1>Trang thử</h1>{body}</main>'
        f'<script async src="{service}/widgets/embed.js" data-site="thanhxuan" {attrs}></script>'
        "</body></html>"
    )
