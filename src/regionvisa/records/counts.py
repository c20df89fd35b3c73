"""Foreign residents per region on a date, counted from the records: the one home of that count.

The definition is `records.frames.resident_regions` (a status granted by then, last movement not
an exit; region of the latest address in force, else of the latest status). On a SQLite file the
three tables it needs are read as Arrow columns and that definition counts them; elsewhere the
database counts with the SQL below, so no caller reads every resident's records into memory.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from sqlalchemy import text
from sqlalchemy.engine import Engine

from regionvisa.records import columnar
from regionvisa.records.frames import resident_regions

RESIDENT_COLUMNS = {
    "status_grant": ["person_id", "region", "valid_from", "granted_on"],
    "movement": ["person_id", "direction", "date"],
    "address_report": ["person_id", "area_code", "effective_date"],
}

# The count inside the database, for PostgreSQL: one window per table picks each person's latest row.
_RESIDENTS_SQL = """
WITH st AS (
  SELECT person_id, region,
         ROW_NUMBER() OVER (PARTITION BY person_id ORDER BY valid_from DESC, granted_on DESC) AS rn
  FROM status_grant WHERE granted_on <= :on
), mv AS (
  SELECT person_id, direction,
         ROW_NUMBER() OVER (PARTITION BY person_id
                            ORDER BY date DESC, CASE WHEN direction = 'exit' THEN 1 ELSE 0 END DESC) AS rn
  FROM movement WHERE date <= :on
), ad AS (
  SELECT person_id, area_code,
         ROW_NUMBER() OVER (PARTITION BY person_id ORDER BY effective_date DESC) AS rn
  FROM address_report WHERE reported_date <= :on AND effective_date <= :on
)
SELECT COALESCE(SUBSTR(ad.area_code, 1, 2), st.region) AS region, COUNT(*) AS residents
FROM st
LEFT JOIN mv ON mv.person_id = st.person_id AND mv.rn = 1
LEFT JOIN ad ON ad.person_id = st.person_id AND ad.rn = 1
WHERE st.rn = 1 AND (mv.direction IS NULL OR mv.direction <> 'exit')
GROUP BY COALESCE(SUBSTR(ad.area_code, 1, 2), st.region)
"""


# The same count for SQLite, whose window functions sort every row: one MAX() per person with SQLite's
# bare columns (taken from the row holding the maximum) streams over the natural-key indexes instead.
_RESIDENTS_SQLITE = """
SELECT COALESCE(SUBSTR(ad.area_code, 1, 2), st.region) AS region, COUNT(*) AS residents
FROM (SELECT person_id, region, MAX(valid_from || ' ' || granted_on) AS k
      FROM status_grant WHERE granted_on <= :on GROUP BY person_id) AS st
LEFT JOIN (SELECT person_id, MAX(date || CASE WHEN direction = 'exit' THEN '1' ELSE '0' END) AS k
           FROM movement WHERE date <= :on GROUP BY person_id) AS mv ON mv.person_id = st.person_id
LEFT JOIN (SELECT person_id, area_code, MAX(effective_date) AS k
           FROM address_report WHERE reported_date <= :on AND effective_date <= :on GROUP BY person_id) AS ad
       ON ad.person_id = st.person_id
WHERE mv.k IS NULL OR SUBSTR(mv.k, -1) = '0'
GROUP BY COALESCE(SUBSTR(ad.area_code, 1, 2), st.region)
"""


def maintained_residents_by_region(*, engine: Engine, on: dt.date) -> dict[str, int]:
    """Foreign residents per region on `on` from the statistics summaries that every writer of
    records keeps up to date (`stats.summary`, built from this module's definition): a sum over a
    few dozen rows per region, so the national count costs what a small one does. The functions
    below recount from all records; they are the summaries' check."""
    from regionvisa.stats import summary  # the summaries are built from this module's definition

    with engine.connect() as conn:
        counts = summary.counts_on(conn=conn, on=on, kind="s")
    totals = counts.group_by("region").agg(pl.col("n").sum())
    return dict(zip(totals["region"].to_list(), totals["n"].to_list(), strict=True))


def residents_by_region(*, engine: Engine, on: dt.date) -> dict[str, int]:
    """Foreign residents per region on `on`. On a SQLite file or PostgreSQL the three tables are
    read as Arrow columns in parallel and `records.frames.resident_regions` (the definition itself)
    counts them: SQLite runs the counting query on one core and materialises its subqueries, and
    PostgreSQL's window query takes longer than the transfer. Elsewhere the database counts."""
    if not columnar.has_column_reads(engine=engine):  # a SQLite file or PostgreSQL: Arrow columns
        return residents_by_region_sql(engine=engine, on=on)
    frames = columnar.read_columns(engine=engine, wanted=RESIDENT_COLUMNS, as_of=on)
    addresses = frames["address_report"].filter(pl.col("effective_date") <= on)
    residents = resident_regions(frames["status_grant"], frames["movement"], addresses)
    counts = residents.drop_nulls("region").group_by("region").len()
    return dict(zip(counts["region"].to_list(), counts["len"].to_list(), strict=True))


def residents_by_region_sql(*, engine: Engine, on: dt.date) -> dict[str, int]:
    """The count in SQL on any database (SQLite's form or the window form); the columnar path's check."""
    sql = _RESIDENTS_SQLITE if engine.dialect.name == "sqlite" else _RESIDENTS_SQL
    with engine.connect() as conn:
        return {str(r): int(n) for r, n in conn.execute(text(sql), {"on": on}) if r is not None}
