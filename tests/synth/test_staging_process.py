"""The SQLite load stages tables through the ADBC driver in child processes, never in the loading
process: the driver bundles a second SQLite library, and the loading process attaches the staged
files (and holds the live database) through Python's sqlite3. Two libraries on one file in one
process drop each other's POSIX locks (see tests/records/test_no_second_sqlite.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from regionvisa.synth import service
from regionvisa.synth.generate import TABLES

LOADED = """
import sys
from regionvisa.db import make_engine
from regionvisa.synth.service import write_dataset
counts = write_dataset(engine=make_engine(sys.argv[1]), residents=2_000, seed=5, progress=False, replace=True)
maps = open("/proc/self/maps").read()
print(counts["person"], int("adbc_driver_sqlite" in maps))
"""


def test_the_loading_process_never_loads_the_adbc_sqlite_library(sqlite_engine):
    assert Path("/proc/self/maps").exists(), "the check reads /proc/self/maps: the project runs on Linux"
    url = sqlite_engine.url.render_as_string(hide_password=False)
    sqlite_engine.dispose()
    done = subprocess.run([sys.executable, "-c", LOADED, url], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    people, loaded = done.stdout.split()
    assert int(people) > 2_000
    assert loaded == "0"
    with sqlite_engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM person").scalar_one() == int(people)
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"


def test_a_staging_child_that_fails_stops_the_load_with_its_reason(sqlite_engine, monkeypatch, tmp_path):
    """The child's own error (here SQLite refusing an index statement) becomes the load's message;
    the database is untouched and the staging files are gone."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    original = service._schema_sql

    def broken_index(raw, table):
        create, indexes = original(raw, table)
        return create, [*indexes, "CREATE INDEX broken ON no_such_table (x)"] if table == "movement" else indexes

    monkeypatch.setattr(service, "_schema_sql", broken_index)
    with pytest.raises(service.SynthError, match=r"staging movement failed: .*no such table: main\.no_such_table"):
        service.write_dataset(engine=sqlite_engine, residents=2_000, seed=5, progress=False)
    with sqlite_engine.connect() as conn:
        assert {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in TABLES} == dict.fromkeys(
            TABLES, 0
        )
    assert not list(tmp_path.glob("regionvisa-synth-*")), "staging files left behind"
