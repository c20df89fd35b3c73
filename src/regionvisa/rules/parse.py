"""Reading applicant tables into typed Polars frames, reporting every bad cell (DESIGN §4.3, §6).

A bad cell (bad date, non-numeric wage, unknown enum value, bad boolean, value out of range) becomes
null, so the criteria that read it come out `missing`, and it is reported with its line, field, value
and reason. Nothing is dropped. The work is done column by column with Polars, never row by row;
`coerce_value` is the same logic for one Python value, used by the scalar path.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from .fields import FIELDS, Catalogue, Field

_ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
_ISO_DATE_RE = re.compile(_ISO_DATE)
_NUMBER_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_INT_LIMIT = 2**53  # larger "integers" read through floats would be silently rounded


@dataclass(frozen=True)
class ParseProblem:
    """One bad cell. `line` is the line in the file (CSV: header is line 1, first data row line 2)."""

    line: int
    field: str
    value: str
    reason: str
    reason_ko: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.value!r}: {self.reason}; treated as missing"

    def to_dict(self) -> dict:
        return {
            "line": self.line,
            "field": self.field,
            "value": self.value,
            "reason": {"en": self.reason, "ko": self.reason_ko},
            "treated_as": "missing",
            "message": {
                "en": f"line {self.line}, {self.field} = {self.value!r}: {self.reason}; treated as missing",
                "ko": f"{self.line}행, {self.field} = {self.value!r}: {self.reason_ko}; 누락으로 처리함",
            },
        }


@dataclass
class ParseResult:
    """The typed frame (same rows, same order) and the problems found."""

    frame: pl.DataFrame
    problems: list[ParseProblem] = field(default_factory=list)
    absent_fields: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _range_reason(f: Field) -> tuple[str, str]:
    lo, hi = f.minimum, f.maximum

    def num(x: float) -> str:
        return f"{x:g}"

    if lo is not None and hi is not None:
        return f"outside the range {num(lo)}–{num(hi)}", f"허용 범위 {num(lo)}–{num(hi)}를 벗어남"
    if lo is not None:
        return f"below the minimum {num(lo)}", f"최솟값 {num(lo)}보다 작음"
    return f"above the maximum {num(hi)}", f"최댓값 {num(hi)}보다 큼"


def _type_reason(f: Field) -> tuple[str, str]:
    t = f.type
    if t == "date":
        return "not a valid ISO date (YYYY-MM-DD)", "올바른 날짜(YYYY-MM-DD)가 아님"
    if t == "boolean":
        return "expected true or false", "true 또는 false여야 함"
    if t == "integer":
        return "not a whole number", "정수가 아님"
    if t == "number":
        return "not a number", "숫자가 아님"
    if f.is_enum:
        vals = ", ".join(f.values)
        return f"unknown value; expected one of {vals}", f"알 수 없는 값 (허용: {vals})"
    if t == "region_code":
        return "not a 2-digit region or 5-digit district code", "2자리 시도 또는 5자리 시군구 코드가 아님"
    if f.pattern:
        what = f.description_en or f"pattern {f.pattern}"
        return f"not a valid value ({what})", f"올바른 값이 아님 ({f.pattern})"
    return "invalid value", "올바르지 않은 값"


# ------------------------------------------------------------------------------------- one value


def coerce_value(f: Field, value: Any) -> tuple[Any, tuple[str, str] | None]:
    """A Python value converted to the field's type, or (None, (reason_en, reason_ko)).

    Mirrors the column parser so that one applicant read from JSON and a table read from a file agree.
    Enum values stay strings here; the evaluators map them to positions.
    """
    if value is None:
        return None, None
    if isinstance(value, str):
        value = value.strip()
        if value == "":
            return None, None
    t = f.type
    out: Any = None
    if t == "boolean":
        if isinstance(value, bool):
            out = value
        elif isinstance(value, str) and value.lower() in ("true", "false"):
            out = value.lower() == "true"
    elif t in ("integer", "number"):
        num: Any = None
        if isinstance(value, int | float) and not isinstance(value, bool):
            num = value
        elif isinstance(value, str) and _NUMBER_RE.match(value):
            try:
                num = int(value)
            except ValueError:
                try:
                    num = float(value)
                except ValueError:
                    num = None
        if isinstance(num, float) and not math.isfinite(num):
            num = None
        if num is not None and t == "integer":
            if isinstance(num, float):
                num = int(num) if num.is_integer() and abs(num) < _INT_LIMIT else None
            elif abs(num) >= 2**63:
                num = None
        if num is not None and t == "number":
            num = float(num)
        out = num
    elif t == "date":
        if isinstance(value, dt.datetime):
            out = value.date()
        elif isinstance(value, dt.date):
            out = value
        elif isinstance(value, str) and _ISO_DATE_RE.match(value):
            try:
                out = dt.date.fromisoformat(value)
            except ValueError:
                out = None
    elif f.is_enum:
        out = value if isinstance(value, str) and value in f.values else None
    elif t == "list":
        if isinstance(value, list | tuple):
            out = tuple(str(v) for v in value if v is not None)
        elif isinstance(value, str):
            out = tuple(p.strip() for p in value.split(";") if p.strip())
    else:  # string, region_code
        if isinstance(value, str):
            out = value
        elif isinstance(value, int) and not isinstance(value, bool):
            out = str(value)
    if out is None:
        return None, _type_reason(f)
    if t in ("string", "region_code") and f.pattern and not re.search(f.pattern, out):
        return None, _type_reason(f)
    if t in ("integer", "number") and (
        (f.minimum is not None and out < f.minimum) or (f.maximum is not None and out > f.maximum)
    ):
        return None, _range_reason(f)
    return out, None


def coerce_applicant(applicant: dict, *, fields: Catalogue = FIELDS) -> tuple[dict, list[tuple[str, Any, str, str]]]:
    """Typed copy of one applicant plus its problems as (field, value, reason_en, reason_ko)."""
    out = dict(applicant)
    problems = []
    for name, f in fields.items():
        if name not in applicant:
            continue
        v, why = coerce_value(f, applicant[name])
        out[name] = v
        if why:
            problems.append((name, applicant[name], *why))
    return out, problems


# ------------------------------------------------------------------------------------ a whole column


def _column_exprs(f: Field, dtype: pl.DataType, name: str) -> tuple[pl.Expr, list[tuple[pl.Expr, str, str]]]:
    """(typed value, [(bad mask, reason_en, reason_ko)]) for one input column."""
    target = f.dtype
    col = pl.col(name)
    checks: list[tuple[pl.Expr, str, str]] = []
    if dtype == target or (f.type == "list" and isinstance(dtype, pl.List)):
        value = col if dtype == target else col.cast(target, strict=False)
        present = value.is_not_null()
    elif f.type in ("integer", "number") and dtype.is_numeric() and dtype != pl.Boolean:
        src = col.cast(pl.Float64)
        finite = src.is_finite()
        if f.type == "integer":
            ok = finite & (src == src.round(0)) & (src.abs() < _INT_LIMIT)
            exact = col.cast(pl.Int64, strict=False) if dtype.is_integer() else src.cast(pl.Int64, strict=False)
            value = pl.when(ok).then(exact)
        else:
            value = pl.when(finite).then(src)
        present = col.is_not_null()
        checks.append((present & value.is_null(), *_type_reason(f)))
    elif f.type == "date" and isinstance(dtype, pl.Datetime):
        value = col.dt.date()
        present = value.is_not_null()
    else:
        raw = col.cast(pl.String, strict=False).str.strip_chars()
        raw = pl.when(raw != "").then(raw)
        present = raw.is_not_null()
        t = f.type
        if t == "date":
            value = pl.when(raw.str.contains(_ISO_DATE)).then(raw.str.to_date("%Y-%m-%d", strict=False))
        elif t == "boolean":
            low = raw.str.to_lowercase()
            value = pl.when(low == "true").then(pl.lit(True)).when(low == "false").then(pl.lit(False))
        elif t == "integer":
            as_int = raw.cast(pl.Int64, strict=False)
            as_float = raw.cast(pl.Float64, strict=False)
            integral = as_float.is_finite() & (as_float == as_float.round(0)) & (as_float.abs() < _INT_LIMIT)
            value = pl.coalesce(as_int, pl.when(integral).then(as_float.cast(pl.Int64, strict=False)))
        elif t == "number":
            as_float = raw.cast(pl.Float64, strict=False)
            value = pl.when(as_float.is_finite()).then(as_float)
        elif f.is_enum:
            value = raw.cast(target, strict=False)
        elif t == "list":
            value = (
                raw.str.split(";")
                .list.eval(pl.element().str.strip_chars())
                .list.eval(pl.element().filter(pl.element() != ""))
            )
        else:
            value = raw
        checks.append((present & value.is_null(), *_type_reason(f)))
    if f.type in ("string", "region_code") and f.pattern:
        bad = value.is_not_null() & ~value.str.contains(f.pattern)
        checks.append((bad, *_type_reason(f)))
        value = pl.when(~bad).then(value)
    if f.type in ("integer", "number") and (f.minimum is not None or f.maximum is not None):
        out = pl.lit(False)
        if f.minimum is not None:
            out = out | (value < f.minimum)
        if f.maximum is not None:
            out = out | (value > f.maximum)
        bad = value.is_not_null() & out
        checks.append((bad, *_range_reason(f)))
        value = pl.when(~bad).then(value)
    return value.cast(target).alias(name), checks


def _read(source: pl.DataFrame | str | Path) -> tuple[pl.DataFrame, int]:
    """The raw frame and the file line of its first data row."""
    if isinstance(source, pl.DataFrame):
        return source, 2
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return pl.read_parquet(path), 2
    if suffix in (".jsonl", ".ndjson"):
        return pl.read_ndjson(path, infer_schema_length=None), 1
    if suffix in (".csv", ".txt"):
        return pl.read_csv(path, infer_schema=False), 2
    raise ValueError(f"{path}: unsupported applicant file type {suffix!r}; expected .csv, .parquet or .jsonl")


def parse_applicants(
    source: pl.DataFrame | str | Path, *, fields: Catalogue = FIELDS, first_line: int | None = None
) -> ParseResult:
    """Typed applicants and every bad cell, from a DataFrame or a CSV/Parquet/JSONL file.

    Catalogue fields are cast to their types; other columns are kept untouched. `first_line` is the
    line number of the first data row (default: 2 for CSV, Parquet and DataFrames, 1 for JSONL).
    """
    raw, default_first = _read(source)
    first = default_first if first_line is None else first_line
    known = [n for n in raw.columns if n in fields]
    values: list[pl.Expr] = []
    masks: list[pl.Expr] = []
    reasons: dict[str, tuple[str, str, str]] = {}
    for name in known:
        value, checks = _column_exprs(fields[name], raw.schema[name], name)
        values.append(value)
        for k, (mask, en, ko) in enumerate(checks):
            key = f"__bad_{k}_{name}"
            masks.append(mask.fill_null(False).alias(key))
            reasons[key] = (name, en, ko)
    frame = raw.with_columns(values) if values else raw
    problems: list[ParseProblem] = []
    if masks:
        flags = raw.select(masks)
        counts = flags.sum().row(0, named=True)
        for key, n in counts.items():
            if not n:
                continue
            name, en, ko = reasons[key]
            bad = (
                raw.select(pl.col(name).cast(pl.String, strict=False).alias("value"))
                .with_row_index("row")
                .filter(flags[key])
            )
            for row, value in bad.iter_rows():  # only the bad cells, never the whole table
                problems.append(ParseProblem(row + first, name, "" if value is None else value, en, ko))
    order = {n: i for i, n in enumerate(fields)}
    problems.sort(key=lambda p: (p.line, order[p.field]))
    absent = [n for n in fields if n not in raw.columns]
    return ParseResult(frame, problems, absent)


def ensure_typed(df: pl.DataFrame, *, fields: Catalogue = FIELDS) -> pl.DataFrame:
    """Cast catalogue columns whose dtype is not the catalogue's (a no-op for parsed frames)."""
    exprs = [
        _column_exprs(fields[n], df.schema[n], n)[0]
        for n in df.columns
        if n in fields and df.schema[n] != fields[n].dtype
    ]
    return df.with_columns(exprs) if exprs else df
