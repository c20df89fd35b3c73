"""Applications: intake, screening, the region's recommendation, the ministry's decision, issuance.

The life cycle is a closed table (`applications.lifecycle.APPLICATIONS`: each move's states, policy
action, reason rule and quota effect); any other move is a 409 naming the state and the moves it
allows. Every move first locks the application's row and checks its state under the lock, then
makes one conditional UPDATE on the status (so two officers acting at once cannot both succeed: the
second waits, then sees the new state and gets the 409), an `application_event` row and an audit
entry carrying the screening it relied on. Quota places move in the same transaction, as the
move's edge declares and only through `_apply_quota`, so a refusal leaves nothing behind.

Locks follow the one order of `regionvisa.locking`: application row, then person and status
grant, then the quota ledger, and the audit head last (entries are recorded once every other
write of the move is done). A lost race the database reports (deadlock, serialization failure,
SQLite busy) is a 409 `concurrent_change`, never a 500.

A `person_id` given at intake links the application to a person of the records. It must be the
applicant (passport number, name and date of birth all match the person record) and a person the
actor may act on: the permission to read that person's records (`records.read`) for the person's
region, which is that of their latest address, else of their latest status. A regional official
may so link people of their own region and people the records place in no region yet; the
ministry, which issues visas for the whole country, may link anyone (a resident of one region
applying to another region's programme is an ordinary case).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from regionvisa import locking
from regionvisa.accounts.policy import ALL, OWN_REGION, Principal, authorize, can, grant
from regionvisa.applications import documents
from regionvisa.applications.lifecycle import APPLICATIONS, STATUS_KO
from regionvisa.applications.models import (
    OPEN_STATUSES,
    Application,
    ApplicationDocument,
    ApplicationEvent,
    RegionBenefit,
    Screening,
)
from regionvisa.applications.rules import application_rules
from regionvisa.audit.service import record
from regionvisa.core.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from regionvisa.core.lifecycle import Edge
from regionvisa.db import utcnow
from regionvisa.programs import service as programs
from regionvisa.quotas import service as quotas
from regionvisa.records import pii
from regionvisa.records.bulk import bulk_insert
from regionvisa.records.models import AddressReport, Person, StatusGrant
from regionvisa.rules.periods import obligation_period

SYSTEM_SIMPLIFIED = "system:simplified-procedure"
HELD_STATUSES = ("recommended", "approved", "issued")  # statuses that hold a place of the quota
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
PASSPORT_RE = re.compile(r"^[A-Z0-9]{5,20}$")
NATIONALITY_RE = re.compile(r"^[A-Z]{3}$")

# The life cycle is declared in `applications.lifecycle`; this view of that table is for the
# transports: move -> (allowed from, to, policy action).
MOVES = APPLICATIONS.moves_table()

ALLOWED_TYPES = {"application/pdf": b"%PDF-", "image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}
EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


def _actor_name(actor: Any) -> str:
    return str(getattr(actor, "username", actor))


def _person(actor: Any) -> bool:
    return isinstance(actor, Principal) and not actor.is_system


def _check_actor(actor: Any, action: str, region: str | None) -> None:
    """A signed-in user must hold the action for the application's region; the CLI acts as system."""
    if isinstance(actor, Principal) and not actor.is_system:
        authorize(actor, action, region)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str, ensure_ascii=False))


# --------------------------------------------------------------------------------- lookups


def get(session: Session, application_id: int, *, actor: Any = None) -> Application:
    app = session.get(Application, application_id)
    if app is None:
        raise NotFound(what=f"application {application_id}")
    if actor is not None:
        _check_actor(actor, "applications.read", app.region)
    return app


def latest_screening(session: Session, app: Application) -> Screening | None:
    return session.scalars(
        select(Screening).where(Screening.application_id == app.id).order_by(Screening.id.desc()).limit(1)
    ).first()


def screenings(session: Session, app: Application) -> list[Screening]:
    return list(session.scalars(select(Screening).where(Screening.application_id == app.id).order_by(Screening.id)))


def events(session: Session, app: Application) -> list[ApplicationEvent]:
    return list(
        session.scalars(
            select(ApplicationEvent).where(ApplicationEvent.application_id == app.id).order_by(ApplicationEvent.id)
        )
    )


def list_applications(
    session: Session,
    *,
    region: str | None = None,
    program_id: str | None = None,
    status: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[int, list[Application]]:
    query = select(Application)
    if region:
        query = query.where(Application.region == region)
    if program_id:
        query = query.where(Application.program_id == program_id)
    if status:
        query = query.where(Application.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Application.id.desc()).offset(offset).limit(limit))
    return total, list(rows)


# --------------------------------------------------------------------------------- benefits


BENEFIT_SOURCES = ("evaluation", "override")


def simplified_for(session: Session, region: str) -> bool:
    """Whether the region has the simplified procedure: the one stored flag (`RegionBenefit`)."""
    row = session.get(RegionBenefit, region)
    return bool(row and row.simplified_procedure)


def set_simplified(
    session: Session, region: str, enabled: bool, *, actor: Any, reason: str, source: str = "override"
) -> RegionBenefit:
    """Set the region's flag. `source` says whether a published evaluation set it or a ministry
    administrator overrode it; the audit entry keeps the value and source it replaced."""
    if source not in BENEFIT_SOURCES:
        raise ValueError(f"source must be one of {BENEFIT_SOURCES}, not {source!r}")
    if isinstance(actor, Principal) and not actor.is_system and actor.role != "ministry_admin":
        raise Forbidden(
            en="only a ministry administrator sets the simplified procedure",
            ko="간소화 절차는 법무부 관리자만 지정할 수 있습니다",
        )
    from regionvisa.regions.service import region_codes

    if region not in region_codes():
        raise NotFound(what=f"region {region}")
    if not reason.strip():
        raise Invalid(code="reason_required", ko="사유가 필요합니다", en="a reason is required", field="reason")
    row = session.get(RegionBenefit, region)
    if row is None:
        row = RegionBenefit(region=region)
        session.add(row)
    before, before_source = bool(row.simplified_procedure), row.source
    row.simplified_procedure, row.set_by, row.set_at, row.reason = enabled, _actor_name(actor), utcnow(), reason
    row.source = source
    session.flush()
    record(
        session,
        actor=actor,
        action="applications.benefit.simplified",
        subject=("region", region),
        region=region,
        reason=reason,
        inputs={"simplified_procedure": enabled, "before": before, "source": source, "before_source": before_source},
    )
    return row


