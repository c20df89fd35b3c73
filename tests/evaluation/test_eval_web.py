"""Evaluation pages, API and the database side of `regionvisa evaluate`, through the real app and CLI."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from tests.actors import SYSTEM
from tests.jobs.support import follow, follow_page

from regionvisa.db import session_scope
from regionvisa.evaluation import flows, service

YEAR = 2025


@pytest.fixture
def published(engine, world):
    with session_scope(engine=engine) as session:
        run = service.run_evaluation(session=session, year=YEAR, actor=SYSTEM, draws=100)
        flows.publish_evaluation(session=session, run_id=run.id, actor=SYSTEM)
        return run.id


def test_regional_official_sees_only_their_own_regions_detail(client, login, role_users, published):
    login(client, "t.busan")
    body = client.get("/api/v1/evaluation/results").json()
    assert [e["region"] for e in body["regions"]] == ["26"]
    assert {e["region"] for e in body["ranking"]} == {"11", "26", "41"}
    assert all(set(e) == {"region", "score", "rank", "grade"} for e in body["ranking"])
    assert client.get("/api/v1/evaluation/regions/26").status_code == 200
    assert client.get("/api/v1/evaluation/regions/11").status_code == 403
    assert client.get("/evaluation/regions/11").status_code == 403
    hop = client.get("/evaluation", follow_redirects=False)
    assert (hop.status_code, hop.headers["location"]) == (303, "/evaluation/regions/26")
    page = client.get("/evaluation/regions/26")
    assert page.status_code == 200
    assert 'id="breakdown"' in page.text and 'id="rank-interval"' in page.text and "<svg" in page.text
    assert client.get("/api/v1/evaluation/report?format=json").status_code == 403


def test_what_if_in_the_api_and_on_the_page(client, login, role_users, published, engine):
    token = login(client, "t.busan")
    with session_scope(engine=engine) as session:
        before = service.region_view(session=session, actor=SYSTEM, region="26")
    answer = client.post(
        "/api/v1/evaluation/regions/26/what-if",
        json={"changes": {"quota_fill_rate": 0.0}},
        headers={"X-CSRF-Token": token},
    )
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["published"] == {"score": before["score"], "rank": before["rank"], "grade": before["grade"]}
    assert data["what_if"]["score"] < before["score"]
    page = client.get("/evaluation/regions/26", params={"set_quota_fill_rate": "0"})
    assert 'id="what-if-result"' in page.text
    assert f"{data['what_if']['score']:.1f}" in page.text
    bad = client.get("/evaluation/regions/26", params={"set_quota_fill_rate": "lots"})
    assert "lots" in bad.text and 'id="what-if-result"' not in bad.text


def report_file(client, engine, csrf: str, fmt: str, lang: str) -> bytes:
    """A report rendered by its job (202, followed to the end), then downloaded from the job's result."""
    started = client.post(
        "/api/v1/evaluation/reports", json={"format": fmt, "lang": lang}, headers={"X-CSRF-Token": csrf}
    )
    job = follow(client, started, engine)
    assert job["state"] == "succeeded", job
    assert job["result"]["summary"]["format"] == fmt and job["result"]["href"] == f"/api/v1/jobs/{job['id']}/file"
    response = client.get(job["result"]["href"])
    assert response.status_code == 200
    return response.content


def test_ministry_results_page_shows_the_report_and_reports_download(client, login, role_users, published, engine):
    csrf = login(client, "t.officer")
    page = client.get("/evaluation")
    assert page.status_code == 200
    assert 'id="ranking"' in page.text and 'id="manage"' in page.text and 'id="report-form"' in page.text
    for fmt, magic in (("pdf", b"%PDF"), ("xlsx", b"PK"), ("html", b"<!doctype html>")):
        assert report_file(client, engine, csrf, fmt, "en").startswith(magic), fmt
    # the GET of the report starts the same job and points to it
    linked = client.get("/api/v1/evaluation/report", params={"format": "json"}, follow_redirects=False)
    assert linked.status_code == 303 and linked.headers["location"].startswith("/api/v1/jobs/")
    # the page's form: 303 to the job page, which ends with a link to the file
    form = client.post(
        "/evaluation/reports",
        data={"year": YEAR, "format": "xlsx", "lang": "ko", "csrf_token": csrf},
        follow_redirects=False,
    )
    done = follow_page(client, form, engine)
    link = done.text.split('id="job-result" class="button primary" href="')[1].split('"')[0]
    assert client.get(link).content.startswith(b"PK")
    reproduced = client.get("/api/v1/evaluation/runs/reproduce", params={"run_id": published}).json()
    assert reproduced["identical"] is True


