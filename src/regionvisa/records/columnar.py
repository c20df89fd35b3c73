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
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import polars as pl
from sqlalchemy.engine import Connection, Engine

from regionvisa.records.bulk import typed
from regionvisa.records.frames import KNOWN_BY, SCHEMAS

ATTEMPTS = 3
RECORD_TABLES = ("status_grant", "address_report", "movement", "kiip_record", "employment")


def records_fingerprint(*, engine: Engine) -> tuple:
    """Changes whenever records are added (each table's highest id, an index lookup each)."""
    sql = "SELECT " + ", ".join(f"(SELECT MAX(id) FROM {t})" for t in RECORD_TABLES)
    with engine.connect() as conn:
        return tuple(conn.exec_driver_sql(sql).one())


def sqlite_file(*, engine: Engine) -> str | None:
    """The database file when `engine` is SQLite on a file (in-memory databases have none)."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    return None if not database or database == ":memory:" or database.startswith("file:") else database


def has_column_reads(*, engine: Engine) -> bool:
    """Whether `read_columns` can read `engine`'s records: a SQLite file or PostgreSQL."""
    return sqlite_file(engine=engine) is not None or postgres_uri(engine=engine) is not None


def _select(table: str, columns: list[str], as_of: dt.date | None, *, scan: str = " NOT INDEXED") -> str:
    cols = ", ".join(f'"{c}"' for c in columns)
    sql = f"SELECT {cols} FROM {table}{scan}"
    if as_of is not None and table in KNOWN_BY:
        sql += f" WHERE \"{KNOWN_BY[table]}\" <= '{as_of.isoformat()}'"
    return sql


