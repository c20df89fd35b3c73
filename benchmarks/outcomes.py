"""The pilot outcome report's indicators at national scale (issue 19: the report ≤ 30 s as a job):
`outcomes.service.outcomes` (the records of every D-2 or E-7 holder read in one snapshot, then the
pilot and comparison indicators and the take-up by month), best of `--repeats`.

This times the computation of the report's tables only: the stored run, the PDF and XLSX files
and the job around them are not built yet.

Data: `regionvisa.synth` (`write_dataset`) into a SQLite file (`--keep FILE`; `--reuse` runs on the
records already there), or `--database-url` for PostgreSQL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _common import best_of, emit, peak_rss_mb, result
from mobility import _load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=2_700_000)
    parser.add_argument("--quick", action="store_true", help="100,000 residents")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--database-url", help="run on this database instead of a SQLite file")
    parser.add_argument("--keep", type=Path, help="SQLite file to create and keep (or reuse with --reuse)")
    parser.add_argument("--reuse", action="store_true", help="run on the records already in the database")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    residents = 100_000 if args.quick else args.residents

    from regionvisa.db import make_engine
    from regionvisa.outcomes import service
    from regionvisa.synth import profiles

    folder = tempfile.TemporaryDirectory(prefix="rv-outcomes-")
    url = args.database_url or f"sqlite:///{args.keep or Path(folder.name) / 'national.sqlite3'}"
    if not args.reuse:
        _load(url, residents, args.seed)
    engine = make_engine(url)
    on = profiles.AS_OF
    since = on - dt.timedelta(days=3 * 365)
    seconds, out = best_of(lambda: service.outcomes(engine=engine, on=on, since=since), args.repeats)
    size = f"{residents:,}" if not args.reuse else "the stored"
    kind = "PostgreSQL" if engine.dialect.name == "postgresql" else "SQLite"
    print(f"{size} residents ({kind}): {out.indicators.height:,} groups, {out.takeup.height:,} programme-months")
    emit(
        [
            result(f"outcome report indicators, {size} residents, {kind}", seconds, "s", "≤ 30 (as a job)"),
            result("peak memory of the outcomes benchmark", peak_rss_mb(), "MB", ""),
        ]
    )


if __name__ == "__main__":
    main()
