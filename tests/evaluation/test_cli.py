"""`regionvisa evaluate`: exit codes, error messages naming file/line/column/value, and the JSON contract."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from regionvisa.evaluation import cli
from regionvisa.evaluation.compute import read_indicator_csv
from regionvisa.evaluation.framework import DEFAULT_FRAMEWORK, load_framework

INDICATORS_17 = Path(__file__).resolve().parents[1] / "reports" / "data" / "indicators_17.csv"
HEADER = (
    "region,integration_policy,quota_fill_rate,integration_participation_rate,illegal_stay_rate,foreign_resident_share"
)
SECTION_KEYS = {"region", "indicators", "score", "rank", "grade", "rank_interval", "median_rank"} | {
    "grade_probability",
    "benefit",
}

runner = CliRunner()


def run(*args: str):
    return runner.invoke(cli.app, ["evaluate", *args])


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_json_from_a_hand_made_table(tmp_path):
    out = tmp_path / "result.json"
    res = run("--year", "2025", "--indicators", str(INDICATORS_17), "--draws", "100", "--out", str(out))
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["framework"] == "rsv-2025" and data["year"] == 2025
    assert {"missing", "sensitivity", "run"} <= set(data)
    regions = data["regions"]
    assert len(regions) == 17
    assert [(e["rank"], e["region"]) for e in regions] == sorted((e["rank"], e["region"]) for e in regions)
    for e in regions:
        assert set(e) == SECTION_KEYS
        assert set(e["indicators"]) == {
            "integration_policy",
            "quota_fill_rate",
            "integration_participation_rate",
            "illegal_stay_rate",
            "foreign_resident_share",
        }
        assert set(e["indicators"]["quota_fill_rate"]) == {"raw", "normalised"}
        lo, hi = e["rank_interval"]
        assert lo <= e["median_rank"] <= hi
        assert sum(e["grade_probability"].values()) == pytest.approx(1.0)
    # 43 and 44 have identical values: they share the better rank and are ordered by code.
    tied = [e for e in regions if e["region"] in ("43", "44")]
    assert [e["region"] for e in tied] == ["43", "44"] and tied[0]["rank"] == tied[1]["rank"]
    assert regions[regions.index(tied[1]) + 1]["rank"] == tied[0]["rank"] + 2
    # Seoul's raw values are the file's, and the sensitivity run used the requested draws.
    seoul = next(e for e in regions if e["region"] == "11")
    assert seoul["indicators"]["quota_fill_rate"]["raw"] == 0.91
    assert data["sensitivity"]["draws"] == 100
    assert "wrote" in res.output


def test_same_inputs_give_the_same_bytes(tmp_path):
    outs = [tmp_path / "a.json", tmp_path / "b.json"]
    for out in outs:
        assert (
            run("--year", "2025", "--indicators", str(INDICATORS_17), "--draws", "50", "--out", str(out)).exit_code == 0
        )
    assert outs[0].read_bytes() == outs[1].read_bytes()


def test_unknown_column_names_file_line_and_column(tmp_path):
    bad = write(tmp_path / "bad.csv", f"{HEADER},bogus\n11,60,0.9,0.4,0.05,0.04,1\n")
    out = tmp_path / "r.json"
    res = run("--year", "2025", "--indicators", str(bad), "--out", str(out))
    assert res.exit_code == 1
    assert f"{bad}:1: column 'bogus': unknown indicator" in res.output
    assert "지표 표 오류" in res.output  # the Korean half of the message
    assert not out.exists()


def test_non_numeric_value_names_its_line_column_and_value(tmp_path):
    bad = write(
        tmp_path / "bad.csv", f"{HEADER}\n11,60,0.9,0.4,0.05,0.04\n26,70,abc,0.4,0.05,0.04\n27,70,0.8,0.4,,0.04\n"
    )
    res = run("--year", "2025", "--indicators", str(bad), "--out", str(tmp_path / "r.json"))
    assert res.exit_code == 1
    assert f"{bad}:3: column 'quota_fill_rate': value 'abc' is not a number" in res.output
    assert ":4:" not in res.output  # an empty cell is a missing value, not an error


def test_missing_indicator_column(tmp_path):
    bad = write(tmp_path / "bad.csv", "region,integration_policy\n11,60\n")
    res = run("--year", "2025", "--indicators", str(bad), "--out", str(tmp_path / "r.json"))
    assert res.exit_code == 1
    assert "missing column(s) for framework indicators: quota_fill_rate" in res.output


def test_invalid_framework_is_invalid_input(tmp_path):
    text = DEFAULT_FRAMEWORK.read_text(encoding="utf-8").replace("weight: 40", "weight: -40")
    fw = write(tmp_path / "fw.yaml", text)
    res = run(
        "--year", "2025", "--framework", str(fw), "--indicators", str(INDICATORS_17), "--out", str(tmp_path / "r.json")
    )
    assert res.exit_code == 1
    assert f"{fw}:indicators[0].weight: must be greater than 0.0 (got -40) [indicator integration_policy]" in res.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "r.docx"], "unknown format '.docx'"),
        (["--out", "r.json", "--lang", "fr"], "--lang must be ko or en"),
        (["--out", "r.json", "--draws", "0"], "--draws must be between 1 and"),
        (["--out", "r.json", "--year", "1999"], "--year must be between 2000 and 2100"),
    ],
)
def test_usage_errors_exit_2(tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    full = ["--year", "2025", "--indicators", str(INDICATORS_17), *args]
    res = run(*full)
    assert res.exit_code == 2, res.output
    assert message in res.output
    assert not list(tmp_path.iterdir())


def test_missing_required_option_is_usage(tmp_path):
    assert run("--indicators", str(INDICATORS_17), "--out", str(tmp_path / "r.json")).exit_code == 2
    assert run("--year", "2025", "--indicators", str(tmp_path / "nope.csv"), "--out", "r.json").exit_code == 2


def test_without_indicators_and_without_the_database_service(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, cli.SERVICE_MODULE, None)  # import fails as if the module did not exist
    res = run("--year", "2025", "--out", str(tmp_path / "r.json"))
    assert res.exit_code == 2
    assert "database path is not available" in res.output and "--indicators" in res.output
    assert "데이터베이스" in res.output


def test_without_indicators_uses_the_database_service(tmp_path, monkeypatch):
    calls = []

    def indicators_from_database(year, framework):
        calls.append((year, framework.id))
        return read_indicator_csv(INDICATORS_17, framework)

    fake = types.ModuleType(cli.SERVICE_MODULE)
    fake.indicators_from_database = indicators_from_database
    monkeypatch.setitem(sys.modules, cli.SERVICE_MODULE, fake)
    out = tmp_path / "r.json"
    res = run("--year", "2025", "--draws", "20", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert calls == [(2025, "rsv-2025")]
    assert len(json.loads(out.read_text(encoding="utf-8"))["regions"]) == 17


def test_html_report_in_english(tmp_path):
    out = tmp_path / "report" / "evaluation.html"
    res = run("--year", "2025", "--indicators", str(INDICATORS_17), "--draws", "20", "--lang", "en", "--out", str(out))
    assert res.exit_code == 0, res.output
    page = out.read_text(encoding="utf-8")
    assert '<html lang="en">' in page and "How to read this report" in page


def test_indicators_path_imports_no_database_code(tmp_path):
    """Run in a fresh interpreter: nothing on the --indicators path may pull in the database layer."""
    script = f"""
