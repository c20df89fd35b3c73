"""Fixtures for the programme transports: pilot designs stored and published, applicant files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

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

    demo_step(engine)
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
