"""The statistics summaries kept up to date inside the transaction that writes the records.

Every writer of statuses, address reports or movements calls `refresh_people` with the people it
touched, in its own transaction, after its last write: their spans are recomputed from their
complete records (`stats.timeline`), and the difference between their old and new count changes
is added to `resident_count`. A bulk load calls `rebuild`, which recomputes everything. Both
begin by moving `stats_state.version`, which takes that row's lock: summary updates are
serialised, so two imports touching one person cannot both subtract the same old spans, and each
recomputes from records that include every committed import before it.

An "as of D" count is the sum of the year rows before D's year, the month rows of D's year
before D's month and the day rows of D's month up to D: a few dozen rows per key.
"""

from __future__ import annotations

import datetime as dt
import uuid

import polars as pl
from sqlalchemy import text
from sqlalchemy.engine import Connection

from regionvisa.records.bulk import bulk_insert, read_table, typed
from regionvisa.records.frames import SCHEMAS
from regionvisa.stats import timeline
from regionvisa.stats.models import ResidentSpan
from regionvisa.stats.timeline import DELTA_SCHEMA, SPAN_SCHEMA

# the records whose change can change a resident count (people's nationality never changes)
RESIDENT_TABLES = ("status_grant", "movement", "address_report")
SPAN_COLUMNS = ", ".join(SPAN_SCHEMA)
DELTA_COLUMNS = ", ".join(DELTA_SCHEMA)


def _bump(conn: Connection, max_reported: dt.date | None, *, replace: bool = False) -> None:
    """Move the version (taking the state row's lock) and keep the latest reported date."""
    # the row exists from the first change on; two first changes at once both insert, and one waits
    conn.execute(
        text("INSERT INTO stats_state (id, version, max_reported) VALUES (1, 0, NULL) ON CONFLICT (id) DO NOTHING")
    )
    conn.execute(text("UPDATE stats_state SET version = version + 1 WHERE id = 1"))
    if replace:
        conn.execute(text("UPDATE stats_state SET max_reported = :m WHERE id = 1"), {"m": max_reported})
    elif max_reported is not None:
        conn.execute(
            text(
                "UPDATE stats_state SET max_reported = :m WHERE id = 1 AND (max_reported IS NULL OR max_reported < :m)"
            ),
            {"m": max_reported},
        )


def lock(*, conn: Connection) -> None:
    """Take the summaries' lock for the rest of the caller's transaction (first, before reading)."""
    _bump(conn, None)


