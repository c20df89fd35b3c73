"""Movement and retention from the database: only the rows and columns §4.9 needs are read, in one
consistent snapshot (`records.columnar.read_queries`: Arrow columns on a SQLite file and on
PostgreSQL), then `mobility.compute` over the columns. Read scope: a regional official sees the
rows of their own region (flows, and the moves into or out of it) and of their region's
programmes (retention); national roles see all.

What SQL leaves out, it leaves out by the definitions (`flow_filters`, `retention_filters` are
the same conditions in Polars, and tests/mobility checks the computation gives the same answer
on the kept rows as on all of them):
- flows: address reports reported by D2 that take effect by D2 (a later one changes nothing in
  the period), with the region only (the first two digits of the area code); grants granted by
  D2 whose validity meets [D1, D2] (no other covers a day of the period), without their programme
  unless `--holders` asks for it; with `--holders`, only the reports of people with a programme
  grant that meets the period.
- retention: only programme holders' grants and address reports (tens of thousands of people,
  found through the programme index and the (person, date) key, not a national scan).
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy.engine import Engine

from regionvisa.compliance.service import programme_obligations
from regionvisa.core.actor import Actor
from regionvisa.core.errors import Invalid
from regionvisa.mobility import compute
from regionvisa.mobility.subjects import READ, read_region
from regionvisa.records.columnar import batch_reads, read_queries, sqlite_file
from regionvisa.records.frames import SCHEMAS
from regionvisa.records.memo import remembered

__all__ = ["READ", "cached_flows", "cached_retention", "flows", "flows_and_pairs", "retention"]

FLOW_GRANT_COLUMNS = ("person_id", "visa", "program_id", "valid_from", "valid_to")
FLOW_REPORT_COLUMNS = ("person_id", "area_code", "effective_date")
RETENTION_GRANT_COLUMNS = ("person_id", "program_id", "granted_on")
RETENTION_REPORT_COLUMNS = ("person_id", "area_code", "effective_date")


def _day(value: dt.date) -> str:
    return f"'{value.isoformat()}'"


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _schema(table: str, columns: tuple[str, ...]) -> dict[str, pl.DataType]:
    return {c: SCHEMAS[table][c] for c in columns}


def flow_grant_columns(holders: bool) -> tuple[str, ...]:
    """The grants' columns the flows use: the programme only to tell holders apart."""
    return FLOW_GRANT_COLUMNS if holders else tuple(c for c in FLOW_GRANT_COLUMNS if c != "program_id")


