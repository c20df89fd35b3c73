"""In Chromium, the case workflows of issue 17 (req 12): the documents gate on approval with its
recorded override, the ministry queue that opens the case instead of deciding in one click, the
confirmation asked before a destructive action (cancelling a visa, retiring an account, cancelling
a status) with "no" leaving everything as it was, and the create-user form that preselects no role."""

from __future__ import annotations

import datetime as dt

from tests import samples
from tests.actors import BUSAN, OFFICER, SYSTEM
from tests.browser.signin import log_in

from regionvisa.db import session_scope

ON = dt.date(2025, 6, 2)
OVERRIDE = "원본 서류는 대사관 확인 공문으로 대체함"
PROFILE = samples.PROFILE  # a Busan D-2 applicant who passes every criterion
# A busan-d2 holder whose address has been in Seoul since the status began: a residence finding.
HOLDER = "P20000001"
HOLDER_FEEDS = {
    "people": [
        "person_id,name,nationality,birth_date,sex,passport_no",
        f"{HOLDER},Holder Away,VNM,2000-02-02,F,X2000001",
    ],
    "statuses": [
        "person_id,visa,subtype,program_id,region,valid_from,valid_to,granted_on",
        f"{HOLDER},D-2,,busan-d2,26,2025-03-01,2027-02-28,2025-02-20",
    ],
    "addresses": ["person_id,area_code,effective_date,reported_date", f"{HOLDER},11110,2025-03-02,2025-03-05"],
}


def make_application(engine, name: str, passport: str, *, moves_made: tuple[str, ...] = ("recommend",)) -> int:
    """An application screened on submission and moved on by the service (no documents uploaded)."""
    from regionvisa.applications import intake, moves

    with session_scope(engine=engine) as session:
        app_id = intake.submit(
            session=session,
            program_id="busan-d2",
            applicant=dict(PROFILE),
            name=name,
            passport_no=passport,
            actor=SYSTEM,
            on=ON,
        ).id
    for move in moves_made:
        gated = move in ("approve", "issue")
        with session_scope(engine=engine) as session:
            moves.act(
                session=session,
                application_id=app_id,
                move=move,
                actor=OFFICER if gated else BUSAN,
                override_reason=OVERRIDE if gated else "",
            )
    return app_id


def status_of(page) -> str:
    return page.locator("#application-status").inner_text().strip()


def test_approval_with_missing_documents_is_refused_until_an_override_is_recorded(page, busan_site, shots):
    app_id = make_application(busan_site["engine"], "Le Thi Hoa", "BH2000001")
    log_in(page, *busan_site["accounts"]["ministry_officer"])
    page.goto(f"/applications/{app_id}")
    assert status_of(page) == "추천"
    notice = page.locator("#missing-documents-approve")
    assert "필요 서류가 누락되었습니다" in notice.inner_text()
    missing = [t.strip() for t in notice.locator("li").all_inner_texts()]
    assert missing, "the approve form names no missing document"
    form = page.locator(f"#form-approve-{app_id}")

    form.get_by_role("button", name="승인").click()
    page.wait_for_load_state()
    summary = page.locator("#error-summary")
    assert summary.is_visible()
    refusal = summary.inner_text()
    assert "필요 서류" in refusal
    assert all(label in refusal for label in missing), (missing, refusal)
    assert status_of(page) == "추천"

    override = page.locator(f"#override-approve-{app_id}")
    override.fill("짧은 사유")
    form.get_by_role("button", name="승인").click()
    page.wait_for_load_state()
    assert "10자 이상" in page.locator("#error-summary").inner_text()
    assert page.locator(f"#override-approve-{app_id}").input_value() == "짧은 사유"  # what was typed is kept
    assert status_of(page) == "추천"

    page.locator(f"#override-approve-{app_id}").fill(OVERRIDE)
    page.locator(f"#form-approve-{app_id}").get_by_role("button", name="승인").click()
    page.wait_for_load_state()
    assert page.locator(".flash").inner_text() == "신청을 승인했습니다."
    assert status_of(page) == "승인"
    overridden = page.locator("#history-table tbody tr", has=page.locator(".override-event"))
    assert overridden.count() == 1
    assert "필요 서류 누락 예외 처리" in overridden.inner_text()
    assert OVERRIDE in overridden.inner_text()
    shots(page, "workflow-documents-override-ko")


