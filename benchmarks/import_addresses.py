"""Import of 1,000,000 address reports from CSV into SQLite (target ≤ 30 s).

Baseline: the same rows inserted one ORM object at a time (measured on a sample, scaled), the
way a naive importer would do it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from _common import emit, peak_rss_mb, result
from regionvisa import migrate
from regionvisa.accounts.policy import system_actor
from regionvisa.db import make_engine, session_scope
from regionvisa.records import pii
from regionvisa.records.bulk import bulk_insert
from regionvisa.records.models import AddressReport
from regionvisa.records.service import import_file
from regionvisa.regions.service import load_regions, region_codes

BENCH = system_actor("cli", detail="bench")  # the actor of every change a benchmark makes


def make_people(n: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "person_id": [f"P{i:08d}" for i in range(n)],
            "name": "Synthetic Person",
            "nationality": "VNM",
            "birth_date": dt.date(1995, 1, 1),
            "sex": "F",
            "passport_no": [f"M{i:07d}" for i in range(n)],
        }
    )


def make_addresses(rows: int, people: int, seed: int = 7) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    per_person = rows // people
    person = np.repeat(np.arange(people), per_person)
    step = np.tile(np.arange(per_person), people)
    effective = np.datetime64("2019-01-01") + (step * 200 + rng.integers(0, 150, people * per_person)).astype(
        "timedelta64[D]"
    )
    delay = np.where(rng.random(people * per_person) < 0.08, rng.integers(15, 90, people * per_person), 3)
    codes = np.array(region_codes())
    region = codes[rng.integers(0, len(codes), people * per_person)]
    district = rng.integers(100, 999, people * per_person).astype(str)
    return pl.DataFrame(
        {
            "person_id": pl.Series([f"P{i:08d}" for i in range(people)]).gather(person),
            "area_code": pl.Series(np.char.add(region, district)),
            "effective_date": pl.Series(effective).cast(pl.Date),
            "reported_date": pl.Series(effective + delay.astype("timedelta64[D]")).cast(pl.Date),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 rows")
    args = parser.parse_args()
    rows = 100_000 if args.quick else args.rows
    people = rows // 5
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.sqlite3")
        migrate.upgrade(engine=engine)
        with session_scope(engine=engine) as session:
            load_regions(session=session)
        with engine.begin() as conn:
            bulk_insert(conn=conn, table="person", df=pii.protect_frame(make_people(people)))
        csv = Path(tmp) / "addresses.csv"
        make_addresses(rows, people).write_csv(csv)
        started = time.perf_counter()
        summary, problems = import_file(engine=engine, kind="addresses", path=csv, actor=BENCH)
        seconds = time.perf_counter() - started
        assert summary.inserted == rows, (summary, problems.head())
        again = time.perf_counter()
        summary2, _ = import_file(engine=engine, kind="addresses", path=csv, actor=BENCH)
        reimport = time.perf_counter() - again
        assert summary2.inserted == 0

        sample = make_addresses(10_000, 2_000, seed=9).with_columns(pl.col("effective_date") + pl.duration(days=30_000))
        started = time.perf_counter()
        with session_scope(engine=engine) as session:
            for row in sample.iter_rows(named=True):  # the naive baseline, on purpose
                session.add(AddressReport(**row))
        naive = (time.perf_counter() - started) * rows / sample.height
    print(
        f"rows {rows:,}; first import {seconds:.2f} s ({rows / seconds:,.0f} rows/s); re-import {reimport:.2f} s;"
        f" peak RSS {peak_rss_mb():,.0f} MB"
    )
    emit(
        [
            result(f"import {rows:,} address reports (CSV → SQLite)", seconds, "s", "≤ 30 s", naive),
            result(f"re-import of the same {rows:,} rows (adds nothing)", reimport, "s", "", naive),
            result("import peak memory", peak_rss_mb(), "MB", ""),
        ]
    )


if __name__ == "__main__":
    main()
