"""The app image as an operator runs it: `podman run` with a volume, env vars, health check."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.containers.conftest import (
    APP_IMAGE,
    DEPLOY,
    ROOT,
    SECRET,
    free_port,
    hit,
    http,
    podman,
    stats,
    wait_ready,
)

pytestmark = pytest.mark.usefixtures("images")


def run_app(names: list[str], name: str, *args: str, port: int | None = None) -> str:
    """`podman run -d` the app image as docs/operations.md says; the base URL on 127.0.0.1."""
    port = port or free_port()
    podman("run", "--detach", "--name", name, "--publish", f"127.0.0.1:{port}:8000",
           "--tmpfs", "/tmp", *args, APP_IMAGE)
    names.append(f"container:{name}")
    return f"http://127.0.0.1:{port}"


def uids_inside(name: str) -> dict[str, int]:
    """Real uid of every process in the container, by command name (from /proc inside)."""
    script = (
        "import os\n"
        "for p in filter(str.isdigit, os.listdir('/proc')):\n"
        "    try: s = open(f'/proc/{p}/status').read()\n"
        "    except OSError: continue\n"
        "    f = dict(l.split(':', 1) for l in s.splitlines() if ':' in l)\n"
        "    print(p, f['Name'].strip(), f['Uid'].split()[0])\n"
    )
    out = podman("exec", name, "python", "-c", script).stdout
    found: dict[str, int] = {}
    for line in out.splitlines():
        pid, command, uid = line.split()
        found[f"{command}/{pid}"] = int(uid)
    return found


def test_it_serves_with_the_embedded_redis_as_uid_10001_and_reports_healthy(
        names: list[str]) -> None:
    name = f"pw-img-{os.getpid()}-a"
    podman("volume", "create", f"{name}-data")
    names.append(f"volume:{name}-data")
    base = run_app(names, name, "--env", f"PW_SECRET_KEY={SECRET}",
                   "--volume", f"{name}-data:/app/var")
    wait_ready(base)
    status, _, body = http("GET", f"{base}/readyz")
    assert status == 200 and json.loads(body)["status"] == "ok"

    # serve, gunicorn's master and 2 workers, redis-server (and the exec'd python itself).
    processes = uids_inside(name)
    assert any(key.startswith("redis-server/") for key in processes), processes
    assert len(processes) >= 5, processes
    assert set(processes.values()) == {10001}, processes
    pid = podman("inspect", "--format", "{{.State.Pid}}", name).stdout.strip()
    host_uid = re.search(r"^Uid:\s+(\d+)", Path(f"/proc/{pid}/status").read_text(), re.M)
    assert host_uid is not None and host_uid.group(1) == "10001"  # no user namespace: same uid

    # No systemd timers here, so run the image's HEALTHCHECK as the timer would.
    assert podman("healthcheck", "run", name, check=False).returncode == 0
    state = json.loads(podman("inspect", name).stdout)[0]["State"]
    health = state.get("Health") or state.get("Healthcheck")
    assert health["Status"] == "healthy", health


def test_counts_survive_a_new_container_on_the_same_volume(names: list[str]) -> None:
    name = f"pw-img-{os.getpid()}-b"
    volume = f"{name}-data"
    podman("volume", "create", volume)
    names.append(f"volume:{volume}")
    args = ("--env", f"PW_SECRET_KEY={SECRET}", "--volume", f"{volume}:/app/var")
    base = run_app(names, name, *args)
    wait_ready(base)
    # The management command inside the container acts on the running service's Redis.
    podman("exec", name, "portal-widgets", "site", "create", "restart", "--name", "Restart")
    first = hit(base, "restart", "token-one", "/tin-tuc/a")
    second = hit(base, "restart", "token-two", "/tin-tuc/a")
    assert first["counted"] and second["counted"]
    assert second["page"] == {"path": "/tin-tuc/a", "views": 2}
    before = stats(base, "restart")
    assert before["visits"]["total"] == 2 and before["pageviews"]["total"] == 2

    podman("restart", "--time", "20", name)
    wait_ready(base)
    assert stats(base, "restart")["pageviews"] == before["pageviews"]

    podman("rm", "--force", "--time", "20", name)  # SIGTERM first: Redis flushes its AOF
    base = run_app(names, name, *args)
    wait_ready(base)
    after = stats(base, "restart")
    assert after["visits"]["total"] == 2 and after["pageviews"]["total"] == 2
    assert hit(base, "restart", "token-three", "/tin-tuc/a")["page"]["views"] == 3
    aof = podman("exec", name, "ls", "-la", "/app/var").stdout
    assert "appendonly" in aof and " pw " in aof  # the volume holds the AOF, owned by pw


def test_it_refuses_to_start_without_a_secret_key(names: list[str]) -> None:
    name = f"pw-img-{os.getpid()}-c"
    podman("run", "--name", name, "--tmpfs", "/tmp", APP_IMAGE, check=False, timeout=60)
    names.append(f"container:{name}")
    state = json.loads(podman("inspect", name).stdout)[0]["State"]
    assert state["Status"] == "exited" and state["ExitCode"] != 0
    assert "PW_SECRET_KEY" in podman("logs", name).stderr + podman("logs", name).stdout


def test_docker_run_env_vars_point_it_at_an_external_redis(names: list[str]) -> None:
    """`-e PW_REDIS_URL=redis://... -e PW_SECRET_KEY=...`: counts land in that Redis."""
    tag = f"pw-img-{os.getpid()}-d"
    podman("network", "create", tag)
    names.append(f"network:{tag}")
    podman("run", "--detach", "--name", f"{tag}-redis", "--network", tag,
           "localhost/pw-redis:bookworm", "redis-server", "--dir", "/data",
           "--protected-mode", "no", "--appendonly", "yes", "--maxmemory-policy", "noeviction")
    names.append(f"container:{tag}-redis")
    base = run_app(names, tag, "--network", tag, "--read-only",
                   "--env", f"PW_SECRET_KEY={SECRET}",
                   "--env", f"PW_REDIS_URL=redis://{tag}-redis:6379/0",
                   "--env", "PW_KEY_PREFIX=prov")
    wait_ready(base)
    podman("exec", tag, "portal-widgets", "site", "create", "external")
    assert hit(base, "external", "token-external")["counted"] is True
    assert stats(base, "external")["pageviews"]["total"] == 1

    keys = podman("exec", f"{tag}-redis", "redis-cli", "--scan", "--pattern", "prov:{external}*")
    assert len(keys.stdout.split()) > 3, keys.stdout
    # No embedded Redis was started: the data dir has no socket or AOF.
    listing = podman("exec", tag, "ls", "-A", "/app/var").stdout
    assert "redis.sock" not in listing and "appendonly" not in listing
    log = podman("logs", tag).stderr
    assert "embedded redis" not in log


def test_the_dockerfile_and_containerfiles_pass_hadolint() -> None:
    files = [ROOT / "Dockerfile", *sorted(DEPLOY.glob("images/*/Containerfile"))]
    hadolint = ROOT / ".venv/bin/hadolint"
    for path in files:
        done = subprocess.run([str(hadolint), "--failure-threshold", "info", str(path)],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stdout


def test_the_build_stage_stays_behind() -> None:
    history = podman("history", "--no-trunc", APP_IMAGE).stdout
    assert "COPY --from=build" in history or "COPY" in history
    assert "pip install" not in history
    listing = podman("run", "--rm", "--entrypoint", "ls", APP_IMAGE, "-A", "/").stdout.split()
    assert "src" not in listing
    size = int(podman("image", "inspect", "--format", "{{.Size}}", APP_IMAGE).stdout)
    assert size < 400 * 1024 * 1024, size
