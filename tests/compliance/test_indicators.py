"""Evaluation indicators on hand-built records whose answers are worked out in the comments."""

from __future__ import annotations

import polars as pl
import pytest

from regionvisa.compliance.indicators import INDICATOR_COLUMNS, for_framework, indicators

REGIONS = pl.DataFrame({"code": ["11", "26", "41"], "population_2024": [50, 1000, 100]})


@pytest.fixture
def table(kit):
    r = kit.Records()
    # Busan programme holders (busan-d2, region 26)
    r.status("H1", "2025-03-01", "2027-02-28", program_id="busan-d2", region="11")  # programme region wins
    r.address("H1", "26110", "2025-03-01").kiip("H1", "2025-06-01")
    r.status("H2", "2024-03-01", "2025-08-31", granted_on="2024-02-20", program_id="busan-d2")
    r.move("H2", "entry", "2024-03-01").address("H2", "26", "2024-03-01")  # overstays from 1 Sep 2025
    r.status("H3", "2024-01-01", "2024-12-31", granted_on="2023-12-01", program_id="busan-d2")
    r.move("H3", "exit", "2025-01-05")  # not active in 2025
    r.status("H4", "2024-06-01", "2026-05-31", granted_on="2024-05-15", program_id="busan-d2")
    r.address("H4", "26", "2024-06-01").address("H4", "11", "2025-03-01")  # in Seoul on 15 May 2025
    r.kiip("H4", "2024-07-01", "2025-01-10", level=1)
    r.status("H5", "2024-04-01", "2026-03-31", program_id="busan-d2").address("H5", "26", "2024-04-01")
    r.move("H5", "exit", "2025-03-15").kiip("H5", "2026-01-10")  # gone before 1 Apr 2025; KIIP after year end
    # a Gyeonggi holder (gyeonggi-e7, region 41), granted in 2025: no retention cohort yet
    r.status("G1", "2025-02-01", "2027-01-31", program_id="gyeonggi-e7", region="41").address(
        "G1", "41135", "2025-02-01"
    )
    # other foreign residents
    r.status("R1", "2025-01-01", "2026-12-31", visa="E-9", region="26")  # no address: status region
    r.status("R2", "2023-01-01", "2025-06-30", region="26").address("R2", "26440", "2023-01-05")
    r.move("R2", "entry", "2023-01-02")  # overstays
    r.status("R3", "2025-01-01", "2026-12-31", region="41").address("R3", "41135", "2025-01-05")
    r.status("R4", "2025-01-01", "2026-12-31", region="41").move("R4", "exit", "2025-11-01")
    r.status("R5", "2026-01-01", "2026-12-31", granted_on="2026-01-05", region="41")  # not known in 2025
    progs = kit.programmes(
        {"program_id": "busan-d2", "region": "26", "residence_area": ["26"], "kiip_deadline_months": 12},
        {"program_id": "gyeonggi-e7", "region": "41", "residence_area": ["41"]},
    )
    return indicators(r.frames(), progs, REGIONS, 2025)


def row(table: pl.DataFrame, region: str) -> dict:
    return table.filter(region=region).row(0, named=True)


def test_columns_and_one_row_per_region(table):
    assert table.columns == INDICATOR_COLUMNS
    assert table["region"].to_list() == ["11", "26", "41"]
    assert set(table["year"]) == {2025}


def test_illegal_stay_rate_among_holders(table):
    # active 2025 Busan holders: H1, H2, H4, H5 (H3's status ended in 2024); on 31 Dec only H2 overstays
    busan = row(table, "26")
    assert (busan["holders"], busan["holders_illegal"], busan["illegal_stay_rate_holders"]) == (4, 1, 0.25)
    gyeonggi = row(table, "41")
    assert (gyeonggi["holders"], gyeonggi["holders_illegal"], gyeonggi["illegal_stay_rate_holders"]) == (1, 0, 0.0)
    assert row(table, "11")["illegal_stay_rate_holders"] is None  # no holders: missing, not 0


def test_illegal_stay_rate_among_residents(table):
    # residents on 31 Dec 2025 in Busan: H1, H2, R1 (status region), R2; overstaying: H2, R2
    busan = row(table, "26")
    assert (busan["residents"], busan["residents_illegal"], busan["illegal_stay_rate_residents"]) == (4, 2, 0.5)
    # Seoul: H4 lives there; Gyeonggi: G1, R3 (R4 left, R5 not granted yet)
    assert (row(table, "11")["residents"], row(table, "41")["residents"]) == (1, 2)
    assert row(table, "41")["illegal_stay_rate_residents"] == 0.0


def test_integration_participation_rate(table):
    # H1 enrolled in 2025, H4 completed in 2025; H2 never; H5 enrolled only in 2026
    busan = row(table, "26")
    assert (busan["holders_in_kiip"], busan["integration_participation_rate"]) == (2, 0.5)
    assert row(table, "41")["integration_participation_rate"] == 0.0


def test_retention_rate(table):
    # 12-month anniversaries in 2025: H2 (20 Feb, in Busan), H4 (15 May, in Seoul), H5 (1 Apr, abroad)
    busan = row(table, "26")
    assert (busan["cohort"], busan["retained"]) == (3, 1)
    assert busan["retention_rate"] == pytest.approx(1 / 3)
    assert row(table, "41")["cohort"] == 0 and row(table, "41")["retention_rate"] is None


def test_foreign_resident_share(table):
    assert [row(table, c)["foreign_resident_share"] for c in ("11", "26", "41")] == [1 / 50, 4 / 1000, 2 / 100]


def test_framework_table(table):
    values = for_framework(table)
    assert values["26"]["illegal_stay_rate"] == 0.25
    assert values["26"]["integration_participation_rate"] == 0.5
    assert values["11"]["illegal_stay_rate"] is None
