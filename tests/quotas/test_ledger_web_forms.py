"""The ministry opens, tops up and closes ledgers from the web; refused forms come back with an error
summary, the field's label in the page's language and what was typed; closing asks for confirmation."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.actors import SYSTEM
from tests.conftest import csrf_from

from regionvisa.config import get_settings
from regionvisa.core.errors import Conflict
from regionvisa.db import session_scope
from regionvisa.programs import service as programs
from regionvisa.quotas import service as quotas


def _programme(engine) -> None:
    with session_scope(engine=engine) as session:
        programs.load_files(
            session=session,
            paths=[get_settings().policy_dir / "programs" / "26" / "busan-d2.yaml"],
            actor=SYSTEM,
            publish=True,
        )


def _open(engine, period="2031") -> int:
    with session_scope(engine=engine) as session:
        ledger = quotas.open_ledger(
            session=session,
            program_id="busan-d2",
            region="26",
            period=period,
            start=dt.date(2031, 1, 1),
            end=dt.date(2031, 12, 31),
            allocated=5,
            actor=SYSTEM,
            reason="test",
        )
        return ledger.id


def test_a_closed_ledger_takes_no_reservation_or_adjustment(engine):
    _programme(engine)
    ledger_id = _open(engine)
    with session_scope(engine=engine) as session:
        ledger = quotas.get_ledger(session=session, ledger_id=ledger_id)
        quotas.close_ledger(session=session, ledger=ledger, actor=SYSTEM, reason="period over")
    with session_scope(engine=engine) as session:
        ledger = quotas.get_ledger(session=session, ledger_id=ledger_id)
        assert quotas.ledger_dict(session=session, ledger=ledger)["closed"] is True
        with pytest.raises(Conflict) as refused:
            quotas.reserve(session=session, ledger=ledger, application_id=1, actor=SYSTEM)
        assert refused.value.code == "ledger_closed"
    with session_scope(engine=engine) as session, pytest.raises(Conflict) as again:
        quotas.close_ledger(
            session=session, ledger=quotas.get_ledger(session=session, ledger_id=ledger_id), actor=SYSTEM, reason="x"
        )
    assert again.value.code == "ledger_closed"


def test_open_top_up_and_close_from_the_web(client, engine, login, role_users):
    _programme(engine)
    login(client, role_users["ministry_officer"]["username"])
    page = client.get("/quotas", params={"lang": "en"})
    assert 'id="open-form"' in page.text
    opened = client.post(
        "/quotas/open",
        data={
            "csrf_token": csrf_from(page.text),
            "program_id": "busan-d2",
            "period": "2031",
            "start": "2031-01-01",
            "end": "2031-12-31",
            "allocated": "4",
            "reason": "new year",
        },
        follow_redirects=False,
    )
    assert opened.status_code == 303, opened.text
    url = opened.headers["location"].split("?")[0]
    page = client.get(url, params={"lang": "en"})
    token = csrf_from(page.text)
    topped = client.post(f"{url}/adjust", data={"csrf_token": token, "amount": "3", "reason": "demand"})
    assert topped.status_code == 200 and '<dd id="ledger-adjustments">3</dd>' in topped.text
    unconfirmed = client.post(f"{url}/close", data={"csrf_token": token, "reason": "period over"})
    assert unconfirmed.status_code == 422
    assert 'id="error-summary"' in unconfirmed.text and 'href="#close-confirm"' in unconfirmed.text
    assert 'value="period over"' in unconfirmed.text
    closed = client.post(f"{url}/close", data={"csrf_token": token, "reason": "period over", "confirm": "yes"})
    assert closed.status_code == 200 and "The ledger was closed." in closed.text
    assert 'id="adjust-form"' not in closed.text


def test_a_refused_adjustment_keeps_the_typed_values_with_labels_in_korean(client, engine, login, role_users):
    _programme(engine)
    ledger_id = _open(engine)
    login(client, role_users["ministry_officer"]["username"])
    page = client.get(f"/quotas/{ledger_id}", params={"lang": "ko"})
    refused = client.post(
        f"/quotas/{ledger_id}/adjust",
        data={"csrf_token": csrf_from(page.text), "amount": "lots", "reason": "수요 증가"},
        params={"lang": "ko"},
    )
    assert refused.status_code == 422
    assert "입력 내용을 확인해 주세요" in refused.text and 'href="#adj-amount"' in refused.text
    assert "인원 (감축은 음수)은(는) 정수로 입력해 주세요" in refused.text
    assert 'value="lots"' in refused.text and 'value="수요 증가"' in refused.text
    cut = client.post(
        f"/quotas/{ledger_id}/adjust",
        data={"csrf_token": csrf_from(page.text), "amount": "-99", "reason": "cut"},
        params={"lang": "en"},
    )
    assert cut.status_code == 409 and "There is a problem" in cut.text and 'value="-99"' in cut.text


def test_opening_a_ledger_twice_comes_back_to_the_form(client, engine, login, role_users):
    _programme(engine)
    _open(engine)
    login(client, role_users["ministry_officer"]["username"])
    page = client.get("/quotas", params={"lang": "en"})
    again = client.post(
        "/quotas/open",
        data={
            "csrf_token": csrf_from(page.text),
            "program_id": "busan-d2",
            "period": "2031",
            "start": "2031-01-01",
            "end": "2030-12-31",
            "allocated": "4",
            "reason": "dup",
        },
    )
    assert again.status_code == 422 and 'href="#open-end"' in again.text and 'value="dup"' in again.text


def test_bad_query_values_on_the_ledger_list_are_said(client, engine, login, role_users):
    login(client, role_users["ministry_officer"]["username"])
    assert client.get("/quotas", params={"lang": "en", "sort": "colour"}).status_code == 422
    assert client.get("/quotas", params={"lang": "en", "period": "last year"}).status_code == 422
    assert client.get("/quotas", params={"lang": "en", "page": 9999}).status_code == 404


def test_the_regional_official_sees_no_ledger_forms(client, engine, login, role_users):
    _programme(engine)
    ledger_id = _open(engine)
    login(client, role_users["regional_official"]["username"])
    page = client.get(f"/quotas/{ledger_id}", params={"lang": "en"})
    assert page.status_code == 200 and 'id="close-form"' not in page.text
    refused = client.post(f"/quotas/{ledger_id}/close", data={"csrf_token": csrf_from(page.text), "confirm": "yes"})
    assert refused.status_code == 403
