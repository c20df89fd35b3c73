"""Fifty mixed writes at once through the real server (`regionvisa serve --workers 4`), on the
test database (SQLite file or PostgreSQL): recommendations racing for the last places, two
approvals and two issuances of the same application, and quota top-ups and cuts of the same
ledger, all in parallel.

Every answer must be 2xx or a 409 in the one error shape (never a 500, never a deadlock), and
afterwards the ledger must agree with the applications: nothing over-issued, every used place
an issued visa with one status grant, every reserved place a recommended or approved application.
"""

from __future__ import annotations

import base64
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text
from tests.actors import SYSTEM
from tests.hardening.figures import record, statuses

from regionvisa.accounts import service as accounts
from regionvisa.applications import intake, moves, service
from regionvisa.applications.models import Application
from regionvisa.audit.service import verify
from regionvisa.db import session_scope
from regionvisa.quotas import service as quotas
from regionvisa.records import pii
from regionvisa.records.models import StatusGrant

from .conftest import ON, eligible_busan

WORKERS = 4
ALLOCATED = 12
TO_ISSUE = 6  # approved beforehand; each issued twice at once
TO_APPROVE = 4  # recommended beforehand; each approved twice at once
TO_RECOMMEND = 14  # screened; they race for the 2 places left (plus whatever the top-ups add)
ADJUSTMENTS = (1,) * 10 + (-1,) * 6  # the ministry tops up and cuts the same ledger meanwhile


@dataclass
class Answer:
    kind: str
    target: int | None
    status: int
    body: dict | None
    seconds: float


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def keys(monkeypatch):
    """Configured keys, shared by this process (which prepares the data) and the server."""
    monkeypatch.setenv("REGIONVISA_SECRET_KEY", base64.b64encode(os.urandom(32)).decode())
    monkeypatch.setenv("REGIONVISA_DATA_KEYS", f"k1:{pii.new_key()}")
    monkeypatch.setenv("REGIONVISA_LOOKUP_KEY", pii.new_key())
    monkeypatch.setenv("REGIONVISA_RATE_LIMITS_ENABLED", "false")
    pii.reset_keyring()
    yield
    monkeypatch.undo()
    pii.reset_keyring()


def _token(engine, make_user, username: str, role: str, region: str | None) -> str:
    user_id = make_user(username, role, region)
    with session_scope(engine=engine) as session:
        _, plain = accounts.create_token(
            session=session, actor=SYSTEM, user=accounts.get_user(session=session, user_id=user_id), name="race"
        )
    return plain


@pytest.fixture
def world(engine, keys, make_user, test_data):
    """The ledger of 12 places, 6 approved, 4 recommended and 14 screened applications, two tokens."""
    test_data.publish_busan(engine, allocated=ALLOCATED)
    ids: list[int] = []
    with session_scope(engine=engine) as session:
        for i in range(TO_ISSUE + TO_APPROVE + TO_RECOMMEND):
            app = intake.submit(
                session=session,
                program_id="busan-d2",
                applicant=eligible_busan(i, nationality="VNM"),
                name=f"Racer {i}",
                passport_no=f"RACE{i:06d}",
                actor=SYSTEM,
                on=ON,
            )
            ids.append(app.id)
    to_issue, to_approve = ids[:TO_ISSUE], ids[TO_ISSUE : TO_ISSUE + TO_APPROVE]
    for app_id in to_issue + to_approve:  # checklists complete: the race is about the ledger, not documents
        test_data.attach_documents(engine, app_id)
    with session_scope(engine=engine) as session:
        for app_id in to_issue + to_approve:
            moves.recommend(session=session, app=app_id, actor=SYSTEM, reason="prepared")
        for app_id in to_issue:
            moves.approve(session=session, app=app_id, actor=SYSTEM, reason="prepared")
        ledger_id = quotas.find_ledger(session=session, program_id="busan-d2", period="2025").id
    return {
        "ledger_id": ledger_id,
        "issue": to_issue,
        "approve": to_approve,
        "recommend": ids[TO_ISSUE + TO_APPROVE :],
        "official": _token(engine, make_user, "race.busan", "regional_official", "26"),
        "officer": _token(engine, make_user, "race.officer", "ministry_officer", None),
    }


