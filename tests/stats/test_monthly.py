"""The monthly statistics in the bulletin's breakdowns: hand-built records with the answer worked
out, the database path on both databases, and the workbook as a job through the API."""

from __future__ import annotations

import datetime as dt
import io

import polars as pl
import pytest
from tests.actors import SYSTEM
from tests.jobs.support import clear_queue, follow

from regionvisa.records.frames import SCHEMAS
from regionvisa.records.service import import_file
from regionvisa.stats import bulletin, monthly

END = dt.date(2025, 6, 30)


def frame(table: str, rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SCHEMAS[table], orient="row")


D = dt.date
PEOPLE = frame(
    "person",
    [
        ("A", "VNM", D(1990, 1, 1), "M"),
        ("B", "CHN", D(1991, 1, 1), "F"),
        ("C", "VNM", D(1992, 1, 1), "M"),
        ("E", "UZB", D(1993, 1, 1), "F"),
    ],
)
STATUSES = frame(
    "status_grant",
    [
        ("A", "D-2", None, None, "26", D(2025, 1, 1), D(2026, 12, 31), D(2024, 12, 1)),  # covered, Busan
        ("B", "E-9", None, None, "11", D(2024, 1, 1), D(2025, 5, 31), D(2023, 12, 1)),  # overstayed since 1 June
        ("C", "F-6", None, None, "41", D(2025, 1, 1), D(2027, 1, 1), D(2024, 12, 1)),  # left in June
        ("E", "E-7", None, None, "31", D(2025, 7, 1), D(2027, 1, 1), D(2025, 6, 20)),  # granted, not begun
    ],
)
MOVEMENTS = frame(
    "movement",
    [
        ("A", "entry", D(2025, 2, 1), "PUS"),
        ("B", "entry", D(2024, 1, 5), "ICN"),
        ("C", "entry", D(2025, 1, 3), "ICN"),
        ("C", "exit", D(2025, 6, 10), "ICN"),
        ("E", "entry", D(2025, 6, 25), "ICN"),
    ],
)
ADDRESSES = frame(
    "address_report",
    [
        ("A", "26110", D(2025, 2, 2), D(2025, 2, 3)),
        ("B", "11", D(2024, 1, 10), D(2024, 1, 11)),  # a region only: district unknown
        ("C", "41110", D(2025, 1, 4), D(2025, 1, 5)),
    ],
)


def test_stocks_mark_illegal_stays_and_count_them_in_every_total():
    detail = bulletin.residents_detail(PEOPLE, STATUSES, MOVEMENTS, ADDRESSES, END)
    rows = {r["person_id"]: r for r in detail.to_dicts()}
    assert set(rows) == {"A", "B", "E"}  # C left in June
    assert rows["B"]["visa"] == "E-9" and rows["B"]["illegal"] and rows["B"]["district"] == bulletin.UNKNOWN_DISTRICT
    assert rows["E"]["visa"] == "E-7" and not rows["E"]["illegal"]  # granted, not yet begun: not illegal
    table = bulletin.by_status_and_region(detail, ["11", "26", "31", "41"])
    assert table.columns == ["visa", "total", "illegal", "11", "26", "31", "41"]
    assert table.rows() == [("D-2", 1, 0, 0, 1, 0, 0), ("E-7", 1, 0, 0, 0, 1, 0), ("E-9", 1, 1, 1, 0, 0, 0)]
    districts = bulletin.by_district(detail, ["D-2", "E-7", "E-9"])
    assert districts.select("region", "district", "total", "illegal").rows() == [
        ("11", bulletin.UNKNOWN_DISTRICT, 1, 1),
        ("26", "26110", 1, 0),
        ("31", bulletin.UNKNOWN_DISTRICT, 1, 0),
    ]
    nationality = bulletin.by_nationality(detail, ["D-2", "E-7", "E-9"])
    assert nationality.select("nationality", "total", "illegal").rows() == [("CHN", 1, 1), ("UZB", 1, 0), ("VNM", 1, 0)]


def test_flows_in_the_month_and_the_year_by_the_status_held_that_day():
    flows = bulletin.flows(STATUSES, MOVEMENTS, month_start=D(2025, 6, 1), end=END)
    by_visa = {r["visa"]: r for r in flows.to_dicts()}
    assert by_visa["F-6"] == {"visa": "F-6", "entries_month": 0, "exits_month": 1, "entries_year": 1, "exits_year": 1}
    assert by_visa["E-7"]["entries_month"] == 1  # granted on 20 June, entered on 25 June
    assert by_visa["D-2"]["entries_year"] == 1 and by_visa["D-2"]["entries_month"] == 0
    assert "E-9" not in by_visa  # B's entry was in 2024


