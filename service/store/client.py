"""Build a redis-py client from PW_REDIS_URL with short timeouts and few retries."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import redis
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.retry import Retry
from redis.sentinel import Sentinel

# redis-py's defaults (no socket timeout, several retries) turn an outage into hung workers;
# a few hundred milliseconds and one retry give a fast 503 instead.
SOCKET_TIMEOUT = 0.4
CONNECT_TIMEOUT = 0.4
# The rate limiter (flask-limiter) gives up sooner still and falls back to memory
# (service.limits).
LIMITER_TIMEOUT = 0.25


def _retry() -> Retry:
    return Retry(ExponentialBackoff(cap=0.1, base=0.02), 1)


def _common() -> dict[str, Any]:
    return {
        "socket_timeout": SOCKET_TIMEOUT,
        "socket_connect_timeout": CONNECT_TIMEOUT,
        "retry": _retry(),
        "decode_responses": True,
        # No health-check PING before commands on an idle connection: a Redis whose disk is
        # full (MISCONF) refuses PING, and reads would fail with it. A dead connection is
        # found by the command itself and retried once on a new one (`retry`).
        "health_check_interval": 0,
    }


def _hosts(netloc: str) -> list[tuple[str, int]]:
    hosts = []
    for part in netloc.rsplit("@", 1)[-1].split(","):
        host, _, port = part.rpartition(":")
        hosts.append((host.strip("[]") or "localhost", int(port or 6379)))
    return hosts


def make_client(url: str) -> redis.Redis | RedisCluster:
    """A client for redis://, rediss://, unix://, redis+sentinel:// or redis+cluster://."""
    parts = urlsplit(url)
    password = parts.password
    if parts.scheme == "redis+cluster":
        nodes = [ClusterNode(host, port) for host, port in _hosts(parts.netloc)]  # type: ignore[no-untyped-call]
        return RedisCluster(
            startup_nodes=nodes,
            password=password,
            socket_timeout=SOCKET_TIMEOUT,
            socket_connect_timeout=CONNECT_TIMEOUT,
            decode_responses=True,
            retry=_retry(),
        )
    if parts.scheme == "redis+sentinel":
        # redis+sentinel://[:password@]host:port[,host:port]/service_name[/db]
        path = [p for p in parts.path.split("/") if p]
        service = path[0] if path else "mymaster"
        db = int(path[1]) if len(path) > 1 else 0
        sentinel = Sentinel(
            _hosts(parts.netloc),
            socket_timeout=SOCKET_TIMEOUT,
            socket_connect_timeout=CONNECT_TIMEOUT,
            # asking the sentinels gives up as fast as a command does: redis-py's own default
            # (several retries with backoff) took 17 s with two sentinels down, long enough
            # for a retried hit script to outlive its marker (counters.ONCE_SECONDS)
            sentinel_kwargs={"socket_timeout": SOCKET_TIMEOUT,
                             "socket_connect_timeout": CONNECT_TIMEOUT,
                             "retry": Retry(NoBackoff(), 0)},
        )
        master: redis.Redis = sentinel.master_for(
            service, password=password, db=db, **_common()
        )
        return master
    query = parse_qs(parts.query)
    if "socket_timeout" in query or "retry" in query:
        raise ValueError("timeouts are set by the service; remove them from PW_REDIS_URL")
    return redis.Redis.from_url(url, **_common())


def limiter_storage_uri(url: str) -> str:
    """flask-limiter's storage URI (the `limits` library's) that reaches the same Redis."""
    if url.startswith("unix://"):
        return "redis+unix://" + url[len("unix://"):]
    return url


def limiter_storage_options(key_prefix: str) -> dict[str, Any]:
    """Options of flask-limiter's storage: its keys under the prefix (`<prefix>:LIMITER/...`);
    it gives up sooner than the store and never retries; driver errors arrive wrapped as
    limits.errors.StorageError (flask-limiter then counts in memory)."""
    return {"socket_timeout": LIMITER_TIMEOUT, "socket_connect_timeout": LIMITER_TIMEOUT,
            "retry": Retry(NoBackoff(), 0), "key_prefix": key_prefix, "wrap_exceptions": True}