# The child: Python, the ADBC driver manager and pyarrow only (not the driver's DB-API module,
# which imports pandas and polars, nor anything of the application), so it starts fast. argv: the
# database URI and the [table, query, date columns] triples; stdout: one Arrow IPC stream per
# table, in the order asked. Each query runs on its own connection in its own thread; 64k rows per
# batch rather than 1k also lets the driver infer each column's type from more rows. SQLite keeps
# dates as ISO text: each thread parses its table's date columns into Arrow dates (strictly:
# anything but YYYY-MM-DD fails the read), in parallel with the other reads, and a date crosses
# the pipe in 4 bytes instead of 14.
_CHILD = """
import json, sys
from concurrent.futures import ThreadPoolExecutor
import adbc_driver_manager
import adbc_driver_sqlite
import pyarrow as pa
import pyarrow.compute as pc

def query(statement, sql):
    statement.set_sql_query(sql)
    stream, _ = statement.execute_query()
    return pa.RecordBatchReader._import_from_c(stream.address).read_all()

def read(uri, sql, dates):
    with adbc_driver_sqlite.connect(uri) as db, adbc_driver_manager.AdbcConnection(db) as conn:
        with adbc_driver_manager.AdbcStatement(conn) as statement:
            query(statement, "PRAGMA busy_timeout=30000")  # as every connection of the app (db.py)
            statement.set_options(**{"adbc.sqlite.query.batch_rows": "65536"})
            table = query(statement, sql)
    for name in dates:
        i = table.schema.get_field_index(name)
        if i >= 0 and pa.types.is_string(table.schema.field(i).type):
            table = table.set_column(i, name, pc.cast(table.column(i), pa.date32()))
    return table

def main(uri, jobs):
    out = sys.stdout.buffer
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = [pool.submit(read, uri, sql, dates) for _, sql, dates in jobs]
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

    args = json.dumps(
        [[table, sql, [c for c, kind in schema.items() if kind == pl.Date]] for table, (sql, schema) in jobs.items()]
    )
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


def read_columns(*, engine: Engine, wanted: dict[str, list[str]], as_of: dt.date | None) -> dict[str, pl.DataFrame]:
    """`wanted` maps a records table to the columns to read, as known on `as_of` (see frames.KNOWN_BY).

    For SQLite files (see `sqlite_file`) and PostgreSQL (`ArrowReads.frames`, one snapshot, the
    tables read at once); raises ValueError elsewhere (see `has_column_reads`).
    """
    if postgres_uri(engine=engine) is not None:
        with batch_reads(engine=engine) as reads:
            return reads.frames(
                {
                    table: (_select(table, cols, as_of, scan=""), {c: SCHEMAS[table][c] for c in cols})
                    for table, cols in wanted.items()
                }
            )
    path = sqlite_file(engine=engine)
    if path is None:
        raise ValueError("columnar reads need a SQLite database file or PostgreSQL")
    jobs = {
        table: (_select(table, cols, as_of), {c: SCHEMAS[table][c] for c in cols}) for table, cols in wanted.items()
    }
    return _read_sqlite_jobs(engine, path, jobs)


def read_queries(*, engine: Engine, jobs: dict[str, tuple[str, dict[str, pl.DataType]]]) -> dict[str, pl.DataFrame]:
    """Each job's SELECT (name → (sql, schema)) as a typed frame, all in one consistent state of
    the records: Arrow columns on a SQLite file (the child process) and PostgreSQL (one snapshot,
    read at once), the driver's cursor in one transaction elsewhere. For batch paths that filter
    or aggregate in SQL, so only the rows they need cross into Python. On a SQLite file, a query
    that keeps most of a table should scan it in storage order (`NOT INDEXED`, as `_select`)."""
    path = sqlite_file(engine=engine)
    if path is not None:
        return _read_sqlite_jobs(engine, path, jobs)
    with batch_reads(engine=engine) as reads:
        return reads.frames(jobs)


def _read_sqlite_jobs(engine: Engine, path: str, jobs: dict) -> dict[str, pl.DataFrame]:
    for _ in range(ATTEMPTS):
        before = records_fingerprint(engine=engine)
        frames = _read_in_child(path, jobs)
        if records_fingerprint(engine=engine) == before:
            return frames
    raise RuntimeError(
        f"records kept changing during {ATTEMPTS} reads; try again when the import has finished / "
        "기록이 읽는 동안 계속 바뀌었습니다. 가져오기가 끝난 뒤 다시 시도하십시오."
    )


# --------------------------------------------------------------------------------------------
# PostgreSQL: query results as Arrow through the ADBC PostgreSQL driver
#
# psycopg builds a Python object per value (22 s for the national compliance read); the ADBC
# driver runs each SELECT as `COPY (…) TO STDOUT (FORMAT binary)` and decodes the binary rows into
# Arrow columns in C, so nulls, empty strings and dates come back exactly as stored. PostgreSQL has
# none of SQLite's two-library hazard: the driver's connection is just another client session.


def postgres_uri(*, engine: Engine) -> str | None:
    """The libpq URI of `engine` when it is PostgreSQL (the SQLAlchemy driver name dropped)."""
    if engine.dialect.name != "postgresql":
        return None
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


PARALLEL_READS = 6  # sessions reading at once: the server scans while this process decodes


class ArrowReads:
    """One PostgreSQL session whose SELECTs come back as typed Polars frames through Arrow.

    Statements run in the order given on one connection, so temporary tables and a transaction
    begun on it span all of them; `frames` reads several queries at once in further sessions
    that share the transaction's snapshot.
    """

    def __init__(self, uri: str) -> None:
        import adbc_driver_manager
        import adbc_driver_postgresql

        self._uri = uri
        self._manager = adbc_driver_manager
        self._db = adbc_driver_postgresql.connect(uri)
        self._conn = adbc_driver_manager.AdbcConnection(self._db)
        self.dialect = "postgresql"

    def close(self) -> None:
        self._conn.close()
        self._db.close()

    def __enter__(self) -> ArrowReads:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def execute(self, sql: str) -> None:
        """A statement whose result is not needed (DDL, INSERT, ANALYZE, BEGIN …)."""
        with self._manager.AdbcStatement(self._conn) as statement:
            statement.set_sql_query(sql)
            statement.execute_update()

    def arrow(self, sql: str):
        """The result of a SELECT as one pyarrow Table."""
        import pyarrow as pa

        with self._manager.AdbcStatement(self._conn) as statement:
            statement.set_sql_query(sql)
            stream, _ = statement.execute_query()
            return pa.RecordBatchReader._import_from_c(stream.address).read_all()

    def one(self, sql: str) -> tuple:
        """The single row of a SELECT."""
        row = pl.from_arrow(self.arrow(sql)).row(0)
        return tuple(row)

    def frame(self, sql: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
        """A SELECT of `schema`'s columns, in order, as a frame typed by `schema`."""
        table = self.arrow(sql)
        frame = pl.from_arrow(table)
        if not isinstance(frame, pl.DataFrame) or frame.height == 0:
            return pl.DataFrame(schema=schema)
        frame.columns = list(schema)
        return typed(frame, schema)

    def frames(self, jobs: dict[str, tuple[str, dict[str, pl.DataType]]]) -> dict[str, pl.DataFrame]:
        """Each job's SELECT (name → (sql, schema)) as `frame` returns it, read in parallel sessions.

        This session must be in a REPEATABLE READ transaction (`batch_reads`): the others import its
        snapshot (`SET TRANSACTION SNAPSHOT`), so every read sees exactly what this one would.
        Temporary tables of this session are not visible to them.
        """
        if len(jobs) <= 1:
            return {name: self.frame(sql, schema) for name, (sql, schema) in jobs.items()}
        from concurrent.futures import ThreadPoolExecutor

        (snapshot,) = self.one("SELECT pg_export_snapshot()")

        def read(job: tuple[str, dict[str, pl.DataType]]) -> pl.DataFrame:
            with ArrowReads(self._uri) as other:
                other.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                try:
                    other.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
                    return other.frame(*job)
                finally:
                    with suppress(Exception):
                        other.execute("ROLLBACK")

        with ThreadPoolExecutor(max_workers=min(len(jobs), PARALLEL_READS)) as pool:
            return dict(zip(jobs, pool.map(read, jobs.values()), strict=True))


