"""Compliance / 체류 준수: the demo data step `regionvisa demo` runs (after the synthetic records).

Records a compliance run as of the synthetic dataset's reference date, which opens the cases
on programme holders, and moves a few of them along (one under review, one resolved with a
warning, one closed) so the dashboards and queues show every state.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from regionvisa.accounts.policy import system_actor
from regionvisa.compliance import cases
from regionvisa.compliance.models import ComplianceCase
from regionvisa.db import session_scope
from regionvisa.stats.service import data_as_of

DEMO_ACTOR = system_actor("demo", detail="compliance")


def demo_step(*, engine: Engine) -> None:

    on = data_as_of(engine=engine)  # the date the other pages show by default
    result = cases.record_run(engine=engine, on=on, actor=DEMO_ACTOR)
    with Session(engine) as session:
        ids = list(
            session.scalars(
                select(ComplianceCase.id)
                .where(ComplianceCase.status == "open")
                .order_by(ComplianceCase.region, ComplianceCase.id)
                .limit(3)
            )
        )
    steps = [
        [("review", "demo: address reports being checked with the region", None)],
        [
            ("review", "demo: holder asked for an explanation", None),
            ("resolve", "demo: moved for an internship outside the region without approval", "warning"),
        ],
        [("close", "demo: duplicate of a case handled on paper", None)],
    ]
    for case_id, actions in zip(ids, steps, strict=False):
        for action, reason, outcome in actions:
            with session_scope(engine=engine) as session:
                cases.act(
                    session=session, case=case_id, action=action, actor=DEMO_ACTOR, reason=reason, outcome=outcome
                )
    print(
        f"compliance as of {on}: {result.findings:,} findings, {result.holder_findings:,} on holders, "
        f"{result.cases_opened:,} cases opened"
    )
