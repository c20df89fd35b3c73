"""The API conventions of docs/api.md, checked on the running application: /api/v1 and its
OpenAPI document, the one error shape with its status codes, paginated lists, the generated
permission table."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from tests.actors import SYSTEM

from regionvisa.accounts import service
from regionvisa.accounts.policy import policy_markdown
from regionvisa.db import session_scope
from regionvisa.web.deps import iter_routes

ROOT = Path(__file__).resolve().parents[2]
PAGE_META = {"page", "page_size", "total", "pages"}


def _routewalk():
    name = "regionvisa_tests_routewalk"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / "accounts" / "routewalk.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture
def tokens(engine, role_users) -> dict[str, dict]:
    out = {}
    with session_scope(engine=engine) as session:
        for role, info in role_users.items():
            _, plain = service.create_token(
                session=session, actor=SYSTEM, user=service.get_user(session=session, user_id=info["id"]), name="t"
            )
            out[role] = {"Authorization": f"Bearer {plain}"}
    return out


def assert_error(response, status: int, code: str | None = None, field: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.text[:300])
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert set(error["message"]) == {"ko", "en"} and all(error["message"].values())
    assert set(error) <= {"code", "message", "field", "details"}
    if code:
        assert error["code"] == code
    if field:
        assert error["field"] == field
    return error


def test_everything_lives_under_api_v1_with_openapi(client, app):
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200 and spec.json()["openapi"].startswith("3.")
    paths = spec.json()["paths"]
    assert paths and all(path.startswith("/api/v1/") for path in paths)
    for route in iter_routes(app):
        if route.path.startswith("/api/"):
            assert route.path.startswith("/api/v1/"), route.path
    assert "/api/v1/users" in paths and "/api/v1/audit" in paths
    assert client.get("/api/v1/docs").status_code == 200


def test_openapi_documents_the_error_shape_and_the_bearer_scheme(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    error_ref = "#/components/schemas/ErrorBody"
    for path in ("/api/v1/users", "/api/v1/audit", "/api/v1/tokens"):
        responses = spec["paths"][path]["get"]["responses"]
        for status in ("400", "401", "403", "404", "409", "422"):
            assert responses[status]["content"]["application/json"]["schema"]["$ref"] == error_ref, (path, status)


def test_each_status_code_has_the_one_error_shape(client, tokens, role_users):
    admin, auditor = tokens["ministry_admin"], tokens["auditor"]
    body = {"username": "kim.new", "display_name": "Kim", "role": "auditor", "password": "a-long-password-1"}
    # 400: not JSON at all
    bad = client.post("/api/v1/users", content=b'{"username": ', headers={**admin, "Content-Type": "application/json"})
    assert "not valid JSON" in assert_error(bad, 400, "bad_request")["message"]["en"]
    # 401: no credentials; a revoked or unknown token
    assert_error(client.get("/api/v1/users"), 401, "unauthenticated")
    assert_error(client.get("/api/v1/users", headers={"Authorization": "Bearer rvt_nope"}), 401, "invalid_token")
    # 403: the role lacks the action; a regional official asking for another region
    assert_error(client.post("/api/v1/users", json=body, headers=auditor), 403, "forbidden")
    busan = tokens["regional_official"]
    assert_error(client.get("/api/v1/records/residents?region=11", headers=busan), 403, "forbidden")
    # 404: no such object; no such endpoint
    assert_error(client.get("/api/v1/users/999999", headers=admin), 404, "not_found")
    assert_error(client.get("/api/v1/nowhere", headers=admin), 404, "not_found")
    # 409: conflicts with the current state
    assert client.post("/api/v1/users", json=body, headers=admin).status_code == 201
    assert_error(client.post("/api/v1/users", json=body, headers=admin), 409, "username_taken", "username")
    # 422: well-formed but invalid, naming the field
    missing = assert_error(
        client.post("/api/v1/users", json={"username": "x.y"}, headers=admin), 422, "invalid", "display_name"
    )
    assert {d["field"] for d in missing["details"]} >= {"display_name", "role", "password"}
    assert_error(
        client.post("/api/v1/users", json={**body, "username": "kim.two", "password": "short"}, headers=admin),
        422,
        "weak_password",
        "password",
    )
    assert_error(client.get("/api/v1/audit?page=0", headers=auditor), 422, "invalid", "page")


def test_pages_answer_errors_with_a_page_in_their_language(client, login, role_users):
    login(client, "t.admin")
    page = client.get("/admin/users?page=many")
    assert page.status_code == 422 and page.headers["content-type"].startswith("text/html")
    assert "쪽 번호: ‘many’은(는) 쪽 번호가 아닙니다" in page.text  # the field's label and the value typed
    english = client.get("/admin/users/999999?lang=en")
    assert english.status_code == 404 and "user not found" in english.text and 'lang="en"' in english.text


def test_every_list_endpoint_is_paginated(app, client, engine, role_users, make_user, records):
    """Every GET endpoint whose answer holds a list of items pages it with the same fields."""
    rw = _routewalk()
    world = rw.build_world(engine, role_users, make_user, records)
    problems, lists = [], 0
    for route in iter_routes(app):
        if not route.path.startswith("/api/v1/") or "GET" not in route.methods or route.path.endswith("openapi.json"):
            continue
        url = rw.build(route, "GET", world, rw.OWN).url
        for role in ("ministry_admin", "auditor", "regional_official"):
            response = client.get(url, headers={"Authorization": f"Bearer {world.tokens[role]}"})
            if response.status_code == 200:
                break
        if response.status_code != 200 or not response.headers["content-type"].startswith("application/json"):
            continue
        body = response.json()
        if isinstance(body, list):
            problems.append(f"{route.path}: answers a bare list; use {{'items': [...], 'page', ...}}")
            continue
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            continue
        lists += 1
        if not set(body) >= PAGE_META:
            problems.append(f"{route.path}: a list without {sorted(PAGE_META - set(body))}")
            continue
        query = {q.name for q in route.dependant.query_params}
        if not {"page", "page_size"} <= query:
            problems.append(f"{route.path}: no page/page_size query parameters")
            continue
        sep = "&" if "?" in url else "?"
        one = client.get(f"{url}{sep}page_size=1", headers={"Authorization": f"Bearer {world.tokens[role]}"}).json()
        if len(one["items"]) > 1 or one["page_size"] != 1 or one["total"] != body["total"]:
            problems.append(f"{route.path}: page_size=1 is not obeyed")
    assert lists >= 5
    assert problems == [], "list endpoints not paginated as docs/api.md says:\n" + "\n".join(problems)


def test_policy_table_is_documented_and_served(client, tokens):
    documented = (ROOT / "docs" / "permissions.md").read_text(encoding="utf-8")
    assert documented == policy_markdown(), "docs/permissions.md is stale: run `regionvisa users policy`"
    served = client.get("/api/v1/policy?page_size=500", headers=tokens["auditor"]).json()
    names = [row["action"] for row in served["items"]]
    assert served["total"] == len(names) and "selection.read" in names
    for row in served["items"]:
        assert f"| `{row['action']}` |" in documented


def test_api_doc_states_the_conventions():
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    for needle in (
        "/api/v1/openapi.json",
        '{"error": {"code"',
        "page_size",
        "Authorization: Bearer",
        "X-CSRF-Token",
        "SameSite=Lax",
        "permissions.md",
    ):
        assert needle in text, needle
    for status in ("400", "401", "403", "404", "409", "422"):
        assert f"| {status} |" in text, status
