"""`regionvisa compliance run --on DATE [--out FILE.csv]` (DESIGN §4.8)."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from regionvisa.accounts.policy import system_actor
from regionvisa.clitable import WIDE, print_table
from regionvisa.compliance import service
from regionvisa.compliance.rules import compliance_rules
from regionvisa.db import get_engine

app = typer.Typer(help="Compliance findings / 체류 준수 점검", no_args_is_help=True)
console = Console(stderr=True)


@app.callback()
def _group() -> None:
    """Residence obligations, illegal stays, late reports, departures and KIIP obligations."""


@app.command("run")
def run_command(
    on: str = typer.Option(..., "--on", help="reference date YYYY-MM-DD: records as they stood that day"),
    out: Path | None = typer.Option(None, "--out", help="write the findings CSV here (default: standard output)"),
    details: bool = typer.Option(False, "--details", help="append severity and evidence after the §4.8 columns"),
    record: bool = typer.Option(
        False,
        "--record",
        help="also record the run for the dashboards and open or update enforcement cases "
        "(findings on programme holders; audited) / 점검 기록 및 단속 사건 반영",
    ),
    wide: bool = WIDE,
) -> None:
    """Every finding for every person on DATE, one CSV row each / 기준일의 모든 위반 사항."""
    try:
        when = dt.date.fromisoformat(on)
    except ValueError as exc:
        console.print(f"[red]--on: {on!r} is not a date (YYYY-MM-DD) / 날짜 형식이 아닙니다[/red]")
        raise typer.Exit(2) from exc
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task(f"compliance {when.isoformat()}", total=len(service.PHASES))

        def progress(phase: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, description=f"compliance {when.isoformat()}: {phase}")

        result = service.run_compliance(engine=get_engine(), on=when, progress=progress, with_risk=record)
    if out:
        service.write_findings_csv(result.findings, out, details=details)
        console.print(f"wrote {out} ({result.findings.height} findings)")
    else:
        service.write_findings_csv(result.findings, sys.stdout.buffer, details=details)
        sys.stdout.flush()
    rules = compliance_rules()
    summary = Table(title=f"findings as of {when.isoformat()} / {when.isoformat()} 기준 위반 사항")
    for col in ("rule", "규칙", "findings"):
        summary.add_column(col, justify="right" if col == "findings" else "left")
    counts = result.counts()
    for rule in rules.spec.rules:
        summary.add_row(rule, rules.label(rule, "ko"), f"{counts.get(rule, 0):,}")
    print_table(summary, wide=wide, console=console)
    console.print(
        f"read {result.read_seconds:.2f} s ({result.people_read:,} people in full), rules {result.engine_seconds:.2f} s"
    )
    if record:
        from regionvisa.compliance import cases

        recorded = cases.record_run(engine=get_engine(), on=when, actor=system_actor("cli"), run=result)
        console.print(
            f"recorded run {recorded.run_id}: {recorded.holder_findings:,} findings on holders, "
            f"{recorded.cases_opened:,} cases opened, {recorded.cases_gone:,} findings gone"
            + ("" if recorded.cases_synced else " (earlier than the last synchronised run: cases left as they are)")
        )
    if result.unknown_programmes:
        console.print(
            f"[yellow]statuses name programmes with no programme file: {', '.join(result.unknown_programmes)}; "
            "their obligations were not checked / 프로그램 파일이 없어 의무를 점검하지 않았습니다[/yellow]"
        )
