"""`serve` against the attacks on its HTTP edge, from one address, all at once.

2,000 connections that send nothing, 16 whose chunked body fakes its end, 16 with half of a
second pipelined request and 200 dribbling their headers a byte every half second. Other
clients must still be answered within 2 s; the silent ones closed within 5 s, the others
within 10 s. A process holds ~2,300 sockets here: the test raises its RLIMIT_NOFILE.
"""

from __future__ import annotations

import contextlib
import resource
import selectors
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from gunicorn.config import Config
from gunicorn.http.errors import InvalidRequestLine

from service.runtime.worker import MAX_BODY, Framed, Framer, OneRequest, Refused
from tests.runtime.test_serve import BIN, _env, _free_port, _wait_ready, serving

SILENT, FAKE_CHUNKED, HALF_PIPELINED, DRIBBLING = 2000, 16, 16, 200
HOST = b"Host: 127.0.0.1\r\n"
FAKE_CHUNK = (b"POST /api/v1/sites/demo/hits HTTP/1.1\r\n" + HOST
              + b"Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
              + b"100\r\nx\r\n0\r\n\r\n")  # a 256-byte chunk that never completes
HALF_PIPELINE = (b"GET /healthz HTTP/1.1\r\n" + HOST + b"\r\n"
                 + b"GET /healthz HTTP/1.1\r\n" + HOST)
DRIBBLE = b"GET /api/v1/sites/demo/stats HTTP/1.1\r\n" + HOST + b"X-Slow: "


# The framing itself (no server needed).

def test_a_fake_end_of_a_chunked_body_is_not_the_end() -> None:
    assert Framer().feed(FAKE_CHUNK) is None


def test_half_a_pipelined_request_waits_and_the_first_one_is_served() -> None:
    framer = Framer()
    assert framer.feed(HALF_PIPELINE) == Framed(
        b"GET /healthz HTTP/1.1", [("HOST", "127.0.0.1")], b"")
    assert framer.leftover == b"GET /healthz HTTP/1.1\r\n" + HOST
    assert Framer(framer.leftover).feed(b"") is None


