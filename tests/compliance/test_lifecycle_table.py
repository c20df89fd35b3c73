"""The enforcement case table (`compliance.lifecycle`) is what `cases.act` and the API do: one case
walked through every state, every move tried from each (exactly the declared ones succeed, each
lands in its declared state), the reason rule, and the API refusing exactly the roles lacking the
declared action."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.actors import SYSTEM

from regionvisa.accounts import service as accounts
from regionvisa.accounts.policy import ACTIONS, can
from regionvisa.compliance import cases
from regionvisa.compliance.lifecycle import COMPLIANCE_CASES
from regionvisa.compliance.models import ComplianceCase
from regionvisa.core.errors import Conflict, DomainError
from regionvisa.db import session_scope

ON = dt.date(2025, 12, 31)
# the path that visits every state, in order
PATH = (("open", None), ("under_review", "review"), ("resolved", "resolve"), ("closed", "close"))


def open_case(engine, kit) -> int:
    """A Busan programme holder who never reported his move to Seoul: a run opens one case."""
    r = kit.Records()
    r.status("H1", "2025-03-01", "2027-02-28", program_id="busan-d2", region="26")
    r.address("H1", "26110", "2025-03-01", "2025-03-02").address("H1", "11", "2025-05-01", "2025-05-31")
    kit.insert(engine, r.frames())
    cases.record_run(engine=engine, on=ON, actor=SYSTEM)
    with Session(engine) as session:
        return session.scalars(select(ComplianceCase.id).order_by(ComplianceCase.id)).first()


def act(session, case_id: int, move: str, *, actor=SYSTEM, reason="walk"):
    outcome = "warning" if move == "resolve" else None
    return cases.act(session=session, case=case_id, action=move, actor=actor, reason=reason, outcome=outcome)


def test_the_walk_visits_every_state_and_names_real_actions():
    assert [state for state, _ in PATH] == list(COMPLIANCE_CASES.states)
    assert all(edge.action in ACTIONS for edge in COMPLIANCE_CASES.edges)


def test_every_move_from_every_state_does_what_the_table_says(engine, kit):
    case_id = open_case(engine, kit)
    for state, step in PATH:
        if step is not None:
            with session_scope(engine=engine) as session:
                act(session, case_id, step)
        for move in COMPLIANCE_CASES.moves:
            edge = COMPLIANCE_CASES.find(move, state)
            with Session(engine) as session:
                assert cases.get_case(session=session, case_id=case_id).status == state
                if edge is None:
                    with pytest.raises(Conflict) as err:
                        act(session, case_id, move)
                    assert err.value.code == "bad_transition" and f"'{state}'" in err.value.ko, (state, move)
                else:
                    case = act(session, case_id, move)
                    assert case.status == (edge.to_state or state), (state, move)
                    if COMPLIANCE_CASES.needs_reason(move):
                        with pytest.raises(DomainError) as err:
                            act(session, case_id, move, reason=" ")
                        assert (err.value.status, err.value.code) == (400, "reason_required")
                session.rollback()
    with Session(engine) as session, pytest.raises(DomainError) as err:
        act(session, case_id, "reopen")
    assert (err.value.status, err.value.code) == (400, "unknown_action")


@pytest.mark.parametrize("move", COMPLIANCE_CASES.moves)
def test_the_api_refuses_exactly_the_roles_lacking_the_declared_action(engine, kit, client, role_users, move):
    case_id = open_case(engine, kit)
    action = COMPLIANCE_CASES.action(move)
    with session_scope(engine=engine) as session:
        users = {role: accounts.get_user(session=session, user_id=info["id"]) for role, info in role_users.items()}
        tokens = {
            role: accounts.create_token(session=session, actor=SYSTEM, user=u, name="t")[1] for role, u in users.items()
        }
        principals = {role: accounts.principal_of(u, via="token") for role, u in users.items()}
    for role, token in tokens.items():
        body = {"action": move, "reason": "walk", "outcome": "warning" if move == "resolve" else None}
        answer = client.post(
            f"/api/v1/compliance/cases/{case_id}/actions", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert (answer.status_code == 403) == (not can(principals[role], action, "26")), (move, role, answer.text)
        assert answer.status_code in (200, 403, 409), answer.text
