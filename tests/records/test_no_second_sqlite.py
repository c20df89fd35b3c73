"""The server's process opens database files through one SQLite library only.

A second SQLite library in the process (the ADBC driver bundles its own) keeps its own table of
POSIX locks: closing its connection drops the locks the first library holds on the same file
(sqlite.org, "How To Corrupt An SQLite Database File", 2.2.1). Another process reading the file
afterwards then believes it is the last user, checkpoints and deletes the live WAL, and every
later commit of the server goes to the deleted file: invisible to other processes, lost at
shutdown. These tests reproduce that sequence and check the library never enters the process.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from tests.actors import SYSTEM

from regionvisa.accounts import service as accounts
from regionvisa.accounts.models import User
from regionvisa.db import session_scope
from regionvisa.records import columnar
from regionvisa.records.counts import residents_by_region, residents_by_region_sql
from regionvisa.records.service import import_file

ON = dt.date(2025, 12, 31)
PEOPLE = 40

FEEDS = {
    "people": [
        "person_id,name,nationality,birth_date,sex,passport_no",
        *(f"Q{i:04d},Person {i},VNM,1990-01-01,F,M{i:07d}" for i in range(PEOPLE)),
    ],
    "statuses": [
        "person_id,visa,subtype,program_id,region,valid_from,valid_to,granted_on",
        *(f"Q{i:04d},E-9,,,{('11', '26', '41')[i % 3]},2024-01-01,2026-12-31,2023-12-20" for i in range(PEOPLE)),
    ],
    "addresses": [
        "person_id,area_code,effective_date,reported_date",
        *(f"Q{i:04d},47110,2024-01-05,2024-01-06" for i in range(0, PEOPLE, 4)),
    ],
    "movements": [
        "person_id,direction,date,port",
        *(f"Q{i:04d},entry,2024-01-02,ICN" for i in range(PEOPLE)),
        *(f"Q{i:04d},exit,2025-07-01,ICN" for i in range(0, PEOPLE, 5)),
    ],
}

# An outside process (a backup, an import, a `sqlite3` shell): Python's sqlite3 reads the file and
# closes it; on close SQLite checkpoints and removes the WAL if it finds no other process using it.
OUTSIDE_READ = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
print(conn.execute("SELECT COUNT(*) FROM person").fetchone()[0])
conn.close()
"""

SEES_USER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
print(conn.execute("SELECT COUNT(*) FROM user_account WHERE username = ?", (sys.argv[2],)).fetchone()[0])
conn.close()
"""

INTEGRITY = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
print(conn.execute("PRAGMA integrity_check").fetchone()[0])
conn.close()
"""


def outside(script: str, *args: str) -> str:
    """Runs `script` in a separate Python process; its last line of output."""
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture
def records(sqlite_engine, tmp_path):
    for kind, lines in FEEDS.items():
        path = tmp_path / f"{kind}.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        summary, _ = import_file(engine=sqlite_engine, kind=kind, path=path, actor=SYSTEM)
        assert summary.outcome == "committed", summary
    return sqlite_engine


def test_a_commit_after_a_columnar_read_and_an_outside_reader_is_kept(records):
    engine = records
    path = columnar.sqlite_file(engine=engine)
    assert path is not None
    with engine.connect() as conn:  # the live process holds its pooled connection open throughout
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    # the evaluation's count of residents: the columnar read, whose connections are closed after it
    assert residents_by_region(engine=engine, on=ON) == residents_by_region_sql(engine=engine, on=ON)
    assert outside(OUTSIDE_READ, path) == str(PEOPLE)
    with session_scope(engine=engine) as session:
        accounts.create_user(
            session=session,
            actor=SYSTEM,
            username="after.columnar",
            display_name="after the columnar read",
            role="auditor",
            password="correct-horse-battery",
        )
    script = SEES_USER.replace("user_account", User.__tablename__)
    assert outside(script, path, "after.columnar") == "1", "a committed row is invisible to other processes"
    engine.dispose()  # the server shuts down: the row must still be there
    assert outside(script, path, "after.columnar") == "1", "a committed row was lost at shutdown"
    assert outside(INTEGRITY, path) == "ok"


LOADED = """
import datetime as dt, sys
from regionvisa.db import make_engine
from regionvisa.records.counts import residents_by_region
engine = make_engine(sys.argv[1])
residents_by_region(engine=engine, on=dt.date(2025, 12, 31))
maps = open("/proc/self/maps").read()
print(int("adbc_driver_sqlite" in maps))
"""


def test_the_adbc_sqlite_library_never_loads_into_the_reading_process(records):
    """In a fresh process, so that nothing another test loaded is seen: after a columnar read
    the process has Python's SQLite only."""
    assert Path("/proc/self/maps").exists(), "the check reads /proc/self/maps: the project runs on Linux"
    url = records.url.render_as_string(hide_password=False)
    records.dispose()
    assert outside(LOADED, url) == "0"
