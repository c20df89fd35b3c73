"""Backup and restore of the whole system: the database and the application documents.

A backup is one tar archive (written beside its target, then renamed; mode 0600):

    MANIFEST.json                     format, database kind, and every document's size and SHA-256
    database.sqlite3 | database.pgdump
    documents/applications/<id>/…     the documents exactly as stored (encrypted at rest)

SQLite is copied through its online backup API, so a backup taken while the server runs is
consistent; PostgreSQL through pg_dump's custom format and pg_restore, the tools every DBA
already trusts. The database is copied first and the documents after it, so every document the
copied rows name is in the archive (documents are written before their row and never changed but
as a whole, by an atomic rename). Restore replaces the database, then swaps the documents folder
for the archive's, each file checked against the manifest first. Backups from before documents
were included (a bare SQLite file or pg_dump archive) still restore the database alone.
`table_checksums` gives row counts and a content digest per table, so a round trip can be proven
rather than assumed.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sqlalchemy import MetaData, select
from sqlalchemy.engine import Engine, make_url

from regionvisa.applications.documents import documents_root

FORMAT = "regionvisa-backup"
VERSION = 2
MANIFEST = "MANIFEST.json"
DOCUMENTS = "documents"
COPY_BYTES = 1024 * 1024


class BackupError(RuntimeError):
    """The backup or restore cannot be done as asked; the message says why."""


@dataclass(frozen=True)
class TableSummary:
    rows: int
    digest: str


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    database: str
    documents: int
    document_bytes: int


def _sqlite_path(engine: Engine) -> str:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up / 메모리 데이터베이스는 백업할 수 없습니다")
    return database


def _pg_tool(name: str) -> str:
    for candidate in (shutil.which(name), f"/usr/lib/postgresql/15/bin/{name}"):
        if candidate and Path(candidate).exists():
            return candidate
    raise BackupError(f"{name} not found: install Debian's postgresql-client / {name} 이(가) 없습니다")


def _libpq_url(engine: Engine) -> str:
    return make_url(engine.url).set(drivername="postgresql").render_as_string(hide_password=False)


def _documents_dir() -> Path:

    return documents_root()


def _dump_database(engine: Engine, into: Path) -> str:
    """The database copied to `into` (a folder); returns the archive member's name."""
    if engine.dialect.name == "sqlite":
        name = "database.sqlite3"
        source = sqlite3.connect(_sqlite_path(engine))
        destination = sqlite3.connect(into / name)
        try:
            with destination:
                source.backup(destination)
        finally:
            destination.close()
            source.close()
        return name
    if engine.dialect.name == "postgresql":
        name = "database.pgdump"
        command = [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(into / name), _libpq_url(engine)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
        return name
    raise BackupError(f"unsupported database {engine.dialect.name}")  # pragma: no cover


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(COPY_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _document_files(folder: Path) -> list[tuple[str, Path]]:
    """(member name, file) for every stored document; temporary files of writes in progress left out."""
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            relative = path.relative_to(folder).as_posix()
            found.append((f"{DOCUMENTS}/{folder.name}/{relative}", path))
    return found


def backup(*, engine: Engine, target: Path, documents_dir: Path | None = None) -> BackupSummary:
    """Write the database and the documents to the archive `target` (beside it first, then renamed)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(documents_dir) if documents_dir is not None else _documents_dir()
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".backup-") as work:
        database = _dump_database(engine, Path(work))  # first: every document its rows name exists after
        listed = _document_files(folder)
        files = [{"path": member, "size": path.stat().st_size, "sha256": _sha256_of(path)} for member, path in listed]
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "database": engine.dialect.name,
            "database_file": database,
            "documents_folder": folder.name,
            "documents": files,
        }
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as out, tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
                data = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mode = len(data), 0o600
                tar.addfile(info, io.BytesIO(data))
                tar.add(Path(work) / database, arcname=database, recursive=False)
                for entry, (_member, path) in zip(files, listed, strict=True):
                    _add_checked(tar, entry, path)
                tar.close()
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    partial.replace(target)
    return BackupSummary(target, engine.dialect.name, len(files), sum(f["size"] for f in files))


def _add_checked(tar: tarfile.TarFile, entry: dict, path: Path) -> None:
    """Add one document, refusing if it changed since the manifest was written (a rename mid-backup)."""
    with open(path, "rb") as stream:
        info = tar.gettarinfo(arcname=entry["path"], fileobj=stream)
        if info.size != entry["size"]:
            raise BackupError(f"{path} changed during the backup; run it again / 백업 중에 파일이 바뀌었습니다")
        info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
        tar.addfile(info, stream)


def read_manifest(source: Path) -> dict | None:
    """The manifest of an archive written by `backup`; None for a bare database backup (older format)."""
    source = Path(source)
    if not tarfile.is_tarfile(source):
        return None
    try:
        with tarfile.open(source, mode="r:") as tar:
            member = tar.getmember(MANIFEST)
            manifest = json.loads(tar.extractfile(member).read())  # type: ignore[union-attr]
    except (KeyError, tarfile.TarError, ValueError) as exc:
        raise BackupError(f"{source}: not a RegionVisa backup ({exc}) / 백업 파일이 아닙니다") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{source}: not a RegionVisa backup / 백업 파일이 아닙니다")
    if manifest.get("version", 0) > VERSION:
        raise BackupError(f"{source}: written by a newer version (format {manifest['version']}) / 새 버전의 백업입니다")
    return manifest


def _safe_member(name: str, folder: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or path.parts[:2] != (DOCUMENTS, folder) or len(path.parts) < 3:
        raise BackupError(f"the backup holds an unexpected path {name!r} / 백업에 예상하지 못한 경로가 있습니다")
    return PurePosixPath(*path.parts[2:])


def _extract_checked(tar: tarfile.TarFile, entry: dict, into: Path, folder: str) -> None:
    relative = _safe_member(entry["path"], folder)
    member = tar.getmember(entry["path"])
    if not member.isfile():
        raise BackupError(f"the backup's {entry['path']} is not a file / 파일이 아닙니다")
    stream = tar.extractfile(member)
    destination = into / relative
    destination.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        while chunk := stream.read(COPY_BYTES):  # type: ignore[union-attr]
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    if size != entry["size"] or digest.hexdigest() != entry["sha256"]:
        raise BackupError(f"the backup's {entry['path']} is damaged (size or SHA-256) / 백업의 파일이 손상되었습니다")


def restore(*, engine: Engine, source: Path, documents_dir: Path | None = None) -> BackupSummary:
    """Replace the database's whole content, and the documents, with the backup in `source`."""
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"{source}: no such backup file / 백업 파일이 없습니다")
    manifest = read_manifest(source)
    if manifest is None:  # a bare database file from before documents were included
        _restore_database(engine, source)
        return BackupSummary(source, engine.dialect.name, 0, 0)
    if manifest["database"] != engine.dialect.name:
        raise BackupError(
            f"{source} is a {manifest['database']} backup; the configured database is {engine.dialect.name} "
            "/ 데이터베이스 종류가 다릅니다"
        )
    target = Path(documents_dir) if documents_dir is not None else _documents_dir()
    folder = manifest.get("documents_folder") or target.name
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".restore-") as work:
        staged = Path(work) / "documents"
        staged.mkdir()
        with tarfile.open(source, mode="r:") as tar:
            entries = manifest.get("documents", [])
            for entry in entries:  # every document checked before anything is replaced
                _extract_checked(tar, entry, staged, folder)
            database = Path(work) / "database"
            member = tar.getmember(manifest["database_file"])
            with tar.extractfile(member) as stream, open(database, "wb") as out:  # type: ignore[union-attr]
                shutil.copyfileobj(stream, out, COPY_BYTES)
        _restore_database(engine, database)
        retired = target.with_name(f".{target.name}.replaced-{secrets.token_hex(4)}")
        if target.exists():
            target.rename(retired)
        staged.rename(target)
        shutil.rmtree(retired, ignore_errors=True)
    return BackupSummary(source, manifest["database"], len(entries), sum(e["size"] for e in entries))


