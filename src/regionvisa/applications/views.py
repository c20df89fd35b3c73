"""Application read views: the recommendation queue, one application as a dict, the passport reveal, the export.

Nothing here writes. The queue ranks eligible applications by points, then submission time, in one
Polars sort over the columns; a list or an export shows the passport masked, and only the ministry
sees the whole number, on one application's own page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from regionvisa.accounts.policy import grant
from regionvisa.applications.documents import checklist, missing_documents
from regionvisa.applications.lifecycle import APPLICATIONS
from regionvisa.applications.models import Application, Screening
from regionvisa.applications.moves import explanation
from regionvisa.applications.service import events, jsonable, latest_screening, screenings
from regionvisa.applications.subjects import READ, RECOMMEND, read_region, readable_programme
from regionvisa.core.actor import Actor
from regionvisa.core.errors import NotFound
from regionvisa.core.paging import Page, offset_of
from regionvisa.programs import service as programs
from regionvisa.quotas import service as quotas
from regionvisa.quotas.models import QuotaLedger
from regionvisa.records import pii
from regionvisa.reports.files import write_csv_safe, write_xlsx_safe

# --------------------------------------------------------------------------------- queue and ranking


@dataclass
class Queue:
    program_id: str
    remaining: int | None
    frame: pl.DataFrame  # id, points, submitted_at, outcome, rank (eligible only), within_places
    ties: int = 0
    notes: list[str] = field(default_factory=list)


def queue(*, session: Session, program_id: str, statuses: tuple[str, ...] = ("screened",)) -> Queue:
    """The region's recommendation queue: eligible applications ranked by points, then submission time.

    The sort is one Polars operation over the columns; `rank` is null for applications that are not
    eligible (they are listed after, with their outcome)."""
    rows = session.execute(
        select(
            Application.id,
            Application.points,
            Application.submitted_at,
            Application.outcome,
            Application.nationality,
            Application.submitted_on,
        ).where(Application.program_id == program_id, Application.status.in_(statuses))
    ).all()
    schema = {
        "id": pl.Int64,
        "points": pl.Float64,
        "submitted_at": pl.Datetime("us", "UTC"),
        "outcome": pl.String,
        "nationality": pl.String,
        "submitted_on": pl.Date,
    }
    frame = pl.DataFrame(
        [list(col) for col in zip(*rows, strict=True)] if rows else [[] for _ in schema], schema=schema, orient="col"
    )
    frame = frame.with_columns(
        pl.col("submitted_at").dt.replace_time_zone(None).dt.replace_time_zone("UTC")
        if frame.schema["submitted_at"].time_zone is None
        else pl.col("submitted_at")
    )
    eligible = (pl.col("outcome") == "eligible").cast(pl.Int8)
    frame = frame.sort(
        [eligible, pl.col("points").fill_null(0), pl.col("submitted_at"), pl.col("id")],
        descending=[True, True, False, False],
    )
    frame = frame.with_columns(
        pl.when(pl.col("outcome") == "eligible").then(pl.int_range(1, pl.len() + 1)).otherwise(None).alias("rank"),
        pl.col("points").fill_null(0).is_duplicated().over(pl.col("outcome")).alias("tied_on_points"),
    )
    remaining = None
    try:
        today = dt.date.today()
        on = frame["submitted_on"].max() if frame.height else today
        ledger = quotas.ledger_for(session=session, program_id=program_id, on=on or today)
        remaining = ledger.remaining
    except NotFound:
        pass
    frame = frame.with_columns(
        (pl.col("rank") <= remaining).alias("within_places")
        if remaining is not None
        else pl.lit(None).alias("within_places")
    )
    return Queue(program_id, remaining, frame, ties=int(frame["tied_on_points"].sum()))


def queue_page(
    *, session: Session, actor: Actor, program_id: str, page: int, page_size: int, action: str = READ
) -> dict:
    """One page of a programme's queue for `actor`, who must hold `action` for the programme's
    region (403 otherwise): rank, standing, missing fields and documents of each application."""
    readable_programme(actor, programs.get_program(session=session, program_id=program_id), action=action)
    q = queue(session=session, program_id=program_id)
    window = q.frame.slice(offset_of(page, page_size), page_size)
    items = []
    for row in window.iter_rows(named=True):  # one page of rows, for display
        app = session.get(Application, row["id"])
        scr = latest_screening(session=session, app=app)
        items.append(
            {
                **application_dict(session=session, app=app),
                "rank": row["rank"],
                "within_places": row["within_places"],
                "missing_fields": (scr.explanation or {}).get("missing", []) if scr else [],
                "missing_documents": missing_documents(session=session, app=app),
                "standing": standing(
                    app,
                    scr,
                    row["rank"],
                    q.remaining,
                    explained=full_explanation(session=session, screening=scr) if scr else None,
                ),
            }
        )
    return {
        **Page(number=page, size=page_size, total=q.frame.height).meta(),
        "program_id": program_id,
        "remaining": q.remaining,
        "eligible": int(q.frame["rank"].is_not_null().sum()),
        "items": items,
    }


def queue_programmes(*, session: Session, actor: Actor, action: str = RECOMMEND) -> list:
    """The programmes whose queue `actor` works on: a regional official's own region's, every one for the ministry."""
    return [
        program
        for program, _version in programs.list_programs(session=session, region=read_region(actor, action=action))
    ]


def programmes_in_force(*, session: Session, actor: Actor, on: dt.date) -> list:
    """The programme versions in force on `on` that `actor` may lodge and read applications to."""
    return programs.in_force(session=session, on=on, region=read_region(actor))


def standing(
    app: Application,
    screening: Screening | None,
    rank: int | None,
    remaining: int | None,
    *,
    explained: dict | None = None,
) -> dict:
    """Why an applicant stands where they do: the points rules earned and the tie-break.

    `explained` is the full explanation: a file's screenings are stored short (no points detail),
    so reading the stored one would say "no points earned" of a 15-point applicant."""
    exp = explained if explained is not None else (screening.explanation or {}) if screening else {}
    detail = exp.get("points_detail", [])
    earned = [p for p in detail if p.get("earned")]
    missed = [p for p in detail if not p.get("earned")]
    return {
        "rank": rank,
        "points": app.points,
        "earned": earned,
        "not_earned": missed,
        "submitted_at": app.submitted_at.isoformat(),
        "within_places": None if rank is None or remaining is None else rank <= remaining,
        "rule": {
            "en": "ordered by points (highest first), then by submission time (earliest first)",
            "ko": "점수 높은 순, 같으면 먼저 접수한 순",
        },
    }


# --------------------------------------------------------------------------------- read views


def full_explanation(*, session: Session, screening: Screening) -> dict:
    """The stored explanation; a batch screening is expanded by the same evaluator on the same
    version and date (a published version never changes, so the result is the one of that day)."""
    exp = screening.explanation or {}
    if exp.get("detail") != "batch":
        return exp
    app = session.get(Application, screening.application_id)
    version = programs.get_version(session=session, program_id=screening.program_id, version=screening.program_version)
    full = jsonable(explanation(version, app.profile, screening.screened_on).to_dict())
    full["expanded_from_batch"] = True
    return full


def sees_full_passport(actor: Actor) -> bool:
    """Only the ministry, on one application's own page, needs the whole number (to check the
    document): the action `applications.passport`. Lists, exports and every other role get it masked."""
    return grant(actor, "applications.passport") is not None


def passport_of(app: Application) -> str:
    return pii.reveal(app.passport_enc) or ""


def masked_passport(app: Application) -> str:
    return pii.mask(passport_of(app))


def application_dict(*, session: Session, app: Application, detail: bool = False, full_passport: bool = False) -> dict:
    clear = passport_of(app)
    out = {
        "id": app.id,
        "program_id": app.program_id,
        "region": app.region,
        "status": app.status,
        "nationality": app.nationality,
        "submitted_at": app.submitted_at.isoformat(),
        "submitted_on": app.submitted_on.isoformat(),
        "channel": app.channel,
        "outcome": app.outcome,
        "points": app.points,
        "program_version": app.program_version,
        "simplified": app.simplified,
        "reserved": app.reserved,
        "ledger_id": app.ledger_id,
        "visa_number": app.visa_number,
        "person_id": app.person_id,
        "status_grant_id": app.status_grant_id,
        "passport_masked": pii.mask(clear),
    }
    if full_passport:
        out["passport_no"] = clear
    if detail:
        scr = latest_screening(session=session, app=app)
        out["screening"] = (
            None
            if scr is None
            else {
                "id": scr.id,
                "program_version": scr.program_version,
                "program_digest": scr.program_digest,
                "on": scr.screened_on.isoformat(),
                "kind": scr.kind,
                "outcome": scr.outcome,
                "points": scr.points,
                "explanation": full_explanation(session=session, screening=scr),
            }
        )
        out["screenings"] = [
            {
                "id": s.id,
                "program_version": s.program_version,
                "on": s.screened_on.isoformat(),
                "kind": s.kind,
                "outcome": s.outcome,
                "points": s.points,
                "actor": s.actor,
                "reason": s.reason,
            }
            for s in screenings(session=session, app=app)
        ]
        out["events"] = [
            {
                "from": e.from_status,
                "to": e.to_status,
                "move": e.move,
                "actor": e.actor,
                "at": e.at.isoformat(),
                "reason": e.reason,
                "screening_id": e.screening_id,
                "automatic": e.automatic,
            }
            for e in events(session=session, app=app)
        ]
        out["documents"] = [
            {
                "doc_type": item["id"],
                "label": item["label"],
                "uploaded": item["document"] is not None,
                "size": item["document"].size if item["document"] else None,
                "sha256": item["document"].sha256 if item["document"] else None,
                "content_type": item["document"].content_type if item["document"] else None,
                "download": (
                    f"/api/v1/applications/{app.id}/documents/{item['document'].id}" if item["document"] else None
                ),
            }
            for item in checklist(session=session, app=app)
        ]
        out["allowed_moves"] = [m for m in APPLICATIONS.allowed(app.status) if m != "screen"]
    return out


# --------------------------------------------------------------------------------- export


EXPORT_COLUMNS = (
    "id",
    "program_id",
    "region",
    "status",
    "nationality",
    "submitted_on",
    "outcome",
    "points",
    "visa_number",
    "passport_masked",
)


def export_frame(
    *,
    session: Session,
    actor: Actor,
    region: str | None = None,
    program_id: str | None = None,
    status: str | None = None,
) -> pl.DataFrame:
    """Applications as a table for spreadsheets: no names, passports masked, whoever asks; only the
    actor's read scope (a regional official's own region, 403 for another one)."""
    region = read_region(actor, region)
    query = select(
        Application.id,
        Application.program_id,
        Application.region,
        Application.status,
        Application.nationality,
        Application.submitted_on,
        Application.outcome,
        Application.points,
        Application.visa_number,
        Application.passport_enc,
    ).order_by(Application.id)
    if region:
        query = query.where(Application.region == region)
    if program_id:
        query = query.where(Application.program_id == program_id)
    if status:
        query = query.where(Application.status == status)
    rows = session.execute(query).all()
    schema = {
        "id": pl.Int64,
        "program_id": pl.String,
        "region": pl.String,
        "status": pl.String,
        "nationality": pl.String,
        "submitted_on": pl.Date,
        "outcome": pl.String,
        "points": pl.Float64,
        "visa_number": pl.String,
        "passport_enc": pl.String,
    }
    frame = pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")
    masked = [pii.mask(v) for v in pii.decrypt(frame["passport_enc"].to_list())]
    return frame.with_columns(pl.Series("passport_masked", masked, dtype=pl.String)).select(EXPORT_COLUMNS)


def write_export(frame: pl.DataFrame, target: Path | Any, fmt: str) -> None:

    if fmt == "xlsx":
        write_xlsx_safe(frame, target, worksheet="applications")
    else:
        write_csv_safe(frame, target)


def intake_date_default(*, session: Session, program_ids: list[str], today: dt.date) -> dt.date | None:
    """The submission date the new-application form proposes: today when a quota ledger of one of
    the programmes covers it, else the nearest day inside the latest ledger (so recommending does
    not fail later with "no quota ledger"); None when no programme has a ledger at all."""
    if not program_ids:
        return None
    rows = session.execute(
        select(QuotaLedger.period_start, QuotaLedger.period_end).where(QuotaLedger.program_id.in_(program_ids))
    ).all()
    if not rows:
        return None
    if any(start <= today <= end for start, end in rows):
        return today
    start, end = max(rows, key=lambda r: r[1])
    return min(max(today, start), end)
