"""In Chromium, the ministry's ledger workflow without help (issue 17, req 3): open a ledger from
/quotas, top it up on its page, and close it, the close asking for confirmation first."""

from __future__ import annotations

from tests.browser.signin import log_in


def test_open_top_up_and_close_a_ledger(page, busan_site, shots):
    username, password = busan_site["accounts"]["ministry_officer"]
    log_in(page, username, password)
    page.goto("/quotas")
    form = page.locator("#open-form")
    form.get_by_label("프로그램", exact=True).select_option("busan-d2")
    form.get_by_label("기간").fill("2039")
    form.get_by_label("첫날").fill("2039-01-01")
    form.get_by_label("마지막 날").fill("2039-12-31")
    form.get_by_label("배정 인원").fill("10")
    form.get_by_label("사유").fill("신규 연도")
    form.get_by_role("button", name="원장 개설").click()
    page.wait_for_load_state()
    assert "원장을 개설했습니다." in page.locator("main").inner_text()
    assert page.locator("#ledger-allocated").inner_text() == "10"

    page.get_by_label("인원 (감축은 음수)").fill("5")
    page.locator("#adj-reason").fill("수요 증가")
    page.get_by_role("button", name="조정 기록").click()
    page.wait_for_load_state()
    assert page.locator("#ledger-adjustments").inner_text() == "5"

    page.locator("#close-reason").fill("기간 종료")
    page.locator("#close-form").get_by_role("button").click()
    page.wait_for_load_state()
    assert page.locator("#error-summary").is_visible()
    assert page.locator("#close-reason").input_value() == "기간 종료"
    page.locator("#close-confirm").check()
    page.locator("#close-form").get_by_role("button").click()
    page.wait_for_load_state()
    assert "원장을 마감했습니다." in page.locator("main").inner_text()
    assert page.locator("#adjust-form").count() == 0
    shots(page, "quota-ledger-closed-ko")
