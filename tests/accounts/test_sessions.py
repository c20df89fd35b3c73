"""Log-in, log-out, the session cookie, CSRF and lock-out, through the real ASGI app."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update

from regionvisa.accounts import service
from regionvisa.accounts.models import LoginLock, User, UserSession
from regionvisa.accounts.policy import Actor, grant
from regionvisa.accounts.settings import get_account_settings
from regionvisa.audit.service import verify
from regionvisa.db import session_scope

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client: TestClient, path: str = "/login") -> str:
    return CSRF.search(client.get(path).text).group(1)


def post_login(client, username, password, token=None, next_url="/"):
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token or csrf(client), "next": next_url},
        follow_redirects=False,
    )


def audit_actions(engine) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT action FROM audit_entry ORDER BY id"))]


def test_log_in_and_out(client, engine, role_users):
    officer = role_users["ministry_officer"]
    assert client.get("/api/v1/me").status_code == 401
    response = post_login(client, officer["username"], officer["password"], next_url="/account")
    assert (response.status_code, response.headers["location"]) == (303, "/account")
    me = client.get("/api/v1/me").json()
    assert (me["username"], me["role"], me["via"]) == ("t.officer", "ministry_officer", "session")
    token = csrf(client, "/account")
    out = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert client.get("/api/v1/me").status_code == 401
    assert audit_actions(engine)[-2:] == ["auth.login", "auth.logout"]
    assert verify(engine=engine).ok


def test_session_cookie_flags_and_rotation(client, role_users):
    first = client.get("/login")
    cookie = first.headers["set-cookie"]
    assert cookie.startswith("regionvisa_session=")
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
    assert f"max-age={get_account_settings().session_max_age}" in flags
    assert "secure" not in flags  # plain http in auto mode
    before_cookie = client.cookies.get("regionvisa_session")
    before_csrf = CSRF.search(first.text).group(1)
    response = post_login(client, "t.officer", "correct-horse-battery", token=before_csrf)
    assert response.status_code == 303
    after_cookie = client.cookies.get("regionvisa_session")
    assert after_cookie != before_cookie
    assert csrf(client, "/account") != before_csrf  # a fresh CSRF token after log-in
    # the pre-log-in cookie does not carry the log-in
    stale = TestClient(client.app, cookies={"regionvisa_session": before_cookie})
    assert stale.get("/api/v1/me").status_code == 401


def test_secure_flag_over_https_and_when_forced(app, monkeypatch, engine):
    with TestClient(app, base_url="https://testserver") as secure_client:
        cookie = secure_client.get("/login").headers["set-cookie"].lower()
        assert "; secure" in cookie
    monkeypatch.setenv("REGIONVISA_SESSION_HTTPS_ONLY", "true")
    get_account_settings.cache_clear()
    try:
        from regionvisa.app import create_app

        with TestClient(create_app(engine=engine)) as forced:
            assert "; secure" in forced.get("/login").headers["set-cookie"].lower()
    finally:
        monkeypatch.delenv("REGIONVISA_SESSION_HTTPS_ONLY")
        get_account_settings.cache_clear()


def test_session_is_ended_on_the_server_at_log_out(client, role_users):
    post_login(client, "t.auditor", "correct-horse-battery")
    cookie = client.cookies.get("regionvisa_session")
    client.post("/logout", data={"csrf_token": csrf(client, "/account")})
    replay = TestClient(client.app, cookies={"regionvisa_session": cookie})
    assert replay.get("/api/v1/me").status_code == 401


def test_tampered_cookie_is_ignored(client, role_users):
    post_login(client, "t.auditor", "correct-horse-battery")
    cookie = client.cookies.get("regionvisa_session")
    forged = TestClient(
        client.app, cookies={"regionvisa_session": cookie[:-2] + ("AA" if cookie[-2:] != "AA" else "BB")}
    )
    assert forged.get("/api/v1/me").status_code == 401


def test_disabling_a_user_ends_their_session(client, engine, role_users):
    post_login(client, "t.committee", "correct-horse-battery")
    assert client.get("/api/v1/me").status_code == 200
    with session_scope(engine=engine) as session:
        session.execute(update(User).where(User.username == "t.committee").values(is_active=False))
    assert client.get("/api/v1/me").status_code == 401


def test_expired_session_is_refused(client, engine, role_users):
    post_login(client, "t.committee", "correct-horse-battery")
    with session_scope(engine=engine) as session:
        session.execute(update(UserSession).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    assert client.get("/api/v1/me").status_code == 401


def test_login_form_needs_its_csrf_token(client, role_users):
    client.get("/login")
    response = client.post(
        "/login", data={"username": "t.officer", "password": "correct-horse-battery"}, follow_redirects=False
    )
    assert response.status_code == 403
    response = post_login(client, "t.officer", "correct-horse-battery", token="forged")
    assert response.status_code == 403
    assert client.get("/api/v1/me").status_code == 401


def test_state_changing_requests_on_the_session_need_the_csrf_token(client, login, role_users):
    token = login(client, "t.admin")
    body = {"username": "new.user", "display_name": "New", "role": "auditor", "password": "another-long-pass"}
    # a page form without the token, or with another one: refused
    page_form = {**body, "region": ""}
    assert client.post("/admin/users", data=page_form, follow_redirects=False).status_code == 403
    assert client.post("/admin/users", data={**page_form, "csrf_token": "x"}, follow_redirects=False).status_code == 403
    # the API on the session cookie: refused without the header, accepted with it
    refused = client.post("/api/v1/users", json=body)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert "CSRF" in refused.json()["error"]["message"]["en"]
    accepted = client.post("/api/v1/users", json=body, headers={"X-CSRF-Token": token})
    assert accepted.status_code == 201, accepted.text
    # and the page form with the token works
    ok = client.post(
        "/admin/users", data={**page_form, "username": "new.user2", "csrf_token": token}, follow_redirects=False
    )
    assert ok.status_code == 303
    # log-out is a form too
    assert client.post("/logout", follow_redirects=False).status_code == 403
    assert client.get("/api/v1/me").status_code == 200


def test_wrong_password_and_unknown_user_give_the_same_answer(client, role_users):
    wrong = post_login(client, "t.officer", "not-the-password")
    unknown = post_login(client, "nobody.here", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    strip = re.compile(r'value="[^"]*"')
    assert strip.sub("", wrong.text) == strip.sub("", unknown.text)


def _lock(engine, username: str):
    with session_scope(engine=engine) as session:
        row = session.get(LoginLock, service.name_hash(username))
        return (row.failures, row.locked_until) if row is not None else None


def test_lockout_after_five_failures_for_fifteen_minutes(client, engine, role_users):
    settings = get_account_settings()
    assert (settings.login_max_failures, settings.login_lockout_minutes) == (5, 15)
    for attempt in range(1, 5):
        assert post_login(client, "t.officer", f"wrong-{attempt}").status_code == 401
    assert _lock(engine, "t.officer") == (4, None)
    fifth = post_login(client, "t.officer", "wrong-5")
    assert fifth.status_code == 429
    # even the right password is refused while locked, without extending the lock
    failures, locked_until = _lock(engine, "t.officer")
    assert post_login(client, "t.officer", "correct-horse-battery").status_code == 429
    assert _lock(engine, "t.officer") == (failures, locked_until) and failures == 0
    until = locked_until if locked_until.tzinfo else locked_until.replace(tzinfo=dt.UTC)
    remaining = until - dt.datetime.now(dt.UTC)
    assert dt.timedelta(minutes=14) < remaining <= dt.timedelta(minutes=15)
    actions = audit_actions(engine)
    assert actions.count("auth.login_failed") == 4 and actions.count("auth.lockout") == 1
    # fifteen minutes later the right password works again and the counter starts afresh
    with session_scope(engine=engine) as session:
        session.execute(
            update(LoginLock)
            .where(LoginLock.name_hash == service.name_hash("t.officer"))
            .values(locked_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    assert post_login(client, "t.officer", "correct-horse-battery").status_code == 303
    assert _lock(engine, "t.officer") is None
    assert verify(engine=engine).ok


def test_lockout_is_per_account(client, role_users):
    for attempt in range(5):
        post_login(client, "t.officer", f"wrong-{attempt}")
    assert post_login(client, "t.auditor", "correct-horse-battery").status_code == 303


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"])
def test_log_in_never_redirects_off_site(client, role_users, target):
    response = post_login(client, "t.officer", "correct-horse-battery", next_url=target)
    assert (response.status_code, response.headers["location"]) == (303, "/")


def test_protected_page_shows_the_log_in_form_and_comes_back(client, role_users):
    page = client.get("/audit?actor=x")
    assert page.status_code == 401
    assert 'name="next" value="/audit?actor=x"' in page.text
    response = post_login(
        client, "t.auditor", "correct-horse-battery", token=CSRF.search(page.text).group(1), next_url="/audit?actor=x"
    )
    assert response.headers["location"] == "/audit?actor=x"
    assert client.get("/audit?actor=x").status_code == 200


def test_change_own_password_keeps_this_session_and_ends_others(app, client, login, role_users):
    token = login(client, "t.committee")
    other = TestClient(app)
    login(other, "t.committee")
    response = client.post(
        "/account/password",
        data={
            "current_password": "correct-horse-battery",
            "new_password": "a-new-long-password",
            "confirm_password": "a-new-long-password",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert client.get("/api/v1/me").status_code == 200
    assert other.get("/api/v1/me").status_code == 401
    fresh = TestClient(app)
    assert post_login(fresh, "t.committee", "a-new-long-password").status_code == 303


def test_wrong_current_password_is_refused(client, login, role_users):
    token = login(client, "t.committee")
    response = client.post(
        "/account/password",
        data={
            "current_password": "nope",
            "new_password": "x" * 12 + "yz12",
            "confirm_password": "x" * 12 + "yz12",
            "csrf_token": token,
        },
    )
    assert response.status_code == 422
    assert 'id="error-summary"' in response.text and '<a href="#current-password">' in response.text


def test_nav_depends_on_the_role(client, login, role_users):
    """Each role sees the entries its actions allow (later domains register more), and these
    fixed ones: administration for administrators only, the audit log for auditors only, a
    regional official's statistics link going to their own region."""
    from regionvisa.accounts import nav

    def allowed(role: str | None) -> set[str]:
        who = Actor(1, "x", "x", role, "26" if role == "regional_official" else None) if role else None
        entries = [e for e in nav.NAV if e.action is None or grant(who, e.action)]
        return {e.href(who) if callable(e.href) else e.href for e in entries}

    must = {
        "ministry_admin": ({"/", "/regions", "/admin/users", "/account"}, {"/audit"}),
        "ministry_officer": ({"/", "/regions", "/account"}, {"/audit", "/admin/users"}),
        "regional_official": ({"/", "/regions/26", "/account"}, {"/audit", "/admin/users", "/regions"}),
        "committee_member": ({"/", "/regions", "/account"}, {"/audit", "/admin/users"}),
        "auditor": ({"/", "/regions", "/audit", "/account"}, {"/admin/users"}),
    }
    anonymous = set(re.findall(r'<li><a href="([^"]+)"', client.get("/").text))
    assert anonymous == allowed(None) and "/account" not in anonymous
    for role, (present, absent) in must.items():
        login(client, role_users[role]["username"])
        shown = set(re.findall(r'<li><a href="([^"]+)"', client.get("/").text))
        assert shown == allowed(role), role
        assert present <= shown and not (absent & shown), role
        client.post("/logout", data={"csrf_token": csrf(client, "/account")})


