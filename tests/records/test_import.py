"""Feed imports: rejection reasons, idempotency, atomicity, and the API path."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import text
from tests.actors import SYSTEM

from regionvisa.records import service

PEOPLE = """person_id,name,nationality,birth_date,sex,passport_no
P00000001,Nguyen Van A,VNM,1998-03-04,M,C1234567
P00000002,Li Na,CHN,2001-11-30,F,E7654321
P00000003,Bat Erdene,MNG,1995-07-15,M,M9988776
"""


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one()


@pytest.fixture
def people(engine, tmp_path):
    summary, problems = service.import_file(
        engine=engine, kind="people", path=write(tmp_path, "people.csv", PEOPLE), actor=SYSTEM
    )
    assert summary.outcome == "committed" and summary.inserted == 3 and problems.height == 0
    return engine


BAD_ROWS = [
    # (kind, header, row, field, reason fragment)
    (
        "people",
        "person_id,name,nationality,birth_date,sex,passport_no",
        "P9,X,Korea,2000-01-01,M,A1234567",
        "nationality",
        "alpha-3",
    ),
    (
        "people",
        "person_id,name,nationality,birth_date,sex,passport_no",
        "P9,X,KOR,2000-02-30,M,A1234567",
        "birth_date",
        "ISO date",
    ),
    (
        "people",
        "person_id,name,nationality,birth_date,sex,passport_no",
        "P9,X,KOR,2000-01-01,Q,A1234567",
        "sex",
        "one of",
    ),
    (
        "people",
        "person_id,name,nationality,birth_date,sex,passport_no",
        "P9,X,KOR,2000-01-01,M,a-1",
        "passport_no",
        "passport",
    ),
    (
        "people",
        "person_id,name,nationality,birth_date,sex,passport_no",
        ",X,KOR,2000-01-01,M,A1234567",
        "person_id",
        "required",
    ),
    (
        "statuses",
        "person_id,visa,subtype,program_id,region,valid_from,valid_to,granted_on",
        "P00000001,Z-9,,,26,2025-01-01,2026-01-01,2024-12-20",
        "visa",
        "unknown visa",
    ),
    (
        "statuses",
        "person_id,visa,subtype,program_id,region,valid_from,valid_to,granted_on",
        "P00000001,D-2,,,99,2025-01-01,2026-01-01,2024-12-20",
        "region",
        "region code",
    ),
    (
        "statuses",
        "person_id,visa,subtype,program_id,region,valid_from,valid_to,granted_on",
        "P00000001,D-2,,,26,2025-01-01,2024-01-01,2024-12-20",
        "valid_to",
        "before valid_from",
    ),
    (
        "statuses",
        "person_id,visa,subtype,program_id,region,valid_from,valid_to,granted_on",
        "P00000001,E-7,E-7-9,,26,2025-01-01,2026-01-01,2024-12-20",
        "subtype",
        "sub-type",
    ),
    (
        "addresses",
        "person_id,area_code,effective_date,reported_date",
        "P00000001,2611,2025-01-01,2025-01-02",
        "area_code",
        "district code",
    ),
    (
        "addresses",
        "person_id,area_code,effective_date,reported_date",
        "P00000001,99110,2025-01-01,2025-01-02",
        "area_code",
        "district code",
    ),
    (
        "addresses",
        "person_id,area_code,effective_date,reported_date",
        "P99999999,26110,2025-01-01,2025-01-02",
        "person_id",
        "no such person",
    ),
    ("movements", "person_id,direction,date,port", "P00000001,sideways,2025-01-01,ICN", "direction", "one of"),
    ("kiip", "person_id,level,enrolled_on,completed_on", "P00000001,7,2025-01-01,", "level", "outside 0–5"),
    ("kiip", "person_id,level,enrolled_on,completed_on", "P00000001,two,2025-01-01,", "level", "not an integer"),
    (
        "employment",
        "person_id,employer_id,employer_region,start_date,end_date",
        "P00000001,EMP1,41,2025-05-01,2025-04-01",
        "end_date",
        "before start_date",
    ),
    (
        "employment",
        "person_id,employer_id,employer_region,start_date,end_date,annual_wage_krw,occupation_code",
        "P00000001,EMP1,41,2025-05-01,,-5,2223",
        "annual_wage_krw",
        "outside 0–100000000000",
    ),
    (
        "employment",
        "person_id,employer_id,employer_region,start_date,end_date,annual_wage_krw,occupation_code",
        "P00000001,EMP1,41,2025-05-01,,32000000,22 23",
        "occupation_code",
        "not a code",
    ),
]


@pytest.mark.parametrize(("kind", "header", "row", "field", "reason"), BAD_ROWS)
def test_each_kind_of_bad_row_is_rejected_with_its_reason(people, tmp_path, kind, header, row, field, reason):
    path = write(tmp_path, f"{kind}.csv", f"{header}\n{row}\n")
    rejects = tmp_path / "rejects.csv"
    summary, problems = service.import_file(engine=people, kind=kind, path=path, rejects_path=rejects, actor=SYSTEM)
    assert summary.rejected_rows == 1 and summary.inserted == 0
    assert summary.outcome == "committed_with_rejects"
    hit = problems.filter(pl.col("field") == field)
    assert hit.height == 1, problems
    assert hit["line"][0] == 2
    assert reason in hit["reason_en"][0]
    assert hit["reason_ko"][0]
    written = pl.read_csv(rejects)
    assert written.columns == ["line", "field", "value", "reason_ko", "reason_en"]
    assert written.height == problems.height


def test_good_rows_are_kept_when_others_are_rejected(people, tmp_path):
    path = write(
        tmp_path,
        "addresses.csv",
        "person_id,area_code,effective_date,reported_date\n"
        "P00000001,26110,2025-01-01,2025-01-05\n"
        "P00000002,bad,2025-01-01,2025-01-05\n"
        "P00000003,41,2025-02-01,2025-03-30\n",
    )
    summary, problems = service.import_file(engine=people, kind="addresses", path=path, actor=SYSTEM)
    assert (summary.inserted, summary.rejected_rows, summary.outcome) == (2, 1, "committed_with_rejects")
    assert problems["line"].to_list() == [3]
    assert count(people, "address_report") == 2


def test_all_or_nothing_commits_nothing_when_a_row_is_rejected(people, tmp_path):
    path = write(
        tmp_path,
        "addresses.csv",
        "person_id,area_code,effective_date,reported_date\nP00000001,26110,2025-01-01,2025-01-05\n"
        "P00000002,bad,2025-01-01,2025-01-05\n",
    )
    summary, _ = service.import_file(engine=people, kind="addresses", path=path, all_or_nothing=True, actor=SYSTEM)
    assert summary.outcome == "rolled_back" and summary.inserted == 0
    assert count(people, "address_report") == 0


def test_reimporting_the_same_file_adds_nothing(people, tmp_path):
    path = write(
        tmp_path,
        "movements.csv",
        "person_id,direction,date,port\nP00000001,entry,2024-03-01,ICN\nP00000001,exit,2025-01-10,PUS\n"
        "P00000002,entry,2024-08-20,ICN\nP00000002,entry,2024-08-20,ICN\n",
    )
    first, _ = service.import_file(engine=people, kind="movements", path=path, actor=SYSTEM)
    assert (first.inserted, first.already_present) == (3, 1)
    second, _ = service.import_file(engine=people, kind="movements", path=path, actor=SYSTEM)
    assert (second.inserted, second.already_present, second.outcome) == (0, 4, "committed")
    assert count(people, "movement") == 3
    again, _ = service.import_file(engine=people, kind="people", path=write(tmp_path, "p.csv", PEOPLE), actor=SYSTEM)
    assert again.inserted == 0 and count(people, "person") == 3


def test_parquet_and_xlsx_feeds_are_read(people, tmp_path):
    frame = pl.DataFrame(
        {
            "person_id": ["P00000001", "P00000002"],
            "level": [2, 9],
            "enrolled_on": [dt.date(2025, 3, 1), dt.date(2025, 3, 2)],
            "completed_on": [None, None],
        }
    )
    parquet = tmp_path / "kiip.parquet"
    frame.write_parquet(parquet)
    summary, problems = service.import_file(engine=people, kind="kiip", path=parquet, actor=SYSTEM)
    assert (summary.inserted, summary.rejected_rows) == (1, 1)
    assert problems["field"].to_list() == ["level"]
    xlsx = tmp_path / "kiip.xlsx"
    frame.with_columns(pl.col("level").cast(pl.String)).write_excel(xlsx)
    summary, _ = service.import_file(engine=people, kind="kiip", path=xlsx, actor=SYSTEM)
    assert (summary.inserted, summary.already_present, summary.rejected_rows) == (0, 1, 1)


def test_wrong_columns_fail_before_anything_is_written(people, tmp_path):
    path = write(tmp_path, "addresses.csv", "person_id,area\nP00000001,26\n")
    with pytest.raises(service.ImportError_, match="missing column"):
        service.import_file(engine=people, kind="addresses", path=path, actor=SYSTEM)


def test_an_import_failing_midway_leaves_the_database_as_it_was(people, tmp_path, monkeypatch):
    path = write(
        tmp_path,
        "addresses.csv",
        "person_id,area_code,effective_date,reported_date\nP00000001,26110,2025-01-01,2025-01-05\n",
    )
    original = service._merge

    def merge_then_fail(conn, spec, staging):
        original(conn, spec, staging)
        raise RuntimeError("connection lost")

    monkeypatch.setattr(service, "_merge", merge_then_fail)
    with pytest.raises(RuntimeError):
        service.import_file(engine=people, kind="addresses", path=path, actor=SYSTEM)
    assert count(people, "address_report") == 0


CHILD = """
import sys, time
from pathlib import Path
from regionvisa.accounts.policy import system_actor
from regionvisa.db import make_engine
from regionvisa.records import service
url, path, marker = sys.argv[1:4]

