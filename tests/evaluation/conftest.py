"""Small frameworks built in code, so each test states exactly the settings it relies on."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from tests.actors import SYSTEM

from regionvisa.evaluation.framework import Framework, parse_framework

GRADES = [
    {"grade": "S", "min_score": 85},
    {"grade": "A", "min_score": 70},
    {"grade": "B", "min_score": 50},
    {"grade": "C", "min_score": 30},
    {"grade": "D", "min_score": 0},
]
BENEFITS = {
    "S": {"quota_change": 0.30, "simplified_procedure": True},
    "A": {"quota_change": 0.15, "simplified_procedure": True},
    "B": {"quota_change": 0.0},
    "C": {"quota_change": -0.15},
    "D": {"quota_change": -0.30, "warning": True},
}


def build(indicators: list[dict[str, Any]], **overrides: Any) -> Framework:
    data: dict[str, Any] = {
        "id": "test",
        "year": 2025,
        "indicators": [
            {"source": "computed", "direction": 1, "weight": 1, "normalise": {"method": "minmax"}, **ind}
            for ind in indicators
        ],
        "aggregate": {"method": "arithmetic"},
        "grades": GRADES,
        "benefits": BENEFITS,
        "sensitivity": {"draws": 200, "weight_noise": 0.25, "normalise_alternatives": ["minmax"], "seed": 7},
    }
    data.update(overrides)
    return parse_framework(data, "test.yaml")


@pytest.fixture
def make_framework():
    return build


# --------------------------------------------------------------------------- database world

YEAR = 2025
LEDGERS = [  # programme, region, allocated, used
    ("busan-d2", "26", 100, 90),
    ("seoul-e7", "11", 200, 100),
    ("gyeonggi-e7", "41", 50, 10),
]
COMMITTEE_SCORES = {  # member -> region -> score
    "c.one": {"26": 80.0, "11": 60.0, "41": 40.0},
    "c.two": {"26": 90.0, "11": 70.0, "41": 50.0},
    "c.busan": {"26": 10.0, "11": 65.0, "41": 45.0},  # from Busan's government: recused from 26
}


@pytest.fixture
def world(engine, records, make_user):
    """Three participating regions with quota ledgers, committee members (one from Busan's
    government) and their scores; returns user ids by name."""
    from sqlalchemy import update

    from regionvisa.accounts import service as accounts
    from regionvisa.db import session_scope
    from regionvisa.evaluation import service
    from regionvisa.quotas.models import QuotaLedger
    from regionvisa.quotas.service import open_ledger

    ids = {name: make_user(name, "committee_member") for name in COMMITTEE_SCORES}
    with session_scope(engine=engine) as session:
        for program, region, allocated, used in LEDGERS:
            ledger = open_ledger(
                session=session,
                program_id=program,
                region=region,
                period=str(YEAR),
                start=dt.date(YEAR, 1, 1),
                end=dt.date(YEAR, 12, 31),
                allocated=allocated,
                actor=SYSTEM,
                reason="test ledger",
            )
            session.execute(update(QuotaLedger).where(QuotaLedger.id == ledger.id).values(used=used))
        service.set_member(session=session, actor=SYSTEM, user_id=ids["c.busan"], region="26", affiliation="Busan city")
    for name, scores in COMMITTEE_SCORES.items():
        with session_scope(engine=engine) as session:
            member = accounts.principal_of(accounts.get_user(session=session, user_id=ids[name]))
            for region, score in scores.items():
                if name == "c.busan" and region == "26":
                    continue
                service.enter_score(
                    session=session,
                    actor=member,
                    year=YEAR,
                    region=region,
                    score=score,
                    justification=f"{name} on {region}: reasons",
                )
    return ids
