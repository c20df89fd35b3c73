"""A compliance date before the rules' first values is the user's input error: 422 on `on`, never a 500."""

from __future__ import annotations

from tests.conftest import csrf_from


def test_findings_and_runs_before_the_rules_answer_422(client, role_users, login):
    officer = role_users["ministry_officer"]
    login(client, officer["username"], officer["password"])
    token = csrf_from(client.get("/account").text)
    for response in (
        client.get("/api/v1/compliance/findings", params={"on": "1900-01-01"}),
        client.post("/api/v1/compliance/runs", json={"on": "1900-01-01"}, headers={"X-CSRF-Token": token}),
    ):
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "no_rules_in_force" and error["field"] == "on"
        assert "1900-01-01" in error["message"]["en"] and "준수 규칙" in error["message"]["ko"]
        assert "policy" not in error["message"]["en"] and ".yaml" not in error["message"]["en"]  # no server path
