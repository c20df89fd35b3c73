"""Every selection form follows the pattern of `web.forms` when refused (issue 17 req. 1): the same
page comes back with the refusal's status, an error summary whose items link to the fields, the
message beside each field worded in the page's language with the field's label, and every typed
value kept."""

from __future__ import annotations

import datetime as dt
import html
import re

import yaml

from regionvisa.db import session_scope
from regionvisa.selection import proposals, service
from regionvisa.selection.schemas import DesignIn, ProposalIn

from .conftest import busan_design, decidable

CRITERIA = ("need", "feasibility", "settlement", "management", "employment")
NEED = {"ko": "지역 수요 및 산업 적합성", "en": "Regional need and industrial fit"}


def refusal(response, status: int, field_id: str, text: str) -> None:
    """The summary links to `field_id` and says `text`; the same text stands beside the field."""
    assert response.status_code == status, response.text[:2000]
    page = html.unescape(response.text)
    summary = re.search(r'<div class="error-box error-summary".*?</div>', page, re.S)
    assert summary, "no error summary"
    assert f'<a href="#{field_id}">' in summary.group(0)
    assert text in summary.group(0), summary.group(0)
    beside = re.search(rf'<p class="field-error" id="{re.escape(field_id)}-error">(.*?)</p>', page, re.S)
    assert beside and text in beside.group(1), page[:3000]
    assert f'aria-describedby="{field_id}-error"' in page
    assert 'class="error-box" role="alert"' not in page  # the old single box is gone


def linked_only(response, status: int, form_id: str, text: str) -> None:
    """A refusal about no one field: the summary links to the form itself."""
    assert response.status_code == status, response.text[:2000]
    summary = re.search(r'<div class="error-box error-summary".*?</div>', html.unescape(response.text), re.S)
    assert summary and f'<a href="#{form_id}">' in summary.group(0) and text in summary.group(0)
    assert f'id="{form_id}"' in response.text


def test_add_member_refusals_stand_beside_their_fields(browser_for, round_id):
    admin, csrf = browser_for("s.admin")
    url = f"/selection/rounds/{round_id}/members"
    typed = {"csrf_token": csrf, "username": "nobody", "role": "expert", "affiliation": "Typed University"}
    ko = admin.post(f"{url}?lang=ko", data=typed | {"affiliation_region": "27"})
    refusal(ko, 422, "member-username", "사용자 이름 (심사위원 계정): 이 이름의 사용자 계정이 없습니다")
    assert 'value="Typed University"' in ko.text and 'value="nobody"' in ko.text
    assert '<option value="27" selected>' in ko.text and '<option value="expert" selected>' in ko.text
    en = admin.post(f"{url}?lang=en", data=typed)
    refusal(en, 422, "member-username", "User name (a committee-member account): no user account is named")

    chair = typed | {"username": "c.outsider", "role": "chair"}
    refusal(admin.post(f"{url}?lang=ko", data=chair), 409, "member-role", "역할: 위원장은 한 명입니다")
    refusal(admin.post(f"{url}?lang=en", data=chair), 409, "member-role", "Role: the round already has a chair")

    empty = typed | {"username": "c.outsider", "affiliation": ""}
    refused = admin.post(f"{url}?lang=ko", data=empty)
    refusal(refused, 422, "member-affiliation", "소속")
    assert "affiliation" not in re.search(r'id="member-affiliation-error">(.*?)</p>', refused.text, re.S).group(1)
    refusal(admin.post(f"{url}?lang=en", data=empty), 422, "member-affiliation", "Affiliation")


def test_closing_the_window_without_a_reason_is_refused_beside_the_reason(browser_for, round_id):
    admin, csrf = browser_for("s.admin")
    url = f"/selection/rounds/{round_id}/close-window"
    refusal(
        admin.post(f"{url}?lang=ko", data={"csrf_token": csrf, "reason": " "}), 422, "close-reason", "사유가 필요합니다"
    )  # the message begins with the label
    en = admin.post(f"{url}?lang=en", data={"csrf_token": csrf, "reason": " "})
    refusal(en, 422, "close-reason", "Reason: a reason is required")
    assert admin.post("/selection/rounds/999999/close-window", data={"csrf_token": csrf}).status_code == 404


