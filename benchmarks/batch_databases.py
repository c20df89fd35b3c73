"""The national batch paths on SQLite and PostgreSQL side by side, in one run: the compliance run and
`evaluate --year 2025` from the database at 2.7 million residents. Target: PostgreSQL no slower
than SQLite on either, and at most 12 s (compliance) and 15 s (evaluation).

Both databases receive the same synthetic records (`regionvisa.synth`, one seed), the quota
ledgers and the committee's scores (`evaluation_database.phase_load`). Then, `--repeats` times,
each path runs once on each database, alternating, every run in a fresh child process
(`compliance.py --phase run`, `evaluation_database.py --phase run`), so both see the same
machine in the same minutes; the best run of each is reported, with the PostgreSQL/SQLite ratio
of the times (≤ 1 means PostgreSQL is at least as fast).

PostgreSQL: `--database-url`, else a throwaway cluster started here (`load.postgres_cluster`).
`--sqlite FILE` keeps the SQLite file; `--reuse` runs on databases this script loaded before.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import emit, result

HERE = Path(__file__).parent

DATABASES = ("SQLite", "PostgreSQL")
PATHS = {  # name: (script, target seconds)
    "compliance run": ("compliance.py", 12.0),
    "evaluate --year 2025 from the database": ("evaluation_database.py", 15.0),
}


def child(script: str, *args: str) -> dict:
    """One phase of a benchmark script in a fresh interpreter; the JSON it prints last."""
    proc = subprocess.run([sys.executable, str(HERE / script), *args], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"{script} {' '.join(args[:2])} failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def person_count(url: str) -> int:
    from sqlalchemy import inspect

    from regionvisa.db import make_engine

    engine = make_engine(url)
    try:
        if "person" not in inspect(engine).get_table_names():
            return 0
        with engine.connect() as conn:
            return int(conn.exec_driver_sql("SELECT COUNT(*) FROM person").scalar_one())
    finally:
        engine.dispose()


def analyze(url: str) -> None:
    """Fresh planner statistics after the bulk load, as autovacuum would gather soon after."""
    if not url.startswith("postgresql"):
        return
    from regionvisa.db import make_engine

    engine = make_engine(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=2_700_000)
    parser.add_argument("--quick", action="store_true", help="100,000 residents")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--database-url", help="PostgreSQL to use (default: a throwaway cluster)")
    parser.add_argument("--sqlite", type=Path, help="SQLite file to create and keep (or reuse with --reuse)")
    parser.add_argument("--reuse", action="store_true", help="run on databases this script loaded before")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    residents = 100_000 if args.quick else args.residents

    from load import postgres_cluster

    with (
        tempfile.TemporaryDirectory() as tmp,
        nullcontext(args.database_url) if args.database_url else postgres_cluster() as pg_url,
    ):
        if pg_url is None:
            raise SystemExit("PostgreSQL is not installed (apt-get install postgresql) and no --database-url was given")
        urls = {"SQLite": f"sqlite:///{args.sqlite or Path(tmp) / 'batch.sqlite3'}", "PostgreSQL": pg_url}
        for kind, url in urls.items():
            present = person_count(url)
            if args.reuse and present:
                print(f"{kind}: reusing {present:,} people", flush=True)
                continue
            print(f"{kind}: loading {residents:,} synthetic residents, ledgers and committee scores …", flush=True)
            started = time.perf_counter()
            loaded = child("evaluation_database.py", "--phase", "load", "--url", url,
                           "--residents", str(residents), "--seed", str(args.seed))  # fmt: skip
            analyze(url)
            print(f"  loaded in {time.perf_counter() - started:.0f} s: {loaded['counts']}", flush=True)
        runs: dict[tuple[str, str], list[dict]] = {}
        for i in range(max(args.repeats, 1)):
            for name, (script, _) in PATHS.items():
                for kind, url in urls.items():
                    extra = ["--quick"] if args.quick else ["--residents", str(residents)]
                    load = os.getloadavg()[0]
                    out = child(script, "--phase", "run", "--url", url, *extra)
                    runs.setdefault((name, kind), []).append(out)
                    detail = (
                        f"read {out['read']:.2f} s, engine {out['engine']:.2f} s, peak {out['peak_mb']:,.0f} MB"
                        if "read" in out
                        else f"indicators {out['indicators']:.2f} s, evaluation {out['evaluation']:.2f} s"
                    )
                    print(
                        f"  run {i + 1}: {name} on {kind}: {out['total']:.2f} s ({detail}); "
                        f"load average {load:.1f} on {os.cpu_count()} CPUs",
                        flush=True,
                    )
    rows = []
    size = f"{residents:,} residents"
    for name, (_, target) in PATHS.items():
        best = {kind: min(r["total"] for r in runs[(name, kind)]) for kind in DATABASES}
        rows.append(result(f"{name}, {size}: SQLite", best["SQLite"], "s", "the reference"))
        rows.append(
            result(
                f"{name}, {size}: PostgreSQL",
                best["PostgreSQL"],
                "s",
                f"≤ {target:g} s and ≤ SQLite",
                best["SQLite"],  # ratio: SQLite's time over PostgreSQL's (≥ 1: PostgreSQL as fast or faster)
            )
        )
        rows.append(
            result(f"{name}, {size}: PostgreSQL / SQLite time", best["PostgreSQL"] / best["SQLite"], "×", "≤ 1")
        )
    emit(rows)


if __name__ == "__main__":
    main()