@pytest.fixture
def server(engine, world, tmp_path):
    """`regionvisa serve --workers 4` on a free loopback port, against the test database."""
    port = _free_port()
    env = {**os.environ, "REGIONVISA_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    cli = Path(sys.executable).parent / "regionvisa"
    log = tmp_path / "server.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [str(cli), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(WORKERS)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
            try:
                if httpx.get(base + "/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        yield {"base": base, "log": log, "proc": proc}
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=60)


def _requests(world) -> list[tuple[str, int | None, str, dict, str]]:
    """(kind, application id, path, body, token) for the 50 requests, in a fixed shuffled order."""
    out = []
    for app_id in world["issue"]:
        out += [("issue", app_id, f"/api/v1/applications/{app_id}/issue", {"reason": "race"}, "officer")] * 2
    for app_id in world["approve"]:
        out += [("approve", app_id, f"/api/v1/applications/{app_id}/approve", {"reason": "race"}, "officer")] * 2
    for app_id in world["recommend"]:
        out.append(("recommend", app_id, f"/api/v1/applications/{app_id}/recommend", {"reason": "race"}, "official"))
    for amount in ADJUSTMENTS:
        path = f"/api/v1/quotas/ledgers/{world['ledger_id']}/adjustments"
        out.append(("adjust", amount, path, {"amount": amount, "reason": "mid-year change"}, "officer"))
    random.Random(14).shuffle(out)
    return out


def _fire(base: str, world, plan) -> list[Answer]:
    """Every request in its own thread and connection, released together."""
    barrier = threading.Barrier(len(plan))
    answers: list[Answer | None] = [None] * len(plan)

    def one(i: int) -> None:
        kind, target, path, body, who = plan[i]
        headers = {"Authorization": f"Bearer {world[who]}"}
        with httpx.Client(base_url=base, timeout=120) as client:
            client.get("/api/v1/health")  # connect first, so the requests themselves start together
            barrier.wait()
            started = time.perf_counter()
            try:
                response = client.post(path, json=body, headers=headers)
                try:
                    payload = response.json()
                except ValueError:
                    payload = {"text": response.text[:300]}
                answers[i] = Answer(kind, target, response.status_code, payload, time.perf_counter() - started)
            except httpx.HTTPError as exc:
                answers[i] = Answer(kind, target, 0, {"transport": repr(exc)}, time.perf_counter() - started)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(plan))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(a is not None for a in answers)
    return answers  # type: ignore[return-value]


def _deadlocks(engine) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(text("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")).scalar_one()
        )


