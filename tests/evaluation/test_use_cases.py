"""The evaluation domain's state changes are exactly its declared use cases; they refuse a plain
string and a role outside the table and then leave nothing behind; reads of a region's result
answer "which region?" through `evaluation.subjects`."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.actors import BUSAN, OFFICER, SYSTEM

from regionvisa.audit.models import AuditEntry
from regionvisa.core.errors import Forbidden
from regionvisa.core.usecase import USE_CASES
from regionvisa.db import session_scope
from regionvisa.evaluation import flows, service
from regionvisa.evaluation.models import CommitteeScore, EvaluationBenefit, EvaluationRun

YEAR = 2025
EXPECTED = {
    "evaluation.service.set_member": ("evaluation.publish", "app_user", "evaluation.committee_member"),
    "evaluation.service.enter_score": ("committee.score", None, "evaluation.committee_score"),
    "evaluation.service.run_evaluation": ("evaluation.publish", None, "evaluation.run"),
    "evaluation.service.store_run": ("evaluation.publish", None, "evaluation.run"),
    "evaluation.flows.publish_evaluation": ("evaluation.publish", "evaluation_run", None),
}


def test_the_declared_use_cases_are_exactly_these():
    declared = {
        name: (u.action, u.subject, u.audit_action) for name, u in USE_CASES.items() if name.startswith("evaluation.")
    }
    assert declared == EXPECTED


def _state(engine) -> tuple:
    with Session(engine) as session:
        return (
            tuple(session.execute(select(EvaluationRun.id, EvaluationRun.status).order_by(EvaluationRun.id)).all()),
            session.scalar(select(func.count()).select_from(EvaluationBenefit)),
            session.scalar(select(func.count()).select_from(CommitteeScore)),
            session.scalar(select(func.count()).select_from(AuditEntry)),
        )


@pytest.mark.parametrize("actor", ["t.officer", "system:cli", BUSAN], ids=["name", "system name", "regional official"])
def test_publishing_refuses_a_string_or_a_role_lacking_the_action_and_writes_nothing(engine, world, actor):
    with session_scope(engine=engine) as session:
        run_id = service.run_evaluation(session=session, year=YEAR, actor=SYSTEM, draws=20).id
    before = _state(engine)
    with pytest.raises(Forbidden), session_scope(engine=engine) as session:
        flows.publish_evaluation(session=session, run_id=run_id, actor=actor)
    with pytest.raises(Forbidden), session_scope(engine=engine) as session:
        service.run_evaluation(session=session, year=YEAR, actor=actor, draws=20)
    with pytest.raises(Forbidden), session_scope(engine=engine) as session:
        service.enter_score(session=session, actor=actor, year=YEAR, region="26", score=50, justification="x" * 12)
    assert _state(engine) == before


def test_publication_is_audited_under_the_publisher_last(engine, world):
    with session_scope(engine=engine) as session:
        run_id = service.run_evaluation(session=session, year=YEAR, actor=OFFICER, draws=20).id
        flows.publish_evaluation(session=session, run_id=run_id, actor=OFFICER, reason="annual publication")
    with Session(engine) as session:
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
        stored = session.scalars(select(AuditEntry).where(AuditEntry.action == "evaluation.run")).one()
    assert (last.action, last.subject_type, last.subject_id, last.actor, last.region, last.reason) == (
        "evaluation.publish",
        "evaluation_run",
        str(run_id),
        OFFICER.username,
        None,
        "annual publication",
    )
    assert (stored.subject_id, stored.actor) == (str(run_id), OFFICER.username)


def test_a_regional_official_reads_their_own_regions_detail_only(engine, world):
    with session_scope(engine=engine) as session:
        run = service.run_evaluation(session=session, year=YEAR, actor=SYSTEM, draws=20)
        flows.publish_evaluation(session=session, run_id=run.id, actor=SYSTEM)
    with Session(engine) as session:
        assert service.region_view(session=session, actor=BUSAN, region="26")["region"] == "26"
        for read in (
            lambda: service.region_view(session=session, actor=BUSAN, region="41"),
            lambda: service.what_if(session=session, actor=BUSAN, region="41", changes={}),
            lambda: service.published_benefits(session=session, actor=BUSAN, region="41"),
            lambda: service.region_publication(session=session, actor=BUSAN, region="41"),
            lambda: service.region_view(session=session, actor="t.busan", region="26"),
        ):
            with pytest.raises(Forbidden):
                read()
        result = service.published_result(session=session, actor=BUSAN)
        assert [e["region"] for e in result["regions"]] == ["26"]
        assert len(result["ranking"]) == 3  # the ranking without detail, every region
        assert [b.region for b in service.published_benefits(session=session, actor=BUSAN)[1]] == ["26"]
        assert len(service.published_result(session=session, actor=OFFICER)["regions"]) == 3
