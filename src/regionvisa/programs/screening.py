"""Using a programme on applicants: read them, screen a table, rank the eligible, explain one
applicant, and match one applicant against every programme in force. The CLI, the API and the
pages all call these; nothing here loops over applicants in Python except where one applicant is
asked. What a near miss would have to change is the pure search in `rules.nearmiss`."""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from sqlalchemy.orm import Session

from regionvisa.core.errors import Invalid
from regionvisa.programs.service import Resolved, in_force, loaded
from regionvisa.reports.files import write_csv_safe
from regionvisa.rules import (
    OUTCOMES,
    Explanation,
    ParseProblem,
    ParseResult,
    coerce_applicant,
    evaluate,
    explain,
    format_results,
    parse_applicants,
    screen,
)
from regionvisa.rules.nearmiss import NEAR_MISS_LIMIT, near_miss_changes

# ---------------------------------------------------------------------------------- applicants


def applicants_from_records(records: list[dict]) -> ParseResult:
    """A JSON list of applicants, parsed like a file: every value as text, so one odd cell never
    breaks a column; `line` is the 1-based position in the list."""
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise Invalid(
            code="invalid",
            ko="신청인 목록은 객체의 배열이어야 합니다",
            en="applicants must be a list of objects",
            field="applicants",
        )
    columns = list(dict.fromkeys(key for r in records for key in r))
    if not columns:  # objects without any key still count, one row each
        frame = pl.DataFrame({"applicant_id": [None] * len(records)}, schema={"applicant_id": pl.String})
    else:  # Polars' JSON reader turns every value into text itself (true/false, numbers, nested JSON)
        text = json.dumps(records, ensure_ascii=False, default=str).encode()
        try:
            frame = pl.read_json(io.BytesIO(text), schema={c: pl.String for c in columns})
        except pl.exceptions.PolarsError as exc:  # a nested object or list where a cell is expected
            raise Invalid(
                code="invalid",
                ko="신청인 항목의 값은 문자, 숫자, 참/거짓 또는 null이어야 합니다 (중첩된 객체나 목록 불가)",
                en="applicant values must be text, numbers, booleans or null (no nested objects or lists)",
                field="applicants",
            ) from exc
    return parse_applicants(frame, first_line=1)


def read_applicants(path: Path) -> ParseResult:
    """A CSV, Parquet or JSONL applicant file: typed columns and every bad cell (treated as missing)."""
    try:
        return parse_applicants(path)
    except (OSError, pl.exceptions.PolarsError, ValueError) as exc:
        raise Invalid(
            code="unreadable_file",
            ko=f"신청인 파일을 읽을 수 없습니다: {path.name}",
            en=f"{path}: cannot be read ({exc})",
        ) from exc


def problems_report(parsed: ParseResult) -> list[dict]:
    return [p.to_dict() for p in parsed.problems]


# ----------------------------------------------------------------------------------- screening


@dataclass
class Screening:
    program: str
    version: int
    on: dt.date
    table: pl.DataFrame  # the §4.4 columns, one row per applicant, input order
    problems: list[ParseProblem]

    def summary(self) -> dict:
        counts = dict.fromkeys(OUTCOMES, 0)
        for outcome, n in self.table.group_by("outcome").len().iter_rows():
            counts[str(outcome)] = n
        return {"applicants": self.table.height, **counts, "bad_cells": len(self.problems)}

    def to_dict(self, *, rows: bool = True) -> dict:
        out = {
            "program": self.program,
            "version": self.version,
            "on": self.on.isoformat(),
            "columns": self.table.columns,
            "summary": self.summary(),
            "problems": [p.to_dict() for p in self.problems],
        }
        if rows:
            out["rows"] = self.table.with_columns(pl.col(pl.Enum).cast(pl.String)).to_dicts()
        return out


def screen_applicants(program: Resolved, parsed: ParseResult, *, on: dt.date) -> Screening:
    """Screen a whole table (vectorised). Bad cells are already null, so their criteria are `missing`."""
    frame = parsed.frame
    if "applicant_id" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, pl.String).alias("applicant_id"))
    screened = screen(program.checked, frame, on=on)
    return Screening(program.id, program.number, on, format_results(program.checked, screened), list(parsed.problems))


def write_table(table: pl.DataFrame, path: Path) -> None:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        table.write_parquet(path)
    elif suffix == ".csv":
        write_csv_safe(table, path)
    else:
        raise Invalid(
            code="unsupported_output",
            ko="출력 파일은 .csv 또는 .parquet",
            en=f"{path}: write .csv or .parquet",
            field="out",
        )


def table_csv(table: pl.DataFrame) -> str:
    """The screening CSV, its text cells safe to open in a spreadsheet (no formulas)."""
    return write_csv_safe(table)


# ------------------------------------------------------------------------------------- ranking