def test_run_and_publish_through_the_pages(client, login, role_users, world, engine):
    login(client, "t.officer")
    page = client.get("/evaluation")
    assert 'id="no-evaluation"' in page.text
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    started = client.post(
        "/evaluation/runs", data={"year": YEAR, "draws": "30", "csrf_token": token}, follow_redirects=False
    )
    job_page = follow_page(client, started, engine)  # a job: its page links back to the draft
    link = job_page.text.split('id="job-result" class="button primary" href="')[1].split('"')[0]
    done = client.get(link)
    assert done.status_code == 200 and "/api/v1/evaluation/runs/reproduce?run_id=" in done.text
    with session_scope(engine=engine) as session:
        run_id = service.runs(session=session, year=YEAR)[0].id
    refused = client.post("/evaluation/runs/publish", data={"run_id": run_id})
    assert refused.status_code == 403
    client.post("/evaluation/runs/publish", data={"run_id": run_id, "reason": "annual", "csrf_token": token})
    with session_scope(engine=engine) as session:
        assert service.published_run(session=session, year=YEAR).id == run_id


def test_committee_form_saves_scores_and_shows_recusal(client, login, make_user, engine, world):
    make_user("t.member", "committee_member")
    with session_scope(engine=engine) as session:
        from regionvisa.accounts.service import get_user_by_name

        uid = get_user_by_name(session=session, username="t.member").id
        service.set_member(session=session, actor=SYSTEM, user_id=uid, region="41", affiliation="Gyeonggi")
    token = login(client, "t.member")
    page = client.get(f"/evaluation/committee?year={YEAR}")
    assert page.status_code == 200
    assert page.text.count('action="/evaluation/committee"') == 2  # 26 and 11; 41 is recused
    saved = client.post(
        "/evaluation/committee",
        data={
            "year": YEAR,
            "region": "11",
            "score": "75",
            "justification": "good plan, well funded",
            "csrf_token": token,
        },
    )
    assert saved.status_code == 200
    with session_scope(engine=engine) as session:
        assert (
            service.member_scores(session=session, year=YEAR, member_id=uid)[("integration_policy", "11")].score == 75
        )
    refused = client.post(
        "/evaluation/committee",
        data={"year": YEAR, "region": "41", "score": "75", "justification": "own region's plan", "csrf_token": token},
    )
    assert refused.status_code == 409 and '<a href="#form-41">' in refused.text  # the summary names the form
    api = client.post(
        "/api/v1/evaluation/committee/scores",
        json={"year": YEAR, "region": "26", "score": 55, "justification": "average services"},
        headers={"X-CSRF-Token": token},
    )
    assert api.status_code == 201 and api.json()["score"] == 55


def test_quota_plan_api(client, login, role_users, published, engine):
    token = login(client, "t.officer")
    plan = client.post(
        "/api/v1/evaluation/quota-plans", json={"year": YEAR, "ceiling": 250}, headers={"X-CSRF-Token": token}
    )
    assert plan.status_code == 201, plan.text
    body = plan.json()
    assert sum(r["granted"] for r in body["rows"]) <= 250 and body["period"] == "2026"
    confirmed = client.post(
        "/api/v1/evaluation/quota-plans/confirm", json={"plan_id": body["id"]}, headers={"X-CSRF-Token": token}
    )
    assert confirmed.json()["status"] == "confirmed"


@pytest.mark.parametrize("method", ["dhondt", "huntington-hill", "modified-sainte-lague"])
def test_quota_plans_take_every_apportionment_method(client, login, role_users, published, engine, method):
    """The plan API and form offer the methods `quotas allocate` has, not only the first two."""
    token = login(client, "t.officer")
    plan = client.post(
        "/api/v1/evaluation/quota-plans",
        json={"year": YEAR, "ceiling": 250, "method": method},
        headers={"X-CSRF-Token": token},
    )
    assert plan.status_code == 201, plan.text
    assert sum(r["granted"] for r in plan.json()["rows"]) <= 250
    form = client.post(
        "/evaluation/quota-plans",
        data={"year": YEAR, "ceiling": 250, "method": method, "csrf_token": token},
        follow_redirects=False,
    )
    assert form.status_code == 303 and form.headers["location"].endswith("#quotas"), form.text[:500]


def test_cli_evaluates_the_database_publishes_and_answers_what_if(cli, engine, world, tmp_path):
    out = tmp_path / "db.json"
    res = cli("evaluate", "--year", str(YEAR), "--draws", "50", "--publish", "--out", str(out))
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert sorted(e["region"] for e in data["regions"]) == ["11", "26", "41"]
    assert data["run"]["inputs"]["indicators"]["26"]["integration_policy"] == 85.0
    with session_scope(engine=engine) as session:
        run = service.published_run(session=session, year=YEAR)
        assert json.loads(run.result_json) == data
    res = cli("evaluate", "--year", str(YEAR), "--what-if", "26", "--set", "integration_policy=100")
    assert res.exit_code == 0, res.output
    answer = json.loads(res.stdout)
    assert answer["what_if"]["score"] >= answer["published"]["score"]
    assert cli("evaluate", "--year", str(YEAR), "--what-if", "26", "--set", "oops").exit_code == 2


