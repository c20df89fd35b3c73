"""A plain string or an unknown actor cannot act: not through the policy, not through the audit
log, not through a declared use case, and a refused change leaves nothing behind."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from tests.actors import OFFICER, SYSTEM

from regionvisa.accounts import service as accounts
from regionvisa.accounts.models import User
from regionvisa.accounts.policy import ACTIONS, SYSTEM_GRANTS, authorize, grant, system_actor
from regionvisa.audit.models import AuditEntry
from regionvisa.audit.service import record
from regionvisa.core.actor import Actor
from regionvisa.core.errors import Forbidden
from regionvisa.core.usecase import USE_CASES, Done, Subject, use_case
from regionvisa.db import session_scope
from regionvisa.regions.models import Region

NOT_ACTORS = ["system:cli", "t.officer", "", b"ministry_admin", {"role": "ministry_admin"}]
UNKNOWN_ROLE = Actor(id=None, username="mallory", display_name="Mallory", role="superuser")
SELF_MADE_SYSTEM = Actor(id=None, username="system:root", display_name="root", role=None, via="system")


@pytest.mark.parametrize("actor", NOT_ACTORS, ids=repr)
def test_the_policy_refuses_anything_but_an_actor(actor):
    with pytest.raises(Forbidden, match="only a signed-in user or a declared system actor"):
        authorize(actor, "users.manage")


@pytest.mark.parametrize("actor", [UNKNOWN_ROLE, SELF_MADE_SYSTEM], ids=["unknown role", "undeclared system name"])
def test_an_unknown_actor_holds_no_action(actor):
    assert all(grant(actor, action) is None for action in ACTIONS)
    with pytest.raises(Forbidden):
        authorize(actor, "account.self")


def test_only_declared_system_actors_can_be_made():
    with pytest.raises(Forbidden, match="unknown system actor 'root'"):
        system_actor("root")
    made = system_actor("compliance")
    assert (made.username, made.is_system, made.system_name) == ("system:compliance", True, "compliance")
    assert grant(made, "cases.act") == "all"
    assert grant(made, "users.manage") is None  # only what SYSTEM_GRANTS declares
    assert SYSTEM_GRANTS["compliance"] == {"compliance.read", "cases.act"}


def _counts(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        users = conn.execute(select(func.count()).select_from(User)).scalar_one()
        entries = conn.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    return users, entries


@pytest.mark.parametrize("actor", ["system:cli", "t.admin", UNKNOWN_ROLE, SELF_MADE_SYSTEM], ids=repr)
def test_a_service_refuses_a_string_or_unknown_actor_and_writes_nothing(engine, actor):
    before = _counts(engine)
    with pytest.raises(Forbidden), session_scope(engine=engine) as session:
        accounts.create_user(
            session=session,
            actor=actor,
            username="made.up",
            display_name="Made up",
            role="ministry_admin",
            password="correct-horse-battery",
        )
    assert _counts(engine) == before


def test_the_audit_log_records_no_made_up_name(engine):
    before = _counts(engine)
    with pytest.raises(Forbidden), session_scope(engine=engine) as session:
        record(session=session, actor="system:demo", action="quotas.adjust", subject=("quota", 1), reason="r")
    assert _counts(engine) == before
    with session_scope(engine=engine) as session:
        record(session=session, actor=SYSTEM, action="quotas.adjust", subject=("quota", 1), reason="r")
    assert _counts(engine)[1] == before[1] + 1


# A use case over regions, declared here: the mechanism itself, without any domain's code.
REGION = Subject(kind="region", model=Region, region=lambda region: region.code, touch="name_en")


@use_case(action="stats.read", subject=REGION, lock=True, audit="test.region.touched")
def _touch_region(*, session, region: Region, actor: Actor, note: str) -> Done:
    """Read a region and say so in the log."""
    return Done(value=region.code, reason=note, inputs={"note": note})


def test_a_use_case_loads_authorises_by_region_and_audits(engine):
    busan = Actor(id=None, username="t.busan", display_name="b", role="regional_official", region="26")
    with session_scope(engine=engine) as session:
        assert _touch_region(session=session, region="26", actor=busan, note="own region") == "26"
        assert _touch_region(session=session, region="11", actor=OFFICER, note="ministry") == "11"
    for actor, region in [(busan, "11"), ("t.busan", "26"), (UNKNOWN_ROLE, "26")]:
        before = _counts(engine)
        with pytest.raises(Forbidden), session_scope(engine=engine) as session:
            _touch_region(session=session, region=region, actor=actor, note="refused")
        assert _counts(engine) == before
    with session_scope(engine=engine) as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "test.region.touched").order_by(AuditEntry.seq)
        ).all()
        assert [(e.actor, e.subject_id, e.region, e.reason) for e in entries] == [
            ("t.busan", "26", "26", "own region"),
            ("t.officer", "11", "11", "ministry"),
        ]
    assert USE_CASES[f"{__name__.removeprefix('regionvisa.')}._touch_region"].action == "stats.read"


def test_a_use_case_is_declared_and_called_with_keywords_only(engine):
    """A body with a positional parameter cannot be declared, and a positional call is refused
    before anything is loaded, authorised or written."""
    with pytest.raises(TypeError, match="keyword arguments only"):

        @use_case(action="stats.read", subject=REGION)
        def _positional(session, region, *, actor):  # pragma: no cover - never declared
            return Done(reason="")

    before = _counts(engine)
    with pytest.raises(TypeError), session_scope(engine=engine) as session:
        _touch_region(session, "26", actor=OFFICER, note="positional")  # type: ignore[misc]
    assert _counts(engine) == before