def _restore_database(engine: Engine, source: Path) -> None:
    engine.dispose()
    if engine.dialect.name == "sqlite":
        try:
            backup_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
            backup_db.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{source}: not a RegionVisa SQLite backup ({exc}) / 백업 파일이 아닙니다") from exc
        destination = sqlite3.connect(_sqlite_path(engine))
        try:
            with destination:
                backup_db.backup(destination)
        finally:
            destination.close()
            backup_db.close()
    elif engine.dialect.name == "postgresql":
        command = [
            _pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            "--dbname",
            _libpq_url(engine),
            str(source),
        ]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise BackupError(f"pg_restore failed: {done.stderr.strip()}")
    else:  # pragma: no cover
        raise BackupError(f"unsupported database {engine.dialect.name}")
    engine.dispose()


def table_checksums(*, engine: Engine) -> dict[str, TableSummary]:
    """Row count and SHA-256 over every row (in primary-key order) of every table."""
    metadata = MetaData()
    metadata.reflect(engine)
    summaries: dict[str, TableSummary] = {}
    with engine.connect() as conn:
        for name, table in sorted(metadata.tables.items()):
            order = list(table.primary_key.columns) or list(table.columns)
            digest = hashlib.sha256()
            rows = 0
            result = conn.execution_options(yield_per=5000).execute(select(table).order_by(*order))
            for row in result:
                rows += 1
                digest.update(repr(tuple(_normal(v) for v in row)).encode())
            summaries[name] = TableSummary(rows, digest.hexdigest())
    return summaries


def _normal(value):
    """Values as both databases return them after a round trip (timezone-aware datetimes as UTC text)."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
