"""Fixtures for the programme transports: pilot designs stored and published, applicant files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from tests.actors import SYSTEM

from regionvisa.config import PROJECT_ROOT

ON = dt.date(2025, 6, 1)
POLICY = PROJECT_ROOT / "policy" / "programs"
BUSAN = POLICY / "26" / "busan-d2.yaml"
GYEONGGI = POLICY / "41" / "gyeonggi-e7.yaml"

# A Busan D-2 applicant who meets every criterion on ON.
BUSAN_OK = {
    "applicant_id": "B-OK",
    "nationality": "VNM",
    "birth_date": "2000-03-01",
    "passport_valid_until": "2030-01-01",
    "entry_ban": False,
    "criminal_record": False,
    "prior_illegal_stay": False,
    "course_type": "degree",
    "university_region": "26",
    "topik_level": 3,
    "bank_balance_krw": 8_000_000,
    "education_level": "bachelor",
}


@pytest.fixture
def pilots(engine):
    """The fifteen pilot designs, stored and published as the demo does."""
    from regionvisa.programs.demo import demo_step

    demo_step(engine=engine)
    return engine


@pytest.fixture
def write_csv(tmp_path):
    def write(name: str, header: list[str], rows: list[list]) -> Path:
        def cell(v) -> str:
            if v is None:
                return ""
            if isinstance(v, bool):
                return "true" if v else "false"
            return str(v)

        path = tmp_path / name
        lines = [",".join(header)] + [",".join(cell(v) for v in row) for row in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return write


@pytest.fixture
def on() -> dt.date:
    return ON


def e7_design(program_id: str, *, wage_floor: int, topik_min: int, region: str = "41", version: int = 1) -> dict:
    """A small E-7 design: the fixed national criteria plus a Korean-ability criterion."""
    return {
        "id": program_id,
        "version": version,
        "region": region,
        "base_visa": "E-7",
        "title": {"ko": f"시험 {program_id}", "en": f"Test {program_id}"},
        "valid_from": "2025-04-02",
        "valid_to": "2026-12-31",
        "quota": 10,
        "residence_area": [region],
        "obligation_months": 24,
        "parameters": {
            "annual_wage_floor_krw": {"2025-04-02": wage_floor},
            "topik_min": {"2025-04-02": topik_min},
        },
        "criteria": [
            {
                "id": "korean",
                "label": {"ko": "한국어능력", "en": "Korean ability"},
                "reference": "test design",
                "rule": {">=": [{"var": "topik_level"}, {"param": "topik_min"}]},
            },
            {
                "id": "employer-here",
                "label": {"ko": "지역 내 사업장", "en": "Employer in the region"},
                "reference": "test design",
                "rule": {"==": [{"var": "employer_region"}, region]},
            },
        ],
        "points": [{"id": "topik-5", "when": {">=": [{"var": "topik_level"}, 5]}, "points": 10}],
    }


# An E-7 applicant: earns 27,000,000 KRW, TOPIK 3, works in Gyeonggi (41).
E7_APPLICANT = {
    "applicant_id": "E-1",
    "nationality": "VNM",
    "birth_date": "1990-05-05",
    "passport_valid_until": "2030-01-01",
    "entry_ban": False,
    "criminal_record": False,
    "prior_illegal_stay": False,
    "occupation_code": "2211",
    "annual_wage_krw": 27_000_000,
    "topik_level": 3,
    "employer_region": "41",
}


@pytest.fixture
def publish(engine):
    """publish(design_dict) stores a design as a published version; returns its id."""
    from regionvisa.db import session_scope
    from regionvisa.programs import service
    from regionvisa.programs.files import parse_design

    def do(design: dict) -> str:
        with session_scope(engine=engine) as session:
            service.store(
                session=session,
                design=parse_design(design, source="test"),
                actor=SYSTEM,
                reason="test",
                status="published",
            )
        return design["id"]

    return do


@pytest.fixture(scope="session")
def designs():
    """Helpers shared with the test modules (conftest modules are not importable)."""
    from types import SimpleNamespace

    return SimpleNamespace(
        e7_design=e7_design, E7_APPLICANT=E7_APPLICANT, BUSAN_OK=BUSAN_OK, BUSAN=BUSAN, GYEONGGI=GYEONGGI, ON=ON
    )


@pytest.fixture
def bearer(engine, role_users, make_user):
    """bearer(role) -> Authorization headers; also "seoul_official", a regional official of Seoul (11)."""
    from regionvisa.accounts import service as accounts
    from regionvisa.db import session_scope

    ids = {role: info["id"] for role, info in role_users.items()}
    ids["seoul_official"] = make_user("t.seoul", "regional_official", "11")
    headers = {}
    with session_scope(engine=engine) as session:
        for role, user_id in ids.items():
            _, token = accounts.create_token(
                session=session, actor=SYSTEM, user=accounts.get_user(session=session, user_id=user_id), name="t"
            )
            headers[role] = {"Authorization": f"Bearer {token}"}
    return lambda role: headers[role]
