"""Synthetic national dataset at national scale: 2,700,000 residents into a fresh SQLite file
(targets ≤ 90 s wall and ≤ 3 GB peak memory).

What is timed is `regionvisa synth` minus the CLI: `write_dataset`, i.e. vectorised generation
and the SQLite load: each table staged, with its indexes, into its own file by two threads while
the next tables are generated (each thread streams its table to a child process that writes the
file through the ADBC driver), then copied into the database in one transaction. Wall seconds
are split into "generate" (until the last table is generated; staging runs alongside) and
"write" (the rest: staging still running, the copy and the commit). CPU seconds are reported
too, because wall time on a shared machine says as much about the other processes as about
this one; they include the staging child processes. Peak memory is this process and its child
processes together, sampled every 50 ms: this process's resident memory plus the memory private
to each child (what the children share is this process's pages or shared libraries).

Baseline: the same tables written the naive way, one ORM object per row added to a session and
committed once, measured on a sample of the generated rows (every table, 5,000 residents) in a
second fresh SQLite file and scaled by row count to the full dataset; to that the measured
generation time is added, so the ratio compares whole runs that differ only in how rows are
written. (A per-person Python generator would be slower still; it is not the baseline claimed.)
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import emit, peak_rss_mb, result
from regionvisa import migrate
from regionvisa.db import make_engine, session_scope
from regionvisa.records import models
from regionvisa.regions.service import load_regions
from regionvisa.synth.generate import TABLES, generate_dataset
from regionvisa.synth.service import stored_form, write_dataset

ORM = {
    "person": models.Person,
    "status_grant": models.StatusGrant,
    "address_report": models.AddressReport,
    "movement": models.Movement,
    "kiip_record": models.KiipRecord,
    "employment": models.Employment,
}
FULL = 2_700_000
QUICK = 100_000
SAMPLE = 5_000


def fresh_database(path: Path):
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine=engine)
    with session_scope(engine=engine) as session:
        load_regions(session=session)
    return engine


def cpu_seconds() -> float:
    """User + system seconds of this process and its finished child processes."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _kib(text: str, *fields: str) -> int:
    return sum(int(line.split()[1]) for line in text.splitlines() if line.split(":")[0] in fields)


def tree_memory_mb(pid: int) -> float:
    """Resident memory of process `pid` plus the memory private to each of its descendants (Linux
    /proc): pages a child shares are either the parent's, counted already, or shared libraries'."""
    total, pending = 0, [(pid, True)]
    while pending:
        number, root = pending.pop()
        proc = Path("/proc") / str(number)
        try:
            if root:
                total += _kib((proc / "status").read_text(), "VmRSS")
            else:
                total += _kib((proc / "smaps_rollup").read_text(), "Private_Clean", "Private_Dirty")
            for task in (proc / "task").iterdir():
                pending.extend((int(child), False) for child in (task / "children").read_text().split())
        except OSError:  # the process ended meanwhile
            continue
    return total / 1024


class TreePeak(threading.Thread):
    """The highest `tree_memory_mb` of this process seen while running."""

    def __init__(self, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.interval, self.peak, self.done = interval, 0.0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.interval):
            self.peak = max(self.peak, tree_memory_mb(os.getpid()))

    def __enter__(self) -> TreePeak:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.done.set()
        self.join()


def naive_rows_per_second(folder: Path, seed: int) -> tuple[float, int]:
    """Rows per second writing a small dataset one ORM object at a time (the baseline)."""
    frames = generate_dataset(SAMPLE, seed)
    engine = fresh_database(folder / "naive.sqlite3")
    rows = sum(frames[name].height for name in TABLES)
    started = time.perf_counter()
    with session_scope(engine=engine) as session:
        for name in TABLES:
            model = ORM[name]
            for row in stored_form(name, frames[name]).iter_rows(named=True):  # the naive baseline, on purpose
                session.add(model(**row))
            session.flush()
    seconds = time.perf_counter() - started
    engine.dispose()
    return rows / seconds, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--residents", type=int, default=FULL)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK:,} residents")
    args = parser.parse_args()
    residents = QUICK if args.quick else args.residents
    with tempfile.TemporaryDirectory() as tmp:
        engine = fresh_database(Path(tmp) / "synth.sqlite3")
        timings: dict[str, float] = {}
        cpu_before = cpu_seconds()
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        with TreePeak() as tree:
            counts = write_dataset(engine=engine, residents=residents, seed=args.seed, progress=False, timings=timings)
        wall = time.perf_counter() - started
        cpu = cpu_seconds() - cpu_before
        load_after = os.getloadavg()[0]
        largest = peak_rss_mb()  # before the baseline runs, so it is the synth run's own peak
        peak = max(tree.peak, largest)
        with engine.connect() as conn:
            people = conn.exec_driver_sql("SELECT COUNT(*) FROM person").scalar_one()
        assert people == counts["person"], (people, counts)
        engine.dispose()
        size_mb = (Path(tmp) / "synth.sqlite3").stat().st_size / 2**20
        naive_rate, sample_rows = naive_rows_per_second(Path(tmp), args.seed)
    rows = sum(counts.values())
    generate = timings["generate"]
    write = wall - generate
    naive_write = rows / naive_rate
    steps = ", ".join(f"{k} {v:.1f}" for k, v in timings.items() if k != "generate" and not k.startswith("cpu"))
    cpus = ", ".join(f"{k.removeprefix('cpu ')} {v:.1f}" for k, v in timings.items() if k.startswith("cpu"))
    print(f"residents {residents:,}; rows {rows:,} ({', '.join(f'{k} {v:,}' for k, v in counts.items())})")
    print(f"wall {wall:.1f} s = generate {generate:.1f} s + write {write:.1f} s ({steps})")
    print(f"CPU {cpu:.1f} s in all threads; per thread: {cpus}")
    print(f"peak memory {peak:,.0f} MB with the staging processes (largest process {largest:,.0f} MB); "
          f"database file {size_mb:,.0f} MB")  # fmt: skip
    print(f"machine: {os.cpu_count()} CPUs, load average {load_before:.1f} before, {load_after:.1f} after")
    print(f"baseline: ORM one object per row, {naive_rate:,.0f} rows/s on {sample_rows:,} rows -> {naive_write:,.0f} s")
    label = f"{residents:,} residents"
    emit(
        [
            result(f"synth {label} → SQLite, wall (generate + write)", wall, "s", "≤ 90 s", generate + naive_write),
            result(f"synth {label}: generate (vectorised)", generate, "s", ""),
            result(f"synth {label}: write ({rows:,} rows, bulk)", write, "s", "", naive_write),
            result(f"synth {label}: CPU time (user + system, with the staging processes)", cpu, "s", ""),
            result(f"synth {label}: peak memory (with the staging processes)", peak, "MB", "≤ 3072 MB"),
        ]
    )


if __name__ == "__main__":
    main()
