"""The pages, server-rendered and without JavaScript: intake form, the region's queue, the ministry's
queue, the application page's explanation in Korean and English, and the ledger page."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from tests.actors import SYSTEM

from regionvisa.db import session_scope

from .conftest import ON

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def browser_for(app, role_users, login):
    clients = []

    def make(role: str | None = None, username: str | None = None) -> tuple[TestClient, str]:
        c = TestClient(app)
        c.__enter__()
        clients.append(c)
        return c, login(c, username or role_users[role]["username"])

    yield make
    for c in clients:
        c.__exit__(None, None, None)


FORM = {
    "program_id": "busan-d2",
    "name": "Tran Thi B",
    "passport_no": "PG1234567",
    "submitted_on": ON.isoformat(),
    "nationality": "VNM",
    "birth_date": "2002-05-06",
    "passport_valid_until": "2031-01-01",
    "entry_ban": "false",
    "criminal_record": "false",
    "prior_illegal_stay": "false",
    "course_type": "degree",
    "university_region": "26",
    "topik_level": "4",
    "kiip_level": "",
    "bank_balance_krw": "9000000",
}


def test_path_from_the_web_form_to_issuance(browser_for, busan, engine, attach):
    region, rtoken = browser_for("regional_official")
    form = region.get("/applications/new")
    assert form.status_code == 200 and 'name="csrf_token"' in form.text and "busan-d2" in form.text
    r = region.post("/applications/new", data={**FORM, "csrf_token": rtoken}, follow_redirects=False)
    assert r.status_code == 303, r.text[:500]
    app_id = int(re.search(r"/applications/(\d+)", r.headers["location"]).group(1))
    page = region.get(r.headers["location"])
    assert "재정능력 입증 (800만원)" in page.text and "충족" in page.text  # explanation in Korean
    english = region.get(f"/applications/{app_id}?lang=en")
    assert "Proof of funds (8M KRW)" in english.text and "met" in english.text
    assert "PG1234567" not in page.text
    # without the CSRF token nothing changes
    assert region.post(f"/applications/{app_id}/recommend", data={"reason": "x"}).status_code == 403
    queue = region.get("/applications/queue/region?program_id=busan-d2&lang=ko")
    assert queue.status_code == 200 and f"#{app_id}" in queue.text and "TOPIK 등급 ≥ 4 (+10)" in queue.text
    assert "입학허가서" in queue.text  # missing evidence (admission letter)
    r = region.post(
        f"/applications/{app_id}/recommend",
        data={
            "csrf_token": rtoken,
            "reason": "first in rank",
            "back": "/applications/queue/region?program_id=busan-d2",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith(
        "/applications/queue/region?program_id=busan-d2&done="
    )
    ministry, mtoken = browser_for("ministry_officer")
    mq = ministry.get("/applications/queue/ministry")
    # the queue opens the application first: no one-click move on the row
    assert f"#{app_id}" in mq.text and "/approve" not in mq.text and f'id="open-{app_id}"' in mq.text
    detail = ministry.get(f"/applications/{app_id}").text
    assert f'action="/applications/{app_id}/approve"' in detail and 'id="missing-documents-approve"' in detail
    refused = ministry.post(f"/applications/{app_id}/issue", data={"csrf_token": mtoken, "reason": ""})
    assert refused.status_code == 409 and "추천 상태이므로 발급할 수 없습니다" in refused.text
    attach(app_id)  # the region completes the checklist: approve and issue need no override
    assert 'id="missing-documents-approve"' not in ministry.get(f"/applications/{app_id}").text
    for move in ("approve", "issue"):
        r = ministry.post(
            f"/applications/{app_id}/{move}", data={"csrf_token": mtoken, "reason": ""}, follow_redirects=False
        )
        assert r.status_code == 303, r.text[:300]
    detail = ministry.get(f"/applications/{app_id}?lang=en")
    assert 'id="visa-number"' in detail.text and "issued" in detail.text
    ledger = ministry.get("/quotas?lang=en")
    ledger_id = int(re.search(r'href="/quotas/(\d+)"', ledger.text).group(1))
    view = ministry.get(f"/quotas/{ledger_id}?lang=en")
    assert "reservation" in view.text and "issuance" in view.text and 'id="ledger-used">1<' in view.text
    r = ministry.post(
        f"/quotas/{ledger_id}/adjust",
        data={"csrf_token": mtoken, "amount": "130", "reason": "mid-year top-up"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    view = ministry.get(f"/quotas/{ledger_id}?lang=en")
    assert 'id="ledger-adjustments">130<' in view.text and "mid-year top-up" in view.text


def test_pages_follow_roles_and_region(browser_for, busan, submit, engine):
    app_id = submit(0)
    committee, _ = browser_for("committee_member")
    assert committee.get("/applications").status_code == 403
    assert committee.get(f"/applications/{app_id}").status_code == 403
    officer, _ = browser_for("ministry_officer")
    assert officer.get("/applications/queue/region").status_code == 403
    assert officer.get("/applications").status_code == 200
    region, token = browser_for("regional_official")
    assert region.get("/applications/queue/ministry").status_code == 403
    listing = region.get("/applications")
    assert f"#{app_id}" in listing.text
    r = region.post(
        f"/applications/{app_id}/documents",
        data={"csrf_token": token, "doc_type": "passport"},
        files={"file": ("p.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "받음" in region.get(f"/applications/{app_id}?lang=ko").text
    # a Seoul official cannot see Busan's application
    from regionvisa.accounts import service as accounts

    with session_scope(engine=engine) as session:
        accounts.create_user(
            session=session,
            actor=SYSTEM,
            username="t.seoul",
            display_name="s",
            role="regional_official",
            region="11",
            password="correct-horse-battery",
        )
    seoul, _ = browser_for(username="t.seoul")
    assert seoul.get(f"/applications/{app_id}").status_code == 403
    assert f"#{app_id}" not in seoul.get("/applications").text


def test_the_form_asks_for_every_applicant_field_of_the_catalogue(browser_for, busan):
    """The form is built from rules.fields: a field added to the catalogue (provincial_guarantee
    for Chungbuk's design) appears without a second list to update."""
    from regionvisa.rules import FIELDS

    region, _ = browser_for("regional_official")
    form = region.get("/applications/new").text
    asked = set(re.findall(r'name="([a-z_0-9]+)"', form))
    assert {name for name in FIELDS if name != "applicant_id"} <= asked
    assert "provincial_guarantee" in asked and "applicant_id" not in asked
