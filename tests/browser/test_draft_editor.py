"""The YAML draft editor's live validation runs in a real browser under the site's script policy
(`script-src 'self'`: an inline script would be refused) and lists the problems in Korean on a
Korean page."""

from __future__ import annotations

import yaml
from playwright.sync_api import expect

from .signin import log_in


def test_live_validation_says_valid_then_lists_a_guardrail_problem_in_korean(page, busan_site, shots):
    refused_scripts = []
    page.on("console", lambda m: refused_scripts.append(m.text) if "Content Security Policy" in m.text else None)
    log_in(page, *busan_site["accounts"]["regional_official"])
    response = page.goto("/program-drafts?program=busan-d2")
    assert response.status == 200
    status = page.locator("#live-validation")
    expect(status).to_have_text("설계에 오류가 없습니다.")
    design = yaml.safe_load(page.locator("#draft-yaml").input_value())
    design["obligation_months"] = 500
    page.locator("#draft-yaml").fill(yaml.safe_dump(design, allow_unicode=True, sort_keys=False))
    expect(status.locator("li").first).to_be_visible()
    assert status.locator("p").inner_text() == "발견된 문제:"
    lines = status.locator("li").all_inner_texts()
    assert any(line.startswith("draft:obligation_months:") and "120 이하여야 합니다" in line for line in lines), lines
    assert refused_scripts == []
    shots(page, "draft-editor-live-validation-ko")
