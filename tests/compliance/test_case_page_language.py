"""The case page in one language (issue 17, requirement 4): the timeline chart's labels, the
history's event kinds and the compliance run's own notes come from the catalogue in the reader's
language; notes stored as English sentences before the run wrote records are worded the same way,
and a person's note is shown as typed."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.actors import SYSTEM

from regionvisa.compliance import cases, wording
from regionvisa.compliance.models import ComplianceCase, ComplianceCaseEvent
from regionvisa.web.i18n import current_language

ON = dt.date(2025, 12, 31)


@pytest.fixture
def case_id(engine, kit):
    r = kit.Records()
    r.status("H1", "2025-03-01", "2027-02-28", program_id="busan-d2", region="26")
    r.address("H1", "26110", "2025-03-01", "2025-03-02").address("H1", "11", "2025-05-01", "2025-05-31")
    r.move("H1", "entry", "2025-02-27").kiip("H1", "2025-04-01").job("H1", "11", "2025-05-02")
    kit.insert(engine, r.frames())
    cases.record_run(engine=engine, on=ON, actor=SYSTEM)
    with Session(engine) as s:
        return s.scalars(select(ComplianceCase.id).where(ComplianceCase.rule == "residence_obligation")).one()


def _page(client, login, role_users, case_id: int, lang: str) -> tuple[str, str]:
    login(client, role_users["regional_official"]["username"])  # Busan, where the case is
    page = client.get(f"/compliance/cases/{case_id}?lang={lang}")
    assert page.status_code == 200
    text = page.text
    chart = text.split('<svg id="timeline-chart"', 1)[1].split("</svg>", 1)[0]
    history = text.split('<table id="history">', 1)[1].split("</table>", 1)[0]
    return chart, history


def test_the_korean_case_page_shows_the_timeline_and_the_opening_note_in_korean(client, login, role_users, case_id):
    chart, history = _page(client, login, role_users, case_id, "ko")
    assert "위반 시작일 2025-" in chart and "2025-02-27 입국" in chart
    assert "2025-03-01부터 (2025-03-02 신고)" in chart
    assert "사례 개시" in history and "2025-12-31 기준 준수 점검(실행 " in history
    for english in ("from", "reported", "finding starts", "entry", "Opened by", "opened"):
        assert english not in chart + history, english


def test_the_english_case_page_shows_them_in_english(client, login, role_users, case_id):
    chart, history = _page(client, login, role_users, case_id, "en")
    assert "The finding starts on 2025-" in chart and "Entry on 2025-02-27" in chart
    assert "from 2025-03-01 (reported on 2025-03-02)" in chart
    assert "Case opened" in history and "Opened by the compliance run as of 2025-12-31 (run " in history
    for korean in ("위반", "입국", "신고", "사례", "점검"):
        assert korean not in chart + history, korean


def test_old_english_notes_are_worded_for_the_reader_and_a_person_s_note_is_kept(
    engine, client, login, role_users, case_id
):
    old = "The finding is found again as of 2026-01-05 (run 7)."
    with Session(engine) as s, s.begin():
        for kind, note in (("finding_back", old), ("note", "전화로 확인함")):
            s.add(
                ComplianceCaseEvent(
                    case_id=case_id, at=dt.datetime.now(dt.UTC), actor="t.officer", kind=kind, note=note
                )
            )
    _chart, korean = _page(client, login, role_users, case_id, "ko")
    assert "2026-01-05 기준 점검(실행 7)에서 위반이 다시 확인되었습니다." in korean and old not in korean
    assert "위반 다시 확인됨" in korean and "메모 추가" in korean and "전화로 확인함" in korean
    _chart, english = _page(client, login, role_users, case_id, "en")
    assert old in english and "Finding found again" in english


def test_every_note_the_run_writes_has_its_wording_old_and_new():
    token = current_language.set("ko")
    opened = "2025-12-31 기준 준수 점검(실행 3)에서 개시했습니다."
    try:
        notes = {
            "opened[run 3 as of 2025-12-31]": opened,
            "Opened by the compliance run as of 2025-12-31 (run 3).": opened,
            "finding_changed[run 4 as of 2026-01-05]: start 2025-07-30 → 2025-08-01; end - → 2025-12-01": (
                "2026-01-05 기준 점검(실행 4)에서 위반 내용이 바뀌었습니다: "
                "시작일 2025-07-30 → 2025-08-01; 종료일 - → 2025-12-01."
            ),
            "The finding changed as of 2026-01-05 (run 4): start 2025-07-30 → 2025-08-01.": (
                "2026-01-05 기준 점검(실행 4)에서 위반 내용이 바뀌었습니다: 시작일 2025-07-30 → 2025-08-01."
            ),
            "finding_gone[run 5 as of 2026-01-10]: no enrolment": (
                "2026-01-10 기준 점검(실행 5)에서 위반이 더 이상 확인되지 않습니다. 사례 개시 후 들어온 기록으로 "
                "판단이 바뀌었습니다. 근거였던 기록: " + wording.explain("no enrolment")
            ),
            "someone's own words": "someone's own words",
        }
        for stored, shown in notes.items():
            assert wording.case_note(stored) == shown, stored
    finally:
        current_language.reset(token)