def benefits(session: Session) -> list[RegionBenefit]:
    return list(session.scalars(select(RegionBenefit).order_by(RegionBenefit.region)))


# --------------------------------------------------------------------------------- documents


def document_list(design: dict, base_visa: str, simplified: bool) -> list[str]:
    """The design's own checklist (`documents`), else the base visa's national one
    (policy/national/applications.yaml); the simplified procedure asks for the shorter list."""
    declared = design.get("documents") or application_rules().checklist(base_visa).model_dump()
    key = "simplified" if simplified and declared.get("simplified") else "standard"
    return list(declared[key])


def document_labels() -> dict[str, dict[str, str]]:
    """Document id → {en, ko} label, from the national rules."""
    return application_rules().labels()


def _version_for(session: Session, app: Application):
    return programs.get_version(session, app.program_id, app.program_version) if app.program_version else None


def checklist(session: Session, app: Application) -> list[dict]:
    version = _version_for(session, app) or programs.published_on(session, app.program_id, app.submitted_on)
    program = programs.get_program(session, app.program_id)
    required = document_list(version.design, program.base_visa, app.simplified)
    uploaded: dict[str, ApplicationDocument] = {}
    for doc in session.scalars(
        select(ApplicationDocument).where(ApplicationDocument.application_id == app.id).order_by(ApplicationDocument.id)
    ):
        uploaded[doc.doc_type] = doc
    return [{"id": d, "label": application_rules().label(d), "document": uploaded.get(d)} for d in required]


def missing_documents(session: Session, app: Application) -> list[str]:
    return [item["id"] for item in checklist(session, app) if item["document"] is None]


def upload_document(
    session: Session,
    application_id: int,
    *,
    doc_type: str,
    filename: str,
    content: bytes,
    content_type: str,
    actor: Any,
) -> ApplicationDocument:
    """Store one file on disk after size, type and content checks; the database keeps its metadata."""
    app = get(session, application_id)
    if _person(actor) and not (
        can(actor, "applications.recommend", app.region) or can(actor, "applications.decide", app.region)
    ):
        authorize(actor, "applications.recommend", app.region)
    if app.status not in OPEN_STATUSES:
        raise Conflict(
            code="application_closed",
            ko=f"{STATUS_KO[app.status]} 상태의 신청에는 서류를 올릴 수 없습니다",
            en=f"application {app.id} is {app.status}; documents can no longer be added",
        )
    required = [item["id"] for item in checklist(session, app)]
    if doc_type not in required:
        raise Invalid(
            code="unknown_document",
            ko=f"이 신청의 서류 목록에 없는 서류입니다: {doc_type} (필요 서류: {', '.join(required)})",
            en=f"{doc_type!r} is not on this application's checklist ({', '.join(required)})",
            field="doc_type",
        )
    size = len(content)
    if size == 0:
        raise Invalid(code="empty_file", ko="빈 파일입니다", en=f"{filename}: the file is empty", field="file")
    if size > MAX_UPLOAD_BYTES:
        raise DomainError(
            status=413,
            code="file_too_large",
            ko=f"{filename}: 파일이 너무 큽니다 ({size:,} 바이트, 한도 {MAX_UPLOAD_BYTES:,} 바이트)",
            en=f"{filename}: the file is too large ({size:,} bytes; the limit is {MAX_UPLOAD_BYTES:,})",
            field="file",
        )
    content_type = (content_type or "").split(";")[0].strip().lower()
    magic = ALLOWED_TYPES.get(content_type)
    if magic is None:
        raise DomainError(
            status=415,
            code="file_type",
            ko=f"{filename}: 허용되지 않는 파일 형식입니다 ({content_type}); PDF, JPEG, PNG만 가능합니다",
            en=f"{filename}: type {content_type!r} is not accepted; send PDF, JPEG or PNG",
            field="file",
        )
    if not content.startswith(magic):
        raise DomainError(
            status=415,
            code="file_content",
            ko=f"{filename}: 파일 내용이 {content_type} 형식이 아닙니다",
            en=f"{filename}: the content is not a {content_type} file",
            field="file",
        )
    stored = documents.store(application_id=app.id, source=content)  # encrypted at rest
    digest = stored.sha256
    doc = ApplicationDocument(
        application_id=app.id,
        doc_type=doc_type,
        filename=Path(filename or "upload").name[:255],
        content_type=content_type,
        size=stored.size,
        sha256=digest,
        stored_path=stored.stored_path,
        uploaded_by=_actor_name(actor),
        uploaded_at=utcnow(),
    )
    session.add(doc)
    session.flush()
    record(
        session,
        actor=actor,
        action="application.document",
        subject=("application", app.id),
        region=app.region,
        reason=f"document uploaded: {doc_type}",
        inputs={"doc_type": doc_type, "size": size, "sha256": digest, "content_type": content_type},
    )
    return doc


def document_path(doc: ApplicationDocument) -> Path:
    """Where the document's encrypted file is (its clear content: `documents.open_clear`)."""
    return documents.path_of(doc.stored_path)


# --------------------------------------------------------------------------------- intake and screening


def _bad(field_name: str, value: Any, ko: str, en: str) -> DomainError:
    return Invalid(
        code="invalid", ko=f"{field_name} = {value!r}: {ko}", en=f"{field_name} = {value!r}: {en}", field=field_name
    )


