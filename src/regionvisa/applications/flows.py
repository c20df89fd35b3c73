"""What an application's move does to the other domains: places of the quota ledger, status grants in the records.

The life-cycle table (`applications.lifecycle`) declares each edge's effects, for example
`recommend: quota reserve` or `cancel` from `issued`: `quota unuse, records end_grant`. The two
tables below name the function that carries out each declared effect, and `apply_quota` and
`apply_records` are the only places an application move reaches into `quotas` or `records`. So
"what happens to the quota when X" is the edge's effect in the life-cycle table, and "how" is the
function this module names for it:

    quota   reserve -> quotas.reserve    recommend
            use     -> quotas.use        issue
            release -> quotas.release    reject; withdraw or cancel while a place is held
            unuse   -> quotas.unuse      cancel an issued visa
    records grant     -> grant_status    issue
            end_grant -> end_grant       cancel an issued visa

A move calls them at its place in the lock order of `regionvisa.locking`: the records (person and
status grant) before the ledger, the ledger before the audit head. Issuance writes the grant before
its status change, which records the grant's id; cancellation ends the grant after its change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from regionvisa.applications.models import Application
from regionvisa.applications.rules import application_rules
from regionvisa.applications.service import is_applicant, version_for
from regionvisa.core.errors import Conflict
from regionvisa.core.lifecycle import Edge
from regionvisa.programs import service as programs
from regionvisa.quotas import service as quotas
from regionvisa.records.models import Person, StatusGrant
from regionvisa.rules.periods import obligation_period
from regionvisa.stats import summary


def grant_status(*, session: Session, app: Application, on: dt.date) -> StatusGrant:
    """The status grant of an issued visa, written into the records from `on` for the obligation
    months of the design (else the national default). It lands on the linked person only when that
    record is still the applicant (passport number, name and date of birth), else 409; an
    application with no link gets a person record of its own (`RV` and its id)."""
    program = programs.get_program(session=session, program_id=app.program_id)
    version = version_for(session=session, app=app)
    person_id = app.person_id or f"RV{app.id:09d}"
    person = session.get(Person, person_id)
    if app.person_id and (
        person is None or not is_applicant(person, app.applicant_name, app.passport_hash, app.birth_date)
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
    return grant


def end_grant(*, session: Session, app: Application, on: dt.date) -> None:
    """A cancelled visa's status grant ends on `on` (never before it began)."""
    grant = session.get(StatusGrant, app.status_grant_id) if app.status_grant_id else None
    if grant is not None:
        grant.valid_to = max(grant.valid_from, on)


# The effect an edge declares -> the function that carries it out.
QUOTA: dict[str, Callable[..., Any]] = {
    "reserve": quotas.reserve,
    "release": quotas.release,
    "use": quotas.use,
    "unuse": quotas.unuse,
}
RECORDS: dict[str, Callable[..., StatusGrant | None]] = {"grant": grant_status, "end_grant": end_grant}


def apply_quota(*, session: Session, app: Application, edge: Edge, actor: Any, reason: str, ledger=None) -> None:
    """The one place an application move changes the quota: the effect its edge declares, on the
    ledger the application holds its place in (or `ledger`, for the reservation that first ties it
    to one). Called after the status change, before the audit."""
    effect = edge.effect("quota")
    if effect is None:
        return
    if ledger is None and app.ledger_id is not None:
        ledger = quotas.get_ledger(session=session, ledger_id=app.ledger_id)
    if ledger is not None:
        QUOTA[effect](session=session, ledger=ledger, application_id=app.id, actor=actor, reason=reason)


def apply_records(*, session: Session, app: Application, edge: Edge, on: dt.date) -> StatusGrant | None:
    """The one place an application move changes the records: the effect its edge declares (the
    grant it wrote, for `grant`; None when the edge declares none). Called before the ledger."""
    effect = edge.effect("records")
    if effect is None:
        return None
    grant = RECORDS[effect](session=session, app=app, on=on)
    person_id = grant.person_id if grant is not None else (app.person_id or f"RV{app.id:09d}")
    session.flush()  # the statistics summaries follow the record, in this transaction
    summary.refresh_people(conn=session.connection(), person_ids=pl.Series([person_id]))
    return grant
