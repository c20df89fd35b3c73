"""A region's official submits a proposal without writing YAML (issue 17 req. 10): each design slot
takes one of the region's programme designs (drafts from the design form among them); pasting YAML
stays for power users, and choosing both, or another region's design, is refused beside the slot."""

from __future__ import annotations

import pytest
import yaml
from fastapi.testclient import TestClient

from regionvisa.core.errors import NotFound
from regionvisa.db import session_scope
from regionvisa.programs import service as programs
from regionvisa.selection import proposals

from .conftest import busan_design, design_for


@pytest.fixture
def drafts(engine, people) -> dict:
    with session_scope(engine=engine) as session:
        busan = programs.save_draft(session=session, design=busan_design(), actor=people["s.busan"])
        seoul = programs.save_draft(session=session, design=design_for("11", "seoul-d2-test"), actor=people["s.seoul"])
        return {"busan": f"{busan.program_id}@{busan.version}", "seoul": f"{seoul.program_id}@{seoul.version}"}


@pytest.fixture
def busan(app, login, people):
    with TestClient(app) as client:
        yield client, login(client, "s.busan")


def test_the_slots_offer_the_region_s_own_designs_only(busan, round_id, drafts):
    client, _csrf = busan
    page = client.get(f"/selection/rounds/{round_id}/proposals/26?lang=ko")
    assert page.status_code == 200
    assert f'<option value="{drafts["busan"]}"' in page.text
    assert drafts["seoul"] not in page.text
    assert "이 지역의 프로그램 설계에서 고르기" in page.text


def test_a_proposal_submitted_from_a_chosen_design(busan, round_id, drafts, engine):
    client, csrf = busan
    form = {"csrf_token": csrf, "narrative": "Busan plan", "saved_1": drafts["busan"], "quota_1": "700"}
    saved = client.post(f"/selection/rounds/{round_id}/proposals/26", data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text[:3000]
    with session_scope(engine=engine) as session:
        proposal = proposals.get_proposal(session=session, round_id=round_id, region="26")
        version = proposals.version_dict(
            session=session, version=proposals.versions(session=session, proposal=proposal)[-1]
        )
    [design] = version["designs"]
    assert design["design"]["id"] == busan_design()["id"]
    assert design["requested_quota"] == 700


@pytest.mark.parametrize(
    ("choice", "typed", "korean", "english"),
    [
        ("busan", True, "둘 다 할 수는 없습니다", "choose a saved design or paste YAML, not both"),
        (
            "seoul",
            False,
            "이 지역의 프로그램 설계 목록에 없는 선택입니다",
            "programme designs: seoul-d2-test@",
        ),
    ],
)
def test_a_refused_choice_stands_beside_its_slot_with_the_input_kept(
    busan, round_id, drafts, engine, choice, typed, korean, english
):
    client, csrf = busan
    form = {"csrf_token": csrf, "narrative": "Busan plan kept", "saved_1": drafts[choice]}
    if typed:
        form["design_1"] = yaml.safe_dump(busan_design(), allow_unicode=True)
    for lang, text in (("ko", korean), ("en", english)):
        refused = client.post(f"/selection/rounds/{round_id}/proposals/26?lang={lang}", data=form)
        assert refused.status_code == 422
        assert '<a href="#saved_1">' in refused.text
        assert 'id="saved_1-error"' in refused.text and text in refused.text
        assert "Busan plan kept" in refused.text
    with session_scope(engine=engine) as session, pytest.raises(NotFound):
        proposals.get_proposal(session=session, round_id=round_id, region="26")


def test_a_refused_design_is_worded_in_the_page_s_language(busan, round_id):
    """Each guardrail or schema line of a refused design in Korean on a Korean page, in English on
    an English one (the API keeps the English lines)."""
    client, csrf = busan
    bad = yaml.safe_dump(busan_design() | {"obligation_months": 500}, allow_unicode=True)
    form = {"csrf_token": csrf, "narrative": "Busan plan", "design_1": bad}
    korean = client.post(f"/selection/rounds/{round_id}/proposals/26?lang=ko", data=form)
    assert korean.status_code == 422
    assert "design[1]:obligation_months: 값은 120 이하여야 합니다" in korean.text
    assert "Input should be" not in korean.text
    english = client.post(f"/selection/rounds/{round_id}/proposals/26?lang=en", data=form)
    assert "design[1]:obligation_months: Input should be less than or equal to 120" in english.text
