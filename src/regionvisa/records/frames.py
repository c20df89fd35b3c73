"""The records as they stood on a date, read into Polars for vectorised work.

"As of D" means: statuses granted on or before D, address reports reported on or before D,
and movements, KIIP enrolments and employment dated on or before D (DESIGN §4.8). Statistics,
compliance and evaluation all read through here so they agree on what was known when.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import polars as pl
from sqlalchemy.engine import Connection

from regionvisa.records.bulk import read_table
from regionvisa.stats.timeline import status_of  # the one status rule, shared with the summaries

if TYPE_CHECKING:
    from regionvisa.records.columnar import ArrowReads, DriverReads

SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "person": {
        "person_id": pl.String,
        "nationality": pl.String,
        "birth_date": pl.Date,
        "sex": pl.String,
    },
    "status_grant": {
        "person_id": pl.String,
        "visa": pl.String,
        "subtype": pl.String,
        "program_id": pl.String,
        "region": pl.String,
        "valid_from": pl.Date,
        "valid_to": pl.Date,
        "granted_on": pl.Date,
    },
    "address_report": {
        "person_id": pl.String,
        "area_code": pl.String,
        "effective_date": pl.Date,
        "reported_date": pl.Date,
    },
    "movement": {"person_id": pl.String, "direction": pl.String, "date": pl.Date, "port": pl.String},
    "kiip_record": {
        "person_id": pl.String,
        "level": pl.Int64,
        "enrolled_on": pl.Date,
        "completed_on": pl.Date,
    },
    "employment": {
        "person_id": pl.String,
        "employer_id": pl.String,
        "employer_region": pl.String,
        "start_date": pl.Date,
        "end_date": pl.Date,
        "annual_wage_krw": pl.Int64,
        "occupation_code": pl.String,
    },
}

# The column that decides whether a record was known on the reference date.
KNOWN_BY = {
    "status_grant": "granted_on",
    "address_report": "reported_date",
    "movement": "date",
    "kiip_record": "enrolled_on",
    "employment": "start_date",
}


def known_sql(*, table: str, as_of: dt.date | None, where: str = "") -> str:
    """The SELECT of `table`'s vectorised columns as known on `as_of`, optionally filtered."""
    cols = ", ".join(f'"{c}"' for c in SCHEMAS[table])
    clauses = []
    if as_of is not None and table in KNOWN_BY:
        clauses.append(f"\"{KNOWN_BY[table]}\" <= '{as_of.isoformat()}'")
    if where:
        clauses.append(where)
    return f"SELECT {cols} FROM {table}" + (f" WHERE {' AND '.join(clauses)}" if clauses else "")


def read_known(*, reads: ArrowReads | DriverReads, table: str, as_of: dt.date | None, where: str = "") -> pl.DataFrame:
    """`read_records` through a batch read session (`records.columnar.batch_reads`): Arrow columns
    on PostgreSQL, the driver's cursor elsewhere; the same frame either way."""
    return reads.frame(known_sql(table=table, as_of=as_of, where=where), SCHEMAS[table])


def read_known_all(
    *, reads: ArrowReads | DriverReads, tables: dict[str, dt.date | None], where: str = ""
) -> dict[str, pl.DataFrame]:
    """`read_known` of each table (name → as_of), all read at once where the session can."""
    jobs = {t: (known_sql(table=t, as_of=as_of, where=where), SCHEMAS[t]) for t, as_of in tables.items()}
    return reads.frames(jobs)


def read_records(*, conn: Connection, table: str, as_of: dt.date | None, where: str = "") -> pl.DataFrame:
    """One records table as known on `as_of` (all of it when `as_of` is None). Personal names and
    passport numbers are never read here: vectorised work has no need of them."""
    schema = SCHEMAS[table]
    df = read_table(conn=conn, sql=known_sql(table=table, as_of=as_of, where=where), schema=schema)
    if df.height == 0:
        return pl.DataFrame(schema=schema)
    return df.select([pl.col(c).cast(t) for c, t in schema.items()])


def residents_on(*, conn: Connection, on: dt.date) -> pl.DataFrame:
    """Every foreign resident on `on`, one row each: person_id, nationality, region, status.

    A resident has a status granted on or before the date and has not left: their last
    movement up to the date is not an exit. `status` is the visa of the status covering the
    date; when none does, `illegal` if a status had begun by then (§4.8), else `pending`.
    `region` is that of the latest address in force (first two digits of its area code), else
    the region of their latest status.
    """
    statuses = read_records(conn=conn, table="status_grant", as_of=on)
    movements = read_records(conn=conn, table="movement", as_of=on)
    addresses = read_records(conn=conn, table="address_report", as_of=on).filter(pl.col("effective_date") <= on)
    people = read_records(conn=conn, table="person", as_of=None)
    return residents_frame(people, statuses, movements, addresses, on)


def residents_frame(
    people: pl.DataFrame,
    statuses: pl.DataFrame,
    movements: pl.DataFrame,
    addresses: pl.DataFrame,
    on: dt.date,
) -> pl.DataFrame:
    """Pure part of `residents_on`, so it can be tested on hand-built frames."""
    covering = covering_visas(statuses, on).rename({"covering_visa": "current_visa"})
    begun = statuses.filter(pl.col("valid_from") <= on).select("person_id", pl.lit(True).alias("begun")).unique()
    return (
        resident_regions(statuses, movements, addresses)
        .join(covering, on="person_id", how="left")
        .join(begun, on="person_id", how="left")
        .join(people.select("person_id", "nationality"), on="person_id", how="left")
        .select(
            "person_id",
            "nationality",
            "region",
            status_of(pl.col("current_visa"), pl.col("begun")).alias("status"),
        )
        .sort("person_id")
    )


def covering_visas(statuses: pl.DataFrame, on: dt.date) -> pl.DataFrame:
    """person_id and `covering_visa`: the visa of the status covering `on` (the latest to begin
    when several do); people with none are absent."""
    return (
        statuses.filter((pl.col("valid_from") <= on) & (pl.col("valid_to") >= on))
        .sort(["person_id", "valid_from"])
        .group_by("person_id", maintain_order=True)
        .last()
        .select("person_id", pl.col("visa").alias("covering_visa"))
    )


def resident_regions(statuses: pl.DataFrame, movements: pl.DataFrame, addresses: pl.DataFrame) -> pl.DataFrame:
    """Who is a resident, and where: person_id and region, one row per resident, unordered.

    The frames hold what was known on the reference date (addresses also in force by then). A
    resident has a status and a last movement that is not an exit; the region is that of the
    latest address, else of the latest status. Counting residents needs only the statuses'
    person, region and dates, so this part is kept apart from the current visa and nationality.
    """
    latest_status = (
        statuses.sort(["person_id", "valid_from", "granted_on"])
        .group_by("person_id", maintain_order=True)
        .last()
        .select("person_id", pl.col("region").alias("status_region"))
    )
    last_move = (
        movements.with_columns((pl.col("direction") == "exit").alias("is_exit"))
        .sort(["person_id", "date", "is_exit"])
        .group_by("person_id", maintain_order=True)
        .last()
        .select("person_id", "is_exit")
    )
    address = (
        addresses.sort(["person_id", "effective_date"])
        .group_by("person_id", maintain_order=True)
        .last()
        .select("person_id", pl.col("area_code").str.slice(0, 2).alias("address_region"))
    )
    return (
        latest_status.join(last_move, on="person_id", how="left")
        .filter(pl.col("is_exit").is_null() | ~pl.col("is_exit"))
        .join(address, on="person_id", how="left")
        .select("person_id", pl.coalesce("address_region", "status_region").alias("region"))
    )