def test_the_queue_opens_the_case_and_cancelling_a_visa_asks_first(page, busan_site, shots):
    engine = busan_site["engine"]
    waiting = make_application(engine, "Pham Van Duc", "BD2000002")
    issued = make_application(engine, "Hoang Thi Lan", "BL2000003", moves_made=("recommend", "approve", "issue"))
    log_in(page, *busan_site["accounts"]["ministry_officer"])

    page.goto("/applications/queue/ministry")
    row = page.locator("#ministry-queue tbody tr", has=page.locator(f"#open-{waiting}"))
    assert row.count() == 1
    assert row.locator("button, form, input").count() == 0  # no one-click decision in the queue
    assert row.locator(f"#open-{waiting}").inner_text() == "열어서 결정하기"
    row.locator(f"#open-{waiting}").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/applications/{waiting}")
    assert status_of(page) == "추천"  # opening decides nothing
    assert page.locator(f"#form-approve-{waiting}").is_visible()

    page.goto(f"/applications/{issued}")
    assert status_of(page) == "발급"
    form = page.locator(f"#form-cancel-{issued}")
    form.locator(f"#reason-cancel-{issued}").fill("발급 후 허위 서류 확인")
    # the confirmation box is required: the browser does not send the form without it
    form.get_by_role("button", name="취소").click()
    box = page.locator(f"#confirm-cancel-{issued}")
    assert box.evaluate("b => b.validity.valueMissing") is True
    assert page.url.endswith(f"/applications/{issued}")
    page.reload()
    assert status_of(page) == "발급"
    # without the browser's check (an old browser, a script), the server asks for the confirmation
    page.locator(f"#form-cancel-{issued}").evaluate("f => { f.noValidate = true; }")
    page.locator(f"#reason-cancel-{issued}").fill("발급 후 허위 서류 확인")
    page.locator(f"#form-cancel-{issued}").get_by_role("button", name="취소").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "취소 확인"
    assert page.locator("#reason").input_value() == "발급 후 허위 서류 확인"
    assert page.locator("#error-summary").is_visible()
    shots(page, "workflow-cancel-confirmation-ko")
    page.get_by_role("link", name="취소하지 않고 돌아가기").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/applications/{issued}")
    assert status_of(page) == "발급"
    assert page.locator("#visa-number").is_visible()

    page.goto(f"/applications/{issued}/cancel")
    page.locator("#reason").fill("발급 후 허위 서류 확인")
    page.get_by_label("예, 이 신청을 취소합니다").check()
    page.locator("#form").get_by_role("button", name="취소").click()
    page.wait_for_load_state()
    assert page.locator(".flash").inner_text() == "신청을 취소했습니다."
    assert status_of(page) == "취소"


def test_retiring_a_user_asks_first_and_no_keeps_the_account(page, busan_site, shots):
    from regionvisa.accounts import service

    with session_scope(engine=busan_site["engine"]) as session:
        user_id = service.create_user(
            session=session,
            actor=SYSTEM,
            username="t.retiree",
            display_name="Retiring officer",
            role="ministry_officer",
            region=None,
            password=busan_site["accounts"]["auditor"][1],
        ).id
    log_in(page, *busan_site["accounts"]["ministry_admin"])
    page.goto(f"/admin/users/{user_id}")
    assert page.locator("#user-status").inner_text().startswith("사용 중")
    assert page.locator("#confirm-disable").count() == 0

    page.get_by_role("button", name="사용 중지").click()
    page.wait_for_load_state()
    confirm = page.locator("#confirm-disable")
    assert confirm.is_visible()
    assert "t.retiree" in confirm.get_by_role("heading").inner_text()
    assert page.locator("#user-status").inner_text() == "사용 중"  # nothing done yet
    shots(page, "workflow-retire-user-confirmation-ko")
    confirm.get_by_role("link", name="아니요, 계정을 유지합니다").click()
    page.wait_for_load_state()
    assert page.locator("#confirm-disable").count() == 0
    assert page.locator("#user-status").inner_text() == "사용 중"

    page.get_by_role("button", name="사용 중지").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="예, 비활성화합니다").click()
    page.wait_for_load_state()
    assert page.locator("#user-status").inner_text() == "사용 중지"


