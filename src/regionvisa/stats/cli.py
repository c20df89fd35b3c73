"""`regionvisa stats --by region|nationality|status|month [--at DATE] [--out FILE]`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from regionvisa.clitable import WIDE, print_table
from regionvisa.db import get_engine
from regionvisa.stats import service


def stats_command(
    by: str = typer.Option("region", "--by", help="region | nationality | status | month"),
    at: str | None = typer.Option(None, "--at", help="reference date YYYY-MM-DD (default: latest in the records)"),
    out: Path | None = typer.Option(None, "--out", help="export to .csv or .xlsx"),
    wide: bool = WIDE,
) -> None:
    """Foreign residents computed from the records / 외국인 주민 통계."""
    if by not in ("region", "nationality", "status", "month"):
        Console(stderr=True).print(f"[red]--by must be region, nationality, status or month (got {by!r})[/red]")
        raise typer.Exit(2)
    engine = get_engine()
    try:
        when = dt.date.fromisoformat(at) if at else service.data_as_of(engine=engine)
    except ValueError as exc:
        Console(stderr=True).print(f"[red]--at: {at!r} is not a date (YYYY-MM-DD) / 날짜 형식이 아닙니다[/red]")
        raise typer.Exit(2) from exc
    table = service.resident_stats(engine=engine, by=by, at=when)
    if out:
        service.export(table, out)
        Console(stderr=True).print(f"wrote {out} ({table.height} rows)")
        return
    view = Table(title=f"foreign residents by {by}, {when.isoformat()}")
    for col in table.columns:
        view.add_column(col, justify="right" if table.schema[col].is_numeric() else "left")
    for row in table.iter_rows():
        view.add_row(*[("" if v is None else str(v)) for v in row])
    print_table(view, wide=wide)
