"""Column-wise bulk loading: COPY on PostgreSQL, one executemany on SQLite.

Both run on the caller's connection, inside the caller's transaction, so a failure anywhere
rolls the whole load back.
"""

from __future__ import annotations

import io

import polars as pl
from sqlalchemy.engine import Connection

CHUNK_ROWS = 200_000


def _as_driver_values(df: pl.DataFrame) -> pl.DataFrame:
    """Dates become ISO text, the storage form SQLAlchemy uses for Date on SQLite."""
    return df.with_columns(pl.col(pl.Date).dt.strftime("%Y-%m-%d"))


def bulk_insert(*, conn: Connection, table: str, df: pl.DataFrame, on_progress=None) -> int:
    """Append every row of `df` (columns named as in the table) to `table`."""
    if df.height == 0:
        return 0
    columns = df.columns
    driver = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        cols = ", ".join(f'"{c}"' for c in columns)
        with driver.cursor() as cur:
            for start in range(0, df.height, CHUNK_ROWS):
                chunk = df.slice(start, CHUNK_ROWS)
                buf = io.BytesIO()
                chunk.write_csv(buf, include_header=False, null_value="", quote_style="necessary")
                with cur.copy(f"COPY {table} ({cols}) FROM STDIN (FORMAT csv)") as copy:
                    copy.write(buf.getvalue())
                if on_progress:
                    on_progress(chunk.height)
    else:
        cols = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"
        values = _as_driver_values(df)
        cur = driver.cursor()
        try:
            for start in range(0, values.height, CHUNK_ROWS):
                chunk = values.slice(start, CHUNK_ROWS)
                cur.executemany(sql, chunk.iter_rows())
                if on_progress:
                    on_progress(chunk.height)
        finally:
            cur.close()
    return df.height


def read_table(*, conn: Connection, sql: str, schema: dict[str, pl.DataType] | None = None) -> pl.DataFrame:
    """Run a query and return a Polars frame, with date columns typed on either dialect."""
    df = pl.read_database(sql, connection=conn, infer_schema_length=None)
    return typed(df, schema) if schema else df


def typed(df: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Columns cast to `schema`; SQLite keeps dates as ISO text, which are parsed strictly."""
    casts = []
    for name, dtype in schema.items():
        if name not in df.columns:
            continue
        if dtype == pl.Date and df.schema[name] == pl.String:
            casts.append(pl.col(name).str.to_date("%Y-%m-%d", strict=True))
        elif df.schema[name] != dtype:
            casts.append(pl.col(name).cast(dtype))
    return df.with_columns(casts) if casts else df
