"""Selection rounds / 선정 심사: the demo data step `regionvisa demo` runs (after the programmes).

A completed 2025 round that reproduces the reported outcome: all 17 regions applied and 14 were
selected on 2 April 2025, with the quotas of the pilot table. The 15 selected designs are the
pilot programme files; Seoul, Sejong and Jeju, which were not selected, submit illustrative
designs. The committee's scores are synthetic (seeded), drawn so that the selected regions score
above the threshold and the others below it. The chair trims Gyeonggi's request to the reported
630 places, so the minutes show an adjustment with its reason.
"""

from __future__ import annotations

import copy
import datetime as dt

import numpy as np
import yaml
from sqlalchemy import select
from sqlalchemy.engine import Engine

from regionvisa.accounts import service as accounts
from regionvisa.accounts.models import User
from regionvisa.accounts.policy import Actor, system_actor
from regionvisa.config import PROJECT_ROOT
from regionvisa.db import session_scope
from regionvisa.regions.service import pilot_programmes, region_names
from regionvisa.selection import committee, proposals, rounds, service
from regionvisa.selection.models import SelectionRound
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

KST = dt.timezone(dt.timedelta(hours=9))
YEAR = 2025
DEMO_ACTOR = system_actor("demo")
DEMO_PASSWORD = "demo-committee-2025"
SEED = 2025

# username, display name, role, affiliation, affiliated region
COMMITTEE = (
    ("committee.chair", "Vice Minister of Justice", "chair", "Ministry of Justice", None),
    ("committee.kis", "Director, Korea Immigration Service", "official", "Ministry of Justice", None),
    ("committee.mois", "Director-General, Local Autonomy", "official", "Ministry of the Interior and Safety", None),
    ("committee.moel", "Director, Foreign Workforce Policy", "official", "Ministry of Employment and Labor", None),
    ("committee", "Demo committee member", "expert", "Korea Labor Institute", None),
    ("committee.pnu", "Professor of Public Administration", "expert", "Pusan National University", "26"),
    ("committee.cnu", "Professor of Shipbuilding Engineering", "expert", "Changwon National University", "48"),
    ("committee.iom", "Researcher, Migration Policy", "expert", "IOM Migration Research and Training Centre", None),
    ("committee.kdi", "Fellow, Regional Economy", "expert", "Korea Development Institute", None),
)  # fmt: skip

# Regions that applied but were not selected: illustrative designs (the public record names none).
NOT_SELECTED = {"11": ("seoul-d2", 500), "36": ("sejong-d2", 200), "50": ("jeju-d2", 300)}
REQUEST_ABOVE_REPORTED = {"gyeonggi-e7": 700}  # the chair cut it to the reported 630
ADJUSTMENT_REASON = "reduced to 630 in line with the E-7 ceiling for care workers agreed with the labour ministry"


