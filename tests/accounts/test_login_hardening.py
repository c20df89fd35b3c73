"""Log-in hardening (issue 14, requirement 9), through the real ASGI app and a real server on loopback:

- the per-address limit counts the connection's peer: `X-Forwarded-For` is believed only from a
  configured proxy (REGIONVISA_FORWARDED_ALLOW_IPS), never by default;
- unknown, disabled and existing accounts answer alike: same status, same page, same lock-out;
- new passwords are checked for length and against common passwords and patterns (NIST SP 800-63B);
- only failed attempts count towards the log-in limits.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.actors import SYSTEM

from regionvisa.accounts import service
from regionvisa.accounts.models import LoginLock, User
from regionvisa.accounts.settings import get_account_settings
from regionvisa.db import session_scope

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "correct-horse-battery"


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


def post_login(client, username: str, password: str = "wrong-password-1", headers: dict | None = None):
    token = CSRF.search(client.get("/login").text).group(1)
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": "/"},
        headers=headers or {},
        follow_redirects=False,
    )


def browser(app, address: str) -> TestClient:
    return TestClient(app, client=(address, 40000))


# --------------------------------------------------------------------------- proxy headers


def _keys_env() -> dict:
    """Keys for a server process when the test run has none (the server refuses to start without)."""
    if os.environ.get("REGIONVISA_SECRET_KEY"):
        return {}
    cli = Path(sys.executable).parent / "regionvisa"
    out = subprocess.run([str(cli), "keys", "new", "--env"], capture_output=True, text=True, check=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if line.startswith("REGIONVISA_"))


@contextlib.contextmanager
def server(engine, **env):
    """`regionvisa serve` on a free loopback port over the test database; yields its base URL."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    environment = {
        **os.environ,
        **_keys_env(),
        "REGIONVISA_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        **{f"REGIONVISA_{k.upper()}": str(v) for k, v in env.items()},
    }
    cli = Path(sys.executable).parent / "regionvisa"
    cmd = [str(cli), "serve", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def attempts(base: str, forwarded_for: list[str]) -> list[int]:
    """One failed log-in per entry (each for a new unknown name), sent with that X-Forwarded-For."""
    statuses = []
    for i, address in enumerate(forwarded_for):
        with httpx.Client(base_url=base, timeout=10) as client:
            statuses.append(post_login(client, f"nobody.{i}", headers={"X-Forwarded-For": address}).status_code)
    return statuses


def test_x_forwarded_for_does_not_move_the_address_limit_by_default(engine):
    """The attack: a new X-Forwarded-For per request gave every attempt a fresh address."""
    with server(engine, login_rate_address_limit=3) as base:
        assert attempts(base, ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"]) == [401, 401, 401, 429]


def test_a_configured_proxy_is_believed(engine):
    with server(engine, login_rate_address_limit=3, forwarded_allow_ips="127.0.0.1") as base:
        # the proxy's clients are counted apart ...
        assert attempts(base, ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"]) == [401] * 4
        # ... and each one against the limit
        assert attempts(base, ["198.51.100.9"] * 4) == [401, 401, 401, 429]


def test_uvicorn_gets_no_proxy_headers_unless_configured(monkeypatch):
    from regionvisa.ops.serving import ServingSettings, proxy_options

    monkeypatch.delenv("REGIONVISA_FORWARDED_ALLOW_IPS", raising=False)
    assert proxy_options() == {"proxy_headers": False, "forwarded_allow_ips": []}
    configured = ServingSettings(forwarded_allow_ips="10.0.0.5, 10.1.0.0/16")
    assert proxy_options(configured) == {"proxy_headers": True, "forwarded_allow_ips": ["10.0.0.5", "10.1.0.0/16"]}


# --------------------------------------------------------------------------- unknown and existing names alike


def _page(response, username: str) -> str:
    """The answer with what differs by construction taken out: CSRF tokens and the name typed."""
    return re.sub(r'value="[^"]*"', "", response.text).replace(username, "NAME")


def _sequence(app, username: str, password: str, n: int) -> list:
    """n wrong passwords for `username`, each from a new address (the address limit stays out)."""
    return [post_login(browser(app, f"192.0.2.{i + 1}"), username, password) for i in range(n)]


def test_unknown_disabled_and_existing_names_lock_alike(app, engine, role_users, make_user):
    """The attack: only existing accounts locked, so the lock-out told which names exist."""
    make_user("t.gone", "auditor")
    with session_scope(engine=engine) as session:
        service.update_user(
            session=session,
            actor=SYSTEM,
            user=service.get_user_by_name(session=session, username="t.gone"),
            is_active=False,
        )
    names = {"existing": "t.officer", "unknown": "nobody.here", "disabled": "t.gone"}
    answers = {kind: _sequence(app, name, "not-the-password", 6) for kind, name in names.items()}
    statuses = {kind: [r.status_code for r in rs] for kind, rs in answers.items()}
    assert statuses == {kind: [401, 401, 401, 401, 429, 429] for kind in names}
    for i in range(6):
        pages = {_page(answers[kind][i], name) for kind, name in names.items()}
        assert len(pages) == 1, f"attempt {i + 1} answers differently"
    retry = {kind: int(rs[4].headers["retry-after"]) for kind, rs in answers.items()}
    assert all(14 * 60 < r <= 15 * 60 for r in retry.values()), retry
    # the locked existing account refuses even its right password, like the others
    assert post_login(browser(app, "192.0.2.99"), "t.officer", PASSWORD).status_code == 429
    # the counters are kept by the hash of the name, never the name itself
    with session_scope(engine=engine) as session:
        rows = session.scalars(select(LoginLock)).all()
        assert {r.name_hash for r in rows} == {service.name_hash(n) for n in names.values()}
        assert not any(n in r.name_hash for r in rows for n in names.values())


def test_every_name_costs_one_password_hash(app, role_users, monkeypatch):
    """Unknown and disabled names are hashed against a dummy hash made with the same parameters."""
    calls: list[str] = []
    real = service.check_password

    def counting(password_hash: str, password: str) -> bool:
        calls.append(password_hash.split("$")[3])  # the argon2 parameters m=…,t=…,p=…
        return real(password_hash, password)

    monkeypatch.setattr(service, "check_password", counting)
    for i, name in enumerate(("t.officer", "nobody.here", "Not A Valid Name!")):
        calls.clear()
        post_login(browser(app, f"192.0.2.{50 + i}"), name)
        assert len(calls) == 1, name
        assert calls[0] == service.hash_password("x").split("$")[3], name


def test_the_right_password_clears_the_count(app, engine, role_users):
    _sequence(app, "t.officer", "not-the-password", 3)
    assert post_login(browser(app, "192.0.2.80"), "t.officer", PASSWORD).status_code == 303
    with session_scope(engine=engine) as session:
        assert session.get(LoginLock, service.name_hash("t.officer")) is None
    # four more wrong ones do not lock: the count started afresh
    assert [r.status_code for r in _sequence(app, "t.officer", "not-the-password", 4)] == [401] * 4


def test_an_administrator_sees_and_lifts_a_lock(app, engine, role_users):
    _sequence(app, "t.auditor", "not-the-password", 5)
    admin = {"Authorization": "Bearer " + _token(engine, "t.admin")}
    with TestClient(app) as client:
        user_id = role_users["auditor"]["id"]
        shown = client.get(f"/api/v1/users/{user_id}", headers=admin).json()
        assert shown["locked_until"] is not None
        others = client.get(f"/api/v1/users/{role_users['ministry_officer']['id']}", headers=admin).json()
        assert others["locked_until"] is None
        assert client.put(f"/api/v1/users/{user_id}/password", json={"password": "a-fresh-long-passphrase"},
                          headers=admin).status_code == 204  # fmt: skip
        assert client.get(f"/api/v1/users/{user_id}", headers=admin).json()["locked_until"] is None
    assert post_login(browser(app, "192.0.2.81"), "t.auditor", "a-fresh-long-passphrase").status_code == 303


def _token(engine, username: str) -> str:
    with session_scope(engine=engine) as session:
        _, plain = service.create_token(
            session=session, actor=SYSTEM, user=service.get_user_by_name(session=session, username=username), name="t"
        )
    return plain


# --------------------------------------------------------------------------- new passwords


@pytest.fixture
def admin_api(app, engine, role_users):
    with TestClient(app) as client:
        client.headers["Authorization"] = "Bearer " + _token(engine, "t.admin")
        yield client


def _create(admin_api, password: str, username: str = "kim.newcomer"):
    body = {"username": username, "display_name": "Kim Newcomer", "role": "auditor", "password": password}
    return admin_api.post("/api/v1/users", json=body)


@pytest.mark.parametrize(
    "password",
    [
        "password12",  # accepted before: long enough
        "Password1!",  # accepted before: long enough, with digits and symbols
        "qwerty123456",
        "1q2w3e4r5t6y",
        "P@ssw0rd2025",
        "iloveyou1234",
        "kim.newcomer1",  # the user name with a digit
        "newcomer2025!",  # a part of the user name
        "regionvisa2025",  # the name of the system
        "abcdefghijkl",
    ],
)
def test_common_and_guessable_passwords_are_refused(admin_api, password):
    response = _create(admin_api, password)
    assert response.status_code == 422, password
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("weak_password", "password")
    assert error["message"]["en"] and error["message"]["ko"]


def test_the_refusal_of_a_common_password_explains_itself_in_both_languages(admin_api):
    error = _create(admin_api, "Password1!").json()["error"]
    assert "common or easy to guess" in error["message"]["en"]
    assert "longer phrase" in error["message"]["en"]
    assert "추측하기 쉬운 비밀번호" in error["message"]["ko"]


@pytest.mark.parametrize(
    "password",
    ["correct-horse-battery", "Sejong-Daewang-1443", "tiny gray boats sail home", "x" * 3 + "k3#Lm9qPz!w" + "7"],
)
def test_long_unusual_passwords_are_accepted(admin_api, password):
    assert _create(admin_api, password).status_code == 201, password


def test_length_bounds(admin_api):
    settings = get_account_settings()
    assert settings.password_min_length >= 8 and settings.password_max_length >= 64
    short = _create(admin_api, "Zq8#wLp2v")  # 9 characters, hard to guess
    assert short.status_code == 422 and "at least 10 characters" in short.json()["error"]["message"]["en"]
    passphrase = " ".join(["ochre", "lantern", "migrates", "beneath", "quiet", "harbour", "tides", "again"]) * 3
    long_ok = passphrase[:128]
    assert len(long_ok) == 128
    assert _create(admin_api, long_ok, "kim.long").status_code == 201
    too_long = _create(admin_api, long_ok + "x", "kim.longer")
    assert too_long.status_code == 422 and "at most 128 characters" in too_long.json()["error"]["message"]["en"]


def test_changing_ones_own_password_to_a_common_one_is_refused_on_the_page(app, engine, role_users, login):
    with TestClient(app) as client:
        csrf = login(client, "t.officer")
        for lang, text in (("en", "common or easy to guess"), ("ko", "추측하기 쉬운 비밀번호")):
            page = client.post(
                f"/account/password?lang={lang}",
                data={
                    "current_password": PASSWORD,
                    "new_password": "Password1!",
                    "confirm_password": "Password1!",
                    "csrf_token": csrf,
                },
                follow_redirects=False,
            )
            assert page.status_code == 422 and text in page.text, lang
    with session_scope(engine=engine) as session:
        user = session.scalar(select(User).where(User.username == "t.officer"))
        assert service.check_password(user.password_hash, PASSWORD)


# --------------------------------------------------------------------------- only failures count


def test_successful_log_ins_do_not_use_up_the_limits(app, role_users, limits):
    """The attack's side effect: 20 successful log-ins from one address were refused with 429."""
    limits(login_rate_address_limit=5, login_rate_account_limit=3)
    office = browser(app, "198.51.100.20")
    statuses = [post_login(office, "t.officer", PASSWORD).status_code for _ in range(20)]
    assert statuses == [303] * 20
    # failures still count, per address and per name
    wrong = [post_login(office, "t.auditor").status_code for _ in range(4)]
    assert wrong == [401, 401, 401, 429]  # the name's limit (3) comes first
    others = [post_login(office, f"nobody.{i}").status_code for i in range(3)]
    assert others == [401, 429, 429]  # then the address's: five attempts counted (the refused one too)


def test_migration_0012_carries_the_locks_over(engine, role_users):
    """Locks and failures kept on app_user before 0012 move to the per-name table."""
    import datetime as dt

    from sqlalchemy import text, update

    from regionvisa import migrate

    migrate.downgrade(engine=engine, revision="0011")
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
    with engine.begin() as conn:
        conn.execute(update(User).where(User.username == "t.officer").values(locked_until=soon))
        conn.execute(update(User).where(User.username == "t.auditor").values(failed_logins=3))
        past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        conn.execute(update(User).where(User.username == "t.admin").values(locked_until=past))
    migrate.upgrade(engine=engine)
    with session_scope(engine=engine) as session:
        officer = service.locked_until(session=session, username="t.officer")
        assert officer is not None and abs((officer - soon).total_seconds()) < 1
        assert session.get(LoginLock, service.name_hash("t.auditor")).failures == 3
        assert session.get(LoginLock, service.name_hash("t.admin")) is None  # that lock had ended
        legacy = session.execute(text("SELECT max(failed_logins), count(locked_until) FROM app_user")).one()
        assert tuple(legacy) == (0, 0)