def _clean_identity(name: str, passport_no: str, nationality: str) -> tuple[str, str, str]:
    name = (name or "").strip()
    passport = (passport_no or "").strip().upper()
    nat = (nationality or "").strip().upper()
    if not name:
        raise Invalid(code="invalid", ko="이름이 필요합니다", en="the applicant's name is required", field="name")
    if not PASSPORT_RE.match(passport):
        raise Invalid(
            code="invalid",
            ko="여권번호는 영문 대문자와 숫자 5~20자입니다",
            en="the passport number must be 5 to 20 capital letters and digits",
            field="passport_no",
        )
    if not NATIONALITY_RE.match(nat):
        raise _bad(
            "nationality", nationality, "ISO 3166-1 알파-3 국가 코드여야 합니다", "expected an ISO 3166-1 alpha-3 code"
        )
    return name, passport, nat


def _same_name(a: str | None, b: str | None) -> bool:
    """Names compare without regard to case or spacing (`NGUYEN  Van A` is `Nguyen Van A`)."""
    return " ".join((a or "").split()).lower() == " ".join((b or "").split()).lower()


def _is_applicant(person: Person, name: str, passport_hash: str, birth_date: dt.date | None) -> bool:
    """Whether a person record is the applicant: passport number, name and date of birth all match."""
    return (
        birth_date is not None
        and person.passport_hash == passport_hash
        and person.birth_date == birth_date
        and _same_name(person.name, name)
    )


def person_region(session: Session, person_id: str, on: dt.date | None = None) -> str | None:
    """The region the records place a person in on `on` (default today), as the residents view does
    (`records.frames.resident_regions`): that of the latest address in force, else of the latest
    status; None when the records hold neither."""
    on = on or dt.date.today()
    area = session.scalar(
        select(AddressReport.area_code)
        .where(AddressReport.person_id == person_id, AddressReport.effective_date <= on)
        .order_by(AddressReport.effective_date.desc(), AddressReport.id.desc())
        .limit(1)
    )
    if area:
        return area[:2]
    return session.scalar(
        select(StatusGrant.region)
        .where(StatusGrant.person_id == person_id, StatusGrant.granted_on <= on)
        .order_by(StatusGrant.valid_from.desc(), StatusGrant.granted_on.desc(), StatusGrant.id.desc())
        .limit(1)
    )


def _check_person(
    session: Session, person_id: str, *, name: str, passport_hash: str, birth_date: dt.date | None, actor: Any
) -> Person:
    """A `person_id` given at intake: it must exist (422), be a person the actor may act on (403;
    checked before the identity, so the answer tells nothing about another region's people) and
    be the applicant (422)."""
    person = session.get(Person, person_id)
    if person is None:
        raise Invalid(
            code="unknown_person",
            ko=f"기록에 없는 사람 번호입니다: {person_id}",
            en=f"there is no person {person_id} in the records",
            field="person_id",
        )
    if _person(actor) and not can(actor, "records.read", person_region(session, person_id)):
        raise Forbidden(
            en=f"person {person_id} belongs to another region's records: a regional official may link only people "
            "of their own region or people with no region yet (leave person_id empty to apply without the link)",
            ko=f"{person_id}은(는) 다른 지역 기록의 사람입니다. 지자체 담당자는 담당 지역 또는 아직 지역이 없는 사람만 "
            "연결할 수 있습니다 (연결 없이 신청하려면 person_id를 비워 두십시오)",
        )
    if not _is_applicant(person, name, passport_hash, birth_date):
        raise Invalid(
            code="person_mismatch",
            ko=f"사람 기록 {person_id}이(가) 신청인과 일치하지 않습니다: 여권번호, 이름, 생년월일이 모두 같아야 합니다",
            en=f"person {person_id} in the records is not this applicant: the passport number, name and date of birth "
            "must all match",
            field="person_id",
        )
    return person


def _duplicate(program_id: str) -> Conflict:
    return Conflict(
        code="duplicate_application",
        ko=f"같은 여권으로 {program_id}에 진행 중인 신청이 이미 있습니다",
        en=f"this passport already has an open application to {program_id}",
        field="passport_no",
    )


@locking.answers_conflicts
def submit(
    session: Session,
    *,
    program_id: str,
    applicant: dict,
    name: str,
    passport_no: str,
    actor: Any,
    on: dt.date | None = None,
    person_id: str | None = None,
    channel: str = "api",
    at: dt.datetime | None = None,
) -> Application:
    """Take one application and screen it at once against the version in force on the submission date.

    A `person_id` must name the applicant's own person record and one the actor may act on
    (module docstring): otherwise 422 (unknown, or not the applicant) or 403 (out of scope)."""
    on = on or dt.date.today()
    program = programs.get_program(session, program_id)
    if _person(actor) and not (
        can(actor, "applications.recommend", program.region) or can(actor, "applications.decide")
    ):
        authorize(actor, "applications.recommend", program.region)
    version = programs.published_on(session, program_id, on)
    from regionvisa.rules import coerce_applicant

    profile, problems = coerce_applicant(dict(applicant))
    if problems:
        fname, value, en, ko = problems[0]
        raise _bad(fname, value, ko, en)
    name, passport, nationality = _clean_identity(name, passport_no, applicant.get("nationality") or "")
    profile["nationality"] = nationality
    passport_enc, passport_hash = pii.protect(passport)
    birth = profile.get("birth_date")
    birth = birth if isinstance(birth, dt.date) else None
    person_id = (person_id or "").strip() or None
    if person_id is not None:
        _check_person(session, person_id, name=name, passport_hash=passport_hash, birth_date=birth, actor=actor)
    exists = session.scalar(
        select(Application.id).where(Application.program_id == program_id, Application.open_passport == passport_hash)
    )
    if exists is not None:
        raise _duplicate(program_id)
    now = at or utcnow()
    app = Application(
        program_id=program_id,
        region=program.region,
        status="submitted",
        applicant_name=name,
        passport_enc=passport_enc,
        passport_hash=passport_hash,
        open_passport=passport_hash,
        nationality=nationality,
        birth_date=birth,
        person_id=person_id,
        profile=_jsonable(profile),
        submitted_at=now,
        submitted_on=on,
        submitted_by=_actor_name(actor),
        channel=channel,
        simplified=simplified_for(session, program.region),
        program_version=version.version,
        reserved=False,
        updated_at=now,
    )
    try:
        session.add(app)
        session.flush()
    except IntegrityError as exc:
        raise _duplicate(program_id) from exc
    _event(session, app, None, "submitted", "submit", actor, "application received", None)
    received = {
        "actor": actor,
        "action": "application.submit",
        "subject": ("application", app.id),
        "region": app.region,
        "reason": f"application received ({channel})",
        "inputs": {"program_id": program_id, "version": version.version, "on": on, "simplified": app.simplified},
    }
    screening = _screen(session, app, version=version, on=on, actor=actor, kind="initial", reason="automatic screening")
    screened = _move(
        session, app, "screen", actor=actor, reason="automatic screening on submission", screening=screening
    )
    _audit_last(session, received, screened)
    return app


