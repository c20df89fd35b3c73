"""`regionvisa applications`: Applications / 신청.

Bulk intake, submission of one applicant, every move of the life cycle, the ranked queue and the
simplified-procedure flag. Commands act as the system actor, or as a named user with `--as`
(whose role and region then apply exactly as on the web).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from regionvisa.core.errors import DomainError

app = typer.Typer(help="Applications / 신청", no_args_is_help=True)
out = Console()
err = Console(stderr=True)

AS_HELP = "act as this user (role and region apply); default: the system actor"


@app.callback()
def _group() -> None:
    """Applications / 신청."""


@contextmanager
def _session() -> Iterator:
    from regionvisa.db import get_engine, session_scope

    try:
        with session_scope(engine=get_engine()) as session:
            yield session
    except DomainError as exc:
        err.print(f"[red]{exc.en}[/red]\n[red]{exc.ko}[/red]", highlight=False)
        raise typer.Exit(1) from None


def _actor(session, as_user: str | None, action: str):
    from regionvisa.accounts.cli import _actor as accounts_actor

    return accounts_actor(session, as_user, action)


@app.command("import")
def import_command(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="applicants (.csv or .xlsx)"),
    program: str = typer.Option(..., "--program", help="programme id"),
    on: str | None = typer.Option(None, "--on", help="submission date YYYY-MM-DD (default: today)"),
    rejects: Path | None = typer.Option(None, "--rejects", help="write the rejected rows' problems here (.csv)"),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Bulk intake: good rows in (screened at once), bad rows reported by line, field, value and reason."""
    from regionvisa.applications import bulk_intake

    day = dt.date.fromisoformat(on) if on else None
    with _session() as session:
        actor = _actor(session, as_user, "applications.recommend")
        with Progress(
            SpinnerColumn(), TextColumn("importing / 가져오는 중"), TimeElapsedColumn(), console=err, transient=True
        ) as bar:
            bar.add_task("import", total=None)
            result = bulk_intake.import_applications(
                session=session, program_id=program, source=file, actor=actor, on=day
            )
    out.print(
        f"{file.name} → {program}: rows read {result.rows_read}, inserted {result.inserted}, "
        f"rejected rows {result.rejected_rows}, outcome {result.outcome} "
        f"(eligible {result.outcomes.get('eligible', 0)}, ineligible {result.outcomes.get('ineligible', 0)}, "
        f"incomplete {result.outcomes.get('incomplete', 0)})",
        highlight=False,
        soft_wrap=True,
    )
    for row in result.rejects.head(20).iter_rows(named=True):
        err.print(
            f"{file.name}:{row['line']}: {row['field']} = {row['value']!r}: {row['reason_en']} / {row['reason_ko']}",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    if result.rejects.height > 20:
        err.print(f"… {result.rejects.height - 20} more problems", highlight=False)
    if rejects is not None:
        from regionvisa.reports.files import write_csv_safe

        write_csv_safe(result.rejects, rejects)
    raise typer.Exit(1 if result.outcome == "rolled_back" else 0)


@app.command("submit")
def submit_command(
    applicant: Path = typer.Argument(..., exists=True, dir_okay=False, help="JSON: {name, passport_no, ...profile}"),
    program: str = typer.Option(..., "--program"),
    on: str | None = typer.Option(None, "--on", help="submission date (default: today)"),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Submit one application (screened at once) and print its id and outcome."""
    from regionvisa.applications import intake

    data = json.loads(applicant.read_text(encoding="utf-8"))
    name, passport = data.pop("name", ""), data.pop("passport_no", "")
    with _session() as session:
        actor = _actor(session, as_user, "applications.recommend")
        row = intake.submit(
            session=session,
            program_id=program,
            applicant=data,
            name=name,
            passport_no=passport,
            actor=actor,
            on=dt.date.fromisoformat(on) if on else None,
            channel="cli",
        )
        out.print(f"application {row.id}: {row.status}, {row.outcome}, points {row.points}", highlight=False)


@app.command("show")
def show_command(
    application_id: int = typer.Argument(...),
    lang: str = typer.Option("ko", "--lang", help="ko or en"),
    as_json: bool = typer.Option(False, "--json"),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """One application: status, the explanation criterion by criterion, and its history."""
    from regionvisa.applications import service, views

    with _session() as session:
        actor = _actor(session, as_user, "applications.read")
        row = service.get(session=session, application_id=application_id, actor=actor)
        data = views.application_dict(session=session, app=row, detail=True)
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    out.print(
        f"#{data['id']} {data['program_id']} v{data['program_version']} · {data['status']} · {data['outcome']} · "
        f"points {data['points']}" + (f" · {data['visa_number']}" if data["visa_number"] else ""),
        highlight=False,
    )
    exp = (data["screening"] or {}).get("explanation") or {}
    for c in exp.get("criteria", []):
        out.print(f"  [{c['result']}] {c['message'][lang]}", highlight=False, markup=False)
    for e in data["events"]:
        out.print(f"  {e['at'][:19]} {e['from'] or '-'} → {e['to']} by {e['actor']}: {e['reason']}", highlight=False)


def _move_command(move: str):
    def command(
        application_id: int = typer.Argument(...),
        reason: str = typer.Option("", "--reason", help="why (recorded in the audit log)"),
        as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
    ) -> None:
        from regionvisa.applications import moves

        with _session() as session:
            actor = _actor(session, as_user, moves.MOVES[move][2])
            row = moves.act(session=session, application_id=application_id, move=move, actor=actor, reason=reason)
            out.print(f"application {row.id}: {row.status}", highlight=False)

    def gated(
        application_id: int = typer.Argument(...),
        reason: str = typer.Option("", "--reason", help="why (recorded in the audit log)"),
        override_reason: str = typer.Option(
            "",
            "--override-reason",
            help="why the decision goes ahead while required documents are missing (audited)",
        ),
        as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
    ) -> None:
        from regionvisa.applications import moves

        with _session() as session:
            actor = _actor(session, as_user, moves.MOVES[move][2])
            row = moves.act(
                session=session,
                application_id=application_id,
                move=move,
                actor=actor,
                reason=reason,
                override_reason=override_reason,
            )
            out.print(f"application {row.id}: {row.status}", highlight=False)

    if move in ("approve", "issue"):  # the moves the documents gate guards (moves.DOCUMENT_GATED)
        command = gated
        command.__doc__ = (
            f"{move.capitalize()} an application (audited; 409 if the move is not allowed now, or while "
            "required documents are missing without --override-reason)."
        )
        return command
    command.__doc__ = f"{move.capitalize()} an application (audited; 409 if the move is not allowed now)."
    return command


for _move in ("recommend", "return", "approve", "reject", "issue", "withdraw", "cancel", "rescreen"):
    app.command(_move)(_move_command(_move))


@app.command("queue")
def queue_command(
    program: str = typer.Option(..., "--program"),
    limit: int = typer.Option(50, "--limit"),
) -> None:
    """A programme's recommendation queue: eligible applications by points, then submission time."""
    from regionvisa.applications import views

    with _session() as session:
        q = views.queue(session=session, program_id=program)
    typer.echo(f"{program}: remaining places {q.remaining}")
    typer.echo("rank\tapplication\tpoints\tsubmitted_at\toutcome\twithin_places")
    for row in q.frame.head(limit).iter_rows(named=True):  # printing at most `limit` rows
        typer.echo(
            f"{row['rank'] or '-'}\t{row['id']}\t{row['points']}\t{str(row['submitted_at'])[:19]}\t"
            f"{row['outcome'] or ''}\t{row['within_places']}"
        )


@app.command("simplified")
def simplified_command(
    region: str = typer.Argument(..., help="2-digit region code"),
    enable: bool = typer.Option(True, "--on/--off"),
    reason: str = typer.Option(..., "--reason"),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Grant or withdraw a region's simplified procedure (a ministry administrator's decision, audited)."""
    from regionvisa.applications import service

    with _session() as session:
        actor = _actor(session, as_user, "applications.benefit")
        row = service.set_simplified(session=session, region=region, enabled=enable, actor=actor, reason=reason)
        out.print(f"region {row.region}: simplified procedure {'on' if row.simplified_procedure else 'off'}")


@app.command("export")
def export_command(
    file: Path = typer.Argument(..., dir_okay=False, help="output file (.csv or .xlsx)"),
    program: str | None = typer.Option(None, "--program", help="only this programme"),
    status: str | None = typer.Option(None, "--status", help="only this status"),
    region: str | None = typer.Option(None, "--region", help="only this region (two digits)"),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Applications as a spreadsheet: no names, passport numbers masked."""
    from regionvisa.applications import views

    fmt = "xlsx" if file.suffix.lower() == ".xlsx" else "csv"
    with _session() as session:
        actor = _actor(session, as_user, "applications.read")
        frame = views.export_frame(session=session, actor=actor, region=region, program_id=program, status=status)
    views.write_export(frame, file, fmt)
    out.print(f"{frame.height} applications → {file}")
