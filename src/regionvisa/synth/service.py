"""Writing the synthetic dataset: generate the frames, then load them in one transaction.

The load is all-or-nothing: existing records are kept unless `replace=True`, and any failure
rolls everything back, including the dropped-and-recreated indexes (DDL is transactional on
both SQLite and PostgreSQL). It is a declared use case (`load_synthetic`, action `records.import`,
running its own transaction) carried out by the declared system actor `synth`, whose audit entry
is written inside the load's transaction.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path

import polars as pl
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from sqlalchemy import Index
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from regionvisa.accounts.policy import system_actor
from regionvisa.audit.service import has_entry
from regionvisa.core.actor import Actor
from regionvisa.core.usecase import Done, use_case
from regionvisa.db import Base
from regionvisa.records import (
    models,  # noqa: F401  (registers the records tables on Base.metadata)
    pii,
)
from regionvisa.records.bulk import bulk_insert
from regionvisa.stats import summary
from regionvisa.synth import profiles
from regionvisa.synth.generate import TABLES, generate_dataset, generate_tables

__all__ = ["SynthError", "load_synthetic", "write_dataset"]

# SQLite page cache for the copy from the staging files (KiB, as PRAGMA cache_size takes negative
# values). The copy appends table and index pages in order, so a modest cache suffices, and the
# memory left by generation is still held by the process at that point (3 GB budget).
SQLITE_CACHE_KIB = 64 * 1024
# Every synthetic load is audited under this action; its presence marks a database of synthetic data.
SYNTH_ACTION = "records.synthesise"
SYNTH_ACTOR = system_actor("synth")


class SynthError(RuntimeError):
    """The dataset cannot be written as asked; the message says why and what to do."""


def stored_form(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """A generated table as the database stores it: where the person table keeps passport
    numbers encrypted with a lookup hash (records.pii), the clear column is replaced by those."""
    columns = Base.metadata.tables[name].c
    if "passport_no" in frame.columns and "passport_no" not in columns and "passport_enc" in columns:
        frame = pii.protect_frame(frame, "passport_no", "passport")
    return frame


def records_count(*, conn: Connection) -> int:
    return int(conn.exec_driver_sql("SELECT COUNT(*) FROM person").scalar() or 0)


def _secondary_indexes() -> list[Index]:
    """The records tables' non-unique indexes as the models (and so the migration) define them.

    Unique constraints stay in place: they are the tables' natural keys, and the rows arrive in
    their order, so maintaining them costs little.
    """
    found = []
    for name in TABLES:
        found.extend(sorted(Base.metadata.tables[name].indexes, key=lambda ix: ix.name or ""))
    return found


@contextmanager
def _sqlite_load_settings(conn: Connection) -> Iterator[None]:
    """Faster bulk load on SQLite for this connection only; restored afterwards.

    synchronous=OFF skips fsync at commit (a crash mid-load loses the load, never the database,
    in WAL mode); a bigger page cache keeps index pages in memory.
    """
    raw = conn.connection.driver_connection
    before = {p: raw.execute(f"PRAGMA {p}").fetchone()[0] for p in ("synchronous", "cache_size")}
    raw.execute("PRAGMA synchronous=OFF")
    raw.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        for pragma, value in before.items():
            raw.execute(f"PRAGMA {pragma}={value}")


def _progress(enabled: bool) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description:<34}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not enabled,
        transient=False,
    )


def write_dataset(
    *,
    engine: Engine,
    residents: int,
    seed: int,
    progress: bool = True,
    replace: bool = False,
    as_of: dt.date = profiles.AS_OF,
    timings: dict[str, float] | None = None,
) -> dict[str, int]:
    """Generate the dataset for (`residents`, `seed`) and load it as the declared synth actor
    (`load_synthetic`); returns rows written per table."""
    return load_synthetic(
        engine=engine,
        residents=residents,
        seed=seed,
        actor=SYNTH_ACTOR,
        progress=progress,
        replace=replace,
        as_of=as_of,
        timings=timings,
    )


@use_case(action="records.import", audit=SYNTH_ACTION, own_transaction=True)
def load_synthetic(
    *,
    engine: Engine,
    residents: int,
    seed: int,
    actor: Actor,
    entry: Callable[[Session, Done], None],
    progress: bool = True,
    replace: bool = False,
    as_of: dt.date = profiles.AS_OF,
    timings: dict[str, float] | None = None,
) -> dict[str, int]:
    """Generate the dataset for (`residents`, `seed`) and load it; returns rows written per table.

    Refuses when the person table already holds records, unless `replace` is given, in which
    case every existing record is deleted first, in the same transaction. `timings`, when
    given, receives seconds per step (for the benchmark). `entry` is the use case's writer of
    the load's audit entry, called inside the load's transaction.
    """
    timings = timings if timings is not None else {}
    with engine.connect() as conn:
        existing = records_count(conn=conn)
    if existing and not replace:
        raise SynthError(
            f"the database already holds {existing:,} people; synth writes into an empty records store only. "
            "Use --replace to delete the existing records first. / 이미 인적 기록이 있습니다. "
            "기존 기록을 지우려면 --replace 를 사용하십시오."
        )

    def audit(conn: Connection, counts: dict[str, int]) -> None:
        """The load's audit entry, in its transaction: it also tells the pages the data is synthetic."""
        with Session(bind=conn) as session:  # joins the connection's transaction, never ends it
            _record(session, counts)

    def _record(session: Session, counts: dict[str, int]) -> None:
        done = Done(
            subject=("dataset", f"synthetic-{seed}"),
            reason=f"synthetic national dataset of {residents:,} residents written (seed {seed})",
            inputs={"residents": residents, "seed": seed, "as_of": as_of.isoformat(), "replace": replace, **counts},
        )
        entry(session, done)

    with _progress(progress) as bar:
        task = bar.add_task(f"generating {residents:,} residents", total=len(TABLES))
        if engine.dialect.name == "sqlite":
            tables = generate_tables(residents, seed, as_of)  # protected in the staging threads (stored_form)
            return _load_sqlite(
                engine, tables, replace=replace, bar=bar, generate_task=task, timings=timings, audit=audit
            )
        started = time.perf_counter()
        frames = generate_dataset(residents, seed, as_of)  # protected table by table in _load (stored_form)
        timings["generate"] = time.perf_counter() - started
        bar.update(task, completed=len(TABLES))
        tasks = {name: bar.add_task(f"writing {name}", total=frames[name].height) for name in TABLES}
        index_task = bar.add_task("indexes", total=len(_secondary_indexes()))
        return _load(
            engine, frames, replace=replace, bar=bar, tasks=tasks, index_task=index_task, timings=timings, audit=audit
        )


