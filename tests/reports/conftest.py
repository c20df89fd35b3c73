"""One evaluation of a hand-made 17-region table, shared by the report tests (charts are slow to draw)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from regionvisa.evaluation.compute import evaluate, read_indicator_csv
from regionvisa.evaluation.framework import Framework, default_framework_path, load_framework

DATA = Path(__file__).resolve().parent / "data"
INDICATORS_17 = DATA / "indicators_17.csv"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "reports"


@pytest.fixture(scope="session")
def framework() -> Framework:
    return load_framework(default_framework_path())


@pytest.fixture(scope="session")
def result(framework) -> dict[str, Any]:
    return evaluate(framework, read_indicator_csv(INDICATORS_17, framework), draws=200)


@pytest.fixture(scope="session")
def contexts(framework, result) -> dict[str, dict[str, Any]]:
    from regionvisa.reports.evaluation_context import build_context

    return {lang: build_context(result, framework, lang) for lang in ("ko", "en")}


@pytest.fixture(scope="session")
def html(contexts) -> dict[str, str]:
    from regionvisa.reports.evaluation_report import render_html

    return {lang: render_html(ctx) for lang, ctx in contexts.items()}


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def indicators_17() -> Path:
    return INDICATORS_17
