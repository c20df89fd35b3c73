"""The applications table (`applications.lifecycle`) is what the service does: an exhaustive walk
over every (state, move) pair checks that exactly the declared moves succeed, that each lands in
its declared state, that the quota counters change exactly as the edge's quota effect says (and
the status grant as its records effect says), that the reason rule holds, and that exactly the
roles holding the edge's action may make it."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from regionvisa.accounts.policy import ACTIONS, ROLES, Actor, can
from regionvisa.applications import moves
from regionvisa.applications.lifecycle import APPLICATIONS
from regionvisa.applications.models import Application
from regionvisa.core.errors import Conflict, DomainError, Forbidden
from regionvisa.core.lifecycle import QUOTA_DELTAS
from regionvisa.db import session_scope
from regionvisa.quotas import service as quotas
from regionvisa.records.models import StatusGrant

from .conftest import ON

OFFICER = Actor(id=None, username="walk.officer", display_name="Officer", role="ministry_officer", via="token")
BUSAN = Actor(id=None, username="walk.busan", display_name="Busan", role="regional_official", region="26", via="token")
# the moves a transport may ask for by name; `screen` happens inside intake only
CALLABLE = tuple(m for m in APPLICATIONS.moves if m != "screen")
# how to reach each state from a fresh (screened) application
PATHS = {
    "screened": (),
    "returned": ("return",),
    "recommended": ("recommend",),
    "approved": ("recommend", "approve"),
    "rejected": ("recommend", "reject"),
    "issued": ("recommend", "approve", "issue"),
    "withdrawn": ("withdraw",),
    "cancelled": ("recommend", "approve", "cancel"),
}


def actor_for(move: str) -> Actor:
    """Someone who holds the move's declared action for Busan."""
    return BUSAN if APPLICATIONS.action(move) == "applications.recommend" else OFFICER


def make(session: Session, app_id: int, move: str, *, actor, reason: str):
    kwargs = {"on": ON} if move in ("rescreen", "issue", "cancel") else {}
    return moves.ACTIONS[move](session=session, app=app_id, actor=actor, reason=reason, **kwargs)


def counters(session: Session) -> tuple[int, int]:
    led = quotas.find_ledger(session=session, program_id="busan-d2", period="2025")
    session.refresh(led)
    return led.reserved, led.used


def held_places(session: Session) -> tuple[int, int]:
    """(applications holding a reservation, applications holding a used place) of the ledger."""
    led = quotas.find_ledger(session=session, program_id="busan-d2", period="2025")
    statuses = session.scalars(select(Application.status).where(Application.ledger_id == led.id)).all()
    return sum(s in ("recommended", "approved") for s in statuses), sum(s == "issued" for s in statuses)


def grant_state(session: Session, app_id: int) -> tuple[int, dt.date | None]:
    app = session.get(Application, app_id)
    session.refresh(app)
    count = session.scalar(select(func.count()).select_from(StatusGrant).where(StatusGrant.program_id == "busan-d2"))
    grant = session.get(StatusGrant, app.status_grant_id) if app.status_grant_id else None
    return int(count), grant.valid_to if grant else None


@pytest.fixture
def in_state(engine, busan, submit, attach):
    """in_state(state) -> id of a committed application in that state, reached by real moves
    (`submitted`, which intake leaves at once, is set directly); its checklist is complete, so
    approve and issue are decided by the table alone (the documents gate: test_documents_gate.py)."""

    def run(state: str) -> int:
        app_id = submit(len(state))
        attach(app_id)
        if state == "submitted":
            with session_scope(engine=engine) as session:
                session.execute(update(Application).where(Application.id == app_id).values(status="submitted"))
            return app_id
        for move in PATHS[state]:
            with session_scope(engine=engine) as session:
                make(session, app_id, move, actor=actor_for(move), reason="walk")
        return app_id

    return run


def test_the_table_names_real_actions_states_and_moves():
    from regionvisa.applications.models import STATUSES

    assert APPLICATIONS.states == STATUSES
    assert all(edge.action in ACTIONS for edge in APPLICATIONS.edges)
    assert set(moves.ACTIONS) == set(CALLABLE), "every declared move has a service function, and no other"
    assert set(PATHS) | {"submitted"} == set(STATUSES)


@pytest.mark.parametrize("state", APPLICATIONS.states)
def test_every_move_from_every_state_does_what_the_table_says(engine, in_state, state):
    app_id = in_state(state)
    for move in CALLABLE:
        edge = APPLICATIONS.find(move, state)
        reason = "walk" if APPLICATIONS.needs_reason(move) else ""
        with Session(engine) as session:
            before_quota, before_grant = counters(session), grant_state(session, app_id)
            if edge is None:
                with pytest.raises(Conflict) as err:
                    make(session, app_id, move, actor=actor_for(move), reason=reason)
                assert err.value.code == "invalid_transition" and f"it is {state}" in err.value.en, (state, move)
                session.rollback()
                assert (counters(session), grant_state(session, app_id)) == (before_quota, before_grant)
                continue
            make(session, app_id, move, actor=actor_for(move), reason=reason)
            session.flush()
            app = session.get(Application, app_id)
            session.refresh(app)
            assert app.status == edge.to_state, (state, move)
            effect = edge.effect("quota")
            delta = QUOTA_DELTAS[effect] if effect else (0, 0)
            after = counters(session)
            assert (after[0] - before_quota[0], after[1] - before_quota[1]) == delta, (state, move, effect)
            assert after == held_places(session), f"{state} --{move}-> the ledger no longer counts the held places"
            count, valid_to = grant_state(session, app_id)
            records = edge.effect("records")
            assert count - before_grant[0] == (1 if records == "grant" else 0), (state, move)
            if records == "end_grant":
                assert valid_to == ON and before_grant[1] != ON
            elif records is None:
                assert valid_to == before_grant[1]
            session.rollback()


@pytest.mark.parametrize("move", [m for m in CALLABLE if APPLICATIONS.needs_reason(m)])
def test_a_move_that_needs_a_reason_is_refused_without_one(engine, in_state, move):
    state = APPLICATIONS.from_states(move)[0]
    app_id = in_state(state)
    with Session(engine) as session:
        with pytest.raises(DomainError) as err:
            make(session, app_id, move, actor=actor_for(move), reason="   ")
        assert (err.value.status, err.value.code, err.value.field) == (422, "reason_required", "reason")
        session.rollback()
        assert session.get(Application, app_id).status == state


PRINCIPALS = [
    Actor(
        id=None,
        username=f"walk.{role}",
        display_name=role,
        role=role,
        region="26" if role == "regional_official" else None,
        via="token",
    )
    for role in ROLES
] + [Actor(id=None, username="walk.seoul", display_name="Seoul", role="regional_official", region="11", via="token")]


@pytest.mark.parametrize("move", CALLABLE)
def test_exactly_the_holders_of_the_declared_action_may_make_the_move(engine, in_state, move):
    app_id = in_state(APPLICATIONS.from_states(move)[0])
    for who in PRINCIPALS:
        allowed = can(who, APPLICATIONS.action(move), "26")
        with Session(engine) as session:
            if allowed:
                make(session, app_id, move, actor=who, reason="walk")
            else:
                with pytest.raises(Forbidden):
                    make(session, app_id, move, actor=who, reason="walk")
            session.rollback()
