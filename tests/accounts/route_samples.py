"""Objects the route walk (routewalk.py) reaches through the selection and compliance routes, for
Busan (26) and Seoul (11), made by the domains' own service functions.

- A **decided** selection round: both regions proposed, every committee account scored both
  proposals with a comment that names the region, scoring was closed and the chair confirmed the
  decision. A decided round is final, so the writes of the walk cannot move it, and every read of
  a round (scores, tally, results, minutes) shows real rows. A round belongs to no region: its id
  is `shared`, and the walk checks the answers for other regions' rows and comments instead.
- **Enforcement cases**: the selected designs are published, one holder of each region's
  programme moves to Gyeonggi and reports it late, and a compliance run opens their cases. A case
  belongs to its region, so `{case_id}` is a per-region parameter.
"""

from __future__ import annotations

import copy
import datetime as dt
import tempfile
from pathlib import Path

import yaml
from sqlalchemy import select
from tests.actors import SYSTEM

from regionvisa.accounts import service as accounts
from regionvisa.accounts.models import User
from regionvisa.accounts.policy import Actor
from regionvisa.compliance.models import ComplianceCase
from regionvisa.config import PROJECT_ROOT
from regionvisa.db import session_scope, utcnow
from regionvisa.selection.models import SelectionRound

BUSAN_FILE = PROJECT_ROOT / "policy" / "programs" / "26" / "busan-d2.yaml"
DECIDED_YEAR = 2098  # the selection samples' open round is 2099
ACTOR = SYSTEM
REGIONS = ("26", "11")
CASES_ON = dt.date(2025, 12, 31)


def program_id(region: str) -> str:
    return f"walk-decided-{region}-d2"


def score_comment(region: str) -> str:
    return f"route walk: the committee's remark on proposal {region}"


def holder(region: str) -> str:
    return f"WALKH{region}01"


def _design(region: str) -> dict:
    design = copy.deepcopy(yaml.safe_load(BUSAN_FILE.read_text(encoding="utf-8")))
    design.update(id=program_id(region), region=region, residence_area=[region])
    design["title"] = {"ko": f"{region} 결정 회차 설계", "en": f"Decided round design {region}"}
    return design


def _official(region: str) -> Actor:
    return Actor(id=None, username=f"{ACTOR}:{region}", display_name="walk", role="regional_official", region=region)


def decided_round(engine) -> int:
    """The decided round (made once per database)."""
    from regionvisa.programs import service as programs
    from regionvisa.selection import committee, proposals, service
    from regionvisa.selection.schemas import ConflictsIn, DecisionIn, DesignIn, MemberIn, ProposalIn, RoundIn, ScoresIn

    with session_scope(engine=engine) as session:
        found = session.scalar(select(SelectionRound.id).where(SelectionRound.year == DECIDED_YEAR))
    if found is not None:
        return found
    now = utcnow()
    with session_scope(engine=engine) as session:
        window = {"window_opens_at": now - dt.timedelta(days=2), "window_closes_at": now + dt.timedelta(days=1)}
        rnd = service.open_round(session=session, data=RoundIn(year=DECIDED_YEAR, **window), actor=ACTOR)
        users = session.scalars(select(User).where(User.role == "committee_member").order_by(User.id)).all()
        assert users, "the walk needs committee-member accounts"
        members = [accounts.principal_of(u) for u in users]
        for i, member in enumerate(members):
            body = MemberIn(username=member.username, role="chair" if i == 0 else "expert", affiliation="walk")
            committee.add_member(session=session, rnd=rnd.id, data=body, actor=ACTOR)
        for region in REGIONS:
            proposal = ProposalIn(designs=[DesignIn(design=_design(region))], narrative=f"Decided narrative {region}")
            proposals.submit_proposal(
                session=session, round_id=rnd.id, region=region, data=proposal, actor=_official(region), now=now
            )
        service.close_window(session=session, rnd=rnd.id, actor=ACTOR, reason="route walk", now=now)
        criteria = [c["id"] for c in rnd.rubric]
        for member in members:
            committee.declare_conflicts(session=session, rnd=rnd.id, data=ConflictsIn(), actor=member, now=now)
            for region in REGIONS:
                body = {c: {"score": 80, "comment": score_comment(region)} for c in criteria}
                service.save_scores(
                    session=session, rnd=rnd.id, region=region, data=ScoresIn(scores=body), actor=member, now=now
                )
        service.close_scoring(session=session, rnd=rnd.id, actor=ACTOR, now=now)
        service.confirm_decisions(session=session, rnd=rnd.id, data=DecisionIn(), actor=members[0])
        for region in REGIONS:
            version = programs.get_version(session=session, program_id=program_id(region))
            programs.transition(
                session=session,
                program=program_id(region),
                version=version.version,
                move="publish",
                actor=ACTOR,
                reason="walk",
            )
        return rnd.id


def open_cases(engine) -> dict[str, int]:
    """region -> the id of an enforcement case of a holder of that region's programme."""
    from regionvisa.compliance import cases
    from regionvisa.records.service import import_file

    wanted = {region: holder(region) for region in REGIONS}
    with session_scope(engine=engine) as session:
        found = dict(
            session.execute(
                select(ComplianceCase.region, ComplianceCase.id)
                .where(ComplianceCase.person_id.in_(wanted.values()))
                .order_by(ComplianceCase.id)
            ).all()
        )
    if set(found) != set(REGIONS):
        feeds = {
            "people": ["person_id,name,nationality,birth_date,sex,passport_no"],
            "statuses": ["person_id,visa,subtype,program_id,region,valid_from,valid_to,granted_on"],
            "addresses": ["person_id,area_code,effective_date,reported_date"],
        }
        for i, (region, pid) in enumerate(wanted.items()):
            feeds["people"].append(f"{pid},Walk Holder {region},VNM,2001-02-0{i + 1},F,WH{region}00001")
            feeds["statuses"].append(f"{pid},D-2,,{program_id(region)},{region},2025-05-01,2026-12-31,2025-05-01")
            feeds["addresses"].append(f"{pid},{region}110,2025-05-02,2025-05-03")
            feeds["addresses"].append(f"{pid},41110,2025-07-01,2025-09-30")  # moved away, reported late
        with tempfile.TemporaryDirectory() as folder:
            for kind, lines in feeds.items():
                path = Path(folder) / f"{kind}.csv"
                path.write_text("\n".join(lines) + "\n", encoding="utf-8")
                summary, _ = import_file(engine=engine, kind=kind, path=path, actor=SYSTEM)
                assert summary.outcome == "committed", summary
        cases.record_run(engine=engine, on=CASES_ON, actor=ACTOR)
        with session_scope(engine=engine) as session:
            found = dict(
                session.execute(
                    select(ComplianceCase.region, ComplianceCase.id)
                    .where(ComplianceCase.person_id.in_(wanted.values()))
                    .order_by(ComplianceCase.id)
                ).all()
            )
    assert set(found) == set(REGIONS), f"the compliance run opened no case for {set(REGIONS) - set(found)}"
    return found


def route_samples(engine, region: str) -> dict:
    round_id = decided_round(engine)
    case_id = open_cases(engine)[region]
    other = [score_comment(region), holder(region)] if region != "26" else []
    return {"shared": {"round_id": round_id}, "params": {"case_id": case_id}, "markers": other}
