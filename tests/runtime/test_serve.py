"""`portal-widgets serve` end to end: embedded Redis, gunicorn, clean stop, data kept."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

BIN = Path(sys.executable).parent / "portal-widgets"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PW_", "PROMETHEUS"))}
    env["PW_DATA_DIR"] = str(data)
    return env


def _wait_ready(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("service did not become ready")


def _hit(port: int, path: str = "/a") -> dict[str, object]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/sites/demo/hits",
        data=json.dumps({"path": path}).encode(),
        headers={"Content-Type": "text/plain", "User-Agent": "Mozilla/5.0 Firefox/133.0"},
    )
    with urllib.request.urlopen(request, timeout=5) as r:
        body: dict[str, object] = json.loads(r.read())
        return body


def _redis_servers(data: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if "redis-server" in cmd and str(data) in cmd:
            found.append(proc)
    return found


def _serve(data: Path, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(BIN), "serve", "--dev", "--port", str(port), "--workers", "2"],
        env=_env(data), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _family(data: Path, port: int) -> list[psutil.Process]:
    """Processes of a serve on this data dir and port, its parent gone or not."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error):
            cmd = " ".join(proc.info["cmdline"] or [])
            if ("redis-server" in cmd and str(data) in cmd) or \
                    ("gunicorn" in cmd and f"127.0.0.1:{port}" in cmd):
                found.append(proc)
    return found


def serve_expecting_refusal(data: Path, env: dict[str, str] | None = None,
                            timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Run a serve that should refuse to start; if it starts after all, end all of it."""
    port = _free_port()
    with serving(data, port, env=env, capture=True) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            out, err = "", f"still running after {timeout} s"
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@contextlib.contextmanager
def serving(data: Path, port: int, env: dict[str, str] | None = None,
            log: Path | None = None, capture: bool = False) -> Iterator[subprocess.Popen[Any]]:
    """`serve --dev` on data and port; whatever happens, nothing it started outlives the test."""
    out: Any = open(log, "wb") if log else subprocess.PIPE if capture else subprocess.DEVNULL
    proc = subprocess.Popen(
        [str(BIN), "serve", "--dev", "--port", str(port), "--workers", "2"],
        env=env or _env(data), stdout=out, stderr=out, text=capture or None,
    )
    try:
        yield proc
    finally:
        tree: list[psutil.Process] = []
        with contextlib.suppress(psutil.Error):
            tree = psutil.Process(proc.pid).children(recursive=True)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        left = {p.pid: p for p in [*tree, *_family(data, port)]}.values()
        _, alive = psutil.wait_procs(list(left), timeout=10)
        for p in alive:
            with contextlib.suppress(psutil.Error):
                p.kill()
        if log:
            out.close()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_serve_runs_embedded_redis_stops_cleanly_and_keeps_data(tmp_path: Path) -> None:
    data = tmp_path / "var"
    subprocess.run([str(BIN), "demo"], env=_env(data), check=True, capture_output=True)
    port = _free_port()
    proc = _serve(data, port)
    try:
        _wait_ready(port)
        assert _hit(port)["counted"] is True
        assert len(_redis_servers(data)) == 1

        second = serve_expecting_refusal(data)
        assert second.returncode != 0
        assert "in use by another portal-widgets process" in second.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert proc.returncode == 0
    assert _redis_servers(data) == []

    proc = _serve(data, port)
    try:
        _wait_ready(port)
        stats = _hit(port, "/b")  # same visitor (the dev secret is kept), another page
        # the demo's imported baselines (the seed portal's old counter) plus the one visit
        assert stats["visits"] == {"today": 1, "week": 47_520, "month": 106_289,
                                   "year": 1_754_428, "total": 12_380_047}
        assert stats["pageviews"]["total"] == 2  # type: ignore[index]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert _redis_servers(data) == []


def test_serve_without_secret_names_the_variable(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(BIN), "serve"], env=_env(tmp_path / "var"), capture_output=True, text=True,
        timeout=20,
    )
    assert result.returncode == 2
    assert "PW_SECRET_KEY" in result.stderr


@pytest.mark.parametrize("action", [["site", "list"]])
def test_management_commands_start_redis_for_themselves(tmp_path: Path,
                                                        action: list[str]) -> None:
    data = tmp_path / "var"
    env = _env(data)
    subprocess.run([str(BIN), "site", "create", "quan1", "--name", "Quận 1"], env=env,
                   check=True, capture_output=True)
    listed = subprocess.run([str(BIN), *action], env=env, check=True, capture_output=True,
                            text=True)
    assert json.loads(listed.stdout)[0]["name"] == "Quận 1"
    assert _redis_servers(data) == []
