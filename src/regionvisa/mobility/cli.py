"""`regionvisa flows` and `regionvisa retention` (DESIGN §4.9): CSV (or XLSX, Parquet) files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import typer
from rich.console import Console

from regionvisa.accounts.policy import system_actor
from regionvisa.core.errors import DomainError

console = Console(stderr=True)
CLI = system_actor("cli", detail="mobility")


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date YYYY-MM-DD / 날짜 형식이 아닙니다", param_hint=option
        ) from None


def _refused(exc) -> typer.Exit:
    console.print(f"[red]{exc.en}[/red]", highlight=False)
    console.print(f"[red]{exc.ko}[/red]", highlight=False)
    return typer.Exit(1)


def _write(frame: pl.DataFrame, out: Path) -> None:
    from regionvisa.reports.files import write_csv_safe, write_xlsx_safe

    suffix = out.suffix.lower()
    if suffix == ".csv":
        write_csv_safe(frame, out)
    elif suffix == ".xlsx":
        write_xlsx_safe(frame, out)
    elif suffix == ".parquet":
        frame.write_parquet(out)
    else:
        raise typer.BadParameter("the output must end in .csv, .xlsx or .parquet / 출력 형식", param_hint="--out")
    console.print(f"wrote {out} ({frame.height:,} rows)")


def flows_command(
    start: str = typer.Option(..., "--from", help="first day of the period, YYYY-MM-DD"),
    end: str = typer.Option(..., "--to", help="last day of the period, YYYY-MM-DD"),
    holders: bool = typer.Option(False, "--holders", help="only people holding a programme status on the move date"),
    out: Path = typer.Option(..., "--out", help="FILE.csv (or .xlsx, .parquet)"),
) -> None:
    """Moves between regions in a period, per region and visa / 지역 간 이동."""
    from regionvisa.db import get_engine
    from regionvisa.mobility import service

    try:
        table = service.flows(
            engine=get_engine(), actor=CLI, start=_date(start, "--from"), end=_date(end, "--to"), holders=holders
        )
    except DomainError as exc:
        raise _refused(exc) from None
    _write(table, out)


def retention_command(
    on: str = typer.Option(..., "--on", help="reference date YYYY-MM-DD: records as they stood that day"),
    program: str | None = typer.Option(None, "--program", help="one programme id (default: all)"),
    out: Path = typer.Option(..., "--out", help="FILE.csv (or .xlsx, .parquet)"),
) -> None:
    """Programme holders by monthly cohort, and how many stay in the area / 프로그램 정착률."""
    from regionvisa.db import get_engine
    from regionvisa.mobility import service

    try:
        table = service.retention(engine=get_engine(), actor=CLI, on=_date(on, "--on"), program_id=program)
    except DomainError as exc:
        raise _refused(exc) from None
    _write(table, out)
