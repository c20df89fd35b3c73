"""The outcome report's inputs from the database: the records of every person granted a base visa
(D-2 or E-7) in the period, as known on the day, in one consistent state
(`records.columnar.read_queries`: Arrow columns on a SQLite file and on PostgreSQL), only the
columns and rows the indicators use (filtered in SQL), the quota ledgers, and the wage floors in
force; then `outcomes.compute` over the columns, the members found once."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

import polars as pl
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from regionvisa.compliance.service import programme_obligations
from regionvisa.core.actor import Actor
from regionvisa.core.errors import Forbidden, Invalid, NotFound
from regionvisa.core.usecase import Done, use_case
from regionvisa.db import utcnow
from regionvisa.outcomes import compute
from regionvisa.outcomes.models import OutcomeRun
from regionvisa.outcomes.subjects import READ, read_region
from regionvisa.records.columnar import read_queries
from regionvisa.records.memo import remembered
from regionvisa.regions.parameters import national_values

__all__ = ["READ", "Outcomes", "default_since", "get_run", "outcomes", "report", "reproduce_run", "runs", "store_run"]

LEDGER_SQL = "SELECT program_id, period_start, period_end, allocated, adjustments FROM quota_ledger"
LEDGER_SCHEMA = {
    "program_id": pl.String,
    "period_start": pl.Date,
    "period_end": pl.Date,
    "allocated": pl.Int64,
    "adjustments": pl.Int64,
}


@dataclass(frozen=True)
class Outcomes:
    since: dt.date
    on: dt.date
    indicators: pl.DataFrame  # one row per group (compute.indicators)
    takeup: pl.DataFrame  # per programme and month (compute.takeup)


def _in_force(dated: list | None, on: dt.date) -> int | None:
    kept = [item["krw"] for item in (dated or []) if item["since"] <= on]
    return kept[-1] if kept else None


def national_floor(on: dt.date) -> int | None:
    values = national_values().get("national.e7_wage_floor_krw") or {}
    pairs = sorted((d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)), v) for d, v in values.items())
    kept = [int(v) for d, v in pairs if d <= on]
    return kept[-1] if kept else None


def floors_on(programmes: pl.DataFrame, on: dt.date) -> pl.DataFrame:
    """program_id and floor_krw: each programme's wage floor in force on `on` (its latest version's)."""
    rows = programmes.sort("program_id", "valid_from", nulls_last=False).group_by("program_id").last()
    floors = [_in_force(w, on) for w in rows["wage_floors"].to_list()]
    return pl.DataFrame(
        {"program_id": rows["program_id"], "floor_krw": floors}, schema={"program_id": pl.String, "floor_krw": pl.Int64}
    )


# The columns the indicators use, each read only for the people who can be members: those with a
# grant of a base visa in the period (a member's date is such a grant: the first programme grant of
# a pilot member, the first grant of the visa of a comparison member).
STATUS_SCHEMA = {
    "person_id": pl.String,
    "visa": pl.String,
    "program_id": pl.String,
    "region": pl.String,
    "granted_on": pl.Date,
}
ADDRESS_SCHEMA = {"person_id": pl.String, "area_code": pl.String, "effective_date": pl.Date}
KIIP_SCHEMA = {"person_id": pl.String, "enrolled_on": pl.Date}
JOB_SCHEMA = {"person_id": pl.String, "start_date": pl.Date, "end_date": pl.Date, "annual_wage_krw": pl.Int64}


def _candidates(visas: tuple[str, ...], *, since: dt.date, on: dt.date) -> str:
    listed = ", ".join(f"'{v}'" for v in visas)
    return (
        f"person_id IN (SELECT person_id FROM status_grant WHERE visa IN ({listed}) "
        f"AND granted_on >= '{since}' AND granted_on <= '{on}')"
    )


def record_reads(*, since: dt.date, on: dt.date) -> dict[str, tuple[str, dict]]:
    """The SELECTs of the records the indicators need (name -> (sql, schema)), as known on `on`,
    filtered in SQL: every grant of the candidates, their address reports in force by `on`, their
    first KIIP enrolment by `on`, and the E-7 candidates' jobs in force on `on`."""
    people = _candidates(compute.BASE_VISAS, since=since, on=on)
    return {
        "status_grant": (
            f"SELECT person_id, visa, program_id, region, granted_on FROM status_grant "
            f"WHERE granted_on <= '{on}' AND {people}",
            STATUS_SCHEMA,
        ),
        "address_report": (
            f"SELECT person_id, area_code, effective_date FROM address_report "
            f"WHERE reported_date <= '{on}' AND effective_date <= '{on}' AND {people}",
            ADDRESS_SCHEMA,
        ),
        "kiip_record": (
            f"SELECT person_id, MIN(enrolled_on) AS enrolled_on FROM kiip_record "
            f"WHERE enrolled_on <= '{on}' AND {people} GROUP BY person_id",
            KIIP_SCHEMA,
        ),
        "employment": (
            f"SELECT person_id, start_date, end_date, annual_wage_krw FROM employment WHERE start_date <= '{on}' "
            f"AND (end_date IS NULL OR end_date >= '{on}') AND {_candidates(('E-7',), since=since, on=on)}",
            JOB_SCHEMA,
        ),
        "quota_ledger": (LEDGER_SQL, LEDGER_SCHEMA),
    }


