"""PDF (rendered to PNG with poppler to prove it draws, Korean included), XLSX and JSON outputs."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image

from regionvisa.reports import evaluation_report as er
from regionvisa.reports.evaluation_xlsx import render_xlsx

SHEETS = {
    "ko": ["순위", "지표", "민감도 분석", "혜택", "평가 방법"],
    "en": ["Ranking", "Indicators", "Sensitivity", "Benefits", "Method"],
}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} not found: `make test` installs poppler-utils (apt-get install -y poppler-utils)")
    return path


def _ink(png: Path) -> float:
    """Share of pixels that are not (near) white."""
    image = Image.open(png).convert("L")
    histogram = image.histogram()
    return 1 - sum(histogram[245:]) / (image.width * image.height)


@pytest.fixture(scope="module")
def pdfs(contexts, artifacts) -> dict[str, Path]:
    out = {}
    for lang, ctx in contexts.items():
        path = artifacts / f"evaluation-{lang}.pdf"
        path.write_bytes(er.render_pdf(ctx))
        out[lang] = path
    return out


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_pdf_renders_to_non_blank_pages(pdfs, artifacts, lang):
    pdftoppm = _tool("pdftoppm")
    target = artifacts / lang
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    subprocess.run([pdftoppm, "-r", "50", "-png", str(pdfs[lang]), str(target / "page")], check=True, timeout=120)
    pages = sorted(target.glob("page-*.png"))
    # cover + how to read, ranking, breakdown, rank intervals, region cards, maps, benefits, method
    assert len(pages) >= 8, pages
    for page in pages:
        with Image.open(page) as image:
            assert image.width > 300 and image.height > 400
        assert _ink(page) > 0.005, f"{page.name} is blank"
    # The chart pages carry much more ink than a text page: the charts were drawn.
    assert max(_ink(p) for p in pages) > 0.05


@pytest.mark.slow
@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("ko", ["순위", "보고서 읽는 법", "지표 지도", "평가 방법", "서울특별시", "쿼터 소진율"]),
        ("en", ["Ranking", "How to read this report", "Indicator maps", "Method", "Seoul", "Quota fill rate"]),
    ],
)
def test_pdf_text_is_real_text_in_the_language(pdfs, lang, expected):
    text = subprocess.run(
        [_tool("pdftotext"), "-enc", "UTF-8", str(pdfs[lang]), "-"], capture_output=True, check=True, timeout=60
    ).stdout.decode("utf-8")
    for phrase in expected:
        assert phrase in text, phrase


@pytest.mark.slow
def test_pdf_embeds_the_korean_font(pdfs):
    fonts = subprocess.run(
        [_tool("pdffonts"), str(pdfs["ko"])], capture_output=True, check=True, timeout=60, text=True
    ).stdout
    assert "NanumGothic" in fonts, fonts
    embedded = [line for line in fonts.splitlines() if "NanumGothic" in line]
    assert all(" yes " in line for line in embedded), embedded  # emb column: glyphs are in the file


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_xlsx_has_the_sheets_and_the_numbers(contexts, result, tmp_path, lang):
    path = tmp_path / f"evaluation-{lang}.xlsx"
    path.write_bytes(render_xlsx(contexts[lang]))
    wb = load_workbook(path, read_only=True)
    assert wb.sheetnames == SHEETS[lang]

    ranking = list(wb[SHEETS[lang][0]].iter_rows(values_only=True))
    assert ranking[0][0] == ("순위" if lang == "ko" else "Rank")
    body = [row for row in ranking[1:] if row[0] is not None]
    assert [row[1] for row in body] == [e["region"] for e in result["regions"]]
    assert [row[3] for row in body] == pytest.approx([e["score"] for e in result["regions"]])
    assert [row[4] for row in body] == [e["grade"] for e in result["regions"]]

    indicators = list(wb[SHEETS[lang][1]].iter_rows(values_only=True))
    first = result["regions"][0]
    row = next(r for r in indicators[2:] if r[1] == first["region"])
    assert row[3] == pytest.approx(first["indicators"]["integration_policy"]["raw"])
    assert row[4] == pytest.approx(first["indicators"]["integration_policy"]["normalised"])
    contributions = [row[5 + 3 * k] for k in range(5)]
    assert sum(contributions) == pytest.approx(first["score"])  # arithmetic: the parts add up to the score

    method = [c for r in wb[SHEETS[lang][4]].iter_rows(values_only=True) for c in r if c is not None]
    assert result["run"]["framework"]["sha256"] in method
    benefits = list(wb[SHEETS[lang][3]].iter_rows(values_only=True))
    assert [r[0] for r in benefits[1:]] == ["S", "A", "B", "C", "D"]


def test_json_is_the_result_itself(framework, result, tmp_path):
    path = er.write_report(result, framework, tmp_path / "out" / "evaluation.json")
    assert json.loads(path.read_text(encoding="utf-8")) == result


def test_unknown_format_is_refused(framework, result, tmp_path):
    with pytest.raises(ValueError, match="unknown report format"):
        er.write_report(result, framework, tmp_path / "evaluation.docx")
    assert not list(tmp_path.iterdir())
