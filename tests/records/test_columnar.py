"""Arrow column reads of a SQLite file agree with the driver path; resident counts agree with SQL."""

from __future__ import annotations

import datetime as dt

import pytest
from polars.testing import assert_frame_equal
from tests.actors import SYSTEM

from regionvisa.records import columnar
from regionvisa.records.counts import residents_by_region, residents_by_region_sql
from regionvisa.records.frames import SCHEMAS, read_records
from regionvisa.records.service import import_file

ON = dt.date(2025, 12, 31)

FEEDS = {
    "people": [
        "person_id,name,nationality,birth_date,sex,passport_no",
        *(f"R{i:04d},Person {i},VNM,1990-01-01,F,M{i:07d}" for i in range(8)),
    ],
    "statuses": [
        "person_id,visa,subtype,program_id,region,valid_from,valid_to,granted_on",
        "R0000,E-9,,,41,2024-01-01,2026-12-31,2023-12-20",
        "R0001,D-2,,,26,2023-03-01,2025-02-28,2023-02-01",  # two statuses: the later one wins
        "R0001,E-7,E-7-1,,11,2025-03-01,2028-02-28,2025-02-20",
        "R0002,F-5,,,48,2020-01-01,2099-12-31,2019-12-01",
        "R0003,E-9,,,44,2024-06-01,2027-05-31,2024-05-01",
        "R0004,H-2,,,11,2024-01-01,2025-06-30,2023-12-01",  # overstayer, still a resident
        "R0005,E-9,,,41,2026-02-01,2029-01-31,2026-01-10",  # granted after the date: not known then
        "R0006,D-2,,,27,2024-03-01,2026-02-28,2024-02-01",
    ],
    "addresses": [
        "person_id,area_code,effective_date,reported_date",
        "R0000,41110,2024-01-05,2024-01-06",
        "R0000,47110,2025-11-01,2025-11-03",  # moved to another region: the latest address wins
        "R0002,48120,2021-01-01,2021-01-02",
        "R0003,44130,2025-12-20,2026-01-15",  # reported after the date: not known then
        "R0006,27140,2024-03-02,2024-03-03",
        "R0006,11110,2026-03-01,2026-03-02",  # in force after the date
    ],
    "movements": [
        "person_id,direction,date,port",
        "R0000,entry,2024-01-02,ICN",
        "R0002,entry,2020-01-02,ICN",
        "R0002,exit,2025-07-01,ICN",  # left and did not come back
        "R0003,entry,2024-06-02,PUS",
        "R0003,exit,2025-08-01,PUS",
        "R0003,entry,2025-08-01,PUS",  # exit and entry on one day: the exit counts as last
        "R0006,entry,2024-03-01,ICN",
        "R0006,exit,2025-01-10,ICN",
        "R0006,entry,2025-02-10,ICN",  # came back
    ],
}


@pytest.fixture
def records(sqlite_engine, tmp_path):
    for kind, lines in FEEDS.items():
        path = tmp_path / f"{kind}.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        summary, _ = import_file(engine=sqlite_engine, kind=kind, path=path, actor=SYSTEM)
        assert summary.outcome == "committed", summary
    return sqlite_engine


@pytest.mark.parametrize("table", ["status_grant", "movement", "address_report", "kiip_record"])
def test_column_reads_equal_the_driver_reads(records, table):
    columns = list(SCHEMAS[table])
    got = columnar.read_columns(engine=records, wanted={table: columns}, as_of=ON)[table]
    with records.connect() as conn:
        expected = read_records(conn=conn, table=table, as_of=ON)
    assert got.schema == expected.schema  # kiip_record is empty: typed from the schema all the same
    assert_frame_equal(got.sort(columns), expected.sort(columns))


def test_residents_counted_from_columns_equal_the_sql_count(records):
    expected = {"47": 1, "11": 2, "27": 1}  # R0000 moved, R0001 and R0004, R0006; R0002/R0003 left
    assert residents_by_region_sql(engine=records, on=ON) == expected
    assert residents_by_region(engine=records, on=ON) == expected
    later = dt.date(2026, 6, 30)  # R0005 granted, R0003's report known, R0006's new address in force
    assert residents_by_region(engine=records, on=later) == residents_by_region_sql(engine=records, on=later)


def test_reads_are_repeated_while_the_records_change(records, monkeypatch):
    prints = iter(range(100))
    monkeypatch.setattr(columnar, "records_fingerprint", lambda engine: next(prints))
    with pytest.raises(RuntimeError, match="kept changing"):
        columnar.read_columns(engine=records, wanted={"movement": ["person_id"]}, as_of=ON)
    settle = iter([1, 2, 3, 3])  # changed during the first read, stable during the second
    monkeypatch.setattr(columnar, "records_fingerprint", lambda engine: next(settle))
    frames = columnar.read_columns(engine=records, wanted={"movement": ["person_id"]}, as_of=ON)
    assert frames["movement"].height == 9


def test_only_sqlite_files_are_read_as_columns(records):
    from sqlalchemy import create_engine

    assert columnar.sqlite_file(engine=records) is not None
    assert columnar.sqlite_file(engine=create_engine("sqlite://")) is None
    with pytest.raises(ValueError, match="SQLite database file"):
        columnar.read_columns(engine=create_engine("sqlite://"), wanted={"movement": ["person_id"]}, as_of=ON)