def _explain(version, profile: dict, on: dt.date):
    from regionvisa.rules import explain

    return explain(programs.loaded(version).checked, profile, on=on)


def _screen(session: Session, app: Application, *, version, on: dt.date, actor: Any, kind: str, reason: str):
    exp = _explain(version, app.profile, on)
    screening = Screening(
        application_id=app.id,
        program_id=app.program_id,
        program_version=version.version,
        program_digest=version.digest,
        screened_on=on,
        outcome=exp.outcome,
        points=exp.points,
        explanation=_jsonable(exp.to_dict()),
        kind=kind,
        actor=_actor_name(actor),
        at=utcnow(),
        reason=reason,
    )
    session.add(screening)
    session.flush()
    app.outcome, app.points, app.program_version = exp.outcome, exp.points, version.version
    return screening


def _summary(screening: Screening | None) -> dict:
    """What an audit entry keeps of the explanation it relied on."""
    if screening is None:
        return {}
    exp = screening.explanation or {}
    return {
        "screening_id": screening.id,
        "program_id": screening.program_id,
        "program_version": screening.program_version,
        "program_digest": screening.program_digest,
        "on": screening.screened_on,
        "outcome": screening.outcome,
        "points": screening.points,
        "failed": exp.get("failed", []),
        "missing": exp.get("missing", []),
        "criteria": {c["id"]: c["result"] for c in exp.get("criteria", [])},
    }


def _event(session, app, before, after, move, actor, reason, screening, automatic=False) -> None:
    session.add(
        ApplicationEvent(
            application_id=app.id,
            from_status=before,
            to_status=after,
            move=move,
            actor=_actor_name(actor),
            at=utcnow(),
            reason=reason,
            screening_id=screening.id if screening else None,
            automatic=automatic,
        )
    )


