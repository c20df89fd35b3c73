"""The minutes of the demo's 2025 round as PDF (Korean font embedded, pages drawn) and HTML in
both languages, with every part the issue names."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from PIL import Image
from tests.actors import SYSTEM

from regionvisa.db import session_scope
from regionvisa.selection import demo, minutes


@pytest.fixture
def decided_round(engine) -> int:
    demo.demo_step(engine=engine)
    return 1


def test_minutes_pdf_draws_its_pages_with_the_korean_font(engine, decided_round, tmp_path):
    for lang in ("ko", "en"):
        with session_scope(engine=engine) as session:
            pdf = minutes.render(session=session, round_id=decided_round, actor=SYSTEM, lang=lang, fmt="pdf")
        check_pdf(pdf, tmp_path / lang)


def check_pdf(pdf: bytes, folder) -> None:
    assert pdf.startswith(b"%PDF")
    folder.mkdir()
    tool, fonts = shutil.which("pdftoppm"), shutil.which("pdffonts")
    if tool is None or fonts is None:
        pytest.fail("pdftoppm/pdffonts not found: `make test` installs poppler-utils (apt-get install poppler-utils)")
    path = folder / "minutes.pdf"
    path.write_bytes(pdf)
    listed = subprocess.run([fonts, str(path)], check=True, capture_output=True, text=True, timeout=60).stdout
    assert "NanumGothic" in listed and " yes " in listed  # the Korean font, embedded
    subprocess.run([tool, "-r", "40", "-png", str(path), str(folder / "page")], check=True, timeout=120)
    pages = sorted(folder.glob("page-*.png"))
    assert len(pages) >= 3  # members, recusals, rubric, decisions, adjustments, 17 proposals' scores
    for png in pages:
        with Image.open(png) as image:
            histogram = image.convert("L").histogram()
            ink = 1 - sum(histogram[245:]) / (image.width * image.height)
        assert ink > 0.005, f"{png.name} is blank"


def test_minutes_html_hold_members_recusals_scores_decisions_and_adjustments(engine, decided_round):
    with session_scope(engine=engine) as session:
        ko = minutes.render(session=session, round_id=decided_round, actor=SYSTEM, lang="ko").decode()
        en = minutes.render(session=session, round_id=decided_round, actor=SYSTEM, lang="en").decode()
    for text, words in (
        (
            ko,
            [
                "참석 위원",
                "제척·회피",
                "위원장의 정원 조정",
                "제안서별 점수",
                "17개 지역 신청, 14개 지역 선정",
                "미선정",
            ],
        ),
        (en, ["Members present", "Recusals", "Chair's quota adjustments", "Scores per proposal", "17 regions applied"]),
    ):
        for word in words:
            assert word in text, word
    assert demo.ADJUSTMENT_REASON in en and "Pusan National University" in en
    assert en.count('<section class="proposal"') == 17
    assert "6,610" in en  # initial quotas: the pilot table's total
