"""In Chromium, the whole path from submission to issuance as the two roles: the Busan official
enters an application through the web form, uploads a document and recommends it from the ranked
queue; the ministry officer approves it and issues the visa; the ledger shows the used place.
Screenshots go to test-artifacts/browser/."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from tests.actors import SYSTEM

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
]
PASSWORD = "correct-horse-battery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory, _sqlite_template, test_data):
    import uvicorn

    from regionvisa.accounts import service as accounts
    from regionvisa.app import create_app
    from regionvisa.db import make_engine, session_scope

    folder = tmp_path_factory.mktemp("applications-browser")
    path = folder / "site.sqlite3"
    shutil.copy(_sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    test_data.publish_busan(engine, allocated=1000, actor=SYSTEM, reason="2025 pilot allocation")
    with session_scope(engine=engine) as session:
        for username, role, region in (("b.busan", "regional_official", "26"), ("b.officer", "ministry_officer", None)):
            accounts.create_user(
                session=session,
                actor=SYSTEM,
                username=username,
                display_name=username,
                role=role,
                region=region,
                password=PASSWORD,
            )
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(engine=engine), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        yield launched
        launched.close()


def log_in(page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("사용자 이름").fill(username)
    page.get_by_label("비밀번호").fill(PASSWORD)
    page.get_by_role("button", name="로그인").click()
    page.wait_for_load_state()


def log_out(page) -> None:
    page.get_by_role("button", name="로그아웃").click()
    page.wait_for_load_state()


def test_submission_to_issuance_in_the_browser(browser, site, artifacts_dir, tmp_path):
    shots = artifacts_dir / "browser"
    shots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(base_url=site, viewport={"width": 1280, "height": 900}, locale="ko-KR")
    page = context.new_page()
    page.set_default_timeout(15_000)
    # the region enters the application
    log_in(page, "b.busan")
    page.get_by_role("link", name="추천 대기열").click()
    page.get_by_role("link", name="새 신청").click()
    page.get_by_label("프로그램", exact=True).select_option("busan-d2")
    page.get_by_label("신청인 이름").fill("Nguyen Van An")
    page.get_by_label("여권번호").fill("BR1234567")
    page.get_by_label("접수일").fill("2025-06-02")
    page.locator("#f-nationality").fill("VNM")
    page.locator("#f-birth_date").fill("2001-04-05")
    page.locator("#f-passport_valid_until").fill("2031-01-01")
    for name in ("entry_ban", "criminal_record", "prior_illegal_stay"):
        page.locator(f"#f-{name}").select_option("false")
    page.locator("#f-course_type").select_option("degree")
    page.locator("#f-university_region").fill("26")
    page.locator("#f-topik_level").fill("4")
    page.locator("#f-bank_balance_krw").fill("9000000")
    page.get_by_role("button", name="접수 및 심사").click()
    page.wait_for_load_state()
    assert page.locator(".flash").inner_text() == "신청을 접수하고 심사했습니다."
    assert page.locator("#application-status").inner_text() == "심사됨"
    assert page.locator("#application-outcome").inner_text() == "적격"
    table = page.locator("#explanation-table")
    assert "재정능력 입증 (800만원)" in table.inner_text() and "충족" in table.inner_text()
    app_url = page.url.split("?")[0]
    app_id = app_url.rsplit("/", 1)[1]
    pdf = tmp_path / "passport.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    page.get_by_label("서류", exact=True).select_option("passport")
    page.locator("#doc-file").set_input_files(str(pdf))
    page.get_by_role("button", name="올리기").click()
    page.wait_for_load_state()
    assert "받음" in page.locator("#document-checklist").inner_text()
    page.screenshot(path=str(shots / "application-detail-ko.png"), full_page=True)
    # the ranked queue: recommend
    page.get_by_role("link", name="추천 대기열").click()
    row = page.locator("#region-queue tbody tr", has_text=f"#{app_id}")
    assert "TOPIK 등급 ≥ 4 (+10)" in row.inner_text()
    page.screenshot(path=str(shots / "region-queue-ko.png"), full_page=True)
    row.get_by_role("button", name="추천").click()
    page.wait_for_load_state()
    assert page.locator(".flash").inner_text() == "신청을 추천했습니다."
    log_out(page)
    # the ministry approves and issues
    log_in(page, "b.officer")
    page.get_by_role("link", name="심사 대기열").click()
    row = page.locator("#ministry-queue tbody tr", has_text=f"#{app_id}")
    assert row.get_by_role("button").count() == 0  # the queue opens the case first: no one-click decision
    row.get_by_role("link", name="열어서 결정하기").click()
    page.wait_for_load_state()
    # only the passport was uploaded: the approve form names the seven missing documents
    assert "입학허가서" in page.locator("#missing-documents-approve").inner_text()
    page.get_by_role("button", name="승인").click()
    page.wait_for_load_state()
    summary = page.locator("#error-summary").inner_text()
    assert "필요 서류 7건" in summary and "입학허가서" in summary
    override = page.get_by_label("누락 서류 없이 진행하는 사유")
    override.fill("원본 서류를 창구에서 대면으로 확인함")
    page.get_by_role("button", name="승인").click()
    page.wait_for_load_state()
    assert page.locator(".flash").inner_text() == "신청을 승인했습니다."
    page.get_by_label("누락 서류 없이 진행하는 사유").fill("발급 후 7일 안에 서류를 보완하기로 함")
    page.get_by_role("button", name="사증 발급").click()
    page.wait_for_load_state()
    assert page.locator(".flash").inner_text() == "사증을 발급했습니다."
    assert page.locator("#history-table").inner_text().count("필요 서류 누락 예외 처리") == 2
    page.goto(f"{app_url}?lang=en")
    assert page.locator("#application-status").inner_text() == "issued"
    assert page.locator("#visa-number").inner_text().startswith("RV2")
    assert "Proof of funds (8M KRW)" in page.locator("#explanation-table").inner_text()
    history = page.locator("#history-table").inner_text()
    assert "b.busan" in history and "b.officer" in history
    page.screenshot(path=str(shots / "application-issued-en.png"), full_page=True)
    page.get_by_role("link", name="Quotas").click()
    page.get_by_role("link", name="busan-d2").click()
    assert page.locator("#ledger-used").inner_text() == "1"
    assert page.locator("#ledger-remaining").inner_text() == "999"
    page.screenshot(path=str(shots / "ledger-en.png"), full_page=True)
    context.close()
