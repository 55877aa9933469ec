"""The HTTP edge under attack, and what the worker costs per request (`make bench` section).

- CPU per request: the gunicorn processes' CPU time (master and workers, from /proc via
  psutil) over a wrk run of GET stats, divided by the 2xx answers; the project's worker
  and gunicorn's stock gthread, interleaved (A B A B ...), medians.
- The attack mix of docs/serve.md, from one address: silent connections, fake ends of
  chunked bodies, half-pipelined second requests, dribbled headers; p50/p99 of normal
  requests made meanwhile.

`PW_BENCH_EDGE_SCALE` (default 1) scales the attack sizes and run lengths down for a check
(`PW_BENCH_ONLY=edge PW_BENCH_EDGE_SCALE=0.1 python -m benchmarks.run`).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import resource
import selectors
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

HERE = Path(__file__).parent
ROOT = HERE.parent
SCALE = float(os.environ.get("PW_BENCH_EDGE_SCALE", "1"))
MIX = {"silent": 2000, "fake-chunked": 16, "half-pipelined": 16, "dribbling": 200}
HOST = b"Host: 127.0.0.1\r\n"
FIRST_BYTES = {
    "silent": b"",
    "fake-chunked": b"POST /api/v1/sites/bench/hits HTTP/1.1\r\n" + HOST
    + b"Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n100\r\nx\r\n0\r\n\r\n",
    "half-pipelined": b"GET /healthz HTTP/1.1\r\n" + HOST + b"\r\nGET /healthz HTTP/1.1\r\n"
    + HOST,
    "dribbling": b"GET /api/v1/sites/bench/stats HTTP/1.1\r\n" + HOST + b"X-Slow: ",
}


@contextmanager
def gunicorn(port: int, env: dict[str, str],
             worker_class: str | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """The service under the project's gunicorn config, optionally another worker class."""
    command = [sys.executable, "-m", "gunicorn", "-c", "python:service.runtime.gunicorn_conf",
               "--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
    if worker_class:
        command += ["--worker-class", worker_class]
    proc = subprocess.Popen([*command, "service:create_app()"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def _cpu(proc: subprocess.Popen[bytes]) -> float:
    total = 0.0
    parent = psutil.Process(proc.pid)
    for p in [parent, *parent.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            times = p.cpu_times()
            total += times.user + times.system
    return total


def cpu_per_request(proc: subprocess.Popen[bytes], url: str, seconds: float) -> float:
    """Microseconds of gunicorn CPU per 2xx answer over one wrk run (32 connections)."""
    before = _cpu(proc)
    out = subprocess.run(
        ["wrk", "-t2", "-c32", f"-d{max(seconds, 1):.0f}s", "-s", str(HERE / "load.lua"), url,
         "--", "GET", "", "0"], capture_output=True, text=True, check=True).stdout
    used = _cpu(proc) - before
    result = next(x for x in out.splitlines() if x.startswith("RESULT ")).split()
    answered = float(result[4]) - float(result[5])
    return used / max(answered, 1.0) * 1e6


def compare_workers(env: dict[str, str], classes: dict[str, str | None],
                    rounds: int, seconds: float) -> dict[str, float]:
    """Median µs of CPU per request for each worker class, runs interleaved."""
    ports = {name: _free_port() for name in classes}
    samples: dict[str, list[float]] = {name: [] for name in classes}
    with contextlib.ExitStack() as stack:
        procs = {name: stack.enter_context(gunicorn(ports[name], env, cls))
                 for name, cls in classes.items()}
        for name in classes:  # warm up
            cpu_per_request(procs[name], _stats(ports[name]), 1)
        for _ in range(rounds):
            for name in classes:
                samples[name].append(
                    cpu_per_request(procs[name], _stats(ports[name]), seconds))
    return {name: statistics.median(v) for name, v in samples.items()}


def _stats(port: int) -> str:
    return f"http://127.0.0.1:{port}/api/v1/sites/bench/stats"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _normal_requests(port: int, latencies: list[float], stop: threading.Event) -> None:
    while not stop.is_set():
        start = time.monotonic()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/api/v1/sites/bench/stats")
            ok = conn.getresponse().status == 200
            conn.close()
        except OSError:
            ok = False
        latencies.append((time.monotonic() - start) * 1000 if ok else 99_000.0)
        stop.wait(0.05)


def attack_mix(port: int, seconds: float) -> dict[str, float]:
    """Hold the mix open for `seconds` (re-opening what the server closes); normal requests'
    p50/p99 (ms) meanwhile, and how many attack connections the server closed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 16384)), hard))
    sizes = {kind: max(1, int(n * SCALE)) for kind, n in MIX.items()}
    sel = selectors.DefaultSelector()
    kinds: dict[socket.socket, str] = {}
    closed = 0

    def open_one(kind: str) -> None:
        with contextlib.suppress(OSError):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            if FIRST_BYTES[kind]:
                s.sendall(FIRST_BYTES[kind])
            s.setblocking(False)
            kinds[s] = kind
            sel.register(s, selectors.EVENT_READ)

    def close_one(s: socket.socket) -> None:
        sel.unregister(s)
        s.close()
        open_one(kinds.pop(s))

    for kind, n in sizes.items():
        for _ in range(n):
            open_one(kind)
    latencies: list[float] = []
    stop = threading.Event()
    prober = threading.Thread(target=_normal_requests, args=(port, latencies, stop))
    prober.start()
    end = time.monotonic() + seconds
    next_drip = time.monotonic()
    try:
        while time.monotonic() < end:
            if time.monotonic() >= next_drip:
                next_drip += 0.5
                for s in [s for s, kind in kinds.items() if kind == "dribbling"]:
                    try:
                        s.send(b"a")
                    except OSError:
                        closed += 1
                        close_one(s)
            for key, _ in sel.select(0.05):
                s = key.fileobj
                assert isinstance(s, socket.socket)
                try:
                    if s.recv(65536):
                        continue
                except BlockingIOError:
                    continue
                except OSError:
                    pass
                closed += 1
                close_one(s)
    finally:
        stop.set()
        prober.join(15)
        for s in kinds:
            s.close()
        sel.close()
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {"p50": cuts[49], "p99": cuts[98], "requests": float(len(latencies)),
            "closed": float(closed), "open": float(sum(sizes.values()))}


def edge_lines(env: dict[str, str]) -> list[str]:
    """The bench section: CPU per request, then the attack mix."""
    seconds = max(1.0, 5 * SCALE)
    rounds = max(1, round(3 * SCALE))
    cpu = compare_workers(env, {"service worker (h11 framing)": None,
                                "stock gthread": "gthread"}, rounds, seconds)
    port = _free_port()
    with gunicorn(port, env):
        mix = attack_mix(port, max(5.0, 20 * SCALE))
    lines = [f"HTTP edge (GET stats, wrk 2 threads x 32 connections, {seconds:.0f} s runs, "
             f"{rounds} interleaved rounds, median; gunicorn processes' CPU / 2xx answers):"]
    for name, us in cpu.items():
        lines.append(f"  {name:<30} {us:7.0f} µs CPU per request")
    ours, stock = cpu["service worker (h11 framing)"], cpu["stock gthread"]
    lines.append(f"  ratio to stock gthread: {ours / stock:.2f}x")
    sizes = ", ".join(f"{max(1, int(n * SCALE))} {kind}" for kind, n in MIX.items())
    lines.append(f"  attack mix from one address ({sizes}; re-opened when closed, "
                 f"{max(5.0, 20 * SCALE):.0f} s): normal GET stats p50 {mix['p50']:.1f} ms, "
                 f"p99 {mix['p99']:.1f} ms over {mix['requests']:.0f} requests; "
                 f"the server closed {mix['closed']:.0f} attack connections")
    return lines
