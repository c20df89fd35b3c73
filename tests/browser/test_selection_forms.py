"""Opening a selection round and submitting a proposal in the browser, without writing YAML
(issue 17 reqs. 10 and 12): the rubric as rows with one added, a refused cell beside its field with
the input kept, and a proposal that takes the region's published design from a list."""

from __future__ import annotations

from .signin import log_in


def test_open_a_round_with_an_added_criterion_then_propose_a_saved_design(browser, busan_site, shots):
    admin = browser.new_context(base_url=busan_site["url"], viewport={"width": 1280, "height": 900}).new_page()
    log_in(admin, *busan_site["accounts"]["ministry_admin"])
    admin.goto("/selection")
    assert admin.locator("#c5_id").input_value() == "employment"
    assert admin.locator("#c6_id").count() == 0
    admin.locator("#round-year").fill("2039")
    admin.get_by_role("button", name="기준 추가").click()
    admin.wait_for_load_state()
    assert admin.locator("#round-year").input_value() == "2039"  # what was typed is kept
    admin.locator("#c6_id").fill("digital")
    admin.locator("#c6_weight").fill("0")
    admin.locator("#c6_label_ko").fill("디지털 역량")
    admin.locator("#c6_label_en").fill("Digital skills")
    admin.locator("#c6_desc_ko").fill("디지털 산업 인력 양성 계획")
    admin.locator("#c6_desc_en").fill("A plan for digital industries")
    admin.get_by_role("button", name="회차 열기").click()
    admin.wait_for_load_state()

    summary = admin.locator("#error-summary")
    assert summary.is_visible()
    link = summary.get_by_role("link")
    assert link.count() == 1 and link.get_attribute("href") == "#c6_weight"
    assert "기준 6" in link.inner_text() and "0보다 커야 합니다" in link.inner_text()
    assert admin.locator("#c6_weight").get_attribute("aria-invalid") == "true"
    assert admin.locator("#c6_weight").input_value() == "0"
    assert admin.locator("#c6_label_ko").input_value() == "디지털 역량"
    shots(admin, "selection-round-form-error-ko")

    admin.locator("#c6_weight").fill("15")
    admin.get_by_role("button", name="회차 열기").click()
    admin.wait_for_load_state()
    assert "회차를 열었습니다" in admin.locator("main").inner_text()
    assert "디지털 역량" in admin.locator("main").inner_text()
    round_path = admin.url.split(busan_site["url"], 1)[1].split("?")[0]
    shots(admin, "selection-round-opened-ko")

    busan = browser.new_context(base_url=busan_site["url"], viewport={"width": 1280, "height": 900}).new_page()
    log_in(busan, *busan_site["accounts"]["regional_official"])
    busan.goto(f"{round_path}/proposals/26")
    busan.locator("#narrative").fill("부산 유학생 유치와 정착 지원 계획")
    options = busan.locator("#saved_1 option")
    values = [options.nth(i).get_attribute("value") for i in range(options.count())]
    chosen = next(v for v in values if v.startswith("busan-d2@"))
    busan.locator("#saved_1").select_option(chosen)
    busan.locator("#quota_1").fill("800")
    busan.get_by_role("button", name="제안서 제출").click()
    busan.wait_for_load_state()
    assert "제안서를 제출했습니다" in busan.locator("main").inner_text()
    versions = busan.locator("#version-table").inner_text()
    assert f"busan-d2 v{chosen.split('@')[1]}: 800" in versions
    shots(busan, "selection-proposal-from-saved-design-ko")
