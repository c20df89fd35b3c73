"""The ledger list is paged like every other list: 50 ledgers a page, the rest on the next."""

from __future__ import annotations

import datetime as dt

from tests.actors import SYSTEM

from regionvisa.config import get_settings
from regionvisa.db import session_scope
from regionvisa.programs import service as programs
from regionvisa.quotas import service as quotas

LEDGERS = 53


def _open_many(engine) -> None:
    with session_scope(engine=engine) as session:
        programs.load_files(
            session=session,
            paths=[get_settings().policy_dir / "programs" / "26" / "busan-d2.yaml"],
            actor=SYSTEM,
            publish=True,
        )
        first = dt.date(2030, 1, 1)
        for i in range(LEDGERS):
            day = first + dt.timedelta(days=i)
            quotas.open_ledger(
                session=session,
                program_id="busan-d2",
                region="26",
                period=f"{day.isoformat()}",
                start=day,
                end=day,
                allocated=1,
                actor=SYSTEM,
                reason="paging",
            )


def test_the_ledger_list_pages_fifty_at_a_time(client, engine, login, role_users):
    _open_many(engine)
    login(client, role_users["ministry_officer"]["username"])
    first = client.get("/quotas", params={"lang": "en"})
    second = client.get("/quotas", params={"lang": "en", "page": 2})
    assert first.status_code == second.status_code == 200
    days = [(dt.date(2030, 1, 1) + dt.timedelta(days=i)).isoformat() for i in range(LEDGERS)]
    on_first = {d for d in days if f">{d}<" in first.text}
    on_second = {d for d in days if f">{d}<" in second.text}
    assert len(on_first) == 50 and len(on_second) == LEDGERS - 50
    assert on_first.isdisjoint(on_second) and on_first | on_second == set(days)
    assert 'rel="next"' in first.text and 'rel="prev"' in second.text
