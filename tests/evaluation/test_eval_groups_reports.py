"""A hierarchical framework with data treatment, end to end: computed and stored on the database,
published, reproduced byte for byte, shown on the evaluation pages (structure chart and group
scores) and in the HTML, PDF and XLSX reports; imputation from the previous year's published run."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest
from openpyxl import load_workbook
from tests.actors import SYSTEM
from tests.evaluation.conftest import build

from regionvisa.db import session_scope
from regionvisa.evaluation import compute, flows, service
from regionvisa.reports.evaluation_report import render

YEAR = 2025
GOAL = {"method": "goalposts", "low": 0, "high": 100}


def grouped():
    return build(
        [
            {"id": "a", "label": {"ko": "가 지표", "en": "Indicator A"}, "group": "people", "normalise": GOAL},
            {"id": "b", "label": {"ko": "나 지표", "en": "Indicator B"}, "group": "people", "weight": 2,
             "normalise": GOAL},
            {"id": "c", "label": {"ko": "다 지표", "en": "Indicator C"}, "group": "economy",
             "transform": {"method": "log"}, "normalise": {"method": "goalposts", "low": 1, "high": 1000}},
            {"id": "d", "label": {"ko": "라 지표", "en": "Indicator D"}},
        ],
        groups=[
            {"id": "people", "label": {"ko": "사람", "en": "People"}, "weight": 1, "parent": "society"},
            {"id": "society", "label": {"ko": "사회", "en": "Society"}, "weight": 2,
             "aggregate": {"method": "geometric"}},
            {"id": "economy", "label": {"ko": "경제", "en": "Economy"}, "weight": 1, "parent": "society"},
        ],
        missing={"policy": "reweight", "impute": "previous_year"},
    )  # fmt: skip


TABLE = {
    "11": {"a": 60.0, "b": 70.0, "c": 300.0, "d": 40.0},
    "26": {"a": 80.0, "b": None, "c": 20.0, "d": 90.0},
    "41": {"a": 20.0, "b": 30.0, "c": 900.0, "d": 10.0},
}
LAST_YEAR = {
    "11": {"a": 50.0, "b": 60.0, "c": 200.0, "d": 30.0},
    "26": {"a": 70.0, "b": 55.0, "c": 10.0, "d": 80.0},
    "41": {"a": 10.0, "b": 20.0, "c": 800.0, "d": 5.0},
}


@pytest.fixture
def published_groups(engine, world):
    """Last year's run published, then this year's, which imputes Busan's gap from it."""
    fw = grouped()
    with session_scope(engine=engine) as session:
        last = service.run_evaluation(
            session=session, year=YEAR - 1, actor=SYSTEM, draws=40, framework=fw, table=LAST_YEAR
        )
        flows.publish_evaluation(session=session, run_id=last.id, actor=SYSTEM)
    with session_scope(engine=engine) as session:
        run = service.run_evaluation(session=session, year=YEAR, actor=SYSTEM, draws=60, framework=fw, table=TABLE)
        flows.publish_evaluation(session=session, run_id=run.id, actor=SYSTEM)
        return run.id


def test_stored_grouped_run_imputes_from_last_year_and_reproduces(engine, published_groups):
    with session_scope(engine=engine) as session:
        run = service.get_run(session=session, run_id=published_groups)
        result = service.result_of(run)
        assert service.reproduce_run(session=session, run_id=published_groups)["identical"] is True
    assert result["treatment"]["imputed"] == {"26": {"b": {"method": "previous_year", "value": 55.0}}}
    assert result["run"]["inputs"]["previous"]["indicators"]["26"]["b"] == 55.0
    busan = next(e for e in result["regions"] if e["region"] == "26")
    assert busan["indicators"]["b"]["imputed"] == "previous_year"
    assert set(busan["groups"]) == {"people", "society", "economy"}
    assert result["sensitivity"]["factors"] == ["a", "b", "c", "d", "people", "society", "economy"]


def test_pages_show_structure_and_group_scores(client, login, role_users, published_groups, engine):
    with session_scope(engine=engine) as session:
        result = service.result_of(service.get_run(session=session, run_id=published_groups))
    login(client, "t.officer")
    page = client.get("/evaluation", params={"lang": "en"})
    assert page.status_code == 200
    assert 'id="groups"' in page.text and 'id="method-groups"' in page.text and 'id="method-treatment"' in page.text
    for entry in result["regions"]:
        score = entry["groups"]["society"]["score"]
        assert f'data-group="society">{score:.1f}<' in page.text
    login(client, "t.busan")
    region = client.get("/evaluation/regions/26")
    assert region.status_code == 200
    assert 'id="group-scores"' in region.text and "<svg" in region.text.split('id="groups"')[1]
    busan = next(e for e in result["regions"] if e["region"] == "26")
    economy = busan["groups"]["economy"]["score"]  # the page keeps the language chosen above (English)
    assert re.search(
        rf'data-group="economy"><th scope="row">(경제|Economy)</th><td class="num">{economy:.1f}<', region.text
    )


def test_flat_framework_pages_have_no_group_section(client, login, role_users, engine, world):
    with session_scope(engine=engine) as session:
        run = service.run_evaluation(session=session, year=YEAR, actor=SYSTEM, draws=20)
        flows.publish_evaluation(session=session, run_id=run.id, actor=SYSTEM)
    login(client, "t.officer")
    page = client.get("/evaluation")
    assert 'id="ranking"' in page.text and 'id="groups"' not in page.text and 'id="method-treatment"' not in page.text
    login(client, "t.busan")
    assert 'id="group-scores"' not in client.get("/evaluation/regions/26").text


def test_reports_carry_groups_and_treatment():
    fw = grouped()
    result = compute.evaluate(fw, TABLE, draws=30, previous=LAST_YEAR)
    html = render(result, fw, ".html", "en").decode("utf-8")
    assert "Framework structure and group scores" in html and "Data treatment" in html
    assert "Natural logarithm of the raw values" in html
    assert "previous year&#39;s value" in html or "previous year's value" in html
    ko = render(result, fw, ".html", "ko").decode("utf-8")
    assert "평가 체계 구조와 그룹 점수" in ko and "전년도 값" in ko
    book = load_workbook(io.BytesIO(render(result, fw, ".xlsx", "en")))
    assert "Groups" in book.sheetnames and "Data treatment" in book.sheetnames
    sheet = book["Groups"]
    header = [c.value for c in sheet[1]]
    assert header[3:] == ["People", "Society", "Economy", "Score"]
    by_code = {row[1]: row for row in sheet.iter_rows(min_row=2, max_row=4, values_only=True)}
    for entry in result["regions"]:
        assert by_code[entry["region"]][4] == pytest.approx(entry["groups"]["society"]["score"])
        assert by_code[entry["region"]][6] == pytest.approx(entry["score"])
    treated = [row for row in book["Data treatment"].iter_rows(values_only=True) if row[0]]
    assert any(row[2] == "previous year's value" and row[3] == 55.0 for row in treated)


@pytest.mark.slow
def test_pdf_report_has_the_group_section(tmp_path):
    assert shutil.which("pdftotext"), "pdftotext is missing: install poppler-utils (scripts/system-deps does)"
    fw = grouped()
    result = compute.evaluate(fw, TABLE, draws=30, previous=LAST_YEAR)
    path = tmp_path / "report.pdf"
    path.write_bytes(render(result, fw, ".pdf", "en"))
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True).stdout
    assert "Framework structure and group scores" in text.decode("utf-8")
