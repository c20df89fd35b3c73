"""The ledger's own operations: allocation, a mid-year top-up with its reason, reservations,
releases, usage and a cancelled issuance, with the view (remaining, fill rate) and the history."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.actors import OFFICER, REGION, SYSTEM

from regionvisa.core.errors import Conflict, DomainError
from regionvisa.db import session_scope
from regionvisa.quotas import service


def test_ledger_movements_view_and_history(engine):
    with session_scope(engine=engine) as session:
        ledger = service.open_ledger(
            session=session,
            program_id="gyeonggi-e7",
            region="41",
            period="2025",
            start=dt.date(2025, 1, 1),
            end=dt.date(2025, 12, 31),
            allocated=2,
            actor=OFFICER,
            reason="2025 allocation",
        )
        service.reserve(session=session, ledger=ledger, application_id=1, actor=REGION)
        service.reserve(session=session, ledger=ledger, application_id=2, actor=REGION)
        with pytest.raises(service.QuotaExhausted) as err:
            service.reserve(session=session, ledger=ledger, application_id=3, actor=REGION)
        assert "capacity 2, reserved 2, used 0" in err.value.en and "배정 2" in err.value.ko
        service.adjust(session=session, ledger=ledger, amount=130, actor=OFFICER, reason="mid-year top-up")
        service.reserve(session=session, ledger=ledger, application_id=3, actor=REGION)
        service.use(session=session, ledger=ledger, application_id=1, actor=OFFICER, reason="issued")
        service.release(session=session, ledger=ledger, application_id=2, actor=OFFICER, reason="rejected")
        service.unuse(session=session, ledger=ledger, application_id=1, actor=OFFICER, reason="visa cancelled")
        service.use(session=session, ledger=ledger, application_id=3, actor=OFFICER, reason="issued")
        view = service.ledger_dict(session=session, ledger=ledger, with_history=True)
        assert (view["capacity"], view["reserved"], view["used"], view["remaining"]) == (132, 0, 1, 131)
        assert view["fill_rate"] == round(1 / 132, 4)
        kinds = [(m["kind"], m["amount"], m["application_id"]) for m in view["history"]]
        assert kinds == [
            ("allocation", 2, None),
            ("reserve", 1, 1),
            ("reserve", 1, 2),
            ("adjustment", 130, None),
            ("reserve", 1, 3),
            ("use", 1, 1),
            ("release", -1, 2),
            ("unuse", -1, 1),
            ("use", 1, 3),
        ]
        assert all(m["reserved_after"] + m["used_after"] <= m["capacity_after"] for m in view["history"])
        assert view["history"][3]["reason"] == "mid-year top-up" and view["history"][3]["actor"] == "t.officer"
        with pytest.raises(DomainError) as err:
            service.adjust(session=session, ledger=ledger, amount=5, actor=OFFICER, reason=" ")
        assert err.value.field == "reason"
        with pytest.raises(Conflict):
            service.adjust(
                session=session, ledger=ledger, amount=-132, actor=OFFICER, reason="cut below the used place"
            )
        with pytest.raises(Conflict):
            service.release(session=session, ledger=ledger, application_id=9, actor=SYSTEM, reason="nothing reserved")
        assert [row.program_id for row in service.list_ledgers(session=session, region="41")] == ["gyeonggi-e7"]
        assert service.list_ledgers(session=session, region="26") == []
        assert service.ledger_for(session=session, program_id="gyeonggi-e7", on=dt.date(2025, 7, 1)).id == ledger.id
