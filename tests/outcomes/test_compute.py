"""The outcome report's indicators on a hand-worked case: pilot holders beside the comparison group."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from regionvisa.outcomes import compute

D = dt.date
SINCE, ON = D(2025, 1, 1), D(2026, 6, 30)

STATUSES = pl.DataFrame(
    [
        # person, visa, programme, region, from, to, granted
        ("A", "E-7", "p1", "26", D(2025, 1, 15), D(2027, 1, 14), D(2025, 1, 15)),
        ("B", "E-7", "p1", "26", D(2025, 2, 10), D(2027, 2, 9), D(2025, 2, 10)),
        ("C", "E-7", None, "26", D(2025, 3, 1), D(2027, 2, 28), D(2025, 3, 1)),
        ("D", "E-7", None, "26", D(2024, 5, 1), D(2027, 4, 30), D(2024, 5, 1)),  # before the period
        ("E", "E-7", None, "26", D(2024, 3, 1), D(2025, 4, 30), D(2024, 3, 1)),  # earlier, not a pilot grant
        ("E", "E-7", "p1", "26", D(2025, 5, 1), D(2027, 4, 30), D(2025, 5, 1)),
    ],
    schema=["person_id", "visa", "program_id", "region", "valid_from", "valid_to", "granted_on"],
    orient="row",
)
ADDRESSES = pl.DataFrame(
    [
        ("A", "26110", D(2025, 1, 10), D(2025, 1, 10)),
        ("B", "26110", D(2025, 2, 1), D(2025, 2, 1)),
        ("B", "11110", D(2025, 6, 1), D(2025, 6, 2)),  # moved to Seoul before six months
        ("C", "26140", D(2025, 2, 20), D(2025, 2, 20)),
        ("E", "26110", D(2024, 3, 1), D(2024, 3, 1)),
    ],
    schema=["person_id", "area_code", "effective_date", "reported_date"],
    orient="row",
)
KIIP = pl.DataFrame(
    [("A", 1, D(2025, 3, 1), None)], schema=["person_id", "level", "enrolled_on", "completed_on"], orient="row"
)
JOBS = pl.DataFrame(
    [
        ("A", "w1", D(2025, 1, 20), None, 30_000_000),
        ("B", "w1", D(2025, 2, 15), D(2025, 5, 31), 36_000_000),
        ("E", "w2", D(2025, 5, 2), None, 40_000_000),
        ("C", "w3", D(2025, 3, 5), None, 30_000_000),
    ],
    schema={
        "person_id": pl.String,
        "employer_id": pl.String,
        "start_date": pl.Date,
        "end_date": pl.Date,
        "annual_wage_krw": pl.Int64,
    },
    orient="row",
)
FLOORS = pl.DataFrame({"program_id": ["p1"], "floor_krw": [35_000_000]})
LEDGERS = pl.DataFrame(
    {
        "program_id": ["p1"],
        "period_start": [D(2025, 1, 1)],
        "period_end": [D(2025, 12, 31)],
        "allocated": [10],
        "adjustments": [0],
    }
)


def table() -> dict[str, dict]:
    rows = compute.indicators(
        STATUSES, ADDRESSES, KIIP, JOBS, FLOORS, since=SINCE, on=ON, national_floor=28_000_000
    ).to_dicts()
    return {r["group"]: r for r in rows}


def test_members_pilot_and_comparison():
    people = compute.members(STATUSES, since=SINCE, on=ON)
    groups = dict(zip(people["person_id"], people["group"], strict=True))
    # D was granted before the period; E's first programme grant is in it, so E is a pilot holder only
    assert groups == {"A": "pilot", "B": "pilot", "E": "pilot", "C": "comparison"}


def test_retention_beside_the_comparison():
    rows = table()
    pilot, comparison = rows["pilot"], rows["comparison"]
    assert (pilot["program_id"], pilot["region"], pilot["visa"], pilot["holders"]) == ("p1", "26", "E-7", 3)
    assert (comparison["program_id"], comparison["holders"]) == (None, 1)
    assert pilot["eligible_6m"] == 3 and pilot["retention_6m"] == pytest.approx(2 / 3)  # B left for Seoul
    assert pilot["eligible_12m"] == 3 and pilot["retention_12m"] == pytest.approx(2 / 3)
    assert pilot["eligible_24m"] == 0 and pilot["retention_24m"] is None  # no checkpoint reached yet
    assert comparison["retention_6m"] == 1.0 and comparison["retention_12m"] == 1.0


def test_kiip_and_employment_beside_the_comparison():
    rows = table()
    pilot, comparison = rows["pilot"], rows["comparison"]
    assert pilot["kiip_participation"] == pytest.approx(1 / 3) and comparison["kiip_participation"] == 0.0
    assert pilot["employed_share"] == pytest.approx(2 / 3)  # B's job ended
    assert pilot["median_wage_krw"] == 35_000_000 and pilot["below_floor_share"] == 0.5  # A below the 35 M floor
    # the comparison group is held to the national floor
    assert comparison["employed_share"] == 1.0 and comparison["below_floor_share"] == 0.0


def test_takeup_against_quota_over_time():
    people = compute.members(STATUSES, since=SINCE, on=ON)
    rows = {r["month"]: r for r in compute.takeup(people, LEDGERS, since=SINCE, on=ON).to_dicts()}
    assert (rows["2025-01"]["new_holders"], rows["2025-01"]["cumulative"], rows["2025-01"]["quota"]) == (1, 1, 10)
    assert rows["2025-02"]["takeup"] == pytest.approx(0.2)
    assert rows["2025-03"]["comparison_new"] == 1
    assert rows["2025-05"]["cumulative"] == 3
    assert rows["2026-01"]["quota"] is None and rows["2026-01"]["takeup"] is None  # no ledger for 2026
