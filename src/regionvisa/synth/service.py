"""Writing the synthetic dataset: generate the frames, then load them in one transaction.

The load is all-or-nothing: existing records are kept unless `replace=True`, and any failure
rolls everything back, including the dropped-and-recreated indexes (DDL is transactional on
both SQLite and PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager

import polars as pl
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from sqlalchemy import Index
from sqlalchemy.engine import Connection, Engine

from regionvisa.db import Base
from regionvisa.records import models  # noqa: F401  (registers the records tables on Base.metadata)
from regionvisa.records.bulk import bulk_insert
from regionvisa.synth import profiles
from regionvisa.synth.generate import TABLES, generate_dataset

__all__ = ["SynthError", "write_dataset"]

# SQLite page cache for the load (KiB, as PRAGMA cache_size takes negative values). Large enough
# to keep index pages of the biggest table in memory, small enough for the 3 GB memory budget.
SQLITE_CACHE_KIB = 512 * 1024


class SynthError(RuntimeError):
    """The dataset cannot be written as asked; the message says why and what to do."""


def records_count(conn: Connection) -> int:
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
    engine: Engine,
    residents: int,
    seed: int,
    *,
    progress: bool = True,
    replace: bool = False,
    as_of: dt.date = profiles.AS_OF,
    timings: dict[str, float] | None = None,
) -> dict[str, int]:
    """Generate the dataset for (`residents`, `seed`) and load it; returns rows written per table.

    Refuses when the person table already holds records, unless `replace` is given, in which
    case every existing record is deleted first, in the same transaction. `timings`, when
    given, receives seconds per step (for the benchmark).
    """
    timings = timings if timings is not None else {}
    with engine.connect() as conn:
        existing = records_count(conn)
    if existing and not replace:
        raise SynthError(
            f"the database already holds {existing:,} people; synth writes into an empty records store only. "
            "Use --replace to delete the existing records first. / 이미 인적 기록이 있습니다. "
            "기존 기록을 지우려면 --replace 를 사용하십시오."
        )
    with _progress(progress) as bar:
        task = bar.add_task(f"generating {residents:,} residents", total=None)
        started = time.perf_counter()
        frames = generate_dataset(residents, seed, as_of)
        timings["generate"] = time.perf_counter() - started
        bar.update(task, total=1, completed=1)
        tasks = {name: bar.add_task(f"writing {name}", total=frames[name].height) for name in TABLES}
        index_task = bar.add_task("indexes", total=len(_secondary_indexes()))
        counts = _load(engine, frames, replace=replace, bar=bar, tasks=tasks, index_task=index_task, timings=timings)
    return counts


def _load(engine: Engine, frames: dict[str, pl.DataFrame], *, replace: bool, bar: Progress, tasks: dict,
          index_task, timings: dict[str, float]) -> dict[str, int]:  # fmt: skip
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
            existing = records_count(conn)
            if existing and not replace:
                raise SynthError(f"the database already holds {existing:,} people (written concurrently)")
            if existing:
                started = time.perf_counter()
                for name in reversed(TABLES):
                    conn.exec_driver_sql(f"DELETE FROM {name}")
                timings["delete existing"] = time.perf_counter() - started
            started = time.perf_counter()
            for index in indexes:
                index.drop(conn)
            for name in TABLES:
                frame = frames.pop(name)  # let each table go as soon as it is written
                started_table = time.perf_counter()
                counts[name] = bulk_insert(conn, name, frame, on_progress=lambda n, t=tasks[name]: bar.advance(t, n))
                timings[f"write {name}"] = time.perf_counter() - started_table
                del frame
            started = time.perf_counter()
            for index in indexes:
                index.create(conn)
                bar.advance(index_task, 1)
            timings["indexes"] = time.perf_counter() - started
            started = time.perf_counter()
        timings["commit"] = time.perf_counter() - started
    return counts


@contextmanager
def _noop() -> Iterator[None]:
    yield
