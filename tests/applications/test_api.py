"""The REST API per role: intake, the two queues' moves, refusals in the one error shape,
region scope, documents, bulk intake and the quota ledger (mid-year top-up of 130 places)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from tests.actors import SYSTEM
from tests.jobs.support import follow

from regionvisa.db import session_scope

from .conftest import eligible_busan

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def as_role(app, role_users, login):
    """as_role(role) -> a signed-in TestClient whose unsafe requests carry the CSRF header."""
    clients = []

    def make(role: str) -> TestClient:
        c = TestClient(app)
        c.__enter__()
        clients.append(c)
        token = login(c, role_users[role]["username"])
        c.headers["X-CSRF-Token"] = token
        return c

    yield make
    for c in clients:
        c.__exit__(None, None, None)


def body(i: int = 0, program: str = "busan-d2", passport: str = "API000001", **overrides) -> dict:
    return {
        "program_id": program,
        "name": "Nguyen Van A",
        "passport_no": passport,
        "applicant": eligible_busan(i, **overrides),
        "submitted_on": "2025-06-02",
    }


def test_submission_to_issuance_as_the_two_roles(as_role, busan, attach):
    region, officer = as_role("regional_official"), as_role("ministry_officer")
    r = region.post("/api/v1/applications", json=body())
    assert r.status_code == 201, r.text
    app = r.json()
    assert (app["status"], app["outcome"], app["region"]) == ("screened", "eligible", "26")
    assert app["screening"]["explanation"]["criteria"][0]["label"]["ko"]
    assert "Nguyen" not in r.text and "API000001" not in r.text  # personal data stays out of API output
    app_id = app["id"]
    # the ministry cannot recommend; the region cannot approve
    assert officer.post(f"/api/v1/applications/{app_id}/recommend", json={}).status_code == 403
    r = region.post(f"/api/v1/applications/{app_id}/approve", json={})
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    r = region.post(f"/api/v1/applications/{app_id}/recommend", json={"reason": "top of the queue"})
    assert r.status_code == 200 and r.json()["status"] == "recommended"
    # issuing before approval is a 409 in the one error shape, in both languages
    r = officer.post(f"/api/v1/applications/{app_id}/issue", json={})
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "invalid_transition" and "recommended" in err["message"]["en"] and err["message"]["ko"]
    attach(app_id)  # the checklist complete: no override needed (test_documents_gate.py)
    assert officer.post(f"/api/v1/applications/{app_id}/approve", json={"reason": "ok"}).json()["status"] == "approved"
    r = officer.post(f"/api/v1/applications/{app_id}/issue", json={})
    assert r.status_code == 200
    issued = r.json()
    assert issued["status"] == "issued" and issued["visa_number"].startswith("RV")
    assert [e["move"] for e in issued["events"]] == ["submit", "screen", "recommend", "approve", "issue"]
    ledger = officer.get(f"/api/v1/quotas/ledgers/{issued['ledger_id']}").json()
    assert (ledger["used"], ledger["reserved"], ledger["remaining"]) == (1, 0, 9)
    assert ledger["fill_rate"] == 0.1


def test_roles_and_region_scope(as_role, busan, engine):
    from regionvisa.config import get_settings
    from regionvisa.programs import service as programs

    with session_scope(engine=engine) as session:
        programs.load_files(
            session=session,
            paths=[get_settings().policy_dir / "programs" / "41" / "gyeonggi-e7.yaml"],
            actor=SYSTEM,
            publish=True,
        )
    region = as_role("regional_official")
    assert region.post("/api/v1/applications", json=body(program="gyeonggi-e7")).status_code == 403
    assert as_role("ministry_officer").post("/api/v1/applications", json=body()).status_code == 403
    app_id = region.post("/api/v1/applications", json=body()).json()["id"]
    listing = region.get("/api/v1/applications").json()
    assert listing["region"] == "26" and [a["id"] for a in listing["items"]] == [app_id]
    assert region.get("/api/v1/applications?region=11").status_code == 403
    auditor = as_role("auditor")
    assert auditor.get(f"/api/v1/applications/{app_id}").status_code == 200
    assert auditor.post(f"/api/v1/applications/{app_id}/withdraw", json={"reason": "x"}).status_code == 403
    committee = as_role("committee_member")
    assert committee.get(f"/api/v1/applications/{app_id}").status_code == 403
    assert committee.get("/api/v1/quotas/ledgers").status_code == 200  # committee reads quotas
    assert region.get("/api/v1/quotas/ledgers?region=11").status_code == 403
    assert [row["program_id"] for row in region.get("/api/v1/quotas/ledgers").json()["items"]] == ["busan-d2"]
    r = region.post(f"/api/v1/applications/{app_id}/withdraw", json={"reason": ""})
    assert r.status_code == 422 and r.json()["error"]["field"] == "reason"


def test_mid_year_top_up_of_130_places_with_its_history(as_role, busan):
    officer, region = as_role("ministry_officer"), as_role("regional_official")
    ledger_id = officer.get("/api/v1/quotas/ledgers?program_id=busan-d2").json()["items"][0]["id"]
    assert (
        region.post(f"/api/v1/quotas/ledgers/{ledger_id}/adjustments", json={"amount": 5, "reason": "x"}).status_code
        == 403
    )
    r = officer.post(
        f"/api/v1/quotas/ledgers/{ledger_id}/adjustments", json={"amount": 130, "reason": "mid-year top-up"}
    )
    assert r.status_code == 200, r.text
    view = r.json()
    assert (view["allocated"], view["adjustments"], view["capacity"], view["remaining"]) == (10, 130, 140, 140)
    assert [(h["kind"], h["amount"], h["reason"]) for h in view["history"]] == [
        ("allocation", 10, "test allocation"),
        ("adjustment", 130, "mid-year top-up"),
    ]
    assert view["history"][1]["actor"] == "t.officer"
    r = officer.post(f"/api/v1/quotas/ledgers/{ledger_id}/adjustments", json={"amount": -200, "reason": "cut"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "adjustment_below_commitments"
    r = officer.post(
        "/api/v1/quotas/ledgers",
        json={
            "program_id": "busan-d2",
            "period": "2025",
            "start": "2025-01-01",
            "end": "2025-12-31",
            "allocated": 5,
            "reason": "again",
        },
    )
    assert r.status_code == 409


def test_documents_and_bulk_intake_over_the_api(as_role, busan, tmp_path, engine):
    region = as_role("regional_official")
    app_id = region.post("/api/v1/applications", json=body()).json()["id"]
    r = region.post(
        f"/api/v1/applications/{app_id}/documents",
        data={"doc_type": "passport"},
        files={"file": ("passport.pdf", PDF, "application/pdf")},
    )
    assert r.status_code == 201, r.text
    assert r.json()["size"] == len(PDF)
    r = region.post(
        f"/api/v1/applications/{app_id}/documents",
        data={"doc_type": "passport"},
        files={"file": ("passport.exe", b"MZ", "application/x-msdownload")},
    )
    assert r.status_code == 415 and r.json()["error"]["field"] == "file"
    docs = {d["doc_type"]: d["uploaded"] for d in region.get(f"/api/v1/applications/{app_id}").json()["documents"]}
    assert docs["passport"] is True and docs["admission_letter"] is False
    csv = (
        "passport_no,name,nationality,birth_date,passport_valid_until,entry_ban,criminal_record,prior_illegal_stay,"
        "course_type,bank_balance_krw,university_region,topik_level\n"
        "CSV000001,A,CHN,2000-01-01,2030-01-01,false,false,false,degree,9000000,26,4\n"
        "CSV000002,B,CHN,2000-01-01,2030-01-01,false,false,maybe,degree,9000000,26,4\n"
    )
    r = region.post(
        "/api/v1/applications/imports",
        data={"program_id": "busan-d2", "submitted_on": "2025-06-03"},
        files={"file": ("intake.csv", csv.encode(), "text/csv")},
    )
    job = follow(region, r, engine)  # the intake runs as a job; its summary is the job's result
    assert job["state"] == "succeeded" and job["kind"] == "applications_import", job
    assert job["result"]["href"] == "/applications?program_id=busan-d2"
    with engine.connect() as conn:  # scoped like its result: the programme's region
        assert conn.execute(text("SELECT region FROM job WHERE id = :id"), {"id": job["id"]}).scalar_one() == "26"
    result = job["result"]["summary"]
    assert (result["inserted"], result["rejected_rows"], result["outcome"]) == (1, 1, "committed_with_rejects")
    assert result["problems"][0]["line"] == 3 and result["problems"][0]["field"] == "prior_illegal_stay"
    queue = region.get("/api/v1/applications/queue?program_id=busan-d2").json()
    assert [i["rank"] for i in queue["items"]] == [1, 2]
    assert queue["items"][0]["points"] == 10 and "admission_letter" in queue["items"][0]["missing_documents"]


def test_simplified_benefit_is_set_by_a_ministry_admin(as_role, busan, attach):
    officer, admin = as_role("ministry_officer"), as_role("ministry_admin")
    payload = {"simplified_procedure": True, "reason": "2025 grade A"}
    assert officer.put("/api/v1/applications/benefits/26", json=payload).status_code == 403
    assert admin.put("/api/v1/applications/benefits/26", json=payload).status_code == 200
    assert admin.get("/api/v1/applications/benefits").json()["items"][0]["simplified_procedure"] is True
    region = as_role("regional_official")
    app_id = region.post("/api/v1/applications", json=body(passport="SIM000001")).json()["id"]
    assert attach(app_id) == ["passport", "admission_letter", "recommendation_letter"]  # the shorter list
    assert region.post(f"/api/v1/applications/{app_id}/recommend", json={}).json()["status"] == "approved"
