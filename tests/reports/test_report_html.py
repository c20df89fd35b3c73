"""The HTML report: every section, in Korean and in English, self-contained, from one context."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from markupsafe import Markup

from regionvisa.reports import evaluation_report as er
from regionvisa.reports.evaluation_context import build_context
from regionvisa.web import i18n

SECTIONS = [
    "summary",
    "how-to-read",
    "ranking",
    "breakdown",
    "rank-intervals",
    "region-profiles",
    "maps",
    "benefits",
    "method",
    "method-indicators",
    "method-aggregation",
    "method-missing",
    "method-sensitivity",
    "method-run",
]
HEADINGS = {
    "ko": [
        "요약",
        "보고서 읽는 법",
        "순위",
        "점수 구성",
        "순위 구간",
        "지역별 점수 구성",
        "지표 지도",
        "혜택과 제재",
        "평가 방법",
    ],
    "en": [
        "Summary",
        "How to read this report",
        "Ranking",
        "Score breakdown",
        "Rank intervals",
        "Score breakdown by region",
        "Indicator maps",
        "Benefits and sanctions",
        "Method",
    ],
}
TABLE_HEADERS = {
    "ko": ["순위", "점수", "등급", "순위 구간 (5–95 백분위)", "중앙 순위", "등급 확률", "혜택"],
    "en": [
        "Rank",
        "Score",
        "Grade",
        "Rank interval (5th–95th percentile)",
        "Median rank",
        "Grade probability",
        "Benefit",
    ],
}


def _headings(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<h[123][^>]*>(.*?)</h[123]>", html, flags=re.S)]


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_section_is_there_in_the_language(html, lang):
    page = html[lang]
    assert f'<html lang="{lang}">' in page
    for section in SECTIONS:
        assert f'id="{section}"' in page, section
    headings = _headings(page)
    for heading in HEADINGS[lang]:
        assert heading in headings, (heading, headings)
    for header in TABLE_HEADERS[lang]:
        assert f">{header}</th>" in page, header


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_ranking_table_lists_every_region_in_rank_order(html, result, lang):
    page = html[lang]
    table = page[page.index('<table class="ranking">') : page.index("</table>", page.index('<table class="ranking">'))]
    codes = re.findall(r'<tr data-region="(\d+)">', table)
    assert codes == [e["region"] for e in result["regions"]]
    assert len(codes) == 17
    seoul = "서울특별시" if lang == "ko" else "Seoul"
    assert seoul in table
    # The tie (43 and 44 have identical values) shows the shared rank on both rows.
    ranks = dict(zip(codes, re.findall(r'<tr data-region="\d+">\s*<td class="num">(\d+)</td>', table), strict=True))
    assert ranks["43"] == ranks["44"] == "6"


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_charts_maps_and_cards(html, contexts, lang):
    page = html[lang]
    assert page.count('<div class="card" data-region=') == 17
    assert page.count('<figure class="tilemap">') == 5  # one map per indicator
    assert page.count('class="tile" data-region=') == 5 * 17
    # breakdown, rank interval, sensitivity, 17 region cards, 5 maps (+ legend swatches)
    assert page.count("<svg") >= 3 + 17 + 5
    for ind in contexts[lang]["indicators"]:
        assert ind["label"] in page
    label = "쿼터 소진율" if lang == "ko" else "Quota fill rate"
    assert label in page


def test_chart_text_follows_the_language(contexts):
    # Chart text is drawn as SVG <text>; the axis titles must be in the report's language.
    assert "순위 (1 = 최상)" in contexts["ko"]["charts"]["rank_interval"]
    assert "Rank (1 = best)" in contexts["en"]["charts"]["rank_interval"]
    assert "Rank (1 = best)" not in contexts["ko"]["charts"]["rank_interval"]


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_method_section_is_generated_from_the_framework(html, framework, result, lang):
    page = html[lang]
    method = page[page.index('id="method"') :]
    for ind in framework.indicators:
        assert ind.id in method
        assert getattr(ind.rationale, lang).split()[0] in method
    for band in framework.grades:
        assert f'">{band.grade}</span>' in method
    assert result["run"]["framework"]["sha256"] in method
    assert result["run"]["inputs"]["sha256"] in method
    assert "200" in method  # the draws actually used, not the framework's default 1000
    lower = "낮을수록 좋음" if lang == "ko" else "Lower is better"
    assert lower in method  # illegal_stay_rate has direction -1
    assert ("골포스트" if lang == "ko" else "Goalposts") in method


def test_benefits_table_matches_the_framework(html, contexts, framework):
    bands = {b["grade"]: b for b in contexts["en"]["bands"]}
    assert bands["S"]["quota_change_text"] == "+30%"
    assert bands["D"]["quota_change_text"] == "−30%"
    assert bands["D"]["warning"] and not bands["B"]["warning"]
    assert sum(b["count"] for b in bands.values()) == 17
    page = html["en"]
    benefits = page[page.index('id="benefits"') : page.index('id="method"')]
    assert "+15%" in benefits and "−15%" in benefits


def test_html_is_self_contained(html):
    page = html["ko"]
    assert "<link" not in page and "<script" not in page
    assert not re.search(r'(src|href)="https?://', page)
    font = re.search(r'@font-face \{ font-family: "NanumGothic"; font-weight: normal; src: url\("([^"]+)"\)', page)
    assert font and font.group(1).startswith("file://")
    assert Path(font.group(1).removeprefix("file://")).is_file()


def test_svg_ids_are_unique_across_the_page(html):
    ids = re.findall(r'\bid="([^"]+)"', html["en"])
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, duplicates[:10]


def test_building_a_context_leaves_the_callers_language_alone(framework, result, contexts):
    token = i18n.current_language.set("en")
    try:
        build_context(result, framework, "ko")
        assert i18n.current_language.get() == "en"
    finally:
        i18n.current_language.reset(token)


def test_body_partial_for_the_web_page(contexts):
    body = er.render_body(contexts["en"])
    assert body.lstrip().startswith("<article") and "<html" not in body
    assert isinstance(contexts["en"]["charts"]["breakdown"], Markup)


def test_reweighted_and_excluded_regions_are_explained(framework, indicators_17, tmp_path):
    from regionvisa.evaluation.compute import evaluate, read_indicator_csv

    table = read_indicator_csv(indicators_17, framework)
    table["51"]["quota_fill_rate"] = None
    result = evaluate(framework, table, draws=20)
    ctx = build_context(result, framework, "en")
    page = er.render_html(ctx)
    row = next(r for r in ctx["rows"] if r["code"] == "51")
    assert row["reweighted"] and row["missing_indicators"] == ["Quota fill rate"]
    assert "Reweighted for missing values" in page and "Gangwon: reweighted (Quota fill rate)" in page

    strict = framework.model_copy(update={"missing": framework.missing.model_copy(update={"policy": "exclude"})})
    result = evaluate(strict, table, draws=20)
    ctx = build_context(result, strict, "ko")
    assert [e["code"] for e in ctx["excluded"]] == ["51"]
    assert len(ctx["rows"]) == 16
    assert "값 누락으로 제외된 지역: 강원특별자치도." in ctx["summary"]
