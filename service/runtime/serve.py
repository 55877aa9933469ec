"""`portal-widgets serve`: gunicorn, with the embedded Redis when PW_REDIS_URL is unset.

`serve` is the parent of everything it runs and supervises it from its main thread:
- gunicorn and redis-server get SIGTERM when `serve` dies, even by SIGKILL (Linux
  parent-death signal); gunicorn's workers leave when their master is gone;
- a dead embedded redis-server is started again on the same data dir (AOF on);
- the data dir and the metrics dir are locked (flock) for as long as any of these
  processes lives, so a second instance refuses to start instead of wiping them.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from service.cli.migrate import run as run_migrations
from service.runtime.config import Settings, StorageSettings
from service.store import Store, migrations
from service.store.embedded import (
    EmbeddedError,
    EmbeddedRedis,
    die_with_parent,
    hold_lock,
    in_use_message,
    private_dir,
)

LOCK_NAME = "serve.lock"  # in the data dir and in the metrics dir
POLL_SECONDS = 0.25  # how soon a dead Redis is noticed
# A Redis that keeps dying is restarted less and less often, up to this.
MAX_BACKOFF_SECONDS = 30.0


def register(sub: Any) -> None:
    """Add the serve command."""
    serve = sub.add_parser("serve", help="run the service under gunicorn")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    serve.add_argument("--workers", type=int, help="gunicorn processes (default PW_WORKERS or 2)")
    serve.add_argument("--threads", type=int, help="threads per process (default PW_THREADS or 4)")
    serve.add_argument("--dev", action="store_true", help="allow a throw-away secret key")
    serve.add_argument("--migrate", action="store_true",
                       help="first bring data of an earlier release to this release's layout "
                            "(as `portal-widgets migrate`); without it, older data is refused")
    serve.set_defaults(func=cmd_serve)


def default_metrics_dir(data_dir: Path) -> Path:
    """Where the metric files go unless PROMETHEUS_MULTIPROC_DIR says: in memory (/dev/shm)
    or the system temp dir, never on the data dir's filesystem. The workers write them
    through mmap: on a full data disk that is a SIGBUS, a crash loop instead of an outage
    of writes. One directory per data dir, so that it stays the instance's lock."""
    shm = Path("/dev/shm")
    base = shm if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) else Path(
        tempfile.gettempdir())
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
    return base / f"portal-widgets-{os.getuid()}-{digest}"


def _metrics_dir(env: dict[str, str], data_dir: Path) -> Path:
    path = Path(env.get("PROMETHEUS_MULTIPROC_DIR") or default_metrics_dir(data_dir)).resolve()
    data = data_dir.resolve()
    if path == data or path in data.parents:
        raise EmbeddedError(
            f"PROMETHEUS_MULTIPROC_DIR ({path}) is wiped at every start: it must not be "
            f"PW_DATA_DIR ({data}) or contain it"
        )
    return path


def _lock_metrics_dir(path: Path) -> IO[str]:
    """Lock PROMETHEUS_MULTIPROC_DIR, then delete the metric files of earlier runs."""
    private_dir(path)
    handle = hold_lock(
        path / LOCK_NAME,
        f"PROMETHEUS_MULTIPROC_DIR {path} is in use by another portal-widgets serve; "
        "give each instance its own directory",
    )
    # prometheus-client writes nothing but *.db files; anything else is not ours to delete.
    for child in path.glob("*.db"):
        if child.is_file():
            child.unlink()
    return handle


def _dev_secret(data_dir: Path) -> str:
    """A throw-away secret for --dev, kept in the data dir so a restart keeps visitor ids."""
    private_dir(data_dir)
    path = data_dir / "dev-secret"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(32))
        print(f"serve --dev: generated a throw-away PW_SECRET_KEY in {path}", file=sys.stderr)
    return path.read_text().strip()


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return parts._replace(netloc=f"***@{netloc}").geturl()


def _check_external(url: str) -> bool:
    """Warn (and start anyway) when PW_REDIS_URL does not answer: it may come up later.
    Whether it answered."""
    from service.store.client import make_client

    try:
        client = make_client(url)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # any failure (refused, timeout, auth, DNS) gets the warning
        print(
            f"warning: PW_REDIS_URL {_redacted(url)} does not answer ({type(exc).__name__}: "
            f"{exc}); starting anyway, /readyz answers 503 until it does; the data's layout "
            "version was not checked",
            file=sys.stderr,
        )
        return False
    return True


def _check_layout(url: str, prefix: str, migrate: bool) -> None:
    """Refuse data newer than this release, and older data unless `migrate` (then migrate
    it first); an empty deployment gets this release's layout written."""
    store = Store.from_url(url, prefix)
    try:
        if migrate:
            run_migrations(store, check=False)
        else:
            migrations.check_layout(store)
    finally:
        store.redis.close()


