"""Bulk intake: a whole file of applications for one programme (`import_applications`).

The file's good rows go in, screened in one vectorised pass against the programme version in
force on the submission date; its bad rows are reported with line, field, value and reason; all
in one transaction. The checks are those of one application at a time (`applications.intake`):
identity, plausibility, duplicates, and whether the actor may link the person named.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from regionvisa.accounts.policy import OWN_REGION, grant
from regionvisa.applications.intake import NATIONALITY_RE, PASSPORT_RE, plausibility_checks
from regionvisa.applications.models import Application, Screening
from regionvisa.applications.service import (
    simplified_for,
)
from regionvisa.applications.subjects import PROGRAMME
from regionvisa.core.actor import Actor
from regionvisa.core.errors import Conflict, Invalid
from regionvisa.core.usecase import Done, use_case
from regionvisa.db import utcnow
from regionvisa.programs import service as programs
from regionvisa.records import pii
from regionvisa.records.bulk import bulk_insert
from regionvisa.records.feeds import FeedFileError, read_feed_file
from regionvisa.records.models import AddressReport, Person, StatusGrant
from regionvisa.rules import add_lists, parse_applicants, screen_core
from regionvisa.rules.compile import criterion_column


@dataclass
class ImportResult:
    source: str
    program_id: str
    rows_read: int
    inserted: int
    rejected_rows: int
    outcome: str  # committed | committed_with_rejects | rolled_back
    rejects: pl.DataFrame
    outcomes: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict:
        return {
            "source": self.source,
            "program_id": self.program_id,
            "rows_read": self.rows_read,
            "inserted": self.inserted,
            "rejected_rows": self.rejected_rows,
            "outcome": self.outcome,
            "outcomes": self.outcomes,
        }


REJECT_SCHEMA = {
    "line": pl.Int64,
    "field": pl.String,
    "value": pl.String,
    "reason_en": pl.String,
    "reason_ko": pl.String,
}


def read_intake_file(path: Path) -> pl.DataFrame:

    try:
        return read_feed_file(path)
    except FeedFileError as exc:
        raise Invalid(code="bad_file", ko=f"{path.name}: 파일을 읽을 수 없습니다", en=str(exc), field="file") from exc


def _identity_problems(raw: pl.DataFrame, existing: set[str]) -> pl.DataFrame:
    """Row problems of the identity columns, all at once over the columns."""
    passport = pl.col("passport_no").cast(pl.String).str.strip_chars().str.to_uppercase()
    checks = [
        ("name", pl.col("name").cast(pl.String).str.strip_chars().fill_null("") == "", "required", "필수 항목입니다"),
        (
            "passport_no",
            ~passport.fill_null("").str.contains(PASSPORT_RE.pattern),
            "expected 5 to 20 capital letters and digits",
            "영문 대문자와 숫자 5~20자여야 합니다",
        ),
        (
            "nationality",
            ~pl.col("nationality")
            .cast(pl.String)
            .str.strip_chars()
            .str.to_uppercase()
            .fill_null("")
            .str.contains(NATIONALITY_RE.pattern),
            "expected an ISO 3166-1 alpha-3 code",
            "ISO 3166-1 알파-3 국가 코드여야 합니다",
        ),
        (
            "passport_no",
            passport.is_not_null() & passport.is_duplicated() & ~passport.is_first_distinct(),
            "the same passport appears earlier in the file",
            "같은 여권번호가 파일 앞쪽에 있습니다",
        ),
        (
            "passport_no",
            pl.col("__passport_hash").is_in(sorted(existing)),
            "this passport already has an open application to the programme",
            "이 여권으로 진행 중인 신청이 이미 있습니다",
        ),
    ]
    frames = [
        raw.with_row_index("__row")
        .filter(mask.fill_null(False))
        .select(
            pl.col("__row").cast(pl.Int64).alias("line"),
            pl.lit(name).alias("field"),
            pl.col(name).cast(pl.String).fill_null("").alias("value"),
            pl.lit(en).alias("reason_en"),
            pl.lit(ko).alias("reason_ko"),
        )
        for name, mask, en, ko in checks
    ]
    out = pl.concat(frames).with_columns(pl.col("line") + 2)
    # a reject report is an export: the passport is shown masked, enough to find the line in the file
    return out.with_columns(
        pl.when(pl.col("field") == "passport_no")
        .then(pl.col("value").map_elements(pii.mask, return_dtype=pl.String))
        .otherwise(pl.col("value"))
        .alias("value")
    )


def _linked_rows(raw: pl.DataFrame, birth: pl.Series | None) -> pl.DataFrame:
    """The rows that give a `person_id`, with the applicant's identity as the person check compares it."""
    if "person_id" not in raw.columns:
        return pl.DataFrame(schema=REJECT_SCHEMA)
    return (
        raw.select(
            pl.col("person_id").str.strip_chars().alias("person_id"),
            pl.col("name").str.replace_all(r"\s+", " ").str.strip_chars().str.to_lowercase().alias("name"),
            pl.col("__passport_hash").alias("passport_hash"),
        )
        .with_columns(
            birth.alias("birth_date") if birth is not None else pl.lit(None, pl.Date).alias("birth_date"),
        )
        .with_row_index("__row")
        .filter(pl.col("person_id").is_not_null() & (pl.col("person_id") != ""))
    )


