"""The ledger never over-issues: 50 recommendations at once against 10 remaining places give exactly
10 reservations and 40 "quota exhausted" refusals, on SQLite (threads) and PostgreSQL (threads on
separate connections, so the database arbitrates row by row)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select
from tests.actors import BUSAN, SYSTEM

from regionvisa.applications import intake, moves
from regionvisa.applications.models import Application
from regionvisa.config import get_settings
from regionvisa.db import session_scope
from regionvisa.quotas import service as quotas
from regionvisa.quotas.service import QuotaExhausted

ON = dt.date(2025, 6, 2)
N = 50


def applicant(i: int) -> dict:
    return {
        "nationality": "VNM",
        "birth_date": "2000-01-01",
        "passport_valid_until": "2030-01-01",
        "entry_ban": False,
        "criminal_record": False,
        "prior_illegal_stay": False,
        "course_type": "degree",
        "bank_balance_krw": 9_000_000,
        "university_region": "26",
        "topik_level": 3 + i % 4,
    }


def prepare(engine) -> list[int]:
    """busan-d2 with 12 allocated, a top-up of 3 and 5 places already reserved: 10 remain."""
    from regionvisa.programs import service as programs

    with session_scope(engine=engine) as session:
        programs.load_files(
            session=session,
            paths=[get_settings().policy_dir / "programs" / "26" / "busan-d2.yaml"],
            actor=SYSTEM,
            publish=True,
        )
        ledger = quotas.open_ledger(
            session=session,
            program_id="busan-d2",
            region="26",
            period="2025",
            start=dt.date(2025, 1, 1),
            end=dt.date(2025, 12, 31),
            allocated=12,
            actor=SYSTEM,
            reason="allocation",
        )
        quotas.adjust(session=session, ledger=ledger, amount=3, actor=SYSTEM, reason="mid-year top-up")
    ids = []
    with session_scope(engine=engine) as session:
        for i in range(N + 5):
            app = intake.submit(
                session=session,
                program_id="busan-d2",
                applicant=applicant(i),
                name=f"A{i}",
                passport_no=f"C{i:08d}",
                actor=SYSTEM,
                on=ON,
            )
            ids.append(app.id)
    with session_scope(engine=engine) as session:
        for app_id in ids[:5]:
            moves.recommend(session=session, app=app_id, actor=SYSTEM)
        assert quotas.find_ledger(session=session, program_id="busan-d2", period="2025").remaining == 10
    return ids[5:]


def race(engine, ids: list[int]) -> tuple[list[int], list[str], list[BaseException]]:
    barrier = threading.Barrier(len(ids))
    won: list[int] = []
    refused: list[str] = []
    other: list[BaseException] = []
    lock = threading.Lock()

    def one(app_id: int) -> None:
        barrier.wait()
        try:
            with session_scope(engine=engine) as session:
                moves.recommend(session=session, app=app_id, actor=BUSAN, reason="race")
            with lock:
                won.append(app_id)
        except QuotaExhausted as exc:
            with lock:
                refused.append(exc.code)
        except BaseException as exc:
            with lock:
                other.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return won, refused, other


def check(engine, ids, won, refused, other) -> None:
    assert other == []
    assert len(won) == 10 and len(refused) == 40
    assert set(refused) == {"quota_exhausted"}
    with session_scope(engine=engine) as session:
        ledger = quotas.find_ledger(session=session, program_id="busan-d2", period="2025")
        assert (ledger.capacity, ledger.reserved, ledger.used, ledger.remaining) == (15, 15, 0, 0)
        statuses = dict(
            session.execute(
                select(Application.status, func.count()).where(Application.id.in_(ids)).group_by(Application.status)
            ).all()
        )
        assert statuses == {"recommended": 10, "screened": 40}
        winners = set(session.scalars(select(Application.id).where(Application.status == "recommended")))
        assert set(won) <= winners
        reserves = [m for m in quotas.history(session=session, ledger=ledger) if m.kind == "reserve"]
        assert len(reserves) == 15
        assert all(
            m.reserved_after + m.used_after <= m.capacity_after for m in quotas.history(session=session, ledger=ledger)
        )


def test_fifty_concurrent_recommendations_on_sqlite_threads(sqlite_engine):
    ids = prepare(sqlite_engine)
    check(sqlite_engine, ids, *race(sqlite_engine, ids))


@pytest.mark.postgres
def test_fifty_concurrent_recommendations_on_postgresql(engine, database_kind):
    assert database_kind == "postgresql"
    from sqlalchemy.pool import QueuePool

    from regionvisa.db import make_engine

    wide = make_engine(engine.url.render_as_string(hide_password=False))
    assert isinstance(wide.pool, QueuePool)
    wide.pool._pool.maxsize = N + 5  # one connection per caller, so all 50 really race
    wide.pool._max_overflow = N
    try:
        ids = prepare(wide)
        check(wide, ids, *race(wide, ids))
    finally:
        wide.dispose()


def test_the_database_itself_refuses_over_issuing(engine):
    """Even a raw UPDATE past the allocation is refused by the CHECK constraint."""
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    from regionvisa.quotas.models import QuotaLedger

    with session_scope(engine=engine) as session:
        quotas.open_ledger(
            session=session,
            program_id="x-d2",
            region="26",
            period="2025",
            start=dt.date(2025, 1, 1),
            end=dt.date(2025, 12, 31),
            allocated=2,
            actor=SYSTEM,
            reason="allocation",
        )
    with pytest.raises(IntegrityError), session_scope(engine=engine) as session:
        session.execute(update(QuotaLedger).values(reserved=3))