def test_fifty_mixed_writes_through_four_workers(engine, world, server, database_kind):
    plan = _requests(world)
    assert len(plan) == 50
    deadlocks_before = _deadlocks(engine) if database_kind == "postgresql" else 0
    answers = _fire(server["base"], world, plan)
    # stop the workers: their database sessions end, and PostgreSQL flushes their statistics
    server["proc"].terminate()
    server["proc"].wait(timeout=60)
    log = server["log"].read_text(errors="replace")
    deadlocks = _deadlocks(engine) - deadlocks_before if database_kind == "postgresql" else 0
    _report(engine, world, answers, deadlocks)

    failed = [a for a in answers if not (200 <= a.status < 300 or a.status == 409)]
    assert failed == [], f"{len(failed)} answers neither 2xx nor 409: {failed[:5]}\n{log[-3000:]}"
    for a in answers:
        if a.status == 409:
            error = a.body["error"]
            assert error["code"] and error["message"]["ko"] and error["message"]["en"], a
    assert "Traceback" not in log, log[-3000:]
    if database_kind == "postgresql":
        assert deadlocks == 0
        assert "deadlock" not in log.lower()

    by_target: dict[tuple[str, int], list[int]] = {}
    for a in answers:
        if a.kind in ("issue", "approve"):
            by_target.setdefault((a.kind, a.target), []).append(a.status)
    # the same application issued (or approved) twice at once: one wins, the other is told why
    assert all(sorted(codes) == [200, 409] for codes in by_target.values()), by_target
    losers = [a.body["error"]["code"] for a in answers if a.kind in ("issue", "approve") and a.status == 409]
    assert set(losers) == {"invalid_transition"}

    recommended = {a.target for a in answers if a.kind == "recommend" and a.status == 200}
    refused = [a.body["error"]["code"] for a in answers if a.kind == "recommend" and a.status == 409]
    assert set(refused) <= {"quota_exhausted"}
    adjusted = sum(a.target for a in answers if a.kind == "adjust" and a.status == 200)
    cut_refused = [a.body["error"]["code"] for a in answers if a.kind == "adjust" and a.status == 409]
    assert set(cut_refused) <= {"adjustment_below_commitments"}

    with session_scope(engine=engine) as session:
        ledger = quotas.get_ledger(session=session, ledger_id=world["ledger_id"])
        assert ledger.adjustments == adjusted
        assert ledger.reserved + ledger.used <= ledger.capacity  # 0 over-issued places
        issued = session.scalar(
            select(func.count()).where(Application.ledger_id == ledger.id, Application.status == "issued")
        )
        assert issued == ledger.used == TO_ISSUE
        holding = session.scalar(
            select(func.count()).where(
                Application.ledger_id == ledger.id,
                Application.status.in_(("recommended", "approved")),
                Application.reserved.is_(True),
            )
        )
        assert holding == ledger.reserved == TO_APPROVE + len(recommended)
        grants = session.scalar(
            select(func.count()).select_from(StatusGrant).where(StatusGrant.program_id == "busan-d2")
        )
        assert grants == TO_ISSUE  # one status grant per issued visa, none from a lost race
        statuses = dict(
            session.execute(
                select(Application.id, Application.status).where(Application.id.in_(world["recommend"]))
            ).all()
        )
        assert {i for i, s in statuses.items() if s == "recommended"} == recommended
        for move in quotas.history(session=session, ledger=ledger):
            assert move.reserved_after + move.used_after <= move.capacity_after
    assert verify(engine=engine).ok
    slowest = max(a.seconds for a in answers)
    print(f"\n{database_kind}: {len(answers)} requests, slowest {slowest:.2f} s, {len(recommended)} recommended, "
          f"top-ups/cuts net {adjusted:+d}")  # fmt: skip


def _report(engine, world, answers: list[Answer], deadlocks: int) -> None:
    """Answers per kind of request, 500s, deadlocks and over-issued places, for docs/hardening.md."""
    kinds: dict[str, Counter] = {}
    for a in answers:
        kinds.setdefault(a.kind, Counter())[a.status] += 1
    with session_scope(engine=engine) as session:
        ledger = quotas.get_ledger(session=session, ledger_id=world["ledger_id"])
        issued = session.scalar(
            select(func.count()).where(Application.ledger_id == ledger.id, Application.status == "issued")
        )
        over = max(0, ledger.reserved + ledger.used - ledger.capacity, issued - ledger.used)
    record("concurrency", "fifty-mixed-writes", {
        "workers": WORKERS,
        "requests": len(answers),
        "statuses": {kind: statuses(codes) for kind, codes in sorted(kinds.items())},
        "server_errors": sum(a.status >= 500 for a in answers),
        "transport_errors": sum(a.status == 0 for a in answers),
        "deadlocks": deadlocks,
        "over_issued_places": over,
        "issued": issued,
        "capacity": ledger.capacity,
        "slowest_seconds": round(max(a.seconds for a in answers), 3),
    })  # fmt: skip


# ------------------------------------------------------------------ a lost race the database reports


