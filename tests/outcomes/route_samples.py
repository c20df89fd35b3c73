"""Stored outcome runs the route walk (tests/accounts/routewalk.py) reaches through `{run_id}`:
one run per region, stored by the system actor for that region over the walk's records. A run is
seen by those who may read its region's outcomes, so another region's run must answer 404."""

from __future__ import annotations

import datetime as dt

from tests.actors import SYSTEM

from regionvisa.db import session_scope
from regionvisa.outcomes import service


def route_samples(engine, region: str) -> dict:
    with session_scope(engine=engine) as session:
        run = service.store_run(
            session=session, actor=SYSTEM, on=dt.date(2026, 6, 30), since=dt.date(2024, 1, 1), region=region
        )
        run_id = run.id
    return {"params": {"run_id": run_id}}
