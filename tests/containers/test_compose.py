"""deploy/compose.yaml under podman-compose: nginx -> app -> Redis, Prometheus scraping the app."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.containers.conftest import DEPLOY, SECRET, free_port, hit, http, podman, wait_ready

pytestmark = pytest.mark.usefixtures("images")
COMPOSE = DEPLOY / "compose.yaml"


def compose_command() -> list[str]:
    """podman-compose from the project's venv (a dev dependency), else from PATH."""
    beside = Path(sys.executable).parent / "podman-compose"
    found = str(beside) if beside.exists() else shutil.which("podman-compose")
    if found is None:
        pytest.fail("podman-compose is not installed: `make install` brings it")
    return [found]


class Stack:
    """One podman-compose project on free loopback ports."""

    def __init__(self) -> None:
        self.project = f"pwstack{os.getpid()}"
        self.http_port = free_port()
        self.prometheus_port = free_port()
        self.env = {**os.environ, "PW_SECRET_KEY": SECRET,
                    "PW_HTTP_PORT": str(self.http_port),
                    "PW_PROMETHEUS_PORT": str(self.prometheus_port)}

    @property
    def web(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def prometheus(self) -> str:
        return f"http://127.0.0.1:{self.prometheus_port}"

    def compose(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([*compose_command(), "-p", self.project, "-f", str(COMPOSE), *args],
                              capture_output=True, text=True, env=self.env, timeout=timeout)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return done

    def container(self, service: str) -> str:
        out = podman("ps", "--filter", f"label=com.docker.compose.project={self.project}",
                     "--filter", f"label=com.docker.compose.service={service}",
                     "--format", "{{.Names}}").stdout.split()
        assert len(out) == 1, out
        return out[0]

    def leftovers(self) -> list[str]:
        label = f"label=com.docker.compose.project={self.project}"
        return (podman("ps", "-a", "--filter", label, "--format", "{{.Names}}").stdout.split()
                + podman("volume", "ls", "--filter", label, "--format", "{{.Name}}").stdout.split())


def prometheus_query(stack: Stack, query: str) -> list[dict[str, Any]]:
    url = f"{stack.prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    status, _, body = http("GET", url)
    assert status == 200, body
    answer = json.loads(body)
    assert answer["status"] == "success", answer
    result: list[dict[str, Any]] = answer["data"]["result"]
    return result


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """The stack up (bounded), and always down with its volumes afterwards."""
    running = Stack()
    try:
        running.compose("up", "-d")
        wait_ready(running.web, timeout=120)
        yield running
    finally:
        try:
            running.compose("down", "-v", "-t", "10", timeout=180)
        finally:
            for entry in running.leftovers():  # whatever `down` left
                podman("rm", "--force", entry, check=False)
                podman("volume", "rm", "--force", entry, check=False)
    assert running.leftovers() == []


def test_hits_through_nginx_reach_redis_and_prometheus(stack: Stack) -> None:
    app = stack.container("app")
    podman("exec", app, "portal-widgets", "site", "create", "stack", "--name", "Stack")
    answers = [hit(stack.web, "stack", f"stack-token-{i}", f"/tin-tuc/{i % 2}") for i in range(6)]
    assert all(answer["counted"] for answer in answers)
    assert answers[-1]["pageviews"]["total"] == 6

    redis = stack.container("redis")
    keys = podman("exec", redis, "redis-cli", "--scan", "--pattern", "pw:{stack}:*").stdout
    assert len(keys.split()) > 3
    assert podman("exec", redis, "redis-cli", "config", "get", "maxmemory-policy").stdout.split() \
        == ["maxmemory-policy", "noeviction"]
    assert podman("exec", redis, "redis-cli", "config", "get", "appendonly").stdout.split() \
        == ["appendonly", "yes"]

    # Prometheus scrapes the app every 15 s: wait (bounded) for the counted hits to show.
    deadline = time.monotonic() + 75
    seen = 0.0
    query = 'sum(pw_hits_total{site="stack",result="counted"})'
    while time.monotonic() < deadline:
        result = prometheus_query(stack, query)
        seen = float(result[0]["value"][1]) if result else 0.0
        if seen >= 6:
            break
        time.sleep(2)
    assert seen == 6, f"{query} = {seen}"
    up = prometheus_query(stack, 'up{job="portal-widgets"}')
    assert [float(sample["value"][1]) for sample in up] == [1.0]


def test_prometheus_loads_the_shipped_alert_rules(stack: Stack) -> None:
    shipped = yaml.safe_load((DEPLOY / "prometheus/alerts.yml").read_text())
    expected = {rule["alert"] for group in shipped["groups"] for rule in group["rules"]}
    status, _, body = http("GET", f"{stack.prometheus}/api/v1/rules")
    assert status == 200
    loaded = {rule["name"] for group in json.loads(body)["data"]["groups"]
              for rule in group["rules"]}
    assert loaded == expected and len(expected) >= 6


def test_nginx_bounds_bodies_and_hides_metrics(stack: Stack) -> None:
    status, headers, _ = http("POST", f"{stack.web}/api/v1/sites/stack/hits",
                              raw=b"x" * (65 * 1024))
    assert status == 413 and headers.get("Server") == "nginx"  # refused before the app
    status, _, _ = http("GET", f"{stack.web}/metrics")
    assert status == 404
    status, headers, body = http("GET", f"{stack.web}/widgets/embed.js")
    assert status == 200 and b"portal-widgets embed.js" in body and headers.get("ETag")


def test_nginx_closes_a_connection_that_never_finishes_its_headers(stack: Stack) -> None:
    with socket.create_connection(("127.0.0.1", stack.http_port), timeout=20) as sock:
        sock.sendall(b"GET /readyz HTTP/1.1\r\nHost: stack\r\n")  # and nothing more
        started = time.monotonic()
        received = sock.recv(4096)
        waited = time.monotonic() - started
    assert received == b"" or received.startswith(b"HTTP/1.1 408")
    assert 8 <= waited <= 15, waited  # client_header_timeout 10s
    wait_ready(stack.web, timeout=5)


def test_promtool_accepts_the_shipped_config_and_rules() -> None:
    done = podman("run", "--rm", "--volume", f"{DEPLOY / 'prometheus'}:/etc/prometheus:ro",
                  "--entrypoint", "promtool", "localhost/pw-prometheus:bookworm",
                  "check", "config", "/etc/prometheus/prometheus.yml")
    assert "SUCCESS: 6 rules found" in done.stdout + done.stderr
    # Debian's Prometheus is built without Kubernetes discovery, so the cluster's scrape
    # config is checked here only for what it shares with the compose one.
    cluster = yaml.safe_load((DEPLOY / "prometheus/kubernetes-scrape.yml").read_text())
    compose = yaml.safe_load((DEPLOY / "prometheus/prometheus.yml").read_text())
    assert cluster["rule_files"] == compose["rule_files"]
    assert cluster["scrape_configs"][0]["job_name"] == compose["scrape_configs"][0]["job_name"]
