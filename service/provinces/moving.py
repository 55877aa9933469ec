"""Moving a portal between deployments: export files, imports, backups and restores.

An export file is JSON Lines: a header `{"format": "portal-widgets-export", "version",
"site", "exported_at", "export_id"}`, the sections' lines (service.store.sections: one
section per kind of data), and a trailer `{"trailer": true, "lines": N, "sha256": ...}`
(N lines before it, the header included, and the SHA-256 of their bytes).

An import reads the file twice, never holding it in memory:

1. the check: every line is parsed and checked, and written to a temporary file, while the
   checksum is computed; a truncated, altered, malformed or newer-version file is refused
   (400) before anything is written;
2. the apply: the lines are written in batches under the new site's id, each batch with a
   checkpoint; the settings come last, in one script with the `active` marker, and make the
   site exist; then what lies outside its slot (groups, aliases); with `into`, a merge
   (service.provinces.merges) into the target; then the export id is marked done.

Every write of step 2 sets an absolute value, so an import interrupted anywhere and run
again replays from its checkpoint and ends exactly as one uninterrupted run; the merge has
its own markers. An export id marked done is refused (409 `already imported`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from service import sites, tokens
from service.errors import Conflict, Invalid
from service.provinces import groups, merges
from service.sites import SITE_ID_RE
from service.store import Store, sections
from service.store import groups as groups_db
from service.store import imports as db
from service.store import sites as sites_db
from service.store import tokens as tokens_db
from service.store.layout import EXPORTS_READ_FROM, LAYOUT_VERSION

FORMAT = "portal-widgets-export"
BACKUP_FORMAT = "portal-widgets-backup"
MAX_LINE = 16 * 1024 * 1024
# a pipeline of the import holds at most this many lines or bytes of the file (a pages line
# holds up to 500 pages), so each is written well within the client's socket timeout
APPLY_BATCH = 100
APPLY_BYTES = 128 * 1024
CHUNK = 64 * 1024
_EXPORT_ID_RE = re.compile(r"^[0-9a-f]{32}$")


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


# -- export -------------------------------------------------------------------------------

def export(store: Store, site_id: str, *, now: datetime) -> Iterator[bytes]:
    """The site's export file, in chunks of about 64 KiB; NotFound (raised at once, before
    anything is produced) for an unknown site."""
    site = sites.get_site(store, site_id, cached=False)
    header = {"format": FORMAT, "version": LAYOUT_VERSION, "site": site.id,
              "exported_at": now.isoformat(), "export_id": uuid.uuid4().hex}

    def produce() -> Iterator[bytes]:
        digest = hashlib.sha256()
        count = 0
        pending: list[bytes] = []
        size = 0
        # expiry times are wall-clock instants, as Redis keeps them
        wall_ms = int(time.time() * 1000)
        for item in itertools.chain([header], sections.export_site(store, site.id, wall_ms)):
            line = _dump(item)
            digest.update(line)
            count += 1
            pending.append(line)
            size += len(line)
            if size >= CHUNK:
                yield b"".join(pending)
                pending, size = [], 0
        pending.append(_dump({"trailer": True, "lines": count, "sha256": digest.hexdigest()}))
        yield b"".join(pending)

    return produce()


# -- import: the check ----------------------------------------------------------------------

@dataclass
class Checked:
    """A checked export file, its lines (header and trailer left out) spooled to disk."""

    header: dict[str, Any]
    settings: dict[str, Any]
    spool: IO[bytes]
    lines: int  # section lines in the spool
    aliases: list[str] = field(default_factory=list)
    # the few lines whose section writes outside the site's slot (groups, aliases)
    finishing: list[dict[str, Any]] = field(default_factory=list)

    @property
    def site(self) -> str:
        return str(self.header["site"])

    @property
    def export_id(self) -> str:
        return str(self.header["export_id"])

    def read(self, start: int = 0) -> Iterator[tuple[dict[str, Any], int]]:
        """The section lines from the `start`-th on, each with its size in bytes."""
        self.spool.seek(0)
        for n, raw in enumerate(self.spool):
            if n >= start:
                yield json.loads(raw), len(raw)

    def close(self) -> None:
        self.spool.close()


def split_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The lines of a byte stream (each with its newline; the last may lack one)."""
    buf = bytearray()
    for chunk in chunks:
        buf += chunk
        start = 0
        while (end := buf.find(b"\n", start)) >= 0:
            if end - start > MAX_LINE:
                raise Invalid(f"a line is longer than {MAX_LINE} bytes")
            yield bytes(buf[start:end + 1])
            start = end + 1
        del buf[:start]
        if len(buf) > MAX_LINE:
            raise Invalid(f"a line is longer than {MAX_LINE} bytes")
    if buf:
        yield bytes(buf)


