"""`serve` as a supervisor: Redis killed, serve killed, second instances, private files.

Every case runs the real command in subprocesses; `serving` ends whatever they started.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

from service.runtime.serve import default_metrics_dir
from tests.conftest import metric_sample
from tests.runtime.test_serve import (
    BIN,
    _env,
    _family,
    _free_port,
    _hit,
    _redis_servers,
    _wait_ready,
    serve_expecting_refusal,
    serving,
)


def _status(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _demo(data: Path) -> None:
    subprocess.run([str(BIN), "demo"], env=_env(data), check=True, capture_output=True)


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def test_killed_embedded_redis_is_restarted_within_5_s_with_every_count(
        tmp_path: Path) -> None:
    data = tmp_path / "var"
    _demo(data)
    port = _free_port()
    with serving(data, port) as proc:
        _wait_ready(port)
        for i in range(20):
            _hit(port, f"/before/{i}")
        [old] = _redis_servers(data)
        old.kill()
        killed = time.monotonic()
        recovered = None
        while time.monotonic() - killed < 8:
            try:
                if _status(port, "/readyz") == 200:
                    recovered = time.monotonic() - killed
                    break
            except OSError:
                pass
            time.sleep(0.1)
        assert recovered is not None and recovered < 5.0, recovered
        [new] = _redis_servers(data)
        assert new.pid != old.pid
        assert not psutil.pid_exists(old.pid)  # reaped, not left defunct
        stats = _hit(port, "/after")
        assert stats["pageviews"]["total"] == 21  # type: ignore[index]
        assert proc.poll() is None


def test_serve_killed_with_sigkill_takes_gunicorn_and_redis_along(tmp_path: Path) -> None:
    data = tmp_path / "var"
    _demo(data)
    port = _free_port()
    with serving(data, port) as proc:
        _wait_ready(port)
        _hit(port, "/a")
        tree = psutil.Process(proc.pid).children(recursive=True)
        names = sorted(" ".join(p.cmdline()) for p in tree)
        assert sum("redis-server" in n for n in names) == 1
        assert sum("gunicorn" in n for n in names) == 3  # master and two workers
        proc.kill()
        proc.wait(5)
        _, alive = psutil.wait_procs(tree, timeout=15)
        assert alive == []
        assert _family(data, port) == []
        assert _refused(port)
    with serving(data, port):  # the next start finds the port and the data dir free
        _wait_ready(port)
        assert _hit(port, "/b")["pageviews"]["total"] == 2  # type: ignore[index]


def test_second_serve_on_the_same_metrics_dir_refuses_and_leaves_it_alone(
        tmp_path: Path) -> None:
    metrics = tmp_path / "metrics"
    first_env = _env(tmp_path / "one") | {"PROMETHEUS_MULTIPROC_DIR": str(metrics)}
    second_env = _env(tmp_path / "two") | {"PROMETHEUS_MULTIPROC_DIR": str(metrics)}
    _demo(tmp_path / "one")
    port = _free_port()
    with serving(tmp_path / "one", port, env=first_env):
        _wait_ready(port)
        for _ in range(5):
            _status(port, "/api/v1/sites/demo/stats")
        files = sorted(p.name for p in metrics.glob("*.db"))
        assert files

        def served() -> float:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                text = r.read().decode()
            return metric_sample(text, "pw_http_requests_total",
                                 route="/api/v1/sites/<site_id>/stats", method="GET",
                                 status="200")

        before = served()
        assert before == 5
        second = serve_expecting_refusal(tmp_path / "two", env=second_env)
        assert second.returncode != 0
        assert str(metrics) in second.stderr
        assert "in use" in second.stderr
        assert set(files) <= {p.name for p in metrics.glob("*.db")}
        assert served() == before
        assert _redis_servers(tmp_path / "two") == []


def _wait_alive(port: int, seconds: float = 30) -> None:
    """Until /healthz answers 200 (readiness may stay 503: Redis does not answer)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if _status(port, "/healthz") == 200:
                return
        except OSError:
            time.sleep(0.1)
    assert _status(port, "/healthz") == 200


def test_external_redis_that_does_not_answer_is_a_warning_and_the_instance_is_locked(
        tmp_path: Path) -> None:
    data = tmp_path / "var"
    dead = f"redis://:hunter2secret@127.0.0.1:{_free_port()}/0"
    env = _env(data) | {"PW_REDIS_URL": dead}
    port = _free_port()
    log = tmp_path / "serve.log"
    with serving(data, port, env=env, log=log) as proc:
        _wait_alive(port)
        assert _status(port, "/readyz") == 503
        text = log.read_text()
        assert "warning: PW_REDIS_URL" in text and "does not answer" in text
        assert "hunter2secret" not in text
        second = serve_expecting_refusal(data, env=env)
        assert second.returncode != 0
        # its metrics dir (named after the data dir by default) is the instance's lock
        metrics = default_metrics_dir(data).resolve()
        assert f"PROMETHEUS_MULTIPROC_DIR {metrics} is in use" in second.stderr
        assert proc.poll() is None


def test_external_redis_needs_no_writable_data_dir(tmp_path: Path) -> None:
    """A container with a read-only root: PW_DATA_DIR cannot be created, and need not be."""
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    data = blocker / "var"  # mkdir fails here, as on a read-only root
    dead = f"redis://127.0.0.1:{_free_port()}/0"
    env = _env(data) | {"PW_REDIS_URL": dead, "PW_SECRET_KEY": "s" * 32,
                        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    port = _free_port()
    with serving(data, port, env=env, log=tmp_path / "serve.log") as proc:
        _wait_alive(port)
        assert proc.poll() is None
    assert not data.exists()


@pytest.mark.parametrize("existing", [False, True])
def test_data_dir_is_private_and_redis_files_are_the_owners_alone(
        tmp_path: Path, existing: bool) -> None:
    data = tmp_path / "var"
    if existing:  # made by an earlier version or by hand, open to everyone
        data.mkdir(mode=0o755)
        data.chmod(0o755)
    port = _free_port()
    old_umask = os.umask(0o022)  # what a shell usually has; serve must not rely on ours
    try:
        with serving(data, port):
            _wait_ready(port)
            subprocess.run([str(BIN), "site", "create", "quan1"], env=_env(data), check=True,
                           capture_output=True, timeout=30)  # a write, through serve's Redis
            assert stat.S_IMODE(data.stat().st_mode) == 0o700
            redis_files = [p for p in data.rglob("*")
                           if p.name.endswith(".aof") or p.name in ("redis.log", "redis.sock")]
            assert any(p.name.endswith(".aof") for p in redis_files)
            assert {p.name for p in redis_files} >= {"redis.log", "redis.sock"}
            for path in [*redis_files, data / "dev-secret"]:
                assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
    finally:
        os.umask(old_umask)


def test_sigterm_still_stops_everything_and_frees_the_locks(tmp_path: Path) -> None:
    data = tmp_path / "var"
    port = _free_port()
    with serving(data, port) as proc:
        _wait_ready(port)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        assert _family(data, port) == []
    # Nothing holds the data dir any more: a management command takes it at once.
    listed = subprocess.run([str(BIN), "site", "list"], env=_env(data), check=True,
                            capture_output=True, text=True, timeout=30)
    assert json.loads(listed.stdout) == []
