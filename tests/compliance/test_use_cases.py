"""The compliance domain's state changes are exactly its declared use cases; they refuse a plain
string and a role or region outside the table and then leave nothing behind; reads of a case
answer "which region?" with the case's one region rule."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.actors import BUSAN, NAMED_OFFICER, SYSTEM

from regionvisa.accounts.policy import system_actor
from regionvisa.audit.models import AuditEntry
from regionvisa.compliance import cases
from regionvisa.compliance.models import ComplianceCase, ComplianceCaseEvent, ComplianceRun
from regionvisa.core.actor import Actor
from regionvisa.core.errors import Forbidden
from regionvisa.core.usecase import USE_CASES
from regionvisa.db import session_scope

ON = dt.date(2025, 12, 31)
GYEONGGI = Actor(id=None, username="t.gg", display_name="Gyeonggi official", role="regional_official", region="41")
EXPECTED = {
    "compliance.cases.act": ("cases.act", "compliance_case", None),
    "compliance.cases.store_run": ("cases.act", None, "compliance.run"),
    "compliance.cases.open_case": ("cases.act", None, "compliance.case_open"),
    "compliance.cases.note_finding_back": ("cases.act", "compliance_case", "compliance.case_finding_back"),
    "compliance.cases.note_finding_gone": ("cases.act", "compliance_case", "compliance.case_finding_gone"),
}


def test_the_declared_use_cases_are_exactly_these():
    declared = {
        name: (u.action, u.subject, u.audit_action) for name, u in USE_CASES.items() if name.startswith("compliance.")
    }
    assert declared == EXPECTED


def _busan_case(engine, kit) -> int:
    """A Busan programme holder who reported a move to Seoul late: the run opens Busan's cases."""
    r = kit.Records()
    r.status("H1", "2025-03-01", "2027-02-28", program_id="busan-d2", region="26")
    r.address("H1", "26110", "2025-03-01", "2025-03-02").address("H1", "11", "2025-05-01", "2025-05-31")
    kit.insert(engine, r.frames())
    cases.record_run(engine=engine, on=ON, actor=SYSTEM)
    with Session(engine) as session:
        return session.scalars(select(ComplianceCase.id).where(ComplianceCase.region == "26")).first()


def _state(engine, case_id: int) -> tuple:
    with Session(engine) as session:
        case = session.get(ComplianceCase, case_id)
        return (
            case.status,
            case.assignee,
            session.scalar(select(func.count()).select_from(ComplianceCaseEvent)),
            session.scalar(select(func.count()).select_from(AuditEntry)),
            session.scalar(select(func.count()).select_from(ComplianceRun)),
        )


@pytest.mark.parametrize("actor", ["t.officer", "system:compliance", BUSAN], ids=["name", "system name", "region"])
def test_an_action_refuses_a_string_or_an_actor_lacking_the_grant_and_writes_nothing(engine, kit, actor):
    case_id = _busan_case(engine, kit)
    before = _state(engine, case_id)
    with pytest.raises(Forbidden), session_scope(engine=engine) as session:
        cases.act(session=session, case=case_id, action="review", actor=actor, reason="taking the case")
    assert _state(engine, case_id) == before
    with pytest.raises(Forbidden):
        cases.record_run(engine=engine, on=ON, actor=actor)
    assert _state(engine, case_id) == before


def test_an_action_is_audited_in_the_cases_region_and_the_run_acts_as_its_system_actor(engine, kit):
    case_id = _busan_case(engine, kit)
    with session_scope(engine=engine) as session:
        cases.act(session=session, case=case_id, action="review", actor=NAMED_OFFICER, reason="taking the case")
    with Session(engine) as session:
        entries = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.subject_type == "compliance_case", AuditEntry.subject_id == str(case_id))
            .order_by(AuditEntry.seq)
        ).all()
        run_entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "compliance.run")).one()
        opened = session.scalars(select(AuditEntry.seq).where(AuditEntry.action == "compliance.case_open")).all()
    assert [(e.action, e.actor, e.region) for e in entries] == [
        ("compliance.case_open", system_actor("compliance").username, "26"),
        ("compliance.case_review", NAMED_OFFICER.username, "26"),
    ]
    # the run's own entry comes after the cases it opened, under the actor who ran it
    assert (run_entry.actor, run_entry.region) == (SYSTEM.username, None)
    assert opened and run_entry.seq > max(opened)


def test_a_case_is_read_in_its_region_only(engine, kit):
    case_id = _busan_case(engine, kit)
    with Session(engine) as session:
        assert cases.read_case(session=session, case_id=case_id, actor=BUSAN).region == "26"
        with pytest.raises(Forbidden):
            cases.read_case(session=session, case_id=case_id, actor=GYEONGGI)
        with pytest.raises(Forbidden):
            cases.list_cases(session=session, actor=GYEONGGI, region="26")
        own = cases.list_cases(session=session, actor=GYEONGGI)
        assert (own.region, own.total) == ("41", 0)  # a regional official's queue is their own region's
        assert cases.dashboard(session=session, actor=GYEONGGI)["region"] == "41"
        with pytest.raises(Forbidden):
            cases.read_case(session=session, case_id=case_id, actor="t.busan")
