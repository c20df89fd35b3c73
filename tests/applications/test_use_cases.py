"""The applications domain's state changes are exactly its declared use cases; each move's policy
action is the one its life-cycle edge names; a refused change (a plain string, another region's
official) is a 403 that writes nothing; and a change that sets off another (the automatic
screening of a submission, the automatic approval under the simplified procedure) records its
entries in the order they happened."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from tests.actors import ADMIN, BUSAN, OFFICER

from regionvisa.applications import documents, intake, moves, service
from regionvisa.applications.lifecycle import APPLICATIONS
from regionvisa.applications.models import Application, ApplicationDocument, ApplicationEvent, RegionBenefit
from regionvisa.audit.models import AuditEntry
from regionvisa.core.actor import Actor
from regionvisa.core.errors import Forbidden
from regionvisa.core.usecase import USE_CASES
from regionvisa.db import session_scope
from regionvisa.quotas import service as quotas

from .conftest import ON, eligible_busan

SEOUL = Actor(id=None, username="t.seoul", display_name="Seoul official", role="regional_official", region="11")
PDF = b"%PDF-1.4\n% test document\n"

MOVES = {
    "rescreen": "applications.moves.rescreen",
    "recommend": "applications.moves.recommend",
    "return": "applications.moves.return_",
    "approve": "applications.moves.approve",
    "reject": "applications.moves.reject",
    "withdraw": "applications.moves.withdraw",
    "issue": "applications.moves.issue",
    "cancel": "applications.moves.cancel",
}
EXPECTED = {
    *MOVES.values(),
    "applications.intake.submit",
    "applications.bulk_intake.import_applications",
    "applications.documents.upload_document",
    "applications.documents.rotate",
    "applications.service.set_simplified",
    "applications.service._search",  # a search by name or passport: authorised and audited
}


def test_the_domain_declares_exactly_these_use_cases():
    declared = {name for name in USE_CASES if name.startswith("applications.")}
    assert declared == EXPECTED


@pytest.mark.parametrize("move", sorted(MOVES))
def test_each_move_authorises_the_action_its_edge_names(move):
    case = USE_CASES[MOVES[move]]
    assert (case.action, case.subject) == (APPLICATIONS.action(move), "application")
    assert moves.ACTIONS[move].use_case is case  # the transports' entry point is the declared use case


def _snapshot(engine, app_id: int) -> tuple:
    with session_scope(engine=engine) as session:
        app = session.get(Application, app_id)
        ledger = quotas.find_ledger(session=session, program_id="busan-d2", period="2025")
        return (
            session.scalar(select(func.count()).select_from(AuditEntry)),
            session.scalar(select(func.count()).select_from(ApplicationEvent)),
            session.scalar(select(func.count()).select_from(ApplicationDocument)),
            (app.status, app.updated_at, app.ledger_id, app.reserved),
            (ledger.reserved, ledger.used),
        )


@pytest.mark.parametrize("actor", ["t.busan", SEOUL], ids=["a plain string", "another region's official"])
def test_a_refused_recommendation_is_403_and_writes_nothing(engine, busan, submit, actor):
    app_id = submit(0)
    before = _snapshot(engine, app_id)
    with pytest.raises(Forbidden), session_scope(engine=engine) as session:
        moves.recommend(session=session, app=app_id, actor=actor)
    with pytest.raises(Forbidden), session_scope(engine=engine) as session:
        moves.act(session=session, application_id=app_id, move="recommend", actor=actor, reason="")
    assert _snapshot(engine, app_id) == before
    with session_scope(engine=engine) as session:  # the region's own official may
        moves.recommend(session=session, app=app_id, actor=BUSAN)
    assert _snapshot(engine, app_id)[3][0] == "recommended"


@pytest.mark.parametrize("actor", ["t.officer", SEOUL], ids=["a plain string", "another region's official"])
def test_refused_intake_and_upload_write_nothing(engine, busan, submit, actor):
    app_id = submit(0)
    before = _snapshot(engine, app_id)
    with pytest.raises(Forbidden), session_scope(engine=engine) as session:
        intake.submit(
            session=session,
            program_id="busan-d2",
            applicant=eligible_busan(1),
            name="Refused Applicant",
            passport_no="RF1234567",
            actor=actor,
            on=ON,
        )
    with pytest.raises(Forbidden), session_scope(engine=engine) as session:
        documents.upload_document(
            session=session, app=app_id, doc_type="passport", filename="p.pdf", content=PDF,
            content_type="application/pdf",
            actor=actor,
        )  # fmt: skip
    with pytest.raises(Forbidden), session_scope(engine=engine) as session:
        service.set_simplified(session=session, region="26", enabled=True, actor=actor, reason="refused")
    assert _snapshot(engine, app_id) == before
    with session_scope(engine=engine) as session:
        assert session.scalar(select(func.count()).select_from(Application)) == 1
        assert session.get(RegionBenefit, "26") is None


def test_a_submission_records_its_receipt_then_its_screening(engine, busan):
    with session_scope(engine=engine) as session:
        app = intake.submit(
            session=session, program_id="busan-d2", applicant=eligible_busan(0), name="Order Applicant",
            passport_no="OR1234567", actor=OFFICER, on=ON,
        )  # fmt: skip
        app_id = app.id
    with session_scope(engine=engine) as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.subject_type == "application").order_by(AuditEntry.seq)
        ).all()
        assert [(e.action, e.subject_id, e.actor, e.region) for e in entries] == [
            ("application.submit", str(app_id), "t.officer", "26"),
            ("application.screen", str(app_id), "t.officer", "26"),
        ]
        assert entries[0].reason == "application received (api)"
        assert entries[1].inputs["from"] == "submitted" and entries[1].inputs["to"] == "screened"


def test_a_simplified_recommendation_records_the_recommendation_then_the_automatic_approval(
    engine, busan, submit, attach
):
    with session_scope(engine=engine) as session:
        service.set_simplified(session=session, region="26", enabled=True, actor=ADMIN, reason="grade A")
    app_id = submit(0)
    attach(app_id)  # the simplified procedure's shorter checklist, complete
    with session_scope(engine=engine) as session:
        moves.recommend(session=session, app=app_id, actor=BUSAN)
    with session_scope(engine=engine) as session:
        entries = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.subject_type == "application", AuditEntry.subject_id == str(app_id))
            .order_by(AuditEntry.seq)
        ).all()
        assert [(e.action, e.actor) for e in entries][-2:] == [
            ("application.recommend", "t.busan"),
            ("application.approve.automatic", "system:simplified-procedure"),
        ]
        assert session.get(Application, app_id).status == "approved"
