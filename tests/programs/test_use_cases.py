"""Programme versions change only through declared use cases (`store`, `transition`): a plain
string, or an actor of another region, is refused (403) before anything is written; a design
that would move a programme to another region is refused by region first; a committee decision
carries them out as its effects."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import func, select
from tests.actors import BUSAN, OFFICER, SYSTEM

from regionvisa.audit.models import AuditEntry
from regionvisa.core.actor import Actor
from regionvisa.core.errors import Conflict, Forbidden
from regionvisa.core.usecase import USE_CASES
from regionvisa.db import session_scope
from regionvisa.policyfiles import read_yaml
from regionvisa.programs import service
from regionvisa.programs.files import parse_design
from regionvisa.programs.models import Program, ProgramVersion

from .conftest import BUSAN as BUSAN_FILE

SEOUL = Actor(id=None, username="t.seoul", display_name="Seoul official", role="regional_official", region="11")
CHAIR = Actor(id=None, username="t.chair", display_name="Chair", role="committee_member")


def _design(program_id: str = "uc-busan", **changes) -> dict:
    design = copy.deepcopy(read_yaml(BUSAN_FILE))
    design.update(id=program_id, **changes)
    design["residence_area"] = [design["region"]]
    return design


def _state(engine) -> tuple:
    """Everything a refused call must leave as it was: programmes, versions and their statuses, the audit log."""
    with engine.connect() as conn:
        programs = conn.execute(select(Program.id, Program.region).order_by(Program.id)).all()
        versions = conn.execute(
            select(
                ProgramVersion.program_id, ProgramVersion.version, ProgramVersion.status, ProgramVersion.digest
            ).order_by(ProgramVersion.program_id, ProgramVersion.version)
        ).all()
        entries = conn.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    return programs, versions, entries


def _entries(engine, program_id: str) -> list[tuple]:
    with session_scope(engine=engine) as session:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.subject_id == program_id).order_by(AuditEntry.seq)
        ).all()
        return [(e.actor, e.action, e.subject_type, e.region, e.reason) for e in rows]


def test_the_declared_use_cases_are_exactly_store_and_transition():
    declared = {name: case.action for name, case in USE_CASES.items() if name.startswith("programs.")}
    assert declared == {"programs.service.store": "_store_action()", "programs.service.transition": "_move_action()"}
    assert USE_CASES["programs.service.store"].subject == USE_CASES["programs.service.transition"].subject == "program"


@pytest.mark.parametrize("actor", ["t.busan", SEOUL], ids=["plain string", "another region"])
def test_storing_a_busan_draft_is_refused_and_writes_nothing(engine, actor):
    before = _state(engine)
    with pytest.raises(Forbidden), session_scope(engine=engine) as session:
        service.save_draft(session=session, design=_design(), actor=actor, reason="refused")
    assert _state(engine) == before


def test_a_region_stores_its_own_draft_and_the_log_names_it(engine):
    with session_scope(engine=engine) as session:
        row = service.save_draft(session=session, design=_design(), actor=BUSAN, reason="own draft")
        assert (row.status, row.created_by) == ("draft", "t.busan")
    assert _entries(engine, "uc-busan") == [("t.busan", "program.draft", "program", "26", "own draft")]


def test_a_design_moving_a_programme_to_another_region_is_refused_by_region_first(engine):
    with session_scope(engine=engine) as session:
        service.store(
            session=session,
            design=parse_design(_design("uc-seoul", region="11")),
            actor=SYSTEM,
            reason="t",
            status="draft",
        )
        service.store(session=session, design=parse_design(_design()), actor=SYSTEM, reason="t", status="draft")
    before = _state(engine)
    # the design names Busan, the programme is Seoul's; then the design names Seoul, the programme is Busan's
    for program_id, region in (("uc-seoul", "26"), ("uc-busan", "11")):
        with pytest.raises(Forbidden, match="another region"), session_scope(engine=engine) as session:
            service.save_draft(
                session=session, design=_design(program_id, region=region, version=2), actor=BUSAN, reason="move"
            )
    assert _state(engine) == before
    with (
        pytest.raises(Conflict) as refused,
        session_scope(engine=engine) as session,
    ):  # every region: the store says why
        service.save_draft(
            session=session, design=_design("uc-seoul", region="26", version=2), actor=OFFICER, reason="move"
        )
    assert refused.value.code == "program_identity"
    assert _state(engine) == before


def test_a_move_is_authorised_for_the_programmes_region_and_a_refusal_changes_nothing(engine):
    with session_scope(engine=engine) as session:
        service.store(session=session, design=parse_design(_design()), actor=SYSTEM, reason="t", status="draft")
    before = _state(engine)
    for actor in ("t.busan", SEOUL, CHAIR):  # a name, another region, a role without programs.edit_draft
        with pytest.raises(Forbidden), session_scope(engine=engine) as session:
            service.transition(
                session=session, program="uc-busan", version=1, move="submit", actor=actor, reason="refused"
            )
    assert _state(engine) == before
    with session_scope(engine=engine) as session:
        row = service.transition(
            session=session, program="uc-busan", version=1, move="submit", actor=BUSAN, reason="ready"
        )
        assert (row.status, row.status_changed_by) == ("submitted", "t.busan")
        with pytest.raises(Forbidden):  # approving is the ministry's
            service.transition(
                session=session, program="uc-busan", version=1, move="approve", actor=BUSAN, reason="mine"
            )
    assert _entries(engine, "uc-busan")[-1] == ("t.busan", "program.submit", "program", "26", "ready")


def test_a_committee_decision_stores_and_moves_a_design_as_its_effect(engine):
    """The chair (a committee member) holds no programme action: the decision that authorised them
    carries the store and the moves out (`.effect`), audited in the chair's name; a name still cannot act."""
    with session_scope(engine=engine) as session:
        service.store(session=session, design=parse_design(_design()), actor=SYSTEM, reason="t", status="draft")
    with pytest.raises(Forbidden), session_scope(engine=engine) as session:
        service.transition.effect(
            session=session, program="uc-busan", version=1, move="submit", actor="t.chair", reason="name"
        )
    with session_scope(engine=engine) as session:
        for move in ("submit", "approve"):
            service.transition.effect(
                session=session, program="uc-busan", version=1, move=move, actor=CHAIR, reason="selected"
            )
        stored = service.store.effect(
            session=session, design=parse_design(_design(version=2)), actor=CHAIR, reason="selected", status="approved"
        )
        assert (stored.version, stored.status) == (2, "approved")
    assert _entries(engine, "uc-busan")[-3:] == [
        ("t.chair", "program.submit", "program", "26", "selected"),
        ("t.chair", "program.approve", "program", "26", "selected"),
        ("t.chair", "program.approved", "program", "26", "selected"),
    ]