def progress(phase, done, total):
    if phase == "merge":
        Path(marker).write_text("in transaction")
        time.sleep(60)

actor = system_actor("cli", detail="test")
service.import_file(engine=make_engine(url), kind="addresses", path=Path(path), progress=progress, actor=actor)
"""


def test_an_import_killed_midway_leaves_the_database_unchanged_and_a_rerun_completes(people, tmp_path):
    n = 50_000
    frame = pl.DataFrame(
        {
            "person_id": [f"P0000000{1 + i % 3}" for i in range(n)],
            "area_code": "26110",
            "effective_date": [str(dt.date(1950, 1, 1) + dt.timedelta(days=i // 3)) for i in range(n)],
            "reported_date": "2025-01-01",
        }
    )
    path = tmp_path / "addresses.csv"
    frame.write_csv(path)
    marker = tmp_path / "marker"
    url = people.url.render_as_string(hide_password=False)
    proc = subprocess.Popen([sys.executable, "-c", CHILD, url, str(path), str(marker)])
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert marker.exists(), "the child import never reached its merge step"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert count(people, "address_report") == 0
    summary, _ = service.import_file(engine=people, kind="addresses", path=path, actor=SYSTEM)
    assert summary.outcome == "committed" and summary.inserted == n
    assert count(people, "address_report") == n


def test_rejects_mask_personal_values(people, tmp_path):
    """A reject file names the bad passport by its last two characters only."""
    path = tmp_path / "people.csv"
    path.write_text("person_id,name,nationality,birth_date,sex,passport_no\nP9,X,KOR,2000-01-01,M,ab-12-CD-99\n")
    _, problems = service.import_file(
        engine=people, kind="people", path=path, rejects_path=tmp_path / "rejects.csv", actor=SYSTEM
    )
    hit = problems.filter(pl.col("field") == "passport_no")
    assert hit["value"].to_list() == ["•••99"]
    assert "ab-12-CD" not in (tmp_path / "rejects.csv").read_text()


def test_employment_keeps_the_optional_wage_and_occupation_and_takes_files_without_them(people, tmp_path):
    """DESIGN §4.7: annual_wage_krw and occupation_code are optional columns. Given, they are stored
    (a wage beyond 2^31 too); left out, the file is taken and the values are empty; never dropped."""
    with_them = write(
        tmp_path,
        "employment.csv",
        "person_id,employer_id,employer_region,start_date,end_date,annual_wage_krw,occupation_code\n"
        "P00000001,EMP1,41,2025-05-01,,26400000,2223\n"
        "P00000002,EMP2,47,2025-03-01,,3000000000,\n",
    )
    summary, problems = service.import_file(engine=people, kind="employment", path=with_them, actor=SYSTEM)
    assert summary.inserted == 2 and problems.height == 0
    without = write(
        tmp_path,
        "employment2.csv",
        "person_id,employer_id,employer_region,start_date,end_date\nP00000003,EMP3,26,2025-02-01,\n",
    )
    summary, problems = service.import_file(engine=people, kind="employment", path=without, actor=SYSTEM)
    assert summary.inserted == 1 and problems.height == 0
    with people.connect() as conn:
        rows = conn.execute(
            text("SELECT person_id, annual_wage_krw, occupation_code FROM employment ORDER BY person_id")
        ).all()
    assert [tuple(r) for r in rows] == [
        ("P00000001", 26_400_000, "2223"),
        ("P00000002", 3_000_000_000, None),
        ("P00000003", None, None),
    ]