def _write_table(conn: Connection, name: str, frame: pl.DataFrame | None, on_progress=None, staged: str = "") -> None:
    """One table into the open load transaction: COPY on PostgreSQL, or on SQLite a transfer from
    the attached staging database `staged` (see _load_sqlite)."""
    if staged:
        conn.connection.driver_connection.execute(f"INSERT INTO main.{name} SELECT * FROM {staged}.{name}")
    else:
        bulk_insert(conn=conn, table=name, df=frame, on_progress=on_progress)


def _guard(conn: Connection, replace: bool, timings: dict[str, float]) -> None:
    """Inside the load transaction: refuse a store filled meanwhile, or empty it for `replace`."""
    existing = records_count(conn=conn)
    if existing and not replace:
        raise SynthError(f"the database already holds {existing:,} people (written concurrently)")
    if existing:
        started = time.perf_counter()
        for name in reversed(TABLES):
            conn.exec_driver_sql(f"DELETE FROM {name}")
        timings["delete existing"] = time.perf_counter() - started


def _load(engine: Engine, frames: dict[str, pl.DataFrame], *, replace: bool, bar: Progress, tasks: dict,
          index_task, timings: dict[str, float], audit) -> dict[str, int]:  # fmt: skip
    counts: dict[str, int] = {}
    indexes = _secondary_indexes()
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        settings = _sqlite_load_settings(conn) if sqlite else _noop()
        with settings, conn.begin():
            if sqlite:
                # pysqlite opens its transaction lazily at the first INSERT; open it now so the
                # DROP INDEX below is part of it and rolls back with everything else
                conn.exec_driver_sql("BEGIN")
            _guard(conn, replace, timings)
            for index in indexes:
                index.drop(conn)
            for name in TABLES:
                frame = stored_form(name, frames.pop(name))  # let each table go as soon as it is written
                started_table = time.perf_counter()
                counts[name] = frame.height
                _write_table(conn, name, frame, on_progress=lambda n, t=tasks[name]: bar.advance(t, n))
                timings[f"write {name}"] = time.perf_counter() - started_table
                del frame
            started = time.perf_counter()
            for index in indexes:
                index.create(conn)
                bar.advance(index_task, 1)
            timings["indexes"] = time.perf_counter() - started
            started = time.perf_counter()
            summary.rebuild(conn=conn)  # the statistics summaries, in the load's transaction
            timings["statistics"] = time.perf_counter() - started
            audit(conn, counts)
            started = time.perf_counter()
        timings["commit"] = time.perf_counter() - started
    return counts


