"""One plain request for each problem the API fuzzing (test_fuzz.py) found, so each stays fixed
even if the generated examples change."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from tests.actors import SYSTEM

from regionvisa.accounts import service
from regionvisa.db import session_scope

ON = "2025-06-01"
HUGE = 10**30  # past what SQLite (2**63) or PostgreSQL (2**31 for integer columns) can hold


@pytest.fixture
def tokens(engine, role_users) -> dict[str, dict]:
    """role -> Authorization header with a fresh API token of that role's user."""
    out = {}
    with session_scope(engine=engine) as session:
        for role, info in role_users.items():
            _, plain = service.create_token(
                session=session, actor=SYSTEM, user=service.get_user(session=session, user_id=info["id"]), name="t"
            )
            out[role] = {"Authorization": f"Bearer {plain}"}
    return out


@pytest.fixture
def api(app):
    with TestClient(app) as c:
        yield c


def assert_error_shape(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert isinstance(error["message"]["ko"], str) and isinstance(error["message"]["en"], str)
    if code:
        assert error["code"] == code
    return error


def test_a_page_number_past_the_integer_range_is_bad_input(api, tokens, records):
    """Was: OverflowError inside the residents query (500)."""
    response = api.get("/api/v1/records/residents", params={"page": HUGE}, headers=tokens["ministry_admin"])
    assert_error_shape(response, 422, "out_of_range")


def test_an_id_past_the_integer_range_is_bad_input(api, tokens):
    """Was: OverflowError binding the user id in SQLite / DataError on PostgreSQL (500)."""
    response = api.patch(f"/api/v1/users/{HUGE}", json={"display_name": "x"}, headers=tokens["ministry_admin"])
    assert_error_shape(response, 422, "out_of_range")
    response = api.get(f"/api/v1/users/{2**40}", headers=tokens["ministry_admin"])  # fits SQLite, not PG integer
    assert response.status_code in (404, 422), response.text
    assert_error_shape(response, response.status_code)


def test_account_times_carry_their_utc_offset(api, tokens):
    """Was: naive times from SQLite ("2026-01-01T10:00:00"), not the date-time the schema declares."""
    users = api.get("/api/v1/users", headers=tokens["ministry_admin"]).json()["items"]
    listed = api.get("/api/v1/tokens", headers=tokens["ministry_admin"]).json()["items"]
    for value in [u["created_at"] for u in users] + [t["created_at"] for t in listed]:
        assert dt.datetime.fromisoformat(value).utcoffset() is not None, value


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "/api/v1/programs/busan-d2/screen",
            {"on": ON, "applicants": [{"applicant_id": "A1", "extra": {"nested": 1}}]},
        ),
        ("/api/v1/programs/busan-d2/rank", {"on": ON, "applicants": [{"applicant_id": [1, 2]}]}),
        (
            "/api/v1/programs/simulate",
            {"on": ON, "baseline": "busan-d2", "reform": "busan-d2", "applicants": [{"x": {}}]},
        ),
    ],
)
def test_nested_values_in_a_json_applicant_list_are_bad_input(api, tokens, engine, path, body):
    """Was: Polars ComputeError reading a nested object or list as text (500)."""
    from regionvisa.programs.demo import demo_step

    demo_step(engine=engine)
    response = api.post(path, json=body, headers=tokens["ministry_officer"])
    error = assert_error_shape(response, 422, "invalid")
    assert error["field"] == "applicants"


@pytest.mark.parametrize("value", ["0", "1700000000", "2025-01-01T00:00:00"])
def test_a_query_date_must_be_written_as_a_date(api, tokens, records, value):
    """Was: lax parsing read `at=0` as 1970-01-01 (and a midnight time as a date) and answered 200."""
    for path in ("/api/v1/stats/residents", "/api/v1/records/residents", "/api/v1/audit"):
        name, role = ("date_from", "auditor") if path.endswith("audit") else ("at", "ministry_admin")
        response = api.get(path, params={name: value}, headers=tokens[role])
        error = assert_error_shape(response, 422, "invalid")
        assert error["field"] == name
    good = api.get("/api/v1/stats/residents", params={"at": "2025-06-01"}, headers=tokens["ministry_admin"])
    assert good.status_code == 200 and good.json()["at"] == "2025-06-01"


@pytest.mark.parametrize("value", [0, 1735689600, "2025-01-01T00:00:00"])
def test_a_body_date_must_be_written_as_a_date(api, value):
    """Was: a JSON body's `"on": 0` was read as 1970-01-01 and the public match answered 200."""
    response = api.post("/api/v1/match", json={"on": value, "applicant": {"nationality": "VNM"}})
    error = assert_error_shape(response, 422)
    assert "on" in (error.get("field") or "")
    good = api.post("/api/v1/match", json={"on": "2025-09-01", "applicant": {"nationality": "VNM"}})
    assert good.status_code == 200
