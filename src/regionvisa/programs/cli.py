"""`regionvisa programs …` and the top-level `screen`, `explain`, `match`, `simulate` (DESIGN §4.4).

Thin: every command parses its options, calls `programs.service` and prints. Problems in policy files
print as `file:key.path: message` and exit 1; bad cells in applicant files are reported (line, field,
value, reason) and treated as missing, never dropped.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from regionvisa.core.errors import DomainError
from regionvisa.policyfiles import PolicyError
from regionvisa.programs import service
from regionvisa.programs.lifecycle import PROGRAMME_VERSIONS
from regionvisa.programs.screening import (
    explain_applicant,
    match,
    problems_report,
    rank,
    rank_problems,
    read_applicants,
    screen_applicants,
    write_table,
)
from regionvisa.programs.simulation import simulate

app = typer.Typer(help="Regional visa programmes / 지역 특화형 비자 프로그램", no_args_is_help=True)
err = Console(stderr=True)

# Commands mounted at the top level of `regionvisa` (name, function), e.g. ("screen", screen_command).
TOP_LEVEL: list[tuple[str, Callable]] = []

PROGRAM_HELP = "a programme file (.yaml), a stored programme ID (the version in force on --on) or ID@VERSION"
ON_OPTION = typer.Option(..., "--on", help="reference date (YYYY-MM-DD)", formats=["%Y-%m-%d"])


@app.callback()
def _group() -> None:
    """Validate, load and publish programme designs."""


def _fail(lines: list[str]) -> None:
    for line in lines:
        err.print(line, highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(1)


@contextmanager
def _session(needed: bool) -> Iterator[Session | None]:
    """A database session when a command names a stored programme (or wants the quota ledger)."""
    if not needed:
        yield None
        return
    from regionvisa.db import get_engine, session_scope

    with session_scope(engine=get_engine()) as session:
        yield session


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except PolicyError as exc:
        _fail(exc.errors)
    except DomainError as exc:
        _fail([f"{exc.en} / {exc.ko}"])


def _progress(label: str) -> Progress:
    return Progress(SpinnerColumn(), TextColumn(label), TimeElapsedColumn(), console=err, transient=True)


def _report_problems(problems: list[dict], source: Path) -> None:
    for p in problems:
        err.print(
            f"{source}: line {p['line']}: {p['field']} = {p['value']!r}: {p['reason']['en']} / {p['reason']['ko']}; "
            "treated as missing / 누락으로 처리함",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    if problems:
        err.print(
            f"{len(problems)} bad cell(s) treated as missing; no row was dropped / "
            f"잘못된 값 {len(problems)}개를 누락으로 처리했으며 제외한 행은 없습니다",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        _fail([f"{path}: cannot be read ({exc.strerror})"])
    except json.JSONDecodeError as exc:
        _fail([f"{path}:{exc.lineno}: not valid JSON ({exc.msg})"])
    if not isinstance(data, dict):
        _fail([f"{path}: expected one JSON object (the applicant profile)"])
    return data


# ----------------------------------------------------------------------------- programs …


@app.command("validate")
def validate_command(files: list[Path] = typer.Argument(..., help="programme design files (YAML)")) -> None:
    """Check design files against the schema, the rule language and the national guardrails (exit 1 if any fails)."""
    errors: list[str] = []
    for path in files:
        try:
            service.load_program_file(path)
        except PolicyError as exc:
            errors.extend(exc.errors)
        else:
            typer.echo(f"{path}: valid")
    if errors:
        _fail(errors)


@app.command("load")
def load_command(
    files: list[Path] = typer.Argument(..., help="programme design files (YAML)"),
    publish: bool = typer.Option(False, "--publish", help="publish the versions, so they are in force"),
) -> None:
    """Store programme files in the database (all validated first; nothing is stored if one is invalid)."""
    from regionvisa.accounts.cli import system_actor

    with _errors(), _session(True) as session:
        stored = service.load_files(session=session, paths=files, actor=system_actor(), publish=publish)
        for row in stored:
            typer.echo(f"{row.program_id} v{row.version}: {row.status}")


@app.command("list")
def list_command(region: str | None = typer.Option(None, "--region", help="2-digit region code")) -> None:
    """The stored programmes with their latest version and its status."""
    with _errors(), _session(True) as session:
        for program, version in service.list_programs(session=session, region=region):
            typer.echo(
                f"{program.id}\t{program.region}\t{program.base_visa}\tv{version.version}\t{version.status}\t"
                f"{version.valid_from}..{version.valid_to}"
            )


def _transition(move: str):
    def command(
        program_id: str = typer.Argument(...),
        version: int = typer.Argument(...),
        reason: str = typer.Option(..., "--reason", help="why (recorded in the audit log)"),
    ) -> None:
        from regionvisa.accounts.cli import system_actor

        with _errors(), _session(True) as session:
            row = service.transition(
                session=session, program=program_id, version=version, move=move, actor=system_actor(), reason=reason
            )
            typer.echo(f"{row.program_id} v{row.version}: {row.status}")

    command.__doc__ = f"{move.capitalize()} a programme version (audited)."
    return command


for _move in PROGRAMME_VERSIONS.moves:
    app.command(_move)(_transition(_move))


@app.command("rank")
def rank_command(
    program: str = typer.Option(..., "--program", help=PROGRAM_HELP),
    applicants: Path = typer.Option(..., "--applicants", help="applicants (.csv, .parquet or .jsonl)"),
    on: dt.datetime = ON_OPTION,
    out: Path = typer.Option(..., "--out", help="ranked eligible applicants (.csv or .parquet)"),
    submitted_column: str = typer.Option("submitted_at", "--submitted-column", help="submission time column"),
) -> None:
    """Rank the eligible applicants: points (high first), then earlier submission, then applicant id."""
    day = on.date()
    with _errors(), _session(not service.is_file_reference(program)) as session:
        resolved = service.resolve(session=session, ref=program, on=day)
        parsed = read_applicants(applicants)
        screening = screen_applicants(resolved, parsed, on=day)
        ranked = rank(screening, parsed, submitted_column=submitted_column)
        write_table(ranked, out)
    first = 1 if applicants.suffix.lower() in (".jsonl", ".ndjson") else 2
    _report_problems(
        problems_report(parsed) + rank_problems(parsed, submitted_column=submitted_column, first_line=first),
        applicants,
    )
    typer.echo(f"{ranked.height} eligible applicant(s) ranked of {screening.table.height} → {out}")


# --------------------------------------------------------------------------- top level


def screen_command(
    program: str = typer.Option(..., "--program", help=PROGRAM_HELP),
    applicants: Path = typer.Option(..., "--applicants", help="applicants (.csv, .parquet or .jsonl)"),
    on: dt.datetime = ON_OPTION,
    out: Path = typer.Option(..., "--out", help="results (.csv or .parquet)"),
) -> None:
    """Screen a file of applicants against a programme: one row per applicant, one column per criterion."""
    day = on.date()
    if out.suffix.lower() not in (".csv", ".parquet"):
        _fail([f"{out}: --out must end in .csv or .parquet"])
    with _errors(), _session(not service.is_file_reference(program)) as session:
        resolved = service.resolve(session=session, ref=program, on=day)
        with _progress(f"screening against {resolved.label}"):
            parsed = read_applicants(applicants)
            result = screen_applicants(resolved, parsed, on=day)
            write_table(result.table, out)
    _report_problems(problems_report(parsed), applicants)
    summary = result.summary()
    typer.echo(
        f"{resolved.label} on {day}: {summary['applicants']} applicant(s): {summary['eligible']} eligible, "
        f"{summary['ineligible']} ineligible, {summary['incomplete']} incomplete → {out}"
    )


def explain_command(
    program: str = typer.Option(..., "--program", help=PROGRAM_HELP),
    applicant: Path = typer.Option(..., "--applicant", help="one applicant profile (JSON object)"),
    on: dt.datetime = ON_OPTION,
    lang: str = typer.Option("ko", "--lang", help="ko or en"),
    as_json: bool = typer.Option(False, "--json", help="the full explanation as JSON"),
) -> None:
    """Explain one applicant's outcome criterion by criterion: values, thresholds, parameters, references."""
    if lang not in ("ko", "en"):
        _fail([f"--lang must be ko or en, not {lang!r}"])
    day = on.date()
    profile = _read_json(applicant)
    with _errors(), _session(not service.is_file_reference(program)) as session:
        resolved = service.resolve(session=session, ref=program, on=day)
        explanation = explain_applicant(resolved, profile, on=day)
    if as_json:
        typer.echo(json.dumps(explanation.to_dict(), ensure_ascii=False, indent=2, default=str))
        return
    typer.echo(explanation.text(lang))
    for p in explanation.problems:
        treated = "누락으로 처리함" if lang == "ko" else "treated as missing"
        typer.echo(f"  ! {p['field']} = {p['value']!r}: {p['reason'][lang]}; {treated}")


