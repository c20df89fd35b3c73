"""Feed imports into the immigration records.

An import runs in one transaction, batch by batch so that a file of any size is imported in the
memory of one batch: rows are validated column-wise, good rows are staged in bulk, then merged
with INSERT … SELECT … ON CONFLICT DO NOTHING on the natural key, so a re-import adds nothing and
an interrupted import leaves the database as it was. The statistics summaries of the people a
batch touched are brought up to date in the same transaction (`stats.summary.refresh_people`).
`import_file` is the one entry point of the API and the command line: a declared use case
(`core.usecase`, action `records.import`) that runs its own transaction and writes the import's audit entry in it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import polars as pl
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from regionvisa.core.actor import Actor
from regionvisa.core.usecase import Done, use_case
from regionvisa.records import pii
from regionvisa.records.bulk import bulk_insert
from regionvisa.records.feeds import (
    FEEDS,
    KINDS,
    REJECT_SCHEMA,
    FeedFileError,
    FeedSpec,
    check_columns,
    validate_feed,
)
from regionvisa.regions.catalogue import known_subtypes, known_visa_codes
from regionvisa.regions.service import region_codes
from regionvisa.reports.files import write_csv_safe
from regionvisa.stats import summary
from regionvisa.tabular import BATCH_ROWS, TableFileError, display_name, open_table

Progress = Callable[[str, int, int], None]  # (phase, done, total)
KEEP_PROBLEMS = 10_000  # problems kept in memory for the answer; the rejects file has them all


@dataclass
class ImportSummary:
    kind: str
    source: str
    rows_read: int
    inserted: int
    already_present: int
    rejected_rows: int
    problems: int
    outcome: str  # committed | committed_with_rejects | rolled_back
    seconds: float

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def message(self) -> dict[str, str]:
        return {
            "committed": {
                "ko": "모든 행을 반영했습니다",
                "en": "every row was accepted and committed",
            },
            "committed_with_rejects": {
                "ko": "정상 행은 반영하고 거부된 행은 보고했습니다",
                "en": "good rows were committed; rejected rows are reported with reasons",
            },
            "rolled_back": {
                "ko": "거부된 행이 있어 아무것도 반영하지 않았습니다",
                "en": "nothing was committed because some rows were rejected (all-or-nothing)",
            },
        }[self.outcome]


class ImportError_(ValueError):
    """An import that could not run (unknown kind, unreadable file, wrong columns); nothing was
    committed. `en` is the message (also `str()`), `ko` its Korean, `code` the API error code."""

    def __init__(self, en: str, *, ko: str | None = None, code: str = "unreadable_feed") -> None:
        super().__init__(en)
        self.en, self.code = en, code
        self.ko = ko or f"파일을 가져올 수 없습니다: {en}"


def _staging_ddl(conn: Connection, spec: FeedSpec, name: str) -> None:
    types = {"date": "DATE", "int": "BIGINT"}
    kinds = {c.name: c.kind for c in spec.columns}
    cols = ", ".join(f'"{name}" {types.get(kinds.get(name, "text"), "TEXT")}' for name in spec.stored_names)
    conn.exec_driver_sql(f'CREATE TEMPORARY TABLE {name} ("line" BIGINT, {cols})')


def _merge(conn: Connection, spec: FeedSpec, staging: str) -> tuple[int, pl.DataFrame]:
    """Insert staged rows whose person exists; return (inserted, unknown-person problems)."""
    cols = ", ".join(f'"{c}"' for c in spec.stored_names)
    key = ", ".join(f'"{c}"' for c in spec.natural_key)
    unknown = pl.DataFrame(schema=REJECT_SCHEMA)
    person_filter = ""
    if spec.references_person:
        person_filter = "AND EXISTS (SELECT 1 FROM person p WHERE p.person_id = s.person_id)"
        rows = conn.exec_driver_sql(
            f"SELECT line, person_id FROM {staging} s "
            "WHERE NOT EXISTS (SELECT 1 FROM person p WHERE p.person_id = s.person_id) ORDER BY line"
        ).all()
        if rows:
            unknown = pl.DataFrame(
                {
                    "line": [r[0] for r in rows],
                    "field": ["person_id"] * len(rows),
                    "value": [r[1] for r in rows],
                    "reason_ko": ["등록되지 않은 사람입니다 (people 파일을 먼저 가져오십시오)"] * len(rows),
                    "reason_en": ["no such person (import the people feed first)"] * len(rows),
                },
                schema=REJECT_SCHEMA,
            )
    # Repeats within the file were dropped before staging; ON CONFLICT covers rows already stored.
    result = conn.exec_driver_sql(
        f"INSERT INTO {spec.table} ({cols}) SELECT {cols} FROM {staging} s "
        f"WHERE true {person_filter} ORDER BY s.line ON CONFLICT ({key}) DO NOTHING"
    )
    return max(result.rowcount, 0), unknown


class _Problems:
    """Problems as they are found: counted, the first `keep` kept for the answer, every one
    written to the rejects file (formulas neutralised), which replaces its target only at the end."""

    def __init__(self, rejects_path: Path | None, keep: int | None) -> None:
        self.keep, self.kept, self.total, self.rejected_rows = keep, 0, 0, 0
        self.head: list[pl.DataFrame] = []
        self.target = rejects_path
        self._tmp: Path | None = None
        self._fh = None
        if rejects_path is not None:
            rejects_path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{rejects_path.name}.", dir=rejects_path.parent)
            self._tmp, self._fh = Path(tmp), os.fdopen(fd, "wb")

    def add(self, frame: pl.DataFrame) -> None:
        if self._fh is not None and (frame.height or self.total == 0):
            write_csv_safe(frame, self._fh, include_header=self.total == 0 and not self._fh.tell())
        if not frame.height:
            return
        self.total += frame.height
        self.rejected_rows += frame["line"].n_unique()
        room = frame.height if self.keep is None else max(self.keep - self.kept, 0)
        if room:
            self.head.append(frame.head(room))
            self.kept += min(room, frame.height)

    def frame(self) -> pl.DataFrame:
        return pl.concat(self.head) if self.head else pl.DataFrame(schema=REJECT_SCHEMA)

    def finish(self) -> None:
        if self._fh is None:
            return
        if not self._fh.tell():
            write_csv_safe(pl.DataFrame(schema=REJECT_SCHEMA), self._fh)
        self._fh.close()
        self._fh = None
        os.chmod(self._tmp, 0o644)
        os.replace(self._tmp, self.target)

    def discard(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)


@dataclass
class _Counts:
    rows_read: int = 0
    inserted: int = 0


def _import_batches(
    conn: Connection,
    spec: FeedSpec,
    batches: Iterable[pl.DataFrame],
    *,
    first_line: int,
    problems: _Problems,
    total: int,
    progress: Progress | None,
) -> _Counts:
    """Validate, stage and merge batch after batch, all in the caller's transaction.

    Only one batch is ever in memory. The first occurrence of a natural key wins: repeats inside
    a batch are dropped before staging, repeats across batches meet the earlier row in the table
    (ON CONFLICT DO NOTHING) and count as already present, as repeats of stored rows do.
    """
    report = progress or (lambda *_: None)
    regions, visas, subtypes = set(region_codes()), known_visa_codes(), known_subtypes()
    staging = f"staging_{uuid.uuid4().hex[:12]}"
    _staging_ddl(conn, spec, staging)
    counts = _Counts()
    line = first_line
    for raw in batches:
        report("validate", counts.rows_read, total)
        good, found = validate_feed(spec, raw, region_codes=regions, visas=visas, subtypes=subtypes, first_line=line)
        good = good.unique(subset=list(spec.natural_key), keep="first", maintain_order=True)
        for column in spec.protected:  # encrypted before it touches any table, staging included
            good = pii.protect_frame(good, column, column.removesuffix("_no"))
        conn.exec_driver_sql(f"DELETE FROM {staging}")
        bulk_insert(conn=conn, table=staging, df=good)
        report("load", counts.rows_read + raw.height, total)
        report("merge", counts.rows_read, total)
        inserted, unknown = _merge(conn, spec, staging)
        if spec.table in summary.RESIDENT_TABLES:  # the statistics follow, in this transaction
            summary.refresh_people(conn=conn, from_sql=f"SELECT person_id FROM {staging}")
        problems.add(pl.concat([found, unknown]).sort("line", maintain_order=True))
        counts.inserted += inserted
        counts.rows_read += raw.height
        line += raw.height
        report("merge", counts.rows_read, max(total, counts.rows_read))
    conn.exec_driver_sql(f"DROP TABLE {staging}")
    return counts


def _summary(kind: str, source: str, counts: _Counts, problems: _Problems, *, all_or_nothing: bool, started: float):
    rejected_rows = problems.rejected_rows
    accepted = counts.rows_read - rejected_rows
    if rejected_rows and all_or_nothing:
        outcome = "rolled_back"
    elif rejected_rows:
        outcome = "committed_with_rejects"
    else:
        outcome = "committed"
    return ImportSummary(
        kind=kind,
        source=source,
        rows_read=counts.rows_read,
        inserted=0 if outcome == "rolled_back" else counts.inserted,
        already_present=accepted - counts.inserted,
        rejected_rows=rejected_rows,
        problems=problems.total,
        outcome=outcome,
        seconds=round(time.perf_counter() - started, 3),
    )


def import_frame(
    *,
    conn: Connection,
    kind: str,
    raw: pl.DataFrame,
    source: str,
    all_or_nothing: bool = False,
    progress: Progress | None = None,
) -> tuple[ImportSummary, pl.DataFrame]:
    """Validate and load one feed held in memory inside the caller's transaction; return
    (summary, problems). Not audited: the caller's transaction is the caller's to record.

    When `all_or_nothing` is set and any row is rejected, the caller must roll back; the
    summary then says `rolled_back`.
    """
    started = time.perf_counter()
    if kind not in FEEDS:
        raise ImportError_(f"unknown record kind '{kind}' (expected one of {', '.join(KINDS)})")
    spec = FEEDS[kind]
    check_columns(spec, raw, source)
    problems = _Problems(None, None)
    batches = [raw.slice(start, BATCH_ROWS) for start in range(0, raw.height, BATCH_ROWS)] or [raw]
    counts = _import_batches(conn, spec, batches, first_line=2, problems=problems, total=raw.height, progress=progress)
    summary = _summary(kind, source, counts, problems, all_or_nothing=all_or_nothing, started=started)
    return summary, problems.frame()


class _Rollback(Exception):
    pass


def _fingerprint(path: Path) -> tuple[str, int, int]:
    """(SHA-256, bytes, line breaks) of a file, read once in 1 MB blocks."""
    digest, size, lines = hashlib.sha256(), 0, 0
    with path.open("rb") as fh:
        while block := fh.read(1024 * 1024):
            digest.update(block)
            size += len(block)
            lines += block.count(b"\n")
    return digest.hexdigest(), size, lines


@use_case(action="records.import", own_transaction=True)
def import_file(
    *,
    engine: Engine,
    kind: str,
    path: Path,
    actor: Actor,
    entry: Callable[[Session, Done], None],
    source_name: str | None = None,
    channel: str = "service",
    rejects_path: Path | None = None,
    all_or_nothing: bool = False,
    progress: Progress | None = None,
    keep_problems: int | None = KEEP_PROBLEMS,
    batch_rows: int | None = None,
) -> tuple[ImportSummary, pl.DataFrame]:
    """Import one feed file in its own transaction, batch by batch, and audit it.

    The one entry point of every import (API, command line, tests' fixtures): the file is read by
    `tabular.open_table` in bounded memory; every problem goes to `rejects_path` if given and the
    first `keep_problems` come back in memory. The audit entry (actor, file digest, counts,
    outcome) is written in the import's own transaction, so no committed import goes unrecorded;
    an all-or-nothing import that rolls back is recorded afterwards, as the attempt it was.
    `actor` must hold `records.import` (the use case checks it before the file is opened); `entry`
    is the use case's writer of that audit entry, in the transaction it is given.
    """
    started = time.perf_counter()
    if kind not in FEEDS:
        raise ImportError_(f"unknown record kind '{kind}' (expected one of {', '.join(KINDS)})")
    spec = FEEDS[kind]
    name = display_name(source_name or Path(path).name)
    try:
        table = open_table(path, name=name, formats=("csv", "parquet", "xlsx"))
        check_columns(spec, table.empty(), name)
    except TableFileError as exc:
        raise ImportError_(exc.en, ko=exc.ko, code=exc.code) from exc
    except FeedFileError as exc:
        raise ImportError_(exc.en, ko=exc.ko, code=exc.code) from exc
    sha256, size, lines = _fingerprint(Path(path))
    total = table.rows_hint if table.rows_hint is not None else max(lines - 1, 0)
    problems = _Problems(rejects_path, keep_problems)
    summary: ImportSummary | None = None

    def audit(conn: Connection, outcome: ImportSummary) -> None:
        with Session(bind=conn) as session:  # joins the connection's transaction, never ends it
            _record_import(session, outcome)

    def _record_import(session: Session, outcome: ImportSummary) -> None:
        done = Done(
            subject=("feed", kind),
            reason=f"{kind} feed imported ({channel}): {outcome.outcome}",
            inputs={
                "file_name": name,
                "file_sha256": sha256,
                "bytes": size,
                "channel": channel,
                "all_or_nothing": all_or_nothing,
                **{k: v for k, v in outcome.as_dict().items() if k not in ("source", "seconds")},
            },
        )
        entry(session, done)

    try:
        with engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                # The writer's lock from the start: a deferred transaction reads (the people the
                # rows name) before it writes, and on SQLite in WAL mode a write committed by
                # another connection in between (a job worker's heartbeat) fails the upgrade at
                # once with "database is locked", which the busy timeout does not wait out.
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            counts = _import_batches(
                conn,
                spec,
                table.batches(batch_rows),
                first_line=table.first_line,
                problems=problems,
                total=total,
                progress=progress,
            )
            summary = _summary(kind, name, counts, problems, all_or_nothing=all_or_nothing, started=started)
            if summary.outcome == "rolled_back":
                raise _Rollback
            audit(conn, summary)
    except _Rollback:
        with engine.begin() as conn:
            audit(conn, summary)
    except TableFileError as exc:  # a defect further into the file: nothing was committed
        problems.discard()
        raise ImportError_(exc.en, ko=exc.ko, code=exc.code) from exc
    except FeedFileError as exc:
        problems.discard()
        raise ImportError_(exc.en, ko=exc.ko, code=exc.code) from exc
    except BaseException:
        problems.discard()
        raise
    problems.finish()
    assert summary is not None
    return summary, problems.frame()
