"""Long work as jobs (DESIGN.md §4.10), on the database under test: 202 and Location, the §4.10
fields, polling to the end, scope like the result, the page without JavaScript, cancellation,
the audit entries, and a worker killed mid-job whose job is retried or failed, never left running."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import select, text, update
from tests.actors import ADMIN
from tests.conftest import csrf_from
from tests.jobs.support import clear_queue, follow, follow_page, run_queue

from regionvisa.core.actor import Actor
from regionvisa.db import session_scope
from regionvisa.jobs import queue, service
from regionvisa.jobs.models import Job

FIELDS = {"id", "kind", "state", "progress", "message", "result", "actor", "created_at", "started_at", "finished_at"}
SEOUL = Actor(id=None, username="t.seoul", display_name="Seoul official", role="regional_official", region="11")


@pytest.fixture(autouse=True)
def _empty_queue(engine, monkeypatch):
    monkeypatch.setenv("REGIONVISA_JOBS_HEARTBEAT_SECONDS", "0.5")
    monkeypatch.setenv("REGIONVISA_JOBS_STALLED_SECONDS", "2")
    monkeypatch.setenv("REGIONVISA_JOBS_POLL_SECONDS", "0.2")
    monkeypatch.setenv("REGIONVISA_JOBS_IN_PROCESS", "off")  # the tests run the queue themselves (support.py)
    clear_queue(engine)
    yield
    clear_queue(engine)


def signed_in(client, login, role_users, role: str) -> dict:
    user = role_users[role]
    return {"X-CSRF-Token": login(client, user["username"], user["password"])}


def queued(engine, *, actor: Actor, kind: str, params: dict, region: str | None = None) -> int:
    with session_scope(engine=engine) as session:
        job_id = service.start(session=session, actor=actor, kind=kind, params=params, region=region).id
    queue.enqueue(engine=engine, job_id=job_id)
    return job_id


def audit_actions(engine, job_id: int) -> list[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT action FROM audit_entry WHERE subject_type = 'job' AND subject_id = :id ORDER BY seq"),
            {"id": str(job_id)},
        )
        return [r[0] for r in rows]


def test_a_compliance_run_answers_202_and_is_followed_to_its_result(client, engine, login, role_users):
    headers = signed_in(client, login, role_users, "ministry_officer")
    started = client.post("/api/v1/compliance/runs", json={"on": "2025-12-31"}, headers=headers)
    assert started.status_code == 202 and set(started.json()) == FIELDS
    assert started.json()["state"] == "queued" and started.json()["actor"] == "t.officer"
    job = follow(client, started, engine)
    assert job["state"] == "succeeded", job
    assert set(job) == FIELDS and job["progress"] == 1.0
    assert set(job["message"]) == {"ko", "en"}
    for stamp in ("created_at", "started_at", "finished_at"):
        parsed = dt.datetime.fromisoformat(job[stamp])
        assert parsed.utcoffset() is not None, stamp  # RFC 3339 with its offset
    assert job["created_at"] <= job["started_at"] <= job["finished_at"]
    summary = job["result"]["summary"]
    assert summary["as_of"] == "2025-12-31" and job["result"]["href"] == f"/compliance?run={summary['run_id']}"
    runs = client.get("/api/v1/compliance/runs").json()["items"]
    assert [r["id"] for r in runs] == [summary["run_id"]]
    assert audit_actions(engine, job["id"]) == ["jobs.start", "jobs.succeeded"]
    listed = client.get("/api/v1/jobs").json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == job["id"]


def test_a_date_before_the_rules_is_refused_before_any_job(client, engine, login, role_users):
    headers = signed_in(client, login, role_users, "ministry_officer")
    refused = client.post("/api/v1/compliance/runs", json={"on": "1900-01-01"}, headers=headers)
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "no_rules_in_force"
    with session_scope(engine=engine) as session:
        assert session.scalar(select(Job.id)) is None


def test_a_failed_job_says_why_in_both_languages(client, engine, login, role_users):
    headers = signed_in(client, login, role_users, "ministry_officer")
    started = client.post("/api/v1/evaluation/runs", json={"year": 2099}, headers=headers)
    job = follow(client, started, engine)
    assert job["state"] in ("succeeded", "failed")
    if job["state"] == "failed":
        assert job["message"]["ko"] and job["message"]["en"] and job["result"]["error"]["code"]
        assert audit_actions(engine, job["id"])[-1] == "jobs.failed"


def test_a_job_is_seen_only_by_those_who_may_see_its_result(client, engine, login, role_users):
    national = queued(engine, actor=ADMIN, kind="probe", params={"seconds": 0})
    busan = queued(
        engine,
        actor=role_users_actor(role_users, "regional_official"),
        kind="applications_import",
        params={"program_id": "busan-d2"},
        region="26",
    )
    seoul = queued(engine, actor=SEOUL, kind="applications_import", params={"program_id": "x"}, region="11")
    signed_in(client, login, role_users, "regional_official")  # Busan's official
    assert client.get(f"/api/v1/jobs/{national}").status_code == 404  # a ministry-only job
    assert client.get(f"/api/v1/jobs/{seoul}").status_code == 404  # another region's job
    assert client.get(f"/jobs/{seoul}").status_code == 404
    assert client.get(f"/api/v1/jobs/{busan}").json()["id"] == busan
    assert [j["id"] for j in client.get("/api/v1/jobs").json()["items"]] == [busan]
    assert client.get(f"/api/v1/jobs/{national}/file").status_code == 404
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/account").text)})
    signed_in(client, login, role_users, "ministry_admin")
    assert {j["id"] for j in client.get("/api/v1/jobs").json()["items"]} == {national, busan, seoul}
    signed_in(client, login, role_users, "auditor")  # reads applications everywhere, not user management
    assert {j["id"] for j in client.get("/api/v1/jobs").json()["items"]} == {busan, seoul}


def role_users_actor(role_users, role: str) -> Actor:
    user = role_users[role]
    return Actor(
        id=user["id"], username=user["username"], display_name=user["username"], role=role, region=user["region"]
    )


def test_the_page_flow_works_without_javascript(client, engine, login, role_users):
    csrf = signed_in(client, login, role_users, "ministry_officer")["X-CSRF-Token"]
    started = client.post("/compliance/runs", data={"on": "2025-12-31", "csrf_token": csrf}, follow_redirects=False)
    job_page = client.get(started.headers["location"])
    assert job_page.status_code == 200
    assert 'id="job-progress"' in job_page.text and 'data-state="queued"' in job_page.text
    # queued: a link to the same page to check again, the opt-in automatic refresh, no forced reload
    location = started.headers["location"]
    assert f'id="job-check-again" class="button" href="{location}"' in job_page.text
    assert 'id="job-auto-refresh"' in job_page.text and 'src="/static/jobs-follow.js"' in job_page.text
    assert 'http-equiv="refresh"' not in job_page.text
    listed = client.get("/jobs?page=1")
    assert 'id="job-check-again" class="button" href="/jobs?page=1"' in listed.text
    assert 'http-equiv="refresh"' not in listed.text
    done = follow_page(client, started, engine)
    assert 'data-state="succeeded"' in done.text and 'http-equiv="refresh"' not in done.text
    assert 'id="job-check-again"' not in done.text and "jobs-follow.js" not in done.text
    ended = client.get("/jobs")
    assert 'id="job-check-again"' not in ended.text and 'http-equiv="refresh"' not in ended.text
    link = done.text.split('id="job-result" class="button primary" href="')[1].split('"')[0]
    assert link.startswith("/compliance?run=")
    assert client.get(link).status_code == 200


def test_a_running_job_s_page_offers_checking_again_in_the_reader_s_language(client, engine, login, role_users):
    """The follow controls in Korean and English; the automatic refresh is the static script's, off
    until ticked (no inline script under the CSP), and it says what changed in a polite live region."""
    headers = signed_in(client, login, role_users, "ministry_admin")
    waiting = queued(engine, actor=ADMIN, kind="probe", params={"seconds": 30})
    korean = client.get(f"/jobs/{waiting}?lang=ko").text
    assert f'href="/jobs/{waiting}?lang=ko">다시 확인</a>' in korean and "자동으로 새로 고침" in korean
    assert 'role="status" aria-live="polite"' in korean and "<script>" not in korean
    english = client.get(f"/jobs/{waiting}?lang=en").text
    assert f'href="/jobs/{waiting}?lang=en">Check again</a>' in english and "Refresh automatically" in english
    assert "다시 확인" not in english
    script = client.get("/static/jobs-follow.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    for part in ("localStorage", "job-auto-refresh", "job-announce", "data-follow-part", "box.checked"):
        assert part in script.text
    assert client.post(f"/api/v1/jobs/{waiting}/cancel", headers=headers).json()["state"] == "cancelled"
    cancelled = client.get(f"/jobs/{waiting}?lang=ko").text
    assert 'data-state="cancelled"' in cancelled and "다시 확인" not in cancelled


def test_cancelling_a_queued_job_and_a_running_one(client, engine, login, role_users):
    headers = signed_in(client, login, role_users, "ministry_admin")
    waiting = queued(engine, actor=ADMIN, kind="probe", params={"seconds": 30})
    got = client.post(f"/api/v1/jobs/{waiting}/cancel", headers=headers)
    assert got.status_code == 200 and got.json()["state"] == "cancelled"
    again = client.post(f"/api/v1/jobs/{waiting}/cancel", headers=headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "job_finished"
    run_queue(engine)  # the cancelled job is not run
    assert client.get(f"/api/v1/jobs/{waiting}").json()["started_at"] is None
    # a running job stops at its next progress report
    running = queued(engine, actor=ADMIN, kind="probe", params={"seconds": 60})
    import threading

    worker = threading.Thread(target=run_queue, args=(engine,), daemon=True)
    worker.start()
    wait_for(engine, running, "running")
    page = client.get(f"/jobs/{running}")
    form = client.post(f"/jobs/{running}/cancel", data={"csrf_token": csrf_from(page.text)}, follow_redirects=False)
    assert form.status_code == 303 and form.headers["location"] == f"/jobs/{running}"
    worker.join(timeout=30)
    job = client.get(f"/api/v1/jobs/{running}").json()
    assert job["state"] == "cancelled" and job["finished_at"]
    assert audit_actions(engine, running) == ["jobs.start", "jobs.cancel", "jobs.cancelled"]


def wait_for(engine, job_id: int, state: str, timeout: float = 60.0) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope(engine=engine) as session:
            job = session.get(Job, job_id)
            if job.state == state:
                return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never became {state}")


def worker_process(engine) -> subprocess.Popen:
    env = {
        **os.environ,
        "REGIONVISA_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "REGIONVISA_JOBS_HEARTBEAT_SECONDS": "0.5",
        "REGIONVISA_JOBS_STALLED_SECONDS": "2",
        "REGIONVISA_JOBS_POLL_SECONDS": "0.2",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "regionvisa.cli", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.parametrize("attempts_left", [True, False])
def test_a_killed_worker_s_job_is_retried_or_failed_never_left_running(engine, attempts_left):
    job_id = queued(engine, actor=ADMIN, kind="probe", params={"seconds": 4 if attempts_left else 60})
    if not attempts_left:
        with engine.begin() as conn:
            conn.execute(update(Job).where(Job.id == job_id).values(max_attempts=1))
    proc = worker_process(engine)
    try:
        taken = wait_for(engine, job_id, "running")
        assert str(proc.pid) in taken.worker or engine.dialect.name == "postgresql"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    with session_scope(engine=engine) as session:
        assert session.get(Job, job_id).state == "running"  # what the dead worker left behind
    time.sleep(2.5)  # PostgreSQL: the dead worker's heartbeat is now older than the stalled limit
    run_queue(engine)  # another worker: it reaps the job, then (attempts left) runs it again
    with session_scope(engine=engine) as session:
        job = session.get(Job, job_id)
        state, attempts = job.state, job.attempts
    if attempts_left:
        assert (state, attempts) == ("succeeded", 2)
        assert audit_actions(engine, job_id) == ["jobs.start", "jobs.retry", "jobs.succeeded"]
    else:
        assert (state, attempts) == ("failed", 1)
        assert audit_actions(engine, job_id) == ["jobs.start", "jobs.failed"]


def test_a_job_reaped_twice_is_handed_on_once(engine):
    """Two sweeps that find the same dead worker's job (the periodic one and a drain's, or two
    workers'): the first queues it again, the second sees it no longer running and does nothing,
    so the queue is not told twice and the audit has one retry."""
    job_id = queued(engine, actor=ADMIN, kind="probe", params={"seconds": 0})
    with engine.begin() as conn:
        conn.execute(update(Job).where(Job.id == job_id).values(state="running", worker="gone:1:x", attempts=1))
    assert service.lost(engine=engine, job_id=job_id, worker="gone:1:x") == "queued"
    assert service.lost(engine=engine, job_id=job_id, worker="gone:1:x") is None
    assert audit_actions(engine, job_id) == ["jobs.start", "jobs.retry"]
    with session_scope(engine=engine) as session:
        assert session.get(Job, job_id).state == "queued"


def test_the_server_runs_its_own_worker_when_asked(engine, monkeypatch, login, role_users):
    """`regionvisa serve` on SQLite (in_process=auto) and any server with in_process=on take jobs themselves."""
    from fastapi.testclient import TestClient

    from regionvisa.app import create_app

    monkeypatch.setenv("REGIONVISA_JOBS_IN_PROCESS", "auto" if engine.dialect.name == "sqlite" else "on")
    with TestClient(create_app(engine=engine)) as client:
        headers = signed_in(client, login, role_users, "ministry_admin")
        started = client.post("/api/v1/compliance/runs", json={"on": "2025-12-31"}, headers=headers)
        assert started.status_code == 202
        deadline = time.monotonic() + 60
        while (job := client.get(started.headers["location"]).json())["state"] in ("queued", "running"):
            assert time.monotonic() < deadline, job
            time.sleep(0.1)
        assert job["state"] == "succeeded", job