def outcomes(*, engine: Engine, on: dt.date, since: dt.date) -> Outcomes:
    """The indicators and the take-up, computed once from one snapshot of the records."""
    frames = read_queries(engine=engine, jobs=record_reads(since=since, on=on))
    floors = floors_on(programme_obligations(engine=engine), on)
    statuses = frames["status_grant"]
    members = compute.members(statuses, since=since, on=on)
    table = compute.indicators(
        statuses,
        frames["address_report"],
        frames["kiip_record"],
        frames["employment"],
        floors,
        since=since,
        on=on,
        national_floor=national_floor(on),
        people=members,
    )
    takeup = compute.takeup(members, frames["quota_ledger"], since=since, on=on)
    return Outcomes(since=since, on=on, indicators=table, takeup=takeup)


def default_since(on: dt.date) -> dt.date:
    """The period a report covers when none is asked for: from 1 January two years before `on`'s
    year, so that the 24-month retention of the first members can be reached."""
    return dt.date(on.year - 2, 1, 1)


def check_period(*, since: dt.date, on: dt.date) -> None:
    if on < since:
        raise Invalid(
            code="invalid_period",
            field="on",
            ko=f"기준일({on})이 기간의 시작({since})보다 앞섭니다",
            en=f"the reference date ({on}) is before the start of the period ({since})",
        )


def _inputs_version(engine: Engine) -> tuple:
    """What else the outcomes are computed from besides the records (`records.memo` keys on those):
    the programme versions' obligations and floors, and the quota ledgers (a few dozen rows each)."""
    programmes = tuple(programme_obligations(engine=engine).hash_rows(seed=0).to_list())
    with engine.connect() as conn:
        ledgers = tuple(tuple(row) for row in conn.exec_driver_sql(f"{LEDGER_SQL} ORDER BY id"))
    return programmes, ledgers


def report(*, engine: Engine, actor: Actor, on: dt.date, since: dt.date, region: str | None = None) -> Outcomes:
    """`outcomes` for a reader (the national answer kept while its inputs are unchanged, then
    scoped): 403 without `outcomes.read` (or for another region than a regional
    official's own), 422 for a period that ends before it starts; the rows of the region the
    reader is scoped to (a regional official: their own), every region's otherwise."""
    shown = read_region(actor, region)
    check_period(since=since, on=on)
    result = remembered(
        engine=engine,
        key=("outcomes", on, since, *_inputs_version(engine)),
        compute=lambda: outcomes(engine=engine, on=on, since=since),
    )
    if shown is None:
        return result
    return Outcomes(
        since=since,
        on=on,
        indicators=result.indicators.filter(pl.col("region") == shown),
        takeup=result.takeup.filter(pl.col("region") == shown),
    )


