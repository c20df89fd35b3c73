"""Who counts as a foreign resident on a date, and the region table built from them."""

from __future__ import annotations

import datetime as dt

import polars as pl

from regionvisa.records.frames import SCHEMAS, residents_frame
from regionvisa.stats.service import region_table

ON = dt.date(2025, 12, 31)


def frame(table: str, rows: list[dict]) -> pl.DataFrame:
    schema = SCHEMAS[table]
    return pl.DataFrame([{c: r.get(c) for c in schema} for r in rows], schema=schema)


def status(pid, visa, region, start, end, granted=None):
    return {
        "person_id": pid,
        "visa": visa,
        "region": region,
        "valid_from": start,
        "valid_to": end,
        "granted_on": granted or start,
    }


def test_resident_rules_cover_status_illegal_stay_departure_and_address():
    d = dt.date
    people = frame(
        "person",
        [
            {"person_id": p, "nationality": n}
            for p, n in [("A", "VNM"), ("B", "CHN"), ("C", "NPL"), ("D", "UZB"), ("E", "KHM")]
        ],
    )
    statuses = frame(
        "status_grant",
        [
            status("A", "E-9", "41", d(2024, 1, 1), d(2026, 12, 31)),  # covered on ON
            status("B", "D-2", "26", d(2023, 3, 1), d(2025, 2, 28)),  # expired, no exit: illegal
            status("C", "E-7", "48", d(2023, 1, 1), d(2025, 6, 30)),  # expired, left: not resident
            status("D", "F-6", "11", d(2022, 1, 1), d(2024, 1, 1)),  # renewed below
            status("D", "F-5", "11", d(2024, 1, 2), d(2030, 1, 1)),
            status("E", "D-2", "43", d(2025, 3, 1), d(2027, 3, 1), granted=d(2026, 2, 1)),  # granted later
        ],
    )
    movements = frame(
        "movement",
        [
            {"person_id": "A", "direction": "entry", "date": d(2024, 1, 5)},
            {"person_id": "A", "direction": "exit", "date": d(2024, 8, 1)},
            {"person_id": "A", "direction": "entry", "date": d(2024, 8, 20)},
            {"person_id": "C", "direction": "exit", "date": d(2025, 6, 29)},
        ],
    )
    addresses = frame(
        "address_report",
        [
            {"person_id": "A", "area_code": "41110", "effective_date": d(2024, 1, 10), "reported_date": d(2024, 1, 12)},
            {"person_id": "A", "area_code": "28177", "effective_date": d(2025, 5, 1), "reported_date": d(2025, 5, 3)},
            {"person_id": "D", "area_code": "26", "effective_date": d(2023, 1, 1), "reported_date": d(2023, 1, 2)},
        ],
    )
    statuses = statuses.filter(pl.col("granted_on") <= ON)
    got = residents_frame(people, statuses, movements, addresses, ON)
    assert got.to_dicts() == [
        {"person_id": "A", "nationality": "VNM", "region": "28", "status": "E-9"},
        {"person_id": "B", "nationality": "CHN", "region": "26", "status": "illegal"},
        {"person_id": "D", "nationality": "UZB", "region": "26", "status": "F-5"},
    ]


def test_region_table_has_every_region_and_sums_statuses():
    residents = pl.DataFrame(
        {
            "person_id": ["1", "2", "3", "4"],
            "nationality": ["CHN"] * 4,
            "region": ["26", "26", "41", "41"],
            "status": ["D-2", "illegal", "E-9", "G-1"],
        }
    )
    counts = (
        residents.group_by("region", "status")
        .len()
        .select("region", pl.col("status").alias("value"), pl.col("len").cast(pl.Int64).alias("n"))
    )
    table = region_table(counts)
    assert table.height == 17
    busan = table.filter(pl.col("region") == "26").row(0, named=True)
    assert (busan["residents"], busan["D-2"], busan["illegal"], busan["E-9"]) == (2, 1, 1, 0)
    gyeonggi = table.filter(pl.col("region") == "41").row(0, named=True)
    assert (gyeonggi["other"], gyeonggi["E-9"]) == (1, 1)
    assert busan["share_pct"] == round(2 / busan["population_2024"] * 100, 2)
    assert table.filter(pl.col("region") == "50")["residents"][0] == 0
