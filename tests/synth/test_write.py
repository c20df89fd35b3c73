"""Writing the synthetic dataset: round trip, refusal of a non-empty store, replace, and
all-or-nothing loads (a failure or a killed process mid-load leaves the database as it was).

Runs on whichever database the suite is pointed at (SQLite or PostgreSQL).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import polars as pl
import pytest
from sqlalchemy import inspect, text

from regionvisa.records.bulk import read_table
from regionvisa.records.frames import residents_on
from regionvisa.synth import service
from regionvisa.synth.generate import TABLES, dataset_checksums, generate_dataset

N = 10_000
SEED = 7


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in TABLES}


def comparable(frames: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Generated frames in the form they can be compared with the database: where passport
    numbers are stored encrypted, by their (deterministic) lookup hash instead."""
    out = dict(frames)
    stored = service.stored_form("person", frames["person"].head(1))
    if "passport_hash" in stored.columns:
        from regionvisa.records import pii

        hashes = pl.Series("passport_hash", pii.lookup_hash(frames["person"]["passport_no"].to_list()))
        out["person"] = frames["person"].with_columns(hashes).drop("passport_no")
    return out


def read_back(engine, like: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Every records table as written, with the columns and types of `like`."""
    out = {}
    with engine.connect() as conn:
        for name in TABLES:
            cols = ", ".join(f'"{c}"' for c in like[name].columns)
            frame = read_table(conn=conn, sql=f"SELECT {cols} FROM {name}", schema=dict(like[name].schema))
            out[name] = frame.select([pl.col(c).cast(t) for c, t in like[name].schema.items()])
    return out


def same_data(engine, frames) -> bool:
    expected = comparable(frames)
    return dataset_checksums(read_back(engine, expected)) == dataset_checksums(expected)


def index_names(engine) -> set[str]:
    found = set()
    for name in TABLES:
        found |= {ix["name"] for ix in inspect(engine).get_indexes(name)}
    return found


@pytest.fixture(scope="module")
def frames() -> dict[str, pl.DataFrame]:
    return generate_dataset(N, SEED)


@pytest.fixture
def written(engine, frames):
    """A database holding the dataset for (N, SEED)."""
    got = service.write_dataset(engine=engine, residents=N, seed=SEED, progress=False)
    assert got == {t: frames[t].height for t in TABLES}
    return engine


def test_written_data_round_trips(written, frames, synth_helpers):
    assert counts(written) == {t: frames[t].height for t in TABLES}
    assert same_data(written, frames)
    stored = service.stored_form("person", frames["person"].head(50))
    if "passport_enc" in stored.columns:  # encrypted at rest, and it decrypts to the generated number
        from regionvisa.records import pii

        ids = "', '".join(stored["person_id"])
        with written.connect() as conn:
            sql = f"SELECT person_id, passport_enc FROM person WHERE person_id IN ('{ids}')"
            rows = dict(conn.exec_driver_sql(sql).all())
        assert not set(rows.values()) & set(frames["person"]["passport_no"])
        assert pii.decrypt(rows[p] for p in stored["person_id"]) == frames["person"]["passport_no"].head(50).to_list()
    # the statistics read the same residents from the database as from the frames
    with written.connect() as conn:
        from_db = residents_on(conn=conn, on=service.profiles.AS_OF)
    expected = synth_helpers.residents_of(frames, service.profiles.AS_OF)
    assert from_db.height == N
    assert from_db.sort("person_id").equals(expected.sort("person_id"))


def test_a_non_empty_records_store_is_refused_without_replace(written, frames):
    before = counts(written)
    with pytest.raises(service.SynthError, match="--replace"):
        service.write_dataset(engine=written, residents=5_000, seed=SEED + 1, progress=False)
    assert counts(written) == before
    assert same_data(written, frames)


def test_replace_swaps_the_whole_dataset(written, frames):
    indexes = index_names(written)
    got = service.write_dataset(engine=written, residents=5_000, seed=SEED + 1, progress=False, replace=True)
    smaller = generate_dataset(5_000, SEED + 1)
    assert counts(written) == got == {t: smaller[t].height for t in TABLES}
    assert same_data(written, smaller)
    assert index_names(written) == indexes, "indexes dropped for the load were not all recreated"


def test_a_failure_mid_load_leaves_the_database_unchanged(written, frames, monkeypatch):
    """People, statuses, addresses and movements of the new dataset have gone in when the load
    breaks: nothing of it remains, the old dataset is intact and every index is there."""
    indexes = index_names(written)
    original = service._write_table

    def write_then_break(conn, name, *args, **kwargs):
        original(conn, name, *args, **kwargs)
        if name == "movement":
            raise OSError("disk full")

    monkeypatch.setattr(service, "_write_table", write_then_break)
    with pytest.raises(OSError, match="disk full"):
        service.write_dataset(engine=written, residents=5_000, seed=SEED + 1, progress=False, replace=True)
    assert counts(written) == {t: frames[t].height for t in TABLES}
    assert same_data(written, frames)
    assert index_names(written) == indexes


def test_a_failed_first_load_leaves_the_store_empty_and_a_rerun_succeeds(engine, monkeypatch):
    original = service._write_table

    def break_on_employment(conn, name, *args, **kwargs):
        if name == "employment":
            raise RuntimeError("connection lost")
        original(conn, name, *args, **kwargs)

    monkeypatch.setattr(service, "_write_table", break_on_employment)
    with pytest.raises(RuntimeError):
        service.write_dataset(engine=engine, residents=3_000, seed=SEED, progress=False)
    assert counts(engine) == dict.fromkeys(TABLES, 0)
    monkeypatch.undo()
    got = service.write_dataset(engine=engine, residents=3_000, seed=SEED, progress=False)
    assert counts(engine) == got and got["person"] > 3_000


def test_sqlite_staging_failure_leaves_nothing_behind(sqlite_engine, monkeypatch, tmp_path):
    """A table that cannot be staged stops the load before the database is touched; the staging
    files go and the connection keeps foreign keys on and nothing attached."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    original = service._stage

    def stage_or_break(path, table, *args):
        if table == "kiip_record":
            raise OSError("no space left on device")
        return original(path, table, *args)

    monkeypatch.setattr(service, "_stage", stage_or_break)
    with pytest.raises(OSError, match="no space"):
        service.write_dataset(engine=sqlite_engine, residents=3_000, seed=SEED, progress=False)
    assert counts(sqlite_engine) == dict.fromkeys(TABLES, 0)
    assert not list(tmp_path.glob("regionvisa-synth-*")), "staging files left behind"
    monkeypatch.setattr(service, "_stage", original)
    service.write_dataset(engine=sqlite_engine, residents=3_000, seed=SEED, progress=False)
    assert not list(tmp_path.glob("regionvisa-synth-*"))
    with sqlite_engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert [row[1] for row in raw.execute("PRAGMA database_list")] == ["main"]
        assert raw.execute("PRAGMA foreign_key_check").fetchall() == []


CHILD = """
import sys, time
from pathlib import Path
from regionvisa.db import make_engine
from regionvisa.synth.service import write_dataset
url, marker = sys.argv[1:3]

class Timings(dict):
    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        if key == "write address_report":  # people, statuses and addresses are in, uncommitted
            Path(marker).write_text("mid-load")
            time.sleep(120)

write_dataset(engine=make_engine(url), residents=3_000, seed=11, progress=False, replace=True, timings=Timings())
"""


def test_a_load_killed_midway_leaves_the_database_unchanged(written, frames, tmp_path, monkeypatch):
    indexes = index_names(written)
    marker = tmp_path / "marker"
    staging = tmp_path / "tmp"
    staging.mkdir()
    url = written.url.render_as_string(hide_password=False)
    env = {**os.environ, "TMPDIR": str(staging)}
    proc = subprocess.Popen([sys.executable, "-c", CHILD, url, str(marker)], env=env)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert marker.exists(), "the child load never reached the middle of its transaction"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    written.dispose()
    assert counts(written) == {t: frames[t].height for t in TABLES}
    assert same_data(written, frames)
    assert index_names(written) == indexes
    # the next load clears what the killed one left in the temporary folder
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(staging))
    service.write_dataset(engine=written, residents=3_000, seed=11, progress=False, replace=True)
    assert counts(written)["person"] > 3_000
    assert not list(staging.iterdir())


def test_the_cli_writes_refuses_and_replaces(cli, engine):
    result = cli("synth", "--residents", "2000", "--seed", "3")
    assert result.exit_code == 0, result.output
    first = counts(engine)
    assert first["person"] > 2_000
    assert f"{first['status_grant']:,}" in result.output
    result = cli("synth", "--residents", "2000", "--seed", "4")
    assert result.exit_code != 0
    assert result.exit_code == 1 and "--replace" in result.output  # the message, not a traceback
    assert "Traceback" not in result.output
    assert counts(engine) == first
    result = cli("synth", "--residents", "2500", "--seed", "4", "--replace")
    assert result.exit_code == 0, result.output
    assert counts(engine)["person"] > first["person"]
