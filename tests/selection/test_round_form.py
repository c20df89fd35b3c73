"""The form that opens a selection round without YAML (issue 17 req. 10): the rubric as rows, a row
added without JavaScript, every refusal beside its field in the page's language with the input kept,
and the YAML box for power users still taking a whole rubric."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import yaml
from fastapi.testclient import TestClient

from regionvisa.db import session_scope
from regionvisa.selection import rounds
from regionvisa.selection.round_form import initial_values, parse, row_count
from regionvisa.selection.schemas import DEFAULT_RUBRIC


@pytest.fixture
def admin(app, login, people):
    with TestClient(app) as client:
        yield client, login(client, "s.admin")


def _form(csrf: str, **extra) -> dict:
    values = initial_values(dt.date(2031, 1, 5))
    values.update(year="2031", csrf_token=csrf)
    values.update(extra)
    return values


def _summary_links(html: str) -> list[str]:
    box = re.search(r'<div class="error-box error-summary".*?</div>', html, re.S)
    assert box, "no error summary"
    return re.findall(r'<a href="#([^"]+)"', box.group(0))


def test_the_form_shows_the_ministry_criteria_as_rows(admin):
    client, _csrf = admin
    page = client.get("/selection?lang=ko")
    assert page.status_code == 200
    for n, criterion in enumerate(DEFAULT_RUBRIC, start=1):
        assert f'id="c{n}_id" name="c{n}_id" value="{criterion["id"]}"' in page.text
        assert f'name="c{n}_label_ko" value="{criterion["label"]["ko"]}"' in page.text
    assert 'id="c6_id"' not in page.text
    assert "평가 기준" in page.text


def test_a_round_opens_from_rows_with_a_criterion_added_and_one_dropped(admin, engine):
    client, csrf = admin
    form = _form(csrf)
    added = client.post("/selection/rounds?lang=en", data=form | {"add_criterion": "1"})
    assert added.status_code == 200
    assert 'id="c6_id"' in added.text and 'id="c7_id"' not in added.text  # one empty row more
    assert 'value="2031"' in added.text  # the typed values kept
    form |= {"c6_id": "digital", "c6_weight": "15", "c6_label_ko": "디지털 역량", "c6_label_en": "Digital skills"}
    form |= {"c6_desc_ko": "디지털 산업 인력 양성", "c6_desc_en": "Training for digital industries"}
    form |= {f"c5_{cell}": "" for cell in ("id", "weight", "label_ko", "label_en", "desc_ko", "desc_en")}
    opened = client.post("/selection/rounds", data=form, follow_redirects=False)
    assert opened.status_code == 303, opened.text[:2000]
    round_id = int(opened.headers["location"].rsplit("/", 1)[1])
    with session_scope(engine=engine) as session:
        rnd = rounds.get_round(session=session, round_id=round_id)
        ids = [c["id"] for c in rnd.rubric]
        weights = [c["weight"] for c in rnd.rubric]
        assert ids == ["need", "feasibility", "settlement", "management", "digital"]
        assert weights == [25, 25, 20, 20, 15]
        assert rnd.rubric[-1]["label"] == {"ko": "디지털 역량", "en": "Digital skills"}


def test_refusals_stand_beside_their_fields_in_korean_with_the_input_kept(admin):
    client, csrf = admin
    form = _form(csrf, threshold="150", closes="2031-02-31", c2_id="need", c3_weight="many")
    refused = client.post("/selection/rounds?lang=ko", data=form)
    assert refused.status_code == 422
    links = _summary_links(refused.text)
    assert "round-threshold" in links and "round-closes" in links
    assert "c2_id" in links and "c3_weight" in links
    assert "100 이하여야 합니다" in refused.text
    assert "기준 1와(과) 같은 id입니다" in refused.text
    assert "가중치는 숫자로 입력해 주세요" in refused.text
    assert 'value="many"' in refused.text and 'value="2031-02-31"' in refused.text
    assert "Input should" not in refused.text
    english = client.post("/selection/rounds?lang=en", data=form)
    assert "must be 100 or less" in english.text
    assert "the same id as criterion 1" in english.text


def test_a_cell_the_schema_refuses_is_named_by_its_row(admin):
    client, csrf = admin
    refused = client.post("/selection/rounds?lang=en", data=_form(csrf, c4_id="Bad Id!", c4_weight="-3"))
    assert refused.status_code == 422
    links = _summary_links(refused.text)
    assert links == ["c4_id", "c4_weight"]
    assert "Criterion 4: Criterion id is not in the expected format" in refused.text
    assert "Criterion 4: Weight must be more than 0" in refused.text


def test_no_criterion_at_all_is_refused(admin):
    client, csrf = admin
    empty = {f"c{n}_{cell}": "" for n in range(1, 6) for cell in ("id", "weight", "label_ko", "label_en")}
    empty |= {f"c{n}_{cell}": "" for n in range(1, 6) for cell in ("desc_ko", "desc_en")}
    refused = client.post("/selection/rounds?lang=ko", data=_form(csrf, **empty))
    assert refused.status_code == 422
    assert _summary_links(refused.text) == ["round-criteria"]
    assert "기준을 하나 이상 입력해 주세요" in refused.text


def test_the_yaml_box_replaces_the_rows_and_names_a_bad_line(admin, engine):
    client, csrf = admin
    broken = client.post("/selection/rounds?lang=en", data=_form(csrf, rubric="- id: need\n  weight: [1,\n"))
    assert broken.status_code == 422
    assert _summary_links(broken.text) == ["round-rubric"]
    assert "is not valid YAML (line" in broken.text
    one = [{"id": "only", "weight": 1, "label": {"ko": "하나", "en": "One"}, "description": {"ko": "가", "en": "a"}}]
    opened = client.post(
        "/selection/rounds", data=_form(csrf, rubric=yaml.safe_dump(one, allow_unicode=True)), follow_redirects=False
    )
    assert opened.status_code == 303
    round_id = int(opened.headers["location"].rsplit("/", 1)[1])
    with session_scope(engine=engine) as session:
        assert [c["id"] for c in rounds.get_round(session=session, round_id=round_id).rubric] == ["only"]


def test_a_regional_official_sees_no_form_and_may_not_post(app, login, people):
    with TestClient(app) as client:
        csrf = login(client, "s.busan")
        assert 'id="round-form"' not in client.get("/selection").text
        refused = client.post("/selection/rounds", data=_form(csrf), follow_redirects=False)
        assert refused.status_code == 403


def test_parse_and_row_values_round_trip_the_default_rubric():
    parsed = parse(initial_values(dt.date(2031, 1, 5)))
    assert not parsed.errors
    assert [c.model_dump() for c in parsed.data.rubric] == [{**c, "weight": float(c["weight"])} for c in DEFAULT_RUBRIC]
    assert row_count({"c1_id": "", "c2_id": "", "add_criterion": "1"}) == 3
