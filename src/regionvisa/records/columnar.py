"""Whole records tables read as Arrow columns, for the national batch paths on SQLite.

Reading millions of rows through the Python driver builds a Python object per value, and a date
filter on a table that keeps most of it makes SQLite walk the date index and fetch rows in date
order. Here each table is read with the ADBC SQLite driver (straight into Arrow, no Python
objects), scanned in storage order (`NOT INDEXED`), one connection per table in parallel threads.

The reads see committed data only. Separate connections could straddle an import, so the records
fingerprint (each table's highest id) is taken before and after; if it moved, the tables are read
again. Records are append-only, so an unchanged fingerprint means every read saw the same data.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import polars as pl
from sqlalchemy.engine import Engine

from regionvisa.records.bulk import typed
from regionvisa.records.frames import KNOWN_BY, SCHEMAS

ATTEMPTS = 3
RECORD_TABLES = ("status_grant", "address_report", "movement", "kiip_record", "employment")


def records_fingerprint(engine: Engine) -> tuple:
    """Changes whenever records are added (each table's highest id, an index lookup each)."""
    sql = "SELECT " + ", ".join(f"(SELECT MAX(id) FROM {t})" for t in RECORD_TABLES)
    with engine.connect() as conn:
        return tuple(conn.exec_driver_sql(sql).one())


def sqlite_file(engine: Engine) -> str | None:
    """The database file when `engine` is SQLite on a file (in-memory databases have none)."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    return None if not database or database == ":memory:" or database.startswith("file:") else database


def _select(table: str, columns: list[str], as_of: dt.date | None) -> str:
    cols = ", ".join(f'"{c}"' for c in columns)
    sql = f"SELECT {cols} FROM {table} NOT INDEXED"
    if as_of is not None and table in KNOWN_BY:
        sql += f" WHERE \"{KNOWN_BY[table]}\" <= '{as_of.isoformat()}'"
    return sql


def _read_arrow(path: str, sql: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    import adbc_driver_sqlite.dbapi as adbc

    conn = adbc.connect(path)
    try:
        cursor = conn.cursor()
        try:
            cursor.execute("PRAGMA busy_timeout=30000")  # as every connection of the app (db.py)
            cursor.fetchall()
            cursor.execute(sql)
            frame = pl.from_arrow(cursor.fetch_arrow_table())
        finally:
            cursor.close()
    finally:
        conn.close()
    if frame.height == 0:  # no rows: the driver cannot infer types
        return pl.DataFrame(schema=schema)
    return typed(frame, schema)


def read_columns(engine: Engine, wanted: dict[str, list[str]], as_of: dt.date | None) -> dict[str, pl.DataFrame]:
    """`wanted` maps a records table to the columns to read, as known on `as_of` (see frames.KNOWN_BY).

    Only for SQLite files (see `sqlite_file`); raises ValueError otherwise.
    """
    path = sqlite_file(engine)
    if path is None:
        raise ValueError("columnar reads need a SQLite database file")
    jobs = {
        table: (_select(table, cols, as_of), {c: SCHEMAS[table][c] for c in cols}) for table, cols in wanted.items()
    }
    for _ in range(ATTEMPTS):
        before = records_fingerprint(engine)
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            futures = {table: pool.submit(_read_arrow, path, sql, schema) for table, (sql, schema) in jobs.items()}
            frames = {table: future.result() for table, future in futures.items()}
        if records_fingerprint(engine) == before:
            return frames
    raise RuntimeError(
        f"records kept changing during {ATTEMPTS} reads; try again when the import has finished / "
        "기록이 읽는 동안 계속 바뀌었습니다. 가져오기가 끝난 뒤 다시 시도하십시오."
    )