@contextmanager
def _noop() -> Iterator[None]:
    yield


# --------------------------------------------------------------------------------------------- SQLite
# SQLite has one writer per database, and inserting into a table with its unique and secondary
# indexes is most of the cost of a load. So each table is first written, with its indexes, into
# its own staging file, two tables at a time and while the next tables are being generated
# (sqlite3 releases the GIL while SQLite works);
# then one transaction on the real database copies them in with `INSERT INTO t SELECT * FROM
# staged.t`, which SQLite runs as a page-order transfer of records and index entries without
# re-checking them, because the staged table has exactly the real table's definition.
# The transfer requires foreign-key enforcement off for the copy; the generator guarantees that
# every record's person exists (tests/synth check it).

STAGING_THREADS = 2
STAGING_CHUNK_ROWS = 100_000
STAGING_CACHE_KIB = 64 * 1024


STAGING_PREFIX = "regionvisa-synth-"


def _remove_stale_staging() -> None:
    """Staging folders of loads whose process died (killed mid-load) are removed; a folder is
    named after its process id, so those of loads still running are left alone."""
    for folder in Path(tempfile.gettempdir()).glob(f"{STAGING_PREFIX}*-*"):
        pid = folder.name.removeprefix(STAGING_PREFIX).split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:  # another user's process, alive
            continue


def _schema_sql(raw, table: str) -> tuple[str, list[str]]:
    """The real table's CREATE TABLE and its CREATE INDEX statements (autoindexes come with the table)."""
    rows = raw.execute(
        "SELECT type, sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL ORDER BY type DESC, name", (table,)
    ).fetchall()
    create = [sql for kind, sql in rows if kind == "table"]
    if len(create) != 1:
        raise SynthError(
            f"table {table} is missing: run `regionvisa db upgrade` first / "
            "테이블이 없습니다: 먼저 db upgrade 를 실행하십시오."
        )
    return create[0], [sql for kind, sql in rows if kind == "index"]


# The staging child: Python, the ADBC driver manager and pyarrow only, so it starts fast. argv: one
# JSON object (file, table, its CREATE TABLE and CREATE INDEX statements, pragmas); stdin: the
# table's rows as one Arrow IPC stream; stdout: its CPU seconds once the file is committed.
_STAGE_CHILD = """
import json, sys, time
import adbc_driver_manager as adbc
import adbc_driver_sqlite
import pyarrow as pa

def run(statement, sql):
    statement.set_sql_query(sql)
    statement.execute_update()

def main(job):
    with adbc_driver_sqlite.connect(job["file"]) as db, adbc.AdbcConnection(db) as conn:
        with adbc.AdbcStatement(conn) as statement:
            for pragma in job["pragmas"]:
                run(statement, f"PRAGMA {pragma}")
            run(statement, job["create"])
            run(statement, "BEGIN")
            with adbc.AdbcStatement(conn) as ingest:
                ingest.set_options(**{adbc.INGEST_OPTION_TARGET_TABLE: job["table"],
                                      adbc.INGEST_OPTION_MODE: adbc.INGEST_OPTION_MODE_APPEND})
                ingest.bind_stream(pa.ipc.open_stream(sys.stdin.buffer))
                ingest.execute_update()
            for index in job["indexes"]:
                run(statement, index)
            run(statement, "COMMIT")
    print(json.dumps({"cpu": time.process_time()}))

try:
    main(json.loads(sys.argv[1]))
except Exception as exc:  # one line for the parent's message
    sys.exit(f"{type(exc).__name__}: {' '.join(str(exc).split())}")
"""

