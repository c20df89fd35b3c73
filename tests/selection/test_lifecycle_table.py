"""The selection round table (`selection.lifecycle`) is what the service and the API do: one round
walked through every phase, every move tried in each (exactly the declared ones succeed, each
leads to its declared phase, refusals keep their codes), the reason rule, and the API refusing
exactly the roles lacking the declared action."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from regionvisa.accounts.policy import ACTIONS, can
from regionvisa.core.errors import Conflict, DomainError
from regionvisa.db import session_scope
from regionvisa.selection import committee, proposals, rounds, service
from regionvisa.selection.lifecycle import SELECTION_ROUNDS
from regionvisa.selection.schemas import DecisionIn, DesignIn, MemberIn, ProposalIn, RoundIn, ScoresIn

from .conftest import MEMBERS, busan_design, design_for, principal

REFUSALS = {"close_window": "window_closed", "close_scoring": "not_scoring", "reopen_scoring": "not_closed"}


@pytest.fixture
def walk_round(engine, people):
    """A round whose window closed an hour ago, with Busan's and Seoul's proposals: returns its id
    and, per phase, the moment at which the round is in that phase."""
    now = dt.datetime.now(dt.UTC)
    opens, closes = now - dt.timedelta(hours=3), now - dt.timedelta(hours=1)
    with session_scope(engine=engine) as session:
        rnd = service.open_round(
            session=session,
            data=RoundIn(year=2025, window_opens_at=opens, window_closes_at=closes, threshold=60, trim=True),
            actor=people["s.admin"],
        )
        for username, role, affiliation, region in MEMBERS:
            member = MemberIn(username=username, role=role, affiliation=affiliation, affiliation_region=region)
            committee.add_member(session=session, rnd=rnd.id, data=member, actor=people["s.admin"])
        for region, user, design in (("26", "s.busan", busan_design()), ("11", "s.seoul", design_for("11", "s-d2"))):
            data = ProposalIn(designs=[DesignIn(design=design, requested_quota=300)], narrative="plan")
            proposals.submit_proposal(
                session=session,
                round_id=rnd.id,
                region=region,
                data=data,
                actor=people[user],
                now=opens + dt.timedelta(hours=1),
            )
        round_id = rnd.id
    clock = {"before": opens - dt.timedelta(hours=1), "submission": opens + dt.timedelta(hours=1)}
    return round_id, clock | {p: now for p in ("scoring", "scoring_closed", "decided")}


def score_everything(engine, people, round_id: int) -> None:
    from regionvisa.selection.schemas import ConflictsIn

    criteria = ("need", "feasibility", "settlement", "management", "employment")
    with session_scope(engine=engine) as session:
        for username, *_ in MEMBERS:
            committee.declare_conflicts(
                session=session, rnd=round_id, data=ConflictsIn(regions=[], reason=""), actor=people[username]
            )
            for region in ("26", "11"):
                if username == "c.expert1" and region == "26":
                    continue  # affiliated with Busan: recused
                scores = {c: {"score": 80, "comment": f"{c} 80"} for c in criteria}
                service.save_scores(
                    session=session, rnd=round_id, region=region, data=ScoresIn(scores=scores), actor=people[username]
                )


def make(session, round_id: int, move: str, *, people, now: dt.datetime, reason: str = "walk"):
    admin = people["s.admin"]
    if move == "close_window":
        return service.close_window(session=session, rnd=round_id, actor=admin, reason=reason, now=now)
    if move == "close_scoring":
        return service.close_scoring(session=session, rnd=round_id, actor=admin, now=now)
    if move == "reopen_scoring":
        return service.reopen_scoring(session=session, rnd=round_id, actor=admin, reason=reason)
    return service.confirm_decisions(session=session, rnd=round_id, data=DecisionIn(), actor=people["c.chair"], now=now)


def test_the_table_names_real_actions_and_the_phases():
    from regionvisa.selection.models import ROUND_STATUSES

    assert all(edge.action in ACTIONS for edge in SELECTION_ROUNDS.edges)
    assert set(ROUND_STATUSES) - {"open"} <= set(SELECTION_ROUNDS.states)
    assert set(SELECTION_ROUNDS.moves) == {"close_window", "close_scoring", "reopen_scoring", "decide"}


def test_every_move_in_every_phase_does_what_the_table_says(engine, people, walk_round):
    round_id, clock = walk_round
    for state in SELECTION_ROUNDS.states:
        if state == "scoring":
            score_everything(engine, people, round_id)
        if state == "scoring_closed":
            with session_scope(engine=engine) as session:
                make(session, round_id, "close_scoring", people=people, now=clock[state])
        if state == "decided":
            with session_scope(engine=engine) as session:
                make(session, round_id, "decide", people=people, now=clock[state])
        for move in SELECTION_ROUNDS.moves:
            edge = SELECTION_ROUNDS.find(move, state)
            with Session(engine) as session:
                assert rounds.phase(rounds.get_round(session=session, round_id=round_id), clock[state]) == state
                if edge is None:
                    with pytest.raises(Conflict) as err:
                        make(session, round_id, move, people=people, now=clock[state])
                    expected = REFUSALS.get(move) or ("already_decided" if state == "decided" else "not_ready")
                    assert (err.value.status, err.value.code) == (409, expected), (state, move)
                else:
                    make(session, round_id, move, people=people, now=clock[state])
                    session.flush()
                    rnd = rounds.get_round(session=session, round_id=round_id)
                    assert rounds.phase(rnd, clock[state]) == edge.to_state, (state, move)
                session.rollback()
            if edge is not None and SELECTION_ROUNDS.needs_reason(move):
                with Session(engine) as session, pytest.raises(DomainError) as err:
                    make(session, round_id, move, people=people, now=clock[state], reason="  ")
                assert (err.value.status, err.value.code) == (422, "reason_required")


def test_the_api_refuses_exactly_the_roles_lacking_the_declared_action(engine, people, walk_round, make_user, bearer):
    round_id, _clock = walk_round
    make_user("s.officer", "ministry_officer")
    make_user("s.auditor", "auditor")
    users = ("s.admin", "s.officer", "s.busan", "c.chair", "s.auditor")
    routes = {
        "close_window": "close-window?reason=walk",
        "close_scoring": "close-scoring",
        "reopen_scoring": "reopen-scoring?reason=walk",
    }
    from fastapi.testclient import TestClient

    from regionvisa.app import create_app

    with TestClient(create_app(engine=engine)) as client:
        for move in SELECTION_ROUNDS.moves:
            action = SELECTION_ROUNDS.action(move)
            for username in users:
                who = principal(engine, username)
                if move == "decide":
                    url, body = f"/api/v1/selection/rounds/{round_id}/decision", {}
                else:
                    url, body = f"/api/v1/selection/rounds/{round_id}/{routes[move]}", None
                answer = client.post(url, json=body, headers=bearer(username))
                assert (answer.status_code == 403) == (not can(who, action)), (move, username, answer.text)
                assert answer.status_code in (200, 403, 409), answer.text