def test_reopening_scoring_without_a_reason_is_refused_beside_the_reason(browser_for, round_id, engine, people):
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    with session_scope(engine=engine) as session:
        service.close_scoring(session=session, rnd=round_id, actor=people["s.admin"], now=later)
    admin, csrf = browser_for("s.admin")
    url = f"/selection/rounds/{round_id}/reopen-scoring"
    assert 'id="reopen-form"' in admin.get(f"/selection/rounds/{round_id}").text
    ko = admin.post(f"{url}?lang=ko", data={"csrf_token": csrf, "reason": ""})
    refusal(ko, 422, "reopen-reason", "사유가 필요합니다")
    en = admin.post(f"{url}?lang=en", data={"csrf_token": csrf, "reason": ""})
    refusal(en, 422, "reopen-reason", "Reason: a reason is required")


def test_proposal_refusals_stand_beside_the_slot_they_are_about(browser_for, round_id):
    busan, csrf = browser_for("s.busan")
    url = f"/selection/rounds/{round_id}/proposals/26"
    bad = yaml.safe_dump(busan_design() | {"obligation_months": 500}, allow_unicode=True)
    form = {"csrf_token": csrf, "narrative": "Busan plan typed", "design_2": bad, "quota_2": "900"}
    ko = busan.post(f"{url}?lang=ko", data=form)
    refusal(ko, 422, "design_2", "설계 2: 프로그램 설계(YAML): design[1]:obligation_months")
    assert "Busan plan typed" in ko.text and 'value="900"' in ko.text and "obligation_months: 500" in ko.text
    en = busan.post(f"{url}?lang=en", data=form)
    refusal(en, 422, "design_2", "Design 2: programme design (YAML): design[1]:obligation_months")

    good = yaml.safe_dump(busan_design(), allow_unicode=True)
    quota = {"csrf_token": csrf, "narrative": "Busan plan typed", "design_1": good, "quota_1": "many"}
    ko = busan.post(f"{url}?lang=ko", data=quota)
    refusal(ko, 422, "quota_1", "설계 1: 요청 정원: 0 이상의 정수로 입력해 주세요")
    refused = busan.post(f"{url}?lang=en", data=quota)
    refusal(refused, 422, "quota_1", "Design 1: requested quota: must be a whole number, 0 or more")
    assert 'value="many"' in refused.text

    no_plan = {"csrf_token": csrf, "narrative": "", "design_1": good, "quota_1": "700"}
    ko = busan.post(f"{url}?lang=ko", data=no_plan)
    refusal(ko, 422, "narrative", "사업 계획 설명")
    assert "narrative" not in re.search(r'id="narrative-error">(.*?)</p>', ko.text, re.S).group(1)
    refusal(busan.post(f"{url}?lang=en", data=no_plan), 422, "narrative", "Plan narrative")
    assert busan.post(f"/selection/rounds/{round_id}/proposals/11", data=no_plan).status_code == 403


def _scoring_phase(engine, people, round_id) -> None:
    with session_scope(engine=engine) as session:
        proposals.submit_proposal(
            session=session,
            round_id=round_id,
            region="26",
            data=ProposalIn(designs=[DesignIn(design=busan_design(), requested_quota=1000)], narrative="Busan plan"),
            actor=people["s.busan"],
        )
        service.close_window(session=session, rnd=round_id, actor=people["s.admin"], reason="deadline")


def test_a_declaration_with_a_region_and_no_reason_is_refused_beside_the_reason(browser_for, round_id):
    chair, csrf = browser_for("c.chair")
    url = f"/selection/rounds/{round_id}/conflicts"
    form = {"csrf_token": csrf, "regions": ["11", "27"], "reason": ""}
    ko = chair.post(f"{url}?lang=ko", data=form)
    refusal(ko, 422, "conflict-reason", "사유: 이해충돌 사유를 적으십시오")
    assert 'value="11" checked' in ko.text and 'value="27" checked' in ko.text and 'value="26" checked' not in ko.text
    refusal(chair.post(f"{url}?lang=en", data=form), 422, "conflict-reason", "Reason: give the reason for the conflict")
    unknown = {"csrf_token": csrf, "regions": ["99"], "reason": "typed reason"}
    refused = chair.post(f"{url}?lang=en", data=unknown)
    refusal(refused, 422, "conflict-regions", "Regions with a conflict of interest: unknown region code")
    assert 'value="typed reason"' in refused.text
    assert "이해충돌이 있는 지역" in chair.post(f"{url}?lang=ko", data=unknown).text


