"""A selection round with its people: a ministry admin, two regional officials (Busan 26, Seoul 11),
a chair and five further committee members, one of them affiliated with Busan."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from tests.actors import SYSTEM

ROOT = Path(__file__).resolve().parents[2]
BUSAN_DESIGN = ROOT / "policy" / "programs" / "26" / "busan-d2.yaml"

MEMBERS = [
    # username, role, affiliation, affiliated region
    ("c.chair", "chair", "Vice Minister of Justice", None),
    ("c.official1", "official", "Ministry of Justice", None),
    ("c.official2", "official", "Ministry of the Interior and Safety", None),
    ("c.expert1", "expert", "Pusan National University", "26"),
    ("c.expert2", "expert", "Korea Labor Institute", None),
    ("c.expert3", "expert", "IOM Migration Research and Training Centre", None),
]


def busan_design() -> dict:
    return yaml.safe_load(BUSAN_DESIGN.read_text(encoding="utf-8"))


def design_for(region: str, program_id: str, quota: int = 500) -> dict:
    """The Busan design moved to another region (a valid D-2 design there)."""
    design = copy.deepcopy(busan_design())
    design.update(id=program_id, region=region, residence_area=[region], quota=quota)
    design["title"] = {"ko": f"{region} 유학 비자", "en": f"Region {region} student visa"}
    for crit in design["criteria"]:
        if crit["id"] == "university-in-busan":
            crit["id"] = "university-in-region"
            crit["rule"] = {"==": [{"var": "university_region"}, region]}
    return design


def as_json(design: dict) -> dict:
    """The design as an API client sends it (dates as ISO text)."""

    def plain(value):
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return json.loads(json.dumps(plain(design), default=str))


def principal(engine, username: str):
    from regionvisa.accounts import service as accounts
    from regionvisa.db import session_scope

    with session_scope(engine=engine) as session:
        return accounts.principal_of(accounts.get_user_by_name(session=session, username=username))


@pytest.fixture
def people(engine, make_user) -> dict:
    make_user("s.admin", "ministry_admin")
    make_user("s.busan", "regional_official", "26")
    make_user("s.seoul", "regional_official", "11")
    make_user("s.daegu", "regional_official", "27")
    for username, *_ in MEMBERS:
        make_user(username, "committee_member")
    make_user("c.outsider", "committee_member")
    return {name: principal(engine, name) for name in ["s.admin", "s.busan", "s.seoul", "s.daegu", "c.outsider"]} | {
        m[0]: principal(engine, m[0]) for m in MEMBERS
    }


@pytest.fixture
def round_id(engine, people) -> int:
    """An open round (window from an hour ago to an hour ahead) with the six members."""
    from regionvisa.db import session_scope
    from regionvisa.selection import committee, service
    from regionvisa.selection.schemas import MemberIn, RoundIn

    now = dt.datetime.now(dt.UTC)
    with session_scope(engine=engine) as session:
        rnd = service.open_round(
            session=session,
            data=RoundIn(
                year=2025,
                window_opens_at=now - dt.timedelta(hours=1),
                window_closes_at=now + dt.timedelta(hours=1),
                threshold=60,
                trim=True,
            ),
            actor=people["s.admin"],
        )
        for username, role, affiliation, region in MEMBERS:
            committee.add_member(
                session=session,
                rnd=rnd.id,
                data=MemberIn(username=username, role=role, affiliation=affiliation, affiliation_region=region),
                actor=people["s.admin"],
            )
        return rnd.id


@pytest.fixture
def helpers():
    from types import SimpleNamespace

    return SimpleNamespace(
        busan_design=busan_design, design_for=design_for, as_json=as_json, principal=principal, MEMBERS=MEMBERS
    )


@pytest.fixture
def bearer(engine, people):
    """bearer(username) -> Authorization headers for an API token of that user."""
    from regionvisa.accounts import service as accounts
    from regionvisa.db import session_scope

    cache: dict[str, dict] = {}

    def headers(username: str) -> dict:
        if username not in cache:
            with session_scope(engine=engine) as session:
                user = accounts.get_user_by_name(session=session, username=username)
                _, plain = accounts.create_token(session=session, actor=SYSTEM, user=user, name="selection")
            cache[username] = {"Authorization": f"Bearer {plain}"}
        return cache[username]

    return headers


def decidable(engine, people, round_id) -> None:
    """Busan's proposal in the round, scored 82 by five members and scoring closed two hours on:
    the chair's decision page is next."""
    from regionvisa.db import session_scope
    from regionvisa.selection import committee, proposals, service
    from regionvisa.selection.schemas import ConflictsIn, DesignIn, ProposalIn, ScoresIn

    criteria = ("need", "feasibility", "settlement", "management", "employment")
    with session_scope(engine=engine) as session:
        proposals.submit_proposal(
            session=session,
            round_id=round_id,
            region="26",
            data=ProposalIn(designs=[DesignIn(design=busan_design(), requested_quota=1000)], narrative="Busan plan"),
            actor=people["s.busan"],
        )
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    scores = ScoresIn(scores={c: {"score": 82, "comment": "good"} for c in criteria})
    with session_scope(engine=engine) as session:
        for member in ("c.chair", "c.official1", "c.official2", "c.expert2", "c.expert3"):
            committee.declare_conflicts(
                session=session, rnd=round_id, data=ConflictsIn(), actor=people[member], now=later
            )
            service.save_scores(
                session=session, rnd=round_id, region="26", data=scores, actor=people[member], now=later
            )
        service.close_scoring(session=session, rnd=round_id, actor=people["s.admin"], now=later)


@pytest.fixture
def browser_for(app, login):
    """A signed-in client per user name (each with its own cookies), closed at the end."""
    opened = []

    def make(username: str) -> tuple[TestClient, str]:
        client = TestClient(app)
        client.__enter__()
        opened.append(client)
        return client, login(client, username)

    yield make
    for client in opened:
        client.__exit__(None, None, None)