def _header(obj: Any) -> dict[str, Any]:
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise Invalid("not a portal-widgets export file (its first line is no header)")
    version = obj.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise Invalid("the header has no version")
    if version > LAYOUT_VERSION:
        raise Invalid(f"the file has data layout version {version}, newer than this "
                      f"deployment's {LAYOUT_VERSION}: upgrade portal-widgets first")
    if version < EXPORTS_READ_FROM:
        raise Invalid(f"the file has data layout version {version}; this version reads "
                      f"{LAYOUT_VERSION}: export it again after upgrading its deployment")
    if not isinstance(obj.get("site"), str) or not SITE_ID_RE.match(obj["site"]):
        raise Invalid("the header has no valid site id")
    if not isinstance(obj.get("export_id"), str) or not _EXPORT_ID_RE.match(obj["export_id"]):
        raise Invalid("the header has no valid export_id")
    if not isinstance(obj.get("exported_at"), str):
        raise Invalid("the header has no exported_at")
    return obj


def _settings(value: dict[str, Any], site_id: str) -> dict[str, Any]:
    """Checked settings as stored (merged_into kept as it was, for now)."""
    clean = sites.validate({k: v for k, v in value.items() if k not in ("id", "merged_into")})
    doc = sites.build(site_id, clean).to_json()
    if "verify_pages" not in clean:  # its default keeps following the origins, as it did
        del doc["verify_pages"]
    merged = value.get("merged_into")
    if merged is not None:
        if not isinstance(merged, str) or not SITE_ID_RE.match(merged):
            raise Invalid("merged_into must be a site id")
        doc["merged_into"] = merged
    return doc


def check(chunks: Iterable[bytes]) -> Checked:
    """Read and check a whole export file; Invalid (400) names the first problem. A file
    whose checksum does not match is reported as altered or cut, whatever else is wrong."""
    digest = hashlib.sha256()
    count = 0
    header: dict[str, Any] | None = None
    settings: dict[str, Any] | None = None
    trailer: Any = None
    problem: str | None = None  # the first bad line, reported when the checksum matches
    aliases: list[str] = []
    finishing: list[dict[str, Any]] = []
    spool = tempfile.TemporaryFile()  # noqa: SIM115 (closed by Checked.close or below)
    try:
        for raw in split_lines(chunks):
            if trailer is not None:
                if raw.strip():
                    raise Invalid("the file goes on after its trailer")
                continue
            if not raw.endswith(b"\n"):
                raise Invalid("the file is truncated (it has no trailer)")
            try:
                obj = json.loads(raw)
            except ValueError:
                obj = None
                problem = problem or f"line {count + 1} is not JSON"
            if count == 0:
                header = _header(obj)
            elif isinstance(obj, dict) and "trailer" in obj:
                trailer = obj
                continue
            elif problem is None:
                try:
                    sections.check_line(obj)
                    if obj["section"] == "settings":
                        settings = _settings(obj["settings"], str(header["site"]))  # type: ignore[index]
                    elif obj["section"] == "aliases":  # their settings, checked and clean
                        obj = {**obj, "aliases": [
                            {"id": a["id"], "settings": _settings(a["settings"], a["id"])}
                            for a in obj["aliases"]]}
                        aliases += [a["id"] for a in obj["aliases"]]
                    if sections.SECTIONS[obj["section"]].finish is not None:
                        finishing.append(obj)
                except sections.BadLine as exc:
                    problem = f"line {count + 1}: {exc}"
                except Invalid as exc:
                    problem = f"line {count + 1}: {exc.reason}"
                spool.write(raw)
            digest.update(raw)
            count += 1
        if header is None:
            raise Invalid("the file is empty")
        if trailer is None:
            raise Invalid("the file is truncated (it has no trailer)")
        if trailer.get("lines") != count or trailer.get("sha256") != digest.hexdigest():
            raise Invalid("the file's checksum does not match: it was altered or cut")
        if problem is not None:
            raise Invalid(problem)
        if settings is None:
            raise Invalid("the file has no settings line")
    except BaseException:
        spool.close()
        raise
    return Checked(header=header, settings=settings, spool=spool, lines=count - 1,
                   aliases=aliases, finishing=finishing)


# -- import: the apply ----------------------------------------------------------------------