import sys
from typer.testing import CliRunner
from regionvisa.evaluation.cli import app
res = CliRunner().invoke(app, ["evaluate", "--year", "2025", "--indicators", {str(INDICATORS_17)!r},
                               "--draws", "20", "--out", {str(tmp_path / "r.json")!r}])
assert res.exit_code == 0, res.output
loaded = sorted(m for m in sys.modules if m in ("regionvisa.db", "sqlalchemy", "regionvisa.evaluation.service")
                or m.startswith("regionvisa.") and m.endswith(".models"))
print(loaded)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout


def test_evaluate_command_is_exported_for_the_root_cli():
    root = typer.Typer()
    root.command("evaluate")(cli.evaluate_command)
    res = CliRunner().invoke(root, ["evaluate", "--help"])
    assert res.exit_code == 0 and "--indicators" in res.output
    assert load_framework(DEFAULT_FRAMEWORK).id == "rsv-2025"


def test_what_if_on_a_supplied_table_needs_no_database(tmp_path):
    base = run("--year", "2025", "--indicators", str(INDICATORS_17), "--what-if", "26")
    assert base.exit_code == 0, base.output
    unchanged = json.loads(base.stdout)
    assert unchanged["what_if"]["score"] == unchanged["published"]["score"]
    raised = run(
        "--year", "2025", "--indicators", str(INDICATORS_17), "--what-if", "26", "--set", "integration_policy=100"
    )  # fmt: skip
    assert raised.exit_code == 0, raised.output
    answer = json.loads(raised.stdout)
    assert answer["changes"]["integration_policy"]["to"] == 100
    assert answer["what_if"]["score"] >= unchanged["what_if"]["score"]
    assert answer["what_if"]["rank"] <= unchanged["what_if"]["rank"]
    assert run("--year", "2025", "--indicators", str(INDICATORS_17), "--what-if", "99").exit_code == 1
    assert run("--year", "2025", "--indicators", str(INDICATORS_17)).exit_code == 2  # neither --out nor --what-if
