"""Selection's state changes are declared use cases: the list is exactly the expected one, a
refused call (a plain name, another region's official, a role without the action) writes
nothing, a whole round leaves the audit log it always has, and the committee's view of a round is
an action of the permission table, not a role test."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.actors import SYSTEM

from regionvisa.accounts.policy import POLICY, ROLES, SYSTEM_GRANTS
from regionvisa.audit.models import AuditEntry
from regionvisa.core.errors import Forbidden, Invalid
from regionvisa.core.usecase import USE_CASES
from regionvisa.db import session_scope
from regionvisa.selection import committee, proposals, rounds, service
from regionvisa.selection.models import CommitteeMember, Proposal, ProposalVersion, SelectionRound
from regionvisa.selection.schemas import (
    ConflictsIn,
    DecisionIn,
    DesignIn,
    MemberIn,
    ProposalIn,
    QuotaAdjustment,
    RoundIn,
    ScoresIn,
)
from regionvisa.selection.subjects import COMMITTEE_VIEW, sees_as_member

from .conftest import MEMBERS, busan_design, design_for

SELECTION = Path(__file__).resolve().parents[2] / "src" / "regionvisa" / "selection"
CRITERIA = ("need", "feasibility", "settlement", "management", "employment")
START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)

EXPECTED = {
    "selection.service.open_round": ("selection.manage", None, "selection.round.open"),
    "selection.service.close_window": ("selection.manage", "selection_round", "selection.window.close"),
    "selection.service.close_scoring": ("selection.manage", "selection_round", "selection.scoring.close"),
    "selection.service.reopen_scoring": ("selection.manage", "selection_round", "selection.scoring.reopen"),
    "selection.service.save_scores": ("committee.score", "selection_round", "selection.score"),
    "selection.service.confirm_decisions": ("committee.score", "selection_round", "selection.round.decide"),
    "selection.committee.add_member": ("selection.manage", "selection_round", "selection.member.add"),
    "selection.committee.declare_conflicts": ("committee.score", "selection_round", "selection.conflicts.declare"),
    # its audit action names a first submission or a revision (Done.action)
    "selection.proposals.submit_proposal": ("proposals.submit", None, None),
}


def test_the_declared_use_cases_are_exactly_these():
    declared = {
        name: (case.action, case.subject, case.audit_action)
        for name, case in USE_CASES.items()
        if name.startswith("selection.")
    }
    assert declared == EXPECTED


def _state(engine) -> tuple:
    with engine.connect() as conn:
        counts = [
            conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in (AuditEntry, Proposal, ProposalVersion, CommitteeMember)
        ]
        return (*counts, conn.execute(select(SelectionRound.window_closes_at)).scalars().all())


def _busan_proposal() -> ProposalIn:
    return ProposalIn(designs=[DesignIn(design=busan_design())], narrative="plan")


@pytest.mark.parametrize("who", ["s.busan as a name", "s.seoul", "c.chair", "s.admin"])
def test_a_submission_refused_for_its_region_writes_nothing(engine, people, round_id, who):
    actor = "s.busan" if who == "s.busan as a name" else people[who]
    before = _state(engine)
    with pytest.raises(Forbidden) as refused, session_scope(engine=engine) as session:
        proposals.submit_proposal(session=session, round_id=round_id, region="26", data=_busan_proposal(), actor=actor)
    assert refused.value.status == 403
    assert _state(engine) == before
    with session_scope(engine=engine) as session:  # Busan's own official may
        proposals.submit_proposal(
            session=session, round_id=round_id, region="26", data=_busan_proposal(), actor=people["s.busan"]
        )
    assert _state(engine)[:3] == (before[0] + 1, before[1] + 1, before[2] + 1)


def test_a_refused_round_move_writes_nothing(engine, people, round_id):
    before = _state(engine)
    for actor in ("s.admin", people["c.chair"], people["s.busan"]):
        with pytest.raises(Forbidden), session_scope(engine=engine) as session:
            service.close_window(session=session, rnd=round_id, actor=actor, reason="refused")
        with pytest.raises(Forbidden), session_scope(engine=engine) as session:
            committee.add_member(
                session=session,
                rnd=round_id,
                data=MemberIn(username="c.outsider", role="expert", affiliation="x"),
                actor=actor,
            )
    assert _state(engine) == before


def test_only_an_account_that_may_score_is_seated(engine, people, round_id):
    before = _state(engine)
    with pytest.raises(Invalid) as refused, session_scope(engine=engine) as session:
        committee.add_member(
            session=session,
            rnd=round_id,
            data=MemberIn(username="s.admin", role="expert", affiliation="x"),
            actor=people["s.admin"],
        )
    assert refused.value.code == "not_committee_user"
    assert _state(engine) == before


def _whole_round(engine, people) -> int:
    admin = people["s.admin"]
    with session_scope(engine=engine) as session:
        rnd = service.open_round(
            session=session,
            data=RoundIn(year=2025, window_opens_at=START, window_closes_at=START + dt.timedelta(days=9), trim=True),
            actor=admin,
        )
        round_id = rnd.id
        for username, role, affiliation, region in MEMBERS:
            member = MemberIn(username=username, role=role, affiliation=affiliation, affiliation_region=region)
            committee.add_member(session=session, rnd=round_id, data=member, actor=admin)
    submitted = START + dt.timedelta(days=1)
    with session_scope(engine=engine) as session:
        for region, user, design in (("26", "s.busan", busan_design()), ("11", "s.seoul", design_for("11", "s-d2"))):
            data = ProposalIn(designs=[DesignIn(design=design, requested_quota=300)], narrative="plan")
            proposals.submit_proposal(
                session=session, round_id=round_id, region=region, data=data, actor=people[user], now=submitted
            )
        revised = ProposalIn(designs=[DesignIn(design=busan_design(), requested_quota=400)], narrative="revised")
        proposals.submit_proposal(
            session=session, round_id=round_id, region="26", data=revised, actor=people["s.busan"], now=submitted
        )
        service.close_window(
            session=session, rnd=round_id, actor=admin, reason="early", now=START + dt.timedelta(days=4)
        )
    scoring = START + dt.timedelta(days=5)
    with session_scope(engine=engine) as session:
        for username, *_ in MEMBERS:
            committee.declare_conflicts(
                session=session, rnd=round_id, data=ConflictsIn(), actor=people[username], now=scoring
            )
            for region, value in (("26", 85), ("11", 50)):
                if username == "c.expert1" and region == "26":
                    continue  # recused by affiliation
                body = ScoresIn(scores={c: {"score": value, "comment": c} for c in CRITERIA})
                service.save_scores(
                    session=session, rnd=round_id, region=region, data=body, actor=people[username], now=scoring
                )
        late = ConflictsIn(regions=["11"], reason="advises the Seoul design team")
        committee.declare_conflicts(session=session, rnd=round_id, data=late, actor=people["c.expert3"], now=scoring)
        service.close_scoring(session=session, rnd=round_id, actor=admin, now=START + dt.timedelta(days=6))
        service.reopen_scoring(session=session, rnd=round_id, actor=admin, reason="check")
        service.close_scoring(session=session, rnd=round_id, actor=admin, now=START + dt.timedelta(days=7))
        decision = DecisionIn(adjustments={"busan-d2": QuotaAdjustment(quota=350, reason="cut")})
        decided = START + dt.timedelta(days=8)
        service.confirm_decisions(session=session, rnd=round_id, data=decision, actor=people["c.chair"], now=decided)
    return round_id


def test_a_whole_round_writes_the_audit_log_it_always_has(engine, people):
    with session_scope(engine=engine) as session:
        start = session.scalar(select(func.max(AuditEntry.seq))) or 0
    _whole_round(engine, people)
    with session_scope(engine=engine) as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.seq > start).order_by(AuditEntry.seq)).all()
        log = [(e.actor, e.action, e.subject_type, e.region) for e in entries]
        by_action = {e.action: e for e in entries}
    admin, member, proposal, rnd = "s.admin", "selection_member", "selection_proposal", "selection_round"
    scores = []
    for username, *_ in MEMBERS:
        scores.append((username, "selection.conflicts.declare", member, None))
        scores += [
            (username, "selection.score", proposal, region)
            for region in ("26", "11")
            if (username, region) != ("c.expert1", "26")
        ]
    assert log == [
        (admin, "selection.round.open", rnd, None),
        *[(admin, "selection.member.add", member, None)] * 4,
        (admin, "selection.recusal", member, "26"),  # c.expert1's affiliation, after the seating
        *[(admin, "selection.member.add", member, None)] * 2,
        ("s.busan", "selection.proposal.submit", proposal, "26"),
        ("s.seoul", "selection.proposal.submit", proposal, "11"),
        ("s.busan", "selection.proposal.revise", proposal, "26"),
        (admin, "selection.window.close", rnd, None),
        *scores,
        ("c.expert3", "selection.recusal", member, "11"),  # the recusal before the declaration
        ("c.expert3", "selection.conflicts.declare", member, None),
        (admin, "selection.scoring.close", rnd, None),
        (admin, "selection.scoring.reopen", rnd, None),
        (admin, "selection.scoring.close", rnd, None),
        ("c.chair", "selection.decide", proposal, "11"),  # Seoul: below the threshold
        ("c.chair", "selection.decide", proposal, "26"),
        ("c.chair", "program.approved", "program", "26"),
        ("c.chair", "quota.allocate", "quota_ledger", "26"),
        ("c.chair", "selection.round.decide", rnd, None),
    ]
    recusal = next(e for e in entries if e.action == "selection.recusal" and e.region == "11")
    assert recusal.inputs["scores_withdrawn"] == len(CRITERIA) and recusal.reason == "advises the Seoul design team"
    assert by_action["selection.window.close"].reason == "early"
    assert by_action["selection.round.decide"].inputs["selected"] == ["26"]


def test_the_committees_view_is_an_action_held_by_committee_members_only():
    assert {role for role in ROLES if POLICY[COMMITTEE_VIEW].get(role)} == {"committee_member"}
    assert all(COMMITTEE_VIEW not in grants for grants in SYSTEM_GRANTS.values())
    assert not sees_as_member(SYSTEM)
    for path in SELECTION.glob("*.py"):  # no role is named in a check anywhere in selection
        text = path.read_text(encoding="utf-8")
        assert 'role == "committee_member"' not in text and 'role != "committee_member"' not in text, path.name


def test_the_system_sees_a_round_as_the_ministry_does(engine, people):
    round_id = _whole_round(engine, people)
    with session_scope(engine=engine) as session:
        rnd = rounds.get_round(session=session, round_id=round_id)
        assert proposals.visible_regions(session=session, rnd=rnd, actor=SYSTEM) == ["11", "26"]
        assert proposals.visible_regions(session=session, rnd=rnd, actor=people["c.expert3"]) == [
            "26"
        ]  # recused from Seoul
        seen = service.scores_visible_to(session=session, rnd=rnd, actor=SYSTEM)
        assert seen == service.scores_visible_to(session=session, rnd=rnd, actor=people["s.admin"]) and len(seen) > 0
        assert {
            s["region"] for s in service.scores_visible_to(session=session, rnd=rnd, actor=people["c.expert3"])
        } == {"26"}


def test_routers_and_pages_leave_authorisation_to_the_services():
    for name in ("router.py", "pages.py"):
        text = (SELECTION / name).read_text(encoding="utf-8")
        assert "authorize(" not in text and "scope_region(" not in text and "grant(" not in text, name
