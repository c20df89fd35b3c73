"""The auditor's page and GET /api/v1/audit: filters, pagination, and who may read them."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from tests.actors import BUSAN, OFFICER, SYSTEM
from tests.conftest import csrf_from
from tests.jobs.support import clear_queue, follow, follow_page

from regionvisa.accounts import service as accounts
from regionvisa.audit.service import record
from regionvisa.core.clock import KST
from regionvisa.db import session_scope


@pytest.fixture(autouse=True)
def _empty_queue(engine):
    clear_queue(engine)
    yield
    clear_queue(engine)


@pytest.fixture
def tokens(engine, role_users) -> dict[str, dict]:
    out = {}
    with session_scope(engine=engine) as session:
        for role, info in role_users.items():
            _, plain = accounts.create_token(
                session=session, actor=SYSTEM, user=accounts.get_user(session=session, user_id=info["id"]), name="t"
            )
            out[role] = {"Authorization": f"Bearer {plain}"}
    return out


@pytest.fixture
def log(engine, tokens):
    with session_scope(engine=engine) as session:
        for i in range(60):
            record(
                session=session,
                actor=OFFICER if i % 3 else BUSAN,
                action="applications.decide" if i % 2 else "applications.recommend",
                subject=("application", i),
                reason=f"case {i}",
                inputs={"i": i},
                region="26" if i % 3 == 0 else "11",
            )
    return engine


def test_api_filters_and_paginates(client, log, tokens):
    auditor = tokens["auditor"]
    everything = client.get("/api/v1/audit", headers=auditor).json()
    # 5 users + 5 tokens from the fixtures, then the 60 decisions
    assert everything["total"] == 70 and everything["page_size"] == 50 and len(everything["items"]) == 50
    assert [e["seq"] for e in everything["items"]][:3] == [70, 69, 68]  # newest first
    page2 = client.get("/api/v1/audit?action=applications.*&page=2&page_size=7", headers=auditor).json()
    assert (page2["page"], page2["page_size"], page2["total"], page2["pages"]) == (2, 7, 60, 9)
    assert len(page2["items"]) == 7
    decided = client.get("/api/v1/audit?action=applications.decide", headers=auditor).json()
    assert decided["total"] == 30
    by_actor = client.get("/api/v1/audit?actor=t.busan&action=applications.*", headers=auditor).json()
    assert by_actor["total"] == 20 and {e["actor"] for e in by_actor["items"]} == {"t.busan"}
    subject = client.get("/api/v1/audit?subject_type=application&subject_id=7", headers=auditor).json()
    assert [e["reason"] for e in subject["items"]] == ["case 7"]
    region = client.get("/api/v1/audit?region=26&action=applications.*", headers=auditor).json()
    assert region["total"] == 20
    today = dt.datetime.now(dt.UTC).date()
    assert client.get(f"/api/v1/audit?date_from={today}&date_to={today}", headers=auditor).json()["total"] == 70
    tomorrow = today + dt.timedelta(days=1)
    assert client.get(f"/api/v1/audit?date_from={tomorrow}", headers=auditor).json()["total"] == 0
    bad = client.get("/api/v1/audit?date_from=yesterday", headers=auditor)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "date_from"


@pytest.fixture
def no_server_worker(monkeypatch):
    """No worker thread in the test server: a job stays queued until the test runs the queue, so
    "a second start answers the queued job" does not depend on a thread's timing."""
    monkeypatch.setenv("REGIONVISA_JOBS_IN_PROCESS", "off")


def test_api_chain_check_runs_as_a_job_and_answers_the_last_result(no_server_worker, client, log, tokens, engine):
    auditor = tokens["auditor"]
    never = client.get("/api/v1/audit/verify", headers=auditor)
    assert never.status_code == 404 and never.json()["error"]["code"] == "not_found"
    started = client.post("/api/v1/audit/verify", headers=auditor)
    again = client.post("/api/v1/audit/verify", headers=auditor)  # one queued already: that one is answered
    assert again.status_code == 202 and again.json()["id"] == started.json()["id"]
    job = follow(client, started, engine, headers=auditor)
    assert job["state"] == "succeeded" and job["kind"] == "audit_verify"
    assert job["result"]["href"] == "/audit/verify" and job["result"]["summary"]["ok"] is True
    last = client.get("/api/v1/audit/verify", headers=auditor).json()
    assert last["ok"] is True and last["job_id"] == job["id"] and last["problem"] is None
    assert last["entries"] == job["result"]["summary"]["head_seq"] >= 70 and last["entries_since"] > 0  # the job's own
    assert dt.datetime.fromisoformat(last["checked_at"]).tzinfo is not None
    with session_scope(engine=engine) as session:
        for i in range(3):
            record(session=session, actor=OFFICER, action="applications.decide", subject=("application", i),
                   reason="later", inputs={})  # fmt: skip
    later = client.get("/api/v1/audit/verify", headers=auditor).json()
    assert later["entries_since"] == last["entries_since"] + 3 and later["job_id"] == job["id"]
    assert client.post("/api/v1/audit/verify", headers=tokens["ministry_admin"]).status_code == 403


