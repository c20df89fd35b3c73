"""API and pages per role: reads scoped to the region, actions for the ministry only, CSRF on forms."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.actors import SYSTEM
from tests.jobs.support import follow_page

from regionvisa.compliance import cases
from regionvisa.compliance.models import ComplianceCase

ON = dt.date(2025, 12, 31)


@pytest.fixture
def seeded(engine, kit, role_users):
    r = kit.Records()
    r.status("H1", "2025-03-01", "2027-02-28", program_id="busan-d2", region="26")
    r.address("H1", "26110", "2025-03-01", "2025-03-02").address("H1", "11", "2025-05-01", "2025-05-31")
    r.move("H1", "entry", "2025-02-27").kiip("H1", "2025-04-01").job("H1", "11", "2025-05-02")
    r.status("H2", "2024-06-01", "2026-05-31", program_id="gyeonggi-e7", region="41", visa="E-7")
    r.address("H2", "41135", "2024-06-01")
    kit.insert(engine, r.frames())
    cases.record_run(engine=engine, on=ON, actor=SYSTEM)
    with Session(engine) as s:
        ids = {(c.person_id, c.rule): c.id for c in s.scalars(select(ComplianceCase))}
    return ids


def as_role(client, login, role_users, role):
    return login(client, role_users[role]["username"])


def test_regional_official_sees_only_their_region(client, login, role_users, seeded):
    csrf = as_role(client, login, role_users, "regional_official")  # Busan (26)
    queue = client.get("/api/v1/compliance/cases").json()
    assert queue["region"] == "26" and {c["person_id"] for c in queue["items"]} == {"H1"}
    assert client.get("/api/v1/compliance/cases?region=41").status_code == 403
    gyeonggi = seeded["H2", "integration_obligation"]
    assert client.get(f"/api/v1/compliance/cases/{gyeonggi}").status_code == 403
    assert client.get(f"/compliance/cases/{gyeonggi}").status_code == 403
    busan = seeded["H1", "residence_obligation"]
    detail = client.get(f"/api/v1/compliance/cases/{busan}").json()
    assert detail["region"] == "26" and detail["timeline"]["address_report"][1]["area_code"] == "11"
    assert "Secret Name" not in str(detail) and "MH1" not in str(detail)
    board = client.get("/api/v1/compliance/dashboard").json()
    assert board["region"] == "26" and board["cases"]["open"] == 2
    assert client.get("/api/v1/compliance/dashboard?region=41").status_code == 403
    findings = client.get("/api/v1/compliance/findings?on=2025-12-31").json()
    assert {f["region"] for f in findings["items"]} == {"26"}
    # reads only: no actions, no runs
    action = {"action": "review", "reason": "look"}
    resp = client.post(f"/api/v1/compliance/cases/{busan}/actions", json=action, headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 403
    assert (
        client.post("/api/v1/compliance/runs", json={"on": "2025-12-31"}, headers={"X-CSRF-Token": csrf}).status_code
        == 403
    )
    page = client.get(f"/compliance/cases/{busan}")
    assert page.status_code == 200 and 'id="timeline-chart"' in page.text and 'id="case-action"' not in page.text


def test_ministry_officer_acts_through_the_api_and_the_page(client, login, role_users, seeded):
    csrf = as_role(client, login, role_users, "ministry_officer")
    queue = client.get("/api/v1/compliance/cases").json()
    assert queue["region"] is None and queue["total"] == 3  # the ministry's queue: every region
    case_id = seeded["H1", "residence_obligation"]
    headers = {"X-CSRF-Token": csrf}
    got = client.post(
        f"/api/v1/compliance/cases/{case_id}/actions", json={"action": "review", "reason": "checking"}, headers=headers
    )
    assert got.status_code == 200 and got.json()["status"] == "under_review"
    bad = client.post(
        f"/api/v1/compliance/cases/{case_id}/actions", json={"action": "resolve", "reason": "done"}, headers=headers
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "outcome_required"
    assert bad.json()["error"]["message"]["ko"]
    page = client.get(f"/compliance/cases/{case_id}")
    assert 'id="case-action"' in page.text
    # the form without its CSRF token is refused; with it, the case is resolved
    form = {"action": "resolve", "reason": "moved for work", "outcome": "warning"}
    assert client.post(f"/compliance/cases/{case_id}/actions", data=form).status_code == 403
    done = client.post(
        f"/compliance/cases/{case_id}/actions", data={**form, "csrf_token": csrf}, follow_redirects=False
    )
    assert done.status_code == 303
    detail = client.get(f"/api/v1/compliance/cases/{case_id}").json()
    assert (detail["status"], detail["outcome"]) == ("resolved", "warning")
    assert [e["kind"] for e in detail["events"]] == ["opened", "status", "status"]
    # a run from the dashboard form
    run = client.post("/compliance/runs", data={"on": "2026-01-05", "csrf_token": csrf}, follow_redirects=False)
    job_page = follow_page(client, run, client.app.state.engine)  # a job: its page links to the run's dashboard
    link = job_page.text.split('id="job-result" class="button primary" href="')[1].split('"')[0]
    board = client.get(link)
    assert board.status_code == 200 and "2026-01-05" in board.text


@pytest.mark.parametrize("role", ["committee_member"])
def test_roles_without_compliance_read_are_refused(client, login, role_users, seeded, role):
    as_role(client, login, role_users, role)
    assert client.get("/api/v1/compliance/cases").status_code == 403
    assert client.get("/compliance").status_code == 403


def test_auditor_reads_every_region_but_cannot_act(client, login, role_users, seeded):
    csrf = as_role(client, login, role_users, "auditor")
    assert client.get("/api/v1/compliance/cases?region=41").json()["total"] == 1
    page = client.get("/compliance?region=26")
    assert page.status_code == 200 and 'id="by-rule"' in page.text and "/compliance/runs" not in page.text
    late = client.get("/api/v1/compliance/findings?on=2025-12-31&rule=late_address_report").json()
    assert [(f["person_id"], f["start_date"], f["end_date"]) for f in late["items"]] == [
        ("H1", "2025-05-16", "2025-05-31")
    ]
    assert client.get("/api/v1/compliance/findings?on=2025-12-31&rule=bogus").status_code in (400, 422)
    case_id = seeded["H2", "integration_obligation"]
    resp = client.post(
        f"/api/v1/compliance/cases/{case_id}/actions",
        json={"action": "note", "reason": "x"},
        headers={"X-CSRF-Token": csrf},
    )
    assert resp.status_code == 403


def test_dashboard_page_shows_counts_trend_and_queue(client, login, role_users, seeded):
    as_role(client, login, role_users, "ministry_admin")
    page = client.get("/compliance?region=26")
    assert page.status_code == 200
    for marker in ('id="by-rule"', 'id="trend"', 'id="case-counts"', "<svg", "한도에 가까운 소지자가 없습니다."):
        assert marker in page.text
    nation = client.get("/compliance")
    assert 'id="by-region"' in nation.text and 'href="/compliance?region=41"' in nation.text
    queue = client.get("/compliance/cases?status=active&region=26")
    assert queue.status_code == 200
    table = queue.text.split('<table id="cases">', 1)[1].split("</table>", 1)[0]
    assert ">H1<" in table and ">H2<" not in table
    ko = client.get("/compliance/cases?lang=ko")
    assert "단속 사건" in ko.text
    assert client.get("/api/v1/compliance/cases").status_code == 200


def test_anonymous_is_refused(client, seeded):
    assert client.get("/api/v1/compliance/cases").status_code == 401


def test_timeline_chart_colours_inside_and_outside():
    from types import SimpleNamespace

    from regionvisa.compliance.pages import COLOURS, timeline_chart

    timeline = {
        "status_grant": [
            {"visa": "D-2", "program_id": "busan-d2", "valid_from": "2025-03-01", "valid_to": "2027-02-28"}
        ],
        "address_report": [
            {"area_code": "26110", "effective_date": "2025-03-01", "reported_date": "2025-03-02"},
            {"area_code": "11", "effective_date": "2025-05-01", "reported_date": "2025-05-31"},
        ],
        "movement": [{"date": "2025-02-27", "direction": "entry", "port": "ICN"}],
        "kiip_record": [{"level": 0, "enrolled_on": "2025-04-01", "completed_on": None}],
        "employment": [{"employer_id": "E1", "employer_region": "11", "start_date": "2025-05-02", "end_date": None}],
    }
    case = SimpleNamespace(region="26", finding_start=dt.date(2025, 7, 30), last_run_on=dt.date(2025, 12, 31))
    chart = timeline_chart(timeline, case, ["26110"])
    lane_y = {lane["key"]: lane["y"] for lane in chart["lanes"]}
    busan, seoul = (b for b in chart["bars"] if b["y"] == lane_y["address_report"])
    (job,) = (b for b in chart["bars"] if b["y"] == lane_y["employment"])
    assert "(26110)" in busan["title"] and "(11)" in seoul["title"]
    assert busan["fill"] == COLOURS["inside"] and seoul["fill"] == COLOURS["outside"]
    assert job["fill"] == COLOURS["outside"]
    # bars follow the date axis: the Seoul address starts where the Busan one ends
    assert busan["x"] + busan["w"] == pytest.approx(seoul["x"], abs=0.2)
    assert chart["first"] == "2025-02-27" and chart["marks"][0]["fill"] == COLOURS["inside"]
    assert [y["label"] for y in chart["years"]] == ["2026", "2027"]
