"""`serve` on a data disk that fills up: writes answer 503 with the reason, reads go on, the
same workers keep running, and it heals by itself once space is freed.

The data dir lies on a 16 MB tmpfs mounted for the test (root is needed, as in CI) and
filled with a file; the metric files are not on it (`/dev/shm` by default), so the
workers' mmap writes cannot fault.
"""

from __future__ import annotations

import contextlib
import errno
import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.runtime.test_serve import BIN, _env, _free_port, _wait_ready, serving


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", str(mount)],
                   check=True, capture_output=True)
    try:
        yield mount
    finally:
        if subprocess.run(["umount", str(mount)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mount)], check=True)


def _post_hit(port: int, path: str) -> tuple[int, dict[str, object], str | None]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/sites/demo/hits",
        data=json.dumps({"path": path}).encode(),
        headers={"Content-Type": "text/plain", "User-Agent": "Mozilla/5.0 Firefox/133.0"})
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return r.status, json.loads(r.read()), None
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read()), e.headers.get("Retry-After")


def _workers(port: int) -> set[int]:
    found = set()
    for proc in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error):
            cmd = " ".join(proc.info["cmdline"] or [])
            if "gunicorn" in cmd and f"127.0.0.1:{port}" in cmd:
                found.update(child.pid for child in proc.children())
    return found


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    with open(filler, "wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def test_a_full_data_disk_is_an_outage_of_writes_not_a_crash(small_disk: Path) -> None:
    data = small_disk / "var"
    subprocess.run([str(BIN), "demo"], env=_env(data), check=True, capture_output=True)
    port = _free_port()
    with serving(data, port):
        _wait_ready(port)
        assert _post_hit(port, "/truoc")[0] == 200
        workers = _workers(port)
        assert len(workers) == 2
        filler = _fill(small_disk)
        # Redis notices at its next append-only write: a hit or two later, writes are refused.
        deadline = time.monotonic() + 15
        while (answer := _post_hit(port, "/trong-luc"))[0] == 200:
            assert time.monotonic() < deadline, "writes were never refused"
            time.sleep(0.2)
        assert answer == (503, {"error": "storage refuses writes: disk full"}, "30")
        for _ in range(10):  # both workers, each on connections idle or not
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/sites/demo/stats",
                                        timeout=5) as r:
                assert r.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
            assert "disk full" in json.loads(r.read())["warning"]
        # writes keep coming for 2 s (each one counted in the metric files): all refused,
        # by the same workers, none of them replaced after a crash
        until = time.monotonic() + 2
        while time.monotonic() < until:
            assert _post_hit(port, "/van-trong-luc")[0] == 503
        assert _workers(port) == workers
        filler.unlink()
        deadline = time.monotonic() + 15
        while (answer := _post_hit(port, "/sau"))[0] != 200:
            assert time.monotonic() < deadline, f"did not heal: {answer}"
            time.sleep(0.2)
        assert answer[1]["counted"] is True
        assert _workers(port) == workers
