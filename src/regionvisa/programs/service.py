"""Programme designs in the database: versions, the draft → published life cycle, and lookup
of the programmes in force. Every change is audited; a published version never changes."""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import io
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import polars as pl
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from regionvisa.audit.service import record
from regionvisa.core.errors import Conflict, Invalid, NotFound
from regionvisa.db import utcnow
from regionvisa.policyfiles import PolicyError
from regionvisa.programs.files import LoadedProgram, load_program_file, parse_design
from regionvisa.programs.lifecycle import PROGRAMME_VERSIONS
from regionvisa.programs.models import Program, ProgramVersion
from regionvisa.reports.files import write_csv_safe
from regionvisa.rules import (
    FIELDS,
    OUTCOMES,
    Explanation,
    Node,
    ParseProblem,
    ParseResult,
    RuleProgram,
    coerce_applicant,
    criterion_column,
    evaluate,
    explain,
    format_results,
    parse_applicants,
    screen,
)
from regionvisa.rules.text import display_value, format_value
from regionvisa.rules.validate import CheckedProgram


def design_digest(design: dict) -> str:
    return hashlib.sha256(json.dumps(design, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


@lru_cache(maxsize=256)
def _loaded_by_digest(digest: str, design_json: str) -> LoadedProgram:
    return parse_design(json.loads(design_json), source=f"program:{digest[:8]}")


def loaded(version: ProgramVersion) -> LoadedProgram:
    """The validated rule programme of a stored version (cached by content digest)."""
    return _loaded_by_digest(version.digest, json.dumps(version.design, sort_keys=True, ensure_ascii=False))


def _program_row(session: Session, lp: LoadedProgram) -> Program:
    program = session.get(Program, lp.spec.id)
    if program is None:
        program = Program(
            id=lp.spec.id,
            region=lp.spec.region,
            base_visa=lp.spec.base_visa,
            title_ko=lp.spec.title.ko,
            title_en=lp.spec.title.en,
        )
        session.add(program)
    elif program.region != lp.spec.region or program.base_visa != lp.spec.base_visa:
        raise Conflict(
            code="program_identity",
            ko="프로그램의 지역·기본자격은 바꿀 수 없습니다",
            en=f"programme {program.id} belongs to region {program.region} ({program.base_visa}); "
            "a new design must keep both",
            field="region",
        )
    else:
        program.title_ko, program.title_en = lp.spec.title.ko, lp.spec.title.en
    return program


def store(session: Session, lp: LoadedProgram, *, actor, reason: str, status: str = "draft") -> ProgramVersion:
    """Store one validated design version. Re-storing an identical version is a no-op; changing a
    version that has left draft is refused (bump `version` instead)."""
    design = lp.as_dict()
    digest = design_digest(design)
    _program_row(session, lp)
    existing = session.scalar(
        select(ProgramVersion).where(ProgramVersion.program_id == lp.spec.id, ProgramVersion.version == lp.spec.version)
    )
    actor_name = str(getattr(actor, "username", actor))
    if existing is not None:
        if existing.digest == digest:
            return existing
        if existing.status != "draft":
            raise Conflict(
                code="version_immutable",
                ko=f"{existing.status} 상태의 버전은 바꿀 수 없습니다; 새 버전을 만드십시오",
                en=f"{lp.spec.id} version {lp.spec.version} is {existing.status} and cannot change; "
                "give the design a new version number",
                field="version",
            )
        existing.design, existing.digest = design, digest
        existing.valid_from, existing.valid_to = lp.spec.valid_from, lp.spec.valid_to
        record(
            session,
            actor=actor,
            action="program.draft.update",
            subject=("program", lp.spec.id),
            region=lp.spec.region,
            reason=reason,
            inputs={"version": lp.spec.version, "digest": digest},
        )
        return existing
    version = ProgramVersion(
        program_id=lp.spec.id,
        version=lp.spec.version,
        status=status,
        design=design,
        digest=digest,
        valid_from=lp.spec.valid_from,
        valid_to=lp.spec.valid_to,
        created_by=actor_name,
        created_at=utcnow(),
        status_changed_by=actor_name,
        status_changed_at=utcnow(),
    )
    session.add(version)
    session.flush()
    record(
        session,
        actor=actor,
        action=f"program.{status}",
        subject=("program", lp.spec.id),
        region=lp.spec.region,
        reason=reason,
        inputs={"version": lp.spec.version, "digest": digest, "status": status},
    )
    return version


def load_files(session: Session, paths: list[Path], *, actor, publish: bool = False) -> list[ProgramVersion]:
    """Validate every file first; store them only if all are valid (nothing half-loaded)."""
    designs, errors = [], []
    for path in paths:
        try:
            designs.append(load_program_file(path))
        except PolicyError as exc:
            errors.extend(exc.errors)
    if errors:
        raise PolicyError(errors)
    stored = []
    for lp in designs:
        status = "published" if publish else "draft"
        version = store(session, lp, actor=actor, reason=f"loaded from {lp.source}", status=status)
        if publish and version.status != "published":
            raise Conflict(
                code="not_published",
                ko="게시되지 않은 기존 버전이 있습니다",
                en=f"{lp.id} version {lp.spec.version} exists as {version.status}; publish it explicitly",
            )
        stored.append(version)
    return stored


def save_draft(session: Session, design: dict, *, actor, reason: str = "draft saved") -> ProgramVersion:
    """A region's draft: validated against the guardrails, numbered after the latest version."""
    lp = parse_design(design, source="draft")
    latest = session.scalar(select(func.max(ProgramVersion.version)).where(ProgramVersion.program_id == lp.spec.id))
    current = get_version(session, lp.spec.id, latest) if latest else None
    if current is not None and current.status != "draft" and lp.spec.version <= current.version:
        design = {**design, "version": current.version + 1}
        lp = parse_design(design, source="draft")
    return store(session, lp, actor=actor, reason=reason, status="draft")


def transition(session: Session, program_id: str, version: int, move: str, *, actor, reason: str) -> ProgramVersion:
    """One move of a version along its edge of `programs.lifecycle` (400 unknown move, 409 not
    from this state); the transports check the edge's action before calling."""
    PROGRAMME_VERSIONS.check_move(move)
    row = get_version(session, program_id, version)
    before = row.status
    after = PROGRAMME_VERSIONS.edge(move, before, program_id=program_id, version=version).to_state
    if PROGRAMME_VERSIONS.needs_reason(move):  # no programme move needs one today (docs/lifecycles.md)
        reason = PROGRAMME_VERSIONS.reason(move, reason)
    if move == "publish":
        loaded(row)  # a design that no longer validates (guardrails changed) is never published
    row.status = after
    row.status_changed_by = str(getattr(actor, "username", actor))
    row.status_changed_at = utcnow()
    record(
        session,
        actor=actor,
        action=f"program.{move}",
        subject=("program", program_id),
        region=session.get(Program, program_id).region,
        reason=reason,
        inputs={"version": version, "from": before, "to": after, "digest": row.digest},
    )
    return row


def get_program(session: Session, program_id: str) -> Program:
    program = session.get(Program, program_id)
    if program is None:
        raise NotFound(what=f"programme {program_id}")
    return program


def get_version(session: Session, program_id: str, version: int | None = None) -> ProgramVersion:
    query = select(ProgramVersion).where(ProgramVersion.program_id == program_id)
    query = query.where(ProgramVersion.version == version) if version else query.order_by(ProgramVersion.version.desc())
    row = session.scalars(query.limit(1)).first()
    if row is None:
        raise NotFound(what=f"programme {program_id}" + (f" version {version}" if version else ""))
    return row


def versions(session: Session, program_id: str) -> list[ProgramVersion]:
    return list(
        session.scalars(
            select(ProgramVersion).where(ProgramVersion.program_id == program_id).order_by(ProgramVersion.version)
        )
    )


def published_on(session: Session, program_id: str, on: dt.date) -> ProgramVersion:
    """The published (or since retired) version whose validity covers `on`, newest first."""
    row = session.scalars(
        select(ProgramVersion)
        .where(
            ProgramVersion.program_id == program_id,
            ProgramVersion.status.in_(("published", "retired")),
            ProgramVersion.valid_from <= on,
            ProgramVersion.valid_to >= on,
        )
        .order_by(ProgramVersion.version.desc())
        .limit(1)
    ).first()
    if row is None:
        raise NotFound(what=f"programme {program_id} in force on {on}")
    return row


def in_force(session: Session, on: dt.date, *, region: str | None = None) -> list[ProgramVersion]:
    """The latest published version of every programme valid on `on`."""
    query = (
        select(ProgramVersion)
        .join(Program)
        .where(ProgramVersion.status == "published", ProgramVersion.valid_from <= on, ProgramVersion.valid_to >= on)
    )
    if region:
        query = query.where(Program.region == region)
    latest: dict[str, ProgramVersion] = {}
    for row in session.scalars(query.order_by(ProgramVersion.program_id, ProgramVersion.version)):
        latest[row.program_id] = row
    return list(latest.values())


def list_programs(session: Session, *, region: str | None = None) -> list[tuple[Program, ProgramVersion]]:
    """Each programme with its latest version, in one query (the list is read on every dashboard)."""
    latest = (
        select(ProgramVersion.program_id, func.max(ProgramVersion.version).label("version"))
        .group_by(ProgramVersion.program_id)
        .subquery()
    )
    query = (
        select(Program, ProgramVersion)
        .join(latest, latest.c.program_id == Program.id)
        .join(
            ProgramVersion,
            (ProgramVersion.program_id == latest.c.program_id) & (ProgramVersion.version == latest.c.version),
        )
        .order_by(Program.region, Program.id)
    )
    if region:
        query = query.where(Program.region == region)
    return [(p, v) for p, v in session.execute(query)]


def diff(a: ProgramVersion, b: ProgramVersion) -> list[str]:
    """A unified diff of two versions' designs, as YAML a person can read."""

    def text(v: ProgramVersion) -> list[str]:
        return yaml.safe_dump(v.design, allow_unicode=True, sort_keys=False).splitlines()

    return list(difflib.unified_diff(text(a), text(b), f"v{a.version}", f"v{b.version}", lineterm=""))


# ============================================================================ using programmes
# Screening, explanation, ranking, matching and reform simulation. The CLI, the API and the pages
# all call these; nothing here loops over applicants in Python except where one applicant is asked.


@dataclass
class Resolved:
    """A programme ready to evaluate: from a file, or a stored version."""

    loaded: LoadedProgram
    version: ProgramVersion | None = None

    @property
    def id(self) -> str:
        return self.loaded.spec.id

    @property
    def number(self) -> int:
        return self.loaded.spec.version

    @property
    def rules(self) -> RuleProgram:
        return self.loaded.rules

    @property
    def checked(self) -> CheckedProgram:
        return self.loaded.checked

    @property
    def region(self) -> str:
        return self.loaded.spec.region

    @property
    def label(self) -> str:
        return f"{self.id} v{self.number}"


def is_file_reference(ref: str) -> bool:
    return ref.endswith((".yaml", ".yml")) or Path(ref).is_file()


def resolve(session: Session | None, ref: str, *, on: dt.date | None = None, files: bool = True) -> Resolved:
    """`FILE` (a design file), `ID` (the version in force on `on`) or `ID@N` (that stored version).

    `files=False` (the API) never reads the server's disk, whatever the reference looks like.
    """
    if files and is_file_reference(ref):
        return Resolved(load_program_file(Path(ref)))
    if session is None:
        raise NotFound(what=f"programme file {ref}")
    program_id, _, number = ref.partition("@")
    if number:
        if not number.isdigit():
            raise Invalid(
                code="invalid_reference", ko="프로그램 지정이 잘못되었습니다", en=f"{ref!r}: expected ID or ID@VERSION"
            )
        row = get_version(session, program_id, int(number))
    elif on is not None:
        row = published_on(session, program_id, on)
    else:
        row = get_version(session, program_id)
    return Resolved(loaded(row), row)


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


# ------------------------------------------------------------------------------ near misses

_SHORT_LABELS = {"topik_level": ("TOPIK", "TOPIK"), "kiip_level": ("KIIP", "사회통합프로그램")}
_FLIP = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "==", "!=": "!="}
NEAR_MISS_LIMIT = 2


@dataclass
class Change:
    """One thing an applicant would have to change: `field` from `current` to `target`."""

    field: str | None
    kind: str  # at_least | at_most | more_than | less_than | equal | one_of | not_equal | age_* | meet
    current: object
    target: object
    text: dict[str, str]

    def to_dict(self) -> dict:
        return {
            "field": self.field,
            "kind": self.kind,
            "current": self.current,
            "target": self.target,
            "text": self.text,
        }


def _label(field: str | None, lang: str, kind: str = "") -> str:
    if kind.startswith("age"):
        return "나이" if lang == "ko" else "age"
    if field in _SHORT_LABELS:
        return _SHORT_LABELS[field][lang == "ko"]
    f = FIELDS.get(field or "")
    return f.label(lang) if f else str(field)


def _show(value, lang: str) -> str:
    if value is None:
        return "(없음)" if lang == "ko" else "(not given)"
    if isinstance(value, list):
        return ", ".join(_show(v, lang) for v in value[:6]) + (" …" if len(value) > 6 else "")
    return format_value(value, lang)


def _change_text(field: str | None, kind: str, current, target) -> dict[str, str]:
    unit = FIELDS[field].unit if field in FIELDS and not kind.startswith("age") else None
    out = {}
    for lang in ("en", "ko"):
        name = _label(field, lang, kind)
        cur, tgt = _show(current, lang), _show(target, lang)
        if kind in ("more_than", "age_more_than"):
            tgt = f"more than {tgt}" if lang == "en" else f"{tgt} 초과"
        elif kind in ("less_than", "age_less_than"):
            tgt = f"less than {tgt}" if lang == "en" else f"{tgt} 미만"
        elif kind == "not_equal":
            tgt = f"anything but {tgt}" if lang == "en" else f"{tgt} 이외의 값"
        elif kind == "one_of" and isinstance(target, list) and len(target) > 1:
            tgt = f"one of {tgt}" if lang == "en" else f"{tgt} 중 하나"
        text = f"{name} {cur} → {tgt}"
        if unit == "KRW":
            text += " KRW" if lang == "en" else "원"
        out[lang] = text
    return out


def _make(field: str | None, kind: str, current, target) -> Change:
    return Change(field, kind, current, target, _change_text(field, kind, current, target))


def _step(field: str, value, up: bool):
    """The next value above (or below) `value` for a field whose values are discrete."""
    f = FIELDS.get(field)
    if f is None:
        return None
    if f.is_enum and isinstance(value, str) and value in f.values:
        i = f.values.index(value) + (1 if up else -1)
        return f.values[i] if 0 <= i < len(f.values) else None
    if f.type == "integer" and isinstance(value, int | float):
        return math.floor(value) + 1 if up else math.ceil(value) - 1
    if f.type == "date" and isinstance(value, str):
        return (dt.date.fromisoformat(value) + dt.timedelta(days=1 if up else -1)).isoformat()
    return None


def _comparison_change(node: Node, record: dict, on: dt.date) -> Change | None:
    """What makes one failed comparison true, when one side is a field (or an age, or days until a date)."""
    operands = record["operands"]
    sides = [i for i, o in enumerate(operands) if o["reads_applicant"]]
    if len(sides) != 1:
        return None
    i = sides[0]
    arg = node.args[i]
    current = operands[i]["value"]
    if arg.op == "var":
        field, shape = arg.value, "field"
    elif arg.op == "years_since" and arg.args[0].op == "var":
        field, shape = arg.args[0].value, "age"
    elif (
        arg.op == "days_between"
        and arg.args[1].op == "var"
        and not arg.args[0].reads_applicant
        and operands[i]["value"] is not None
    ):
        field, shape = arg.args[1].value, "days"
    else:
        return None
    op = node.op
    if op == "between":
        if i != 0:
            return None
        lo, hi = operands[1]["value"], operands[2]["value"]
        if current is None or lo is None or hi is None:
            return None
        op, threshold = (">=", lo) if _less(current, lo, field, shape) else ("<=", hi)
    elif op == "in":
        if i != 0:
            return None
        values = operands[1]["value"] or []
        if shape != "field":
            return None
        return _make(field, "one_of", current, values[0] if len(values) == 1 else list(values))
    else:
        threshold = operands[1 - i]["value"]
        if i == 1:
            op = _FLIP[op]
    if threshold is None:
        return None
    if shape == "days":
        days = {">=": threshold, ">": math.floor(threshold) + 1, "==": threshold}.get(op)
        if days is None:
            return None
        base = node.args[i].args[0]
        start = on if base.op == "today" else None
        if start is None:
            return None
        date = (on + dt.timedelta(days=math.ceil(days))).isoformat()
        current_date = (on + dt.timedelta(days=int(current))).isoformat() if current is not None else None
        return _make(field, "at_least", current_date, date)
    if shape == "age":
        kind = {">=": "age_at_least", "<=": "age_at_most", ">": "age_more_than", "<": "age_less_than"}.get(op)
        if kind is None:
            return _make(field, "age_equal", current, threshold)
        if kind in ("age_more_than", "age_less_than") and float(threshold).is_integer():
            return _make(
                field,
                "age_at_least" if op == ">" else "age_at_most",
                current,
                int(threshold) + (1 if op == ">" else -1),
            )
        value = (
            math.ceil(threshold)
            if kind == "age_at_least"
            else math.floor(threshold)
            if kind == "age_at_most"
            else threshold
        )
        return _make(field, kind, current, value)
    if op in (">=", "<="):
        f = FIELDS.get(field)
        if f is not None and f.type == "integer" and isinstance(threshold, float):
            threshold = math.ceil(threshold) if op == ">=" else math.floor(threshold)
        return _make(field, "at_least" if op == ">=" else "at_most", current, threshold)
    if op in (">", "<"):
        stepped = _step(field, threshold, up=op == ">")
        if stepped is not None:
            return _make(field, "at_least" if op == ">" else "at_most", current, stepped)
        return _make(field, "more_than" if op == ">" else "less_than", current, threshold)
    if op == "==":
        return _make(field, "equal", current, threshold)
    return _make(field, "not_equal", current, threshold)


def _less(current, low, field: str, shape: str) -> bool:
    f = FIELDS.get(field)
    if shape == "field" and f is not None and f.is_enum:
        return f.values.index(current) < f.values.index(low)
    return current < low


def _node_value(node: Node, comparisons: dict[str, dict], values: dict[str, object]):
    """A logic node's Kleene value, rebuilt from the comparisons the explanation recorded."""
    if node.path in comparisons:
        result = comparisons[node.path]["result"]
        return {"pass": True, "fail": False}.get(result)
    if node.op == "lit":
        return node.value
    if node.op == "var":
        return values.get(node.value)
    parts = [_node_value(a, comparisons, values) for a in node.args]
    if node.op == "all":
        return False if False in parts else (None if None in parts else True)
    if node.op == "any":
        return True if True in parts else (None if None in parts else False)
    if node.op == "not":
        return None if parts[0] is None else not parts[0]
    if node.op == "if":
        return None if parts[0] is None else (parts[1] if parts[0] else parts[2])
    return None


def _fixes(node: Node, comparisons: dict, values: dict, on: dt.date) -> list[list[Change]] | None:
    """Ways (each a list of changes, fewest first) to make a false node true; None when unknown how."""
    if node.path in comparisons:
        change = _comparison_change(node, comparisons[node.path], on)
        return [[change]] if change else None
    if node.op == "var" and node.type.kind == "boolean":
        return [[_make(node.value, "equal", values.get(node.value), True)]]
    if node.op == "all":
        needed: list[Change] = []
        for arg in node.args:
            if _node_value(arg, comparisons, values) is False:
                ways = _fixes(arg, comparisons, values, on)
                if not ways:
                    return None
                needed.extend(ways[0])
        return [needed]
    if node.op == "any":
        ways = []
        for arg in node.args:
            if _node_value(arg, comparisons, values) is False:
                ways.extend(_fixes(arg, comparisons, values, on) or [])
        ways.sort(key=len)
        return ways or None
    if node.op == "if":
        cond = _node_value(node.args[0], comparisons, values)
        if cond is None:
            return None
        return _fixes(node.args[1] if cond else node.args[2], comparisons, values, on)
    return None


def _apply(applicant: dict, changes: list[Change], on: dt.date) -> dict:
    """The applicant with the changes made, to check that they really suffice."""
    out = dict(applicant)
    for c in changes:
        if c.field is None or c.kind in ("not_equal", "more_than", "less_than", "age_more_than", "age_less_than"):
            continue
        target = c.target[0] if isinstance(c.target, list) else c.target
        if c.kind.startswith("age"):
            years = int(target)
            try:
                born = on.replace(year=on.year - years)
            except ValueError:  # 29 February
                born = on.replace(year=on.year - years, day=28)
            out[c.field] = born.isoformat()
        else:
            out[c.field] = target
    return out


def near_miss_changes(program: Resolved, applicant: dict, explanation: Explanation, *, on: dt.date) -> list[dict]:
    """For each failed criterion: the changes that would make it pass, checked by evaluating again."""
    checked = program.checked
    nodes = {cc.criterion.id: cc.node for cc in checked.criteria}
    typed, _problems = coerce_applicant(dict(applicant))
    out = []
    for item in explanation.criteria:
        if item.result != "fail":
            continue
        comparisons = {c["path"]: c for c in item.comparisons}
        values = {k: v for k, v in item.values.items()}
        ways = _fixes(nodes[item.id], comparisons, values, on) or []
        best = ways[0] if ways else [_make(None, "meet", None, None)]
        if not ways:
            best[0].text = {
                "en": f"meet “{item.label['en']}”",
                "ko": f"“{item.label['ko']}” 충족",
            }
        verified = False
        if ways:
            trial = evaluate(program.checked, _apply(typed, best, on), on=on)
            verified = trial.results.get(item.id) is True
        out.append(
            {
                "criterion": item.id,
                "label": item.label,
                "changes": [c.to_dict() for c in best],
                "alternatives": [[c.to_dict() for c in way] for way in ways[1:3]],
                "verified": verified,
                "text": {
                    lang: "; ".join(c.text[lang] for c in best)
                    + "".join(
                        (" or " if lang == "en" else " 또는 ") + "; ".join(c.text[lang] for c in way)
                        for way in ways[1:3]
                    )
                    for lang in ("en", "ko")
                },
            }
        )
    return out


# ----------------------------------------------------------------------------------- matching


def _match_rank(r: dict) -> tuple:
    """Eligible first, then near misses (fewest failures first), then incomplete, then the rest."""
    group = {"eligible": 0, "incomplete": 2}.get(r["outcome"], 1 if r["near_miss"] else 3)
    return (group, len(r["failed"]), len(r["missing"]), -(r["points"] or 0), r["program"])


def match(session: Session, applicant: dict, *, on: dt.date) -> dict:
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
    for row in in_force(session, on):
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
                "changes": near_miss_changes(program, applicant, explain(program.checked, applicant, on=on), on=on)
                if near
                else [],
            }
        )
    results.sort(key=_match_rank)
    return {"on": on.isoformat(), "programs": results, "problems": problems}


