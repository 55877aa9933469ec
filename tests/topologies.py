"""Real Redis Cluster (3 masters, 3 replicas) and Sentinel setups on loopback, for tests."""

from __future__ import annotations

import random
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import redis
from redis.cluster import RedisCluster

from service.store.embedded import redis_binary
from tests.redis_proc import dump_all


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(n: int) -> list[int]:
    """Free loopback ports below 55535 whose cluster bus port (+10000) is free too."""
    ports: list[int] = []
    while len(ports) < n:
        port = random.randint(20000, 29999)
        if port not in ports and _free(port) and _free(port + 10000):
            ports.append(port)
    return ports


def _cli() -> str:
    return str(Path(redis_binary()).with_name("redis-cli"))


def _wait(check: Any, timeout: float = 20.0, what: str = "redis") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (redis.RedisError, OSError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up")


class Node:
    """One redis-server on a loopback TCP port."""

    def __init__(self, directory: Path, port: int, *extra: str) -> None:
        self.dir = directory / str(port)
        self.port = port
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Node:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.dir), "--save", "", "--maxmemory-policy", "noeviction",
             "--logfile", str(self.dir / "log"), *self.extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait(lambda: self.client().ping())
        except RuntimeError:
            self.stop()
            raise
        return self

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, decode_responses=True, socket_timeout=2)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


class Cluster:
    """Six nodes, three masters with one replica each, created with redis-cli."""

    def __init__(self, directory: Path) -> None:
        self.nodes = [Node(directory, p, "--cluster-enabled", "yes",
                           "--cluster-config-file", "nodes.conf",
                           "--cluster-node-timeout", "1500", "--appendonly", "no")
                      for p in free_ports(6)]

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{n.port}" for n in self.nodes[:3])

    def start(self) -> Cluster:
        try:
            for node in self.nodes:
                node.start()
            subprocess.run(
                [_cli(), "--cluster", "create", *(f"127.0.0.1:{n.port}" for n in self.nodes),
                 "--cluster-replicas", "1", "--cluster-yes"],
                check=True, capture_output=True, timeout=60)
            _wait(self.healthy, 30, "cluster")
        except BaseException:
            self.stop()  # never leave half a cluster running
            raise
        return self

    def healthy(self) -> bool:
        for node in self.nodes:
            if node.proc is None or node.proc.poll() is not None:
                continue
            if node.client().cluster("info").get("cluster_state") != "ok":
                return False
        with self.client() as c:
            return bool(c.set("pw-test:probe", "1")) and bool(c.delete("pw-test:probe"))

    def client(self) -> RedisCluster:
        return RedisCluster(host="127.0.0.1", port=self.nodes[0].port, decode_responses=True,
                            socket_timeout=2)

    def alive(self) -> bool:
        return all(n.proc is not None and n.proc.poll() is None for n in self.nodes)

    def flush(self) -> None:
        with self.client() as c:
            c.flushall(target_nodes=RedisCluster.PRIMARIES)

    def dump(self) -> bytes:
        with RedisCluster(host="127.0.0.1", port=self.nodes[0].port, socket_timeout=2) as c:
            return dump_all(c)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


class SentinelSetup:
    """A master, a replica and three sentinels watching `mymaster`."""

    def __init__(self, directory: Path) -> None:
        ports = free_ports(5)
        self.dir = directory
        self.master = Node(directory, ports[0])
        self.replica = Node(directory, ports[1], "--replicaof", "127.0.0.1", str(ports[0]))
        self.sentinel_ports = ports[2:]
        self.sentinels: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        return ("redis+sentinel://" + ",".join(f"127.0.0.1:{p}" for p in self.sentinel_ports)
                + "/mymaster")

    def start(self) -> SentinelSetup:
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> SentinelSetup:
        self.master.start()
        self.replica.start()
        _wait(lambda: self.replica.client().info("replication").get("master_link_status")
              == "up")
        for port in self.sentinel_ports:
            conf = self.dir / f"sentinel-{port}.conf"
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {self.dir}\n"
                f"sentinel monitor mymaster 127.0.0.1 {self.master.port} 2\n"
                "sentinel down-after-milliseconds mymaster 1000\n"
                "sentinel failover-timeout mymaster 5000\n")
            self.sentinels.append(subprocess.Popen(
                [redis_binary(), str(conf), "--sentinel"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for port in self.sentinel_ports:
            _wait(lambda p=port: redis.Redis(port=p, decode_responses=True).sentinel_master(
                "mymaster").get("num-other-sentinels", 0) >= 2, 30, "sentinels")
        return self

    def sentinel(self) -> redis.Redis:
        return redis.Redis(port=self.sentinel_ports[0], decode_responses=True, socket_timeout=2)

    def master_port(self) -> int:
        return int(self.sentinel().sentinel_get_master_addr_by_name("mymaster")[1])

    def stop(self) -> None:
        for proc in self.sentinels:
            proc.kill()
            proc.wait(10)
        self.replica.stop()
        self.master.stop()