def _target(store: Store, site_id: str, into: str) -> None:
    """An into-import's checks on the target, before anything is written."""
    if into == site_id:
        raise Invalid("cannot import a site into itself")
    if not sites.exists(store, into):
        raise Invalid(f"unknown site: {into}")
    if sites.get_site(store, into, cached=False).merged_into:
        raise Conflict("target is an alias")


def _check_new(store: Store, site_id: str, checked: Checked, into: str | None) -> None:
    """The refusals of a first run (409 when the id is taken, or data is left under it)."""
    if into is not None:
        _target(store, site_id, into)
        if checked.aliases:
            raise Conflict("other sites were merged into this site")
    allowed = {store.keys.settings(site_id), store.keys.import_progress(site_id)}
    exported_alias = checked.settings.get("merged_into")
    if sites.exists(store, site_id):
        here = sites.get_site(store, site_id, cached=False)
        # an alias created by the import of its target (a restore) may be filled in
        if not (into is None and exported_alias and here.merged_into == exported_alias):
            raise Conflict(f"site {site_id} exists")
    if db.has_data(store, site_id, allowed):
        raise Conflict(f"data of an earlier site {site_id} is left: "
                       f"delete it with --purge first")


def _final_settings(store: Store, site_id: str, checked: Checked,
                    into: str | None) -> dict[str, Any]:
    doc = {**checked.settings, "id": site_id}
    if into is not None:
        doc["merged_into"] = into
    elif doc.get("merged_into"):
        # an alias stays one only when its target is here and lists it
        target = str(doc["merged_into"])
        if site_id not in sites_db.aliases(store, target) or not sites.exists(store, target):
            del doc["merged_into"]
    return doc


