"""Backup and restore of the whole database.

SQLite uses its online backup API, so a backup taken while the server runs is consistent.
PostgreSQL uses pg_dump's custom format and pg_restore, the tools every DBA already trusts.
`table_checksums` gives row counts and a content digest per table, so a round trip can be
proven rather than assumed.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import MetaData, select
from sqlalchemy.engine import Engine, make_url


class BackupError(RuntimeError):
    """The backup or restore cannot be done as asked; the message says why."""


@dataclass(frozen=True)
class TableSummary:
    rows: int
    digest: str


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


def backup(engine: Engine, target: Path) -> Path:
    """Write a full copy of the database to `target` (written beside it first, then renamed)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    if engine.dialect.name == "sqlite":
        source = sqlite3.connect(_sqlite_path(engine))
        destination = sqlite3.connect(partial)
        try:
            with destination:
                source.backup(destination)
        finally:
            destination.close()
            source.close()
    elif engine.dialect.name == "postgresql":
        command = [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(partial), _libpq_url(engine)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            partial.unlink(missing_ok=True)
            raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    else:  # pragma: no cover - only the two supported databases
        raise BackupError(f"unsupported database {engine.dialect.name}")
    partial.replace(target)
    return target


def restore(engine: Engine, source: Path) -> None:
    """Replace the database's whole content with the backup in `source`."""
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"{source}: no such backup file / 백업 파일이 없습니다")
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


def table_checksums(engine: Engine) -> dict[str, TableSummary]:
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