def match_command(
    applicant: Path = typer.Option(..., "--applicant", help="one applicant profile (JSON object)"),
    on: dt.datetime = ON_OPTION,
    as_json: bool = typer.Option(False, "--json", help="the results as JSON"),
    lang: str = typer.Option("en", "--lang", help="ko or en (text output)"),
) -> None:
    """Every programme in force on the date: the outcome, and for near misses what would have to change."""
    day = on.date()
    profile = _read_json(applicant)
    with _errors(), _session(True) as session:
        result = match(session=session, applicant=profile, on=day)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2, default=str))
        return
    if not result["programs"]:
        typer.echo(f"no programme is in force on {day}")
    for r in result["programs"]:
        points = f", {r['points']} points" if r["points"] is not None else ""
        tag = " (near miss)" if r["near_miss"] else ""
        typer.echo(f"{r['program']} v{r['version']} [{r['region']} {r['base_visa']}]: {r['outcome']}{tag}{points}")
        if r["outcome"] == "incomplete":
            typer.echo(f"  missing: {', '.join(r['missing'])}")
        for c in r["changes"]:
            typer.echo(f"  {c['criterion']}: {c['text'][lang]}")
        if r["outcome"] == "ineligible" and not r["near_miss"]:
            typer.echo(f"  failed: {', '.join(r['failed'])}")


