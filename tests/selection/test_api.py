"""The selection API: one error shape, the policy per role, and a whole round over HTTP."""

from __future__ import annotations

import base64
import datetime as dt

from .conftest import as_json, busan_design, design_for

API = "/api/v1/selection"
CRITERIA = ("need", "feasibility", "settlement", "management", "employment")


def flat(n: int, comment: str = "ok") -> dict:
    return {"scores": {c: {"score": n, "comment": comment} for c in CRITERIA}}


def open_round(client, bearer, **extra) -> int:
    now = dt.datetime.now(dt.UTC)
    body = {
        "year": 2025,
        "window_opens_at": (now - dt.timedelta(hours=1)).isoformat(),
        "window_closes_at": (now + dt.timedelta(hours=1)).isoformat(),
        "threshold": 60,
        **extra,
    }
    response = client.post(f"{API}/rounds", json=body, headers=bearer("s.admin"))
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_only_the_ministry_opens_rounds_and_a_bad_rubric_is_named(client, bearer):
    assert client.post(f"{API}/rounds", json={}, headers=bearer("c.chair")).status_code == 403
    assert client.post(f"{API}/rounds", json={}, headers=bearer("s.busan")).status_code == 403
    now = dt.datetime.now(dt.UTC).isoformat()
    bad = {
        "year": 2025,
        "window_opens_at": now,
        "window_closes_at": now,
        "rubric": [{"id": "need", "weight": 0, "label": {"ko": "수요"}, "description": {"ko": "x", "en": "x"}}],
    }
    response = client.post(f"{API}/rounds", json=bad, headers=bearer("s.admin"))
    assert response.status_code == 422
    assert response.json()["error"]["field"].startswith("rubric")
    round_id = open_round(client, bearer)
    data = client.get(f"{API}/rounds/{round_id}", headers=bearer("s.busan")).json()
    assert data["phase"] == "submission"
    assert [c["id"] for c in data["rubric"]] == list(CRITERIA)
    assert [c["weight"] for c in data["rubric"]] == [25, 25, 20, 20, 10]


