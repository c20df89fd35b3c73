"""The outcome indicators read from the database (SQLite and PostgreSQL): the busan-d2 holders of
the mobility seed, one of whom moved to Seoul, beside Busan's other D-2 holders."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from sqlalchemy import select
from tests.actors import AUDITOR, BUSAN, OFFICER
from tests.conftest import publish_busan
from tests.mobility.conftest import seed_moves

from regionvisa.db import session_scope
from regionvisa.outcomes import service
from regionvisa.quotas import service as quotas
from regionvisa.quotas.models import QuotaLedger


@pytest.fixture
def moved(engine, records, tmp_path):
    return seed_moves(engine, records, tmp_path / "moves")


def test_the_pilot_holders_beside_their_comparison_group(engine, moved):
    result = service.outcomes(engine=engine, on=dt.date(2026, 6, 30), since=dt.date(2025, 1, 1))
    rows = result.indicators.filter(pl.col("program_id") == "busan-d2").to_dicts()
    assert len(rows) == 1
    pilot = rows[0]
    assert (pilot["group"], pilot["region"], pilot["visa"], pilot["holders"]) == ("pilot", "26", "D-2", 2)
    assert pilot["eligible_6m"] == 2 and pilot["retention_6m"] == 0.5  # the mover lives in Seoul
    comparison = result.indicators.filter(pl.col("group") == "comparison")
    assert comparison["program_id"].null_count() == comparison.height  # no programme in the comparison
    months = result.takeup.filter(pl.col("program_id") == "busan-d2")
    assert months.filter(pl.col("month") == "2025-02")["cumulative"].to_list() == [2]


def test_the_readers_answer_is_kept_until_the_records_or_the_ledgers_change(engine, moved):
    """`report` keeps the national answer (`records.memo`): a second reader gets the same one, and a
    ledger opened or adjusted since shows at once, as an import does."""
    on, since = dt.date(2026, 6, 30), dt.date(2025, 1, 1)

    def busan_quota() -> list:
        result = service.report(engine=engine, actor=OFFICER, on=on, since=since)
        months = result.takeup.filter((pl.col("program_id") == "busan-d2") & (pl.col("month") == "2025-06"))
        return months["quota"].to_list()

    first = service.report(engine=engine, actor=OFFICER, on=on, since=since)
    assert service.report(engine=engine, actor=AUDITOR, on=on, since=since).indicators is first.indicators
    assert busan_quota() == [None]
    publish_busan(engine, allocated=1000, actor=OFFICER, reason="opened")
    with session_scope(engine=engine) as session:
        ledger_id = session.scalars(select(QuotaLedger.id).where(QuotaLedger.program_id == "busan-d2")).one()
    assert busan_quota() == [1000]
    with session_scope(engine=engine) as session:
        ledger = quotas.get_ledger(session=session, ledger_id=ledger_id)
        quotas.adjust(session=session, ledger=ledger, amount=50, actor=OFFICER, reason="top-up")
    assert busan_quota() == [1050]
    busan = service.report(engine=engine, actor=BUSAN, on=on, since=since)
    assert set(busan.indicators["region"].to_list()) == {"26"}  # scoped after the kept national answer
