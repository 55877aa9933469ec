"""`serve` against slow clients: 200 connections from one address that never finish a request.

Half of them send the request line and one header and then nothing (slowloris); the
other half send complete headers announcing a body and dribble it a byte every half
second. Meanwhile another client must still be answered within 2 s, and every slow
connection must be closed by the server about 10 s after it opened. Bounded: 200
sockets, one byte per dribbler per half second, at most ~16 s.
"""

from __future__ import annotations

import contextlib
import select
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

from tests.runtime.test_serve import BIN, _env, _free_port, _hit, _wait_ready, serving

SLOW = 200
HALF_HEADERS = (b"GET /api/v1/sites/demo/stats HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"User-Agent: slowloris\r\n")
DRIBBLE_HEADERS = (b"POST /api/v1/sites/demo/hits HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   b"User-Agent: Mozilla/5.0 Firefox/133.0\r\nContent-Type: text/plain\r\n"
                   b"Content-Length: 4000\r\n\r\n{")


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
        stop.wait(0.3)


def test_slow_clients_neither_freeze_serve_nor_keep_their_connections(tmp_path: Path) -> None:
    data = tmp_path / "var"
    subprocess.run([str(BIN), "demo"], env=_env(data), check=True, capture_output=True)
    port = _free_port()
    with serving(data, port):
        _wait_ready(port)
        opened: dict[socket.socket, float] = {}
        dribblers: set[socket.socket] = set()
        closed: dict[socket.socket, float] = {}
        latencies: list[float] = []
        stop = threading.Event()
        probe = threading.Thread(target=_probe, args=(port, latencies, stop))
        try:
            for i in range(SLOW):
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
                s.sendall(DRIBBLE_HEADERS if i % 2 else HALF_HEADERS)
                s.setblocking(False)
                opened[s] = time.monotonic()
                if i % 2:
                    dribblers.add(s)
            probe.start()
            deadline = time.monotonic() + 16
            next_drip = time.monotonic()
            while len(closed) < SLOW and time.monotonic() < deadline:
                now = time.monotonic()
                if now >= next_drip:
                    next_drip = now + 0.5
                    for s in dribblers - closed.keys():
                        try:
                            s.send(b" ")
                        except OSError:
                            closed.setdefault(s, time.monotonic())
                waiting = [s for s in opened if s not in closed]
                readable, _, _ = select.select(waiting, [], [], 0.1)
                for s in readable:
                    try:
                        if s.recv(65536) == b"":  # a 400 for a cut-off body may come first
                            closed[s] = time.monotonic()
                    except BlockingIOError:
                        pass
                    except OSError:
                        closed[s] = time.monotonic()
            # The service still counts while the slow ones hang on.
            assert _hit(port, "/during")["counted"] is True
        finally:
            stop.set()
            if probe.is_alive():
                probe.join(10)
            for s in opened:
                with contextlib.suppress(OSError):
                    s.close()

        assert len(latencies) >= 10
        assert max(latencies) < 2.0, sorted(latencies)[-5:]
        assert len(closed) == SLOW, f"{SLOW - len(closed)} slow connections still open"
        lifetimes = {s: closed[s] - opened[s] for s in opened}
        # A whole request within 10 s: a dribbler that keeps sending is cut at 10 s (the
        # worker checks about once a second), not before.
        assert max(lifetimes.values()) < 12.0
        assert min(lifetimes[s] for s in dribblers) > 9.0
