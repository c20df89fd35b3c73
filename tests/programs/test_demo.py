"""The demo step publishes the fifteen pilot designs once, as the demo's system actor, audited."""

from __future__ import annotations

from sqlalchemy import func, select

from regionvisa.audit.models import AuditEntry
from regionvisa.db import session_scope
from regionvisa.programs import service
from regionvisa.programs.demo import DEMO_ACTOR, demo_step


def test_demo_step_publishes_the_pilots_once(engine, on):
    demo_step(engine=engine)
    demo_step(engine=engine)  # a second run changes nothing
    with session_scope(engine=engine) as session:
        in_force = service.in_force(session=session, on=on)
        assert len(in_force) == 15
        assert {v.status for v in in_force} == {"published"}
        assert {v.version for v in in_force} == {1}
        entries = session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "program.published")
        )
        actors = set(session.scalars(select(AuditEntry.actor).where(AuditEntry.action == "program.published")))
    assert entries == 15
    assert actors == {DEMO_ACTOR.username}
