"""Semantics of the rule language (DESIGN §4.2) on hand-picked cases, through both evaluators, and
the explanation's content (values read, thresholds, parameters with effective dates, reference, ko/en)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from regionvisa.rules import (
    Criterion,
    PointsRule,
    RuleProgram,
    evaluate,
    evaluate_expression,
    explain,
    format_results,
    screen,
)
from regionvisa.rules.fields import FIELDS

ON = dt.date(2025, 6, 1)


def both(rule, applicant: dict, *, on: dt.date = ON, params=None):
    """The criterion result from the scalar and the batch evaluator (asserted equal)."""
    program = RuleProgram(id="t", criteria=[Criterion(id="c", rule=rule)], parameters=params or {})
    scalar = evaluate(program, applicant, on=on).results["c"]
    names = list(applicant) or ["topik_level"]
    frame = pl.DataFrame([{n: applicant.get(n) for n in names}], schema={n: FIELDS[n].dtype for n in names})
    batch = screen(program, frame, on=on)["c:c"][0]
    assert scalar is batch, (rule, applicant, scalar, batch)
    return scalar


T = {"==": [{"var": "entry_ban"}, False]}  # true when entry_ban is false
F = {"==": [{"var": "entry_ban"}, True]}
U = {">=": [{"var": "topik_level"}, 3]}  # unknown when topik_level is missing
APP = {"entry_ban": False, "topik_level": None}


@pytest.mark.parametrize(
    ("rule", "want"),
    [
        ({"all": [T, U]}, None),
        ({"all": [F, U]}, False),
        ({"all": [T, T]}, True),
        ({"any": [T, U]}, True),
        ({"any": [F, U]}, None),
        ({"any": [F, F]}, False),
        ({"not": U}, None),
        ({"not": F}, True),
        ({"if": [U, T, T]}, None),
        ({"if": [T, F, U]}, False),
        ({"if": [F, F, U]}, None),
    ],
)
def test_kleene_logic(rule, want):
    assert both(rule, APP) is want


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        (dt.date(2007, 6, 1), dt.date(2025, 6, 1), 18),  # birthday today: anniversary reached
        (dt.date(2007, 6, 2), dt.date(2025, 6, 1), 17),
        (dt.date(2004, 2, 29), dt.date(2025, 2, 28), 20),  # leap-day birthday: not yet in a common year
        (dt.date(2004, 2, 29), dt.date(2025, 3, 1), 21),
        (dt.date(2004, 2, 29), dt.date(2024, 2, 29), 20),
    ],
)
def test_years_since_counts_whole_years_as_an_age(birth, on, age):
    assert evaluate_expression({"years_since": {"var": "birth_date"}}, {"birth_date": birth}, on=on) == age
    assert both({">=": [{"years_since": {"var": "birth_date"}}, age]}, {"birth_date": birth}, on=on) is True
    assert both({">=": [{"years_since": {"var": "birth_date"}}, age + 1]}, {"birth_date": birth}, on=on) is False


def test_unknown_passes_through_arithmetic_time_and_division_by_zero():
    assert both({">": [{"+": [{"var": "topik_level"}, 1]}, 0]}, {"topik_level": None}) is None
    assert both({">": [{"days_between": [{"var": "birth_date"}, {"today": True}]}, 0]}, {"birth_date": None}) is None
    assert both({">": [{"/": [10, {"var": "topik_level"}]}, 1]}, {"topik_level": 0}) is None
    assert both({">": [{"/": [10, {"var": "topik_level"}]}, 1]}, {"topik_level": 5}) is True
    assert both({"between": [{"var": "topik_level"}, 3, 4]}, {"topik_level": 4}) is True  # inclusive
    assert both({"in": [{"var": "topik_level"}, [1, 2]]}, {"topik_level": None}) is None


def test_days_between_is_b_minus_a():
    a, b = dt.date(2025, 1, 1), dt.date(2025, 3, 1)
    got = evaluate_expression(
        {"days_between": [{"var": "birth_date"}, {"var": "passport_valid_until"}]},
        {"birth_date": a, "passport_valid_until": b},
        on=ON,
    )
    assert got == 59


def test_ordered_enums_compare_by_order():
    rule = {">=": [{"var": "education_level"}, "bachelor"]}
    assert both(rule, {"education_level": "master"}) is True
    assert both(rule, {"education_level": "associate"}) is False


def test_parameter_in_force_on_the_reference_date():
    params = {"floor": {dt.date(2025, 1, 1): 100, dt.date(2026, 1, 1): 200}}
    rule = {">=": [{"var": "annual_wage_krw"}, {"param": "floor"}]}
    assert both(rule, {"annual_wage_krw": 150}, on=dt.date(2025, 12, 31), params=params) is True
    assert both(rule, {"annual_wage_krw": 150}, on=dt.date(2026, 1, 1), params=params) is False
    assert both(rule, {"annual_wage_krw": 150}, on=dt.date(2024, 12, 31), params=params) is None  # none in force


PROGRAM = RuleProgram(
    id="demo",
    criteria=[
        Criterion(
            id="funds",
            rule={">=": [{"var": "bank_balance_krw"}, {"param": "bank_balance_krw"}]},
            label={"ko": "재정능력", "en": "Funds"},
            reference="Busan design 2025, §3",
        ),
        Criterion(id="topik", rule={">=": [{"var": "topik_level"}, 3]}, label={"en": "TOPIK 3"}),
        Criterion(id="age", rule={"<=": [{"years_since": {"var": "birth_date"}}, 35]}),
    ],
    points=[
        PointsRule(id="topik-4", when={">=": [{"var": "topik_level"}, 4]}, points=10),
        PointsRule(id="kiip", when={">=": [{"var": "kiip_level"}, 2]}, points=5),
    ],
    parameters={"bank_balance_krw": {dt.date(2024, 1, 1): 16_000_000, dt.date(2025, 4, 2): 8_000_000}},
)


def test_outcomes_failed_missing_and_points_for_every_outcome():
    base = {"bank_balance_krw": 8_000_000, "topik_level": 4, "birth_date": dt.date(2000, 1, 1), "kiip_level": 1}
    ok = evaluate(PROGRAM, base, on=ON)
    assert (ok.outcome, ok.failed, ok.missing, ok.points) == ("eligible", [], [], 10)
    poor = evaluate(PROGRAM, {**base, "bank_balance_krw": 7_999_999, "kiip_level": 2}, on=ON)
    assert (poor.outcome, poor.failed, poor.points) == ("ineligible", ["funds"], 15)  # points whatever the outcome
    gap = evaluate(PROGRAM, {**base, "topik_level": None, "birth_date": None}, on=ON)
    assert (gap.outcome, gap.failed, gap.missing, gap.points) == ("incomplete", [], ["birth_date", "topik_level"], 0)
    both_ = evaluate(PROGRAM, {**base, "bank_balance_krw": 1, "topik_level": None}, on=ON)
    assert (both_.outcome, both_.failed, both_.missing) == ("ineligible", ["funds"], ["topik_level"])


def test_screen_output_columns_in_the_design_order():
    rows = [
        {"applicant_id": "a1", "bank_balance_krw": 9_000_000, "topik_level": 3, "birth_date": dt.date(1999, 1, 1)},
        {"applicant_id": "a2", "bank_balance_krw": 1, "topik_level": None, "birth_date": dt.date(1980, 1, 1)},
    ]
    names = ["applicant_id", "bank_balance_krw", "topik_level", "birth_date"]
    frame = pl.DataFrame(rows, schema={n: FIELDS[n].dtype for n in names})
    out = format_results(PROGRAM, screen(PROGRAM, frame, on=ON))
    assert out.columns == ["applicant_id", "outcome", "points", "failed", "missing", "c:funds", "c:topik", "c:age"]
    got = out.with_columns(pl.all().cast(pl.String)).rows()
    assert got == [
        ("a1", "eligible", "0", "", "", "pass", "pass", "pass"),
        ("a2", "ineligible", "0", "funds;age", "topik_level", "fail", "missing", "fail"),
    ]


def test_explanation_shows_values_thresholds_parameters_reference_and_both_languages():
    applicant = {"bank_balance_krw": 7_500_000, "topik_level": None, "birth_date": "1990-13-01"}
    told = explain(PROGRAM, applicant, on=ON)
    assert told.outcome == "ineligible" and told.failed == ["funds"]
    funds, topik, age = told.criteria
    assert (funds.result, topik.result, age.result) == ("fail", "missing", "missing")
    assert funds.values == {"bank_balance_krw": 7_500_000}
    assert funds.thresholds[0]["value"] == 8_000_000
    assert funds.parameters == [
        {"name": "bank_balance_krw", "value": 8_000_000, "effective_date": "2025-04-02", "in_force": True, "used": True}
    ]
    assert funds.reference == "Busan design 2025, §3"
    assert funds.label == {"ko": "재정능력", "en": "Funds"}
    assert (
        "7,500,000 KRW" in funds.message["en"]
        and "8,000,000" in funds.message["en"]
        and "not met" in funds.message["en"]
    )
    assert "7,500,000원" in funds.message["ko"] and "미충족" in funds.message["ko"]
    assert (
        topik.missing == ["topik_level"]
        and "TOPIK level" in topik.message["en"]
        and "TOPIK 등급" in topik.message["ko"]
    )
    assert told.problems and told.problems[0]["field"] == "birth_date"  # a bad date is treated as missing
    assert "≥" in funds.rule["en"] and funds.rule["ko"]
    assert "Funds" in told.text("en") and "부적격" in told.text("ko")


def test_programmes_too_wide_for_packed_keys_give_the_same_lists():
    """More criteria and fields than fit 64 bits take the text path; the result must not change."""
    names = ["topik_level", "kiip_level", "bank_balance_krw", "annual_wage_krw", "experience_years"]
    criteria = [Criterion(id=f"c{i}", rule={">=": [{"var": names[i % 5]}, i % 7]}) for i in range(66)]
    program = RuleProgram(id="wide", criteria=criteria)
    rows = [
        {
            "applicant_id": "a",
            "topik_level": 6,
            "kiip_level": 5,
            "bank_balance_krw": 9,
            "annual_wage_krw": 9,
            "experience_years": 9.0,
        },
        {
            "applicant_id": "b",
            "topik_level": None,
            "kiip_level": 2,
            "bank_balance_krw": 0,
            "annual_wage_krw": None,
            "experience_years": 3.0,
        },
    ]
    frame = pl.DataFrame(rows, schema={n: FIELDS[n].dtype for n in ["applicant_id", *names]})
    out = screen(program, frame, on=ON)
    for row, got in zip(rows, out.iter_rows(named=True), strict=True):
        want = evaluate(program, row, on=ON)
        assert (got["outcome"], got["failed"], got["missing"]) == (
            want.outcome,
            ";".join(want.failed),
            ";".join(want.missing),
        )
    assert out["failed"][1] and out["missing"][1] == "annual_wage_krw;topik_level"
