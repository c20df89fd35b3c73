"""The programme version table (`programs.lifecycle`) is what the service and the API do: every
(state, move) pair through `programs.service.transition`, and every move through the API with
every role, refused (403) exactly for the roles that lack the edge's declared action."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy.orm import Session
from tests.actors import SYSTEM

from regionvisa.accounts.policy import ACTIONS, ROLES, Actor, can
from regionvisa.core.errors import Conflict, DomainError
from regionvisa.db import session_scope
from regionvisa.policyfiles import read_yaml
from regionvisa.programs import service
from regionvisa.programs.files import parse_design
from regionvisa.programs.lifecycle import PROGRAMME_VERSIONS

from .conftest import BUSAN

PATHS = {
    "draft": (),
    "submitted": ("submit",),
    "approved": ("submit", "approve"),
    "published": ("submit", "approve", "publish"),
    "retired": ("submit", "approve", "publish", "retire"),
}
PRINCIPALS = {
    **{role: Actor(id=None, username=role, display_name=role, role=role, via="token") for role in ROLES},
    "regional_official": Actor(
        id=None, username="busan", display_name="Busan", role="regional_official", region="26", via="token"
    ),
    "seoul_official": Actor(
        id=None, username="seoul", display_name="Seoul", role="regional_official", region="11", via="token"
    ),
}


@pytest.fixture
def in_state(engine):
    """in_state(state) -> id of a Busan programme whose version 1 is in that state."""

    def run(state: str) -> str:
        design = copy.deepcopy(read_yaml(BUSAN))
        design["id"] = f"walk-{state}"
        with session_scope(engine=engine) as session:
            service.store(session=session, design=parse_design(design), actor=SYSTEM, reason="walk", status="draft")
            for move in PATHS[state]:
                service.transition(
                    session=session, program=design["id"], version=1, move=move, actor=SYSTEM, reason="walk"
                )
        return design["id"]

    return run


def test_the_table_covers_the_statuses_and_names_real_actions():
    assert set(PATHS) == set(PROGRAMME_VERSIONS.states)
    assert all(edge.action in ACTIONS for edge in PROGRAMME_VERSIONS.edges)


@pytest.mark.parametrize("state", PROGRAMME_VERSIONS.states)
def test_every_move_from_every_state_does_what_the_table_says(engine, in_state, state):
    program_id = in_state(state)
    for move in PROGRAMME_VERSIONS.moves:
        edge = PROGRAMME_VERSIONS.find(move, state)
        with Session(engine) as session:
            if edge is None:
                with pytest.raises(Conflict) as err:
                    service.transition(
                        session=session, program=program_id, version=1, move=move, actor=SYSTEM, reason="walk"
                    )
                assert err.value.code == "invalid_transition" and f"it is {state}" in err.value.en, (state, move)
            else:
                row = service.transition(
                    session=session, program=program_id, version=1, move=move, actor=SYSTEM, reason="walk"
                )
                assert row.status == edge.to_state, (state, move)
            session.rollback()
        with session_scope(engine=engine) as session:
            assert service.get_version(session=session, program_id=program_id, version=1).status == state


def test_an_unknown_move_is_a_400(engine, in_state):
    program_id = in_state("draft")
    with Session(engine) as session, pytest.raises(DomainError) as err:
        service.transition(session=session, program=program_id, version=1, move="burn", actor=SYSTEM, reason="walk")
    assert (err.value.status, err.value.code) == (400, "unknown_transition")


@pytest.mark.parametrize("move", PROGRAMME_VERSIONS.moves)
def test_the_api_refuses_exactly_the_roles_lacking_the_declared_action(client, bearer, in_state, move):
    program_id = in_state(PROGRAMME_VERSIONS.from_states(move)[0])
    action = PROGRAMME_VERSIONS.action(move)
    url = f"/api/v1/programs/{program_id}/versions/1/{move}"
    for who, principal in PRINCIPALS.items():
        answer = client.post(url, json={"reason": "walk"}, headers=bearer(who))
        # a holder either makes the move or, once another holder has made it, gets the 409
        assert (answer.status_code == 403) == (not can(principal, action, "26")), (move, who, answer.text)
        assert answer.status_code in (200, 403, 409), answer.text
