"""Movement and retention (DESIGN §4.9): the vectorised computation against a plain reading of the
definitions, person by person, on random records (Hypothesis), and a worked example by hand."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from regionvisa.mobility import compute, service
from regionvisa.records.frames import SCHEMAS

D = dt.date
REGIONS = ("11", "26", "44")


def _frame(rows: list[dict], table: str) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SCHEMAS[table], orient="row") if rows else pl.DataFrame(schema=SCHEMAS[table])


def _grant(person, visa, start, end, program=None, granted=None):
    return {
        "person_id": person,
        "visa": visa,
        "subtype": None,
        "program_id": program,
        "region": "26",
        "valid_from": start,
        "valid_to": end,
        "granted_on": granted or start,
    }


def _report(person, area, effective, reported=None):
    return {"person_id": person, "area_code": area, "effective_date": effective, "reported_date": reported or effective}


# ------------------------------------------------------------------ the definitions, read plainly


def _covering(grants, person, day, holders):
    found = [g for g in grants if g["person_id"] == person and g["valid_from"] <= day <= g["valid_to"]]
    if holders and not any(g["program_id"] for g in found):
        return None
    if not found:
        return ""
    # the grant that began last; among grants beginning the same day, the later row
    best = max(range(len(found)), key=lambda i: (found[i]["valid_from"], i))
    return found[best]["visa"]


def _region_on(reports, person, day):
    mine = [r for r in reports if r["person_id"] == person and r["effective_date"] <= day]
    return max(mine, key=lambda r: r["effective_date"])["area_code"][:2] if mine else None


def plain_flows(grants, reports, start, end, holders):
    reports = [r for r in reports if r["reported_date"] <= end]
    inflow, outflow, first, last = Counter(), Counter(), Counter(), Counter()
    for person in sorted({r["person_id"] for r in reports}):
        mine = sorted((r for r in reports if r["person_id"] == person), key=lambda r: r["effective_date"])
        for before, after in itertools.pairwise(mine):
            a, b = before["area_code"][:2], after["area_code"][:2]
            if a != b and start <= after["effective_date"] <= end:
                visa = _covering(grants, person, after["effective_date"], holders)
                if visa is not None:
                    inflow[(b, visa)] += 1
                    outflow[(a, visa)] += 1
        for counter, day in ((first, start), (last, end)):
            region = _region_on(reports, person, day)
            visa = _covering(grants, person, day, holders) if region else None
            if region and visa is not None:
                counter[(region, visa)] += 1
    keys = sorted(set(inflow) | set(outflow) | set(first) | set(last))
    return [
        (r, v, inflow[(r, v)], outflow[(r, v)], inflow[(r, v)] - outflow[(r, v)], first[(r, v)], last[(r, v)])
        for r, v in keys
        if inflow[(r, v)] or outflow[(r, v)] or first[(r, v)] or last[(r, v)]
    ]


# ------------------------------------------------------------------ random records

DAYS = st.dates(min_value=D(2024, 1, 1), max_value=D(2026, 6, 30))
PEOPLE = [f"P{i}" for i in range(6)]


@st.composite
def records(draw):
    grants, reports = [], []
    for person in draw(st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=6, unique=True)):
        for _ in range(draw(st.integers(0, 2))):
            start = draw(DAYS)
            end = start + dt.timedelta(days=draw(st.integers(0, 500)))
            program = draw(st.sampled_from([None, "busan-d2"]))
            grants.append(_grant(person, draw(st.sampled_from(["D-2", "E-7"])), start, end, program))
        effective = draw(st.lists(DAYS, min_size=1, max_size=5, unique=True))
        for day in effective:
            late = dt.timedelta(days=draw(st.sampled_from([0, 0, 10, 400])))
            area = draw(st.sampled_from(REGIONS)) + draw(st.sampled_from(["", "110"]))
            reports.append(_report(person, area, day, day + late))
    return grants, reports


@settings(max_examples=150, deadline=None)
@given(records(), DAYS, st.integers(0, 400), st.booleans())
def test_flows_match_the_definition_read_person_by_person(data, start, length, holders):
    grants, reports = data
    end = start + dt.timedelta(days=length)
    got = compute.flows(
        _frame(grants, "status_grant"), _frame(reports, "address_report"), start=start, end=end, holders=holders
    )
    assert got.columns == list(compute.FLOW_COLUMNS)
    assert got.rows() == plain_flows(grants, reports, start, end, holders)


def test_a_worked_example_by_hand():
    grants = [
        _grant("A", "D-2", D(2025, 1, 1), D(2026, 12, 31), "chungnam-d2"),
        _grant("B", "E-9", D(2024, 1, 1), D(2027, 1, 1)),
    ]
    reports = [
        _report("A", "44133", D(2025, 1, 5)),
        _report("A", "11110", D(2025, 6, 1)),  # Chungnam → Seoul in the period, as a D-2 holder
        _report("B", "26440", D(2024, 3, 1)),
        _report("B", "26110", D(2025, 3, 1)),  # inside Busan: no move
        _report("B", "44133", D(2026, 2, 1)),  # after the period
        _report("A", "44133", D(2025, 9, 1), D(2026, 1, 10)),  # reported after the period: unknown then
    ]
    got = compute.flows(
        _frame(grants, "status_grant"), _frame(reports, "address_report"), start=D(2025, 1, 1), end=D(2025, 12, 31)
    )
    assert got.rows() == [("11", "D-2", 1, 0, 1, 0, 1), ("26", "E-9", 0, 0, 0, 1, 1), ("44", "D-2", 0, 1, -1, 0, 0)]
    holders = compute.flows(
        _frame(grants, "status_grant"),
        _frame(reports, "address_report"),
        start=D(2025, 1, 1),
        end=D(2025, 12, 31),
        holders=True,
    )
    assert holders.rows() == [("11", "D-2", 1, 0, 1, 0, 1), ("44", "D-2", 0, 1, -1, 0, 0)]


PROGRAMMES = pl.DataFrame(
    {
        "program_id": ["chungnam-d2"],
        "region": ["44"],
        "residence_area": [["44"]],
        "valid_from": [D(2024, 1, 1)],
        "valid_to": [None],
    },
    schema={
        "program_id": pl.String,
        "region": pl.String,
        "residence_area": pl.List(pl.String),
        "valid_from": pl.Date,
        "valid_to": pl.Date,
    },
)


def test_retention_counts_holders_in_the_area_and_leaves_unreached_months_empty():
    grants = [
        _grant("A", "D-2", D(2025, 1, 10), D(2027, 1, 1), "chungnam-d2"),
        _grant("B", "D-2", D(2025, 1, 20), D(2027, 1, 1), "chungnam-d2"),
        _grant("C", "D-2", D(2025, 2, 1), D(2027, 1, 1), "chungnam-d2"),
        _grant("D", "E-9", D(2025, 1, 1), D(2027, 1, 1)),  # no programme: not followed
    ]
    reports = [
        _report("A", "44133", D(2025, 1, 10)),
        _report("A", "11110", D(2025, 5, 1)),  # left before 6 months
        _report("B", "44133", D(2025, 1, 20)),
        _report("C", "44200", D(2025, 2, 1)),
        _report("C", "11110", D(2026, 1, 15)),  # left before 12 months
    ]
    got = compute.retention(
        _frame(grants, "status_grant"), _frame(reports, "address_report"), PROGRAMMES, on=D(2026, 2, 10)
    )
    assert got.columns == list(compute.RETENTION_COLUMNS)
    assert got.rows() == [
        ("chungnam-d2", "44", "2025-01", 2, 1, 1, None),  # A left before 6 months; 24 months not reached
        ("chungnam-d2", "44", "2025-02", 1, 1, 0, None),  # C left before 12 months
    ]


# ------------------------------------------------------------------ pairs, and what the database leaves out


def plain_pairs(grants, reports, start, end, holders):
    reports = [r for r in reports if r["reported_date"] <= end]
    pairs = Counter()
    for person in sorted({r["person_id"] for r in reports}):
        mine = sorted((r for r in reports if r["person_id"] == person), key=lambda r: r["effective_date"])
        for before, after in itertools.pairwise(mine):
            a, b = before["area_code"][:2], after["area_code"][:2]
            if a != b and start <= after["effective_date"] <= end:
                visa = _covering(grants, person, after["effective_date"], holders)
                if visa is not None:
                    pairs[(a, b, visa)] += 1
    return sorted((a, b, v, n) for (a, b, v), n in pairs.items())


@settings(max_examples=150, deadline=None)
@given(records(), DAYS, st.integers(0, 400), st.booleans())
def test_pairs_match_the_definition_and_add_up_to_the_flows(data, start, length, holders):
    grants, reports = data
    end = start + dt.timedelta(days=length)
    statuses, addresses = _frame(grants, "status_grant"), _frame(reports, "address_report")
    pairs = compute.od_counts(statuses, addresses, start=start, end=end, holders=holders)
    assert pairs.columns == list(compute.OD_COLUMNS)
    assert pairs.rows() == plain_pairs(grants, reports, start, end, holders)
    table, same = compute.flows_and_pairs(statuses, addresses, start=start, end=end, holders=holders)
    assert same.equals(pairs) and table.equals(
        compute.flows(statuses, addresses, start=start, end=end, holders=holders)
    )
    inflow = pairs.group_by(region="destination", visa="visa").agg(pl.col("moves").sum())
    for row in inflow.iter_rows(named=True):
        assert (
            table.filter((pl.col("region") == row["region"]) & (pl.col("visa") == row["visa"]))["inflow"].item()
            == row["moves"]
        )


@settings(max_examples=150, deadline=None)
@given(records(), DAYS, st.integers(0, 400), st.booleans())
def test_flows_on_the_rows_the_database_keeps_equal_flows_on_all_rows(data, start, length, holders):
    """The database reads only `service.flow_filters`' rows (its SQL says the same): leaving the
    others out changes neither the flows nor the pairs."""
    grants, reports = data
    end = start + dt.timedelta(days=length)
    statuses, addresses = _frame(grants, "status_grant"), _frame(reports, "address_report")
    kept = service.flow_filters(statuses, addresses, start=start, end=end, holders=holders)
    everything = compute.flows_and_pairs(statuses, addresses, start=start, end=end, holders=holders)
    pruned = compute.flows_and_pairs(*kept, start=start, end=end, holders=holders)
    assert pruned[0].equals(everything[0]) and pruned[1].equals(everything[1])


@st.composite
def holder_records(draw):
    grants, reports = draw(records())
    for g in grants:  # every grant of a programme (some granted after their start), kept in its order
        g["granted_on"] = g["valid_from"] + dt.timedelta(days=draw(st.sampled_from([0, 0, 30])))
    return grants, reports


@settings(max_examples=150, deadline=None)
@given(holder_records(), DAYS, st.sampled_from([None, "busan-d2", "chungnam-d2"]))
def test_retention_on_the_rows_the_database_keeps_equals_retention_on_all_rows(data, on, program):
    grants, reports = data
    statuses, addresses = _frame(grants, "status_grant"), _frame(reports, "address_report")
    programmes = pl.concat(
        [
            PROGRAMMES,
            PROGRAMMES.with_columns(program_id=pl.lit("busan-d2"), region=pl.lit("26"), residence_area=pl.lit(["26"])),
        ]
    )
    kept = service.retention_filters(statuses, addresses, on=on, program_id=program)
    everything = compute.retention(statuses, addresses, programmes, on=on, program_id=program)
    assert compute.retention(*kept, programmes, on=on, program_id=program).equals(everything)