class DriverReads:
    """The same three operations as `ArrowReads` on a SQLAlchemy connection, through its driver's
    cursor (not SQLAlchemy rows): SQLite's path, and the generic reference for the Arrow reads."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name

    def execute(self, sql: str) -> None:
        self.conn.exec_driver_sql(sql)

    def one(self, sql: str) -> tuple:
        return tuple(self.conn.exec_driver_sql(sql).one())

    def frame(self, sql: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
        cur = self.conn.connection.driver_connection.cursor()
        try:
            rows = cur.execute(sql).fetchall()
        finally:
            cur.close()
        # SQLite returns dates as their ISO text; other drivers return date objects
        text_dates = self.dialect == "sqlite"
        raw = {c: (pl.String() if text_dates and t == pl.Date() else t) for c, t in schema.items()}
        df = pl.DataFrame(rows, schema=raw, orient="row")
        return typed(df, schema)

    def frames(self, jobs: dict[str, tuple[str, dict[str, pl.DataType]]]) -> dict[str, pl.DataFrame]:
        """Each job's SELECT in turn (one connection, one transaction)."""
        return {name: self.frame(sql, schema) for name, (sql, schema) in jobs.items()}


@contextmanager
def batch_reads(*, engine: Engine) -> Iterator[ArrowReads | DriverReads]:
    """One consistent read session for a batch path: every statement sees one state of the records.

    On PostgreSQL an ADBC session (Arrow results) in one REPEATABLE READ transaction, rolled back
    at the end (only temporary tables are ever written); elsewhere a SQLAlchemy connection in one
    transaction, also rolled back.
    """
    uri = postgres_uri(engine=engine)
    if uri is None:
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                # Python's sqlite3 begins a transaction only before a write: begin it now, so the
                # first read fixes the snapshot every later statement sees
                conn.exec_driver_sql("BEGIN")
            yield DriverReads(conn)
            conn.rollback()
        return
    with ArrowReads(uri) as reads:
        reads.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        try:
            yield reads
        except BaseException:
            with suppress(Exception):  # a broken session: closing it ends the transaction anyway
                reads.execute("ROLLBACK")
            raise
        reads.execute("ROLLBACK")