def _temp(conn: Connection, prefix: str, ddl: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {name} ({ddl})")
    return name


def _add_deltas(conn: Connection, frame: pl.DataFrame) -> None:
    if frame.height == 0:
        return
    staged = _temp(conn, "stats_delta", "grain VARCHAR(1), period DATE, region VARCHAR(2), kind VARCHAR(1), "
                   "value VARCHAR(8), n BIGINT")  # fmt: skip
    bulk_insert(conn=conn, table=staged, df=frame)
    conn.exec_driver_sql(
        f"INSERT INTO resident_count ({DELTA_COLUMNS}) SELECT {DELTA_COLUMNS} FROM {staged} WHERE true "
        "ON CONFLICT (grain, period, region, kind, value) DO UPDATE SET n = resident_count.n + excluded.n"
    )
    conn.exec_driver_sql(f"DROP TABLE {staged}")


# the columns `timeline.spans` reads, of each table `_records` reads, in that order
SPAN_INPUTS = {
    "person": ("person_id", "nationality"),
    "status_grant": ("person_id", "visa", "region", "valid_from", "valid_to", "granted_on"),
    "movement": ("person_id", "direction", "date"),
    "address_report": ("person_id", "area_code", "effective_date", "reported_date"),
}


def _read(conn: Connection, table: str, where: str) -> pl.DataFrame:
    """The columns of `table` the spans need, for the people `where` selects. On SQLite the rows
    come straight from the driver's cursor, on the caller's connection and so in its transaction
    (building a SQLAlchemy row for each took a third of the read)."""
    schema = {c: SCHEMAS[table][c] for c in SPAN_INPUTS[table]}
    sql = f"SELECT {', '.join(schema)} FROM {table} WHERE {where}"
    if conn.dialect.name != "sqlite":
        df = read_table(conn=conn, sql=sql, schema=schema)
    else:
        cursor = conn.connection.driver_connection.cursor()
        try:
            rows = cursor.execute(sql).fetchall()
        finally:
            cursor.close()
        stored = {c: pl.String if t == pl.Date else t for c, t in schema.items()}  # ISO text on SQLite
        df = typed(pl.DataFrame(rows, schema=stored, orient="row"), schema)
        del rows
    return df.select([pl.col(c).cast(t) for c, t in schema.items()]) if df.height else pl.DataFrame(schema=schema)


def _records(conn: Connection, where: str) -> tuple[pl.DataFrame, ...]:
    return tuple(_read(conn, table, where) for table in SPAN_INPUTS)


def _max_reported(addresses: pl.DataFrame) -> dt.date | None:
    return addresses["reported_date"].max() if addresses.height else None


def refresh_people(*, conn: Connection, person_ids: pl.Series | None = None, from_sql: str = "") -> int:
    """Recompute the spans and counts of the people given (a Series of ids, or a SELECT of
    person_id) from their complete records, in the caller's transaction; returns how many."""
    lock(conn=conn)
    people_table = _temp(conn, "stats_people", "person_id VARCHAR(32) PRIMARY KEY")
    if from_sql:
        conn.exec_driver_sql(f"INSERT INTO {people_table} (person_id) SELECT DISTINCT person_id FROM ({from_sql}) q")
    elif person_ids is not None and len(person_ids):
        ids = pl.DataFrame({"person_id": person_ids.cast(pl.String)}).unique().drop_nulls()
        bulk_insert(conn=conn, table=people_table, df=ids)
    count = int(conn.exec_driver_sql(f"SELECT COUNT(*) FROM {people_table}").scalar() or 0)
    if count:
        where = f"person_id IN (SELECT person_id FROM {people_table})"
        people, statuses, movements, addresses = _records(conn, where)
        new = timeline.spans(people, statuses, movements, addresses)
        old = read_table(conn=conn, sql=f"SELECT {SPAN_COLUMNS} FROM resident_span WHERE {where}", schema=SPAN_SCHEMA)
        old = old.cast(SPAN_SCHEMA) if old.height else pl.DataFrame(schema=SPAN_SCHEMA)
        change = pl.concat([timeline.deltas(new), timeline.deltas(old, sign=-1)])
        change = (
            change.group_by("grain", "period", "region", "kind", "value")
            .agg(pl.col("n").sum())
            .filter(pl.col("n") != 0)
            .cast(DELTA_SCHEMA)
        )
        conn.exec_driver_sql(f"DELETE FROM resident_span WHERE {where}")
        bulk_insert(conn=conn, table="resident_span", df=new)
        _add_deltas(conn, change)
        _bump(conn, _max_reported(addresses))
    conn.exec_driver_sql(f"DROP TABLE {people_table}")
    return count


REBUILD_PEOPLE = 150_000  # people per step of a rebuild: bounds its memory at national scale


def rebuild(*, conn: Connection, chunk: int = REBUILD_PEOPLE) -> int:
    """Recompute every span and count from all records (after a bulk load, and on upgrade), in
    steps of `chunk` people by person_id so memory stays bounded; returns the number of spans."""
    lock(conn=conn)
    conn.exec_driver_sql("DELETE FROM resident_span")
    conn.exec_driver_sql("DELETE FROM resident_count")
    # on SQLite the spans' secondary index is built once at the end instead of row by row (a third
    # of the inserts' time); PostgreSQL keeps it, so readers of the old spans are never blocked
    sqlite = conn.dialect.name == "sqlite"
    indexes = sorted(ResidentSpan.__table__.indexes, key=lambda ix: ix.name or "") if sqlite else []
    for index in indexes:
        index.drop(conn)
    ids = read_table(conn=conn, sql="SELECT person_id FROM person ORDER BY person_id", schema={"person_id": pl.String})
    bounds = ids["person_id"].gather_every(chunk).to_list() if ids.height else []
    del ids
    total, latest, changes = 0, None, []
    quoted = [b.replace("'", "''") for b in bounds]
    for i, low in enumerate(quoted):
        where = f"person_id >= '{low}'" + (f" AND person_id < '{quoted[i + 1]}'" if i + 1 < len(quoted) else "")
        people, statuses, movements, addresses = _records(conn, where)
        new = timeline.spans(people, statuses, movements, addresses)
        step_latest = _max_reported(addresses)
        if step_latest is not None and (latest is None or step_latest > latest):
            latest = step_latest
        del people, statuses, movements, addresses
        bulk_insert(conn=conn, table="resident_span", df=new)
        changes.append(timeline.deltas(new))
        total += new.height
        del new
    if changes:
        merged = (
            pl.concat(changes)
            .group_by("grain", "period", "region", "kind", "value")
            .agg(pl.col("n").sum())
            .filter(pl.col("n") != 0)
            .cast(DELTA_SCHEMA)
        )
        bulk_insert(conn=conn, table="resident_count", df=merged)
    for index in indexes:
        index.create(conn)
    _bump(conn, latest, replace=True)
    return total


# --------------------------------------------------------------------------------------------- reads


def state(*, conn: Connection) -> tuple[int, dt.date | None]:
    """(version, latest reported date) of the summaries."""
    row = conn.execute(text("SELECT version, max_reported FROM stats_state WHERE id = 1")).first()
    if row is None:
        return 0, None
    latest = row[1]
    if isinstance(latest, str):
        latest = dt.date.fromisoformat(latest[:10])
    return int(row[0]), latest


_COUNT_SQL = """
SELECT region, value, SUM(n) AS n FROM resident_count
WHERE kind = :kind {region}
  AND ((grain = 'y' AND period < :y0)
    OR (grain = 'm' AND period >= :y0 AND period < :m0)
    OR (grain = 'd' AND period >= :m0 AND period <= :on))
GROUP BY region, value
HAVING SUM(n) <> 0
"""


def counts_on(*, conn: Connection, on: dt.date, kind: str, region: str | None = None) -> pl.DataFrame:
    """Residents on `on` per region and status (`kind` "s") or nationality ("n"): region, value, n."""
    if kind not in timeline.KINDS:
        raise ValueError(f"unknown count kind {kind!r}")
    y0, m0 = timeline.periods_until(on)
    sql = _COUNT_SQL.format(region="AND region = :region" if region else "")
    params = {"kind": kind, "y0": y0, "m0": m0, "on": on, "region": region}
    rows = conn.execute(text(sql), params).all()
    return pl.DataFrame(
        {"region": [r[0] for r in rows], "value": [r[1] for r in rows], "n": [int(r[2]) for r in rows]},
        schema={"region": pl.String, "value": pl.String, "n": pl.Int64},
    )


def residents_page(
    *, conn: Connection, region: str | None, on: dt.date, offset: int, limit: int, after: str | None = None
) -> list[dict]:
    """A page of the residents on `on` (person_id, nationality, region, status), by person_id.

    With `after` (the last person_id of the previous page) the page starts there through the
    index instead of skipping `offset` rows: OFFSET reads every row it skips (3 s for the last
    national page on SQLite), a key seeks (under a millisecond on any page)."""
    where = "start_date <= :on AND (end_date IS NULL OR end_date > :on)"
    if region is not None:
        where = "region = :region AND " + where
    if after is not None:
        where += " AND person_id > :after"
        offset = 0
    sql = (
        f"SELECT person_id, nationality, region, status FROM resident_span WHERE {where} "
        "ORDER BY person_id LIMIT :limit OFFSET :offset"
    )
    params = {"region": region, "on": on, "limit": limit, "offset": offset, "after": after}
    rows = conn.execute(text(sql), params).all()
    return [{"person_id": r[0], "nationality": r[1], "region": r[2], "status": r[3]} for r in rows]
