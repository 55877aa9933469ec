"""A real redis-server process for tests, on a unix socket in a temp dir."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import redis

from service.store.embedded import redis_binary


def dump_all(client: Any) -> bytes:
    """Every key and its serialized value, as bytes (a client without decoding)."""
    out = []
    for key in client.scan_iter(match="*"):
        out.append(key)
        value = client.dump(key)
        if value is not None:
            out.append(value)
    return b"\n".join(out)


class RedisProcess:
    """One redis-server; stop/cont/kill/restart for outage tests."""

    def __init__(self, directory: Path, *extra: str) -> None:
        self.dir = directory
        self.socket = directory / "redis.sock"
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def client(self) -> redis.Redis:
        # The harness's own client waits longer than the service's (a busy 2-core machine
        # can stall a FLUSHALL or ACL SETUSER for seconds); the service keeps its short ones.
        return redis.Redis(unix_socket_path=str(self.socket), decode_responses=True,
                           socket_timeout=30)

    def dump(self) -> bytes:
        """Every key and value, as bytes, for privacy scans."""
        with redis.Redis(unix_socket_path=str(self.socket), socket_timeout=30) as r:
            return dump_all(r)

    def start(self) -> RedisProcess:
        self.dir.mkdir(parents=True, exist_ok=True)
        if self.socket.exists():
            self.socket.unlink()
        self.proc = subprocess.Popen(
            [redis_binary(), "--port", "0", "--unixsocket", str(self.socket),
             "--dir", str(self.dir), "--save", "", "--maxmemory-policy", "noeviction",
             "--logfile", str(self.dir / "redis.log"), *self.extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with self.client() as c:
                    c.ping()
                return self
            except (redis.ConnectionError, redis.BusyLoadingError, FileNotFoundError):
                time.sleep(0.02)
        self.proc.kill()
        self.proc.wait()
        raise RuntimeError("redis-server did not start")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def flush(self) -> None:
        with self.client() as c:
            c.flushall()

    def pause(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGCONT)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None
