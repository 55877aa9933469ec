"""A stand-in portal on loopback for the page verifier's tests: real HTTP, started and stopped
by the test, recording every request it gets."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ARTICLE = """<!doctype html><html lang="vi"><head><meta charset="utf-8">
<title>Hội nghị tổng kết năm 2026 - Cổng TTĐT Quận Thanh Xuân</title>
<meta property="og:title" content="Hội nghị tổng kết năm 2026">
</head><body><h1>Hội nghị tổng kết năm 2026</h1></body></html>"""
TITLE_ONLY = """<!doctype html><html><head><meta charset="utf-8">
<title>Thông báo lịch tiếp công dân</title></head><body></body></html>"""


@dataclass
class Page:
    """What the portal answers for one path."""

    status: int = 200
    body: str = ARTICLE
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # before each chunk of the body (a slow page)
    repeat: int = 1  # the body sent this many times (a huge page)


@dataclass
class Portal:
    """A running portal: its origin, the pages it knows and the requests it got."""

    origin: str
    pages: dict[str, Page]
    requests: list[dict[str, Any]]
    default: Page = field(default_factory=lambda: Page(404, "<title>Không tìm thấy</title>"))


def _handler(portal_ref: list[Portal]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            portal = portal_ref[0]
            portal.requests.append({"path": self.path, "headers": dict(self.headers)})
            page = portal.pages.get(self.path, portal.default)
            body = page.body.encode("utf-8")
            self.send_response(page.status)
            self.send_header("Content-Type", page.content_type)
            self.send_header("Content-Length", str(len(body) * page.repeat))
            for name, value in page.headers.items():
                self.send_header(name, value)
            self.end_headers()
            try:
                for _ in range(page.repeat):
                    if page.delay_s:
                        time.sleep(page.delay_s)
                    self.wfile.write(body)
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    return Handler


@contextmanager
def portal(pages: dict[str, Page] | None = None) -> Iterator[Portal]:
    """Serve `pages` on 127.0.0.1 (a free port) for the duration of the block."""
    ref: list[Portal] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(ref))
    server.daemon_threads = True
    ref.append(Portal(f"http://127.0.0.1:{server.server_address[1]}", dict(pages or {}), []))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield ref[0]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
