"""The at-risk filter keeps the run being viewed: choosing a rule on an older run's dashboard shows
that run filtered, not the latest run."""

from __future__ import annotations

import datetime as dt
import re

from tests.actors import SYSTEM

from regionvisa.compliance import cases


def test_the_at_risk_filter_carries_the_run_being_viewed(client, login, role_users, engine, kit):
    r = kit.Records()
    r.status("H1", "2025-03-01", "2027-02-28", program_id="busan-d2", region="26")
    r.address("H1", "26110", "2025-03-01")
    kit.insert(engine, r.frames())
    first = cases.record_run(engine=engine, on=dt.date(2025, 11, 30), actor=SYSTEM)
    cases.record_run(engine=engine, on=dt.date(2025, 12, 31), actor=SYSTEM)
    first_id = first.run_id
    login(client, role_users["ministry_officer"]["username"])
    older = client.get("/compliance", params={"run": first_id, "lang": "en"})
    assert older.status_code == 200
    form = re.search(r'<form method="get" action="/compliance#risk-heading".*?</form>', older.text, re.S).group(0)
    assert f'<input type="hidden" name="run" value="{first_id}">' in form
    latest = client.get("/compliance", params={"lang": "en"})
    form = re.search(r'<form method="get" action="/compliance#risk-heading".*?</form>', latest.text, re.S).group(0)
    assert 'name="run"' not in form