def test_invalid_design_is_refused_over_the_api_with_every_error(client, bearer, people):
    round_id = open_round(client, bearer)
    bad = as_json(busan_design())
    bad["parameters"]["bank_balance_krw"] = {"2025-04-02": 100}
    response = client.put(
        f"{API}/rounds/{round_id}/proposals/26",
        json={"designs": [{"design": bad}], "narrative": "plan"},
        headers=bearer("s.busan"),
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_proposal" and error["message"]["ko"] and error["message"]["en"]
    assert any(d.startswith("design[1]:parameters.bank_balance_krw") for d in error["details"])
    assert client.get(f"{API}/rounds/{round_id}/proposals/26", headers=bearer("s.busan")).status_code == 404


def test_a_whole_round_over_the_api(client, bearer, people):
    round_id = open_round(client, bearer)
    for username, role, affiliation, region in (
        ("c.chair", "chair", "MOJ", None),
        ("c.official1", "official", "MOJ", None),
        ("c.official2", "official", "MOIS", None),
        ("c.expert1", "expert", "Pusan National University", "26"),
    ):
        body = {"username": username, "role": role, "affiliation": affiliation, "affiliation_region": region}
        response = client.post(f"{API}/rounds/{round_id}/members", json=body, headers=bearer("s.admin"))
        assert response.status_code == 201, response.text
    assert response.json()["recused_regions"] == ["26"]
    again = client.post(
        f"{API}/rounds/{round_id}/members",
        json={"username": "c.expert2", "role": "chair", "affiliation": "x"},
        headers=bearer("s.admin"),
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "chair_exists"

    attachment = {
        "filename": "plan.txt",
        "content_type": "text/plain",
        "content_base64": base64.b64encode(b"x").decode(),
    }
    busan = {"designs": [{"design": as_json(busan_design()), "requested_quota": 1000}], "narrative": "Busan plan"}
    response = client.put(
        f"{API}/rounds/{round_id}/proposals/26", json=busan | {"attachments": [attachment]}, headers=bearer("s.busan")
    )
    assert response.status_code == 201, response.text
    assert response.json()["attachments"][0]["filename"] == "plan.txt"
    # another region's official cannot submit for Busan, nor read Busan's proposal
    assert client.put(f"{API}/rounds/{round_id}/proposals/26", json=busan, headers=bearer("s.seoul")).status_code == 403
    assert client.get(f"{API}/rounds/{round_id}/proposals/26", headers=bearer("s.seoul")).status_code == 403
    seoul = {"designs": [{"design": as_json(design_for("11", "seoul-d2", 300))}], "narrative": "Seoul plan"}
    assert client.put(f"{API}/rounds/{round_id}/proposals/11", json=seoul, headers=bearer("s.seoul")).status_code == 201
    revised = busan | {"narrative": "Busan plan, revised"}
    response = client.put(f"{API}/rounds/{round_id}/proposals/26", json=revised, headers=bearer("s.busan"))
    assert response.json()["version"] == 2
    history = client.get(f"{API}/rounds/{round_id}/proposals/26", headers=bearer("s.busan")).json()
    assert [v["narrative"] for v in history["versions"]] == ["Busan plan", "Busan plan, revised"]
    assert history["versions"][1]["attachments"][0]["filename"] == "plan.txt"

    # scoring starts only when the window closes
    early = client.put(f"{API}/rounds/{round_id}/proposals/26/scores", json=flat(80), headers=bearer("c.chair"))
    assert early.status_code == 409
    closed = client.post(f"{API}/rounds/{round_id}/close-window?reason=deadline", headers=bearer("s.admin"))
    assert closed.json()["phase"] == "scoring"
    late = client.put(f"{API}/rounds/{round_id}/proposals/26", json=revised, headers=bearer("s.busan"))
    assert late.status_code == 409 and late.json()["error"]["code"] == "window_closed"

    for member in ("c.chair", "c.official1", "c.official2", "c.expert1"):
        response = client.post(f"{API}/rounds/{round_id}/conflicts", json={}, headers=bearer(member))
        assert response.status_code == 200
    # the expert affiliated with Busan is recused: cannot see nor score Busan
    assert client.get(f"{API}/rounds/{round_id}/proposals/26", headers=bearer("c.expert1")).status_code == 403
    recused = client.put(f"{API}/rounds/{round_id}/proposals/26/scores", json=flat(99), headers=bearer("c.expert1"))
    assert recused.status_code == 403
    listed = client.get(f"{API}/rounds/{round_id}/proposals", headers=bearer("c.expert1")).json()["items"]
    assert [p["region"] for p in listed] == ["11"]

    given = {"c.chair": (90, 40), "c.official1": (80, 50)}
    for member, (busan_score, seoul_score) in given.items():
        for region, value in (("26", busan_score), ("11", seoul_score)):
            response = client.put(
                f"{API}/rounds/{round_id}/proposals/{region}/scores", json=flat(value), headers=bearer(member)
            )
            assert response.status_code == 200, response.text
    # members see only their own scores while scoring is open; the ministry sees progress only
    own = client.get(f"{API}/rounds/{round_id}/scores", headers=bearer("c.chair")).json()
    assert {s["member"] for s in own["items"]} == {"c.chair"}
    progress = client.get(f"{API}/rounds/{round_id}/tally", headers=bearer("s.admin")).json()["items"]
    assert all("aggregate" not in row for row in progress)
    assert client.get(f"{API}/rounds/{round_id}/tally", headers=bearer("c.chair")).status_code == 409

    client.post(f"{API}/rounds/{round_id}/close-scoring", headers=bearer("s.admin"))
    # Busan: 3 members not recused, 2 scored, quorum ceil(2/3 × 3) = 2 → met; Seoul: 4 eligible, 2 scored, needs 3
    refused = client.post(f"{API}/rounds/{round_id}/decision", json={}, headers=bearer("c.chair"))
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "below_quorum"
    assert "11 (2/3)" in refused.json()["error"]["message"]["en"]
    everyone = client.get(f"{API}/rounds/{round_id}/scores", headers=bearer("c.chair")).json()
    assert {s["member"] for s in everyone["items"]} == {"c.chair", "c.official1"}
    assert {
        s["region"] for s in client.get(f"{API}/rounds/{round_id}/scores", headers=bearer("c.expert1")).json()["items"]
    } <= {"11"}
    tally = {
        t["region"]: t for t in client.get(f"{API}/rounds/{round_id}/tally", headers=bearer("s.admin")).json()["items"]
    }
    assert tally["26"]["aggregate"] == 85.0 and tally["26"]["quorum_met"]
    assert not tally["11"]["quorum_met"]
    minutes = client.get(f"{API}/rounds/{round_id}/minutes", headers=bearer("s.admin"))
    assert minutes.status_code == 409


def test_minutes_and_results_of_a_decided_round(client, bearer, engine, people):
    from regionvisa.db import session_scope
    from regionvisa.selection import committee, service
    from regionvisa.selection.schemas import ConflictsIn, ScoresIn

    round_id = open_round(client, bearer)
    for username, role, region in (
        ("c.chair", "chair", None),
        ("c.official1", "official", None),
        ("c.expert1", "expert", "26"),
    ):
        body = {"username": username, "role": role, "affiliation": "Pusan National University" if region else "MOJ"}
        client.post(
            f"{API}/rounds/{round_id}/members", json=body | {"affiliation_region": region}, headers=bearer("s.admin")
        )
    busan = {"designs": [{"design": as_json(busan_design()), "requested_quota": 1000}], "narrative": "Busan plan"}
    client.put(f"{API}/rounds/{round_id}/proposals/26", json=busan, headers=bearer("s.busan"))
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    with session_scope(engine=engine) as session:
        for member in ("c.chair", "c.official1", "c.expert1"):
            committee.declare_conflicts(
                session=session, rnd=round_id, data=ConflictsIn(), actor=people[member], now=later
            )
        for member in ("c.chair", "c.official1"):
            service.save_scores(
                session=session,
                rnd=round_id,
                region="26",
                data=ScoresIn(**flat(75, "solid plan")),
                actor=people[member],
                now=later,
            )
        service.close_scoring(session=session, rnd=round_id, actor=people["s.admin"], now=later)
    body = {"adjustments": {"busan-d2": {"quota": 900, "reason": "phased intake"}}, "meeting_on": "2025-04-02"}
    assert client.post(f"{API}/rounds/{round_id}/decision", json=body, headers=bearer("c.official1")).status_code == 403
    response = client.post(f"{API}/rounds/{round_id}/decision", json=body, headers=bearer("c.chair"))
    assert response.status_code == 200, response.text
    results = client.get(f"{API}/rounds/{round_id}/results", headers=bearer("s.seoul")).json()["items"]
    assert results == [
        {
            "region": "26",
            "selected": True,
            "aggregate": 75.0,
            "rank": 1,
            "quotas": [
                {
                    "program_id": "busan-d2",
                    "base_visa": "D-2",
                    "requested": 1000,
                    "confirmed": 900,
                    "reason": "phased intake",
                }
            ],
        }
    ]
    html_en = client.get(f"{API}/rounds/{round_id}/minutes?language=en", headers=bearer("s.admin"))
    assert html_en.status_code == 200 and html_en.headers["content-type"].startswith("text/html")
    text = html_en.text
    for expected in ("Members present", "Recusals", "Pusan National University", "phased intake", "Selected", "75.00"):
        assert expected in text, expected
    html_ko = client.get(f"{API}/rounds/{round_id}/minutes?language=ko", headers=bearer("s.admin")).text
    assert "회의록" in html_ko and "제척" in html_ko and "phased intake" in html_ko
    pdf = client.get(f"{API}/rounds/{round_id}/minutes?language=ko&format=pdf", headers=bearer("s.admin"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    bad = client.get(f"{API}/rounds/{round_id}/minutes?format=docx", headers=bearer("s.admin"))
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "format"