def import_file(store: Store, checked: Checked, *, now: datetime, site_as: str | None = None,
                into: str | None = None,
                after_lines: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Apply a checked file (or finish its interrupted import); what was done.

    `after_lines` is called with the number of lines applied after each batch (tests stop
    imports there).
    """
    site_id = site_as or checked.site
    if not SITE_ID_RE.match(site_id):
        raise Invalid("site id must match ^[a-z0-9][a-z0-9-]{0,62}$")
    if into is not None and not SITE_ID_RE.match(into):
        raise Invalid("into must be a site id")
    export_id = checked.export_id
    mine = {"site": site_id, "into": into, "source": checked.site,
            "exported_at": checked.header["exported_at"]}
    found = db.record(store, export_id)
    if found is not None and found.get("state") == "done":
        raise Conflict("already imported")
    if found is not None and (found.get("site"), found.get("into")) != (site_id, into):
        where = found.get("site") if not found.get("into") else f"{found['site']} into " \
            f"{found['into']}"
        raise Conflict(f"this file is being imported as {where}: run that import again "
                       "to finish it")
    resumed = found is not None
    progress = db.progress(store, site_id)
    if progress.get("export_id") not in (None, export_id) and progress.get("active") != "1":
        raise Conflict(f"another import is writing site {site_id}: run it again to finish it")
    if not resumed:
        _check_new(store, site_id, checked, into)
        if not db.claim(store, export_id, mine):
            raise Conflict("already imported")
        db.begin(store, site_id, export_id, fresh=True)  # a finished import's marker goes
        progress = {}
    else:
        db.begin(store, site_id, export_id, fresh=False)
    if progress.get("active") != "1":
        start = int(progress.get("lines") or 0)
        batch: list[dict[str, Any]] = []
        applied = start
        size = 0
        for line, raw_size in checked.read(start):
            batch.append(line)
            size += raw_size
            if len(batch) >= APPLY_BATCH or size >= APPLY_BYTES:
                applied += len(batch)
                db.apply_lines(store, site_id, batch, applied)
                batch, size = [], 0
                if after_lines is not None:
                    after_lines(applied)
        if batch:
            applied += len(batch)
            db.apply_lines(store, site_id, batch, applied)
            if after_lines is not None:
                after_lines(applied)
        db.activate(store, site_id, _final_settings(store, site_id, checked, into), export_id)
        store.site_cache.pop(site_id)
    if into is None:  # merged, the site's groups stay the target's (as after a merge)
        for line in checked.finishing:
            db.finish_line(store, site_id, line)
    result: dict[str, Any] = {"site": site_id, "source": checked.site,
                              "export_id": export_id, "lines": checked.lines,
                              "resumed": resumed}
    if into is not None:
        merged = merges.merge(store, site_id, into, now=now, settle_seconds=0)
        result.update(merged_into=into, pages=merged["pages"])
    db.finish(store, export_id, mine)
    return result


def import_stream(store: Store, chunks: Iterable[bytes], *, now: datetime,
                  site_as: str | None = None, into: str | None = None) -> dict[str, Any]:
    """Check then apply a whole file given as a byte stream."""
    checked = check(chunks)
    try:
        return import_file(store, checked, now=now, site_as=site_as, into=into)
    finally:
        checked.close()


# -- backup and restore ---------------------------------------------------------------------

def read_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def backup(store: Store, directory: Path, *, now: datetime) -> dict[str, Any]:
    """Write every site's export, the tokens and the groups into `directory` (new or empty);
    manifest.json is written last: a backup without it is incomplete."""
    if directory.exists() and any(directory.iterdir()):
        raise Invalid(f"{directory} is not empty")
    (directory / "sites").mkdir(parents=True, exist_ok=True)
    all_sites = sites.list_sites(store)
    # targets before their aliases: a restore creates an alias when its target is imported
    ordered = [s.id for s in all_sites if not s.merged_into] + [
        s.id for s in all_sites if s.merged_into]
    for site_id in ordered:
        path = directory / "sites" / f"{site_id}.jsonl"
        with path.open("wb") as handle:
            for chunk in export(store, site_id, now=now):
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
    token_records = tokens_db.load_all(store)
    (directory / "tokens.json").write_text(
        json.dumps(token_records, ensure_ascii=False, indent=1, sort_keys=True), "utf-8")
    group_docs = {gid: doc for gid, doc in groups_db.load_all(store)}
    (directory / "groups.json").write_text(
        json.dumps(group_docs, ensure_ascii=False, indent=1, sort_keys=True), "utf-8")
    manifest = {"format": BACKUP_FORMAT, "version": LAYOUT_VERSION,
                "created": now.isoformat(), "sites": ordered,
                "tokens": len(token_records), "groups": len(group_docs)}
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=1), "utf-8")
    return manifest


def restore(store: Store, directory: Path, *, now: datetime) -> dict[str, Any]:
    """Recreate a backup's sites, tokens and groups in a deployment that has none of its own
    (run again after an interruption, it finishes: sites already imported are skipped)."""
    try:
        manifest = json.loads((directory / "manifest.json").read_text("utf-8"))
        token_records = json.loads((directory / "tokens.json").read_text("utf-8"))
        group_docs = json.loads((directory / "groups.json").read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise Invalid(f"not a complete backup: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != BACKUP_FORMAT:
        raise Invalid("not a portal-widgets backup (manifest.json)")
    if int(manifest.get("version", 0)) > LAYOUT_VERSION:
        raise Invalid(f"the backup has data layout version {manifest['version']}, newer "
                      f"than this deployment's {LAYOUT_VERSION}: upgrade portal-widgets first")
    listed = [str(s) for s in manifest.get("sites", [])]
    if not isinstance(token_records, dict) or not all(
            isinstance(r, dict) and tokens.NAME_RE.match(str(n)) and isinstance(
                r.get("sha256"), str) and isinstance(r.get("sites"), list)
            for n, r in token_records.items()):
        raise Invalid("tokens.json holds no valid token records")
    if not isinstance(group_docs, dict) or not all(
            SITE_ID_RE.match(str(gid)) and isinstance(d, dict) and isinstance(
                d.get("name"), str) and isinstance(d.get("sites"), list)
            for gid, d in group_docs.items()):
        raise Invalid("groups.json holds no valid groups")
    others = [s.id for s in sites.list_sites(store) if s.id not in listed]
    extra_tokens = [n for n in tokens_db.load_all(store) if n not in token_records]
    extra_groups = [g.id for g in groups.list_groups(store) if g.id not in group_docs]
    if others or extra_tokens or extra_groups:
        raise Conflict("restore needs an empty deployment: it has "
                       + ", ".join(others + extra_tokens + extra_groups)[:200])
    restored = skipped = 0
    for site_id in listed:
        checked = check(read_chunks(directory / "sites" / f"{site_id}.jsonl"))
        try:
            if (db.record(store, checked.export_id) or {}).get("state") == "done":
                skipped += 1
                continue
            import_file(store, checked, now=now)
            restored += 1
        finally:
            checked.close()
    for name, record in sorted(token_records.items()):
        tokens_db.add(store, name, record)
    for group_id, doc in sorted(group_docs.items()):
        groups_db.save(store, group_id, doc)  # as it was, members as they were
    return {"sites": restored, "skipped": skipped, "tokens": len(token_records),
            "groups": len(group_docs)}
