"""Compiled forms are cached per programme and date, bounded, and give the same answers as fresh ones."""

from __future__ import annotations

import datetime as dt

import polars as pl

from regionvisa.rules import check_program, screen
from regionvisa.rules.program import Criterion, RuleProgram

PROGRAM = RuleProgram(
    id="cache-test",
    parameters={"min_topik": {"2024-01-01": 3, "2025-03-01": 4}},
    criteria=[Criterion(id="topik", rule={">=": [{"var": "topik_level"}, {"param": "min_topik"}]})],
)


def test_a_cached_program_answers_each_date_with_that_dates_parameters():
    checked = check_program(PROGRAM)
    df = pl.DataFrame({"applicant_id": ["a", "b"], "topik_level": [3, 4]})
    before = screen(checked, df, on=dt.date(2024, 6, 1))["outcome"].cast(pl.String).to_list()
    after = screen(checked, df, on=dt.date(2025, 6, 1))["outcome"].cast(pl.String).to_list()
    again = screen(checked, df, on=dt.date(2024, 6, 1))["outcome"].cast(pl.String).to_list()
    assert before == ["eligible", "eligible"]
    assert after == ["ineligible", "eligible"]
    assert again == before
    fresh = screen(PROGRAM, df, on=dt.date(2025, 6, 1))["outcome"].cast(pl.String).to_list()
    assert fresh == after


def test_the_per_date_cache_is_bounded():
    checked = check_program(PROGRAM)
    df = pl.DataFrame({"applicant_id": ["a"], "topik_level": [5]})
    start = dt.date(2024, 1, 1)
    for day in range(checked.CACHE_LIMIT * 2):
        screen(checked, df, on=start + dt.timedelta(days=day))
    assert len(checked.cache) <= checked.CACHE_LIMIT
