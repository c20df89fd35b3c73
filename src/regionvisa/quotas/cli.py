"""`regionvisa quotas allocate`: next year's quotas under a national ceiling (DESIGN §4.6), from files.

The output starts with the contract's columns `region, program, requested, target, granted`, in
that order, so other tools can rely on them; the explanation (grade effect, then ceiling effect,
in Korean and English) follows in extra columns.

With `--year Y` the requests come from the database through `quotas.planning.propose`, the same
path the API's quota plans take; `--store` also keeps that result as a proposed plan (audited, as
the API stores it). Without `--store` nothing is written to the database.

Exit codes: 0 done; 1 invalid input (requests or minimums file, minimums above the ceiling, no
ledgers for the year, no published evaluation to store a plan from); 2 usage (options, output format).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from regionvisa.clitable import WIDE, print_table
from regionvisa.core.actor import Actor
from regionvisa.core.errors import DomainError
from regionvisa.quotas.apportion import METHODS, ApportionError, apportion, first_divisor_of, read_requests_csv
from regionvisa.reports.files import write_atomic
from regionvisa.tabular import read_small_csv

CONTRACT_COLUMNS = ("region", "program", "requested", "target", "granted")
EXTRA_COLUMNS = (
    "quota_change",
    "grade_effect",
    "ceiling_effect",
    "minimum_part",
    "explanation_ko",
    "explanation_en",
)
FORMATS = (".csv", ".json")

app = typer.Typer(help="Quotas / 쿼터", no_args_is_help=True)
console = Console(stderr=True)


@app.callback()
def _group() -> None:
    """Quotas / 쿼터 (a group, so `allocate` stays a named subcommand)."""


def _fail(code: int, message: str, details: list[str] | None = None) -> typer.Exit:
    console.print(message, style="red", highlight=False, markup=False, soft_wrap=True)
    for line in details or []:
        console.print(f"  {line}", highlight=False, markup=False, soft_wrap=True)
    return typer.Exit(code)


def read_minimums_csv(path: str | Path) -> dict[str, int]:
    """`region,minimum` per line; all problems reported together, each naming file, line, column and value."""
    path = Path(path)
    rows = read_small_csv(path, error=ApportionError, expected="header region,minimum")
    header = [h.strip() for h in rows[0]]
    errors = [f"{path}:1: missing column {c!r}" for c in ("region", "minimum") if c not in header]
    errors += [
        f"{path}:1: unknown column {c!r} (allowed: region, minimum)" for c in header if c not in ("region", "minimum")
    ]
    if errors:
        raise ApportionError(errors)
    out: dict[str, int] = {}
    first: dict[str, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            errors.append(f"{path}:{line}: {len(row)} fields, the header has {len(header)}")
            continue
        cells = dict(zip(header, (c.strip() for c in row), strict=True))
        region, text = cells["region"], cells["minimum"]
        if not region:
            errors.append(f"{path}:{line}: column 'region': empty")
            continue
        if region in first:
            errors.append(f"{path}:{line}: column 'region': value {region!r} repeats line {first[region]}")
            continue
        first[region] = line
        if not text.isdigit():
            errors.append(f"{path}:{line}: column 'minimum': value {text!r} is not a whole number ≥ 0")
            continue
        out[region] = int(text)
    if errors:
        raise ApportionError(errors)
    return out


def _csv_bytes(rows: list[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=[*CONTRACT_COLUMNS, *EXTRA_COLUMNS], lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: row[key] for key in writer.fieldnames})
    return buf.getvalue().encode("utf-8")


def _json_bytes(rows: list[dict[str, Any]]) -> bytes:
    ordered = [{key: row[key] for key in (*CONTRACT_COLUMNS, *EXTRA_COLUMNS)} for row in rows]
    return (json.dumps(ordered, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


@app.command("allocate")
def allocate_command(
    ceiling: int = typer.Option(..., "--ceiling", min=0, help="national ceiling: places to share / 전국 상한"),
    requests: Path | None = typer.Option(
        None,
        "--requests",
        exists=True,
        dir_okay=False,
        help="CSV: region,program,requested[,quota_change][,score]",
    ),
    year: int | None = typer.Option(
        None,
        "--year",
        help="instead of --requests: the database's ledgers of YEAR and that year's published evaluation",
    ),
    method: str = typer.Option("hamilton", "--method", help=" | ".join(METHODS)),
    first_divisor: str | None = typer.Option(
        None,
        "--first-divisor",
        help="modified-sainte-lague only: the first divisor, 1 to 3 (default 1.4, as in Norway) / 첫 제수",
    ),
    minimums: Path | None = typer.Option(
        None,
        "--minimums",
        exists=True,
        dir_okay=False,
        help="CSV: region,minimum — a floor: a region whose share is below it is raised to it, the others "
        "share the rest / 지역 최소 배정(하한)",
    ),
    out: Path = typer.Option(..., "--out", help="output file: .csv or .json"),
    store: bool = typer.Option(
        False,
        "--store",
        help="with --year: also store the result as a proposed quota plan citing the year's published "
        "evaluation, audited, as POST /api/v1/evaluation/quota-plans does (confirm it there) "
        "/ 배분안으로 저장",
    ),
    wide: bool = WIDE,
) -> None:
    """Share the ceiling over the requests: target = requested × (1 + quota_change), then Hamilton,
    Sainte-Laguë (plain or with a first divisor), D'Hondt or Huntington–Hill when the targets do not
    fit; --minimums are floors. With --year the requests come from the database
    through the same planning as the API's quota plans (`quotas.planning`). / 상한 안에서 다음
    연도 쿼터를 배분합니다."""
    if method not in METHODS:
        raise _fail(2, f"--method must be one of {', '.join(METHODS)}, got {method!r} / 배분 방식이 올바르지 않습니다")
    fmt = out.suffix.lower()
    if fmt not in FORMATS:
        raise _fail(
            2,
            f"--out {out}: unknown format {out.suffix or '(none)'!r}; use .csv or .json "
            "/ 지원하지 않는 출력 형식입니다",
        )
    if first_divisor is not None and method != "modified-sainte-lague":
        raise _fail(
            2, "--first-divisor goes with --method modified-sainte-lague / 첫 제수는 수정 생라그 방식에만 씁니다"
        )
    try:
        divisor = first_divisor_of(first_divisor if first_divisor is not None else "1.4")
    except ApportionError as exc:
        raise _fail(2, f"--first-divisor: {exc.errors[0]} / 첫 제수가 올바르지 않습니다") from None
    if (requests is None) == (year is None):
        raise _fail(2, "give exactly one of --requests FILE or --year Y / --requests 또는 --year 중 하나를 주십시오")
    if store and (year is None or minimums is not None):
        raise _fail(
            2,
            "--store takes --year and no --minimums file (a stored plan has one minimum for every region) "
            "/ --store 는 --year 와 함께, --minimums 없이 사용하십시오",
        )
    if requests is not None:
        rows = _rows_from_file(requests, minimums, ceiling=ceiling, method=method, first_divisor=divisor)
    else:
        rows = _rows_from_database(year, minimums, ceiling=ceiling, method=method, first_divisor=divisor, store=store)

    data = _csv_bytes(rows) if fmt == ".csv" else _json_bytes(rows)
    try:
        write_atomic(out, data)
    except OSError as exc:
        raise _fail(1, f"cannot write {out}: {exc.strerror or exc} / 파일을 쓸 수 없습니다") from exc
    _show(rows, ceiling=ceiling, method=method, out=out, wide=wide)


def _minimums(minimums: Path | None) -> dict[str, int] | None:
    if minimums is None:
        return None
    try:
        return read_minimums_csv(minimums)
    except ApportionError as exc:
        raise _fail(1, f"invalid minimums file / 최소 배정 파일 오류: {minimums}", exc.errors) from exc


def _rows_from_file(
    requests: Path, minimums: Path | None, *, ceiling: int, method: str, first_divisor: Any
) -> list[dict[str, Any]]:
    """The requests file apportioned (no database)."""
    try:
        reqs = read_requests_csv(requests)
    except ApportionError as exc:
        raise _fail(1, f"invalid requests file / 요청 파일 오류: {requests}", exc.errors) from exc
    floors = _minimums(minimums)
    try:
        return apportion(reqs, ceiling, method=method, minimums=floors, first_divisor=first_divisor)
    except ApportionError as exc:
        raise _fail(1, "cannot apportion / 배분할 수 없습니다", exc.errors) from exc


def _rows_from_database(
    year: int, minimums: Path | None, *, ceiling: int, method: str, first_divisor: Any, store: bool
) -> list[dict[str, Any]]:
    """`quotas.planning.propose` on the database's ledgers of `year` (stored as a plan with --store)."""
    from regionvisa.quotas import planning

    floors = _minimums(minimums)
    try:
        with _ledger_session() as session:
            proposal = planning.propose(
                session=session,
                year=year,
                ceiling=ceiling,
                method=method,
                first_divisor=first_divisor,
                minimums=floors,
                store=store,
                actor=_system_actor() if store else None,
            )
            plan_id = proposal.plan.id if proposal.plan is not None else None
    except planning.NoLedgers:
        raise _fail(1, f"no quota ledgers for {year} in the database / {year}년 쿼터 원장이 없습니다") from None
    except (ApportionError, planning.Unshareable) as exc:  # Unshareable: the same, when storing
        raise _fail(1, "cannot apportion / 배분할 수 없습니다", exc.errors) from exc
    except DomainError as exc:
        raise _fail(1, f"{exc.en} / {exc.ko}") from None
    if plan_id is not None:
        console.print(
            f"stored quota plan {plan_id} for {year + 1} (proposed) / 배분안을 저장했습니다",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    return proposal.rows


def _system_actor() -> Actor:
    from regionvisa.accounts.cli import system_actor

    return system_actor()


def _show(rows: list[dict[str, Any]], *, ceiling: int, method: str, out: Path, wide: bool = False) -> None:
    view = Table(title=f"{method}, ceiling {ceiling:,} / 상한")
    for col in CONTRACT_COLUMNS:
        view.add_column(col, justify="left" if col in ("region", "program") else "right")
    for row in rows:
        view.add_row(row["region"], row["program"], *(f"{row[c]:,}" for c in CONTRACT_COLUMNS[2:]))
    view.add_row(
        "", "", *(f"{sum(r[c] for r in rows):,}" for c in CONTRACT_COLUMNS[2:]), end_section=True, style="bold"
    )
    print_table(view, wide=wide)
    console.print(
        f"wrote {out}: {len(rows)} requests, {sum(r['granted'] for r in rows):,} of {ceiling:,} places granted "
        f"/ 저장했습니다",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


# ----------------------------------------------------------------------------- the quota ledger


def _ledger_session():
    from regionvisa.db import get_engine, session_scope

    return session_scope(engine=get_engine())


def _ledger_fail(exc: Exception) -> typer.Exit:
    if isinstance(exc, DomainError):
        return _fail(1, f"{exc.en} / {exc.ko}")
    raise exc


@app.command("ledgers")
def ledgers_command(
    region: str | None = typer.Option(None, "--region", help="2-digit region code"),
    period: str | None = typer.Option(None, "--period"),
) -> None:
    """Quota ledgers: allocation, adjustments, reserved, used, remaining and fill rate."""
    from regionvisa.quotas import service

    with _ledger_session() as session:
        rows = [
            service.ledger_dict(session=session, ledger=r)
            for r in service.list_ledgers(session=session, region=region, period=period)
        ]
    typer.echo("id\tprogram\tregion\tperiod\tallocated\tadjustments\treserved\tused\tremaining\tfill_rate")
    for r in rows:
        fill = "" if r["fill_rate"] is None else f"{r['fill_rate']:.4f}"
        keys = ("id", "program_id", "region", "period", "allocated", "adjustments", "reserved", "used", "remaining")
        typer.echo("\t".join(str(r[k]) for k in keys) + f"\t{fill}")


@app.command("ledger")
def ledger_command(
    program: str = typer.Option(..., "--program"),
    period: str = typer.Option(..., "--period"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """One ledger with its history of movements."""
    from regionvisa.quotas import service

    try:
        with _ledger_session() as session:
            view = service.ledger_dict(
                session=session,
                ledger=service.find_ledger(session=session, program_id=program, period=period),
                with_history=True,
            )
    except Exception as exc:  # DomainError → exit 1 with the bilingual message
        raise _ledger_fail(exc) from None
    if as_json:
        typer.echo(json.dumps(view, ensure_ascii=False, indent=2))
        return
    fill = "–" if view["fill_rate"] is None else f"{view['fill_rate']:.1%}"
    typer.echo(
        f"{program} {period}: allocated {view['allocated']}, adjustments {view['adjustments']}, reserved "
        f"{view['reserved']}, used {view['used']}, remaining {view['remaining']}, fill rate {fill}"
    )
    for m in view["history"]:
        typer.echo(f"  {m['at'][:19]} {m['kind']:<10} {m['amount']:>+6} {m['actor']}: {m['reason']}")


@app.command("open")
def open_command(
    program: str = typer.Option(..., "--program"),
    period: str = typer.Option(..., "--period", help="e.g. 2025"),
    start: str = typer.Option(..., "--start", help="YYYY-MM-DD"),
    end: str = typer.Option(..., "--end", help="YYYY-MM-DD"),
    allocated: int = typer.Option(..., "--allocated"),
    reason: str = typer.Option(..., "--reason"),
) -> None:
    """Open a programme's ledger for a period with its allocation (audited)."""
    import datetime as dt

    from regionvisa.accounts.cli import system_actor
    from regionvisa.programs import service as programs
    from regionvisa.quotas import service

    try:
        with _ledger_session() as session:
            region = programs.get_program(session=session, program_id=program).region
            row = service.open_ledger(
                session=session,
                program_id=program,
                region=region,
                period=period,
                start=dt.date.fromisoformat(start),
                end=dt.date.fromisoformat(end),
                allocated=allocated,
                actor=system_actor(),
                reason=reason,
            )
            typer.echo(f"ledger {row.id}: {program} {period}, {allocated} places")
    except Exception as exc:
        raise _ledger_fail(exc) from None


@app.command("adjust")
def adjust_command(
    program: str = typer.Option(..., "--program"),
    period: str = typer.Option(..., "--period"),
    amount: int = typer.Option(..., "--amount", help="places added (negative to cut)"),
    reason: str = typer.Option(..., "--reason"),
) -> None:
    """Top up or cut a ledger, with a reason (audited); a cut below what is committed is refused."""
    from regionvisa.accounts.cli import system_actor
    from regionvisa.quotas import service

    try:
        with _ledger_session() as session:
            row = service.adjust(
                session=session,
                ledger=service.find_ledger(session=session, program_id=program, period=period),
                amount=amount,
                actor=system_actor(),
                reason=reason,
            )
            typer.echo(f"{program} {period}: capacity {row.capacity}, remaining {row.remaining}")
    except Exception as exc:
        raise _ledger_fail(exc) from None


# ----------------------------------------------------------------------------- mid-year reallocation


@app.command("reallocate")
def reallocate_command(
    on: str = typer.Option(..., "--on", help="reallocation date YYYY-MM-DD: the ledgers in force that day / 기준일"),
    rule: Path | None = typer.Option(
        None,
        "--rule",
        exists=True,
        dir_okay=False,
        help="rule YAML (default policy/quotas/reallocation.yaml) / 재배분 규칙 파일",
    ),
    apply: bool = typer.Option(
        False, "--apply", help="write the adjustments (audited); without it only the proposal is shown / 적용"
    ),
    reason: str | None = typer.Option(None, "--reason", help="with --apply: why, for the audit log / 사유"),
    expect: str | None = typer.Option(
        None, "--expect", help="with --apply: the digest of the proposal reviewed; refused if it changed"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the proposal as JSON / JSON 출력"),
    wide: bool = WIDE,
) -> None:
    """Mid-year reallocation: project each ledger's use to the end of its period, pool a declared
    share of the projected unused places and grant it to the ledgers whose queue exceeds their
    remaining places. A dry run unless --apply. / 연중 미사용 정원 재배분."""
    import datetime as dt

    from regionvisa.policyfiles import PolicyError
    from regionvisa.quotas import service

    try:
        day = dt.date.fromisoformat(on)
    except ValueError:
        raise _fail(2, f"--on {on!r}: not a date YYYY-MM-DD / 날짜 형식이 올바르지 않습니다") from None
    if apply and not (reason or "").strip():
        raise _fail(2, "--apply needs --reason TEXT / 적용하려면 사유(--reason)가 필요합니다")
    if not apply and (reason is not None or expect is not None):
        raise _fail(2, "--reason and --expect go with --apply / --reason, --expect 는 --apply 와 함께 씁니다")
    try:
        rules = service.reallocation_rules(path=rule)
        with _ledger_session() as session:
            if apply:
                done = service.reallocate(
                    session=session, on=day, reason=reason, rules=rules, expected=expect, actor=_system_actor()
                )
                proposal = done.proposal
            else:
                proposal = service.propose_reallocation(session=session, on=day, rules=rules)
    except PolicyError as exc:
        raise _fail(1, "invalid reallocation rule / 재배분 규칙 오류", exc.errors) from None
    except DomainError as exc:
        raise _fail(1, f"{exc.en} / {exc.ko}") from None
    rows = proposal.records()
    if as_json:
        out = {"on": day.isoformat(), "applied": apply, "digest": proposal.digest, "pool": proposal.pool,
               "granted": proposal.granted, "rule": proposal.rule.as_inputs(), "items": rows}  # fmt: skip
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        _show_reallocation(rows, proposal=proposal, applied=apply, wide=wide)


def _show_reallocation(rows: list[dict[str, Any]], *, proposal: Any, applied: bool, wide: bool = False) -> None:
    columns = ("ledger_id", "program_id", "region", "capacity", "use", "projected_use", "queue", "release", "grant",
               "capacity_after")  # fmt: skip
    view = Table(title=f"reallocation on {proposal.rule.on} ({proposal.rule.method}) / 재배분")
    for col in columns:
        view.add_column(col, justify="left" if col in ("program_id", "region") else "right")
    for row in rows:
        view.add_row(*(f"{row[c]:,}" if isinstance(row[c], int) else str(row[c]) for c in columns))
    print_table(view, wide=wide)
    verb = "applied / 적용했습니다" if applied else "proposed, nothing written (dry run) / 제안(미적용)"
    console.print(
        f"pool {proposal.pool:,}, granted {proposal.granted:,}, "
        f"{sum(1 for r in rows if r['adjustment'])} ledgers change: {verb}; digest {proposal.digest}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )
