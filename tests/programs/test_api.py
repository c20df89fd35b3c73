"""The programme API per role: region scope for regional officials, the ministry's approvals, audit."""

from __future__ import annotations

import io

from sqlalchemy import select

from regionvisa.audit.models import AuditEntry
from regionvisa.db import session_scope

ON = "2025-06-01"


def busan_design(client, headers) -> dict:
    return client.get("/api/v1/programs/busan-d2", headers=headers).json()["design"]


def audit_actions(engine, program_id: str) -> list[tuple[str, str]]:
    with session_scope(engine=engine) as session:
        rows = session.execute(
            select(AuditEntry.action, AuditEntry.actor)
            .where(AuditEntry.subject_id == program_id)
            .order_by(AuditEntry.seq)
        ).all()
    return [(a, actor) for a, actor in rows]


def test_field_catalogue_lists_fields_and_operators(client, bearer):
    data = client.get("/api/v1/rules/fields", headers=bearer("auditor")).json()
    fields = {f["name"]: f for f in data["fields"]}
    assert fields["education_level"]["values"][:2] == ["none", "high_school"]
    assert fields["education_level"]["ordered"] is True
    assert fields["annual_wage_krw"]["unit"] == "KRW"
    assert fields["topik_level"]["label"] == {"ko": "TOPIK 등급", "en": "TOPIK level"}
    assert {o["op"] for o in data["operators"]} >= {"==", "between", "in", "all", "any", "years_since"}


def test_list_is_scoped_to_the_officials_region(client, pilots, bearer):
    everyone = client.get("/api/v1/programs", headers=bearer("ministry_officer")).json()
    assert everyone["total"] == 15
    busan = client.get("/api/v1/programs", headers=bearer("regional_official")).json()
    assert [p["id"] for p in busan["items"]] == ["busan-d2"]
    assert client.get("/api/v1/programs?region=41", headers=bearer("regional_official")).status_code == 403
    assert client.get("/api/v1/programs/gyeonggi-e7", headers=bearer("regional_official")).status_code == 403
    own = client.get("/api/v1/programs/busan-d2", headers=bearer("regional_official"))
    assert own.status_code == 200 and own.json()["latest"]["status"] == "published"
    assert client.get("/api/v1/programs").status_code == 401


def test_draft_life_cycle_with_roles_and_audit(client, engine, pilots, bearer):
    official, officer = bearer("regional_official"), bearer("ministry_officer")
    design = busan_design(client, official)
    design["parameters"]["topik_min"] = {"2025-04-02": 2}
    saved = client.post("/api/v1/programs/drafts", json={"design": design, "reason": "TOPIK 2"}, headers=official)
    assert saved.status_code == 201, saved.text
    assert (saved.json()["version"], saved.json()["status"]) == (2, "draft")  # a published version never changes
    # another region's official and a committee member may not touch it
    assert (
        client.post("/api/v1/programs/drafts", json={"design": design}, headers=bearer("seoul_official")).status_code
        == 403
    )
    assert (
        client.post("/api/v1/programs/drafts", json={"design": design}, headers=bearer("committee_member")).status_code
        == 403
    )
    url = "/api/v1/programs/busan-d2/versions/2"
    assert client.post(f"{url}/submit", json={"reason": "x"}, headers=bearer("seoul_official")).status_code == 403
    assert client.post(f"{url}/submit", json={"reason": "ready"}, headers=official).json()["status"] == "submitted"
    assert client.post(f"{url}/approve", json={"reason": "x"}, headers=official).status_code == 403
    assert client.post(f"{url}/publish", json={"reason": "x"}, headers=officer).status_code == 409  # not approved yet
    assert client.post(f"{url}/approve", json={"reason": "ok"}, headers=officer).json()["status"] == "approved"
    assert client.post(f"{url}/publish", json={"reason": "go"}, headers=officer).json()["status"] == "published"
    versions = client.get("/api/v1/programs/busan-d2/versions", headers=official).json()["items"]
    assert [(v["version"], v["status"]) for v in versions] == [(1, "published"), (2, "published")]
    diff = client.get("/api/v1/programs/busan-d2/diff?a=1&b=2", headers=official).json()["lines"]
    assert "-    '2025-04-02': 3" in diff and "+    '2025-04-02': 2" in diff
    actions = audit_actions(engine, "busan-d2")
    assert actions[-4:] == [
        ("program.draft", "t.busan"),
        ("program.submit", "t.busan"),
        ("program.approve", "t.officer"),
        ("program.publish", "t.officer"),
    ]


def test_invalid_draft_lists_every_error(client, pilots, bearer):
    official = bearer("regional_official")
    design = busan_design(client, official)
    design["parameters"]["bank_balance_krw"] = {"2025-04-02": 1000}
    design["unknown_key"] = 1
    response = client.post("/api/v1/programs/drafts", json={"design": design}, headers=official)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "design_invalid"
    assert any(d.startswith("draft:unknown_key: ") for d in error["details"])
    checked = client.post("/api/v1/programs/validate", json={"yaml": "id: [unclosed"}, headers=official).json()
    assert checked["valid"] is False and checked["errors"][0].startswith("draft:")
    design.pop("unknown_key")
    design["parameters"]["bank_balance_krw"] = {"2025-04-02": 8_000_000}
    assert client.post("/api/v1/programs/validate", json={"design": design}, headers=official).json()["valid"] is True


