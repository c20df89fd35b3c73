"""Approve and issue refuse while required documents are missing (issue 17, req 3), unless a ministry
officer records an override with a reason, which is audited and shown in the application's history.
Checked at the service (the same use cases the transports call), through the API and on the page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.actors import ADMIN, AUDITOR, BUSAN, OFFICER, SYSTEM

from regionvisa.applications import documents, moves, service
from regionvisa.audit.models import AuditEntry
from regionvisa.core.actor import Actor
from regionvisa.core.errors import Conflict, Forbidden, Invalid
from regionvisa.db import session_scope

from .conftest import eligible_busan

COMMITTEE = Actor(id=None, username="t.committee", display_name="Committee member", role="committee_member")
OVERRIDE = "원본을 대면으로 확인함: the originals were seen at the counter"


def _recommended(engine, submit) -> int:
    app_id = submit(0)
    with session_scope(engine=engine) as session:
        moves.recommend(session=session, app=app_id, actor=BUSAN)
    return app_id


def _status(engine, app_id: int) -> str:
    with session_scope(engine=engine) as session:
        return service.get(session=session, application_id=app_id).status


def _entries(engine, action: str) -> list[AuditEntry]:
    with session_scope(engine=engine) as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all()
        session.expunge_all()
        return list(rows)


def test_approve_and_issue_are_refused_naming_every_missing_document(engine, busan, submit, attach):
    app_id = _recommended(engine, submit)
    with session_scope(engine=engine) as session:
        missing = documents.missing_documents(session=session, app=service.get(session=session, application_id=app_id))
    assert len(missing) == 8 and "admission_letter" in missing  # Busan's standard checklist, nothing uploaded
    with pytest.raises(Conflict) as refused, session_scope(engine=engine) as session:
        moves.approve(session=session, app=app_id, actor=OFFICER, reason="looks fine")
    err = refused.value
    assert err.code == "documents_missing" and err.status == 409 and err.field == "override_reason"
    assert "8 required document(s) missing" in err.en and "Certificate of admission" in err.en
    assert "Passport copy" in err.en and "override reason" in err.en
    assert (
        "필요 서류 8건" in err.ko
        and "입학허가서" in err.ko
        and "여권 사본" in err.ko
        and "승인할 수 없습니다" in err.ko
    )
    assert _status(engine, app_id) == "recommended" and not _entries(engine, "application.approve")
    # one document short is still refused, and names only that one
    attach(app_id, skip=("tuberculosis_test",))
    with pytest.raises(Conflict) as refused, session_scope(engine=engine) as session:
        moves.approve(session=session, app=app_id, actor=OFFICER)
    assert "1 required document(s) missing: Tuberculosis test result." in refused.value.en
    assert "결핵 검진 결과" in refused.value.ko and "여권 사본" not in refused.value.ko
    attach(app_id)
    with session_scope(engine=engine) as session:
        moves.approve(session=session, app=app_id, actor=OFFICER)
        moves.issue(session=session, app=app_id, actor=OFFICER, on=dt.date(2025, 7, 1))
    assert _status(engine, app_id) == "issued" and not _entries(engine, "applications.override_documents")


def test_issue_is_refused_too_when_documents_went_missing_after_an_override(engine, busan, submit):
    app_id = _recommended(engine, submit)
    with session_scope(engine=engine) as session:
        moves.approve(session=session, app=app_id, actor=OFFICER, override_reason=OVERRIDE)
    with pytest.raises(Conflict) as refused, session_scope(engine=engine) as session:
        moves.issue(session=session, app=app_id, actor=OFFICER, on=dt.date(2025, 7, 1))
    assert refused.value.code == "documents_missing" and "cannot issue application" in refused.value.en
    assert "발급할 수 없습니다" in refused.value.ko
    assert _status(engine, app_id) == "approved"


def test_an_override_needs_a_real_reason(engine, busan, submit):
    app_id = _recommended(engine, submit)
    for short in ("", "   ", "ok", "  fine    "):
        with pytest.raises((Conflict, Invalid)) as refused, session_scope(engine=engine) as session:
            moves.approve(session=session, app=app_id, actor=OFFICER, override_reason=short)
        assert refused.value.field == "override_reason"
        if short.strip():
            assert refused.value.code == "override_reason_too_short" and refused.value.status == 422
            assert f"at least {moves.OVERRIDE_REASON_MIN} characters" in refused.value.en
            assert f"{moves.OVERRIDE_REASON_MIN}자 이상" in refused.value.ko
    assert _status(engine, app_id) == "recommended" and not _entries(engine, "applications.override_documents")


def test_a_ministry_officer_overrides_with_a_reason_audited_and_in_the_history(engine, busan, submit):
    app_id = _recommended(engine, submit)
    with session_scope(engine=engine) as session:
        moves.approve(session=session, app=app_id, actor=OFFICER, reason="approved", override_reason=OVERRIDE)
        moves.issue(
            session=session,
            app=app_id,
            actor=ADMIN,
            on=dt.date(2025, 7, 1),
            override_reason="서류는 발급 후 7일 안에 보완하기로 함",
        )
        events = service.events(session=session, app=service.get(session=session, application_id=app_id))
        rows = [(e.move, e.from_status, e.to_status, e.actor, e.reason) for e in events]
    assert rows[-4:] == [
        ("override", "recommended", "recommended", "t.officer", OVERRIDE),
        ("approve", "recommended", "approved", "t.officer", "approved"),
        ("override", "approved", "approved", "t.admin", "서류는 발급 후 7일 안에 보완하기로 함"),
        ("issue", "approved", "issued", "t.admin", "visa issued"),
    ]
    overrides = _entries(engine, "applications.override_documents")
    assert [(e.actor, e.reason, e.inputs["move"]) for e in overrides] == [
        ("t.officer", OVERRIDE, "approve"),
        ("t.admin", "서류는 발급 후 7일 안에 보완하기로 함", "issue"),
    ]
    assert len(overrides[0].inputs["missing"]) == 8 and "passport" in overrides[0].inputs["missing"]
    assert overrides[0].subject_id == str(app_id) and overrides[0].region == "26"


@pytest.mark.parametrize("actor", [BUSAN, AUDITOR, COMMITTEE], ids=lambda a: a.role)
def test_regional_officials_auditors_and_committee_members_can_never_override(engine, busan, submit, actor):
    app_id = _recommended(engine, submit)
    with pytest.raises(Forbidden), session_scope(engine=engine) as session:
        moves.act(session=session, application_id=app_id, move="approve", actor=actor, override_reason=OVERRIDE)
    with session_scope(engine=engine) as session:
        moves.approve(session=session, app=app_id, actor=OFFICER, override_reason=OVERRIDE)
    with pytest.raises(Forbidden), session_scope(engine=engine) as session:
        moves.issue(session=session, app=app_id, actor=actor, override_reason=OVERRIDE, on=dt.date(2025, 7, 1))
    assert _status(engine, app_id) == "approved"
    assert [e.actor for e in _entries(engine, "applications.override_documents")] == ["t.officer"]


def test_an_override_reason_on_another_move_is_refused(engine, busan, submit):
    app_id = submit(0)
    with pytest.raises(Invalid) as refused, session_scope(engine=engine) as session:
        moves.act(session=session, application_id=app_id, move="recommend", actor=BUSAN, override_reason=OVERRIDE)
    assert refused.value.code == "override_not_applicable"
    assert _status(engine, app_id) == "screened"


def test_the_simplified_procedure_approves_automatically_only_with_its_checklist_complete(
    engine, busan, submit, attach
):
    with session_scope(engine=engine) as session:
        service.set_simplified(session=session, region="26", enabled=True, actor=ADMIN, reason="grade A in 2025")
    bare, complete = submit(0), submit(1)
    assert attach(complete) == ["passport", "admission_letter", "recommendation_letter"]
    with session_scope(engine=engine) as session:
        moves.recommend(session=session, app=bare, actor=BUSAN)
        moves.recommend(session=session, app=complete, actor=BUSAN)
    assert (_status(engine, bare), _status(engine, complete)) == ("recommended", "approved")
    assert [e.subject_id for e in _entries(engine, "application.approve.automatic")] == [str(complete)]


# ------------------------------------------------------------------------------------ API


@pytest.fixture
def as_role(app, role_users, login):
    clients = []

    def make(role: str) -> TestClient:
        c = TestClient(app)
        c.__enter__()
        clients.append(c)
        c.headers["X-CSRF-Token"] = login(c, role_users[role]["username"])
        return c

    yield make
    for c in clients:
        c.__exit__(None, None, None)


def test_the_api_refuses_then_accepts_an_override_reason(as_role, engine, busan, submit):
    app_id = _recommended(engine, submit)
    officer = as_role("ministry_officer")
    r = officer.post(f"/api/v1/applications/{app_id}/approve", json={"reason": "ok"})
    assert r.status_code == 409, r.text
    err = r.json()["error"]
    assert err["code"] == "documents_missing" and "Certificate of admission" in err["message"]["en"]
    assert "입학허가서" in err["message"]["ko"]
    r = officer.post(f"/api/v1/applications/{app_id}/approve", json={"override_reason": "too short"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "override_reason_too_short"
    for role in ("regional_official", "auditor"):
        r = as_role(role).post(f"/api/v1/applications/{app_id}/approve", json={"override_reason": OVERRIDE})
        assert r.status_code == 403, role
    r = officer.post(f"/api/v1/applications/{app_id}/approve", json={"reason": "ok", "override_reason": OVERRIDE})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert [e["move"] for e in r.json()["events"]][-2:] == ["override", "approve"]
    assert r.json()["events"][-2]["reason"] == OVERRIDE
    r = officer.post(f"/api/v1/applications/{app_id}/issue", json={})
    assert r.status_code == 409 and r.json()["error"]["code"] == "documents_missing"
    schema = officer.app.openapi()["components"]["schemas"]
    assert "override_reason" in schema["GatedDecision"]["properties"]
    assert "override_reason" not in schema["Decision"]["properties"]


# ------------------------------------------------------------------------------------ page


def test_the_page_warns_keeps_what_was_typed_and_records_the_override(app, role_users, login, engine, busan):
    with session_scope(engine=engine) as session:
        from regionvisa.applications import intake

        app_id = intake.submit(
            session=session,
            program_id="busan-d2",
            applicant=eligible_busan(0),
            name="Kim Page",
            passport_no="M77777777",
            actor=SYSTEM,
            on=dt.date(2025, 6, 2),
        ).id
        moves.recommend(session=session, app=app_id, actor=BUSAN)
    with TestClient(app) as ministry:
        token = login(ministry, role_users["ministry_officer"]["username"])
        page = ministry.get(f"/applications/{app_id}?lang=ko")
        assert 'id="missing-documents-approve"' in page.text and "필요 서류가 누락되었습니다" in page.text
        assert "입학허가서" in page.text and 'name="override_reason"' in page.text
        english = ministry.get(f"/applications/{app_id}?lang=en")
        assert "Required documents are missing" in english.text and "Certificate of admission" in english.text
        # refused without a reason: the same page, summary and message beside the field, typed text kept
        r = ministry.post(
            f"/applications/{app_id}/approve?lang=ko", data={"csrf_token": token, "reason": "내 판단 사유"}
        )
        assert r.status_code == 409 and 'id="error-summary"' in r.text
        assert f'href="#override-approve-{app_id}"' in r.text
        assert f'id="override-approve-{app_id}-error"' in r.text and "입학허가서" in r.text
        assert 'value="내 판단 사유"' in r.text and "승인할 수 없습니다" in r.text
        r = ministry.post(
            f"/applications/{app_id}/approve?lang=en",
            data={"csrf_token": token, "reason": "my reason", "override_reason": "short"},
        )
        assert r.status_code == 422 and "at least 10 characters" in r.text
        assert re.search(r"<textarea[^>]*override-approve[^>]*>short</textarea>", r.text)
        assert 'value="my reason"' in r.text
        r = ministry.post(
            f"/applications/{app_id}/approve",
            data={"csrf_token": token, "reason": "", "override_reason": OVERRIDE},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text[:500]
        history = ministry.get(f"/applications/{app_id}?lang=ko").text
        assert "필요 서류 누락 예외 처리" in history and OVERRIDE in history
        assert ministry.get(f"/applications/{app_id}?lang=en").text.count("Required documents overridden") == 1
    with TestClient(app) as region:
        login(region, role_users["regional_official"]["username"])
        page = region.get(f"/applications/{app_id}?lang=en")
        assert 'name="override_reason"' not in page.text  # no approve or issue form for the region
    with TestClient(app) as auditor:
        login(auditor, role_users["auditor"]["username"])
        page = auditor.get(f"/applications/{app_id}?lang=en")
        assert page.status_code == 200 and 'name="override_reason"' not in page.text
