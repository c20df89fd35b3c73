"""Who sees which committee scores, through the real ASGI app, in every phase of a round.

- Until scoring closes, a member sees only their own scores; nobody else sees any.
- Once scoring is closed, members see every score of the regions they are not recused from,
  and the ministry and auditors see all of them.
- A region sees the scores of its own proposal, and only once the results are published (scoring
  can still be reopened before the decision): never another region's scores or comments.
"""

from __future__ import annotations

import datetime as dt

import pytest

from regionvisa.db import session_scope
from regionvisa.selection import committee, proposals, service
from regionvisa.selection.schemas import ConflictsIn, DecisionIn, DesignIn, ProposalIn, ScoresIn

from .conftest import MEMBERS, busan_design, design_for

API = "/api/v1/selection"
CRITERIA = ("need", "feasibility", "settlement", "management", "employment")
LATER = dt.timedelta(hours=2)
SCORERS = [m[0] for m in MEMBERS]


def comment(region: str, member: str) -> str:
    return f"remark of {member} on proposal {region}"


def scores_of(client, bearer, username: str, round_id: int) -> list[dict]:
    response = client.get(f"{API}/rounds/{round_id}/scores?page_size=500", headers=bearer(username))
    assert response.status_code == 200, response.text
    return response.json()["items"]


def regions_of(items: list[dict]) -> set[str]:
    return {s["region"] for s in items}


@pytest.fixture
def auditor(make_user) -> str:
    make_user("s.auditor", "auditor")
    return "s.auditor"


@pytest.fixture
def scored(engine, people, round_id) -> int:
    """Busan and Seoul submitted; every member declared and scored every proposal they may, with a
    comment naming the proposal's region (c.expert1 is recused from Busan by affiliation)."""
    later = dt.datetime.now(dt.UTC) + LATER
    with session_scope(engine=engine) as session:
        for region, user, design in (
            ("26", "s.busan", busan_design()),
            ("11", "s.seoul", design_for("11", "seoul-d2", 400)),
        ):
            proposals.submit_proposal(
                session=session,
                round_id=round_id,
                region=region,
                data=ProposalIn(designs=[DesignIn(design=design, requested_quota=400)], narrative=f"plan {region}"),
                actor=people[user],
            )
    with session_scope(engine=engine) as session:
        for name in SCORERS:
            committee.declare_conflicts(
                session=session, rnd=round_id, data=ConflictsIn(), actor=people[name], now=later
            )
        for name in SCORERS:
            for region in ("26", "11"):
                if name == "c.expert1" and region == "26":
                    continue
                body = {c: {"score": 80, "comment": comment(region, name)} for c in CRITERIA}
                service.save_scores(
                    session=session,
                    rnd=round_id,
                    region=region,
                    data=ScoresIn(scores=body),
                    actor=people[name],
                    now=later,
                )
    return round_id


def close_scoring(engine, people, round_id) -> None:
    with session_scope(engine=engine) as session:
        service.close_scoring(
            session=session, rnd=round_id, actor=people["s.admin"], now=dt.datetime.now(dt.UTC) + LATER
        )


def decide(engine, people, round_id) -> None:
    close_scoring(engine, people, round_id)
    with session_scope(engine=engine) as session:
        service.confirm_decisions(session=session, rnd=round_id, data=DecisionIn(), actor=people["c.chair"])


def test_while_scoring_is_open_only_a_members_own_scores_show(client, bearer, scored, auditor):
    own = scores_of(client, bearer, "c.chair", scored)
    assert {s["member"] for s in own} == {"c.chair"} and regions_of(own) == {"26", "11"}
    for username in ("s.admin", auditor, "s.busan", "s.seoul", "c.outsider"):
        assert scores_of(client, bearer, username, scored) == [], username


