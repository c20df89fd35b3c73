"""Apportionment and mid-year reallocation benchmark (issue 18, requirements 4 and 5; DESIGN §4.6).

Measured, best of 3, in one process:

(a) each §4.6 method with floors on the 1880 House (38 states, 325 seats, one-seat floor) and on a
    national plan of 17 regions × 6 programmes (102 requests) under ceilings of 20,000 and 200,000
    places, with a floor of 100 per region — target ≤ 0.1 s each. The divisor methods skip ahead to a
    divisor and hand out only the last places one at a time; the baseline is the plain
    one-place-at-a-time sequence (exact fractions, a heap) on the 20,000 case;
(b) the pure reallocation proposal (`quotas.reallocation.propose`) over 10,000 synthetic ledgers —
    target ≤ 0.5 s;
(c) the dry run on the database (`quotas.service.propose_reallocation`, SQLite): every ledger of
    the pilot programmes and 1,000 more, each with its movements, and 200,000 applications of which
    the queued ones are counted — target ≤ 1 s.

Run: .venv/bin/python benchmarks/apportion.py [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import heapq
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT / "src"))

from _common import best_of, emit, peak_rss_mb, result  # noqa: E402
from regionvisa.quotas.apportion import METHODS, apportion  # noqa: E402
from regionvisa.quotas.reallocation import INPUT_SCHEMA, Rule, propose  # noqa: E402

HOUSE_1880 = ROOT / "tests" / "quotas" / "data" / "us_1880_house.csv"
REGIONS = [f"{c}" for c in (11, 26, 27, 28, 29, 30, 31, 36, 41, 43, 44, 46, 47, 48, 50, 51, 52)]
ON = dt.date(2025, 7, 1)


def house_requests() -> list[dict]:
    frame = pl.read_csv(HOUSE_1880, comment_prefix="#")
    return [{"region": s, "program": "house", "requested": p} for s, p in frame.select("state", "population").rows()]


def national_requests(seed: int = 18) -> list[dict]:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(200, 8_000, size=len(REGIONS) * 6)
    return [
        {"region": REGIONS[k // 6], "program": f"p{k:03d}", "requested": int(n), "quota_change": "0.15"}
        for k, n in enumerate(sizes)
    ]


def one_at_a_time(targets: list[int], seats: int) -> list[int]:
    """The baseline: Sainte-Laguë one place at a time, exact fractions on a heap."""
    granted = [0] * len(targets)
    heap = [(-Fraction(t), k) for k, t in enumerate(targets) if t]
    heapq.heapify(heap)
    for _ in range(seats):
        _, k = heapq.heappop(heap)
        granted[k] += 1
        if granted[k] < targets[k]:
            heapq.heappush(heap, (-Fraction(targets[k], 2 * granted[k] + 1), k))
    return granted


def synthetic_ledgers(n: int, seed: int = 5) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    capacity = rng.integers(20, 2_000, size=n)
    used = (capacity * rng.uniform(0, 1.1, size=n)).astype(np.int64).clip(0, capacity)
    reserved = ((capacity - used) * rng.uniform(0, 0.2, size=n)).astype(np.int64)
    queue = (capacity * rng.uniform(0, 0.4, size=n)).astype(np.int64)
    return pl.DataFrame(
        {
            "ledger_id": np.arange(1, n + 1),
            "program_id": [f"p{k}" for k in range(n)],
            "region": [REGIONS[k % len(REGIONS)] for k in range(n)],
            "period": "2025",
            "period_start": dt.date(2025, 1, 1),
            "period_end": dt.date(2025, 12, 31),
            "capacity": capacity,
            "reserved": reserved,
            "used": used,
            "committed_now": reserved + used,
            "capacity_now": capacity,
            "queue": queue,
        }
    ).cast(INPUT_SCHEMA)


def rule(method: str = "hamilton") -> Rule:
    return Rule(
        source="benchmark",
        on=ON,
        release_share=Fraction(1, 2),
        min_elapsed_days=91,
        method=method,
        first_divisor=Fraction(7, 5),
        queue_statuses=("submitted", "screened"),
    )


def database_dry_run(extra_ledgers: int, applications: int) -> tuple[float, int, int]:
    """Seconds for `propose_reallocation` on SQLite, ledgers, pool."""
    from sqlalchemy import insert, update

    import regionvisa.models  # noqa: F401
    from regionvisa import migrate
    from regionvisa.accounts.policy import system_actor
    from regionvisa.applications.models import Application
    from regionvisa.db import make_engine, session_scope, utcnow
    from regionvisa.quotas import service
    from regionvisa.quotas.models import QuotaLedger, QuotaMovement
    from regionvisa.regions.service import pilot_programmes

    actor = system_actor("cli", detail="benchmark")
    rng = np.random.default_rng(9)
    today = utcnow().date()
    start, end = today - dt.timedelta(days=181), today + dt.timedelta(days=183)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'reallocate.sqlite3'}")
        migrate.upgrade(engine=engine)
        programmes = [(r["program_id"], r["region"]) for r in pilot_programmes().iter_rows(named=True)]
        programmes += [(f"extra-{k}", REGIONS[k % len(REGIONS)]) for k in range(extra_ledgers)]
        with session_scope(engine=engine) as session:
            for program, region in programmes:
                service.open_ledger(
                    session=session, program_id=program, region=region, period="2026-pilot", start=start,
                    end=end, allocated=int(rng.integers(40, 600)), actor=actor, reason="benchmark allocation",
                )  # fmt: skip
        now = utcnow()
        with session_scope(engine=engine) as session:
            ledgers = session.query(QuotaLedger.id, QuotaLedger.allocated).all()
            moves, updates = [], []
            for ledger_id, allocated in ledgers:
                used = int(allocated * rng.uniform(0, 1))
                reserved = int((allocated - used) * rng.uniform(0, 0.3))
                updates.append({"id": ledger_id, "used": used, "reserved": reserved})
                moves.append(
                    {"ledger_id": ledger_id, "kind": "use", "amount": used, "reason": "benchmark", "actor": "b",
                     "at": now, "reserved_after": reserved, "used_after": used, "capacity_after": allocated}
                )  # fmt: skip
            for u in updates:
                session.execute(
                    update(QuotaLedger).where(QuotaLedger.id == u["id"]).values(used=u["used"], reserved=u["reserved"])
                )
            session.execute(insert(QuotaMovement), moves)
            statuses = np.array(["submitted", "screened", "recommended", "approved", "issued", "rejected"])
            picks = rng.integers(0, len(programmes), size=applications)
            status = statuses[rng.integers(0, len(statuses), size=applications)]
            session.execute(
                insert(Application),
                [
                    {"program_id": programmes[p][0], "region": programmes[p][1], "status": str(s),
                     "applicant_name": "x", "passport_enc": "x", "passport_hash": f"h{k}", "nationality": "VNM",
                     "profile": {}, "submitted_at": now, "submitted_on": today, "submitted_by": "b",
                     "updated_at": now}
                    for k, (p, s) in enumerate(zip(picks, status, strict=True))
                ],
            )  # fmt: skip

        def run():
            with session_scope(engine=engine) as session:
                return service.propose_reallocation(session=session, on=today)

        seconds, proposal = best_of(run)
        engine.dispose()
        return seconds, proposal.rows.height, proposal.pool


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes for a smoke run")
    args = parser.parse_args()
    big = 20_000 if args.quick else 200_000
    ledgers_n = 1_000 if args.quick else 10_000
    out = []

    house = house_requests()
    national = national_requests()
    floors = {r: 100 for r in REGIONS}
    print(f"{'method':<24}{'1880 House':>12}{'20,000':>12}{big:>12,}")
    worst = 0.0
    for method in METHODS:
        t_house, rows = best_of(
            lambda m=method: apportion(house, 325, method=m, minimums={r["region"]: 1 for r in house})
        )
        t_mid, _ = best_of(lambda m=method: apportion(national, 20_000, method=m, minimums=floors))
        t_big, _ = best_of(lambda m=method: apportion(national, big, method=m, minimums=floors))
        worst = max(worst, t_house, t_mid, t_big)
        print(f"{method:<24}{t_house * 1000:>10.1f}ms{t_mid * 1000:>10.1f}ms{t_big * 1000:>10.1f}ms")
        if method == "hamilton":
            assert {r["region"]: r["granted"] for r in rows}["AL"] == 8
    targets = [r["target"] for r in apportion(national, 10**9)]
    t_naive, _ = best_of(lambda: one_at_a_time(targets, 20_000), repeats=1)
    t_fast, _ = best_of(lambda: apportion(national, 20_000, method="sainte-lague"))
    print(f"Sainte-Laguë, 20,000 places one at a time: {t_naive:.3f} s; with the head start {t_fast * 1000:.1f} ms")
    out.append(result("slowest apportionment (5 methods × 3 sizes, with floors)", worst, "s", "≤ 0.1 s"))
    out.append(result("Sainte-Laguë, 102 requests, 20,000 places", t_fast, "s", "≤ 0.1 s", baseline_value=t_naive))

    frame = synthetic_ledgers(ledgers_n)
    t_pure, proposal = best_of(lambda: propose(frame, rule()))
    pool, granted = proposal.pool, proposal.granted
    print(f"pure proposal over {ledgers_n:,} ledgers: {t_pure:.3f} s (pool {pool:,}, granted {granted:,})")
    out.append(result(f"reallocation proposal, {ledgers_n:,} ledgers (pure)", t_pure, "s", "≤ 0.5 s"))

    extra, apps = (100, 20_000) if args.quick else (1_000, 200_000)
    t_db, n_ledgers, pool = database_dry_run(extra, apps)
    print(f"dry run on SQLite: {n_ledgers:,} ledgers, {apps:,} applications: {t_db:.3f} s (pool {pool:,})")
    out.append(
        result(f"reallocation dry run on SQLite, {n_ledgers:,} ledgers, {apps:,} applications", t_db, "s", "≤ 1 s")
    )
    print(f"peak memory {peak_rss_mb():.0f} MB")
    emit(out)


if __name__ == "__main__":
    main()