# --------------------------------------------------------------------------------- simulation

BREAKDOWNS = {"nationality": "nationality", "occupation": "occupation_code", "education": "education_level"}
_CHANGES = ("newly_eligible", "newly_ineligible", "unchanged")


def quota_position(session: Session | None, program: Resolved, *, on: dt.date) -> dict:
    """Capacity and places already taken: the quota ledger when there is one, else the design's quota."""
    capacity, committed, source = program.loaded.spec.quota, 0, "design"
    if session is not None:
        from regionvisa.quotas.service import ledger_for

        try:
            ledger = ledger_for(session, program.id, on)
        except NotFound:
            ledger = None
        if ledger is not None:
            capacity, committed, source = ledger.capacity, ledger.reserved + ledger.used, "ledger"
    return {"capacity": capacity, "committed": committed, "source": source}


def _fill(position: dict, eligible: int) -> dict:
    capacity, committed = position["capacity"], position["committed"]
    places = min(capacity, committed + eligible)
    return {
        **position,
        "eligible": eligible,
        "projected_places": places,
        "projected_fill_rate": round(places / capacity, 4) if capacity else None,
        "oversubscribed_by": max(0, committed + eligible - capacity),
    }


def _changed_parameters(baseline: Resolved, reform: Resolved, on: dt.date) -> list[dict]:
    a, b = baseline.rules.resolve_parameters(on), reform.rules.resolve_parameters(on)
    out = []
    for name in sorted(set(a) | set(b)):
        va = a.get(name)[0] if a.get(name) else None
        vb = b.get(name)[0] if b.get(name) else None
        if va != vb:
            out.append({"name": name, "baseline": display_value(va), "reform": display_value(vb)})
    return out