def test_once_scoring_is_closed_the_committee_and_the_ministry_see_scores_but_no_region(
    client, bearer, engine, people, scored, auditor
):
    close_scoring(engine, people, scored)
    every = scores_of(client, bearer, "s.admin", scored)
    assert regions_of(every) == {"26", "11"}
    assert len(every) == (len(SCORERS) * 2 - 1) * len(CRITERIA)
    assert scores_of(client, bearer, auditor, scored) == every
    assert scores_of(client, bearer, "c.chair", scored) == every
    assert regions_of(scores_of(client, bearer, "c.expert1", scored)) == {"11"}  # recused from Busan
    # scoring may still be reopened before the decision: regions see nothing yet
    for username in ("s.busan", "s.seoul", "s.daegu", "c.outsider"):
        assert scores_of(client, bearer, username, scored) == [], username


def test_after_the_decision_a_region_sees_its_own_proposals_scores_only(
    client, bearer, engine, people, scored, auditor
):
    """The attack: a Busan official read every region's scores and the members' comments on Seoul."""
    decide(engine, people, scored)
    busan = client.get(f"{API}/rounds/{scored}/scores?page_size=500", headers=bearer("s.busan"))
    assert busan.status_code == 200
    items = busan.json()["items"]
    assert regions_of(items) == {"26"}
    assert len(items) == (len(SCORERS) - 1) * len(CRITERIA)  # every member's score of Busan's proposal
    assert {s["comment"] for s in items} == {comment("26", name) for name in SCORERS if name != "c.expert1"}
    assert "on proposal 11" not in busan.text
    assert busan.json()["total"] == len(items)
    seoul = scores_of(client, bearer, "s.seoul", scored)
    assert regions_of(seoul) == {"11"} and len(seoul) == len(SCORERS) * len(CRITERIA)
    assert scores_of(client, bearer, "s.daegu", scored) == []  # no proposal, nothing to see
    assert regions_of(scores_of(client, bearer, "s.admin", scored)) == {"26", "11"}
    assert regions_of(scores_of(client, bearer, auditor, scored)) == {"26", "11"}
    # the aggregate of its own proposal, not of the others
    tally = client.get(f"{API}/rounds/{scored}/tally", headers=bearer("s.busan")).json()["items"]
    assert [t["region"] for t in tally] == ["26"] and tally[0]["aggregate"] == 80.0


def test_the_selection_pages_show_a_region_no_other_regions_scores(client, bearer, engine, people, scored):
    decide(engine, people, scored)
    headers = bearer("s.busan")
    pages = [f"/selection/rounds/{scored}", f"/selection/rounds/{scored}/proposals/26", "/selection"]
    for path in pages:
        page = client.get(path, headers=headers)
        assert page.status_code == 200, path
        assert "on proposal 11" not in page.text, path
    # the scoring pages are the committee's
    for path in (f"/selection/rounds/{scored}/score", f"/selection/rounds/{scored}/score/11"):
        assert client.get(path, headers=headers).status_code == 403, path
    member = client.get(f"/selection/rounds/{scored}/score/11", headers=bearer("c.expert1"))
    assert member.status_code == 200 and comment("11", "c.chair") in member.text
    recused = client.get(f"/selection/rounds/{scored}/score/26", headers=bearer("c.expert1"))
    assert recused.status_code == 403 and comment("26", "c.chair") not in recused.text


def _section(html: str, region: str) -> str:
    start = html.index(f'id="minutes-{region}"')
    return html[start : html.index("</section>", start)]


def test_the_minutes_show_a_region_the_members_scores_of_its_own_proposal_only(client, bearer, engine, people, scored):
    decide(engine, people, scored)
    member_row = '<td class="num">80</td>'  # one member's score of one criterion
    for path in (f"{API}/rounds/{scored}/minutes?language=en", f"/selection/rounds/{scored}/minutes?language=en"):
        busan = client.get(path, headers=bearer("s.busan"))
        assert busan.status_code == 200, path
        assert member_row in _section(busan.text, "26"), path
        assert member_row not in _section(busan.text, "11"), path
        assert "80.00" in _section(busan.text, "11")  # the published aggregate stays
        ministry = client.get(path, headers=bearer("s.admin")).text
        assert member_row in _section(ministry, "26") and member_row in _section(ministry, "11"), path
