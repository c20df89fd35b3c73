"""The mid-year reallocation on the web (form, proposal table, apply with a reason and a
confirmation) and in the API (preview, apply, 409 when the proposal changed), on the real app."""

from __future__ import annotations

import re

from sqlalchemy import select
from tests.conftest import csrf_from

from regionvisa.audit.models import AuditEntry
from regionvisa.db import session_scope
from regionvisa.quotas.models import QuotaLedger

from .test_reallocate_service import _queue, ledgers, today  # noqa: F401  (the fixtures)


def _capacity(engine, program: str) -> int:
    with session_scope(engine=engine) as session:
        return session.scalars(select(QuotaLedger).where(QuotaLedger.program_id == program)).one().capacity


def _entries(engine) -> int:
    with session_scope(engine=engine) as session:
        return len(list(session.scalars(select(AuditEntry).where(AuditEntry.action == "quota.reallocate"))))


def test_page_shows_the_proposal_then_applies_it_with_a_reason(client, engine, login, role_users, ledgers, today):  # noqa: F811
    login(client, "t.officer")
    page = client.get("/quotas/reallocate", params={"on": today.isoformat(), "lang": "en"}, cookies={"lang": "en"})
    assert page.status_code == 200
    html = page.text
    assert 'id="reallocation-table"' in html and "queue 40 &gt; remaining 3: demand 37, granted 37" in html
    assert re.search(r'id="reallocation-pool">175<', html) and re.search(r'id="reallocation-granted">37<', html)
    assert _capacity(engine, "gwangju-d2") == 60  # showing writes nothing
    digest = re.search(r'name="expected" value="([0-9a-f]+)"', html).group(1)
    token = csrf_from(html)
    form = {"csrf_token": token, "on": today.isoformat(), "expected": digest, "reason": "mid-year review"}
    # without the confirmation box nothing is applied
    refused = client.post("/quotas/reallocate", data=form, cookies={"lang": "en"})
    assert refused.status_code == 422 and "tick the box" in refused.text
    assert _capacity(engine, "gwangju-d2") == 60 and _entries(engine) == 0
    done = client.post("/quotas/reallocate", data={**form, "confirm": "yes"}, follow_redirects=False)
    assert done.status_code == 303 and "done=applied" in done.headers["location"]
    assert _capacity(engine, "gwangju-d2") == 97 and _capacity(engine, "ulsan-e7") == 403
    assert _entries(engine) == 1
    after = client.get(done.headers["location"])  # still in English (the language cookie)
    assert "The reallocation was applied and recorded." in after.text
    assert "Nothing to reallocate: no ledger would change." in after.text  # applied: nothing left to move


def test_page_refuses_a_stale_proposal(client, engine, login, role_users, ledgers, today):  # noqa: F811
    login(client, "t.admin")
    html = client.get("/quotas/reallocate", params={"on": today.isoformat()}).text
    digest = re.search(r'name="expected" value="([0-9a-f]+)"', html).group(1)
    with session_scope(engine=engine) as session:
        _queue(session, "gwangju-d2", "29", 2, on=today)
    res = client.post(
        "/quotas/reallocate",
        data={"csrf_token": csrf_from(html), "on": today.isoformat(), "expected": digest, "reason": "r",
              "confirm": "yes"},
    )  # fmt: skip
    assert res.status_code == 409 and "다시 확인" in res.text  # Korean by default
    assert (
        'id="reallocation-table"' in res.text and "대기 42명 &gt; 잔여 3석: 수요 39석" in res.text
    )  # the new proposal
    assert _capacity(engine, "gwangju-d2") == 60 and _entries(engine) == 0


def test_regional_officials_and_auditors_may_not(client, engine, login, role_users, ledgers, today):  # noqa: F811
    for name in ("t.busan", "t.auditor"):
        client.cookies.clear()
        login(client, name)
        assert client.get("/quotas/reallocate").status_code == 403
    assert _entries(engine) == 0


def test_api_preview_and_apply(client, engine, login, role_users, ledgers, today):  # noqa: F811
    headers = {"X-CSRF-Token": login(client, "t.officer")}
    preview = client.post("/api/v1/quotas/reallocations/preview", json={"on": today.isoformat()}, headers=headers)
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert (body["pool"], body["granted"]) == (175, 37)
    by_program = {r["program_id"]: r for r in body["items"]}
    assert by_program["gwangju-d2"]["grant"] == 37 and by_program["ulsan-e7"]["release"] == 37
    missing = client.post("/api/v1/quotas/reallocations", json={"on": today.isoformat()}, headers=headers)
    assert missing.status_code == 422
    stale = client.post(
        "/api/v1/quotas/reallocations",
        json={"on": today.isoformat(), "reason": "r", "expected": "0000000000000000"},
        headers=headers,
    )
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "reallocation_changed"
    applied = client.post(
        "/api/v1/quotas/reallocations",
        json={"on": today.isoformat(), "reason": "mid-year review", "expected": body["digest"]},
        headers=headers,
    )
    assert applied.status_code == 200, applied.text
    assert applied.json()["applied"] is True and len(applied.json()["adjusted"]) == 2
    assert _capacity(engine, "gwangju-d2") == 97 and _entries(engine) == 1


def _summary_links(html: str) -> list[str]:
    box = html.split('id="error-summary"')[1].split("</div>")[0]
    return re.findall(r'<a href="#([^"]+)"', box)


def test_a_refused_reallocation_keeps_the_form_and_says_why_beside_the_field(
    client,
    engine,
    login,
    role_users,
    ledgers,  # noqa: F811
    today,  # noqa: F811
):
    login(client, "t.officer")
    html = client.get("/quotas/reallocate", params={"on": today.isoformat()}).text
    digest = re.search(r'name="expected" value="([0-9a-f]+)"', html).group(1)
    form = {"csrf_token": csrf_from(html), "on": today.isoformat(), "expected": digest, "reason": "mid-year review"}
    for lang, message in (("ko", "확인: 재배분안을 확인했다고 표시하십시오"), ("en", "Confirmation: tick the box")):
        refused = client.post("/quotas/reallocate", data=form, cookies={"lang": lang})
        assert refused.status_code == 422
        assert _summary_links(refused.text) == ["realloc-confirm"]
        assert 'id="realloc-confirm-error"' in refused.text and message in refused.text
        assert 'aria-describedby="realloc-confirm-error"' in refused.text
        assert 'value="mid-year review"' in refused.text  # the typed reason is kept
        assert 'class="error-box" role="alert" id="reallocation-error"' not in refused.text
    no_reason = client.post(
        "/quotas/reallocate", data={**form, "reason": " ", "confirm": "yes"}, cookies={"lang": "en"}
    )
    assert no_reason.status_code == 422 and _summary_links(no_reason.text) == ["realloc-reason"]
    assert "Reason: a reallocation needs a reason" in no_reason.text
    bad_day = client.post("/quotas/reallocate", data={**form, "on": "31-12", "confirm": "yes"}, cookies={"lang": "en"})
    assert bad_day.status_code == 422 and _summary_links(bad_day.text) == ["realloc-on"]
    assert "Reallocation date: give the date as YYYY-MM-DD." in bad_day.text
    shown = client.get("/quotas/reallocate", params={"on": "soon"}, cookies={"lang": "ko"})
    assert _summary_links(shown.text) == ["realloc-on"] and "재배분 기준일: 날짜를 YYYY-MM-DD" in shown.text
    assert _capacity(engine, "gwangju-d2") == 60 and _entries(engine) == 0
