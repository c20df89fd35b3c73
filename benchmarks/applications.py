"""Applications on SQLite: submit and screen 10,000 applications through the service layer, and
rebuild a recommendation queue of 5,000 applications.

- Intake: `applications.bulk_intake.import_applications` with 10,000 rows (parsing, duplicate checks,
  vectorised screening, stored screenings and transitions, one transaction). Throughput in
  applications per second. Baseline: one `service.submit` per applicant (scalar screening with the
  full explanation), measured on `--single` applicants and expressed as the same throughput.
- Queue: `applications.views.queue` over 5,000 screened applications (one SQL read, one Polars
  sort). Baseline: loading the ORM objects and sorting them in Python.

Target: intake ≥ 1,000 applications/s; queue ≤ 0.5 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import best_of, emit, peak_rss_mb, result
from regionvisa.accounts.policy import system_actor

BENCH = system_actor("cli", detail="bench")  # the actor of every change a benchmark makes

ON = dt.date(2025, 6, 2)


def frame(n: int, offset: int = 0):
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(offset + 1)
    return pl.DataFrame(
        {
            "passport_no": [f"B{offset + i:09d}" for i in range(n)],
            "name": [f"Bench {i}" for i in range(n)],
            "nationality": rng.choice(["VNM", "CHN", "UZB", "MNG", "NPL"], n),
            "birth_date": "2001-02-03",
            "passport_valid_until": "2030-01-01",
            "entry_ban": "false",
            "criminal_record": "false",
            "prior_illegal_stay": "false",
            "course_type": "degree",
            "bank_balance_krw": rng.integers(5_000_000, 20_000_000, n).astype(str),
            "university_region": "26",
            "topik_level": rng.integers(2, 7, n).astype(str),
            "kiip_level": rng.integers(0, 6, n).astype(str),
            "education_level": rng.choice(["high_school", "bachelor"], n),
        }
    )


def setup(path: Path, program_id: str):
    from regionvisa import migrate
    from regionvisa.config import get_settings
    from regionvisa.db import make_engine, session_scope
    from regionvisa.policyfiles import read_yaml
    from regionvisa.programs import service as programs
    from regionvisa.programs.files import parse_design
    from regionvisa.regions.service import load_regions

    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine=engine)
    design = read_yaml(get_settings().policy_dir / "programs" / "26" / "busan-d2.yaml")
    design["id"] = program_id
    with session_scope(engine=engine) as session:
        load_regions(session=session)
        programs.store(session=session, design=parse_design(design), actor=BENCH, reason="bench", status="published")
    return engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=10_000)
    parser.add_argument("--queue", type=int, default=5_000)
    parser.add_argument("--single", type=int, default=300, help="applicants for the one-by-one baseline")
    args = parser.parse_args()

    from sqlalchemy import select

    from regionvisa.applications import bulk_intake, intake, views
    from regionvisa.applications.models import Application
    from regionvisa.db import session_scope

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        engine = setup(Path(tmp) / "bench.sqlite3", "bench-d2")
        data = frame(args.applications)
        started = time.perf_counter()
        with session_scope(engine=engine) as session:
            summary = bulk_intake.import_applications(
                session=session,
                program_id="bench-d2",
                source=data,
                actor=BENCH,
                on=ON,
                source_name="bench",
            )
        bulk_seconds = time.perf_counter() - started
        assert summary.inserted == args.applications, summary.summary()
        single = frame(args.single, offset=10_000_000).to_dicts()
        started = time.perf_counter()
        for row in single:  # the baseline: the one-at-a-time path
            name, passport = row.pop("name"), row.pop("passport_no")
            with session_scope(engine=engine) as session:
                intake.submit(
                    session=session,
                    program_id="bench-d2",
                    applicant=row,
                    name=name,
                    passport_no=passport,
                    actor=BENCH,
                    on=ON,
                )
        single_rate = args.single / (time.perf_counter() - started)
        rate = args.applications / bulk_seconds
        print(f"intake: {args.applications:,} applications in {bulk_seconds:.2f} s; outcomes {summary.outcomes}")
        results.append(
            result(
                f"submit+screen {args.applications:,} applications (SQLite, bulk service)",
                rate,
                "apps/s",
                ">= 1000",
                baseline_value=single_rate,
                higher_is_better=True,
            )
        )
        results.append(result("submit+screen one by one (intake.submit)", single_rate, "apps/s"))

        engine.dispose()
        engine = setup(Path(tmp) / "queue.sqlite3", "queue-d2")
        with session_scope(engine=engine) as session:
            bulk_intake.import_applications(
                session=session,
                program_id="queue-d2",
                source=frame(args.queue),
                actor=BENCH,
                on=ON,
                source_name="q",
            )

        def rebuild():
            with session_scope(engine=engine) as session:
                return views.queue(session=session, program_id="queue-d2")

        def naive():
            with session_scope(engine=engine) as session:
                query = select(Application).where(
                    Application.program_id == "queue-d2", Application.status == "screened"
                )
                rows = list(session.scalars(query))
                eligible = [a for a in rows if a.outcome == "eligible"]
                return sorted(eligible, key=lambda a: (-(a.points or 0), a.submitted_at, a.id))

        queue_seconds, q = best_of(rebuild, 5)
        naive_seconds, ordered = best_of(naive, 3)
        ranked = q.frame.filter(q.frame["rank"].is_not_null())["id"].to_list()
        assert ranked == [a.id for a in ordered], "the two orders differ"
        print(f"queue: {q.frame.height:,} screened, {len(ranked):,} eligible ranked")
        results.append(
            result(
                f"rebuild recommendation queue of {args.queue:,} applications",
                queue_seconds,
                "s",
                "<= 0.5",
                baseline_value=naive_seconds,
            )
        )
        results.append(result("peak memory", peak_rss_mb(), "MB"))
        engine.dispose()
    emit(results)


if __name__ == "__main__":
    main()
