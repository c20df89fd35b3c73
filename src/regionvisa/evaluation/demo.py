"""Annual regional evaluation / 연간 지역 평가: the demo step.

`regionvisa demo` runs it after the synthetic records: three committee members (one of them from
Busan's government, so recused from Busan) score every participating region, then the 2025
evaluation is computed from the records and published."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select
from sqlalchemy.engine import Engine

from regionvisa.accounts import service as accounts
from regionvisa.accounts.models import User
from regionvisa.accounts.policy import system_actor
from regionvisa.db import session_scope
from regionvisa.evaluation import flows, service

DEMO_YEAR = 2025
DEMO_ACTOR = system_actor("demo")
MEMBERS = (
    # username, password, display name, government (region code or None)
    ("committee", "demo-committee-2025", "Demo committee member", None),
    ("committee.busan", "demo-committee-busan-2025", "Demo committee member (Busan government)", "26"),
    ("committee.expert", "demo-committee-expert-2025", "Demo committee member (private expert)", None),
)
JUSTIFICATIONS = (
    "Settlement support centre, multilingual counselling and a housing programme in place.",
    "Integration plan adopted; Korean classes with employers, but little follow-up of holders.",
    "Plan exists on paper; few services for holders outside the provincial capital.",
)


def demo_step(*, engine: Engine) -> None:
    """Committee scores, then the 2025 evaluation computed from the records and published."""

    with session_scope(engine=engine) as session:
        existing = {u.username: u for u in session.scalars(select(User))}
        members = []
        for username, password, display, region in MEMBERS:
            user = existing.get(username)
            if user is None:
                user = accounts.create_user(
                    session=session,
                    actor=DEMO_ACTOR,
                    username=username,
                    display_name=display,
                    role="committee_member",
                    region=None,
                    password=password,
                    reason="demo committee member",
                )
            service.set_member(session=session, actor=DEMO_ACTOR, user_id=user.id, region=region, affiliation=display)
            members.append((accounts.principal_of(user), region))

        framework = service.framework_for()
        if service.published_run(session=session, year=DEMO_YEAR) is not None:
            # A rebuilt demo keeps the closed scores: recompute from the new records and republish.
            run = service.run_evaluation(session=session, year=DEMO_YEAR, actor=DEMO_ACTOR, framework=framework)
            flows.publish_evaluation(
                session=session, run_id=run.id, actor=DEMO_ACTOR, reason="demo: 2025 evaluation republished"
            )
            return
        rng = np.random.default_rng(DEMO_YEAR)
        regions = service.participants(session=session, year=DEMO_YEAR)
        base = dict(zip(regions, rng.uniform(45, 90, len(regions)).round(0), strict=True))
        for principal, own in members:
            noise = rng.normal(0, 5, len(regions)).round(0)
            for code, delta in zip(regions, noise, strict=True):
                if code == own:
                    continue
                score = float(min(100.0, max(0.0, base[code] + delta)))
                note = JUSTIFICATIONS[0 if score >= 75 else 1 if score >= 55 else 2]
                service.enter_score(
                    session=session,
                    actor=principal,
                    year=DEMO_YEAR,
                    region=code,
                    score=score,
                    justification=note,
                    framework=framework,
                )
        run = service.run_evaluation(session=session, year=DEMO_YEAR, actor=DEMO_ACTOR, framework=framework)
        flows.publish_evaluation(
            session=session, run_id=run.id, actor=DEMO_ACTOR, reason="demo: 2025 evaluation published"
        )