def test_month_end_and_bad_months():
    assert bulletin.month_end("2024-02") == D(2024, 2, 29)
    for bad in ("2025-13", "2025-6", "june"):
        with pytest.raises(Exception) as refused:
            monthly.parse_month(bad)
        assert getattr(refused.value, "status", None) == 422 and bad in refused.value.en


def _import(engine, tmp_path, kind: str, header: str, rows: list[str]) -> None:
    path = tmp_path / f"{kind}.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    summary, problems = import_file(engine=engine, kind=kind, path=path, actor=SYSTEM)
    assert summary.outcome == "committed" and problems.height == 0, problems


@pytest.fixture
def bulletin_records(engine, tmp_path):
    _import(
        engine,
        tmp_path,
        "people",
        "person_id,name,nationality,birth_date,sex,passport_no",
        [
            "A,Person A,VNM,1990-01-01,M,AA1234567",
            "B,Person B,CHN,1991-01-01,F,BB1234567",
            "C,Person C,VNM,1992-01-01,M,CC1234567",
        ],
    )
    _import(
        engine,
        tmp_path,
        "statuses",
        "person_id,visa,subtype,program_id,region,valid_from,valid_to,granted_on",
        [
            "A,D-2,,,26,2025-01-01,2026-12-31,2024-12-01",
            "B,E-9,,,11,2024-01-01,2025-05-31,2023-12-01",
            "C,F-6,,,41,2025-01-01,2027-01-01,2024-12-01",
        ],
    )
    _import(
        engine,
        tmp_path,
        "movements",
        "person_id,direction,date,port",
        ["A,entry,2025-02-01,PUS", "B,entry,2024-01-05,ICN", "C,entry,2025-01-03,ICN", "C,exit,2025-06-10,ICN"],
    )
    _import(
        engine,
        tmp_path,
        "addresses",
        "person_id,area_code,effective_date,reported_date",
        ["A,26110,2025-02-02,2025-02-03", "B,11,2024-01-10,2024-01-11", "C,41110,2025-01-04,2025-01-05"],
    )
    return engine


def test_the_database_path_gives_the_hand_worked_answer(bulletin_records):
    stats = monthly.monthly_statistics(engine=bulletin_records, month="2025-06")
    assert stats.summary == {
        "residents": 2,
        "illegal": 1,
        "residents_previous_month": 3,  # C left on 10 June
        "change": -1,
        "entries_month": 0,
        "exits_month": 1,
        "entries_year": 2,
        "exits_year": 1,
    }
    row = stats.by_status_and_region.filter(pl.col("visa") == "E-9").row(0, named=True)
    assert row["total"] == 1 and row["illegal"] == 1 and row["11"] == 1


def test_the_workbook_is_a_job_with_every_sheet_in_the_readers_language(bulletin_records, client, role_users, login):
    clear_queue(bulletin_records)
    token = login(client, "t.officer")
    started = client.post(
        "/api/v1/stats/monthly", json={"month": "2025-06", "lang": "ko"}, headers={"X-CSRF-Token": token}
    )
    job = follow(client, started, bulletin_records)
    assert job["state"] == "succeeded", job
    assert job["result"]["summary"]["residents"] == 2 and job["result"]["summary"]["illegal"] == 1
    file = client.get(job["result"]["href"])
    assert file.status_code == 200
    sheets = pl.read_excel(io.BytesIO(file.content), sheet_id=0, read_options={"header_row": 2})
    assert set(sheets) == {"요약", "체류자격별 시도별", "시군구별", "국적별", "출입국", "정의"}
    by_status = sheets["체류자격별 시도별"]
    assert {"체류자격", "계", "불법체류(포함)", "서울특별시", "부산광역시"} <= set(by_status.columns)
    e9 = by_status.filter(pl.col("체류자격") == "E-9").row(0, named=True)
    assert e9["계"] == 1 and e9["불법체류(포함)"] == 1 and e9["서울특별시"] == 1
    assert "중국" in sheets["국적별"]["국가명"].to_list()
    bad = client.post("/api/v1/stats/monthly", json={"month": "2025-13"}, headers={"X-CSRF-Token": token})
    assert bad.status_code == 422


def test_the_form_keeps_a_bad_month_and_starts_the_job_from_the_web(bulletin_records, client, role_users, login):
    from tests.jobs.support import follow_page

    clear_queue(bulletin_records)
    token = login(client, "t.busan")
    form = client.get("/statistics/monthly")
    assert form.status_code == 200 and 'name="month"' in form.text
    bad = client.post("/statistics/monthly", data={"month": "2025-6", "lang": "ko", "csrf_token": token})
    assert bad.status_code == 422
    assert 'id="error-summary"' in bad.text and 'value="2025-6"' in bad.text and "월" in bad.text
    started = client.post(
        "/statistics/monthly", data={"month": "2025-06", "lang": "en", "csrf_token": token}, follow_redirects=False
    )
    page = follow_page(client, started, bulletin_records)
    assert "/file" in page.text