def simulate(
    session: Session | None, baseline: Resolved, reform: Resolved, parsed: ParseResult, *, on: dt.date
) -> dict:
    """Screen one applicant pool under two versions and compare, like an OpenFisca reform over applicants.

    Counts newly eligible / newly ineligible / unchanged (overall and by nationality, occupation and
    education), the criteria whose results flipped for the applicants who changed, the parameters that
    differ, and the projected quota fill under each version.
    """
    frame = parsed.frame
    if "applicant_id" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, pl.String).alias("applicant_id"))
    base = screen(baseline.checked, frame, on=on)
    new = screen(reform.checked, frame, on=on)
    group_cols = [
        (frame[col].cast(pl.String) if col in frame.columns else pl.Series(col, [None] * frame.height, pl.String))
        .fill_null("(missing)")
        .alias(name)
        for name, col in BREAKDOWNS.items()
    ]
    was = base["outcome"].cast(pl.String).alias("baseline")
    now = new["outcome"].cast(pl.String).alias("reform")
    table = pl.DataFrame([was, now, *group_cols]).with_columns(
        pl.when((pl.col("baseline") != "eligible") & (pl.col("reform") == "eligible"))
        .then(pl.lit("newly_eligible"))
        .when((pl.col("baseline") == "eligible") & (pl.col("reform") != "eligible"))
        .then(pl.lit("newly_ineligible"))
        .otherwise(pl.lit("unchanged"))
        .alias("change")
    )
    flags = [(pl.col("change") == c).sum().alias(c) for c in _CHANGES]
    counts = table.select(flags).row(0, named=True)
    breakdowns = {
        name: table.group_by(name).agg(pl.len().alias("applicants"), *flags).sort(name).to_dicts()
        for name in BREAKDOWNS
    }
    transitions = table.group_by("baseline", "reform").len("applicants").sort("baseline", "reform").to_dicts()
    # Which criteria caused the changes: results that flipped for the applicants who changed outcome.
    labels = {c.id: c.label for c in baseline.rules.criteria} | {c.id: c.label for c in reform.rules.criteria}
    ids = [c.id for c in baseline.rules.criteria]
    ids += [c.id for c in reform.rules.criteria if c.id not in ids]
    up = table["change"] == "newly_eligible"
    down = table["change"] == "newly_ineligible"
    causes = []
    for cid in ids:
        col = criterion_column(cid)
        before = base[col].fill_null(False) if col in base.columns else pl.Series([True] * frame.height)
        after = new[col].fill_null(False) if col in new.columns else pl.Series([True] * frame.height)
        relaxed = int((up & ~before & after).sum())
        tightened = int((down & before & ~after).sum())
        status = "added" if col not in base.columns else "removed" if col not in new.columns else "kept"
        if relaxed or tightened or status != "kept":
            causes.append(
                {
                    "criterion": cid,
                    "label": labels.get(cid) or {},
                    "status": status,
                    "newly_pass": relaxed,
                    "newly_fail": tightened,
                }
            )
    causes.sort(key=lambda c: -(c["newly_pass"] + c["newly_fail"]))
    eligible_before = int((table["baseline"] == "eligible").sum())
    eligible_after = int((table["reform"] == "eligible").sum())
    return {
        "baseline": {"program": baseline.id, "version": baseline.number},
        "reform": {"program": reform.id, "version": reform.number},
        "on": on.isoformat(),
        "applicants": table.height,
        "counts": {k: int(v) for k, v in counts.items()},
        "outcomes": {
            "baseline": {o: int((table["baseline"] == o).sum()) for o in OUTCOMES},
            "reform": {o: int((table["reform"] == o).sum()) for o in OUTCOMES},
        },
        "transitions": transitions,
        "breakdowns": breakdowns,
        "criteria": causes,
        "parameters": _changed_parameters(baseline, reform, on),
        "quota": {
            "baseline": _fill(quota_position(session, baseline, on=on), eligible_before),
            "reform": _fill(quota_position(session, reform, on=on), eligible_after),
        },
        "problems": [p.to_dict() for p in parsed.problems],
    }


