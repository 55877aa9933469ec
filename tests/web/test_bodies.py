"""A malformed chunked body is a 400 JSON error, never a 500, and stores nothing."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from gunicorn.http.errors import ChunkMissingTerminator, InvalidChunkSize, NoMoreData

from service import sites, tokens
from service.polls import rules as polls
from service.store import Store
from tests.conftest import SECRET
from tests.redis_proc import RedisProcess

GUNICORN = Path(sys.executable).parent / "gunicorn"


class BrokenChunks(io.RawIOBase):
    """`wsgi.input` as gunicorn hands it over when the chunk framing is wrong."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise self.error


ERRORS = [InvalidChunkSize(b"zz"), ChunkMissingTerminator(b"X"), NoMoreData(b""),
          OSError("Invalid chunk header")]


@pytest.fixture
def world(store: Store) -> dict[str, str]:
    site, _ = sites.put_site(store, "thanhxuan", {})
    polls.create(store, site, {"id": "p1", "question": "?", "options": ["A", "B"]},
                 now=datetime.now(UTC))
    return {"token": tokens.create(store, "root", [], now=datetime.now(UTC))}


def stored(server: RedisProcess) -> dict[str, str]:
    """Every key but the rate limiter's, with its type (what a refused request must not touch)."""
    with server.client() as r:
        return {k: r.type(k) for k in r.scan_iter(match="*") if ":LIMITER/" not in k}


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize(("method", "url"), [
    ("POST", "/api/v1/sites/thanhxuan/hits"),
    ("POST", "/api/v1/sites/thanhxuan/heartbeat"),
    ("POST", "/api/v1/sites/thanhxuan/polls/p1/votes"),
    ("POST", "/api/v1/sites/thanhxuan/hotlines/x/clicks"),
    ("POST", "/widgets/thanhxuan/poll.html"),
    ("PUT", "/api/v1/admin/sites/thanhxuan"),
])
def test_a_malformed_chunked_body_is_a_400(client: FlaskClient, world: dict[str, str],
                                           redis_server: RedisProcess, method: str, url: str,
                                           error: Exception) -> None:
    before = stored(redis_server)
    response = client.open(url, method=method, headers={
        "Transfer-Encoding": "chunked", "Content-Type": "text/plain",
        "Authorization": f"Bearer {world['token']}"},
        environ_overrides={"wsgi.input": BrokenChunks(error), "wsgi.input_terminated": True})
    assert response.status_code == 400
    assert response.get_json() == {"error": "malformed request body"}
    assert stored(redis_server) == before


def test_a_well_formed_chunked_body_still_works(client: FlaskClient, world: dict[str, str]) -> None:
    body = json.dumps({"path": "/a"}).encode()
    response = client.post("/api/v1/sites/thanhxuan/hits", headers={
        "Transfer-Encoding": "chunked", "Content-Type": "text/plain", "User-Agent": "Mozilla/5.0"},
        environ_overrides={"wsgi.input": io.BytesIO(body), "wsgi.input_terminated": True})
    assert response.status_code == 200
    assert response.get_json()["page"] == {"path": "/a", "views": 1}


@pytest.fixture
def gunicorn(redis_server: RedisProcess, store: Store) -> Iterator[int]:
    sites.put_site(store, "thanhxuan", {})
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PW_", "PROMETHEUS"))}
    env.update(PW_REDIS_URL=redis_server.url, PW_SECRET_KEY=SECRET)
    proc = subprocess.Popen([str(GUNICORN), "--bind", f"127.0.0.1:{port}", "--workers", "1",
                             "service:create_app()"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "gunicorn did not start"
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def raw_post(port: int, path: str, body: bytes) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", port), 5) as conn:
        conn.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                     "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n".encode() + body)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, payload = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), payload


@pytest.mark.parametrize(("body", "reason"), [
    (b"zz\r\nabc\r\n0\r\n\r\n", "malformed request body"),
    (b"3\r\nabcX\r\n0\r\n\r\n", "malformed request body"),
    # h11 frames the request and ignores chunk extensions: the body "abc" reaches the app
    (b"3;\x01\r\nabc\r\n0\r\n\r\n", "malformed json"),
], ids=["bad-size", "no-terminator", "bad-extension"])
def test_under_gunicorn_too(gunicorn: int, redis_server: RedisProcess, body: bytes,
                            reason: str) -> None:
    before = stored(redis_server)
    status, payload = raw_post(gunicorn, "/api/v1/sites/thanhxuan/hits", body)
    assert status == 400, payload
    assert json.loads(payload) == {"error": reason}
    assert stored(redis_server) == before
