"""policy/evaluation/examples/hdi.yaml reproduces the published HDI from the published inputs.

Inputs and HDI values: UNDP Human Development Report 2023/2024, Statistical annex, Table 1
(data year 2022), in tests/evaluation/data/hdr2023_24_table1.csv (its header names the source).
The countries cover the goalposts as caps (expected schooling above 18 for Norway and Iceland,
GNI per capita above 75,000 for Singapore, Luxembourg and Qatar) and the whole range of the index.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from regionvisa.evaluation.compute import IndicatorInputError, evaluate
from regionvisa.evaluation.framework import load_framework

ROOT = Path(__file__).resolve().parents[2]
HDI = ROOT / "policy" / "evaluation" / "examples" / "hdi.yaml"
DATA = Path(__file__).with_name("data") / "hdr2023_24_table1.csv"
COLUMNS = ("life_expectancy", "expected_schooling", "mean_schooling", "gni_per_capita")


def published() -> list[dict[str, str]]:
    with DATA.open(encoding="utf-8") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


def test_the_table_names_its_source_and_has_a_handful_of_countries():
    head = DATA.read_text(encoding="utf-8").splitlines()[0]
    assert "Human Development Report 2023/2024" in head and "Table 1" in head
    assert len(published()) >= 10
    assert "Human Development Report 2023/2024" in HDI.read_text(encoding="utf-8")


def test_hdi_reproduces_published_values_to_three_decimals():
    framework = load_framework(HDI)
    rows = published()
    table = {r["region"]: {c: float(r[c]) for c in COLUMNS} for r in rows}
    result = evaluate(framework, table, draws=50)
    got = {e["region"]: e["score"] / 100 for e in result["regions"]}
    for r in rows:
        assert round(got[r["region"]], 3) == pytest.approx(float(r["hdi"]), abs=1e-12), r["country"]


def test_dimension_indices_are_the_groups():
    framework = load_framework(HDI)
    ch = {"life_expectancy": 84.3, "expected_schooling": 16.6, "mean_schooling": 13.9, "gni_per_capita": 69433.0}
    result = evaluate(framework, {"CHE": ch}, draws=10)
    groups = result["regions"][0]["groups"]
    assert groups["health"]["score"] == pytest.approx(100 * (84.3 - 20) / 65)
    assert groups["education"]["score"] == pytest.approx(100 * (16.6 / 18 + 13.9 / 15) / 2)
    assert groups["income"]["score"] == pytest.approx(100 * math.log(69433 / 100) / math.log(75000 / 100))
    indicator = result["regions"][0]["indicators"]["gni_per_capita"]
    assert indicator["raw"] == 69433.0 and indicator["treated"] == pytest.approx(math.log(69433))


def test_a_value_not_above_zero_under_log_names_region_and_indicator():
    framework = load_framework(HDI)
    bad = {"life_expectancy": 70.0, "expected_schooling": 12.0, "mean_schooling": 8.0, "gni_per_capita": 0.0}
    good = {**bad, "gni_per_capita": 5000.0}
    with pytest.raises(IndicatorInputError) as info:
        evaluate(framework, {"XYZ": bad, "ABC": good}, draws=10)
    assert info.value.errors == [
        "region XYZ: indicator 'gni_per_capita': value 0.0 is not above 0, which its log transform needs"
        " · 지역 XYZ, 지표 gni_per_capita: 로그 변환에는 0보다 큰 값이 필요합니다"
    ]


def test_the_command_line_evaluates_the_hdi_table(tmp_path):
    """`regionvisa evaluate --framework hdi.yaml --indicators TABLE.csv`, as the file's header says."""
    import json

    from typer.testing import CliRunner

    from regionvisa.evaluation import cli

    table = tmp_path / "hdi.csv"
    rows = published()
    table.write_text(
        "region,"
        + ",".join(COLUMNS)
        + "\n"
        + "".join(f"{r['region']}," + ",".join(r[c] for c in COLUMNS) + "\n" for r in rows),
        encoding="utf-8",
    )
    out = tmp_path / "hdi.json"
    done = CliRunner().invoke(
        cli.app,
        [
            "evaluate",
            "--year",
            "2022",
            "--framework",
            str(HDI),
            "--indicators",
            str(table),
            "--out",
            str(out),
            "--draws",
            "20",
        ],
    )
    assert done.exit_code == 0, done.output
    result = json.loads(out.read_text(encoding="utf-8"))
    assert {e["region"]: round(e["score"] / 100, 3) for e in result["regions"]} == {
        r["region"]: float(r["hdi"]) for r in rows
    }