@pytest.fixture
def impatient(engine, database_kind):
    """The app's connections give up on a lock after 100 ms (instead of SQLite's 30 s busy timeout)."""
    from sqlalchemy import event

    def short_waits(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        if database_kind == "sqlite":
            cursor.execute("PRAGMA busy_timeout = 100")
        else:
            cursor.execute("SET lock_timeout = '100ms'")
        cursor.close()
        if database_kind == "postgresql":
            dbapi_connection.commit()

    engine.dispose()
    event.listen(engine, "connect", short_waits)
    yield
    event.remove(engine, "connect", short_waits)
    engine.dispose()


def _hold(engine, database_kind, table: str, row_id: int):
    """Another transaction holding the row (on SQLite: the database write lock)."""
    holder = engine.connect()
    if database_kind == "sqlite":
        holder.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        holder.execute(text(f"SELECT id FROM {table} WHERE id = :id FOR UPDATE"), {"id": row_id})
    return holder


def test_a_lock_that_is_not_released_in_time_is_a_409_and_leaves_nothing(
    app, engine, busan, submit, attach, role_users, database_kind, impatient
):
    from fastapi.testclient import TestClient

    app_id = submit(1)
    attach(app_id)
    with session_scope(engine=engine) as session:
        moves.recommend(session=session, app=app_id, actor=SYSTEM)
        ledger_id = quotas.find_ledger(session=session, program_id="busan-d2", period="2025").id
        _, plain = accounts.create_token(
            session=session,
            actor=SYSTEM,
            user=accounts.get_user(session=session, user_id=role_users["ministry_officer"]["id"]),
            name="t",
        )
    headers = {"Authorization": f"Bearer {plain}"}
    with TestClient(app) as client:
        assert client.get(f"/api/v1/applications/{app_id}", headers=headers).status_code == 200  # token in use
        for table, row_id, path, body in (
            ("application", app_id, f"/api/v1/applications/{app_id}/approve", {"reason": "documents complete"}),
            (
                "quota_ledger",
                ledger_id,
                f"/api/v1/quotas/ledgers/{ledger_id}/adjustments",
                {"amount": 5, "reason": "x"},
            ),
        ):
            holder = _hold(engine, database_kind, table, row_id)
            try:
                response = client.post(path, json=body, headers=headers)
            finally:
                holder.rollback()
                holder.close()
            assert response.status_code == 409, response.text
            error = response.json()["error"]
            assert error["code"] == "concurrent_change"
            assert "try again" in error["message"]["en"] and "다시 시도" in error["message"]["ko"]
        # nothing of the refused requests remains; once the lock is gone the same requests succeed
        with session_scope(engine=engine) as session:
            assert service.get(session=session, application_id=app_id).status == "recommended"
            assert quotas.get_ledger(session=session, ledger_id=ledger_id).capacity == 10
        assert client.post(f"/api/v1/applications/{app_id}/approve", json={}, headers=headers).status_code == 200
    assert verify(engine=engine).ok


def test_only_lost_races_count_as_conflicts():
    """Deadlocks, serialization failures, lock time-outs and SQLite busy are 409s; other errors are not."""
    import sqlite3

    from sqlalchemy.exc import IntegrityError, OperationalError

    from regionvisa import locking

    class PgError(Exception):
        def __init__(self, sqlstate):
            self.sqlstate = sqlstate

    def wrapped(orig, kind=OperationalError):
        return kind("UPDATE …", {}, orig)

    busy = sqlite3.OperationalError("database is locked")
    busy.sqlite_errorcode = 5
    full = sqlite3.OperationalError("database or disk is full")
    full.sqlite_errorcode = 13
    for state in ("40001", "40P01", "55P03"):
        assert locking.is_conflict(wrapped(PgError(state)))
    assert locking.is_conflict(wrapped(busy))
    assert not locking.is_conflict(wrapped(full))
    assert not locking.is_conflict(wrapped(PgError("57P01")))  # the server shut down: a fault, not a race
    assert not locking.is_conflict(wrapped(PgError("23505"), IntegrityError))
    with pytest.raises(locking.ConcurrentChange), locking.conflicts_answered():
        raise wrapped(PgError("40P01"))
    with pytest.raises(OperationalError), locking.conflicts_answered():
        raise wrapped(full)
