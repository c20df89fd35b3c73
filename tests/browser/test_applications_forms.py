"""In Chromium, the new-application form's error path (issue 17, req 1-2): an impossible birth date
and an out-of-range TOPIK level bring the same page back with the error summary, whose links move
the focus to the fields, the messages beside the fields worded with their Korean labels, and
everything typed kept; corrected, the application goes in."""

from __future__ import annotations


def log_in(page, username: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("사용자 이름").fill(username)
    page.get_by_label("비밀번호").fill(password)
    page.get_by_role("button", name="로그인").click()
    page.wait_for_load_state()


def test_new_application_error_path(page, busan_site, shots):
    username, password = busan_site["accounts"]["regional_official"]
    log_in(page, username, password)
    page.goto("/applications/new")
    page.get_by_label("프로그램", exact=True).select_option("busan-d2")
    page.get_by_label("신청인 이름").fill("Nguyen Van An")
    page.get_by_label("여권번호").fill("BF1234567")
    page.get_by_label("접수일").fill("2025-06-02")
    page.locator("#f-nationality").fill("VNM")
    page.locator("#f-birth_date").fill("2090-01-01")
    page.locator("#f-topik_level").fill("9")
    page.locator("#f-course_type").select_option("degree")
    page.get_by_role("button", name="접수 및 심사").click()
    page.wait_for_load_state()

    summary = page.locator("#error-summary")
    assert summary.get_by_role("heading").inner_text() == "입력 내용을 확인해 주세요"
    links = summary.get_by_role("link")
    assert links.count() >= 2
    texts = summary.inner_text()
    assert "생년월일" in texts and "TOPIK 등급" in texts
    assert "birth_date" not in texts and "topik_level" not in texts
    # beside the field, and the field marked invalid
    assert "생년월일" in page.locator("#f-birth_date-error").inner_text()
    assert page.locator("#f-birth_date").get_attribute("aria-invalid") == "true"
    # everything typed is kept
    assert page.locator("#f-birth_date").input_value() == "2090-01-01"
    assert page.locator("#f-topik_level").input_value() == "9"
    assert page.get_by_label("신청인 이름").input_value() == "Nguyen Van An"
    assert page.locator("#f-course_type").input_value() == "degree"
    # the summary's link moves to the field
    summary.get_by_role("link", name="생년월일").first.click()
    assert page.evaluate("location.hash") == "#f-birth_date"
    shots(page, "application-form-errors-ko")

    page.locator("#f-birth_date").fill("2001-04-05")
    page.locator("#f-topik_level").fill("4")
    page.get_by_role("button", name="접수 및 심사").click()
    page.wait_for_load_state()
    assert page.locator(".flash").inner_text() == "신청을 접수하고 심사했습니다."
