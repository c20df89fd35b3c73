"""The outcome indicators read from the database (SQLite and PostgreSQL): the busan-d2 holders of
the mobility seed, one of whom moved to Seoul, beside Busan's other D-2 holders."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from tests.mobility.conftest import seed_moves

from regionvisa.outcomes import service


@pytest.fixture
def moved(engine, records, tmp_path):
    return seed_moves(engine, records, tmp_path / "moves")


def test_the_pilot_holders_beside_their_comparison_group(engine, moved):
    result = service.outcomes(engine=engine, on=dt.date(2026, 6, 30), since=dt.date(2025, 1, 1))
    rows = result.indicators.filter(pl.col("program_id") == "busan-d2").to_dicts()
    assert len(rows) == 1
    pilot = rows[0]
    assert (pilot["group"], pilot["region"], pilot["visa"], pilot["holders"]) == ("pilot", "26", "D-2", 2)
    assert pilot["eligible_6m"] == 2 and pilot["retention_6m"] == 0.5  # the mover lives in Seoul
    comparison = result.indicators.filter(pl.col("group") == "comparison")
    assert comparison["program_id"].null_count() == comparison.height  # no programme in the comparison
    months = result.takeup.filter(pl.col("program_id") == "busan-d2")
    assert months.filter(pl.col("month") == "2025-02")["cumulative"].to_list() == [2]
