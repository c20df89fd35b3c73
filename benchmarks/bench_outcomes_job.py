"""The pilot outcome report as a job (issue 19: ≤ 30 s at national scale): an `outcomes_report`
job started as the command line's system actor and run to the end by a worker, which stores the
run (parameters, result JSON, SHA-256) and renders the PDF (`--format xlsx` for the workbook).

Data: `regionvisa.synth` (`write_dataset`) into a SQLite file (`--keep FILE`; `--reuse` runs on the
records already there); `--database-url` for PostgreSQL (the job then runs through the queue).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import emit, peak_rss_mb, result
from mobility import _load


def _run_job(engine, params: dict) -> tuple[float, dict]:
    from regionvisa.accounts.policy import system_actor
    from regionvisa.db import session_scope
    from regionvisa.jobs import queue, service, worker

    actor = system_actor("cli", detail="bench")
    started = time.perf_counter()
    with session_scope(engine=engine) as session:
        job_id = service.start(session=session, actor=actor, kind="outcomes_report", params=params).id
    if engine.dialect.name == "postgresql":
        queue.enqueue(engine=engine, job_id=job_id)
        queue.drain(engine=engine)
    else:
        worker.drain_local(engine=engine)
    seconds = time.perf_counter() - started
    with session_scope(engine=engine) as session:
        job = service.read_job(session=session, job_id=job_id, actor=actor)
        return seconds, {"state": job.state, "result": job.result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=2_700_000)
    parser.add_argument("--quick", action="store_true", help="100,000 residents")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--format", choices=("pdf", "xlsx"), default="pdf")
    parser.add_argument("--database-url", help="run on this database instead of a SQLite file")
    parser.add_argument("--keep", type=Path, help="SQLite file to create and keep (or reuse with --reuse)")
    parser.add_argument("--reuse", action="store_true", help="run on the records already in the database")
    args = parser.parse_args()
    residents = 100_000 if args.quick else args.residents

    from regionvisa.db import make_engine
    from regionvisa.synth import profiles

    folder = tempfile.TemporaryDirectory(prefix="rv-outcomes-job-")
    url = args.database_url or f"sqlite:///{args.keep or Path(folder.name) / 'national.sqlite3'}"
    if not args.reuse:
        _load(url, residents, args.seed)
    engine = make_engine(url)
    on = profiles.AS_OF
    since = on - dt.timedelta(days=3 * 365)
    params = {"on": on.isoformat(), "since": since.isoformat(), "region": None, "format": args.format, "lang": "ko"}
    seconds, job = _run_job(engine, params)
    if job["state"] != "succeeded":
        raise SystemExit(f"the job ended {job['state']}: {job['result']}")
    size = f"{residents:,}" if not args.reuse else "the stored"
    kind = "PostgreSQL" if engine.dialect.name == "postgresql" else "SQLite"
    print(f"{size} residents ({kind}): {job['result']['summary']}")
    emit(
        [
            result(f"outcome report job ({args.format}), {size} residents, {kind}", seconds, "s", "≤ 30"),
            result("peak memory of the outcome report job benchmark", peak_rss_mb(), "MB", ""),
        ]
    )


if __name__ == "__main__":
    main()