def _submission_times(raw: pl.Series | None, height: int) -> pl.Series:
    """Submission times as datetimes; text in ISO date or date-time form, anything else null."""
    if raw is None:
        return pl.Series("submitted_at", [None] * height, dtype=pl.Datetime("us"))
    if raw.dtype == pl.String:
        text = pl.col("t").str.strip_chars()
        expr = pl.coalesce(
            text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False),
            text.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False),
            text.str.to_datetime("%Y-%m-%dT%H:%M", strict=False),
            text.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us")),
        )
        return pl.DataFrame({"t": raw}).select(expr.cast(pl.Datetime("us")).alias("submitted_at")).to_series()
    return raw.cast(pl.Datetime("us"), strict=False).alias("submitted_at")


def rank(screening: Screening, parsed: ParseResult, *, submitted_column: str = "submitted_at") -> pl.DataFrame:
    """The eligible applicants in selection order: points (high first), earlier submission, applicant id.

    Missing points or submission times come after the known ones at that step.
    """
    raw = parsed.frame[submitted_column] if submitted_column in parsed.frame.columns else None
    submitted = _submission_times(raw, screening.table.height)
    table = screening.table.select("applicant_id", "outcome", "points").with_columns(submitted)
    return (
        table.filter(pl.col("outcome") == "eligible")
        .sort(["points", "submitted_at", "applicant_id"], descending=[True, False, False], nulls_last=True)
        .with_row_index("rank", offset=1)
        .select("rank", "applicant_id", "points", "submitted_at")
    )


def rank_problems(parsed: ParseResult, *, submitted_column: str = "submitted_at", first_line: int = 2) -> list[dict]:
    """Submission times that could not be read (those applicants rank after the others with equal points)."""
    raw = parsed.frame[submitted_column] if submitted_column in parsed.frame.columns else None
    if raw is None or raw.dtype != pl.String:
        return []
    bad = (
        pl.DataFrame({"value": raw.str.strip_chars(), "ok": _submission_times(raw, len(raw))})
        .with_row_index("row")
        .filter(pl.col("value").is_not_null() & (pl.col("value") != "") & pl.col("ok").is_null())
    )
    return [
        {
            "line": row + first_line,
            "field": submitted_column,
            "value": value,
            "reason": {"en": "not an ISO date or date-time", "ko": "ISO 날짜·시각이 아님"},
            "treated_as": "missing",
        }
        for row, value, _ok in bad.iter_rows()
    ]


# --------------------------------------------------------------------------------- explanation


def explain_applicant(program: Resolved, applicant: dict, *, on: dt.date) -> Explanation:
    if not isinstance(applicant, dict):
        raise Invalid(
            code="invalid",
            ko="신청인은 JSON 객체여야 합니다",
            en="the applicant must be a JSON object",
            field="applicant",
        )
    return explain(program.checked, applicant, on=on)


# ----------------------------------------------------------------------------------- matching


def _match_rank(r: dict) -> tuple:
    """Eligible first, then near misses (fewest failures first), then incomplete, then the rest."""
    group = {"eligible": 0, "incomplete": 2}.get(r["outcome"], 1 if r["near_miss"] else 3)
    return (group, len(r["failed"]), len(r["missing"]), -(r["points"] or 0), r["program"])


def match(*, session: Session, applicant: dict, on: dt.date) -> dict:
    """Every programme in force on `on`: the outcome for this applicant, and for near misses (ineligible
    on at most two criteria) exactly what would have to change. Eligible programmes come first."""
    if not isinstance(applicant, dict):
        raise Invalid(
            code="invalid",
            ko="신청인은 JSON 객체여야 합니다",
            en="the applicant must be a JSON object",
            field="applicant",
        )
    typed, bad = coerce_applicant(dict(applicant))
    problems = [
        {"field": f, "value": v, "reason": {"en": en, "ko": ko}, "treated_as": "missing"} for f, v, en, ko in bad
    ]
    results = []
    for row in in_force(session=session, on=on):
        program = Resolved(loaded(row), row)
        # The plain outcome is cheap; the criterion-by-criterion explanation is only needed for near misses.
        explanation = evaluate(program.checked, typed, on=on)
        near = explanation.outcome == "ineligible" and len(explanation.failed) <= NEAR_MISS_LIMIT
        results.append(
            {
                "program": program.id,
                "version": program.number,
                "region": program.region,
                "base_visa": program.loaded.spec.base_visa,
                "title": program.loaded.spec.title.model_dump(),
                "outcome": explanation.outcome,
                "points": explanation.points,
                "failed": explanation.failed,
                "missing": explanation.missing,
                "near_miss": near,
                "changes": near_miss_changes(
                    program.checked, applicant, explain(program.checked, applicant, on=on), on=on
                )
                if near
                else [],
            }
        )
    results.sort(key=_match_rank)
    return {"on": on.isoformat(), "programs": results, "problems": problems}