def test_a_chunked_body_is_handed_on_with_its_length() -> None:
    head = b"POST /x?a=1 HTTP/1.1\r\n" + HOST + b"Transfer-Encoding: chunked\r\n\r\n"
    framed = Framer().feed(head + b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
    assert framed == Framed(b"POST /x?a=1 HTTP/1.1",
                            [("HOST", "127.0.0.1"), ("CONTENT-LENGTH", "5")], b"abcde")
    # what the thread gets: gunicorn's Request, filled from h11's parse
    request = next(OneRequest(Config(), framed, ("127.0.0.1", 5000)))
    assert (request.method, request.path, request.query) == ("POST", "/x", "a=1")
    assert request.body.read() == b"abcde"


def test_gunicorn_still_judges_the_head_h11_framed() -> None:
    # an ambiguous header name is dropped, as gunicorn does with what it parses itself
    framed = Framer().feed(b"GET / HTTP/1.1\r\n" + HOST + b"X_Forwarded_For: 1.2.3.4\r\n\r\n")
    assert framed is not None
    request = next(OneRequest(Config(), framed, ("127.0.0.1", 5000)))
    assert request.headers == [("HOST", "127.0.0.1")]
    # a target h11 lets through and gunicorn refuses (authority-form without CONNECT): 400
    framed = Framer().feed(b"GET example.org:80 HTTP/1.1\r\n" + HOST + b"\r\n")
    assert framed is not None
    with pytest.raises(InvalidRequestLine):
        next(OneRequest(Config(), framed, ("127.0.0.1", 5000)))


@pytest.mark.parametrize(("raw", "status"), [
    (b"GET / HTTP/1.1\nHost: x\n\n", 400),                                    # bare LF
    (b"GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n", 400),                        # one bare LF
    (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
    (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", 400),
    (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
    (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked"
     b"\r\n\r\n0\r\n\r\n", 400),                                              # both
    (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY + 1), 413),
    (b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"a" * 20000, 431),
])
def test_bad_framing_is_refused(raw: bytes, status: int) -> None:
    with pytest.raises(Refused) as refused:
        Framer().feed(raw)
    assert refused.value.status == status


def test_expect_continue_is_answered_once_and_not_handed_on() -> None:
    framer = Framer()
    head = b"POST /x HTTP/1.1\r\n" + HOST + b"Expect: 100-continue\r\nContent-Length: 2\r\n\r\n"
    assert framer.feed(head) is None
    assert framer.waits_for_continue() is True
    assert framer.waits_for_continue() is False
    assert framer.feed(b"ok") == Framed(
        b"POST /x HTTP/1.1", [("HOST", "127.0.0.1"), ("CONTENT-LENGTH", "2")], b"ok")


# Against a running serve.

def _probe(port: int, latencies: list[float], stop: threading.Event) -> None:
    """Another client: one GET after another, each timed (a failure counts as 99 s)."""
    while not stop.is_set():
        start = time.monotonic()
        try:
            url = f"http://127.0.0.1:{port}/api/v1/sites/demo/stats"
            with urllib.request.urlopen(url, timeout=5) as r:
                r.read()
                latency = time.monotonic() - start if r.status == 200 else 99.0
        except OSError:
            latency = 99.0
        latencies.append(latency)
        stop.wait(0.2)


def _answer(port: int, raw: bytes) -> tuple[bytes, float]:
    """What the server sends back to `raw` until it closes, and how long that took."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
        s.sendall(raw)
        got = b""
        while chunk := s.recv(65536):
            got += chunk
    return got, time.monotonic() - start


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    data = tmp_path_factory.mktemp("edge") / "var"
    subprocess.run([str(BIN), "demo"], env=_env(data), check=True, capture_output=True)
    port = _free_port()
    env = _env(data) | {"PW_REDIS_MAXMEMORY": "256mb"}
    with serving(data, port, env=env):
        _wait_ready(port)
        yield port, data


@pytest.fixture
def port(served: tuple[int, Path]) -> int:
    return served[0]


def test_the_embedded_redis_has_a_memory_budget_and_never_evicts(
        served: tuple[int, Path]) -> None:
    with redis.Redis(unix_socket_path=str(served[1] / "redis.sock"), decode_responses=True,
                     socket_timeout=5) as r:
        assert r.config_get("maxmemory") == {"maxmemory": str(256 * 1024**2)}
        assert r.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
    with urllib.request.urlopen(f"http://127.0.0.1:{served[0]}/metrics", timeout=5) as m:
        text = m.read().decode()
    assert any(line.startswith("pw_redis_used_memory_bytes ") for line in text.splitlines())


@pytest.mark.parametrize(("raw", "reason"), [
    (b"GET /healthz HTTP/1.1\nHost: x\n\n", b"bad request"),
    (b"POST /api/v1/sites/demo/hits HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"zz\r\n", b"malformed request body"),
])
def test_bare_lf_and_malformed_chunk_sizes_get_400_at_once(port: int, raw: bytes,
                                                           reason: bytes) -> None:
    got, took = _answer(port, raw)
    assert got.startswith(b"HTTP/1.1 400 "), got[:60]
    assert got.endswith(b'{"error": "%s"}' % reason)
    assert took < 2.0


def test_chunked_and_pipelined_requests_are_served(port: int) -> None:
    chunked = (b"POST /api/v1/sites/demo/hits HTTP/1.1\r\n" + HOST
               + b"User-Agent: Mozilla/5.0 Firefox/133.0\r\nContent-Type: text/plain\r\n"
               + b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
               + b"5\r\n{\"pat\r\n9\r\nh\": \"/c\"}\r\n0\r\n\r\n")
    got, _ = _answer(port, chunked)
    assert got.startswith(b"HTTP/1.1 200 "), got[:200]
    assert b'"counted": true' in got or b'"counted":true' in got
    both = HALF_PIPELINE + b"Connection: close\r\n\r\n"
    got, _ = _answer(port, both)
    assert got.count(b"HTTP/1.1 200 ") == 2


def test_the_attack_mix_from_one_address_leaves_others_answered(port: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    sel = selectors.DefaultSelector()  # select() stops at descriptor 1024
    opened: dict[socket.socket, tuple[str, float]] = {}
    closed: dict[socket.socket, float] = {}
    answered: set[socket.socket] = set()
    latencies: list[float] = []
    stop = threading.Event()
    probe = threading.Thread(target=_probe, args=(port, latencies, stop))

    def connect(kind: str, first: bytes) -> socket.socket:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        if first:
            s.sendall(first)
        s.setblocking(False)
        opened[s] = (kind, time.monotonic())
        sel.register(s, selectors.EVENT_READ)
        return s

    try:
        dribblers = [connect("dribbling", DRIBBLE) for _ in range(DRIBBLING)]
        for _ in range(FAKE_CHUNKED):
            connect("fake-chunked", FAKE_CHUNK)
        for _ in range(HALF_PIPELINED):
            connect("half-pipelined", HALF_PIPELINE)
        for _ in range(SILENT):
            connect("silent", b"")
        probe.start()
        deadline = time.monotonic() + 15
        next_drip = time.monotonic()
        while len(closed) < len(opened) and time.monotonic() < deadline:
            if time.monotonic() >= next_drip:
                next_drip += 0.5
                for s in dribblers:
                    if s not in closed:
                        try:
                            s.send(b"a")
                        except OSError:
                            closed.setdefault(s, time.monotonic())
                            sel.unregister(s)
            for key, _ in sel.select(0.05):
                s = key.fileobj
                assert isinstance(s, socket.socket)
                try:
                    data = s.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if data:
                    answered.add(s)
                    continue
                closed[s] = time.monotonic()
                sel.unregister(s)
    finally:
        stop.set()
        if probe.is_alive():
            probe.join(10)
        for s in opened:
            with contextlib.suppress(OSError):
                s.close()
        sel.close()

    assert len(latencies) >= 20
    assert max(latencies) < 2.0, sorted(latencies)[-5:]
    still_open = [opened[s][0] for s in opened if s not in closed]
    assert not still_open, f"{len(still_open)} still open, e.g. {still_open[:3]}"
    lifetimes: dict[str, list[float]] = {}
    for s, (kind, start) in opened.items():
        lifetimes.setdefault(kind, []).append(closed[s] - start)
    assert max(lifetimes["silent"]) < 5.0
    for kind in ("fake-chunked", "half-pipelined", "dribbling"):
        assert max(lifetimes[kind]) < 10.0, kind
    # The whole first request of a half-pipelined pair was answered before the close.
    assert {s for s in opened if opened[s][0] == "half-pipelined"} <= answered


def test_a_streamed_import_without_a_token_holds_no_thread(port: int) -> None:
    """The import route's body is read on a thread, but only by a view that checked the
    token first: a stranger's endless upload is answered 401 and its connection closed at
    once (its unread body is not drained on the thread)."""
    endless = (b"POST /api/v1/admin/sites/demo/import HTTP/1.1\r\nHost: x\r\n"
               b"Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"4000\r\n" + b"x" * 100)  # a 16 KiB chunk of which 100 bytes ever come
    started = time.monotonic()
    got, took = _answer(port, endless)
    assert got.startswith(b"HTTP/1.1 401 "), got[:60]
    assert took < 3.0, took
    # the other clients are answered meanwhile, and afterwards
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
        assert r.status == 200
    assert time.monotonic() - started < 5.0
