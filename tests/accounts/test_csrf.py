"""CSRF on every state-changing route of every domain: a signed-in browser session that posts
without the session's token is refused, whoever it is and whatever the route."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from regionvisa.accounts.policy import PUBLIC, grant
from regionvisa.web.deps import UNSAFE_METHODS, iter_routes, route_policy


def _routewalk():
    name = "regionvisa_tests_routewalk"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("routewalk.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def test_every_state_changing_route_needs_the_csrf_token_on_a_session(
    app, engine, role_users, make_user, records, login
):
    rw = _routewalk()
    world = rw.build_world(engine, role_users, make_user, records)
    sessions = {}
    for role, info in role_users.items():
        browser = TestClient(app)
        login(browser, info["username"])
        sessions[role] = browser
    anonymous = TestClient(app)
    anonymous.get("/login")  # a session with a CSRF token, which the requests below leave out
    problems, checked = [], 0
    for route in iter_routes(app):
        action = route_policy(route)
        for method in sorted(UNSAFE_METHODS & set(route.methods)):
            if action == PUBLIC:  # anonymous API calls have no session to protect
                callers = {"auditor": sessions["auditor"]}
                if not route.path.startswith("/api/"):
                    callers["anonymous"] = anonymous
            else:
                callers = {r: c for r, c in sessions.items() if grant(rw.principal(r), action)}
            request = rw.build(route, method, world, rw.OWN)
            for caller, browser in callers.items():
                response = rw.send(browser, request)
                checked += 1
                refused = response.status_code == 403 and "CSRF" in response.text
                if not refused:
                    problems.append(f"{caller} {method} {request.url} without the token -> {response.status_code}")
    for browser in (*sessions.values(), anonymous):
        browser.close()
    assert checked >= 20
    assert problems == [], "state-changing requests accepted without the CSRF token:\n" + "\n".join(problems)


def test_a_forged_token_is_refused_and_the_right_one_accepted(client, login, role_users):
    token = login(client, "t.officer")
    forged = client.post("/api/v1/tokens", json={"name": "x"}, headers={"X-CSRF-Token": token[:-1] + "x"})
    assert forged.status_code == 403 and "CSRF" in forged.json()["error"]["message"]["en"]
    assert client.post("/api/v1/tokens", json={"name": "x"}, headers={"X-CSRF-Token": token}).status_code == 201
