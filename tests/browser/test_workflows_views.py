"""In Chromium, the reading workflows of issue 17 (req 12): switching language keeps the page (its
filters and page number, and after a refused form post never a 405), the evaluation's what-if
(percent inputs, bounds said beside the field, the result's rank the table's rank), the compliance
dashboard's long at-risk list (paged, filtered, sorted), and searching applications by name and by
passport, each search an audit entry that keeps no search term."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from tests import samples
from tests.actors import SYSTEM
from tests.browser.signin import log_in

from regionvisa.db import session_scope

ON = dt.date(2025, 6, 2)
NAME, PASSPORT = "Tran Thi Binh", "BT7654321"
PROFILE = samples.PROFILE  # a Busan D-2 applicant who passes every criterion
LEDGERS = [("seoul-e7", "11", 200, 100), ("gyeonggi-e7", "41", 50, 10)]  # programme, region, allocated, used
RISK_RULES = ("illegal_stay", "residence_obligation")


@pytest.fixture(scope="module")
def busan_site(site, test_data):
    """busan-d2 with one screened application, a published 2025 evaluation of three regions and a
    recorded compliance run."""
    from sqlalchemy import update

    from regionvisa.applications import intake
    from regionvisa.compliance import cases
    from regionvisa.evaluation import flows, service
    from regionvisa.quotas.models import QuotaLedger
    from regionvisa.quotas.service import open_ledger

    engine = site["engine"]
    test_data.publish_busan(engine)
    with session_scope(engine=engine) as session:
        site["application"] = intake.submit(
            session=session,
            program_id="busan-d2",
            applicant=dict(PROFILE),
            name=NAME,
            passport_no=PASSPORT,
            actor=SYSTEM,
            on=ON,
        ).id
    with session_scope(engine=engine) as session:
        session.execute(update(QuotaLedger).where(QuotaLedger.program_id == "busan-d2").values(used=9))
        for program, region, allocated, used in LEDGERS:
            ledger = open_ledger(
                session=session,
                program_id=program,
                region=region,
                period="2025",
                start=dt.date(2025, 1, 1),
                end=dt.date(2025, 12, 31),
                allocated=allocated,
                actor=SYSTEM,
                reason="test ledger",
            )
            session.execute(update(QuotaLedger).where(QuotaLedger.id == ledger.id).values(used=used))
    with session_scope(engine=engine) as session:
        run = service.run_evaluation(session=session, year=2025, actor=SYSTEM, draws=50)
        flows.publish_evaluation(session=session, run_id=run.id, actor=SYSTEM)
    cases.record_run(engine=engine, on=dt.date(2025, 12, 31), actor=SYSTEM)
    return site


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def test_switching_language_keeps_the_page_and_never_lands_on_405(page, busan_site, shots):
    app_id = busan_site["application"]
    log_in(page, *busan_site["accounts"]["ministry_officer"])
    page.goto("/applications?status=screened&program_id=busan-d2&page=1")
    assert page.get_by_role("heading", level=1).inner_text() == "신청"
    assert page.locator("#application-table").get_by_role("link", name=f"#{app_id}").count() == 1

    page.get_by_role("link", name="English").click()
    page.wait_for_load_state()
    assert urlsplit(page.url).path == "/applications"
    assert query_of(page.url) == {"status": ["screened"], "program_id": ["busan-d2"], "page": ["1"], "lang": ["en"]}
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Applications"
    assert page.locator("#f-status").input_value() == "screened"
    assert page.locator("#f-program").input_value() == "busan-d2"
    assert page.locator("#application-table").get_by_role("link", name=f"#{app_id}").count() == 1

    # a refused form post (a passport number that is not one), then the language switch
    page.locator("#passport_no").fill("x-1")
    page.get_by_role("button", name="Search").click()
    page.wait_for_load_state()
    assert page.locator("#error-summary").is_visible()
    assert page.locator("#passport_no-error").is_visible()
    shots(page, "workflow-search-refused-en")
    with page.expect_navigation() as landed:
        page.get_by_role("link", name="한국어").click()
    assert landed.value.status == 200
    assert urlsplit(page.url).path == "/applications"
    assert query_of(page.url) == {"status": ["screened"], "program_id": ["busan-d2"], "page": ["1"], "lang": ["ko"]}
    assert page.locator("html").get_attribute("lang") == "ko"
    assert page.get_by_role("heading", level=1).inner_text() == "신청"
    assert page.locator("#f-status").input_value() == "screened"
    shots(page, "workflow-language-switched-back-ko")


def test_what_if_takes_percent_enforces_bounds_and_ranks_as_the_table(page, busan_site, shots):
    log_in(page, *busan_site["accounts"]["ministry_officer"])
    page.goto("/evaluation/regions/26")
    field = page.locator("#set-quota_fill_rate")
    assert page.locator("label[for=set-quota_fill_rate]").inner_text().endswith("(%)")
    assert "100" in page.locator("#set-quota_fill_rate-hint").inner_text()

    field.fill("500")
    page.get_by_role("button", name="계산").click()
    page.wait_for_load_state()
    error = page.locator("#set-quota_fill_rate-error")
    assert "0%에서 100% 사이" in error.inner_text()
    assert "쿼터 소진율" in error.inner_text()
    assert page.locator("#set-quota_fill_rate").input_value() == "500"  # the value is kept
    assert page.locator("#set-quota_fill_rate").get_attribute("aria-invalid") == "true"
    assert page.locator("#error-summary").is_visible()
    assert page.locator("#what-if-result").count() == 0
    shots(page, "workflow-what-if-bound-ko")

    page.locator("#set-quota_fill_rate").fill("100")
    page.get_by_role("button", name="계산").click()
    page.wait_for_load_state()
    assert page.locator("#error-summary").count() == 0
    rank = re.match(r"\s*(\d+)", page.locator("#wi-rank").inner_text())
    assert rank, page.locator("#what-if-result").inner_text()
    row = page.locator("#ranking tbody tr.what-if-row")
    assert row.count() == 1 and row.get_attribute("data-region") == "26"
    assert row.locator("td").first.inner_text() == rank.group(1)
    ranks = [int(t) for t in page.locator("#ranking tbody tr td:first-child").all_inner_texts()]
    assert ranks == sorted(ranks) and len(ranks) >= 2
    assert page.locator("#ranking-what-if").is_visible()
    shots(page, "workflow-what-if-result-ko")


@pytest.fixture
def many_at_risk(monkeypatch):
    """120 at-risk programme holders on the recorded run's dashboard (rules alternate, 0..119 days left)."""
    from regionvisa.compliance import pages as compliance_pages

    real = compliance_pages.cases.dashboard
    extra = [
        {
            "person_id": f"P{i:03d}",
            "rule": RISK_RULES[i % 2],
            "program_id": "busan-d2",
            "region": "26",
            "days_left": 119 - i,
            "limit_date": None,
            "detail": "",
        }
        for i in range(120)
    ]

    def dashboard(**kwargs):
        return {**real(**kwargs), "at_risk": list(extra)}

    monkeypatch.setattr(compliance_pages.cases, "dashboard", dashboard)