def _design_files() -> dict[str, dict]:
    designs = {}
    for path in sorted((PROJECT_ROOT / "policy" / "programs").glob("*/*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        designs[data["id"]] = data
    return designs


def _illustrative(base: dict, region: str, program_id: str, quota: int, name: tuple[str, str]) -> dict:
    design = copy.deepcopy(base)
    design.update(id=program_id, region=region, residence_area=[region], quota=quota)
    design["title"] = {"ko": f"{name[0]} 광역형 유학 비자", "en": f"{name[1]} region-led student visa"}
    design["reference"] = "illustrative design for the demo: the public record does not describe it"
    for crit in design["criteria"]:
        if crit["id"].startswith("university-in-"):
            crit["id"] = "university-in-region"
            crit["label"] = {"ko": "지역 소재 대학 입학", "en": "Admitted to a university in the region"}
            crit["reference"] = "illustrative"
            crit["rule"] = {"==": [{"var": "university_region"}, region]}
    return design


NARRATIVE = {
    True: (
        "{name}: the design answers documented shortages in the region's strategic industries and universities; "
        "a dedicated team checks residence every quarter; holders enrol in KIIP within their first year; "
        "local employers sign a domestic-employment protection pledge."
    ),
    False: (
        "{name}: the design widens intake without a documented regional shortage; the support and residence-"
        "checking plan is at an early stage."
    ),
}


def _committee_users(session) -> dict[str, int]:
    ids = {}
    for username, display, *_ in COMMITTEE:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            user = accounts.create_user(
                session=session,
                actor=DEMO_ACTOR,
                username=username,
                display_name=display,
                role="committee_member",
                password=DEMO_PASSWORD,
                reason="demo committee member",
            )
        ids[username] = user.id
    return ids


def _synthetic_scores(regions: list[str], selected: set[str], n_members: int, n_criteria: int) -> np.ndarray:
    """regions × members × criteria scores: selected regions centred on 68–86, the others on 44–54."""
    rng = np.random.default_rng(SEED)
    base = np.where(
        np.isin(np.array(regions), list(selected)),
        rng.uniform(68, 86, len(regions)),
        rng.uniform(44, 54, len(regions)),
    )
    noise = rng.normal(0, 5, (len(regions), n_members, n_criteria)).clip(-9, 9)
    return np.clip(np.rint(base[:, None, None] + noise), 0, 100).astype(int)


OPENS = dt.datetime(2025, 2, 3, 9, 0, tzinfo=KST)
CLOSES = dt.datetime(2025, 3, 14, 18, 0, tzinfo=KST)
SUBMITTED = OPENS + dt.timedelta(days=20)
SCORING = dt.datetime(2025, 3, 24, 10, 0, tzinfo=KST)
SCORING_CLOSED = dt.datetime(2025, 3, 31, 18, 0, tzinfo=KST)
MEETING = dt.datetime(2025, 4, 2, 11, 0, tzinfo=KST)


def demo_step(*, engine: Engine) -> None:
    """Build the completed 2025 round (skipped when a 2025 round exists)."""
    with session_scope(engine=engine) as session:
        if session.scalar(select(SelectionRound.id).where(SelectionRound.year == YEAR)) is not None:
            return
        user_ids = _committee_users(session)
    by_region, selected = _proposed_designs()
    round_id = _open_demo_round(engine)
    _submit_proposals(engine, round_id, by_region, selected)
    with session_scope(engine=engine) as session:
        users = {
            u.username: accounts.principal_of(u)
            for u in session.scalars(select(User).where(User.id.in_(user_ids.values())))
        }
    _score_proposals(engine, round_id, users, sorted(by_region), selected)
    with session_scope(engine=engine) as session:
        service.close_scoring(session=session, rnd=round_id, actor=DEMO_ACTOR, now=SCORING_CLOSED)
    with session_scope(engine=engine) as session:
        service.confirm_decisions(
            session=session,
            rnd=round_id,
            data=DecisionIn(
                adjustments={"gyeonggi-e7": QuotaAdjustment(quota=630, reason=ADJUSTMENT_REASON)},
                meeting_on=MEETING.date(),
            ),
            actor=users["committee.chair"],
            now=MEETING,
        )


def _proposed_designs() -> tuple[dict[str, list[tuple[dict, int]]], set[str]]:
    """Each region's (design, requested quota) pairs, and the regions the pilot table selected."""
    pilot = pilot_programmes()
    files = _design_files()
    names_ko, names_en = region_names("ko"), region_names("en")
    by_region: dict[str, list[tuple[dict, int]]] = {}
    for row in pilot.iter_rows(named=True):
        design = files[row["program_id"]]
        requested = REQUEST_ABOVE_REPORTED.get(row["program_id"], int(row["quota"]))
        by_region.setdefault(row["region"], []).append((design, requested))
    selected = set(by_region)
    for region, (program_id, quota) in NOT_SELECTED.items():
        design = _illustrative(files["busan-d2"], region, program_id, quota, (names_ko[region], names_en[region]))
        by_region[region] = [(design, quota)]
    return by_region, selected


def _open_demo_round(engine: Engine) -> int:
    with session_scope(engine=engine) as session:
        rnd = service.open_round(
            session=session,
            data=RoundIn(
                year=YEAR,
                title_ko="2025년 광역형 비자 시범사업 선정 심사",
                title_en="2025 region-led visa pilot selection",
                window_opens_at=OPENS,
                window_closes_at=CLOSES,
                threshold=60,
                quorum="2/3",
                trim=True,
                period="2025",
                period_start=dt.date(2025, 4, 2),
                period_end=dt.date(2025, 12, 31),
            ),
            actor=DEMO_ACTOR,
        )
        for username, _display, role, affiliation, region in COMMITTEE:
            committee.add_member(
                session=session,
                rnd=rnd.id,
                data=MemberIn(username=username, role=role, affiliation=affiliation, affiliation_region=region),
                actor=DEMO_ACTOR,
            )
        return rnd.id


def _submit_proposals(
    engine: Engine, round_id: int, by_region: dict[str, list[tuple[dict, int]]], selected: set[str]
) -> None:
    names_en = region_names("en")
    for region in sorted(by_region):
        official = Actor(
            id=None,
            username=f"demo:official:{region}",
            display_name=f"Demo official {region}",
            role="regional_official",
            region=region,
            via="cli",
        )
        data = ProposalIn(
            designs=[DesignIn(design=d, requested_quota=q) for d, q in by_region[region]],
            narrative=NARRATIVE[region in selected].format(name=names_en[region]),
        )
        with session_scope(engine=engine) as session:
            proposals.submit_proposal(
                session=session, round_id=round_id, region=region, data=data, actor=official, now=SUBMITTED
            )


def _score_proposals(
    engine: Engine, round_id: int, users: dict[str, Actor], regions: list[str], selected: set[str]
) -> None:
    """Every member declares (no conflict beyond their affiliation) and scores every region they may."""
    with session_scope(engine=engine) as session:
        rubric = [c["id"] for c in rounds.get_round(session=session, round_id=round_id).rubric]
    members = [u for u, *_ in COMMITTEE]
    grid = _synthetic_scores(regions, selected, len(members), len(rubric))
    for m, username in enumerate(members):
        with session_scope(engine=engine) as session:
            committee.declare_conflicts(
                session=session, rnd=round_id, data=ConflictsIn(), actor=users[username], now=SCORING
            )
        with session_scope(engine=engine) as session:
            member = committee.member_of(
                session=session, rnd=rounds.get_round(session=session, round_id=round_id), actor=users[username]
            )
            recused = committee.recused_regions(session=session, member=member)
            for r, region in enumerate(regions):
                if region in recused:
                    continue
                scores = {
                    cid: {"score": int(grid[r, m, c]), "comment": _comment(int(grid[r, m, c]))}
                    for c, cid in enumerate(rubric)
                }
                service.save_scores(
                    session=session,
                    rnd=round_id,
                    region=region,
                    data=ScoresIn(scores=scores),
                    actor=users[username],
                    now=SCORING,
                )


def _comment(score: int) -> str:
    if score >= 80:
        return "strong and well evidenced"
    if score >= 65:
        return "adequate; monitor in the first year"
    if score >= 55:
        return "partly convincing; details missing"
    return "not convincing for this criterion"
