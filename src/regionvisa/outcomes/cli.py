"""`regionvisa outcomes report --on DATE [--since DATE] [--json | --csv FILE]`: the pilot outcome
report (docs/indicators.md), each programme's holders per region beside the comparison group of
non-pilot holders of the same base visa in the same region. Read as the console's system actor."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from regionvisa.accounts.policy import system_actor
from regionvisa.clitable import WIDE, print_table
from regionvisa.core.errors import DomainError

if TYPE_CHECKING:
    import polars as pl

app = typer.Typer(help="Pilot outcome report / 시범사업 성과 보고서", no_args_is_help=True)
console = Console(stderr=True)
CLI = system_actor("cli", detail="outcomes")
COMPARISON = "comparison"


@app.callback()
def _group() -> None:
    """The continue-or-stop report: pilot holders beside non-pilot holders of the same visa and region."""


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date YYYY-MM-DD / 날짜 형식이 아닙니다", param_hint=option
        ) from None


def _share(value) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _krw(value) -> str:
    return "–" if value is None else f"{value / 1_000_000:,.1f}M"


def _group_name(row: dict) -> str:
    return row["program_id"] if row["group"] == "pilot" else COMPARISON


def _retention_table(rows: list[dict], title: str) -> Table:
    table = Table(title=title)
    for name in ("group", "region", "visa", "holders"):
        table.add_column(name, justify="right" if name == "holders" else "left")
    for name in ("6 m", "12 m", "24 m", "KIIP"):
        table.add_column(name, justify="right")
    for r in rows:
        table.add_row(
            _group_name(r),
            r["region"],
            r["visa"],
            f"{r['holders'] or 0:,}",
            *(_share(r[f"retention_{m}m"]) for m in (6, 12, 24)),
            _share(r["kiip_participation"]),
        )
    return table


def _employment_table(rows: list[dict], title: str) -> Table:
    table = Table(title=title)
    for name in ("group", "region", "employed", "median wage", "below floor"):
        table.add_column(name, justify="left" if name in ("group", "region") else "right")
    for r in rows:
        if r["visa"] != "E-7":
            continue
        table.add_row(
            _group_name(r), r["region"], _share(r["employed_share"]), _krw(r["median_wage_krw"]),
            _share(r["below_floor_share"]),
        )  # fmt: skip
    return table


def _takeup_table(latest: list[dict], title: str) -> Table:
    table = Table(title=title)
    for name in ("programme", "region", "visa", "month", "holders", "quota", "take-up"):
        table.add_column(name, justify="left" if name in ("programme", "region", "visa", "month") else "right")
    for r in latest:
        quota = "–" if r["quota"] is None else f"{r['quota']:,}"
        table.add_row(
            r["program_id"], r["region"], r["visa"], r["month"], f"{r['cumulative']:,}", quota, _share(r["takeup"])
        )
    return table


def _latest(takeup: pl.DataFrame) -> list[dict]:
    """Per programme, the latest month a ledger covers (else its latest month)."""
    import polars as pl

    ranked = takeup.with_columns(covered=pl.col("quota").is_not_null())
    return ranked.sort("covered", "month").group_by("program_id").last().sort("region", "program_id").to_dicts()


@app.command("report")
def report_command(
    on: str = typer.Option(..., "--on", help="reference date YYYY-MM-DD: records as they stood that day"),
    since: str | None = typer.Option(
        None, "--since", help="first day of the period YYYY-MM-DD (default: 1 January two years before --on)"
    ),
    as_json: bool = typer.Option(False, "--json", help="the whole report as JSON on standard output"),
    csv: Path | None = typer.Option(
        None, "--csv", help="write the indicators to FILE.csv and the monthly take-up to FILE-takeup.csv"
    ),
    wide: bool = WIDE,
) -> None:
    """Take-up, retention, KIIP and employment of each programme beside its comparison group / 성과 보고서."""
    from regionvisa.db import get_engine
    from regionvisa.outcomes import service

    if as_json and csv is not None:
        raise typer.BadParameter("give --json or --csv, not both / 둘 중 하나만", param_hint="--json")
    when = _date(on, "--on")
    start = _date(since, "--since") if since else service.default_since(when)
    try:
        result = service.report(engine=get_engine(), actor=CLI, on=when, since=start)
    except DomainError as exc:
        console.print(f"[red]{exc.en}[/red]", highlight=False)
        console.print(f"[red]{exc.ko}[/red]", highlight=False)
        raise typer.Exit(1) from None
    if as_json:
        body = {
            "since": start.isoformat(),
            "on": when.isoformat(),
            "indicators": result.indicators.to_dicts(),
            "takeup": result.takeup.to_dicts(),
        }
        json.dump(body, sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
        return
    if csv is not None:
        from regionvisa.reports.files import write_csv_safe

        takeup_file = csv.with_name(f"{csv.stem}-takeup{csv.suffix or '.csv'}")
        write_csv_safe(result.indicators, csv)
        write_csv_safe(result.takeup, takeup_file)
        console.print(f"wrote {csv} ({result.indicators.height:,} groups) and {takeup_file}")
        return
    period = f"{start.isoformat()} – {when.isoformat()}"
    rows = result.indicators.to_dicts()
    out = Console()
    retention = _retention_table(rows, f"retention and KIIP / 정착률·KIIP, {period}")
    print_table(retention, wide=wide, console=out)
    if any(r["visa"] == "E-7" for r in rows):
        employment = _employment_table(rows, f"E-7 employment / E-7 고용, {when.isoformat()}")
        print_table(employment, wide=wide, console=out)
    takeup = _takeup_table(_latest(result.takeup), "take-up against quota / 정원 대비 소진")
    print_table(takeup, wide=wide, console=out)
    console.print(
        "comparison: non-pilot holders of the same base visa in the same region, first granted in the period"
        " / 비교군: 같은 기간에 같은 지역에서 같은 기본 비자를 처음 받은 시범사업 외 소지자"
    )


def _fail(exc: DomainError) -> None:
    console.print(f"[red]{exc.en}[/red]", highlight=False)
    console.print(f"[red]{exc.ko}[/red]", highlight=False)
    raise typer.Exit(1) from None


@app.command("run")
def run_command(
    on: str = typer.Option(..., "--on", help="reference date YYYY-MM-DD: records as they stood that day"),
    since: str | None = typer.Option(
        None, "--since", help="first day of the period YYYY-MM-DD (default: 1 January two years before --on)"
    ),
    region: str | None = typer.Option(None, "--region", help="2-digit region code (default: every region)"),
) -> None:
    """Compute the report and store it as a run (parameters, result JSON, SHA-256) / 실행 저장."""
    from regionvisa.db import get_engine, session_scope
    from regionvisa.outcomes import service

    when = _date(on, "--on")
    start = _date(since, "--since") if since else service.default_since(when)
    try:
        with session_scope(engine=get_engine()) as session:
            run = service.store_run(session=session, actor=CLI, on=when, since=start, region=region)
            run_id, digest = run.id, run.result_sha256
    except DomainError as exc:
        _fail(exc)
    typer.echo(f"outcome run {run_id} stored / 저장됨: sha256 {digest}")


@app.command("runs")
def runs_command(wide: bool = WIDE) -> None:
    """The stored outcome runs, newest first / 저장된 실행."""
    from regionvisa.db import get_engine, session_scope
    from regionvisa.outcomes import service

    table = Table(title="outcome runs / 성과 보고서 실행")
    for name in ("id", "since", "on", "region", "sha256"):
        table.add_column(name, justify="right" if name == "id" else "left")
    with session_scope(engine=get_engine()) as session:
        for run in service.runs(session=session, actor=CLI):
            table.add_row(
                str(run.id), run.since.isoformat(), run.on.isoformat(), run.region or "all", run.result_sha256[:12]
            )
    print_table(table, wide=wide, console=Console())


@app.command("reproduce")
def reproduce_command(run_id: int = typer.Argument(..., help="a stored run's id")) -> None:
    """Recompute a stored run from the records and compare it byte for byte (exit 1 if it differs) / 재현."""
    from regionvisa.db import get_engine, session_scope
    from regionvisa.outcomes import service

    try:
        with session_scope(engine=get_engine()) as session:
            check = service.reproduce_run(session=session, actor=CLI, run_id=run_id)
    except DomainError as exc:
        _fail(exc)
    word = "identical / 동일" if check["identical"] else "DIFFERENT / 다름"
    typer.echo(f"run {run_id}: {word} (stored {check['stored_sha256']}, recomputed {check['recomputed_sha256']})")
    if not check["identical"]:
        raise typer.Exit(1)


@app.command("export")
def export_command(
    run_id: int = typer.Argument(..., help="a stored run's id"),
    path: Path = typer.Argument(..., help="FILE.pdf or FILE.xlsx"),
    lang: str = typer.Option("ko", "--lang", help="ko or en"),
) -> None:
    """A stored run as PDF or XLSX (by the file's suffix) in Korean or English / 파일로 내보내기."""
    from regionvisa.db import get_engine, session_scope
    from regionvisa.outcomes import report, service
    from regionvisa.reports.files import write_atomic

    if lang not in ("ko", "en"):
        raise typer.BadParameter("ko or en", param_hint="--lang")
    if path.suffix.lower() not in report.FORMATS:
        raise typer.BadParameter("FILE.pdf or FILE.xlsx", param_hint="PATH")
    try:
        with session_scope(engine=get_engine()) as session:
            run = service.get_run(session=session, actor=CLI, run_id=run_id)
            result, digest = service.result_of(run), run.result_sha256
    except DomainError as exc:
        _fail(exc)
    write_atomic(path, report.render(result, path.suffix, lang, run_id=run_id, sha256=digest))
    typer.echo(f"wrote {path}")
