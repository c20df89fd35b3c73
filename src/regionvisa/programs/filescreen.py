"""Screening an uploaded applicant file in bounded memory (POST /programs/{id}/screen/file).

The file is read in batches (`tabular`), each batch is parsed, screened and written out at once to
files on disk (rows, problems), and only counts stay in memory. The answer is then streamed from
those files: the same JSON document or CSV table as before, whatever the size of the file.
Screening is row by row independent, so batches give exactly the result of one pass.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from regionvisa.programs import screening, service
from regionvisa.reports.files import write_csv_safe
from regionvisa.rules import OUTCOMES, parse_applicants
from regionvisa.tabular import TableFile

BLOCK = 1024 * 1024
# Applicant tables are wide (a column per field, then per criterion): 50,000 rows keep a batch's
# text, typed, screened and written forms within about 200 MB.
BATCH_ROWS = 50_000


@dataclass
class ScreenedFile:
    """A screened file on disk: the folder holds `rows` (JSON objects or CSV) and `problems`."""

    folder: Path
    program: str
    version: int
    on: dt.date
    file: str
    format: str
    columns: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    applicants: int = 0
    bad_cells: int = 0

    batches: int = 0

    def rows_path(self, batch: int) -> Path:
        return self.folder / f"rows-{batch:06d}.{'csv' if self.format == 'csv' else 'json'}"

    @property
    def problems_path(self) -> Path:
        return self.folder / "problems.json"

    def summary(self) -> dict:
        return {"applicants": self.applicants, **self.counts, "bad_cells": self.bad_cells}

    def chunks(self) -> Iterator[bytes]:
        """The answer, piece by piece: CSV as written, or the JSON document around the two files."""
        if self.format == "csv":
            for batch in range(self.batches):
                yield from _file_blocks(self.rows_path(batch))
            return
        head = {
            "program": self.program,
            "version": self.version,
            "on": self.on.isoformat(),
            "columns": self.columns,
            "summary": self.summary(),
        }
        yield json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1].encode() + b',"problems":['
        yield from _file_blocks(self.problems_path)
        yield b'],"rows":['
        first = True
        for batch in range(self.batches):  # each file is a JSON list: its items, comma-joined
            path = self.rows_path(batch)
            if path.stat().st_size <= 2:
                continue
            if not first:
                yield b","
            first = False
            yield from _file_blocks(path, skip_first=1, skip_last=1)
        yield b'],"file":' + json.dumps(self.file, ensure_ascii=False).encode() + b"}"

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _file_blocks(path: Path, *, skip_first: int = 0, skip_last: int = 0) -> Iterator[bytes]:
    if not path.exists():
        return
    left = path.stat().st_size - skip_first - skip_last
    with path.open("rb") as fh:
        fh.seek(skip_first)
        while left > 0 and (block := fh.read(min(BLOCK, left))):
            left -= len(block)
            yield block


def screen_table_file(
    program: service.Resolved,
    table: TableFile,
    *,
    on: dt.date,
    format: str = "json",
    folder: Path | None = None,
    batch_rows: int | None = None,
) -> ScreenedFile:
    """Screen every row of `table` batch by batch into a new folder under `folder`; the caller
    sends `chunks()` and then calls `remove()`."""
    out = ScreenedFile(
        Path(tempfile.mkdtemp(prefix="screened-", dir=folder)),
        program.id,
        program.number,
        on,
        table.name,
        format,
    )
    try:
        first_line = table.first_line
        wrote_problems = False
        with out.problems_path.open("wb") as problems:
            batches = iter(table.batches(batch_rows or BATCH_ROWS))
            batch = next(batches, None)
            if batch is None:  # a header and no rows: screened as an empty table
                batch = table.empty()
            while batch is not None:
                parsed = parse_applicants(batch, first_line=first_line)
                screened = screening.screen_applicants(program, parsed, on=on)
                frame = screened.table
                out.columns = frame.columns
                for outcome, n in frame.group_by("outcome").len().iter_rows():
                    out.counts[str(outcome)] += n
                out.applicants += frame.height
                out.bad_cells += len(screened.problems)
                # Written by Polars straight to a file per batch: no copy of the text in Python.
                if format == "csv":
                    write_csv_safe(frame, out.rows_path(out.batches), include_header=out.batches == 0)
                else:
                    frame.with_columns(pl.col(pl.Enum).cast(pl.String)).write_json(out.rows_path(out.batches))
                out.batches += 1
                for problem in screened.problems:  # bad cells only, never the whole table
                    line = json.dumps(problem.to_dict(), ensure_ascii=False, separators=(",", ":")).encode()
                    problems.write((b"," if wrote_problems else b"") + line)
                    wrote_problems = True
                first_line += batch.height
                batch = next(batches, None)
    except BaseException:
        out.remove()
        raise
    return out
