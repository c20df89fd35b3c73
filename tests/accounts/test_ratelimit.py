"""Rate limits on log-in and on the public matching endpoints, through the real ASGI app, with the
clock moved by the test (app.state.rate_limit_clock) instead of waiting for windows to pass."""

from __future__ import annotations

import re
import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from regionvisa.accounts import ratelimit, service
from regionvisa.accounts.models import LoginLock, RateLimitHit
from regionvisa.accounts.settings import get_account_settings
from regionvisa.db import session_scope

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
MATCH = {"on": "2026-06-01", "applicant": {"age": 30}}
T0 = 1_800_000.5  # 1_800_000 is a multiple of 60, 300 and 900: half a second into a window


@pytest.fixture
def limits(monkeypatch):
    """limits(NAME=value, …) sets REGIONVISA_<NAME> for the rest of the test."""

    def set_(**values):
        for name, value in values.items():
            monkeypatch.setenv(f"REGIONVISA_{name.upper()}", str(value))
        get_account_settings.cache_clear()

    yield set_
    monkeypatch.undo()
    get_account_settings.cache_clear()


@pytest.fixture
def clock(app):
    now = [T0]
    app.state.rate_limit_clock = lambda: now[0]
    return now


def browser(app, address: str) -> TestClient:
    return TestClient(app, client=(address, 40000))


def post_login(client: TestClient, username: str, password: str = "wrong-password-1"):
    token = CSRF.search(client.get("/login").text).group(1)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )


def assert_rate_limited(response, retry_after: int) -> None:
    assert response.status_code == 429
    assert response.headers["retry-after"] == str(retry_after)


# --------------------------------------------------------------------------- matching


def test_match_limit_triggers_in_the_error_shape_and_resets_after_the_window(app, client, clock, limits):
    limits(match_rate_limit=3, match_rate_window=60)
    assert [client.post("/api/v1/match", json=MATCH).status_code for _ in range(3)] == [200, 200, 200]
    refused = client.post("/api/v1/match", json=MATCH)
    assert_rate_limited(refused, 60)  # 59.5 s left, rounded up
    assert refused.json() == {
        "error": {
            "code": "rate_limited",
            "message": {
                "ko": "요청이 너무 많습니다. 60초 뒤에 다시 시도하십시오",
                "en": "too many requests; try again in 60 seconds",
            },
        }
    }
    clock[0] = T0 + 50  # still the same window: still refused, with less to wait
    assert_rate_limited(client.post("/api/v1/match", json=MATCH), 10)
    clock[0] = T0 + 59.5  # the next window
    assert client.post("/api/v1/match", json=MATCH).status_code == 200


def test_match_limit_is_per_client_address(app, clock, limits):
    limits(match_rate_limit=2, match_rate_window=60)
    first, second = browser(app, "192.0.2.1"), browser(app, "192.0.2.2")
    for _ in range(2):
        assert first.post("/api/v1/match", json=MATCH).status_code == 200
    assert first.post("/api/v1/match", json=MATCH).status_code == 429
    assert second.post("/api/v1/match", json=MATCH).status_code == 200
    assert second.post("/api/v1/match", json=MATCH).status_code == 200
    assert second.post("/api/v1/match", json=MATCH).status_code == 429


def test_match_page_shares_the_limit_and_answers_with_a_page(app, client, clock, limits):
    limits(match_rate_limit=2, match_rate_window=60)
    assert client.post("/api/v1/match", json=MATCH).status_code == 200
    token = CSRF.search(client.get("/match").text).group(1)
    form = {"on": "2026-06-01", "age": "30", "csrf_token": token}
    assert client.post("/match", data=form).status_code == 200
    for lang, text in (("en", "too many requests; try again in 60 seconds"), ("ko", "60초 뒤에 다시 시도하십시오")):
        page = client.post(f"/match?lang={lang}", data=form)
        assert_rate_limited(page, 60)
        assert page.headers["content-type"].startswith("text/html")
        assert text in page.text
    # the form itself (GET) is not counted
    assert client.get("/match").status_code == 200


def test_limits_can_be_switched_off(app, client, clock, limits):
    limits(match_rate_limit=1, rate_limits_enabled="false")
    assert {client.post("/api/v1/match", json=MATCH).status_code for _ in range(3)} == {200}
    limits(match_rate_limit=0, rate_limits_enabled="true")  # a limit of 0 turns one rule off
    assert {client.post("/api/v1/match", json=MATCH).status_code for _ in range(3)} == {200}


