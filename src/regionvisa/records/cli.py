"""`regionvisa records import KIND FILE`: validated, idempotent, atomic feed imports."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from regionvisa.clitable import WIDE, print_table
from regionvisa.core.errors import DomainError
from regionvisa.db import get_engine
from regionvisa.records import service
from regionvisa.records.feeds import KINDS

app = typer.Typer(help="Immigration records: feed imports / 출입국 기록 가져오기", no_args_is_help=True)
console = Console(stderr=True)


@app.command("import")
def import_command(
    kind: str = typer.Argument(..., help=f"one of: {', '.join(KINDS)}"),
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV, Parquet or XLSX feed file"),
    rejects: Path | None = typer.Option(None, "--rejects", help="write rejected rows (line, field, value, reason)"),
    all_or_nothing: bool = typer.Option(False, "--all-or-nothing", help="commit nothing if any row is rejected"),
    as_user: str | None = typer.Option(
        None, "--as", help="act as this user (their role must allow records.import); default: the system actor"
    ),
    wide: bool = WIDE,
) -> None:
    """Import one feed file. Good rows are loaded in bulk; rejected rows are reported; the import is audited."""
    if kind not in KINDS:
        console.print(f"[red]unknown kind '{kind}' / 알 수 없는 종류; expected one of {', '.join(KINDS)}[/red]")
        raise typer.Exit(2)
    from regionvisa.accounts.cli import _actor
    from regionvisa.db import session_scope

    engine = get_engine()
    try:
        with session_scope(engine=engine) as session:
            actor = _actor(session, as_user, "records.import")
    except DomainError as exc:
        console.print(f"[red]{exc.en} / {exc.ko}[/red]", highlight=False)
        raise typer.Exit(1) from exc
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        tasks: dict[str, int] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=max(total, 1))
            bar.update(tasks[phase], completed=done, total=max(total, 1))

        try:
            summary, problems = service.import_file(
                engine=engine,
                kind=kind,
                path=file,
                actor=actor,
                channel="cli",
                rejects_path=rejects,
                all_or_nothing=all_or_nothing,
                progress=progress,
            )
        except service.ImportError_ as exc:
            console.print(f"[red]{exc.en} / {exc.ko}[/red]", highlight=False, markup=False)
            raise typer.Exit(2) from exc
    table = Table(title=f"{kind} ← {file.name}")
    for col in ("rows read", "inserted", "already present", "rejected rows", "outcome", "seconds"):
        table.add_column(col)
    table.add_row(
        str(summary.rows_read),
        str(summary.inserted),
        str(summary.already_present),
        str(summary.rejected_rows),
        summary.outcome,
        f"{summary.seconds:.2f}",
    )
    print_table(table, wide=wide)
    Console().print(f"{summary.message['ko']} / {summary.message['en']}")
    if problems.height:
        shown = problems.head(10)
        for row in shown.iter_rows(named=True):
            console.print(
                f"  line {row['line']}: {row['field']}={row['value']!r}: {row['reason_en']} / {row['reason_ko']}"
            )
        if summary.problems > 10:
            console.print(
                f"  … {summary.problems - 10} more" + (f" in {rejects}" if rejects else " (use --rejects FILE)")
            )
    raise typer.Exit(1 if summary.outcome == "rolled_back" else 0)
