"""Feed imports into the immigration records.

An import runs in one transaction: rows are validated column-wise, good rows are staged in
bulk, then merged with INSERT … SELECT … ON CONFLICT DO NOTHING on the natural key, so a
re-import adds nothing and an interrupted import leaves the database as it was.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import polars as pl
from sqlalchemy.engine import Connection, Engine

from regionvisa.records import pii
from regionvisa.records.bulk import bulk_insert
from regionvisa.records.feeds import (
    FEEDS,
    KINDS,
    REJECT_SCHEMA,
    FeedFileError,
    FeedSpec,
    check_columns,
    read_feed_file,
    validate_feed,
)
from regionvisa.regions.catalogue import known_subtypes, known_visa_codes
from regionvisa.regions.service import region_codes

Progress = Callable[[str, int, int], None]  # (phase, done, total)


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
    """An import that could not start (unknown kind, unreadable file, wrong columns)."""


def _staging_ddl(conn: Connection, spec: FeedSpec, name: str) -> None:
    types = {"date": "DATE", "int": "INTEGER"}
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


def import_frame(
    conn: Connection,
    kind: str,
    raw: pl.DataFrame,
    *,
    source: str,
    all_or_nothing: bool = False,
    progress: Progress | None = None,
) -> tuple[ImportSummary, pl.DataFrame]:
    """Validate and load one feed inside the caller's transaction; return (summary, problems).

    When `all_or_nothing` is set and any row is rejected, the caller must roll back; the
    summary then says `rolled_back`.
    """
    started = time.perf_counter()
    if kind not in FEEDS:
        raise ImportError_(f"unknown record kind '{kind}' (expected one of {', '.join(KINDS)})")
    spec = FEEDS[kind]
    check_columns(spec, raw, source)
    report = progress or (lambda *_: None)
    report("validate", 0, raw.height)
    good, problems = validate_feed(
        spec, raw, region_codes=set(region_codes()), visas=known_visa_codes(), subtypes=known_subtypes()
    )
    report("validate", raw.height, raw.height)
    staging = f"staging_{uuid.uuid4().hex[:12]}"
    _staging_ddl(conn, spec, staging)
    done = 0

    def staged(n: int) -> None:
        nonlocal done
        done += n
        report("load", done, good.height)

    # The first occurrence of a natural key in the file wins; later repeats add nothing.
    good = good.unique(subset=list(spec.natural_key), keep="first", maintain_order=True)
    for column in spec.protected:  # encrypted before it touches any table, staging included
        good = pii.protect_frame(good, column, column.removesuffix("_no"))
    bulk_insert(conn, staging, good, on_progress=staged)
    report("merge", 0, 1)
    inserted, unknown = _merge(conn, spec, staging)
    report("merge", 1, 1)
    conn.exec_driver_sql(f"DROP TABLE {staging}")
    problems = pl.concat([problems, unknown]).sort("line", maintain_order=True)
    rejected_rows = problems["line"].n_unique()
    accepted = raw.height - rejected_rows
    if rejected_rows and all_or_nothing:
        outcome = "rolled_back"
    elif rejected_rows:
        outcome = "committed_with_rejects"
    else:
        outcome = "committed"
    summary = ImportSummary(
        kind=kind,
        source=source,
        rows_read=raw.height,
        inserted=0 if outcome == "rolled_back" else inserted,
        already_present=accepted - inserted,
        rejected_rows=rejected_rows,
        problems=problems.height,
        outcome=outcome,
        seconds=round(time.perf_counter() - started, 3),
    )
    return summary, problems


class _Rollback(Exception):
    pass


def import_file(
    engine: Engine,
    kind: str,
    path: Path,
    *,
    rejects_path: Path | None = None,
    all_or_nothing: bool = False,
    progress: Progress | None = None,
) -> tuple[ImportSummary, pl.DataFrame]:
    """Import one feed file in its own transaction and write the rejects file if asked."""
    try:
        raw = read_feed_file(path)
    except FeedFileError as exc:
        raise ImportError_(str(exc)) from exc
    result: tuple[ImportSummary, pl.DataFrame] | None = None
    try:
        with engine.begin() as conn:
            result = import_frame(
                conn, kind, raw, source=str(path.name), all_or_nothing=all_or_nothing, progress=progress
            )
            if result[0].outcome == "rolled_back":
                raise _Rollback
    except _Rollback:
        pass
    except FeedFileError as exc:
        raise ImportError_(str(exc)) from exc
    assert result is not None
    summary, problems = result
    if rejects_path is not None:
        rejects_path.parent.mkdir(parents=True, exist_ok=True)
        problems.write_csv(rejects_path)
    return summary, problems