# --------------------------------------------------------------------------- log-in


def test_login_limit_per_address_covers_every_account_name(app, clock, limits, role_users):
    limits(login_rate_address_limit=3, login_rate_address_window=300)
    attacker, neighbour = browser(app, "198.51.100.7"), browser(app, "198.51.100.8")
    statuses = [post_login(attacker, name).status_code for name in ("t.officer", "t.auditor", "nobody.here")]
    assert statuses == [401, 401, 401]
    refused = post_login(attacker, "t.committee", "correct-horse-battery")  # even the right password
    assert_rate_limited(refused, 300)
    assert "로그인 시도가 너무 많습니다. 300초 뒤에 다시 시도하십시오." in refused.text
    assert attacker.get("/api/v1/me").status_code == 401
    assert post_login(neighbour, "t.committee", "correct-horse-battery").status_code == 303
    clock[0] = T0 + 300
    assert post_login(attacker, "t.committee", "correct-horse-battery").status_code == 303


def test_login_limit_per_account_name_across_addresses(app, engine, clock, limits, role_users):
    limits(login_rate_account_limit=3, login_rate_account_window=900, login_max_failures=100)
    statuses = [post_login(browser(app, f"203.0.113.{i}"), "T.Officer ").status_code for i in range(3)]
    assert statuses == [401, 401, 401]
    refused = post_login(browser(app, "203.0.113.99"), "t.officer", "correct-horse-battery")
    assert_rate_limited(refused, 900)
    assert post_login(browser(app, "203.0.113.99"), "t.auditor", "correct-horse-battery").status_code == 303
    # unknown names are limited too (the lock-out cannot count them: there is no account)
    for _ in range(3):
        assert post_login(browser(app, "203.0.113.50"), "no.such.user").status_code == 401
    assert post_login(browser(app, "203.0.113.51"), "no.such.user").status_code == 429
    # the refused attempts did not reach the password check: no failure was counted for them
    with session_scope(engine=engine) as session:
        assert session.get(LoginLock, service.name_hash("t.officer")).failures == 3


def test_lockout_answer_says_when_to_retry(client, role_users):
    for attempt in range(4):
        post_login(client, "t.officer", f"wrong-{attempt}")
    locked = post_login(client, "t.officer", "wrong-5")
    assert locked.status_code == 429
    assert 14 * 60 < int(locked.headers["retry-after"]) <= 15 * 60


# --------------------------------------------------------------------------- the counter itself


def test_counter_is_atomic_across_concurrent_connections(engine):
    """Each thread has its own connection, as separate server processes would: every hit is
    counted once and exactly `limit` of them are allowed."""
    rule = ratelimit.Rule("match.address", 25, 60)
    results: list[ratelimit.Decision] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker():
        start.wait()
        for _ in range(5):
            decision = ratelimit.hit(engine=engine, rule=rule, client="192.0.2.9", now=T0)
            with lock:
                results.append(decision)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(d.hits for d in results) == list(range(1, 41))
    assert sum(d.allowed for d in results) == 25
    with session_scope(engine=engine) as session:
        assert session.scalar(select(RateLimitHit.hits)) == 40


def test_passed_windows_are_swept_and_clients_are_not_stored_in_clear(engine):
    rule = ratelimit.Rule("login.address", 5, 60)
    ratelimit.hit(engine=engine, rule=rule, client="192.0.2.10", now=T0)
    ratelimit.hit(engine=engine, rule=rule, client="192.0.2.11", now=T0)
    with session_scope(engine=engine) as session:
        buckets = session.scalars(select(RateLimitHit.bucket)).all()
    assert len(buckets) == 2 and not any("192.0.2" in b for b in buckets)
    assert all(b.startswith("login.address:") for b in buckets)
    ratelimit.hit(engine=engine, rule=rule, client="192.0.2.10", now=T0 + 60)  # a new window: the old ones go
    with session_scope(engine=engine) as session:
        assert session.scalar(select(func.count()).select_from(RateLimitHit)) == 1
        assert session.scalar(select(RateLimitHit.window_start)) == 1_800_060
