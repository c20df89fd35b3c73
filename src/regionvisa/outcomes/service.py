"""The outcome report's inputs from the database: the records of every person who ever held a
base visa (D-2 or E-7), as known on the day, in one snapshot (`records.columnar.batch_reads`),
the quota ledgers, and the wage floors in force; then `outcomes.compute` over the columns."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
from sqlalchemy.engine import Engine

from regionvisa.compliance.service import programme_obligations
from regionvisa.core.actor import Actor
from regionvisa.core.errors import Invalid
from regionvisa.outcomes import compute
from regionvisa.outcomes.subjects import READ, read_region
from regionvisa.records.columnar import batch_reads
from regionvisa.records.frames import read_known_all
from regionvisa.regions.parameters import national_values

__all__ = ["READ", "Outcomes", "default_since", "outcomes", "report"]

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


def outcomes(*, engine: Engine, on: dt.date, since: dt.date) -> Outcomes:
    visas = ", ".join(f"'{v}'" for v in compute.BASE_VISAS)
    people = f"person_id IN (SELECT person_id FROM status_grant WHERE visa IN ({visas}) AND granted_on <= '{on}')"
    tables = {"status_grant": on, "address_report": on, "kiip_record": on, "employment": on}
    with batch_reads(engine=engine) as reads:
        frames = read_known_all(reads=reads, tables=tables, where=people)
        ledgers = reads.frame(
            "SELECT program_id, period_start, period_end, allocated, adjustments FROM quota_ledger", LEDGER_SCHEMA
        )
    floors = floors_on(programme_obligations(engine=engine), on)
    statuses = frames["status_grant"]
    table = compute.indicators(
        statuses,
        frames["address_report"],
        frames["kiip_record"],
        frames["employment"],
        floors,
        since=since,
        on=on,
        national_floor=national_floor(on),
    )
    members = compute.members(statuses, since=since, on=on)
    return Outcomes(since=since, on=on, indicators=table, takeup=compute.takeup(members, ledgers, since=since, on=on))


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


def report(*, engine: Engine, actor: Actor, on: dt.date, since: dt.date, region: str | None = None) -> Outcomes:
    """`outcomes` for a reader: 403 without `outcomes.read` (or for another region than a regional
    official's own), 422 for a period that ends before it starts; the rows of the region the
    reader is scoped to (a regional official: their own), every region's otherwise."""
    shown = read_region(actor, region)
    check_period(since=since, on=on)
    result = outcomes(engine=engine, on=on, since=since)
    if shown is None:
        return result
    return Outcomes(
        since=since,
        on=on,
        indicators=result.indicators.filter(pl.col("region") == shown),
        takeup=result.takeup.filter(pl.col("region") == shown),
    )
