"""The programme design form editor: works without JavaScript, the form-error pattern, same save as YAML."""

from __future__ import annotations

import html as html_module
import re

from regionvisa.db import session_scope
from regionvisa.programs import design_form, designs, service


def _fields(page: str) -> dict[str, str]:
    """The named inputs and selected options of the form as a browser would send them."""
    out = {}
    for m in re.finditer(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"[^>]*>', page):
        if 'type="checkbox"' in m.group(0) and " checked" not in m.group(0):
            continue  # a box not ticked sends nothing
        out[m.group(1)] = html_module.unescape(m.group(2))
    for m in re.finditer(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        out[m.group(1)] = html_module.unescape(m.group(2))
    for m in re.finditer(r'<select[^>]*name="([^"]+)">(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', m.group(2))
        out[m.group(1)] = html_module.unescape(chosen.group(1)) if chosen else ""
    return out


def test_add_a_rule_without_javascript_keeps_what_was_typed(client, pilots, role_users, login):
    login(client, "t.busan")
    page = client.get("/program-drafts/form?program=busan-d2&lang=en")
    assert page.status_code == 200 and 'name="rule-0-field"' in page.text
    fields = _fields(page.text)
    assert fields["meta-quota"] == "1000" and fields["meta-version"] == "2"
    fields.update({"meta-quota": "900", "rule-0-label_en": "Typed label", "act": "add-rule"})
    again = client.post("/program-drafts/form?lang=en", data=fields)
    assert again.status_code == 200
    kept = _fields(again.text)
    assert kept["meta-quota"] == "900" and kept["rule-0-label_en"] == "Typed label"
    assert 'data-rule-row="4"' in again.text  # the fifth, new row
    kept["act"] = "remove-rule-4"
    assert 'data-rule-row="4"' not in client.post("/program-drafts/form?lang=en", data=kept).text


def test_guardrail_violation_beside_the_field_in_korean_and_english(client, pilots, role_users, login):
    login(client, "t.busan")
    for lang, label, summary, words in (
        ("en", "Dated parameter value", "There is a problem", "1,000 KRW is below the national lower bound 8,000,000"),
        (
            "ko",
            "시행일별 기준값",
            "입력 내용을 확인해 주세요",
            "재정능력 입증 금액 1,000원은(는) 2025-04-02에 적용되는 국가 하한 8,000,000원보다 낮습니다",
        ),
    ):
        fields = _fields(client.get(f"/program-drafts/form?program=busan-d2&lang={lang}").text)
        row = next(k for k, v in fields.items() if v == "bank_balance_krw" and k.startswith("param-"))
        fields[row.replace("-name", "-value")] = "1000"
        fields["act"] = "check"
        refused = client.post(f"/program-drafts/form?lang={lang}", data=fields)
        assert refused.status_code == 422
        assert summary in refused.text
        beside = re.search(rf'id="{row.replace("-name", "-value")}-error">(.*?)</p>', refused.text, re.S).group(1)
        assert label in beside and words in beside
        assert lang == "en" or "below the national" not in beside
        assert f'href="#{row.replace("-name", "-value")}"' in refused.text


def test_check_then_save_stores_the_same_draft_as_the_yaml_path(client, engine, pilots, role_users, login):
    csrf = login(client, "t.busan")
    fields = _fields(client.get("/program-drafts/form?program=busan-d2&lang=en").text)
    fields["act"] = "check"
    checked = client.post("/program-drafts/form?lang=en", data=fields)
    assert checked.status_code == 200 and 'id="design-valid"' in checked.text
    expected = design_form.to_design(design_form.from_fields(fields))
    fields["act"] = "save"
    saved = client.post("/program-drafts/form", data=fields, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == "/programs/busan-d2"
    with session_scope(engine=engine) as session:
        from_form = dict(service.get_version(session=session, program_id="busan-d2").design)
    # the YAML editor's path with the same design gives the same stored draft
    text = designs.design_yaml(expected)
    client.post("/program-drafts", data={"yaml": text, "csrf_token": csrf, "then": "save"}, follow_redirects=False)
    with session_scope(engine=engine) as session:
        from_yaml = dict(service.get_version(session=session, program_id="busan-d2").design)
    assert from_form == from_yaml
    assert design_form.to_design(design_form.from_design(from_form)) == from_form


def test_regional_official_cannot_save_another_regions_draft(client, pilots, role_users, login):
    login(client, "t.busan")
    fields = _fields(client.get("/program-drafts/form?program=busan-d2&lang=en").text)
    fields.update({"meta-region": "41", "meta-id": "busan-x", "meta-version": "1", "act": "save"})
    assert fields.pop("area-26") == "1"  # the residence area is ticked, not typed
    fields["area-41"] = "1"
    assert client.post("/program-drafts/form", data=fields, follow_redirects=False).status_code == 403
    assert client.get("/program-drafts/form?program=gyeonggi-e7").status_code == 403


def test_yaml_and_form_editors_link_both_ways(client, pilots, role_users, login):
    login(client, "t.busan")
    assert 'href="/program-drafts/form"' in client.get("/program-drafts?lang=en").text
    assert 'href="/program-drafts?program=busan-d2"' in client.get("/program-drafts/form?program=busan-d2&lang=en").text


def test_yaml_draft_page_words_guardrail_problems_in_the_pages_language(client, pilots, role_users, login):
    csrf = login(client, "t.busan")
    text = designs.design_yaml(
        dict(service_design(pilots), version=2, parameters={"bank_balance_krw": {"2025-04-02": 1000}})
    )
    for lang, words in (
        ("ko", "국가 하한 8,000,000원보다 낮습니다"),
        ("en", "1,000 KRW is below the national lower bound 8,000,000"),
    ):
        refused = client.post(f"/program-drafts?lang={lang}", data={"yaml": text, "csrf_token": csrf, "then": "save"})
        assert refused.status_code == 422
        assert words in html_module.unescape(refused.text)


def test_the_api_keeps_the_english_contract_lines(client, pilots, role_users, login):
    csrf = login(client, "t.busan")
    text = designs.design_yaml(
        dict(service_design(pilots), version=2, parameters={"bank_balance_krw": {"2025-04-02": 1000}})
    )
    got = client.post("/api/v1/programs/validate", json={"yaml": text}, headers={"X-CSRF-Token": csrf}).json()
    assert got["valid"] is False
    line = next(e for e in got["errors"] if "bank_balance_krw" in e)
    assert line.startswith("draft:parameters.bank_balance_krw.2025-04-02: 1,000 KRW is below the national lower bound")


def service_design(engine) -> dict:
    with session_scope(engine=engine) as session:
        return dict(service.get_version(session=session, program_id="busan-d2").design)
