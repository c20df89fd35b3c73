"""In Chromium, a regional official's design-form workflow (issue 17, req 10 and 12): open the form, add a
criterion and the parameter it reads, preview the design against the sample applicants, meet a guardrail
problem in the error summary with the typed value kept beside its field, fix it and save the draft."""

from __future__ import annotations

from tests.browser.signin import log_in


def test_design_preview_error_and_save(page, site, shots):
    username, password = site["accounts"]["regional_official"]
    log_in(page, username, password)
    page.goto("/program-drafts/form")
    assert page.locator('[data-rule-row="1"]').count() == 0

    page.get_by_role("button", name="규칙 추가").click()
    page.wait_for_load_state()
    row = page.locator('[data-rule-row="1"]')
    row.locator("#rule-1-id").fill("korean-ability")
    row.locator("#rule-1-label_ko").fill("한국어능력 (TOPIK 4급 이상)")
    row.locator("#rule-1-label_en").fill("Korean ability (TOPIK 4 or higher)")
    row.get_by_label("근거").fill("지역 설계 2027")
    row.get_by_label("신청인 항목").select_option("topik_level")
    row.get_by_label("연산자").select_option(">=")
    row.get_by_label("비교 대상").select_option("param")
    row.get_by_label("값 또는 기준값 이름").fill("topik_min")

    page.get_by_role("button", name="시행일별 값 추가").click()
    page.wait_for_load_state()
    assert page.locator("#rule-1-label_ko").input_value() == "한국어능력 (TOPIK 4급 이상)"  # kept across the reload
    param = page.locator('[data-param-row="1"]')
    param.get_by_label("모수").fill("topik_min")
    param.get_by_label("시행일").fill(page.locator("#meta-valid_from").input_value())
    param.get_by_label("값", exact=True).fill("4")

    page.get_by_role("button", name="미리보기").click()
    page.wait_for_load_state()
    table = page.locator("#preview-table")
    assert table.is_visible()
    young = table.locator('[data-sample="young-student-topik4"]')
    assert young.locator(".sample-outcome").inner_text().startswith("적격")
    assert "한국어능력 (TOPIK 4급 이상)" in table.locator("thead").inner_text()
    language = table.locator('[data-sample="language-course-student"]')
    assert language.locator('[data-criterion="korean-ability"]').get_attribute("class") == "result-fail"
    assert "미충족" in language.locator('[data-criterion="korean-ability"]').inner_text()
    shots(page, "design-form-preview-ko")

    page.locator("#param-0-value").fill("1000")  # below the national lower bound of the financial proof
    page.get_by_role("button", name="미리보기").click()
    page.wait_for_load_state()
    summary = page.locator("#error-summary")
    assert summary.is_visible() and page.locator("#preview-table").count() == 0
    link = summary.locator('a[href="#param-0-value"]')
    assert "8,000,000원보다 낮습니다" in link.inner_text()
    link.click()
    assert page.evaluate("document.activeElement.id") == "param-0-value"
    assert page.locator("#param-0-value").input_value() == "1000"
    assert page.locator("#rule-1-value").input_value() == "topik_min"

    page.locator("#param-0-value").fill("8000000")
    page.get_by_role("button", name="초안 저장").click()
    page.wait_for_load_state()
    assert page.url.endswith("/programs/region26-draft")
    main = page.locator("main").inner_text()
    assert "초안을 저장했습니다." in main and "한국어능력 (TOPIK 4급 이상)" in main