def test_refused_scores_stand_beside_their_cells_with_every_value_kept(browser_for, round_id, engine, people):
    _scoring_phase(engine, people, round_id)
    chair, csrf = browser_for("c.chair")
    url = f"/selection/rounds/{round_id}/score/26"
    form = {"csrf_token": csrf}
    for c in CRITERIA:
        form[f"score_{c}"], form[f"comment_{c}"] = "70", f"typed comment on {c}"
    undeclared = chair.post(f"{url}?lang=en", data=form)
    linked_only(undeclared, 409, "score-form", "declare your conflicts of interest")
    assert "typed comment on need" in undeclared.text
    chair.post(f"/selection/rounds/{round_id}/conflicts", data={"csrf_token": csrf})

    bad = form | {"score_need": "lots", "comment_feasibility": ""}
    ko = chair.post(f"{url}?lang=ko", data=bad)
    refusal(ko, 422, "score_need", f"{NEED['ko']} 점수: 0~100 정수로 입력해 주세요")
    refusal(ko, 422, "comment_feasibility", "설계의 실현 가능성에 대한 의견")
    assert 'value="lots"' in ko.text and "typed comment on need" in ko.text and 'value="70"' in ko.text
    en = chair.post(f"{url}?lang=en", data=bad)
    refusal(en, 422, "score_need", f"Score for {NEED['en']}: must be a whole number from 0 to 100")
    refusal(en, 422, "comment_feasibility", "Comment on Feasibility of the design")

    high = form | {"score_need": "150"}
    refusal(chair.post(f"{url}?lang=ko", data=high), 422, "score_need", f"{NEED['ko']} 점수")
    assert "100" in chair.post(f"{url}?lang=en", data=high).text
    assert chair.post(url, data=form, follow_redirects=False).status_code == 303
    expert, expert_csrf = browser_for("c.expert1")  # recused from Busan: an error page, not a form
    assert expert.post(url, data=form | {"csrf_token": expert_csrf, "score_need": "x"}).status_code == 403


def test_the_chair_s_refused_decision_stands_beside_the_quota_and_the_date(browser_for, round_id, engine, people):
    decidable(engine, people, round_id)
    chair, csrf = browser_for("c.chair")
    url = f"/selection/rounds/{round_id}/decision"
    form = {"csrf_token": csrf, "quota__busan-d2": "800", "recommended__busan-d2": "1000", "meeting_on": "2025-04-02"}
    ko = chair.post(f"{url}?lang=ko", data=form)
    refusal(ko, 422, "reason__busan-d2", "busan-d2 정원 변경 사유: 1000에서 800(으)로 바꾸려면 사유가 필요합니다")
    assert 'value="800"' in ko.text and 'value="2025-04-02"' in ko.text
    en = chair.post(f"{url}?lang=en", data=form)
    refusal(en, 422, "reason__busan-d2", "Reason for changing the quota of busan-d2: a reason is required to change")

    typed = form | {"quota__busan-d2": "eight", "meeting_on": "2025-13-40", "reason__busan-d2": "typed reason"}
    ko = chair.post(f"{url}?lang=ko", data=typed)
    refusal(ko, 422, "quota__busan-d2", "busan-d2 확정 정원: 0 이상의 정수로 입력해 주세요")
    refusal(ko, 422, "meeting-on", "회의 일자: 날짜(YYYY-MM-DD)로 입력해 주세요")
    assert 'value="eight"' in ko.text and 'value="2025-13-40"' in ko.text and 'value="typed reason"' in ko.text
    en = chair.post(f"{url}?lang=en", data=typed)
    refusal(en, 422, "quota__busan-d2", "Confirmed quota for busan-d2: must be a whole number, 0 or more")
    refusal(en, 422, "meeting-on", "Meeting date: must be a date (YYYY-MM-DD)")
    official, official_csrf = browser_for("c.official1")  # not the chair: an error page
    assert official.post(url, data=form | {"csrf_token": official_csrf}).status_code == 403


def test_a_decision_below_quorum_links_to_the_decision_form(browser_for, round_id, engine, people):
    with session_scope(engine=engine) as session:
        proposals.submit_proposal(
            session=session,
            round_id=round_id,
            region="26",
            data=ProposalIn(designs=[DesignIn(design=busan_design())], narrative="Busan plan"),
            actor=people["s.busan"],
        )
        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
        service.close_scoring(session=session, rnd=round_id, actor=people["s.admin"], now=later)
    chair, csrf = browser_for("c.chair")
    ko = chair.post(f"/selection/rounds/{round_id}/decision?lang=ko", data={"csrf_token": csrf})
    linked_only(ko, 409, "decision-form", "의결정족수 미달로 결정할 수 없습니다")
    en = chair.post(f"/selection/rounds/{round_id}/decision?lang=en", data={"csrf_token": csrf})
    linked_only(en, 409, "decision-form", "no decision below quorum")