def flow_filters(
    statuses: pl.DataFrame, addresses: pl.DataFrame, *, start: dt.date, end: dt.date, holders: bool
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The rows `_flow_records` reads, as Polars conditions over whole tables (the reference for
    its SQL): `compute.flows` gives the same table on these as on everything."""
    grants = statuses.filter(
        (pl.col("granted_on") <= end) & (pl.col("valid_from") <= end) & (pl.col("valid_to") >= start)
    )
    reports = addresses.filter((pl.col("reported_date") <= end) & (pl.col("effective_date") <= end))
    if holders:
        reports = reports.filter(
            pl.col("person_id").is_in(grants.filter(pl.col("program_id").is_not_null())["person_id"].implode())
        )
    return (
        grants.select(flow_grant_columns(holders)),
        reports.select("person_id", pl.col("area_code").str.slice(0, 2), "effective_date"),
    )


def _flow_records(engine: Engine, start: dt.date, end: dt.date, holders: bool) -> tuple[pl.DataFrame, pl.DataFrame]:
    scan = " NOT INDEXED" if sqlite_file(engine=engine) is not None else ""
    meets = f"granted_on <= {_day(end)} AND valid_from <= {_day(end)} AND valid_to >= {_day(start)}"
    columns = flow_grant_columns(holders)
    grants = f"SELECT {', '.join(columns)} FROM status_grant{scan} WHERE {meets}"
    reports = (
        "SELECT person_id, substr(area_code, 1, 2) AS area_code, effective_date "
        f"FROM address_report{scan} WHERE reported_date <= {_day(end)} AND effective_date <= {_day(end)}"
    )
    if holders:
        reports += (
            f" AND person_id IN (SELECT person_id FROM status_grant{_by_programme(engine)} "
            f"WHERE program_id IS NOT NULL AND {meets})"
        )
    frames = read_queries(
        engine=engine,
        jobs={
            "status_grant": (grants, _schema("status_grant", columns)),
            "address_report": (reports, _schema("address_report", FLOW_REPORT_COLUMNS)),
        },
    )
    return frames["status_grant"], frames["address_report"]


def retention_filters(
    statuses: pl.DataFrame, addresses: pl.DataFrame, *, on: dt.date, program_id: str | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The rows `_retention_records` reads, as Polars conditions (the reference for its SQL)."""
    grants = statuses.filter(pl.col("program_id").is_not_null() & (pl.col("granted_on") <= on))
    if program_id is not None:
        grants = grants.filter(pl.col("program_id") == program_id)
    reports = addresses.filter(
        (pl.col("reported_date") <= on)
        & (pl.col("effective_date") <= on)
        & pl.col("person_id").is_in(grants["person_id"].implode())
    )
    return grants.select(RETENTION_GRANT_COLUMNS), reports.select(RETENTION_REPORT_COLUMNS)


def _by_programme(engine: Engine) -> str:
    """SQLite's plan for `program_id IS NOT NULL`: the programme index (a few thousand holders),
    not a scan of every grant; PostgreSQL's planner finds it by itself."""
    return " INDEXED BY ix_status_grant_program" if engine.dialect.name == "sqlite" else ""


def _retention_records(engine: Engine, on: dt.date, program_id: str | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    held = f"program_id IS NOT NULL AND granted_on <= {_day(on)}"
    if program_id is not None:
        held += f" AND program_id = {_text(program_id)}"
    grants = f"SELECT {', '.join(RETENTION_GRANT_COLUMNS)} FROM status_grant{_by_programme(engine)} WHERE {held}"
    reports = (  # each holder's reports through the (person_id, effective_date) key
        f"SELECT {', '.join(RETENTION_REPORT_COLUMNS)} FROM address_report "
        f"WHERE reported_date <= {_day(on)} AND effective_date <= {_day(on)} "
        f"AND person_id IN (SELECT person_id FROM status_grant{_by_programme(engine)} WHERE {held})"
    )
    jobs = {
        "status_grant": (grants, _schema("status_grant", RETENTION_GRANT_COLUMNS)),
        "address_report": (reports, _schema("address_report", RETENTION_REPORT_COLUMNS)),
    }
    # the holders' rows are few: one read session (one snapshot), in this process on SQLite
    with batch_reads(engine=engine) as reads:
        frames = reads.frames(jobs)
    return frames["status_grant"], frames["address_report"]


def _period(start: dt.date, end: dt.date) -> None:
    if end < start:
        raise Invalid(
            code="invalid_period",
            field="to",
            ko=f"기간의 끝({end})이 시작({start})보다 앞섭니다",
            en=f"the period ends ({end}) before it starts ({start})",
        )


def flows_and_pairs(
    *, engine: Engine, actor: Actor, start: dt.date, end: dt.date, holders: bool = False, region: str | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`flows` and the origin → destination pairs of its moves (`compute.OD_COLUMNS`), from one
    read. A regional official gets their region's rows and the pairs that leave or enter it."""
    _period(start, end)
    shown = read_region(actor, region)
    grants, reports = _flow_records(engine, start, end, holders)
    table, pairs = compute.flows_and_pairs(grants, reports, start=start, end=end, holders=holders)
    if shown is None:
        return table, pairs
    return (
        table.filter(pl.col("region") == shown),
        pairs.filter((pl.col("origin") == shown) | (pl.col("destination") == shown)),
    )


def flows(
    *, engine: Engine, actor: Actor, start: dt.date, end: dt.date, holders: bool = False, region: str | None = None
) -> pl.DataFrame:
    """Moves between regions with their effective date in [start, end], per region and visa (§4.9).
    A regional official gets their own region's rows; others any region, or one with `region`."""
    _period(start, end)
    shown = read_region(actor, region)
    grants, reports = _flow_records(engine, start, end, holders)
    table = compute.flows(grants, reports, start=start, end=end, holders=holders)
    return table if shown is None else table.filter(pl.col("region") == shown)


def retention(
    *, engine: Engine, actor: Actor, on: dt.date, program_id: str | None = None, region: str | None = None
) -> pl.DataFrame:
    """Each programme's holders by monthly cohort, and how many live in its area 6, 12 and 24 months on."""
    shown = read_region(actor, region)
    programmes = programme_obligations(engine=engine)
    grants, reports = _retention_records(engine, on, program_id)
    table = compute.retention(grants, reports, programmes, on=on, program_id=program_id)
    return table if shown is None else table.filter(pl.col("region") == shown)


def cached_flows(
    *, engine: Engine, actor: Actor, start: dt.date, end: dt.date, holders: bool = False, region: str | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`flows_and_pairs` for pages and the API: the national answer kept (`records.memo`), then scoped."""
    _period(start, end)
    shown = read_region(actor, region)
    table, pairs = remembered(
        engine=engine,
        key=("flows", start, end, holders),
        compute=lambda: compute.flows_and_pairs(
            *_flow_records(engine, start, end, holders), start=start, end=end, holders=holders
        ),
    )
    if shown is None:
        return table, pairs
    return (
        table.filter(pl.col("region") == shown),
        pairs.filter((pl.col("origin") == shown) | (pl.col("destination") == shown)),
    )


def cached_retention(
    *, engine: Engine, actor: Actor, on: dt.date, program_id: str | None = None, region: str | None = None
) -> pl.DataFrame:
    """`retention` for pages and the API: the national answer kept (`records.memo`), then scoped."""
    shown = read_region(actor, region)

    programmes = programme_obligations(engine=engine)  # a published version changes the areas: part of the key
    version = tuple(programmes.hash_rows(seed=0).to_list())

    def work() -> pl.DataFrame:
        grants, reports = _retention_records(engine, on, program_id)
        return compute.retention(grants, reports, programmes, on=on, program_id=program_id)

    table = remembered(engine=engine, key=("retention", on, program_id, version), compute=work)
    return table if shown is None else table.filter(pl.col("region") == shown)