def test_screen_json_and_file_with_bad_cells(client, pilots, bearer):
    official = bearer("regional_official")
    applicants = [
        {"applicant_id": "X1", "topik_level": 3, "bank_balance_krw": 9_000_000},
        {"applicant_id": "X2", "topik_level": 3, "bank_balance_krw": "nine"},
    ]
    body = {"on": ON, "applicants": applicants}
    result = client.post("/api/v1/programs/busan-d2/screen", json=body, headers=official).json()
    assert result["columns"][:5] == ["applicant_id", "outcome", "points", "failed", "missing"]
    assert [r["applicant_id"] for r in result["rows"]] == ["X1", "X2"]
    assert result["rows"][1]["c:financial-proof"] == "missing"
    assert result["problems"][0]["line"] == 2 and result["problems"][0]["value"] == "nine"
    csv_text = client.post("/api/v1/programs/busan-d2/screen?format=csv", json=body, headers=official).text
    assert csv_text.splitlines()[0].startswith("applicant_id,outcome,points,failed,missing,c:passport-valid")
    upload = client.post(
        "/api/v1/programs/busan-d2/screen/file",
        data={"on": ON},
        files={"file": ("a.csv", io.BytesIO(b"applicant_id,birth_date\nF1,1999-02-30\nF2,2001-01-01\n"), "text/csv")},
        headers=official,
    ).json()
    assert upload["problems"][0]["line"] == 2 and upload["problems"][0]["field"] == "birth_date"
    assert upload["summary"]["applicants"] == 2
    assert client.post("/api/v1/programs/gyeonggi-e7/screen", json=body, headers=official).status_code == 403


def test_explain_rank_and_simulate(client, pilots, bearer, designs):
    officer = bearer("ministry_officer")
    explained = client.post(
        "/api/v1/programs/busan-d2/explain", json={"on": ON, "applicant": designs.BUSAN_OK}, headers=officer
    ).json()
    assert explained["outcome"] == "eligible" and len(explained["criteria"]) == 9
    pool = [
        {**designs.BUSAN_OK, "applicant_id": "R2", "topik_level": 4, "submitted_at": "2025-05-02"},
        {**designs.BUSAN_OK, "applicant_id": "R1", "topik_level": 4, "submitted_at": "2025-05-01"},
        {**designs.BUSAN_OK, "applicant_id": "R3", "topik_level": 2},
    ]
    ranked = client.post("/api/v1/programs/busan-d2/rank", json={"on": ON, "applicants": pool}, headers=officer).json()
    assert [r["applicant_id"] for r in ranked["items"]] == ["R1", "R2"]
    reform = busan_design(client, officer)
    reform["parameters"]["topik_min"] = {"2025-04-02": 2}
    simulated = client.post(
        "/api/v1/programs/simulate",
        json={"on": ON, "baseline": "busan-d2", "reform_design": reform, "applicants": pool},
        headers=officer,
    ).json()
    assert simulated["counts"] == {"newly_eligible": 1, "newly_ineligible": 0, "unchanged": 2}
    assert simulated["quota"]["reform"]["capacity"] == 1000
    # a file path is never read through the API
    response = client.post(
        "/api/v1/programs/simulate",
        json={"on": ON, "baseline": "policy/programs/26/busan-d2.yaml", "reform": "busan-d2", "applicants": pool},
        headers=officer,
    )
    assert response.status_code == 404


def test_match_is_public(client, pilots, designs):
    response = client.post("/api/v1/match", json={"on": ON, "applicant": {**designs.BUSAN_OK, "topik_level": 2}})
    assert response.status_code == 200
    busan = next(p for p in response.json()["programs"] if p["program"] == "busan-d2")
    assert busan["near_miss"] and busan["changes"][0]["text"]["en"] == "TOPIK 2 → 3"


def test_region_scope_on_explain_rank_and_simulate(client, pilots, bearer, designs):
    official = bearer("regional_official")
    body = {"on": ON, "applicant": designs.E7_APPLICANT}
    assert client.post("/api/v1/programs/gyeonggi-e7/explain", json=body, headers=official).status_code == 403
    assert client.post("/api/v1/programs/busan-d2/explain", json=body, headers=official).status_code == 200
    pool = {"on": ON, "applicants": [designs.E7_APPLICANT]}
    assert client.post("/api/v1/programs/gyeonggi-e7/rank", json=pool, headers=official).status_code == 403
    other = {**pool, "baseline": "gyeonggi-e7", "reform": "gyeonggi-e7"}
    assert client.post("/api/v1/programs/simulate", json=other, headers=official).status_code == 403
    mixed = {**pool, "baseline": "busan-d2", "reform": "gyeonggi-e7"}
    assert client.post("/api/v1/programs/simulate", json=mixed, headers=official).status_code == 403
    own = {**pool, "baseline": "busan-d2", "reform": "busan-d2@1"}
    assert client.post("/api/v1/programs/simulate", json=own, headers=official).status_code == 200