class _Supervisor:
    """Restarts the embedded Redis when it dies, with a growing pause if it keeps dying."""

    def __init__(self, embedded: EmbeddedRedis) -> None:
        self.embedded = embedded
        self.started = time.monotonic()
        self.backoff = 0.0
        self.next_try = 0.0

    def check(self) -> None:
        """Start Redis again if it is not running (called from the main thread)."""
        process = self.embedded.process
        if process is not None and process.poll() is None:
            if time.monotonic() - self.started > MAX_BACKOFF_SECONDS:
                self.backoff = 0.0  # it has been up a while: the next death is news
            return
        now = time.monotonic()
        if now < self.next_try:
            return
        if process is not None:
            print(f"embedded redis exited with code {process.returncode}; restarting it on "
                  f"{self.embedded.data_dir}", file=sys.stderr)
            self.embedded.process = None
        try:
            self.embedded.start()
        except EmbeddedError as exc:
            print(f"error: embedded redis did not start again: {exc}", file=sys.stderr)
        else:
            print("embedded redis running again", file=sys.stderr)
        self.started = time.monotonic()
        self.backoff = min(max(self.backoff * 2, 0.5), MAX_BACKOFF_SECONDS)
        self.next_try = self.started + self.backoff


def _gunicorn_command(args: argparse.Namespace) -> list[str]:
    command = [
        sys.executable, "-m", "gunicorn", "-c", "python:service.runtime.gunicorn_conf",
        "--bind", f"{args.host}:{args.port}", "service:create_app()",
    ]
    if args.workers:
        command += ["--workers", str(args.workers)]
    if args.threads:
        command += ["--threads", str(args.threads)]
    return command


def _run_gunicorn(command: list[str], env: dict[str, str], lock_fds: tuple[int, ...],
                  supervisor: _Supervisor | None) -> int:
    """Run gunicorn until it exits, checking the embedded Redis meanwhile; its exit code."""
    # Not its own session: a Ctrl-C in the terminal stops gunicorn at once.
    gunicorn = subprocess.Popen(command, env=env, pass_fds=lock_fds,
                                preexec_fn=die_with_parent(os.getpid()))
    stopping = False

    def forward(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True
        if gunicorn.poll() is None:
            gunicorn.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    try:
        while True:
            try:
                return gunicorn.wait(POLL_SECONDS)
            except subprocess.TimeoutExpired:
                pass
            if supervisor is not None and not stopping:
                supervisor.check()
    finally:
        if gunicorn.poll() is None:
            gunicorn.terminate()
            gunicorn.wait()


def cmd_serve(args: argparse.Namespace) -> int:
    """Run gunicorn; without PW_REDIS_URL, run and supervise the embedded Redis beside it."""
    env = dict(os.environ)
    storage = StorageSettings.from_env(env)
    if args.dev and not env.get("PW_SECRET_KEY"):
        env["PW_SECRET_KEY"] = _dev_secret(storage.data_dir)
    settings = Settings.from_env(env)
    metrics_dir = _metrics_dir(env, settings.data_dir)
    # Held by this process and inherited by gunicorn (and its workers) and Redis. With an
    # external Redis the data dir holds nothing (a container's root may be read-only): the
    # metrics dir's lock is the instance's (by default it is named after the data dir).
    locks = []
    if settings.embedded:
        private_dir(settings.data_dir)
        locks.append(hold_lock(settings.data_dir / LOCK_NAME, in_use_message(settings.data_dir)))
    locks.append(_lock_metrics_dir(metrics_dir))
    env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    lock_fds = tuple(lock.fileno() for lock in locks)
    embedded: EmbeddedRedis | None = None
    supervisor: _Supervisor | None = None
    try:
        if settings.embedded:
            embedded = EmbeddedRedis(settings.data_dir, maxmemory=storage.redis_maxmemory)
            embedded.inherit = lock_fds
            embedded.lock()
            embedded.start()
            supervisor = _Supervisor(embedded)
            env["PW_REDIS_URL"] = embedded.url
            print(f"embedded redis on {embedded.socket}", file=sys.stderr)
            _check_layout(embedded.url, settings.key_prefix, args.migrate)
        elif _check_external(settings.redis_url):
            _check_layout(settings.redis_url, settings.key_prefix, args.migrate)
        return _run_gunicorn(_gunicorn_command(args), env, lock_fds, supervisor)
    finally:
        if embedded is not None:
            embedded.stop()
            print("embedded redis stopped", file=sys.stderr)
        # /dev/shm is memory: the metric files of a stopped instance go with it.
        for child in metrics_dir.glob("*.db"):
            child.unlink(missing_ok=True)
        for lock in locks:
            lock.close()