def test_lockout_follows_its_settings_and_the_form_says_so(engine, monkeypatch, role_users):
    monkeypatch.setenv("REGIONVISA_LOGIN_MAX_FAILURES", "3")
    monkeypatch.setenv("REGIONVISA_LOGIN_LOCKOUT_MINUTES", "2")
    get_account_settings.cache_clear()
    try:
        from regionvisa.app import create_app

        with TestClient(create_app(engine=engine)) as browser:
            form = browser.get("/login?lang=en").text
            assert "After 3 failed attempts the account is locked for 2 minutes." in form
            assert "3번 실패하면 계정이 2분 동안 잠깁니다." in browser.get("/login?lang=ko").text
            statuses = [post_login(browser, "t.auditor", f"wrong-{i}").status_code for i in range(3)]
            assert statuses == [401, 401, 429]
            assert post_login(browser, "t.auditor", "correct-horse-battery").status_code == 429
    finally:
        get_account_settings.cache_clear()


def _seen(engine, ago: dt.timedelta) -> None:
    with session_scope(engine=engine) as session:
        session.execute(update(UserSession).values(last_seen_at=dt.datetime.now(dt.UTC) - ago))


def test_idle_session_ends_and_activity_keeps_it_alive(client, engine, role_users):
    assert get_account_settings().session_idle_timeout == 30 * 60
    post_login(client, "t.committee", "correct-horse-battery")
    _seen(engine, dt.timedelta(minutes=29))
    assert client.get("/api/v1/me").status_code == 200  # seen again: the idle clock restarts
    with session_scope(engine=engine) as session:
        last_seen = session.scalar(select(UserSession.last_seen_at))
    last_seen = last_seen if last_seen.tzinfo else last_seen.replace(tzinfo=dt.UTC)
    assert dt.datetime.now(dt.UTC) - last_seen < dt.timedelta(minutes=1)
    _seen(engine, dt.timedelta(minutes=31))
    assert client.get("/api/v1/me").status_code == 401
    # and it stays ended: activity after the timeout does not revive it
    _seen(engine, dt.timedelta(minutes=31))
    assert client.get("/api/v1/me").status_code == 401


