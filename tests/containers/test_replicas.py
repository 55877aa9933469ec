"""Several replicas of the image against one Redis Cluster, run as deploy/kubernetes/ runs a pod.

The pod spec's security context, ConfigMap and Secret become `podman run` flags and env (a
Kubernetes cluster is not available here). The replicas and the cluster use host networking
on free loopback ports.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.containers.conftest import (
    APP_IMAGE,
    DEPLOY,
    free_port,
    hit,
    http,
    podman,
    stats,
    wait_ready,
)
from tests.topologies import Cluster

pytestmark = pytest.mark.usefixtures("images")
KUBE = DEPLOY / "kubernetes"


def pod_flags() -> list[str]:
    """`podman run` flags for what deployment.yaml asks of the app container."""
    deployment = yaml.safe_load((KUBE / "deployment.yaml").read_text())
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    security = container["securityContext"]
    flags = ["--user", f"{pod['securityContext']['runAsUser']}:"
                       f"{pod['securityContext']['runAsGroup']}"]
    assert security["readOnlyRootFilesystem"] is True
    flags.append("--read-only")
    assert security["capabilities"]["drop"] == ["ALL"]
    flags += ["--cap-drop", "ALL"]
    assert security["allowPrivilegeEscalation"] is False
    flags += ["--security-opt", "no-new-privileges"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    for volume in pod["volumes"]:
        assert "emptyDir" in volume  # nothing else is writable
        flags += ["--tmpfs", mounts[volume["name"]]]
    return flags


def pod_env(redis_url: str) -> dict[str, str]:
    """The ConfigMap and the example Secret, with the test cluster's URL."""
    env: dict[str, str] = yaml.safe_load((KUBE / "configmap.yaml").read_text())["data"]
    assert env["PW_REDIS_URL"].startswith("redis+cluster://")
    env["PW_REDIS_URL"] = redis_url
    env.update(yaml.safe_load((KUBE / "secret.example.yaml").read_text())["stringData"])
    return env


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A 3-master, 3-replica Redis Cluster on loopback (the test suite's own)."""
    running = Cluster(tmp_path).start()
    try:
        yield running
    finally:
        running.stop()


def test_two_replicas_count_into_one_redis_cluster(cluster: Cluster, names: list[str]) -> None:
    env = pod_env(cluster.url)
    flags = pod_flags()
    bases: list[str] = []
    for index in range(2):
        name = f"pw-replica-{os.getpid()}-{index}"
        port = free_port()
        env_flags = [part for key, value in env.items() for part in ("--env", f"{key}={value}")]
        podman("run", "--detach", "--name", name, "--network", "host", *flags, *env_flags,
               APP_IMAGE, "--host", "127.0.0.1", "--port", str(port))
        names.append(f"container:{name}")
        bases.append(f"http://127.0.0.1:{port}")
    for base in bases:
        wait_ready(base)
    podman("exec", f"pw-replica-{os.getpid()}-0", "portal-widgets", "site", "create", "tinh")

    answers: list[dict[str, Any]] = []
    for i in range(8):  # alternate replicas, as a Service would
        answers.append(hit(bases[i % 2], "tinh", f"replica-token-{i}", "/thong-bao"))
    assert [a["pageviews"]["total"] for a in answers] == list(range(1, 9))
    assert answers[-1]["page"] == {"path": "/thong-bao", "views": 8}
    assert stats(bases[0], "tinh")["pageviews"] == stats(bases[1], "tinh")["pageviews"]

    with cluster.client() as client:
        keys = list(client.scan_iter(match="pw:{tinh}:*", target_nodes="all"))
    assert len(keys) > 3

    # Each pod's /metrics (behind PW_METRICS_TOKEN) counts its own hits: 4 + 4.
    token = env["PW_METRICS_TOKEN"]
    for base in bases:
        assert http("GET", f"{base}/metrics")[0] == 401
        status, _, body = http("GET", f"{base}/metrics",
                               headers={"Authorization": f"Bearer {token}"})
        assert status == 200
        counted = [float(line.rsplit(" ", 1)[1]) for line in body.decode().splitlines()
                   if re.match(r'pw_hits_total\{.*result="counted".*site="tinh"', line)
                   or re.match(r'pw_hits_total\{.*site="tinh".*result="counted"', line)]
        assert sum(counted) == 4, counted

    # Absolute URLs follow the ConfigMap's PW_PUBLIC_URL, not the Host the pod was asked by.
    status, _, body = http("GET", f"{bases[0]}/widgets/manifest.json")
    assert status == 200
    assert json.loads(body)["url"].startswith(env["PW_PUBLIC_URL"] + "/widgets/embed.")

    # Nothing but /tmp is writable, and the process has no capabilities.
    name = f"pw-replica-{os.getpid()}-1"
    assert podman("exec", name, "touch", "/app/x", check=False).returncode != 0
    status_text = podman("exec", name, "cat", "/proc/1/status").stdout
    assert re.search(r"^CapEff:\s+0+$", status_text, re.M)
    assert re.search(r"^Uid:\s+10001\s", status_text, re.M)