@pytest.mark.parametrize("role", ["ministry_admin", "ministry_officer", "regional_official", "committee_member"])
def test_only_auditors_read_the_log(client, log, tokens, role):
    response = client.get("/api/v1/audit", headers=tokens[role])
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    assert client.get("/audit", headers=tokens[role]).status_code == 403


def test_audit_page_filters_and_pages(client, login, log):
    login(client, "t.auditor")
    page = client.get("/audit")
    assert page.status_code == 200
    assert page.text.count("<tr>") >= 50  # a full page plus the header row
    assert "/audit?page=2" in page.text
    filtered = client.get("/audit?actor=t.busan&action=applications.*&subject=application:9")
    assert "case 9<" in filtered.text and "case 8<" not in filtered.text
    assert 'value="t.busan"' in filtered.text  # the filter form keeps its values
    lines = client.get("/audit?action=applications.*&page=2")
    assert "action=applications.%2A" in lines.text or "action=applications.*" in lines.text
    today = dt.datetime.now(KST).date()  # the page's filter days are Korean calendar days
    dated = client.get(f"/audit?date_from={today}&date_to={today}&action=applications.decide")
    assert "30 entries" in client.get(f"/audit?date_from={today}&action=applications.decide&lang=en").text
    assert "case 59<" in dated.text and "case 58<" not in dated.text
    assert f'value="{today}"' in dated.text
    future = client.get(f"/audit?date_from={today + dt.timedelta(days=1)}&lang=en")
    assert "0 entries" in future.text and "case 1<" not in future.text
    past = client.get(f"/audit?date_to={today - dt.timedelta(days=1)}&lang=en")
    assert "0 entries" in past.text
    bad = client.get("/audit?date_from=soon&actor=t.busan&lang=en")
    assert bad.status_code == 422 and 'class="error-summary"' in bad.text
    assert "From (KST): ‘soon’ is not a date" in bad.text and 'value="t.busan"' in bad.text
    impossible = client.get("/audit?date_to=2025-02-30&lang=en")
    assert impossible.status_code == 422 and "To (KST): 2025-02-30 is not a real date" in impossible.text
    assert 'value="2025-02-30"' in impossible.text and 'aria-invalid="true"' in impossible.text
    korean = client.get("/audit?date_to=2025-02-30&lang=ko")
    assert "종료일 (한국 표준시): 2025-02-30은(는) 달력에 없는 날짜입니다" in korean.text
    assert client.get("/audit?page=abc&lang=en").status_code == 422
    beyond = client.get("/audit?page=9999&lang=en")
    assert beyond.status_code == 404 and "There is no page 9999: this list has pages 1 to 2." in beyond.text
    assert "No check of the chain has run" in client.get("/audit/verify?lang=en").text


def _check_from_the_page(client, engine):
    """The page's form starts a check; followed like a browser to its end, then the page again."""
    form = client.get("/audit/verify?lang=en")
    started = client.post("/audit/verify", data={"csrf_token": csrf_from(form.text)}, follow_redirects=False)
    done = follow_page(client, started, engine)
    assert 'data-state="succeeded"' in done.text
    return client.get("/audit/verify?lang=en")


def test_chain_check_page_shows_the_last_result_and_later_entries(client, login, log, engine):
    login(client, "t.auditor")
    page = _check_from_the_page(client, engine)
    assert page.status_code == 200 and "The chain is intact" in page.text and "Last check:" in page.text
    with session_scope(engine=engine) as session:
        for i in range(4):
            record(session=session, actor=OFFICER, action="applications.decide", subject=("application", i),
                   reason="later", inputs={})  # fmt: skip
    later = client.get("/audit/verify?lang=en").text
    assert "The chain is intact" in later and "Entries written after this check:" in later


def test_broken_chain_shows_on_the_page(client, login, log, engine):
    login(client, "t.auditor")
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only"))
        else:
            conn.execute(text("DROP TRIGGER audit_entry_no_update"))
        conn.execute(text("UPDATE audit_entry SET reason = 'forged' WHERE seq = 12"))
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_entry ENABLE TRIGGER audit_entry_append_only"))
    before = client.get("/audit/verify?lang=en")  # nothing walks the chain inside the request
    assert before.status_code == 200 and "The chain is broken" not in before.text
    page = _check_from_the_page(client, engine)
    assert page.status_code == 409
    assert "The chain is broken" in page.text and "seq 12" in page.text
    assert client.get("/audit/verify?lang=en").status_code == 409  # the stored result, until the next check


def test_log_ins_and_user_changes_are_audited(client, login, engine, role_users):
    login(client, "t.admin")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT action, actor, subject_type, subject_id FROM audit_entry ORDER BY id")).all()
    assert rows[0][:2] == ("users.create", "system:cli:test")
    assert rows[-1] == ("auth.login", "t.admin", "user", "t.admin")