# ---------------------------------------------------------------------------- designs as input


class DesignInvalid(Invalid):
    """A design that fails validation; the API body lists every `source:key.path: message`."""

    def __init__(self, *, errors: list[str]):
        super().__init__(
            code="design_invalid",
            ko=f"프로그램 설계에 오류가 {len(errors)}개 있습니다: {errors[0] if errors else ''}",
            en=f"the programme design has {len(errors)} error(s): {errors[0] if errors else ''}",
            field="design",
        )
        self.errors = errors

    def body(self) -> dict:
        out = super().body()
        out["error"]["details"] = self.errors
        return out


def design_from_text(text: str, source: str = "draft") -> dict:
    """A design written as YAML (or JSON) text, read strictly."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise PolicyError([f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})"]) from exc
    if not isinstance(data, dict):
        raise PolicyError([f"{source}:(root): expected a mapping (the programme design)"])
    return data


def design_yaml(design: dict) -> str:
    return yaml.safe_dump(design, allow_unicode=True, sort_keys=False, width=120)


def validate_design(design: dict, source: str = "draft") -> dict:
    """{"valid", "errors", "defaults_taken"}: never raises for an invalid design."""
    try:
        lp = parse_design(design, source=source)
    except PolicyError as exc:
        return {"valid": False, "errors": exc.errors, "defaults_taken": {}}
    return {"valid": True, "errors": [], "defaults_taken": lp.defaults_taken, "fixed_criteria": list(lp.fixed_ids)}


def parse_or_raise(design: dict, source: str = "draft") -> LoadedProgram:
    try:
        return parse_design(design, source=source)
    except PolicyError as exc:
        raise DesignInvalid(errors=exc.errors) from exc


def version_dict(row: ProgramVersion, *, design: bool = False) -> dict:
    out = {
        "program": row.program_id,
        "version": row.version,
        "status": row.status,
        "valid_from": row.valid_from.isoformat(),
        "valid_to": row.valid_to.isoformat(),
        "digest": row.digest,
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "status_changed_by": row.status_changed_by,
        "status_changed_at": row.status_changed_at.isoformat() if row.status_changed_at else None,
    }
    if design:
        out["design"] = row.design
    return out


def program_dict(program: Program, latest: ProgramVersion) -> dict:
    return {
        "id": program.id,
        "region": program.region,
        "base_visa": program.base_visa,
        "title": {"ko": program.title_ko, "en": program.title_en},
        "simplified_procedure": program.simplified_procedure,
        "latest": version_dict(latest),
        "quota": (latest.design or {}).get("quota"),
    }


def criteria_view(program: Resolved, *, on: dt.date | None = None) -> list[dict]:
    """Each criterion in plain Korean and English (label, rule as a sentence, reference), fixed ones marked."""
    checked = program.checked
    fixed = set(program.loaded.fixed_ids)
    from regionvisa.rules import render

    out = []
    for cc in checked.criteria:
        c = cc.criterion
        out.append(
            {
                "id": c.id,
                "label": {"ko": c.label.get("ko") or c.id, "en": c.label.get("en") or c.id},
                "rule": {"ko": render(cc.node, "ko", checked.fields), "en": render(cc.node, "en", checked.fields)},
                "reference": c.reference,
                "fixed": c.id in fixed,
                "parameters": list(cc.params),
            }
        )
    return out


def points_view(program: Resolved) -> list[dict]:
    checked = program.checked
    from regionvisa.rules import render

    return [
        {
            "id": p.id,
            "points": p.points,
            "rule": {"ko": render(node, "ko", checked.fields), "en": render(node, "en", checked.fields)},
        }
        for p, node in checked.points
    ]


def parameters_view(program: Resolved) -> list[dict]:
    """Every programme parameter with its dated values (and where a national default came from)."""
    out = []
    for name, values in sorted(program.rules.parameters.items()):
        out.append(
            {
                "name": name,
                "values": [
                    {"from": None if d == dt.date.min else d.isoformat(), "value": display_value(v)}
                    for d, v in values.items()
                ],
                "default_from": program.loaded.defaults_taken.get(name),
            }
        )
    return out


def guardrails_view(base_visa: str) -> dict:
    """The national guardrails of a base visa, as the programme page shows them."""
    from regionvisa.programs.guardrails import describe_bound, guardrails

    rails = guardrails().base_visas[base_visa]
    return {
        "label": rails.label.model_dump(),
        "fixed": [{"id": c.id, "label": c.label.model_dump(), "reference": c.reference} for c in rails.fixed_criteria],
        "bounded": [
            {
                "name": name,
                "label": b.label.model_dump(),
                "unit": b.unit,
                "min": describe_bound(b.min) if b.min is not None else None,
                "max": describe_bound(b.max) if b.max is not None else None,
                "default": describe_bound(b.default),
                "reference": b.reference,
            }
            for name, b in rails.bounded_parameters.items()
        ],
        "closed": [
            {"name": name, "label": c.label.model_dump(), "subtypes": list(c.subtypes), "reference": c.reference}
            for name, c in rails.closed_lists.items()
        ],
    }
