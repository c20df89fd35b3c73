"""Each §4.8 rule on hand-built records, at its boundaries, plus as-of reproducibility."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl
import pytest

from regionvisa.compliance import engine
from regionvisa.records.frames import KNOWN_BY, SCHEMAS

ON = "2026-06-30"


def run(kit, records, on=ON, progs=None, **overrides):
    progs = kit.programmes(kit.BUSAN) if progs is None else progs
    return engine.find_all(records.frames(), progs, kit.settings(on, **overrides))


# --- output shape -------------------------------------------------------------------------


def test_findings_have_the_contract_columns_first_and_typed(kit, records):
    records.status("A", "2024-01-01", "2025-12-31").move("A", "entry", "2024-01-02")
    found = run(kit, records)
    assert found.columns[:6] == ["person_id", "rule", "program_id", "start_date", "end_date", "days"]
    assert dict(found.schema) == engine.FINDING_SCHEMA
    assert engine.find_all({}, None, kit.settings(ON)).height == 0


def test_engine_visibility_matches_the_records_layer():
    assert engine.VISIBLE_BY == KNOWN_BY
    for table, schema in engine.INPUT_SCHEMAS.items():
        for col, dtype in schema.items():
            assert SCHEMAS[table][col] == dtype, (table, col)


# --- illegal_stay ---------------------------------------------------------------------------


def test_illegal_stay_starts_the_day_after_the_latest_valid_to(kit, records):
    records.status("A", "2024-01-01", "2025-03-31", visa="E-7").move("A", "entry", "2024-01-05")
    records.status("B", "2024-01-01", "2025-03-31").status("B", "2025-04-01", "2026-12-31")  # renewed
    records.status("C", "2024-01-01", "2025-03-31").move("C", "entry", "2024-01-05").move("C", "exit", "2025-04-10")
    records.status("N", "2024-01-01", "2025-03-31")  # no movement at all
    found = run(kit, records)
    assert kit.rows(found, "illegal_stay") == [
        ("A", "illegal_stay", None, "2025-04-01", None, 456),
        ("N", "illegal_stay", None, "2025-04-01", None, 456),
    ]
    assert "E-7 2024-01-01..2025-03-31" in found["evidence"][0] and "entry 2024-01-05" in found["evidence"][0]
    assert found["severity"][0] == "high"


def test_illegal_stay_boundary_and_grace(kit, records):
    records.status("A", "2025-01-01", "2026-06-30")
    assert run(kit, records, "2026-06-30").height == 0  # valid_to == DATE still covers it
    assert kit.rows(run(kit, records, "2026-07-01")) == [("A", "illegal_stay", None, "2026-07-01", None, 1)]
    # a grace of 9 days tolerates the first 9 days over; the 10th is reported, dated from the first
    assert run(kit, records, "2026-07-09", grace_days=9).height == 0
    assert kit.rows(run(kit, records, "2026-07-10", grace_days=9)) == [
        ("A", "illegal_stay", None, "2026-07-01", None, 10)
    ]


def test_illegal_stay_gap_before_a_future_status_and_programme_id(kit, records):
    records.status("A", "2025-01-01", "2026-03-31", program_id="busan-d2", granted_on="2024-12-20")
    records.status("A", "2026-09-01", "2027-08-31", granted_on="2026-05-01")  # granted, not yet begun
    records.move("A", "entry", "2025-01-02")
    assert kit.rows(run(kit, records), "illegal_stay") == [("A", "illegal_stay", "busan-d2", "2026-04-01", None, 91)]


def test_same_day_entry_and_exit_counts_as_left(kit, records):
    records.status("A", "2024-01-01", "2025-03-31").move("A", "entry", "2025-03-01").move("A", "exit", "2025-03-01")
    assert run(kit, records).height == 0


def test_status_granted_after_date_is_not_seen(kit, records):
    # a retroactive extension granted in July covers June 30, but was not known on June 30
    records.status("A", "2025-01-01", "2026-05-31").move("A", "entry", "2025-01-02")
    records.status("A", "2026-06-01", "2027-05-31", granted_on="2026-07-15")
    assert kit.rows(run(kit, records)) == [("A", "illegal_stay", None, "2026-06-01", None, 30)]
    assert run(kit, records, "2026-07-15").height == 0


# --- late_address_report ------------------------------------------------------------------


def test_late_address_report_fourteen_days_is_on_time_fifteen_is_late(kit, records):
    records.status("A", "2025-01-01", "2026-12-31")
    records.address("A", "26110", "2025-03-01", "2025-03-15")  # 14 days
    records.address("A", "26140", "2025-05-01", "2025-05-16")  # 15 days
    records.address("A", "11", "2025-08-01", "2025-09-30")  # 60 days
    records.address("A", "11", "2025-11-01", "2025-10-20")  # reported ahead of the move
    found = run(kit, records)
    assert kit.rows(found) == [
        ("A", "late_address_report", None, "2025-05-16", "2025-05-16", 1),
        ("A", "late_address_report", None, "2025-08-16", "2025-09-30", 46),
    ]
    assert found["evidence"][1] == "address_report[11 effective 2025-08-01 reported 2025-09-30]"
    assert set(found["severity"]) == {"low"}


def test_late_report_made_after_date_is_invisible_and_programme_is_attached(kit, records):
    records.status("A", "2025-03-01", "2027-02-28", program_id="busan-d2")
    records.address("A", "26", "2025-03-01")
    records.address("A", "26110", "2026-06-01", "2026-07-05")  # reported after DATE
    records.address("A", "26140", "2025-06-01", "2025-07-01")
    records.address("B", "11", "2025-06-01", "2025-07-01")  # no status at all
    assert kit.rows(run(kit, records), "late_address_report") == [
        ("A", "late_address_report", "busan-d2", "2025-06-16", "2025-07-01", 16),
        ("B", "late_address_report", None, "2025-06-16", "2025-07-01", 16),
    ]
    assert kit.rows(run(kit, records, "2026-07-05", max_days=30), "late_address_report") == [
        ("A", "late_address_report", "busan-d2", "2026-07-02", "2026-07-05", 4),
    ]


# --- residence_obligation -----------------------------------------------------------------


def holder(records, person="A", granted="2025-01-01", program="busan-d2"):
    return records.status(person, granted, "2026-12-31", program_id=program)


def test_ninety_days_outside_is_allowed_ninety_one_is_a_finding(kit, records):
    holder(records, "A").address("A", "26110", "2025-01-01").address("A", "11", "2025-03-01")
    records.address("A", "26", "2025-05-30")  # back after 90 days outside (1 Mar .. 29 May)
    holder(records, "B").address("B", "26110", "2025-01-01").address("B", "11", "2025-03-01")
    records.address("B", "26", "2025-05-31")  # 91 days outside
    found = run(kit, records)
    assert kit.rows(found) == [("B", "residence_obligation", "busan-d2", "2025-05-30", None, 397)]
    assert found["evidence"][0] == (
        "status_grant[busan-d2 granted 2025-01-01]; outside 26: "
        "address_report[11 effective 2025-03-01 reported 2025-03-01]"
    )
    assert found["severity"][0] == "high"


def test_outside_days_add_up_across_spells(kit, records):
    holder(records).address("A", "26", "2025-01-01")
    records.address("A", "11", "2025-02-01").address("A", "26", "2025-03-23")  # 50 days
    records.address("A", "41", "2025-06-01").address("A", "26", "2025-08-01")  # 61 more
    found = run(kit, records)
    # the 91st outside day is the 41st day of the second spell
    assert kit.rows(found) == [("A", "residence_obligation", "busan-d2", "2025-07-11", None, 355)]
    assert found["evidence"][0].count("address_report[") == 2


def test_outside_count_stops_at_date(kit, records):
    holder(records).address("A", "11", "2025-03-01")
    assert run(kit, records, "2025-05-29").height == 0  # 90 outside days up to and including DATE
    assert kit.rows(run(kit, records, "2025-05-30")) == [
        ("A", "residence_obligation", "busan-d2", "2025-05-30", None, 1)
    ]


def test_days_before_the_first_report_do_not_count(kit, records):
    holder(records)
    records.address("A", "11", "2025-06-01")  # first report; 1 Jan .. 31 May are unknown, not outside
    assert kit.rows(run(kit, records, "2025-12-31")) == [
        ("A", "residence_obligation", "busan-d2", "2025-08-30", None, 124)
    ]


def test_obligation_period_ends_after_calendar_months(kit, records):
    one_month = kit.programmes({**kit.BUSAN, "obligation_months": 1})
    # granted 31 Jan: the period is 31 Jan .. 27 Feb (ends before 28 Feb), 28 days
    records.status("A", "2025-01-31", "2026-01-30", program_id="busan-d2").address("A", "11", "2025-01-31")
    assert run(kit, records, "2025-12-31", one_month, max_days_outside=28).height == 0
    assert kit.rows(run(kit, records, "2025-12-31", one_month, max_days_outside=27)) == [
        ("A", "residence_obligation", "busan-d2", "2025-02-27", None, 308)
    ]
    # in a leap year the same grant runs to 28 Feb inclusive (ends before 29 Feb), 29 days
    leap = kit.Records()
    leap.status("A", "2024-01-31", "2025-01-30", program_id="busan-d2").address("A", "11", "2024-01-31")
    assert kit.rows(run(kit, leap, "2024-12-31", one_month, max_days_outside=28)) == [
        ("A", "residence_obligation", "busan-d2", "2024-02-28", None, 308)
    ]


def test_address_reported_after_date_does_not_count(kit, records):
    holder(records).address("A", "26", "2025-01-01").address("A", "11", "2025-02-01", reported="2025-07-01")
    assert run(kit, records, "2025-06-30").height == 0
    assert kit.rows(run(kit, records, "2025-07-01"), "residence_obligation") == [
        ("A", "residence_obligation", "busan-d2", "2025-05-02", None, 61)
    ]


@pytest.mark.parametrize(
    ("area", "address", "outside"),
    [
        (["26"], "26110", False),  # a district of the region
        (["26"], "26", False),
        (["26"], "11", True),
        (["26110"], "26110", False),
        (["26110"], "26140", True),  # another district of the same region
        (["26110"], "26", True),  # region-only report: not shown to be in the district
        (["26110", "26"], "26", False),
    ],
)
def test_area_codes(kit, records, area, address, outside):
    progs = kit.programmes({**kit.BUSAN, "residence_area": area})
    holder(records).address("A", address, "2025-01-01")
    assert (run(kit, records, "2025-12-31", progs).height == 1) is outside


def test_employment_counts_only_for_programmes_that_include_it(kit, records):
    holder(records).address("A", "26", "2025-01-01").job("A", "11", "2025-02-01", "2025-05-31")  # 120 days
    assert run(kit, records, "2025-12-31").height == 0
    f2r = kit.programmes({**kit.BUSAN, "includes_employment": True})
    found = run(kit, records, "2025-12-31", f2r)
    assert kit.rows(found) == [("A", "residence_obligation", "busan-d2", "2025-05-02", None, 244)]
    assert "employment[EMP-1 in 11 from 2025-02-01]" in found["evidence"][0]


def test_overlapping_address_and_job_days_count_once(kit, records):
    f2r = kit.programmes({**kit.BUSAN, "includes_employment": True})
    holder(records).address("A", "26", "2025-01-01").address("A", "11", "2025-02-01").address("A", "26", "2025-04-01")
    records.job("A", "11", "2025-03-01", "2025-04-30", employer_id="E1")  # Mar overlaps the address spell
    records.job("A", "26", "2025-01-01", employer_id="E2")  # inside: never counts
    # outside: 1 Feb .. 30 Apr = 89 days, whichever source says so
    assert run(kit, records, "2025-12-31", f2r).height == 0
    records.job("A", "41", "2025-04-30", "2025-05-02", employer_id="E3")  # adds 1 and 2 May
    assert kit.rows(run(kit, records, "2025-12-31", f2r)) == [
        ("A", "residence_obligation", "busan-d2", "2025-05-02", None, 244)
    ]


def test_statuses_without_a_known_programme_have_no_obligation(kit, records):
    records.status("A", "2025-01-01", "2026-12-31").address("A", "11", "2025-01-01")
    records.status("B", "2025-01-01", "2026-12-31", program_id="nowhere-d2").address("B", "11", "2025-01-01")
    assert run(kit, records, "2025-12-31").height == 0


def naive_residence(records, on, area, months, limit):
    """Day-by-day reference for the residence obligation, to check the interval arithmetic."""
    frames = records.frames()
    out = []
    addresses = frames["address_report"].filter(pl.col("reported_date") <= on)
    for st in frames["status_grant"].filter(pl.col("granted_on") <= on).iter_rows(named=True):
        start = st["granted_on"]
        end = pl.select(pl.lit(start).dt.offset_by(f"{months}mo")).item()
        mine = addresses.filter(pl.col("person_id") == st["person_id"]).sort("effective_date").rows(named=True)
        count, day = 0, start
        while day < end and day <= on:
            in_force = [a for a in mine if a["effective_date"] <= day]
            if in_force:
                code = in_force[-1]["area_code"]
                if not (code in area or code[:2] in area):
                    count += 1
                    if count == limit + 1:
                        out.append((st["person_id"], day))
                        break
            day += dt.timedelta(days=1)
    return sorted(out)


@pytest.mark.parametrize("seed", range(12))
def test_interval_arithmetic_agrees_with_counting_day_by_day(kit, seed):
    rng = random.Random(seed)
    records = kit.Records()
    for p in range(8):
        person = f"P{p}"
        granted = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(0, 60))
        records.status(person, granted, granted + dt.timedelta(days=700), program_id="busan-d2")
        day = granted + dt.timedelta(days=rng.randrange(-20, 40))
        for _ in range(rng.randrange(1, 7)):
            records.address(
                person,
                rng.choice(["26", "26110", "11", "41135", "26440"]),
                day,
                day + dt.timedelta(days=rng.choice([0, 3, 200])),
            )
            day += dt.timedelta(days=rng.randrange(5, 80))
    on = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(100, 500))
    months, limit = rng.choice([3, 6, 12]), rng.choice([10, 30, 90])
    progs = kit.programmes({**kit.BUSAN, "obligation_months": months})
    found = engine.find_all(records.frames(), progs, kit.settings(on, max_days_outside=limit))
    got = sorted(found.filter(pl.col("rule") == "residence_obligation").select("person_id", "start_date").rows())
    assert got == naive_residence(records, on, ["26"], months, limit)


# --- integration_obligation ---------------------------------------------------------------


def test_integration_deadline_is_calendar_months_and_inclusive(kit, records):
    progs = kit.programmes({**kit.BUSAN, "kiip_deadline_months": 12})
    records.status("A", "2025-01-31", "2026-12-31", program_id="busan-d2")  # deadline 2026-01-31
    records.status("B", "2025-01-31", "2026-12-31", program_id="busan-d2").kiip("B", "2026-01-31")
    records.status("C", "2025-01-31", "2026-12-31", program_id="busan-d2").kiip("C", "2026-02-01")
    records.status("D", "2025-01-31", "2026-12-31", program_id="busan-d2").kiip("D", "2023-05-01", "2023-12-01")
    assert run(kit, records, "2026-01-31", progs).filter(pl.col("rule") == "integration_obligation").height == 0
    found = run(kit, records, "2026-02-01", progs).filter(pl.col("rule") == "integration_obligation")
    assert kit.rows(found) == [
        ("A", "integration_obligation", "busan-d2", "2026-02-01", None, 1),
        ("C", "integration_obligation", "busan-d2", "2026-02-01", None, 1),
    ]
    assert found["evidence"].to_list() == [
        "status_grant[busan-d2 granted 2025-01-31]; kiip deadline 2026-01-31; kiip_record[none]",
        "status_grant[busan-d2 granted 2025-01-31]; kiip deadline 2026-01-31; kiip_record[first enrolled 2026-02-01]",
    ]
    assert set(found["severity"]) == {"medium"}


def test_no_integration_obligation_without_a_deadline(kit, records):
    records.status("A", "2025-01-31", "2026-12-31", program_id="busan-d2")
    assert run(kit, records, "2026-06-30").height == 0


# --- unreported_departure -----------------------------------------------------------------


def test_unreported_departure_after_ninety_days_abroad(kit, records):
    records.status("A", "2025-01-01", "2026-12-31").move("A", "entry", "2025-01-02").move("A", "exit", "2026-04-01")
    records.status("B", "2025-01-01", "2026-12-31").move("B", "exit", "2026-03-31")
    records.status("C", "2025-01-01", "2026-12-31").move("C", "exit", "2026-01-01").move("C", "entry", "2026-03-01")
    records.status("E", "2025-01-01", "2026-01-31").move("E", "exit", "2025-06-01")  # status ended: neither rule
    found = run(kit, records, "2026-06-30")
    # A: 90 days abroad on DATE (not more); B: 91
    assert kit.rows(found) == [("B", "unreported_departure", None, "2026-06-30", None, 1)]
    assert found["evidence"][0] == "status_grant[D-2 2025-01-01..2026-12-31]; movement[exit 2026-03-31]"
    assert kit.rows(run(kit, records, "2026-06-30", max_days_abroad=30)) == [
        ("A", "unreported_departure", None, "2026-05-02", None, 60),
        ("B", "unreported_departure", None, "2026-05-01", None, 61),
    ]


def test_movement_after_date_is_not_seen(kit, records):
    records.status("B", "2025-01-01", "2026-12-31").move("B", "exit", "2026-03-31").move("B", "entry", "2026-07-02")
    assert kit.rows(run(kit, records, "2026-06-30")) == [("B", "unreported_departure", None, "2026-06-30", None, 1)]
    assert run(kit, records, "2026-07-02").height == 0


# --- reproducibility ----------------------------------------------------------------------


def population(kit) -> object:
    r = kit.Records()
    r.status("A", "2024-01-01", "2025-09-30").move("A", "entry", "2024-01-03")
    holder(r, "H").address("H", "26", "2025-01-01").address("H", "11", "2025-03-01", "2025-03-30")
    r.address("H", "26", "2025-09-01")
    r.status("K", "2024-06-01", "2026-05-31", program_id="busan-d2").kiip("K", "2025-09-01")
    r.status("X", "2025-01-01", "2026-12-31").move("X", "exit", "2025-07-01")
    return r


def later_records(r) -> None:
    """Records dated or reported after 2025-12-31: as of that day none of them was known."""
    r.status("A", "2025-10-01", "2026-09-30", granted_on="2026-01-10")  # retroactive extension
    r.address("H", "11", "2025-04-15", "2026-01-05")
    r.address("A", "11", "2025-12-01", "2026-02-01")
    r.move("X", "entry", "2026-01-02").move("A", "exit", "2026-01-03")
    r.kiip("K", "2026-02-01")
    r.job("H", "11", "2026-01-01")
    r.status("NEW", "2026-01-01", "2026-01-31", granted_on="2026-01-01")


def test_records_known_after_date_do_not_change_the_answer(kit):
    progs = kit.programmes({**kit.BUSAN, "kiip_deadline_months": 12, "includes_employment": True})
    before = population(kit)
    answer = engine.find_all(before.frames(), progs, kit.settings("2025-12-31"))
    assert set(answer["rule"]) == {
        "illegal_stay",
        "late_address_report",
        "residence_obligation",
        "integration_obligation",
        "unreported_departure",
    }
    after = population(kit)
    later_records(after)
    assert engine.find_all(after.frames(), progs, kit.settings("2025-12-31")).equals(answer)
    assert not engine.find_all(after.frames(), progs, kit.settings("2026-06-30")).equals(
        engine.find_all(before.frames(), progs, kit.settings("2026-06-30"))
    )
