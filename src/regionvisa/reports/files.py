"""Writing output files: whole or not at all (DESIGN §6: nothing is half-written), and CSV and
XLSX cells that no spreadsheet will run as formulas."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import polars as pl


def write_atomic(path: str | Path, data: bytes) -> Path:
    """Write via a temporary file in the same folder and rename it into place, so an interrupted
    run never leaves a truncated report where a good one may have been."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)  # mkstemp makes the file private; a report is meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV Injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Text cells a spreadsheet would run as formulas, prefixed with `'` so they stay text.

    Only text columns change (Enum and Categorical ones are written as text, so they count): a
    negative number in a numeric column stays a number. Every CSV and XLSX writer calls this.
    """
    risky = pl.col(pl.String).str.contains(r"^[=+\-@\t\r]")
    exprs = [pl.when(risky).then(pl.lit("'") + pl.col(pl.String)).otherwise(pl.col(pl.String)).name.keep()]
    coded = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.Enum | pl.Categorical)]
    if coded:
        frame = frame.with_columns(pl.col(coded).cast(pl.String))
    return frame.with_columns(exprs)


def instants_as_rfc3339(frame: pl.DataFrame) -> pl.DataFrame:
    """Datetime columns as RFC 3339 text in UTC (`2025-07-01T09:30:00Z`), as the API gives them;
    a column without a zone holds UTC (SQLite's stored instants)."""
    stamped = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.Datetime)]
    if not stamped:
        return frame
    exprs = []
    for name in stamped:
        col, zoned = pl.col(name), frame.schema[name].time_zone is not None
        col = col.dt.convert_time_zone("UTC") if zoned else col.dt.replace_time_zone("UTC")
        exprs.append(col.dt.strftime("%Y-%m-%dT%H:%M:%SZ").alias(name))
    return frame.with_columns(exprs)


def write_csv_safe(frame: pl.DataFrame, target=None, **options):
    """`frame.write_csv(target, **options)` with formulas neutralised (text when `target` is None)."""
    return neutralise_formulas(instants_as_rfc3339(frame)).write_csv(target, **options)


def write_xlsx_safe(frame: pl.DataFrame, target, **options) -> None:
    """`frame.write_excel(target, **options)` with formulas neutralised."""
    neutralise_formulas(instants_as_rfc3339(frame)).write_excel(target, **options)
