"""PW_* settings, parsed and validated once at start."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

_PREFIX_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
# A DNS name (ASCII/punycode) or an IP literal: nothing that could break a header or a page.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST_RE = re.compile(rf"^(?:{_LABEL}\.)*{_LABEL}$|^[0-9a-f:.]+$")
_URL_SCHEMES = ("redis://", "rediss://", "unix://", "redis+sentinel://", "redis+cluster://")


class ConfigError(Exception):
    """A PW_* variable is missing or invalid; the message names it."""


@dataclass(frozen=True)
class StorageSettings:
    """Where the data lives; all the management commands need."""

    url: str | None  # None: the embedded Redis of data_dir
    data_dir: Path
    key_prefix: str
    redis_maxmemory: int = 0  # bytes; the embedded Redis's budget (0: none)

    @property
    def embedded_url(self) -> str:
        """The unix socket URL of the embedded Redis."""
        return "unix://" + str((self.data_dir / "redis.sock").resolve())

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> StorageSettings:
        """PW_REDIS_URL, PW_DATA_DIR and PW_KEY_PREFIX, validated."""
        url = env.get("PW_REDIS_URL") or None
        if url is not None and not url.startswith(_URL_SCHEMES):
            raise ConfigError("PW_REDIS_URL must start with one of " + ", ".join(_URL_SCHEMES))
        prefix = env.get("PW_KEY_PREFIX") or "pw"
        if not _PREFIX_RE.match(prefix):
            raise ConfigError("PW_KEY_PREFIX must be 1-32 characters of letters, digits, _ or -")
        return cls(url=url, data_dir=Path(env.get("PW_DATA_DIR") or "./var"), key_prefix=prefix,
                   redis_maxmemory=redis_maxmemory(env.get("PW_REDIS_MAXMEMORY") or None))


_MEMORY_RE = re.compile(r"^([0-9]{1,15})(b|k|kb|m|mb|g|gb)?$", re.IGNORECASE)
# Redis's own units: k/m/g are powers of 1000, kb/mb/gb powers of 1024.
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2,
          "g": 1000**3, "gb": 1024**3}
MIN_MAXMEMORY = 16 * 1024**2  # less cannot hold the service's scripts and a few sites


def available_memory() -> int:
    """The memory this process may use: the machine's, or its cgroup's limit when lower."""
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()  # cgroup v2
    except OSError:
        limit = "max"
    if limit.isdigit():
        total = min(total, int(limit))
    return int(total)


def redis_maxmemory(raw: str | None) -> int:
    """PW_REDIS_MAXMEMORY in bytes (Redis syntax: `4gb`, `512mb`, `1000000`); default: half
    of the available memory."""
    if raw is None:
        return max(available_memory() // 2, MIN_MAXMEMORY)
    match = _MEMORY_RE.match(raw.strip())
    if match is None:
        raise ConfigError(f"PW_REDIS_MAXMEMORY must be a size such as 512mb or 4gb, got "
                          f"{raw[:40]!r}")
    value = int(match.group(1)) * _UNITS[(match.group(2) or "").lower()]
    if value < MIN_MAXMEMORY:
        raise ConfigError(f"PW_REDIS_MAXMEMORY must be at least 16mb, got {raw[:40]!r}")
    return value


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment."""

    secret_key: str
    redis_url: str
    data_dir: Path
    key_prefix: str = "pw"
    trusted_proxies: int = 0
    metrics_token: str | None = None
    poll_max_votes_per_ip: int = 20
    ratings_per_ip: int = 20  # ratings per page per client address unit (a month)
    embedded: bool = False
    public_url: str | None = None  # scheme://host[:port], no trailing slash

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Parse the environment strictly; raise ConfigError naming the bad variable."""
        env = os.environ if env is None else env
        secret = env.get("PW_SECRET_KEY", "")
        if not secret:
            raise ConfigError("PW_SECRET_KEY is required (use `portal-widgets serve --dev` to try)")
        if len(secret) < 16:
            raise ConfigError("PW_SECRET_KEY must be at least 16 characters")
        storage = StorageSettings.from_env(env)
        metrics_token = env.get("PW_METRICS_TOKEN") or None
        if metrics_token is not None and len(metrics_token) < 16:
            raise ConfigError("PW_METRICS_TOKEN must be at least 16 characters")
        return cls(
            secret_key=secret,
            redis_url=storage.url or storage.embedded_url,
            data_dir=storage.data_dir,
            key_prefix=storage.key_prefix,
            trusted_proxies=_int(env, "PW_TRUSTED_PROXIES", 0, 0, 10),
            metrics_token=metrics_token,
            poll_max_votes_per_ip=_int(env, "PW_POLL_MAX_VOTES_PER_IP", 20, 1, 1_000_000),
            ratings_per_ip=_int(env, "PW_RATINGS_PER_IP", 20, 1, 1_000_000),
            embedded=storage.url is None,
            public_url=parse_public_url(env.get("PW_PUBLIC_URL") or None),
        )


def parse_public_url(raw: str | None) -> str | None:
    """PW_PUBLIC_URL as `scheme://host[:port]`: http or https, no path, query or credentials."""
    if raw is None:
        return None
    problem = ConfigError(
        f"PW_PUBLIC_URL must be http(s)://host[:port] with no path, query or credentials, "
        f"got {raw!r}")
    try:
        parts = urlsplit(raw)
        port = parts.port  # ValueError for a bad port
    except ValueError:
        raise problem from None
    host = parts.hostname or ""
    if (parts.scheme not in ("http", "https") or not _HOST_RE.match(host)
            or parts.path not in ("", "/") or "?" in raw or "#" in raw
            or "@" in parts.netloc or port == 0 or any(c.isspace() for c in raw)):
        raise problem
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def bounded_int(raw: str | None, name: str, default: int, low: int, high: int) -> int:
    """An integer from text within [low, high]; `default` when empty; ValueError naming it."""
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw[:40]!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{name} must be from {low} to {high}, got {value}")
    return value


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    try:
        return bounded_int(env.get(name), name, default, low, high)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
