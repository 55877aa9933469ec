"""Container tests: podman (runc), images built on the local Debian base; `make image-test`.

Everything listens on 127.0.0.1: containers publish their ports there and the tests talk
only to those ports. Every container, volume and network a test makes is removed after it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
APP_IMAGE = "localhost/portal-widgets:latest"
SECRET = "container-test-secret-0123456789"
BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
# This machine kind needs runc and no default rlimits; nothing system-wide is changed.
os.environ.setdefault("CONTAINERS_CONF", str(DEPLOY / "podman/containers.conf"))


def podman(*args: str, check: bool = True,
           timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run podman; a failure shows its stderr."""
    done = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} -> {done.returncode}\n{done.stderr}")
    return done


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http(method: str, url: str, body: Any = None, *, headers: dict[str, str] | None = None,
         raw: bytes | None = None, timeout: float = 5) -> tuple[int, dict[str, str], bytes]:
    """One request: status, headers, body (4xx/5xx are answers, not exceptions)."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    hdrs = {"User-Agent": BROWSER, **(headers or {})}
    if data is not None:
        hdrs.setdefault("Content-Type", "text/plain;charset=UTF-8")
    request = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def wait_ready(base: str, timeout: float = 90) -> None:
    """Wait until GET base/readyz answers 200."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            status, _, body = http("GET", f"{base}/readyz", timeout=2)
            if status == 200:
                return
            last = (status, body[:200])
        except OSError as error:  # not listening yet, reset while starting
            last = error
        time.sleep(0.5)
    raise AssertionError(f"{base}/readyz not 200 within {timeout:.0f}s: {last}")


def hit(base: str, site: str, token: str, path: str = "/") -> dict[str, Any]:
    """POST one page load as a browser would; the answer's JSON."""
    status, _, body = http("POST", f"{base}/api/v1/sites/{site}/hits",
                           {"path": path, "title": "Trang chủ", "token": token})
    assert status == 200, body
    answer: dict[str, Any] = json.loads(body)
    return answer


def stats(base: str, site: str) -> dict[str, Any]:
    """GET the site's public stats object."""
    status, _, body = http("GET", f"{base}/api/v1/sites/{site}/stats")
    assert status == 200, body
    answer: dict[str, Any] = json.loads(body)
    return answer


@pytest.fixture(scope="session")
def images() -> None:
    """The local Debian base (made once, then cached) and the four images (layer cache)."""
    if subprocess.run(["which", "podman"], capture_output=True).returncode != 0:
        pytest.fail("podman is not installed: run `make image-test` (installs it as root)")
    for script in ("base-image.sh", "build-images.sh"):
        done = subprocess.run([str(DEPLOY / "scripts" / script)], capture_output=True,
                              text=True, timeout=900)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.fixture
def names() -> Iterator[list[str]]:
    """Containers, volumes and networks a test makes ("kind:name"); removed afterwards."""
    made: list[str] = []
    yield made
    for entry in reversed(made):
        kind, name = entry.split(":", 1)
        if kind == "container":
            podman("rm", "--force", "--time", "5", name, check=False)
        else:
            podman(kind, "rm", "--force", name, check=False)
