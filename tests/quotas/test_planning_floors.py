"""The database path of §4.6 floors (`quotas.planning.propose`): next year's quotas from the year's
ledgers, where a minimum lifts only the region whose share is below it."""

from __future__ import annotations

import datetime as dt

from tests.actors import OFFICER

from regionvisa.db import session_scope
from regionvisa.quotas import planning, service

YEAR = 2025


def _ledgers(engine) -> None:
    with session_scope(engine=engine) as session:
        for program, region, allocated in (("busan-d2", "26", 1000), ("daegu-e7", "27", 500), ("ulsan-e7", "31", 10)):
            service.open_ledger(
                session=session, program_id=program, region=region, period=str(YEAR), start=dt.date(YEAR, 1, 1),
                end=dt.date(YEAR, 12, 31), allocated=allocated, actor=OFFICER, reason="allocation",
            )  # fmt: skip


def test_a_minimum_lifts_only_the_region_below_it(engine):
    _ledgers(engine)
    with session_scope(engine=engine) as session:
        plain = planning.propose(session=session, year=YEAR, ceiling=303).rows
        floored = planning.propose(session=session, year=YEAR, ceiling=303, minimum=5).rows
    # shares 200.66, 100.33, 1.99: Hamilton gives 201, 100, 2
    assert [r["granted"] for r in plain] == [201, 100, 2]
    # Ulsan (1.99 < 5) is raised to 5; the 298 left are shared over 1000 : 500 → 198.67, 99.33 → 199, 99.
    # As a base, every region would first have taken 5 and Busan and Daegu would have shared 288.
    assert [r["granted"] for r in floored] == [199, 99, 5]
    assert [r["minimum_part"] for r in floored] == [0, 0, 5]
    assert "raised to the regional minimum: 5" in floored[2]["explanation_en"]
    assert "지역 최소 배정으로 상향: 5" in floored[2]["explanation_ko"]
    assert "raised" not in floored[0]["explanation_en"]


def test_the_database_path_takes_every_method(engine):
    _ledgers(engine)
    with session_scope(engine=engine) as session:
        for method in ("sainte-lague", "modified-sainte-lague", "dhondt", "huntington-hill"):
            rows = planning.propose(session=session, year=YEAR, ceiling=303, method=method, minimum=5).rows
            assert sum(r["granted"] for r in rows) == 303 and rows[2]["granted"] >= 5, method
