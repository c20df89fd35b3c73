"""Whole records tables read as Arrow columns, for the national batch paths on SQLite.

Reading millions of rows through the Python driver builds a Python object per value, and a date
filter on a table that keeps most of it makes SQLite walk the date index and fetch rows in date
order. Here each table is read with the ADBC SQLite driver (straight into Arrow, no Python
objects), scanned in storage order (`NOT INDEXED`), one connection per table in parallel threads.

The ADBC driver bundles its own SQLite library, and two SQLite libraries must never open the same
file in one process: each keeps its own table of POSIX locks, so closing the second library's
connection drops the locks the first holds (sqlite.org, "How To Corrupt An SQLite Database File",
2.2.1). Another process would then checkpoint and delete the live WAL, and later commits would be
lost. So the reads run in a short-lived child process, read-only, which streams the tables back
as Arrow IPC through a pipe; this process only ever opens the file through Python's sqlite3.

The reads see committed data only. Separate connections could straddle an import, so the records
fingerprint (each table's highest id) is taken before and after; if it moved, the tables are read
again. Records are append-only, so an unchanged fingerprint means every read saw the same data.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import subprocess
import sys
import tempfile
import urllib.parse
from contextlib import suppress
from pathlib import Path

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


# The child: Python, the ADBC driver manager and pyarrow only (not the driver's DB-API module,
# which imports pandas and polars, nor anything of the application), so it starts fast. argv: the
# database URI and the [table, query] pairs; stdout: one Arrow IPC stream per table, in the order
# asked. Each query runs on its own connection in its own thread; 64k rows per batch rather than
# 1k also lets the driver infer each column's type from more rows.
_CHILD = """
import json, sys
from concurrent.futures import ThreadPoolExecutor
import adbc_driver_manager
import adbc_driver_sqlite
import pyarrow as pa

def query(statement, sql):
    statement.set_sql_query(sql)
    stream, _ = statement.execute_query()
    return pa.RecordBatchReader._import_from_c(stream.address).read_all()

def read(uri, sql):
    with adbc_driver_sqlite.connect(uri) as db, adbc_driver_manager.AdbcConnection(db) as conn:
        with adbc_driver_manager.AdbcStatement(conn) as statement:
            query(statement, "PRAGMA busy_timeout=30000")  # as every connection of the app (db.py)
            statement.set_options(**{"adbc.sqlite.query.batch_rows": "65536"})
            return query(statement, sql)

def main(uri, jobs):
    out = sys.stdout.buffer
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = [pool.submit(read, uri, sql) for _, sql in jobs]
        for future in futures:
            table = future.result()
            with pa.ipc.new_stream(out, table.schema) as writer:
                writer.write_table(table)
            del table
    out.flush()

try:
    main(sys.argv[1], json.loads(sys.argv[2]))
except Exception as exc:  # one line for the parent's message
    sys.exit(f"{type(exc).__name__}: {' '.join(str(exc).split())}")
"""

PIPE_BYTES = 1 << 20  # a larger pipe buffer: fewer switches between the two processes


def _read_only_uri(path: str) -> str:
    """The file as a read-only SQLite URI: the child can neither write nor checkpoint it."""
    return "file:" + urllib.parse.quote(str(Path(path).resolve())) + "?mode=ro"


def _typed_frame(table, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    if frame.height == 0:  # no rows: the driver cannot infer types
        return pl.DataFrame(schema=schema)
    return typed(frame, schema)


def _read_in_child(path: str, jobs: dict[str, tuple[str, dict[str, pl.DataType]]]) -> dict[str, pl.DataFrame]:
    """Every job's query read by the child process, as typed frames."""
    import pyarrow as pa

    args = json.dumps([[table, sql] for table, (sql, _) in jobs.items()])
    with tempfile.TemporaryFile() as errors:
        # -P: nothing from the working directory on the child's path; no keys in its environment
        proc = subprocess.Popen(
            [sys.executable, "-P", "-c", _CHILD, _read_only_uri(path), args],
            stdout=subprocess.PIPE,
            stderr=errors,
            env={k: v for k, v in os.environ.items() if not k.startswith("REGIONVISA_")},
        )
        try:
            with suppress(OSError):  # above the system's limit: the default size works, only slower
                fcntl.fcntl(proc.stdout.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
            frames = {}
            try:
                for table, (_, schema) in jobs.items():
                    frames[table] = _typed_frame(pa.ipc.open_stream(proc.stdout).read_all(), schema)
            except pa.ArrowInvalid:
                frames = None  # the child stopped early: its message says why
            proc.stdout.close()
            code = proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        if code != 0 or frames is None:
            errors.seek(0)
            lines = errors.read().decode(errors="replace").strip().splitlines()
            raise RuntimeError(
                f"the columnar read of the records failed: {lines[-1] if lines else f'exit status {code}'} / "
                "기록을 열 단위로 읽지 못했습니다."
            )
    return frames


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
        frames = _read_in_child(path, jobs)
        if records_fingerprint(engine) == before:
            return frames
    raise RuntimeError(
        f"records kept changing during {ATTEMPTS} reads; try again when the import has finished / "
        "기록이 읽는 동안 계속 바뀌었습니다. 가져오기가 끝난 뒤 다시 시도하십시오."
    )