def at_risk_people(page) -> list[str]:
    return [t.strip() for t in page.locator("#at-risk tbody th").all_inner_texts()]


def test_the_at_risk_list_is_paged_filtered_and_sorted(page, busan_site, many_at_risk, shots):
    from regionvisa.compliance.rules import compliance_rules

    label = compliance_rules().label("residence_obligation", "ko")
    log_in(page, *busan_site["accounts"]["ministry_officer"])
    page.goto("/compliance")
    assert page.locator("#risk-total").inner_text() == "120명"
    first = at_risk_people(page)
    assert len(first) == 50 and first[0] == "P119"  # fewest days left first

    page.get_by_role("navigation", name="페이지").get_by_role("link", name="다음").first.click()
    page.wait_for_load_state()
    assert query_of(page.url)["page"] == ["2"]
    second = at_risk_people(page)
    assert len(second) == 50 and not set(first) & set(second)
    assert second[0] == "P069"

    page.locator("#risk-rule").select_option("residence_obligation")
    page.locator("#risk-filter").get_by_role("button").click()
    page.wait_for_load_state()
    assert query_of(page.url)["rule"] == ["residence_obligation"]
    assert page.locator("#risk-total").inner_text() == "60명"
    rules = {t.strip() for t in page.locator("#at-risk tbody td:nth-child(2)").all_inner_texts()}
    assert rules == {label}

    person = page.locator("#at-risk thead").get_by_role("link", name="사람")
    person.click()
    page.wait_for_load_state()
    assert query_of(page.url)["sort"] == ["person"] and query_of(page.url)["rule"] == ["residence_obligation"]
    assert page.locator("#at-risk thead a[aria-sort]").get_attribute("aria-sort") == "ascending"
    assert at_risk_people(page)[:2] == ["P001", "P003"]
    page.locator("#at-risk thead").get_by_role("link", name="사람").click()
    page.wait_for_load_state()
    assert query_of(page.url)["sort"] == ["-person"]
    assert at_risk_people(page)[:2] == ["P119", "P117"]
    shots(page, "workflow-at-risk-sorted-ko")


def test_search_by_name_and_passport_is_found_and_audited(page, busan_site, shots):
    app_id = busan_site["application"]
    log_in(page, *busan_site["accounts"]["ministry_officer"])
    page.goto("/applications")
    page.get_by_label("신청인 이름").fill(NAME)
    page.locator("#search-form").get_by_role("button", name="검색").click()
    page.wait_for_load_state()
    rows = page.locator("#application-table tbody tr")
    assert rows.count() == 1
    assert rows.get_by_role("link").inner_text() == f"#{app_id}"
    assert rows.locator(".applicant-name").inner_text() == NAME

    page.get_by_label("신청인 이름").fill("")
    page.locator("#passport_no").fill(PASSPORT)
    page.locator("#search-form").get_by_role("button", name="검색").click()
    page.wait_for_load_state()
    rows = page.locator("#application-table tbody tr")
    assert rows.count() == 1 and rows.get_by_role("link").inner_text() == f"#{app_id}"
    shots(page, "workflow-search-passport-ko")
    assert NAME not in page.url and PASSPORT not in page.url  # posted, kept out of the address

    page.get_by_role("button", name="로그아웃").click()
    page.wait_for_load_state()
    log_in(page, *busan_site["accounts"]["auditor"])
    page.goto("/audit")
    page.get_by_label("작업").fill("applications.search")
    page.get_by_role("button", name="필터 적용").click()
    page.wait_for_load_state()
    table = page.locator("#audit-table")
    entries = table.locator("tbody tr")
    assert entries.count() >= 2
    actors = {t.strip() for t in table.locator("tbody td:nth-child(3)").all_inner_texts()}
    assert busan_site["accounts"]["ministry_officer"][0] in actors
    actions = {t.strip() for t in table.locator("tbody td:nth-child(4)").all_inner_texts()}
    assert actions == {"applications.search"}
    assert NAME not in page.content() and PASSPORT not in page.content()  # digests, never the terms
    shots(page, "workflow-search-audited-ko")
