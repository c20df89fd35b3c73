"""Applications fixtures: published pilot programmes, open ledgers and applicant profiles."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from tests.actors import SYSTEM

from regionvisa.config import get_settings
from regionvisa.db import session_scope

ON = dt.date(2025, 6, 2)


def eligible_busan(i: int = 0, **overrides) -> dict:
    """A Busan D-2 applicant who passes every criterion; `i` varies the points and nationality."""
    profile = {
        "nationality": ("VNM", "CHN", "UZB", "MNG", "NPL")[i % 5],
        "birth_date": "2001-03-04",
        "passport_valid_until": "2030-01-01",
        "entry_ban": False,
        "criminal_record": False,
        "prior_illegal_stay": False,
        "course_type": "degree",
        "bank_balance_krw": 9_000_000,
        "university_region": "26",
        "topik_level": 3 + (i % 3),
        "kiip_level": i % 5,
        "education_level": "high_school",
    }
    profile.update(overrides)
    return profile


def publish_design(session, design: dict) -> None:
    from regionvisa.programs import service as programs
    from regionvisa.programs.files import parse_design

    programs.store(session=session, design=parse_design(design), actor=SYSTEM, reason="test design", status="published")


@pytest.fixture
def busan(engine, test_data):
    """busan-d2 published from the policy file, with a 2025 ledger of 10 places."""
    return test_data.publish_busan(engine)


@pytest.fixture
def capped(engine):
    """A Busan design with a 30% nationality cap and 100 places."""
    from regionvisa.policyfiles import read_yaml
    from regionvisa.programs import service as programs
    from regionvisa.quotas import service as quotas

    design = copy.deepcopy(read_yaml(get_settings().policy_dir / "programs" / "26" / "busan-d2.yaml"))
    design.update(id="busan-capped", nationality_cap=0.3)
    with session_scope(engine=engine) as session:
        publish_design(session, design)
        assert programs.get_version(session=session, program_id="busan-capped").design["nationality_cap"] == 0.3
        quotas.open_ledger(
            session=session,
            program_id="busan-capped",
            region="26",
            period="2025",
            start=dt.date(2025, 1, 1),
            end=dt.date(2025, 12, 31),
            allocated=100,
            actor=SYSTEM,
            reason="test allocation",
        )
    return "busan-capped"


@pytest.fixture(autouse=True)
def _uploads(tmp_path, monkeypatch):
    monkeypatch.setenv("REGIONVISA_UPLOAD_DIR", str(tmp_path / "uploads"))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def submit(engine):
    """submit(i, program="busan-d2", **profile overrides) -> application id (system actor)."""
    from regionvisa.applications import intake

    counter = {"n": 0}

    def run(i: int = 0, program: str = "busan-d2", passport: str | None = None, **overrides) -> int:
        counter["n"] += 1
        with session_scope(engine=engine) as session:
            app = intake.submit(
                session=session,
                program_id=program,
                applicant=eligible_busan(i, **overrides),
                name=f"Applicant {counter['n']}",
                passport_no=passport or f"M{counter['n']:08d}",
                actor=SYSTEM,
                on=ON,
            )
            return app.id

    return run


@pytest.fixture
def attach(engine, test_data):
    """attach(app_id, only=None, skip=()) -> the documents uploaded: the application's checklist
    completed (a small PDF per document), so approve and issue go ahead without an override."""

    def run(app_id: int, **kwargs) -> list[str]:
        return test_data.attach_documents(engine, app_id, **kwargs)

    return run
