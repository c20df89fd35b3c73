"""Application moves: screening, the region's recommendation, the ministry's decision, issuance.

The life cycle is a closed table (`applications.lifecycle.APPLICATIONS`: each move's states, policy
action, reason rule and effects); any other move is a 409 naming the state and the moves it
allows. Every move is a declared use case (`core.usecase`, declared here by `move_case`): the
wrapper locks the application's row, authorises the action the table names for the move against
the application's region (`applications.subjects.APPLICATION`), and records the move's audit entry,
carrying the screening it relied on, from the `Done` the move returns. The move itself checks the
state under the lock and makes one conditional UPDATE on the status (so two officers acting at once
cannot both succeed: the second waits, then sees the new state and gets the 409) and an
`application_event` row. Quota places and status grants move in the same
transaction, as the move's edge declares and only through `applications.flows`, so a refusal
leaves nothing behind.

Locks follow the one order of `regionvisa.locking`: application row, then person and status
grant, then the quota ledger, and the audit head last (entries are recorded once every other
write of the move is done). A lost race the database reports (deadlock, serialization failure,
SQLite busy) is a 409 `concurrent_change`, never a 500.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from regionvisa import locking
from regionvisa.accounts.policy import system_actor
from regionvisa.applications import documents, flows
from regionvisa.applications.lifecycle import APPLICATIONS, move_name
from regionvisa.applications.models import OPEN_STATUSES, Application, ApplicationEvent, Screening
from regionvisa.applications.rules import application_rules
from regionvisa.applications.service import (
    get,
    jsonable,
    latest_screening,
    version_for,
)
from regionvisa.applications.subjects import APPLICATION
from regionvisa.core.actor import Actor
from regionvisa.core.errors import Conflict, Invalid, NotFound
from regionvisa.core.lifecycle import Edge
from regionvisa.core.usecase import Done, use_case
from regionvisa.db import utcnow
from regionvisa.programs import service as programs
from regionvisa.quotas import service as quotas
from regionvisa.rules import explain

SYSTEM_SIMPLIFIED = system_actor("simplified-procedure")


HELD_STATUSES = ("recommended", "approved", "issued")  # statuses that hold a place of the quota


# The life cycle is declared in `applications.lifecycle`; this view of that table is for the
# transports: move -> (allowed from, to, policy action).
MOVES = APPLICATIONS.moves_table()


def duplicate_application(program_id: str) -> Conflict:
    """The refusal of a second open application of one passport to one programme."""
    return Conflict(
        code="duplicate_application",
        ko=f"같은 여권으로 {program_id}에 진행 중인 신청이 이미 있습니다",
        en=f"this passport already has an open application to {program_id}",
        field="passport_no",
    )


# --------------------------------------------------------------------------------- screening


def explanation(version, profile: dict, on: dt.date):
    """The evaluator's explanation of a profile under a programme version, on a date."""

    return explain(programs.loaded(version).checked, profile, on=on)


