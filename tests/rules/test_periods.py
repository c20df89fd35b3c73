"""One obligation period: the scalar form (issuance) and the column form (compliance) agree."""

from __future__ import annotations

import calendar
import datetime as dt

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from regionvisa.rules.periods import add_months, obligation_period, obligation_period_end

DAYS = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31))
MONTHS = st.integers(min_value=0, max_value=240)


def test_month_ends_are_clamped_and_leap_years_counted():
    assert obligation_period(dt.date(2025, 1, 31), 1) == (dt.date(2025, 1, 31), dt.date(2025, 2, 28))
    assert obligation_period(dt.date(2024, 1, 31), 1)[1] == dt.date(2024, 2, 29)
    assert obligation_period(dt.date(2024, 2, 29), 12)[1] == dt.date(2025, 2, 28)
    assert obligation_period(dt.date(2025, 4, 2), 24)[1] == dt.date(2027, 4, 2)
    assert obligation_period(dt.date(2025, 4, 2), 0)[1] == dt.date(2025, 4, 2)
    assert add_months(dt.date(1900, 1, 29), 1) == dt.date(1900, 2, 28)  # 1900 is not a leap year
    assert add_months(dt.date(2000, 1, 29), 1) == dt.date(2000, 2, 29)  # 2000 is one


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(st.tuples(DAYS, MONTHS), min_size=1, max_size=40))
def test_the_column_form_equals_the_scalar_form(rows):
    frame = pl.DataFrame(rows, schema={"start": pl.Date, "months": pl.Int64}, orient="row")
    ends = frame.select(obligation_period_end(pl.col("start"), pl.col("months")))["start"].to_list()
    assert ends == [obligation_period(start, months)[1] for start, months in rows]


@settings(max_examples=100, deadline=None)
@given(start=DAYS, months=MONTHS)
def test_a_constant_month_count_gives_the_same_end(start, months):
    frame = pl.DataFrame({"start": [start]}, schema={"start": pl.Date})
    assert frame.select(obligation_period_end(pl.col("start"), months)).item() == obligation_period(start, months)[1]


@given(start=DAYS, months=st.integers(min_value=1, max_value=240))
def test_a_period_never_runs_past_its_month(start, months):
    begin, end = obligation_period(start, months)
    assert begin == start < end
    assert (end.year - start.year) * 12 + end.month - start.month == months
    assert end.day == min(start.day, calendar.monthrange(end.year, end.month)[1])
