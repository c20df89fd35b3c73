"""A whole selection round in Chromium, without JavaScript on the pages: the ministry opens it
and seats the committee, Busan submits (an invalid design is refused with its errors, then a
valid one), the window closes, the member affiliated with Busan is recused, the chair's decision
is refused below quorum, scoring is reopened, the chair adjusts a quota and decides, Busan sees
its result, and the minutes open in HTML and PDF. Screenshots go to test-artifacts/browser/.

The server and browser fixtures are those of tests/browser (loaded from there, not copied).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest
import yaml
from tests.actors import SYSTEM

from .conftest import busan_design

_BROWSER_CONFTEST = Path(__file__).resolve().parents[1] / "browser" / "conftest.py"


def _browser_fixtures():
    name = "regionvisa_browser_fixtures"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, _BROWSER_CONFTEST)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_fx = _browser_fixtures()
site, browser, shots = _fx.site, _fx.browser, _fx.shots
pytestmark = [
    pytest.mark.browser,
]
CRITERIA = ("need", "feasibility", "settlement", "management", "employment")
PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="module")
def committee(site):
    from regionvisa.accounts import service
    from regionvisa.db import session_scope

    with session_scope(engine=site["engine"]) as session:
        for username in ("b.chair", "b.official", "b.expert"):
            service.create_user(
                session=session, actor=SYSTEM, username=username, display_name=username,
                role="committee_member", password=PASSWORD,
            )  # fmt: skip
    return site


@pytest.fixture
def as_user(browser, committee):
    contexts = []

    def open_as(username: str, password: str = PASSWORD):
        context = browser.new_context(
            base_url=committee["url"], viewport={"width": 1280, "height": 900}, locale="ko-KR"
        )
        contexts.append(context)
        tab = context.new_page()
        tab.set_default_timeout(15_000)
        tab.goto("/login")
        tab.get_by_label("사용자 이름").fill(username)
        tab.get_by_label("비밀번호").fill(password)
        tab.get_by_role("button", name="로그인").click()
        tab.wait_for_load_state()
        return tab

    yield open_as
    for context in contexts:
        context.close()


def click(tab, name: str) -> None:
    tab.get_by_role("button", name=name, exact=True).click()
    tab.wait_for_load_state()


def test_a_whole_round_in_the_browser(committee, as_user, shots):
    accounts = committee["accounts"]
    admin = as_user(*accounts["ministry_admin"])
    admin.get_by_role("link", name="선정 심사").click()
    admin.wait_for_load_state()
    assert admin.get_by_role("heading", level=1).inner_text() == "선정 심사 회차"
    admin.locator("#round-threshold").fill("60")
    click(admin, "회차 열기")
    round_url = re.search(r"/selection/rounds/\d+$", admin.url).group(0)
    assert admin.locator("#round-phase").inner_text() == "제안서 접수 중"
    for username, role, region in (
        ("b.chair", "chair", ""),
        ("b.official", "official", ""),
        ("b.expert", "expert", "26"),
    ):
        admin.locator("#member-username").fill(username)
        admin.locator("#member-role").select_option(role)
        admin.locator("#member-affiliation").fill("Pusan National University" if region else "Ministry of Justice")
        admin.locator("#member-region").select_option(region)
        click(admin, "위원 추가")
    assert admin.locator("#member-table tbody tr").count() == 3
    assert "부산광역시" in admin.locator("#member-table tbody tr").nth(2).inner_text()  # recused automatically
    shots(admin, "selection-round-opened")

    busan = as_user(*accounts["regional_official"])
    busan.goto(round_url)
    busan.get_by_role("link", name="우리 지역 제안서").click()
    busan.wait_for_load_state()
    busan.locator("#narrative").fill("부산 유학생 유치와 정착 지원 계획")
    busan.locator("#design_1").fill(yaml.safe_dump(busan_design() | {"obligation_months": 500}, allow_unicode=True))
    click(busan, "제안서 제출")
    assert "design[1]:obligation_months" in busan.locator("#error-summary").inner_text()
    assert "design[1]:obligation_months" in busan.locator("#design_1-error").inner_text()
    shots(busan, "selection-proposal-invalid-design")
    busan.locator("#design_1").fill(yaml.safe_dump(busan_design(), allow_unicode=True))
    busan.locator("#quota_1").fill("1000")
    busan.locator("#attachments").set_input_files(
        files=[{"name": "budget.csv", "mimeType": "text/csv", "buffer": b"item,krw\nhousing,1000000\n"}]
    )
    click(busan, "제안서 제출")
    assert busan.locator("#version-table tbody tr").count() == 1
    assert "budget.csv" in busan.locator("#attachment-list").inner_text()
    assert "TOPIK 등급" in busan.locator("main").inner_text()  # the design in plain language
    shots(busan, "selection-proposal-submitted")

    admin.goto(round_url)
    admin.locator("#close-reason").fill("접수 기한 종료")
    click(admin, "접수 마감")
    assert admin.locator("#round-phase").inner_text() == "위원회 심사 중"

    expert = as_user("b.expert")
    expert.goto(round_url + "/score")
    assert "부산광역시" in expert.locator("#recused-list").inner_text()
    assert expert.locator("#score-list a").count() == 0
    assert expert.goto(round_url + "/score/26").status == 403
    shots(expert, "selection-recused")

    def score(tab, value: int) -> None:
        tab.goto(round_url + "/score")
        click(tab, "신고 기록")
        tab.get_by_role("link", name="부산광역시").click()
        tab.wait_for_load_state()
        for c in CRITERIA:
            tab.locator(f"#score_{c}").fill(str(value))
            tab.locator(f"#comment_{c}").fill(f"{c}: 근거가 충분함")
        click(tab, "점수 저장")
        assert "심사 완료" in tab.locator("#score-list").inner_text()

    chair = as_user("b.chair")
    score(chair, 82)
    chair.goto(round_url + "/score/26")
    assert chair.locator("#own-only").is_visible()
    shots(chair, "selection-scoring")

    admin.goto(round_url)
    click(admin, "심사 마감")
    chair.goto(round_url + "/decision")
    assert "부산광역시 (1/2)" in chair.locator("#quorum-warning").inner_text()
    click(chair, "결정 확정")
    assert "의결정족수" in chair.locator("#error-summary").inner_text()
    shots(chair, "selection-quorum-refused")

    admin.goto(round_url)
    admin.locator("#reopen-reason").fill("부산 제안서 의결정족수 미달")
    click(admin, "심사 재개")
    official = as_user("b.official")
    score(official, 74)
    admin.goto(round_url)
    click(admin, "심사 마감")

    chair.goto(round_url + "/decision")
    assert chair.locator("#quorum-warning").count() == 0
    chair.locator("#quota__busan-d2").fill("800")
    chair.locator("#reason__busan-d2").fill("기숙사 수용 능력에 맞춤")
    shots(chair, "selection-decision")
    click(chair, "결정 확정")
    assert chair.locator("#results-table").is_visible()
    assert "busan-d2: 800" in chair.locator("#results-table").inner_text()

    busan.goto(round_url + "/proposals/26")
    result = busan.locator("#proposal-result").inner_text()
    assert "선정" in result and "기숙사 수용 능력에 맞춤" in result
    shots(busan, "selection-result")
    busan.goto(round_url)
    busan.get_by_role("link", name="한국어 HTML").click()
    busan.wait_for_load_state()
    assert "회의록" in busan.locator("#minutes-title").inner_text()
    text = busan.locator("body").inner_text()
    for expected in ("참석 위원", "제척", "Pusan National University", "기숙사 수용 능력에 맞춤", "78.00"):
        assert expected in text, expected
    shots(busan, "selection-minutes")
    pdf = busan.request.get(round_url + "/minutes?language=en&format=pdf")
    assert pdf.ok and pdf.body().startswith(b"%PDF")
