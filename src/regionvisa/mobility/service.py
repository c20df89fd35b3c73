"""Movement and retention from the database: the records read once, in one consistent snapshot,
then `mobility.compute` over the columns. Read scope: a regional official sees the rows of their
own region (flows) and of their region's programmes (retention); national roles see all."""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy.engine import Engine

from regionvisa.compliance.service import programme_obligations
from regionvisa.core.actor import Actor
from regionvisa.core.errors import Invalid
from regionvisa.mobility import compute
from regionvisa.mobility.subjects import read_region
from regionvisa.records.columnar import batch_reads, has_column_reads, read_columns
from regionvisa.records.frames import SCHEMAS, read_known_all


def _records(engine: Engine, on: dt.date) -> dict[str, pl.DataFrame]:
    """Status grants and address reports as known on `on`, in one snapshot: whole columns where the
    database hands them over that way (Arrow), else through one read session."""
    tables = ("status_grant", "address_report")
    if has_column_reads(engine=engine):
        return read_columns(engine=engine, wanted={t: list(SCHEMAS[t]) for t in tables}, as_of=on)
    with batch_reads(engine=engine) as reads:
        return read_known_all(reads=reads, tables=dict.fromkeys(tables, on))


def _period(start: dt.date, end: dt.date) -> None:
    if end < start:
        raise Invalid(
            code="invalid_period",
            field="to",
            ko=f"기간의 끝({end})이 시작({start})보다 앞섭니다",
            en=f"the period ends ({end}) before it starts ({start})",
        )


def flows(
    *, engine: Engine, actor: Actor, start: dt.date, end: dt.date, holders: bool = False, region: str | None = None
) -> pl.DataFrame:
    """Moves between regions with their effective date in [start, end], per region and visa (§4.9).
    A regional official gets their own region's rows; others any region, or one with `region`."""
    _period(start, end)
    shown = read_region(actor, region)
    frames = _records(engine, end)
    table = compute.flows(frames["status_grant"], frames["address_report"], start=start, end=end, holders=holders)
    return table if shown is None else table.filter(pl.col("region") == shown)


def retention(
    *, engine: Engine, actor: Actor, on: dt.date, program_id: str | None = None, region: str | None = None
) -> pl.DataFrame:
    """Each programme's holders by monthly cohort, and how many live in its area 6, 12 and 24 months on."""
    shown = read_region(actor, region)
    programmes = programme_obligations(engine=engine)
    frames = _records(engine, on)
    table = compute.retention(
        frames["status_grant"], frames["address_report"], programmes, on=on, program_id=program_id
    )
    return table if shown is None else table.filter(pl.col("region") == shown)
