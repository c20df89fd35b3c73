"""What a confirmed decision sets off (`selection.flows`): the declared effects match the life-cycle
table, and a ledger already open for the programme and period is kept and noted, not opened twice."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from regionvisa.db import session_scope
from regionvisa.quotas import service as quotas
from regionvisa.quotas.models import QuotaLedger
from regionvisa.selection import flows, service
from regionvisa.selection.lifecycle import SELECTION_ROUNDS
from regionvisa.selection.schemas import DecisionIn

from .conftest import design_for
from .test_service import scored_round, submit


def test_the_flow_carries_out_the_effects_the_decide_edge_declares():
    edge = SELECTION_ROUNDS.find("decide", "scoring_closed")
    assert dict(edge.effects) == flows.EFFECTS


def test_a_ledger_already_open_is_kept_and_the_decision_notes_it(engine, people, round_id, helpers):
    submit(engine, people, round_id, "26", "s.busan", [(helpers.busan_design(), 900)])
    submit(engine, people, round_id, "11", "s.seoul", [(design_for("11", "seoul-d2", 400), None)])
    with session_scope(engine=engine) as session:
        earlier = quotas.open_ledger(
            session=session,
            program_id="busan-d2",
            region="26",
            period="2025",
            start=dt.date(2025, 1, 1),
            end=dt.date(2025, 12, 31),
            allocated=5,
            actor=people["s.admin"],
            reason="opened before the round was decided",
        ).id
    scored_round(engine, people, round_id)
    with session_scope(engine=engine) as session:
        decided = service.confirm_decisions(session=session, rnd=round_id, data=DecisionIn(), actor=people["c.chair"])
        busan = next(d for d in decided if d.selected)
        (row,) = busan.quotas
        assert (row["confirmed"], row["ledger_id"], row["ledger_existing"]) == (900, earlier, True)
        assert row["program_version"] >= 1
        assert all("ledger_id" not in q for d in decided if not d.selected for q in d.quotas)
    with session_scope(engine=engine) as session:
        ledgers = session.scalars(select(QuotaLedger).where(QuotaLedger.program_id == "busan-d2")).all()
        assert [(lg.id, lg.allocated) for lg in ledgers] == [(earlier, 5)]