def simulate_command(
    baseline: str = typer.Option(..., "--baseline", help=PROGRAM_HELP),
    reform: str = typer.Option(..., "--reform", help=PROGRAM_HELP),
    applicants: Path = typer.Option(..., "--applicants", help="applicant pool (.csv, .parquet or .jsonl)"),
    on: dt.datetime = ON_OPTION,
    as_json: bool = typer.Option(False, "--json", help="the comparison as JSON"),
) -> None:
    """Compare two versions of a programme over an applicant pool: who gains, who loses, why, quota fill."""
    day = on.date()
    with _errors(), _session(True) as session:
        base = service.resolve(session=session, ref=baseline, on=day)
        new = service.resolve(session=session, ref=reform, on=day)
        with _progress("simulating"):
            parsed = read_applicants(applicants)
            try:
                result = simulate(session=session, baseline=base, reform=new, parsed=parsed, on=day)
            except SQLAlchemyError:  # no usable database: the designs' own quotas
                session.rollback()
                result = simulate(session=None, baseline=base, reform=new, parsed=parsed, on=day)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2, default=str))
        return
    _report_problems(result["problems"], applicants)
    c = result["counts"]
    typer.echo(f"baseline {base.label} → reform {new.label} on {day}, {result['applicants']} applicant(s)")
    typer.echo(
        f"newly eligible: {c['newly_eligible']}  newly ineligible: {c['newly_ineligible']}  unchanged: {c['unchanged']}"
    )
    for p in result["parameters"]:
        typer.echo(f"parameter {p['name']}: {p['baseline']} → {p['reform']}")
    for k in result["criteria"]:
        typer.echo(f"criterion {k['criterion']} ({k['status']}): +{k['newly_pass']} pass, +{k['newly_fail']} fail")
    for name, rows in result["breakdowns"].items():
        typer.echo(f"by {name}:")
        for row in rows:
            typer.echo(
                f"  {row[name]}: {row['applicants']} applicant(s): newly eligible {row['newly_eligible']}, "
                f"newly ineligible {row['newly_ineligible']}, unchanged {row['unchanged']}"
            )
    for which in ("baseline", "reform"):
        q = result["quota"][which]
        rate = "n/a" if q["projected_fill_rate"] is None else f"{q['projected_fill_rate']:.1%}"
        typer.echo(
            f"quota ({which}): capacity {q['capacity']} ({q['source']}), committed {q['committed']}, "
            f"eligible {q['eligible']}, projected fill {rate}, oversubscribed by {q['oversubscribed_by']}"
        )


TOP_LEVEL.extend(
    [
        ("screen", screen_command),
        ("explain", explain_command),
        ("match", match_command),
        ("simulate", simulate_command),
    ]
)