def test_idle_timeout_follows_its_setting(client, engine, monkeypatch, role_users):
    monkeypatch.setenv("REGIONVISA_SESSION_IDLE_TIMEOUT", "120")
    get_account_settings.cache_clear()
    try:
        post_login(client, "t.committee", "correct-horse-battery")
        _seen(engine, dt.timedelta(seconds=100))
        assert client.get("/api/v1/me").status_code == 200
        _seen(engine, dt.timedelta(seconds=130))
        assert client.get("/api/v1/me").status_code == 401
    finally:
        monkeypatch.delenv("REGIONVISA_SESSION_IDLE_TIMEOUT")
        get_account_settings.cache_clear()


def test_absolute_expiry_holds_however_active_the_session(client, engine, role_users):
    post_login(client, "t.committee", "correct-horse-battery")
    with session_scope(engine=engine) as session:
        created, expires = session.execute(select(UserSession.created_at, UserSession.expires_at)).one()
    assert (expires - created).total_seconds() == get_account_settings().session_max_age
    with session_scope(engine=engine) as session:
        session.execute(update(UserSession).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    _seen(engine, dt.timedelta(seconds=0))
    assert client.get("/api/v1/me").status_code == 401


def test_log_in_over_a_log_in_ends_the_earlier_session(client, engine, role_users):
    post_login(client, "t.auditor", "correct-horse-battery")
    earlier = client.cookies.get("regionvisa_session")
    response = post_login(client, "t.officer", "correct-horse-battery", token=csrf(client, "/account"))
    assert response.status_code == 303
    assert client.get("/api/v1/me").json()["username"] == "t.officer"
    assert client.cookies.get("regionvisa_session") != earlier
    replay = TestClient(client.app, cookies={"regionvisa_session": earlier})
    assert replay.get("/api/v1/me").status_code == 401
    with session_scope(engine=engine) as session:
        states = session.execute(select(UserSession.user_id, UserSession.revoked_at).order_by(UserSession.created_at))
        assert [revoked is not None for _, revoked in states] == [True, False]