def test_pdf_report_of_the_published_run_renders_to_png(client, login, role_users, published, tmp_path, engine):
    csrf = login(client, "t.officer")
    pdf = report_file(client, engine, csrf, "pdf", "ko")
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "30", "-f", "1", "-l", "1", str(path), str(tmp_path / "p")], check=True)
    assert list(tmp_path.glob("p*.png"))


def test_what_if_ranking_units_bounds_and_rank_interval_note(client, login, role_users, published, engine):
    """One answer: the ranking table shows the what-if rank the result states; rates are typed in
    percent; out-of-range values are refused beside the field with its label; a published rank
    outside its interval is explained; in both languages."""
    import re

    login(client, "t.officer")
    with session_scope(engine=engine) as session:
        before = service.region_view(session=session, actor=SYSTEM, region="26")
    for lang in ("en", "ko"):
        page = client.get("/evaluation/regions/26", params={"set_quota_fill_rate": "100", "lang": lang}).text
        shown = re.search(r'id="wi-rank">(\d+)', page)
        assert shown, page[-2000:]
        row = re.search(r'<tr data-region="26"[^>]*class="what-if-row"><td>(\d+)</td>', page)
        assert row and row.group(1) == shown.group(1)
        ranks = [int(r) for r in re.findall(r'<tr data-region="\d\d"[^>]*><td>(\d+)</td>', page)]
        assert ranks == sorted(ranks) and len(ranks) >= 2
        assert 'id="ranking-what-if"' in page
        assert "(%)" in page  # rates are entered in percent
        bad = client.get("/evaluation/regions/26", params={"set_quota_fill_rate": "500", "lang": lang})
        assert 'id="error-summary"' in bad.text and 'id="what-if-result"' not in bad.text
        assert 'value="500"' in bad.text and 'href="#set-quota_fill_rate"' in bad.text
        label = "Quota fill rate" if lang == "en" else "쿼터 소진율"
        assert re.search(rf'class="field-error"[^>]*>.*{label}', bad.text, re.S)
        assert ("between 0% and 100%" if lang == "en" else "0%에서 100% 사이") in bad.text
    lo, hi = before["rank_interval"]
    page = client.get("/evaluation/regions/26").text
    assert ('id="rank-outside"' in page) == (not lo <= before["rank"] <= hi)


def test_committee_refusal_is_beside_the_field_and_keeps_what_was_typed(client, login, make_user, engine, world):
    make_user("t.member2", "committee_member")
    token = login(client, "t.member2")
    data = {"year": YEAR, "region": "11", "score": "140", "justification": "a long enough reason", "csrf_token": token}
    for lang, text in (("en", "Score (0–100) must be from 0 to 100"), ("ko", "점수 (0–100): 점수는 0에서 100")):
        client.cookies.set("lang", lang)
        refused = client.post("/evaluation/committee", data=data)
        assert refused.status_code == 422
        box = refused.text.split('id="error-summary"')[1].split("</div>")[0]
        assert re.findall(r'href="#([^"]+)"', box) == ["score-11"]
        beside = re.search(r'<p class="field-error" id="score-11-error">(.*?)</p>', refused.text, re.S).group(1)
        assert text in beside
        assert 'value="140"' in refused.text and "a long enough reason</textarea>" in refused.text
    client.cookies.set("lang", "en")
    short = client.post("/evaluation/committee", data={**data, "score": "70", "justification": "short"})
    assert short.status_code == 422 and '<a href="#just-11">' in short.text
    assert "Justification: write a justification of at least 10 characters" in short.text
    assert 'value="70"' in short.text


def test_what_if_refused_by_the_service_is_a_summary_item(client, login, role_users, published, monkeypatch):
    from regionvisa.core.errors import Invalid
    from regionvisa.evaluation import pages

    def refuse(**_):
        raise Invalid(code="invalid", field="changes", ko="지표 값 오류: 범위 밖", en="indicator values: out of range")

    monkeypatch.setattr(pages.service, "what_if", refuse)
    login(client, "t.officer")
    for lang, text in (("en", "indicator values: out of range"), ("ko", "지표 값 오류: 범위 밖")):
        page = client.get("/evaluation/regions/26", params={"set_quota_fill_rate": "50", "lang": lang})
        assert page.status_code == 200 and '<a href="#what-if-form">' in page.text
        assert re.search(rf'<p class="field-error" id="what-if-form-error">.*{text}', page.text, re.S)
        assert (
            'value="50"' in page.text and 'class="error-box" role="alert">' not in page.text.split("error-summary")[-1]
        )
