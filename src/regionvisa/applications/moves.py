"""Application moves: screening, the region's recommendation, the ministry's decision, issuance.

The life cycle is a closed table (`applications.lifecycle.APPLICATIONS`: each move's states, policy
action, reason rule and effects); any other move is a 409 naming the state and the moves it
allows. Every move first locks the application's row and checks its state under the lock, then
makes one conditional UPDATE on the status (so two officers acting at once cannot both succeed: the
second waits, then sees the new state and gets the 409), an `application_event` row and an audit
entry carrying the screening it relied on. Quota places and status grants move in the same
transaction, as the move's edge declares and only through `applications.flows`, so a refusal
leaves nothing behind.

Locks follow the one order of `regionvisa.locking`: application row, then person and status
grant, then the quota ledger, and the audit head last (entries are recorded once every other
write of the move is done). A lost race the database reports (deadlock, serialization failure,
SQLite busy) is a 409 `concurrent_change`, never a 500.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from regionvisa import locking
from regionvisa.accounts.policy import authorize, system_actor
from regionvisa.applications import flows
from regionvisa.applications.lifecycle import APPLICATIONS
from regionvisa.applications.models import OPEN_STATUSES, Application, ApplicationEvent, Screening
from regionvisa.applications.rules import application_rules
from regionvisa.applications.service import (
    actor_name,
    get,
    jsonable,
    latest_screening,
    version_for,
)
from regionvisa.audit.service import record
from regionvisa.core.errors import Conflict, NotFound
from regionvisa.core.lifecycle import Edge
from regionvisa.db import utcnow
from regionvisa.programs import service as programs
from regionvisa.quotas import service as quotas

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
    from regionvisa.rules import explain

    return explain(programs.loaded(version).checked, profile, on=on)


def record_screening(session: Session, app: Application, *, version, on: dt.date, actor: Any, kind: str, reason: str):
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
        actor=actor_name(actor),
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


def add_event(session, app, before, after, move, actor, reason, screening, automatic=False) -> None:
    """The move's row of the application's history (`application_event`)."""
    session.add(
        ApplicationEvent(
            application_id=app.id,
            from_status=before,
            to_status=after,
            move=move,
            actor=actor_name(actor),
            at=utcnow(),
            reason=reason,
            screening_id=screening.id if screening else None,
            automatic=automatic,
        )
    )


def change_status(
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
    with `audit_last` once the move's other writes (quota, records) are done."""
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
    screening = screening or latest_screening(session, app)
    add_event(session, app, before, to, move, actor, reason, screening, automatic)
    return {
        "actor": actor,
        "action": f"application.{move}" + (".automatic" if automatic else ""),
        "subject": ("application", app.id),
        "region": app.region,
        "reason": reason,
        "inputs": {"from": before, "to": to, "explanation": _summary(screening), **(inputs or {})},
    }


def audit_last(session: Session, *entries: dict) -> None:
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
    authorize(actor, APPLICATIONS.action(move), app.region)
    reason = _need_reason(move, reason)
    app = locking.lock_row(session, Application, app.id, touch="updated_at")
    return app, APPLICATIONS.edge(move, app.status, application=app.id), reason


@locking.answers_conflicts
def rescreen(session: Session, application_id: int, *, actor: Any, reason: str, on: dt.date | None = None) -> Screening:
    """An explicit new screening (new row, old ones kept) on `on` (default: today)."""
    app, _edge, reason = _prepare(session, application_id, "rescreen", actor, reason)
    on = on or dt.date.today()
    version = programs.published_on(session, app.program_id, on)
    screening = record_screening(session, app, version=version, on=on, actor=actor, kind="rescreen", reason=reason)
    entry = change_status(
        session,
        app,
        "rescreen",
        actor=actor,
        reason=reason,
        screening=screening,
        extra={"outcome": app.outcome, "points": app.points, "program_version": app.program_version},
    )
    audit_last(session, entry)
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
    version = version_for(session, app)
    entries = [
        change_status(
            session, app, "recommend", actor=actor, reason=reason, extra={"ledger_id": ledger.id, "reserved": True}
        )
    ]
    flows.apply_quota(session, app, edge, actor=actor, reason=reason, ledger=ledger)
    _check_cap(session, app, ledger, version)
    if app.simplified and app.outcome == "eligible":
        entries.append(
            change_status(
                session,
                app,
                "approve",
                actor=SYSTEM_SIMPLIFIED,
                reason="automatic approval under the simplified procedure benefit: every criterion passed",
                automatic=True,
                inputs={"benefit": "simplified_procedure", "recommended_by": actor_name(actor)},
            )
        )
    audit_last(session, *entries)
    return app


@locking.answers_conflicts
def return_(session: Session, application_id: int, *, actor: Any, reason: str) -> Application:
    app, _edge, reason = _prepare(session, application_id, "return", actor, reason)
    audit_last(session, change_status(session, app, "return", actor=actor, reason=reason))
    return app


@locking.answers_conflicts
def approve(session: Session, application_id: int, *, actor: Any, reason: str = "") -> Application:
    app, _edge, reason = _prepare(session, application_id, "approve", actor, reason)
    audit_last(session, change_status(session, app, "approve", actor=actor, reason=reason))
    return app


@locking.answers_conflicts
def reject(session: Session, application_id: int, *, actor: Any, reason: str) -> Application:
    app, edge, reason = _prepare(session, application_id, "reject", actor, reason)
    entry = change_status(session, app, "reject", actor=actor, reason=reason, extra={"reserved": False})
    flows.apply_quota(session, app, edge, actor=actor, reason=reason)
    audit_last(session, entry)
    return app


@locking.answers_conflicts
def withdraw(session: Session, application_id: int, *, actor: Any, reason: str) -> Application:
    app, edge, reason = _prepare(session, application_id, "withdraw", actor, reason)
    entry = change_status(session, app, "withdraw", actor=actor, reason=reason, extra={"reserved": False})
    flows.apply_quota(session, app, edge, actor=actor, reason=reason)
    audit_last(session, entry)
    return app


def visa_number(app: Application, on: dt.date) -> str:
    return f"RV{on.year}{app.region}{app.id:08d}"


@locking.answers_conflicts
def issue(session: Session, application_id: int, *, actor: Any, reason: str = "", on: dt.date | None = None):
    """Issuance turns the reservation into a used place and writes the status grant into the records
    (`flows.grant_status`).

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
    grant = flows.apply_records(session, app, edge, on=on)  # person and grant before the ledger
    number = visa_number(app, on)
    entry = change_status(
        session,
        app,
        "issue",
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
    flows.apply_quota(session, app, edge, actor=actor, reason=reason)
    audit_last(session, entry)
    return app


@locking.answers_conflicts
def cancel(session: Session, application_id: int, *, actor: Any, reason: str, on: dt.date | None = None):
    """Cancelling an approval releases its place; cancelling an issued visa ends the status grant and
    gives the used place back (the two `cancel` edges of `applications.lifecycle`)."""
    app, edge, reason = _prepare(session, application_id, "cancel", actor, reason)
    on = on or dt.date.today()
    entry = change_status(session, app, "cancel", actor=actor, reason=reason, extra={"reserved": False})
    flows.apply_records(session, app, edge, on=on)  # the grant before the ledger (lock order)
    flows.apply_quota(session, app, edge, actor=actor, reason=reason)
    audit_last(session, entry)
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
