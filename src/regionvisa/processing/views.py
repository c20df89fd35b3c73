"""The shapes the API, the export and the page share (one definition of each column)."""

from __future__ import annotations

import datetime as dt
import io

import polars as pl

from regionvisa.processing.service import ProcessingView
from regionvisa.reports.files import write_csv_safe, write_xlsx_safe

EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
SHEETS = ("states", "totals", "backlog", "at_risk")


def reference_instant(at: dt.date | None) -> dt.datetime | None:
    """A view "as of" a date looks at the history up to the end of that day (UTC)."""
    return None if at is None else dt.datetime.combine(at + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def frames(view: ProcessingView) -> dict[str, pl.DataFrame]:
    rounded = [pl.col(c).round(1) for c in ("median_days", "p90_days")]
    return {
        "states": view.states.with_columns(rounded),
        "totals": view.totals.with_columns(rounded),
        "backlog": view.backlog,
        "at_risk": view.at_risk,
    }


def as_dict(view: ProcessingView) -> dict:
    return {
        "as_of": view.now.replace(tzinfo=dt.UTC).isoformat().replace("+00:00", "Z"),
        "region": view.region,
        "program_id": view.program_id,
        "bands": view.bands,
        "expected": view.expected.to_dicts(),
        **{name: frame.to_dicts() for name, frame in frames(view).items()},
    }


def export_bytes(view: ProcessingView, fmt: str) -> bytes:
    """XLSX: one sheet per table. CSV: the time in each state (the table the division asks for
    first); the other tables come through the API or the XLSX."""
    buffer = io.BytesIO()
    tables = frames(view)
    if fmt == "xlsx":
        import xlsxwriter

        with xlsxwriter.Workbook(buffer, {"in_memory": True}) as workbook:
            for name in SHEETS:
                write_xlsx_safe(tables[name], workbook, worksheet=name)
    else:
        write_csv_safe(tables["states"], buffer)
    return buffer.getvalue()
