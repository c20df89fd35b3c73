"""`regionvisa audit verify`: check the hash chain; exit 1 and name the first broken entry."""

from __future__ import annotations

import typer

app = typer.Typer(help="The audit log / 감사 기록", no_args_is_help=True)


@app.command("verify")
def verify() -> None:
    """Check that no entry was edited, deleted or reordered."""
    from regionvisa.audit import service
    from regionvisa.db import get_engine

    result = service.verify(get_engine())
    if result.ok:
        typer.echo(f"audit log intact: {result.entries} entries; head hash {result.head_hash}")
        typer.echo(f"감사 기록 정상: {result.entries}건")
        return
    assert result.problem is not None
    typer.echo(f"audit log BROKEN: {result.problem.message}", err=True)
    typer.echo(
        f"감사 기록 손상: {result.problem.kind} (entry {result.problem.entry_id}, seq {result.problem.seq})", err=True
    )
    raise typer.Exit(1)