def test_cancelling_a_status_on_a_case_asks_first(page, busan_site, shots, tmp_path):
    from sqlalchemy import select

    from regionvisa.compliance import cases
    from regionvisa.compliance.models import ComplianceCase
    from regionvisa.records.service import import_file

    engine = busan_site["engine"]
    for kind, lines in HOLDER_FEEDS.items():
        path = tmp_path / f"{kind}.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        summary, _ = import_file(engine=engine, kind=kind, path=path, actor=SYSTEM)
        assert summary.outcome == "committed", summary
    cases.record_run(engine=engine, on=dt.date(2025, 12, 31), actor=SYSTEM)
    with session_scope(engine=engine) as session:
        case_id = session.scalars(select(ComplianceCase.id).where(ComplianceCase.person_id == HOLDER)).first()
    assert case_id is not None, "the run opened no case on the holder"

    log_in(page, *busan_site["accounts"]["ministry_officer"])
    page.goto(f"/compliance/cases/{case_id}")
    facts = page.locator("#case-facts").inner_text()
    assert "열림" in facts
    form = page.locator("#case-action")
    form.locator("#action").select_option("resolve")
    form.locator("#outcome").select_option("status_cancelled")
    form.locator("#reason").fill("거주 의무 위반 확인")
    form.get_by_role("button", name="저장").click()
    page.wait_for_load_state()
    assert "되돌릴 수 없습니다" in page.locator("#error-summary").inner_text()
    assert page.locator("#confirm").get_attribute("aria-invalid") == "true"
    assert page.locator("#reason").input_value() == "거주 의무 위반 확인"
    assert page.locator("#outcome").input_value() == "status_cancelled"
    facts = page.locator("#case-facts").inner_text()
    assert "열림" in facts and "체류자격 취소" not in facts
    shots(page, "workflow-cancel-status-confirmation-ko")
    page.goto(f"/compliance/cases/{case_id}")  # leaving the form: the case is as it was
    assert "열림" in page.locator("#case-facts").inner_text()

    form.locator("#action").select_option("resolve")
    form.locator("#outcome").select_option("status_cancelled")
    form.locator("#reason").fill("거주 의무 위반 확인")
    page.get_by_label("확인합니다: 사건 종결과 체류자격 취소는 되돌릴 수 없습니다").check()
    form.get_by_role("button", name="저장").click()
    page.wait_for_load_state()
    assert "체류자격 취소" in page.locator("#case-facts").inner_text()


def test_the_create_user_form_preselects_no_role(page, busan_site, shots):
    log_in(page, *busan_site["accounts"]["ministry_admin"])
    page.goto("/admin/users")
    role = page.locator("#new-role")
    assert role.input_value() == ""
    selected = role.locator("option:checked")
    assert selected.inner_text() == "역할을 선택하십시오"
    assert role.locator("option[value=ministry_admin]").evaluate("o => o.selected || o.defaultSelected") is False
    page.locator("#new-username").fill("t.newcomer")
    page.locator("#new-display-name").fill("Newcomer")
    page.locator("#new-password").fill("a-long-enough-password")
    page.get_by_role("button", name="사용자 만들기").click()
    assert role.evaluate("s => s.validity.valueMissing") is True  # no role chosen: not sent
    assert page.url.endswith("/admin/users")
    shots(page, "workflow-create-user-no-role-ko")
    # a refused post (a password the policy turns down) keeps the role chosen, never another
    role.select_option("committee_member")
    page.locator("#new-password").fill("short-pw!")
    page.locator("#new-password").evaluate("i => { i.minLength = 0; }")
    page.get_by_role("button", name="사용자 만들기").click()
    page.wait_for_load_state()
    assert page.locator("#error-summary").is_visible()
    assert page.locator("#error-summary a").first.get_attribute("href") == "#new-password"
    assert page.locator("#new-role").input_value() == "committee_member"
