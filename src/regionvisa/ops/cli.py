"""`regionvisa backup FILE` and `regionvisa restore FILE`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from regionvisa.db import get_engine
from regionvisa.ops import backup as ops

console = Console(stderr=True)


def backup_command(file: Path = typer.Argument(..., help="where to write the backup")) -> None:
    """Back up the whole database and the application documents into one archive (SQLite online
    backup or PostgreSQL pg_dump custom format, with the documents as stored, encrypted)."""
    try:
        written = ops.backup(engine=get_engine(), target=file)
    except ops.BackupError as exc:
        console.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(1) from None
    console.print(
        f"backup written to {written.path}: {written.database} database and {written.documents:,} documents "
        f"({written.document_bytes:,} bytes) / 데이터베이스와 서류 {written.documents:,}건을 백업했습니다",
        highlight=False,
    )


def restore_command(
    file: Path = typer.Argument(..., help="a backup written by `regionvisa backup`"),
    yes: bool = typer.Option(False, "--yes", help="confirm: the database's current content is replaced"),
) -> None:
    """Replace the database's content and the documents with a backup, then verify the audit chain."""
    from regionvisa.audit.service import verify

    if not yes:
        console.print(
            "restore replaces the whole database; add --yes to confirm / 전체를 교체합니다. --yes 로 확인하십시오"
        )
        raise typer.Exit(2)
    engine = get_engine()
    try:
        restored = ops.restore(engine=engine, source=file)
    except ops.BackupError as exc:
        console.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(1) from None
    result = verify(engine=engine)
    chain = "intact" if result.ok else result.problem.message
    console.print(
        f"restored from {file}: database and {restored.documents:,} documents; audit chain: {chain}", highlight=False
    )
    if not result.ok:
        raise typer.Exit(1)
