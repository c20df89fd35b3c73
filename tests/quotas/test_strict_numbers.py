"""`{"amount": true}` is not one place: JSON numbers in request bodies are strict.

Pydantic's lax mode reads `true` as 1 (and `"5"` as 5); a quota adjustment of `true` used to add a
place. Every integer and number field of every JSON request body now refuses booleans, found by a
walk of the OpenAPI document, so a field added later is covered too.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.actors import SYSTEM

from regionvisa.accounts import service as accounts
from regionvisa.db import session_scope
from regionvisa.quotas import service as quotas


def numeric_fields(spec: dict) -> list[tuple[str, str, tuple, str]]:
    """(method, path, location in the body, "integer" | "number") for every JSON request body field."""
    schemas = spec["components"]["schemas"]
    found: list[tuple[str, str, tuple, str]] = []

    def walk(schema: dict, where: tuple, seen: frozenset, route: tuple[str, str]) -> None:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name in seen:
                return
            schema, seen = schemas[name], seen | {name}
        for variant in schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", []):
            walk(variant, where, seen, route)
        if schema.get("type") in ("integer", "number"):
            found.append((*route, where, schema["type"]))
        for name, sub in schema.get("properties", {}).items():
            walk(sub, (*where, name), seen, route)
        if isinstance(schema.get("items"), dict):
            walk(schema["items"], (*where, 0), seen, route)
        if isinstance(schema.get("additionalProperties"), dict):
            walk(schema["additionalProperties"], (*where, "k"), seen, route)

    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            content = (operation.get("requestBody") or {}).get("content", {})
            if "application/json" in content:
                walk(content["application/json"]["schema"], (), frozenset(), (method.upper(), path))
    return sorted(set(found), key=str)


def body_with(where: tuple, value) -> object:
    """The smallest JSON body that puts `value` at `where` (other fields left out)."""
    if not where:
        return value
    head, rest = where[0], where[1:]
    return [body_with(rest, value)] if isinstance(head, int) else {head: body_with(rest, value)}


def field_name(where: tuple) -> str:
    out = ""
    for part in where:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


@pytest.fixture
def bearer(engine, role_users) -> dict[str, dict]:
    out = {}
    with session_scope(engine=engine) as session:
        for role, info in role_users.items():
            _, plain = accounts.create_token(
                session=session, actor=SYSTEM, user=accounts.get_user(session=session, user_id=info["id"]), name="t"
            )
            out[role] = {"Authorization": f"Bearer {plain}"}
    return out


def test_every_numeric_body_field_refuses_true(app, bearer):
    with TestClient(app) as client:
        fields = numeric_fields(client.get("/api/v1/openapi.json").json())
        assert ("POST", "/api/v1/quotas/ledgers/{ledger_id}/adjustments", ("amount",), "integer") in fields
        assert len(fields) >= 20
        lax = []
        for method, path, where, kind in fields:
            url = path.replace("{", "").replace("}", "")  # {ledger_id} -> ledger_id: never looked up
            url = "/".join(
                "1" if part.endswith("_id") or part in ("region", "code") else part for part in url.split("/")
            )
            wanted = "valid integer" if kind == "integer" else "valid number"
            refused = False
            for headers in bearer.values():  # whichever role may call the route reaches validation
                response = client.request(method, url, json=body_with(where, True), headers=headers)
                if response.status_code != 422:
                    continue
                details = response.json()["error"].get("details", [])
                name = field_name(where)
                if any(d["field"] == name and wanted in d["message"] for d in details):
                    refused = True
                    break
            if not refused:
                lax.append(f"{method} {path} {field_name(where)} ({kind})")
        assert lax == [], "fields that still read true as a number:\n" + "\n".join(lax)


def test_an_adjustment_of_true_changes_nothing(app, engine, bearer, test_data):
    test_data.publish_busan(engine, allocated=10)
    with session_scope(engine=engine) as session:
        ledger_id = quotas.find_ledger(session=session, program_id="busan-d2", period="2025").id
    url = f"/api/v1/quotas/ledgers/{ledger_id}/adjustments"
    officer = bearer["ministry_officer"]
    with TestClient(app) as client:
        for amount in (True, False, "1", 1.0, 1.5):
            response = client.post(url, json={"amount": amount, "reason": "top-up"}, headers=officer)
            assert response.status_code == 422, (amount, response.text)
            error = response.json()["error"]
            assert error["code"] == "invalid" and error["field"] == "amount"
            assert error["message"]["ko"] and error["message"]["en"]
        opened = client.post(
            "/api/v1/quotas/ledgers",
            json={"program_id": "busan-d2", "period": "2026", "start": "2026-01-01", "end": "2026-12-31",
                  "allocated": True, "reason": "x"},
            headers=officer,
        )  # fmt: skip
        assert opened.status_code == 422 and opened.json()["error"]["field"] == "allocated"
        good = client.post(url, json={"amount": 2, "reason": "top-up"}, headers=officer)
        assert good.status_code == 200 and good.json()["capacity"] == 12
    with session_scope(engine=engine) as session:
        ledger = quotas.get_ledger(session=session, ledger_id=ledger_id)
        assert ledger.adjustments == 2
        assert [m.amount for m in quotas.history(session=session, ledger=ledger) if m.kind == "adjustment"] == [2]


def test_the_adjustment_form_still_takes_its_text_fields(client, engine, login, role_users, test_data):
    """A form sends text: the page's `amount` stays an ordinary whole-number form field."""
    test_data.publish_busan(engine, allocated=10)
    with session_scope(engine=engine) as session:
        ledger_id = quotas.find_ledger(session=session, program_id="busan-d2", period="2025").id
    csrf = login(client, role_users["ministry_officer"]["username"])
    response = client.post(
        f"/quotas/{ledger_id}/adjust",
        data={"amount": "3", "reason": "mid-year top-up", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:300]
    with session_scope(engine=engine) as session:
        assert quotas.get_ledger(session=session, ledger_id=ledger_id).capacity == 13
