"""The case action form follows the form-error pattern: a refused action (a resolve without its
outcome, a close or a status cancellation without the confirmation box) gives the case page back
with the error summary, the field's label in the page's language and the typed reason kept."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.actors import SYSTEM
from tests.conftest import csrf_from

from regionvisa.compliance import cases
from regionvisa.compliance.models import ComplianceCase

ON = dt.date(2025, 12, 31)


@pytest.fixture
def case_id(engine, kit):
    r = kit.Records()
    r.status("H1", "2025-03-01", "2027-02-28", program_id="busan-d2", region="26")
    r.address("H1", "26110", "2025-03-01", "2025-03-02").address("H1", "11", "2025-05-01", "2025-05-31")
    kit.insert(engine, r.frames())
    cases.record_run(engine=engine, on=ON, actor=SYSTEM)
    with Session(engine) as s:
        return next(c.id for c in s.scalars(select(ComplianceCase)) if c.rule == "residence_obligation")


def test_a_resolve_without_outcome_comes_back_with_the_label_in_korean(client, login, role_users, case_id):
    login(client, role_users["ministry_officer"]["username"])
    page = client.get(f"/compliance/cases/{case_id}", params={"lang": "ko"})
    refused = client.post(
        f"/compliance/cases/{case_id}/actions",
        params={"lang": "ko"},
        data={"csrf_token": csrf_from(page.text), "action": "resolve", "reason": "근무지 이동"},
    )
    assert refused.status_code == 400
    assert "입력 내용을 확인해 주세요" in refused.text and 'href="#outcome"' in refused.text
    assert 'id="outcome-error"' in refused.text and ">근무지 이동</textarea>" in refused.text
    assert '<option value="resolve" selected>' in refused.text


def test_closing_or_cancelling_a_status_asks_for_confirmation(client, login, role_users, case_id):
    login(client, role_users["ministry_officer"]["username"])
    token = csrf_from(client.get(f"/compliance/cases/{case_id}").text)
    form = {"csrf_token": token, "action": "resolve", "outcome": "status_cancelled", "reason": "left the region"}
    unconfirmed = client.post(f"/compliance/cases/{case_id}/actions", params={"lang": "en"}, data=form)
    assert unconfirmed.status_code == 422 and 'href="#confirm"' in unconfirmed.text
    assert "This cannot be undone" in unconfirmed.text and ">left the region</textarea>" in unconfirmed.text
    with Session(client.app.state.engine) as s:
        assert s.get(ComplianceCase, case_id).status == "open"
    done = client.post(f"/compliance/cases/{case_id}/actions", data={**form, "confirm": "yes"}, follow_redirects=False)
    assert done.status_code == 303
    with Session(client.app.state.engine) as s:
        assert (s.get(ComplianceCase, case_id).status, s.get(ComplianceCase, case_id).outcome) == (
            "resolved",
            "status_cancelled",
        )
