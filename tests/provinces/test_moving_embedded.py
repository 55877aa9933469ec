"""Backups and imports on the embedded Redis and through a running `serve` (not repeated on
the cluster: these start their own Redis)."""

from __future__ import annotations

import hashlib
import http.client
import json
import subprocess
import urllib.request
from pathlib import Path

from service.store.layout import LAYOUT_VERSION
from tests.provinces.test_moving import T0, resign
from tests.runtime.test_serve import BIN, _env, _free_port, _wait_ready, serving


def _run(data: Path, *argv: str) -> str:
    done = subprocess.run([str(BIN), *argv], env=_env(data), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_backup_restore_with_the_embedded_redis_and_an_import_through_serve(
        tmp_path: Path) -> None:
    """The commands on PW_DATA_DIR (each starts the embedded Redis for itself), and a file
    of hundreds of KiB sent chunked to a running `serve` (its worker hands such a body to
    the route as a stream)."""
    first, second, third = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    _run(first, "demo")
    _run(first, "site", "set-counters", "demo", "--json",
         '{"visits": {"total": 12380046}, "pageviews": {"total": 30000000}}')
    _run(first, "token", "create", "--name", "tinh")
    _run(first, "backup", str(tmp_path / "bk"))
    _run(second, "restore", str(tmp_path / "bk"))
    shown = [json.loads(_run(d, "site", "show", "demo")) for d in (first, second)]
    assert shown[0]["settings"] == shown[1]["settings"]
    assert shown[0]["stats"]["visits"]["total"] == shown[1]["stats"]["visits"]["total"] >= \
        12380046
    assert shown[0]["counters"] == shown[1]["counters"]
    assert json.loads(_run(second, "token", "list"))[0]["name"] == "tinh"

    # a large file: many pages, to import through serve
    lines = [json.dumps({"format": "portal-widgets-export", "version": LAYOUT_VERSION,
                         "site": "lon", "exported_at": T0.isoformat(),
                         "export_id": "ab" * 16}).encode() + b"\n",
             json.dumps({"section": "settings", "settings": {"name": "Cổng lớn"}}).encode()
             + b"\n"]
    for start in range(0, 4000, 500):
        batch = []
        for i in range(start, start + 500):
            path = f"/van-ban/so-{i:05d}-quyet-dinh-ve-viec-phe-duyet-ke-hoach"
            batch.append([hashlib.sha256(path.encode()).hexdigest()[:16], path, i + 1,
                          f"Quyết định số {i}", False, False])
        lines.append(json.dumps({"section": "pages", "pages": batch},
                                ensure_ascii=False).encode() + b"\n")
    data = resign(lines)
    assert len(data) > 5 * 64 * 1024
    secret = _run(third, "token", "create", "--name", "tinh").strip().splitlines()[-1]
    port = _free_port()
    with serving(third, port):
        _wait_ready(port)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.putrequest("POST", "/api/v1/admin/sites/lon/import")
        conn.putheader("Authorization", f"Bearer {secret}")
        conn.putheader("Content-Type", "application/x-ndjson")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        for i in range(0, len(data), 16384):
            chunk = data[i:i + 16384]
            conn.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        conn.send(b"0\r\n\r\n")
        answer = conn.getresponse()
        body = json.loads(answer.read())
        assert answer.status == 201, body
        assert body["lines"] == len(lines) - 1
        # and with a Content-Length, the same file again: imported once
        conn.request("POST", "/api/v1/admin/sites/lon/import", body=data, headers={
            "Authorization": f"Bearer {secret}", "Content-Type": "application/x-ndjson"})
        again = conn.getresponse()
        assert again.status == 409 and json.loads(again.read())["error"] == "already imported"
        conn.close()
        with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/api/v1/sites/lon/pages?path=/van-ban/so-03999-"
                "quyet-dinh-ve-viec-phe-duyet-ke-hoach", timeout=5) as r:
            views = json.loads(r.read())
    assert views["pages"] == {"/van-ban/so-03999-quyet-dinh-ve-viec-phe-duyet-ke-hoach": {
        "views": 4000, "title": "Quyết định số 3999"}}