def record_screening(*, session: Session, app: Application, version, on: dt.date, actor: Any, kind: str, reason: str):
    """A new screening row (earlier ones are kept); the application takes its outcome and points."""
    exp = explanation(version, app.profile, on)
    screening = Screening(
        application_id=app.id,
        program_id=app.program_id,
        program_version=version.version,
        program_digest=version.digest,
        screened_on=on,
        outcome=exp.outcome,
        points=exp.points,
        explanation=jsonable(exp.to_dict()),
        kind=kind,
        actor=actor.username,
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


# --------------------------------------------------------------------------------- moves


def add_event(*, session, app, before, after, move, actor, reason, screening, automatic=False) -> None:
    """The move's row of the application's history (`application_event`)."""
    session.add(
        ApplicationEvent(
            application_id=app.id,
            from_status=before,
            to_status=after,
            move=move,
            actor=actor.username,
            at=utcnow(),
            reason=reason,
            screening_id=screening.id if screening else None,
            automatic=automatic,
        )
    )


def change_status(
    *,
    session: Session,
    app: Application,
    move: str,
    actor: Any,
    reason: str,
    screening: Screening | None = None,
    automatic: bool = False,
    inputs: dict | None = None,
    extra: dict | None = None,
) -> dict:
    """The conditional UPDATE and its event; returns the audit entry, which the use case records
    (`done`) once the move's other writes (quota, records) are done."""
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
        raise duplicate_application(app.program_id) from exc
    if result.rowcount != 1:
        session.refresh(app)
        raise APPLICATIONS.refusal(move, app.status, application=app.id)
    session.refresh(app)
    screening = screening or latest_screening(session=session, app=app)
    add_event(
        session=session,
        app=app,
        before=before,
        after=to,
        move=move,
        actor=actor,
        reason=reason,
        screening=screening,
        automatic=automatic,
    )
    return {
        "actor": actor,
        "action": f"application.{move}" + (".automatic" if automatic else ""),
        "subject": ("application", app.id),
        "region": app.region,
        "reason": reason,
        "inputs": {"from": before, "to": to, "explanation": _summary(screening), **(inputs or {})},
    }


def _need_reason(move: str, reason: str) -> str:
    """The move's reason (422 when its edge needs one), or the default text the audit entry keeps."""
    reason = APPLICATIONS.reason(move, reason)
    return reason or {"recommend": "recommended by the region", "approve": "approved", "issue": "visa issued"}.get(
        move, move
    )


def _prepare(app: Application, move: str, reason: str) -> tuple[Edge, str]:
    """The move's reason (422), then its edge from the state read under the row lock (409): the use
    case has already locked the row (the first lock of the order) and authorised the move's action
    for the application's region, so a second officer acting at the same moment waits for the
    lock, then gets 409 here."""
    reason = _need_reason(move, reason)
    return APPLICATIONS.edge(move, app.status, application=app.id), reason


def done(entry: dict, *, value: Any, then: tuple[dict, ...] = ()) -> Done:
    """The move's audit entry (from `change_status`) as what the use case records, last; `then` are
    the entries the move set off, recorded after it (each with its own actor)."""
    return Done(
        value=value,
        reason=entry["reason"],
        inputs=entry["inputs"],
        subject=entry["subject"],
        action=entry["action"],
        region=entry["region"],
        then=then,
    )


def move_case(move: str) -> Callable[[Callable[..., Done]], Callable[..., Any]]:
    """Declare a life-cycle move as a use case: the policy action the table names for `move`, the
    application row locked before its state is read, and a lost race answered as a 409."""

    def declare(body: Callable[..., Done]) -> Callable[..., Any]:
        return locking.answers_conflicts(
            use_case(action=APPLICATIONS.action(move), subject=APPLICATION, lock=True)(body)
        )

    return declare


@move_case("rescreen")
def rescreen(*, session: Session, app: Application, actor: Actor, reason: str, on: dt.date | None = None) -> Done:
    """An explicit new screening (new row, old ones kept) on `on` (default: today)."""
    _edge, reason = _prepare(app, "rescreen", reason)
    on = on or dt.date.today()
    version = programs.published_on(session=session, program_id=app.program_id, on=on)
    screening = record_screening(
        session=session, app=app, version=version, on=on, actor=actor, kind="rescreen", reason=reason
    )
    entry = change_status(
        session=session,
        app=app,
        move="rescreen",
        actor=actor,
        reason=reason,
        screening=screening,
        extra={"outcome": app.outcome, "points": app.points, "program_version": app.program_version},
    )
    return done(entry, value=screening)


def _ledger(session: Session, app: Application):
    try:
        return quotas.ledger_for(session=session, program_id=app.program_id, on=app.submitted_on)
    except NotFound as exc:
        raise Conflict(
            code="no_quota_ledger",
            ko=f"{app.program_id}의 {app.submitted_on} 기간 정원 원장이 개설되지 않았습니다",
            en=f"no quota ledger is open for {app.program_id} covering {app.submitted_on}",
        ) from exc


def nationality_share(*, session: Session, ledger_id: int, nationality: str) -> tuple[int, int]:
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
    same, total = nationality_share(
        session=session, ledger_id=ledger.id, nationality=app.nationality
    )  # includes this application
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


@move_case("recommend")
def recommend(*, session: Session, app: Application, actor: Actor, reason: str = "") -> Done:
    """The region recommends: a place is reserved (or 409 quota exhausted) and the nationality cap
    checked while the ledger row is locked; under the simplified procedure an applicant who passes
    every criterion is approved at once. Locks: application, ledger, audit head."""
    edge, reason = _prepare(app, "recommend", reason)
    if app.outcome != "eligible":
        raise Conflict(
            code="not_eligible",
            ko=f"적격 판정을 받은 신청만 추천할 수 있습니다 (현재: {app.outcome})",
            en=f"only an eligible application can be recommended (this one is {app.outcome})",
        )
    ledger = _ledger(session, app)
    version = version_for(session=session, app=app)
    entry = change_status(
        session=session,
        app=app,
        move="recommend",
        actor=actor,
        reason=reason,
        extra={"ledger_id": ledger.id, "reserved": True},
    )
    flows.apply_quota(session=session, app=app, edge=edge, actor=actor, reason=reason, ledger=ledger)
    _check_cap(session, app, ledger, version)
    automatic: tuple[dict, ...] = ()
    # the automatic approval needs the (shorter) checklist complete, like any approval; otherwise
    # the recommendation waits for the ministry, which may record an override
    if app.simplified and app.outcome == "eligible" and not documents.missing_documents(session=session, app=app):
        automatic = (
            change_status(
                session=session,
                app=app,
                move="approve",
                actor=SYSTEM_SIMPLIFIED,
                reason="automatic approval under the simplified procedure benefit: every criterion passed",
                automatic=True,
                inputs={"benefit": "simplified_procedure", "recommended_by": actor.username},
            ),
        )
    return done(entry, value=app, then=automatic)


@move_case("return")
def return_(*, session: Session, app: Application, actor: Actor, reason: str) -> Done:
    """The region sends a screened application back to the applicant (a reason is required)."""
    _edge, reason = _prepare(app, "return", reason)
    return done(change_status(session=session, app=app, move="return", actor=actor, reason=reason), value=app)


# --------------------------------------------------------------------------------- documents gate

OVERRIDE_MOVE = "override"  # the history row of a documents override (application_event.move)
OVERRIDE_ACTION = "applications.override_documents"
OVERRIDE_REASON_MIN = 10  # characters: a sentence a reviewer can check, not "ok"


def documents_missing(*, move: str, app: Application, missing: list[str]) -> Conflict:
    """The refusal of `approve` or `issue` while documents of the checklist are missing, naming them."""
    ko_names = ", ".join(application_rules().label(d)["ko"] for d in missing)
    en_names = ", ".join(application_rules().label(d)["en"] for d in missing)
    return Conflict(
        code="documents_missing",
        ko=f"필요 서류 {len(missing)}건이 없어 신청 {app.id}을(를) {move_name(move, 'ko')}할 수 없습니다: {ko_names}. "
        f"서류를 올리거나, 서류 없이 진행하는 사유({OVERRIDE_REASON_MIN}자 이상)를 기록해 주세요",
        en=f"cannot {move} application {app.id}: {len(missing)} required document(s) missing: {en_names}. "
        f"Upload them, or record why the decision goes ahead without them "
        f"(an override reason of at least {OVERRIDE_REASON_MIN} characters)",
        field="override_reason",
    )


def _documents_gate(
    *, session: Session, app: Application, move: str, actor: Actor, override_reason: str
) -> tuple[dict, ...]:
    """`approve` and `issue` need the application's checklist complete (`documents.missing_documents`);
    with documents missing they go ahead only on an override reason, recorded as its own history row
    and audit entry (`applications.override_documents`). Only whoever may make the move (the ministry,
    `applications.decide`) gets here: the use case has authorised it already."""
    missing = documents.missing_documents(session=session, app=app)
    if not missing:
        return ()
    override_reason = (override_reason or "").strip()
    if not override_reason:
        raise documents_missing(move=move, app=app, missing=missing)
    if len(override_reason) < OVERRIDE_REASON_MIN:
        raise Invalid(
            code="override_reason_too_short",
            ko=f"서류 없이 진행하는 사유는 {OVERRIDE_REASON_MIN}자 이상이어야 합니다 (입력: {len(override_reason)}자)",
            en=f"the override reason must be at least {OVERRIDE_REASON_MIN} characters (it has {len(override_reason)})",
            field="override_reason",
        )
    add_event(
        session=session,
        app=app,
        before=app.status,
        after=app.status,
        move=OVERRIDE_MOVE,
        actor=actor,
        reason=override_reason,
        screening=None,
    )
    return (
        {
            "actor": actor,
            "action": OVERRIDE_ACTION,
            "subject": ("application", app.id),
            "region": app.region,
            "reason": override_reason,
            "inputs": {"move": move, "status": app.status, "missing": missing},
        },
    )


@move_case("approve")
def approve(*, session: Session, app: Application, actor: Actor, reason: str = "", override_reason: str = "") -> Done:
    """The ministry approves a recommendation; the place stays reserved. Refused while documents of
    the checklist are missing, unless the officer records an override reason (`_documents_gate`)."""
    _edge, reason = _prepare(app, "approve", reason)
    override = _documents_gate(session=session, app=app, move="approve", actor=actor, override_reason=override_reason)
    entry = change_status(session=session, app=app, move="approve", actor=actor, reason=reason)
    return done(entry, value=app, then=override)


@move_case("reject")
def reject(*, session: Session, app: Application, actor: Actor, reason: str) -> Done:
    """The ministry refuses a recommendation; its place goes back to the ledger."""
    edge, reason = _prepare(app, "reject", reason)
    entry = change_status(
        session=session, app=app, move="reject", actor=actor, reason=reason, extra={"reserved": False}
    )
    flows.apply_quota(session=session, app=app, edge=edge, actor=actor, reason=reason)
    return done(entry, value=app)


@move_case("withdraw")
def withdraw(*, session: Session, app: Application, actor: Actor, reason: str) -> Done:
    """The region withdraws an open application; a place it held goes back to the ledger."""
    edge, reason = _prepare(app, "withdraw", reason)
    entry = change_status(
        session=session, app=app, move="withdraw", actor=actor, reason=reason, extra={"reserved": False}
    )
    flows.apply_quota(session=session, app=app, edge=edge, actor=actor, reason=reason)
    return done(entry, value=app)


def visa_number(app: Application, on: dt.date) -> str:
    return f"RV{on.year}{app.region}{app.id:08d}"


@move_case("issue")
def issue(
    *,
    session: Session,
    app: Application,
    actor: Actor,
    reason: str = "",
    on: dt.date | None = None,
    override_reason: str = "",
) -> Done:
    """Issuance turns the reservation into a used place and writes the status grant into the records
    (`flows.grant_status`). Refused while documents of the checklist are missing, unless the officer
    records an override reason (`_documents_gate`).

    Locks: application, person and status grant, ledger, audit head. A linked person is checked
    again against the applicant's identity, so no grant can land on somebody else's record."""
    edge, reason = _prepare(app, "issue", reason)
    on = on or dt.date.today()
    if app.birth_date is None:
        raise Conflict(
            code="birth_date_required",
            ko="발급에는 생년월일이 필요합니다",
            en="issuance needs the applicant's date of birth",
        )
    override = _documents_gate(session=session, app=app, move="issue", actor=actor, override_reason=override_reason)
    grant = flows.apply_records(session=session, app=app, edge=edge, on=on)  # person and grant before the ledger
    number = visa_number(app, on)
    entry = change_status(
        session=session,
        app=app,
        move="issue",
        actor=actor,
        reason=reason,
        extra={
            "reserved": False,
            "visa_number": number,
            "person_id": grant.person_id,
            "status_grant_id": grant.id,
        },
        inputs={"visa_number": number, "status_grant_id": grant.id, "valid_to": grant.valid_to},
    )
    flows.apply_quota(session=session, app=app, edge=edge, actor=actor, reason=reason)
    return done(entry, value=app, then=override)


@move_case("cancel")
def cancel(*, session: Session, app: Application, actor: Actor, reason: str, on: dt.date | None = None) -> Done:
    """Cancelling an approval releases its place; cancelling an issued visa ends the status grant and
    gives the used place back (the two `cancel` edges of `applications.lifecycle`)."""
    edge, reason = _prepare(app, "cancel", reason)
    on = on or dt.date.today()
    entry = change_status(
        session=session, app=app, move="cancel", actor=actor, reason=reason, extra={"reserved": False}
    )
    flows.apply_records(session=session, app=app, edge=edge, on=on)  # the grant before the ledger (lock order)
    flows.apply_quota(session=session, app=app, edge=edge, actor=actor, reason=reason)
    return done(entry, value=app)


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


DOCUMENT_GATED = ("approve", "issue")  # the moves `_documents_gate` guards


@locking.answers_conflicts
def act(
    *, session: Session, application_id: int, move: str, actor: Actor, reason: str = "", override_reason: str = ""
) -> Application:
    """One entry point for the transports: any move by name (unknown moves are a 409 as well). Not a
    use case of its own: it hands the call to the move's declared use case, which authorises,
    changes and records it. `override_reason` is for the moves the documents gate guards
    (`approve`, `issue`); any other move refuses it."""
    if move not in ACTIONS:
        raise Conflict(
            code="invalid_transition",
            ko=f"알 수 없는 처리입니다: {move} (가능: {', '.join(ACTIONS)})",
            en=f"unknown move {move!r} (known: {', '.join(ACTIONS)})",
        )
    extra = {}
    if move in DOCUMENT_GATED:
        extra["override_reason"] = override_reason
    elif (override_reason or "").strip():
        raise Invalid(
            code="override_not_applicable",
            ko=f"서류 확인 생략 사유는 승인과 발급에만 기록할 수 있습니다 ({move_name(move, 'ko')}에는 해당 없음)",
            en=f"an override reason applies to approve and issue only, not to {move}",
            field="override_reason",
        )
    ACTIONS[move](session=session, app=application_id, actor=actor, reason=reason, **extra)
    return get(session=session, application_id=application_id)
