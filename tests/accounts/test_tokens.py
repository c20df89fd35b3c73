"""API bearer tokens: created by the user or an administrator, stored hashed, shown once, revocable."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

from fastapi.testclient import TestClient
from sqlalchemy import select, text, update
from tests.actors import SYSTEM

from regionvisa.accounts import service
from regionvisa.accounts.models import ApiToken
from regionvisa.db import session_scope


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_create_use_and_revoke_a_token(app, client, login, engine, role_users):
    csrf = login(client, "t.officer")
    created = client.post("/api/v1/tokens", json={"name": "ci"}, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    body = created.json()
    plain = body["token"]
    assert plain.startswith("rvt_") and len(plain) > 40
    assert body["prefix"] == plain[:12]
    # stored only as its SHA-256
    with engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM api_token WHERE id = :id"), {"id": body["id"]}).mappings().one()
    assert row["token_hash"] == hashlib.sha256(plain.encode()).hexdigest()
    assert plain not in str(dict(row))
    # listed without the plain text
    listed = client.get("/api/v1/tokens").json()
    assert listed["total"] == 1 and "token" not in listed["items"][0]
    # usable by a client without cookies, and exempt from CSRF
    api = TestClient(app)
    me = api.get("/api/v1/me", headers=bearer(plain)).json()
    assert (me["username"], me["via"]) == ("t.officer", "token")
    assert api.post("/api/v1/tokens", json={"name": "second"}, headers=bearer(plain)).status_code == 201
    # revoked: refused at once
    assert api.delete(f"/api/v1/tokens/{body['id']}", headers=bearer(plain)).status_code == 204
    refused = api.get("/api/v1/me", headers=bearer(plain))
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "invalid_token"
    assert refused.headers["www-authenticate"] == "Bearer"
    with engine.connect() as conn:
        actions = [r[0] for r in conn.execute(text("SELECT action FROM audit_entry WHERE action LIKE 'tokens.%'"))]
    assert actions == ["tokens.create", "tokens.create", "tokens.revoke"]


def test_malformed_and_unknown_tokens_are_refused(client):
    for header in ("Bearer rvt_unknown", "Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer " + "rvt_" + "x" * 200):
        response = client.get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 401, header
    # public routes stay public even with a bad token
    assert client.get("/api/v1/health", headers={"Authorization": "Bearer rvt_unknown"}).status_code == 200


def test_expired_token_is_refused(engine, client, role_users):
    with session_scope(engine=engine) as session:
        user = service.get_user(session=session, user_id=role_users["auditor"]["id"])
        token, plain = service.create_token(session=session, actor=SYSTEM, user=user, name="short", expires_days=1)
        token_id = token.id
    assert client.get("/api/v1/me", headers=bearer(plain)).status_code == 200
    with session_scope(engine=engine) as session:
        session.execute(
            update(ApiToken).where(ApiToken.id == token_id).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(1))
        )
    assert client.get("/api/v1/me", headers=bearer(plain)).status_code == 401


def test_disabled_users_tokens_stop_working(engine, client, role_users):
    with session_scope(engine=engine) as session:
        user = service.get_user(session=session, user_id=role_users["auditor"]["id"])
        _, plain = service.create_token(session=session, actor=SYSTEM, user=user, name="t")
        service.update_user(session=session, actor=SYSTEM, user=user, is_active=False)
    assert client.get("/api/v1/me", headers=bearer(plain)).status_code == 401


def test_only_the_owner_or_an_administrator_manages_a_token(engine, client, role_users):
    with session_scope(engine=engine) as session:
        tokens = {
            role: service.create_token(
                session=session, actor=SYSTEM, user=service.get_user(session=session, user_id=info["id"]), name=role
            )
            for role, info in role_users.items()
        }
    auditor_token_id = tokens["auditor"][0].id
    officer = bearer(tokens["ministry_officer"][1])
    admin = bearer(tokens["ministry_admin"][1])
    # someone else's token is not even visible
    assert client.delete(f"/api/v1/tokens/{auditor_token_id}", headers=officer).status_code == 404
    assert client.get(f"/api/v1/tokens?user_id={role_users['auditor']['id']}", headers=officer).status_code == 403
    created_for_other = client.post(
        "/api/v1/tokens", json={"name": "x", "user_id": role_users["auditor"]["id"]}, headers=officer
    )
    assert created_for_other.status_code == 403
    # an administrator may list, create and revoke anyone's
    listed = client.get(f"/api/v1/tokens?user_id={role_users['auditor']['id']}", headers=admin).json()
    assert [t["id"] for t in listed["items"]] == [auditor_token_id]
    made = client.post(
        "/api/v1/tokens", json={"name": "for auditor", "user_id": role_users["auditor"]["id"]}, headers=admin
    )
    assert made.status_code == 201 and made.json()["user_id"] == role_users["auditor"]["id"]
    assert client.delete(f"/api/v1/tokens/{auditor_token_id}", headers=admin).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(tokens["auditor"][1])).status_code == 401
    with session_scope(engine=engine) as session:
        revoked = session.get(ApiToken, auditor_token_id)
        assert revoked.revoked_by == "t.admin"


def test_token_page_shows_the_token_once(client, login, engine, role_users):
    csrf = login(client, "t.committee")
    page = client.post("/account/tokens", data={"name": "laptop", "expires_days": "30", "csrf_token": csrf})
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    plain = re.search(r'id="new-token" value="(rvt_[^"]+)"', page.text).group(1)
    assert client.get("/api/v1/me", headers=bearer(plain)).status_code == 200
    again = client.get("/account")
    assert plain not in again.text and plain[:12] in again.text
    with session_scope(engine=engine) as session:
        token_id = session.scalar(select(ApiToken.id).where(ApiToken.name == "laptop"))
    revoked = client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf}, follow_redirects=False)
    assert revoked.status_code == 303
    assert client.get("/api/v1/me", headers=bearer(plain)).status_code == 401
    # without the CSRF token the page refuses to create one
    assert client.post("/account/tokens", data={"name": "x", "expires_days": "30"}).status_code == 403