PIPE_BYTES = 1 << 20  # a larger pipe buffer: fewer switches between the two processes


def _stage(path: Path, table: str, create: str, indexes: list[str], frame: pl.DataFrame, on_progress):
    """Write `frame` into a new SQLite file holding only `table`, built exactly as in the real
    database; returns (wall seconds, CPU seconds of this thread and of the child).

    Rows go in through the ADBC SQLite driver, which binds Arrow columns in C: binding row tuples
    through the Python driver cost ten times as much. The driver bundles its own SQLite library,
    and this process later attaches the staged file through Python's sqlite3; two SQLite
    libraries must never open one file in one process (each keeps its own POSIX locks, and
    closing one drops the other's). So the driver runs in a child process, fed the rows as an
    Arrow IPC stream through a pipe, and this process never loads it.
    """
    import pyarrow as pa

    started, cpu = time.perf_counter(), time.thread_time()
    dates_as_text = pl.col(pl.Date).dt.strftime("%Y-%m-%d")  # as SQLAlchemy stores dates in SQLite
    pragmas = ["journal_mode=OFF", "synchronous=OFF", "locking_mode=EXCLUSIVE", f"cache_size=-{STAGING_CACHE_KIB}"]
    job = {"file": str(path), "table": table, "create": create, "indexes": indexes, "pragmas": pragmas}
    with tempfile.TemporaryFile() as errors:
        # -P: nothing from the working directory on the child's path; no keys in its environment
        proc = subprocess.Popen(
            [sys.executable, "-P", "-c", _STAGE_CHILD, json.dumps(job)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            env={k: v for k, v in os.environ.items() if not k.startswith("REGIONVISA_")},
        )
        try:
            with suppress(OSError):  # above the system's limit: the default size works, only slower
                fcntl.fcntl(proc.stdin.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
            try:
                writer = None
                for start in range(0, frame.height or 1, STAGING_CHUNK_ROWS):  # chunk by chunk: bounded memory
                    chunk = stored_form(table, frame.slice(start, STAGING_CHUNK_ROWS)).with_columns(dates_as_text)
                    rows = chunk.to_arrow()
                    writer = writer or pa.ipc.new_stream(proc.stdin, rows.schema)
                    writer.write_table(rows)
                    on_progress(chunk.height)
                    del chunk, rows
                writer.close()
            except BrokenPipeError:  # the child stopped early: its message says why
                pass
            with suppress(BrokenPipeError):
                proc.stdin.close()
            reply = proc.stdout.read()
            code = proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        if code != 0:
            errors.seek(0)
            lines = errors.read().decode(errors="replace").strip().splitlines()
            raise SynthError(
                f"staging {table} failed: {lines[-1] if lines else f'exit status {code}'} / "
                f"{table} 테이블을 준비하지 못했습니다."
            )
    child_cpu = json.loads(reply.decode().strip().splitlines()[-1])["cpu"]
    return time.perf_counter() - started, time.thread_time() - cpu + child_cpu


def _rollback_journal(raw) -> bool:
    """Switch a WAL database to a rollback journal for the load, if no other connection has it
    open; returns whether it did. WAL writes every new page twice (to the log, then at the
    checkpoint); a rollback journal saves only the pages that existed, and the load appends.
    The load stays one transaction either way: a killed load is rolled back from the journal
    when the database is next opened."""
    if raw.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        return False
    try:
        return raw.execute("PRAGMA journal_mode=DELETE").fetchone()[0] == "delete"
    except sqlite3.OperationalError:  # another connection is reading: stay in WAL
        return False


def _load_sqlite(engine: Engine, tables: Iterator[tuple[str, pl.DataFrame]], *, replace: bool, bar: Progress,
                 generate_task, timings: dict[str, float], audit) -> dict[str, int]:  # fmt: skip
    """Stage each table as soon as the generator yields it, then copy all in one transaction."""
    counts: dict[str, int] = {}
    _remove_stale_staging()
    staging = tempfile.TemporaryDirectory(prefix=f"{STAGING_PREFIX}{os.getpid()}-")
    with engine.connect() as conn, staging as tmp:
        raw = conn.connection.driver_connection
        schema = {name: _schema_sql(raw, name) for name in TABLES}
        conn.rollback()  # the reads above must not hold a transaction open while ATTACH runs
        paths = {name: Path(tmp) / f"{name}.sqlite3" for name in TABLES}
        started, cpu = time.perf_counter(), time.thread_time()
        with ThreadPoolExecutor(max_workers=STAGING_THREADS) as pool:
            futures = {}
            for name, frame in tables:
                counts[name] = frame.height
                bar.advance(generate_task, 1)
                advance = partial(bar.advance, bar.add_task(f"staging {name}", total=frame.height))
                futures[name] = pool.submit(_stage, paths[name], name, *schema[name], frame, advance)
                del frame  # the staging thread holds the only reference now
            timings["generate"] = time.perf_counter() - started
            timings["cpu generate (main thread)"] = time.thread_time() - cpu
            for name, future in futures.items():
                timings[f"stage {name}"], timings[f"cpu stage {name}"] = future.result()
        del futures
        timings["staging after generation"] = time.perf_counter() - started - timings["generate"]
        copy_task = bar.add_task("copying into the database", total=sum(counts.values()))
        cpu = time.thread_time()
        foreign_keys = raw.execute("PRAGMA foreign_keys").fetchone()[0]
        raw.execute("PRAGMA foreign_keys=OFF")  # a no-op inside a transaction, so before BEGIN
        switched = _rollback_journal(raw)
        for name in TABLES:
            raw.execute("ATTACH DATABASE ? AS ?", (str(paths[name]), f"staged_{name}"))
        try:
            with _sqlite_load_settings(conn):
                raw.execute("BEGIN IMMEDIATE")
                try:
                    _guard(conn, replace, timings)
                    for name in TABLES:
                        started = time.perf_counter()
                        _write_table(conn, name, None, staged=f"staged_{name}")
                        timings[f"write {name}"] = time.perf_counter() - started
                        bar.advance(copy_task, counts[name])
                    started = time.perf_counter()
                    summary.rebuild(conn=conn)  # the statistics summaries, in the load's transaction
                    timings["statistics"] = time.perf_counter() - started
                    audit(conn, {name: counts[name] for name in TABLES})
                    started = time.perf_counter()
                    raw.execute("COMMIT")
                    timings["commit"] = time.perf_counter() - started
                except BaseException:
                    raw.execute("ROLLBACK")
                    raise
        finally:
            for name in TABLES:
                raw.execute(f"DETACH DATABASE staged_{name}")
            raw.execute(f"PRAGMA foreign_keys={int(foreign_keys)}")
            if switched:
                raw.execute("PRAGMA journal_mode=WAL")
        timings["cpu copy and commit"] = time.thread_time() - cpu
    return {name: counts[name] for name in TABLES}


_SYNTHETIC_CACHE_SECONDS = 60.0
_synthetic: dict[str, tuple[float, bool]] = {}


def holds_synthetic_data(*, engine: Engine) -> bool:
    """Whether the database holds a synthetic dataset (its load's audit entry), re-read once a minute.

    The pages' footer and the CLI banner say so, so that nobody mistakes demo figures for real ones.
    """
    key = engine.url.render_as_string(hide_password=True)
    now = time.monotonic()
    cached = _synthetic.get(key)
    if cached and now - cached[0] < _SYNTHETIC_CACHE_SECONDS:
        return cached[1]
    try:
        found = has_entry(engine=engine, action=SYNTH_ACTION)
    except Exception:  # no schema yet, or the database is away: say nothing rather than fail the page
        return cached[1] if cached else False
    _synthetic[key] = (now, found)
    return found
