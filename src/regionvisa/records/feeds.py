"""The record feeds of DESIGN §4.7: column specs and vectorised row validation (pure, no I/O).

Every cell is checked column-wise with Polars. A row with any problem is rejected as a whole
and each of its problems is reported with the line number it has in the file, the field, the
value and the reason in Korean and English. Nothing is dropped without a report.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from regionvisa.tabular import TableFileError, open_table

KINDS = ("people", "statuses", "addresses", "movements", "kiip", "employment")


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # id | code | text | date | int | choice | region | area | visa | subtype | nationality | passport
    required: bool = True  # every row must give a value
    optional: bool = False  # the file may leave the whole column out (DESIGN §4.7 "optional")
    choices: tuple[str, ...] = ()
    low: int | None = None
    high: int | None = None


@dataclass(frozen=True)
class FeedSpec:
    kind: str
    table: str
    columns: tuple[Column, ...]
    natural_key: tuple[str, ...]
    references_person: bool = True
    # identifiers stored encrypted with a lookup hash (records.pii), never in clear
    protected: tuple[str, ...] = ()
    # (later, earlier) pairs that must satisfy later >= earlier when both are present
    date_order: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def stored_names(self) -> list[str]:
        """Column names as stored: a protected `x_no` becomes `x_enc` and `x_hash`."""
        out: list[str] = []
        for name in self.names:
            if name in self.protected:
                stem = name.removesuffix("_no")
                out += [f"{stem}_enc", f"{stem}_hash"]
            else:
                out.append(name)
        return out


FEEDS: dict[str, FeedSpec] = {
    "people": FeedSpec(
        "people",
        "person",
        (
            Column("person_id", "id"),
            Column("name", "text"),
            Column("nationality", "nationality"),
            Column("birth_date", "date"),
            Column("sex", "choice", choices=("F", "M", "X")),
            Column("passport_no", "passport"),
        ),
        ("person_id",),
        references_person=False,
        protected=("passport_no",),
    ),
    "statuses": FeedSpec(
        "statuses",
        "status_grant",
        (
            Column("person_id", "id"),
            Column("visa", "visa"),
            Column("subtype", "subtype", required=False),
            Column("program_id", "id", required=False),
            Column("region", "region"),
            Column("valid_from", "date"),
            Column("valid_to", "date"),
            Column("granted_on", "date"),
        ),
        ("person_id", "visa", "valid_from"),
        date_order=(("valid_to", "valid_from"),),
    ),
    "addresses": FeedSpec(
        "addresses",
        "address_report",
        (
            Column("person_id", "id"),
            Column("area_code", "area"),
            Column("effective_date", "date"),
            Column("reported_date", "date"),
        ),
        ("person_id", "effective_date"),
    ),
    "movements": FeedSpec(
        "movements",
        "movement",
        (
            Column("person_id", "id"),
            Column("direction", "choice", choices=("entry", "exit")),
            Column("date", "date"),
            Column("port", "text"),
        ),
        ("person_id", "direction", "date"),
    ),
    "kiip": FeedSpec(
        "kiip",
        "kiip_record",
        (
            Column("person_id", "id"),
            Column("level", "int", low=0, high=5),
            Column("enrolled_on", "date"),
            Column("completed_on", "date", required=False),
        ),
        ("person_id", "level", "enrolled_on"),
        date_order=(("completed_on", "enrolled_on"),),
    ),
    "employment": FeedSpec(
        "employment",
        "employment",
        (
            Column("person_id", "id"),
            Column("employer_id", "id"),
            Column("employer_region", "region"),
            Column("start_date", "date"),
            Column("end_date", "date", required=False),
            Column("annual_wage_krw", "int", required=False, optional=True, low=0, high=100_000_000_000),
            Column("occupation_code", "code", required=False, optional=True),
        ),
        ("person_id", "employer_id", "start_date"),
        date_order=(("end_date", "start_date"),),
    ),
}

REJECT_SCHEMA = {
    "line": pl.Int64,
    "field": pl.String,
    "value": pl.String,
    "reason_ko": pl.String,
    "reason_en": pl.String,
}

MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2100, 12, 31)


class FeedFileError(ValueError):
    """The file as a whole cannot be read (wrong columns, unknown format, not a table)."""

    def __init__(self, en: str, *, ko: str | None = None, code: str = "unreadable_feed") -> None:
        super().__init__(en)
        self.en, self.code = en, code
        self.ko = ko or en


def read_feed_file(path: Path, *, name: str | None = None) -> pl.DataFrame:
    """A whole feed file, every column as text, so that validation (not the reader) decides what
    is wrong. Read by `tabular`, the reader of every upload and import; imports themselves read
    batch by batch (records.service.import_file)."""

    try:
        return open_table(path, name=name, formats=("csv", "parquet", "xlsx")).read()
    except TableFileError as exc:
        raise FeedFileError(exc.en, ko=exc.ko, code=exc.code) from exc


def check_columns(spec: FeedSpec, df: pl.DataFrame, source: str) -> None:
    missing = [c.name for c in spec.columns if c.name not in df.columns and not c.optional]
    if missing:
        raise FeedFileError(
            f"{source}: missing column(s) {', '.join(missing)}; a {spec.kind} file has columns {','.join(spec.names)}",
            ko=f"{source}: 필수 열이 없습니다: {', '.join(missing)} ({spec.kind} 파일의 열: {','.join(spec.names)})",
            code="missing_columns",
        )


# Reject files are handed around: personal values in them are masked like everywhere else.
PERSONAL_FIELDS = frozenset({"passport_no", "name"})


def _problem(mask: pl.Expr, field_name: str, ko: str, en: str) -> pl.Expr:
    """A struct per row: the problem when `mask` holds, else null."""
    value = pl.col(field_name)
    if field_name in PERSONAL_FIELDS:
        value = pl.concat_str([pl.lit("•••"), value.str.slice(-2)]) if field_name == "passport_no" else pl.lit("•••")
    return (
        pl.when(mask)
        .then(
            pl.struct(
                pl.lit(field_name).alias("field"),
                value.alias("value"),
                pl.lit(ko).alias("reason_ko"),
                pl.lit(en).alias("reason_en"),
            )
        )
        .otherwise(None)
    )


def _typed_and_checks(col: Column, region_codes: set[str], visas: set[str], subtypes: set[str]):
    """(typed expression, [problem expressions]) for one column."""
    raw = pl.col(col.name).str.strip_chars()
    present = raw.is_not_null() & (raw != "")
    problems = []
    if col.required:
        problems.append(_problem(~present, col.name, "값이 없습니다", "value is required"))
    typed: pl.Expr
    if col.kind == "date":
        typed = raw.str.to_date("%Y-%m-%d", strict=False)
        bad = present & (typed.is_null() | (typed < MIN_DATE) | (typed > MAX_DATE))
        problems.append(
            _problem(bad, col.name, "날짜 형식(YYYY-MM-DD)이 아닙니다", "not an ISO date (YYYY-MM-DD) in 1900–2100")
        )
    elif col.kind == "int":
        typed = raw.cast(pl.Int64, strict=False)
        bad = present & typed.is_null()
        problems.append(_problem(bad, col.name, "정수가 아닙니다", "not an integer"))
        if col.low is not None:
            out = present & typed.is_not_null() & ((typed < col.low) | (typed > col.high))
            problems.append(
                _problem(out, col.name, f"{col.low}–{col.high} 범위를 벗어났습니다", f"outside {col.low}–{col.high}")
            )
    else:
        typed = pl.when(present).then(raw).otherwise(None)
        if col.kind == "code":
            bad = present & ~raw.str.contains(r"^[A-Za-z0-9][A-Za-z0-9.\-]{0,15}$")
            problems.append(
                _problem(bad, col.name, "코드 형식이 잘못되었습니다", "not a code (letters, digits, . -; ≤ 16)")
            )
        elif col.kind == "id":
            bad = present & ~raw.str.contains(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}$")
            problems.append(
                _problem(
                    bad, col.name, "식별자 형식이 잘못되었습니다", "not an identifier (letters, digits, _ . -; ≤ 32)"
                )
            )
        elif col.kind == "text":
            bad = present & (raw.str.len_chars() > 128)
            problems.append(_problem(bad, col.name, "128자를 넘습니다", "longer than 128 characters"))
        elif col.kind == "choice":
            bad = present & ~raw.is_in(list(col.choices))
            problems.append(
                _problem(bad, col.name, f"허용값: {', '.join(col.choices)}", f"must be one of {', '.join(col.choices)}")
            )
        elif col.kind == "nationality":
            bad = present & ~raw.str.contains(r"^[A-Z]{3}$")
            problems.append(
                _problem(bad, col.name, "ISO 3166-1 alpha-3 국가코드가 아닙니다", "not an ISO 3166-1 alpha-3 code")
            )
        elif col.kind == "passport":
            bad = present & ~raw.str.contains(r"^[A-Z0-9]{5,20}$")
            problems.append(
                _problem(bad, col.name, "여권번호 형식이 아닙니다", "not a passport number (A-Z, 0-9; 5–20)")
            )
        elif col.kind == "region":
            bad = present & ~raw.is_in(sorted(region_codes))
            problems.append(_problem(bad, col.name, "알 수 없는 시·도 코드입니다", "unknown 2-digit region code"))
        elif col.kind == "area":
            region_part = raw.str.slice(0, 2)
            ok = raw.str.contains(r"^\d{2}(\d{3})?$") & region_part.is_in(sorted(region_codes))
            problems.append(
                _problem(
                    present & ~ok,
                    col.name,
                    "지역코드는 2자리 시·도 또는 5자리 시군구 코드여야 합니다",
                    "not a 2-digit region or 5-digit district code of a known region",
                )
            )
        elif col.kind == "visa":
            bad = present & ~raw.is_in(sorted(visas))
            problems.append(_problem(bad, col.name, "알 수 없는 체류자격입니다", "unknown visa category"))
        elif col.kind == "subtype":
            bad = present & ~raw.is_in(sorted(subtypes))
            problems.append(_problem(bad, col.name, "알 수 없는 세부자격입니다", "unknown visa sub-type"))
    return typed.alias(col.name), problems


def validate_feed(
    spec: FeedSpec,
    df: pl.DataFrame,
    *,
    region_codes: set[str],
    visas: set[str],
    subtypes: set[str],
    first_line: int = 2,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split a text frame into (typed good rows with `line`, problems), column-wise.

    `line` is the row's line in the source file (the header is line 1).
    """
    left_out = [c.name for c in spec.columns if c.optional and c.name not in df.columns]
    df = df.with_columns(pl.lit(None, dtype=pl.String).alias(name) for name in left_out)
    df = df.select(spec.names).with_row_index("line", offset=first_line).with_columns(pl.col("line").cast(pl.Int64))
    typed_exprs, problem_exprs = [], []
    for col in spec.columns:
        typed, problems = _typed_and_checks(col, region_codes, visas, subtypes)
        typed_exprs.append(typed)
        problem_exprs.extend(problems)
    typed_df = df.select("line", *typed_exprs)
    for later, earlier in spec.date_order:
        problem_exprs.append(
            pl.when(
                pl.col(f"__t_{later}").is_not_null()
                & pl.col(f"__t_{earlier}").is_not_null()
                & (pl.col(f"__t_{later}") < pl.col(f"__t_{earlier}"))
            )
            .then(
                pl.struct(
                    pl.lit(later).alias("field"),
                    pl.col(later).alias("value"),
                    pl.lit(f"{earlier}보다 앞설 수 없습니다").alias("reason_ko"),
                    pl.lit(f"must not be before {earlier}").alias("reason_en"),
                )
            )
            .otherwise(None)
        )
    with_typed = df.with_columns([typed_df[c.name].alias(f"__t_{c.name}") for c in spec.columns if c.kind == "date"])
    problems = (
        with_typed.select("line", pl.concat_list(problem_exprs).alias("p"))
        .explode("p")
        .drop_nulls("p")
        .unnest("p")
        .select(list(REJECT_SCHEMA))
        .cast(REJECT_SCHEMA)
    )
    good = typed_df.join(problems.select("line").unique(), on="line", how="anti")
    return good, problems
