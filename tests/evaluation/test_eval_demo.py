"""The demo step: committee scores with a recused member, then the 2025 evaluation published; a rerun republishes."""

from __future__ import annotations

from sqlalchemy import select

from regionvisa.db import session_scope
from regionvisa.evaluation import demo, service
from regionvisa.evaluation.models import CommitteeScore, EvaluationRun


def test_demo_step_scores_runs_and_publishes(engine, records):
    demo.demo_step(engine=engine)
    with session_scope(engine=engine) as session:
        run = service.published_run(session=session, year=demo.DEMO_YEAR)
        assert run is not None
        result = service.result_of(run)
        regions = [e["region"] for e in result["regions"]]
        assert regions and all(e["indicators"]["integration_policy"]["raw"] is not None for e in result["regions"])
        from regionvisa.accounts.service import get_user_by_name

        uid = get_user_by_name(session=session, username="committee.busan").id
        scored = set(session.scalars(select(CommitteeScore.region).where(CommitteeScore.member_id == uid)))
        assert "26" not in scored and scored
        assert service.reproduce_run(session=session, run_id=run.id)["identical"]
    demo.demo_step(engine=engine)  # a rebuilt demo republishes without touching the closed scores
    with session_scope(engine=engine) as session:
        statuses = [r.status for r in session.scalars(select(EvaluationRun).order_by(EvaluationRun.id))]
    assert statuses == ["superseded", "published"]
