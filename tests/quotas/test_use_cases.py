"""Quota ledgers and plans change only through declared use cases: opening and adjusting a ledger,
proposing and confirming a plan. Reserving, releasing, using and giving back a place are effects
of an application's move, not use cases of their own. A plain string or an actor without the
grant is refused (403) and leaves the ledger, its movements and the audit log as they were."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from tests.actors import BUSAN, OFFICER

from regionvisa.audit.models import AuditEntry
from regionvisa.core.errors import Forbidden
from regionvisa.core.usecase import USE_CASES
from regionvisa.db import session_scope
from regionvisa.quotas import planning, service
from regionvisa.quotas.models import QuotaLedger, QuotaMovement
from regionvisa.quotas.subjects import read_region, readable

SEOUL_LEDGER = {
    "program_id": "uc-seoul",
    "region": "11",
    "period": "2025",
    "start": dt.date(2025, 1, 1),
    "end": dt.date(2025, 12, 31),
    "allocated": 10,
}


def _state(engine) -> tuple:
    with engine.connect() as conn:
        ledgers = conn.execute(
            select(QuotaLedger.id, QuotaLedger.allocated, QuotaLedger.adjustments, QuotaLedger.reserved)
        ).all()
        movements = conn.execute(select(func.count()).select_from(QuotaMovement)).scalar_one()
        entries = conn.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    return ledgers, movements, entries


@pytest.fixture
def ledger_id(engine) -> int:
    with session_scope(engine=engine) as session:
        return service.open_ledger(session=session, **SEOUL_LEDGER, actor=OFFICER, reason="opened").id


def test_the_declared_use_cases_are_exactly_the_ledger_and_plan_changes():
    assert planning.confirm_quotas.use_case.audit_action == "evaluation.quota_confirm"  # planning is loaded
    declared = {name: (case.action, case.subject) for name, case in USE_CASES.items() if name.startswith("quotas.")}
    assert declared == {
        "quotas.service.open_ledger": ("quotas.adjust", None),
        "quotas.service.adjust": ("quotas.adjust", "quota_ledger"),
        "quotas.service.close_ledger": ("quotas.adjust", "quota_ledger"),
        "quotas.planning.propose_quotas": ("quotas.adjust", None),
        "quotas.planning.confirm_quotas": ("quotas.adjust", None),
        "quotas.service.reallocate": ("quotas.reallocate", None),
    }


@pytest.mark.parametrize("actor", ["t.officer", BUSAN], ids=["plain string", "a region without the grant"])
def test_opening_and_adjusting_are_refused_and_write_nothing(engine, ledger_id, actor):
    before = _state(engine)
    with pytest.raises(Forbidden), session_scope(engine=engine) as session:
        service.adjust(session=session, ledger=ledger_id, amount=5, actor=actor, reason="refused")
    with pytest.raises(Forbidden), session_scope(engine=engine) as session:
        service.open_ledger(session=session, **{**SEOUL_LEDGER, "period": "2026"}, actor=actor, reason="refused")
    assert _state(engine) == before


def test_a_place_moves_only_for_an_actor(engine, ledger_id):
    """An effect is no use case, but a plain name still moves no place."""
    before = _state(engine)
    with pytest.raises(Forbidden), session_scope(engine=engine) as session:
        service.reserve(
            session=session,
            ledger=service.get_ledger(session=session, ledger_id=ledger_id),
            application_id=1,
            actor="t.busan",
        )
    assert _state(engine) == before


def test_an_adjustment_is_audited_for_the_ledgers_region(engine, ledger_id):
    with session_scope(engine=engine) as session:
        ledger = service.adjust(session=session, ledger=ledger_id, amount=5, actor=OFFICER, reason="mid-year top-up")
        assert (ledger.capacity, service.history(session=session, ledger=ledger)[-1].actor) == (15, "t.officer")
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
        assert [(e.actor, e.action, e.subject_type, e.subject_id, e.region, e.reason) for e in entries] == [
            ("t.officer", "quota.allocate", "quota_ledger", str(ledger_id), "11", "opened"),
            ("t.officer", "quota.adjust", "quota_ledger", str(ledger_id), "11", "mid-year top-up"),
        ]


def test_reads_are_scoped_by_the_ledgers_region(engine, ledger_id):
    with session_scope(engine=engine) as session:
        ledger = service.get_ledger(session=session, ledger_id=ledger_id)
        assert readable(OFFICER, ledger) is ledger
        with pytest.raises(Forbidden):
            readable(BUSAN, ledger)
    assert read_region(BUSAN) == "26" and read_region(OFFICER, "11") == "11"
    with pytest.raises(Forbidden):
        read_region(BUSAN, "11")
