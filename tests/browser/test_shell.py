"""The web shell in Chromium: log-in per role with its navigation, region scope, log-out, and
the overview in Korean and English. Screenshots go to test-artifacts/browser/."""

from __future__ import annotations

import re
import time

import pytest
from tests.browser.signin import log_in
from tests.jobs.support import run_queue

from regionvisa.accounts.policy import Actor, grant

# Entries every role must see, and must not see, whatever later domains add to the menu.
NAV_MUST = {
    "ministry_admin": ({"전국 현황", "지역 통계", "사용자", "내 계정"}, {"감사 기록"}),
    "ministry_officer": ({"전국 현황", "지역 통계", "내 계정"}, {"사용자", "감사 기록"}),
    "regional_official": ({"전국 현황", "지역 통계", "내 계정"}, {"사용자", "감사 기록"}),
    "committee_member": ({"전국 현황", "지역 통계", "내 계정"}, {"사용자", "감사 기록"}),
    "auditor": ({"전국 현황", "지역 통계", "감사 기록", "내 계정"}, {"사용자"}),
}


def expected_nav(role: str | None) -> list[str]:
    """The Korean labels the policy allows `role`, in menu order."""
    from regionvisa.accounts import nav
    from regionvisa.web import i18n

    who = Actor(1, "x", "x", role, "26" if role == "regional_official" else None) if role else None
    token = i18n.current_language.set("ko")
    try:
        return [i18n.gettext(e.label) for e in nav.NAV if e.action is None or grant(who, e.action)]
    finally:
        i18n.current_language.reset(token)


def nav_labels(page) -> list[str]:
    return [t.strip() for t in page.locator("nav[aria-label] ul.nav a").all_inner_texts()]


def test_overview_in_korean_and_english(page, shots):
    response = page.goto("/")
    assert response.status == 200
    assert page.locator("html").get_attribute("lang") == "ko"
    assert page.get_by_role("heading", level=1).inner_text() == "전국 현황"
    rows = page.locator("#region-table tbody tr")
    assert rows.count() == 17
    assert "부산광역시" in page.locator("#region-table").inner_text()
    assert page.locator("svg[role=img] g.tile").count() == 17
    shots(page, "overview-ko")
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "National overview"
    assert "Busan" in page.locator("#region-table").inner_text()
    shots(page, "overview-en")
    # the choice sticks (cookie) until switched back
    page.goto("/login")
    assert page.get_by_role("heading", level=1).inner_text() == "Log in"
    page.get_by_role("link", name="한국어").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "로그인"


@pytest.mark.parametrize("role", list(NAV_MUST))
def test_each_role_logs_in_sees_its_navigation_and_logs_out(page, site, shots, role):
    username, password = site["accounts"][role]
    assert nav_labels(page.goto("/") and page) == expected_nav(None)
    log_in(page, username, password)
    assert page.get_by_role("button", name="로그아웃").is_visible()
    shown = nav_labels(page)
    assert shown == expected_nav(role)
    present, absent = NAV_MUST[role]
    assert present <= set(shown) and not (absent & set(shown)), shown
    if role == "regional_official":
        assert page.get_by_role("link", name="지역 통계").get_attribute("href") == "/regions/26"
    shots(page, f"nav-{role}")
    page.get_by_role("button", name="로그아웃").click()
    page.wait_for_load_state()
    assert page.get_by_role("link", name="로그인").is_visible()
    assert nav_labels(page) == expected_nav(None)
    assert "내 계정" not in nav_labels(page)
    # the pages behind the log-in are closed again
    response = page.goto("/account")
    assert response.status == 401
    assert page.get_by_role("heading", level=1).inner_text() == "로그인"


def test_regional_official_is_refused_another_region(page, site, shots):
    username, password = site["accounts"]["regional_official"]
    log_in(page, username, password)
    own = page.goto("/regions/26")
    assert own.status == 200
    assert "부산광역시" in page.get_by_role("heading", level=1).inner_text()
    assert page.locator("#people-table tbody tr").count() == 3
    assert page.locator("#region-code").count() == 0  # no picker for other regions
    shots(page, "region-26-busan-official")
    other = page.goto("/regions/11")
    assert other.status == 403
    assert "담당 지역이 아닌" in page.locator("main").inner_text()
    assert "P10000004" not in page.content()
    shots(page, "region-11-refused")


def test_officer_switches_regions(page, site):
    username, password = site["accounts"]["ministry_officer"]
    log_in(page, username, password)
    page.goto("/regions")
    page.get_by_label("시·도").select_option("11")
    page.get_by_role("button", name="보기").click()
    page.wait_for_load_state()
    assert page.url.endswith("/regions/11")
    assert page.locator("#people-table tbody tr").count() == 3


def test_wrong_password_is_announced_and_the_form_is_accessible(page, site, shots):
    # keyboard: the skip link comes first and moves focus to the content
    page.goto("/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # the log-in form starts in the user name and follows the visual order
    page.goto("/login")
    focused = [page.evaluate("document.activeElement.id")]
    for _ in range(2):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.id || document.activeElement.type"))
    assert focused == ["username", "password", "submit"]
    username_field = page.get_by_label("사용자 이름")
    assert username_field.get_attribute("autocomplete") == "username"
    username_field.fill(site["accounts"]["auditor"][0])
    page.get_by_label("비밀번호").fill("not-the-password")
    page.get_by_role("button", name="로그인").click()
    page.wait_for_load_state()
    alert = page.get_by_role("alert")
    assert "틀렸습니다" in alert.inner_text()
    assert page.get_by_label("사용자 이름").get_attribute("aria-invalid") == "true"
    shots(page, "login-error")


def test_auditor_reads_the_audit_log(page, site, shots):
    username, password = site["accounts"]["auditor"]
    log_in(page, username, password)
    page.get_by_role("link", name="감사 기록").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "감사 기록"
    table = page.locator("#audit-table")
    assert "auth.login" in table.inner_text()
    page.get_by_label("작업").fill("users.*")
    page.get_by_role("button", name="필터 적용").click()
    page.wait_for_load_state()
    assert re.search(r"action=users\.", page.url)
    actions = {t.strip() for t in page.locator("#audit-table tbody td:nth-child(4)").all_inner_texts()}
    assert actions == {"users.create"}
    shots(page, "audit-log")
    page.get_by_role("link", name="해시 체인 검증").click()
    page.wait_for_load_state()
    # no check has run on this database yet: the auditor starts one (a job) and comes back to its result
    page.get_by_role("button", name="지금 체인 검증").click()
    page.wait_for_load_state()
    assert "/jobs/" in page.url
    deadline = time.monotonic() + 60
    while True:
        run_queue(site["engine"])  # the test server runs no worker thread (lifespan off)
        page.goto("/audit/verify")
        if "체인이 온전합니다" in page.locator("#verify-result").inner_text():
            break
        assert time.monotonic() < deadline, page.locator("#verify-result").inner_text()
        time.sleep(0.5)
