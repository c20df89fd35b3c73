"""Reform simulation over a constructed pool whose answer is known person by person."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.actors import SYSTEM

from regionvisa.db import session_scope
from regionvisa.programs import screening, service, simulation
from regionvisa.programs.files import load_program_file, parse_design

HEADER = ["applicant_id", "nationality", "birth_date", "passport_valid_until", "entry_ban", "criminal_record",
          "prior_illegal_stay", "course_type", "university_region", "topik_level", "bank_balance_krw",
          "education_level", "occupation_code"]  # fmt: skip


def person(pid, nationality, *, bank, topik, birth="2000-01-01", education="bachelor"):
    return [pid, nationality, birth, "2030-01-01", False, False, False, "degree", "26", topik, bank, education, ""]


POOL = [
    person("A", "VNM", bank=9_000_000, topik=3),  # eligible -> loses: balance now 10M
    person("B", "CHN", bank=12_000_000, topik=2, education="high_school"),  # gains: TOPIK 2 now enough
    person("C", "VNM", bank=12_000_000, topik=3),  # eligible under both
    person("D", "UZB", bank=5_000_000, topik=2),  # ineligible under both
    person("E", "CHN", bank=12_000_000, topik=2, birth=None),  # ineligible -> incomplete: not newly eligible
]


@pytest.fixture
def versions(designs):
    baseline = load_program_file(designs.BUSAN)
    design = baseline.as_dict()
    design["version"] = 2
    design["quota"] = 1
    design["parameters"] = {
        **design["parameters"],
        "bank_balance_krw": {"2025-04-02": 10_000_000},
        "topik_min": {"2025-04-02": 2},
    }
    return service.Resolved(baseline), service.Resolved(parse_design(design, source="reform"))


def test_counts_breakdowns_causes_and_quota(write_csv, versions, on):
    baseline, reform = versions
    parsed = screening.read_applicants(write_csv("pool.csv", HEADER, POOL))
    result = simulation.simulate(session=None, baseline=baseline, reform=reform, parsed=parsed, on=on)
    assert result["applicants"] == 5
    assert result["counts"] == {"newly_eligible": 1, "newly_ineligible": 1, "unchanged": 3}
    assert result["outcomes"]["baseline"] == {"eligible": 2, "ineligible": 3, "incomplete": 0}
    assert result["outcomes"]["reform"] == {"eligible": 2, "ineligible": 2, "incomplete": 1}
    by_nationality = {r["nationality"]: r for r in result["breakdowns"]["nationality"]}
    assert by_nationality["VNM"] == {
        "nationality": "VNM", "applicants": 2, "newly_eligible": 0, "newly_ineligible": 1, "unchanged": 1,
    }  # fmt: skip
    assert by_nationality["CHN"]["newly_eligible"] == 1 and by_nationality["CHN"]["unchanged"] == 1
    assert by_nationality["UZB"]["unchanged"] == 1
    by_education = {r["education"]: r for r in result["breakdowns"]["education"]}
    assert by_education["high_school"]["newly_eligible"] == 1
    assert by_education["bachelor"]["newly_ineligible"] == 1
    assert result["breakdowns"]["occupation"] == [
        {"occupation": "(missing)", "applicants": 5, "newly_eligible": 1, "newly_ineligible": 1, "unchanged": 3}
    ]
    causes = {c["criterion"]: (c["newly_pass"], c["newly_fail"]) for c in result["criteria"]}
    assert causes == {"financial-proof": (0, 1), "korean-ability": (1, 0)}
    assert {p["name"]: (p["baseline"], p["reform"]) for p in result["parameters"]} == {
        "bank_balance_krw": (8_000_000, 10_000_000),
        "topik_min": (3, 2),
    }
    assert result["quota"]["baseline"]["projected_fill_rate"] == pytest.approx(2 / 1000)
    assert result["quota"]["reform"] == {
        "capacity": 1, "committed": 0, "source": "design", "eligible": 2, "projected_places": 1,
        "projected_fill_rate": 1.0, "oversubscribed_by": 1,
    }  # fmt: skip
    assert len({(t["baseline"], t["reform"]) for t in result["transitions"]}) == 5  # one per person


def test_projected_fill_uses_the_quota_ledger(engine, write_csv, versions, on):
    from regionvisa.quotas import service as quotas

    baseline, reform = versions
    with session_scope(engine=engine) as session:
        service.store(session=session, design=baseline.loaded, actor=SYSTEM, reason="test", status="published")
        ledger = quotas.open_ledger(
            session=session, program_id="busan-d2", region="26", period="2025", start=dt.date(2025, 1, 1),
            end=dt.date(2025, 12, 31), allocated=3, actor=SYSTEM, reason="test",
        )  # fmt: skip
        quotas.reserve(session=session, ledger=ledger, application_id=1, actor=SYSTEM)
    parsed = screening.read_applicants(write_csv("pool.csv", HEADER, POOL))
    with session_scope(engine=engine) as session:
        result = simulation.simulate(session=session, baseline=baseline, reform=reform, parsed=parsed, on=on)
    fill = result["quota"]["baseline"]
    assert (fill["source"], fill["capacity"], fill["committed"], fill["eligible"]) == ("ledger", 3, 1, 2)
    assert fill["projected_places"] == 3 and fill["projected_fill_rate"] == 1.0 and fill["oversubscribed_by"] == 0