def _known_people(session: Session, ids: list[str]) -> pl.DataFrame:
    """The person records of `ids` (name compared without regard to case or spacing), a query per 5,000."""
    people = []
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        people += session.execute(
            select(Person.person_id, Person.name, Person.birth_date, Person.passport_hash).where(
                Person.person_id.in_(chunk)
            )
        ).all()
    return pl.DataFrame(
        people,
        schema={"person_id": pl.String, "p_name": pl.String, "p_birth": pl.Date, "p_hash": pl.String},
        orient="row",
    ).with_columns(pl.col("p_name").str.replace_all(r"\s+", " ").str.strip_chars().str.to_lowercase(), known=True)


def _record_regions(session: Session, ids: list[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(region of the latest address, region of the latest status) of each person, as `person_region`
    finds them one at a time: a few queries for the whole file."""
    today = dt.date.today()
    addresses, statuses = [], []
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        addresses += session.execute(
            select(
                AddressReport.person_id, AddressReport.area_code, AddressReport.effective_date, AddressReport.id
            ).where(AddressReport.person_id.in_(chunk), AddressReport.effective_date <= today)
        ).all()
        statuses += session.execute(
            select(StatusGrant.person_id, StatusGrant.region, StatusGrant.valid_from, StatusGrant.granted_on).where(
                StatusGrant.person_id.in_(chunk), StatusGrant.granted_on <= today
            )
        ).all()
    address_region = (
        pl.DataFrame(
            addresses,
            schema={"person_id": pl.String, "area": pl.String, "effective": pl.Date, "id": pl.Int64},
            orient="row",
        )
        .sort("person_id", "effective", "id")
        .group_by("person_id")
        .last()
        .select("person_id", pl.col("area").str.slice(0, 2).alias("address_region"))
    )
    status_region = (
        pl.DataFrame(
            statuses,
            schema={"person_id": pl.String, "region": pl.String, "valid_from": pl.Date, "granted_on": pl.Date},
            orient="row",
        )
        .sort("person_id", "valid_from", "granted_on")
        .group_by("person_id")
        .last()
        .select("person_id", pl.col("region").alias("status_region"))
    )
    return address_region, status_region


def _person_problems(session: Session, raw: pl.DataFrame, birth: pl.Series | None, actor: Any) -> pl.DataFrame:
    """The rows whose `person_id` is unknown, out of the actor's scope or not the applicant (the
    checks of `_check_person`, over the columns: a few queries for the whole file)."""
    rows = _linked_rows(raw, birth)
    if rows.height == 0:
        return pl.DataFrame(schema=REJECT_SCHEMA)
    scope = grant(actor, "records.read")
    ids = rows["person_id"].unique().to_list()
    joined = rows.join(_known_people(session, ids), on="person_id", how="left")
    if scope == OWN_REGION:
        address_region, status_region = _record_regions(session, ids)
        joined = (
            joined.join(address_region, on="person_id", how="left")
            .join(status_region, on="person_id", how="left")
            .with_columns(pl.coalesce("address_region", "status_region").alias("person_region"))
        )
        outside = pl.col("person_region").is_not_null() & (pl.col("person_region") != actor.region)
    else:
        outside = pl.lit(scope is None)
    unknown = pl.col("known").is_null()
    mismatch = ~(
        (pl.col("p_hash") == pl.col("passport_hash"))
        & (pl.col("p_birth") == pl.col("birth_date"))
        & (pl.col("p_name") == pl.col("name"))
    ).fill_null(False)
    checks = [
        (unknown, "there is no person with this id in the records", "기록에 없는 사람 번호입니다"),
        (
            ~unknown & outside,
            "this person belongs to another region's records: a regional official may link only people of their own "
            "region or people with no region yet",
            "다른 지역 기록의 사람입니다. 지자체 담당자는 담당 지역 또는 아직 지역이 없는 사람만 연결할 수 있습니다",
        ),
        (
            ~unknown & ~outside & mismatch,
            "this person record is not the applicant: the passport number, name and date of birth must all match",
            "사람 기록이 신청인과 일치하지 않습니다: 여권번호, 이름, 생년월일이 모두 같아야 합니다",
        ),
    ]
    return pl.concat(
        [
            joined.filter(mask).select(
                (pl.col("__row").cast(pl.Int64) + 2).alias("line"),
                pl.lit("person_id").alias("field"),
                pl.col("person_id").alias("value"),
                pl.lit(en).alias("reason_en"),
                pl.lit(ko).alias("reason_ko"),
            )
            for mask, en, ko in checks
        ]
    )


def _driver_frame(frame: pl.DataFrame, conn, *, json_columns: tuple[str, ...] = ()) -> pl.DataFrame:
    """Values as the database stores them, so the bulk loader skips per-row type processing:
    JSON as text, and on SQLite timestamps in SQLAlchemy's storage format."""
    out = frame.with_columns(pl.col(c).struct.json_encode() for c in json_columns)
    if conn.dialect.name == "sqlite":
        out = out.with_columns(pl.col(pl.Datetime).dt.strftime("%Y-%m-%d %H:%M:%S%.6f"))
    return out


def _read_source(source: Path | pl.DataFrame, source_name: str | None) -> tuple[pl.DataFrame, str]:
    """The file (or frame) as text columns with the passport's lookup hash; 422 without the identity columns."""
    if isinstance(source, pl.DataFrame):
        raw, name = source, source_name or "<frame>"
    else:
        raw, name = read_intake_file(Path(source)), source_name or Path(source).name
    missing_cols = [c for c in ("passport_no", "name", "nationality") if c not in raw.columns]
    if missing_cols:
        raise Invalid(
            code="missing_columns",
            ko=f"{name}: 필수 열이 없습니다: {', '.join(missing_cols)}",
            en=f"{name}: missing required columns: {', '.join(missing_cols)}",
            field=missing_cols[0],
        )
    raw = raw.with_columns(pl.all().cast(pl.String))
    clear = raw.select(pl.col("passport_no").str.strip_chars().str.to_uppercase()).to_series()
    raw = raw.with_columns(pl.Series("__passport_hash", pii.lookup_hash(clear.to_list()), dtype=pl.String))
    return raw, name


def _open_passports(session: Session, program_id: str, hashes: pl.Series) -> set[str]:
    """The passports among `hashes` that already have an open application to the programme."""
    existing: set[str] = set()
    for start in range(0, hashes.len(), 5000):
        chunk = hashes.slice(start, 5000).to_list()
        existing.update(
            session.scalars(
                select(Application.open_passport).where(
                    Application.program_id == program_id, Application.open_passport.in_(chunk)
                )
            )
        )
    return existing


def _row_problems(session: Session, raw: pl.DataFrame, *, program_id: str, actor: Any, on: dt.date):
    """(the typed rows, every row problem sorted by line and field): identity, types, person links."""

    existing = _open_passports(session, program_id, raw["__passport_hash"].drop_nulls())
    problems = _identity_problems(raw, existing)
    parsed = parse_applicants(
        raw.drop([c for c in ("name", "passport_no", "sex", "__passport_hash") if c in raw.columns])
    )
    if parsed.problems:
        typed_problems = pl.DataFrame(
            [(p.line, p.field, p.value, p.reason, p.reason_ko) for p in parsed.problems],
            schema=REJECT_SCHEMA,
            orient="row",
        )
        problems = pl.concat([problems, typed_problems])
    checks = plausibility_checks(parsed.frame, on=on)
    if checks:
        frame = parsed.frame.with_row_index("__row")
        problems = pl.concat(
            [problems]
            + [
                frame.filter(mask.fill_null(False)).select(
                    (pl.col("__row").cast(pl.Int64) + 2).alias("line"),
                    pl.lit(name).alias("field"),
                    pl.col(name).cast(pl.String).alias("value"),
                    pl.lit(en).alias("reason_en"),
                    pl.lit(ko).alias("reason_ko"),
                )
                for name, mask, en, ko in checks
            ]
        )
    birth = parsed.frame["birth_date"] if "birth_date" in parsed.frame.columns else None
    problems = pl.concat([problems, _person_problems(session, raw, birth, actor)])
    return parsed, problems.sort("line", "field")


def _screen_rows(lp, good: pl.DataFrame, *, columns: list[str], on: dt.date) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(outcome, points, failed, missing and per-criterion results; the stored profile) of the good
    rows, screened in one vectorised pass."""

    core = screen_core(lp.checked, good, on=on)
    listed = add_lists(lp.rules, core, good)
    crit_ids = [c.id for c in lp.rules.criteria]
    result_text = [
        pl.when(pl.col(criterion_column(c)).is_null())
        .then(pl.lit("missing"))
        .when(pl.col(criterion_column(c)))
        .then(pl.lit("pass"))
        .otherwise(pl.lit("fail"))
        .alias("result")
        for c in crit_ids
    ]
    results = listed.select(
        pl.col("outcome").cast(pl.String),
        pl.col("points").cast(pl.Float64),
        pl.col("failed"),
        pl.col("missing"),
        pl.concat_list(
            [pl.struct(pl.lit(c).alias("id"), expr) for c, expr in zip(crit_ids, result_text, strict=True)]
        ).alias("criteria"),
    )
    profile_cols = [c for c in good.columns if not c.startswith("__") and c in columns]
    profile = good.select(
        pl.struct(
            [pl.col(c).cast(pl.String) if good.schema[c] in (pl.Date, pl.Datetime) else pl.col(c) for c in profile_cols]
        ).alias("profile")
    )
    return results, profile


def _application_table(
    ids_raw: pl.DataFrame, good: pl.DataFrame, profile: pl.DataFrame, results: pl.DataFrame
) -> pl.DataFrame:
    """One row per good line: identity (passport encrypted), nationality, birth date, profile, results."""
    identity = ids_raw.select(
        pl.col("name").str.strip_chars().alias("applicant_name"),
        pl.col("passport_no").str.strip_chars().str.to_uppercase().alias("passport_no"),
        pl.col("__passport_hash").alias("passport_hash"),
        (pl.col("sex").str.strip_chars().str.to_uppercase() if "sex" in ids_raw.columns else pl.lit(None)).alias("sex"),
        (
            pl.col("person_id").str.strip_chars().replace("", None)
            if "person_id" in ids_raw.columns
            else pl.lit(None, pl.String)
        ).alias("person_id"),
    )
    birth = good["birth_date"] if "birth_date" in good.columns else pl.Series([None] * good.height, dtype=pl.Date)
    identity = identity.with_columns(
        pl.Series("passport_enc", pii.encrypt(identity["passport_no"].to_list()), dtype=pl.String)
    ).drop("passport_no")
    return pl.concat(
        [identity, good.select(pl.col("nationality")), profile, results],
        how="horizontal",
    ).with_columns(
        pl.Series("birth_date", birth),
        pl.col("profile").struct.with_fields(pl.col("sex").cast(pl.String)),
    )


@dataclass(frozen=True)
class _Batch:
    """What every row of one import shares: programme, version, day, who, when, and the file's name."""

    program_id: str
    region: str
    version: Any
    on: dt.date
    actor: str
    now: dt.datetime
    name: str


def _insert_applications(session: Session, conn, table: pl.DataFrame, batch: _Batch) -> pl.Series:
    """The applications, in one bulk insert (409 when a passport arrived meanwhile); their new ids,
    in the table's order."""
    simplified = simplified_for(session=session, region=batch.region)
    app_rows = table.select(
        pl.lit(batch.program_id).alias("program_id"),
        pl.lit(batch.region).alias("region"),
        pl.lit("screened").alias("status"),
        "applicant_name",
        "passport_enc",
        "passport_hash",
        pl.col("passport_hash").alias("open_passport"),
        "nationality",
        "birth_date",
        "person_id",
        "profile",
        pl.lit(batch.now).alias("submitted_at"),
        pl.lit(batch.on).alias("submitted_on"),
        pl.lit(batch.actor).alias("submitted_by"),
        pl.lit("import").alias("channel"),
        "outcome",
        "points",
        pl.lit(batch.version.version).alias("program_version"),
        pl.lit(simplified).alias("simplified"),
        pl.lit(False).alias("reserved"),
        pl.lit(batch.now).alias("updated_at"),
    )
    try:
        bulk_insert(conn=conn, table="application", df=_driver_frame(app_rows, conn, json_columns=("profile",)))
    except IntegrityError as exc:
        raise Conflict(
            code="duplicate_application",
            ko="가져오는 동안 같은 여권의 신청이 접수되었습니다; 다시 시도하십시오",
            en="an application with one of these passports arrived during the import; run it again",
        ) from exc
    id_rows = session.execute(
        select(Application.passport_hash, Application.id).where(
            Application.program_id == batch.program_id,
            Application.submitted_at == batch.now,
            Application.channel == "import",
        )
    ).all()
    id_map = pl.DataFrame(id_rows, schema={"passport_hash": pl.String, "application_id": pl.Int64}, orient="row")
    ids = table.select("passport_hash").join(id_map, on="passport_hash", how="left", maintain_order="left")
    return ids["application_id"]


def _insert_screenings(session: Session, conn, table: pl.DataFrame, ids: pl.Series, batch: _Batch) -> list:
    """Each application's initial screening (its explanation kept short: `detail: batch`, which
    `views.full_explanation` expands); their new ids, in the table's order."""
    version = batch.version
    explanation = table.select(
        pl.struct(
            pl.lit(batch.program_id).alias("program"),
            pl.lit(version.version).alias("version"),
            pl.lit(batch.on.isoformat()).alias("on"),
            "outcome",
            "points",
            pl.col("failed").str.split(";").list.eval(pl.element().filter(pl.element() != "")).alias("failed"),
            pl.col("missing").str.split(";").list.eval(pl.element().filter(pl.element() != "")).alias("missing"),
            pl.col("criteria"),
            pl.lit("batch").alias("detail"),
        ).alias("explanation")
    )
    screen_rows = pl.concat(
        [ids.to_frame(), table.select("outcome", "points"), explanation], how="horizontal"
    ).with_columns(
        pl.lit(batch.program_id).alias("program_id"),
        pl.lit(version.version).alias("program_version"),
        pl.lit(version.digest).alias("program_digest"),
        pl.lit(batch.on).alias("screened_on"),
        pl.lit("initial").alias("kind"),
        pl.lit(batch.actor).alias("actor"),
        pl.lit(batch.now).alias("at"),
        pl.lit(f"batch screening of {batch.name}").alias("reason"),
    )
    bulk_insert(
        conn=conn, table="application_screening", df=_driver_frame(screen_rows, conn, json_columns=("explanation",))
    )
    scr_rows = session.execute(
        select(Screening.application_id, Screening.id).where(
            Screening.program_id == batch.program_id, Screening.at == batch.now, Screening.kind == "initial"
        )
    ).all()
    scr_map = pl.DataFrame(scr_rows, schema={"application_id": pl.Int64, "screening_id": pl.Int64}, orient="row")
    screening_ids = ids.to_frame().join(scr_map, on="application_id", how="left", maintain_order="left")
    return screening_ids["screening_id"].to_list()


def _insert_events(conn, ids: pl.Series, screening_ids: list, batch: _Batch) -> None:
    """Two history rows per application: `submit` (none → submitted) and `screen` (→ screened)."""
    n_good, new_ids = ids.len(), ids.to_list()
    event_frame = pl.DataFrame(
        {"application_id": new_ids * 2, "screening_id": [None] * n_good + screening_ids},
        schema={"application_id": pl.Int64, "screening_id": pl.Int64},
    ).with_columns(
        pl.Series("from_status", [None] * n_good + ["submitted"] * n_good, dtype=pl.String),
        pl.Series("to_status", ["submitted"] * n_good + ["screened"] * n_good),
        pl.Series("move", ["submit"] * n_good + ["screen"] * n_good),
        pl.lit(batch.actor).alias("actor"),
        pl.lit(batch.now).alias("at"),
        pl.lit(f"bulk intake from {batch.name}").alias("reason"),
        pl.lit(False).alias("automatic"),
    )
    bulk_insert(conn=conn, table="application_event", df=_driver_frame(event_frame, conn))


def _pinned(ids: pl.Series | None, table: pl.DataFrame | None) -> dict:
    """What the batch's one audit entry pins of every application's screening (id, outcome, points,
    failed criteria, missing fields); the per-application transitions are in application_event."""
    if ids is None or table is None:
        return {"first_id": None, "last_id": None, "sha256": None}
    pinned = pl.concat([ids.to_frame(), table.select("outcome", "points", "failed", "missing")], how="horizontal")
    return {
        "first_id": int(ids.min()),
        "last_id": int(ids.max()),
        "sha256": hashlib.sha256(pinned.write_csv().encode()).hexdigest(),
    }


@use_case(action="applications.recommend", subject=PROGRAMME, subject_arg="program_id", audit="application.import")
def import_applications(
    *,
    session: Session,
    program_id: Any,
    source: Path | pl.DataFrame,
    actor: Actor,
    on: dt.date | None = None,
    source_name: str | None = None,
) -> Done:
    """Bulk intake: good rows in (screened in one vectorised pass), bad rows reported with line,
    field, value and reason; within one transaction, so nothing is half-written."""
    program = program_id  # the caller names the programme by id; the use case hands over its row
    program_id = program.id
    on = on or dt.date.today()
    version = programs.published_on(session=session, program_id=program_id, on=on)
    lp = programs.loaded(version)
    raw, name = _read_source(source, source_name)
    parsed, problems = _row_problems(session, raw, program_id=program_id, actor=actor, on=on)
    bad_lines = problems["line"].unique()
    typed = parsed.frame.with_row_index("__row").with_columns((pl.col("__row") + 2).alias("__line"))
    good = typed.filter(~pl.col("__line").is_in(bad_lines.implode()))
    ids_raw = raw.with_row_index("__row").filter(~(pl.col("__row") + 2).is_in(bad_lines.implode()))
    n_good = good.height
    outcomes: dict[str, int] = {}
    ids = table = None
    if n_good:
        good = good.with_columns(pl.col("nationality").str.strip_chars().str.to_uppercase())
        results, profile = _screen_rows(lp, good, columns=parsed.frame.columns, on=on)
        outcomes = dict(results.group_by("outcome").len().iter_rows())
        batch = _Batch(program_id, program.region, version, on, actor.username, utcnow(), name)
        table = _application_table(ids_raw, good, profile, results)
        conn = session.connection()
        ids = _insert_applications(session, conn, table, batch)
        screening_ids = _insert_screenings(session, conn, table, ids, batch)
        _insert_events(conn, ids, screening_ids, batch)
    rejected = int(bad_lines.len())
    outcome = "committed" if rejected == 0 else ("committed_with_rejects" if n_good else "rolled_back")
    return Done(
        value=ImportResult(name, program_id, raw.height, n_good, rejected, outcome, problems, outcomes),
        reason=f"bulk intake from {name}",
        inputs={
            "source": name,
            "version": version.version,
            "digest": version.digest,
            "on": on,
            "rows_read": raw.height,
            "inserted": n_good,
            "rejected_rows": rejected,
            "outcomes": outcomes,
            "applications": _pinned(ids, table),
        },
    )
