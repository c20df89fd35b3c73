"""Eligibility matching: every programme in force, eligible first, near misses say what to change."""

from __future__ import annotations

import datetime as dt

from tests.actors import SYSTEM

from regionvisa.db import session_scope
from regionvisa.programs import screening, service


def _match(engine, applicant, on):
    with session_scope(engine=engine) as session:
        return screening.match(session=session, applicant=applicant, on=on)


def test_near_miss_says_exactly_what_must_change(engine, publish, designs, on):
    publish(designs.e7_design("strict-e7", wage_floor=28_000_000, topik_min=4))
    publish(designs.e7_design("easy-e7", wage_floor=26_000_000, topik_min=2))
    result = _match(engine, designs.E7_APPLICANT, on)
    programs = result["programs"]
    assert [p["program"] for p in programs] == ["easy-e7", "strict-e7"]  # eligible first
    easy, strict = programs
    assert easy["outcome"] == "eligible" and easy["changes"] == []
    assert strict["outcome"] == "ineligible" and strict["near_miss"] is True
    assert strict["failed"] == ["wage-floor", "korean"]
    texts = {c["criterion"]: c["text"]["en"] for c in strict["changes"]}
    assert texts == {"wage-floor": "annual wage 27,000,000 → 28,000,000 KRW", "korean": "TOPIK 3 → 4"}
    ko = {c["criterion"]: c["text"]["ko"] for c in strict["changes"]}
    assert ko["wage-floor"] == "연간 임금 27,000,000 → 28,000,000원"
    assert all(c["verified"] for c in strict["changes"])
    wage = strict["changes"][0]["changes"][0]
    assert (wage["field"], wage["current"], wage["target"]) == ("annual_wage_krw", 27_000_000, 28_000_000)


def test_three_failures_is_not_a_near_miss(engine, publish, designs, on):
    publish(designs.e7_design("strict-e7", wage_floor=28_000_000, topik_min=4))
    applicant = {**designs.E7_APPLICANT, "employer_region": "11"}
    (strict,) = _match(engine, applicant, on)["programs"]
    assert strict["outcome"] == "ineligible"
    assert len(strict["failed"]) == 3
    assert strict["near_miss"] is False and strict["changes"] == []


def test_only_programmes_in_force_and_published(engine, publish, designs, on):
    publish(designs.e7_design("easy-e7", wage_floor=26_000_000, topik_min=2))
    draft = designs.e7_design("draft-e7", wage_floor=26_000_000, topik_min=2)
    from regionvisa.programs.files import parse_design

    with session_scope(engine=engine) as session:
        service.store(session=session, design=parse_design(draft), actor=SYSTEM, reason="test", status="draft")
    assert [p["program"] for p in _match(engine, designs.E7_APPLICANT, on)["programs"]] == ["easy-e7"]
    assert _match(engine, designs.E7_APPLICANT, dt.date(2027, 1, 1))["programs"] == []


def test_alternatives_and_dates_in_changes(engine, pilots, designs, on):
    """Gyeonggi asks TOPIK 2 or KIIP 2: either change is offered; a short passport gives a date."""
    applicant = {
        **designs.E7_APPLICANT,
        "annual_wage_krw": 35_000_000,
        "topik_level": 1,
        "kiip_level": 1,
        "intended_residence": "41",
        "e7_subtype": "E-7-1",
        "education_level": "master",
        "experience_years": 2,
        "employer_foreign_ratio": 0.1,
        "passport_valid_until": "2025-09-01",
    }
    programs = {p["program"]: p for p in _match(engine, applicant, on)["programs"]}
    gyeonggi = programs["gyeonggi-e7"]
    assert gyeonggi["near_miss"] is True
    texts = {c["criterion"]: c["text"]["en"] for c in gyeonggi["changes"]}
    assert texts["korean-basic"] == "TOPIK 1 → 2 or KIIP 1 → 2"
    assert texts["passport-covers-first-year"] == "passport valid until 2025-09-01 → 2026-06-01"


def test_bad_values_are_reported_and_treated_as_missing(engine, publish, designs, on):
    publish(designs.e7_design("easy-e7", wage_floor=26_000_000, topik_min=2))
    result = _match(engine, {**designs.E7_APPLICANT, "annual_wage_krw": "lots"}, on)
    assert result["programs"][0]["outcome"] == "incomplete"
    assert result["programs"][0]["missing"] == ["annual_wage_krw"]
    assert result["problems"][0]["field"] == "annual_wage_krw"
    assert result["problems"][0]["treated_as"] == "missing"
