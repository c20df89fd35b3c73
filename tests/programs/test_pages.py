"""Programme pages: list, programme page, draft editor (own region only), public eligibility check."""

from __future__ import annotations

import html as html_module

from tests.actors import SYSTEM

from regionvisa.programs import service


def test_list_shows_only_the_officials_region(client, pilots, role_users, login):
    login(client, "t.busan")
    page = client.get("/programs?lang=en")
    assert page.status_code == 200
    assert 'data-program="busan-d2"' in page.text
    assert 'data-program="gyeonggi-e7"' not in page.text
    assert client.get("/programs/gyeonggi-e7").status_code == 403


def test_programme_page_in_korean_and_english(client, pilots, role_users, login):
    login(client, "t.officer")
    html = client.get("/programs/busan-d2?lang=en").text
    # criteria in the page's language only, fixed national ones first and marked
    assert 'data-criterion="passport-valid"' in html and "national, fixed" in html
    assert "Korean ability (TOPIK 3 or higher)" in html and "한국어능력 (TOPIK 3급 이상)" not in html
    assert "TOPIK level ≥ the programme" in html and "topik_min</td>" not in html
    # guardrails with their bounds and references, quota, versions
    assert "bank_balance_krw" in html and "at least 8,000,000" in html
    assert "Places in the design" in html and "1,000" in html
    assert 'data-version="1"' in html
    ko = client.get("/programs/busan-d2?lang=ko").text
    assert "국가 가이드라인" in ko and "심사 기준" in ko
    assert "한국어능력 (TOPIK 3급 이상)" in ko and "TOPIK 등급 ≥ 프로그램 기준값" in ko
    assert "Korean ability (TOPIK 3 or higher)" not in ko


def test_versions_diff_and_ministry_buttons(client, engine, pilots, role_users, login):
    from regionvisa.db import session_scope

    with session_scope(engine=engine) as session:
        design = dict(service.get_version(session=session, program_id="busan-d2").design)
        design["quota"] = 1200
        service.save_draft(session=session, design=design, actor=SYSTEM)
    csrf = login(client, "t.officer")
    html = client.get("/programs/busan-d2?a=1&b=2&lang=en").text
    assert "-quota: 1000" in html and "+quota: 1200" in html
    # the officer may submit the draft (edit_draft holds for every region)
    response = client.post(
        "/programs/busan-d2/versions/2/submit", data={"reason": "ready", "csrf_token": csrf}, follow_redirects=False
    )
    assert response.status_code == 303
    html = client.get("/programs/busan-d2?lang=en").text
    assert "The version was submitted for approval." in html
    assert "/programs/busan-d2/versions/2/approve" in html


def test_editor_limited_to_own_region(client, pilots, role_users, login):
    csrf = login(client, "t.busan")
    editor = client.get("/program-drafts?program=busan-d2&lang=en")
    assert editor.status_code == 200
    assert "version: 2" in editor.text  # the published v1 is never edited in place
    assert client.get("/program-drafts?program=gyeonggi-e7").status_code == 403
    # an invalid draft: shown again with every error, nothing stored
    bad = editor.text.split('name="yaml"', 1)[1].split(">", 1)[1].split("</textarea>")[0]
    text = html_module.unescape(bad).replace("8000000", "1000", 1)  # the bank balance, below its bound
    response = client.post("/program-drafts", data={"yaml": text, "csrf_token": csrf, "then": "save"})
    assert response.status_code == 422
    assert "below the national lower bound" in response.text
    # in the form-error pattern: the summary links each problem to the editor, listed beside it too
    page = html_module.unescape(response.text)
    summary = page.split('id="error-summary"', 1)[1].split("</div>", 1)[0]
    assert '<a href="#draft-yaml">' in summary and "below the national lower bound" in summary
    beside = page.split('id="draft-yaml-error"', 1)[1].split("</div>", 1)[0]
    assert "below the national lower bound" in beside
    assert 'aria-invalid="true"' in page and 'aria-describedby="draft-yaml-error live-validation"' in page
    assert "1000" in page.split('name="yaml"', 1)[1].split("</textarea>")[0]  # what was typed is kept
    # a valid draft saved and submitted
    good = html_module.unescape(bad)
    saved = client.post(
        "/program-drafts",
        data={"yaml": good, "reason": "r", "csrf_token": csrf, "then": "submit"},
        follow_redirects=False,
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/programs/busan-d2"
    # another region's design is refused
    other = good.replace("region: '26'", "region: '41'").replace("- '26'", "- '41'").replace("busan-d2", "busan-x")
    assert client.post("/program-drafts", data={"yaml": other, "csrf_token": csrf}).status_code == 403


def test_committee_member_has_no_editor(client, pilots, role_users, login):
    login(client, "t.committee")
    assert client.get("/program-drafts").status_code == 403
    assert client.get("/programs").status_code == 200


def test_public_match_page_without_log_in(client, pilots, designs, test_data):
    form = client.get("/match?lang=en")
    assert form.status_code == 200
    assert 'name="topik_level"' in form.text and 'name="birth_date"' in form.text
    fields = {k: ("true" if v is True else "false" if v is False else str(v)) for k, v in designs.BUSAN_OK.items()}
    fields.update(topik_level="2", applicant_id="", on="2025-06-01", csrf_token=test_data.csrf_from(form.text))
    result = client.post("/match", data=fields)
    assert result.status_code == 200
    html = result.text
    start = html.index('data-program="busan-d2"')
    busan = html[start : html.index("</li>", html.index("</ul>", start))]
    assert 'data-outcome="ineligible"' in busan and "near miss" in busan
    assert "TOPIK 2 → 3" in busan
    ko = client.post("/match?lang=ko", data=fields).text
    assert "근소한 미달" in ko and "부적격" in ko
    refused = client.post("/match", data={**fields, "csrf_token": "forged"})
    assert refused.status_code == 403
