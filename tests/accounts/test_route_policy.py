"""Every registered route × every role (and anonymous) against the permission policy.

The walk fails when a route declares no policy, when anonymous callers reach a protected
route, when a role without the action gets anything but 403, when a role with the action is
refused, and when a regional official reaches another region through a region parameter.
"""

from __future__ import annotations

import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from regionvisa.accounts import policy, service
from regionvisa.accounts.policy import OWN_REGION, PUBLIC, ROLES, grant, iter_routes, route_policy
from regionvisa.db import session_scope

OTHER_REGION = "11"  # Seoul; the regional official is Busan's (26)
OWN = "26"
PARAM = re.compile(r"{(\w+)(?::\w+)?}")


@pytest.fixture
def world(app, engine, role_users, make_user, records):
    """Bearer tokens per role, a target user with a token, and a user for the log-in route."""
    target_id = make_user("t.target", "ministry_officer")
    make_user("t.walker", "committee_member")
    tokens = {}
    with session_scope(engine) as session:
        for role, info in role_users.items():
            _, tokens[role] = service.create_token(
                session, actor="test", user=service.get_user(session, info["id"]), name="walk"
            )
        target_token, _ = service.create_token(
            session, actor="test", user=service.get_user(session, target_id), name="target"
        )
        target_token_id = target_token.id
    return {"tokens": tokens, "user_id": target_id, "token_id": target_token_id}


def region_params(route) -> tuple[list[str], list[str]]:
    """(path parameters, query parameters) that name a region."""
    path = [p for p in PARAM.findall(route.path) if p in ("code", "region")]
    query = []
    if route.dependant is not None:
        query = [q.name for q in route.dependant.query_params if q.name == "region"]
    return path, query


def url_for(route, world, region: str) -> str:
    samples = {"code": region, "region": region, "kind": "people", "user_id": world["user_id"]}
    samples["token_id"] = world["token_id"]

    def fill(match: re.Match) -> str:
        name = match.group(1)
        assert name in samples, f"add a sample value for path parameter {{{name}}} of {route.path}"
        return str(samples[name])

    url = PARAM.sub(fill, route.path)
    if route.path == "/static":
        url = "/static/style.css"
    _, query = region_params(route)
    if query:
        url += f"?region={region}"
    return url


def send(client: TestClient, method: str, url: str, *, headers=None):
    data = None
    if url == "/login" and method == "POST":
        data = {"username": "t.walker", "password": "correct-horse-battery", "next": "/"}
    return client.request(method, url, headers=headers or {}, data=data, follow_redirects=False)


def anonymous(app: FastAPI, method: str, url: str):
    """A fresh browser each time, holding the CSRF token of its own session."""
    with TestClient(app) as browser:
        headers = {}
        if method in policy.UNSAFE_METHODS:
            page = browser.get("/login")
            headers["X-CSRF-Token"] = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        return send(browser, method, url, headers=headers)


def test_every_route_declares_a_policy(app):
    routes = iter_routes(app)
    assert len(routes) > 20
    undeclared = [f"{r.methods} {r.path}" for r in routes if route_policy(r) is None]
    assert undeclared == [], "routes without a permission policy: " + ", ".join(undeclared)
    assert policy.undeclared_routes(app) == []


def test_an_undeclared_route_stops_the_app(engine, monkeypatch):
    from regionvisa.accounts import pages

    monkeypatch.setattr(pages.router, "routes", list(pages.router.routes))
    pages.router.add_api_route("/forgotten", lambda: {"x": 1}, methods=["GET"])
    from regionvisa.app import create_app

    with pytest.raises(RuntimeError, match="GET /forgotten: no policy"):
        create_app(engine)


def test_walk_every_route_with_every_role(app, world):
    checked = 0
    with TestClient(app) as client:
        for route in iter_routes(app):
            action = route_policy(route)
            path_regions, query_regions = region_params(route)
            takes_region = bool(path_regions or query_regions)
            for method in route.methods:
                if method == "HEAD":
                    continue
                url = url_for(route, world, OTHER_REGION)
                # anonymous
                response = anonymous(app, method, url)
                where = f"anonymous {method} {url}"
                if action == PUBLIC:
                    assert response.status_code not in (401, 403), where
                else:
                    assert response.status_code == 401, (where, response.status_code, response.text[:300])
                    if url.startswith("/api/"):
                        assert response.json()["error"]["code"] == "unauthenticated", where
                # every role, by bearer token
                for role in ROLES:
                    headers = {"Authorization": f"Bearer {world['tokens'][role]}"}
                    response = send(client, method, url, headers=headers)
                    where = f"{role} {method} {url} -> {response.status_code} {response.text[:200]}"
                    if action == PUBLIC:
                        assert response.status_code not in (401, 403), where
                        continue
                    scope = grant(_principal(role), action)
                    if scope is None:
                        assert response.status_code == 403, where
                        if url.startswith("/api/"):
                            assert response.json()["error"]["code"] == "forbidden", where
                    elif scope == OWN_REGION and takes_region:
                        assert response.status_code == 403, "a regional official reached another region: " + where
                        own = send(client, method, url_for(route, world, OWN), headers=headers)
                        assert own.status_code not in (401, 403), f"refused its own region: {where}"
                    else:
                        assert response.status_code not in (401, 403), where
                    checked += 1
    assert checked >= 100


def _principal(role: str) -> policy.Principal:
    region = OWN if role == "regional_official" else None
    return policy.Principal(id=0, username=role, display_name=role, role=role, region=region)


def test_regional_official_sees_only_their_region(client, app, world, records):
    headers = {"Authorization": f"Bearer {world['tokens']['regional_official']}"}
    everyone = client.get("/api/v1/records/residents", headers=headers)
    assert everyone.status_code == 200
    body = everyone.json()
    assert body["region"] == OWN
    assert {item["region"] for item in body["items"]} == {OWN}
    assert sorted(item["person_id"] for item in body["items"]) == sorted(records[OWN])
    assert body["total"] == len(records[OWN])
    assert client.get(f"/api/v1/records/residents?region={OWN}", headers=headers).json()["items"] == body["items"]
    assert client.get(f"/api/v1/records/residents?region={OTHER_REGION}", headers=headers).status_code == 403
    detail = client.get(f"/api/v1/stats/regions/{OWN}", headers=headers).json()
    assert detail["residents"] == len(records[OWN])
    page = client.get(f"/regions/{OWN}", headers=headers)
    assert page.status_code == 200
    assert all(pid in page.text for pid in records[OWN])
    assert not any(pid in page.text for pid in records[OTHER_REGION])
    assert client.get(f"/regions/{OTHER_REGION}", headers=headers).status_code == 403
    # the region index sends a regional official to their own region, whatever they ask
    hop = client.get(f"/regions?code={OTHER_REGION}", headers=headers, follow_redirects=False)
    assert (hop.status_code, hop.headers["location"]) == (303, f"/regions/{OWN}")
    officer = {"Authorization": f"Bearer {world['tokens']['ministry_officer']}"}
    all_regions = client.get("/api/v1/records/residents", headers=officer).json()
    assert all_regions["total"] == sum(len(v) for v in records.values())
    assert client.get(f"/regions/{OTHER_REGION}", headers=officer).status_code == 200


def test_region_index_lands_a_regional_official_on_their_region(client, world):
    headers = {"Authorization": f"Bearer {world['tokens']['regional_official']}"}
    hop = client.get("/regions", headers=headers, follow_redirects=False)
    assert hop.headers["location"] == f"/regions/{OWN}"