def _move(
    session: Session,
    app: Application,
    move: str,
    *,
    actor: Any,
    reason: str,
    screening: Screening | None = None,
    automatic: bool = False,
    inputs: dict | None = None,
    extra: dict | None = None,
) -> dict:
    """The conditional UPDATE and its event; returns the audit entry, which the caller records
    with `_audit_last` once the move's other writes (quota, records) are done."""
    before = app.status
    to = APPLICATIONS.edge(move, before, application=app.id).to_state
    values = {"status": to, "updated_at": utcnow(), **(extra or {})}
    values["open_passport"] = app.passport_hash if to in OPEN_STATUSES else None
    try:
        result = session.execute(
            update(Application)
            .where(Application.id == app.id, Application.status == before)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    except IntegrityError as exc:  # reopening while another application of the passport is open
        raise _duplicate(app.program_id) from exc
    if result.rowcount != 1:
        session.refresh(app)
        raise APPLICATIONS.refusal(move, app.status, application=app.id)
    session.refresh(app)
    screening = screening or latest_screening(session, app)
    _event(session, app, before, to, move, actor, reason, screening, automatic)
    return {
        "actor": actor,
        "action": f"application.{move}" + (".automatic" if automatic else ""),
        "subject": ("application", app.id),
        "region": app.region,
        "reason": reason,
        "inputs": {"from": before, "to": to, "explanation": _summary(screening), **(inputs or {})},
    }


def _audit_last(session: Session, *entries: dict) -> None:
    """Record the move's audit entries, in order: the audit head is the last lock of the order."""
    for entry in entries:
        record(session, **entry)


def _need_reason(move: str, reason: str) -> str:
    """The move's reason (422 when its edge needs one), or the default text the audit entry keeps."""
    reason = APPLICATIONS.reason(move, reason)
    return reason or {"recommend": "recommended by the region", "approve": "approved", "issue": "visa issued"}.get(
        move, move
    )


def _prepare(
    session: Session, application_id: int, move: str, actor: Any, reason: str
) -> tuple[Application, Edge, str]:
    """Check the actor against the move's action and its reason, then lock the application row
    (first lock of the order) and find the move's edge from the state read under the lock: a
    second officer acting at the same moment waits here, then gets 409."""
    app = get(session, application_id)
    _check_actor(actor, APPLICATIONS.action(move), app.region)
    reason = _need_reason(move, reason)
    app = locking.lock_row(session, Application, app.id, touch="updated_at")
    return app, APPLICATIONS.edge(move, app.status, application=app.id), reason


QUOTA_MOVES = {"reserve": quotas.reserve, "release": quotas.release, "use": quotas.use, "unuse": quotas.unuse}


def _apply_quota(session: Session, app: Application, edge: Edge, *, actor: Any, reason: str, ledger=None) -> None:
    """The one place an application move changes the quota: the effect its edge declares
    (`applications.lifecycle`), on the ledger the application holds its place in (or `ledger`, for
    the reservation that first ties it to one). Called after the status change, before the audit."""
    effect = edge.effect("quota")
    if effect is None:
        return
    if ledger is None and app.ledger_id is not None:
        ledger = quotas.get_ledger(session, app.ledger_id)
    if ledger is not None:
        QUOTA_MOVES[effect](session, ledger, application_id=app.id, actor=_actor_name(actor), reason=reason)


@locking.answers_conflicts
def rescreen(session: Session, application_id: int, *, actor: Any, reason: str, on: dt.date | None = None) -> Screening:
    """An explicit new screening (new row, old ones kept) on `on` (default: today)."""
    app, _edge, reason = _prepare(session, application_id, "rescreen", actor, reason)
    on = on or dt.date.today()
    version = programs.published_on(session, app.program_id, on)
    screening = _screen(session, app, version=version, on=on, actor=actor, kind="rescreen", reason=reason)
    entry = _move(
        session,
        app,
        "rescreen",
        actor=actor,
        reason=reason,
        screening=screening,
        extra={"outcome": app.outcome, "points": app.points, "program_version": app.program_version},
    )
    _audit_last(session, entry)
    return screening


def _ledger(session: Session, app: Application):
    try:
        return quotas.ledger_for(session, app.program_id, app.submitted_on)
    except NotFound as exc:
        raise Conflict(
            code="no_quota_ledger",
            ko=f"{app.program_id}의 {app.submitted_on} 기간 정원 원장이 개설되지 않았습니다",
            en=f"no quota ledger is open for {app.program_id} covering {app.submitted_on}",
        ) from exc


def nationality_share(session: Session, ledger_id: int, nationality: str) -> tuple[int, int]:
    """(recommendations of this nationality, all recommendations) holding places of the ledger."""
    same, total = session.execute(
        select(
            func.coalesce(func.sum(case((Application.nationality == nationality, 1), else_=0)), 0), func.count()
        ).where(Application.ledger_id == ledger_id, Application.status.in_(HELD_STATUSES))
    ).one()
    return int(same), int(total)


def _check_cap(session: Session, app: Application, ledger, version) -> None:
    cap = (version.design or {}).get("nationality_cap")
    if not cap:
        return
    same, total = nationality_share(session, ledger.id, app.nationality)  # includes this application
    if total < application_rules().nationality_cap_min_base(app.submitted_on) or same / total <= cap:
        return
    before_same, before_total = same - 1, total - 1
    share_now = before_same / before_total if before_total else 0.0
    raise Conflict(
        code="nationality_cap",
        ko=f"국적 상한 초과: {app.nationality}의 현재 추천 비율은 {before_same}/{before_total}명 "
        f"({share_now:.1%})이며, "
        f"추천하면 {same}/{total}명 ({same / total:.1%})으로 상한 {cap:.0%}를 넘습니다",
        en=f"nationality cap: {app.nationality} currently holds {before_same} of {before_total} recommendations "
        f"({share_now:.1%}); recommending would make {same} of {total} ({same / total:.1%}), "
        f"above the cap of {cap:.0%}",
    )


@locking.answers_conflicts
def recommend(session: Session, application_id: int, *, actor: Any, reason: str = "") -> Application:
    """The region recommends: a place is reserved (or 409 quota exhausted) and the nationality cap
    checked while the ledger row is locked; under the simplified procedure an applicant who passes
    every criterion is approved at once. Locks: application, ledger, audit head."""
    app, edge, reason = _prepare(session, application_id, "recommend", actor, reason)
    if app.outcome != "eligible":
        raise Conflict(
            code="not_eligible",
            ko=f"적격 판정을 받은 신청만 추천할 수 있습니다 (현재: {app.outcome})",
            en=f"only an eligible application can be recommended (this one is {app.outcome})",
        )
    ledger = _ledger(session, app)
    version = _version_for(session, app)
    entries = [
        _move(session, app, "recommend", actor=actor, reason=reason, extra={"ledger_id": ledger.id, "reserved": True})
    ]
    _apply_quota(session, app, edge, actor=actor, reason=reason, ledger=ledger)
    _check_cap(session, app, ledger, version)
    if app.simplified and app.outcome == "eligible":
        entries.append(
            _move(
                session,
                app,
                "approve",
                actor=SYSTEM_SIMPLIFIED,
                reason="automatic approval under the simplified procedure benefit: every criterion passed",
                automatic=True,
                inputs={"benefit": "simplified_procedure", "recommended_by": _actor_name(actor)},
            )
        )
    _audit_last(session, *entries)
    return app


@locking.answers_conflicts
def return_(session: Session, application_id: int, *, actor: Any, reason: str) -> Application:
    app, _edge, reason = _prepare(session, application_id, "return", actor, reason)
    _audit_last(session, _move(session, app, "return", actor=actor, reason=reason))
    return app


@locking.answers_conflicts
def approve(session: Session, application_id: int, *, actor: Any, reason: str = "") -> Application:
    app, _edge, reason = _prepare(session, application_id, "approve", actor, reason)
    _audit_last(session, _move(session, app, "approve", actor=actor, reason=reason))
    return app


@locking.answers_conflicts
def reject(session: Session, application_id: int, *, actor: Any, reason: str) -> Application:
    app, edge, reason = _prepare(session, application_id, "reject", actor, reason)
    entry = _move(session, app, "reject", actor=actor, reason=reason, extra={"reserved": False})
    _apply_quota(session, app, edge, actor=actor, reason=reason)
    _audit_last(session, entry)
    return app


@locking.answers_conflicts
def withdraw(session: Session, application_id: int, *, actor: Any, reason: str) -> Application:
    app, edge, reason = _prepare(session, application_id, "withdraw", actor, reason)
    entry = _move(session, app, "withdraw", actor=actor, reason=reason, extra={"reserved": False})
    _apply_quota(session, app, edge, actor=actor, reason=reason)
    _audit_last(session, entry)
    return app


def visa_number(app: Application, on: dt.date) -> str:
    return f"RV{on.year}{app.region}{app.id:08d}"


@locking.answers_conflicts
def issue(session: Session, application_id: int, *, actor: Any, reason: str = "", on: dt.date | None = None):
    """Issuance turns the reservation into a used place and writes the status grant into the records.

    Locks: application, person and status grant, ledger, audit head. A linked person is checked
    again against the applicant's identity, so no grant can land on somebody else's record."""
    app, edge, reason = _prepare(session, application_id, "issue", actor, reason)
    on = on or dt.date.today()
    if app.birth_date is None:
        raise Conflict(
            code="birth_date_required",
            ko="발급에는 생년월일이 필요합니다",
            en="issuance needs the applicant's date of birth",
        )
    program = programs.get_program(session, app.program_id)
    version = _version_for(session, app)
    person_id = app.person_id or f"RV{app.id:09d}"
    person = session.get(Person, person_id)
    if app.person_id and (
        person is None or not _is_applicant(person, app.applicant_name, app.passport_hash, app.birth_date)
    ):
        raise Conflict(
            code="person_mismatch",
            ko=f"신청에 연결된 사람 기록 {app.person_id}이(가) 신청인(여권번호·이름·생년월일)과 "
            "일치하지 않아 발급할 수 없습니다",
            en=f"the person record {app.person_id} linked to this application does not match the applicant "
            "(passport number, name and date of birth); the visa cannot be issued to it",
            field="person_id",
        )
    if person is None:
        sex = str(app.profile.get("sex") or "X").upper()
        session.add(
            Person(
                person_id=person_id,
                name=app.applicant_name,
                nationality=app.nationality,
                birth_date=app.birth_date,
                sex=sex if sex in ("F", "M", "X") else "X",
                passport_enc=app.passport_enc,
                passport_hash=app.passport_hash,
            )
        )
        session.flush()
    default_months = application_rules().default_status_months(on)
    months = int((version.design or {}).get("obligation_months") or default_months) if version else default_months
    subtype = app.profile.get("e7_subtype") if program.base_visa == "E-7" else None
    grant = StatusGrant(
        person_id=person_id,
        visa=program.base_visa,
        subtype=subtype,
        program_id=app.program_id,
        region=app.region,
        valid_from=on,
        valid_to=obligation_period(on, max(months, 1))[1] - dt.timedelta(days=1),
        granted_on=on,
    )
    session.add(grant)
    session.flush()
    number = visa_number(app, on)
    entry = _move(
        session,
        app,
        "issue",
        actor=actor,
        reason=reason,
        extra={"reserved": False, "visa_number": number, "person_id": person_id, "status_grant_id": grant.id},
        inputs={"visa_number": number, "status_grant_id": grant.id, "valid_to": grant.valid_to},
    )
    _apply_quota(session, app, edge, actor=actor, reason=reason)
    _audit_last(session, entry)
    return app


@locking.answers_conflicts
def cancel(session: Session, application_id: int, *, actor: Any, reason: str, on: dt.date | None = None):
    """Cancelling an approval releases its place; cancelling an issued visa ends the status grant and
    gives the used place back (the two `cancel` edges of `applications.lifecycle`)."""
    app, edge, reason = _prepare(session, application_id, "cancel", actor, reason)
    on = on or dt.date.today()
    entry = _move(session, app, "cancel", actor=actor, reason=reason, extra={"reserved": False})
    if edge.effect("records") == "end_grant":  # the grant before the ledger (lock order)
        grant = session.get(StatusGrant, app.status_grant_id) if app.status_grant_id else None
        if grant is not None:
            grant.valid_to = max(grant.valid_from, on)
    _apply_quota(session, app, edge, actor=actor, reason=reason)
    _audit_last(session, entry)
    return app


ACTIONS = {
    "recommend": recommend,
    "return": return_,
    "approve": approve,
    "reject": reject,
    "issue": issue,
    "withdraw": withdraw,
    "cancel": cancel,
    "rescreen": rescreen,
}


@locking.answers_conflicts
def act(session: Session, application_id: int, move: str, *, actor: Any, reason: str = "") -> Application:
    """One entry point for the transports: any move by name (unknown moves are a 409 as well)."""
    if move not in ACTIONS:
        raise Conflict(
            code="invalid_transition",
            ko=f"알 수 없는 처리입니다: {move} (가능: {', '.join(ACTIONS)})",
            en=f"unknown move {move!r} (known: {', '.join(ACTIONS)})",
        )
    ACTIONS[move](session, application_id, actor=actor, reason=reason)
    return get(session, application_id)


# --------------------------------------------------------------------------------- queue and ranking


@dataclass
class Queue:
    program_id: str
    remaining: int | None
    frame: pl.DataFrame  # id, points, submitted_at, outcome, rank (eligible only), within_places
    ties: int = 0
    notes: list[str] = field(default_factory=list)


def queue(session: Session, *, program_id: str, statuses: tuple[str, ...] = ("screened",)) -> Queue:
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
        ledger = quotas.ledger_for(session, program_id, on or today)
        remaining = ledger.remaining
    except NotFound:
        pass
    frame = frame.with_columns(
        (pl.col("rank") <= remaining).alias("within_places")
        if remaining is not None
        else pl.lit(None).alias("within_places")
    )
    return Queue(program_id, remaining, frame, ties=int(frame["tied_on_points"].sum()))


def standing(app: Application, screening: Screening | None, rank: int | None, remaining: int | None) -> dict:
    """Why an applicant stands where they do: the points rules earned and the tie-break."""
    detail = (screening.explanation or {}).get("points_detail", []) if screening else []
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


# --------------------------------------------------------------------------------- bulk intake


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
    from regionvisa.records.feeds import FeedFileError, read_feed_file

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


def _person_problems(session: Session, raw: pl.DataFrame, birth: pl.Series | None, actor: Any) -> pl.DataFrame:
    """The rows whose `person_id` is unknown, out of the actor's scope or not the applicant (the
    checks of `_check_person`, over the columns: a few queries for the whole file)."""
    if "person_id" not in raw.columns:
        return pl.DataFrame(schema=REJECT_SCHEMA)
    rows = (
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
    if rows.height == 0:
        return pl.DataFrame(schema=REJECT_SCHEMA)
    scope = grant(actor, "records.read") if _person(actor) else ALL
    today = dt.date.today()
    ids = rows["person_id"].unique().to_list()
    people, addresses, statuses = [], [], []
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        people += session.execute(
            select(Person.person_id, Person.name, Person.birth_date, Person.passport_hash).where(
                Person.person_id.in_(chunk)
            )
        ).all()
        if scope == OWN_REGION:
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
    known = pl.DataFrame(
        people,
        schema={"person_id": pl.String, "p_name": pl.String, "p_birth": pl.Date, "p_hash": pl.String},
        orient="row",
    ).with_columns(pl.col("p_name").str.replace_all(r"\s+", " ").str.strip_chars().str.to_lowercase(), known=True)
    joined = rows.join(known, on="person_id", how="left")
    if scope == OWN_REGION:
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


def import_applications(
    session: Session,
    *,
    program_id: str,
    source: Path | pl.DataFrame,
    actor: Any,
    on: dt.date | None = None,
    source_name: str | None = None,
) -> ImportResult:
    """Bulk intake: good rows in (screened in one vectorised pass), bad rows reported with line,
    field, value and reason; within one transaction, so nothing is half-written."""
    from regionvisa.rules import add_lists, parse_applicants, screen_core
    from regionvisa.rules.compile import criterion_column

    on = on or dt.date.today()
    program = programs.get_program(session, program_id)
    _check_actor(actor, "applications.recommend", program.region)
    version = programs.published_on(session, program_id, on)
    lp = programs.loaded(version)
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
    hashes = raw["__passport_hash"].drop_nulls()
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
    birth = parsed.frame["birth_date"] if "birth_date" in parsed.frame.columns else None
    problems = pl.concat([problems, _person_problems(session, raw, birth, actor)])
    problems = problems.sort("line", "field")
    bad_lines = problems["line"].unique()
    typed = parsed.frame.with_row_index("__row").with_columns((pl.col("__row") + 2).alias("__line"))
    good = typed.filter(~pl.col("__line").is_in(bad_lines.implode()))
    ids_raw = raw.with_row_index("__row").filter(~(pl.col("__row") + 2).is_in(bad_lines.implode()))
    n_good = good.height
    outcomes: dict[str, int] = {}
    if n_good:
        good = good.with_columns(pl.col("nationality").str.strip_chars().str.to_uppercase())
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
        outcomes = dict(results.group_by("outcome").len().iter_rows())
        profile_cols = [c for c in good.columns if not c.startswith("__") and c in parsed.frame.columns]
        profile = good.select(
            pl.struct(
                [
                    pl.col(c).cast(pl.String) if good.schema[c] in (pl.Date, pl.Datetime) else pl.col(c)
                    for c in profile_cols
                ]
            ).alias("profile")
        )
        now = utcnow()
        simplified = simplified_for(session, program.region)
        identity = ids_raw.select(
            pl.col("name").str.strip_chars().alias("applicant_name"),
            pl.col("passport_no").str.strip_chars().str.to_uppercase().alias("passport_no"),
            pl.col("__passport_hash").alias("passport_hash"),
            (pl.col("sex").str.strip_chars().str.to_uppercase() if "sex" in ids_raw.columns else pl.lit(None)).alias(
                "sex"
            ),
            (
                pl.col("person_id").str.strip_chars().replace("", None)
                if "person_id" in ids_raw.columns
                else pl.lit(None, pl.String)
            ).alias("person_id"),
        )
        birth = good["birth_date"] if "birth_date" in good.columns else pl.Series([None] * n_good, dtype=pl.Date)
        identity = identity.with_columns(
            pl.Series("passport_enc", pii.encrypt(identity["passport_no"].to_list()), dtype=pl.String)
        ).drop("passport_no")
        table = pl.concat(
            [identity, good.select(pl.col("nationality")), profile, results],
            how="horizontal",
        ).with_columns(
            pl.Series("birth_date", birth),
            pl.col("profile").struct.with_fields(pl.col("sex").cast(pl.String)),
        )
        app_rows = table.select(
            pl.lit(program_id).alias("program_id"),
            pl.lit(program.region).alias("region"),
            pl.lit("screened").alias("status"),
            "applicant_name",
            "passport_enc",
            "passport_hash",
            pl.col("passport_hash").alias("open_passport"),
            "nationality",
            "birth_date",
            "person_id",
            "profile",
            pl.lit(now).alias("submitted_at"),
            pl.lit(on).alias("submitted_on"),
            pl.lit(_actor_name(actor)).alias("submitted_by"),
            pl.lit("import").alias("channel"),
            "outcome",
            "points",
            pl.lit(version.version).alias("program_version"),
            pl.lit(simplified).alias("simplified"),
            pl.lit(False).alias("reserved"),
            pl.lit(now).alias("updated_at"),
        )
        conn = session.connection()
        try:
            bulk_insert(conn, "application", _driver_frame(app_rows, conn, json_columns=("profile",)))
        except IntegrityError as exc:
            raise Conflict(
                code="duplicate_application",
                ko="가져오는 동안 같은 여권의 신청이 접수되었습니다; 다시 시도하십시오",
                en="an application with one of these passports arrived during the import; run it again",
            ) from exc
        id_rows = session.execute(
            select(Application.passport_hash, Application.id).where(
                Application.program_id == program_id, Application.submitted_at == now, Application.channel == "import"
            )
        ).all()
        id_map = pl.DataFrame(id_rows, schema={"passport_hash": pl.String, "application_id": pl.Int64}, orient="row")
        ids = table.select("passport_hash").join(id_map, on="passport_hash", how="left", maintain_order="left")
        ids = ids["application_id"]
        new_ids = ids.to_list()
        explanation = table.select(
            pl.struct(
                pl.lit(program_id).alias("program"),
                pl.lit(version.version).alias("version"),
                pl.lit(on.isoformat()).alias("on"),
                "outcome",
                "points",
                pl.col("failed").str.split(";").list.eval(pl.element().filter(pl.element() != "")).alias("failed"),
                pl.col("missing").str.split(";").list.eval(pl.element().filter(pl.element() != "")).alias("missing"),
                pl.col("criteria"),
                pl.lit("batch").alias("detail"),
            ).alias("explanation")
        )
        actor_name = _actor_name(actor)
        screen_rows = pl.concat(
            [ids.to_frame(), table.select("outcome", "points"), explanation], how="horizontal"
        ).with_columns(
            pl.lit(program_id).alias("program_id"),
            pl.lit(version.version).alias("program_version"),
            pl.lit(version.digest).alias("program_digest"),
            pl.lit(on).alias("screened_on"),
            pl.lit("initial").alias("kind"),
            pl.lit(actor_name).alias("actor"),
            pl.lit(now).alias("at"),
            pl.lit(f"batch screening of {name}").alias("reason"),
        )
        bulk_insert(conn, "application_screening", _driver_frame(screen_rows, conn, json_columns=("explanation",)))
        scr_rows = session.execute(
            select(Screening.application_id, Screening.id).where(
                Screening.program_id == program_id, Screening.at == now, Screening.kind == "initial"
            )
        ).all()
        scr_map = pl.DataFrame(scr_rows, schema={"application_id": pl.Int64, "screening_id": pl.Int64}, orient="row")
        screening_ids = ids.to_frame().join(scr_map, on="application_id", how="left", maintain_order="left")
        screening_ids = screening_ids["screening_id"].to_list()
        event_frame = pl.DataFrame(
            {"application_id": new_ids * 2, "screening_id": [None] * n_good + screening_ids},
            schema={"application_id": pl.Int64, "screening_id": pl.Int64},
        ).with_columns(
            pl.Series("from_status", [None] * n_good + ["submitted"] * n_good, dtype=pl.String),
            pl.Series("to_status", ["submitted"] * n_good + ["screened"] * n_good),
            pl.Series("move", ["submit"] * n_good + ["screen"] * n_good),
            pl.lit(actor_name).alias("actor"),
            pl.lit(now).alias("at"),
            pl.lit(f"bulk intake from {name}").alias("reason"),
            pl.lit(False).alias("automatic"),
        )
        bulk_insert(conn, "application_event", _driver_frame(event_frame, conn))
    rejected = int(bad_lines.len())
    screened_digest = {"first_id": None, "last_id": None, "sha256": None}
    if n_good:
        # Pins every application's screening (id, outcome, points, failed criteria, missing fields) in
        # the one audit entry of the batch; the per-application transitions are in application_event.
        pinned = pl.concat([ids.to_frame(), table.select("outcome", "points", "failed", "missing")], how="horizontal")
        screened_digest = {
            "first_id": int(ids.min()),
            "last_id": int(ids.max()),
            "sha256": hashlib.sha256(pinned.write_csv().encode()).hexdigest(),
        }
    outcome = "committed" if rejected == 0 else ("committed_with_rejects" if n_good else "rolled_back")
    record(
        session,
        actor=actor,
        action="application.import",
        subject=("program", program_id),
        region=program.region,
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
            "applications": screened_digest,
        },
    )
    return ImportResult(name, program_id, raw.height, n_good, rejected, outcome, problems, outcomes)


# --------------------------------------------------------------------------------- views


def full_explanation(session: Session, screening: Screening) -> dict:
    """The stored explanation; a batch screening is expanded by the same evaluator on the same
    version and date (a published version never changes, so the result is the one of that day)."""
    exp = screening.explanation or {}
    if exp.get("detail") != "batch":
        return exp
    app = session.get(Application, screening.application_id)
    version = programs.get_version(session, screening.program_id, screening.program_version)
    full = _jsonable(_explain(version, app.profile, screening.screened_on).to_dict())
    full["expanded_from_batch"] = True
    return full


FULL_PASSPORT_ROLES = frozenset({"ministry_admin", "ministry_officer"})


def sees_full_passport(actor: Any) -> bool:
    """Only the ministry, on one application's own page, needs the whole number (to check the
    document); lists, exports and every other role get it masked."""
    return isinstance(actor, Principal) and actor.role in FULL_PASSPORT_ROLES


def passport_of(app: Application) -> str:
    return pii.reveal(app.passport_enc) or ""


def masked_passport(app: Application) -> str:
    return pii.mask(passport_of(app))


def application_dict(session: Session, app: Application, *, detail: bool = False, full_passport: bool = False) -> dict:
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
        scr = latest_screening(session, app)
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
                "explanation": full_explanation(session, scr),
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
            for s in screenings(session, app)
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
            for e in events(session, app)
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
            for item in checklist(session, app)
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
    session: Session, *, region: str | None = None, program_id: str | None = None, status: str | None = None
) -> pl.DataFrame:
    """Applications as a table for spreadsheets: no names, passports masked, whoever asks."""
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
    from regionvisa.reports.files import write_csv_safe, write_xlsx_safe

    if fmt == "xlsx":
        write_xlsx_safe(frame, target, worksheet="applications")
    else:
        write_csv_safe(frame, target)
