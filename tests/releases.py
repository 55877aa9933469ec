"""Earlier releases, installed from the repository's own history, run as their users ran them.

`installed(tag)` checks the tag out into a temporary git worktree (by its commit hash when a
clone has no tags), installs it into its own venv with the versions of requirements/
runtime.lock (hashes stripped: a release's own package is built from source), and caches that
venv under .venv-releases/ so a second run is fast. A repository without that history fails
the test: the upgrade tests are the proof that old data survives, never skipped.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".venv-releases"
# The tag and, for clones without tags, its commit.
RELEASES = {"v0.1.0": "b4caf95", "v0.2.0": "8f2383d", "v0.3.0": "bb2e336"}
SECRET = "release-test-secret-0123456789abcdef"


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


def resolve(tag: str) -> str:
    """The full commit of a release: its tag, else its known commit; fails loudly without."""
    for name in (tag, RELEASES[tag]):
        try:
            return _git("rev-parse", "--verify", "--quiet", f"{name}^{{commit}}")
        except subprocess.CalledProcessError:
            continue
    pytest.fail(f"release {tag} ({RELEASES[tag]}) is not in this clone's history: the upgrade "
                "tests need it (git fetch --tags, or clone without --depth)", pytrace=False)


def constraints() -> str:
    """requirements/runtime.lock without hashes or comments: `name==version ; marker` lines."""
    lines = []
    for raw in (ROOT / "requirements" / "runtime.lock").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", "--hash")):
            continue
        lines.append(line.rstrip("\\").strip())
    return "\n".join(lines) + "\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Release:
    """One installed release: its CLI and its server, against a Redis the test gives."""

    tag: str
    commit: str
    venv: Path

    def env(self, redis_url: str, work: Path) -> dict[str, str]:
        """The environment its users would set (and a private runtime dir for gunicorn)."""
        runtime = work / "run"
        runtime.mkdir(parents=True, exist_ok=True)
        runtime.chmod(0o700)
        return {
            "PATH": f"{self.venv / 'bin'}:/usr/bin:/bin", "HOME": str(work),
            "XDG_RUNTIME_DIR": str(runtime), "PW_REDIS_URL": redis_url,
            "PW_SECRET_KEY": SECRET, "PW_DATA_DIR": str(work / "var"),
            "PROMETHEUS_MULTIPROC_DIR": str(work / "metrics"), "PW_TRUSTED_PROXIES": "1",
            "PW_WORKERS": "1", "PW_THREADS": "4", "LANG": "C.UTF-8",
        }

    def cli(self, env: dict[str, str], *args: str) -> str:
        """Run its `portal-widgets` command; its stdout (fails the test on an error)."""
        done = subprocess.run([str(self.venv / "bin" / "portal-widgets"), *args], env=env,
                              capture_output=True, text=True, timeout=120, cwd=env["HOME"])
        assert done.returncode == 0, f"{self.tag} {args}: {done.stderr}"
        return done.stdout

    @contextlib.contextmanager
    def serve(self, env: dict[str, str]) -> Iterator[Server]:
        """Its `portal-widgets serve` on a free loopback port, stopped afterwards."""
        port = free_port()
        log = open(Path(env["HOME"]) / f"serve-{port}.log", "w")  # noqa: SIM115
        proc = subprocess.Popen(
            [str(self.venv / "bin" / "portal-widgets"), "serve", "--host", "127.0.0.1",
             "--port", str(port), "--workers", "1"],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=env["HOME"])
        server = Server(f"http://127.0.0.1:{port}")
        try:
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, f"{self.tag} serve exited: see {log.name}"
                with contextlib.suppress(OSError):
                    if server.call("GET", "/readyz")[0] == 200:
                        break
                assert time.monotonic() < deadline, f"{self.tag} serve did not start"
                time.sleep(0.1)
            yield server
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()


@dataclass
class Server:
    """A running release, spoken to over HTTP."""

    base: str

    def call(self, method: str, path: str, body: Any = None, *, token: str | None = None,
             ip: str = "198.51.100.1", text_plain: bool = False) -> tuple[int, Any]:
        """(status, decoded JSON or None)."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"X-Forwarded-For": ip, "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) "
                   "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"}
        if data is not None:
            headers["Content-Type"] = ("text/plain;charset=UTF-8" if text_plain
                                       else "application/json")
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                raw = response.read()
                status = response.status
        except urllib.error.HTTPError as error:
            raw, status = error.read(), error.code
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, None


def _build(tag: str, commit: str, venv: Path) -> None:
    with tempfile.TemporaryDirectory(prefix=f"pw-{tag}-") as tmp:
        source = Path(tmp) / "src"
        _git("worktree", "prune")  # forget worktrees of builds that were killed
        _git("worktree", "add", "--detach", str(source), commit)
        try:
            pins = Path(tmp) / "constraints.txt"
            pins.write_text(constraints())
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                            "--disable-pip-version-check", "-c", str(pins), str(source)],
                           check=True, timeout=900)
        finally:
            _git("worktree", "remove", "--force", str(source))


def installed(tag: str) -> Release:
    """The release, installed (or taken from the cache when built from the same lock)."""
    commit = resolve(tag)
    stamp_value = hashlib.sha256(
        (commit + constraints() + sys.version).encode()).hexdigest()
    venv = CACHE / f"{tag}-{commit[:12]}"
    stamp = venv / ".built"
    if not (stamp.exists() and stamp.read_text() == stamp_value):
        if venv.exists():
            shutil.rmtree(venv)
        CACHE.mkdir(exist_ok=True)
        _build(tag, commit, venv)
        stamp.write_text(stamp_value)
    return Release(tag, commit, venv)


def main() -> None:
    """`python -m tests.releases v0.1.0 ...`: build the venvs ahead of a test run."""
    for tag in sys.argv[1:] or list(RELEASES):
        print(tag, installed(tag).venv)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    main()