# --------------------------------------------------------------------------------------------
# Stored runs: the parameters and the canonical JSON result with its SHA-256, recomputed from the
# records and compared byte for byte (as `evaluation.service.reproduce_run`).


def _cell(value):
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value


def _rows(frame: pl.DataFrame) -> dict:
    return {"columns": frame.columns, "rows": [[_cell(v) for v in row] for row in frame.iter_rows()]}


def dumps(result: Outcomes, *, region: str | None) -> str:
    """The canonical JSON text of a result: sorted keys, no spaces, UTF-8 text as is."""
    payload = {
        "since": result.since.isoformat(),
        "on": result.on.isoformat(),
        "region": region,
        "indicators": _rows(result.indicators),
        "takeup": _rows(result.takeup),
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _computed(engine: Engine, *, on: dt.date, since: dt.date, region: str | None) -> str:
    result = outcomes(engine=engine, on=on, since=since)
    if region is not None:
        result = Outcomes(
            since=since,
            on=on,
            indicators=result.indicators.filter(pl.col("region") == region),
            takeup=result.takeup.filter(pl.col("region") == region),
        )
    return dumps(result, region=region)


@use_case(action=READ, audit="outcomes.run")
def _store(*, session: Session, actor: Actor, on: dt.date, since: dt.date, region: str | None) -> Done:
    text = _computed(session.get_bind(), on=on, since=since, region=region)
    params = {"since": since.isoformat(), "on": on.isoformat(), "region": region}
    run = OutcomeRun(
        since=since,
        on=on,
        region=region,
        params_json=json.dumps(params, sort_keys=True, separators=(",", ":")),
        result_json=text,
        result_sha256=_sha256(text),
        created_by=str(actor),
        created_at=utcnow(),
    )
    session.add(run)
    session.flush()
    return Done(
        value=run,
        subject=("outcome_run", run.id),
        region=region,
        reason=f"pilot outcome report {since}..{on} stored",
        inputs={**params, "result_sha256": run.result_sha256},
    )


def store_run(*, session: Session, actor: Actor, on: dt.date, since: dt.date, region: str | None = None) -> OutcomeRun:
    """Compute the report as a reader sees it (a regional official: their own region; 403 for
    another) and store it with its parameters and digest; audited as `outcomes.run`."""
    shown = read_region(actor, region)
    check_period(since=since, on=on)
    return _store(session=session, actor=actor, on=on, since=since, region=shown)


def get_run(*, session: Session, actor: Actor, run_id: int) -> OutcomeRun:
    """A stored run for a reader: 404 when missing or of a region the reader may not read (a
    regional official: another region's, or a national run)."""
    run = session.get(OutcomeRun, run_id)
    if run is None:
        raise NotFound(what=f"outcome run {run_id}")
    try:
        read_region(actor, run.region)
    except Forbidden:
        raise NotFound(what=f"outcome run {run_id}") from None
    if run.region is None and read_region(actor, None) is not None:
        raise NotFound(what=f"outcome run {run_id}")
    return run


def runs(*, session: Session, actor: Actor) -> list[OutcomeRun]:
    """The stored runs the reader may read, newest first."""
    shown = read_region(actor, None)
    stmt = select(OutcomeRun).order_by(OutcomeRun.id.desc())
    if shown is not None:
        stmt = stmt.where(OutcomeRun.region == shown)
    return list(session.scalars(stmt))


def reproduce_run(*, session: Session, actor: Actor, run_id: int) -> dict:
    """Recompute a stored run from the records with its stored parameters and compare the JSON
    text byte for byte."""
    run = get_run(session=session, actor=actor, run_id=run_id)
    params = json.loads(run.params_json)
    again = _computed(
        session.get_bind(),
        on=dt.date.fromisoformat(params["on"]),
        since=dt.date.fromisoformat(params["since"]),
        region=params["region"],
    )
    return {
        "run_id": run.id,
        "identical": again == run.result_json,
        "stored_sha256": run.result_sha256,
        "recomputed_sha256": _sha256(again),
    }


def result_of(run: OutcomeRun) -> dict:
    return json.loads(run.result_json)
