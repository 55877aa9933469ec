"""`portal-widgets serve`: gunicorn, with the embedded Redis when PW_REDIS_URL is unset."""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from service.config import Settings, StorageSettings
from service.embedded import EmbeddedRedis


def register(sub: Any) -> None:
    """Add the serve command."""
    serve = sub.add_parser("serve", help="run the service under gunicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int)
    serve.add_argument("--threads", type=int)
    serve.add_argument("--dev", action="store_true", help="allow a throw-away secret key")
    serve.set_defaults(func=cmd_serve)


def _prepare_metrics_dir(env: dict[str, str], data_dir: Path) -> None:
    """PROMETHEUS_MULTIPROC_DIR exists and is empty before any worker imports the client."""
    path = Path(env.get("PROMETHEUS_MULTIPROC_DIR") or data_dir / "prometheus")
    if path.exists():
        for child in path.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
    path.mkdir(parents=True, exist_ok=True)
    env["PROMETHEUS_MULTIPROC_DIR"] = str(path.resolve())


def _dev_secret(data_dir: Path) -> str:
    """A throw-away secret for --dev, kept in the data dir so a restart keeps visitor ids."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "dev-secret"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
        print(f"serve --dev: generated a throw-away PW_SECRET_KEY in {path}", file=sys.stderr)
    return path.read_text().strip()


def cmd_serve(args: argparse.Namespace) -> int:
    """Run gunicorn; without PW_REDIS_URL, start and stop the embedded Redis around it."""
    env = dict(os.environ)
    if args.dev and not env.get("PW_SECRET_KEY"):
        env["PW_SECRET_KEY"] = _dev_secret(StorageSettings.from_env(env).data_dir)
    settings = Settings.from_env(env)
    embedded: EmbeddedRedis | None = None
    if settings.embedded:
        embedded = EmbeddedRedis(settings.data_dir)
        embedded.lock()
        _prepare_metrics_dir(env, settings.data_dir)
        embedded.start()
        env["PW_REDIS_URL"] = embedded.url
        print(f"embedded redis on {embedded.socket}", file=sys.stderr)
    else:
        _prepare_metrics_dir(env, settings.data_dir)
    command = [
        sys.executable, "-m", "gunicorn", "-c", "python:service.gunicorn_conf",
        "--bind", f"{args.host}:{args.port}", "service:create_app()",
    ]
    if args.workers:
        command += ["--workers", str(args.workers)]
    if args.threads:
        command += ["--threads", str(args.threads)]
    gunicorn = subprocess.Popen(command, env=env)

    def forward(signum: int, _frame: Any) -> None:
        if gunicorn.poll() is None:
            gunicorn.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    try:
        code = gunicorn.wait()
    finally:
        if gunicorn.poll() is None:
            gunicorn.terminate()
            gunicorn.wait()
        if embedded is not None:
            embedded.stop()
            print("embedded redis stopped", file=sys.stderr)
    return code
